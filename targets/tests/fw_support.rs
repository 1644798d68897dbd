//! Helpers of the firewall suites: loading sites, running the real tools in a throwaway
//! network namespace, and the skip rule (under `CI=true` a missing tool or missing root is a
//! failure; locally the test says loudly that it skipped).

use palisade_compiler::db::{policy_ir, site_diagnostics, Database};
use palisade_compiler::ir::{DeviceId, Policy, Target};
use palisade_compiler::site;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

pub const EXAMPLES: [&str; 3] = ["refinery", "manufacturing", "water"];

pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Load and check a site (a directory or file), panicking on errors.
pub fn load(path: &Path) -> Policy {
    let loaded = site::load(&[path.to_path_buf()]).unwrap();
    policy_of(loaded)
}

pub fn policy_of(mut loaded: site::Loaded) -> Policy {
    // Paths relative to the workspace, so that golden files do not depend on the checkout.
    let root = format!("{}/", workspace().display());
    for f in &mut loaded.files {
        if let Some(rest) = f.path.strip_prefix(&root) {
            f.path = rest.to_string();
        }
    }
    let db = Database::default();
    let s = site::into_site(&db, loaded, "2026-11-21".to_string());
    let errors: Vec<String> = site_diagnostics(&db, s)
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.message.clone())
        .collect();
    assert!(errors.is_empty(), "site has errors: {errors:?}");
    policy_ir(&db, s).clone()
}

/// Load a site from in-memory files (name, text).
pub fn load_text(files: &[(String, String)]) -> Policy {
    let loaded = site::load_in_memory(Path::new("/synthetic"), files).unwrap();
    policy_of(loaded)
}

pub fn example(name: &str) -> Policy {
    load(&workspace().join("examples").join(name))
}

/// Devices whose own target is `target`, or every firewall when `all` is set.
pub fn firewalls(policy: &Policy, target: Option<Target>) -> Vec<DeviceId> {
    policy
        .devices
        .iter()
        .enumerate()
        .filter(|(_, d)| match target {
            Some(t) => d.target == Some(t),
            None => t_fits(d),
        })
        .map(|(i, _)| DeviceId(i as u32))
        .collect()
}

fn t_fits(d: &palisade_compiler::ir::Device) -> bool {
    d.kind == palisade_compiler::ir::DeviceKind::Firewall
}

pub fn is_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn on_path(tool: &str) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Whether the tools are there and we are root; otherwise fail under CI, skip loudly locally.
pub fn require(tools: &[&str], test: &str) -> bool {
    let mut missing: Vec<String> = tools
        .iter()
        .filter(|t| !on_path(t))
        .map(|t| t.to_string())
        .collect();
    if !is_root() {
        missing.push("root".into());
    }
    if missing.is_empty() {
        return true;
    }
    let msg = format!(
        "{test}: needs {} (run scripts/setup.sh as root)",
        missing.join(", ")
    );
    assert!(!is_ci(), "{msg}");
    eprintln!("SKIPPED {msg}");
    false
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A fresh scratch directory under the target directory.
pub fn scratch(tag: &str) -> PathBuf {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let dir = workspace()
        .join("target")
        .join("fw-tests")
        .join(format!("{tag}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Run a shell script inside a new network namespace (`unshare -n`); (success, stdout, stderr).
pub fn in_netns(script: &str) -> (bool, String, String) {
    let out = Command::new("unshare")
        .arg("-n")
        .arg("sh")
        .arg("-c")
        .arg(script)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `nft -c -f` on a ruleset text in a throwaway namespace.
pub fn nft_check(text: &str) -> Result<(), String> {
    let dir = scratch("nft");
    let file = dir.join("ruleset.nft");
    std::fs::write(&file, text).unwrap();
    let (ok, _, err) = in_netns(&format!("nft -c -f {}", file.display()));
    let _ = std::fs::remove_dir_all(&dir);
    if ok {
        Ok(())
    } else {
        Err(err)
    }
}

/// Every firewall whose interface names a Linux target accepts (the Cisco devices of the
/// examples have IOS names).
pub fn linux_firewalls(policy: &Policy) -> Vec<DeviceId> {
    firewalls(policy, None)
        .into_iter()
        .filter(|d| {
            policy.devices[d.index()]
                .interfaces
                .iter()
                .all(|i| palisade_targets::model::linux_ifname_ok(&i.name))
        })
        .collect()
}
