//! `palisade verify`: the front end's checks, then every proof (see docs/proofs.md).
//!
//! Exit 0 only when every property is proved; 1 when one is refuted or unknown, or when the
//! front end finds errors (then nothing is verified); 2 for usage and I/O errors.

use super::{load, print_diagnostics, MessageFormat};
use palisade_compiler::db::{policy_ir, site_diagnostics};
use palisade_compiler::render;
use palisade_verify::report::write_atomic;
use palisade_verify::{verify, Options, Report};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub fn cmd_verify(
    paths: &[PathBuf],
    format: MessageFormat,
    proof_out: Option<&Path>,
    emit_smt2: Option<PathBuf>,
    matrix: bool,
    timeout_ms: u32,
) -> Result<ExitCode, String> {
    let s = load(paths)?;
    let front = site_diagnostics(&s.db, s.site);
    if front.iter().any(|d| d.is_error()) {
        print_diagnostics(front, &s.sources, format)?;
        if !matches!(format, MessageFormat::Json | MessageFormat::Sarif) {
            eprintln!("nothing verified: the site has errors");
        }
        return Ok(ExitCode::from(1));
    }
    if let Some(dir) = &emit_smt2 {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let policy = policy_ir(&s.db, s.site);
    let options = Options {
        timeout_ms,
        smt2_dir: emit_smt2,
        matrix,
        ..Options::default()
    };
    let report = verify(policy, &options);
    let mut diags = front.clone();
    diags.extend(report.diagnostics.iter().cloned());
    if let Some(path) = proof_out {
        write_atomic(path, report.proof_record().as_bytes())
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    match format {
        MessageFormat::Json => crate::stdout(&format!("{}\n", json(&report, &diags, &s.sources)?)),
        MessageFormat::Sarif => print_diagnostics(&diags, &s.sources, format)?,
        _ => {
            print_diagnostics(&diags, &s.sources, format)?;
            if let Some(m) = &report.matrix {
                crate::stdout(&m.text());
            }
            crate::stdout(&report.summary_text());
        }
    }
    Ok(if report.all_proved() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// One JSON document: the diagnostics as `check --message-format json` prints them, every
/// result, and the matrix when asked for.
fn json(
    report: &Report,
    diags: &[palisade_compiler::Diagnostic],
    sources: &render::SourceMap,
) -> Result<String, String> {
    let mut doc: serde_json::Value =
        serde_json::from_str(&render::json(diags, sources)).map_err(|e| e.to_string())?;
    let record: serde_json::Value =
        serde_json::from_str(&report.proof_record()).map_err(|e| e.to_string())?;
    if let (Some(obj), Some(rec)) = (doc.as_object_mut(), record.as_object()) {
        for key in ["site", "summary", "stats", "results"] {
            if let Some(v) = rec.get(key) {
                obj.insert(key.to_string(), v.clone());
            }
        }
        if let Some(m) = &report.matrix {
            obj.insert(
                "matrix".into(),
                serde_json::to_value(m).map_err(|e| e.to_string())?,
            );
        }
    }
    serde_json::to_string_pretty(&doc).map_err(|e| e.to_string())
}
