//! Cisco IOS output: there is no offline IOS validator, so golden files (read as a person
//! would) plus translation validation through the project's own reader; the errors for what
//! IOS cannot express; determinism.

use crate::fw_support::*;
use palisade_compiler::ir::Target;
use palisade_targets::cisco;
use palisade_targets::model::enforced as place;
use palisade_targets::readback::cisco as reader;
use palisade_targets::validate::{validate_cisco, Failure};

#[test]
fn examples_golden_and_validate() {
    for ex in EXAMPLES {
        let policy = example(ex);
        let placement = place(&policy);
        for d in firewalls(&policy, Some(Target::CiscoIos)) {
            let text =
                cisco::config(&policy, &placement, d).unwrap_or_else(|e| panic!("{ex}: {e:?}"));
            insta::assert_snapshot!(format!("ios_{ex}_{}", policy.devices[d.index()].name), text);
            let hash = cisco::config_hash(&text).unwrap();
            let gates = cisco::gate_names(&policy, &hash);
            let rs = reader::read(&text, &gates)
                .unwrap_or_else(|e| panic!("{ex}: cannot read back: {e}"));
            let proved = validate_cisco(&policy, &placement, d, &rs, &gates);
            assert!(
                proved.is_ok(),
                "{ex}/{}: {}",
                policy.devices[d.index()].name,
                proved.unwrap_err()
            );
            assert_eq!(
                text,
                cisco::config(&policy, &placement, d).unwrap(),
                "not deterministic"
            );
        }
    }
}

#[test]
fn tampering_is_caught() {
    let policy = example("refinery");
    let placement = place(&policy);
    let d = firewalls(&policy, Some(Target::CiscoIos))[0];
    let text = cisco::config(&policy, &placement, d).unwrap();
    let hash = cisco::config_hash(&text).unwrap();
    let gates = cisco::gate_names(&policy, &hash);
    // Default deny broken; a port widened; a forgotten `evaluate` (replies dropped).
    for (from, to) in [
        (" deny ip any any log", " permit ip any any"),
        ("eq 4840", "range 4840 4841"),
        (" evaluate PAL-RFL-GigabitEthernet0-0", " remark PAL-RFL"),
    ] {
        let bad = text.replace(from, to);
        assert_ne!(bad, text, "tampering `{from}` does not apply");
        let rs = reader::read(&bad, &gates).unwrap();
        match validate_cisco(&policy, &placement, d, &rs, &gates) {
            Err(Failure::Differs { packet, .. }) => eprintln!("{from} -> {to}: {packet}"),
            other => panic!("tampering `{from}` not caught: {other:?}"),
        }
    }
}

#[test]
fn every_example_builds_and_validates_with_its_own_targets() {
    for ex in EXAMPLES {
        let policy = example(ex);
        for t in [Target::Nftables, Target::Iptables, Target::CiscoIos] {
            let devices = firewalls(&policy, Some(t));
            let files = palisade_targets::emit(&policy, t, &devices).unwrap();
            let diags = palisade_targets::validate::check_files(&policy, t, &devices, &files);
            assert!(diags.is_empty(), "{ex} {t:?}: {diags:?}");
        }
    }
}
