"""The differential oracle's gateway half: the probes whose route crosses a Suricata gateway,
written as one pcap per gateway and phase and replayed through the gateway's emitted rules in
simulated IPS mode (`suricata -r PCAP --simulate-ips -S RULES -k none`). The lab's gateway
namespace forwards everything; a probe passes the gateway when no alert with action `blocked`
names its connection.

Each TCP probe becomes a whole conversation (handshake, one request, the reply, close); a
probe to the Modbus port carries a Modbus request with the probe's function, unit and
register (`modbus`: (function, unit, register)), every other one an echo payload. A UDP probe
is one datagram and its reply.
"""

import ipaddress

from pcap_ot import Capture, mbap, modbus_read, modbus_read_reply
from scapy.all import IP, UDP, Ether, IPv6


def modbus_request(fields):
    fc, unit, register = fields
    if fc in (1, 2, 3, 4):
        return modbus_read(1, unit, fc, register, 1), modbus_read_reply(1, unit, fc, 1)
    # Any other function: the code, a data address and one word of data.
    pdu = bytes([fc]) + register.to_bytes(2, "big") + b"\x00\x01"
    return mbap(1, unit, pdu), mbap(1, unit, pdu)


def write_pcap(path, probes):
    cap = Capture()
    for p in probes:
        if p["proto"] == "tcp":
            cap.next_port = p["sport"] - 1  # the connection takes the probe's source port
            c = cap.connect(p["src"], p["dst"], p["dport"])
            if p.get("modbus"):
                req, rep = modbus_request(p["modbus"])
            else:
                req = rep = f"o{p['sport']}\n".encode()
            c.request(str(p["sport"]), req, rep)
            c.close()
        elif p["proto"] == "udp":
            ip = IPv6 if ":" in p["src"] else IP
            for a, b, sp, dp in ((p["src"], p["dst"], p["sport"], p["dport"]), (p["dst"], p["src"], p["dport"], p["sport"])):
                cap.t += 0.001
                pkt = Ether() / ip(src=a, dst=b) / UDP(sport=sp, dport=dp) / f"o{p['sport']}".encode()
                pkt.time = cap.t
                cap.packets.append(pkt)
    cap.write(path)


def blocked(suricata, rules, fragment, probes, workdir):
    """{source port: (request blocked, reply blocked)} for each probe's connection."""
    probes = [p for p in probes if p["proto"] in ("tcp", "udp")]
    if not probes:
        return {}
    workdir.mkdir(parents=True, exist_ok=True)
    pcap = workdir / "flows.pcap"
    write_pcap(pcap, probes)
    events = suricata.replay(pcap, rules, fragment, workdir / "log", ips=True)
    norm = lambda a: str(ipaddress.ip_address(a))  # noqa: E731
    keys = {}
    for p in probes:
        keys[(norm(p["src"]), p["sport"], norm(p["dst"]), p["dport"])] = (p["sport"], 0)
        keys[(norm(p["dst"]), p["dport"], norm(p["src"]), p["sport"])] = (p["sport"], 1)
    out = {p["sport"]: [False, False] for p in probes}
    for e in events:
        if e.get("event_type") == "alert" and e["alert"].get("action") == "blocked":
            k = keys.get((norm(e["src_ip"]), e.get("src_port"), norm(e["dest_ip"]), e.get("dest_port")))
            if k:
                out[k[0]][k[1]] = True
    return {k: tuple(v) for k, v in out.items()}
