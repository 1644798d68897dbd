//! Front-end benchmark: parse + check of a synthetic site of 200 zones, 5,000 assets,
//! 2,000 conduits and 20,000 rules in 10 files (`SynthSpec::BENCH`).
//!
//! Run with `cargo bench --bench check`. Targets: under 300 ms wall and under 200 MB peak
//! memory on the project's 2-core machine. Figures and the machine are in BENCHMARKS.md.
//!
//! Measures
//! - the generator itself;
//! - in-process load + check with a fresh salsa database per iteration (what `palisade
//!   check` does, minus rendering), with a breakdown by pass;
//! - the release `palisade check DIR` process: wall time, and peak resident memory read by
//!   GNU time (`/usr/bin/time -f %M`, the kernel's ru_maxrss of the child; Debian package
//!   `time`, installed by scripts/setup.sh). Without GNU time the memory line says so.
//!
//! Environment: `PALISADE_BENCH_RUNS` (default 10) sets the number of timed iterations.

use palisade_compiler::db::{lowered, parsed, site_diagnostics, Database};
use palisade_compiler::site;
use palisade_compiler::synth::{generate, SynthSpec};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const TARGET_WALL_MS: f64 = 300.0;
const TARGET_PEAK_MB: f64 = 200.0;
const TODAY: &str = "2026-01-01";

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Median and 95th percentile (nearest rank) of the samples, in milliseconds.
fn stats(samples: &[Duration]) -> (f64, f64) {
    let mut v: Vec<f64> = samples.iter().map(|d| ms(*d)).collect();
    v.sort_by(f64::total_cmp);
    let at = |q: f64| -> f64 {
        let rank = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len().max(1));
        v.get(rank - 1).copied().unwrap_or(f64::NAN)
    };
    (at(0.5), at(0.95))
}

fn verdict(value: f64, target: f64) -> &'static str {
    if value <= target {
        "within target"
    } else {
        "OVER TARGET"
    }
}

struct Passes {
    load: Duration,
    parse: Duration,
    lower: Duration,
    checks: Duration,
    total: Duration,
    diagnostics: usize,
    errors: usize,
}

/// One in-process run with a fresh database, timing each pass as the queries first run.
fn run_once(dir: &Path) -> Result<Passes, String> {
    let t0 = Instant::now();
    let loaded = site::load(&[dir.to_path_buf()]).map_err(|e| e.to_string())?;
    let db = Database::default();
    let s = site::into_site(&db, loaded, TODAY.to_string());
    let t1 = Instant::now();
    for f in s.files(&db) {
        let _ = parsed(&db, *f);
    }
    let t2 = Instant::now();
    let _ = lowered(&db, s);
    let t3 = Instant::now();
    let diags = site_diagnostics(&db, s);
    let t4 = Instant::now();
    let errors = diags.iter().filter(|d| d.is_error()).count();
    Ok(Passes {
        load: t1 - t0,
        parse: t2 - t1,
        lower: t3 - t2,
        checks: t4 - t3,
        total: t4 - t0,
        diagnostics: diags.len(),
        errors,
    })
}

/// What GNU time reports about one `palisade check` process.
struct Usage {
    peak_kb: u64,
    /// User + system CPU time: less disturbed than wall time when the machine is busy.
    cpu: Duration,
}

/// Wall time and, with GNU time, peak RSS and CPU time of `palisade check DIR`.
fn run_cli(bin: &Path, dir: &Path, gnu_time: bool) -> Result<(Duration, Option<Usage>), String> {
    let mut cmd = if gnu_time {
        let mut c = Command::new("/usr/bin/time");
        c.args(["-f", "PALISADE_USAGE %M %U %S"]).arg(bin);
        c
    } else {
        Command::new(bin)
    };
    cmd.arg("check")
        .arg("--message-format")
        .arg("short")
        .arg(dir)
        .env("PALISADE_TODAY", TODAY);
    let t0 = Instant::now();
    let out = cmd
        .output()
        .map_err(|e| format!("{}: {e}", bin.display()))?;
    let wall = t0.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        return Err(format!(
            "`palisade check` failed ({}):\n{}",
            out.status,
            stderr.lines().take(20).collect::<Vec<_>>().join("\n")
        ));
    }
    let usage = stderr
        .lines()
        .find_map(|l| l.strip_prefix("PALISADE_USAGE "))
        .and_then(|v| {
            let f: Vec<&str> = v.split_whitespace().collect();
            let secs = |i: usize| f.get(i).and_then(|x| x.parse::<f64>().ok());
            Some(Usage {
                peak_kb: f.first()?.parse().ok()?,
                cpu: Duration::from_secs_f64(secs(1)? + secs(2)?),
            })
        });
    Ok((wall, usage))
}

fn main() -> Result<(), String> {
    // `cargo bench` passes `--bench`; any other argument filters nothing here.
    let runs: usize = std::env::var("PALISADE_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10)
        .max(1);
    let spec = SynthSpec::BENCH;
    // Other work on the machine shows in wall times; say how busy it was.
    if let Ok(load) = std::fs::read_to_string("/proc/loadavg") {
        println!(
            "load average at start: {}",
            load.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        );
    }
    println!(
        "palisade check benchmark: {} zones, {} assets, {} conduits, {} rules, {} files (seed {})",
        spec.zones, spec.assets, spec.conduits, spec.rules, spec.files, spec.seed
    );

    // The generator.
    let mut gen_times = Vec::new();
    let mut files = Vec::new();
    for _ in 0..3 {
        let t = Instant::now();
        files = generate(&spec);
        gen_times.push(t.elapsed());
    }
    let bytes: usize = files.iter().map(|(_, t)| t.len()).sum();
    let lines: usize = files.iter().map(|(_, t)| t.lines().count()).sum();
    let (g50, _) = stats(&gen_times);
    println!(
        "generator: {g50:.1} ms median of 3 -> {} files, {:.2} MB, {lines} lines",
        files.len(),
        bytes as f64 / 1e6
    );

    let dir = std::env::temp_dir().join(format!("palisade-bench-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let result = bench(&dir, &files, runs);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn bench(dir: &Path, files: &[(String, String)], runs: usize) -> Result<(), String> {
    for (name, text) in files {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    }

    // (a) In process: one warm-up run (page cache, allocator), then `runs` timed runs.
    let warm = run_once(dir)?;
    if warm.errors > 0 {
        return Err(format!(
            "the synthetic site has {} error(s); the generator must produce a clean site",
            warm.errors
        ));
    }
    let mut all = Vec::new();
    for _ in 0..runs {
        all.push(run_once(dir)?);
    }
    let (p50, p95) = stats(&all.iter().map(|p| p.total).collect::<Vec<_>>());
    println!("\nin-process load + check (fresh database each run, {runs} runs, {} diagnostics, 0 errors):", warm.diagnostics);
    println!(
        "  wall      median {p50:7.1} ms   p95 {p95:7.1} ms   target < {TARGET_WALL_MS:.0} ms: {}",
        verdict(p95, TARGET_WALL_MS)
    );
    for (label, get) in [
        ("load", (|p: &Passes| p.load) as fn(&Passes) -> Duration),
        ("parse", |p: &Passes| p.parse),
        ("lower", |p: &Passes| p.lower),
        ("checks", |p: &Passes| p.checks),
    ] {
        let (m, q) = stats(&all.iter().map(get).collect::<Vec<_>>());
        println!("    {label:<8} median {m:7.1} ms   p95 {q:7.1} ms");
    }

    // (b) The release command line, as a user runs it.
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_palisade"));
    let gnu_time = Path::new("/usr/bin/time").exists();
    let mut walls = Vec::new();
    let mut usages = Vec::new();
    let _ = run_cli(&bin, dir, gnu_time)?;
    for _ in 0..runs {
        let (w, u) = run_cli(&bin, dir, gnu_time)?;
        walls.push(w);
        usages.extend(u);
    }
    let (c50, c95) = stats(&walls);
    println!(
        "\n`palisade check DIR` process ({}, {} runs):",
        bin.display(),
        walls.len()
    );
    println!(
        "  wall      median {c50:7.1} ms   p95 {c95:7.1} ms   target < {TARGET_WALL_MS:.0} ms: {}",
        verdict(c95, TARGET_WALL_MS)
    );
    match usages.iter().map(|u| u.peak_kb).max() {
        Some(kb) => {
            let (u50, u95) = stats(&usages.iter().map(|u| u.cpu).collect::<Vec<_>>());
            println!("  CPU       median {u50:7.1} ms   p95 {u95:7.1} ms   (user + system, GNU time, 10 ms resolution)");
            let mb = kb as f64 / 1024.0;
            println!("  peak RSS  {mb:7.1} MB (max of {} runs, GNU time %M)   target < {TARGET_PEAK_MB:.0} MB: {}", usages.len(), verdict(mb, TARGET_PEAK_MB));
        }
        None => {
            println!("  peak RSS  not measured: /usr/bin/time (Debian package `time`) is missing")
        }
    }
    Ok(())
}
