//! Approval semantics of work orders, and the proofs over them (DESIGN.md §3 "Approvals").
//!
//! One definition of the run-time rule that decides whether a work-order instance is
//! approved. The BPMN and JSON workflows (`palisade-targets`) emit it as the check the
//! workflow engine runs; the verifier (`palisade-verify`, `approvals`) proves the static
//! properties of the rule (quorum, the profile's `two_person_approval` and
//! `break_glass_limits`, separation of duties leaving enough approvers).
//!
//! - [`slots`]: the approval places of a work order. `a and b` gives one place per role,
//!   `N of [roles]` gives N places each accepting any of the roles; every place is filled by a
//!   *distinct* person.
//! - [`decide`]: the decision over one instance (requester, one vote per place): approved,
//!   rejected, or refused as invalid (incomplete, a person voting twice, a requester approving
//!   their own request under separation of duties, someone outside the declared staff or
//!   without the place's role).
//! - [`every_assignment`]: [`decide`] run on every assignment of the declared people to the
//!   requester and the places, checking that whatever it approves has distinct approvers who
//!   hold their places' roles, and no requester approving their own request under separation
//!   of duties.

use crate::ir::{Approval, Person, Policy, RoleId, WorkOrder};
use serde::Serialize;
use std::collections::BTreeSet;

/// One approval place: filled by one person holding any of `roles`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Slot {
    /// Stable id within the work order: `approval_1`, `approval_2`, …
    pub id: String,
    pub roles: Vec<RoleId>,
}

/// The approval places of a work order, in declaration order.
pub fn slots(wo: &WorkOrder) -> Vec<Slot> {
    let mut roles: Vec<Vec<RoleId>> = Vec::new();
    for a in &wo.approvals {
        match a {
            Approval::AllOf { roles: rs } => roles.extend(rs.iter().map(|r| vec![*r])),
            Approval::NOf { n, roles: rs } => roles.extend((0..*n).map(|_| rs.clone())),
        }
    }
    roles
        .into_iter()
        .enumerate()
        .map(|(i, roles)| Slot {
            id: format!("approval_{}", i + 1),
            roles,
        })
        .collect()
}

/// One vote on an approval place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vote {
    pub person: String,
    pub approve: bool,
}

/// A work-order instance as far as approvals are concerned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Instance {
    pub requester: String,
    /// One entry per [`Slot`], in order; `None` where nobody has voted yet.
    pub votes: Vec<Option<Vote>>,
}

/// Why a set of votes is refused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "refusal", rename_all = "snake_case")]
pub enum Refusal {
    Incomplete { slot: String },
    VotesTwice { person: String },
    OwnRequest { person: String },
    NotStaff { person: String },
    LacksRole { person: String, slot: String },
    RequesterLacksRole { person: String },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "status", content = "refusals", rename_all = "snake_case")]
pub enum Decision {
    Approved,
    Rejected,
    /// The votes do not count; the workflow collects them again.
    Invalid(Vec<Refusal>),
}

fn holds_any(person: &Person, roles: &[RoleId]) -> bool {
    person.roles.iter().any(|r| roles.contains(r))
}

/// The decision over one instance. Validity comes first (an invalid set of votes is
/// collected again, whatever it says); among valid votes one rejection rejects.
pub fn decide(policy: &Policy, wo: &WorkOrder, instance: &Instance) -> Decision {
    let slots = slots(wo);
    let staff = !policy.persons.is_empty();
    let person = |id: &str| policy.persons.iter().find(|p| p.id == id);
    let mut refusals = Vec::new();
    if staff {
        match person(&instance.requester) {
            None => refusals.push(Refusal::NotStaff {
                person: instance.requester.clone(),
            }),
            Some(p) if !holds_any(p, &wo.requested_by) => {
                refusals.push(Refusal::RequesterLacksRole {
                    person: instance.requester.clone(),
                })
            }
            Some(_) => {}
        }
    }
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    for (i, slot) in slots.iter().enumerate() {
        let Some(Some(vote)) = instance.votes.get(i) else {
            refusals.push(Refusal::Incomplete {
                slot: slot.id.clone(),
            });
            continue;
        };
        if !seen.insert(vote.person.as_str()) {
            refusals.push(Refusal::VotesTwice {
                person: vote.person.clone(),
            });
        }
        if wo.separation_of_duties && vote.person == instance.requester {
            refusals.push(Refusal::OwnRequest {
                person: vote.person.clone(),
            });
        }
        if staff {
            match person(&vote.person) {
                None => refusals.push(Refusal::NotStaff {
                    person: vote.person.clone(),
                }),
                Some(p) if !holds_any(p, &slot.roles) => refusals.push(Refusal::LacksRole {
                    person: vote.person.clone(),
                    slot: slot.id.clone(),
                }),
                Some(_) => {}
            }
        }
    }
    if !refusals.is_empty() {
        return Decision::Invalid(refusals);
    }
    let all_approve = instance
        .votes
        .iter()
        .all(|v| v.as_ref().is_some_and(|v| v.approve));
    if all_approve {
        Decision::Approved
    } else {
        Decision::Rejected
    }
}

/// The outcome of [`every_assignment`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Exhaustive {
    /// Every assignment was decided, and every approval kept the rules.
    Holds { assignments: u64, approved: u64 },
    /// An approved assignment that breaks a rule.
    Broken {
        requester: String,
        approvers: Vec<String>,
        why: String,
    },
    /// No people declared, or more assignments than `limit`: the rule holds by its text only.
    NotEnumerated { assignments: u128 },
}

/// Runs [`decide`] on every assignment of declared people (requester, then one person per
/// place, all voting to approve) and checks each approval: distinct persons, each holding a
/// role of their place, the requester holding a requesting role, and under separation of
/// duties no approver who is the requester. Stops enumerating beyond `limit` assignments.
pub fn every_assignment(policy: &Policy, wo: &WorkOrder, limit: u64) -> Exhaustive {
    let slots = slots(wo);
    let staff = &policy.persons;
    let n = staff.len() as u128;
    let total = n.checked_pow(slots.len() as u32 + 1).unwrap_or(u128::MAX);
    if staff.is_empty() || total > u128::from(limit) {
        return Exhaustive::NotEnumerated {
            assignments: if staff.is_empty() { 0 } else { total },
        };
    }
    let mut counter = vec![0usize; slots.len() + 1];
    let (mut assignments, mut approved) = (0u64, 0u64);
    loop {
        let chosen: Vec<&Person> = counter.iter().filter_map(|i| staff.get(*i)).collect();
        if let Some((requester, approvers)) = chosen.split_first() {
            let instance = Instance {
                requester: requester.id.clone(),
                votes: approvers
                    .iter()
                    .map(|p| {
                        Some(Vote {
                            person: p.id.clone(),
                            approve: true,
                        })
                    })
                    .collect(),
            };
            assignments += 1;
            if decide(policy, wo, &instance) == Decision::Approved {
                approved += 1;
                let distinct: BTreeSet<&str> = approvers.iter().map(|p| p.id.as_str()).collect();
                let why = if distinct.len() != approvers.len() {
                    Some("one person fills two places")
                } else if wo.separation_of_duties && distinct.contains(requester.id.as_str()) {
                    Some("the requester approves their own request")
                } else if !approvers
                    .iter()
                    .zip(&slots)
                    .all(|(p, s)| holds_any(p, &s.roles))
                {
                    Some("an approver lacks the role of their place")
                } else if !holds_any(requester, &wo.requested_by) {
                    Some("the requester holds no requesting role")
                } else {
                    None
                };
                if let Some(why) = why {
                    return Exhaustive::Broken {
                        requester: requester.id.clone(),
                        approvers: approvers.iter().map(|p| p.id.clone()).collect(),
                        why: why.to_string(),
                    };
                }
            }
        }
        // Next assignment, like an odometer.
        let mut i = 0;
        loop {
            let Some(c) = counter.get_mut(i) else {
                return Exhaustive::Holds {
                    assignments,
                    approved,
                };
            };
            *c += 1;
            if *c < staff.len() {
                break;
            }
            *c = 0;
            i += 1;
        }
    }
}

/// A duration in seconds as the language writes it (`4h`, `90m`, `1d`).
pub fn duration(secs: u64) -> String {
    // `checked_rem` rather than `is_multiple_of`, which needs Rust 1.87.
    let whole = |unit: u64| secs > 0 && secs.checked_rem(unit) == Some(0);
    if whole(86_400) {
        format!("{}d", secs / 86_400)
    } else if whole(3600) {
        format!("{}h", secs / 3600)
    } else if whole(60) {
        format!("{}m", secs / 60)
    } else {
        format!("{secs}s")
    }
}

/// A maximum matching of places to distinct persons: (place, person index) pairs.
pub fn matching(slots: &[Vec<RoleId>], persons: &[Person]) -> Vec<(usize, usize)> {
    let mut owner: Vec<Option<usize>> = vec![None; persons.len()];
    for s in 0..slots.len() {
        let mut seen = vec![false; persons.len()];
        augment(s, slots, persons, &mut owner, &mut seen);
    }
    let mut out: Vec<(usize, usize)> = owner
        .iter()
        .enumerate()
        .filter_map(|(p, s)| s.map(|s| (s, p)))
        .collect();
    out.sort();
    out
}

fn augment(
    slot: usize,
    slots: &[Vec<RoleId>],
    persons: &[Person],
    owner: &mut [Option<usize>],
    seen: &mut [bool],
) -> bool {
    let Some(roles) = slots.get(slot) else {
        return false;
    };
    for (i, person) in persons.iter().enumerate() {
        if !person.roles.iter().any(|r| roles.contains(r)) || seen.get(i).copied().unwrap_or(true) {
            continue;
        }
        if let Some(s) = seen.get_mut(i) {
            *s = true;
        }
        let free = match owner.get(i).copied().flatten() {
            None => true,
            Some(other) => augment(other, slots, persons, owner, seen),
        };
        if free {
            if let Some(o) = owner.get_mut(i) {
                *o = Some(slot);
            }
            return true;
        }
    }
    false
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;
    use crate::ir::{Person, Role, Span};

    fn policy(persons: &[(&str, &[u32])]) -> Policy {
        let mut p: Policy = serde_json::from_value(serde_json::json!({
            "ir_version": 1,
            "site": {"name": "t", "timezone": "UTC", "description": null, "span": {"file": 0, "start": 0, "end": 0}},
            "sources": [], "roles": [], "persons": [], "protocols": [], "services": [], "groups": [],
            "zones": [], "assets": [], "conduits": [], "rules": [], "devices": [], "links": [],
            "workorders": [], "dataflows": [], "assertions": [], "profile": []
        }))
        .unwrap();
        for name in ["tech", "eng", "safety"] {
            p.roles.push(Role {
                name: name.into(),
                title: None,
                span: Span::default(),
            });
        }
        for (id, roles) in persons {
            p.persons.push(Person {
                id: (*id).into(),
                title: None,
                roles: roles.iter().map(|r| RoleId(*r)).collect(),
                span: Span::default(),
            });
        }
        p
    }

    fn order(sod: bool) -> WorkOrder {
        WorkOrder {
            name: "fw".into(),
            title: None,
            description: None,
            scope: vec![],
            requested_by: vec![RoleId(0)],
            approvals: vec![Approval::AllOf {
                roles: vec![RoleId(1), RoleId(2)],
            }],
            separation_of_duties: sod,
            prerequisites: vec![],
            windows: vec![],
            max_duration: Some(3600),
            emergency: false,
            review_after: None,
            opens: vec![],
            rules: vec![],
            span: Span::default(),
        }
    }

    fn vote(p: &str, approve: bool) -> Option<Vote> {
        Some(Vote {
            person: p.into(),
            approve,
        })
    }

    #[test]
    fn decisions() {
        let p = policy(&[("t1", &[0, 1]), ("e1", &[1]), ("s1", &[2, 1])]);
        let wo = order(true);
        let inst = |req: &str, votes: Vec<Option<Vote>>| Instance {
            requester: req.into(),
            votes,
        };
        assert_eq!(
            decide(
                &p,
                &wo,
                &inst("t1", vec![vote("e1", true), vote("s1", true)])
            ),
            Decision::Approved
        );
        assert_eq!(
            decide(
                &p,
                &wo,
                &inst("t1", vec![vote("e1", true), vote("s1", false)])
            ),
            Decision::Rejected
        );
        assert!(
            matches!(decide(&p, &wo, &inst("t1", vec![vote("s1", true), vote("s1", true)])), Decision::Invalid(r) if r.contains(&Refusal::VotesTwice { person: "s1".into() }))
        );
        assert!(
            matches!(decide(&p, &wo, &inst("t1", vec![vote("t1", true), vote("s1", true)])), Decision::Invalid(r) if r.contains(&Refusal::OwnRequest { person: "t1".into() }))
        );
        assert!(matches!(
            decide(
                &p,
                &wo,
                &inst("t1", vec![vote("e1", true), vote("e1", true)])
            ),
            Decision::Invalid(_)
        ));
        assert!(
            matches!(decide(&p, &wo, &inst("t1", vec![vote("e1", true), None])), Decision::Invalid(r) if r == vec![Refusal::Incomplete { slot: "approval_2".into() }])
        );
        assert!(
            matches!(decide(&p, &wo, &inst("x", vec![vote("e1", true), vote("s1", true)])), Decision::Invalid(r) if r == vec![Refusal::NotStaff { person: "x".into() }])
        );
        // Without separation of duties the requester may fill a place.
        assert_eq!(
            decide(
                &p,
                &order(false),
                &inst("t1", vec![vote("t1", true), vote("s1", true)])
            ),
            Decision::Approved
        );
    }

    #[test]
    fn every_assignment_keeps_the_rules() {
        let mut p = policy(&[
            ("t1", &[0, 1]),
            ("e1", &[1]),
            ("s1", &[2, 1]),
            ("x", &[0, 2]),
        ]);
        p.workorders.push(order(true));
        // 4 requesters x 4 x 4 approvers; approved: a requester holding `tech`, two other
        // distinct people for `eng` and `safety`.
        match every_assignment(&p, &p.workorders[0], 1000) {
            Exhaustive::Holds {
                assignments,
                approved,
            } => {
                assert_eq!(assignments, 64);
                // t1: (e1|s1, s1|x) distinct, not t1 -> (e1,s1),(e1,x),(s1,x); x: (t1|e1|s1, s1) -> (t1,s1),(e1,s1).
                assert_eq!(approved, 5);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            every_assignment(&p, &p.workorders[0], 10),
            Exhaustive::NotEnumerated { assignments: 64 }
        ));
    }

    #[test]
    fn durations() {
        assert_eq!(duration(14_400), "4h");
        assert_eq!(duration(5_400), "90m");
        assert_eq!(duration(86_400), "1d");
        assert_eq!(duration(61), "61s");
    }
}
