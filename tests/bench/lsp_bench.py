"""Language-server benchmark (run by hand, not part of the test suite).

On the large synthetic site (`palisade synth`, split across files) it measures, over stdio
with a real LSP client:
  - edit latency: a one-character edit until the diagnostics of that version are published
    (half the edits break a name, half mend it, so the published list changes every time);
  - hover latency: a request on a name until its answer;
  - the server's resident memory after the edits;
  - edits while the after-save proofs run, and how soon an edit cancels a running proof
    (from the edit to the server's "cancelled" log line).

Usage (from the repository root, after `cargo build --release`):

    .venv/bin/python tests/bench/lsp_bench.py [--bin target/release/palisade] [--edits 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from lsprotocol import types
from pygls.protocol import default_converter
from pytest_lsp import LanguageClient, client_capabilities

ROOT = Path(__file__).resolve().parents[2]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def summary(name: str, ms: list[float]) -> str:
    return f"{name}: n={len(ms)} p50={percentile(ms, 50):.1f} ms  p95={percentile(ms, 95):.1f} ms  max={max(ms):.1f} ms  mean={statistics.mean(ms):.1f} ms"


def rss_mb(pid: int) -> tuple[float, float]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    kb = lambda k: int(fields.get(k, "0 kB").split()[0])  # noqa: E731
    return kb("VmRSS") / 1024, kb("VmHWM") / 1024


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process (and its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def position(text: str, offset: int) -> types.Position:
    before = text[:offset]
    line = before.count("\n")
    col = len(before[before.rfind("\n") + 1 :].encode("utf-16-le")) // 2
    return types.Position(line=line, character=col)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", default=str(ROOT / "target" / "release" / "palisade"))
    parser.add_argument("--edits", type=int, default=1000)
    parser.add_argument("--hovers", type=int, default=1000)
    parser.add_argument("--files", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    site = Path(tempfile.mkdtemp(prefix="palisade-lsp-bench-"))
    subprocess.run([args.bin, "synth", "--files", str(args.files), "--seed", str(args.seed), "--out", str(site)], check=True)
    files = sorted(site.glob("*.pal"))
    size = sum(f.stat().st_size for f in files)
    print(f"site: {len(files)} files, {size / 1e6:.1f} MB in {site}")

    published: dict[tuple[str, int | None], float] = {}
    client_published: list[types.PublishDiagnosticsParams] = []
    client = LanguageClient(converter_factory=default_converter)

    @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def on_diagnostics(params: types.PublishDiagnosticsParams):
        published[(params.uri, params.version)] = time.perf_counter()
        client_published.append(params)

    @client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def on_register(params):
        return None

    logs: list[tuple[float, str]] = []

    @client.feature(types.WINDOW_LOG_MESSAGE)
    def on_log(params: types.LogMessageParams):
        logs.append((time.perf_counter(), params.message))

    await client.start_io(args.bin, "lsp")
    pid = client._server.pid
    await client.initialize_session(types.InitializeParams(capabilities=client_capabilities("visual-studio-code")))

    async def wait(key, timeout=60.0):
        deadline = time.perf_counter() + timeout
        while key not in published:
            if time.perf_counter() > deadline:
                raise TimeoutError(f"no diagnostics for {key}")
            await asyncio.sleep(0.0005)
        return published[key]

    # Open one process-area file; the rest of the site is read from disk.
    path = next(f for f in files if f.name != "site.pal")
    text = path.read_text(encoding="utf-8")
    uri = path.as_uri()
    t0 = time.perf_counter()
    client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(uri=uri, language_id="palisade", version=1, text=text)))
    await wait((uri, 1))
    print(f"open: first diagnostics after {(time.perf_counter() - t0) * 1000:.0f} ms")

    # Names used in rules: deleting one character of one breaks it (E0101), putting it back
    # mends it.
    rules = [m for m in re.finditer(r"allow ([a-z_0-9]+) ->", text)]
    rng = random.Random(args.seed)
    edit_ms: list[float] = []
    version = 1

    def toggle(at: int, new: str) -> float:
        """Delete the character at `at` (new == "") or put `new` back there; returns when the
        change was sent."""
        nonlocal text, version
        end = at + 1 if new == "" else at
        change = types.TextDocumentContentChangePartial(range=types.Range(start=position(text, at), end=position(text, end)), text=new)
        text = text[:at] + new + text[end:]
        version += 1
        sent = time.perf_counter()
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version), content_changes=[change])
        )
        return sent

    cpu_before = cpu_seconds(pid)
    for i in range(args.edits):
        if i % 2 == 0:
            at = rng.choice(rules).start(1) + 1
            removed = text[at]
            sent = toggle(at, "")
        else:
            sent = toggle(at, removed)
        edit_ms.append((await wait((uri, version)) - sent) * 1000)
    cpu_per_edit = (cpu_seconds(pid) - cpu_before) / args.edits * 1000
    print(summary(f"edit -> diagnostics ({args.edits} one-character edits)", edit_ms))
    print(f"server CPU time per edit: {cpu_per_edit:.1f} ms (independent of other load on the machine)")
    print(f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    rss, peak = rss_mb(pid)
    print(f"memory after {args.edits} edits: RSS {rss:.0f} MB (peak {peak:.0f} MB)")

    names = [m for m in re.finditer(r"(?:allow |-> )([a-z_0-9]+)", text)]
    hover_ms: list[float] = []
    for _ in range(args.hovers):
        m = rng.choice(names)
        pos = position(text, m.start(1) + 1)
        sent = time.perf_counter()
        result = await client.text_document_hover_async(types.HoverParams(text_document=types.TextDocumentIdentifier(uri=uri), position=pos))
        hover_ms.append((time.perf_counter() - sent) * 1000)
        assert result is not None
    print(summary(f"hover ({args.hovers} requests on names)", hover_ms))

    # On a rule's `allow`: what the rule admits, with what the topology enforces of it.
    allows = [m.start() for m in re.finditer(r"allow ", text)]
    rule_ms: list[float] = []
    for _ in range(args.hovers):
        pos = position(text, rng.choice(allows) + 1)
        sent = time.perf_counter()
        result = await client.text_document_hover_async(types.HoverParams(text_document=types.TextDocumentIdentifier(uri=uri), position=pos))
        rule_ms.append((time.perf_counter() - sent) * 1000)
        assert result is not None and "admits" in result.contents.value
    print(summary(f"hover ({args.hovers} requests on rules)", rule_ms))

    # After a save the verifier runs in the background; edits made meanwhile stay quick and
    # discard its (now stale) results; the results of a save left alone are published.
    def proof_published(after: int) -> bool:
        return any(
            any(d.code.startswith("E1") for d in p.diagnostics) for p in client_published[after:]
        )

    client.text_document_did_save(types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri)))
    during_ms: list[float] = []
    for i in range(20):
        at = rules[i % len(rules)].start(1) + 1
        for new in ("", text[at]):
            sent = toggle(at, new)
            during_ms.append((await wait((uri, version)) - sent) * 1000)
    print(summary("edit -> diagnostics while a proof runs", during_ms))
    # An edit cancels a running proof: from the edit to the server's "cancelled" line.
    cancel_ms: list[float] = []
    for i in range(10):
        seen = len(logs)
        client.text_document_did_save(types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri)))
        deadline = time.perf_counter() + 60
        while not any(m.endswith("): started") for _, m in logs[seen:]) and time.perf_counter() < deadline:
            await asyncio.sleep(0.0005)
        at = rules[i % len(rules)].start(1) + 1
        restore = text[at]
        sent = toggle(at, "")
        while not any("cancelled" in msg for _, msg in logs[seen:]) and time.perf_counter() < deadline:
            await asyncio.sleep(0.0005)
        stop = next((t for t, msg in logs[seen:] if "cancelled" in msg), None)
        if stop is not None:
            cancel_ms.append((stop - sent) * 1000)
        await wait((uri, version))
        toggle(at, restore)
        await wait((uri, version))
    if cancel_ms:
        print(summary("edit -> running proof cancelled", cancel_ms))
    else:
        print("edit -> running proof cancelled: no cancellation seen")

    start_index = len(client_published)
    sent = time.perf_counter()
    client.text_document_did_save(types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri)))
    deadline = sent + 120
    while not proof_published(start_index) and time.perf_counter() < deadline:
        await asyncio.sleep(0.01)
    if proof_published(start_index):
        print(f"save -> proof results published: {(time.perf_counter() - sent) * 1000:.0f} ms")
    else:
        print("save -> no proof result within 120 s")

    await client.shutdown_async(None)
    client.exit(None)
    # The server must exit by itself after `exit`; say so if it does not (bounded wait).
    status = Path(f"/proc/{pid}/status")
    deadline = time.perf_counter() + 10
    while status.exists() and "zombie" not in status.read_text() and time.perf_counter() < deadline:
        await asyncio.sleep(0.01)
    if status.exists() and "zombie" not in status.read_text():
        print("server still running 10 s after `exit`")
    try:
        await asyncio.wait_for(client.stop(), timeout=10)
    except asyncio.TimeoutError:
        print("the client did not see the server exit within 10 s (its process had ended)")


if __name__ == "__main__":
    asyncio.run(main())
