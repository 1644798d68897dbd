//! Placement follows the proofs: `external` is never a transit network (issue 12). A zone with
//! a cellular modem to the Internet made placement route its conduits through `external`, so
//! the edge firewall accepted the zone's source addresses on its Internet-facing interface.
//! tests/python checks the same site's rulesets in network namespaces.

use crate::gateway_support::site_text;
use palisade_compiler::ir::DeviceId;
use palisade_targets::{nftables, placement};

pub const MODEM_SITE: &str = r#"
site "Modem" { timezone "UTC" }
use std.services
zone cell { security_level 2; network 10.71.0.0/24
  asset plc at 10.71.0.11 { kind plc; capability 2 }
  asset modem at 10.71.0.1 { kind modem; capability 1; bridge; interface external at 198.51.100.7 } }
zone ops { security_level 2; network 10.72.0.0/24
  asset hist at 10.72.0.10 { kind historian; capability 2 } }
conduit uplink: cell -> ops { allow plc -> hist : https }
firewall fw_ot { target nftables; interface "eth1" faces cell; interface "eth2" faces ops }
firewall fw_edge { target nftables; interface "eth0" faces external; interface "eth1" faces ops }
"#;

#[test]
fn paths_never_transit_external() {
    let policy = site_text(MODEM_SITE);
    let edge = DeviceId(
        policy
            .devices
            .iter()
            .position(|d| d.name == "fw_edge")
            .unwrap() as u32,
    );
    let placed = placement::place(&policy);
    assert_eq!(
        placed.rules_on(edge).count(),
        0,
        "fw_edge carries cell's rule"
    );
    let files = nftables::emit(&policy, &[edge]).unwrap();
    let text = &files[0].contents;
    assert!(!text.contains("10.71.0.11"), "{text}");
    // The legitimate path keeps its rule.
    let ot = DeviceId(
        policy
            .devices
            .iter()
            .position(|d| d.name == "fw_ot")
            .unwrap() as u32,
    );
    assert_eq!(placed.rules_on(ot).count(), 1);
}

/// The gateway-only site of issue 12: the boundary rules are validated against the policy,
/// and a rules file that lost a drop, or gained one, fails with the packet that differs.
#[test]
fn gateway_rules_are_validated_like_firewalls() {
    let site = r#"
site "Gateway only" { timezone "UTC" }
use std.services
zone a { security_level 2; network 10.1.0.0/24
  asset hist at 10.1.0.10 { kind historian; capability 2 } }
zone b { security_level 2; network 10.2.0.0/24
  asset plc1 at 10.2.0.11 { kind plc; capability 2 } }
conduit ab: a -> b { allow hist -> plc1 : modbus { function [3] } }
gateway gw { target suricata; inline between a and b; mode ips }
"#;
    let policy = site_text(site);
    let gw = vec![DeviceId(0)];
    let files = palisade_targets::suricata::emit(&policy, &gw).unwrap();
    let check = |files: &[palisade_targets::OutputFile]| {
        palisade_targets::validate::check_files(
            &policy,
            palisade_compiler::ir::Target::Suricata,
            &gw,
            files,
        )
    };
    assert!(check(&files).is_empty(), "{:?}", check(&files));
    let tamper = |f: &dyn Fn(&str) -> String| -> Vec<palisade_targets::OutputFile> {
        files
            .iter()
            .map(|x| palisade_targets::OutputFile {
                path: x.path.clone(),
                contents: if x.path == "gw.rules" {
                    f(&x.contents)
                } else {
                    x.contents.clone()
                },
            })
            .collect()
    };
    // SSH to the PLC no longer dropped.
    let lost = tamper(&|t| {
        t.lines()
            .filter(|l| !l.contains("tcp to a port no rule admits"))
            .map(|l| format!("{l}\n"))
            .collect()
    });
    let errs = check(&lost);
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].code, "E0913");
    assert!(
        errs[0].notes.iter().any(|n| n.contains("10.2.0.11")),
        "{:?}",
        errs[0].notes
    );
    // A negation Suricata reads per family: `!10.1.0.10` matches no IPv6 address, so every
    // IPv6 packet would pass (found by the differential oracle).
    let per_family = tamper(&|t| {
        t.lines()
            .map(|l| {
                if l.starts_with("drop ip [") && l.contains("] any -> any any (") {
                    let (_, rest) = l.split_once("] any -> any any (").unwrap();
                    format!("drop ip !10.1.0.10 any -> any any ({rest}\n")
                } else {
                    format!("{l}\n")
                }
            })
            .collect()
    });
    assert_ne!(per_family, files);
    let errs = check(&per_family);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(
        errs[0].notes.iter().any(|n| n.contains(':')),
        "{:?}",
        errs[0].notes
    );
    // The admitted Modbus connection dropped.
    let gained = tamper(&|t| {
        format!("{t}drop tcp 10.1.0.10 any -> 10.2.0.11 502 (msg:\"x\"; flow:to_server; sid:7; rev:1;)\n")
    });
    let errs = check(&gained);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(
        errs[0].notes.iter().any(|n| n.contains("502")),
        "{:?}",
        errs[0].notes
    );
}

/// The JSON allowlist is read back and proved equal to the policy through its gateway; a flow
/// taken out of it, or widened, is caught.
#[test]
fn the_json_allowlist_is_validated() {
    let policy = crate::gateway_support::example("manufacturing");
    let gws = crate::gateway_support::gateways(&policy);
    let files = palisade_targets::allowlist::emit(&policy, &gws).unwrap();
    let check = |files: &[palisade_targets::OutputFile]| {
        palisade_targets::validate::check_files(
            &policy,
            palisade_compiler::ir::Target::AllowlistJson,
            &gws,
            files,
        )
    };
    assert!(check(&files).is_empty(), "{:?}", check(&files));
    let edit = |f: &dyn Fn(&mut serde_json::Value)| -> Vec<palisade_targets::OutputFile> {
        files
            .iter()
            .map(|x| {
                let mut doc: serde_json::Value = serde_json::from_str(&x.contents).unwrap();
                f(&mut doc);
                palisade_targets::OutputFile {
                    path: x.path.clone(),
                    contents: doc.to_string(),
                }
            })
            .collect()
    };
    let dropped = edit(&|d| {
        d["conduits"][0]["flows"].as_array_mut().unwrap().remove(0);
    });
    let errs = check(&dropped);
    assert_eq!(errs.len(), 1);
    assert!(
        errs[0]
            .notes
            .iter()
            .any(|n| n.contains("refuses a packet the policy admits")),
        "{:?}",
        errs[0].notes
    );
    let widened = edit(&|d| {
        d["conduits"][0]["flows"][0]["source"]["addresses"] = serde_json::json!(["0.0.0.0/0"]);
    });
    let errs = check(&widened);
    assert_eq!(errs.len(), 1);
    assert!(
        errs[0]
            .notes
            .iter()
            .any(|n| n.contains("admits a packet the policy refuses")),
        "{:?}",
        errs[0].notes
    );
}

/// A site with more topology paths between two zones than placement follows (found by the
/// differential oracle): the build refuses it (E0915) instead of leaving a device on an
/// unfollowed path without the rules.
#[test]
fn placement_never_cuts_paths_silently() {
    let policy = site_text(include_str!("fixtures/truncated_paths.pal"));
    let diags = palisade_targets::placement::truncated_diagnostics(&policy);
    assert!(!diags.is_empty());
    assert!(diags.iter().all(|d| d.code == "E0915"));
    assert!(
        diags
            .iter()
            .any(|d| d.message.contains("`corp5` and `util4`")),
        "{diags:?}"
    );
    for ex in ["refinery", "water", "manufacturing"] {
        let p = crate::gateway_support::example(ex);
        assert!(
            palisade_targets::placement::truncated_diagnostics(&p).is_empty(),
            "{ex}"
        );
    }
}
