//! Data flows: every hop of a flow that crosses a zone boundary is carried by an open conduit
//! rule (a push hop by a rule from sender to receiver, a pull hop by one from receiver to
//! sender, an unmarked hop by either) whose service provides the protection the flow
//! requires. Checked for every flow by the profile's `dataflow_protection`, and in the
//! scenarios of `assert dataflow X`.

use crate::assertions::Finding;
use crate::network::Enforcement;
use crate::report::{diagnose, result};
use crate::scenario::{scenarios_for, Scenario};
use crate::witness::{Counterexample, Step};
use crate::{timed, Ctx, Origin, PropertyResult};
use palisade_compiler::address::AddrRange;
use palisade_compiler::ir::{Asset, DataFlow, DataFlowId, HopMode, Property};
use palisade_compiler::Diagnostic;

pub fn check(ctx: &Ctx<'_>) -> (Vec<PropertyResult>, Vec<Diagnostic>) {
    let p = ctx.policy;
    let mut results = Vec::new();
    let mut diags = Vec::new();
    let profile = p.profile_check("dataflow_protection");
    for (i, f) in p.dataflows.iter().enumerate() {
        let id = DataFlowId(i as u32);
        let mut rs = Vec::new();
        for (index, a) in p
            .assertions
            .iter()
            .enumerate()
            .filter(|(_, a)| a.property == Property::DataFlow { dataflow: id })
        {
            for s in scenarios_for(p, a.scenario) {
                let (found, ms) = timed(|| protected(ctx, f, &s));
                let mut r = result(&a.text, Origin::Assertion { index }, &s, found, ms);
                r.location = Some(p.location(a.span));
                rs.push(r);
            }
        }
        if let (Some(check), true) = (profile, rs.is_empty() && (f.integrity || f.confidentiality))
        {
            let s = Scenario::base();
            let (found, ms) = timed(|| protected(ctx, f, &s));
            let mut r = result(
                &format!("dataflow_protection {}", f.name),
                Origin::Profile {
                    check: check.name.clone(),
                },
                &s,
                found,
                ms,
            );
            r.location = Some(p.location(f.span));
            rs.push(r);
        }
        diags.extend(diagnose(p, &rs, "E1301"));
        results.extend(rs);
    }
    (results, diags)
}

fn addrs(a: &Asset) -> Vec<AddrRange> {
    let mut v = vec![a.addr];
    v.extend(a.interfaces.iter().map(|i| i.addr));
    v
}

fn zones(a: &Asset) -> Vec<palisade_compiler::ir::ZoneId> {
    let mut v = vec![a.zone];
    v.extend(a.interfaces.iter().map(|i| i.zone));
    v
}

fn protected(ctx: &Ctx<'_>, f: &DataFlow, s: &Scenario) -> Finding {
    let p = ctx.policy;
    let need = match (f.integrity, f.confidentiality) {
        (true, true) => "integrity and confidentiality",
        (true, false) => "integrity",
        (false, true) => "confidentiality",
        (false, false) => "nothing",
    };
    let mut carried = Vec::new();
    let mut steps = Vec::new();
    let mut failures = Vec::new();
    for hop in &f.hops {
        let (Some(a), Some(b)) = (p.asset(hop.from), p.asset(hop.to)) else {
            continue;
        };
        if zones(a).iter().any(|z| zones(b).contains(z)) {
            continue;
        }
        // Rules open in the scenario that carry the hop, with the direction they carry it.
        let mut carriers = Vec::new();
        let directions: &[(bool, &str)] = match hop.mode {
            Some(HopMode::Push) => &[(true, "push")],
            Some(HopMode::Pull) => &[(false, "pull")],
            None => &[(true, "push"), (false, "pull")],
        };
        for (push, word) in directions {
            let (src, dst) = if *push { (a, b) } else { (b, a) };
            for (ri, r) in p.rules.iter().enumerate() {
                let rid = palisade_compiler::ir::RuleId(ri as u32);
                let covers = |ends: &[AddrRange], x: &Asset| {
                    addrs(x)
                        .iter()
                        .any(|ad| ends.iter().any(|e| e.contains(ad)))
                };
                if !s.is_open(r) || !covers(&r.src.addrs, src) || !covers(&r.dst.addrs, dst) {
                    continue;
                }
                if ctx.net.enforcement_of(r.from, r.to) == Enforcement::Disconnected
                    || !ctx.net.nonempty.get(ri).copied().unwrap_or(false)
                {
                    continue;
                }
                for sid in p.leaf_services(&r.services) {
                    let Some(sv) = p.service(sid) else { continue };
                    let ok = (!f.integrity || sv.integrity)
                        && (!f.confidentiality || sv.confidentiality);
                    carriers.push((rid, sv.name.clone(), *word, ok));
                }
            }
        }
        let hop_text = format!("{} -> {}", a.name, b.name);
        // Every route must protect the data: a rule over an unprotected service beside a
        // protected one carries it unprotected too, and so does an unfiltered path.
        let open_path = zones(a).iter().any(|za| {
            zones(b)
                .iter()
                .any(|zb| ctx.net.enforcement_of(*za, *zb) == Enforcement::Unfiltered)
        });
        if open_path {
            failures.push(format!(
                "`{hop_text}` can travel over an unfiltered path (link, bridge or IDS gateway), which protects nothing"
            ));
            steps.push(Step::new(
                &a.name,
                &b.name,
                "hop",
                Some(p.location(hop.span)),
                "this hop can cross the zone boundary with no device and no protection",
            ));
            continue;
        }
        let weak = carriers.iter().find(|c| !c.3);
        match carriers.iter().find(|c| c.3).filter(|_| weak.is_none()) {
            Some((rid, svc, word, _)) => {
                let rule = p.rule(*rid);
                carried.push(format!(
                    "`{hop_text}` by `{svc}` ({word}{})",
                    rule.and_then(|r| p.conduit(r.conduit))
                        .map(|c| format!(", conduit `{}`", c.name))
                        .unwrap_or_default()
                ));
            }
            None => {
                let why = match weak {
                    Some((rid, svc, word, _)) => {
                        if let Some(r) = p.rule(*rid) {
                            steps.push(Step {
                                from: a.name.clone(),
                                to: b.name.clone(),
                                via: "rule".into(),
                                conduit: p.conduit(r.conduit).map(|c| c.name.clone()),
                                rule: Some(format!("{} -> {}", r.src.label, r.dst.label)),
                                service: Some(svc.clone()),
                                packet: None,
                                packet_text: None,
                                devices: Vec::new(),
                                witness_check: None,
                                location: Some(p.location(r.span)),
                                label: format!("carries `{hop_text}` ({word}) over `{svc}`, which does not provide {need}"),
                            });
                        }
                        let weak: Vec<String> = carriers
                            .iter()
                            .filter(|c| !c.3)
                            .map(|c| format!("`{}`", c.1))
                            .collect();
                        if carriers.iter().any(|c| c.3) {
                            format!(
                                "`{hop_text}` is also carried by {}, which does not provide {need}: every route must",
                                weak.join(", ")
                            )
                        } else {
                            format!(
                                "`{hop_text}` is carried only by {}, none providing {need}",
                                weak.join(", ")
                            )
                        }
                    }
                    None => format!("no rule open in this scenario carries `{hop_text}`"),
                };
                steps.push(Step::new(
                    &a.name,
                    &b.name,
                    "hop",
                    Some(p.location(hop.span)),
                    "this hop crosses a zone boundary unprotected",
                ));
                failures.push(why);
            }
        }
    }
    let checked = format!(
        "every boundary-crossing hop of `{}` is carried by a service providing {need}",
        f.name
    );
    if failures.is_empty() {
        let notes = if carried.is_empty() {
            vec!["no hop crosses a zone boundary".to_string()]
        } else {
            vec![format!("carried: {}", carried.join("; "))]
        };
        return Finding::proved(checked, notes);
    }
    Finding::refuted(
        checked,
        Counterexample {
            summary: failures.join("; "),
            steps,
        },
        Vec::new(),
    )
}
