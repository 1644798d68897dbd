"""What the proofs claim about a site, as packets to send: the differential oracle's plan.

Read from `palisade verify --matrix --message-format json` (matrix witnesses, counterexamples,
proved `reachable` witnesses, verdicts) and from `palisade ir` (rules, topology), with an
evaluator of the proof model's semantics written here (port level: no gateway inspects
fields): a rule admits a new connection when source and destination lie in its addresses,
the packet is of one of its services and, for a work-order rule, the order is open with one
end in its scope; a link or bridge joins zones unfiltered.

Each planned probe says where it is sent from, what must happen (`pass`: the TCP connection
completes, the UDP datagram arrives — and its reply comes back unless only a diode admits it —,
the ICMP echo is answered; `drop`: the packet never reaches the destination's namespace) and
which claim it checks.
"""

import ipaddress
import re

from oracle_lab import crossings
from oracle_sites import slot_ranges

OTHER_PORTS = [7, 9, 1234, 8080, 5000]
WITNESS = re.compile(r"(\S+) -> (\S+) (tcp|udp|icmpv6|icmp)(?: port (\d+) -> (\d+))?(?: type (\d+) code (\d+))?")


def addr_str(v6, v):
    return str(ipaddress.IPv6Address(v) if v6 else ipaddress.IPv4Address(v))


def addr_val(a):
    ip = ipaddress.ip_address(a)
    return ip.version == 6, int(ip)


def in_ranges(ranges, a):
    v6, v = addr_val(a)
    return any(r["v6"] == v6 and r["lo"] <= v <= r["hi"] for r in ranges)


def phys_ranges(slot):
    out = []
    for n in slot_ranges(slot):
        net = ipaddress.ip_network(n)
        out.append({"v6": net.version == 6, "lo": int(net.network_address), "hi": int(net.broadcast_address)})
    return out


def intersect(a, b):
    out = []
    for x in a:
        for y in b:
            if x["v6"] == y["v6"] and max(x["lo"], y["lo"]) <= min(x["hi"], y["hi"]):
                out.append({"v6": x["v6"], "lo": max(x["lo"], y["lo"]), "hi": min(x["hi"], y["hi"])})
    return out


class Model:
    def __init__(self, site, doc, verify, rng):
        self.site, self.doc, self.v, self.r = site, doc, verify, rng
        self.zones = [z["name"] for z in doc["zones"]]
        self.matrix = {(e["from"], e["to"]): e for e in (verify.get("matrix") or {}).get("entries", [])}
        self.wo_names = [w["name"] for w in doc["workorders"]]
        self.zone_ranges = {}
        for i, z in enumerate(doc["zones"]):
            rs = []
            for n in z["networks"]:
                net = ipaddress.ip_network((n["addr"], n["prefix"]))
                rs.append({"v6": n["v6"], "lo": int(net.network_address), "hi": int(net.broadcast_address)})
            self.zone_ranges[z["name"]] = rs
        self._paths = {}

    # ------------------------------------------------------------------ the evaluator

    def zone_of(self, a):
        for name, rs in self.zone_ranges.items():
            if rs and in_ranges(rs, a):
                return name
        return "external"

    def slot_of(self, a):
        """The namespace owning address a, or None when no slot's range holds it."""
        z = self.zone_of(a)
        if z != "external":
            return self.site.slot_of.get(z)
        return "x" if in_ranges(phys_ranges("x"), a) else None

    def leaf_transports(self, ids):
        out, stack, seen = [], list(ids), set()
        while stack:
            i = stack.pop()
            if i in seen:
                continue
            seen.add(i)
            s = self.doc["services"][i]
            if s["members"]:
                stack.extend(s["members"])
            else:
                out.extend(s["transports"])
        return out

    def scope_ranges(self, w):
        out = []
        for item in self.doc["workorders"][w]["scope"]:
            if item["kind"] == "zone":
                out += self.zone_ranges[self.zones[item["id"]]]
            else:
                a = self.doc["assets"][item["id"]]
                out.append(a["addr"])
                out += [x["addr"] for x in a.get("interfaces", [])]
        return out

    def rule_admits(self, r, p, open_wos=()):
        if r["workorder"] is not None:
            if r["workorder"] not in open_wos:
                return False
            scope = self.scope_ranges(r["workorder"])
            if not (in_ranges(scope, p["src"]) or in_ranges(scope, p["dst"])):
                return False
        if not (in_ranges(r["src"]["addrs"], p["src"]) and in_ranges(r["dst"]["addrs"], p["dst"])):
            return False
        for t in self.leaf_transports(r["services"]):
            if t["proto"] != p["proto"]:
                continue
            if p["proto"] in ("tcp", "udp") and t["lo"] <= p["dport"] <= t["hi"]:
                return True
            if p["proto"] in ("icmp", "icmpv6") and t.get("icmp_type") in (None, 8 if p["proto"] == "icmp" else 128):
                return True
        return False

    def admitting(self, p, open_wos=()):
        return [i for i, r in enumerate(self.doc["rules"]) if self.rule_admits(r, p, open_wos)]

    def unfiltered(self, za, zb):
        e = self.matrix.get((za, zb))
        return bool(e and e["unfiltered"])

    def passes(self, p, open_wos=()):
        return self.unfiltered(self.zone_of(p["src"]), self.zone_of(p["dst"])) or bool(self.admitting(p, open_wos))

    def replies(self, p, open_wos=()):
        """True/False when every admitting rule agrees on replies (diode or not), else None."""
        if self.unfiltered(self.zone_of(p["src"]), self.zone_of(p["dst"])):
            return True
        kinds = {self.doc["conduits"][self.doc["rules"][i]["conduit"]]["unidirectional"] for i in self.admitting(p, open_wos)}
        return (not kinds.pop()) if len(kinds) == 1 else None

    # ------------------------------------------------------------------ topology

    def compiler_triples(self, za, zb, external_transit=False):
        """(device, in interface, out interface) on every simple path from zone za to zb in
        the site's topology graph (zones and firewalls at most once each, links, bridges;
        `external` in transit only with `external_transit`): where the rules of the pair go
        (DESIGN.md: "emitted on every firewall on every path"; `external` is never a transit
        network). Also the number of paths, counted as the compiler's search counts them
        (at most 8 crossings; counting stops past 5000)."""
        key = (za, zb, external_transit)
        if key in self._paths:
            return self._paths[key]
        adj = {}

        def edge(a, b, label=None):
            adj.setdefault(a, []).append((b, label))
            adj.setdefault(b, []).append((a, label))

        for d in self.doc["devices"]:
            for itf in d["interfaces"]:
                for z in itf["faces"]:
                    edge(self.zones[z], ("dev", d["name"]), itf["name"])
        for lk in self.doc["links"]:
            zs = [self.zones[z] for z in lk["zones"]]
            for i in range(len(zs)):
                for j in range(i + 1, len(zs)):
                    edge(zs[i], zs[j])
        for a in self.doc["assets"]:
            for x in a.get("interfaces", []):
                edge(self.zones[a["zone"]], self.zones[x["zone"]])
        triples = set()
        count = [0]

        def dfs(node, path, labels, crossings):
            if count[0] > 5000:
                return
            if node == zb:
                count[0] += 1
                for k in range(1, len(path) - 1):
                    if isinstance(path[k], tuple):
                        triples.add((path[k][1], labels[k - 1], labels[k]))
                return
            if node == "external" and node != za and not external_transit:
                return
            if not isinstance(node, tuple) and crossings >= 8:
                return
            for nxt, label in adj.get(node, []):
                if nxt in path:
                    continue
                step = 0 if isinstance(nxt, tuple) else 1
                dfs(nxt, path + [nxt], labels + [label], crossings + step)

        dfs(za, [za], [], 0)
        self._paths[key] = (triples, count[0])
        return self._paths[key]

    def compiler_placement(self, za, zb):
        """The triples today's compiler puts the pair's rules on: its own search replayed
        (targets/src/model.rs `enforced`: zone graph with one crossing per interface pair,
        neighbours in the compiler's order, zones and devices at most once, at most 8
        crossings, `external` never in transit, the first 64 paths kept). Used only to tell
        a known defect from a new disagreement."""
        key = ("placement", za, zb)
        if key in self._paths:
            return self._paths[key]
        zid = {z: i for i, z in enumerate(self.zones)}
        edges = {}

        def add(a, b, crossing):
            if a != b:
                edges.setdefault(a, set()).add((b, crossing))

        for d, dev in enumerate(self.doc["devices"]):
            for ia in dev["interfaces"]:
                for ib in dev["interfaces"]:
                    for x in ia["faces"]:
                        for y in ib["faces"]:
                            add(x, y, (0, d, ia["name"], ib["name"]))
        for li, lk in enumerate(self.doc["links"]):
            for x in lk["zones"]:
                for y in lk["zones"]:
                    add(x, y, (1, li, "", ""))
        for ai, a in enumerate(self.doc["assets"]):
            zs = [a["zone"]] + [x["zone"] for x in a.get("interfaces", [])]
            for x in zs:
                for y in zs:
                    add(x, y, (2, ai, "", ""))
        nbrs = {z: sorted(v) for z, v in edges.items()}
        out, stack = [], []
        zones, devices = {zid[za]}, set()
        target = zid[zb]

        def go(at, depth):
            if len(out) > 64:
                return
            if at == target and depth > 0:
                out.append(list(stack))
                return
            if depth >= 8 or (at == zid["external"] and depth > 0):
                return  # `external` is never a transit network
            for nxt, c in nbrs.get(at, []):
                if nxt in zones or (c[0] == 0 and c[1] in devices):
                    continue
                zones.add(nxt)
                if c[0] == 0:
                    devices.add(c[1])
                    stack.append((self.doc["devices"][c[1]]["name"], c[2], c[3]))
                go(nxt, depth + 1)
                if c[0] == 0:
                    devices.discard(c[1])
                    stack.pop()
                zones.discard(nxt)

        go(zid[za], 0)
        placed = {t for path in out[:64] for t in path}
        self._paths[key] = placed
        return placed

    def spoof_claim(self, p, from_slot):
        """A packet with p's source sent from another slot: the firewall that meets it on an
        interface pair no path of its source zone uses must drop it. The first such device."""
        za, zb = self.zone_of(p["src"]), self.zone_of(p["dst"])
        allowed, _ = self.compiler_triples(za, zb)
        for e, i, o in crossings(from_slot, self.slot_of(p["dst"])):
            if self.site.devices.get(e) in ("nftables", "iptables") and (e, i, o) not in allowed:
                return (e, i, o)
        return None

    # ------------------------------------------------------------------ packets

    def pick(self, ranges, v6):
        """A random address of `ranges` (family v6) that some slot's namespace owns."""
        cands = []
        for slot in ["x", "z0", "z1", "z2", "z3", "z4", "z5"]:
            cands += intersect([r for r in ranges if r["v6"] == v6], phys_ranges(slot))
        if not cands:
            return None
        c = self.r.choice(cands)
        lo, hi = c["lo"], c["hi"]
        if hi - lo >= 2:
            lo, hi = lo + 1, hi - 1  # keep clear of network and broadcast addresses
        return addr_str(v6, self.r.randint(lo, min(hi, lo + 65535)))

    def packet_for_rule(self, r, v6):
        src = self.pick(r["src"]["addrs"], v6)
        dst = self.pick(r["dst"]["addrs"], v6)
        if src is None or dst is None or self.slot_of(src) in (None, self.slot_of(dst)):
            return None
        ts = [t for t in self.leaf_transports(r["services"]) if t["proto"] in (("tcp", "udp", "icmpv6") if v6 else ("tcp", "udp", "icmp"))]
        if not ts:
            return None
        t = self.r.choice(ts)
        port = self.r.choice([t["lo"], t["hi"]]) if t["proto"] in ("tcp", "udp") else 0
        return {"proto": t["proto"], "src": src, "dst": dst, "dport": port}

    def fix_external(self, p):
        """A witness end in `external` outside the lab's external ranges (`0.0.0.0` for
        `any`): the lab's external address in its place, if the same rules still admit it."""
        q = dict(p)
        for end in ("src", "dst"):
            if self.slot_of(q[end]) is None:
                if self.zone_of(q[end]) != "external":
                    return None
                q[end] = "198.51.100.77" if ":" not in q[end] else "2001:db8::77"
        return q

    def parse_witness(self, text):
        m = WITNESS.search(text or "")
        if not m:
            return None
        src, dst, proto, _sp, dp, _t, _c = m.groups()
        if proto == "icmp" and ":" in dst:
            proto = "icmpv6"
        return {"proto": proto, "src": src, "dst": dst, "dport": int(dp) if dp else 0}
