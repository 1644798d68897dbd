//! Verifier benchmark: every assertion and profile check plus the full reachability matrix
//! on the synthetic site of `SynthSpec::BENCH` (200 zones, 5,000 assets, 2,000 conduits,
//! 20,000 rules).
//!
//! Run with `cargo bench -p palisade-verify --bench verify`. Targets: under 5 s and under
//! 1 GB peak memory on the project's 2-core machine. Figures are in BENCHMARKS.md.
//! Peak memory is the process's high-water mark (`VmHWM` of /proc/self/status), which
//! includes loading and checking the site. `PALISADE_BENCH_RUNS` (default 3) sets the runs.

use palisade_compiler::db::{policy_ir, site_diagnostics, Database};
use palisade_compiler::site::{self, Loaded, LoadedFile};
use palisade_compiler::synth::{generate, SynthSpec};
use palisade_verify::{verify, Options, Verdict};
use std::time::Instant;

const TARGET_MS: f64 = 5_000.0;
const TARGET_PEAK_MB: f64 = 1_024.0;

fn peak_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn main() {
    let runs: usize = std::env::var("PALISADE_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3)
        .max(1);
    let spec = SynthSpec::BENCH;
    let files = generate(&spec);
    let dir = std::env::temp_dir().join(format!("palisade-verify-bench-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let mut loaded_files = Vec::new();
    for (name, text) in &files {
        loaded_files.push(LoadedFile {
            path: dir.join(name).display().to_string(),
            text: text.clone(),
            std: false,
        });
    }
    let mut loaded = Loaded::default();
    // The standard library modules the site uses, then the site's files.
    let std_only = site::load_with(
        &[dir.join("site.pal")],
        &|_| {
            Ok(files
                .iter()
                .find(|(n, _)| n == "site.pal")
                .map(|(_, t)| t.clone())
                .unwrap_or_default())
        },
        &|_| Ok(Vec::new()),
    );
    if let Ok(l) = std_only {
        loaded.files.extend(l.files.into_iter().filter(|f| f.std));
    }
    loaded.files.extend(loaded_files);
    let db = Database::default();
    let s = site::into_site(&db, loaded, "2026-01-01".into());
    let errors = site_diagnostics(&db, s)
        .iter()
        .filter(|d| d.is_error())
        .count();
    let policy = policy_ir(&db, s);
    println!(
        "site: {} zones, {} assets, {} conduits, {} rules, {} work orders, {} assertions; front-end errors: {errors}",
        policy.zones.len() - 1,
        policy.assets.len(),
        policy.conduits.len(),
        policy.rules.len(),
        policy.workorders.len(),
        policy.assertions.len()
    );
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..runs {
        let start = Instant::now();
        let report = verify(
            policy,
            &Options {
                matrix: true,
                ..Options::default()
            },
        );
        times.push(start.elapsed().as_secs_f64() * 1000.0);
        last = Some(report);
    }
    times.sort_by(f64::total_cmp);
    let median = times.get(times.len() / 2).copied().unwrap_or(f64::NAN);
    if let Some(r) = &last {
        println!(
            "verify + matrix: median {median:.0} ms over {runs} run(s) (target {TARGET_MS:.0} ms: {}); {} results ({} proved, {} refuted, {} unknown), {} scenarios, {} solver queries ({:.0} ms of solver time over two threads), matrix {} pairs ({} cross-checked by z3)",
            if median <= TARGET_MS { "within target" } else { "OVER TARGET" },
            r.results.len(),
            r.count(Verdict::Proved),
            r.count(Verdict::Refuted),
            r.count(Verdict::Unknown),
            r.stats.scenarios,
            r.stats.solver_queries,
            r.stats.solver_ms,
            r.matrix.as_ref().map(|m| m.entries.len()).unwrap_or(0),
            r.matrix.as_ref().map(|m| m.cross_checked).unwrap_or(0),
        );
    }
    match peak_mb() {
        Some(mb) => println!("peak memory (whole process, incl. loading): {mb:.0} MB (target {TARGET_PEAK_MB:.0} MB: {})", if mb <= TARGET_PEAK_MB { "within target" } else { "OVER TARGET" }),
        None => println!("peak memory: /proc/self/status not readable"),
    }
    let _ = std::fs::remove_dir_all(&dir);
}
