"""nftables rulesets in a real kernel: network namespaces for the zones, routers loaded with
the emitted rulesets, TCP/UDP/ICMP probes with bounded timeouts. The kernel's verdict must
equal the policy's for every probe: plain rules (IPv4 and IPv6), a data diode (the datagram
arrives, no reply comes back), a work-order rule across two firewalls in series (denied →
opened → allowed → expired → denied; a closed order stops an established session; an
instance opens only its own scope), and an example site's firewall against the policy IR.
"""

import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from netns_lab import ROOT, Lab, fresh_port, palisade, require, run  # noqa: E402
from netns_sites import LAB_SITE, Policy, ir  # noqa: E402


@pytest.fixture
def lab_site(tmp_path):
    require("ip", "nft")
    site = tmp_path / "site"
    site.mkdir()
    (site / "lab.pal").write_text(LAB_SITE)
    out = tmp_path / "out"
    run(palisade(), "build", site, "-o", out, "--target", "nftables", cwd=ROOT)
    return site, out


def workorder(lab, fw, verb, site, *args):
    return lab.exec(fw, palisade(), "workorder", verb, "maint", "--site", site, "--device", Path(fw).name.split("-")[-1], "--apply", *args)


def test_series_diode_and_work_order(lab_site, tmp_path):
    site, out = lab_site
    logdir = tmp_path / "logs"
    logdir.mkdir()
    with Lab("s") as lab:
        office, fw1, dmz, fw2, plant = (lab.ns(n) for n in ["office", "fw1", "dmz", "fw2", "plant"])
        o4, f1o4, o6, f1o6 = lab.link(office, "eth0", fw1, "o")
        f1d4, d14, f1d6, d16 = lab.link(fw1, "d", dmz, "eth0")
        d24, f2u4, d26, f2u6 = lab.link(dmz, "eth1", fw2, "u")
        f2p4, p4, f2p6, p6 = lab.link(fw2, "p", plant, "eth0")
        for a in ["10.61.0.10", "fd00:61::10"]:
            lab.host_addr(office, a)
        for a in ["10.62.0.20", "fd00:62::20", "10.62.0.30"]:
            lab.host_addr(dmz, a)
        for a in ["10.63.0.11", "10.63.0.12", "10.63.0.20"]:
            lab.host_addr(plant, a)
        lab.route(office, "default", f1o4)
        lab.route(office, "default", f1o6)
        lab.route(plant, "default", f2p4)
        lab.route(plant, "default", f2p6)
        lab.route(fw1, "10.61.0.0/24", o4)
        lab.route(fw1, "fd00:61::/64", o6)
        lab.route(fw1, "default", d14)
        lab.route(fw1, "::/0", d16)
        lab.route(dmz, "10.61.0.0/24", f1d4)
        lab.route(dmz, "fd00:61::/64", f1d6)
        lab.route(dmz, "10.63.0.0/24", f2u4)
        lab.route(fw2, "10.63.0.0/24", p4)
        lab.route(fw2, "default", d24)
        lab.route(fw2, "::/0", d26)
        lab.load_nft(fw1, out / "fw1.nft")
        lab.load_nft(fw2, out / "fw2.nft")
        lab.serve(dmz, logdir, [443, 123, 514, 80])
        lab.serve(plant, logdir, [502, 4840])

        def expect(src, dst, proto, port, allowed):
            got, ident = lab.probe(src, dst, proto, port)
            assert got == allowed, f"{src} -> {dst} {proto}/{port}: kernel {'accepts' if got else 'drops'}, policy {'accepts' if allowed else 'drops'}"
            return ident

        # Plain rules, both families, through one firewall; their reverse is denied.
        expect("10.61.0.10", "10.62.0.20", "tcp", 443, True)
        expect("10.61.0.10", "10.62.0.20", "udp", 123, True)
        expect("10.61.0.10", "10.62.0.20", "icmp", 0, True)
        expect("10.61.0.10", "10.62.0.20", "tcp", 80, False)
        expect("fd00:61::10", "fd00:62::20", "tcp", 443, True)
        expect("fd00:61::10", "fd00:62::20", "tcp", 80, False)
        expect("10.62.0.20", "10.61.0.10", "tcp", 443, False)
        expect("10.62.0.20", "10.63.0.20", "tcp", 4840, True)
        expect("10.63.0.20", "10.62.0.20", "tcp", 443, False)

        # The diode: the datagram arrives, the reply does not come back.
        got, ident = lab.probe("10.63.0.11", "10.62.0.30", "udp", 514)
        time.sleep(0.2)
        assert lab.delivered(logdir, ident), "the diode's datagram did not arrive"
        assert not got, "a reply came back through the diode"
        got, ident = lab.probe("10.62.0.30", "10.63.0.11", "udp", 502)
        assert not got and not lab.delivered(logdir, ident), "traffic flowed backwards through the diode"

        # The work-order rule crosses both firewalls: closed by default.
        expect("10.61.0.10", "10.63.0.11", "tcp", 502, False)
        for fw in (fw1, fw2):
            workorder(lab, fw, "open", site, "--scope", "plc", "--duration", "30s")
        expect("10.61.0.10", "10.63.0.11", "tcp", 502, True)
        # The instance's scope is plc only: plc2 (same rule, same order) stays closed.
        expect("10.61.0.10", "10.63.0.12", "tcp", 502, False)
        # An established session stops when the order closes.
        sess = lab.spawn(office, sys.executable, Path(__file__).parent / "netns_probe.py", "session", "10.61.0.10", "10.63.0.11", 502, fresh_port(), 1.0,
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert sess.stdout.readline().strip() == "connected"
        sess.stdin.write("before\n")
        sess.stdin.flush()
        assert sess.stdout.readline().strip() == "echo"
        for fw in (fw1, fw2):
            workorder(lab, fw, "close", site, "--scope", "plc")
        sess.stdin.write("after\n")
        sess.stdin.flush()
        assert sess.stdout.readline().strip() == "noecho", "an established session survived the closing of its work order"
        sess.kill()
        expect("10.61.0.10", "10.63.0.11", "tcp", 502, False)
        # Expiry: a short instance opens, then its elements time out in the kernel.
        for fw in (fw1, fw2):
            workorder(lab, fw, "open", site, "--scope", "plc", "--duration", "3s")
        expect("10.61.0.10", "10.63.0.11", "tcp", 502, True)
        time.sleep(4.0)
        expect("10.61.0.10", "10.63.0.11", "tcp", 502, False)


def example_hosts(doc, device):
    """Test hosts: one address per asset in the zones the device's interfaces face, plus one
    address of the external zone; grouped by the interface that faces their zone."""
    by_iface = {}
    zone_iface = {}
    for itf in doc["devices"][device]["interfaces"]:
        for z in itf["faces"]:
            zone_iface[z] = itf["name"]
    import ipaddress

    for a in doc["assets"]:
        if a["zone"] in zone_iface:
            addr = str(ipaddress.ip_address(a["addr"]["lo"]) if a["addr"]["v6"] else ipaddress.IPv4Address(a["addr"]["lo"]))
            by_iface.setdefault(zone_iface[a["zone"]], []).append(addr)
    if 0 in zone_iface:
        by_iface.setdefault(zone_iface[0], []).append("198.51.100.7")
    return by_iface


def test_example_firewall_matches_policy(tmp_path):
    """Water's fw_dmz: every probed (source, destination, service) decided as the IR says."""
    require("ip", "nft")
    site = ROOT / "examples" / "water"
    out = tmp_path / "out"
    run(palisade(), "build", site, "-o", out, "--no-verify", cwd=ROOT)
    doc = ir(site)
    pol = Policy(doc)
    dev = next(i for i, d in enumerate(doc["devices"]) if d["name"] == "fw_dmz")
    hosts = example_hosts(doc, dev)
    logdir = tmp_path / "logs"
    logdir.mkdir()
    with Lab("x") as lab:
        fw = lab.ns("fw")
        ports = set()
        for k, (ifname, addrs) in enumerate(sorted(hosts.items())):
            h = lab.ns(f"h{k}")
            h4, f4, h6, f6 = lab.link(h, "eth0", fw, ifname)
            lab.route(h, "default", f4)
            lab.route(h, "::/0", f6)
            for a in addrs:
                lab.host_addr(h, a)
                net = f"{a}/{128 if ':' in a else 32}"
                lab.route(fw, net, h6 if ":" in a else h4)
        lab.load_nft(fw, out / "fw_dmz.nft")
        probes = []
        all_hosts = [a for addrs in hosts.values() for a in addrs]
        for s in all_hosts:
            for d in all_hosts:
                if lab.addrs[s] == lab.addrs[d] or (":" in s) != (":" in d):
                    continue
                cand = pol.ports_between(pol.zone_of(s), pol.zone_of(d)) | {("tcp", 9)}
                for proto, port in sorted(cand):
                    probes.append((s, d, proto, port))
                    ports.add(port)
        for ns in {lab.addrs[a] for a in all_hosts}:
            lab.serve(ns, logdir, sorted(ports))
        assert len(probes) < 400, "probe set unexpectedly large"

        def one(p):
            s, d, proto, port = p
            got, _ = lab.probe(s, d, proto, port, timeout=0.6)
            return p, got

        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(one, probes))
        wrong = [
            f"{s} -> {d} {proto}/{port}: kernel {'accepts' if got else 'drops'}"
            for (s, d, proto, port), got in results
            if got != (pol.permits(s, d, proto, port) and not pol.diode(s, d, proto, port))
        ]
        allowed = sum(1 for _, g in results if g)
        print(f"{len(results)} probes, {allowed} allowed")
        assert allowed > 0 and allowed < len(results)
        assert not wrong, "\n".join(wrong)
