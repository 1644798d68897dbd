//! `palisade build`: check the site, then write one output per device in the target it names
//! (or the `--target` given). Every output is produced in memory first; only when all of them
//! succeed are they written, each atomically, so a failed build leaves previous files untouched.

use crate::{load, print_diagnostics, MessageFormat};
use palisade_compiler::db::{policy_ir, site_diagnostics};
use palisade_compiler::ir::{DeviceId, Target};
use palisade_targets::workflow::Format as WorkflowFormat;
use palisade_targets::OutputFile;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Options of the gateway targets: `--monitor` (also write a Suricata monitoring rule set of
/// every conduit, for a SOC sensor). Whether a gateway drops or alerts is its `mode`, in the site.
#[derive(Clone, Copy, Debug, Default)]
pub struct GatewayOptions {
    pub monitor: bool,
}

/// What a build proves before it writes: the site's assertions and profile (`--no-verify`
/// skips them) and, for every firewall, that the emitted ruleset equals the policy on that
/// device (translation validation; `--no-validate` skips it). Both default to on.
#[derive(Clone, Copy, Debug)]
pub struct Checks {
    pub verify: bool,
    pub validate: bool,
}

pub fn cmd_build(
    paths: &[PathBuf],
    out_dir: &Path,
    target: Option<&str>,
    format: MessageFormat,
    gateway: GatewayOptions,
    checks: Checks,
) -> Result<ExitCode, String> {
    // Work-order workflows are per work order, not per device: `--target bpmn|workflow-json`
    // writes only them, a plain build writes both along with every device's output.
    let workflow_formats: Vec<WorkflowFormat> = match target {
        None => WorkflowFormat::ALL.to_vec(),
        Some(name) => WorkflowFormat::from_name(name).into_iter().collect(),
    };
    let override_target = match target {
        None => None,
        Some(_) if !workflow_formats.is_empty() => None,
        Some(name) => Some(Target::from_name(&name.replace('-', "_")).ok_or_else(|| {
            format!("unknown target `{name}` (expected nftables, iptables, cisco-ios, suricata, allowlist-json, bpmn or workflow-json)")
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
    // The site's proofs come first: a refuted or unproved property writes nothing.
    let mut proved = None;
    if checks.verify {
        let report = palisade_verify::verify(policy, &palisade_verify::Options::default());
        print_diagnostics(&report.diagnostics, &s.sources, format)?;
        if !report.all_proved() {
            let refuted = report.count(palisade_verify::Verdict::Refuted);
            let unknown = report.count(palisade_verify::Verdict::Unknown);
            eprintln!("build failed: {refuted} property(ies) refuted, {unknown} unknown; nothing was written (`--no-verify` skips the proofs)");
            return Ok(ExitCode::from(1));
        }
        proved = Some(report.count(palisade_verify::Verdict::Proved));
    } else {
        eprintln!("warning: --no-verify: the site's assertions, profile, security levels, approvals and data flows were NOT proved");
    }
    if !checks.validate {
        eprintln!("warning: --no-validate: the emitted firewall rulesets and gateway rules were NOT proved equal to the policy");
    }

    // Devices grouped by the target they get.
    let mut by_target: BTreeMap<Target, Vec<DeviceId>> = BTreeMap::new();
    for (i, d) in policy.devices.iter().enumerate() {
        let t = match (override_target, d.target) {
            (Some(o), _) if o.fits(d.kind) => Some(o),
            (Some(_), _) => None,
            (None, t) => t,
        };
        if let Some(t) = t.filter(|_| target.is_none() || override_target.is_some()) {
            by_target.entry(t).or_default().push(DeviceId(i as u32));
        }
    }
    if by_target.is_empty()
        && !gateway.monitor
        && (workflow_formats.is_empty() || policy.workorders.is_empty())
    {
        eprintln!("build: no device takes this target; nothing to write");
        return Ok(ExitCode::SUCCESS);
    }
    let mut files: Vec<OutputFile> = Vec::new();
    let mut errors = palisade_targets::placement::truncated_diagnostics(policy);
    let mut validated = 0;
    for (t, devices) in &by_target {
        let emitted = palisade_targets::emit(policy, *t, devices);
        match emitted {
            Ok(f) => {
                // Translation validation: each firewall ruleset, read back, equals the policy.
                if checks.validate {
                    errors.extend(palisade_targets::validate::check_files(
                        policy, *t, devices, &f,
                    ));
                    if matches!(
                        t,
                        Target::Nftables
                            | Target::Iptables
                            | Target::CiscoIos
                            | Target::Suricata
                            | Target::AllowlistJson
                    ) {
                        validated += devices.len();
                    }
                }
                files.extend(f)
            }
            Err(d) => errors.extend(d),
        }
    }
    if gateway.monitor {
        match palisade_targets::suricata::monitor(policy) {
            Ok(f) => files.extend(f),
            Err(d) => errors.extend(d),
        }
    }
    for f in &workflow_formats {
        match palisade_targets::workflow::emit(policy, *f) {
            Ok(f) => files.extend(f),
            Err(d) => errors.extend(d),
        }
    }
    if !errors.is_empty() {
        print_diagnostics(&errors, &s.sources, format)?;
        eprintln!("build failed: nothing was written");
        return Ok(ExitCode::from(1));
    }
    let files = stamp(files, checks);
    write_all(out_dir, &files)?;
    let proofs = match proved {
        Some(n) => format!("{n} properties proved"),
        None => "NOT VERIFIED (--no-verify)".to_string(),
    };
    let validation = if checks.validate {
        format!("{validated} device ruleset(s) validated")
    } else {
        "rulesets NOT VALIDATED (--no-validate)".to_string()
    };
    eprintln!(
        "build: {proofs}, {validation}, {} file(s) written to {}",
        files.len(),
        out_dir.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// What a build skipped, written into every output's header (after translation validation,
/// which reads the unstamped text; the stamp is a header comment or header member, outside
/// what the content hash covers): `UNVERIFIED` without the proofs, `NOT VALIDATED` without
/// translation validation. A person or a deployment script reading any file sees it.
fn stamp(files: Vec<OutputFile>, checks: Checks) -> Vec<OutputFile> {
    let mut words = Vec::new();
    if !checks.verify {
        // No `--` in the text: it sits inside XML comments too.
        words.push("UNVERIFIED: built without proving the site's properties (no-verify)");
    }
    if !checks.validate {
        words.push(
            "NOT VALIDATED: built without proving this output equal to the policy (no-validate)",
        );
    }
    if words.is_empty() {
        return files;
    }
    files
        .into_iter()
        .map(|f| {
            let mut out = String::with_capacity(f.contents.len() + 200);
            let mut done = false;
            for line in f.contents.split_inclusive('\n') {
                out.push_str(line);
                if done {
                    continue;
                }
                if let Some(at) = line.find("Generated by Palisade") {
                    // Same comment prefix as the generator line (`# `, `! `, or XML indent).
                    let prefix = line.get(..at).unwrap_or("");
                    for w in &words {
                        out.push_str(&format!("{prefix}{w}\n"));
                    }
                    done = true;
                } else if let Some(at) = line.find("\"generator\": \"Palisade") {
                    let indent = line.get(..at).unwrap_or("");
                    out.push_str(&format!(
                        "{indent}\"assurance\": \"{}\",\n",
                        words.join("; ")
                    ));
                    done = true;
                }
            }
            OutputFile {
                path: f.path,
                contents: out,
            }
        })
        .collect()
}

/// Write every file or none: each goes to a temporary file beside its target first (synced),
/// and only when all are written are they renamed into place. A failure before the renames
/// removes the temporaries and leaves every previous file untouched.
fn write_all(out_dir: &Path, files: &[OutputFile]) -> Result<(), String> {
    use std::io::Write;
    std::fs::create_dir_all(out_dir).map_err(|e| format!("{}: {e}", out_dir.display()))?;
    let mut staged: Vec<(PathBuf, PathBuf)> = Vec::new();
    let result = (|| -> Result<(), String> {
        for f in files {
            let path = out_dir.join(&f.path);
            let parent = path
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_else(|| out_dir.to_path_buf());
            std::fs::create_dir_all(&parent).map_err(|e| format!("{}: {e}", parent.display()))?;
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let tmp = parent.join(format!(".{name}.palisade-tmp-{}", std::process::id()));
            staged.push((tmp.clone(), path.clone()));
            let mut file =
                std::fs::File::create(&tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
            file.write_all(f.contents.as_bytes())
                .and_then(|()| file.sync_all())
                .map_err(|e| format!("{}: {e}", tmp.display()))?;
        }
        Ok(())
    })();
    if let Err(e) = result {
        for (tmp, _) in &staged {
            let _ = std::fs::remove_file(tmp);
        }
        return Err(format!("{e}; nothing was written"));
    }
    for (tmp, path) in &staged {
        std::fs::rename(tmp, path).map_err(|e| format!("{}: {e}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}
