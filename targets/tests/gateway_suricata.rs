//! The Suricata target: golden files per example (reviewed as a person reads them), and the
//! properties the goldens cannot show: determinism, sids that survive reordering, the union
//! of overlapping rules, what Suricata cannot express, and hostile text. The real Suricata
//! checks every file and replays traffic in tests/python/test_suricata.py.

use crate::gateway_support::{
    example, field_lines, file, gateway_site, gateways, joined, rule_lines, site_text, EXAMPLES,
};
use palisade_compiler::hash::sha256_hex;
use palisade_targets::suricata::{emit, monitor};
use std::collections::BTreeMap;

#[test]
fn golden_files_per_example() {
    for name in EXAMPLES {
        let policy = example(name);
        let files = emit(&policy, &gateways(&policy)).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        insta::assert_snapshot!(format!("suricata_{name}"), joined(&files));
        let files = monitor(&policy).unwrap();
        insta::assert_snapshot!(format!("suricata_monitor_{name}"), joined(&files));
    }
}

#[test]
fn output_is_deterministic() {
    for name in EXAMPLES {
        let a = emit(&example(name), &gateways(&example(name))).unwrap();
        let b = emit(&example(name), &gateways(&example(name))).unwrap();
        assert_eq!(a, b, "{name}");
    }
}

#[test]
fn header_names_sources_and_hashes_the_body() {
    let policy = example("refinery");
    let files = emit(&policy, &gateways(&policy)).unwrap();
    for f in &files {
        let (head, body) = f
            .contents
            .split_once("#\n# ")
            .map(|(h, b)| (h, format!("# {b}")))
            .unwrap();
        assert!(
            head.contains("Source: examples/refinery/site.pal sha256:"),
            "{}",
            f.path
        );
        let want = format!("Content sha256: {}", sha256_hex(body.as_bytes()));
        assert!(
            head.contains(&want),
            "{}: header does not hash the body",
            f.path
        );
    }
}

#[test]
fn the_gateway_mode_decides_drop_or_alert() {
    let mut policy = example("refinery");
    let files = emit(&policy, &gateways(&policy)).unwrap();
    let rules = file(&files, "gw_sis.rules");
    assert!(rule_lines(rules).iter().all(|l| l.starts_with("drop ")));
    assert!(file(&files, "gw_sis.suricata.yaml").contains("app-layer.error-policy: drop-flow"));
    for d in &mut policy.devices {
        d.mode = palisade_compiler::ir::GatewayMode::Ids;
    }
    let files = emit(&policy, &gateways(&policy)).unwrap();
    let rules = file(&files, "gw_sis.rules");
    assert!(rule_lines(rules).iter().all(|l| l.starts_with("alert ")));
    assert!(!file(&files, "gw_sis.suricata.yaml").contains("error-policy"));
    // The monitoring set never drops.
    assert!(
        rule_lines(file(&monitor(&policy).unwrap(), "palisade-monitor.rules"))
            .iter()
            .all(|l| l.starts_with("alert "))
    );
}

/// `header + keywords` (everything but msg, sid and flowbit names) -> sid.
fn sids(text: &str) -> BTreeMap<String, String> {
    field_lines(text)
        .iter()
        .map(|l| {
            let sid = l
                .split("sid:")
                .nth(1)
                .unwrap()
                .split(';')
                .next()
                .unwrap()
                .to_string();
            let head = l.split(" (msg:").next().unwrap();
            let kw = l
                .split("flow:to_server,established; ")
                .nth(1)
                .unwrap()
                .split(" metadata:")
                .next()
                .unwrap();
            let kw = kw.split(" flowbits:").next().unwrap();
            (format!("{head} | {kw}"), sid)
        })
        .collect()
}

#[test]
fn sids_follow_the_rule_not_its_position() {
    let one = r#"  allow hmi -> plc : modbus { function [read_holding_registers]; unit [1] }
  allow eng_ws -> rtu : dnp3 { function [confirm, read] }"#;
    // Same rules, other order, another rule before them, and another conduit first.
    let two = r#"  allow hmis -> plc : modbus { function [read_coils] }
  allow eng_ws -> rtu : dnp3 { function [confirm, read] }
  allow hmi -> plc : modbus { function [read_holding_registers]; unit [1] }"#;
    let extra =
        "conduit other: plant -> field { allow hmi -> rtu : modbus { function [read_coils] } }";
    let a = site_text(&gateway_site(one, ""));
    let b = site_text(
        &gateway_site(two, "").replace("conduit poll:", &format!("{extra}\nconduit poll:")),
    );
    let ra = sids(file(&emit(&a, &gateways(&a)).unwrap(), "gw.rules"));
    let rb = sids(file(&emit(&b, &gateways(&b)).unwrap(), "gw.rules"));
    assert!(ra.len() > 10);
    for (rule, sid) in &ra {
        assert_eq!(rb.get(rule), Some(sid), "sid of `{rule}` changed");
    }
    let all: Vec<&String> = rb.values().collect();
    let mut unique = all.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(all.len(), unique.len(), "sids are unique within a file");
}

#[test]
fn an_unconstrained_rule_lifts_the_constraint_for_its_own_traffic() {
    let policy = site_text(&gateway_site(
        "  allow plant -> plc : modbus { function [read_holding_registers] }\n  allow eng_ws -> plc : modbus",
        "",
    ));
    let rules = file(&emit(&policy, &gateways(&policy)).unwrap(), "gw.rules").to_string();
    let lines = field_lines(&rules);
    assert!(!lines.is_empty());
    // eng_ws (10.1.0.20) may do anything: every field rule covers the zone but it.
    for l in lines {
        assert!(
            l.contains(" [10.1.0.0/28,10.1.0.16/30,10.1.0.21,10.1.0.22/31,"),
            "{l}"
        );
        assert!(!l.contains(" 10.1.0.20 "), "{l}");
    }
}

#[test]
fn work_orders_get_their_own_rule_set() {
    let policy = site_text(&gateway_site(
        "  allow hmi -> rtu : dnp3 { function [confirm, read] }\n  allow hmi -> rtu : dnp3 { function [cold_restart] } when workorder restart",
        r#"role op
role boss
workorder restart { scope [rtu]; requested_by op; approved_by boss; max_duration 1h }"#,
    ));
    let files = emit(&policy, &gateways(&policy)).unwrap();
    let base = file(&files, "gw.rules");
    let during = file(&files, "gw.during-restart.rules");
    assert!(
        base.contains("byte_test:1,!=,1,1;") && !base.contains("byte_test:1,!=,13,1;"),
        "cold_restart forbidden in base"
    );
    assert!(
        during.contains("byte_test:1,!=,13,1;"),
        "cold_restart allowed while the order is open"
    );
}

fn errors(text: &str) -> Vec<(String, String)> {
    let policy = site_text(text);
    let errs = emit(&policy, &gateways(&policy)).expect_err("expected errors");
    errs.iter()
        .map(|d| (d.code.clone(), d.message.clone()))
        .collect()
}

#[test]
fn what_suricata_cannot_express_is_an_error() {
    let cases = [
        ("  allow hmi -> plc : modbus { function [read_coils, 65] }", "E0930", "Modbus function code 65"),
        ("  allow hmi -> plc : modbus { function [read_holding_registers, read_write_multiple_registers]; register [0-99] }", "E0930", "read_write_multiple_registers"),
        ("  allow hmi -> plc : modbus { unit [1]; register [0-99] }", "E0930", "read_fifo_queue"),
        ("  allow hmi -> rtu : dnp3 { function [read] }", "E0930", "without `confirm`"),
        ("  allow hmi -> plc : enip { service [read_tag, 100] }", "E0930", "CIP service 0x64"),
        ("  allow hmi -> rtu : dnp3_udp { function [confirm, read] }", "E0931", "UDP service"),
    ];
    for (rule, code, message) in cases {
        let errs = errors(&gateway_site(rule, ""));
        assert!(
            errs.iter().any(|(c, m)| c == code && m.contains(message)),
            "{rule}: {errs:?}"
        );
    }
    // Each error points at the rule's constraint.
    let policy = site_text(&gateway_site(
        "  allow hmi -> rtu : dnp3 { function [read] }",
        "",
    ));
    let errs = emit(&policy, &gateways(&policy)).unwrap_err();
    let text = gateway_site("  allow hmi -> rtu : dnp3 { function [read] }", "");
    let loc = errs[0].primary_location().unwrap();
    assert_eq!(loc.file, "site.pal");
    assert_eq!(
        &text[loc.start as usize..loc.end as usize],
        "function [read]"
    );
    // A port-level rule next to them is not a problem: no constraint, no protocol rule.
    let policy = site_text(&gateway_site("  allow hmi -> plc : modbus", ""));
    let files = emit(&policy, &gateways(&policy)).unwrap();
    assert!(field_lines(file(&files, "gw.rules")).is_empty());
    assert!(
        !rule_lines(file(&files, "gw.rules")).is_empty(),
        "the boundary is still there"
    );
}

pub const HOSTILE: &str =
    r#"\" ; sid:1; ) alert ip any any -> any any (msg:\"pwned\"; sid:2;) # \\"#;

#[test]
fn source_text_cannot_inject_rules() {
    let site = gateway_site("  allow hmi -> plc : modbus { function [read_coils] }", "")
        .replace("site \"Test\"", &format!("site \"Test {HOSTILE}\""))
        .replace("conduit poll:", &format!("conduit poll \"{HOSTILE}\":"))
        .replace("asset hmi at", &format!("asset hmi \"{HOSTILE}\" at"));
    let policy = site_text(&site);
    assert!(policy.conduits[0]
        .title
        .as_deref()
        .unwrap()
        .contains("pwned"));
    let files = emit(&policy, &gateways(&policy)).unwrap();
    for f in &files {
        for line in f.contents.lines() {
            if line.starts_with('#') || line.is_empty() || line.starts_with('%') || line == "---" {
                continue;
            }
            assert!(!line.contains("pwned"), "{}: {line}", f.path);
        }
        // Every rule is one line that ends as Palisade ends it.
        for l in rule_lines(&f.contents)
            .iter()
            .filter(|_| f.path.ends_with(".rules"))
        {
            assert!(l.starts_with("drop ") && l.ends_with(" rev:1;)"), "{l}");
            assert_eq!(l.matches("sid:").count(), 1, "{l}");
        }
    }
}
