//! Counterexamples: a concrete packet for every conduit rule on an attack path, found by Z3
//! and checked by the concrete evaluator, and the path rendered for people and for JSON.

use crate::attack::Hop;
use crate::network::{Enforcement, Network};
use crate::packet::{matched_service, rule_admits, rule_formula, uncovered, Packet};
use crate::solver::{Outcome, Queries};
use palisade_compiler::address::AddrRange;
use palisade_compiler::diagnostic::{Diagnostic, Location};
use palisade_compiler::ir::{Policy, RuleId, ZoneId};
use serde::Serialize;
use z3::ast::Bool;

/// One step of a counterexample.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Step {
    pub from: String,
    pub to: String,
    /// `rule`, `link`, `bridge`, `inside zone`.
    pub via: String,
    pub conduit: Option<String>,
    /// The rule as written in the source, when a rule admits the step.
    pub rule: Option<String>,
    pub service: Option<String>,
    pub packet: Option<Packet>,
    /// The packet for people: addresses, protocol, ports, fields.
    pub packet_text: Option<String>,
    /// The enforcement devices the packet crosses.
    pub devices: Vec<String>,
    /// How the witness was found and checked (`z3 sat, evaluated`).
    pub witness_check: Option<String>,
    pub location: Option<Location>,
    /// The label shown on the source.
    pub label: String,
}

/// A concrete refutation: the steps from the first zone to the last.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Default)]
pub struct Counterexample {
    pub summary: String,
    pub steps: Vec<Step>,
}

impl Step {
    /// A step that no rule or packet admits (a hop, a bridge, a failing control): `via`
    /// says what it is, `label` sits on the source at `location`.
    pub fn new(
        from: impl Into<String>,
        to: impl Into<String>,
        via: &str,
        location: Option<Location>,
        label: impl Into<String>,
    ) -> Step {
        Step {
            from: from.into(),
            to: to.into(),
            via: via.into(),
            conduit: None,
            rule: None,
            service: None,
            packet: None,
            packet_text: None,
            devices: Vec::new(),
            witness_check: None,
            location,
            label: label.into(),
        }
    }
}

impl Counterexample {
    /// Put the steps on a diagnostic as secondary labels, and the packets into notes.
    pub fn decorate(&self, mut d: Diagnostic) -> Diagnostic {
        for (i, s) in self.steps.iter().enumerate() {
            if let Some(loc) = &s.location {
                d = d.secondary(loc.clone(), format!("step {}: {}", i + 1, s.label));
            }
        }
        for (i, s) in self.steps.iter().enumerate() {
            let mut line = format!("step {}: `{}` -> `{}` by {}", i + 1, s.from, s.to, s.via);
            if let Some(c) = &s.conduit {
                line.push_str(&format!(" in conduit `{c}`"));
            }
            if let Some(p) = &s.packet_text {
                line.push_str(&format!(": {p}"));
            }
            if !s.devices.is_empty() {
                line.push_str(&format!(" through {}", s.devices.join(", ")));
            }
            d = d.note(line);
        }
        d
    }
}

/// Find a packet a rule admits between two zones, under the pair's enforcement, avoiding
/// `avoid` addresses at both ends: Z3 first, the exact engine when the solver gives up. The
/// packet is checked against the concrete evaluator either way.
pub fn rule_witness(
    net: &Network<'_>,
    q: &Queries,
    rule: RuleId,
    enforcement: Enforcement,
    avoid: Option<&[AddrRange]>,
) -> Option<(Packet, String)> {
    let policy = net.policy;
    let r = policy.rule(rule)?;
    let mode = enforcement.field_mode();
    let scope = net.scope_of(rule);
    let label = format!("witness-rule-{}", rule.0);
    let outcome = q.solve(&label, |p| {
        let mut parts = vec![rule_formula(policy, r, p, mode, scope)];
        if let Some(avoid) = avoid {
            parts.push(p.src_in(avoid).not());
            parts.push(p.dst_in(avoid).not());
        }
        Bool::and(&parts)
    });
    let valid =
        |p: &Packet| rule_admits(policy, r, p, mode, scope) && avoid.is_none_or(|a| !in_any(a, p));
    match outcome {
        Outcome::Sat(p) if valid(&p) => Some((p, "z3 sat; packet checked by the evaluator".into())),
        other => {
            let boxes = net.boxes(rule, enforcement);
            let boxes = match avoid {
                Some(a) => Network::without_addresses(&boxes, a),
                None => boxes,
            };
            let p = boxes.iter().find(|b| !b.is_empty()).map(|b| b.sample())?;
            valid(&p).then(|| {
                (
                    p,
                    format!(
                        "exact engine (z3 {}); packet checked by the evaluator",
                        other.word()
                    ),
                )
            })
        }
    }
}

fn in_any(ranges: &[AddrRange], p: &Packet) -> bool {
    ranges.iter().any(|r| {
        r.v6 == p.v6 && ((r.lo <= p.src && p.src <= r.hi) || (r.lo <= p.dst && p.dst <= r.hi))
    })
}

/// Whether `a` covers `b` entirely (the exact engine), for callers that compare rule sets.
pub fn covers(a: &[crate::packet::HeaderBox], b: &crate::packet::HeaderBox) -> bool {
    uncovered(b, a).is_none()
}

fn device_names(policy: &Policy, devices: &[palisade_compiler::ir::DeviceId]) -> Vec<String> {
    devices
        .iter()
        .filter_map(|d| policy.device(*d))
        .map(|d| format!("`{}`", d.name))
        .collect()
}

/// The steps of an attack path, with a witness packet for every rule step.
pub fn steps(
    net: &Network<'_>,
    q: &Queries,
    hops: &[Hop],
    avoid: Option<&[AddrRange]>,
    removed: Option<palisade_compiler::ir::DeviceId>,
) -> Vec<Step> {
    let policy = net.policy;
    let zn = |z: ZoneId| policy.zone_name(z).to_string();
    hops.iter()
        .map(|h| match h {
            Hop::Rules {
                from,
                to,
                rules,
                enforcement,
            } => {
                let witness = rules
                    .iter()
                    .find_map(|r| rule_witness(net, q, *r, *enforcement, avoid).map(|w| (*r, w)));
                let rid = witness.as_ref().map(|(r, _)| *r).or(rules.first().copied());
                let rule = rid.and_then(|r| policy.rule(r));
                let conduit = rule
                    .and_then(|r| policy.conduit(r.conduit))
                    .map(|c| c.name.clone());
                let devices =
                    device_names(policy, &net.path_devices(*from, *to, *enforcement, removed));
                let (packet, check) = match witness {
                    Some((_, (p, c))) => (Some(p), Some(c)),
                    None => (None, None),
                };
                let service = match (rule, packet) {
                    (Some(r), Some(p)) => matched_service(policy, r, &p)
                        .and_then(|s| policy.service(s))
                        .map(|s| s.name.clone()),
                    _ => None,
                };
                let family = match (rule, enforcement) {
                    (Some(r), Enforcement::Inspected) => r.fields.as_ref().map(|f| f.family),
                    _ => None,
                };
                let packet_text = packet.map(|p| match &service {
                    Some(s) => format!("{} ({s})", p.describe(family)),
                    None => p.describe(family),
                });
                let mut label = format!("`{}` -> `{}`", zn(*from), zn(*to));
                if let Some(t) = &packet_text {
                    label = format!("admits {t}");
                }
                if !devices.is_empty() {
                    label.push_str(&format!(" through {}", devices.join(", ")));
                }
                if let Some(w) = rule
                    .and_then(|r| r.workorder)
                    .and_then(|w| policy.workorder(w))
                {
                    label.push_str(&format!(" while `{}` is open", w.name));
                }
                Step {
                    from: zn(*from),
                    to: zn(*to),
                    via: "rule".into(),
                    conduit,
                    rule: rule.map(|r| format!("{} -> {}", r.src.label, r.dst.label)),
                    service,
                    packet,
                    packet_text,
                    devices,
                    witness_check: check,
                    location: rule.map(|r| policy.location(r.span)),
                    label,
                }
            }
            Hop::Link { link, from, to } => {
                let l = policy.links.get(link.index());
                Step {
                    from: zn(*from),
                    to: zn(*to),
                    via: "link".into(),
                    conduit: None,
                    rule: None,
                    service: None,
                    packet: None,
                    packet_text: Some("any packet (unfiltered)".into()),
                    devices: Vec::new(),
                    witness_check: None,
                    location: l.map(|l| policy.location(l.span)),
                    label: format!(
                        "link `{}` joins `{}` and `{}` with no firewall",
                        l.map(|l| l.name.as_str()).unwrap_or("?"),
                        zn(*from),
                        zn(*to)
                    ),
                }
            }
            Hop::Monitored { device, from, to } => {
                let d = policy.device(*device);
                Step {
                    packet_text: Some("any packet (monitored, not filtered)".into()),
                    devices: d.map(|d| d.name.clone()).into_iter().collect(),
                    ..Step::new(
                        zn(*from),
                        zn(*to),
                        "ids_gateway",
                        d.map(|d| policy.location(d.span)),
                        format!(
                            "gateway `{}` is in IDS mode: it watches `{}` -> `{}` and drops nothing",
                            d.map(|d| d.name.as_str()).unwrap_or("?"),
                            zn(*from),
                            zn(*to)
                        ),
                    )
                }
            }
            Hop::IntoBridge { asset, from } => {
                let a = policy.asset(*asset);
                let name = a.map(|a| a.name.clone()).unwrap_or_default();
                Step {
                    from: zn(*from),
                    to: name.clone(),
                    via: "bridge".into(),
                    conduit: None,
                    rule: None,
                    service: None,
                    packet: None,
                    packet_text: Some("any packet (inside the zone)".into()),
                    devices: Vec::new(),
                    witness_check: None,
                    location: a.map(|a| policy.location(a.span)),
                    label: format!("bridge `{name}` has an interface in `{}`", zn(*from)),
                }
            }
            Hop::OutOfBridge { asset, to } => {
                let a = policy.asset(*asset);
                let name = a.map(|a| a.name.clone()).unwrap_or_default();
                Step {
                    from: name.clone(),
                    to: zn(*to),
                    via: "bridge".into(),
                    conduit: None,
                    rule: None,
                    service: None,
                    packet: None,
                    packet_text: Some("any packet (unfiltered)".into()),
                    devices: Vec::new(),
                    witness_check: None,
                    location: None,
                    label: format!("bridge `{name}` forwards into `{}`", zn(*to)),
                }
            }
        })
        .collect()
}

/// One line: `enterprise -> dmz -> control`, with the first packet.
pub fn summarize(steps: &[Step]) -> String {
    let mut names: Vec<&str> = Vec::new();
    for s in steps {
        if names.is_empty() {
            names.push(&s.from);
        }
        names.push(&s.to);
    }
    let chain = names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(" -> ");
    let packets: Vec<String> = steps
        .iter()
        .filter(|s| s.packet.is_some())
        .filter_map(|s| s.packet_text.clone())
        .collect();
    match packets.as_slice() {
        [] => chain,
        [p] => format!("{chain}; packet {p}"),
        ps => format!("{chain}; packets {}", ps.join("; then ")),
    }
}
