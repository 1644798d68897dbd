//! Proofs over the Palisade policy IR (DESIGN.md §3; what a proof covers: `docs/proofs.md`).
//!
//! # Using it
//!
//! ```no_run
//! # fn f(policy: &palisade_compiler::ir::Policy) {
//! let report = palisade_verify::verify(policy, &palisade_verify::Options::default());
//! for r in &report.results {
//!     println!("{} [{}]: {:?}", r.property, r.scenario, r.verdict);
//! }
//! assert!(report.all_proved() || !report.diagnostics.is_empty());
//! # }
//! ```
//!
//! Only verify a policy without front-end errors (`db::site_diagnostics`): the verifier
//! trusts the checks the front end makes (addresses, conduit endpoints, complete work orders).
//!
//! - [`verify`]`(&Policy, &Options) -> `[`Report`]: every assertion, every check of the
//!   site's profile, SL-A of every zone, approvals, data flows and the rule analysis, each as a
//!   [`PropertyResult`] per scenario (proved, refuted with a counterexample, or unknown);
//!   refutations and warnings also as [`Diagnostic`]s with labels on the source.
//!   [`Report::proof_record`] is the JSON written by `--proof-out`; [`Report::matrix`] is
//!   filled when [`Options::matrix`] is set. [`Options::cancel`] stops a run from another
//!   thread ([`Cancel`]: the language server cancels the proofs of a text that changed); the
//!   report then says [`Report::cancelled`] and proves nothing.
//! - [`scenario::scenarios`]`(&Policy) -> Vec<Scenario>`: base, each work order open on its
//!   scope, all open; [`scenario::Scenario::rules`] lists the rules open in one.
//! - [`packet`]: the header space. [`packet::Packet`] (concrete), [`packet::HeaderBox`]
//!   (exact interval engine), [`packet::SymbolicPacket`] with [`packet::rule_formula`] (Z3),
//!   [`packet::rule_admits`] (evaluator). Translation validation encodes a device's emitted
//!   rules over the same `SymbolicPacket` and compares them with the IR rules of
//!   [`network::Network::device_rules`].
//! - [`network::Network`]: zone pairs, what is enforced between them ([`network::Enforcement`]),
//!   which rules each device carries. [`attack::AttackGraph`]: attack paths per scenario.
//! - [`solver::Queries`]: Z3 on the calling thread, one solver per query, per-query timeout,
//!   optional SMT-LIB dump. The Z3 context is thread-local and not `Send`: call [`verify`] on the
//!   thread that reads the result; the report itself is plain data.

pub mod approvals;
pub mod assertions;
pub mod attack;
pub mod dataflows;
pub mod levels;
pub mod matrix;
pub mod network;
pub mod packet;
pub mod profile;
pub mod report;
pub mod rules;
pub mod scenario;
pub mod solver;
pub mod witness;

use network::Network;
use palisade_compiler::diagnostic::Location;
pub use palisade_compiler::Diagnostic;
use serde::Serialize;
pub use solver::Cancel;
use solver::Queries;
use std::path::PathBuf;
use std::time::Instant;
pub use witness::Counterexample;

/// How to verify.
#[derive(Clone, Debug)]
pub struct Options {
    /// Per-query Z3 timeout in milliseconds; a query that runs out is `unknown`, never proved.
    pub timeout_ms: u32,
    /// Write every solver query as SMT-LIB into this directory.
    pub smt2_dir: Option<PathBuf>,
    /// Compute the zone-to-zone reachability matrix.
    pub matrix: bool,
    /// Set from another thread to stop early; the report then says `cancelled`.
    pub cancel: Cancel,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            timeout_ms: 10_000,
            smt2_dir: None,
            matrix: false,
            cancel: Cancel::default(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Proved,
    Refuted,
    Unknown,
}

impl Verdict {
    pub fn word(self) -> &'static str {
        match self {
            Verdict::Proved => "proved",
            Verdict::Refuted => "refuted",
            Verdict::Unknown => "unknown",
        }
    }
}

/// Where a property comes from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Origin {
    /// An `assert` of the site (index into `Policy::assertions`).
    Assertion { index: usize },
    /// A check of the site's profile.
    Profile { check: String },
    /// Always checked: SL-A of every zone, approvals of every work order, every data flow,
    /// the rule analysis.
    Builtin,
}

/// The verdict of one property in one scenario.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PropertyResult {
    /// The property as written (`no_path enterprise -> control`).
    pub property: String,
    pub origin: Origin,
    /// The scenario's name (`base`, `during X`, `all work orders`, …).
    pub scenario: String,
    pub verdict: Verdict,
    /// What was checked, in a sentence an auditor can follow.
    pub checked: String,
    pub time_ms: f64,
    pub counterexample: Option<Counterexample>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Where the property is written (the assertion, the profile check, the item).
    #[serde(skip)]
    pub location: Option<Location>,
}

/// Counts for the summary line and the benchmark.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Stats {
    pub zones: usize,
    pub rules: usize,
    pub scenarios: usize,
    pub solver_queries: usize,
    pub solver_ms: f64,
    pub total_ms: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    pub site: String,
    pub results: Vec<PropertyResult>,
    /// Refutations, unknowns (errors) and rule-analysis findings (errors and warnings).
    pub diagnostics: Vec<Diagnostic>,
    pub matrix: Option<matrix::Matrix>,
    pub stats: Stats,
    /// Stopped by [`Options::cancel`]: the results are incomplete and prove nothing.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub cancelled: bool,
}

impl Report {
    /// Every property proved and no error diagnostic.
    pub fn all_proved(&self) -> bool {
        !self.cancelled
            && self.results.iter().all(|r| r.verdict == Verdict::Proved)
            && !self.diagnostics.iter().any(|d| d.is_error())
    }

    pub fn count(&self, v: Verdict) -> usize {
        self.results.iter().filter(|r| r.verdict == v).count()
    }
}

/// Shared state of one verification run.
pub struct Ctx<'p> {
    pub policy: &'p palisade_compiler::ir::Policy,
    pub net: &'p Network<'p>,
    pub q: Queries,
    graphs: std::cell::RefCell<
        std::collections::BTreeMap<scenario::ScenarioKind, std::rc::Rc<attack::AttackGraph>>,
    >,
    /// Reliance verdicts of compensating controls: (asset, control, scenario).
    pub(crate) reliance: std::cell::RefCell<RelianceCache>,
}

type RelianceCache = std::collections::BTreeMap<
    (
        palisade_compiler::ir::AssetId,
        palisade_compiler::ir::Span,
        scenario::ScenarioKind,
    ),
    Result<String, String>,
>;

impl<'p> Ctx<'p> {
    /// A context on the calling thread (its own Z3 solver) over a shared network model.
    pub fn new(net: &'p Network<'p>, options: &Options, label: &str) -> Ctx<'p> {
        Ctx {
            policy: net.policy,
            net,
            q: Queries::new(
                options.timeout_ms,
                options.smt2_dir.clone(),
                label,
                options.cancel.clone(),
            ),
            graphs: Default::default(),
            reliance: Default::default(),
        }
    }

    /// The attack graph of a scenario with nothing cut (cached).
    pub fn graph(&self, s: &scenario::Scenario) -> std::rc::Rc<attack::AttackGraph> {
        if let Some(g) = self.graphs.borrow().get(&s.kind) {
            return g.clone();
        }
        let g = std::rc::Rc::new(attack::AttackGraph::build(
            self.net,
            s,
            &attack::Cut::default(),
        ));
        self.graphs.borrow_mut().insert(s.kind.clone(), g.clone());
        g
    }
}

/// Time a closure in milliseconds.
pub(crate) fn timed<T>(f: impl FnOnce() -> T) -> (T, f64) {
    let start = Instant::now();
    let out = f();
    (out, start.elapsed().as_secs_f64() * 1000.0)
}

/// One part of a verification: its results and diagnostics.
type Part = fn(&Ctx<'_>) -> (Vec<PropertyResult>, Vec<Diagnostic>);

/// Verify a policy: every property in every scenario it applies to. The matrix, when asked
/// for, is computed on a second thread with its own Z3 context.
pub fn verify(policy: &palisade_compiler::ir::Policy, options: &Options) -> Report {
    let start = Instant::now();
    let net = Network::new(policy);
    let cancel = &options.cancel;
    let (results, mut diagnostics, matrix, queries, solver_time) = std::thread::scope(|scope| {
        let matrix_job = options.matrix.then(|| {
            scope.spawn(|| {
                solver::interruptible(cancel, || {
                    let ctx = Ctx::new(&net, options, "matrix-");
                    let m = matrix::compute(&ctx);
                    (m, ctx.q.count(), ctx.q.time(), ctx.q.errors())
                })
            })
        });
        let ctx = Ctx::new(&net, options, "");
        let mut results = Vec::new();
        let mut diagnostics = Vec::new();
        let parts: [Part; 6] = [
            assertions::check,
            profile::check,
            levels::check,
            approvals::check,
            dataflows::check,
            rules::check,
        ];
        solver::interruptible(cancel, || {
            for part in parts {
                if cancel.is_cancelled() {
                    break;
                }
                let (r, d) = part(&ctx);
                results.extend(r);
                diagnostics.extend(d);
            }
        });
        let mut queries = ctx.q.count();
        let mut solver_time = ctx.q.time();
        let mut errors = ctx.q.errors();
        let mut matrix = None;
        if let Some(job) = matrix_job {
            match job.join() {
                Ok((m, n, t, e)) => {
                    diagnostics.extend(m.diagnostics.iter().cloned());
                    queries += n;
                    solver_time += t;
                    errors.extend(e);
                    matrix = Some(m);
                }
                Err(_) => diagnostics.push(
                    Diagnostic::error("E1006", "the reachability matrix could not be computed")
                        .help("this is a bug in Palisade; please report it"),
                ),
            }
        }
        for e in errors {
            diagnostics.push(Diagnostic::warning(
                "W1006",
                format!("could not write a solver query: {e}"),
            ));
        }
        (results, diagnostics, matrix, queries, solver_time)
    });
    palisade_compiler::diagnostic::normalize(&mut diagnostics);
    let cancelled = cancel.is_cancelled();
    let stats = Stats {
        zones: policy.zones.len(),
        rules: policy.rules.len(),
        scenarios: scenario::scenarios(policy).len(),
        solver_queries: queries,
        solver_ms: solver_time.as_secs_f64() * 1000.0,
        total_ms: start.elapsed().as_secs_f64() * 1000.0,
    };
    Report {
        site: policy.site.name.clone(),
        results,
        diagnostics,
        matrix,
        stats,
        cancelled,
    }
}
