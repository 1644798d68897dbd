//! `palisade report`: the JSON form of an example's report as an insta snapshot, determinism,
//! the exit code of a site with a refuted property, and escaping of hostile names. The HTML
//! in a real browser: tests/python/test_report.py.

use crate::support::{root, TempDir, TODAY};
use std::process::Command;

fn report(site: &str, out: &std::path::Path) -> i32 {
    let o = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(["report", site, "-o"])
        .arg(out)
        .current_dir(root())
        .env("PALISADE_TODAY", TODAY)
        .output()
        .expect("the palisade binary runs");
    o.status.code().unwrap_or(-1)
}

#[test]
fn the_json_report_of_the_water_example() {
    let dir = TempDir::new("report-water");
    assert_eq!(report("examples/water", dir.path()), 0);
    let json = std::fs::read_to_string(dir.path().join("report.json")).unwrap();
    insta::assert_snapshot!("report_water_json", json);
    let html = std::fs::read(dir.path().join("report.html")).unwrap();
    let again = TempDir::new("report-water-again");
    assert_eq!(report("examples/water", again.path()), 0);
    assert_eq!(
        std::fs::read(again.path().join("report.html")).unwrap(),
        html,
        "the report is deterministic"
    );
}

/// A site whose `assert no_path a -> b` (line 6) is refuted by its own conduit.
pub const REFUTED: &str = r#"site "refuted" { timezone "UTC" }
use std.services
zone a { security_level 1; network 10.1.0.0/24; asset h at 10.1.0.5 { capability 1 } }
zone b { security_level 1; network 10.2.0.0/24; asset p at 10.2.0.5 { capability 1 } }
conduit c: a -> b { allow h -> p : https }
assert no_path a -> b
firewall fw { target nftables; interface "e0" faces a; interface "e1" faces b }
"#;

#[test]
fn a_refuted_property_still_writes_the_report_and_exits_1() {
    let dir = TempDir::new("report-refuted");
    let site = dir.write("site.pal", REFUTED);
    let out = dir.path().join("out");
    assert_eq!(report(site.to_str().unwrap(), &out), 1);
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    let refuted: Vec<&serde_json::Value> = doc["properties"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["verdict"] == "refuted")
        .collect();
    assert_eq!(refuted.len(), 1, "{refuted:?}");
    assert_eq!(refuted[0]["location"]["line"], 6);
    assert_eq!(refuted[0]["location"]["text"], "assert no_path a -> b");
    assert!(!refuted[0]["counterexample"]["steps"]
        .as_array()
        .unwrap()
        .is_empty());
    assert!(out.join("report.html").exists());
    assert_eq!(doc["summary"]["all_proved"], false);
}

#[test]
fn hostile_names_are_escaped() {
    let dir = TempDir::new("report-hostile");
    let site = dir.write(
        "site.pal",
        r#"site "<script>alert(1)</script>" { timezone "UTC"; description "<img src=x onerror=alert(2)>" }
use std.services
zone a "\"><svg onload=alert(3)>" { security_level 1; network 10.1.0.0/24; asset h "</style><script>x</script>" at 10.1.0.5 { capability 1 } }
zone b { security_level 1; network 10.2.0.0/24; asset p at 10.2.0.5 { capability 1 } }
conduit c "'><b>": a -> b { allow h -> p : https }
firewall fw { target nftables; interface "e0" faces a; interface "e1" faces b }
"#,
    );
    let out = dir.path().join("out");
    assert_eq!(report(site.to_str().unwrap(), &out), 0);
    let html = std::fs::read_to_string(out.join("report.html"))
        .unwrap()
        .to_lowercase();
    assert!(!html.contains("<script"), "no script element");
    assert!(!html.contains("<img"), "no injected element");
    assert!(!html.contains("<svg onload"), "no injected element");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
}
