"""The differential oracle's agent: one long-lived process per zone namespace, started with
`ip netns exec NS python3 oracle_agent.py`, driven by JSON lines on stdin (one answer line on
stdout per command). It serves, probes and watches, so that a batch of probes costs one
round trip instead of one process per packet:

  {"cmd": "listen", "ports": [502, …]}   TCP and UDP echo servers on these ports (kept for
                                          the agent's life; the namespace owns its zones' whole
                                          ranges through `local` routes, so a wildcard listener
                                          answers every address of them)
  {"cmd": "probe", "probes": [{id, proto, src, dst, sport, dport, timeout}, …]}
                                          every probe at once, each on its own thread:
                                          tcp → ok | fail (connect and echo), udp → reply |
                                          noreply, icmp/icmpv6 → reply | noreply (echo request
                                          with identifier sport)
  {"cmd": "seen", "keys": [[proto, dst, sport, dport], …]}
                                          which of these packets reached this namespace (a
                                          packet sniffer on every interface records every
                                          arriving IP packet's header; icmp: dport is the echo
                                          identifier)
  {"cmd": "reset"}                        forget the recorded packets (between sites)
  {"cmd": "quit"}

Every wait is bounded: probes by their timeout, the agent by its parent closing stdin (and a
one-hour backstop).
"""

import json
import os
import socket
import struct
import sys
import threading
import time

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
IP_PKTINFO = getattr(socket, "IP_PKTINFO", 8)  # Linux <netinet/in.h>; absent from Python 3.11
IP_TRANSPARENT, IPV6_TRANSPARENT = 19, 75  # Linux; a source the namespace does not own
PROTO = {"tcp": 6, "udp": 17, "icmp": 1, "icmpv6": 58}


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def norm(addr):
    return socket.inet_ntop(family(addr), socket.inet_pton(family(addr), addr))


class Sniffer:
    """Every IP packet arriving on an interface of this namespace, as (proto, dst, sport,
    dport); ICMP echo requests as (1 or 58, dst, identifier, identifier)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.seen = set()
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        threading.Thread(target=self.run, daemon=True).start()

    def run(self):
        while True:
            data, addr = self.sock.recvfrom(65535)
            if addr[2] == PACKET_OUTGOING or addr[0] == "lo":
                continue
            key = self.parse(data)
            if key is not None:
                with self.lock:
                    self.seen.add(key)

    @staticmethod
    def parse(frame):
        if len(frame) < 14:
            return None
        ethertype = struct.unpack("!H", frame[12:14])[0]
        ip = frame[14:]
        if ethertype == 0x0800 and len(ip) >= 20:
            ihl = (ip[0] & 0x0F) * 4
            proto, dst, l4 = ip[9], socket.inet_ntop(socket.AF_INET, ip[16:20]), ip[ihl:]
        elif ethertype == 0x86DD and len(ip) >= 40:
            proto, dst, l4 = ip[6], socket.inet_ntop(socket.AF_INET6, ip[24:40]), ip[40:]
        else:
            return None
        if proto in (6, 17) and len(l4) >= 4:
            sport, dport = struct.unpack("!HH", l4[:4])
            return (proto, dst, sport, dport)
        if (proto, l4[:1]) in ((1, b"\x08"), (58, b"\x80")) and len(l4) >= 8:
            ident = struct.unpack("!H", l4[4:6])[0]
            return (proto, dst, ident, ident)
        return None

    def has(self, key):
        with self.lock:
            return key in self.seen

    def reset(self):
        with self.lock:
            self.seen.clear()


class Servers:
    def __init__(self):
        self.ports = set()

    def listen(self, ports):
        for p in ports:
            if p in self.ports:
                continue
            self.ports.add(p)
            tcp = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
            tcp.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            tcp.bind(("::", p))
            tcp.listen(128)
            threading.Thread(target=self.tcp_server, args=(tcp,), daemon=True).start()
            u4 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            u4.setsockopt(socket.IPPROTO_IP, IP_PKTINFO, 1)
            u4.bind(("0.0.0.0", p))
            threading.Thread(target=self.udp_server, args=(u4, False), daemon=True).start()
            u6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
            u6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            u6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVPKTINFO, 1)
            u6.bind(("::", p))
            threading.Thread(target=self.udp_server, args=(u6, True), daemon=True).start()

    @staticmethod
    def tcp_server(s):
        def conn_loop(conn):
            conn.settimeout(30)
            try:
                while True:
                    data = conn.recv(1024)
                    if not data:
                        return
                    conn.sendall(data)
            except OSError:
                return
            finally:
                conn.close()

        while True:
            conn, _ = s.accept()
            threading.Thread(target=conn_loop, args=(conn,), daemon=True).start()

    @staticmethod
    def udp_server(s, v6):
        # The echo leaves from the address the datagram was sent to (the ancillary pktinfo),
        # as a real server's reply would, so the firewalls see the connection's reply.
        while True:
            data, anc, _, peer = s.recvmsg(2048, 256)
            out = []
            for level, kind, payload in anc:
                if v6 and level == socket.IPPROTO_IPV6 and kind == socket.IPV6_PKTINFO:
                    out = [(level, kind, payload[:16] + b"\0\0\0\0")]
                if not v6 and level == socket.IPPROTO_IP and kind == IP_PKTINFO:
                    # struct in_pktinfo { int ifindex; in_addr spec_dst; in_addr addr; }
                    out = [(level, kind, b"\0\0\0\0" + payload[8:12] + b"\0\0\0\0")]
            try:
                s.sendmsg([data], out, 0, peer)
            except OSError:
                pass


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


def transparent(s, addr):
    """Let the socket send from an address this namespace does not own (a spoofed source):
    `ip_nonlocal_bind` allows the bind, only a transparent socket may route from it."""
    if ":" in addr:
        s.setsockopt(socket.IPPROTO_IPV6, IPV6_TRANSPARENT, 1)
    else:
        s.setsockopt(socket.IPPROTO_IP, IP_TRANSPARENT, 1)


def probe_tcp(p):
    s = socket.socket(family(p["dst"]), socket.SOCK_STREAM)
    transparent(s, p["dst"])
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.settimeout(p["timeout"])
    ident = f"o{p['id']}".encode()
    try:
        s.bind((p["src"], p["sport"]))
        s.connect((p["dst"], p["dport"]))
        s.sendall(ident + b"\n")
        return "ok" if s.recv(1024).strip() == ident else "fail"
    except OSError:
        return "fail"
    finally:
        s.close()


def probe_udp(p):
    s = socket.socket(family(p["dst"]), socket.SOCK_DGRAM)
    transparent(s, p["dst"])
    s.settimeout(p["timeout"])
    ident = f"o{p['id']}".encode()
    try:
        s.bind((p["src"], p["sport"]))
        s.sendto(ident, (p["dst"], p["dport"]))
        deadline = time.time() + p["timeout"]
        while time.time() < deadline:
            data, _ = s.recvfrom(2048)
            if data == ident:
                return "reply"
    except OSError:
        pass
    finally:
        s.close()
    return "noreply"


def probe_icmp(p):
    v6 = ":" in p["dst"]
    s = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_RAW,
                      socket.IPPROTO_ICMPV6 if v6 else socket.IPPROTO_ICMP)
    s.settimeout(p["timeout"])
    ident = p["sport"] & 0xFFFF
    try:
        transparent(s, p["dst"])
        s.bind((p["src"], 0))
        payload = b"palisade"
        if v6:  # the kernel fills in the ICMPv6 checksum
            packet = struct.pack("!BBHHH", 128, 0, 0, ident, 1) + payload
        else:
            header = struct.pack("!BBHHH", 8, 0, 0, ident, 1)
            packet = struct.pack("!BBHHH", 8, 0, checksum(header + payload), ident, 1) + payload
        s.sendto(packet, (p["dst"], 0))
        deadline = time.time() + p["timeout"]
        while time.time() < deadline:
            s.settimeout(max(0.01, deadline - time.time()))
            data, peer = s.recvfrom(2048)
            body = data if v6 else data[(data[0] & 0x0F) * 4:]
            kind, _, _, rid, _ = struct.unpack("!BBHHH", body[:8])
            if norm(peer[0]) == norm(p["dst"]) and kind == (129 if v6 else 0) and rid == ident:
                return "reply"
    except OSError:
        pass
    finally:
        s.close()
    return "noreply"


PROBES = {"tcp": probe_tcp, "udp": probe_udp, "icmp": probe_icmp, "icmpv6": probe_icmp}


def probe_all(probes):
    results = {}

    def one(p):
        results[p["id"]] = PROBES[p["proto"]](p)

    threads = [threading.Thread(target=one, args=(p,), daemon=True) for p in probes]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=max((p["timeout"] for p in probes), default=0) + 5)
    return {str(k): v for k, v in results.items()}


def main():
    sniffer = Sniffer()
    servers = Servers()
    print(json.dumps({"ready": True}), flush=True)
    deadline = time.time() + 3600
    for line in sys.stdin:
        if time.time() > deadline:
            break
        msg = json.loads(line)
        cmd = msg["cmd"]
        if cmd == "listen":
            servers.listen(msg["ports"])
            out = {"ok": True}
        elif cmd == "probe":
            out = {"results": probe_all(msg["probes"])}
        elif cmd == "seen":
            keys = [(PROTO[k[0]], norm(k[1]), k[2], k[3]) for k in msg["keys"]]
            out = {"seen": [sniffer.has(k) for k in keys]}
        elif cmd == "reset":
            sniffer.reset()
            out = {"ok": True}
        elif cmd == "quit":
            print(json.dumps({"ok": True}), flush=True)
            break
        else:
            out = {"error": f"unknown command {cmd}"}
        print(json.dumps(out), flush=True)
    os._exit(0)


if __name__ == "__main__":
    main()
