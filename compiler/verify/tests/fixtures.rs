//! Sites whose assertions are false: their counterexamples, rendered as a person sees them,
//! are snapshotted (`cargo insta review` after an intended change).

use crate::support::{human, load};
use palisade_verify::{verify, Options, Verdict};

#[test]
fn leaky_plant_counterexamples() {
    let site = load("tests/fixtures/leaky.pal");
    assert!(!site.front.iter().any(|d| d.is_error()), "{:?}", site.front);
    let report = verify(&site.policy, &Options::default());
    // Every user assertion of the fixture is false, in every scenario it is checked in.
    for r in report
        .results
        .iter()
        .filter(|r| matches!(r.origin, palisade_verify::Origin::Assertion { .. }))
    {
        assert_eq!(
            r.verdict,
            Verdict::Refuted,
            "{} [{}]",
            r.property,
            r.scenario
        );
    }
    assert!(!report.all_proved());
    // Every rule step of a counterexample carries a packet the rule admits.
    for r in &report.results {
        for s in r
            .counterexample
            .iter()
            .flat_map(|c| c.steps.iter())
            .filter(|s| s.via == "rule" && r.property.starts_with("assert"))
        {
            assert!(s.packet.is_some(), "{}: step without a packet", r.property);
        }
    }
    insta::assert_snapshot!("leaky", human(&report.diagnostics, &site.sources));
}

#[test]
fn proof_record_is_json_with_every_result() {
    let site = load("tests/fixtures/leaky.pal");
    let report = verify(
        &site.policy,
        &Options {
            matrix: true,
            ..Options::default()
        },
    );
    let json: serde_json::Value = serde_json::from_str(&report.proof_record()).unwrap();
    assert_eq!(
        json["results"].as_array().unwrap().len(),
        report.results.len()
    );
    assert_eq!(json["summary"]["all_proved"], false);
    let m = report.matrix.unwrap();
    assert!(m
        .entries
        .iter()
        .any(|e| e.from == "office" && e.to == "scada" && e.services == vec!["https".to_string()]));
}

#[test]
fn timeouts_are_never_proofs() {
    // With a zero timeout Z3 answers unknown at once; whatever it is, no reachable
    // assertion may come out proved without a witness.
    let site = load("tests/fixtures/leaky.pal");
    let report = verify(
        &site.policy,
        &Options {
            timeout_ms: 1,
            ..Options::default()
        },
    );
    for r in &report.results {
        if r.verdict == Verdict::Proved && r.property.starts_with("assert reachable") {
            assert!(r.checked.contains("agree"), "{}", r.checked);
        }
    }
}
