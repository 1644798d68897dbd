"""Random sites for the differential oracle (test_oracle.py), seeded and reproducible.

Every site is laid out on one fixed physical tree (the lab, oracle_lab.py), so that the
namespaces are built once per run and only the rulesets change between sites:

    x (external) -d0- z0 -d1- z1 -d2- z3 -d4- z5
                       \\d1- z2 -d3- z4

`zN` and `x` are zone slots (one namespace each, owning the slot's whole address range through
`local` routes); `dN` are edge slots (one router namespace each, one interface per slot it
touches, named after that slot). A site takes a connected part of the tree (2 to 6 zone slots,
sometimes `external`) and decides per edge slot whether it is an nftables firewall, an
iptables firewall, a `link` (unfiltered) or a bridge asset; the router namespace of a link or
a bridge forwards everything. The tree keeps routing symmetric (one physical path per pair),
which the firewalls' connection tracking needs; firewalls in parallel between the same two
zones are therefore not generated.

With `gateways` on, a two-zone edge slot may also be an inline Suricata gateway, whose
namespace forwards everything and whose rules are replayed offline (oracle_gateway.py); see
docs/proofs.md, "Gateways in the oracle".
"""

import ipaddress
import random
from dataclasses import dataclass, field

# Edge slots and the zone slots each touches (its interfaces, named after the slots).
EDGES = {
    "d0": ["x", "z0"],
    "d1": ["z0", "z1", "z2"],
    "d2": ["z1", "z3"],
    "d3": ["z2", "z4"],
    "d4": ["z3", "z5"],
}
ZONE_SLOTS = ["z0", "z1", "z2", "z3", "z4", "z5"]
# Gateways carry `mode ips|ids` (main's cd304e1); False builds the older `build --ips` way.
GATEWAY_MODES = True


def slot_ranges(slot):
    """The physical address ranges a zone slot's namespace owns."""
    if slot == "x":
        return ["198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32"]
    n = int(slot[1:])
    return [f"10.{100 + n}.0.0/16", f"fd00:{n + 1}::/32"]


# Services from std.services: (name, transports). Transports: (proto, lo, hi) with ICMP as
# ("icmp", type, type).
TCP_SERVICES = {
    "modbus": [("tcp", 502, 502)],
    "dnp3": [("tcp", 20000, 20000)],
    "enip": [("tcp", 44818, 44818)],
    "s7comm": [("tcp", 102, 102)],
    "iec104": [("tcp", 2404, 2404)],
    "opcua_sign": [("tcp", 4840, 4840)],
    "mqtt": [("tcp", 1883, 1883)],
    "http": [("tcp", 80, 80)],
    "https": [("tcp", 443, 443)],
    "ssh": [("tcp", 22, 22)],
    "smb": [("tcp", 445, 445)],
    "pi_historian": [("tcp", 5450, 5450)],
    "rdp": [("tcp", 3389, 3389), ("udp", 3389, 3389)],
    "dns": [("udp", 53, 53), ("tcp", 53, 53)],
    "hart_ip": [("tcp", 5094, 5094), ("udp", 5094, 5094)],
    "web": [("tcp", 80, 80), ("tcp", 443, 443)],
}
UDP_SERVICES = {
    "ntp": [("udp", 123, 123)],
    "snmp": [("udp", 161, 161)],
    "snmp_trap": [("udp", 162, 162)],
    "syslog_udp": [("udp", 514, 514)],
    "tftp": [("udp", 69, 69)],
    "bacnet": [("udp", 47808, 47808)],
    "dnp3_udp": [("udp", 20000, 20000)],
}
ICMP_SERVICES = {"ping": [("icmp", 8, 8)], "ping6": [("icmpv6", 128, 128)]}

MODBUS_FIELDS = [
    "{ function [read_holding_registers, read_input_registers] }",
    "{ function [3]; unit [1, 3-5] }",
    "{ function [read_coils]; register [0-99] }",
    "{ function [write_single_register]; unit [1] }",
]
ZONE_WORDS = ["corp", "dmz", "ops", "ctl", "sis", "cell", "util", "lab"]
ASSET_KINDS = ["plc", "hmi", "historian", "engineering_workstation", "server", "workstation", "rtu"]


@dataclass
class Zone:
    name: str
    slot: str
    nets: list  # ipaddress networks
    assets: list = field(default_factory=list)  # (name, address string)


@dataclass
class Site:
    seed: int
    text: str
    zones: dict  # name -> Zone (not `external`)
    slot_of: dict  # zone name (and "external") -> slot
    devices: dict  # edge slot -> "nftables" | "iptables" | "link" | "bridge" | "gateway"
    external: bool
    workorders: dict  # name -> scope items (names)
    services: dict  # custom services: name -> transports
    probe_ports: list  # every TCP/UDP port a probe may use
    gateway_modes: dict = field(default_factory=dict)  # edge slot -> "ips" | "ids" (GATEWAY_MODES)


class Generator:
    def __init__(self, seed, gateways=False):
        self.seed = seed
        self.r = random.Random(seed)
        self.gateways = gateways  # reserved: see docs/proofs.md, "The differential oracle"

    # ------------------------------------------------------------------ layout

    def pick_slots(self):
        r = self.r
        want = r.choice([2, 2, 3, 3, 3, 4, 4, 5, 6])
        chosen = [r.choice(ZONE_SLOTS)]
        while len(chosen) < want:
            frontier = sorted(
                {s for e, ss in EDGES.items() for s in ss if s != "x" and s not in chosen and any(c in ss for c in chosen)}
            )
            if not frontier:
                break
            chosen.append(r.choice(frontier))
        if "z0" in chosen and r.random() < 0.35:
            chosen.append("x")
        return chosen

    def net_for(self, slot, v6):
        n = int(slot[1:])
        if v6:
            return ipaddress.ip_network(f"fd00:{n + 1}:{self.r.randrange(1, 0xFFFF):x}::/64")
        prefix = self.r.choice([24, 24, 24, 25, 26, 20])
        third = self.r.randrange(0, 256) & ~((1 << max(0, 24 - prefix)) - 1)
        base = ipaddress.ip_network(f"10.{100 + n}.{third}.0/24", strict=False)
        return ipaddress.ip_network(f"{base.network_address}/{prefix}", strict=False)

    def host_in(self, net, used):
        for _ in range(100):
            size = net.num_addresses
            a = net.network_address + self.r.randrange(1, min(size - 1, 1 << 16))
            if str(a) not in used:
                used.add(str(a))
                return str(a)
        raise RuntimeError("no free address")

    # ------------------------------------------------------------------ the site

    def site(self):
        r = self.r
        slots = self.pick_slots()
        zone_slots = [s for s in slots if s != "x"]
        external = "x" in slots
        used = set()
        zones = {}
        words = r.sample(ZONE_WORDS, len(zone_slots))
        for s, w in zip(zone_slots, words):
            nets = [self.net_for(s, False)]
            if r.random() < 0.7:
                nets.append(self.net_for(s, True))
            if r.random() < 0.15:
                extra = self.net_for(s, False)
                if not any(extra.overlaps(n) for n in nets):
                    nets.append(extra)
            z = Zone(f"{w}{s[1:]}", s, nets)
            for i in range(r.randint(1, 4)):
                net = r.choice(nets)
                z.assets.append((f"{r.choice(['plc', 'hmi', 'srv', 'ws', 'hist', 'rtu'])}{s[1:]}_{i}", self.host_in(net, used)))
            zones[z.name] = z
        slot_of = {z.name: z.slot for z in zones.values()}
        zone_by_slot = {z.slot: z.name for z in zones.values()}
        if external:
            slot_of["external"] = "x"
            zone_by_slot["x"] = "external"

        # Edge slots between used zone slots.
        devices = {}
        for e, ss in EDGES.items():
            touched = [s for s in ss if s in slots]
            if len(touched) < 2:
                continue
            if "x" in touched:
                devices[e] = r.choice(["nftables", "iptables"])
            elif len(touched) == 2:
                kinds = ["nftables", "iptables", "link", "bridge"] + (["gateway"] if self.gateways else [])
                devices[e] = r.choices(kinds, [40, 35, 13, 12, 25][: len(kinds)])[0]
            else:
                devices[e] = r.choices(["nftables", "iptables", "link"], [45, 40, 15])[0]

        lines = [f'site "Oracle {self.seed}" {{ timezone "UTC" }}', "use std.services", ""]
        lines += ["role technician", "role engineer", ""]

        # Bridge assets: an asset of one zone with an interface in the other.
        bridges = {}
        for e, kind in devices.items():
            if kind == "bridge":
                a, b = (zone_by_slot[s] for s in EDGES[e] if s in slots)
                za, zb = zones[a], zones[b]
                na = next(n for n in za.nets if n.version == 4)
                nb = next(n for n in zb.nets if n.version == 4)
                bridges[e] = (a, f"br_{e}", self.host_in(na, used), b, self.host_in(nb, used))

        custom = {}
        if r.random() < 0.4:
            # A few fixed ranges, so that the lab's servers listen on a bounded set of ports.
            lo = 7000 + 100 * r.randrange(10)
            hi = lo + r.choice([1, 9, 40])
            proto = r.choice(["tcp", "udp"])
            custom["app_range"] = [(proto, lo, hi)]
            lines.append(f"service app_range = {proto}/{lo}-{hi}")
            lines.append("")

        for z in zones.values():
            lines.append(f"zone {z.name} {{")
            lines.append(f"  security_level {r.randint(1, 3)}")
            for n in z.nets:
                lines.append(f"  network {n}")
            for name, addr in z.assets:
                lines.append(f"  asset {name} at {addr} {{ kind {r.choice(ASSET_KINDS)}; capability 3 }}")
            for e, (a, name, addr_a, b, addr_b) in bridges.items():
                if a == z.name:
                    lines.append(f"  asset {name} at {addr_a} {{")
                    lines.append(f"    kind hmi; capability 3")
                    lines.append(f"    interface {b} at {addr_b}")
                    lines.append("    bridge")
                    lines.append("  }")
            lines.append("}")
        lines.append("")

        # Work orders.
        workorders = {}
        for i in range(r.choice([0, 1, 1, 2])):
            z = zones[r.choice(sorted(zones))]
            if r.random() < 0.5:
                scope = [z.name]
            else:
                scope = [n for n, _ in r.sample(z.assets, r.randint(1, len(z.assets)))]
            workorders[f"wo{i}"] = scope
        for w, scope in workorders.items():
            lines.append(f"workorder {w} {{")
            lines.append(f"  scope [{', '.join(scope)}]")
            lines.append("  requested_by technician")
            lines.append("  approved_by engineer")
            lines.append("  max_duration 1h")
            lines.append("}")
        lines.append("")

        # Conduits.
        names = sorted(zone_by_slot.values())
        groups = []
        pairs = [(a, b) for a in names for b in names if a != b]
        r.shuffle(pairs)
        taken = set()
        n_conduits = r.randint(1, min(len(pairs), 5))
        k = 0
        for a, b in pairs:
            if k >= n_conduits:
                break
            if (a, b) in taken or (b, a) in taken:
                continue
            taken.add((a, b))
            k += 1
            uni = r.random() < 0.15
            both = not uni and r.random() < 0.2
            lines.append(f"conduit c{k}: {a} {'<->' if both else '->'} {b} {{")
            if uni:
                lines.append("  unidirectional")
            if r.random() < 0.3:
                lines.append("  log")
            for _ in range(r.randint(1, 3)):
                src, dst = (a, b) if not both or r.random() < 0.6 else (b, a)
                lines.append("  " + self.rule(src, dst, zones, uni, workorders, custom, groups, both))
            lines.append("}")
        if self.gateways:
            # Something for each gateway to inspect: Modbus with field constraints across it.
            for e, kind in devices.items():
                if kind != "gateway" or r.random() < 0.2:
                    continue
                a, b = (zone_by_slot[s] for s in EDGES[e] if s in slots)
                if r.random() < 0.5:
                    a, b = b, a
                k += 1
                lines.append(f"conduit c{k}: {a} -> {b} {{")
                lines.append(f"  allow {r.choice(zones[a].assets)[0]} -> {r.choice(zones[b].assets)[0]} : modbus {r.choice(MODBUS_FIELDS)}")
                lines.append("}")
        lines.append("")
        for g in groups:
            lines.append(g)
        lines.append("")

        # Topology.
        gateway_modes = {}
        for e, kind in devices.items():
            touched = [s for s in EDGES[e] if s in slots]
            if kind in ("nftables", "iptables"):
                subtree = r.random() < 0.5
                lines.append(f"firewall {e} {{")
                lines.append(f"  target {kind}")
                for s in touched:
                    faces = self.beyond(e, s, slots) if subtree else [s]
                    lines.append(f'  interface "{s}" faces {", ".join(zone_by_slot[f] for f in faces)}')
                lines.append("}")
            elif kind == "gateway":
                a, b = (zone_by_slot[s] for s in touched)
                gateway_modes[e] = r.choice(["ips", "ids"]) if GATEWAY_MODES else "ips"
                mode = f"; mode {gateway_modes[e]}" if GATEWAY_MODES else ""
                lines.append(f"gateway {e} {{ target suricata; inline between {a} and {b}{mode} }}")
            elif kind == "link":
                lines.append(f"link {e}: {', '.join(zone_by_slot[s] for s in touched)}")
        lines.append("")

        # Assertions.
        for _ in range(r.randint(1, 4)):
            lines.append(self.assertion(names, zones, workorders, custom))
        lines.append("")

        ports = set()
        for ts in list(TCP_SERVICES.values()) + list(UDP_SERVICES.values()) + list(custom.values()):
            for proto, lo, hi in ts:
                ports.update({lo, hi})
        ports.update({7, 9, 1234, 8080, 5000})
        return Site(self.seed, "\n".join(lines), zones, slot_of, devices, external, workorders, custom, sorted(ports), gateway_modes)

    def beyond(self, edge, slot, slots):
        """Zone slots reached from `edge` through its interface `slot` (the subtree)."""
        seen, stack = {slot}, [slot]
        while stack:
            s = stack.pop()
            for e, ss in EDGES.items():
                if e == edge or s not in ss:
                    continue
                for t in ss:
                    if t in slots and t not in seen:
                        seen.add(t)
                        stack.append(t)
        return sorted(seen, key=lambda s: (s != slot, s))

    def endpoint(self, zone, zones, groups, both):
        # `any` in an `A <-> B` conduit does not say which side it means: not generated.
        r = self.r
        if zone == "external":
            return r.choice(["198.51.100.0/24", "203.0.113.7", "2001:db8::/48"] + ([] if both else ["any"]))
        z = zones[zone]
        roll = r.random()
        if roll < 0.6:
            return r.choice(z.assets)[0]
        if roll < 0.72:
            return zone
        if roll < 0.82 and len(z.assets) >= 2:
            g = f"g{len(groups)}"
            groups.append(f"group {g} = [{', '.join(n for n, _ in r.sample(z.assets, 2))}]")
            return g
        if roll < 0.94:
            return str(r.choice(z.nets))
        return zone if both else "any"

    def rule(self, src, dst, zones, uni, workorders, custom, groups, both):
        r = self.r
        s = self.endpoint(src, zones, groups, both)
        d = self.endpoint(dst, zones, groups, both)
        if uni:
            pool = sorted(UDP_SERVICES) + [c for c, ts in custom.items() if ts[0][0] == "udp"]
        else:
            pool = sorted(TCP_SERVICES) * 2 + sorted(UDP_SERVICES) + sorted(ICMP_SERVICES) + sorted(custom) * 2
        svcs = sorted(set(r.sample(pool, r.choice([1, 1, 2]))))
        text = f"allow {s} -> {d} : {', '.join(svcs)}"
        if svcs == ["modbus"] and r.random() < 0.6:
            text += " " + r.choice(MODBUS_FIELDS)
        if workorders and not uni and r.random() < 0.3:
            text += f" when workorder {r.choice(sorted(workorders))}"
        return text

    def assertion(self, names, zones, workorders, custom):
        r = self.r
        scope = ""
        roll = r.random()
        if roll < 0.25:
            scope = " in base"
        elif roll < 0.5 and workorders:
            scope = f" during {r.choice(sorted(workorders))}"
        elif roll < 0.6 and workorders:
            scope = f" except during {r.choice(sorted(workorders))}"
        a, b = r.sample(names, 2)
        if r.random() < 0.5:
            return f"assert no_path {a} -> {b}{scope}"
        pa = a if a == "external" or r.random() < 0.5 else r.choice(zones[a].assets)[0]
        pb = b if b == "external" or r.random() < 0.5 else r.choice(zones[b].assets)[0]
        svc = r.choice(sorted(TCP_SERVICES) + sorted(UDP_SERVICES) + ["ping"] + sorted(custom))
        return f"assert reachable {pa} -> {pb} : {svc}{scope}"
