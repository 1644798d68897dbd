//! Results into diagnostics, the proof record (`--proof-out`), and the terminal summary.

use crate::assertions::Finding;
use crate::scenario::Scenario;
use crate::{Origin, PropertyResult, Report, Verdict};
use palisade_compiler::ir::Policy;
use palisade_compiler::Diagnostic;
use serde::Serialize;
use std::io::Write;
use std::path::Path;

pub fn result(
    property: &str,
    origin: Origin,
    s: &Scenario,
    f: Finding,
    time_ms: f64,
) -> PropertyResult {
    PropertyResult {
        property: property.to_string(),
        origin,
        scenario: s.name.clone(),
        verdict: f.verdict,
        checked: f.checked,
        time_ms,
        counterexample: f.counterexample,
        notes: f.notes,
        location: None,
    }
}

/// One diagnostic per refuted property (its first counterexample; the other scenarios in a
/// note) and one per property the solver could not decide.
pub fn diagnose(policy: &Policy, results: &[PropertyResult], code: &str) -> Vec<Diagnostic> {
    let _ = policy;
    let mut out = Vec::new();
    let mut props: Vec<&str> = Vec::new();
    for r in results {
        if !props.contains(&r.property.as_str()) {
            props.push(&r.property);
        }
    }
    for prop in props {
        let rs: Vec<&PropertyResult> = results.iter().filter(|r| r.property == prop).collect();
        let refuted: Vec<&&PropertyResult> = rs
            .iter()
            .filter(|r| r.verdict == Verdict::Refuted)
            .collect();
        if let Some(first) = refuted.first() {
            let scenarios: Vec<&str> = refuted.iter().map(|r| r.scenario.as_str()).collect();
            let summary = first
                .counterexample
                .as_ref()
                .map(|c| c.summary.clone())
                .unwrap_or_else(|| first.checked.clone());
            let mut d = Diagnostic::error(code, format!("`{prop}` is refuted: {summary}"));
            if let Some(loc) = &first.location {
                d = d.primary(
                    loc.clone(),
                    format!("refuted {}", scenario_list(&scenarios)),
                );
            }
            if let Some(c) = &first.counterexample {
                d = c.decorate(d);
            }
            d = d.note(format!("checked ({}): {}", first.scenario, first.checked));
            for n in &first.notes {
                d = d.note(n.clone());
            }
            if let Some(h) = help(code) {
                d = d.help(h);
            }
            out.push(d);
        }
        for u in rs.iter().filter(|r| r.verdict == Verdict::Unknown) {
            let mut d = Diagnostic::error(
                "E1005",
                format!("`{prop}` could not be decided ({})", u.scenario),
            );
            if let Some(loc) = &u.location {
                d = d.primary(loc.clone(), "unknown: not proved");
            }
            for n in &u.notes {
                d = d.note(n.clone());
            }
            out.push(d.help("an unknown verdict is never taken as proved; raise `--timeout-ms`, or simplify the rules involved"));
        }
    }
    out
}

fn scenario_list(s: &[&str]) -> String {
    match s {
        [one] => format!("in scenario `{one}`"),
        many => format!(
            "in scenarios {}",
            many.iter()
                .map(|x| format!("`{x}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn help(code: &str) -> Option<&'static str> {
    Some(match code {
        "E1001" => "remove or narrow a rule on the path, or scope the assertion (`in base`, `except during X`) if the path is intended",
        "E1002" => "route the traffic through the named device, conduit or asset, or close the path that avoids it",
        "E1003" => "an isolated zone has no conduit rule, link or bridge in or out",
        "E1004" => "add a conduit rule for the service, or check that the devices on the way carry it",
        "E1101" => "raise the assets' capability, or add a compensating control whose reliance holds",
        "E1201" | "E1202" | "E1203" => "change `approved_by`, `separation_of_duties`, `max_duration` or `review_after` of the work order",
        "E1301" => "carry the hop on a service that provides the protection (e.g. `opcua_sign`, `https`, `ssh`)",
        "E1401" => "route remote access through a declared jump host (`kind jump_host`)",
        "E1402" => "put a firewall or gateway on every path of the conduit",
        "E1403" => "constrain the rule to named functions and put a gateway on every path, or cover the asset with a compensating control",
        "E1404" => "name the assets that need the access instead of `any`, a zone or `external`",
        _ => return None,
    })
}

#[derive(Serialize)]
struct Record<'a> {
    tool: &'static str,
    version: &'static str,
    site: &'a str,
    summary: Summary,
    stats: &'a crate::Stats,
    results: &'a [PropertyResult],
}

#[derive(Serialize)]
struct Summary {
    proved: usize,
    refuted: usize,
    unknown: usize,
    errors: usize,
    warnings: usize,
    all_proved: bool,
}

impl Report {
    /// The proof record as JSON: every property, scenario, verdict, what was checked, time.
    pub fn proof_record(&self) -> String {
        let rec = Record {
            tool: "palisade verify",
            version: env!("CARGO_PKG_VERSION"),
            site: &self.site,
            summary: Summary {
                proved: self.count(Verdict::Proved),
                refuted: self.count(Verdict::Refuted),
                unknown: self.count(Verdict::Unknown),
                errors: self.diagnostics.iter().filter(|d| d.is_error()).count(),
                warnings: self.diagnostics.iter().filter(|d| !d.is_error()).count(),
                all_proved: self.all_proved(),
            },
            stats: &self.stats,
            results: &self.results,
        };
        serde_json::to_string_pretty(&rec).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }

    /// One line per property and scenario, then a summary line.
    pub fn summary_text(&self) -> String {
        let mut s = String::new();
        for r in &self.results {
            s.push_str(&format!(
                "{:<8} {:>9.1} ms  {}  [{}]\n",
                r.verdict.word(),
                r.time_ms,
                r.property,
                r.scenario
            ));
        }
        s.push_str(&format!(
            "verified site `{}`: {} proved, {} refuted, {} unknown ({} scenarios, {} solver queries, {:.0} ms)\n",
            self.site,
            self.count(Verdict::Proved),
            self.count(Verdict::Refuted),
            self.count(Verdict::Unknown),
            self.stats.scenarios,
            self.stats.solver_queries,
            self.stats.total_ms
        ));
        s
    }
}

/// Write a file atomically: a temporary file beside it, then a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| "out".into());
    let tmp = dir.join(format!(".{name}.tmp{}", std::process::id()));
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}
