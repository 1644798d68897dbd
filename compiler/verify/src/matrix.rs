//! The zone-to-zone reachability matrix of the base state: for every ordered pair of zones,
//! the services on which the first may open connections to the second (replies come back
//! unless the conduit is a diode), what is enforced on the way, and what work orders add.
//!
//! The exact engine computes the entries; Z3 cross-checks every one it reports: a witness
//! packet (checked by the evaluator) for a non-empty entry, unsat for a pair whose rules
//! admit nothing. A disagreement is an error diagnostic, never silently resolved.

use crate::network::Enforcement;
use crate::packet::{rule_admits, rule_formula, Packet};
use crate::scenario::Scenario;
use crate::solver::Outcome;
use crate::Ctx;
use palisade_compiler::ir::{RuleId, WorkOrderId, ZoneId, EXTERNAL};
use palisade_compiler::Diagnostic;
use serde::Serialize;
use std::collections::BTreeSet;
use z3::ast::Bool;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Entry {
    pub from: String,
    pub to: String,
    /// Services (leaf names) `from` may open connections on, in the base state.
    pub services: Vec<String>,
    /// Everything passes: a link or a bridge joins the zones with no filtering.
    pub unfiltered: bool,
    /// Replies return (false when every rule is on a unidirectional conduit).
    pub replies: bool,
    pub enforcement: Enforcement,
    /// Services added while a work order is open: (work order, services).
    pub during: Vec<(String, Vec<String>)>,
    /// A packet the network admits, found by Z3 and checked by the evaluator.
    pub witness: Option<String>,
    /// `z3 sat`, `z3 unsat`, or why Z3 could not confirm.
    pub cross_check: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Matrix {
    pub zones: Vec<String>,
    /// Only pairs with something in them.
    pub entries: Vec<Entry>,
    pub cross_checked: usize,
    #[serde(skip)]
    pub diagnostics: Vec<Diagnostic>,
}

fn services(ctx: &Ctx<'_>, rules: &[RuleId]) -> Vec<String> {
    let p = ctx.policy;
    let mut out: BTreeSet<String> = BTreeSet::new();
    for r in rules.iter().filter_map(|r| p.rule(*r)) {
        for s in p.leaf_services(&r.services) {
            if let Some(s) = p.service(s) {
                out.insert(s.name.clone());
            }
        }
    }
    out.into_iter().collect()
}

pub fn compute(ctx: &Ctx<'_>) -> Matrix {
    let p = ctx.policy;
    let net = &ctx.net;
    let base = Scenario::base();
    let mut entries = Vec::new();
    let mut diagnostics = Vec::new();
    let mut cross_checked = 0;
    let mut pairs: BTreeSet<(ZoneId, ZoneId)> = net.pairs.keys().copied().collect();
    for a in 0..p.zones.len() {
        for b in 0..p.zones.len() {
            let (a, b) = (ZoneId(a as u32), ZoneId(b as u32));
            if a != b && net.component.get(a.index()) == net.component.get(b.index()) {
                pairs.insert((a, b));
            }
        }
    }
    // `external` is a component of its own (never a transit network); zones joined to it
    // with no device (a modem bridge) still reach it and are reached from it.
    let reach = net.unfiltered_from(EXTERNAL);
    for z in 0..p.zones.len() {
        let z = ZoneId(z as u32);
        if z != EXTERNAL && reach.contains(&z) {
            pairs.insert((EXTERNAL, z));
            pairs.insert((z, EXTERNAL));
        }
    }
    for (a, b) in pairs {
        if a == b {
            continue;
        }
        let e = net.enforcement_of(a, b);
        let open = net.open_rules(a, b, &base);
        let during: Vec<(String, Vec<String>)> = (0..p.workorders.len())
            .map(|w| WorkOrderId(w as u32))
            .filter_map(|w| {
                let s = Scenario::work_order(p, w);
                let extra: Vec<RuleId> = net
                    .open_rules(a, b, &s)
                    .into_iter()
                    .filter(|r| !open.contains(r))
                    .collect();
                (!extra.is_empty() && e != Enforcement::Disconnected).then(|| {
                    (
                        p.workorder(w).map(|x| x.name.clone()).unwrap_or_default(),
                        services(ctx, &extra),
                    )
                })
            })
            .collect();
        let unfiltered = e == Enforcement::Unfiltered;
        let nonempty = unfiltered || (e != Enforcement::Disconnected && !open.is_empty());
        let all_rules: Vec<RuleId> = net.pairs.get(&(a, b)).cloned().unwrap_or_default();
        let base_rules: Vec<RuleId> = all_rules
            .iter()
            .copied()
            .filter(|r| p.rule(*r).is_some_and(|x| base.is_open(x)))
            .collect();
        if !nonempty && during.is_empty() && base_rules.is_empty() {
            continue;
        }
        // Cross-check with z3: the base-state rules of the pair, as the exact engine saw them.
        let (witness, cross_check) = if unfiltered {
            (None, "unfiltered: no device between the zones".to_string())
        } else if base_rules.is_empty() {
            (None, "no standing rule".to_string())
        } else {
            cross_checked += 1;
            // The exact engine's own witness, pinned: z3 must confirm the rules admit it.
            let exact: Option<Packet> = base_rules
                .iter()
                .flat_map(|r| net.boxes(*r, e))
                .find(|b| !b.is_empty())
                .map(|b| b.sample());
            let outcome = ctx.q.check(
                &format!("matrix-{}-{}", p.zone_name(a), p.zone_name(b)),
                |pk| {
                    let rs: Vec<Bool> = base_rules
                        .iter()
                        .filter_map(|r| {
                            p.rule(*r)
                                .map(|x| rule_formula(p, x, pk, e.field_mode(), net.scope_of(*r)))
                        })
                        .collect();
                    match &exact {
                        Some(w) => Bool::and(&[Bool::or(&rs), pk.equals(w)]),
                        None => Bool::or(&rs),
                    }
                },
            );
            let admitted = |pk: &Packet| {
                base_rules.iter().any(|r| {
                    p.rule(*r)
                        .is_some_and(|x| rule_admits(p, x, pk, e.field_mode(), net.scope_of(*r)))
                })
            };
            match (&outcome, nonempty) {
                (Outcome::Sat(pk), true) if admitted(pk) => (
                    Some(pk.describe(None)),
                    "exact-engine witness confirmed by z3 and the evaluator".into(),
                ),
                (Outcome::Unsat, false) => (None, "z3 unsat: the rules admit no packet".into()),
                (Outcome::Unknown(why), _) => (None, format!("z3 unknown ({why})")),
                _ => {
                    diagnostics.push(
                        Diagnostic::error(
                            "E1006",
                            format!(
                                "the engines disagree on traffic from `{}` to `{}`",
                                p.zone_name(a),
                                p.zone_name(b)
                            ),
                        )
                        .note(format!(
                            "exact engine: {}; z3: {}",
                            if nonempty {
                                "some packet passes"
                            } else {
                                "nothing passes"
                            },
                            outcome.word()
                        ))
                        .help("this is a bug in Palisade; please report it with `--emit-smt2`"),
                    );
                    (None, format!("disagreement: z3 {}", outcome.word()))
                }
            }
        };
        let one_way = !open.is_empty()
            && open.iter().all(|r| {
                p.rule(*r)
                    .and_then(|x| p.conduit(x.conduit))
                    .is_some_and(|c| c.unidirectional)
            });
        entries.push(Entry {
            from: p.zone_name(a).to_string(),
            to: p.zone_name(b).to_string(),
            services: if unfiltered {
                vec!["any".into()]
            } else if nonempty {
                services(ctx, &open)
            } else {
                Vec::new()
            },
            unfiltered,
            replies: nonempty && !one_way,
            enforcement: e,
            during,
            witness,
            cross_check,
        });
    }
    Matrix {
        zones: p.zones.iter().map(|z| z.name.clone()).collect(),
        entries,
        cross_checked,
        diagnostics,
    }
}

impl Matrix {
    /// The matrix for a terminal: one line per pair with traffic.
    pub fn text(&self) -> String {
        let mut s = String::from("reachability (base state; initiator -> responder):\n");
        for e in &self.entries {
            let what = if e.unfiltered {
                "everything (unfiltered)".to_string()
            } else if e.services.is_empty() {
                "nothing".to_string()
            } else {
                e.services.join(", ")
            };
            let dir = if e.services.is_empty() {
                ""
            } else if e.replies {
                ", replies return"
            } else {
                ", one way (diode)"
            };
            let enf = match e.enforcement {
                Enforcement::Inspected => ", gateway on every path",
                _ => "",
            };
            s.push_str(&format!("  {} -> {}: {what}{dir}{enf}", e.from, e.to));
            for (w, svcs) in &e.during {
                s.push_str(&format!("; during {w}: {}", svcs.join(", ")));
            }
            s.push('\n');
        }
        s.push_str(&format!(
            "{} pair(s) with traffic; {} cross-checked by z3\n",
            self.entries.len(),
            self.cross_checked
        ));
        s
    }
}
