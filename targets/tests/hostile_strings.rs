//! Hostile text in every string position of a small site (issue 12, defect 7): arbitrary
//! strings — very long ones, line breaks, CR, NUL, quotes, backslashes, `;`, `#`, non-ASCII,
//! bidi controls — go into the site name, the source path and every title, description,
//! person, justification and owner, and every target is emitted. Every line of the
//! line-oriented outputs stays within [`text::LINE_MAX`] as printable ASCII, the lines that
//! are not comments are exactly those of the same site with plain strings, and the rulesets
//! read back equal. The real tools get the measured attacks in
//! tests/python/test_hostile_strings.py.

use crate::fw_support::load_text;
use palisade_compiler::ir::{DeviceId, Policy, Target};
use palisade_targets::readback::{cisco as ios, iptables as ipt, nft_text, Ruleset};
use palisade_targets::{cisco, iptables, nftables, suricata, text, workflow, OutputFile};
use proptest::prelude::*;

const SITE: &str = r#"
site "Plain site" { timezone "UTC"; description "plain description" }
use std.services

role tech "Technician"
role engineer "Engineer"
person "emp-1" "First person" { roles [tech] }
person "emp-2" { roles [engineer] }

zone office "Office" {
  description "office description"
  security_level 1
  network 10.10.0.0/24
  network fd00:10::/64
  asset ws "Workstation" at 10.10.0.5 { description "ws"; kind workstation; capability 1 }
  asset ws6 at fd00:10::5 { kind workstation; capability 1 }
}
zone control "Control" {
  description "control description"
  security_level 2
  network 10.20.0.0/24
  network fd00:20::/64
  asset plc "The PLC" at 10.20.0.7 {
    description "plc description"
    kind plc
    capability [FR1: 1, FR2: 1, FR3: 2, FR4: 2, FR5: 2, FR6: 2, FR7: 2]
    compensating {
      covers [FR1, FR2]
      relies_on conduit office_control
      because "plain because"
      owner "plain owner"
      expires 2030-12-31
    }
  }
  asset hmi "The HMI" at 10.20.0.8 { kind hmi; capability 2 }
  asset hmi6 at fd00:20::8 { kind hmi; capability 2 }
}

group desks = [ws, ws6, 10.10.0.9]
group panels = [hmi, hmi6]

conduit office_control "Office to control": office -> control {
  description "conduit description"
  allow ws -> plc : modbus { function [read_holding_registers] }
  allow desks -> panels : https
  allow ws -> hmi : ssh when workorder maintenance
  log
}

link lan "Plain link": office, office

firewall fw_nft "Nft" { description "d"; target nftables; interface "eth0" faces office, external; interface "eth1" faces control }
firewall fw_ipt "Ipt" { target iptables; interface "eth0" faces office, external; interface "eth1" faces control }
firewall fw_ios "IOS" { target cisco_ios; interface "Gi0/0" faces office, external; interface "Gi0/1" faces control }
gateway gw "Gateway" { target suricata; inline between office and control }

workorder maintenance "Maintenance" {
  description "workorder description"
  scope control
  requested_by tech
  approved_by engineer
  separation_of_duties
  prerequisite backup "Backup taken"
  window Mon-Fri 06:00-18:00
  max_duration 4h
}

dataflow orders "Production orders": ws -> hmi { integrity }
"#;

fn plain() -> Policy {
    load_text(&[("site.pal".to_string(), SITE.to_string())])
}

/// Every string position of the IR that comes from a string in the source (or from the file
/// system: the source path), filled from `pool` in turn.
fn poison(policy: &mut Policy, pool: &[String]) {
    let mut it = pool.iter().cycle();
    let mut next = || it.next().cloned().unwrap_or_default();
    policy.site.name = next();
    policy.site.description = Some(next());
    for s in policy.sources.iter_mut().filter(|s| !s.std) {
        s.path = next();
    }
    for r in &mut policy.roles {
        r.title = Some(next());
    }
    for p in &mut policy.persons {
        p.title = Some(next());
    }
    for z in &mut policy.zones {
        z.title = Some(next());
        z.description = Some(next());
    }
    for a in &mut policy.assets {
        a.title = Some(next());
        a.description = Some(next());
        for c in &mut a.compensating {
            c.because = Some(next());
            c.owner = Some(next());
        }
    }
    for c in &mut policy.conduits {
        c.title = Some(next());
        c.description = Some(next());
    }
    for d in &mut policy.devices {
        d.title = Some(next());
        d.description = Some(next());
    }
    for l in &mut policy.links {
        l.title = Some(next());
    }
    for w in &mut policy.workorders {
        w.title = Some(next());
        w.description = Some(next());
        for p in &mut w.prerequisites {
            p.title = Some(next());
        }
    }
    for f in &mut policy.dataflows {
        f.title = Some(next());
    }
    for s in &mut policy.services {
        s.title = Some(next());
    }
}

fn device(policy: &Policy, name: &str) -> DeviceId {
    let i = policy.devices.iter().position(|d| d.name == name).unwrap();
    DeviceId(i as u32)
}

/// Every output of the site: the three firewalls, the gateway (IDS, IPS, allowlist) and the
/// work-order workflows.
fn outputs(policy: &Policy) -> Vec<OutputFile> {
    let mut files = Vec::new();
    files.extend(nftables::emit(policy, &[device(policy, "fw_nft")]).unwrap());
    files.extend(iptables::emit(policy, &[device(policy, "fw_ipt")]).unwrap());
    files.extend(cisco::emit(policy, &[device(policy, "fw_ios")]).unwrap());
    let gw = device(policy, "gw");
    for ips in [false, true] {
        let mut policy = policy.clone();
        if let Some(d) = policy.devices.get_mut(gw.index()) {
            d.mode = if ips {
                palisade_compiler::ir::GatewayMode::Ips
            } else {
                palisade_compiler::ir::GatewayMode::Ids
            };
        }
        let mut f = suricata::emit(&policy, &[gw]).unwrap();
        for o in &mut f {
            o.path = format!("{}/{}", if ips { "ips" } else { "ids" }, o.path);
        }
        files.extend(f);
    }
    files.extend(palisade_targets::emit(policy, Target::AllowlistJson, &[gw]).unwrap());
    for format in workflow::Format::ALL {
        files.extend(workflow::emit(policy, format).unwrap());
    }
    files
}

fn is_document(path: &str) -> bool {
    path.ends_with(".json") || path.ends_with(".bpmn")
}

fn is_comment(line: &str) -> bool {
    let t = line.trim_start();
    t.starts_with('#') || t.starts_with('!')
}

fn no_comments(mut rs: Ruleset) -> Ruleset {
    for c in rs.chains.values_mut() {
        for r in &mut c.rules {
            r.comment = None;
        }
    }
    rs
}

fn contents<'a>(files: &'a [OutputFile], suffix: &str) -> &'a str {
    &files
        .iter()
        .find(|f| f.path.ends_with(suffix))
        .unwrap()
        .contents
}

fn readback(files: &[OutputFile], policy: &Policy) -> Vec<Ruleset> {
    let mut out = vec![nft_text::read(contents(files, ".nft")).unwrap()];
    out.extend(
        ipt::read_device(
            contents(files, ".ipset"),
            contents(files, ".rules.v4"),
            contents(files, ".rules.v6"),
        )
        .unwrap(),
    );
    let ios_text = contents(files, ".ios");
    let hash = cisco::config_hash(ios_text).unwrap();
    out.push(ios::read(ios_text, &cisco::gate_names(policy, &hash)).unwrap());
    out.into_iter().map(no_comments).collect()
}

/// The checks of one hostile site against the plain one.
fn check(hostile: &Policy, plain_files: &[OutputFile], plain: &Policy) {
    let files = outputs(hostile);
    let paths = |f: &[OutputFile]| f.iter().map(|f| f.path.clone()).collect::<Vec<_>>();
    assert_eq!(paths(&files), paths(plain_files));
    for (f, p) in files.iter().zip(plain_files) {
        // JSON carries any text escaped (serde): its readers see the string, never structure.
        let json = f.path.ends_with(".json");
        for c in f.contents.chars() {
            let bidi =
                ('\u{2066}'..='\u{2069}').contains(&c) || ('\u{202a}'..='\u{202e}').contains(&c);
            assert!(
                c == '\n' || c == '\t' || !(c.is_control() || (bidi && !json)),
                "{}: control or bidi character {c:?}",
                f.path
            );
        }
        if is_document(&f.path) {
            if f.path.ends_with(".bpmn") {
                // The provenance comment: short lines, closed once.
                let head = f.contents.split("-->").next().unwrap();
                for line in head.lines() {
                    assert!(
                        line.len() <= text::LINE_MAX,
                        "{}: {} bytes",
                        f.path,
                        line.len()
                    );
                    assert!(line.is_ascii(), "{}: {line}", f.path);
                }
                assert_eq!(
                    f.contents.matches("-->").count(),
                    p.contents.matches("-->").count()
                );
                // Escaped text: the same elements in the same order.
                let tags = |t: &str| -> Vec<String> {
                    let body = t.split_once("-->").map(|(_, b)| b).unwrap_or(t);
                    body.split('<')
                        .skip(1)
                        .map(|e| e.split([' ', '>', '\n']).next().unwrap_or("").to_string())
                        .collect()
                };
                assert!(
                    tags(&f.contents) == tags(&p.contents),
                    "{}: elements differ",
                    f.path
                );
            } else {
                serde_json::from_str::<serde_json::Value>(&f.contents).unwrap();
            }
            continue;
        }
        for line in f.contents.lines() {
            assert!(
                line.len() <= text::LINE_MAX,
                "{}: a line of {} bytes",
                f.path,
                line.len()
            );
            assert!(
                line.chars()
                    .all(|c| c == '\t' || c == ' ' || c.is_ascii_graphic()),
                "{}: {line:?}",
                f.path
            );
        }
        // What is not a comment is exactly what the plain site emits.
        let rules = |t: &str| -> Vec<String> {
            t.lines()
                .filter(|l| !is_comment(l))
                .map(str::to_string)
                .collect()
        };
        assert_eq!(rules(&f.contents), rules(&p.contents), "{}", f.path);
    }
    assert_eq!(readback(&files, hostile), readback(plain_files, plain));
}

/// Text that tries everything: separators of every output, quotes, escapes, control and
/// bidi characters, non-ASCII, and lengths around the tools' line chunks.
fn hostile_string() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("\n".to_string()),
        Just("\r".to_string()),
        Just("\0".to_string()),
        Just("\u{1b}[2J".to_string()),
        Just("\"".to_string()),
        Just("\\".to_string()),
        Just(";".to_string()),
        Just("#".to_string()),
        Just("--".to_string()),
        Just("-->".to_string()),
        Just("\u{202e}\u{2066}".to_string()),
        Just("Zürich 東京 🚰".to_string()),
        Just("\npass tcp any any -> any any (sid:1;)\n".to_string()),
        Just("\n*raw\n-A PREROUTING -j CT --notrack\nCOMMIT\n".to_string()),
        Just("\ncreate evil hash:ip\n".to_string()),
        (1usize..12_000).prop_map(|n| "x".repeat(n)),
        any::<String>(),
        "[ -~]{0,40}",
    ];
    prop::collection::vec(piece, 0..6).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn hostile_strings_change_no_rule(pool in prop::collection::vec(hostile_string(), 1..8)) {
        let plain = plain();
        let plain_files = outputs(&plain);
        let mut hostile = plain.clone();
        poison(&mut hostile, &pool);
        check(&hostile, &plain_files, &plain);
    }
}

#[test]
fn the_measured_attacks_change_no_rule() {
    let plain = plain();
    let plain_files = outputs(&plain);
    let pad = |prefix: &str, chunk: usize, tail: &str| {
        format!("{}{tail}", "x".repeat(chunk - prefix.len()))
    };
    for attack in [
        pad("# Site: ", 1023, "create pal_injected hash:ip family inet"),
        pad(
            "# Site: ",
            10239,
            &format!(
                "{:10239}{:10239}COMMIT",
                "*raw", "-A PREROUTING -j CT --notrack"
            ),
        ),
        pad(
            "# conduit office_control (office -> control): ",
            8191,
            "pass tcp any any -> any any (msg:\"x\"; sid:9;)",
        ),
    ] {
        let mut hostile = plain.clone();
        poison(&mut hostile, &[attack]);
        check(&hostile, &plain_files, &plain);
    }
}
