"""Shared pieces of the language-server tests: the client fixture (pytest-lsp driving the
built `target/debug/palisade lsp` over stdio), a test site, and position helpers that count
columns in UTF-16 the way the protocol does.

This module holds no tests itself; test_lsp*.py import from it.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from pathlib import Path

import pytest_lsp
from lsprotocol import types
from pygls.protocol import default_converter
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / "target" / "debug" / "palisade"
TODAY = "2026-06-01"
ENV = {**os.environ, "PALISADE_TODAY": TODAY}

# ---------------------------------------------------------------- the client


def _record_diagnostics(client: LanguageClient, params: types.PublishDiagnosticsParams):
    client.diagnostics[params.uri] = list(params.diagnostics)
    client.published.append(params)


def _register_capability(client: LanguageClient, params: types.RegistrationParams):
    client.registrations.extend(params.registrations)


def make_client() -> LanguageClient:
    """pytest-lsp's client, also keeping every publishDiagnostics with its version and
    accepting dynamic registrations (the server registers a `*.pal` file watcher)."""
    client = LanguageClient(converter_factory=default_converter)
    features = dict(DEFAULT_CLIENT_FEATURES)
    features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = _record_diagnostics
    features[types.CLIENT_REGISTER_CAPABILITY] = _register_capability
    register_lsp_features(client, features)
    client.published = []
    client.registrations = []
    return client


CONFIG = ClientServerConfig(server_command=[str(BIN), "lsp"], client_factory=make_client, server_env=ENV)


async def start(client: LanguageClient, spec: str = "visual-studio-code") -> None:
    caps = client_capabilities(spec)
    result = await client.initialize_session(types.InitializeParams(capabilities=caps))
    client.server_capabilities = result.capabilities


@pytest_lsp.fixture(config=CONFIG)
async def client(lsp_client: LanguageClient):
    await start(lsp_client)
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=CONFIG)
async def nvim_client(lsp_client: LanguageClient):
    """A client with neovim 0.7's capabilities (Debian's neovim)."""
    await start(lsp_client, "neovim@v0.7.0")
    yield
    await lsp_client.shutdown_session()


async def wait_for(predicate, timeout: float = 15.0, what: str = "condition"):
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


async def diagnostics_for(client: LanguageClient, uri: str, version: int | None = None, timeout: float = 15.0):
    """The newest diagnostics published for `uri` (at `version` when given)."""

    def latest():
        for p in reversed(client.published):
            if p.uri == uri:
                if version is None or p.version == version:
                    return p
                return None
        return None

    params = await wait_for(latest, timeout, f"diagnostics of {uri} at version {version}")
    return list(params.diagnostics)


async def quiet(client: LanguageClient, period: float = 0.25, timeout: float = 15.0):
    """Wait until no diagnostics have been published for `period` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    seen, since = len(client.published), loop.time()
    while loop.time() - since < period:
        await asyncio.sleep(0.02)
        if len(client.published) != seen:
            seen, since = len(client.published), loop.time()
        if loop.time() > deadline:
            raise AssertionError("diagnostics kept coming")


# ---------------------------------------------------------------- documents


def uri_of(path: Path) -> str:
    return path.resolve().as_uri()


def write_site(directory: Path, files: dict[str, str]) -> dict[str, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, text in files.items():
        p = directory / name
        p.write_text(text, encoding="utf-8")
        out[name] = p
    return out


def open_doc(client: LanguageClient, path: Path, text: str | None = None, version: int = 1) -> str:
    uri = uri_of(path)
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id="palisade", version=version, text=path.read_text(encoding="utf-8") if text is None else text
            )
        )
    )
    return uri


def utf16_len(s: str) -> int:
    return len(s.encode("utf-16-le")) // 2


def position(text: str, offset: int) -> types.Position:
    """The LSP position (UTF-16 column) of a character offset into `text`."""
    before = text[:offset]
    line = before.count("\n")
    col = utf16_len(before[before.rfind("\n") + 1 :])
    return types.Position(line=line, character=col)


def pos_of(text: str, needle: str, nth: int = 0, delta: int = 0) -> types.Position:
    """The position of the nth occurrence of `needle`, plus `delta` characters."""
    at = -1
    for _ in range(nth + 1):
        at = text.index(needle, at + 1)
    return position(text, at + delta)


def name_range(text: str, context: str, name: str) -> types.Range:
    """The range of `name` inside the first occurrence of `context`."""
    at = text.index(context) + context.index(name)
    return types.Range(start=position(text, at), end=position(text, at + len(name)))


def range_of(text: str, needle: str, nth: int = 0) -> types.Range:
    start = pos_of(text, needle, nth)
    end = pos_of(text, needle, nth, len(needle))
    return types.Range(start=start, end=end)


def offset_of(text: str, pos: types.Position) -> int:
    """The character offset of an LSP position (the inverse of `position`)."""
    lines = text.split("\n")
    offset = sum(len(line) + 1 for line in lines[: pos.line])
    line = lines[pos.line] if pos.line < len(lines) else ""
    units = 0
    for i, ch in enumerate(line):
        if units >= pos.character:
            return offset + i
        units += utf16_len(ch)
    return offset + len(line)


def apply_edits(text: str, edits) -> str:
    """Apply TextEdits (non-overlapping) to a text."""
    spans = sorted(((offset_of(text, e.range.start), offset_of(text, e.range.end), e.new_text) for e in edits), reverse=True)
    for start, end, new in spans:
        text = text[:start] + new + text[end:]
    return text


def edits_for(edit: types.WorkspaceEdit) -> dict[str, list[types.TextEdit]]:
    """A WorkspaceEdit's text edits by URI, from `changes` or `documentChanges`."""
    out: dict[str, list] = {}
    for uri, edits in (edit.changes or {}).items():
        out.setdefault(uri, []).extend(edits)
    for doc in edit.document_changes or []:
        out.setdefault(doc.text_document.uri, []).extend(doc.edits)
    return out


# ---------------------------------------------------------------- the command line


def cli_check(directory: Path) -> dict:
    """`palisade check --message-format json DIR`, parsed."""
    run = subprocess.run(
        [str(BIN), "check", "--message-format", "json", str(directory)],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=120,
    )
    assert run.returncode in (0, 1), run.stderr
    return json.loads(run.stdout)


# ---------------------------------------------------------------- a test site

SITE = """\
site "Test Plant" { timezone "Europe/Berlin" }
use std.services

role operator "Operator"
role control_engineer
role safety_engineer
person "emp-1" { roles [control_engineer] }
person "emp-2" { roles [safety_engineer] }

// Zones: the comment has non-ASCII text — Übergabe ⇒ 🏭 — to test UTF-16 columns.
zone operations "Site operations" {
  security_level 2
  network 10.30.0.0/24
  asset mes "MES — Überwachung" at 10.30.0.5 { kind server; capability 2 }
  asset eng_ws at 10.30.0.50 { kind engineering_workstation; capability 2 }
}

zone control "Basic process control" {
  security_level [FR1: 3, FR2: 3, FR3: 3, FR4: 2, FR5: 3, FR6: 2, FR7: 3]
  network 10.40.0.0/24
  asset plc_crude "Crude unit PLC" at 10.40.0.11 {
    kind plc
    capability 2
  }
  asset dcs_1 at 10.40.0.21 { kind dcs_server; capability 3 }
}
"""

CONDUITS = """\
conduit supervision "Supervisory 🏭 control": operations -> control {
  log
  allow mes -> plc_crude : modbus { function [read_holding_registers, read_coils]; unit [1] }
  allow eng_ws -> plc_crude : s7comm when workorder firmware_update
}

firewall fw_l3 { target nftables; interface "eth0" faces operations; interface "eth1" faces control }
gateway gw_l2 { target suricata; inline between operations and control }

workorder firmware_update "PLC firmware update" {
  scope [control]
  requested_by control_engineer
  approved_by safety_engineer
  separation_of_duties
  window Mon-Fri 06:00-18:00
  max_duration 4h
}

assert no_path operations -> control except during firmware_update
"""
