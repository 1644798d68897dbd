//! Properties of the whole front end, with proptest (the way Cedar tests its policy set):
//!
//! - loading, parsing, lowering and checking never panic, whatever the text: arbitrary
//!   characters, soups of Palisade tokens, random sites built from item templates, and the
//!   examples with lines and token-sized slices deleted, duplicated, swapped or inserted;
//! - every diagnostic they produce is well formed: a code that `palisade explain` knows, a
//!   message, one primary label, labels inside their files on character boundaries, and all
//!   three renderings succeed;
//! - incremental equals from scratch: after each of a sequence of random edits applied to one
//!   file through salsa's setter, the diagnostics and the IR equal those of a fresh database;
//! - staged equals one-shot: the database lowers a site in stages (a scope, then each file's
//!   conduits against the scope without source positions); its diagnostics and IR equal
//!   those of lowering and checking the whole site in one pass;
//! - an edit to one file's rules lowers that file's conduits again, and no other file's.
//!
//! Case counts are kept small so that the whole test binary stays well under a minute in a
//! debug build; raise them locally with `PROPTEST_CASES=2000`.

use crate::support::{self, TODAY};
use palisade_compiler::checks::{self, CheckContext};
use palisade_compiler::codes;
use palisade_compiler::db::{
    policy_ir, scope_semantics, site_diagnostics, syntax_diagnostics, Database, SourceFile,
};
use palisade_compiler::diagnostic::normalize;
use palisade_compiler::ir::Policy;
use palisade_compiler::lower::{self, LowerInput};
use palisade_compiler::render::{self, SourceMap};
use palisade_compiler::site::{self, Loaded, LoadedFile};
use palisade_compiler::{stdlib, Diagnostic};
use proptest::prelude::*;
use salsa::Setter;
use std::path::PathBuf;
use std::sync::OnceLock;

// ------------------------------------------------------------------ sites

/// Every standard module (as if the site said `use std.services`) and one site file.
fn with_std(path: &str, text: &str) -> Loaded {
    let mut loaded = Loaded::default();
    for (_, p, t) in stdlib::MODULES {
        loaded.files.push(LoadedFile {
            path: p.to_string(),
            text: t.to_string(),
            std: true,
        });
    }
    loaded.files.push(LoadedFile {
        path: path.into(),
        text: text.into(),
        std: false,
    });
    loaded
}

/// The example sites as loaded from disk (standard modules first).
fn examples() -> &'static [Loaded] {
    static EXAMPLES: OnceLock<Vec<Loaded>> = OnceLock::new();
    EXAMPLES.get_or_init(|| {
        let mut dirs: Vec<PathBuf> = std::fs::read_dir("examples")
            .expect("the examples directory")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_dir())
            .collect();
        dirs.sort();
        let sites: Vec<Loaded> = dirs
            .iter()
            .filter_map(|d| site::load(std::slice::from_ref(d)).ok())
            .collect();
        assert!(!sites.is_empty(), "no example could be loaded");
        sites
    })
}

/// Check a site in a fresh database.
fn from_scratch(loaded: &Loaded) -> (Vec<Diagnostic>, Policy) {
    let db = Database::default();
    let site = site::into_site(&db, loaded.clone(), TODAY.into());
    (
        site_diagnostics(&db, site).clone(),
        policy_ir(&db, site).clone(),
    )
}

/// Check a site without the database's stages: lower every file in one pass (no scope
/// without positions, no per-file queries) and check the assembled policy.
fn one_shot(loaded: &Loaded) -> (Vec<Diagnostic>, Policy) {
    let db = Database::default();
    let site = site::into_site(&db, loaded.clone(), TODAY.into());
    let parsed: Vec<palisade_syntax::Parsed> = loaded
        .files
        .iter()
        .map(|f| palisade_syntax::parse(&f.text))
        .collect();
    let hashes: Vec<String> = loaded
        .files
        .iter()
        .map(|f| palisade_compiler::hash::sha256_hex(f.text.as_bytes()))
        .collect();
    let inputs: Vec<LowerInput<'_>> = loaded
        .files
        .iter()
        .zip(&parsed)
        .zip(&hashes)
        .map(|((f, p), h)| LowerInput {
            path: &f.path,
            text: &f.text,
            sha256: h,
            std: f.std,
            file: &p.file,
        })
        .collect();
    let l = lower::lower(&inputs);
    let mut diags = loaded.errors.clone();
    for f in site.files(&db) {
        diags.extend(syntax_diagnostics(&db, *f).iter().cloned());
    }
    diags.extend(l.diagnostics);
    let ctx = CheckContext {
        today: TODAY.into(),
    };
    diags.extend(checks::check(&l.policy, &ctx));
    normalize(&mut diags);
    (diags, l.policy)
}

/// Check a site, hold its diagnostics to the rules every diagnostic obeys, and compare the
/// staged result with the one-shot one.
fn check_sound(loaded: &Loaded) -> Result<(), TestCaseError> {
    let (diags, policy) = from_scratch(loaded);
    let (reference, reference_policy) = one_shot(loaded);
    prop_assert!(
        diags == reference,
        "staged and one-shot diagnostics differ:\nstaged {diags:#?}\none-shot {reference:#?}"
    );
    prop_assert!(policy == reference_policy, "staged and one-shot IR differ");
    let mut sources = SourceMap::default();
    for f in &loaded.files {
        sources.add(&f.path, &f.text);
    }
    for d in &diags {
        let shown = render::short(std::slice::from_ref(d), &sources);
        prop_assert!(codes::lookup(&d.code).is_some(), "unknown code: {shown}");
        prop_assert!(!d.message.trim().is_empty(), "empty message: {d:?}");
        prop_assert_eq!(
            d.labels.iter().filter(|l| l.primary).count(),
            1,
            "not one primary label: {}",
            shown
        );
        for l in &d.labels {
            let file = loaded.files.iter().find(|f| f.path == l.location.file);
            prop_assert!(file.is_some(), "a label in an unknown file: {shown}");
            let text = &file.map(|f| f.text.as_str()).unwrap_or_default();
            let (start, end) = (l.location.start as usize, l.location.end as usize);
            prop_assert!(
                start <= end && end <= text.len(),
                "label {start}..{end} outside a file of {} bytes: {shown}",
                text.len()
            );
            prop_assert!(
                text.is_char_boundary(start) && text.is_char_boundary(end),
                "label {start}..{end} splits a character: {shown}"
            );
        }
    }
    let human = support::human(&diags, &sources);
    prop_assert!(diags.is_empty() || !human.is_empty());
    let json: serde_json::Value = serde_json::from_str(&render::json(&diags, &sources))
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(
        json["diagnostics"].as_array().map(Vec::len),
        Some(diags.len())
    );
    Ok(())
}

// ------------------------------------------------------------------ generators

/// Words of the language and a few that are almost words.
const TOKENS: &[&str] = &[
    "site",
    "timezone",
    "use",
    "const",
    "role",
    "person",
    "roles",
    "service",
    "protocol",
    "function",
    "access",
    "group",
    "zone",
    "security_level",
    "network",
    "asset",
    "at",
    "kind",
    "capability",
    "interface",
    "bridge",
    "compensating",
    "covers",
    "relies_on",
    "because",
    "owner",
    "expires",
    "conduit",
    "allow",
    "when",
    "workorder",
    "unidirectional",
    "log",
    "firewall",
    "gateway",
    "target",
    "faces",
    "inline",
    "between",
    "and",
    "or",
    "of",
    "link",
    "scope",
    "requested_by",
    "approved_by",
    "separation_of_duties",
    "prerequisite",
    "window",
    "max_duration",
    "emergency",
    "review_after",
    "opens",
    "dataflow",
    "integrity",
    "confidentiality",
    "push",
    "pull",
    "assert",
    "no_path",
    "only_via",
    "isolated",
    "reachable",
    "approvals",
    "in",
    "during",
    "except",
    "base",
    "any",
    "external",
    "description",
    "inspect",
    "provides",
    "broadcast",
    "multicast",
    "layer2",
    "isolation",
    "{",
    "}",
    "[",
    "]",
    "(",
    ")",
    ",",
    ";",
    ":",
    ".",
    "=",
    "/",
    "-",
    "->",
    "<->",
    "\n",
    "\n",
    "\n",
    "a",
    "b",
    "control",
    "plc",
    "modbus",
    "std",
    "services",
    "tcp",
    "udp",
    "icmp",
    "ethertype",
    "FR1",
    "FR7",
    "FR9",
    "Mon",
    "Fri",
    "nftables",
    "suricata",
    "\"UTC\"",
    "\"Europe/Rotterdam\"",
    "\"x \\\" y\"",
    "\"\"",
    "0",
    "3",
    "502",
    "65536",
    "0x8892",
    "99999999999999999999999",
    "10.0.0.0/24",
    "10.0.0.7/24",
    "10.0.0.5",
    "10.0.0.1-10.0.0.9",
    "10.0.0.300",
    "fd00::/64",
    "fd00::1",
    "::",
    "06:00",
    "25:00",
    "2027-12-31",
    "2027-02-30",
    "4h",
    "0s",
    "§",
    "\"",
    "// c\n",
    "/* c */",
    "é",
];

fn token_soup() -> impl Strategy<Value = String> {
    prop::collection::vec(
        (
            prop::sample::select(TOKENS),
            prop::sample::select(&[" ", " ", "", "\n"][..]),
        ),
        0..150,
    )
    .prop_map(|toks| toks.into_iter().flat_map(|(t, sep)| [t, sep]).collect())
}

/// Item templates. A hole `{x}` takes a word from the pool of that letter (see `pool`); the
/// pools hold mostly names of the right kind, plus a few that collide with other kinds.
const TEMPLATES: &[&str] = &[
    "zone {z} { security_level {l}; network {N}; asset {a} at {A} { kind {k}; capability {l} } }",
    "zone {z} { security_level {l}; network {N}; network {N} }",
    "zone {z} { security_level [FR1: {l}, FR2: 1, FR3: 1, FR4: 1, FR5: 1, FR6: 1, FR7: {l}]; network {N}; asset {a} at {A} { interface {z} at {A}; bridge } }",
    "zone {z} { security_level {l}; network {N}; asset {a} at {A} { capability {l}; compensating { covers [FR1, FR{l}]; relies_on {R}; because \"x\"; owner \"o\"; expires {D} } } }",
    "conduit {c}: {z} -> {z} { allow {e} -> {e} : {s} }",
    "conduit {c}: {z} -> {z} { log; allow {e} -> {e} : {s}, {s}; allow {e} -> {e} : {s} }",
    "conduit {c}: {z} <-> {z} { unidirectional; allow {e} -> {e} : {s} when workorder {w} }",
    "conduit {c}: {z} -> {z} { allow {e} -> {e} : {s} { function [{f}, {l}]; unit [1-{l}]; register [0-99] } }",
    "firewall {d} { target {t}; interface \"eth{l}\" faces {z}, {z}; interface \"eth9\" faces {z} }",
    "gateway {d} { target {t}; inline between {z} and {z} }",
    "link {n}: {z}, {z}",
    "service {s} = {p}",
    "service {s} = [{s}, {s}]",
    "service {s} = {p} { inspect {i}; {b} }",
    "group {g} = [{e}, {e}]",
    "const {n} = {V}",
    "role {r}",
    "person \"{r}\" { roles [{r}, {r}] }",
    "workorder {w} { scope [{z}, {a}]; requested_by {r}; approved_by {r} and {r}; separation_of_duties; opens [{c}]; window Mon-{n} 06:00-18:00; max_duration 1h }",
    "workorder {w} { emergency; scope {z}; requested_by {r}; approved_by {l} of [{r}, {r}]; max_duration 4h; review_after 1d }",
    "dataflow {n}: {a} -> {a} (push) -> {a} (pull) { integrity }",
    "dataflow {n}: {a} -> {a} { confidentiality }",
    "assert no_path {z} -> {z} except during {w}",
    "assert only_via {d}: {z} -> {a}",
    "assert reachable {a} -> {z} : {s}",
    "assert security_level {z}",
    "assert approvals {w}",
    "protocol {i} { function {f} = {l} { access {x} } }",
    "profile default { require {n} { min_level {l} }; disable {n} }",
    "use std.{n}",
    "use \"{n}.pal\"",
];

fn pool(hole: u8) -> &'static [&'static str] {
    match hole {
        b'z' => &["ops", "control", "safety", "external", "ops", "plc"],
        b'a' => &["plc", "hmi", "rtu", "ops", "eng"],
        b's' => &[
            "modbus",
            "https",
            "dnp3",
            "syslog_udp",
            "profinet_dcp",
            "web",
            "plc",
        ],
        b'r' => &["tech", "engineer", "safety_engineer", "hmi"],
        b'w' => &["update", "break_glass", "plc"],
        b'c' => &["supervision", "diode", "ops"],
        b'd' => &["fw", "gw", "hmi"],
        b'g' => &["historians", "plc"],
        b'e' => &[
            "plc",
            "hmi",
            "rtu",
            "ops",
            "control",
            "any",
            "external",
            "historians",
            "10.40.0.5",
            "10.30.0.0/24",
            "fd00:40::5",
            "10.40.0.9-10.40.0.1",
            "c",
        ],
        b'N' => &[
            "10.30.0.0/24",
            "10.40.0.0/24",
            "10.50.0.0/24",
            "10.40.0.0/16",
            "10.40.0.7/24",
            "fd00:40::/64",
            "127.0.0.0/8",
            "c",
            "10.40.0.5",
        ],
        b'A' => &[
            "10.30.0.5",
            "10.40.0.5",
            "10.50.0.5",
            "fd00:40::5",
            "10.40.0.10-10.40.0.20",
            "10.40.0.9-10.40.0.1",
            "fd00::1-10.0.0.1",
            "224.0.0.1",
            "c",
        ],
        b'V' => &[
            "10.40.0.0/24",
            "10.40.0.5",
            "10.40.0.1-10.40.0.9",
            "502",
            "\"text\"",
        ],
        b'l' => &["0", "1", "2", "3", "4", "5", "300"],
        b'p' => &[
            "tcp/502",
            "udp/47808",
            "tcp/600-500",
            "tcp/70000",
            "icmp/3/4",
            "icmp/300",
            "proto/47",
            "ethertype/0x8892",
            "tcp",
            "sctp/1",
            "tcp/c",
            "icmpv6/128",
        ],
        b'k' => &["plc", "hmi", "toaster", "jump_host"],
        b't' => &["nftables", "suricata", "iptables", "allowlist_json", "pf"],
        b'i' => &["modbus", "dnp3", "cip", "opcua"],
        b'f' => &[
            "read_coils",
            "write_single_register",
            "read",
            "direct_operate",
            "bogus",
        ],
        b'x' => &["read", "write", "diagnostic", "destroy"],
        b'b' => &["broadcast", "multicast", "layer2", "description \"d\""],
        b'R' => &[
            "firewall fw",
            "gateway gw",
            "conduit supervision",
            "isolation",
            "gateway fw",
        ],
        b'D' => &["2025-01-01", "2026-11-21", "2026-11-22", "2099-12-31"],
        _ => &[
            "a",
            "b",
            "c",
            "plc",
            "modbus",
            "read_coils",
            "FR1",
            "Fri",
            "services",
            "no_broad_rules",
            "inspected_writes",
        ],
    }
}

fn fill(template: &str, picks: &[u8]) -> String {
    let mut out = String::new();
    let mut rest = template;
    let mut i = 0;
    while let Some(at) = rest.find('{') {
        let hole = rest
            .as_bytes()
            .get(at + 1..at + 3)
            .filter(|h| h[0].is_ascii_alphabetic() && h[1] == b'}');
        let Some(hole) = hole else {
            out.push_str(&rest[..=at]);
            rest = &rest[at + 1..];
            continue;
        };
        out.push_str(&rest[..at]);
        let words = pool(hole[0]);
        let pick = picks.get(i % picks.len().max(1)).copied().unwrap_or(0) as usize
            + i / picks.len().max(1);
        out.push_str(words[pick % words.len()]);
        i += 1;
        rest = &rest[at + 3..];
    }
    out.push_str(rest);
    out
}

/// A random site: a `site` item (usually) and items from the templates with names drawn from
/// small pools, so that names collide, resolve to the wrong kind, or resolve correctly.
fn random_site() -> impl Strategy<Value = String> {
    (
        prop::bool::weighted(0.9),
        prop::collection::vec(
            (
                0..TEMPLATES.len(),
                prop::collection::vec(any::<u8>(), 1..12),
            ),
            0..20,
        ),
    )
        .prop_map(|(site, items)| {
            let mut text = if site {
                "site \"Random\" { timezone \"UTC\" }\n".to_string()
            } else {
                String::new()
            };
            for (t, picks) in items {
                text.push_str(&fill(TEMPLATES[t], &picks));
                text.push('\n');
            }
            text
        })
}

/// One edit of a file's text. Indices are taken modulo the text's lines or length.
#[derive(Clone, Debug)]
enum Edit {
    DeleteLine(usize),
    DuplicateLine(usize),
    SwapLines(usize, usize),
    /// Delete up to this many bytes (a token's worth) at a position.
    DeleteSlice(usize, usize),
    /// Insert a token at a position.
    Insert(usize, &'static str),
    /// Put back the file's original text (salsa may then reuse old results).
    Restore,
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        3 => any::<usize>().prop_map(Edit::DeleteLine),
        2 => any::<usize>().prop_map(Edit::DuplicateLine),
        2 => (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Edit::SwapLines(a, b)),
        4 => (any::<usize>(), 1..12usize).prop_map(|(a, n)| Edit::DeleteSlice(a, n)),
        4 => (any::<usize>(), prop::sample::select(TOKENS)).prop_map(|(a, t)| Edit::Insert(a, t)),
        1 => Just(Edit::Restore),
    ]
}

fn floor_boundary(text: &str, mut i: usize) -> usize {
    i = i.min(text.len());
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn apply(text: &str, original: &str, edit: &Edit) -> String {
    let mut lines: Vec<&str> = text.split_inclusive('\n').collect();
    let n = lines.len().max(1);
    match edit {
        Edit::DeleteLine(i) if !lines.is_empty() => {
            lines.remove(i % n);
        }
        Edit::DuplicateLine(i) if !lines.is_empty() => {
            let l = lines[i % n];
            lines.insert(i % n, l);
        }
        Edit::SwapLines(a, b) if !lines.is_empty() => lines.swap(a % n, b % n),
        Edit::DeleteSlice(at, len) => {
            let start = floor_boundary(text, at % (text.len() + 1));
            let end = floor_boundary(text, start + len);
            return format!("{}{}", &text[..start], &text[end..]);
        }
        Edit::Insert(at, tok) => {
            let at = floor_boundary(text, at % (text.len() + 1));
            return format!("{} {tok} {}", &text[..at], &text[at..]);
        }
        Edit::Restore => return original.to_string(),
        _ => {}
    }
    lines.concat()
}

/// `n` cases, or `PROPTEST_CASES` when set (for a longer hunt than CI can afford).
fn cases(n: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(n);
    ProptestConfig {
        cases,
        max_shrink_iters: 2000,
        ..ProptestConfig::default()
    }
}

// ------------------------------------------------------------------ properties

proptest! {
    #![proptest_config(cases(96))]

    #[test]
    fn no_panic_on_arbitrary_text(text in "\\PC{0,300}|(?s).{0,300}") {
        check_sound(&with_std("fuzz.pal", &text))?;
    }

    #[test]
    fn no_panic_on_token_soup(text in token_soup()) {
        check_sound(&with_std("soup.pal", &text))?;
    }

    #[test]
    fn no_panic_on_random_sites(text in random_site()) {
        check_sound(&with_std("random.pal", &text))?;
    }
}

proptest! {
    #![proptest_config(cases(40))]

    #[test]
    fn no_panic_on_mutated_examples(
        site in any::<prop::sample::Index>(),
        file in any::<prop::sample::Index>(),
        edits in prop::collection::vec(edit(), 1..6),
    ) {
        let mut loaded = site.get(examples()).clone();
        let own: Vec<usize> = (0..loaded.files.len()).filter(|i| !loaded.files[*i].std).collect();
        let f = *file.get(&own);
        let original = loaded.files[f].text.clone();
        for e in &edits {
            loaded.files[f].text = apply(&loaded.files[f].text, &original, e);
        }
        check_sound(&loaded)?;
    }
}

proptest! {
    #![proptest_config(cases(12))]

    /// The database after a sequence of edits answers as a fresh one does.
    #[test]
    fn incremental_equals_from_scratch(
        site in any::<prop::sample::Index>(),
        steps in prop::collection::vec((any::<prop::sample::Index>(), edit()), 1..8),
    ) {
        let loaded = site.get(examples()).clone();
        let mut db = Database::default();
        let files: Vec<SourceFile> = loaded.files.iter().map(|f| SourceFile::new(&db, f.path.clone(), f.text.clone(), f.std)).collect();
        let site = palisade_compiler::db::Site::new(&db, files.clone(), loaded.errors.clone(), TODAY.to_string());
        let own: Vec<usize> = (0..files.len()).filter(|i| !loaded.files[*i].std).collect();
        let mut current = loaded.clone();
        // Warm every query before the first edit, as the language server would have.
        let _ = site_diagnostics(&db, site);
        for (which, e) in &steps {
            let f = *which.get(&own);
            let new = apply(&current.files[f].text, &loaded.files[f].text, e);
            current.files[f].text = new.clone();
            files[f].set_text(&mut db).to(new);
            let incremental = (site_diagnostics(&db, site).clone(), policy_ir(&db, site).clone());
            let fresh = from_scratch(&current);
            prop_assert!(incremental.0 == fresh.0, "diagnostics differ after {e:?}:\nincremental {:#?}\nfresh {:#?}", incremental.0, fresh.0);
            prop_assert!(incremental.1 == fresh.1, "the IR differs after {e:?}");
        }
    }
}

#[test]
fn the_examples_lower_the_same_staged_and_in_one_pass() {
    for loaded in examples() {
        let (diags, policy) = from_scratch(loaded);
        let (reference, reference_policy) = one_shot(loaded);
        assert_eq!(diags, reference);
        assert!(policy == reference_policy, "the IR differs");
    }
}

/// A small multi-file synthetic site (standard modules first, as loading gives them).
fn synthetic(files: usize) -> Loaded {
    let spec = palisade_compiler::synth::SynthSpec {
        zones: 12,
        assets: 60,
        conduits: 30,
        rules: 120,
        files,
        seed: 7,
    };
    let files = palisade_compiler::synth::generate(&spec);
    site::load_in_memory(std::path::Path::new("/synthetic"), &files)
        .expect("the synthetic site loads")
}

#[test]
fn moving_text_leaves_the_scope_without_positions_unchanged() {
    let loaded = synthetic(3);
    let mut shifted = loaded.clone();
    for f in shifted.files.iter_mut().filter(|f| !f.std) {
        f.text = format!("// moved down a line\n\n{}", f.text);
    }
    let db = Database::default();
    let a = site::into_site(&db, loaded, TODAY.into());
    let b = site::into_site(&db, shifted, TODAY.into());
    assert!(site_diagnostics(&db, a).is_empty());
    // Positions differ (the policies do), the scopes without them do not.
    assert!(policy_ir(&db, a) != policy_ir(&db, b));
    assert!(scope_semantics(&db, a) == scope_semantics(&db, b));
}

#[test]
fn an_edit_to_a_rule_lowers_only_its_own_file_again() {
    use std::sync::{Arc, Mutex};
    let loaded = synthetic(4);
    let ran: Arc<Mutex<Vec<String>>> = Arc::default();
    let log = ran.clone();
    let mut db = Database::with_events(move |e| {
        if let salsa::EventKind::WillExecute { database_key } = e.kind {
            if let Ok(mut log) = log.lock() {
                log.push(format!("{database_key:?}"));
            }
        }
    });
    let site = site::into_site(&db, loaded.clone(), TODAY.into());
    assert!(site_diagnostics(&db, site).is_empty());
    let count = |ran: &Arc<Mutex<Vec<String>>>, query: &str| {
        ran.lock()
            .map(|l| l.iter().filter(|k| k.starts_with(query)).count())
            .unwrap_or(0)
    };
    let conduit_files = loaded
        .files
        .iter()
        .filter(|f| f.text.contains("\nconduit "))
        .count();
    assert!(conduit_files >= 2, "the site spreads conduits over files");
    assert_eq!(count(&ran, "file_conduits("), loaded.files.len());

    // Break a rule's source name in one part file, then mend it.
    let (i, part) = loaded
        .files
        .iter()
        .enumerate()
        .find(|(_, f)| f.path.ends_with("part_02.pal"))
        .expect("a second part file");
    let at = part.text.find("  allow ").expect("a rule") + "  allow ".len() + 1;
    let mut broken = part.text.clone();
    broken.remove(at);
    let file = site.files(&db)[i];
    for (text, errors) in [(broken, true), (part.text.clone(), false)] {
        ran.lock().expect("the log").clear();
        file.set_text(&mut db).to(text);
        let diags = site_diagnostics(&db, site);
        assert_eq!(diags.iter().any(Diagnostic::is_error), errors, "{diags:#?}");
        assert_eq!(
            count(&ran, "file_conduits("),
            1,
            "only the edited file's conduits are lowered again: {:?}",
            ran.lock().expect("the log")
        );
        assert_eq!(count(&ran, "file_checks("), 1);
        assert_eq!(count(&ran, "parsed("), 1);
    }
}

#[test]
fn the_edits_do_what_they_say() {
    let t = "a\nb\nc\n";
    assert_eq!(apply(t, t, &Edit::DeleteLine(4)), "a\nc\n");
    assert_eq!(apply(t, t, &Edit::DuplicateLine(0)), "a\na\nb\nc\n");
    assert_eq!(apply(t, t, &Edit::SwapLines(0, 2)), "c\nb\na\n");
    assert_eq!(apply(t, t, &Edit::DeleteSlice(1, 3)), "ac\n");
    assert_eq!(apply("é", "é", &Edit::DeleteSlice(1, 1)), "é");
    assert_eq!(apply(t, t, &Edit::Insert(2, "zone")), "a\n zone b\nc\n");
    assert_eq!(apply("x", t, &Edit::Restore), t);
    assert_eq!(
        fill("zone {z} { network {N} }", &[1, 0]),
        "zone control { network 10.30.0.0/24 }"
    );
}
