"""The differential oracle's lab: the physical tree of oracle_sites.py built once in network
namespaces, reused for every site (rulesets flushed and reloaded, work orders applied in the
router namespaces), with one agent (oracle_agent.py) per zone slot.

Zone slots own their whole address ranges through `local` routes (any address of the range
is the namespace's own, and with `ip_nonlocal_bind` a probe may also use a source address the
namespace does not own: a spoofed one). Routes follow the tree, so each pair of slots has one
path and replies come back the way they went.
"""

import json
import subprocess
import sys
import threading
from pathlib import Path

from netns_lab import Lab, run
from oracle_sites import EDGES, slot_ranges

AGENT = Path(__file__).resolve().parent / "oracle_agent.py"
SLOTS = ["x", "z0", "z1", "z2", "z3", "z4", "z5"]


def tree_path(a, b):
    """Nodes (slots and edges) from node a to node b along the tree, both ends included."""
    adj = {}
    for e, ss in EDGES.items():
        for s in ss:
            adj.setdefault(e, []).append(s)
            adj.setdefault(s, []).append(e)
    prev, stack = {a: None}, [a]
    while stack:
        n = stack.pop()
        for m in adj[n]:
            if m not in prev:
                prev[m] = n
                stack.append(m)
    path, n = [], b
    while n is not None:
        path.append(n)
        n = prev[n]
    return path[::-1]


def crossings(a, b):
    """(edge, in interface, out interface) for each edge slot between slots a and b."""
    p = tree_path(a, b)
    return [(p[i], p[i - 1], p[i + 1]) for i in range(1, len(p) - 1) if p[i] in EDGES]


class Agent:
    def __init__(self, lab, ns):
        self.p = lab.spawn(ns, sys.executable, AGENT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.lock = threading.Lock()
        line = self.p.stdout.readline()
        assert json.loads(line).get("ready"), f"agent in {ns} did not start: {line!r}"

    def call(self, **msg):
        with self.lock:
            self.p.stdin.write(json.dumps(msg) + "\n")
            self.p.stdin.flush()
            line = self.p.stdout.readline()
        if not line:
            raise AssertionError("an oracle agent died")
        return json.loads(line)


class OracleLab(Lab):
    def __init__(self, tag):
        super().__init__(tag)
        self.slot_ns, self.edge_ns, self.agents = {}, {}, {}
        self.listening = set()

    def build(self):
        for s in SLOTS:
            self.slot_ns[s] = self.ns(s)
        for e in EDGES:
            self.edge_ns[e] = self.ns(e)
        # Next hops: addr[(node, neighbour)] = the neighbour's address on their shared link.
        hop = {}
        for e, ss in EDGES.items():
            for s in ss:
                e4, s4, e6, s6 = self.link(self.edge_ns[e], s, self.slot_ns[s], e)
                hop[(e, s)] = (s4, s6)
                hop[(s, e)] = (e4, e6)
        for s in SLOTS:
            ns = self.slot_ns[s]
            cmds = [f"route add local {r} dev lo" for r in slot_ranges(s)]
            self.exec(ns, "sysctl", "-q", "-w", "net.ipv4.ip_nonlocal_bind=1")
            self.exec(ns, "sysctl", "-q", "-w", "net.ipv6.ip_nonlocal_bind=1")
            self.batch(ns, cmds + self.routes(s, hop))
        for e in EDGES:
            self.batch(self.edge_ns[e], self.routes(e, hop))
        for s in SLOTS:
            self.agents[s] = Agent(self, self.slot_ns[s])

    def routes(self, node, hop):
        out = []
        for t in SLOTS:
            if t == node:
                continue
            nxt = tree_path(node, t)[1]
            v4, v6 = hop[(node, nxt)]
            for r in slot_ranges(t):
                out.append(f"route replace {r} via {v6 if ':' in r else v4}")
        return out

    def batch(self, ns, cmds):
        p = subprocess.run(["ip", "netns", "exec", ns, "ip", "-batch", "-"], input="\n".join(cmds) + "\n",
                           capture_output=True, text=True, timeout=60)
        if p.returncode != 0:
            raise AssertionError(f"ip -batch in {ns} failed:\n{p.stderr}")

    def listen(self, ports):
        new = sorted(set(ports) - self.listening)
        if new:
            for a in self.agents.values():
                a.call(cmd="listen", ports=new)
            self.listening.update(new)

    def load(self, devices, out):
        """Every edge slot: flushed, then loaded with the site's ruleset if it is a firewall
        (a link, a bridge or an unused slot forwards everything)."""
        for e, ns in self.edge_ns.items():
            kind = devices.get(e)
            script = "nft flush ruleset; ipset destroy 2>/dev/null; "
            if kind == "nftables":
                script += f"nft -f {out / (e + '.nft')}"
            elif kind == "iptables":
                script += (f"ipset -exist restore < {out / (e + '.ipset')} && iptables-restore {out / (e + '.rules.v4')}"
                           f" && ip6tables-restore {out / (e + '.rules.v6')}")
            else:
                script += "true"
            self.exec(ns, "sh", "-c", script)

    def shell(self, edge, script):
        return self.exec(self.edge_ns[edge], "sh", "-c", script, check=False)

    def probe(self, by_slot):
        """Send each slot's probes from its agent, all slots at once; {id: result}."""
        results, threads = {}, []

        def one(slot, probes):
            results.update(self.agents[slot].call(cmd="probe", probes=probes)["results"])

        for slot, probes in by_slot.items():
            if probes:
                t = threading.Thread(target=one, args=(slot, probes))
                t.start()
                threads.append(t)
        for t in threads:
            t.join(timeout=60)
        return results

    def seen(self, by_slot):
        """{slot: [[proto, dst, sport, dport], …]} -> {slot: [bool, …]}."""
        return {s: self.agents[s].call(cmd="seen", keys=keys)["seen"] for s, keys in by_slot.items() if keys}

    def reset(self):
        for a in self.agents.values():
            a.call(cmd="reset")

    def close(self):
        for a in self.agents.values():
            try:
                a.p.stdin.close()
            except OSError:
                pass
        super().close()
