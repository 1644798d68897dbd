"""Running `palisade build` and the real Suricata for the gateway tests.

Under CI=true a missing tool is a failure; locally the test is skipped with a loud reason
(pytest -rs lists it, and it is printed to stderr as well).
"""

import json
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ["refinery", "manufacturing", "water"]


def _missing(what):
    msg = f"{what} -- SKIPPING; install it with scripts/setup.sh (under CI=true this is a failure)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} (CI=true: a missing tool is a failure)")
    print(f"\n*** {msg} ***", file=sys.stderr)
    pytest.skip(msg)


def palisade():
    """The palisade binary, built if needed."""
    path = Path(os.environ.get("PALISADE_BIN", ROOT / "target" / "debug" / "palisade"))
    if not path.exists():
        subprocess.run(["cargo", "build", "--quiet", "--bin", "palisade"], cwd=ROOT, check=True)
    return path


_NO_VERIFY = None


def _no_verify():
    """`--no-verify` when `build` has it: these tests are about the gateway outputs, and the
    proofs of the sites they build are tested (and may be refuted) elsewhere."""
    global _NO_VERIFY
    if _NO_VERIFY is None:
        help_text = subprocess.run([str(palisade()), "build", "--help"], capture_output=True, text=True).stdout
        _NO_VERIFY = ["--no-verify"] if "--no-verify" in help_text else []
    return _NO_VERIFY


def build(site, out, *args, expect_ok=True):
    """`palisade build SITE -o OUT ARGS…`, run from the repository root."""
    argv = [str(palisade()), "build", str(site), "-o", str(out), *_no_verify(), *args]
    p = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True)
    if expect_ok and p.returncode != 0:
        raise AssertionError(f"palisade build failed ({p.returncode}):\n{p.stderr}")
    return p


class Suricata:
    """The installed Suricata 7 with its packaged suricata.yaml, plus our YAML fragments."""

    def __init__(self):
        exe = shutil.which("suricata")
        if exe is None:
            _missing("suricata is not installed")
        version = subprocess.run([exe, "-V"], capture_output=True, text=True).stdout
        if not re.search(r"version 7\.", version):
            _missing(f"Suricata 7 is required, found: {version.strip()}")
        info = subprocess.run([exe, "--build-info"], capture_output=True, text=True).stdout
        conf_dir = re.search(r"Configuration directory:\s*(\S+)", info)
        self.config = Path(conf_dir.group(1) if conf_dir else "/etc/suricata/") / "suricata.yaml"
        if not self.config.exists():
            _missing(f"Suricata's configuration {self.config} is missing")
        self.exe = exe

    def _args(self, rules, fragment, log_dir, sets=()):
        args = [self.exe, "-c", str(self.config), "-S", str(rules), "-l", str(log_dir)]
        if fragment is not None:
            args += ["--include", str(Path(fragment).resolve())]
        for s in sets:
            args += ["--set", s]
        return args

    def check(self, rules, fragment, log_dir):
        """`suricata -T`: the rules load, every one of them."""
        log_dir.mkdir(parents=True, exist_ok=True)
        p = subprocess.run(self._args(rules, fragment, log_dir) + ["-T", "--init-errors-fatal"], capture_output=True, text=True)
        assert p.returncode == 0, f"suricata -T rejected {rules}:\n{p.stdout}\n{p.stderr}"
        return p

    def replay(self, pcap, rules, fragment, log_dir, ips=False, sets=()):
        """`suricata -r PCAP`: the alerts from eve.json (and the flow events, for IPS)."""
        log_dir.mkdir(parents=True, exist_ok=True)
        args = self._args(rules, fragment, log_dir, sets) + ["-r", str(pcap), "-k", "none", "--init-errors-fatal"]
        if ips:
            args.append("--simulate-ips")
        p = subprocess.run(args, capture_output=True, text=True)
        assert p.returncode == 0, f"suricata -r failed:\n{p.stdout}\n{p.stderr}"
        events = [json.loads(line) for line in (log_dir / "eve.json").read_text().splitlines() if line.strip()]
        return events


def alerts(events):
    return [e for e in events if e.get("event_type") == "alert"]


def alerted_requests(capture, events):
    """label -> number of alerts, tracing each alert to the request it belongs to."""
    counts = Counter()
    for a in alerts(events):
        counts[capture.label_of(a["src_port"], a.get("pcap_cnt"))] += 1
    return dict(counts)


def example_outputs(tmp, name, *args, mode="ips"):
    """Build example `name` for Suricata into a fresh directory and return it, with its
    gateways in `mode` (the examples declare `mode ips`; `ids` builds a copy that monitors)."""
    out = tmp / f"{name}_{mode}{''.join(args).replace('-', '_')}"
    site = ROOT / "examples" / name
    if mode != "ips":
        copy = tmp / f"site_{name}_{mode}"
        if not copy.exists():
            shutil.copytree(site, copy)
            for f in copy.glob("*.pal"):
                f.write_text(f.read_text().replace("  mode ips\n", f"  mode {mode}\n"))
        site = copy
    build(site, out, "--target", "suricata", *args)
    return out


def fragment_for(rules_path):
    """The YAML fragment that goes with a rules file (work-order variants share it)."""
    rules_path = Path(rules_path)
    stem = rules_path.name.split(".")[0]
    return rules_path.with_name(f"{stem}.suricata.yaml")
