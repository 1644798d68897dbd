"""The Suricata gateway rules against the real Suricata 7.

Every generated rule file loads (`suricata -T`), and replayed traffic raises exactly the
alerts the policy calls for: none for an allowed request, one for each forbidden one --
including a forbidden request that follows allowed ones on the same connection, which a
`pass`-based rule set would miss. Drop mode is replayed with `--simulate-ips`.
"""

import pytest

from pcap_ot import (
    DNP3_CLASS0, DNP3_CROB, GET_ATTRIBUTE_SINGLE, READ_TAG, STOP, WRITE_TAG, Capture, cip_multiple,
    cip_path_logical, cip_read_tag, cip_reply, cip_request, cip_write_tag, dnp3_request, dnp3_response,
    enip_register_session, modbus_exception, modbus_raw, modbus_read, modbus_read_reply,
    modbus_write_multiple, modbus_write_multiple_reply, modbus_write_single, send_rr_data,
)
from suricata_support import (
    EXAMPLES, ROOT, Suricata, alerted_requests, alerts, build, example_outputs, fragment_for,
)


@pytest.fixture(scope="module")
def suricata():
    return Suricata()


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    return tmp_path_factory.mktemp("gateways")


# ------------------------------------------------------------------ every file loads

@pytest.mark.parametrize("name", EXAMPLES)
@pytest.mark.parametrize("mode", ["ids", "ips"])
def test_every_generated_rule_file_loads(suricata, out, name, mode):
    d = example_outputs(out, name, "--monitor", mode=mode)
    files = sorted(d.glob("*.rules"))
    assert any(f.name == "palisade-monitor.rules" for f in files)
    assert len(files) >= 2
    for rules in files:
        suricata.check(rules, fragment_for(rules), out / f"t-{name}-{rules.stem}")


# ------------------------------------------------------------------ refinery: Modbus read-only polling of the SIS

DCS_1, DCS_2, SIS_1 = "10.40.0.21", "10.40.0.22", "10.50.0.2"


def refinery_traffic():
    cap = Capture()
    c = cap.connect(DCS_1, SIS_1, 502)
    c.request("read holding 0-9", modbus_read(1, 1, 3, 0, 10), modbus_read_reply(1, 1, 3, 10))
    c.request("read coils 100-115", modbus_read(2, 1, 1, 100, 16), modbus_read_reply(2, 1, 1, 16))
    c.request("write register after reads", modbus_write_single(3, 1, 6, 5, 99), modbus_write_single(3, 1, 6, 5, 99), alerts=1)
    c.request("read input 1990-1999", modbus_read(4, 1, 4, 1990, 10), modbus_read_reply(4, 1, 4, 10))
    c.request("read holding 1995-2004", modbus_read(5, 1, 3, 1995, 10), modbus_read_reply(5, 1, 3, 10), alerts=1)
    c.request("read holding unit 2", modbus_read(6, 2, 3, 0, 10), modbus_read_reply(6, 2, 3, 10), alerts=1)
    c.request("read holding unit 0", modbus_read(7, 0, 3, 0, 10), modbus_read_reply(7, 0, 3, 10), alerts=1)
    c.request("read discrete inputs", modbus_read(8, 1, 2, 0, 8), modbus_read_reply(8, 1, 2, 8))
    c.request("diagnostics", modbus_raw(9, 1, 8, b"\x00\x01\x00\x00"), modbus_raw(9, 1, 8, b"\x00\x01\x00\x00"), alerts=1)
    c.request("user function 65", modbus_raw(10, 1, 65, b"\x00\x00"), modbus_exception(10, 1, 65), alerts=1)
    c.request("write multiple registers", modbus_write_multiple(11, 1, 10, [1, 2, 3]), modbus_write_multiple_reply(11, 1, 10, 3), alerts=1)
    c.request("read holding 2000", modbus_read(12, 1, 3, 2000, 1), modbus_read_reply(12, 1, 3, 1), alerts=1)
    c.request("read holding 1999", modbus_read(13, 1, 3, 1999, 1), modbus_read_reply(13, 1, 3, 1))
    c.request("write coil last", modbus_write_single(14, 1, 5, 0, 0xFF00), modbus_write_single(14, 1, 5, 0, 0xFF00), alerts=1)
    c.close()
    # Two requests in one segment: the read passes, the write alerts.
    c = cap.connect(DCS_1, SIS_1, 502)
    c.request(
        "pipelined read + write",
        modbus_read(1, 1, 3, 0, 2) + modbus_write_single(2, 1, 6, 0, 1),
        modbus_read_reply(1, 1, 3, 2) + modbus_write_single(2, 1, 6, 0, 1),
        alerts=1,
    )
    c.close()
    # The redundant DCS server polls within its allowlist: nothing.
    c = cap.connect(DCS_2, SIS_1, 502)
    for tid in range(1, 6):
        c.request(f"dcs_2 read {tid}", modbus_read(tid, 1, 4, 100 * tid, 20), modbus_read_reply(tid, 1, 4, 20))
    c.close()
    # Something that is not Modbus on the Modbus port: one alert for the connection.
    c = cap.connect(DCS_1, SIS_1, 502)
    c.request("http on 502", b"GET / HTTP/1.0\r\n\r\n", b"HTTP/1.0 200 OK\r\n\r\n", alerts=1)
    c.request("http on 502, more", b"GET /x HTTP/1.0\r\n\r\n", b"HTTP/1.0 404 Not Found\r\n\r\n")
    c.close()
    return cap


def test_refinery_alerts_exactly_the_forbidden_modbus_requests(suricata, out, tmp_path):
    d = example_outputs(out, "refinery", mode="ids")
    cap = refinery_traffic()
    cap.write(tmp_path / "refinery.pcap")
    events = suricata.replay(tmp_path / "refinery.pcap", d / "gw_sis.rules", d / "gw_sis.suricata.yaml", tmp_path / "log")
    assert alerted_requests(cap, events) == cap.expected()
    msgs = {a["alert"]["signature"] for a in alerts(events)}
    assert "palisade: modbus function 6 write_single_register: not allowed by conduit sis_monitoring rule 1 (dcs_servers -> sis_1 : modbus)" in msgs
    for a in alerts(events):
        assert a["alert"]["action"] == "allowed"  # IDS: alert only
        assert "sis_monitoring" in a["alert"]["signature"]


def test_refinery_ips_drops_the_forbidden_request_after_allowed_ones(suricata, out, tmp_path):
    d = example_outputs(out, "refinery", mode="ips")
    cap = Capture()
    c = cap.connect(DCS_1, SIS_1, 502)
    c.request("read 1", modbus_read(1, 1, 3, 0, 10), modbus_read_reply(1, 1, 3, 10))
    c.request("read 2", modbus_read(2, 1, 3, 10, 10), modbus_read_reply(2, 1, 3, 10))
    c.request("write", modbus_write_single(3, 1, 6, 5, 99), modbus_write_single(3, 1, 6, 5, 99), alerts=1)
    # Suricata drops the rest of a flow after a drop: this read never reaches the SIS.
    c.request("read after the drop", modbus_read(4, 1, 3, 0, 10), modbus_read_reply(4, 1, 3, 10))
    c.close()
    c = cap.connect(DCS_2, SIS_1, 502)
    c.request("other connection read", modbus_read(1, 1, 3, 0, 10), modbus_read_reply(1, 1, 3, 10))
    c.close()
    c = cap.connect(DCS_2, SIS_1, 502)
    c.request("not modbus", b"GET / HTTP/1.0\r\n\r\n", b"HTTP/1.0 200 OK\r\n\r\n", alerts=1)
    c.close()
    cap.write(tmp_path / "ips.pcap")
    events = suricata.replay(tmp_path / "ips.pcap", d / "gw_sis.rules", d / "gw_sis.suricata.yaml", tmp_path / "log", ips=True)
    blocked = alerts(events)
    assert alerted_requests(cap, events) == {"write": 1, "not modbus": 1}
    assert [a["alert"]["action"] for a in blocked] == ["blocked", "blocked"]
    # Inline, each alert fires on the offending packet itself: nothing of it reaches the SIS.
    for label in ("write", "not modbus"):
        first = next(r.first_packet for r in cap.requests if r.label == label)
        assert [a["pcap_cnt"] for a in blocked if cap.label_of(a["src_port"], a["pcap_cnt"]) == label] == [first]
    stats = [e for e in events if e.get("event_type") == "stats"][-1]["stats"]["ips"]
    assert stats["drop_reason"]["rules"] == 2
    write = next(r for r in cap.requests if r.label == "write")
    assert stats["accepted"] >= write.first_packet - 1 + 6  # first connection up to the write, and the second one


def test_long_lived_connection_stays_inspected(suricata, out, tmp_path):
    """Past stream.reassembly.depth (1mb by default) Suricata 7 stops parsing a stream: the
    fragment sets it to 0. Without it a forbidden write after 1.2 MB of polling goes unseen."""
    d = example_outputs(out, "refinery", mode="ids")
    cap = Capture()
    c = cap.connect(DCS_1, SIS_1, 502)
    tid = 0
    for _ in range(1000):  # 1000 segments of 100 pipelined reads: 1.2 MB to the server
        reqs, reps = b"", b""
        for _ in range(100):
            tid = (tid + 1) % 65536
            reqs += modbus_read(tid, 1, 3, 0, 1)
            reps += modbus_read_reply(tid, 1, 3, 1)
        c.request(f"poll {tid}", reqs, reps)
    c.request("late write", modbus_write_single(7, 1, 6, 5, 99), modbus_write_single(7, 1, 6, 5, 99), alerts=1)
    c.close()
    cap.write(tmp_path / "long.pcap")
    rules, frag = d / "gw_sis.rules", d / "gw_sis.suricata.yaml"
    events = suricata.replay(tmp_path / "long.pcap", rules, frag, tmp_path / "with")
    assert alerted_requests(cap, events) == {"late write": 1}
    events = suricata.replay(tmp_path / "long.pcap", rules, frag, tmp_path / "without", sets=["stream.reassembly.depth=1mb"])
    assert alerts(events) == [], "the pitfall the fragment avoids"


# ------------------------------------------------------------------ water: DNP3, and a work order that opens restarts

SCADA_A, RTU_PN, FEP6, RTU_RES = "172.16.20.11", "172.16.101.5", "fd00:77:20::15", "fd00:77:103::10"


def water_traffic():
    cap = Capture()
    c = cap.connect(SCADA_A, RTU_PN, 20000)
    c.request("read class 0", dnp3_request(1, 1, DNP3_CLASS0), dnp3_response(1))
    c.request("direct operate", dnp3_request(2, 5, DNP3_CROB), dnp3_response(2))
    c.request("cold restart", dnp3_request(3, 13), dnp3_response(3), alerts=1)
    c.request("confirm", dnp3_request(4, 0))
    c.request("stop application", dnp3_request(5, 18), dnp3_response(5), alerts=1)
    c.request("record current time", dnp3_request(6, 24), dnp3_response(6))
    c.request("immediate freeze", dnp3_request(7, 7, DNP3_CLASS0), dnp3_response(7), alerts=1)
    c.request("read again", dnp3_request(8, 1, DNP3_CLASS0), dnp3_response(8))
    c.close()
    # The reservoir over IPv6 allows no select-before-operate.
    c = cap.connect(FEP6, RTU_RES, 20000)
    c.request("v6 read", dnp3_request(1, 1, DNP3_CLASS0), dnp3_response(1))
    c.request("v6 select", dnp3_request(2, 3, DNP3_CROB), dnp3_response(2), alerts=1)
    c.request("v6 direct operate", dnp3_request(3, 5, DNP3_CROB), dnp3_response(3))
    c.close()
    return cap


def test_water_alerts_exactly_the_forbidden_dnp3_requests(suricata, out, tmp_path):
    d = example_outputs(out, "water", mode="ids")
    cap = water_traffic()
    cap.write(tmp_path / "water.pcap")
    events = suricata.replay(tmp_path / "water.pcap", d / "gw_dnp3.rules", d / "gw_dnp3.suricata.yaml", tmp_path / "log")
    assert alerted_requests(cap, events) == cap.expected()
    # Each alert is about the function the request carried.
    for a in alerts(events):
        assert a["dnp3"]["request"]["application"]["function_code"] in (13, 18, 7, 3)


def test_water_during_restart_work_order_allows_restarts(suricata, out, tmp_path):
    d = example_outputs(out, "water", mode="ids")
    cap = water_traffic()
    for r in cap.requests:
        if r.label == "cold restart":
            r.alerts = 0
    cap.write(tmp_path / "water.pcap")
    rules = d / "gw_dnp3.during-rtu_restart.rules"
    events = suricata.replay(tmp_path / "water.pcap", rules, fragment_for(rules), tmp_path / "log")
    assert alerted_requests(cap, events) == cap.expected()


# ------------------------------------------------------------------ manufacturing: CIP read services only

HISTORIAN, LINE1_PLC, MES = "10.120.0.20", "10.130.0.11", "10.120.0.10"


def test_manufacturing_alerts_exactly_the_forbidden_cip_services(suricata, out, tmp_path):
    d = example_outputs(out, "manufacturing", mode="ids")
    cap = Capture()
    s = 0x1234
    c = cap.connect(HISTORIAN, LINE1_PLC, 44818)
    c.request("register session", enip_register_session(), enip_register_session(s))
    c.request("read tag", send_rr_data(cip_read_tag("Line1_Speed"), s), cip_reply(READ_TAG, s, b"\xc4\x00\x01\x00\x00\x00"))
    c.request("write tag", send_rr_data(cip_write_tag("Line1_Speed", 5), s), cip_reply(WRITE_TAG, s), alerts=1)
    c.request("get attribute single", send_rr_data(cip_request(GET_ATTRIBUTE_SINGLE, cip_path_logical(1, 1, 7)), s), cip_reply(GET_ATTRIBUTE_SINGLE, s, b"\x00"))
    c.request("stop", send_rr_data(cip_request(STOP, cip_path_logical(0x8E, 1)), s), cip_reply(STOP, s), alerts=1)
    # Multiple Service Packet is left out on purpose: one alert for the container, one for
    # each forbidden service inside it (the reads inside are allowed).
    c.request("msp read + write", send_rr_data(cip_multiple([cip_read_tag("A"), cip_write_tag("B", 1)]), s), cip_reply(0x0A, s), alerts=2)
    c.request("msp reads", send_rr_data(cip_multiple([cip_read_tag("A"), cip_read_tag("B")]), s), cip_reply(0x0A, s), alerts=1)
    c.request("read tag again", send_rr_data(cip_read_tag("Line1_Count"), s), cip_reply(READ_TAG, s, b"\xc4\x00\x01\x00\x00\x00"))
    c.close()
    cap.write(tmp_path / "cip.pcap")
    events = suricata.replay(tmp_path / "cip.pcap", d / "gw_cell.rules", d / "gw_cell.suricata.yaml", tmp_path / "log")
    assert alerted_requests(cap, events) == cap.expected()
    msgs = sorted(a["alert"]["signature"].split(":")[1].strip() for a in alerts(events))
    assert msgs == sorted(["cip service 0x4d write_tag", "cip service 0x07 stop", "cip service 0x0a multiple_service_packet",
                           "cip service 0x4d write_tag", "cip service 0x0a multiple_service_packet"])


# ------------------------------------------------------------------ sites written for the test

SITE = """site "Gateway test" {{ timezone "UTC" }}
use std.services
service modbus_alt "Modbus on a second port" = tcp/5020 {{ inspect modbus }}
zone plant {{ security_level 2; network 10.1.0.0/24
  asset hmi at 10.1.0.10 {{ capability 2 }}
  asset eng_ws at 10.1.0.20 {{ capability 2 }} }}
zone field {{ security_level 2; network 10.2.0.0/24
  asset plc at 10.2.0.5 {{ capability 2 }}
  asset plc2 at 10.2.0.6 {{ capability 2 }} }}
conduit poll {title}: plant -> field {{
{rules}
}}
gateway gw {{ target suricata; inline between plant and field; mode ids }}
"""


def site(tmp_path, rules, title='"Polling"'):
    path = tmp_path / "site.pal"
    path.write_text(SITE.format(rules=rules, title=title))
    build(path, tmp_path / "out")
    return tmp_path / "out"


def test_an_unconstrained_rule_covers_its_own_traffic(suricata, tmp_path):
    d = site(tmp_path, "  allow plant -> plc : modbus { function [read_holding_registers] }\n  allow eng_ws -> plc : modbus")
    cap = Capture()
    c = cap.connect("10.1.0.10", "10.2.0.5", 502)
    c.request("hmi read", modbus_read(1, 1, 3, 0, 1), modbus_read_reply(1, 1, 3, 1))
    c.request("hmi write", modbus_write_single(2, 1, 6, 0, 1), modbus_write_single(2, 1, 6, 0, 1), alerts=1)
    c.close()
    c = cap.connect("10.1.0.20", "10.2.0.5", 502)
    c.request("eng_ws write", modbus_write_single(1, 1, 6, 0, 1), modbus_write_single(1, 1, 6, 0, 1))
    c.request("eng_ws program", modbus_raw(2, 1, 90, b"\x01"), modbus_exception(2, 1, 90))
    c.close()
    cap.write(tmp_path / "t.pcap")
    events = suricata.replay(tmp_path / "t.pcap", d / "gw.rules", d / "gw.suricata.yaml", tmp_path / "log")
    assert alerted_requests(cap, events) == cap.expected()


def test_units_register_windows_and_a_second_port(suricata, tmp_path):
    d = site(tmp_path, "  allow hmi -> plc : modbus, modbus_alt { function [read_coils, read_holding_registers, write_single_register]; unit [1, 3-5]; register [0-99, 200-299] }")
    assert 'detection-ports.dp: "[502,5020]"' in (d / "gw.suricata.yaml").read_text()
    cap = Capture()
    for port in (502, 5020):
        c = cap.connect("10.1.0.10", "10.2.0.5", port)
        c.request(f"{port} unit 4 read 250-259", modbus_read(1, 4, 3, 250, 10), modbus_read_reply(1, 4, 3, 10))
        c.request(f"{port} unit 2", modbus_read(2, 2, 3, 0, 1), modbus_read_reply(2, 2, 3, 1), alerts=1)
        c.request(f"{port} unit 6", modbus_read(3, 6, 3, 0, 1), modbus_read_reply(3, 6, 3, 1), alerts=1)
        c.request(f"{port} unit 1 read 95-104", modbus_read(4, 1, 3, 95, 10), modbus_read_reply(4, 1, 3, 10), alerts=1)
        c.request(f"{port} unit 5 write 150", modbus_write_single(5, 5, 6, 150, 1), modbus_write_single(5, 5, 6, 150, 1), alerts=1)
        c.request(f"{port} unit 5 write 299", modbus_write_single(6, 5, 6, 299, 1), modbus_write_single(6, 5, 6, 299, 1))
        c.request(f"{port} unit 3 read 300", modbus_read(7, 3, 3, 300, 1), modbus_read_reply(7, 3, 3, 1), alerts=1)
        c.request(f"{port} unit 3 read 0-99", modbus_read(8, 3, 3, 0, 100), modbus_read_reply(8, 3, 3, 100))
        # A request meeting both gaps (coils 150-349) matches both gap rules: two alerts.
        c.request(f"{port} coils across two gaps", modbus_read(9, 1, 1, 150, 200), modbus_read_reply(9, 1, 1, 200), alerts=2)
        c.close()
    # plc2 is not in the rule: no protocol rule is about it, the boundary reports its flow.
    c = cap.connect("10.1.0.10", "10.2.0.6", 502)
    other = c.sport
    c.request("other plc", modbus_write_single(1, 9, 6, 0, 1), modbus_write_single(1, 9, 6, 0, 1))
    c.close()
    cap.write(tmp_path / "t.pcap")
    events = suricata.replay(tmp_path / "t.pcap", d / "gw.rules", d / "gw.suricata.yaml", tmp_path / "log")
    boundary = [e for e in events if e.get("event_type") == "alert" and e["alert"]["signature"].startswith("palisade: no conduit rule admits")]
    assert boundary and {a["src_port"] for a in boundary} == {other}
    fields = [e for e in events if e not in boundary]
    assert alerted_requests(cap, fields) == cap.expected()


HOSTILE = r'\"; sid:1; ) alert ip any any -> any any (msg:\"pwned\"; sid:2;) # \\'


def test_hostile_names_cannot_inject_rules(suricata, tmp_path):
    d = site(tmp_path, "  allow hmi -> plc : modbus { function [read_coils] }", title=f'"{HOSTILE}"')
    text = (d / "gw.rules").read_text()
    assert "pwned" in text  # in a comment, where it is harmless
    suricata.check(d / "gw.rules", d / "gw.suricata.yaml", tmp_path / "t")
    cap = Capture()
    c = cap.connect("10.1.0.10", "10.2.0.5", 502)
    c.request("write", modbus_write_single(1, 1, 6, 0, 1), modbus_write_single(1, 1, 6, 0, 1), alerts=1)
    c.close()
    cap.write(tmp_path / "t.pcap")
    events = suricata.replay(tmp_path / "t.pcap", d / "gw.rules", d / "gw.suricata.yaml", tmp_path / "log")
    assert alerted_requests(cap, events) == {"write": 1}
    assert all(a["alert"]["signature_id"] != 2 and "pwned" not in a["alert"]["signature"] for a in alerts(events))


def test_what_suricata_cannot_express_fails_the_build(tmp_path):
    path = tmp_path / "site.pal"
    path.write_text(SITE.format(title='"x"', rules="  allow hmi -> plc : modbus { function [read_coils, 65] }"))
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "gw.rules").write_text("previous\n")
    p = build(path, tmp_path / "out", "--message-format", "short", expect_ok=False)
    assert p.returncode == 1
    assert "error[E0930]" in p.stderr and "Modbus function code 65" in p.stderr
    assert (tmp_path / "out" / "gw.rules").read_text() == "previous\n", "a failed build leaves previous files untouched"


def test_builds_are_byte_identical(tmp_path):
    for name in EXAMPLES:
        a, b = tmp_path / f"{name}-a", tmp_path / f"{name}-b"
        build(ROOT / "examples" / name, a, "--target", "suricata", "--monitor")
        build(ROOT / "examples" / name, b, "--target", "suricata", "--monitor")
        names = sorted(p.name for p in a.iterdir())
        assert names == sorted(p.name for p in b.iterdir())
        for n in names:
            assert (a / n).read_bytes() == (b / n).read_bytes(), n
