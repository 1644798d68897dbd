//! The generated sites check clean, are deterministic and have the asked size.

use super::*;
use crate::db::{site_diagnostics, Database};
use crate::site::{into_site, load_in_memory};
use std::path::Path;

/// Load the generated files through the real loader (imports, `use std.…`) and check.
fn check(spec: &SynthSpec) -> Vec<crate::Diagnostic> {
    let loaded = load_in_memory(Path::new("synth"), &generate(spec));
    assert!(loaded.is_ok());
    let db = Database::default();
    let site = into_site(&db, loaded.unwrap_or_default(), "2026-01-01".into());
    site_diagnostics(&db, site).clone()
}

fn assert_clean(spec: SynthSpec, max_warnings: usize) {
    let diags = check(&spec);
    let errors: Vec<String> = diags
        .iter()
        .filter(|d| d.is_error())
        .map(|d| format!("{} {} {:?}", d.code, d.message, d.primary_location()))
        .collect();
    assert!(
        errors.is_empty(),
        "{spec:?}: {} errors, first: {:#?}",
        errors.len(),
        errors.iter().take(10).collect::<Vec<_>>()
    );
    let warnings: Vec<String> = diags
        .iter()
        .map(|d| format!("{} {}", d.code, d.message))
        .collect();
    assert!(warnings.len() <= max_warnings, "{spec:?}: {warnings:#?}");
}

#[test]
fn small_site_checks_clean() {
    assert_clean(
        SynthSpec {
            zones: 6,
            assets: 30,
            conduits: 8,
            rules: 40,
            files: 2,
            seed: 7,
        },
        0,
    );
}

#[test]
fn medium_site_checks_clean() {
    assert_clean(
        SynthSpec {
            zones: 40,
            assets: 800,
            conduits: 300,
            rules: 2_500,
            files: 4,
            seed: 42,
        },
        0,
    );
}

#[test]
fn tiny_and_odd_sizes_check_clean() {
    for (zones, assets, conduits, rules, files) in [
        (1, 0, 1, 1, 1),
        (2, 3, 2, 5, 3),
        (3, 10, 5, 5, 1),
        (9, 17, 20, 21, 5),
        (17, 100, 60, 600, 12),
    ] {
        assert_clean(
            SynthSpec {
                zones,
                assets,
                conduits,
                rules,
                files,
                seed: 3,
            },
            0,
        );
    }
}

/// The checker answers "is this conduit's path there" from connected components; they
/// must agree with a search for every pair of zones.
#[test]
fn components_agree_with_search() {
    let files: Vec<(String, String)> = generate(&SynthSpec {
        zones: 30,
        assets: 100,
        conduits: 40,
        rules: 80,
        files: 1,
        seed: 5,
    });
    let std_files = crate::stdlib::MODULES
        .iter()
        .map(|(_, path, text)| (path.to_string(), text.to_string(), true));
    let all: Vec<(String, String, bool)> = std_files
        .chain(files.into_iter().map(|(p, t)| (p, t, false)))
        .collect();
    let parsed: Vec<palisade_syntax::Parsed> = all
        .iter()
        .map(|(_, t, _)| palisade_syntax::parse(t))
        .collect();
    let inputs: Vec<crate::lower::LowerInput<'_>> = all
        .iter()
        .zip(&parsed)
        .map(|((path, text, std), p)| crate::lower::LowerInput {
            path,
            text,
            sha256: "",
            std: *std,
            file: &p.file,
        })
        .collect();
    let policy = crate::lower::lower(&inputs).policy;
    // Cut one area off the backbone so that there is more than one component.
    let mut cut = policy.clone();
    if let Some(fw) = cut.devices.iter_mut().find(|d| d.name == "fw_crude") {
        fw.interfaces.retain(|i| i.name != "eth0");
    }
    for p in [&policy, &cut] {
        let topo = crate::topology::Topology::new(p);
        let comp = topo.connectivity();
        let ids: Vec<crate::ir::ZoneId> =
            (0..p.zones.len() as u32).map(crate::ir::ZoneId).collect();
        for a in &ids {
            for b in ids.iter().filter(|b| *b != a) {
                let joined = comp.joined(*a, *b);
                assert_eq!(joined, topo.connected(*a, *b), "{a:?} {b:?}");
            }
        }
    }
}

#[test]
fn deterministic_and_sized() {
    let spec = SynthSpec {
        zones: 30,
        assets: 500,
        conduits: 120,
        rules: 1_000,
        files: 3,
        seed: 9,
    };
    let a = generate(&spec);
    assert_eq!(a, generate(&spec));
    assert_ne!(a, generate(&SynthSpec { seed: 10, ..spec }));
    assert_eq!(a.len(), 3);
    let text: String = a.iter().map(|(_, t)| t.as_str()).collect();
    assert_eq!(text.matches("\nzone ").count(), 30);
    assert_eq!(text.matches("  asset ").count(), 500);
    assert_eq!(text.matches("\nconduit ").count(), 120);
    assert_eq!(text.matches("  allow ").count(), 1_000);
}
