//! The salsa database shared by the command line and the language server: every pass is a
//! query over the site's source files.

use crate::checks::{self, CheckContext};
use crate::diagnostic::{normalize, Diagnostic, Location};
use crate::ir::Policy;
use crate::lower::{lower, LowerInput};
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
            let unreadable = e.message.starts_with("unreadable");
            let code = if unreadable { "E0002" } else { "E0001" };
            let mut d = Diagnostic::error(code, e.message.clone()).primary(
                Location {
                    file: path.clone(),
                    start: e.span.start,
                    end: e.span.end,
                },
                if unreadable {
                    "not part of the language"
                } else {
                    "unexpected here"
                },
            );
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

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoweredSite {
    pub policy: Policy,
    pub diagnostics: Vec<Diagnostic>,
}

#[salsa::tracked(returns(ref))]
pub fn lowered(db: &dyn salsa::Database, site: Site) -> LoweredSite {
    let files = site.files(db);
    let inputs: Vec<LowerInput<'_>> = files
        .iter()
        .map(|f| LowerInput {
            path: f.path(db),
            text: f.text(db),
            std: *f.std(db),
            file: &parsed(db, *f).file,
        })
        .collect();
    let l = lower(&inputs);
    LoweredSite {
        policy: l.policy,
        diagnostics: l.diagnostics,
    }
}

/// The resolved policy IR of a site.
pub fn policy_ir(db: &dyn salsa::Database, site: Site) -> &Policy {
    &lowered(db, site).policy
}

/// Every diagnostic of the site: loading, syntax, resolution and checks, sorted.
#[salsa::tracked(returns(ref))]
pub fn site_diagnostics(db: &dyn salsa::Database, site: Site) -> Vec<Diagnostic> {
    let mut out = site.load_errors(db).clone();
    for f in site.files(db) {
        out.extend(syntax_diagnostics(db, *f).iter().cloned());
    }
    let low = lowered(db, site);
    out.extend(low.diagnostics.iter().cloned());
    let ctx = CheckContext {
        today: site.today(db).clone(),
    };
    out.extend(checks::check(&low.policy, &ctx));
    normalize(&mut out);
    out
}
