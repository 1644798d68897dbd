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
