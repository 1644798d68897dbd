"""Traffic for the namespace tests, run inside a namespace with `ip netns exec NS python3 …`.

  serve LOGDIR PORT…            TCP and UDP echo servers on every port (IPv4 and IPv6); each
                                received message is appended to LOGDIR/<ns>.log
  tcp SRC DST PORT SPORT T ID   connect from SRC:SPORT, send ID, expect the echo: ok | fail
  udp SRC DST PORT SPORT T ID   send ID from SRC:SPORT, wait for the echo: reply | noreply
  icmp SRC DST T                one echo request (IPv4): reply | noreply
  session SRC DST PORT SPORT T  connect, echo "first", print `connected`; then for each line
                                read on stdin send it and print `echo` or `noecho`
  flood SRC DST PORT SECONDS    UDP datagrams from ever-new source ports (each a new
                                connection) for SECONDS; prints the number sent
  count PORT SECONDS            count UDP datagrams received on PORT for SECONDS

Every wait is bounded by the timeout T (seconds); nothing loops forever.
"""

import os
import socket
import struct
import sys
import threading
import time


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def serve(logdir, ports):
    name = os.environ.get("NETNS_NAME", "ns")
    log_path = os.path.join(logdir, f"{name}.log")
    lock = threading.Lock()

    def log(kind, port, peer, data):
        with lock, open(log_path, "a") as f:
            f.write(f"{kind} {port} {peer} {data.decode(errors='replace').strip()}\n")

    def tcp_conn(conn, port, peer):
        conn.settimeout(120)
        try:
            while True:
                data = conn.recv(1024)
                if not data:
                    return
                log("tcp", port, peer, data)
                conn.sendall(data)
        except OSError:
            return
        finally:
            conn.close()

    def tcp_server(port):
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("::", port))
        s.listen(64)
        while True:
            conn, peer = s.accept()
            threading.Thread(target=tcp_conn, args=(conn, port, peer[0]), daemon=True).start()

    def udp_server(addr, port):
        # One socket per local address, so that a reply leaves from the address the
        # datagram was sent to (as a real server's connected reply would).
        s = socket.socket(family(addr), socket.SOCK_DGRAM)
        s.bind((addr, port))
        while True:
            data, peer = s.recvfrom(2048)
            log("udp", port, peer[0], data)
            s.sendto(data, peer)

    addrs = [a for a in os.environ.get("NETNS_ADDRS", "").split(",") if a]
    for p in ports:
        threading.Thread(target=tcp_server, args=(p,), daemon=True).start()
        for a in addrs:
            threading.Thread(target=udp_server, args=(a, p), daemon=True).start()
    print("ready", flush=True)
    # Bounded: the test kills the server; this is a backstop.
    time.sleep(3600)


def tcp(src, dst, port, sport, timeout, ident):
    s = socket.socket(family(dst), socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.settimeout(timeout)
    try:
        s.bind((src, sport))
        s.connect((dst, port))
        s.sendall(ident.encode() + b"\n")
        ok = s.recv(1024).strip() == ident.encode()
        print("ok" if ok else "fail")
    except OSError:
        print("fail")
    finally:
        s.close()


def udp(src, dst, port, sport, timeout, ident):
    s = socket.socket(family(dst), socket.SOCK_DGRAM)
    s.settimeout(timeout)
    try:
        s.bind((src, sport))
        s.sendto(ident.encode(), (dst, port))
        data, _ = s.recvfrom(2048)
        print("reply" if data == ident.encode() else "noreply")
    except OSError:
        print("noreply")
    finally:
        s.close()


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


def icmp(src, dst, timeout):
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    s.settimeout(timeout)
    s.bind((src, 0))
    ident = os.getpid() & 0xFFFF
    header = struct.pack("!BBHHH", 8, 0, 0, ident, 1)
    payload = b"palisade"
    packet = struct.pack("!BBHHH", 8, 0, checksum(header + payload), ident, 1) + payload
    s.sendto(packet, (dst, 0))
    deadline = time.time() + timeout
    try:
        while time.time() < deadline:
            data, peer = s.recvfrom(2048)
            ihl = (data[0] & 0x0F) * 4
            kind, _, _, rid, _ = struct.unpack("!BBHHH", data[ihl : ihl + 8])
            if peer[0] == dst and kind == 0 and rid == ident:
                print("reply")
                return
    except OSError:
        pass
    print("noreply")


def session(src, dst, port, sport, timeout):
    s = socket.socket(family(dst), socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.settimeout(timeout)
    try:
        s.bind((src, sport))
        s.connect((dst, port))
        s.sendall(b"first\n")
        s.recv(1024)
        print("connected", flush=True)
    except OSError:
        print("fail", flush=True)
        return
    for line in sys.stdin:
        try:
            s.sendall(line.encode())
            data = s.recv(1024)
            print("echo" if data else "noecho", flush=True)
        except OSError:
            print("noecho", flush=True)


def flood(src, dst, port, seconds):
    """IPv4 UDP from a raw socket, each datagram from the next source port (a new connection
    for the firewall's connection tracking), as fast as one Python loop can send."""
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)
    sa, da = socket.inet_aton(src), socket.inet_aton(dst)
    sent = 0
    sport = 1024
    end = time.time() + seconds
    while time.time() < end:
        for _ in range(256):
            sport = sport + 1 if sport < 65000 else 1024
            udp_h = struct.pack("!HHHH", sport, port, 9, 0) + b"x"
            ip_h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp_h), sent & 0xFFFF, 0, 64, 17, 0, sa, da)
            ip_h = ip_h[:10] + struct.pack("!H", checksum(ip_h)) + ip_h[12:]
            try:
                s.sendto(ip_h + udp_h, (dst, 0))
                sent += 1
            except OSError:
                pass
    print(sent)


def count(port, seconds):
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    s.bind(("::", port))
    s.settimeout(0.2)
    print("ready", flush=True)
    n = 0
    end = time.time() + seconds
    while time.time() < end:
        try:
            s.recvfrom(64)
            n += 1
        except OSError:
            pass
    print(n, flush=True)


def main(argv):
    cmd = argv[1]
    if cmd == "serve":
        serve(argv[2], [int(p) for p in argv[3:]])
    elif cmd == "tcp":
        tcp(argv[2], argv[3], int(argv[4]), int(argv[5]), float(argv[6]), argv[7])
    elif cmd == "udp":
        udp(argv[2], argv[3], int(argv[4]), int(argv[5]), float(argv[6]), argv[7])
    elif cmd == "icmp":
        icmp(argv[2], argv[3], float(argv[4]))
    elif cmd == "session":
        session(argv[2], argv[3], int(argv[4]), int(argv[5]), float(argv[6]))
    elif cmd == "flood":
        flood(argv[2], argv[3], int(argv[4]), float(argv[5]))
    elif cmd == "count":
        count(int(argv[2]), float(argv[3]))
    else:
        raise SystemExit(f"unknown command {cmd}")


if __name__ == "__main__":
    main(sys.argv)
