"""The after-save proofs stop when the text changes: an edit cancels the running verifier
(interrupting its solver query) instead of letting a stale proof occupy a core.

The site is the benchmark-size synthetic site, whose verification takes seconds, so the
edit sent as soon as the server says the proofs started arrives while they run."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from lsprotocol import types

from test_lsp_support import (
    BIN,
    client,  # noqa: F401  (fixture)
    diagnostics_for,
    open_doc,
    range_of,
    uri_of,
    wait_for,
)

pytestmark = pytest.mark.asyncio


def logged(client, pattern: str) -> list[str]:
    return [m.message for m in client.log_messages if re.search(pattern, m.message)]


async def test_an_edit_cancels_the_running_proofs(client, tmp_path: Path):
    site = tmp_path / "synthetic"
    subprocess.run([str(BIN), "synth", "--files", "3", "--out", str(site)], check=True, capture_output=True)
    part = site / "part_01.pal"
    text = part.read_text(encoding="utf-8")
    uri = open_doc(client, part, text)
    diags = await diagnostics_for(client, uri, version=1, timeout=60)
    assert not [d for d in diags if d.severity == types.DiagnosticSeverity.Error]

    client.text_document_did_save(types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri)))
    await wait_for(lambda: logged(client, r"\): started$"), timeout=60, what="the proofs to start")
    started = logged(client, r"\): started$")[0]
    revision = re.search(r"\(revision (\d+)\)", started).group(1)

    # Any change to the text makes the running proofs stale.
    rng = range_of(text, "conduit ")
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[types.TextDocumentContentChangePartial(range=rng, text="conduit  ")],
        )
    )
    await wait_for(lambda: logged(client, rf"\(revision {revision}\): cancelled"), timeout=60, what="the proofs to be cancelled")
    assert not logged(client, rf"\(revision {revision}\): done"), client.log_messages
    # The edit itself is checked as usual, and no proof result of the old text is shown.
    diags = await diagnostics_for(client, uri, version=2, timeout=60)
    assert not [d for d in diags if d.code.startswith("E1")]
    print(logged(client, r"cancelled")[0])

    # The next save proves the new text in full: nothing of the interrupted run lingers (an
    # interrupted solver would leave properties undecided, E1005).
    client.text_document_did_save(types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri)))
    await wait_for(lambda: logged(client, r"\): done in"), timeout=120, what="the proofs of the edited text")
    site_uris = [uri_of(p) for p in sorted(site.glob("*.pal"))]
    await wait_for(
        lambda: any(d.code.startswith("E1") for u in site_uris for d in client.diagnostics.get(u, [])),
        timeout=60,
        what="proof results published",
    )
    codes = {d.code for u in site_uris for d in client.diagnostics.get(u, [])}
    assert "E1005" not in codes, codes
