//! Checks on every workflow before it is written (E0955): access opens only after the
//! required approvals (and inside the window), every opening is closed, with nothing but
//! timer-bounded waits between "open access" and "close access", and the approval rule the
//! workflow runs keeps separation of duties and distinct approvers for every assignment of
//! the declared people. They hold by construction of [`super::model`] and
//! [`palisade_compiler::approvals::decide`]; checking them on what is emitted keeps it so.

use super::model::{Kind, Step, Timer, Workflow};
use palisade_compiler::approvals::{self, Exhaustive};
use palisade_compiler::diagnostic::Diagnostic;
use palisade_compiler::ir::Policy;
use std::collections::BTreeSet;

/// Nodes a token can reach from `from` (boundary events with their host), skipping the nodes
/// in `cut` and the flows in `cut_flows`. A parallel join is reached only when all of its
/// incoming flows are: the least fixpoint, so loops count only once they are entered.
fn reachable(
    wf: &Workflow,
    from: usize,
    cut: &BTreeSet<usize>,
    cut_flows: &BTreeSet<usize>,
) -> BTreeSet<usize> {
    let mut seen: BTreeSet<usize> = BTreeSet::new();
    if !cut.contains(&from) {
        seen.insert(from);
    }
    loop {
        let mut grew = false;
        for (n, node) in wf.nodes.iter().enumerate() {
            if seen.contains(&n) || cut.contains(&n) {
                continue;
            }
            let incoming: Vec<bool> = wf
                .flows
                .iter()
                .enumerate()
                .filter(|(_, f)| f.target == n)
                .map(|(i, f)| !cut_flows.contains(&i) && seen.contains(&f.source))
                .collect();
            let reached = match &node.kind {
                Kind::Boundary { host, .. } => seen.contains(host),
                Kind::Parallel if incoming.len() > 1 => incoming.iter().all(|x| *x),
                _ => incoming.iter().any(|x| *x),
            };
            if reached {
                seen.insert(n);
                grew = true;
            }
        }
        if !grew {
            return seen;
        }
    }
}

fn find(wf: &Workflow, pred: impl Fn(&Step) -> bool) -> Vec<usize> {
    wf.nodes
        .iter()
        .enumerate()
        .filter(|(_, n)| pred(&n.step))
        .map(|(i, _)| i)
        .collect()
}

/// What is wrong with `wf`, as sentences; empty when every property holds.
pub fn problems(wf: &Workflow, windowed: bool, max_duration: u64) -> Vec<String> {
    let mut out = Vec::new();
    let none = BTreeSet::new();
    let start = find(wf, |s| matches!(s, Step::Requested));
    let open = find(wf, |s| matches!(s, Step::OpenAccess(_)));
    let close = find(wf, |s| matches!(s, Step::CloseAccess(_)));
    let (Some(&start), Some(&open), Some(&close)) = (start.first(), open.first(), close.first())
    else {
        out.push("it lacks the start, \"open access\" or \"close access\"".into());
        return out;
    };
    if !reachable(wf, start, &none, &none).contains(&open) {
        out.push("\"open access\" is unreachable".into());
    }
    // Every gate on the way to the opening: each approval place, the approval check, the
    // "approved" branch, and the window timer.
    let mut gates: Vec<(String, BTreeSet<usize>, BTreeSet<usize>)> = Vec::new();
    for slot in &wf.slots {
        gates.push((
            format!("approval place `{}`", slot.id),
            find(wf, |s| matches!(s, Step::Approval(x) if x.id == slot.id))
                .into_iter()
                .collect(),
            BTreeSet::new(),
        ));
    }
    gates.push((
        "the approval check".into(),
        find(wf, |s| matches!(s, Step::CheckApprovals))
            .into_iter()
            .collect(),
        BTreeSet::new(),
    ));
    let decision: BTreeSet<usize> = find(wf, |s| matches!(s, Step::ApprovalDecision))
        .into_iter()
        .collect();
    let approved: BTreeSet<usize> = wf
        .flows
        .iter()
        .enumerate()
        .filter(|(_, f)| {
            decision.contains(&f.source)
                && f.cond
                    .as_ref()
                    .is_some_and(|c| c.python().contains("\"approved\""))
        })
        .map(|(i, _)| i)
        .collect();
    gates.push(("the \"approved\" branch".into(), BTreeSet::new(), approved));
    if windowed {
        gates.push((
            "the window timer".into(),
            find(wf, |s| matches!(s, Step::WindowOpens))
                .into_iter()
                .collect(),
            BTreeSet::new(),
        ));
    }
    for (what, nodes, flows) in gates {
        if (nodes.is_empty() && flows.is_empty())
            || reachable(wf, start, &nodes, &flows).contains(&open)
        {
            out.push(format!("\"open access\" is reachable without {what}"));
        }
    }
    // From the opening, every way leads to the closing, and every wait on it is bounded by an
    // interrupting timer.
    let cut: BTreeSet<usize> = [close].into_iter().collect();
    let between = reachable(wf, open, &cut, &none);
    for &n in &between {
        let Some(node) = wf.nodes.get(n) else {
            continue;
        };
        if !reachable(wf, n, &none, &none).contains(&close) {
            out.push(format!(
                "`{}` after \"open access\" never reaches \"close access\"",
                node.id
            ));
        }
        let waits = matches!(node.kind, Kind::UserTask | Kind::TimerCatch(_));
        let bounded = wf.nodes.iter().any(|b| match &b.kind {
            Kind::Boundary {
                host,
                timer,
                interrupting: true,
            } => {
                *host == n
                    && match timer {
                        Timer::After(s) => *s > 0 && *s <= max_duration,
                        Timer::At(field) => field == "close_at" && windowed,
                    }
            }
            _ => false,
        });
        if waits && !bounded {
            out.push(format!(
                "`{}` waits between \"open access\" and \"close access\" with no time limit",
                node.id
            ));
        }
        if matches!(node.kind, Kind::End) {
            out.push(format!("end `{}` is reachable with access open", node.id));
        }
    }
    out
}

/// Assignments of declared people [`check`] decides at most, per work order.
pub const ASSIGNMENT_LIMIT: u64 = 200_000;

/// [`problems`], and the approval rule the workflow runs decided over every assignment of
/// the declared people, as diagnostics on the work order.
pub fn check(policy: &Policy, wf: &Workflow) -> Vec<Diagnostic> {
    let Some(wo) = policy.workorder(wf.order) else {
        return Vec::new();
    };
    let mut found = problems(wf, !wo.windows.is_empty(), wo.max_duration.unwrap_or(0));
    if let Exhaustive::Broken {
        requester,
        approvers,
        why,
    } = approvals::every_assignment(policy, wo, ASSIGNMENT_LIMIT)
    {
        found.push(format!(
            "it approves a request by `{requester}` with approvers {}: {why}",
            approvers.join(", ")
        ));
    }
    found
        .into_iter()
        .map(|p| {
            Diagnostic::error(
                "E0955",
                format!(
                    "the workflow of work order `{}` opens access unsafely",
                    wo.name
                ),
            )
            .primary(policy.location(wo.span), p)
            .help("this is a bug in Palisade's workflow generator; please report it with the site")
        })
        .collect()
}
