//! What the kernel holds, not only our text: every Linux ruleset of the examples is loaded in
//! a throwaway namespace, read back (`nft -j list ruleset`; `iptables-save`, `ip6tables-save`,
//! `ipset save`) and proved equal to the policy — the check drift detection runs on a live
//! firewall. Also: generated sites through `nft -c` and `iptables-restore --test`, and hostile
//! names that must not inject syntax.

use crate::firewall_ipt::ipt_check;
use crate::fw_support::*;
use palisade_compiler::synth::{generate, SynthSpec};
use palisade_targets::model::enforced as place;
use palisade_targets::readback::{iptables as ipt_reader, nft_json, nft_text};
use palisade_targets::validate::validate;
use palisade_targets::{iptables, nftables};
use proptest::prelude::*;

#[test]
fn kernel_readback_of_examples_validates() {
    if !require(
        &["nft", "iptables-save", "ip6tables-save", "ipset", "unshare"],
        "kernel readback",
    ) {
        return;
    }
    for ex in EXAMPLES {
        let policy = example(ex);
        let placement = place(&policy);
        for d in linux_firewalls(&policy) {
            let name = &policy.devices[d.index()].name;
            // nftables, with one work-order element open while it is read.
            let dir = scratch("kernel");
            let text = nftables::ruleset(&policy, &placement, d).unwrap();
            std::fs::write(dir.join("r.nft"), &text).unwrap();
            let open = nftables::gate_sets(&policy)
                .into_values()
                .find(|s| text.contains(&format!("set {s} ")) && s.ends_with("_v4"));
            let add = open
                .map(|s| format!("nft add element inet palisade {s} {{ 10.0.0.1 timeout 1h }};"))
                .unwrap_or_default();
            let (ok, json, err) = in_netns(&format!(
                "set -e; nft -f {}/r.nft; {add} nft -j list ruleset",
                dir.display()
            ));
            assert!(ok, "{ex}/{name}: load failed: {err}");
            let rs = nft_json::read(&json)
                .unwrap_or_else(|e| panic!("{ex}/{name}: cannot read the kernel's ruleset: {e}"));
            let proved = validate(
                &policy,
                &placement,
                d,
                &[rs],
                &nftables::gate_names(&policy),
            );
            assert!(
                proved.is_ok(),
                "{ex}/{name} (kernel, nftables): {}",
                proved.unwrap_err()
            );
            // iptables and ipset.
            let files = iptables::ruleset(&policy, &placement, d).unwrap();
            for (n, f) in ["s.ipset", "r.v4", "r.v6"].iter().zip(&files) {
                std::fs::write(dir.join(n), &f.contents).unwrap();
            }
            let dd = dir.display();
            let (ok, out, err) = in_netns(&format!(
                "set -e; ipset -exist restore < {dd}/s.ipset; iptables-restore {dd}/r.v4; ip6tables-restore {dd}/r.v6; \
                 iptables-save -t filter; echo '#PALISADE-SEP'; ip6tables-save -t filter; echo '#PALISADE-SEP'; ipset save"
            ));
            assert!(ok, "{ex}/{name}: iptables load failed: {err}");
            let parts: Vec<&str> = out.split("#PALISADE-SEP\n").collect();
            let rulesets = ipt_reader::read_device(parts[2], parts[0], parts[1])
                .unwrap_or_else(|e| panic!("{ex}/{name}: cannot read iptables-save: {e}"));
            let proved = validate(
                &policy,
                &placement,
                d,
                &rulesets,
                &iptables::gate_names(&policy),
            );
            assert!(
                proved.is_ok(),
                "{ex}/{name} (kernel, iptables): {}",
                proved.unwrap_err()
            );
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
}

fn small_spec() -> impl Strategy<Value = SynthSpec> {
    (
        3usize..10,
        10usize..50,
        2usize..12,
        4usize..60,
        any::<u64>(),
    )
        .prop_map(|(zones, assets, conduits, rules, seed)| SynthSpec {
            zones,
            assets,
            conduits,
            rules: rules.max(conduits),
            files: 1,
            seed,
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]
    /// Generated sites: every firewall's nftables and iptables output loads in the real tools
    /// and is proved equal to the policy.
    #[test]
    fn generated_sites_load_and_validate(spec in small_spec()) {
        let check = require(&["nft", "iptables-restore", "iptables-legacy-restore", "ipset", "unshare"], "generated sites");
        let policy = load_text(&generate(&spec));
        let placement = place(&policy);
        for d in linux_firewalls(&policy) {
            let text = nftables::ruleset(&policy, &placement, d).unwrap();
            let files = iptables::ruleset(&policy, &placement, d).unwrap();
            if check {
                nft_check(&text).map_err(|e| TestCaseError::fail(format!("nft -c: {e}")))?;
                ipt_check(&files[0].contents, &files[1].contents, &files[2].contents).map_err(|e| TestCaseError::fail(format!("restore --test: {e}")))?;
            }
            let rs = nft_text::read(&text).unwrap();
            prop_assert!(validate(&policy, &placement, d, &[rs], &nftables::gate_names(&policy)).is_ok());
            let rss = ipt_reader::read_device(&files[0].contents, &files[1].contents, &files[2].contents).unwrap();
            prop_assert!(validate(&policy, &placement, d, &rss, &iptables::gate_names(&policy)).is_ok());
        }
    }
}

const HOSTILE: &str = r#"
site "Evil \"; flush ruleset; # } { COMMIT" { timezone "UTC" }
use std.services
zone a "A\" } chain x { accept" { security_level 1; network 10.71.0.0/24
  asset h1 "-A FORWARD -j ACCEPT\\COMMIT" at 10.71.0.1 { kind server } }
zone b "B" { security_level 1; network 10.72.0.0/24; asset h2 at 10.72.0.2 { kind server } }
conduit c1 "x\" accept; drop \\": a -> b { log; allow h1 -> h2 : https }
firewall fw { target nftables; interface "a0" faces a; interface "b0" faces b }
"#;

#[test]
fn hostile_names_inject_nothing() {
    let policy = load_text(&[("site.pal".to_string(), HOSTILE.to_string())]);
    let placement = place(&policy);
    let d = linux_firewalls(&policy)[0];
    let text = nftables::ruleset(&policy, &placement, d).unwrap();
    for line in text.lines().filter(|l| !l.trim_start().starts_with('#')) {
        assert!(
            !line.contains("flush ruleset") && !line.contains("chain x"),
            "injected: {line}"
        );
    }
    let files = iptables::ruleset(&policy, &placement, d).unwrap();
    for f in &files {
        for line in f.contents.lines().filter(|l| !l.starts_with('#')) {
            assert!(
                !line.starts_with("-A FORWARD -j ACCEPT") && line.matches('"').count() % 2 == 0,
                "injected: {line}"
            );
        }
    }
    if require(
        &["nft", "iptables-restore", "ipset", "unshare"],
        "hostile names",
    ) {
        nft_check(&text).unwrap();
        ipt_check(&files[0].contents, &files[1].contents, &files[2].contents).unwrap();
    }
    assert!(validate(
        &policy,
        &placement,
        d,
        &[nft_text::read(&text).unwrap()],
        &nftables::gate_names(&policy)
    )
    .is_ok());
    // Interface names reach the ruleset verbatim: the front end refuses quotes in them, and a
    // name Linux cannot have (an IOS name here) is an error of the Linux targets.
    let bad = HOSTILE.replace(r#"interface "a0""#, r#"interface "GigabitEthernet0/0""#);
    let policy = load_text(&[("site.pal".to_string(), bad)]);
    let err = nftables::emit(&policy, &firewalls(&policy, None)).unwrap_err();
    assert_eq!(err[0].code, "E0910");
    let err = iptables::emit(&policy, &firewalls(&policy, None)).unwrap_err();
    assert_eq!(err[0].code, "E0910");
}
