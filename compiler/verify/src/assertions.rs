//! The site's `assert`s about the network: `no_path`, `only_via`, `isolated`, `reachable`.
//! (`security_level`, `approvals` and `dataflow` assertions are answered by their modules.)

use crate::attack::{AttackGraph, Cut, Hop};
use crate::network::Enforcement;
use crate::packet::{rule_boxes, rule_formula, service_boxes, FieldMode, HeaderBox};
use crate::report::{diagnose, result};
use crate::scenario::{scenarios_for, Scenario};
use crate::solver::Outcome;
use crate::witness::{steps, summarize, Counterexample, Step};
use crate::{timed, Ctx, Origin, PropertyResult, Verdict};
use palisade_compiler::address::{complement, merge, AddrRange};
use palisade_compiler::ir::{Assertion, Place, Policy, Property, ServiceId, Via, ZoneId, EXTERNAL};
use palisade_compiler::Diagnostic;
use z3::ast::Bool;

pub fn check(ctx: &Ctx<'_>) -> (Vec<PropertyResult>, Vec<Diagnostic>) {
    let mut results = Vec::new();
    let mut diags = Vec::new();
    for (index, a) in ctx.policy.assertions.iter().enumerate() {
        let (code, rs) = match &a.property {
            Property::NoPath { from, to } => (
                "E1001",
                per_scenario(ctx, a, index, |s| no_path(ctx, *from, *to, s)),
            ),
            Property::OnlyVia { via, from, to } => (
                "E1002",
                per_scenario(ctx, a, index, |s| only_via(ctx, *via, *from, *to, s)),
            ),
            Property::Isolated { zone } => (
                "E1003",
                per_scenario(ctx, a, index, |s| isolated(ctx, *zone, s)),
            ),
            Property::Reachable { from, to, service } => (
                "E1004",
                per_scenario(ctx, a, index, |s| reachable(ctx, *from, *to, *service, s)),
            ),
            _ => continue,
        };
        diags.extend(diagnose(ctx.policy, &rs, code));
        results.extend(rs);
    }
    (results, diags)
}

/// The verdict of one property in one scenario, before it is dressed as a result.
pub struct Finding {
    pub verdict: Verdict,
    pub checked: String,
    pub counterexample: Option<Counterexample>,
    pub notes: Vec<String>,
}

impl Finding {
    /// The property holds; `checked` says what was established.
    pub fn proved(checked: String, notes: Vec<String>) -> Finding {
        Finding {
            verdict: Verdict::Proved,
            checked,
            counterexample: None,
            notes,
        }
    }

    /// The property fails, shown by `counterexample`.
    pub fn refuted(checked: String, counterexample: Counterexample, notes: Vec<String>) -> Finding {
        Finding {
            verdict: Verdict::Refuted,
            checked,
            counterexample: Some(counterexample),
            notes,
        }
    }

    /// Neither proved nor refuted; `notes` say why.
    pub fn unknown(checked: String, notes: Vec<String>) -> Finding {
        Finding {
            verdict: Verdict::Unknown,
            checked,
            counterexample: None,
            notes,
        }
    }
}

fn per_scenario(
    ctx: &Ctx<'_>,
    a: &Assertion,
    index: usize,
    f: impl Fn(&Scenario) -> Finding,
) -> Vec<PropertyResult> {
    scenarios_for(ctx.policy, a.scenario)
        .iter()
        .map(|s| {
            let (found, ms) = timed(|| f(s));
            let mut r = result(&a.text, Origin::Assertion { index }, s, found, ms);
            r.location = Some(ctx.policy.location(a.span));
            r
        })
        .collect()
}

pub fn place_name(policy: &Policy, p: Place) -> String {
    match p {
        Place::Zone(z) => policy.zone_name(z).to_string(),
        Place::Asset(a) => policy.asset(a).map(|a| a.name.clone()).unwrap_or_default(),
    }
}

/// The zones a place lies in (an asset: its zone and those of its other interfaces).
pub fn place_zones(policy: &Policy, p: Place) -> Vec<ZoneId> {
    match p {
        Place::Zone(z) => vec![z],
        Place::Asset(a) => match policy.asset(a) {
            Some(a) => {
                let mut v = vec![a.zone];
                v.extend(a.interfaces.iter().map(|i| i.zone).filter(|z| *z != a.zone));
                v
            }
            None => Vec::new(),
        },
    }
}

/// Every address of a zone (`external`: every address no declared zone owns).
pub fn zone_addrs(policy: &Policy, z: ZoneId) -> Vec<AddrRange> {
    if z == EXTERNAL {
        return complement(&merge(
            policy
                .zones
                .iter()
                .flat_map(|z| z.networks.iter().map(|n| n.range()))
                .collect(),
        ));
    }
    merge(
        policy
            .zone(z)
            .map(|z| z.networks.iter().map(|n| n.range()).collect())
            .unwrap_or_default(),
    )
}

/// A place's addresses, each with the zone it lies in.
pub fn place_ranges(policy: &Policy, p: Place) -> Vec<(ZoneId, AddrRange)> {
    match p {
        Place::Zone(z) => zone_addrs(policy, z).into_iter().map(|r| (z, r)).collect(),
        Place::Asset(a) => match policy.asset(a) {
            Some(a) => {
                let mut v = vec![(a.zone, a.addr)];
                v.extend(a.interfaces.iter().map(|i| (i.zone, i.addr)));
                v
            }
            None => Vec::new(),
        },
    }
}

fn same_zone(policy: &Policy, from: Place, to: Place) -> Option<Finding> {
    let shared = place_zones(policy, from)
        .into_iter()
        .find(|z| place_zones(policy, to).contains(z))?;
    let step = Step {
        from: place_name(policy, from),
        to: place_name(policy, to),
        via: "inside zone".into(),
        conduit: None,
        rule: None,
        service: None,
        packet: None,
        packet_text: Some("any packet".into()),
        devices: Vec::new(),
        witness_check: None,
        location: policy.zone(shared).map(|z| policy.location(z.span)),
        label: format!(
            "hosts inside zone `{}` reach each other freely",
            policy.zone_name(shared)
        ),
    };
    Some(Finding::refuted(
        format!(
            "`{}` and `{}` share zone `{}`",
            place_name(policy, from),
            place_name(policy, to),
            policy.zone_name(shared)
        ),
        Counterexample {
            summary: format!("both lie in zone `{}`", policy.zone_name(shared)),
            steps: vec![step],
        },
        Vec::new(),
    ))
}

pub fn refuted_by(ctx: &Ctx<'_>, hops: &[Hop], checked: String, cut: &Cut) -> Finding {
    let avoid: Vec<AddrRange> = cut
        .assets
        .iter()
        .flat_map(|(_, r)| r.iter().copied())
        .collect();
    let steps = steps(
        ctx.net,
        &ctx.q,
        hops,
        (!avoid.is_empty()).then_some(avoid.as_slice()),
        cut.device,
    );
    Finding::refuted(
        checked,
        Counterexample {
            summary: summarize(&steps),
            steps,
        },
        Vec::new(),
    )
}

fn graph_size(g: &AttackGraph) -> String {
    format!(
        "{} nodes, {} permitted connections",
        g.graph.node_count(),
        g.graph.edge_count()
    )
}

pub fn no_path(ctx: &Ctx<'_>, from: Place, to: Place, s: &Scenario) -> Finding {
    let p = ctx.policy;
    if let Some(f) = same_zone(p, from, to) {
        return f;
    }
    let g = ctx.graph(s);
    let (a, b) = (place_name(p, from), place_name(p, to));
    match g.chain(&place_zones(p, from), &place_zones(p, to)) {
        None => Finding::proved(format!("no chain of permitted connections, links or bridges leads from `{a}` to `{b}` (attack graph: {})", graph_size(&g)), Vec::new()),
        Some(hops) => refuted_by(ctx, &hops, format!("a chain of permitted connections leads from `{a}` to `{b}`"), &Cut::default()),
    }
}

pub fn only_via(ctx: &Ctx<'_>, via: Via, from: Place, to: Place, s: &Scenario) -> Finding {
    let p = ctx.policy;
    let (a, b) = (place_name(p, from), place_name(p, to));
    let (cut, what) = match via {
        Via::Device(d) => (
            Cut {
                device: Some(d),
                ..Cut::default()
            },
            format!(
                "device `{}`",
                p.device(d).map(|d| d.name.as_str()).unwrap_or("?")
            ),
        ),
        Via::Conduit(c) => (
            Cut {
                conduit: Some(c),
                ..Cut::default()
            },
            format!(
                "conduit `{}`",
                p.conduit(c).map(|c| c.name.as_str()).unwrap_or("?")
            ),
        ),
        Via::Asset(x) => {
            let ranges = place_ranges(p, Place::Asset(x))
                .into_iter()
                .map(|(_, r)| r)
                .collect();
            (
                Cut {
                    assets: vec![(x, ranges)],
                    ..Cut::default()
                },
                format!(
                    "asset `{}`",
                    p.asset(x).map(|a| a.name.as_str()).unwrap_or("?")
                ),
            )
        }
    };
    if let Some(mut f) = same_zone(p, from, to) {
        f.checked = format!("{}; no {what} lies between them", f.checked);
        return f;
    }
    let g = AttackGraph::build(ctx.net, s, &cut);
    match g.chain(&place_zones(p, from), &place_zones(p, to)) {
        None => {
            let mut notes = Vec::new();
            if ctx
                .graph(s)
                .chain(&place_zones(p, from), &place_zones(p, to))
                .is_none()
            {
                notes.push(format!(
                    "vacuous: no chain leads from `{a}` to `{b}` at all in this scenario"
                ));
            }
            Finding::proved(format!("with {what} taken out, no chain of permitted connections leads from `{a}` to `{b}` (attack graph: {})", graph_size(&g)), notes)
        }
        Some(hops) => refuted_by(
            ctx,
            &hops,
            format!("a chain from `{a}` to `{b}` avoids {what}"),
            &cut,
        ),
    }
}

pub fn isolated(ctx: &Ctx<'_>, zone: Place, s: &Scenario) -> Finding {
    let p = ctx.policy;
    let g = ctx.graph(s);
    let name = place_name(p, zone);
    let hops: Vec<Hop> = place_zones(p, zone)
        .into_iter()
        .flat_map(|z| g.incident(z))
        .collect();
    match hops.first() {
        None => Finding::proved(
            format!("no permitted connection, link or bridge enters or leaves `{name}`"),
            Vec::new(),
        ),
        Some(h) => refuted_by(
            ctx,
            std::slice::from_ref(h),
            format!(
                "`{name}` has {} permitted connection(s) in or out",
                hops.len()
            ),
            &Cut::default(),
        ),
    }
}

/// Is there a packet from `from` to `to` (of `service`) that the network admits in `s`?
pub fn reachable(
    ctx: &Ctx<'_>,
    from: Place,
    to: Place,
    service: Option<ServiceId>,
    s: &Scenario,
) -> Finding {
    let p = ctx.policy;
    let net = &ctx.net;
    let (a, b) = (place_name(p, from), place_name(p, to));
    let svc_name = service
        .and_then(|x| p.service(x))
        .map(|x| format!(" over `{}`", x.name))
        .unwrap_or_default();
    if let Some(f) = same_zone(p, from, to) {
        return Finding::proved(
            f.checked + ": hosts inside a zone reach each other freely",
            Vec::new(),
        );
    }
    let srcs = place_ranges(p, from);
    let dsts = place_ranges(p, to);
    // The exact engine: boxes of every admitted packet between the places.
    let svc_boxes: Vec<HeaderBox> = match service {
        Some(x) => service_boxes(p, None, &[x], FieldMode::PortLevel),
        None => vec![HeaderBox::all()],
    };
    let mut exact: Option<crate::packet::Packet> = None;
    let mut paths = Vec::new();
    for (za, ra) in &srcs {
        for (zb, rb) in &dsts {
            let e = net.enforcement_of(*za, *zb);
            let Some(ab) = HeaderBox::addresses(ra, rb) else {
                continue;
            };
            let rules = net.open_rules(*za, *zb, s);
            let allowed: Vec<HeaderBox> = match e {
                Enforcement::Disconnected => continue,
                Enforcement::Unfiltered => vec![HeaderBox::all()],
                _ => rules
                    .iter()
                    .flat_map(|r| {
                        p.rule(*r)
                            .map(|x| rule_boxes(p, x, e.field_mode(), net.scope_of(*r)))
                            .unwrap_or_default()
                    })
                    .collect(),
            };
            paths.push((*za, *zb, e, rules));
            if exact.is_none() {
                exact = svc_boxes
                    .iter()
                    .flat_map(|sb| allowed.iter().map(move |x| ab.intersect(sb).intersect(x)))
                    .find(|x| !x.is_empty())
                    .map(|x| x.sample());
            }
        }
    }
    let outcome = ctx.q.solve(&format!("reachable-{a}-{b}"), |pk| {
        let mut clauses = Vec::new();
        for (za, ra) in &srcs {
            for (zb, rb) in &dsts {
                let e = net.enforcement_of(*za, *zb);
                let ends = Bool::and(&[
                    pk.src_in(std::slice::from_ref(ra)),
                    pk.dst_in(std::slice::from_ref(rb)),
                ]);
                let admitted = match e {
                    Enforcement::Disconnected => continue,
                    Enforcement::Unfiltered => Bool::from_bool(true),
                    _ => {
                        let rs: Vec<Bool> = net
                            .open_rules(*za, *zb, s)
                            .iter()
                            .filter_map(|r| {
                                p.rule(*r).map(|x| {
                                    rule_formula(p, x, pk, e.field_mode(), net.scope_of(*r))
                                })
                            })
                            .collect();
                        Bool::or(&rs)
                    }
                };
                clauses.push(Bool::and(&[ends, admitted]));
            }
        }
        let svc = match service {
            Some(x) => pk.service(p, None, &[x], FieldMode::PortLevel),
            None => Bool::from_bool(true),
        };
        Bool::and(&[Bool::or(&clauses), svc])
    });
    let how = |za: ZoneId, zb: ZoneId, e: Enforcement| -> String {
        let devices: Vec<String> = net
            .path_devices(za, zb, e, None)
            .iter()
            .filter_map(|d| p.device(*d))
            .map(|d| format!("`{}`", d.name))
            .collect();
        if devices.is_empty() {
            "unfiltered".to_string()
        } else {
            format!("through {}", devices.join(", "))
        }
    };
    match (outcome, exact) {
        (Outcome::Sat(pk), Some(_)) => {
            let (za, zb) = (p.zone_of_addr(pk.v6, pk.src), p.zone_of_addr(pk.v6, pk.dst));
            let e = net.enforcement_of(za, zb);
            Finding::proved(format!("a packet from `{a}` to `{b}`{svc_name} is admitted: {} ({}); z3 and the exact engine agree", pk.describe(None), how(za, zb, e)), Vec::new())
        }
        (Outcome::Unsat, None) => {
            let mut notes = Vec::new();
            for (za, zb, e, rules) in &paths {
                let all = net.pairs.get(&(*za, *zb)).cloned().unwrap_or_default();
                let closed: Vec<String> = all
                    .iter()
                    .filter(|r| !rules.contains(r))
                    .filter_map(|r| p.rule(*r))
                    .filter_map(|r| r.workorder.and_then(|w| p.workorder(w)))
                    .map(|w| format!("`{}`", w.name))
                    .collect();
                let mut line = format!(
                    "`{}` -> `{}` ({}): {} open rule(s) admit nothing{svc_name} here",
                    p.zone_name(*za),
                    p.zone_name(*zb),
                    how(*za, *zb, *e),
                    rules.len()
                );
                if !closed.is_empty() {
                    line.push_str(&format!(
                        "; rules under {} are closed in this scenario",
                        closed.join(", ")
                    ));
                }
                notes.push(line);
            }
            if paths.is_empty() {
                notes.push(format!(
                    "no device, link or bridge joins the zones of `{a}` and `{b}`"
                ));
            }
            Finding::refuted(format!("no packet from `{a}` to `{b}`{svc_name} is admitted (z3 unsat, exact engine empty)"), Counterexample { summary: format!("nothing from `{a}` reaches `{b}`{svc_name}"), steps: Vec::new() }, notes)
        }
        (Outcome::Unknown(why), _) => Finding::unknown(
            format!("whether a packet from `{a}` to `{b}`{svc_name} is admitted"),
            vec![format!("z3: {why}")],
        ),
        (o, e) => Finding::unknown(
            format!("whether a packet from `{a}` to `{b}`{svc_name} is admitted"),
            vec![format!(
                "the engines disagree: z3 {}, exact engine {}",
                o.word(),
                if e.is_some() { "non-empty" } else { "empty" }
            )],
        ),
    }
}

/// Extension used above: the zone of a single address.
trait ZoneOfAddr {
    fn zone_of_addr(&self, v6: bool, a: u128) -> ZoneId;
}

impl ZoneOfAddr for Policy {
    fn zone_of_addr(&self, v6: bool, a: u128) -> ZoneId {
        self.zone_of(AddrRange::single(v6, a))
    }
}
