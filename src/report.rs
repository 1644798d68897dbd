//! `palisade report PATH -o DIR`: audit evidence for an assessor (docs/ci.md).
//!
//! Writes `report.json` (the model), `report.html` (the same content, self-contained: inline
//! CSS and SVG, no script, a Content-Security-Policy that forbids scripts) and `SHA256SUMS`,
//! each atomically. The model is a pure function of the policy IR, the verifier's report and
//! the evidence the verifier computes on request (reliance of compensating controls, devices
//! on each conduit); the HTML and the SVG diagram are pure functions of the model. Nothing
//! time-dependent is in it: solver timings are left out, and a date appears only when
//! `--date` gives one. Exit 1 when a property is refuted or unknown: the report is written
//! all the same, since a refutation is evidence too.

mod html;
mod model;
mod svg;

use crate::{load, output, print_diagnostics, MessageFormat};
use palisade_compiler::db::{policy_ir, site_diagnostics};
use palisade_compiler::hash::sha256_hex;
use palisade_verify::network::Network;
use palisade_verify::{verify, Ctx, Options};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use model::model;

pub fn cmd_report(
    paths: &[PathBuf],
    out: &Path,
    timeout_ms: u32,
    date: Option<&str>,
) -> Result<ExitCode, String> {
    let s = load(paths)?;
    let front = site_diagnostics(&s.db, s.site);
    if front.iter().any(|d| d.is_error()) {
        print_diagnostics(front, &s.sources, MessageFormat::Human)?;
        eprintln!("no report written: the site has errors");
        return Ok(ExitCode::from(1));
    }
    if let Some(d) = date {
        let ok = d.len() == 10
            && d.chars().enumerate().all(|(i, c)| {
                if i == 4 || i == 7 {
                    c == '-'
                } else {
                    c.is_ascii_digit()
                }
            });
        if !ok {
            return Err(format!("--date `{d}` is not YYYY-MM-DD"));
        }
    }
    let policy = policy_ir(&s.db, s.site);
    let options = Options {
        timeout_ms,
        smt2_dir: None,
        matrix: true,
        ..Options::default()
    };
    let report = verify(policy, &options);
    let net = Network::new(policy);
    let ctx = Ctx::new(&net, &options, "report-");
    let evidence = model::evidence(&ctx);
    let texts: Vec<Option<String>> = policy
        .sources
        .iter()
        .map(|src| {
            if src.std {
                None
            } else {
                std::fs::read_to_string(&src.path).ok()
            }
        })
        .collect();
    let mut doc = model(policy, &report, &evidence, &texts);
    if let (Some(d), Some(obj)) = (date, doc.as_object_mut()) {
        obj.insert("date".into(), serde_json::Value::String(d.to_string()));
    }
    let json = serde_json::to_string_pretty(&doc).map_err(|e| e.to_string())? + "\n";
    let json_hash = sha256_hex(json.as_bytes());
    let page = html::render(&doc, &json_hash);
    let page_hash = sha256_hex(page.as_bytes());
    std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let sums = format!("{json_hash}  report.json\n{page_hash}  report.html\n");
    for (name, bytes) in [
        ("report.json", json.as_bytes()),
        ("report.html", page.as_bytes()),
        ("SHA256SUMS", sums.as_bytes()),
    ] {
        let path = out.join(name);
        output::write_atomic(&path, bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    let mut diags = front.clone();
    diags.extend(report.diagnostics.iter().cloned());
    print_diagnostics(&diags, &s.sources, MessageFormat::Short)?;
    eprintln!(
        "report of site `{}` written to {}: {} proved, {} refuted, {} unknown",
        palisade_compiler::render::escape_for_terminal(&policy.site.name),
        out.display(),
        report.count(palisade_verify::Verdict::Proved),
        report.count(palisade_verify::Verdict::Refuted),
        report.count(palisade_verify::Verdict::Unknown)
    );
    Ok(if report.all_proved() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
