//! The site's profile (the Palisade default profile, `std.profile`, with the site's
//! adjustments): the checks about the network. `two_person_approval` and
//! `break_glass_limits` live in [`crate::approvals`], `dataflow_protection` in
//! [`crate::dataflows`].
//!
//! Levels compare with a zone's highest SL-T over the seven FRs.

use crate::assertions::{place_ranges, refuted_by, Finding};
use crate::attack::{AttackGraph, Cut};
use crate::levels::reliance_holds;
use crate::network::Enforcement;
use crate::report::{diagnose, result};
use crate::scenario::{scenarios, Scenario};
use crate::witness::{Counterexample, Step};
use crate::{timed, Ctx, Origin, PropertyResult};
use palisade_compiler::ir::{
    AssetId, EndpointRef, Place, Policy, ProfileCheck, Rule, RuleId, ZoneId, EXTERNAL,
};
use palisade_compiler::Diagnostic;

/// A zone's highest SL-T over the FRs.
pub fn level(p: &Policy, z: ZoneId) -> u8 {
    p.zone(z)
        .map(|z| z.security_level.0.iter().copied().max().unwrap_or(0))
        .unwrap_or(0)
}

pub fn check(ctx: &Ctx<'_>) -> (Vec<PropertyResult>, Vec<Diagnostic>) {
    let mut results = Vec::new();
    let mut diags = Vec::new();
    let p = ctx.policy;
    let mut run = |name: &str, code: &str, f: &dyn Fn(&ProfileCheck) -> Vec<PropertyResult>| {
        if let Some(c) = p.profile_check(name) {
            let rs = f(c);
            diags.extend(diagnose(p, &rs, code));
            results.extend(rs);
        }
    };
    run("external_via_jump_host", "E1401", &|c| {
        external_via_jump_host(ctx, c)
    });
    run("firewall_on_conduits", "E1402", &|c| {
        firewall_on_conduits(ctx, c)
    });
    run("inspected_writes", "E1403", &|c| inspected_writes(ctx, c));
    run("no_broad_rules", "E1404", &|c| no_broad_rules(ctx, c));
    (results, diags)
}

fn origin(c: &ProfileCheck) -> Origin {
    Origin::Profile {
        check: c.name.clone(),
    }
}

fn external_via_jump_host(ctx: &Ctx<'_>, c: &ProfileCheck) -> Vec<PropertyResult> {
    let p = ctx.policy;
    let min = c.int("min_level").unwrap_or(2) as u8;
    let jump_hosts: Vec<(AssetId, Vec<palisade_compiler::address::AddrRange>)> =
        (0..p.assets.len())
            .map(|i| AssetId(i as u32))
            .filter(|a| {
                p.asset(*a)
                    .is_some_and(|x| x.kind.as_deref() == Some("jump_host"))
            })
            .map(|a| {
                (
                    a,
                    place_ranges(p, Place::Asset(a))
                        .into_iter()
                        .map(|(_, r)| r)
                        .collect(),
                )
            })
            .collect();
    let targets: Vec<ZoneId> = (1..p.zones.len())
        .map(|z| ZoneId(z as u32))
        .filter(|z| level(p, *z) >= min)
        .collect();
    let cut = Cut {
        assets: jump_hosts,
        ..Cut::default()
    };
    let (dropped, cut_ms) = timed(|| cut.dropped_rules(ctx.net));
    let all = scenarios(p);
    let mut out = Vec::new();
    for s in all.iter() {
        let ((g, reach), build_ms) = timed(|| {
            let g = AttackGraph::build_with(ctx.net, s, &cut, &dropped);
            let reach = g.reachable(&[EXTERNAL]);
            (g, reach)
        });
        for z in &targets {
            let (f, ms) = timed(|| {
                let checked = format!("with every jump host taken out, no chain leads from `external` to `{}` (SL-T {})", p.zone_name(*z), level(p, *z));
                if !reach.contains(z) {
                    return Finding::proved(checked, Vec::new());
                }
                match g.chain(&[EXTERNAL], &[*z]) {
                    Some(hops) => refuted_by(ctx, &hops, checked, &cut),
                    None => Finding::unknown(
                        checked,
                        vec!["the reachable set and the path search disagree".into()],
                    ),
                }
            });
            let shared =
                (build_ms + cut_ms / all.len().max(1) as f64) / targets.len().max(1) as f64;
            let mut r = result(
                &format!("external_via_jump_host {}", p.zone_name(*z)),
                origin(c),
                s,
                f,
                ms + shared,
            );
            r.location = p.zone(*z).map(|x| p.location(x.span));
            out.push(r);
        }
    }
    out
}

fn firewall_on_conduits(ctx: &Ctx<'_>, c: &ProfileCheck) -> Vec<PropertyResult> {
    let p = ctx.policy;
    let min = c.int("min_level").unwrap_or(3) as u8;
    let base = Scenario::base();
    let mut out = Vec::new();
    for conduit in &p.conduits {
        let mut ends = vec![(conduit.from, conduit.to)];
        if conduit.bidirectional {
            ends.push((conduit.to, conduit.from));
        }
        let ends: Vec<(ZoneId, ZoneId)> = ends
            .into_iter()
            .filter(|(_, to)| level(p, *to) >= min)
            .collect();
        if ends.is_empty() {
            continue;
        }
        let (f, ms) = timed(|| {
            let checked = format!(
                "every path of conduit `{}` crosses a firewall or gateway",
                conduit.name
            );
            for (a, b) in &ends {
                if ctx.net.enforcement_of(*a, *b) == Enforcement::Unfiltered {
                    let path = ctx.net.topology.shortest(*a, *b, |x| !x.is_filtered());
                    let via: Vec<String> = path
                        .map(|pa| {
                            pa.steps
                                .iter()
                                .map(|s| match &s.via {
                                    palisade_compiler::topology::Crossing::Link(l) => format!(
                                        "link `{}`",
                                        p.links
                                            .get(l.index())
                                            .map(|x| x.name.as_str())
                                            .unwrap_or("?")
                                    ),
                                    palisade_compiler::topology::Crossing::Bridge(x) => format!(
                                        "bridge `{}`",
                                        p.asset(*x).map(|x| x.name.as_str()).unwrap_or("?")
                                    ),
                                    _ => String::new(),
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    return Finding::refuted(
                        checked,
                        Counterexample {
                            summary: format!(
                                "`{}` reaches `{}` (SL-T {}) with no device on the way, through {}",
                                p.zone_name(*a),
                                p.zone_name(*b),
                                level(p, *b),
                                via.join(", ")
                            ),
                            steps: Vec::new(),
                        },
                        Vec::new(),
                    );
                }
            }
            Finding::proved(checked, Vec::new())
        });
        let mut r = result(
            &format!("firewall_on_conduits {}", conduit.name),
            origin(c),
            &base,
            f,
            ms,
        );
        r.location = Some(p.location(conduit.span));
        out.push(r);
    }
    out
}

/// The scenario in which a rule is open.
fn rule_scenario(p: &Policy, r: &Rule) -> Scenario {
    match r.workorder {
        Some(w) => Scenario::work_order(p, w),
        None => Scenario::base(),
    }
}

/// The assets a rule's destination covers.
fn destination_assets(ctx: &Ctx<'_>, r: &Rule) -> Vec<AssetId> {
    let p = ctx.policy;
    crate::levels::zone_assets(ctx, r.to)
        .into_iter()
        .filter(|a| {
            p.asset(*a)
                .is_some_and(|x| r.dst.addrs.iter().any(|d| d.contains(&x.addr)))
        })
        .collect()
}

fn inspected_writes(ctx: &Ctx<'_>, c: &ProfileCheck) -> Vec<PropertyResult> {
    let p = ctx.policy;
    let min = c.int("min_level").unwrap_or(3) as u8;
    let mut out = Vec::new();
    for r in &p.rules {
        let industrial: Vec<String> = p
            .leaf_services(&r.services)
            .iter()
            .filter_map(|s| p.service(*s))
            .filter(|s| s.inspect.is_some())
            .map(|s| s.name.clone())
            .collect();
        if industrial.is_empty() || level(p, r.to) < min {
            continue;
        }
        let s = rule_scenario(p, r);
        let (f, ms) = timed(|| {
            let checked = format!("`{}` into `{}` (SL-T {}) is restricted to named functions and inspected by a gateway, or compensated", industrial.join(", "), p.zone_name(r.to), level(p, r.to));
            let named = r
                .fields
                .as_ref()
                .is_some_and(|f| !f.enforced_functions().is_empty());
            let inspected = ctx.net.enforcement_of(r.from, r.to) == Enforcement::Inspected;
            if named && inspected {
                let gws: Vec<String> = ctx
                    .net
                    .path_devices(r.from, r.to, Enforcement::Inspected, None)
                    .iter()
                    .filter(|d| p.device(**d).is_some_and(|x| x.inspects()))
                    .filter_map(|d| p.device(*d))
                    .map(|d| format!("`{}`", d.name))
                    .collect();
                return Finding::proved(
                    checked,
                    vec![format!(
                        "inspected by {} (on a shortest path; every path crosses a gateway)",
                        gws.join(", ")
                    )],
                );
            }
            let assets = destination_assets(ctx, r);
            let compensated: Vec<Result<String, String>> = assets
                .iter()
                .map(|a| {
                    let Some(x) = p.asset(*a) else {
                        return Err(String::new());
                    };
                    let mut why_not = format!("`{}` has no compensating control", x.name);
                    for cc in &x.compensating {
                        match reliance_holds(ctx, *a, cc, &s) {
                            Ok(why) => return Ok(format!("`{}`: {why}", x.name)),
                            Err(why) => why_not = format!("`{}`: {why}", x.name),
                        }
                    }
                    Err(why_not)
                })
                .collect();
            if !assets.is_empty() && compensated.iter().all(|x| x.is_ok()) {
                let notes = compensated
                    .into_iter()
                    .filter_map(|x| x.ok())
                    .map(|x| format!("compensated: {x}"))
                    .collect();
                return Finding::proved(checked, notes);
            }
            let mut reasons = Vec::new();
            if !named {
                reasons
                    .push("it is not restricted to named functions, so it can write".to_string());
            }
            if !inspected {
                reasons.push(format!(
                    "no gateway lies on every path from `{}` to `{}`",
                    p.zone_name(r.from),
                    p.zone_name(r.to)
                ));
            }
            let notes = compensated
                .into_iter()
                .filter_map(|x| x.err())
                .filter(|x| !x.is_empty())
                .map(|x| format!("not compensated: {x}"))
                .collect();
            Finding::refuted(
                checked,
                Counterexample {
                    summary: format!(
                        "rule `{} -> {}` could write: {}",
                        r.src.label,
                        r.dst.label,
                        reasons.join("; ")
                    ),
                    steps: Vec::new(),
                },
                notes,
            )
        });
        let mut res = result(
            &format!("inspected_writes {} -> {}", r.src.label, r.dst.label),
            origin(c),
            &s,
            f,
            ms,
        );
        res.location = Some(p.location(r.span));
        out.push(res);
    }
    out
}

pub fn rule_step(p: &Policy, rid: RuleId, label: &str) -> Step {
    let r = p.rule(rid);
    Step {
        from: r
            .map(|r| p.zone_name(r.from).to_string())
            .unwrap_or_default(),
        to: r.map(|r| p.zone_name(r.to).to_string()).unwrap_or_default(),
        via: "rule".into(),
        conduit: r.and_then(|r| p.conduit(r.conduit)).map(|c| c.name.clone()),
        rule: r.map(|r| format!("{} -> {}", r.src.label, r.dst.label)),
        service: None,
        packet: None,
        packet_text: None,
        devices: Vec::new(),
        witness_check: None,
        location: r.map(|r| p.location(r.span)),
        label: label.to_string(),
    }
}

/// Whether a rule's source is `external`, `any` or a whole zone.
pub fn broad_source(p: &Policy, r: &Rule) -> Option<String> {
    if r.from == EXTERNAL {
        return Some("`external`".into());
    }
    match r.src.target {
        EndpointRef::Any => Some("`any`".into()),
        EndpointRef::Zone(z) => Some(format!("the whole zone `{}`", p.zone_name(z))),
        _ => {
            let zone: Vec<palisade_compiler::address::AddrRange> = p
                .zone(r.from)
                .map(|z| z.networks.iter().map(|n| n.range()).collect())
                .unwrap_or_default();
            (!zone.is_empty()
                && zone
                    .iter()
                    .all(|n| r.src.addrs.iter().any(|a| a.contains(n))))
            .then(|| format!("every address of zone `{}`", p.zone_name(r.from)))
        }
    }
}

fn no_broad_rules(ctx: &Ctx<'_>, c: &ProfileCheck) -> Vec<PropertyResult> {
    let p = ctx.policy;
    let min = c.int("min_level").unwrap_or(3) as u8;
    let mut out = Vec::new();
    for r in &p.rules {
        if level(p, r.to) < min {
            continue;
        }
        let s = rule_scenario(p, r);
        let (f, ms) = timed(|| {
            let checked = format!(
                "the source of the rule into `{}` (SL-T {}) names specific hosts",
                p.zone_name(r.to),
                level(p, r.to)
            );
            match broad_source(p, r) {
                None => Finding::proved(checked, Vec::new()),
                Some(what) => Finding::refuted(
                    checked,
                    Counterexample {
                        summary: format!(
                            "rule `{} -> {}` admits {what} into `{}`",
                            r.src.label,
                            r.dst.label,
                            p.zone_name(r.to)
                        ),
                        steps: Vec::new(),
                    },
                    Vec::new(),
                ),
            }
        });
        let mut res = result(
            &format!("no_broad_rules {} -> {}", r.src.label, r.dst.label),
            origin(c),
            &s,
            f,
            ms,
        );
        res.location = Some(p.location(r.span));
        out.push(res);
    }
    out
}
