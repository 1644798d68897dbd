"""Writes pcaps of industrial protocol traffic for replay through Suricata (`suricata -r`).

A `Capture` holds TCP connections one after another; each request is recorded with the
packet number it starts at, so an alert (whose `pcap_cnt` is the packet it fired on: the
request itself inline, a later ACK or response in IDS mode) can be traced back to the
request that caused it. Connections have a full handshake, replies and a FIN exchange, so
Suricata's stream engine and app-layer parsers see what they would on the wire.

Builders for Modbus/TCP (MBAP + PDU), DNP3 over TCP (link frames with CRCs, transport and
application headers) and EtherNet/IP encapsulation carrying CIP explicit requests.
"""

import struct
from dataclasses import dataclass, field

from scapy.all import IP, TCP, Ether, IPv6, wrpcap


@dataclass
class Request:
    label: str
    src_port: int
    first_packet: int
    alerts: int  # alerts expected (0 for an allowed request)


@dataclass
class Capture:
    packets: list = field(default_factory=list)
    requests: list = field(default_factory=list)
    t: float = 1_700_000_000.0
    next_port: int = 40000

    def connect(self, client, server, dport):
        self.next_port += 1
        return Connection(self, client, server, self.next_port, dport)

    def write(self, path):
        wrpcap(str(path), self.packets)

    def expected(self):
        """label -> number of alerts expected, for every request that expects some."""
        return {r.label: r.alerts for r in self.requests if r.alerts}

    def label_of(self, src_port, pcap_cnt):
        """The request of connection `src_port` that an alert on packet `pcap_cnt` belongs to."""
        mine = [r for r in self.requests if r.src_port == src_port]
        if pcap_cnt is None:
            return mine[-1].label if mine else None
        before = [r for r in mine if r.first_packet <= pcap_cnt]
        return before[-1].label if before else None


class Connection:
    def __init__(self, cap, client, server, sport, dport):
        self.cap, self.c, self.s, self.sport, self.dport = cap, client, server, sport, dport
        self.cseq, self.sseq = 1000, 5000
        self._send(True, "S")
        self.cseq += 1
        self._send(False, "SA")
        self.sseq += 1
        self._send(True, "A")

    def _send(self, to_server, flags, payload=b""):
        ip = IPv6 if ":" in self.c else IP
        self.cap.t += 0.001
        if to_server:
            p = Ether() / ip(src=self.c, dst=self.s) / TCP(sport=self.sport, dport=self.dport, flags=flags, seq=self.cseq, ack=self.sseq)
        else:
            p = Ether() / ip(src=self.s, dst=self.c) / TCP(sport=self.dport, dport=self.sport, flags=flags, seq=self.sseq, ack=self.cseq)
        if payload:
            p = p / payload
        p.time = self.cap.t
        self.cap.packets.append(p)

    def request(self, label, data, reply=None, alerts=0):
        """Send `data` (one segment) and, if given, the server's `reply`. `alerts` is how many
        alerts the request should raise: 0 when allowed."""
        self.cap.requests.append(Request(label, self.sport, len(self.cap.packets) + 1, alerts))
        self._send(True, "PA", data)
        self.cseq += len(data)
        if reply:
            self._send(False, "PA", reply)
            self.sseq += len(reply)
            self._send(True, "A")
        else:
            self._send(False, "A")

    def close(self):
        self._send(True, "FA")
        self.cseq += 1
        self._send(False, "FA")
        self.sseq += 1
        self._send(True, "A")


# ---------------------------------------------------------------------------- Modbus/TCP

def mbap(tid, unit, pdu):
    return struct.pack(">HHHB", tid, 0, len(pdu) + 1, unit) + pdu


def modbus_read(tid, unit, fc, addr, qty):
    """Read coils (1), discrete inputs (2), holding (3) or input registers (4)."""
    return mbap(tid, unit, struct.pack(">BHH", fc, addr, qty))


def modbus_read_reply(tid, unit, fc, qty):
    n = (qty + 7) // 8 if fc in (1, 2) else 2 * qty
    return mbap(tid, unit, struct.pack(">BB", fc, n) + b"\x00" * n)


def modbus_write_single(tid, unit, fc, addr, value):
    """Write single coil (5) or register (6); the reply echoes the request."""
    return mbap(tid, unit, struct.pack(">BHH", fc, addr, value))


def modbus_write_multiple(tid, unit, addr, values):
    data = b"".join(struct.pack(">H", v) for v in values)
    return mbap(tid, unit, struct.pack(">BHHB", 16, addr, len(values), len(data)) + data)


def modbus_write_multiple_reply(tid, unit, addr, count):
    return mbap(tid, unit, struct.pack(">BHH", 16, addr, count))


def modbus_raw(tid, unit, fc, data=b""):
    return mbap(tid, unit, bytes([fc]) + data)


def modbus_exception(tid, unit, fc, code=1):
    return mbap(tid, unit, bytes([fc | 0x80, code]))


# ---------------------------------------------------------------------------- DNP3

def dnp3_crc(data):
    crc = 0
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA6BC if crc & 1 else crc >> 1
    return struct.pack("<H", ~crc & 0xFFFF)


def dnp3_frame(dst, src, user, ctrl):
    head = struct.pack("<BBBBHH", 0x05, 0x64, 5 + len(user), ctrl, dst, src)
    out = head + dnp3_crc(head)
    for i in range(0, len(user), 16):
        block = user[i:i + 16]
        out += block + dnp3_crc(block)
    return out


def dnp3_request(seq, fc, objects=b"", master=1, outstation=10):
    """One-fragment application request; `seq` 0-15 also numbers the transport segment."""
    user = bytes([0xC0 | (seq & 0x3F), 0xC0 | (seq & 0x0F), fc]) + objects
    return dnp3_frame(outstation, master, user, ctrl=0xC4)


def dnp3_response(seq, master=1, outstation=10):
    user = bytes([0xC0 | (seq & 0x3F), 0xC0 | (seq & 0x0F), 0x81, 0x00, 0x00])
    return dnp3_frame(master, outstation, user, ctrl=0x44)


DNP3_CLASS0 = bytes([0x3C, 0x01, 0x06])  # group 60 var 1, all objects
# Control relay output block g12v1, one point, index 1: latch on.
DNP3_CROB = bytes([0x0C, 0x01, 0x28, 0x01, 0x00, 0x01, 0x00, 0x03, 0x01, 0x64, 0, 0, 0, 0x64, 0, 0, 0, 0x00])


# ---------------------------------------------------------------------------- EtherNet/IP, CIP

def enip(command, data, session=0):
    return struct.pack("<HHII8sI", command, len(data), session, 0, b"palisade", 0) + data


def enip_register_session(session=0):
    return enip(0x65, struct.pack("<HH", 1, 0), session)


def cip_path_symbol(tag):
    b = tag.encode()
    seg = bytes([0x91, len(b)]) + b
    return seg + (b"\x00" if len(seg) % 2 else b"")


def cip_path_logical(cls, inst, attr=None):
    p = bytes([0x20, cls, 0x24, inst])
    return p + (bytes([0x30, attr]) if attr is not None else b"")


def cip_request(service, path, data=b""):
    return bytes([service, len(path) // 2]) + path + data


def cip_multiple(requests):
    """Multiple Service Packet (0x0A) to the Message Router carrying `requests`."""
    n = len(requests)
    offsets, off = [], 2 + 2 * n
    for r in requests:
        offsets.append(off)
        off += len(r)
    body = struct.pack("<H", n) + b"".join(struct.pack("<H", o) for o in offsets) + b"".join(requests)
    return cip_request(0x0A, cip_path_logical(0x02, 0x01), body)


def send_rr_data(cip, session):
    items = struct.pack("<IHH", 0, 10, 2) + struct.pack("<HH", 0, 0) + struct.pack("<HH", 0xB2, len(cip)) + cip
    return enip(0x6F, items, session)


def cip_reply(service, session, data=b""):
    return send_rr_data(bytes([service | 0x80, 0, 0, 0]) + data, session)


READ_TAG, WRITE_TAG, GET_ATTRIBUTE_SINGLE, STOP = 0x4C, 0x4D, 0x0E, 0x07


def cip_read_tag(tag):
    return cip_request(READ_TAG, cip_path_symbol(tag), b"\x01\x00")


def cip_write_tag(tag, value):
    return cip_request(WRITE_TAG, cip_path_symbol(tag), struct.pack("<HHi", 0xC4, 1, value))
