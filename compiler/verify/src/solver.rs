//! Running Z3 queries: one fresh solver per query on the calling thread, a per-query timeout,
//! an optional SMT-LIB dump of every query, and plain data out (a [`Packet`] or a verdict).

use crate::packet::{Packet, SymbolicPacket};
use std::cell::{Cell, RefCell};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use z3::ast::Bool;
use z3::{Params, SatResult, Solver};

/// What one satisfiability query answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// A packet satisfies the constraints (read back from the model).
    Sat(Packet),
    /// No packet does.
    Unsat,
    /// The solver gave up (timeout or `unknown`); never read as unsat.
    Unknown(String),
}

impl Outcome {
    pub fn word(&self) -> &'static str {
        match self {
            Outcome::Sat(_) => "sat",
            Outcome::Unsat => "unsat",
            Outcome::Unknown(_) => "unknown",
        }
    }
}

/// Asks a running verification to stop: queries not yet started answer `unknown` at once,
/// the query in the solver is interrupted, and [`crate::verify`] skips its remaining parts.
/// Clones share one flag.
#[derive(Clone, Debug, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    pub fn new() -> Cancel {
        Cancel::default()
    }

    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// How often the watcher of [`interruptible`] looks at its flag.
const WATCH_EVERY: Duration = Duration::from_millis(5);

/// Run `f` on this thread while a watcher thread interrupts this thread's Z3 context as soon
/// as `cancel` is set. The watcher stops when `f` returns (or unwinds) or after interrupting.
pub fn interruptible<T>(cancel: &Cancel, f: impl FnOnce() -> T) -> T {
    /// Tells the watcher to stop, also when `f` panics (the scope would wait for it).
    struct Done<'a>(&'a AtomicBool);
    impl Drop for Done<'_> {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }
    let z3 = z3::Context::thread_local();
    let handle = z3.handle();
    let done = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let (handle, done_ref) = (&handle, &done);
        scope.spawn(move || {
            while !done_ref.load(Ordering::SeqCst) {
                if cancel.is_cancelled() {
                    handle.interrupt();
                    return;
                }
                std::thread::sleep(WATCH_EVERY);
            }
        });
        let _done = Done(&done);
        f()
    })
}

/// Runs queries and keeps count of them. One solver serves every query, each in its own
/// push/pop scope: creating a Z3 solver costs milliseconds, a scope a fraction of one.
pub struct Queries {
    solver: Solver,
    cancel: Cancel,
    smt2_dir: Option<PathBuf>,
    /// Prefix of dumped file names (threads dump side by side).
    prefix: String,
    count: Cell<usize>,
    time: Cell<Duration>,
    errors: RefCell<Vec<String>>,
}

impl Queries {
    pub fn new(
        timeout_ms: u32,
        smt2_dir: Option<PathBuf>,
        prefix: &str,
        cancel: Cancel,
    ) -> Queries {
        let solver = Solver::new();
        let mut params = Params::new();
        params.set_u32("timeout", timeout_ms);
        solver.set_params(&params);
        Queries {
            solver,
            cancel,
            smt2_dir,
            prefix: prefix.to_string(),
            count: Cell::new(0),
            time: Cell::new(Duration::ZERO),
            errors: RefCell::new(Vec::new()),
        }
    }

    pub fn count(&self) -> usize {
        self.count.get()
    }

    pub fn time(&self) -> Duration {
        self.time.get()
    }

    /// Problems writing the SMT-LIB dump.
    pub fn errors(&self) -> Vec<String> {
        self.errors.borrow().clone()
    }

    /// Is there a packet satisfying `build(p)`? `label` names the query in the dump.
    pub fn solve(&self, label: &str, build: impl FnOnce(&SymbolicPacket) -> Bool) -> Outcome {
        self.run(label, build, true)
    }

    /// As [`Queries::solve`], without steering the model towards readable source ports
    /// (for cross-checks whose packet is pinned anyway).
    pub fn check(&self, label: &str, build: impl FnOnce(&SymbolicPacket) -> Bool) -> Outcome {
        self.run(label, build, false)
    }

    fn run(
        &self,
        label: &str,
        build: impl FnOnce(&SymbolicPacket) -> Bool,
        prefer_ephemeral: bool,
    ) -> Outcome {
        if self.cancel.is_cancelled() {
            return Outcome::Unknown("cancelled".into());
        }
        let start = Instant::now();
        let n = self.count.get() + 1;
        self.count.set(n);
        let p = SymbolicPacket::new("");
        let solver = &self.solver;
        solver.push();
        solver.assert(p.well_formed());
        solver.assert(build(&p));
        if let Some(dir) = &self.smt2_dir {
            let safe: String = label
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                        c
                    } else {
                        '_'
                    }
                })
                .take(80)
                .collect();
            let path = dir.join(format!("{}{n:05}-{safe}.smt2", self.prefix));
            let text = format!(
                "; palisade verify: {label}\n{}\n(get-model)\n",
                solver.to_smt2()
            );
            if let Err(e) = std::fs::create_dir_all(dir).and_then(|_| std::fs::write(&path, text)) {
                self.errors
                    .borrow_mut()
                    .push(format!("{}: {e}", path.display()));
            }
        }
        // Prefer an ephemeral source port, so that a witness looks like real traffic.
        let mut result = if prefer_ephemeral {
            let prefer = Bool::new_const("prefer_ephemeral_source");
            solver.assert(prefer.implies(p.ephemeral_source()));
            solver.check_assumptions(&[prefer])
        } else {
            solver.check()
        };
        if prefer_ephemeral && result == SatResult::Unsat {
            result = solver.check();
        }
        let out = match result {
            SatResult::Sat => match solver.get_model().and_then(|m| p.from_model(&m)) {
                Some(packet) => Outcome::Sat(packet),
                None => Outcome::Unknown("the solver's model could not be read".into()),
            },
            SatResult::Unsat => Outcome::Unsat,
            SatResult::Unknown => Outcome::Unknown(
                solver
                    .get_reason_unknown()
                    .unwrap_or_else(|| "unknown".into()),
            ),
        };
        solver.pop(1);
        self.time.set(self.time.get() + start.elapsed());
        out
    }
}
