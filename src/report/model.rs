//! The report's model (`report.json`): everything the HTML shows, as plain data.

use palisade_compiler::ir::{
    self, Approval, AssetId, Place, Policy, Property, Reliance, ScopeItem, SlVector, Span,
    EXTERNAL, FR_NAMES,
};
use palisade_verify::levels;
use palisade_verify::scenario::Scenario;
use palisade_verify::{Ctx, Origin, PropertyResult, Report, Verdict};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// What the verifier computes for the report beyond its results (all in the base state).
#[derive(Debug, Default)]
pub struct Evidence {
    /// Per zone, the assets with an interface in it.
    pub zone_assets: Vec<Vec<AssetId>>,
    /// Per (asset, index of its compensating control): whether the reliance holds, and why.
    pub reliance: BTreeMap<(AssetId, usize), Result<String, String>>,
    /// Per conduit, the devices on every path from its `from` zone to its `to` zone.
    pub conduit_devices: Vec<Vec<String>>,
}

pub fn evidence(ctx: &Ctx<'_>) -> Evidence {
    let p = ctx.policy;
    let base = Scenario::base();
    let mut ev = Evidence::default();
    for z in 0..p.zones.len() {
        ev.zone_assets
            .push(levels::zone_assets(ctx, ir::ZoneId(z as u32)));
    }
    for (a, asset) in p.assets.iter().enumerate() {
        for (i, c) in asset.compensating.iter().enumerate() {
            ev.reliance.insert(
                (AssetId(a as u32), i),
                levels::reliance_holds(ctx, AssetId(a as u32), c, &base),
            );
        }
    }
    for c in &p.conduits {
        let devices = p
            .devices
            .iter()
            .enumerate()
            .filter(|(d, _)| {
                c.from != c.to
                    && ctx
                        .net
                        .device_on_every_path(c.from, c.to, ir::DeviceId(*d as u32))
            })
            .map(|(_, d)| d.name.clone())
            .collect();
        ev.conduit_devices.push(devices);
    }
    ev
}

/// Where a span is: file, 1-based line and column, and the source line (`texts` holds each
/// source's text, `None` for the standard library).
fn place(p: &Policy, texts: &[Option<String>], file: usize, start: u32) -> Value {
    let path = p
        .sources
        .get(file)
        .map(|s| shown(&s.path))
        .unwrap_or_default();
    let Some(Some(text)) = texts.get(file) else {
        return json!({ "file": path });
    };
    let start = (start as usize).min(text.len());
    let before = text.get(..start).unwrap_or("");
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit('\n')
        .next()
        .map(|l| l.chars().count())
        .unwrap_or(0)
        + 1;
    let src = text.lines().nth(line - 1).unwrap_or("").trim_end();
    json!({ "file": path, "line": line, "column": column, "text": src })
}

fn span_place(p: &Policy, texts: &[Option<String>], s: Span) -> Value {
    place(p, texts, s.file as usize, s.start)
}

fn loc_place(
    p: &Policy,
    texts: &[Option<String>],
    l: &palisade_compiler::diagnostic::Location,
) -> Value {
    match p.sources.iter().position(|s| s.path == l.file) {
        Some(i) => place(p, texts, i, l.start),
        None => json!({ "file": shown(&l.file) }),
    }
}

/// A source path as the report names it: relative to the working directory when under it,
/// so the report does not depend on where the site was checked out.
fn shown(path: &str) -> String {
    let p = std::path::Path::new(path);
    match std::env::current_dir() {
        Ok(cwd) if p.is_absolute() => p
            .strip_prefix(&cwd)
            .unwrap_or(p)
            .to_string_lossy()
            .into_owned(),
        _ => path.strip_prefix("./").unwrap_or(path).to_string(),
    }
}

fn sl(v: SlVector) -> Value {
    json!(v.0)
}

/// IEC 62443-3-3 system requirements the site's proofs give evidence for, by result.
fn requirements(p: &Policy, r: &PropertyResult) -> Vec<&'static str> {
    let touches_external = |places: &[&Place]| {
        places
            .iter()
            .any(|pl| matches!(pl, Place::Zone(z) if *z == EXTERNAL))
    };
    match &r.origin {
        Origin::Assertion { index } => match p.assertions.get(*index).map(|a| &a.property) {
            Some(Property::Isolated { zone }) => {
                if touches_external(&[zone]) {
                    vec!["SR 5.1", "SR 1.13"]
                } else {
                    vec!["SR 5.1"]
                }
            }
            Some(Property::NoPath { from, to }) => {
                if touches_external(&[from, to]) {
                    vec!["SR 5.1", "SR 1.13"]
                } else {
                    vec!["SR 5.1"]
                }
            }
            Some(Property::OnlyVia { from, to, .. }) => {
                if touches_external(&[from, to]) {
                    vec!["SR 5.1", "SR 5.2", "SR 1.13"]
                } else {
                    vec!["SR 5.1", "SR 5.2"]
                }
            }
            Some(Property::Approvals { .. }) => vec!["SR 2.1"],
            Some(Property::DataFlow { .. }) => vec!["SR 3.1"],
            _ => vec![],
        },
        Origin::Profile { check } => match check.as_str() {
            "external_via_jump_host" => vec!["SR 1.13"],
            "firewall_on_conduits" => vec!["SR 5.2"],
            "inspected_writes" => vec!["SR 5.2"],
            "no_broad_rules" => vec!["SR 5.1"],
            "two_person_approval" | "break_glass_limits" => vec!["SR 2.1"],
            "dataflow_protection" => vec!["SR 3.1"],
            _ => vec![],
        },
        Origin::Builtin => {
            if r.property.starts_with("approvals ") {
                vec!["SR 2.1"]
            } else if r.property.starts_with("dataflow") {
                vec!["SR 3.1"]
            } else {
                vec![]
            }
        }
    }
}

const EVIDENCED: &[(&str, &str, &str)] = &[
    ("SR 5.1", "Network segmentation", "no_path, isolated and only_via proofs; no_broad_rules"),
    ("SR 5.2", "Zone boundary protection", "only_via proofs; firewall_on_conduits and inspected_writes; the reachability matrix, cross-checked by Z3"),
    ("SR 1.13", "Access via untrusted networks", "proofs about the `external` zone; external_via_jump_host"),
    ("SR 2.1", "Authorization enforcement", "work-order approvals (roles, separation of duties, two-person rule, break-glass limits)"),
    ("SR 3.1", "Communication integrity", "data-flow hops carried on services that provide integrity"),
];

const NOT_ADDRESSED: &[(&str, &str)] = &[
    ("SR 1.1", "Human user identification and authentication"),
    (
        "SR 1.2",
        "Software process and device identification and authentication",
    ),
    ("SR 1.3", "Account management"),
    ("SR 1.5", "Authenticator management"),
    ("SR 2.8", "Auditable events"),
    ("SR 3.2", "Malicious code protection"),
    ("SR 3.3", "Security functionality verification"),
    ("SR 3.4", "Software and information integrity"),
    ("SR 4.1", "Information confidentiality"),
    (
        "SR 5.3",
        "General purpose person-to-person communication restrictions",
    ),
    ("SR 6.1", "Audit log accessibility"),
    ("SR 6.2", "Continuous monitoring"),
    ("SR 7.1", "Denial of service protection"),
    ("SR 7.3", "Control system backup"),
    ("SR 7.6", "Network and security configuration settings"),
];

fn result_value(p: &Policy, texts: &[Option<String>], r: &PropertyResult) -> Value {
    let counterexample = r.counterexample.as_ref().map(|c| {
        json!({
            "summary": c.summary,
            "steps": c.steps.iter().map(|s| json!({
                "from": s.from, "to": s.to, "via": s.via, "conduit": s.conduit, "rule": s.rule,
                "service": s.service, "packet": s.packet_text, "devices": s.devices,
                "witness_check": s.witness_check, "label": s.label,
                "location": s.location.as_ref().map(|l| loc_place(p, texts, l)),
            })).collect::<Vec<_>>(),
        })
    });
    json!({
        "property": r.property,
        "origin": match &r.origin {
            Origin::Assertion { .. } => "assertion".to_string(),
            Origin::Profile { check } => format!("profile check {check}"),
            Origin::Builtin => "built in".to_string(),
        },
        "scenario": r.scenario,
        "verdict": r.verdict.word(),
        "checked": r.checked,
        "requirements": requirements(p, r),
        "location": r.location.as_ref().map(|l| loc_place(p, texts, l)),
        "counterexample": counterexample,
        "notes": r.notes,
    })
}

fn levels_value(
    p: &Policy,
    texts: &[Option<String>],
    ev: &Evidence,
    report: &Report,
) -> Vec<Value> {
    let mut out = Vec::new();
    for (z, zone) in p.zones.iter().enumerate().skip(1) {
        let target = zone.security_level;
        let ids = ev
            .zone_assets
            .get(z)
            .cloned()
            .unwrap_or_else(|| zone.assets.clone());
        let mut achieved = if ids.is_empty() { target.0 } else { [4u8; 7] };
        let mut assets = Vec::new();
        let mut gaps = Vec::new();
        for aid in &ids {
            let Some(a) = p.asset(*aid) else { continue };
            let cap = a.capability.unwrap_or_default();
            let controls: Vec<Value> = a
                .compensating
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let reliance = ev.reliance.get(&(*aid, i));
                    json!({
                        "covers": c.covers.iter().filter_map(|f| FR_NAMES.get(*f as usize)).collect::<Vec<_>>(),
                        "relies_on": reliance_text(p, c.relies_on.as_ref()),
                        "because": c.because,
                        "owner": c.owner,
                        "expires": c.expires,
                        "reliance_proved": matches!(reliance, Some(Ok(_))),
                        "reliance": match reliance { Some(Ok(w)) | Some(Err(w)) => w.clone(), None => "not evaluated".into() },
                        "location": span_place(p, texts, c.span),
                    })
                })
                .collect();
            for fr in 0..7 {
                let mut eff = cap.get(fr);
                let covering: Vec<usize> = a
                    .compensating
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| c.covers.contains(&(fr as u8)))
                    .map(|(i, _)| i)
                    .collect();
                let holds = covering
                    .iter()
                    .any(|i| matches!(ev.reliance.get(&(*aid, *i)), Some(Ok(_))));
                if cap.get(fr) < target.get(fr) {
                    if holds {
                        eff = eff.max(target.get(fr));
                    }
                    gaps.push(json!({
                        "fr": FR_NAMES.get(fr), "asset": a.name, "sl_c": cap.get(fr), "sl_t": target.get(fr),
                        "controls": covering, "closed": holds,
                    }));
                }
                if let Some(l) = achieved.get_mut(fr) {
                    *l = (*l).min(eff);
                }
            }
            assets.push(json!({
                "name": a.name, "title": a.title, "kind": a.kind,
                "sl_c": a.capability.map(sl), "controls": controls,
            }));
        }
        out.push(json!({
            "zone": zone.name, "sl_t": sl(target), "sl_a": achieved, "meets_target": (0..7).all(|f| achieved.get(f).copied().unwrap_or(0) >= target.get(f)),
            "assets": assets, "gaps": gaps,
            "proofs": report.results.iter()
                .filter(|r| { let w: Vec<&str> = r.property.split_whitespace().collect(); w.ends_with(&["security_level", zone.name.as_str()]) })
                .map(|r| json!({ "property": r.property, "scenario": r.scenario, "verdict": r.verdict.word() }))
                .collect::<Vec<_>>(),
        }));
    }
    out
}

fn reliance_text(p: &Policy, r: Option<&Reliance>) -> String {
    let dev = |d: &ir::DeviceId| p.device(*d).map(|x| x.name.clone()).unwrap_or_default();
    match r {
        None => "nothing named".into(),
        Some(Reliance::Gateway(d)) => format!("gateway {}", dev(d)),
        Some(Reliance::Firewall(d)) => format!("firewall {}", dev(d)),
        Some(Reliance::Conduit(c)) => format!(
            "conduit {}",
            p.conduit(*c).map(|x| x.name.as_str()).unwrap_or("")
        ),
        Some(Reliance::Isolation) => "isolation".into(),
    }
}

fn rule_text(p: &Policy, r: &ir::Rule) -> String {
    let services: Vec<&str> = r
        .services
        .iter()
        .filter_map(|s| p.service(*s))
        .map(|s| s.name.as_str())
        .collect();
    format!(
        "{} -> {} : {}",
        r.src.label,
        r.dst.label,
        services.join(", ")
    )
}

fn workorders_value(p: &Policy, report: &Report) -> Vec<Value> {
    let role = |r: &ir::RoleId| p.role(*r).map(|x| x.name.clone()).unwrap_or_default();
    p.workorders
        .iter()
        .map(|w| {
            let approvals: Vec<String> = w
                .approvals
                .iter()
                .map(|a| match a {
                    Approval::AllOf { roles } => format!("one person of each of: {}", roles.iter().map(role).collect::<Vec<_>>().join(", ")),
                    Approval::NOf { n, roles } => format!("{n} distinct persons from: {}", roles.iter().map(role).collect::<Vec<_>>().join(", ")),
                })
                .collect();
            let verdicts: Vec<Value> = report
                .results
                .iter()
                .filter(|r| r.property.split_whitespace().any(|x| x == w.name) && requirements(p, r).contains(&"SR 2.1"))
                .map(|r| json!({ "property": r.property, "verdict": r.verdict.word(), "checked": r.checked }))
                .collect();
            json!({
                "name": w.name, "title": w.title, "description": w.description,
                "requested_by": w.requested_by.iter().map(role).collect::<Vec<_>>(),
                "approvals": approvals,
                "separation_of_duties": w.separation_of_duties,
                "prerequisites": w.prerequisites.iter().map(|x| x.title.clone().unwrap_or_else(|| x.name.clone())).collect::<Vec<_>>(),
                "windows": w.windows.iter().map(crate::window::window_text).collect::<Vec<_>>(),
                "max_duration_s": w.max_duration, "emergency": w.emergency, "review_after_s": w.review_after,
                "scope": w.scope.iter().map(|s| match s {
                    ScopeItem::Zone(z) => format!("zone {}", p.zone_name(*z)),
                    ScopeItem::Asset(a) => format!("asset {}", p.asset(*a).map(|x| x.name.as_str()).unwrap_or("")),
                }).collect::<Vec<_>>(),
                "opens": w.opens.iter().filter_map(|c| p.conduit(*c)).map(|c| c.name.clone()).collect::<Vec<_>>(),
                "rules": w.rules.iter().filter_map(|r| p.rule(*r)).map(|r| rule_text(p, r)).collect::<Vec<_>>(),
                "approval_proofs": verdicts,
            })
        })
        .collect()
}

fn iec_value(results: &[Value]) -> Value {
    let evidenced: Vec<Value> = EVIDENCED
        .iter()
        .map(|(sr, title, from)| {
            let props: Vec<&Value> = results.iter().filter(|r| r["requirements"].as_array().is_some_and(|a| a.iter().any(|x| x == sr))).collect();
            let count = |v: &str| props.iter().filter(|r| r["verdict"] == v).count();
            let status = if props.is_empty() {
                "no evidence in this site"
            } else if count("refuted") > 0 {
                "contradicted"
            } else if count("unknown") > 0 {
                "undecided"
            } else {
                "supported"
            };
            let mut names: Vec<String> = props.iter().map(|r| format!("{} [{}]: {}", r["property"].as_str().unwrap_or(""), r["scenario"].as_str().unwrap_or(""), r["verdict"].as_str().unwrap_or(""))).collect();
            names.dedup();
            json!({ "sr": sr, "title": title, "evidence_from": from, "status": status,
                    "proved": count("proved"), "refuted": count("refuted"), "unknown": count("unknown"), "properties": names })
        })
        .collect();
    json!({
        "profile": "Palisade's own profile, inspired by IEC 62443-3-3; not a conformance assessment",
        "disclaimer": "This mapping shows where the site model gives evidence for a system requirement. It never claims conformance: a requirement also depends on procedures, products and configurations the model does not describe.",
        "evidenced": evidenced,
        "not_addressed": NOT_ADDRESSED.iter().map(|(sr, t)| json!({ "sr": sr, "title": t,
            "why": "the model describes zones, conduits, rules and work orders only; nothing in it speaks to this requirement" })).collect::<Vec<_>>(),
    })
}

/// The report model of a verified site.
pub fn model(p: &Policy, report: &Report, ev: &Evidence, texts: &[Option<String>]) -> Value {
    let results: Vec<Value> = report
        .results
        .iter()
        .map(|r| result_value(p, texts, r))
        .collect();
    let zones: Vec<Value> = p
        .zones
        .iter()
        .enumerate()
        .map(|(z, zone)| {
            json!({
                "name": zone.name, "title": zone.title, "description": zone.description,
                "sl_t": sl(zone.security_level), "sl_t_max": zone.security_level.0.iter().copied().max().unwrap_or(0),
                "networks": zone.networks.iter().map(|n| n.to_string()).collect::<Vec<_>>(),
                "assets": ev.zone_assets.get(z).map(|a| a.len()).unwrap_or(zone.assets.len()),
                "builtin": zone.builtin,
            })
        })
        .collect();
    let conduits: Vec<Value> = p
        .conduits
        .iter()
        .enumerate()
        .map(|(i, c)| {
            json!({
                "name": c.name, "title": c.title, "from": p.zone_name(c.from), "to": p.zone_name(c.to),
                "bidirectional": c.bidirectional, "unidirectional": c.unidirectional, "log": c.log,
                "security_level": c.security_level.map(sl),
                "rules": c.rules.iter().filter_map(|r| p.rule(*r)).map(|r| json!({
                    "text": rule_text(p, r),
                    "workorder": r.workorder.and_then(|w| p.workorder(w)).map(|w| w.name.clone()),
                })).collect::<Vec<_>>(),
                "devices": ev.conduit_devices.get(i).cloned().unwrap_or_default(),
            })
        })
        .collect();
    let matrix = report.matrix.as_ref().map(|m| {
        json!({
            "zones": m.zones,
            "entries": m.entries.iter().map(|e| json!({
                "from": e.from, "to": e.to, "services": e.services, "unfiltered": e.unfiltered, "replies": e.replies,
                "enforcement": e.enforcement, "during": e.during, "cross_check": e.cross_check,
            })).collect::<Vec<_>>(),
        })
    });
    let errors = report.diagnostics.iter().filter(|d| d.is_error()).count();
    json!({
        "format": "palisade-report/1",
        "tool": { "name": "palisade", "version": env!("CARGO_PKG_VERSION") },
        "site": { "name": p.site.name, "timezone": p.site.timezone, "description": p.site.description },
        "summary": {
            "proved": report.count(Verdict::Proved), "refuted": report.count(Verdict::Refuted),
            "unknown": report.count(Verdict::Unknown), "errors": errors,
            "warnings": report.diagnostics.len() - errors, "all_proved": report.all_proved(),
        },
        "inputs": p.sources.iter().map(|s| json!({ "path": shown(&s.path), "sha256": s.sha256, "std": s.std })).collect::<Vec<_>>(),
        "zones": zones,
        "conduits": conduits,
        "links": p.links.iter().map(|l| json!({
            "name": l.name, "title": l.title, "kind": "link",
            "zones": l.zones.iter().map(|z| p.zone_name(*z)).collect::<Vec<_>>(),
        })).chain(p.assets.iter().filter(|a| a.bridge).map(|a| json!({
            "name": a.name, "title": a.title, "kind": "bridge",
            "zones": std::iter::once(a.zone).chain(a.interfaces.iter().map(|i| i.zone)).map(|z| p.zone_name(z)).collect::<Vec<_>>(),
        }))).collect::<Vec<_>>(),
        "devices": p.devices.iter().map(|d| json!({ "name": d.name, "kind": d.kind, "target": d.target.map(|t| t.name()) })).collect::<Vec<_>>(),
        "iec62443": iec_value(&results),
        "properties": results,
        "matrix": matrix,
        "levels": levels_value(p, texts, ev, report),
        "workorders": workorders_value(p, report),
        "diagnostics": report.diagnostics.iter().map(|d| json!({
            "code": d.code, "severity": d.severity, "message": d.message,
            "location": d.primary_location().map(|l| loc_place(p, texts, l)),
        })).collect::<Vec<_>>(),
    })
}
