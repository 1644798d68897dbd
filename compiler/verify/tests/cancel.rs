//! Stopping a verification: a cancelled run proves nothing and stops asking the solver, and
//! a query already in the solver is interrupted.

use crate::support::load;
use palisade_verify::solver::interruptible;
use palisade_verify::{verify, Cancel, Options, Verdict};
use z3::ast::Bool;
use z3::{SatResult, Solver};

#[test]
fn a_cancelled_run_proves_nothing_and_asks_no_solver() {
    let site = load("../../examples/refinery");
    let cancel = Cancel::new();
    cancel.cancel();
    let report = verify(
        &site.policy,
        &Options {
            matrix: true,
            cancel,
            ..Options::default()
        },
    );
    assert!(report.cancelled);
    assert!(!report.all_proved());
    assert_eq!(report.stats.solver_queries, 0);
    assert!(
        !report.results.iter().any(|r| r.verdict == Verdict::Proved),
        "{:?}",
        report.results
    );
    // The same site, not cancelled, proves everything (so the above is not vacuous).
    let full = verify(&site.policy, &Options::default());
    assert!(!full.cancelled && full.all_proved());
    assert!(full.stats.solver_queries > 0);
}

/// Pigeonhole: n+1 pigeons in n holes. Unsatisfiable, and exponentially hard for the
/// resolution-based search of a SAT/SMT solver: far beyond this test's patience at n = 14.
fn pigeonhole(n: usize) -> Vec<Bool> {
    let at = |p: usize, h: usize| Bool::new_const(format!("p{p}h{h}"));
    let mut clauses = Vec::new();
    for p in 0..=n {
        let holes: Vec<Bool> = (0..n).map(|h| at(p, h)).collect();
        clauses.push(Bool::or(&holes));
    }
    for h in 0..n {
        for p in 0..=n {
            for q in p + 1..=n {
                clauses.push(Bool::or(&[at(p, h).not(), at(q, h).not()]));
            }
        }
    }
    clauses
}

#[test]
fn a_query_in_the_solver_is_interrupted() {
    let cancel = Cancel::new();
    let trigger = cancel.clone();
    // Cancel from another thread once the query is under way (bounded: one sleep).
    let canceller = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(200));
        trigger.cancel();
    });
    let result = interruptible(&cancel, || {
        let solver = Solver::new();
        for c in pigeonhole(14) {
            solver.assert(&c);
        }
        let r = solver.check();
        (r, solver.get_reason_unknown())
    });
    canceller.join().unwrap();
    assert_eq!(
        result.0,
        SatResult::Unknown,
        "the query was not interrupted"
    );
    assert!(
        result.1.as_deref().unwrap_or("").contains("interrupt"),
        "reason: {:?}",
        result.1
    );
    // The interrupt ends with its query: the next one on this thread's context is answered.
    let solver = Solver::new();
    solver.assert(Bool::new_const("y"));
    assert_eq!(solver.check(), SatResult::Sat);
}

#[test]
fn an_uncancelled_watch_leaves_the_query_alone() {
    let cancel = Cancel::new();
    let r = interruptible(&cancel, || {
        let solver = Solver::new();
        for c in pigeonhole(3) {
            solver.assert(&c);
        }
        solver.check()
    });
    assert_eq!(r, SatResult::Unsat);
}

#[test]
fn an_interrupt_does_not_outlive_its_run() {
    // Cancelled before the run: the watcher interrupts at once, while no query is running.
    let cancel = Cancel::new();
    cancel.cancel();
    interruptible(&cancel, || {
        std::thread::sleep(std::time::Duration::from_millis(50));
    });
    // A later run on this thread is not cancelled: its queries are answered.
    let r = interruptible(&Cancel::new(), || {
        let solver = Solver::new();
        solver.assert(Bool::new_const("x"));
        solver.check()
    });
    assert_eq!(r, SatResult::Sat);
}
