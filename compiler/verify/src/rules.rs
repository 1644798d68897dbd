//! Rule analysis, per ordered zone pair (rules of different pairs never match the same
//! packet, since zones do not overlap). Rules are compared as written, protocol fields
//! included, each within the scenarios in which it is open:
//! - a rule that can match no packet (W1501), e.g. ICMP towards IPv6-only hosts;
//! - a shadowed rule (W1502): one earlier rule admits everything it admits;
//! - a redundant rule (W1503): the other rules together admit everything it admits (a
//!   work-order rule that a standing rule already covers opens nothing);
//! - protocol constraints that no gateway enforces (W1504): the proofs reason at port level;
//! - a rule that opens an SL-T >= 3 zone to `any` (E1501).
//!
//! Every finding of the exact engine is confirmed by Z3 before it is reported.

use crate::assertions::Finding;
use crate::network::Enforcement;
use crate::packet::{rule_boxes, rule_formula, uncovered, FieldMode, HeaderBox};
use crate::profile::{broad_source, level};
use crate::report::{diagnose, result};
use crate::scenario::Scenario;
use crate::solver::Outcome;
use crate::witness::Counterexample;
use crate::{timed, Ctx, Origin, PropertyResult, Verdict};
use palisade_compiler::ir::{EndpointRef, Policy, Rule, RuleId};
use palisade_compiler::Diagnostic;
use z3::ast::Bool;

pub fn check(ctx: &Ctx<'_>) -> (Vec<PropertyResult>, Vec<Diagnostic>) {
    let p = ctx.policy;
    let mut diags = Vec::new();
    let (_, ms) = timed(|| {
        empty_rules(ctx, &mut diags);
        overlaps(ctx, &mut diags);
        unenforced_fields(ctx, &mut diags);
    });
    let (f, ms2) = timed(|| open_to_any(ctx));
    let mut r = result(
        "no rule opens an SL-T >= 3 zone to `any`",
        Origin::Builtin,
        &Scenario::base(),
        f,
        ms + ms2,
    );
    r.location = None;
    let mut refuted = Vec::new();
    if r.verdict == Verdict::Refuted {
        for (rid, side) in any_rules(p) {
            let Some(rule) = p.rule(rid) else { continue };
            let mut x = r.clone();
            x.location = Some(p.location(rule.span));
            x.property = format!(
                "no rule opens an SL-T >= 3 zone to `any` ({side}: `{} -> {}`)",
                rule.src.label, rule.dst.label
            );
            x.counterexample = Some(Counterexample {
                summary: format!(
                    "rule `{} -> {}` opens zone `{}` (SL-T {}) to `any` on its {side} side",
                    rule.src.label,
                    rule.dst.label,
                    p.zone_name(rule.to),
                    level(p, rule.to)
                ),
                steps: Vec::new(),
            });
            refuted.push(x);
        }
        diags.extend(diagnose(p, &refuted, "E1501"));
    }
    (vec![r], diags)
}

fn rule_text(r: &Rule) -> String {
    format!("`{} -> {}`", r.src.label, r.dst.label)
}

/// Rules naming `any` on a side that touches an SL-T >= 3 zone, unless the profile's
/// `no_broad_rules` already reports the source side.
fn any_rules(p: &Policy) -> Vec<(RuleId, &'static str)> {
    let broad_min = p
        .profile_check("no_broad_rules")
        .and_then(|c| c.int("min_level"));
    let mut out = Vec::new();
    for (i, r) in p.rules.iter().enumerate() {
        if level(p, r.to) < 3 {
            continue;
        }
        let src_reported =
            broad_min.is_some_and(|m| level(p, r.to) >= m as u8) && broad_source(p, r).is_some();
        if r.dst.target == EndpointRef::Any {
            out.push((RuleId(i as u32), "destination"));
        } else if r.src.target == EndpointRef::Any && !src_reported {
            out.push((RuleId(i as u32), "source"));
        }
    }
    out
}

fn open_to_any(ctx: &Ctx<'_>) -> Finding {
    let rules = any_rules(ctx.policy);
    let checked = "no rule into an SL-T >= 3 zone names `any` as its destination (or as its source where `no_broad_rules` does not apply)".to_string();
    if rules.is_empty() {
        return Finding::proved(checked, Vec::new());
    }
    Finding::refuted(
        checked,
        Counterexample {
            summary: format!("{} rule(s) open an SL-T >= 3 zone to `any`", rules.len()),
            steps: Vec::new(),
        },
        Vec::new(),
    )
}

fn empty_rules(ctx: &Ctx<'_>, diags: &mut Vec<Diagnostic>) {
    let p = ctx.policy;
    for (i, r) in p.rules.iter().enumerate() {
        let rid = RuleId(i as u32);
        if ctx.net.nonempty.get(i).copied().unwrap_or(true) {
            continue;
        }
        // A work-order rule that only its scope empties is the front end's W0702.
        if r.workorder.is_some() && !rule_boxes(p, r, FieldMode::PortLevel, None).is_empty() {
            continue;
        }
        let outcome = ctx.q.solve(&format!("empty-rule-{}", rid.0), |pk| {
            rule_formula(p, r, pk, FieldMode::PortLevel, ctx.net.scope_of(rid))
        });
        let why = why_empty(p, r);
        let mut d = Diagnostic::warning(
            "W1501",
            format!("rule {} can match no packet", rule_text(r)),
        )
        .primary(p.location(r.span), why);
        match outcome {
            Outcome::Unsat => {
                d = d.note("the exact engine and z3 agree: no packet satisfies the rule")
            }
            Outcome::Unknown(why) => {
                d = d.note(format!(
                    "the exact engine finds no packet; z3 could not confirm ({why})"
                ))
            }
            Outcome::Sat(_) => continue,
        }
        diags.push(d.help("check the address families of both ends and of the services (ICMP is IPv4, ICMPv6 is IPv6)"));
    }
}

fn why_empty(p: &Policy, r: &Rule) -> String {
    let fam = |a: &[palisade_compiler::address::AddrRange], v6: bool| a.iter().any(|x| x.v6 == v6);
    let common: Vec<bool> = [false, true]
        .into_iter()
        .filter(|v6| fam(&r.src.addrs, *v6) && fam(&r.dst.addrs, *v6))
        .collect();
    if common.is_empty() {
        return "source and destination share no address family".into();
    }
    let services: Vec<String> = p
        .leaf_services(&r.services)
        .iter()
        .filter_map(|s| p.service(*s))
        .map(|s| format!("`{}`", s.name))
        .collect();
    format!(
        "{} cannot travel between these addresses",
        services.join(", ")
    )
}

/// Rules open whenever `r` is: standing rules, and those of `r`'s own work order.
fn companions(r: &Rule, other: &Rule) -> bool {
    other.workorder.is_none() || other.workorder == r.workorder
}

fn overlaps(ctx: &Ctx<'_>, diags: &mut Vec<Diagnostic>) {
    let p = ctx.policy;
    for rules in ctx.net.pairs.values() {
        if rules.len() < 2 {
            continue;
        }
        let boxes: Vec<(RuleId, Vec<HeaderBox>)> = rules
            .iter()
            .map(|r| {
                (
                    *r,
                    p.rule(*r)
                        .map(|x| rule_boxes(p, x, FieldMode::Inspected, ctx.net.scope_of(*r)))
                        .unwrap_or_default(),
                )
            })
            .collect();
        let mut removed: Vec<RuleId> = Vec::new();
        for pass in 0..2 {
            for (idx, (rid, rb)) in boxes.iter().enumerate() {
                let Some(r) = p.rule(*rid) else { continue };
                if rb.is_empty() || removed.contains(rid) {
                    continue;
                }
                let others: Vec<&(RuleId, Vec<HeaderBox>)> = boxes
                    .iter()
                    .enumerate()
                    .filter(|(j, (o, _))| {
                        (pass == 1 || *j < idx) && *j != idx && !removed.contains(o)
                    })
                    .filter(|(_, (o, _))| p.rule(*o).is_some_and(|x| companions(r, x)))
                    .map(|(_, x)| x)
                    .collect();
                if others.is_empty() {
                    continue;
                }
                let covered_by = |set: &[&(RuleId, Vec<HeaderBox>)]| -> bool {
                    let all: Vec<HeaderBox> =
                        set.iter().flat_map(|(_, b)| b.iter().copied()).collect();
                    rb.iter().all(|b| uncovered(b, &all).is_none())
                };
                let single = if pass == 0 {
                    others.iter().find(|o| covered_by(&[**o])).map(|o| o.0)
                } else {
                    None
                };
                if single.is_none() && !covered_by(&others) {
                    continue;
                }
                let coverers: Vec<RuleId> = match single {
                    Some(s) => vec![s],
                    None => others.iter().map(|o| o.0).collect(),
                };
                // Confirm with z3: no packet of `r` escapes the coverers.
                let outcome = ctx.q.solve(&format!("covered-rule-{}", rid.0), |pk| {
                    let mine = rule_formula(p, r, pk, FieldMode::Inspected, ctx.net.scope_of(*rid));
                    let theirs: Vec<Bool> = coverers
                        .iter()
                        .filter_map(|c| {
                            p.rule(*c).map(|x| {
                                rule_formula(p, x, pk, FieldMode::Inspected, ctx.net.scope_of(*c))
                            })
                        })
                        .collect();
                    Bool::and(&[mine, Bool::or(&theirs).not()])
                });
                if matches!(outcome, Outcome::Sat(_)) {
                    continue;
                }
                removed.push(*rid);
                let first = coverers.first().and_then(|c| p.rule(*c));
                let mut d = match (single, first) {
                    (Some(_), Some(c)) => Diagnostic::warning(
                        "W1502",
                        format!("rule {} is shadowed by rule {}", rule_text(r), rule_text(c)),
                    )
                    .primary(p.location(r.span), "never the first rule to match")
                    .secondary(
                        p.location(c.span),
                        "this earlier rule admits everything it admits",
                    ),
                    _ => {
                        let mut d = Diagnostic::warning(
                            "W1503",
                            format!("rule {} is redundant", rule_text(r)),
                        )
                        .primary(
                            p.location(r.span),
                            "the other rules together admit everything it admits",
                        );
                        for c in coverers.iter().filter_map(|c| p.rule(*c)) {
                            d = d.secondary(p.location(c.span), "covers part of it");
                        }
                        d
                    }
                };
                if let (Some(w), true) = (
                    r.workorder.and_then(|w| p.workorder(w)),
                    coverers
                        .iter()
                        .all(|c| p.rule(*c).is_some_and(|x| x.workorder.is_none())),
                ) {
                    d = d.note(format!("work order `{}` opens nothing with it: standing rules already admit its packets", w.name));
                }
                d = d.note(match outcome {
                    Outcome::Unknown(why) => {
                        format!("found by the exact engine; z3 could not confirm ({why})")
                    }
                    _ => "the exact engine and z3 agree".into(),
                });
                diags.push(d.help("remove the rule, or narrow the rule that covers it"));
            }
        }
    }
}

fn unenforced_fields(ctx: &Ctx<'_>, diags: &mut Vec<Diagnostic>) {
    let p = ctx.policy;
    for r in &p.rules {
        let Some(f) = &r.fields else { continue };
        let e = ctx.net.enforcement_of(r.from, r.to);
        if e == Enforcement::Inspected || e == Enforcement::Disconnected {
            continue;
        }
        let where_ = match e {
            Enforcement::Unfiltered => "a path with no device".to_string(),
            _ => {
                let devs: Vec<String> = ctx
                    .net
                    .path_devices(r.from, r.to, e, None)
                    .iter()
                    .filter_map(|d| p.device(*d))
                    .map(|d| format!("`{}`", d.name))
                    .collect();
                format!("the path through {}", devs.join(", "))
            }
        };
        let d = Diagnostic::warning("W1504", format!("the {} constraints of rule {} are not enforced", f.family.name(), rule_text(r)))
            .primary(p.location(f.span), "no gateway inspects these fields on every path")
            .note(format!("{where_} from `{}` to `{}` has no inline gateway; proofs treat this rule at port level", p.zone_name(r.from), p.zone_name(r.to)))
            .help("put an inline gateway (`gateway … { inline between … }`) on every path, or drop the constraints");
        diags.push(d);
    }
}
