//! Checks too slow for every keystroke — the verifier's proofs — run after a save.
//!
//! They take plain data (the resolved IR, copied out of a snapshot that is dropped first),
//! never the database: a proof may run for seconds, and a database clone held that long
//! would hold up the next edit. An edit to the site cancels a running proof (the solver's
//! query is interrupted and the rest skipped, see `palisade_verify::Cancel`), and the edit
//! thread discards a result whose site text changed since the save (see `world.rs`), so a
//! stale proof is never shown and never keeps a core busy.

use palisade_compiler::diagnostic::Diagnostic;
use palisade_compiler::ir::Policy;
pub use palisade_verify::Cancel;
use std::sync::Arc;

/// What runs after a save. `today` is the site's date for expiry checks (`YYYY-MM-DD`).
/// Returns `None` when `cancel` stopped it.
pub trait AfterSave: Send + Sync + 'static {
    fn run(&self, policy: &Policy, today: &str, cancel: &Cancel) -> Option<Vec<Diagnostic>>;
}

impl<F> AfterSave for F
where
    F: Fn(&Policy, &str, &Cancel) -> Option<Vec<Diagnostic>> + Send + Sync + 'static,
{
    fn run(&self, policy: &Policy, today: &str, cancel: &Cancel) -> Option<Vec<Diagnostic>> {
        self(policy, today, cancel)
    }
}

/// The checks `palisade lsp` runs after a save: the verifier's proofs (every assertion,
/// the profile, SL-A, approvals, data flows, the rule analysis). Refutations come back as
/// diagnostics with the counterexample in the message and labels on the rules.
pub fn default_after_save() -> Arc<dyn AfterSave> {
    Arc::new(|policy: &Policy, _today: &str, cancel: &Cancel| {
        let options = palisade_verify::Options {
            cancel: cancel.clone(),
            ..palisade_verify::Options::default()
        };
        let report = palisade_verify::verify(policy, &options);
        (!report.cancelled).then_some(report.diagnostics)
    })
}
