//! Translation validation: every emitted ruleset is proved equal to the policy on its device,
//! and a tampered ruleset is caught with a differing packet.

use crate::fw_support::*;
use palisade_targets::model::enforced as place;
use palisade_targets::nftables;
use palisade_targets::readback::nft_text;
use palisade_targets::validate::{validate, Failure};

#[test]
fn nft_examples_validate() {
    for ex in EXAMPLES {
        let policy = example(ex);
        let placement = place(&policy);
        for d in linux_firewalls(&policy) {
            let text = nftables::ruleset(&policy, &placement, d).unwrap();
            let rs =
                nft_text::read(&text).unwrap_or_else(|e| panic!("{ex}: cannot read back: {e}"));
            let proved = validate(
                &policy,
                &placement,
                d,
                &[rs],
                &nftables::gate_names(&policy),
            );
            assert!(
                proved.is_ok(),
                "{ex}/{}: {}",
                policy.devices[d.index()].name,
                proved.unwrap_err()
            );
        }
    }
}

/// Each tampering is a plausible compiler bug; each must be caught.
#[test]
fn nft_tampering_is_caught() {
    let policy = example("refinery");
    let placement = place(&policy);
    let d = linux_firewalls(&policy)
        .into_iter()
        .find(|d| policy.devices[d.index()].name == "fw_dmz")
        .unwrap();
    let text = nftables::ruleset(&policy, &placement, d).unwrap();
    let tamperings: [(&str, &str); 5] = [
        ("tcp dport 5450", "tcp dport 5451"),
        (
            "ct state established,related ct mark and 0x00ffff00 vmap",
            "ct state established,related ct mark and 0x00000000 vmap",
        ),
        (
            "ip saddr 10.30.0.5 ip daddr 10.20.0.40",
            "ip saddr 10.30.0.0/24 ip daddr 10.20.0.40",
        ),
        (" ct mark set 0x00000200", ""),
        (
            "ip daddr @wo_dcs_patching_v4 return",
            "ip daddr @wo_remote_engineering_v4 return",
        ),
    ];
    for (from, to) in tamperings {
        assert!(text.contains(from), "{from}");
        let bad = text.replace(from, to);
        let rs = nft_text::read(&bad).unwrap();
        match validate(
            &policy,
            &placement,
            d,
            &[rs],
            &nftables::gate_names(&policy),
        ) {
            Err(Failure::Differs { packet, .. }) => eprintln!("{from} -> {to}: {packet}"),
            other => panic!("tampering `{from}` -> `{to}` not caught: {other:?}"),
        }
    }
}
