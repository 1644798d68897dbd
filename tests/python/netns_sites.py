"""Sites for the namespace tests and an independent reading of the policy: what the policy IR
(`palisade ir`) says about a flow, computed here in Python, not by the compiler's emitters.
"""

import ipaddress
import json
import subprocess

from netns_lab import ROOT, palisade

# Three zones in a row, two nftables firewalls in series (office | fw1 | dmz | fw2 | plant),
# a data diode from the plant, a work-order rule that crosses both firewalls, IPv4 and IPv6.
LAB_SITE = """
site "Namespace lab" { timezone "UTC" }
use std.services

role technician
role engineer
person "t-1" { roles [technician] }
person "e-1" { roles [engineer] }

zone office "Office" {
  security_level 1
  network 10.61.0.0/24
  network fd00:61::/64
  asset clerk at 10.61.0.10 { kind workstation; capability 2 }
  asset clerk6 at fd00:61::10 { kind workstation; capability 2 }
}
zone dmz "DMZ" {
  security_level 2
  network 10.62.0.0/24
  network fd00:62::/64
  asset broker at 10.62.0.20 { kind server; capability 2 }
  asset broker6 at fd00:62::20 { kind server; capability 2 }
  asset collector at 10.62.0.30 { kind server; capability 2 }
}
zone plant "Plant" {
  security_level 2
  network 10.63.0.0/24
  asset plc at 10.63.0.11 { kind plc; capability 2 }
  asset plc2 at 10.63.0.12 { kind plc; capability 2 }
  asset hmi at 10.63.0.20 { kind hmi; capability 2 }
}

group plcs = [plc, plc2]

conduit office_dmz: office -> dmz {
  log
  allow clerk -> broker : https
  allow clerk -> broker : ntp
  allow clerk -> broker : ping
  allow clerk6 -> broker6 : https
}
conduit dmz_plant: dmz -> plant {
  allow broker -> hmi : opcua_sign
}
conduit maintenance: office -> plant {
  log
  allow clerk -> plcs : modbus when workorder maint
}
conduit plant_events: plant -> dmz {
  unidirectional
  allow plc -> collector : syslog_udp
}

firewall fw1 { target nftables; interface "o" faces office; interface "d" faces dmz }
firewall fw2 { target nftables; interface "u" faces dmz; interface "p" faces plant }

workorder maint {
  scope [plant]
  requested_by technician
  approved_by engineer
  separation_of_duties
  max_duration 1h
}
"""


def ir(site):
    out = subprocess.run([palisade(), "ir", str(site)], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def addr_value(a):
    ip = ipaddress.ip_address(a)
    return ip.version == 6, int(ip)


class Policy:
    """Flows the policy permits as new connections, ignoring work orders (closed)."""

    def __init__(self, doc):
        self.doc = doc

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

    @staticmethod
    def _in(addrs, a):
        v6, v = addr_value(a)
        return any(r["v6"] == v6 and r["lo"] <= v <= r["hi"] for r in addrs)

    def zone_of(self, a):
        v6, v = addr_value(a)
        for i, z in enumerate(self.doc["zones"]):
            if i == 0:
                continue
            for n in z["networks"]:
                net = ipaddress.ip_network((n["addr"], n["prefix"]))
                if (net.version == 6) == v6 and int(net.network_address) <= v <= int(net.broadcast_address):
                    return i
        return 0

    def permits(self, src, dst, proto, port, zones=None):
        for r in self.doc["rules"]:
            if r["workorder"] is not None:
                continue
            if zones is not None and (r["from"], r["to"]) not in zones:
                continue
            if not (self._in(r["src"]["addrs"], src) and self._in(r["dst"]["addrs"], dst)):
                continue
            for t in self.leaf_transports(r["services"]):
                if t["proto"] == proto and proto in ("tcp", "udp") and t["lo"] <= port <= t["hi"]:
                    return True
                if proto == "icmp" and t["proto"] == "icmp" and t.get("icmp_type") in (None, 8):
                    return True
        return False

    def diode(self, src, dst, proto, port):
        for r in self.doc["rules"]:
            c = self.doc["conduits"][r["conduit"]]
            if c["unidirectional"] and self._in(r["src"]["addrs"], src) and self._in(r["dst"]["addrs"], dst):
                return True
        return False

    def ports_between(self, za, zb):
        """(proto, port) of every rule from zone za to zb: the first port of each range."""
        out = set()
        for r in self.doc["rules"]:
            if (r["from"], r["to"]) == (za, zb):
                for t in self.leaf_transports(r["services"]):
                    if t["proto"] in ("tcp", "udp"):
                        out.add((t["proto"], t["lo"]))
        return out
