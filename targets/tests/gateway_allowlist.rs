//! The JSON gateway allowlist: golden files per example, determinism, the content hash, and
//! hostile text. Its JSON Schema validates every output in tests/python/test_suricata_allowlist.py.

use crate::gateway_support::{example, gateway_site, gateways, joined, site_text, EXAMPLES};
use crate::gateway_suricata::HOSTILE;
use palisade_compiler::hash::sha256_hex;
use palisade_targets::allowlist::emit;

#[test]
fn golden_files_per_example() {
    for name in EXAMPLES {
        let policy = example(name);
        let files = emit(&policy, &gateways(&policy)).unwrap();
        insta::assert_snapshot!(format!("allowlist_{name}"), joined(&files));
    }
}

#[test]
fn output_is_deterministic() {
    for name in EXAMPLES {
        assert_eq!(
            emit(&example(name), &gateways(&example(name))).unwrap(),
            emit(&example(name), &gateways(&example(name))).unwrap()
        );
    }
}

/// Canonical JSON as the format defines it: keys sorted, no whitespace.
fn canonical(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let parts: Vec<String> = keys
                .iter()
                .map(|k| {
                    format!(
                        "{}:{}",
                        serde_json::to_string(k).unwrap(),
                        canonical(&m[*k])
                    )
                })
                .collect();
            format!("{{{}}}", parts.join(","))
        }
        serde_json::Value::Array(a) => format!(
            "[{}]",
            a.iter().map(canonical).collect::<Vec<_>>().join(",")
        ),
        other => serde_json::to_string(other).unwrap(),
    }
}

#[test]
fn content_hash_covers_everything_but_the_header() {
    let policy = example("water");
    let files = emit(&policy, &gateways(&policy)).unwrap();
    let mut doc: serde_json::Value = serde_json::from_str(&files[0].contents).unwrap();
    let header = doc.as_object_mut().unwrap().remove("header").unwrap();
    assert_eq!(
        header["content_sha256"],
        sha256_hex(canonical(&doc).as_bytes())
    );
    assert_eq!(header["sources"][0]["path"], "examples/water/site.pal");
}

#[test]
fn hostile_text_stays_data() {
    let site = gateway_site("  allow hmi -> plc : modbus { function [read_coils] }", "")
        .replace("conduit poll:", &format!("conduit poll \"{HOSTILE}\":"))
        .replace("site \"Test\"", &format!("site \"{HOSTILE}\""));
    let policy = site_text(&site);
    let files = emit(&policy, &gateways(&policy)).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&files[0].contents).unwrap();
    let title = policy.conduits[0].title.clone().unwrap();
    assert_eq!(
        doc["conduits"][0]["title"],
        serde_json::Value::String(title.clone())
    );
    assert_eq!(
        doc["site"]["name"],
        serde_json::Value::String(policy.site.name.clone())
    );
    assert_eq!(doc.as_object().unwrap().len(), 7, "no member was added");
}

#[test]
fn flows_say_what_is_allowed() {
    let policy = example("refinery");
    let files = emit(&policy, &gateways(&policy)).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&files[0].contents).unwrap();
    let flow = &doc["conduits"][0]["flows"][0];
    assert_eq!(flow["operations"]["protocol"], "modbus");
    assert_eq!(
        flow["operations"]["units"],
        serde_json::json!([{"from": 1, "to": 1}])
    );
    assert_eq!(
        flow["operations"]["registers"],
        serde_json::json!([{"from": 0, "to": 1999}])
    );
    assert_eq!(
        flow["source"]["addresses"],
        serde_json::json!(["10.40.0.21-10.40.0.22"])
    );
    let codes: Vec<i64> = flow["operations"]["functions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_i64().unwrap())
        .collect();
    assert_eq!(codes, vec![1, 2, 3, 4]);
    assert!(!joined(&files).is_empty());
}
