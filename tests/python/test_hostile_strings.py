"""Long hostile strings against the real tools (issue 12, defect 7).

ipset reads a restore file in 1,023-byte chunks, iptables-restore in 10,239 and Suricata in
8,191: the rest of a longer line is read as a line of its own. A site name or conduit title
padded to such a boundary once smuggled a `create`, a `raw`-table rule or a `pass` rule past
the comment it belonged to. Each test builds a small site twice -- with plain strings and
with a hostile one -- loads both into the real tool and compares what the tool holds: the
same sets, chains, rules and Suricata rule count.

Under CI=true a missing tool or missing root is a failure; locally the test is skipped with
a loud reason.
"""

import re
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from netns_lab import ROOT, palisade, require  # noqa: E402
from suricata_support import Suricata  # noqa: E402

SITE = """\
site "@SITE@" {
  timezone "UTC"
  description "@TEXT@"
}
use std.services

role tech "@TEXT@"
role engineer "Engineer"
person "emp-1" "@TEXT@" { roles [tech] }
person "emp-2" { roles [engineer] }

zone office "@TEXT@" {
  description "@TEXT@"
  security_level 1
  network 10.10.0.0/24
  network fd00:10::/64
  asset ws "@TEXT@" at 10.10.0.5 { description "@TEXT@"; kind workstation; capability 1 }
  asset ws6 at fd00:10::5 { kind workstation; capability 1 }
}
zone control "@TEXT@" {
  description "@TEXT@"
  security_level 2
  network 10.20.0.0/24
  network fd00:20::/64
  asset plc "@TEXT@" at 10.20.0.7 {
    description "@TEXT@"
    kind plc
    capability [FR1: 1, FR2: 1, FR3: 2, FR4: 2, FR5: 2, FR6: 2, FR7: 2]
    compensating {
      covers [FR1, FR2]
      relies_on conduit office_control
      because "@TEXT@"
      owner "@TEXT@"
      expires 2030-12-31
    }
  }
  asset hmi "The HMI" at 10.20.0.8 { kind hmi; capability 2 }
  asset hmi6 at fd00:20::8 { kind hmi; capability 2 }
}

group desks = [ws, ws6]
group panels = [hmi, hmi6]

conduit office_control "@TITLE@": office -> control {
  description "@TEXT@"
  allow ws -> plc : modbus { function [read_holding_registers] }
  allow desks -> panels : https
  allow ws -> hmi : ssh when workorder maintenance
  log
}

firewall fw_nft "@TEXT@" { target nftables; interface "eth0" faces office, external; interface "eth1" faces control }
firewall fw_ipt "@TEXT@" { target iptables; interface "eth0" faces office, external; interface "eth1" faces control }
gateway gw "@TEXT@" { target suricata; inline between office and control }

workorder maintenance "@TEXT@" {
  description "@TEXT@"
  scope control
  requested_by tech
  approved_by engineer
  separation_of_duties
  prerequisite backup "@TEXT@"
  window Mon-Fri 06:00-18:00
  max_duration 4h
}

dataflow orders "@TEXT@": ws -> hmi { integrity }
"""

# Where each tool cuts a line (its read buffer less the terminating NUL).
IPSET_CHUNK = 1023
IPTABLES_CHUNK = 10239
SURICATA_CHUNK = 8191

SITE_PREFIX = "# Site: "
TITLE_PREFIX = "# conduit office_control (office -> control): "


def chunks(prefix, chunk, *lines):
    """Text that, after `prefix` on one line, puts each of `lines` at the start of a chunk of
    its own: padding, then each line padded to the chunk size (the last one not padded)."""
    out = "x" * (chunk - len(prefix))
    for i, line in enumerate(lines):
        out += line if i == len(lines) - 1 else line.ljust(chunk)
    return out


# A ~1,015-character site name whose tail is an ipset command.
IPSET_ATTACK = chunks(SITE_PREFIX, IPSET_CHUNK, "create pal_injected hash:ip family inet")
# A padded site name whose chunks are a `raw` table with a NOTRACK rule.
IPTABLES_ATTACK = chunks(SITE_PREFIX, IPTABLES_CHUNK, "*raw", "-A PREROUTING -j CT --notrack", "COMMIT")
# A ~8,159-character conduit title whose tail is a `pass` rule.
SURICATA_ATTACK = chunks(TITLE_PREFIX, SURICATA_CHUNK, 'pass tcp any any -> any any (msg:"injected"; sid:9999999; rev:1;)')
# Control characters, quotes, separators, bidi controls and non-ASCII for every other string.
NASTY = "a\\\"b\r\x00\x1b[31m;#'--> \u202e\u2066 Zürich \\"


def site_text(site=None, title=None, text=None):
    def lit(s):
        return s.replace("\\", "\\\\").replace('"', '\\"')

    return (
        SITE.replace("@SITE@", lit(site or "Plain site"))
        .replace("@TITLE@", lit(title or "Office to control"))
        .replace("@TEXT@", lit(text or "plain text"))
    )


def build(tmp, name, **strings):
    d = tmp / name
    d.mkdir()
    (d / "site.pal").write_bytes(site_text(**strings).encode())
    out = d / "out"
    p = subprocess.run([palisade(), "build", str(d / "site.pal"), "-o", str(out)], capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, f"palisade build failed:\n{p.stderr[-4000:]}"
    return out


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    return build(tmp_path_factory.mktemp("plain"), "plain")


def in_netns(script):
    """Run a shell script in a fresh network namespace (its own ipsets and tables)."""
    return subprocess.run(["unshare", "-n", "sh", "-ec", script], capture_output=True, text=True, timeout=120)


def ipset_names(out):
    p = in_netns(f"ipset restore -f {out / 'fw_ipt.ipset'}; ipset list -n")
    assert p.returncode == 0, f"ipset restore failed:\n{p.stderr}"
    return sorted(p.stdout.split())


def iptables_state(out, sets):
    """Tables, chains and rules that iptables holds after loading the rules of `out` over the
    sets of `sets` (the ipset file has a test of its own)."""
    p = in_netns(
        f"ipset restore -f {sets / 'fw_ipt.ipset'}\n"
        f"iptables-restore --test {out / 'fw_ipt.rules.v4'}\n"
        f"ip6tables-restore --test {out / 'fw_ipt.rules.v6'}\n"
        f"iptables-restore {out / 'fw_ipt.rules.v4'}\n"
        f"ip6tables-restore {out / 'fw_ipt.rules.v6'}\n"
        "echo ==v4; iptables-save; echo ==v6; ip6tables-save"
    )
    assert p.returncode == 0, f"iptables-restore failed:\n{p.stderr}"
    # Counters and the date line differ between runs; the rest must be equal.
    return [re.sub(r"\[\d+:\d+\]", "", line) for line in p.stdout.splitlines() if line and not line.startswith("#")]


def nft_state(out):
    f = out / "fw_nft.nft"
    p = in_netns(f"nft -c -f {f}; nft -f {f}; nft list ruleset")
    assert p.returncode == 0, f"nft rejected {f}:\n{p.stderr}"
    return [line.strip() for line in p.stdout.splitlines()]


def suricata_rules_loaded(suricata, out, log_dir):
    log_dir.mkdir(parents=True, exist_ok=True)
    p = subprocess.run(
        [suricata.exe, "-c", str(suricata.config), "-S", str(out / "gw.rules"), "--include", str((out / "gw.suricata.yaml").resolve()),
         "-l", str(log_dir), "-T", "-v", "--init-errors-fatal"],
        capture_output=True, text=True, timeout=300,
    )
    assert p.returncode == 0, f"suricata -T rejected {out / 'gw.rules'}:\n{p.stdout}\n{p.stderr}"
    m = re.search(r"(\d+) rules successfully loaded, (\d+) rules failed", p.stdout + p.stderr)
    assert m, p.stdout + p.stderr
    return int(m.group(1)), int(m.group(2))


def longest_line(out):
    """The longest line of the line-oriented outputs (XML and JSON are read as documents)."""
    files = [f for f in out.rglob("*") if f.is_file() and f.suffix not in (".json", ".bpmn")]
    return max(len(line) for f in files for line in f.read_bytes().split(b"\n"))


def test_plain_site_loads(plain):
    require("ipset", "iptables-restore", "ip6tables-restore", "nft", "unshare")
    assert ipset_names(plain)
    assert any(line.startswith("-A FORWARD") for line in iptables_state(plain, plain))
    assert any("chain office_control" in line for line in nft_state(plain))


def test_ipset_chunk_injection(tmp_path, plain):
    require("ipset", "unshare")
    out = build(tmp_path, "hostile", site=IPSET_ATTACK, text=NASTY)
    names = ipset_names(out)
    assert "pal_injected" not in names
    assert names == ipset_names(plain)


def test_iptables_chunk_injection(tmp_path, plain):
    require("ipset", "iptables-restore", "ip6tables-restore", "unshare")
    out = build(tmp_path, "hostile", site=IPTABLES_ATTACK, text=NASTY)
    state = iptables_state(out, plain)
    assert "*raw" not in state and not any("NOTRACK" in line or "--notrack" in line for line in state), state
    assert state == iptables_state(plain, plain)


def test_nft_loads_exactly_the_plain_ruleset(tmp_path, plain):
    require("nft", "unshare")
    expected = nft_state(plain)
    for i, site in enumerate([IPSET_ATTACK, IPTABLES_ATTACK]):
        out = build(tmp_path, f"hostile{i}", site=site, title=SURICATA_ATTACK, text=NASTY)
        assert nft_state(out) == expected


def test_suricata_chunk_injection(tmp_path, plain):
    suricata = Suricata()
    out = build(tmp_path, "hostile", title=SURICATA_ATTACK, text=NASTY)
    hostile = suricata_rules_loaded(suricata, out, tmp_path / "log-hostile")
    expected = suricata_rules_loaded(suricata, plain, tmp_path / "log-plain")
    assert hostile == expected, f"hostile title: {hostile} rules loaded/failed, plain site: {expected}"


def test_every_line_is_short(tmp_path):
    out = build(tmp_path, "hostile", site=IPTABLES_ATTACK, title=SURICATA_ATTACK, text=NASTY * 300)
    assert longest_line(out) < 1000
    for f in out.rglob("*"):
        if f.is_file():
            data = f.read_bytes()
            assert b"\r" not in data and b"\x00" not in data and b"\x1b" not in data, f
