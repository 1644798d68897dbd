"""Incremental edits: after random edits (non-ASCII text included), the diagnostics the
server published equal a from-scratch `palisade check --message-format json` of the same
texts; multi-file sites follow `use` edits; a burst of keystrokes ends in the right state."""

from __future__ import annotations

import random
import re
from collections import Counter
from pathlib import Path

import pytest
from lsprotocol import types

from test_lsp_support import (
    CONDUITS,
    SITE,
    client,  # noqa: F401  (fixture)
    cli_check,
    diagnostics_for,
    open_doc,
    position,
    quiet,
    uri_of,
    write_site,
)

pytestmark = pytest.mark.asyncio

SEVERITY = {"error": 1, "warning": 2, "note": 3}

# What random edits insert: names (right, misspelt, of the wrong kind), punctuation that
# breaks or mends the syntax, keywords, literals, and characters outside ASCII (two-byte,
# three-byte, and four-byte ones that are surrogate pairs in UTF-16).
SNIPPETS = [
    "plc_crude", "plc_crud", "control", "contrl", "operations", "modbus", "https", "dcs_1", "mes",
    "{", "}", "[", "]", "\n", ";", " ", "->", ",", ":", "\"", "//",
    "zone ", "asset ", "allow ", "role x\n", "kind plc", "capability 4", "security_level 9",
    "10.40.0.77", "10.30.0.0/24", "502", "é", "Ü", "—", "⇒", "🏭", "👩‍🔧", "\"Überwachung 🏭\"",
]


def cli_view(directory: Path, texts: dict[str, str], first_file: str) -> Counter:
    """The command line's diagnostics as (file URI, code, severity, message, range)."""
    report = cli_check(directory)
    out = Counter()
    for d in report["diagnostics"]:
        labels = d["labels"]
        primary = next((lab for lab in labels if lab["primary"]), labels[0] if labels else None)
        if primary is None:
            name, rng = first_file, (0, 0, 0, 0)
        elif primary["file"].startswith("<std>"):
            continue
        else:
            name = Path(primary["file"]).name
            raw = texts[name].encode("utf-8")
            start = len(raw[: primary["start"]].decode("utf-8", "ignore"))
            end = max(start, len(raw[: primary["end"]].decode("utf-8", "ignore")))
            a, b = position(texts[name], start), position(texts[name], end)
            rng = (a.line, a.character, b.line, b.character)
        out[(uri_of(directory / name), d["code"], SEVERITY[d["severity"]], d["message"], rng)] += 1
    return out


def lsp_view(client, uris: list[str]) -> Counter:
    out = Counter()
    for uri in uris:
        for d in client.diagnostics.get(uri, []):
            r = d.range
            rng = (r.start.line, r.start.character, r.end.line, r.end.character)
            out[(uri, d.code, d.severity, d.message.split("\n")[0], rng)] += 1
    return out


# Names a word-level edit writes in place of another: most keep the syntax and change
# what resolves (undefined names, wrong kinds, duplicates, unused items).
NAMES = [
    "plc_crude", "plc_crud", "dcs_1", "mes", "eng_ws", "control", "contrl", "operations", "external",
    "modbus", "https", "s7comm", "dnp3", "opcua_sign", "firmware_update", "fw_l3", "gw_l2",
    "safety_engineer", "control_engineer", "operator", "supervision", "read_coils", "write_single_coil",
    "naïve_ü", "zone", "any",
]
WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def random_change(rng: random.Random, text: str) -> tuple[int, int, str]:
    """A random replacement (start, end, new) in character offsets."""
    words = list(WORD.finditer(text))
    if words and rng.random() < 0.5:
        w = rng.choice(words)
        return w.start(), w.end(), rng.choice(NAMES)
    start = rng.randint(0, len(text))
    kind = rng.random()
    if kind < 0.3:  # delete
        return start, min(len(text), start + rng.randint(1, 12)), ""
    if kind < 0.8:  # insert
        return start, start, rng.choice(SNIPPETS)
    return start, min(len(text), start + rng.randint(1, 8)), rng.choice(SNIPPETS)  # replace


def send(client, uri: str, version: int, text: str, changes: list[tuple[int, int, str]]) -> str:
    """Send several changes in one notification (each relative to the text after the
    previous one, as the protocol says) and return the resulting text."""
    events = []
    for start, end, new in changes:
        rng = types.Range(start=position(text, start), end=position(text, end))
        events.append(types.TextDocumentContentChangePartial(range=rng, text=new))
        text = text[:start] + new + text[end:]
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version), content_changes=events)
    )
    return text


async def settle_and_compare(client, directory: Path, texts: dict[str, str], versions: dict[str, int]):
    uris = {name: uri_of(directory / name) for name in texts}
    for name, uri in uris.items():
        await diagnostics_for(client, uri, version=versions[name])
    # One check publishes file by file; let the rest of it arrive.
    await quiet(client)
    write_site(directory, texts)
    expected = cli_view(directory, texts, sorted(texts)[0])
    got = lsp_view(client, list(uris.values()))
    assert got == expected, f"server and command line differ:\nonly server: {got - expected}\nonly cli: {expected - got}"


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
async def test_random_edits_match_a_check_from_scratch(client, tmp_path, seed):
    rng = random.Random(seed)
    directory = tmp_path / "plant"
    texts = {"site.pal": SITE, "conduits.pal": CONDUITS}
    write_site(directory, texts)
    versions = {name: 1 for name in texts}
    uris = {name: open_doc(client, directory / name) for name in texts}
    await settle_and_compare(client, directory, texts, versions)
    for step in range(120):
        name = rng.choice(sorted(texts))
        changes = [random_change(rng, texts[name])]
        if rng.random() < 0.2:
            # Later changes of one notification apply to the text after the earlier ones.
            after = texts[name][: changes[0][0]] + changes[0][2] + texts[name][changes[0][1] :]
            changes.append(random_change(rng, after))
        versions[name] += 1
        texts[name] = send(client, uris[name], versions[name], texts[name], changes)
        if step % 30 == 29:
            await settle_and_compare(client, directory, texts, versions)
    await settle_and_compare(client, directory, texts, versions)


async def test_a_burst_of_keystrokes_ends_in_the_right_state(client, tmp_path):
    directory = tmp_path / "plant"
    texts = {"site.pal": SITE, "conduits.pal": CONDUITS}
    write_site(directory, texts)
    uri = open_doc(client, directory / "conduits.pal")
    open_doc(client, directory / "site.pal")
    # Type a new conduit one character at a time, as fast as the client can send.
    typed = '\nconduit back "Rückweg 🏭": control -> operations {\n  allow dcs_1 -> mes : https\n}\n'
    text, version = CONDUITS, 1
    for ch in typed:
        version += 1
        text = send(client, uri, version, text, [(len(text), len(text), ch)])
    texts["conduits.pal"] = text
    await settle_and_compare(client, directory, texts, {"site.pal": 1, "conduits.pal": version})


async def test_use_edits_change_the_sites_files(client, tmp_path):
    directory = tmp_path / "plant"
    main = SITE + CONDUITS.replace("firewall fw_l3", "// firewall elsewhere\nfirewall fw_l3")
    write_site(directory, {"main.pal": main.replace("zone control ", "zone control_old ", 1)})
    write_site(directory / "shared", {"zones.pal": 'zone control "Imported" { security_level 2; network 10.41.0.0/24 }\n'})
    uri = open_doc(client, directory / "main.pal")
    diags = await diagnostics_for(client, uri, version=1)
    assert "E0101" in {d.code for d in diags}  # `control` is not defined yet
    # Adding the import brings the shared file into the site: `control` resolves.
    text = (directory / "main.pal").read_text(encoding="utf-8")
    text = send(client, uri, 2, text, [(len(SITE.split("\n")[0]) + 1, len(SITE.split("\n")[0]) + 1, 'use "shared/zones.pal"\n')])
    diags = await diagnostics_for(client, uri, version=2)
    assert "E0101" not in {d.code for d in diags}
    # The imported file (not open, another directory) gets the site's diagnostics for it:
    # its zone's network does not hold the assets the main file puts there.
    shared_uri = uri_of(directory / "shared" / "zones.pal")
    await diagnostics_for(client, shared_uri)
    # Removing the import again restores the error.
    text = send(client, uri, 3, text, [(text.index("use \"shared"), text.index("use \"shared") + len('use "shared/zones.pal"\n'), "")])
    diags = await diagnostics_for(client, uri, version=3)
    assert "E0101" in {d.code for d in diags}
