//! Work-order workflows (BPMN, JSON): golden files, determinism, and the workflow proofs —
//! they hold for every example and catch a workflow that opens without approvals or never
//! closes. The real engine (SpiffWorkflow), bpmnlint and the JSON Schema run in
//! tests/python/test_workflow_*.py.

use crate::gateway_support::{example, joined, site_text, EXAMPLES};
use palisade_compiler::approvals::{every_assignment, Exhaustive};
use palisade_compiler::ir::WorkOrderId;
use palisade_targets::placement::place;
use palisade_targets::workflow::model::{Flow, Kind, Step};
use palisade_targets::workflow::{commands, emit, model, proof, workflows, Format};

#[test]
fn golden_files() {
    let refinery = example("refinery");
    insta::assert_snapshot!(
        "workflow_bpmn_refinery",
        joined(&emit(&refinery, Format::Bpmn).unwrap())
    );
    let manufacturing = example("manufacturing");
    insta::assert_snapshot!(
        "workflow_json_manufacturing",
        joined(&emit(&manufacturing, Format::Json).unwrap())
    );
}

#[test]
fn output_is_deterministic_and_one_file_per_order() {
    for name in EXAMPLES {
        let policy = example(name);
        for format in Format::ALL {
            let a = emit(&policy, format).unwrap();
            assert_eq!(a, emit(&policy, format).unwrap());
            let paths: Vec<String> = a.iter().map(|f| f.path.clone()).collect();
            let want: Vec<String> = policy
                .workorders
                .iter()
                .map(|w| format.path(&w.name))
                .collect();
            assert_eq!(paths, want);
        }
    }
}

#[test]
fn every_example_workflow_is_proved() {
    for name in EXAMPLES {
        let policy = example(name);
        let wfs = workflows(&policy).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        for (i, wf) in wfs.iter().enumerate() {
            let wo = &policy.workorders[i];
            assert!(
                proof::problems(wf, !wo.windows.is_empty(), wo.max_duration.unwrap()).is_empty()
            );
            match every_assignment(&policy, wo, proof::ASSIGNMENT_LIMIT) {
                Exhaustive::Holds { assignments, .. } => assert!(assignments > 0),
                other => panic!("{name} {}: {other:?}", wo.name),
            }
        }
    }
}

const SITE: &str = r#"
site "T" { timezone "UTC" }
use std.services
role tech
role eng
role safety
zone a { security_level 1; network 10.1.0.0/24; asset h at 10.1.0.5 }
zone b { security_level 3; network 10.2.0.0/24; asset p at 10.2.0.5 }
conduit c: a -> b { allow h -> p : s7comm when workorder w }
firewall fw { target nftables; interface "e0" faces a; interface "e1" faces b }
workorder w { scope [p]; requested_by tech; approved_by eng and safety; separation_of_duties
  window Mon-Fri 06:00-18:00; max_duration 2h }
"#;

fn node(wf: &model::Workflow, pred: impl Fn(&Step) -> bool) -> usize {
    wf.nodes.iter().position(|n| pred(&n.step)).unwrap()
}

#[test]
fn a_workflow_that_skips_approvals_or_never_closes_is_caught() {
    let policy = site_text(SITE);
    let placement = place(&policy);
    let id = WorkOrderId(0);
    let good = model::build(&policy, id, commands(&policy, &placement, id)).unwrap();
    assert!(proof::problems(&good, true, 7200).is_empty());
    assert!(proof::check(&policy, &good).is_empty());

    // A shortcut from the request check straight to the opening.
    let mut shortcut = good.clone();
    let from = node(&shortcut, |s| matches!(s, Step::RequestDecision));
    let to = node(&shortcut, |s| matches!(s, Step::OpenAccess(_)));
    shortcut.flows.push(Flow {
        id: "flow_x".into(),
        source: from,
        target: to,
        name: None,
        cond: None,
        default: false,
    });
    let p = proof::problems(&shortcut, true, 7200);
    assert!(
        p.iter()
            .any(|m| m.contains("without approval place `approval_1`")),
        "{p:?}"
    );
    assert!(
        p.iter().any(|m| m.contains("without the window timer")),
        "{p:?}"
    );

    // One parallel approval dropped: the join never fires, so the opening is unreachable.
    let mut one = good.clone();
    let a2 = node(
        &one,
        |s| matches!(s, Step::Approval(x) if x.id == "approval_2"),
    );
    one.flows.retain(|f| f.target != a2);
    assert!(proof::problems(&one, true, 7200)
        .iter()
        .any(|m| m.contains("unreachable")));

    // The work with no timer: access could stay open for ever.
    let mut untimed = good.clone();
    untimed
        .nodes
        .retain(|n| !matches!(n.kind, Kind::Boundary { .. }));
    let p = proof::problems(&untimed, true, 7200);
    assert!(
        p.iter().any(|m| m.contains("`work` waits between")),
        "{p:?}"
    );

    // A timer longer than the maximum duration does not bound it either.
    let mut long = model::build(&policy, id, commands(&policy, &placement, id)).unwrap();
    for n in &mut long.nodes {
        if let Kind::Boundary { timer, .. } = &mut n.kind {
            *timer = model::Timer::After(7201);
        }
    }
    assert!(!proof::problems(&long, false, 7200).is_empty());
}

#[test]
fn commands_carry_the_timed_set_statements() {
    let policy = site_text(SITE);
    let placement = place(&policy);
    let c = commands(&policy, &placement, WorkOrderId(0));
    assert_eq!(
        c.open.display(),
        "palisade workorder open w --scope TARGET… --duration 2h --apply"
    );
    assert_eq!(
        c.close.display(),
        "palisade workorder close w --scope TARGET… --apply"
    );
    let show = |a: &model::Action| -> Vec<String> {
        a.elements
            .iter()
            .map(|e| format!("{} {}: {}", e.device, e.target, e.nft))
            .collect()
    };
    assert_eq!(
        show(&c.open),
        vec!["fw p: add element inet palisade wo_w_v4 { 10.2.0.5 timeout 7200s }"]
    );
    assert_eq!(
        show(&c.close),
        vec!["fw p: delete element inet palisade wo_w_v4 { 10.2.0.5 }"]
    );
}
