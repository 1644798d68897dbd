//! The salsa database shared by the command line and the language server: every pass is a
//! query over the site's source files.

use crate::checks::{self, CheckContext, RuleFacts};
use crate::diagnostic::{normalize, Diagnostic, Location};
use crate::ir::{Policy, WorkOrderId};
use crate::lower::{assemble, lower_file_conduits, lower_scope, FileConduits, LowerInput, Scope};
use palisade_syntax::{parse, Parsed};

#[salsa::input(debug)]
pub struct SourceFile {
    #[returns(ref)]
    pub path: String,
    #[returns(ref)]
    pub text: String,
    /// Part of the embedded standard library.
    pub std: bool,
}

#[salsa::input(debug)]
pub struct Site {
    /// Standard library modules first, then the site's files in load order.
    #[returns(ref)]
    pub files: Vec<SourceFile>,
    /// Problems met while loading (unreadable imports, unknown modules).
    #[returns(ref)]
    pub load_errors: Vec<Diagnostic>,
    /// `YYYY-MM-DD`, for expiry checks.
    #[returns(ref)]
    pub today: String,
}

#[salsa::db]
#[derive(Default, Clone)]
pub struct Database {
    storage: salsa::Storage<Self>,
}

#[salsa::db]
impl salsa::Database for Database {}

impl Database {
    /// A database that reports salsa's events (which query runs, which is reused) to
    /// `callback`: for tracing, and for tests that pin down what an edit recomputes.
    pub fn with_events(callback: impl Fn(salsa::Event) + Send + Sync + 'static) -> Database {
        Database {
            storage: salsa::Storage::new(Some(Box::new(callback))),
        }
    }
}

#[salsa::tracked(returns(ref))]
pub fn parsed(db: &dyn salsa::Database, file: SourceFile) -> Parsed {
    parse(file.text(db))
}

/// The syntax errors of one file as diagnostics.
#[salsa::tracked(returns(ref))]
pub fn syntax_diagnostics(db: &dyn salsa::Database, file: SourceFile) -> Vec<Diagnostic> {
    let path = file.path(db);
    parsed(db, file)
        .errors
        .iter()
        .map(|e| {
            let label = match e.code {
                "E0001" => "unexpected here",
                "E0003" => "not an escape",
                _ => "not part of the language",
            };
            let mut d = Diagnostic::error(e.code, e.message.clone()).primary(
                Location {
                    file: path.clone(),
                    start: e.span.start,
                    end: e.span.end,
                },
                label,
            );
            if e.code == "E0003" {
                d = d.help("strings know only `\\\"` and `\\\\`: write `\\\\` for a backslash");
            }
            if !e.expected.is_empty() {
                let mut expected = e.expected.clone();
                let more = expected.len().saturating_sub(8);
                expected.truncate(8);
                let mut list = expected.join(", ");
                if more > 0 {
                    list.push_str(&format!(" or {more} more"));
                }
                d = d.help(format!("expected {list}"));
            }
            d
        })
        .collect()
}

/// A file's SHA-256 (hex), for the IR's source list and the audit report.
#[salsa::tracked(returns(ref))]
pub fn source_hash(db: &dyn salsa::Database, file: SourceFile) -> String {
    crate::hash::sha256_hex(file.text(db).as_bytes())
}

/// An empty syntax tree: what a file's conduits are lowered with in place of the others.
static NO_ITEMS: palisade_syntax::ast::SourceFile = palisade_syntax::ast::SourceFile {
    items: Vec::new(),
    comments: Vec::new(),
};

fn lower_inputs(db: &dyn salsa::Database, site: Site) -> Vec<LowerInput<'_>> {
    site.files(db)
        .iter()
        .map(|f| LowerInput {
            path: f.path(db),
            text: f.text(db),
            sha256: source_hash(db, *f),
            std: *f.std(db),
            file: &parsed(db, *f).file,
        })
        .collect()
}

/// The site's scope: everything lowered but conduit bodies, with the diagnostics of that.
/// Reads every file, so it runs again after any edit; it is the cheap part of lowering.
#[salsa::tracked(returns(ref))]
pub fn scope(db: &dyn salsa::Database, site: Site) -> ScopeLowered {
    let (scope, diagnostics) = lower_scope(&lower_inputs(db, site));
    ScopeLowered { scope, diagnostics }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScopeLowered {
    pub scope: Scope,
    pub diagnostics: Vec<Diagnostic>,
}

/// The scope without source positions. An edit that changes no declaration leaves it equal
/// (salsa then keeps every query that read it), so conduits of other files are not lowered
/// again.
#[salsa::tracked(returns(ref))]
pub fn scope_semantics(db: &dyn salsa::Database, site: Site) -> Scope {
    scope(db, site).scope.without_positions()
}

/// One file's conduits and rules (rule ids local to the file), with their diagnostics.
///
/// Depends on the file's own text, the other files' paths, and `scope_semantics`; only a
/// diagnostic pointing at a declaration elsewhere reads the positioned scope.
#[salsa::tracked(returns(ref))]
pub fn file_conduits(db: &dyn salsa::Database, site: Site, file: SourceFile) -> FileConduits {
    let files = site.files(db);
    let Some(index) = files.iter().position(|f| *f == file) else {
        return FileConduits::default();
    };
    // Only this file's tree and text: reading another's would make this query depend on it.
    let inputs: Vec<LowerInput<'_>> = files
        .iter()
        .map(|f| {
            let own = *f == file;
            LowerInput {
                path: f.path(db),
                text: if own { f.text(db) } else { "" },
                sha256: "",
                std: *f.std(db),
                file: if own { &parsed(db, *f).file } else { &NO_ITEMS },
            }
        })
        .collect();
    let positioned = || &scope(db, site).scope;
    lower_file_conduits(
        &inputs,
        scope_semantics(db, site),
        index as u32,
        Some(&positioned),
    )
}

/// The checks of one file's conduits and rules, and what the site-wide checks need to know
/// of its rules.
#[salsa::tracked(returns(ref))]
pub fn file_checks(
    db: &dyn salsa::Database,
    site: Site,
    file: SourceFile,
) -> (Vec<Diagnostic>, RuleFacts) {
    let fc = file_conduits(db, site, file);
    if fc.conduits.is_empty() {
        return Default::default();
    }
    let policy = scope_semantics(db, site).policy();
    let workorder_at = |w: WorkOrderId| {
        let p = scope(db, site).scope.policy();
        p.workorder(w)
            .map(|wo| p.location(wo.span))
            .unwrap_or_default()
    };
    (
        checks::check_conduits(policy, &fc.conduits, &fc.rules, &workorder_at),
        checks::rule_facts(policy, &fc.rules),
    )
}

/// The site-wide checks, over the scope and every file's conduits and rule facts.
#[salsa::tracked(returns(ref))]
pub fn site_checks(db: &dyn salsa::Database, site: Site) -> Vec<Diagnostic> {
    let mut facts = RuleFacts::default();
    let mut conduits = Vec::new();
    for f in site.files(db) {
        facts.extend(&file_checks(db, site, *f).1);
        conduits.extend(file_conduits(db, site, *f).conduits.iter());
    }
    let ctx = CheckContext {
        today: site.today(db).clone(),
    };
    checks::check_site(scope(db, site).scope.policy(), conduits, &facts, &ctx)
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoweredSite {
    pub policy: Policy,
    pub diagnostics: Vec<Diagnostic>,
}

/// The whole site lowered into one policy, with the diagnostics of lowering.
#[salsa::tracked(returns(ref))]
pub fn lowered(db: &dyn salsa::Database, site: Site) -> LoweredSite {
    let s = scope(db, site);
    let files: Vec<&FileConduits> = site
        .files(db)
        .iter()
        .map(|f| file_conduits(db, site, *f))
        .collect();
    let mut diagnostics = s.diagnostics.clone();
    diagnostics.extend(files.iter().flat_map(|f| f.diagnostics.iter().cloned()));
    LoweredSite {
        policy: assemble(&s.scope, files.into_iter()),
        diagnostics,
    }
}

/// The resolved policy IR of a site.
pub fn policy_ir(db: &dyn salsa::Database, site: Site) -> &Policy {
    &lowered(db, site).policy
}

/// Every diagnostic of the site: loading, syntax, resolution and checks, sorted.
///
/// Built from the staged queries, not from the assembled policy: after an edit to one
/// file's rules only that file's conduits and checks, the scope and the site-wide checks
/// run again.
#[salsa::tracked(returns(ref))]
pub fn site_diagnostics(db: &dyn salsa::Database, site: Site) -> Vec<Diagnostic> {
    let mut out = site.load_errors(db).clone();
    for f in site.files(db) {
        out.extend(syntax_diagnostics(db, *f).iter().cloned());
    }
    out.extend(scope(db, site).diagnostics.iter().cloned());
    for f in site.files(db) {
        out.extend(file_conduits(db, site, *f).diagnostics.iter().cloned());
        out.extend(file_checks(db, site, *f).0.iter().cloned());
    }
    out.extend(site_checks(db, site).iter().cloned());
    normalize(&mut out);
    out
}
