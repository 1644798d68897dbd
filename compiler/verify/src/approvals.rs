//! Approvals of work orders, over the declared people when there are any:
//! - `approvals X` (every work order; `assert approvals X` names it): the opening is
//!   time-bounded, the quorum needs as many distinct persons as it has places, and under
//!   separation of duties every person who may request leaves enough others to approve;
//! - profile `two_person_approval`: an order whose scope touches a zone with SL-T >= min_level
//!   (on any FR) needs two distinct approvers, and every approval that meets the rule includes
//!   a person holding a safety role (refuted by a set of people who approve without one);
//! - profile `break_glass_limits`: an emergency order has one approver, lasts at most
//!   max_duration and is reviewed within review_within.

use crate::assertions::Finding;
use crate::report::{diagnose, result};
use crate::scenario::Scenario;
use crate::witness::Counterexample;
use crate::{timed, Ctx, Origin, PropertyResult};
use palisade_compiler::approvals::matching;
use palisade_compiler::ir::{
    Approval, Person, Policy, Property, RoleId, ScopeItem, WorkOrder, WorkOrderId,
};
use palisade_compiler::Diagnostic;

pub fn check(ctx: &Ctx<'_>) -> (Vec<PropertyResult>, Vec<Diagnostic>) {
    let p = ctx.policy;
    let mut results = Vec::new();
    let mut diags = Vec::new();
    let base = Scenario::base();
    for (w, wo) in p.workorders.iter().enumerate() {
        let id = WorkOrderId(w as u32);
        let assertion = p
            .assertions
            .iter()
            .enumerate()
            .find(|(_, a)| a.property == Property::Approvals { workorder: id });
        let (origin, text, loc) = match assertion {
            Some((index, a)) => (
                Origin::Assertion { index },
                a.text.clone(),
                p.location(a.span),
            ),
            None => (
                Origin::Builtin,
                format!("approvals {}", wo.name),
                p.location(wo.span),
            ),
        };
        let (f, ms) = timed(|| approvals(p, wo));
        let mut r = result(&text, origin, &base, f, ms);
        r.location = Some(loc);
        let mut rs = vec![r];
        if let Some(check) = p.profile_check("two_person_approval") {
            let min = check.int("min_level").unwrap_or(3) as u8;
            let safety: Vec<RoleId> = check
                .names("safety_roles")
                .iter()
                .filter_map(|n| p.roles.iter().position(|r| &r.name == n))
                .map(|i| RoleId(i as u32))
                .collect();
            if !wo.emergency && touches_level(p, wo) >= min {
                let (f, ms) = timed(|| two_person(p, wo, &safety, check.names("safety_roles")));
                let mut r = result(
                    &format!("two_person_approval {}", wo.name),
                    Origin::Profile {
                        check: check.name.clone(),
                    },
                    &base,
                    f,
                    ms,
                );
                r.location = Some(p.location(wo.span));
                diags.extend(diagnose(p, std::slice::from_ref(&r), "E1202"));
                rs.push(r);
            }
        }
        if let (Some(check), true) = (p.profile_check("break_glass_limits"), wo.emergency) {
            let (f, ms) =
                timed(|| break_glass(wo, check.int("max_duration"), check.int("review_within")));
            let mut r = result(
                &format!("break_glass_limits {}", wo.name),
                Origin::Profile {
                    check: check.name.clone(),
                },
                &base,
                f,
                ms,
            );
            r.location = Some(p.location(wo.span));
            diags.extend(diagnose(p, std::slice::from_ref(&r), "E1203"));
            rs.push(r);
        }
        if let Some(first) = rs.first() {
            diags.extend(diagnose(p, std::slice::from_ref(first), "E1201"));
        }
        results.extend(rs);
    }
    (results, diags)
}

/// The highest SL-T (over FRs) of the zones a work order's scope touches.
pub fn touches_level(p: &Policy, wo: &WorkOrder) -> u8 {
    let mut zones = Vec::new();
    for s in &wo.scope {
        match s {
            ScopeItem::Zone(z) => zones.push(*z),
            ScopeItem::Asset(a) => {
                if let Some(a) = p.asset(*a) {
                    zones.push(a.zone);
                    zones.extend(a.interfaces.iter().map(|i| i.zone));
                }
            }
        }
    }
    zones
        .iter()
        .filter_map(|z| p.zone(*z))
        .map(|z| z.security_level.0.iter().copied().max().unwrap_or(0))
        .max()
        .unwrap_or(0)
}

/// The approval places: each accepts a person holding one of its roles.
fn slots(wo: &WorkOrder) -> Vec<Vec<RoleId>> {
    let mut out = Vec::new();
    for a in &wo.approvals {
        match a {
            Approval::AllOf { roles } => out.extend(roles.iter().map(|r| vec![*r])),
            Approval::NOf { n, roles } => out.extend((0..*n).map(|_| roles.clone())),
        }
    }
    out
}

fn names(p: &Policy, roles: &[RoleId]) -> String {
    roles
        .iter()
        .filter_map(|r| p.role(*r))
        .map(|r| format!("`{}`", r.name))
        .collect::<Vec<_>>()
        .join(", ")
}

fn approvals(p: &Policy, wo: &WorkOrder) -> Finding {
    let sl = slots(wo);
    let mut checked = vec![format!(
        "{} distinct approver(s) over {} declared person(s)",
        sl.len(),
        p.persons.len()
    )];
    let mut problems = Vec::new();
    match wo.max_duration {
        Some(d) => checked.push(format!("every opening ends after at most {}", duration(d))),
        None => {
            problems.push("an opening has no `max_duration`: it is not time-bounded".to_string())
        }
    }
    if sl.is_empty() {
        problems.push("nobody approves it".into());
    }
    let mut notes = Vec::new();
    if !p.persons.is_empty() {
        let requesters: Vec<&Person> = p
            .persons
            .iter()
            .filter(|x| x.roles.iter().any(|r| wo.requested_by.contains(r)))
            .collect();
        if wo.separation_of_duties {
            checked.push("separation of duties: the requester never approves".into());
            for req in &requesters {
                let others: Vec<Person> = p
                    .persons
                    .iter()
                    .filter(|x| x.id != req.id)
                    .cloned()
                    .collect();
                if matching(&sl, &others).len() < sl.len() {
                    problems.push(format!("when `{}` requests it, the other declared people cannot fill the {} approval place(s) without them", req.id, sl.len()));
                }
            }
        } else {
            let selfish: Vec<String> = requesters
                .iter()
                .filter(|x| sl.iter().any(|s| x.roles.iter().any(|r| s.contains(r))))
                .map(|x| format!("`{}`", x.id))
                .collect();
            if !selfish.is_empty() {
                notes.push(format!(
                    "without `separation_of_duties`, {} may approve their own request",
                    selfish.join(", ")
                ));
            }
        }
    }
    let checked = checked.join("; ");
    if problems.is_empty() {
        return Finding::proved(checked, notes);
    }
    Finding::refuted(
        checked,
        Counterexample {
            summary: format!("work order `{}`: {}", wo.name, problems.join("; ")),
            steps: Vec::new(),
        },
        notes,
    )
}

fn two_person(p: &Policy, wo: &WorkOrder, safety: &[RoleId], safety_names: &[String]) -> Finding {
    let sl = slots(wo);
    let checked = format!(
        "at least two distinct approvers, one of them holding a safety role ({})",
        safety_names.join(", ")
    );
    if sl.len() < 2 {
        return Finding::refuted(
            checked,
            Counterexample {
                summary: format!(
                    "work order `{}` touches an SL-T {} zone but needs only {} approver(s)",
                    wo.name,
                    touches_level(p, wo),
                    sl.len()
                ),
                steps: Vec::new(),
            },
            Vec::new(),
        );
    }
    if p.persons.is_empty() {
        // Over roles: a choice of one role per place that avoids every safety role.
        let avoid: Option<Vec<RoleId>> = sl
            .iter()
            .map(|s| s.iter().find(|r| !safety.contains(r)).copied())
            .collect();
        return match avoid {
            None => Finding::proved(checked + " (over roles; no people declared)", Vec::new()),
            Some(roles) => Finding::refuted(
                checked,
                Counterexample {
                    summary: format!(
                        "holders of {} can approve work order `{}` with no safety role among them",
                        names(p, &roles),
                        wo.name
                    ),
                    steps: Vec::new(),
                },
                Vec::new(),
            ),
        };
    }
    let without: Vec<Person> = p
        .persons
        .iter()
        .filter(|x| !x.roles.iter().any(|r| safety.contains(r)))
        .cloned()
        .collect();
    let m = matching(&sl, &without);
    if m.len() < sl.len() {
        return Finding::proved(checked + " (over the declared people)", Vec::new());
    }
    let who: Vec<String> = m
        .iter()
        .map(|(slot, person)| {
            let person = without.get(*person);
            let held: Vec<RoleId> = person
                .map(|x| {
                    x.roles
                        .iter()
                        .copied()
                        .filter(|r| sl.get(*slot).is_some_and(|s| s.contains(r)))
                        .collect()
                })
                .unwrap_or_default();
            format!(
                "`{}` (as {})",
                person.map(|x| x.id.as_str()).unwrap_or("?"),
                names(p, &held)
            )
        })
        .collect();
    Finding::refuted(
        checked,
        Counterexample {
            summary: format!(
                "{} can approve work order `{}` and none of them holds a safety role",
                who.join(" and "),
                wo.name
            ),
            steps: Vec::new(),
        },
        Vec::new(),
    )
}

fn break_glass(wo: &WorkOrder, max_duration: Option<u64>, review_within: Option<u64>) -> Finding {
    let sl = slots(wo);
    let mut problems = Vec::new();
    if sl.len() != 1 {
        problems.push(format!(
            "it needs {} approvers; a break-glass order has exactly one",
            sl.len()
        ));
    }
    match (wo.max_duration, max_duration) {
        (Some(d), Some(max)) if d > max => problems.push(format!(
            "it lasts up to {}, more than {}",
            duration(d),
            duration(max)
        )),
        (None, _) => problems.push("it has no `max_duration`".into()),
        _ => {}
    }
    match (wo.review_after, review_within) {
        (Some(r), Some(max)) if r > max => problems.push(format!(
            "its review comes {} after, later than {}",
            duration(r),
            duration(max)
        )),
        (None, _) => problems.push("it has no `review_after`".into()),
        _ => {}
    }
    let checked = format!(
        "one approver, at most {}, reviewed within {}",
        max_duration
            .map(duration)
            .unwrap_or_else(|| "any duration".into()),
        review_within
            .map(duration)
            .unwrap_or_else(|| "any time".into())
    );
    if problems.is_empty() {
        return Finding::proved(checked, Vec::new());
    }
    Finding::refuted(
        checked,
        Counterexample {
            summary: format!(
                "emergency work order `{}`: {}",
                wo.name,
                problems.join("; ")
            ),
            steps: Vec::new(),
        },
        Vec::new(),
    )
}

pub fn duration(secs: u64) -> String {
    if secs.is_multiple_of(3600) {
        format!("{}h", secs / 3600)
    } else if secs.is_multiple_of(60) {
        format!("{}m", secs / 60)
    } else {
        format!("{secs}s")
    }
}
