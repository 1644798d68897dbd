//! `palisade build`: check the site, then write one output per device in the target it names
//! (or the `--target` given). Every output is produced in memory first; only when all of them
//! succeed are they written, each atomically, so a failed build leaves previous files untouched.

use crate::{load, print_diagnostics, MessageFormat};
use palisade_compiler::db::{policy_ir, site_diagnostics};
use palisade_compiler::ir::{DeviceId, Target};
use palisade_targets::OutputFile;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub fn cmd_build(paths: &[PathBuf], out_dir: &Path, target: Option<&str>, format: MessageFormat) -> Result<ExitCode, String> {
    let override_target = match target {
        None => None,
        Some(name) => Some(Target::from_name(&name.replace('-', "_")).ok_or_else(|| {
            format!("unknown target `{name}` (expected nftables, iptables, cisco-ios, suricata or allowlist-json)")
        })?),
    };
    let s = load(paths)?;
    let diags = site_diagnostics(&s.db, s.site);
    if diags.iter().any(|d| d.is_error()) {
        print_diagnostics(diags, &s.sources, format)?;
        eprintln!("build failed: the site has errors; nothing was written");
        return Ok(ExitCode::from(1));
    }
    print_diagnostics(diags, &s.sources, format)?;
    let policy = policy_ir(&s.db, s.site);

    // Devices grouped by the target they get.
    let mut by_target: BTreeMap<Target, Vec<DeviceId>> = BTreeMap::new();
    for (i, d) in policy.devices.iter().enumerate() {
        let t = match (override_target, d.target) {
            (Some(o), _) if o.fits(d.kind) => Some(o),
            (Some(_), _) => None,
            (None, t) => t,
        };
        if let Some(t) = t {
            by_target.entry(t).or_default().push(DeviceId(i as u32));
        }
    }
    if by_target.is_empty() {
        eprintln!("build: no device takes this target; nothing to write");
        return Ok(ExitCode::SUCCESS);
    }
    let mut files: Vec<OutputFile> = Vec::new();
    let mut errors = Vec::new();
    for (t, devices) in &by_target {
        match palisade_targets::emit(policy, *t, devices) {
            Ok(f) => files.extend(f),
            Err(d) => errors.extend(d),
        }
    }
    if !errors.is_empty() {
        print_diagnostics(&errors, &s.sources, format)?;
        eprintln!("build failed: nothing was written");
        return Ok(ExitCode::from(1));
    }
    std::fs::create_dir_all(out_dir).map_err(|e| format!("{}: {e}", out_dir.display()))?;
    for f in &files {
        let path = out_dir.join(&f.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        crate::output::write_atomic(&path, f.contents.as_bytes()).map_err(|e| format!("{}: {e}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}
