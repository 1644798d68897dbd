"""The differential oracle (issue 12): "proved" must mean "enforced".

Random sites (oracle_sites.py) are verified (`palisade verify --matrix --message-format json`)
and built (`palisade build`, with `--no-verify` when a property is refuted); every emitted
firewall ruleset is loaded into the namespaces of a lab that is built once and reused
(oracle_lab.py); then real packets check what the proofs claim (oracle_model.py):

- every packet the proofs say cannot pass (a pair the matrix leaves empty, a packet outside
  every rule of a reachable pair: other port, other protocol, wrong direction, spoofed source
  on a wrong interface, a closed work order) is dropped on its path;
- every witness the verifier reports (matrix witnesses, counterexamples of refuted
  assertions and profile checks, witnesses of proved `reachable`) passes end to end;
- a work order opened with `palisade workorder open` (its commands run in the routers) lets
  its scenario's packets through, and closing it restores the base state.

PALISADE_ORACLE_SEED (default 20261203) and PALISADE_ORACLE_SITES (default 200) choose the
sites; site i has seed SEED + i, so `PALISADE_ORACLE_SEED=<seed> PALISADE_ORACLE_SITES=1`
replays one. Disagreements are written, with the site, to target/oracle-failures/ (or
PALISADE_ORACLE_OUT); docs/proofs.md, "The differential oracle", says more.
"""

import itertools
import json
import os
import queue
import random
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from netns_lab import ROOT, palisade, require  # noqa: E402
import oracle_gateway  # noqa: E402
from oracle_lab import OracleLab, crossings  # noqa: E402
from oracle_model import OTHER_PORTS, Model  # noqa: E402
from oracle_sites import GATEWAY_MODES, Generator  # noqa: E402
from suricata_support import Suricata  # noqa: E402

SEED = int(os.environ.get("PALISADE_ORACLE_SEED", "20261203"))
SITES = int(os.environ.get("PALISADE_ORACLE_SITES", "200"))
LABS = int(os.environ.get("PALISADE_ORACLE_LABS", "4"))
GATEWAYS = os.environ.get("PALISADE_ORACLE_GATEWAYS") == "1"  # gateways in every site of the main run too
GATEWAY_SITES = int(os.environ.get("PALISADE_ORACLE_GATEWAY_SITES", "40"))  # the run with gateways
DROP_WAIT = 0.5  # seconds a dropped probe is waited for
PASS_WAIT = 3.0  # a passing probe returns as soon as it is answered
BUDGET = 330  # seconds: sites not started by then are reported as not run
REDUCE = os.environ.get("PALISADE_ORACLE_REDUCE", "1") == "1"  # reduce the first site of each kind
REDUCE_KNOWN = os.environ.get("PALISADE_ORACLE_REDUCE_KNOWN") == "1"  # also reduce known defects

# Known defects of today's compiler that the oracle found: (predicate over a disagreement,
# the defect). A matching disagreement is reported, not failed. Keep each one until fixed.
KNOWN = [
    # The truncated-paths defect is fixed: such a build now stops with E0915 (counted as
    # refused below). A disagreement classified so would be new, and fails the run.
]


def palisade_run(*args, timeout=120):
    return subprocess.run([palisade(), *map(str, args)], cwd=ROOT, capture_output=True, text=True, timeout=timeout)


# ---------------------------------------------------------------------- preparing a site


def prepare(seed, work, text=None, tag="", gateways=None):
    """Generate, verify, build; everything the lab needs, or a failure to report. `text`
    replaces the generated text (a reduced or recorded site; the layout stays the seed's)."""
    gateways = GATEWAYS if gateways is None else gateways
    site = Generator(seed, gateways=gateways).site()
    if text is not None:
        site.text = text
    d = work / f"site-{seed}{tag}"
    d.mkdir(parents=True, exist_ok=True)
    (d / "site.pal").write_text(site.text)
    v = palisade_run("verify", d, "--matrix", "--message-format", "json")
    try:
        verify = json.loads(v.stdout)
    except json.JSONDecodeError:
        return {"seed": seed, "site": site, "dir": d, "error": f"verify printed no JSON ({v.returncode}): {v.stderr[-2000:]}"}
    if "results" not in verify:
        errs = [x["message"] for x in verify.get("diagnostics", []) if x["severity"] == "error"]
        return {"seed": seed, "site": site, "dir": d, "error": f"the generated site has errors: {errs[:3]}"}
    out = d / "out"
    ips = ["--ips"] if "gateway" in site.devices.values() and not GATEWAY_MODES else []
    b = palisade_run("build", d, "-o", out, *([] if v.returncode == 0 else ["--no-verify"]), *ips)
    codes = set(re.findall(r"error\[(E\d{4})\]", b.stderr))
    if b.returncode == 1 and codes == {"E0915"}:
        # More topology paths than placement follows: the build refuses and writes nothing,
        # so there is no configuration that could disagree with a proof.
        return {"seed": seed, "site": site, "dir": d, "refused": "E0915"}
    if b.returncode != 0:
        return {"seed": seed, "site": site, "dir": d, "error": f"build failed ({b.returncode}): {b.stderr[-3000:]}"}
    doc = json.loads(palisade_run("ir", d).stdout)
    return {"seed": seed, "site": site, "dir": d, "out": out, "verify": verify, "ir": doc, "verify_rc": v.returncode, "gateways": gateways}


# ---------------------------------------------------------------------- planning the probes


class Plan:
    def __init__(self, model):
        self.m = model
        self.phases = {"base": [], "during": [], "after": []}
        self.claims = set()
        self.model_mismatch = []  # the evaluator here and the verifier disagree (no packet sent)
        self.workorder = None

    def add(self, phase, p, expect, why, from_slot=None, open_wos=()):
        m = self.m
        if p is None:
            return
        frm = from_slot or m.slot_of(p["src"])
        to = m.slot_of(p["dst"])
        if frm is None or to is None or frm == to:
            return
        if p["proto"] in ("icmp", "icmpv6") and (":" in p["dst"]) != (p["proto"] == "icmpv6"):
            return
        reply = m.replies(p, open_wos) if expect == "pass" else None
        self.phases[phase].append(dict(p, expect=expect, why=why, frm=frm, to=to, reply=reply))
        self.claims.add(why.split(":")[0])

    def check_model(self, p, expect, why, open_wos=()):
        """The claim read from the verifier and this evaluator's reading of the IR agree."""
        if p is not None and m_passes(self.m, p, open_wos) != (expect == "pass"):
            self.model_mismatch.append(f"{why}: {fmt(p)}: the verifier says {expect}, the IR evaluator disagrees")


CATEGORIES = [
    ("matrix witness", "matrix witness"), ("counterexample", "counterexample"), ("witness of", "reachable witness"),
    ("proved `assert no_path", "no_path (direct packets)"), ("refuted `assert reachable", "refuted reachable"),
    ("unfiltered", "unfiltered pair"), ("rule ", "rule packet"), ("no rule", "pair without rules"),
    ("other port", "other port"), ("other protocol", "other protocol"), ("wrong direction", "wrong direction"),
    ("spoofed source", "spoofed source"), ("forbidden field", "forbidden protocol field"), ("work order", "work order"), ("base flow", "base flow around a work order"),
]


def category(why):
    return next((c for prefix, c in CATEGORIES if why.startswith(prefix)), "other")


def modbus_allowed(fields):
    """(function, unit, register) that a rule's Modbus constraints allow."""
    if not fields or fields["family"] != "modbus":
        return (3, 1, 0)
    fc = fields["functions"][0]["code"] if fields["functions"] else 3
    unit = fields["units"][0][0] if fields["units"] else 1
    reg = fields["registers"][0][0] if fields["registers"] else 0
    return (fc, unit, reg)


def m_passes(m, p, open_wos):
    return m.passes(p, open_wos)


def fmt(p):
    port = f" port {p['dport']}" if p["proto"] in ("tcp", "udp") else ""
    return f"{p['src']} -> {p['dst']} {p['proto']}{port}"


def place_ranges(m, place):
    if place["kind"] == "zone":
        name = m.zones[place["id"]]
        if name == "external":
            return [{"v6": False, "lo": 0xC6336400, "hi": 0xC63364FF}, {"v6": True, "lo": 0x20010DB8 << 96, "hi": (0x20010DB8 << 96) + 0xFFFF}]
        return m.zone_ranges[name]
    a = m.doc["assets"][place["id"]]
    return [a["addr"]] + [x["addr"] for x in a.get("interfaces", [])]


def plan_site(prep, rng):
    m = Model(prep["site"], prep["ir"], prep["verify"], rng)
    plan = Plan(m)
    doc, site = m.doc, m.site
    wos = [i for i, w in enumerate(doc["workorders"]) if w["rules"]]
    w = rng.choice(wos) if wos else None
    plan.workorder = w
    wname = doc["workorders"][w]["name"] if w is not None else None
    ports = sorted(set(site.probe_ports))

    # Matrix witnesses: the base state admits them.
    for (za, zb), e in m.matrix.items():
        p = m.fix_external(m.parse_witness(e.get("witness"))) if e.get("witness") else None
        if p:
            plan.check_model(p, "pass", f"matrix witness {za}->{zb}")
            plan.add("base", p, "pass", f"matrix witness {za}->{zb}: {e['witness']}")

    # Verdicts: counterexamples and witnesses pass; refuted `reachable` and proved `no_path`
    # (direct packets) drop.
    for r in prep["verify"]["results"]:
        scen = r["scenario"]
        phase = "base" if scen == "base" else ("during" if wname and scen == f"during {wname}" else None)
        if phase is None:
            continue
        open_wos = (w,) if phase == "during" else ()
        what = f"{r['verdict']} `{r['property']}` ({scen})"
        ce = r.get("counterexample") or {}
        if r["verdict"] == "refuted":
            for s in ce.get("steps") or []:
                if s.get("packet"):
                    p = m.fix_external(m.parse_witness(s.get("packet_text")))
                    plan.check_model(p, "pass", what, open_wos)
                    plan.add(phase, p, "pass", f"counterexample of {what}: {s.get('packet_text')}", open_wos=open_wos)
        prop = r["property"]
        origin = r.get("origin", {})
        if origin.get("kind") != "assertion":
            continue
        a = doc["assertions"][origin["index"]]["property"]
        if prop.startswith("assert reachable") and r["verdict"] == "proved":
            p = m.fix_external(m.parse_witness(r.get("checked", "").split("admitted:", 1)[-1]))
            plan.check_model(p, "pass", what, open_wos)
            plan.add(phase, p, "pass", f"witness of {what}", open_wos=open_wos)
        elif (prop.startswith("assert reachable") and r["verdict"] == "refuted") or (prop.startswith("assert no_path") and r["verdict"] == "proved"):
            svc = a.get("service")
            ts = m.leaf_transports([svc]) if svc is not None else [{"proto": "tcp", "lo": pt, "hi": pt} for pt in rng.sample(ports, 3)]
            for v6 in (False, True):
                src = m.pick(place_ranges(m, a["from"]), v6)
                dst = m.pick(place_ranges(m, a["to"]), v6)
                if src is None or dst is None:
                    continue
                for t in ts[:3]:
                    if t["proto"] in ("tcp", "udp"):
                        p = {"proto": t["proto"], "src": src, "dst": dst, "dport": t["lo"]}
                    elif t["proto"] == ("icmpv6" if v6 else "icmp"):
                        p = {"proto": t["proto"], "src": src, "dst": dst, "dport": 0}
                    else:
                        continue
                    plan.check_model(p, "drop", what, open_wos)
                    plan.add(phase, p, "drop", f"{what}: no packet", open_wos=open_wos)

    # Zone pairs.
    names = [z for z in m.zones if z != "external" or site.external]
    pairs = [(a, b) for a in names for b in names if a != b and site.slot_of[a] != site.slot_of[b]]
    rng.shuffle(pairs)
    used_slots = sorted({site.slot_of[z] for z in names})
    for za, zb in pairs[:14]:
        e = m.matrix.get((za, zb))
        ia, ib = m.zones.index(za), m.zones.index(zb)
        rules = [r for r in doc["rules"] if (r["from"], r["to"]) == (ia, ib) and r["workorder"] is None]
        for v6 in (False, True):
            ra = place_ranges(m, {"kind": "zone", "id": ia})
            rb = place_ranges(m, {"kind": "zone", "id": ib})
            if not any(x["v6"] == v6 for x in ra) or not any(x["v6"] == v6 for x in rb):
                continue
            if m.unfiltered(za, zb):
                p = {"proto": rng.choice(["tcp", "udp"]), "src": m.pick(ra, v6), "dst": m.pick(rb, v6), "dport": rng.choice(ports)}
                plan.add("base", p, "pass", f"unfiltered {za}->{zb}")
                continue
            admitted = [q for q in (m.packet_for_rule(r, v6) for r in rng.sample(rules, min(2, len(rules)))) if q and m.passes(q)]
            if not admitted:
                p = {"proto": rng.choice(["tcp", "udp"]), "src": m.pick(ra, v6), "dst": m.pick(rb, v6), "dport": rng.choice(ports)}
                if None in (p["src"], p["dst"]) or m.passes(p):
                    continue
                if e and e["services"] and not rules:
                    plan.model_mismatch.append(f"{za}->{zb}: the matrix lists {e['services']} without a standing rule")
                plan.add("base", p, "drop", f"no rule {za}->{zb} (matrix: {', '.join(e['services']) if e else 'nothing'})")
                continue
            for p in admitted:
                plan.add("base", p, "pass", f"rule {za}->{zb}")
                if e and e["enforcement"] == "inspected" and p["proto"] == "tcp" and p["dport"] == 502:
                    fields = [doc["rules"][i]["fields"] for i in m.admitting(p)]
                    if fields and all(f and f["family"] == "modbus" and f["functions"] for f in fields):
                        allowed = {fn["code"] for f in fields for fn in f["functions"]}
                        fc = next(c for c in (6, 16, 5, 15, 8, 1, 2, 3, 4, 43) if c not in allowed)
                        unit, reg = modbus_allowed(fields[0])[1:]
                        plan.add("base", dict(p, modbus=(fc, unit, reg), field_probe=True), "drop", f"forbidden field {za}->{zb}: modbus function {fc}")
                q = dict(p, proto="tcp" if p["proto"] != "tcp" else "udp", dport=p["dport"] or 9)
                for port in rng.sample(OTHER_PORTS + ports, 6):
                    q2 = dict(p, proto=rng.choice(["tcp", "udp"]), dport=port)
                    if not m.passes(q2):
                        plan.add("base", q2, "drop", f"other port {za}->{zb}")
                        break
                if not m.passes(q):
                    plan.add("base", q, "drop", f"other protocol {za}->{zb}")
                rev = dict(p, src=p["dst"], dst=p["src"])
                if not m.passes(rev):
                    plan.add("base", rev, "drop", f"wrong direction {zb}->{za}")
                others = [s for s in used_slots if s not in (m.slot_of(p["src"]), m.slot_of(p["dst"]))]
                rng.shuffle(others)
                for c in others[:2]:
                    t = m.spoof_claim(p, c)
                    if t:
                        plan.add("base", dict(p, spoof=t), "drop", f"spoofed source of {za} from {c}: {t[0]} must drop it", from_slot=c)

    # The work order: closed in base, open during, closed again after.
    if w is not None:
        scope = m.scope_ranges(w)
        for ri in doc["workorders"][w]["rules"][:3]:
            r = doc["rules"][ri]
            for v6 in (False, True):
                for _ in range(6):
                    p = m.packet_for_rule(r, v6)
                    if p and (any(x["v6"] == v6 for x in scope)):
                        # Aim one end at the scope when the rule allows it.
                        if not m.rule_admits(r, p, (w,)):
                            continue
                    if p and m.rule_admits(r, p, (w,)) and not m.passes(p):
                        plan.add("base", p, "drop", f"work order {wname} closed")
                        plan.add("during", p, "pass", f"work order {wname} open", open_wos=(w,))
                        plan.add("after", p, "drop", f"work order {wname} closed again")
                        break
        base_pass = [p for p in plan.phases["base"] if p["expect"] == "pass"][:3]
        for p in base_pass:
            plan.add("during", {k: p[k] for k in ("proto", "src", "dst", "dport")}, "pass", f"base flow during {wname}", from_slot=p["frm"], open_wos=(w,))
            plan.add("after", {k: p[k] for k in ("proto", "src", "dst", "dport")}, "pass", f"base flow after {wname}", from_slot=p["frm"])
    return plan


# ---------------------------------------------------------------------- running a site


class Runner:
    def __init__(self, lab, index):
        self.lab = lab
        # Fresh source ports per lab (never reused, so no old connection-tracking entry decides).
        self.ports = itertools.count(30000)

    def fresh(self):
        while True:
            p = next(self.ports)
            if p > 65000:  # ~35,000 probes per lab: far more than a run sends
                raise AssertionError("the lab ran out of fresh source ports")
            if p not in self.lab.listening:
                return p

    def round(self, probes, gate=None):
        """Send the probes; -> the ones whose outcome contradicts their claim. `gate(probes)`
        gives {source port: blocked by a gateway on the way} (oracle_gateway.py)."""
        lab = self.lab
        lab.listen(sorted({p["dport"] for p in probes if p["proto"] in ("tcp", "udp")}))
        by_slot = {}
        for p in probes:
            p["sport"] = self.fresh()
            by_slot.setdefault(p["frm"], []).append(dict(
                id=p["sport"], proto=p["proto"], src=p["src"], dst=p["dst"], sport=p["sport"], dport=p["dport"],
                timeout=PASS_WAIT if p["expect"] == "pass" else DROP_WAIT))
        results = lab.probe(by_slot)
        time.sleep(0.05)
        keys = {}
        for p in probes:
            k = [p["proto"], p["dst"], p["sport"], p["sport"] if p["proto"].startswith("icmp") else p["dport"]]
            keys.setdefault(p["to"], []).append(k)
        seen = lab.seen(keys)
        blocked = gate(probes) if gate else {}
        idx = {s: 0 for s in keys}
        wrong = []
        for p in probes:
            arrived = seen[p["to"]][idx[p["to"]]]
            idx[p["to"]] += 1
            res = results.get(str(p["sport"]), "missing")
            req_blocked, reply_blocked = blocked.get(p["sport"], (False, False))
            if p["expect"] == "pass":
                if p["proto"] == "tcp":
                    ok = res == "ok"
                elif p["proto"] == "udp":
                    # A diode's reply may pass the kernel when a gateway on the way drops it.
                    got_reply = res == "reply" and not reply_blocked
                    ok = arrived and (p["reply"] is None or got_reply == p["reply"])
                else:
                    ok = res == "reply"
                ok = ok and not req_blocked
            else:
                ok = (not arrived and res not in ("ok", "reply")) or req_blocked
            if not ok:
                wrong.append((p, "blocked by a gateway" if req_blocked else res, arrived))
        return wrong


def workorder_commands(verb, prep, name, scope):
    """{device: the shell commands `palisade workorder VERB` prints for it}."""
    return workorder_commands_for(verb, prep, name, scope, [])


def gateway_instance_rules(script, device):
    """The rule file a gateway's work-order script installs (`DEV.rules.new`): the script
    itself writes under /etc/suricata and reloads a running Suricata, so the oracle never
    runs it; it replays the file instead."""
    lines, inside = [], False
    for line in script.splitlines():
        if line.startswith(f"cat > /etc/suricata/rules/{device}.rules.new <<"):
            inside = True
        elif inside and line == "PALISADE_EOF":
            return "\n".join(lines) + "\n"
        elif inside:
            lines.append(line)
    return None  # no new file (an IDS gateway's rules do not change): the built rules stay


def workorder_commands_for(verb, prep, name, scope, extra):
    args = ["workorder", verb, name, "--site", prep["dir"], "--scope", *scope, *extra]
    if verb == "open":
        args += ["--duration", "10m"]
    p = palisade_run(*args)
    if p.returncode != 0 and ("no firewall" in p.stderr or "no device" in p.stderr) and "carries rules of work order" in p.stderr:
        return {}  # its rules cross links and bridges only (or not this device): nothing to open
    if p.returncode != 0:
        raise AssertionError(f"palisade {' '.join(map(str, args))} failed: {p.stderr}")
    sections, cur, until = {}, None, None
    for line in p.stdout.splitlines():
        if until is not None:  # inside a here-document: rule files have `# … (…)` lines too
            sections[cur].append(line)
            if line == until:
                until = None
        elif line.startswith("# ") and " (" in line:
            cur = line.split()[1]
            sections[cur] = []
        elif cur is not None:
            sections[cur].append(line)
            m = re.search(r"<<'(\w+)'$", line)
            if m:
                until = m.group(1)
    return {d: "\n".join(ls) + "\n" for d, ls in sections.items()}


def run_site(runner, prep, mutate=None):
    """-> (disagreements, probes sent, claims checked). `mutate` breaks the lab on purpose
    (the oracle's self-test): "open" lets one firewall forward everything, "closed" makes it
    drop everything."""
    seed = prep["seed"]
    rng = random.Random(seed * 7919)
    plan = plan_site(prep, rng)
    lab = runner.lab
    lab.reset()
    lab.load(prep["site"].devices, prep["out"])
    if mutate:
        fw = sorted(e for e, k in prep["site"].devices.items() if k in ("nftables", "iptables"))
        for e in fw[:1]:
            lab.shell(e, "nft flush ruleset; ipset destroy 2>/dev/null; "
                      + ("true" if mutate == "open" else "nft add table inet t; nft add chain inet t f '{ type filter hook forward priority 0; policy drop; }'"))
    out = [dict(kind="model", text=t) for t in plan.model_mismatch]
    sent = 0

    def note(phase, wrong):
        for p, res, arrived in wrong:
            out.append(dict(kind=classify(plan.m, p), phase=phase, probe=p, result=res, arrived=arrived,
                            text=f"[{phase}] {fmt(p)} from {p['frm']}: expected {p['expect']}"
                                 f"{'' if p['reply'] is None or p['expect'] == 'drop' else (' with reply' if p['reply'] else ' without reply')}"
                                 f", got {res}{', arrived' if arrived else ', did not arrive'} -- {p['why']}"))

    gate = None
    if "gateway" in prep["site"].devices.values():
        gate = lambda probes, phase="base": gateway_gate(prep, plan, probes, phase)  # noqa: E731
    note("base", runner.round(plan.phases["base"], gate))
    sent += len(plan.phases["base"])
    if plan.workorder is not None and plan.phases["during"]:
        name = prep["ir"]["workorders"][plan.workorder]["name"]
        scope = prep["site"].workorders[name]
        for verb, phase in (("open", "during"), ("close", "after")):
            for dev, script in workorder_commands(verb, prep, name, scope).items():
                if prep["site"].devices.get(dev) == "gateway":
                    rules = gateway_instance_rules(script, dev)
                    if rules is not None:
                        (prep["out"] / f"{dev}.instance.rules").write_text(rules)
                    continue
                r = lab.shell(dev, script)
                if r.returncode != 0:
                    out.append(dict(kind="workorder", text=f"{verb} {name} on {dev} failed: {r.stderr.strip()}"))
            note(phase, runner.round(plan.phases[phase], gate and (lambda probes, ph=phase: gate(probes, ph))))
            sent += len(plan.phases[phase])
    cats = {}
    for probes in plan.phases.values():
        for p in probes:
            key = (category(p["why"]), "v6" if ":" in p["dst"] else "v4")
            cats[key] = cats.get(key, 0) + 1
    return out, sent, len(plan.claims), cats


_SURICATA = []


def gateway_gate(prep, plan, probes, phase):
    """Replay the probes that cross each gateway through its rules (the order's variant
    while a work order is open): {source port: blocked}."""
    if not _SURICATA:
        _SURICATA.append(Suricata())
    m, site, out = plan.m, prep["site"], prep["out"]
    by_gw = {}
    for p in probes:
        for e, _, _ in crossings(p["frm"], p["to"]):
            if site.devices.get(e) == "gateway":
                by_gw.setdefault(e, []).append(p)
    blocked = {}
    open_wos = (plan.workorder,) if phase == "during" else ()
    for e, ps in by_gw.items():
        rules = out / f"{e}.rules"
        if open_wos and (out / f"{e}.instance.rules").exists():
            rules = out / f"{e}.instance.rules"
        for p in ps:
            if p["proto"] == "tcp" and p["dport"] == 502 and "modbus" not in p:
                fields = [m.doc["rules"][i]["fields"] for i in m.admitting(p, open_wos)]
                p["modbus"] = modbus_allowed(fields[0]) if fields and all(fields) else (3, 1, 0)
        res = oracle_gateway.blocked(_SURICATA[0], rules, out / f"{e}.suricata.yaml", ps, out / f"replay-{e}-{phase}")
        if site.gateway_modes.get(e) == "ids" and any(any(v) for v in res.values()):
            raise AssertionError(f"IDS gateway {e} blocked traffic")
        for k, (req, rep) in res.items():
            old = blocked.get(k, (False, False))
            blocked[k] = (old[0] or req, old[1] or rep)
    return blocked


def classify(m, p):
    """The kind of a kernel disagreement: a known defect's when the compiler's own placement
    (replayed by the model) explains it exactly, else `kernel`."""
    za, zb = m.zone_of(p["src"]), m.zone_of(p["dst"])
    placed = m.compiler_placement(za, zb)
    if p["expect"] == "pass":
        full, n = m.compiler_triples(za, zb)
        route = [t for t in crossings(p["frm"], p["to"]) if m.site.devices.get(t[0]) in ("nftables", "iptables")]
        if n > 64 and any(t in full and t not in placed for t in route):
            return "truncated-paths"
    return "kernel"


def reduce(runner, prep, kind, work, budget=120):
    """A smaller site with a disagreement of the same kind: drop one rule, assertion or
    asset line at a time while the site still compiles and the disagreement remains
    (topology, zones and work orders stay, so the lab's layout still fits)."""
    lines = prep["site"].text.splitlines()
    start = time.time()
    removable = lambda ln: ln.strip().startswith(("allow ", "assert ")) or (ln.strip().startswith("asset ") and ln.rstrip().endswith("}"))  # noqa: E731
    i, tries = len(lines) - 1, 0
    while i >= 0 and time.time() - start < budget:
        if removable(lines[i]):
            trial = lines[:i] + lines[i + 1:]
            tries += 1
            p = prepare(prep["seed"], work, text="\n".join(trial) + "\n", tag=f"-r{tries}", gateways=prep.get("gateways"))
            if "error" not in p:
                dis, *_ = run_site(runner, p)
                if any(d["kind"] == kind for d in dis):
                    lines = trial
        i -= 1
    return "\n".join(lines) + "\n"


def known(d):
    for pred, defect in KNOWN:
        if pred(d):
            return defect
    return None


# ---------------------------------------------------------------------- the test


def test_differential_oracle(tmp_path):
    differential(tmp_path, SEED, SITES, GATEWAYS)


def test_differential_oracle_gateways(tmp_path):
    """The same with an inline Suricata gateway (IPS or IDS) in every site: probes that
    cross one are replayed through its rules (`suricata -r --simulate-ips`)."""
    require("suricata")
    differential(tmp_path, SEED + 100_000, GATEWAY_SITES, True)


def differential(tmp_path, seed0, count, gateways):
    require("ip", "nft", "iptables-restore", "ip6tables-restore", "ipset")
    started = time.time()
    palisade()
    seeds = [seed0 + i for i in range(count)]
    todo = queue.Queue()
    for s in seeds:
        todo.put(s)
    lock = threading.Lock()
    stats = {"sites": 0, "probes": 0, "claims": 0, "skipped": 0, "refused": 0}
    failures = {}  # seed -> list of disagreements
    reduced = set()  # kinds of disagreement already reduced to a minimal site
    by_category = {}  # (claim category, family) -> packets
    knowns = {}
    errors = []

    def worker(index):
        with OracleLab(f"o{index}") as lab:
            lab.build()
            runner = Runner(lab, index)
            while time.time() - started < BUDGET:
                try:
                    seed = todo.get_nowait()
                except queue.Empty:
                    return
                prep = prepare(seed, tmp_path, gateways=gateways)
                if "refused" in prep:
                    with lock:
                        stats["refused"] += 1
                    continue
                if "error" in prep:
                    with lock:
                        failures.setdefault(seed, []).append(dict(kind="compiler", text=prep["error"]))
                        record(f"seed-{seed}", prep, failures[seed])
                    continue
                try:
                    dis, sent, claims, cats = run_site(runner, prep)
                except Exception as e:  # noqa: BLE001 -- reported with the seed, the run goes on
                    dis, sent, claims, cats = [dict(kind="harness", text=f"{type(e).__name__}: {e}")], 0, 0, {}
                with lock:
                    for k, v in cats.items():
                        by_category[k] = by_category.get(k, 0) + v
                    stats["sites"] += 1
                    stats["probes"] += sent
                    stats["claims"] += claims
                    fresh_kinds = []
                    for d in dis:
                        k = known(dict(d, site=prep["site"]))
                        if k:
                            knowns.setdefault(k, []).append((seed, d["text"]))
                            if d["kind"] not in reduced and REDUCE_KNOWN:
                                reduced.add(d["kind"])
                                fresh_kinds.append((d["kind"], f"known-{d['kind']}-seed-{seed}", [d]))
                        else:
                            failures.setdefault(seed, []).append(d)
                            if d["kind"] not in reduced:
                                reduced.add(d["kind"])
                                fresh_kinds.append((d["kind"], f"seed-{seed}", failures[seed]))
                            record(f"seed-{seed}", prep, failures[seed])
                for kind, name, ds in fresh_kinds:
                    if REDUCE and kind in ("kernel", "model", "truncated-paths"):
                        record(name, prep, ds, reduce(runner, prep, kind, tmp_path / "reduce"))

    threads = [threading.Thread(target=lambda i=i: _guard(worker, i, errors)) for i in range(LABS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=BUDGET + 120)
    elapsed = time.time() - started
    stats["skipped"] = todo.qsize()
    n_dis = sum(len(v) for v in failures.values())
    print(f"\ndifferential oracle{' (gateways)' if gateways else ''}: seed {seed0}, {stats['sites']} sites, {stats['probes']} packets probed, "
          f"{stats['claims']} proof claims checked, {n_dis} disagreements in {len(failures)} sites, "
          f"{sum(len(v) for v in knowns.values())} known-defect disagreements, {stats['refused']} sites refused by the build "
          f"(E0915), {stats['skipped']} sites not run, {elapsed:.0f}s")
    for c in sorted({c for c, _ in by_category}):
        print(f"  {c}: {by_category.get((c, 'v4'), 0)} IPv4, {by_category.get((c, 'v6'), 0)} IPv6 packets")
    for k, v in knowns.items():
        print(f"  known defect: {k}: {len(v)} (e.g. seed {v[0][0]}: {v[0][1]})")
    for seed, ds in sorted(failures.items())[:10]:
        print(f"  seed {seed}: {len(ds)} disagreement(s), first: {ds[0]['text']}")
    assert not errors, "\n".join(errors)
    assert stats["skipped"] == 0, f"{stats['skipped']} sites not run within {BUDGET}s"
    assert not failures, f"{n_dis} disagreement(s) in {len(failures)} site(s); repro sites in {out_dir()}"


def _guard(fn, i, errors):
    try:
        fn(i)
    except Exception as e:  # noqa: BLE001
        errors.append(f"lab {i}: {type(e).__name__}: {e}")


def out_dir():
    return Path(os.environ.get("PALISADE_ORACLE_OUT", ROOT / "target" / "oracle-failures"))


def record(name, prep, ds, minimal=None):
    """target/oracle-failures/NAME/: the site, the disagreements, how to replay, and the
    reduced site when there is one."""
    d = out_dir() / name
    d.mkdir(parents=True, exist_ok=True)
    shutil.copy(prep["dir"] / "site.pal", d / "site.pal")
    seed = prep["seed"]
    gw = "PALISADE_ORACLE_GATEWAYS=1 " if prep.get("gateways") else ""
    lines = [f"# replay: {gw}PALISADE_ORACLE_SEED={seed} PALISADE_ORACLE_SITES=1 PALISADE_ORACLE_LABS=1 "
             f"pytest tests/python/test_oracle.py -k 'differential_oracle and not gateways'", ""]
    lines += [f"{x['kind']}: {x['text']}" for x in ds]
    (d / "disagreements.txt").write_text("\n".join(lines) + "\n")
    if minimal is not None:
        (d / "site.min.pal").write_text(f"// oracle seed {seed} (layout), reduced\n" + minimal)


def test_oracle_catches_a_broken_firewall(tmp_path):
    """The oracle's self-test: with one firewall forwarding everything, packets the proofs
    say cannot pass get through; with it dropping everything, witnesses are lost. Both must
    be reported as disagreements, or the oracle proves nothing."""
    require("ip", "nft", "iptables-restore", "ip6tables-restore", "ipset")
    found = {"open": 0, "closed": 0}
    with OracleLab("m") as lab:
        lab.build()
        runner = Runner(lab, 0)
        for seed in range(SEED, SEED + 40):
            prep = prepare(seed, tmp_path)
            if "error" in prep or "refused" in prep or not any(k in ("nftables", "iptables") for k in prep["site"].devices.values()):
                continue
            for mutate in found:
                if found[mutate] < 2:
                    dis, *_ = run_site(runner, prep, mutate=mutate)
                    found[mutate] += any(d["kind"] != "json" for d in dis)
            if min(found.values()) >= 2:
                break
    assert found == {"open": 2, "closed": 2}, f"sites where the broken firewall was noticed: {found}"


def test_oracle_truncated_paths_are_refused(tmp_path):
    """The oracle's reduced site whose placement was cut at 64 paths (a firewall on a cut
    path dropped packets the verifier proves reachable): the build now refuses it (E0915)
    and writes nothing."""
    d = tmp_path / "site"
    d.mkdir()
    (d / "site.pal").write_text((Path(__file__).resolve().parent / "oracle_known" / "truncated_paths.pal").read_text())
    p = palisade_run("build", d, "-o", tmp_path / "out", "--no-verify")
    assert p.returncode == 1 and "error[E0915]" in p.stderr, p.stderr[-1500:]
    assert not (tmp_path / "out").exists()


def test_verify_json_keeps_ipv6_packet_addresses(tmp_path):
    """Counterexample packets in `verify --message-format json` carry exact addresses."""
    (tmp_path / "site.pal").write_text("""site "v6" { timezone "UTC" }
use std.services
zone a { security_level 1; network fd00:1:1::/64; asset h at fd00:1:1::5 { kind server; capability 3 } }
zone b { security_level 1; network fd00:1:2::/64; asset k at fd00:1:2::7 { kind server; capability 3 } }
conduit c: a -> b { allow h -> k : https }
firewall fw { target nftables; interface "a" faces a; interface "b" faces b }
assert no_path a -> b
""")
    doc = json.loads(palisade_run("verify", tmp_path, "--message-format", "json").stdout)
    steps = [s for r in doc["results"] for s in ((r.get("counterexample") or {}).get("steps") or []) if s.get("packet")]
    assert steps
    for s in steps:  # found by the oracle (IPv6 addresses were floats); fixed in fa32b30
        assert s["packet"]["src"] == "fd00:1:1::5" and s["packet"]["dst"] == "fd00:1:2::7"


GATEWAY_REPRO_SITES = ["gateway_ids_e0913.pal", "gateway_ips_e0913.pal"]


@pytest.mark.parametrize("name", GATEWAY_REPRO_SITES)
def test_oracle_gateway_sites_never_fail_validation(name, tmp_path):
    """Sites of the gateway oracle whose build once failed translation validation (E0913: the
    Suricata target placed rules with another path search than the validation). Both searches
    are one now; these sites have more paths than placement follows, so the build refuses
    them (E0915) and never writes rules that differ from the policy."""
    d = tmp_path / "site"
    d.mkdir()
    (d / "site.pal").write_text((Path(__file__).resolve().parent / "oracle_known" / name).read_text())
    p = palisade_run("build", d, "-o", tmp_path / "out", "--no-verify")
    assert "E0913" not in p.stderr, p.stderr[-1500:]
    assert p.returncode == 0 or set(re.findall(r"error\[(E\d{4})\]", p.stderr)) == {"E0915"}, p.stderr[-1500:]


def test_oracle_gateway_rules_load(tmp_path):
    """A gateway whose boundary once negated the whole IPv4 space, which Suricata refuses
    ("Complete IP space negated"): the rules load now."""
    d = tmp_path / "site"
    d.mkdir()
    (d / "site.pal").write_text((Path(__file__).resolve().parent / "oracle_known" / "gateway_negated_ip_space.pal").read_text())
    p = palisade_run("build", d, "-o", tmp_path / "out", "--no-verify")
    assert p.returncode == 0, p.stderr[-1500:]
    sur = Suricata()
    sur.check(tmp_path / "out" / "d2.rules", tmp_path / "out" / "d2.suricata.yaml", tmp_path / "log")
