"""`palisade build` and `palisade workorder` as an operator runs them: byte-identical output
across runs, a failed build leaves the previous files untouched, and the work-order command
refuses what the policy does not allow."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from netns_lab import ROOT, palisade  # noqa: E402


def build(site, out, *args):
    return subprocess.run([palisade(), "build", str(site), "-o", str(out), *args], cwd=ROOT, capture_output=True, text=True, timeout=600)


def snapshot(d):
    return {p.relative_to(d): p.read_bytes() for p in sorted(Path(d).rglob("*")) if p.is_file()}


def test_deterministic_and_atomic(tmp_path):
    site = tmp_path / "site"
    shutil.copytree(ROOT / "examples" / "refinery", site)
    a, b = tmp_path / "a", tmp_path / "b"
    assert build(site, a).returncode == 0
    assert build(site, b).returncode == 0
    first = snapshot(a)
    assert first == snapshot(b), "two builds of the same site differ"
    names = {str(p) for p in first}
    assert {"fw_it.nft", "fw_dmz.ipset", "fw_dmz.rules.v4", "fw_dmz.rules.v6", "fw_ctl.ios"} <= names
    # A broken site: nothing is written, the previous files stay as they were.
    text = (site / "site.pal").read_text()
    (site / "site.pal").write_text(text.replace("allow patch_srv -> any : https", "allow patch_srv -> nowhere : https"))
    p = build(site, a)
    assert p.returncode == 1, p.stderr
    assert snapshot(a) == first, "a failed build changed the previous output"
    assert not list(Path(a).rglob(".*palisade-tmp*")), "temporary files left behind"


# Wednesday 07:00 in Amsterdam: the start of remote_engineering's window (Mon-Fri 07:00-17:00),
# so the window leaves the whole max_duration (8h). `workorder open` refuses outside it.
IN_WINDOW = "2026-12-02T06:00:00Z"


def workorder(*args):
    env = dict(os.environ, PALISADE_NOW=IN_WINDOW)
    return subprocess.run([palisade(), "workorder", *args, "--site", str(ROOT / "examples" / "refinery")], capture_output=True, text=True, timeout=120, env=env)


def test_workorder_commands_and_refusals():
    p = workorder("open", "remote_engineering", "--scope", "eng_ws", "--duration", "2h")
    assert p.returncode == 0, p.stderr
    assert "ipset -exist add pal_wo_remote_engineering_v4 10.40.0.40/32 timeout 7200" in p.stdout
    assert "object-group network PAL-WO-remote-engineering-jump-to-ews-1-D-" in p.stdout
    p = workorder("open", "remote_engineering", "--scope", "eng_ws", "--target", "nftables")
    assert "add element inet palisade wo_remote_engineering_v4 { 10.40.0.40 timeout 28800s }" in p.stdout
    p = workorder("close", "remote_engineering", "--scope", "eng_ws", "--target", "nftables")
    assert "delete element inet palisade wo_remote_engineering_v4 { 10.40.0.40 }" in p.stdout
    # Outside the order's scope, longer than its max_duration, an unknown order.
    assert workorder("open", "remote_engineering", "--scope", "dcs_1").returncode == 1
    assert workorder("open", "remote_engineering", "--scope", "eng_ws", "--duration", "9h").returncode == 1
    p = workorder("open", "remote_enginering", "--scope", "eng_ws")
    assert p.returncode == 1 and "did you mean `remote_engineering`" in p.stderr
