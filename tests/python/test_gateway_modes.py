"""A gateway's mode decides what it enforces, and the proofs follow the same decision.

The repro of issue 12: zones `a` and `b` with an inline Suricata gateway as the only device
between them and one constrained Modbus rule `hist -> plc1`. In `mode ips` the proofs count
the gateway as a complete allowlist, so the emitted rules must drop everything else that
crosses it (an SSH connection from `b` to `a` above all) while the allowed read passes. In
`mode ids` the proofs treat it as unfiltered, and `assert no_path b -> a` is refuted.
Replayed through the real Suricata 7 with `--simulate-ips`.
"""

import json
import subprocess

import pytest
from scapy.all import ICMP, IP, UDP, Ether

from pcap_ot import Capture, modbus_read, modbus_read_reply, modbus_write_single
from suricata_support import ROOT, Suricata, alerts, palisade

SITE = """
site "Gateway only" {{ timezone "UTC" }}
use std.services

zone a {{ security_level 2; network 10.1.0.0/24
  asset hist at 10.1.0.10 {{ kind historian; capability 2 }} }}
zone b {{ security_level 2; network 10.2.0.0/24
  asset plc1 at 10.2.0.11 {{ kind plc; capability 2 }}
  asset plc2 at 10.2.0.12 {{ kind plc; capability 2 }} }}

conduit ab: a -> b {{ allow hist -> plc1 : modbus {{ function [3] }} }}

gateway gw {{ target suricata; inline between a and b; mode {mode} }}

assert no_path b -> a
"""

HIST, PLC1, PLC2 = "10.1.0.10", "10.2.0.11", "10.2.0.12"


@pytest.fixture(scope="module")
def suricata():
    return Suricata()


def site(tmp_path, mode):
    d = tmp_path / f"site_{mode}"
    d.mkdir()
    (d / "site.pal").write_text(SITE.format(mode=mode))
    return d


def verify(site_dir):
    p = subprocess.run([str(palisade()), "verify", str(site_dir), "--message-format", "json"],
                       cwd=ROOT, capture_output=True, text=True)
    doc = json.loads(p.stdout)
    return p.returncode, {r["property"]: r["verdict"] for r in doc["results"] if r["property"].startswith("assert")}


def traffic():
    cap = Capture()
    flows = {}
    c = cap.connect(HIST, PLC1, 502)
    flows["allowed modbus"] = c.sport
    c.request("read", modbus_read(1, 1, 3, 0, 10), modbus_read_reply(1, 1, 3, 10))
    c.request("write", modbus_write_single(2, 1, 6, 5, 99), modbus_write_single(2, 1, 6, 5, 99), alerts=1)
    c.close()
    for label, (src, dst, port) in {
        "ssh b -> a": (PLC2, HIST, 22),
        "ssh a -> b": (HIST, PLC1, 22),
        "modbus to plc2": (HIST, PLC2, 502),
        "modbus b -> a": (PLC1, HIST, 502),
    }.items():
        c = cap.connect(src, dst, port)
        flows[label] = c.sport
        c.request(label, b"SSH-2.0-probe\r\n" if port == 22 else modbus_read(1, 1, 3, 0, 1), None, alerts=1)
        c.close()
    for label, pkt in {
        "udp a -> b": IP(src=HIST, dst=PLC1) / UDP(sport=45001, dport=161) / b"x",
        "icmp a -> b": IP(src=HIST, dst=PLC1) / ICMP(type=8),
    }.items():
        cap.t += 0.001
        p = Ether() / pkt
        p.time = cap.t
        cap.packets.append(p)
    return cap, flows


def first_packet_of(cap, sport):
    """pcap_cnt (1-based) of a TCP connection's SYN."""
    for i, p in enumerate(cap.packets, start=1):
        if p.haslayer("TCP") and p["TCP"].sport == sport and p["TCP"].flags == "S":
            return i
    raise AssertionError(sport)


def test_ips_gateway_is_a_complete_allowlist(suricata, tmp_path):
    d = site(tmp_path, "ips")
    rc, verdicts = verify(d)
    assert rc == 0 and set(verdicts.values()) == {"proved"}, verdicts
    out = tmp_path / "out_ips"
    p = subprocess.run([str(palisade()), "build", str(d), "-o", str(out)], cwd=ROOT, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    suricata.check(out / "gw.rules", out / "gw.suricata.yaml", tmp_path / "t")
    cap, flows = traffic()
    cap.write(tmp_path / "gw.pcap")
    events = suricata.replay(tmp_path / "gw.pcap", out / "gw.rules", out / "gw.suricata.yaml", tmp_path / "log", ips=True)
    blocked = alerts(events)
    assert all(a["alert"]["action"] == "blocked" for a in blocked)
    by_port = {}
    for a in blocked:
        by_port.setdefault(a.get("src_port"), []).append(a)
    # The read passes, the write after it on the same connection is dropped.
    allowed = by_port.get(flows["allowed modbus"], [])
    assert [cap.label_of(a["src_port"], a["pcap_cnt"]) for a in allowed] == ["write"]
    # Every connection no rule admits is dropped at its first packet: nothing reaches the server.
    for label in ("ssh b -> a", "ssh a -> b", "modbus to plc2", "modbus b -> a"):
        got = by_port.get(flows[label], [])
        assert got and min(a["pcap_cnt"] for a in got) == first_packet_of(cap, flows[label]), (label, got)
    protos = {a["proto"] for a in blocked if a.get("src_port") is None or a["proto"] != "TCP"}
    assert {"UDP", "ICMP"} <= protos, protos
    # The allowed read's reply went through: no alert ever names the server side of it.
    assert not [a for a in blocked if a.get("src_ip") == PLC1 and a.get("src_port") == 502]


def test_ids_gateway_enforces_nothing_in_the_proofs(suricata, tmp_path):
    d = site(tmp_path, "ids")
    rc, verdicts = verify(d)
    assert rc == 1 and verdicts["assert no_path b -> a"] == "refuted", verdicts
    out = tmp_path / "out_ids"
    p = subprocess.run([str(palisade()), "build", str(d), "-o", str(out), "--no-verify"], cwd=ROOT, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    text = (out / "gw.rules").read_text()
    rules = [l for l in text.splitlines() if l and not l.startswith("#")]
    assert rules and all(l.startswith("alert ") for l in rules)
    cap, flows = traffic()
    cap.write(tmp_path / "gw.pcap")
    events = suricata.replay(tmp_path / "gw.pcap", out / "gw.rules", out / "gw.suricata.yaml", tmp_path / "log")
    # It watches: the SSH connection from b is reported, and allowed through.
    ssh = [a for a in alerts(events) if a.get("src_port") == flows["ssh b -> a"]]
    assert ssh and all(a["alert"]["action"] == "allowed" for a in ssh)


def test_build_ips_flag_is_refused(tmp_path):
    d = site(tmp_path, "ips")
    p = subprocess.run([str(palisade()), "build", str(d), "-o", str(tmp_path / "o"), "--ips"], cwd=ROOT, capture_output=True, text=True)
    assert p.returncode == 2 and "mode ips" in p.stderr, p.stderr
    assert not (tmp_path / "o").exists()
