"""The differential oracle's gateway half: the probes whose route crosses a Suricata gateway,
written as one pcap per gateway and phase and replayed through the gateway's emitted rules in
simulated IPS mode (`suricata -r PCAP --simulate-ips -S RULES -k none`). The lab's gateway
namespace forwards everything; a probe passes the gateway when no alert with action `blocked`
names its connection.

Each TCP probe becomes a whole conversation (handshake, one request, the reply, close); a
probe to the Modbus port carries a Modbus request with the probe's function, unit and
register (`modbus`: (function, unit, register)), every other one an echo payload. A UDP probe
is one datagram and its reply, an ICMP probe an echo request and its reply.
"""

import ipaddress

from pcap_ot import Capture, mbap, modbus_read, modbus_read_reply
from scapy.all import ICMP, IP, UDP, Ether, ICMPv6EchoReply, ICMPv6EchoRequest, IPv6


def modbus_request(fields):
    fc, unit, register = fields
    if fc in (1, 2, 3, 4):
        return modbus_read(1, unit, fc, register, 1), modbus_read_reply(1, unit, fc, 1)
    # Any other function: the code, a data address and one word of data.
    pdu = bytes([fc]) + register.to_bytes(2, "big") + b"\x00\x01"
    return mbap(1, unit, pdu), mbap(1, unit, pdu)


def write_pcap(path, probes):
    """The probes as conversations; -> for each packet (in pcap order, from 1): (the probe's
    source port, 0 for the initiator's direction or 1 for the reply's)."""
    cap = Capture()
    owner = [None]
    for p in probes:
        first = len(cap.packets)
        if p["proto"] == "tcp":
            cap.next_port = p["sport"] - 1  # the connection takes the probe's source port
            c = cap.connect(p["src"], p["dst"], p["dport"])
            if p.get("modbus"):
                req, rep = modbus_request(p["modbus"])
            else:
                req = rep = f"o{p['sport']}\n".encode()
            c.request(str(p["sport"]), req, rep)
            c.close()
        else:
            ip = IPv6 if ":" in p["src"] else IP
            for a, b, sp, dp in ((p["src"], p["dst"], p["sport"], p["dport"]), (p["dst"], p["src"], p["dport"], p["sport"])):
                cap.t += 0.001
                if p["proto"] == "udp":
                    l4 = UDP(sport=sp, dport=dp) / f"o{p['sport']}".encode()
                elif ip is IP:
                    l4 = ICMP(type=8 if a == p["src"] else 0, id=p["sport"] & 0xFFFF, seq=1) / b"palisade"
                else:
                    l4 = (ICMPv6EchoRequest if a == p["src"] else ICMPv6EchoReply)(id=p["sport"] & 0xFFFF, seq=1, data=b"palisade")
                pkt = Ether() / ip(src=a, dst=b) / l4
                pkt.time = cap.t
                cap.packets.append(pkt)
        src = str(ipaddress.ip_address(p["src"]))
        for pkt in cap.packets[first:]:
            owner.append((p["sport"], 0 if str(ipaddress.ip_address(pkt[1].src)) == src else 1))
    cap.write(path)
    return owner


def blocked(suricata, rules, fragment, probes, workdir):
    """{source port: (request blocked, reply blocked)} for each probe's connection: an alert
    with action `blocked` on one of its packets (eve's `pcap_cnt` names the packet)."""
    probes = [p for p in probes if p["proto"] in ("tcp", "udp", "icmp", "icmpv6")]
    if not probes:
        return {}
    workdir.mkdir(parents=True, exist_ok=True)
    pcap = workdir / "flows.pcap"
    owner = write_pcap(pcap, probes)
    events = suricata.replay(pcap, rules, fragment, workdir / "log", ips=True)
    out = {p["sport"]: [False, False] for p in probes}
    for e in events:
        if e.get("event_type") == "alert" and e["alert"].get("action") == "blocked":
            n = e.get("pcap_cnt")
            if isinstance(n, int) and 0 < n < len(owner):
                sport, direction = owner[n]
                out[sport][direction] = True
    return {k: tuple(v) for k, v in out.items()}
