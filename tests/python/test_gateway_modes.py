"""A gateway's mode decides what it enforces, and the proofs follow the same decision.

The repro of issue 12: zones `a` and `b` with an inline Suricata gateway as the only device
between them and one constrained Modbus rule `hist -> plc1`. In `mode ips` the proofs count
the gateway as a complete allowlist, so the emitted rules must drop everything else that
crosses it (an SSH connection from `b` to `a` above all) while the allowed read passes. In
`mode ids` the proofs treat it as unfiltered, and `assert no_path b -> a` is refuted.
Replayed through the real Suricata 7 with `--simulate-ips`.
"""

import json
import os
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


# ------------------------------------------------------------------ work-order instances on a gateway

RTU_PN, RTU_PS, SCADA_A = "172.16.101.5", "172.16.102.5", "172.16.20.11"


def heredoc(script, path_suffix):
    """The contents a printed `cat > …<suffix> <<'PALISADE_EOF'` block writes."""
    lines = script.splitlines(keepends=True)
    start = next(i for i, l in enumerate(lines) if l.startswith("cat > ") and l.split()[2].endswith(path_suffix))
    end = next(i for i in range(start + 1, len(lines)) if lines[i] == "PALISADE_EOF\n")
    return "".join(lines[start + 1:end])


def test_workorder_open_on_a_gateway_admits_exactly_the_instance(suricata, tmp_path):
    from pcap_ot import dnp3_request, dnp3_response

    env = dict(os.environ, PALISADE_NOW="2026-12-02T10:00:00Z")
    argv = [str(palisade()), "workorder", "open", "rtu_restart", "--site", str(ROOT / "examples" / "water"), "--scope", "pump_north"]
    p = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, env=env)
    assert p.returncode == 0, p.stderr
    script = p.stdout
    assert "# gw_dnp3 (suricata gateway): open work order rtu_restart for pump_north" in script
    assert "suricatasc -c reload-rules" in script and "systemd-run --on-active=" in script
    opened, base = tmp_path / "open.rules", tmp_path / "base.rules"
    opened.write_text(heredoc(script, "gw_dnp3.rules.new"))
    base.write_text(heredoc(script, "gw_dnp3.rules.base"))
    build_dir = tmp_path / "out"
    b = subprocess.run([str(palisade()), "build", str(ROOT / "examples" / "water"), "-o", str(build_dir), "--target", "suricata"], cwd=ROOT, capture_output=True, text=True)
    assert b.returncode == 0, b.stderr
    assert base.read_text() == (build_dir / "gw_dnp3.rules").read_text(), "close restores the built file"
    frag = build_dir / "gw_dnp3.suricata.yaml"
    cap = Capture()
    ports = {}
    for label, rtu in {"restart north": RTU_PN, "restart south": RTU_PS}.items():
        c = cap.connect(SCADA_A, rtu, 20000)
        ports[label] = c.sport
        c.request("read", dnp3_request(1, 1), dnp3_response(1))
        c.request(label, dnp3_request(2, 13), dnp3_response(2))
        c.close()
    cap.write(tmp_path / "wo.pcap")

    def blocked(rules, name):
        events = suricata.replay(tmp_path / "wo.pcap", rules, frag, tmp_path / name, ips=True)
        return {label for label, port in ports.items() if any(a.get("src_port") == port for a in alerts(events))}

    # Closed: both restarts are dropped. Open for pump_north: only the north one passes.
    assert blocked(base, "base") == {"restart north", "restart south"}
    assert blocked(opened, "open") == {"restart south"}


def test_workorder_open_refuses_outside_the_window(tmp_path):
    env = dict(os.environ, PALISADE_NOW="2026-12-05T10:00:00Z")  # a Saturday
    site = str(ROOT / "examples" / "refinery")
    p = subprocess.run([str(palisade()), "workorder", "open", "remote_engineering", "--site", site, "--scope", "eng_ws"],
                       cwd=ROOT, capture_output=True, text=True, env=env)
    assert p.returncode == 1 and p.stdout == "", p.stdout
    assert "may open only in its window" in p.stderr and "Sat 11:00" in p.stderr, p.stderr
    p = subprocess.run([str(palisade()), "workorder", "open", "remote_engineering", "--site", site, "--scope", "eng_ws", "--force"],
                       cwd=ROOT, capture_output=True, text=True, env=env)
    assert p.returncode == 0 and "FORCED outside its window" in p.stdout and "OUTSIDE its window" in p.stderr
    # Inside the window, the duration stops at the window's end (14:00 Amsterdam = 13:00Z).
    p = subprocess.run([str(palisade()), "workorder", "open", "dcs_patching", "--site", site, "--scope", "dcs_1"],
                       cwd=ROOT, capture_output=True, text=True, env=env)
    assert p.returncode == 0 and "timeout 10800" in p.stdout, p.stdout
