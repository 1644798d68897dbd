//! The example sites verify: every assertion and every built-in property is proved.

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
fn refinery_proves_everything() {
    // remote_engineering needs a safety engineer and an OT security officer, and two safety
    // engineers are on the staff, so neither requester can block the quorum.
    assert_eq!(not_proved("../../examples/refinery"), Vec::<String>::new());
}

#[test]
fn manufacturing_proves_everything() {
    // The PLCs' compensating control relies on gw_cell admitting only named CIP reads, which
    // holds outside work orders: the site claims the level `in base` only.
    assert_eq!(
        not_proved("../../examples/manufacturing"),
        Vec::<String>::new()
    );
}
