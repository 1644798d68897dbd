//! Incremental benchmark: what one keystroke costs the compiler's queries on the large
//! synthetic site (`SynthSpec::BENCH`, 10 files), in process, without the language server.
//!
//! Loads the site into one salsa database, computes `site_diagnostics` once, then applies
//! one-character edits to one part file — alternately deleting a character of a rule's
//! source name (the name no longer resolves: E0101 appears) and putting it back — and times
//! `site_diagnostics` after each edit, including setting the new text (which frees what the
//! edit invalidated). Each edited result is compared with the expected error count, so a
//! wrong incremental answer fails the benchmark rather than speeding it up.
//!
//! Run with `cargo bench --bench edit`. `PALISADE_BENCH_EDITS` (default 400) sets the number
//! of edits. The language server's own end-to-end figure is `tests/bench/lsp_bench.py`.

use palisade_compiler::db::{site_diagnostics, Database};
use palisade_compiler::site;
use palisade_compiler::synth::{generate, SynthSpec};
use salsa::Setter;
use std::time::{Duration, Instant};

const TODAY: &str = "2026-01-01";

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Nearest-rank percentile of the samples, in milliseconds.
fn percentile(samples: &[Duration], q: f64) -> f64 {
    let mut v: Vec<f64> = samples.iter().map(|d| ms(*d)).collect();
    v.sort_by(f64::total_cmp);
    let rank = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len().max(1));
    v.get(rank - 1).copied().unwrap_or(f64::NAN)
}

fn main() -> Result<(), String> {
    let edits: usize = std::env::var("PALISADE_BENCH_EDITS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(400)
        .max(2);
    let files = generate(&SynthSpec::BENCH);
    let loaded = site::load_in_memory(std::path::Path::new("/synthetic"), &files)
        .map_err(|e| e.to_string())?;
    let mut db = Database::default();
    let s = site::into_site(&db, loaded, TODAY.to_string());
    let t = Instant::now();
    let base_errors = site_diagnostics(&db, s)
        .iter()
        .filter(|d| d.is_error())
        .count();
    let spec = SynthSpec::BENCH;
    println!(
        "edit benchmark: {} zones, {} assets, {} conduits, {} rules, {} files; first check {:.1} ms",
        spec.zones,
        spec.assets,
        spec.conduits,
        spec.rules,
        files.len(),
        ms(t.elapsed())
    );
    if base_errors > 0 {
        return Err(format!("the synthetic site has {base_errors} error(s)"));
    }

    // The first part file (the site file holds no conduits).
    let file = s
        .files(&db)
        .iter()
        .copied()
        .find(|f| f.path(&db).ends_with("part_01.pal"))
        .ok_or("no part_01.pal in the synthetic site")?;
    let mut text = file.text(&db).clone();
    let starts: Vec<usize> = text
        .match_indices("  allow ")
        .map(|(i, _)| i + "  allow ".len())
        // Names only: a digit dropped from an address may leave a valid address.
        .filter(|&i| text[i..].starts_with(|c: char| c.is_ascii_lowercase()))
        .map(|i| i + 1)
        .collect();
    if starts.is_empty() {
        return Err("no rule in part_01.pal".into());
    }

    let mut times = Vec::with_capacity(edits);
    let mut removed = ' ';
    let mut at = 0usize;
    // A fixed pseudo-random walk over the rules (xorshift), the same on every run.
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    for i in 0..edits {
        let breaking = i % 2 == 0;
        if breaking {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            at = starts
                .get((state % starts.len() as u64) as usize)
                .copied()
                .ok_or("rule index out of range")?;
            removed = text[at..].chars().next().ok_or("edit past the end")?;
            text.replace_range(at..at + removed.len_utf8(), "");
        } else {
            text.insert(at, removed);
        }
        let t = Instant::now();
        file.set_text(&mut db).to(text.clone());
        let errors = site_diagnostics(&db, s)
            .iter()
            .filter(|d| d.is_error())
            .count();
        times.push(t.elapsed());
        let want_broken = breaking;
        if (errors > 0) != want_broken {
            return Err(format!(
                "edit {i}: {errors} error(s), expected {}",
                if want_broken { "some" } else { "none" }
            ));
        }
    }
    println!(
        "one-character edit -> site diagnostics ({edits} edits): p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms",
        percentile(&times, 0.5),
        percentile(&times, 0.95),
        percentile(&times, 1.0)
    );
    Ok(())
}
