//! "Proved means enforced": the proofs assume of each device exactly what it does. Each test
//! is a regression of a case where they once did not (issue 12); the real tools replay the
//! emitted configurations in tests/python (test_gateway_modes.py, the differential oracle).

use crate::support::from_text;
use palisade_verify::{verify, Options, Verdict};

/// The verdicts of the site's own assertions and data flows, by property text.
fn verdicts(text: &str) -> Vec<(String, Verdict)> {
    let site = from_text(text);
    assert!(!site.front.iter().any(|d| d.is_error()), "{:?}", site.front);
    let report = verify(&site.policy, &Options::default());
    report
        .results
        .iter()
        .filter(|r| matches!(r.origin, palisade_verify::Origin::Assertion { .. }))
        .map(|r| (format!("{} [{}]", r.property, r.scenario), r.verdict))
        .collect()
}

fn all(text: &str, want: Verdict) {
    let v = verdicts(text);
    assert!(!v.is_empty());
    for (p, got) in &v {
        assert_eq!(*got, want, "{p}");
    }
}

const GATEWAY_ONLY: &str = r#"
site "Gateway only" { timezone "UTC" }
use std.services
zone a { security_level 2; network 10.1.0.0/24
  asset hist at 10.1.0.10 { kind historian; capability 2 } }
zone b { security_level 2; network 10.2.0.0/24
  asset plc1 at 10.2.0.11 { kind plc; capability 2 } }
conduit ab: a -> b { allow hist -> plc1 : modbus { function [3] } }
gateway gw { target suricata; inline between a and b; mode MODE }
assert no_path b -> a
"#;

#[test]
fn an_ips_gateway_separates_and_an_ids_gateway_does_not() {
    all(&GATEWAY_ONLY.replace("MODE", "ips"), Verdict::Proved);
    all(&GATEWAY_ONLY.replace("MODE", "ids"), Verdict::Refuted);
}

const DATAFLOW: &str = r#"
site "Two routes" { timezone "UTC" }
use std.services
service modbus_sec "Modbus/TCP Security" = tcp/802 { provides [integrity, confidentiality] }
zone ops { security_level 2; network 10.1.0.0/24
  asset mes at 10.1.0.10 { kind server; capability 2 } }
zone cell { security_level 2; network 10.2.0.0/24
  asset plc at 10.2.0.11 { kind plc; capability 2 } }
conduit orders: ops -> cell {
  allow mes -> plc : modbus_sec
  PLAIN
}
firewall fw { target nftables; interface "eth0" faces ops; interface "eth1" faces cell }
dataflow production_orders: mes -> plc { integrity }
assert dataflow production_orders
"#;

#[test]
fn a_data_flow_is_protected_only_if_every_route_protects_it() {
    all(&DATAFLOW.replace("PLAIN", ""), Verdict::Proved);
    all(
        &DATAFLOW.replace("PLAIN", "allow mes -> plc : modbus"),
        Verdict::Refuted,
    );
    // An unfiltered path beside the protected rule carries the data unprotected too.
    all(
        &DATAFLOW
            .replace("PLAIN", "")
            .replace("firewall fw", "link core: ops, cell\nfirewall fw"),
        Verdict::Refuted,
    );
}

const CIP: &str = r#"
site "Unconnected Send" { timezone "UTC" }
use std.services
zone ops { security_level 2; network 10.1.0.0/24
  asset hmi at 10.1.0.10 { kind hmi; capability 2 } }
zone cell { security_level 2; network 10.2.0.0/24
  asset plc at 10.2.0.11 { kind plc; capability 2 } }
conduit reads: ops -> cell { allow hmi -> plc : enip { service [SERVICES] } }
gateway gw { target suricata; inline between ops and cell; mode ips }
assert only_via gw: ops -> cell
"#;

#[test]
fn an_allowed_unconnected_send_admits_every_inner_service() {
    use palisade_verify::packet::{rule_admits, rule_boxes, FieldMode, Interval, Packet};
    for (services, admits_write) in [("read_tag", false), ("read_tag, read_tag_fragmented", true)] {
        let site = from_text(&CIP.replace("SERVICES", services));
        let policy = &site.policy;
        let rule = &policy.rules[0];
        // A Write Tag (0x4d) from the HMI to the PLC on the EtherNet/IP port.
        let write_tag = Packet {
            src: 0x0a01_000a,
            dst: 0x0a02_000b,
            proto: 6,
            src_port: 40000,
            dst_port: 44818,
            cip_service: 0x4d,
            ..Packet::default()
        };
        assert_eq!(
            rule_admits(policy, rule, &write_tag, FieldMode::Inspected, None),
            admits_write,
            "{services}"
        );
        let in_boxes = rule_boxes(policy, rule, FieldMode::Inspected, None)
            .iter()
            .any(|b| b.dim(12).contains(&Interval::point(0x4d)));
        assert_eq!(
            in_boxes, admits_write,
            "{services}: the exact engine agrees"
        );
    }
}
