"""The editor integrations stay in step with the language: every keyword of the lexer is
highlighted by the VS Code grammar and the neovim syntax file, and the extension's
manifest and client are well formed. (Building the .vsix needs npm and the registry; see
docs/editors.md.)"""

from __future__ import annotations

import json
import re
import subprocess

from test_lsp_support import ROOT

VSCODE = ROOT / "editors" / "vscode"
NEOVIM = ROOT / "editors" / "neovim"


def lexer_keywords() -> set[str]:
    src = (ROOT / "compiler" / "syntax" / "src" / "lexer.rs").read_text(encoding="utf-8")
    block = src[src.index("pub const KEYWORDS") :]
    block = block[: block.index("];")]
    return set(re.findall(r'\("([a-z_0-9]+)", "', block))


def test_vscode_grammar_highlights_every_keyword():
    grammar = json.loads((VSCODE / "syntaxes" / "palisade.tmLanguage.json").read_text(encoding="utf-8"))
    assert grammar["scopeName"] == "source.palisade"
    words = set()
    for pattern in grammar["repository"]["keywords"]["patterns"]:
        m = re.fullmatch(r"\\b\((.*)\)\\b", pattern["match"])
        if m:
            words |= set(m.group(1).split("|"))
    missing = lexer_keywords() - words
    assert not missing, f"keywords the grammar does not highlight: {sorted(missing)}"
    # Every pattern is a valid regular expression (the subset Python and Oniguruma share).
    def patterns(node):
        if isinstance(node, dict):
            for key in ("match", "begin", "end"):
                if key in node:
                    yield node[key]
            for v in node.values():
                yield from patterns(v)
        elif isinstance(node, list):
            for v in node:
                yield from patterns(v)

    for p in patterns(grammar):
        re.compile(p)


def test_neovim_syntax_highlights_every_keyword():
    syntax = (NEOVIM / "syntax" / "palisade.vim").read_text(encoding="utf-8")
    words = set()
    for line in syntax.splitlines():
        if line.startswith("syntax keyword palisade") and "contained" not in line:
            words |= set(line.split()[3:])
    missing = lexer_keywords() - words
    assert not missing, f"keywords the neovim syntax does not highlight: {sorted(missing)}"


def test_vscode_manifest():
    manifest = json.loads((VSCODE / "package.json").read_text(encoding="utf-8"))
    language = manifest["contributes"]["languages"][0]
    assert language["id"] == "palisade" and language["extensions"] == [".pal"]
    assert manifest["main"] == "./extension.js"
    assert "vscode-languageclient" in manifest["dependencies"]
    assert "@vscode/vsce" in manifest["devDependencies"]
    lock = json.loads((VSCODE / "package-lock.json").read_text(encoding="utf-8"))
    assert lock["packages"][""]["devDependencies"]["@vscode/vsce"] == manifest["devDependencies"]["@vscode/vsce"]
    json.loads((VSCODE / "language-configuration.json").read_text(encoding="utf-8"))
    client = (VSCODE / "extension.js").read_text(encoding="utf-8")
    assert 'args: ["lsp"]' in client


def test_vscode_client_parses():
    subprocess.run(["node", "--check", str(VSCODE / "extension.js")], check=True)
