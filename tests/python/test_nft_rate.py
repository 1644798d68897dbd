"""Forwarding rate of the emitted nftables ruleset against a naive one-rule-per-term ruleset of
the same policy, in a namespace router: 20,000 rules (100 zones behind one firewall, 200 rules
each). Every datagram comes from a fresh source port and gets no reply, so every one is a new
connection and meets the ruleset (not the established shortcut). The flow probed matches the
policy's last rule: the naive ruleset walks all of its rules, the emitted one dispatches through
one map lookup to the 200 rules of one conduit.

Writes target/fw-bench/forwarding.json; BENCHMARKS.md quotes it.
"""

import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from netns_lab import PROBE, ROOT, Lab, palisade, require, run  # noqa: E402
from netns_sites import Policy, ir  # noqa: E402

ZONES = 100
PER_ZONE = 200
SECONDS = 2.0


def site_text():
    lines = ['site "Rate lab" { timezone "UTC" }', "zone corp { security_level 1; network 10.100.0.0/16 }"]
    for j in range(PER_ZONE):
        lines.append(f"service s{j} = udp/{20000 + j}")
    for i in range(ZONES):
        lines.append(f"zone z{i} {{ security_level 1; network 10.200.{i}.0/24 }}")
        rules = "\n".join(f"  allow 10.100.0.{j % 250 + 1} -> 10.200.{i}.10 : s{j}" for j in range(PER_ZONE))
        lines.append(f"conduit c{i}: corp -> z{i} {{\n{rules}\n}}")
    faces = ", ".join(f"z{i}" for i in range(ZONES))
    lines.append(f'firewall fw {{ target nftables; interface "up" faces corp; interface "dn" faces {faces} }}')
    return "\n".join(lines) + "\n"


def naive_ruleset(doc):
    """One rule per term (rule x source range x destination range x transport), in order."""
    pol = Policy(doc)
    import ipaddress

    out = ["table inet naive {", "\tchain forward {", "\t\ttype filter hook forward priority filter; policy drop;", "\t\tct state established,related accept"]
    n = 0
    for r in doc["rules"]:
        for s in r["src"]["addrs"]:
            for d in r["dst"]["addrs"]:
                for t in pol.leaf_transports(r["services"]):
                    sa = ipaddress.summarize_address_range(ipaddress.IPv4Address(s["lo"]), ipaddress.IPv4Address(s["hi"]))
                    da = ipaddress.summarize_address_range(ipaddress.IPv4Address(d["lo"]), ipaddress.IPv4Address(d["hi"]))
                    for a in sa:
                        for b in da:
                            port = t["lo"] if t["lo"] == t["hi"] else f"{t['lo']}-{t['hi']}"
                            out.append(f"\t\tip saddr {a} ip daddr {b} {t['proto']} dport {port} accept")
                            n += 1
    out += ["\t}", "}"]
    return "\n".join(out) + "\n", n


def measure(lab, fw, src_ns, dst_ns, ruleset, src, dst, port):
    lab.exec(fw, "nft", "flush", "ruleset")
    lab.exec(fw, "nft", "-f", ruleset, timeout=300)
    counter = lab.spawn(dst_ns, sys.executable, PROBE, "count", port, SECONDS + 2.0, stdout=subprocess.PIPE, text=True)
    assert counter.stdout.readline().strip() == "ready"
    sent = int(lab.exec(src_ns, sys.executable, PROBE, "flood", src, dst, port, SECONDS, timeout=60).stdout.strip())
    received = int(counter.stdout.readline().strip() or 0)
    counter.wait(timeout=30)
    return sent / SECONDS, received / SECONDS


def test_forwarding_rate_against_naive_ruleset(tmp_path):
    require("ip", "nft")
    site = tmp_path / "site"
    site.mkdir()
    (site / "rate.pal").write_text(site_text())
    out = tmp_path / "out"
    t0 = time.time()
    run(palisade(), "build", site, "-o", out, "--no-verify", "--no-validate", cwd=ROOT, timeout=600)
    build_s = time.time() - t0
    doc = ir(site)
    naive, naive_rules = naive_ruleset(doc)
    (tmp_path / "naive.nft").write_text(naive)
    last = doc["rules"][-1]
    src = str(__import__("ipaddress").IPv4Address(last["src"]["addrs"][0]["lo"]))
    dst = str(__import__("ipaddress").IPv4Address(last["dst"]["addrs"][0]["lo"]))
    port = Policy(doc).leaf_transports(last["services"])[0]["lo"]
    with Lab("r") as lab:
        a, fw, b = lab.ns("src"), lab.ns("fw"), lab.ns("dst")
        a4, f4, _, _ = lab.link(a, "eth0", fw, "up")
        f4b, b4, _, _ = lab.link(fw, "dn", b, "eth0")
        lab.host_addr(a, src)
        lab.host_addr(b, dst)
        lab.route(a, "default", f4)
        lab.route(b, "default", f4b)
        lab.route(fw, "10.100.0.0/16", a4)
        lab.route(fw, "10.200.0.0/16", b4)
        results = {}
        for name, path in [("emitted", out / "fw.nft"), ("naive", tmp_path / "naive.nft"), ("emitted_again", out / "fw.nft")]:
            results[name] = measure(lab, fw, a, b, path, src, dst, port)
    emitted = max(results["emitted"][1], results["emitted_again"][1])
    naive_rate = results["naive"][1]
    report = {
        "rules": len(doc["rules"]),
        "naive_rules": naive_rules,
        "seconds": SECONDS,
        "build_seconds": round(build_s, 2),
        "emitted_pps": round(emitted),
        "naive_pps": round(naive_rate),
        "offered_pps": round(max(r[0] for r in results.values())),
    }
    dest = ROOT / "target" / "fw-bench"
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "forwarding.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report))
    assert emitted > 0, "nothing forwarded through the emitted ruleset"
    assert emitted > naive_rate, f"the emitted ruleset forwards no faster than the naive one: {report}"
