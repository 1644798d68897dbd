//! Helpers of the gateway suites (Suricata rules, JSON allowlist): sites from the examples or
//! from text, with source paths relative to the workspace so golden files do not depend on
//! where the repository lives.

use palisade_compiler::db::{policy_ir, site_diagnostics, Database};
use palisade_compiler::diagnostic::Diagnostic;
use palisade_compiler::ir::{DeviceId, DeviceKind, Policy};
use palisade_compiler::site;
use palisade_targets::OutputFile;
use std::path::{Path, PathBuf};

pub const EXAMPLES: [&str; 3] = ["refinery", "manufacturing", "water"];

pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn checked(loaded: site::Loaded) -> Result<Policy, Vec<Diagnostic>> {
    let db = Database::default();
    let s = site::into_site(&db, loaded, "2026-11-21".to_string());
    let errors: Vec<Diagnostic> = site_diagnostics(&db, s)
        .iter()
        .filter(|d| d.is_error())
        .cloned()
        .collect();
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut policy = policy_ir(&db, s).clone();
    let root = format!("{}/", workspace().display());
    for src in &mut policy.sources {
        if let Some(rel) = src.path.strip_prefix(&root) {
            src.path = rel.to_string();
        }
    }
    Ok(policy)
}

pub fn example(name: &str) -> Policy {
    let loaded = site::load(&[workspace().join("examples").join(name)]).unwrap();
    checked(loaded).unwrap_or_else(|e| panic!("example {name} has errors: {e:?}"))
}

/// A site of one in-memory file, `site.pal`.
pub fn site_text(text: &str) -> Policy {
    let loaded =
        site::load_in_memory(Path::new(""), &[("site.pal".into(), text.to_string())]).unwrap();
    checked(loaded).unwrap_or_else(|e| panic!("site has errors: {e:?}"))
}

pub fn gateways(policy: &Policy) -> Vec<DeviceId> {
    policy
        .devices
        .iter()
        .enumerate()
        .filter(|(_, d)| d.kind == DeviceKind::Gateway)
        .map(|(i, _)| DeviceId(i as u32))
        .collect()
}

/// Every file, as a person reviews them: path, then contents.
pub fn joined(files: &[OutputFile]) -> String {
    files
        .iter()
        .map(|f| format!("==> {} <==\n{}", f.path, f.contents))
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn file<'a>(files: &'a [OutputFile], path: &str) -> &'a str {
    &files
        .iter()
        .find(|f| f.path == path)
        .unwrap_or_else(|| {
            panic!(
                "no {path} among {:?}",
                files.iter().map(|f| &f.path).collect::<Vec<_>>()
            )
        })
        .contents
}

/// The rule lines of a rules file (not comments).
pub fn rule_lines(text: &str) -> Vec<&str> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .collect()
}

/// The rule lines about protocol fields (on established flows), without the boundary's.
pub fn field_lines(text: &str) -> Vec<&str> {
    rule_lines(text)
        .into_iter()
        .filter(|l| l.contains("flow:to_server,established;"))
        .collect()
}

/// A site around one conduit `plant -> field` with a gateway between the two zones; `rules`
/// are the conduit's rules, `extra` more items.
pub fn gateway_site(rules: &str, extra: &str) -> String {
    format!(
        r#"site "Test" {{ timezone "UTC" }}
use std.services
zone plant {{ security_level 2; network 10.1.0.0/24
  asset hmi at 10.1.0.10
  asset eng_ws at 10.1.0.20
  asset hmis at 10.1.0.30-10.1.0.39 }}
zone field {{ security_level 2; network 10.2.0.0/24
  asset plc at 10.2.0.5
  asset rtu at 10.2.0.6 }}
conduit poll: plant -> field {{
{rules}
}}
gateway gw {{ target suricata; inline between plant and field }}
{extra}
"#
    )
}
