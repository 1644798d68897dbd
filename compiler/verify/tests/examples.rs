//! The example sites verify. Their assertions are proved; the properties listed here are
//! refuted on purpose by the verifier's semantics (see the report to the examples' owner).

use crate::support::load;
use palisade_verify::{verify, Options, Verdict};

fn not_proved(dir: &str) -> Vec<String> {
    let site = load(dir);
    assert!(
        !site.front.iter().any(|d| d.is_error()),
        "{dir}: {:?}",
        site.front
    );
    let report = verify(
        &site.policy,
        &Options {
            matrix: true,
            ..Options::default()
        },
    );
    assert!(
        !report.diagnostics.iter().any(|d| d.code == "E1006"),
        "engines disagree in {dir}"
    );
    let mut out: Vec<String> = report
        .results
        .iter()
        .filter(|r| r.verdict != Verdict::Proved)
        .map(|r| format!("{} [{}] {:?}", r.property, r.scenario, r.verdict))
        .collect();
    out.sort();
    out
}

#[test]
fn water_proves_everything() {
    assert_eq!(not_proved("../../examples/water"), Vec::<String>::new());
}

#[test]
fn refinery_is_proved_but_remote_engineering_lacks_a_safety_approver() {
    // remote_engineering touches `control` (SL-T 3 on FR3, FR5, FR7); `2 of [shift_supervisor,
    // ot_security, control_engineer]` lets two non-safety people approve it.
    assert_eq!(
        not_proved("../../examples/refinery"),
        vec!["two_person_approval remote_engineering [base] Refuted".to_string()]
    );
}

#[test]
fn manufacturing_is_proved_in_base_but_not_during_work_orders() {
    // The PLCs' compensating control relies on gw_cell admitting only named CIP reads; its
    // own text says "outside work orders": during them `eng_ws -> line_plcs : enip` is open.
    let got = not_proved("../../examples/manufacturing");
    let want: Vec<String> = [
        "all work orders",
        "during line_change",
        "during line_down",
        "during vendor_session",
    ]
    .iter()
    .map(|s| format!("assert security_level assembly [{s}] Refuted"))
    .collect();
    assert_eq!(got, want);
}
