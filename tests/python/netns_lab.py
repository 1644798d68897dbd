"""Network namespaces for the firewall tests: hosts and routers joined by veth pairs, each
namespace named after this test run so that nothing outside it is touched, every process the
lab starts killed by its own handle, every namespace deleted at the end.

Under CI=true a missing tool or missing root is a failure; locally the test is skipped with
a loud reason.
"""

import itertools
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROBE = Path(__file__).resolve().parent / "netns_probe.py"
_ports = itertools.count(20000)


def fresh_port():
    """A source port never used before in this run, so no stale conntrack entry decides."""
    return next(_ports)


def require(*tools):
    missing = [t for t in tools if shutil.which(t) is None]
    if os.geteuid() != 0:
        missing.append("root")
    if missing:
        what = f"needs {', '.join(missing)}"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{what} (CI=true: a missing tool is a failure)")
        print(f"\n*** {what} -- SKIPPING; run scripts/setup.sh as root ***", file=sys.stderr)
        pytest.skip(what)


def palisade():
    path = Path(os.environ.get("PALISADE_BIN", ROOT / "target" / "debug" / "palisade"))
    if not path.exists():
        subprocess.run(["cargo", "build", "--quiet", "--bin", "palisade"], cwd=ROOT, check=True)
    return str(path)


def run(*cmd, check=True, timeout=60, **kw):
    p = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=timeout, **kw)
    if check and p.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, cmd))} failed ({p.returncode}):\n{p.stdout}\n{p.stderr}")
    return p


class Lab:
    def __init__(self, tag):
        self.prefix = f"pal{os.getpid() % 100000}{tag}"
        self.namespaces = []
        self.procs = []
        self.links = 0
        self.addrs = {}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                try:
                    p.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    pass
        for ns in self.namespaces:
            run("ip", "netns", "delete", ns, check=False)

    def ns(self, name):
        full = f"{self.prefix}-{name}"
        run("ip", "netns", "add", full)
        self.namespaces.append(full)
        self.exec(full, "ip", "link", "set", "lo", "up")
        for key in [
            "net.ipv4.ip_forward=1",
            "net.ipv6.conf.all.forwarding=1",
            "net.ipv4.conf.all.rp_filter=0",
            "net.ipv4.conf.default.rp_filter=0",
            "net.ipv6.conf.all.accept_dad=0",
            "net.ipv6.conf.default.accept_dad=0",
        ]:
            self.exec(full, "sysctl", "-q", "-w", key)
        return full

    def exec(self, ns, *cmd, check=True, timeout=60, **kw):
        return run("ip", "netns", "exec", ns, *cmd, check=check, timeout=timeout, **kw)

    def spawn(self, ns, *cmd, **kw):
        addrs = ",".join(a for a, n in self.addrs.items() if n == ns)
        env = dict(os.environ, NETNS_NAME=ns, NETNS_ADDRS=addrs)
        p = subprocess.Popen(["ip", "netns", "exec", ns, *map(str, cmd)], env=env, **kw)
        self.procs.append(p)
        return p

    def link(self, a, a_if, b, b_if):
        """A veth pair between namespaces a and b, named a_if and b_if inside them, with a
        transfer network per family; returns the addresses (a4, b4, a6, b6)."""
        self.links += 1
        n = self.links
        ta, tb = f"{self.prefix[-6:]}a{n}", f"{self.prefix[-6:]}b{n}"
        run("ip", "link", "add", ta, "type", "veth", "peer", "name", tb)
        run("ip", "link", "set", "dev", ta, "netns", a, "name", a_if)
        run("ip", "link", "set", "dev", tb, "netns", b, "name", b_if)
        a4, b4 = f"169.254.{n}.1", f"169.254.{n}.2"
        a6, b6 = f"fd00:ffff:{n}::1", f"fd00:ffff:{n}::2"
        for ns, ifname, v4, v6 in [(a, a_if, a4, a6), (b, b_if, b4, b6)]:
            self.exec(ns, "ip", "addr", "add", f"{v4}/30", "dev", ifname)
            self.exec(ns, "ip", "-6", "addr", "add", f"{v6}/64", "dev", ifname, "nodad")
            self.exec(ns, "ip", "link", "set", "dev", ifname, "up")
        return a4, b4, a6, b6

    def host_addr(self, ns, addr):
        if ":" in addr:
            self.exec(ns, "ip", "-6", "addr", "add", f"{addr}/128", "dev", "lo", "nodad")
        else:
            self.exec(ns, "ip", "addr", "add", f"{addr}/32", "dev", "lo")
        self.addrs[addr] = ns

    def route(self, ns, net, via):
        fam = "-6" if ":" in via else "-4"
        self.exec(ns, "ip", fam, "route", "replace", net, "via", via)

    def serve(self, ns, logdir, ports):
        p = self.spawn(ns, sys.executable, PROBE, "serve", logdir, *ports, stdout=subprocess.PIPE, text=True)
        line = p.stdout.readline()
        assert line.strip() == "ready", f"server in {ns} did not start"
        time.sleep(0.2)
        return p

    def probe(self, src, dst, proto, port, timeout=0.8):
        """One probe from the namespace holding `src`: returns (answered, ident)."""
        ns = self.addrs[src]
        sport = fresh_port()
        ident = f"p{sport}"
        if proto == "icmp":
            out = self.exec(ns, sys.executable, PROBE, "icmp", src, dst, timeout, timeout=timeout + 10).stdout.strip()
            return out == "reply", ident
        out = self.exec(ns, sys.executable, PROBE, proto, src, dst, port, sport, timeout, ident, timeout=timeout + 10).stdout.strip()
        return out in ("ok", "reply"), ident

    def delivered(self, logdir, ident):
        """Whether any server logged the message `ident`."""
        for f in Path(logdir).glob("*.log"):
            if any(line.split()[-1:] == [ident] for line in f.read_text().splitlines()):
                return True
        return False

    def load_nft(self, ns, path):
        self.exec(ns, "nft", "-f", path)
