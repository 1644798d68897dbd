//! Security levels: SL-A per zone and FR is the lowest capability SL-C of the zone's assets,
//! where an asset's FR is raised to the zone's target SL-T only by a compensating control
//! covering that FR whose reliance holds in the scenario:
//! - `relies_on gateway G`: G lies on every path of every connection into the asset's zone
//!   (with the zones unfiltered links and bridges join to it), and every such connection is
//!   either constrained to named functions of an inspected protocol or carried by a service
//!   that authenticates itself (provides integrity);
//! - `relies_on firewall F`: F lies on every path of every connection into the zone;
//! - `relies_on conduit C`: every connection into the zone is a rule of C;
//! - `relies_on isolation`: no connection enters or leaves the zone.
//!
//! Every zone is checked in the base state; `assert security_level Z` checks its scenarios.

use crate::assertions::Finding;
use crate::report::{diagnose, result};
use crate::scenario::{scenarios_for, Scenario};
use crate::witness::{Counterexample, Step};
use crate::{timed, Ctx, Origin, PropertyResult};
use palisade_compiler::ir::{
    self, AssetId, CompensatingControl, Property, Reliance, RuleId, SlVector, ZoneId, FR_NAMES,
};
use palisade_compiler::Diagnostic;

pub fn check(ctx: &Ctx<'_>) -> (Vec<PropertyResult>, Vec<Diagnostic>) {
    let p = ctx.policy;
    let mut results = Vec::new();
    let mut diags = Vec::new();
    for (z, zone) in p.zones.iter().enumerate().skip(1) {
        let id = ZoneId(z as u32);
        let asserted: Vec<(usize, &ir::Assertion)> = p
            .assertions
            .iter()
            .enumerate()
            .filter(|(_, a)| a.property == Property::SecurityLevel { zone: id })
            .collect();
        let mut rs = Vec::new();
        if asserted.is_empty() {
            let s = Scenario::base();
            let (f, ms) = timed(|| achieved(ctx, id, &s));
            let mut r = result(
                &format!("security_level {}", zone.name),
                Origin::Builtin,
                &s,
                f,
                ms,
            );
            r.location = Some(p.location(zone.span));
            rs.push(r);
        }
        for (index, a) in asserted {
            for s in scenarios_for(p, a.scenario) {
                let (f, ms) = timed(|| achieved(ctx, id, &s));
                let mut r = result(&a.text, Origin::Assertion { index }, &s, f, ms);
                r.location = Some(p.location(a.span));
                rs.push(r);
            }
        }
        diags.extend(diagnose(p, &rs, "E1101"));
        results.extend(rs);
    }
    (results, diags)
}

/// The assets with an interface in a zone.
pub fn zone_assets(ctx: &Ctx<'_>, zone: ZoneId) -> Vec<AssetId> {
    ctx.net
        .zone_assets
        .get(zone.index())
        .cloned()
        .unwrap_or_default()
}

/// Zones joined to `zone` with no filtering (links, bridge assets), `zone` included.
pub fn joined_zones(ctx: &Ctx<'_>, zone: ZoneId) -> Vec<ZoneId> {
    let c = ctx.net.component.get(zone.index());
    (0..ctx.policy.zones.len())
        .map(|z| ZoneId(z as u32))
        .filter(|z| ctx.net.component.get(z.index()) == c)
        .collect()
}

/// Connections into a zone's unfiltered group from outside it: (from, to, open rules).
pub fn incoming(ctx: &Ctx<'_>, zone: ZoneId, s: &Scenario) -> Vec<(ZoneId, ZoneId, Vec<RuleId>)> {
    let inside = joined_zones(ctx, zone);
    ctx.net
        .pairs
        .keys()
        .filter(|(a, b)| inside.contains(b) && !inside.contains(a))
        .map(|(a, b)| (*a, *b, ctx.net.open_rules(*a, *b, s)))
        .filter(|(_, _, r)| !r.is_empty())
        .collect()
}

fn outgoing(ctx: &Ctx<'_>, zone: ZoneId, s: &Scenario) -> usize {
    let inside = joined_zones(ctx, zone);
    ctx.net
        .pairs
        .keys()
        .filter(|(a, b)| inside.contains(a) && !inside.contains(b))
        .map(|(a, b)| ctx.net.open_rules(*a, *b, s).len())
        .sum()
}

/// Whether a compensating control's reliance holds in a scenario: Ok(why) or Err(why not).
pub fn reliance_holds(
    ctx: &Ctx<'_>,
    asset: AssetId,
    c: &CompensatingControl,
    s: &Scenario,
) -> Result<String, String> {
    let key = (asset, c.span, s.kind.clone());
    if let Some(r) = ctx.reliance.borrow().get(&key) {
        return r.clone();
    }
    let r = reliance_uncached(ctx, asset, c, s);
    ctx.reliance.borrow_mut().insert(key, r.clone());
    r
}

fn reliance_uncached(
    ctx: &Ctx<'_>,
    asset: AssetId,
    c: &CompensatingControl,
    s: &Scenario,
) -> Result<String, String> {
    let p = ctx.policy;
    let Some(a) = p.asset(asset) else {
        return Err("unknown asset".into());
    };
    let zone = a.zone;
    let zn = p.zone_name(zone);
    let inc = incoming(ctx, zone, s);
    let rule_text = |r: RuleId| {
        p.rule(r)
            .map(|r| format!("`{} -> {}`", r.src.label, r.dst.label))
            .unwrap_or_default()
    };
    match &c.relies_on {
        None => Err("the control names nothing it relies on".into()),
        Some(Reliance::Gateway(g)) => {
            let gname = p.device(*g).map(|d| d.name.clone()).unwrap_or_default();
            if p.device(*g).is_some_and(|d| !d.inspects()) {
                return Err(format!(
                    "gateway `{gname}` is in IDS mode: it monitors and enforces nothing"
                ));
            }
            for (from, to, rules) in &inc {
                if !ctx.net.device_on_every_path(*from, *to, *g) {
                    return Err(format!(
                        "connections from `{}` reach `{}` on a path without gateway `{gname}`",
                        p.zone_name(*from),
                        p.zone_name(*to)
                    ));
                }
                for r in rules {
                    let Some(rule) = p.rule(*r) else { continue };
                    for sid in p.leaf_services(&rule.services) {
                        let Some(sv) = p.service(sid) else { continue };
                        let named = rule.fields.as_ref().is_some_and(|f| {
                            Some(f.family) == sv.inspect && !f.enforced_functions().is_empty()
                        });
                        if !named && !sv.integrity {
                            return Err(format!("rule {} admits `{}`, neither restricted to named functions nor authenticated", rule_text(*r), sv.name));
                        }
                    }
                }
            }
            Ok(format!("gateway `{gname}` lies on every path into `{zn}` and every connection into it is inspected or authenticated ({} source zone(s))", inc.len()))
        }
        Some(Reliance::Firewall(f)) => {
            let fname = p.device(*f).map(|d| d.name.clone()).unwrap_or_default();
            for (from, to, _) in &inc {
                if !ctx.net.device_on_every_path(*from, *to, *f) {
                    return Err(format!(
                        "connections from `{}` reach `{}` on a path without firewall `{fname}`",
                        p.zone_name(*from),
                        p.zone_name(*to)
                    ));
                }
            }
            Ok(format!("firewall `{fname}` lies on every path into `{zn}`"))
        }
        Some(Reliance::Conduit(cid)) => {
            let cname = p.conduit(*cid).map(|c| c.name.clone()).unwrap_or_default();
            for (_, _, rules) in &inc {
                if let Some(r) = rules
                    .iter()
                    .find(|r| p.rule(**r).is_some_and(|x| x.conduit != *cid))
                {
                    let other = p
                        .rule(*r)
                        .and_then(|x| p.conduit(x.conduit))
                        .map(|c| c.name.clone())
                        .unwrap_or_default();
                    return Err(format!(
                        "rule {} of conduit `{other}` also enters `{zn}`",
                        rule_text(*r)
                    ));
                }
            }
            Ok(format!(
                "every connection into `{zn}` is a rule of conduit `{cname}`"
            ))
        }
        Some(Reliance::Isolation) => {
            if let Some((from, _, rules)) = inc.first() {
                return Err(format!(
                    "{} rule(s) from `{}` enter `{zn}`",
                    rules.len(),
                    p.zone_name(*from)
                ));
            }
            let out = outgoing(ctx, zone, s);
            if out > 0 {
                return Err(format!("{out} rule(s) leave `{zn}`"));
            }
            Ok(format!("no connection enters or leaves `{zn}`"))
        }
    }
}

/// SL-A of a zone in a scenario, against its SL-T.
pub fn achieved(ctx: &Ctx<'_>, zone: ZoneId, s: &Scenario) -> Finding {
    let p = ctx.policy;
    let Some(z) = p.zone(zone) else {
        return Finding::unknown("unknown zone".into(), Vec::new());
    };
    let target = z.security_level;
    let assets = zone_assets(ctx, zone);
    let mut sla = [4u8; 7];
    let mut weakest: Vec<Vec<(AssetId, String)>> = vec![Vec::new(); 7];
    let mut notes = Vec::new();
    let mut steps = Vec::new();
    for aid in &assets {
        let Some(a) = p.asset(*aid) else { continue };
        let cap = a.capability.unwrap_or_default();
        let mut eff = cap.0;
        for c in &a.compensating {
            match reliance_holds(ctx, *aid, c, s) {
                Ok(why) => {
                    for fr in &c.covers {
                        if let (Some(e), Some(t)) =
                            (eff.get_mut(*fr as usize), target.0.get(*fr as usize))
                        {
                            *e = (*e).max(*t);
                        }
                    }
                    notes.push(format!(
                        "`{}`: compensating control on {} holds: {why}",
                        a.name,
                        frs(&c.covers)
                    ));
                }
                Err(why) => {
                    notes.push(format!(
                        "`{}`: compensating control on {} does not hold: {why}",
                        a.name,
                        frs(&c.covers)
                    ));
                    steps.push(Step::new(
                        a.name.clone(),
                        z.name.clone(),
                        "compensating control",
                        Some(p.location(c.span)),
                        format!("reliance fails: {why}"),
                    ));
                }
            }
        }
        for fr in 0..7 {
            let (Some(e), Some(level)) = (eff.get(fr), sla.get_mut(fr)) else {
                continue;
            };
            if *e < *level {
                *level = *e;
            }
            if *e < target.get(fr) {
                if let Some(w) = weakest.get_mut(fr) {
                    w.push((*aid, format!("SL-C {}", cap.get(fr))));
                }
            }
        }
    }
    if assets.is_empty() {
        sla = target.0;
        notes.push("the zone has no assets; nothing falls short of the target".into());
    }
    let achieved = SlVector(sla);
    let gaps: Vec<usize> = (0..7)
        .filter(|fr| achieved.get(*fr) < target.get(*fr))
        .collect();
    let checked = format!(
        "SL-A {achieved} against SL-T {target} over {} asset(s)",
        assets.len()
    );
    if gaps.is_empty() {
        return Finding::proved(checked, notes);
    }
    let mut gap_text = Vec::new();
    for fr in &gaps {
        let names: Vec<String> = weakest
            .get(*fr)
            .map(|w| {
                w.iter()
                    .filter_map(|(a, why)| p.asset(*a).map(|x| format!("`{}` ({why})", x.name)))
                    .collect()
            })
            .unwrap_or_default();
        gap_text.push(format!(
            "{} {} < {} ({})",
            FR_NAMES.get(*fr).copied().unwrap_or("?"),
            achieved.get(*fr),
            target.get(*fr),
            names.join(", ")
        ));
        for (a, why) in weakest.get(*fr).map(|w| w.as_slice()).unwrap_or(&[]) {
            if let Some(x) = p.asset(*a) {
                if !steps.iter().any(|s| s.from == x.name && s.via == "asset") {
                    steps.push(Step::new(
                        x.name.clone(),
                        z.name.clone(),
                        "asset",
                        Some(p.location(x.span)),
                        format!("{why} on {}", FR_NAMES.get(*fr).copied().unwrap_or("?")),
                    ));
                }
            }
        }
    }
    let summary = format!(
        "SL-A {achieved} of zone `{}` is below SL-T {target}: {}",
        z.name,
        gap_text.join("; ")
    );
    Finding::refuted(checked, Counterexample { summary, steps }, notes)
}

fn frs(covers: &[u8]) -> String {
    covers
        .iter()
        .filter_map(|f| FR_NAMES.get(*f as usize).copied())
        .collect::<Vec<_>>()
        .join(", ")
}
