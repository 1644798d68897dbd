//! Firewall emission benchmark: the three firewall targets (nftables, iptables, Cisco IOS) for
//! every firewall of the large synthetic site (`SynthSpec::BENCH`: 200 zones, 5,000 assets,
//! 2,000 conduits, 20,000 rules).
//!
//! Run with `cargo bench -p palisade-targets --bench emit`. Targets: all three targets in
//! under 1 s and under 300 MB peak memory (resident, measured from after the site is loaded:
//! the peak is reset through /proc/self/clear_refs). Also reports, per target, the output
//! size, and for nftables the worst-case number of rules one packet meets against the number
//! of rule lines a naive one-rule-per-term ruleset would make it walk in order.
//!
//! Environment: `PALISADE_BENCH_RUNS` (default 5) sets the number of timed iterations.

use palisade_compiler::db::{policy_ir, site_diagnostics, Database};
use palisade_compiler::ir::{DeviceId, DeviceKind, Policy, Target};
use palisade_compiler::site;
use palisade_compiler::synth::{generate, SynthSpec};
use palisade_targets::model::enforced as place;
use palisade_targets::readback::nft_text;
use std::path::Path;
use std::time::{Duration, Instant};

const TARGET_WALL_MS: f64 = 1000.0;
const TARGET_PEAK_MB: f64 = 300.0;

fn load(files: &[(String, String)]) -> Result<Policy, String> {
    let loaded = site::load_in_memory(Path::new("/synthetic"), files).map_err(|e| e.to_string())?;
    let db = Database::default();
    let s = site::into_site(&db, loaded, "2026-01-01".into());
    let errors = site_diagnostics(&db, s)
        .iter()
        .filter(|d| d.is_error())
        .count();
    if errors > 0 {
        return Err(format!("the synthetic site has {errors} error(s)"));
    }
    Ok(policy_ir(&db, s).clone())
}

/// The firewalls whose interface names the target accepts (the synthetic site mixes Linux and
/// IOS names, as real plants do).
fn fits(policy: &Policy, firewalls: &[DeviceId], t: Target) -> Vec<DeviceId> {
    firewalls
        .iter()
        .copied()
        .filter(|d| {
            policy.devices.get(d.index()).is_some_and(|dev| {
                dev.interfaces.iter().all(|i| match t {
                    Target::CiscoIos => palisade_targets::cisco::ios_ifname_ok(&i.name),
                    _ => palisade_targets::model::linux_ifname_ok(&i.name),
                })
            })
        })
        .collect()
}

fn status_kb(key: &str) -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    s.lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
}

fn main() -> Result<(), String> {
    let runs: usize = std::env::var("PALISADE_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let spec = SynthSpec::BENCH;
    let policy = load(&generate(&spec))?;
    let firewalls: Vec<DeviceId> = policy
        .devices
        .iter()
        .enumerate()
        .filter(|(_, d)| d.kind == DeviceKind::Firewall)
        .map(|(i, _)| DeviceId(i as u32))
        .collect();
    println!(
        "site: {} rules, {} firewalls",
        policy.rules.len(),
        firewalls.len()
    );
    // Reset the resident-memory peak: what follows is the emitters' own.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let base_kb = status_kb("VmRSS:").unwrap_or(0.0);
    let mut samples: Vec<Duration> = Vec::new();
    let mut sizes = Vec::new();
    for _ in 0..runs {
        let start = Instant::now();
        sizes.clear();
        for t in [Target::Nftables, Target::Iptables, Target::CiscoIos] {
            let devices = fits(&policy, &firewalls, t);
            let files = palisade_targets::emit(&policy, t, &devices)
                .map_err(|d| format!("{t:?}: {:?}", d.first().map(|d| &d.message)))?;
            sizes.push((
                t,
                files.len(),
                files.iter().map(|f| f.contents.len()).sum::<usize>(),
            ));
        }
        samples.push(start.elapsed());
    }
    let peak_kb = status_kb("VmHWM:").unwrap_or(f64::NAN);
    samples.sort();
    let median = samples
        .get(samples.len() / 2)
        .map(|d| d.as_secs_f64() * 1000.0)
        .unwrap_or(f64::NAN);
    let worst = samples
        .last()
        .map(|d| d.as_secs_f64() * 1000.0)
        .unwrap_or(f64::NAN);
    for (t, n, bytes) in &sizes {
        println!(
            "  {:<10} {n:>4} files {:>9.1} KiB",
            t.name(),
            *bytes as f64 / 1024.0
        );
    }
    println!("emit all three targets: median {median:.1} ms, slowest {worst:.1} ms over {runs} runs (target < {TARGET_WALL_MS} ms)");
    let peak_mb = peak_kb / 1024.0;
    println!(
        "peak resident memory during emission: {peak_mb:.1} MB (of which {:.1} MB the loaded site) (target < {TARGET_PEAK_MB} MB)",
        base_kb / 1024.0
    );
    // How many rules one packet meets in the kernel, per firewall, against a naive ruleset.
    let placement = place(&policy);
    let (mut worst_rules, mut naive_rules) = (0usize, 0usize);
    for d in fits(&policy, &firewalls, Target::Nftables) {
        let text = palisade_targets::nftables::ruleset(&policy, &placement, d)
            .map_err(|e| format!("{e:?}"))?;
        let rs = nft_text::read(&text).map_err(|e| e.to_string())?;
        worst_rules = worst_rules.max(rs.worst_case_rules());
        let lines: usize = rs
            .chains
            .values()
            .map(|c| {
                c.rules
                    .iter()
                    .filter(|r| r.verdict == Some(palisade_targets::readback::Verdict::Accept))
                    .count()
            })
            .sum();
        naive_rules = naive_rules.max(lines);
    }
    println!("nftables: a packet meets at most {worst_rules} rules (one set lookup dispatches it); a one-rule-per-term ruleset of the busiest firewall has {naive_rules} accept rules in order");
    let ok = worst <= TARGET_WALL_MS && peak_mb <= TARGET_PEAK_MB;
    println!("{}", if ok { "within target" } else { "OVER TARGET" });
    Ok(())
}
