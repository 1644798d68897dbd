//! The forbidden requests of a flow group, as Suricata 7 conditions. The allowed requests are
//! the union of the group's rules; everything else of the protocol is forbidden, and is cut
//! into pieces that Suricata's keywords can state without negation (they have almost none):
//!
//! - Modbus: per function code (`modbus: function N`; codes Suricata has no name for all
//!   compare equal, so `function 255` stands for all of them), then per unit-id interval,
//!   then per gap between the allowed register ranges. The pieces do not overlap, so a
//!   forbidden request matches one rule (a request that spans two gaps matches two).
//! - DNP3: one rule, the function code (byte 1 of `dnp3_data`) different from every allowed one.
//! - CIP: one rule per forbidden service code (`cip_service` has neither lists nor negation).
//!
//! What Suricata 7 cannot state is a [`Problem`], reported as an error for the target.

use palisade_compiler::address::merge;
use palisade_compiler::address::AddrRange;
use palisade_compiler::ir::{FieldConstraints, RuleId};
use std::collections::BTreeSet;

/// A constraint Suricata cannot enforce, attributed to a rule.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Problem {
    pub rule: RuleId,
    /// `E0930` (a field) or `E0931` (a transport).
    pub code: &'static str,
    pub message: String,
    pub help: String,
}

/// One rule's allowed requests; `None` allows every value of that field.
#[derive(Clone, Debug)]
pub struct Allowed {
    pub rule: RuleId,
    pub functions: Option<BTreeSet<u8>>,
    pub units: Option<Vec<(u16, u16)>>,
    pub registers: Option<Vec<(u16, u16)>>,
}

impl Allowed {
    pub fn new(rule: RuleId, f: &FieldConstraints) -> Allowed {
        let some = |empty: bool| !empty;
        Allowed {
            rule,
            functions: some(f.functions.is_empty())
                .then(|| f.functions.iter().map(|c| c.code).collect()),
            units: some(f.units.is_empty()).then(|| f.units.clone()),
            registers: some(f.registers.is_empty()).then(|| f.registers.clone()),
        }
    }
}

/// Modbus function codes Suricata 7 (sawp-modbus) names; every other code compares equal to
/// every other unnamed one.
pub const MODBUS_NAMED: [u8; 25] = [
    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 43,
];
/// A code Suricata has no name for: `modbus: function 255` matches every such request.
pub const MODBUS_UNNAMED: u8 = 255;
const MODBUS_READS: [u8; 4] = [1, 2, 3, 4];
const MODBUS_WRITES: [u8; 5] = [5, 6, 15, 16, 22];
/// Addressed functions whose address Suricata does not check: 23 (it sees only the write
/// range) and 24 (the FIFO pointer).
const MODBUS_UNCHECKED_ADDRESS: [u8; 2] = [23, 24];
/// `cip_service` reads at most two decimal digits: 100 is read as 10.
pub const CIP_MAX_SERVICE: u8 = 99;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Function {
    Named(u8),
    Unnamed,
}

/// `modbus: unit …` as Suricata compares it (all bounds exclusive).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Unit {
    Is(u16),
    Below(u16),
    Above(u16),
    Between(u16, u16),
}

/// A condition on a request's address range `[s, e]` (1-based, as Suricata counts them).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Address {
    /// `s < n`: the request starts below `n`.
    Below(u32),
    /// `e > n`: the request ends above `n`.
    Above(u32),
    /// Both: the request meets the gap `n+1 ..= m-1`.
    Between(u32, u32),
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ModbusForbidden {
    pub function: Function,
    pub unit: Option<(Unit, (u16, u16))>,
    /// Write access (`access write`) or read; the gap in protocol (0-based) addresses.
    pub address: Option<(bool, Address, (u32, u32))>,
}

/// Unit ids `lo..=hi`, what they may do, and the allowed registers when that is the answer.
type Run = ((u16, u16), Outcome, Vec<(u16, u16)>);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    Forbidden,
    Allowed,
    Registers,
}

/// The Modbus requests no rule of the group allows.
pub fn modbus(allowed: &[Allowed], problems: &mut Vec<Problem>) -> Vec<ModbusForbidden> {
    let mut out = Vec::new();
    let classes = MODBUS_NAMED
        .iter()
        .map(|c| Function::Named(*c))
        .chain([Function::Unnamed]);
    for class in classes {
        let applicable: Vec<&Allowed> = allowed
            .iter()
            .filter(|a| match (&a.functions, class) {
                (None, _) => true,
                (Some(set), Function::Named(c)) => set.contains(&c),
                (Some(_), Function::Unnamed) => false,
            })
            .collect();
        if applicable.is_empty() {
            out.push(ModbusForbidden {
                function: class,
                unit: None,
                address: None,
            });
            continue;
        }
        // Cut the unit ids 0..=255 where any applicable rule's units start or end.
        let mut cuts: BTreeSet<u16> = [0, 256].into_iter().collect();
        for a in &applicable {
            for &(lo, hi) in a.units.iter().flatten() {
                cuts.insert(lo);
                cuts.insert(hi + 1);
            }
        }
        let cuts: Vec<u16> = cuts.into_iter().filter(|c| *c <= 256).collect();
        // Consecutive unit intervals with the same outcome are merged.
        let mut runs: Vec<Run> = Vec::new();
        for w in cuts.windows(2) {
            let [lo, next] = w else { continue };
            let (lo, hi) = (*lo, next - 1);
            let covering: Vec<&&Allowed> = applicable
                .iter()
                .filter(|a| {
                    a.units
                        .as_ref()
                        .is_none_or(|u| u.iter().any(|&(a, b)| a <= lo && hi <= b))
                })
                .collect();
            let (outcome, regs) = outcome(class, &covering, problems);
            match runs.last_mut() {
                Some(((_, last_hi), o, r)) if *o == outcome && *r == regs && *last_hi + 1 == lo => {
                    *last_hi = hi
                }
                _ => runs.push(((lo, hi), outcome, regs)),
            }
        }
        for ((lo, hi), outcome, regs) in runs {
            let units = unit_pieces(lo, hi);
            match outcome {
                Outcome::Allowed => {}
                Outcome::Forbidden => {
                    for u in units {
                        out.push(ModbusForbidden {
                            function: class,
                            unit: u.map(|u| (u, (lo, hi))),
                            address: None,
                        });
                    }
                }
                Outcome::Registers => {
                    let Function::Named(code) = class else {
                        continue;
                    };
                    let write = MODBUS_WRITES.contains(&code);
                    for (gap, cond) in address_gaps(&regs, allowed, problems) {
                        for u in &units {
                            out.push(ModbusForbidden {
                                function: class,
                                unit: u.map(|u| (u, (lo, hi))),
                                address: Some((write, cond, gap)),
                            });
                        }
                    }
                }
            }
        }
    }
    out
}

/// What the covering rules allow for this function class and unit interval.
fn outcome(
    class: Function,
    covering: &[&&Allowed],
    problems: &mut Vec<Problem>,
) -> (Outcome, Vec<(u16, u16)>) {
    if covering.is_empty() {
        return (Outcome::Forbidden, Vec::new());
    }
    let Function::Named(code) = class else {
        return (Outcome::Allowed, Vec::new());
    };
    let addressed = MODBUS_READS.contains(&code)
        || MODBUS_WRITES.contains(&code)
        || MODBUS_UNCHECKED_ADDRESS.contains(&code);
    if !addressed || covering.iter().any(|a| a.registers.is_none()) {
        return (Outcome::Allowed, Vec::new());
    }
    if MODBUS_UNCHECKED_ADDRESS.contains(&code) {
        for a in covering {
            let name = if code == 23 {
                "read_write_multiple_registers"
            } else {
                "read_fifo_queue"
            };
            problems.push(Problem {
                rule: a.rule,
                code: "E0930",
                message: format!("cannot enforce a register constraint on {name} ({code}) with Suricata 7"),
                help: "Suricata 7 checks only the range read_write_multiple_registers writes, not the one it reads, and does not see read_fifo_queue's pointer address; list the rule's functions without them, or allow them in a rule without registers".to_string(),
            });
        }
        return (Outcome::Allowed, Vec::new());
    }
    let regs: Vec<(u16, u16)> = covering
        .iter()
        .flat_map(|a| a.registers.iter().flatten().copied())
        .collect();
    let merged = merge_u16(regs);
    if merged == [(0, u16::MAX)] {
        return (Outcome::Allowed, Vec::new());
    }
    (Outcome::Registers, merged)
}

fn merge_u16(regs: Vec<(u16, u16)>) -> Vec<(u16, u16)> {
    let ranges: Vec<AddrRange> = regs
        .into_iter()
        .map(|(a, b)| AddrRange {
            v6: false,
            lo: a.into(),
            hi: b.into(),
        })
        .collect();
    merge(ranges)
        .into_iter()
        .filter_map(|r| Some((u16::try_from(r.lo).ok()?, u16::try_from(r.hi).ok()?)))
        .collect()
}

/// The unit ids `lo..=hi` as Suricata conditions that do not overlap. Suricata treats a lower
/// bound of 0 as "no lower bound" and an upper bound of 65535 as "no upper bound", so an
/// interval starting at 1 needs two pieces.
fn unit_pieces(lo: u16, hi: u16) -> Vec<Option<Unit>> {
    match (lo, hi) {
        (0, 255) => vec![None],
        (a, b) if a == b => vec![Some(Unit::Is(a))],
        (0, b) => vec![Some(Unit::Below(b + 1))],
        (1, 255) => vec![Some(Unit::Is(1)), Some(Unit::Above(1))],
        (a, 255) => vec![Some(Unit::Above(a - 1))],
        (1, b) => vec![Some(Unit::Is(1)), Some(Unit::Between(1, b + 1))],
        (a, b) => vec![Some(Unit::Between(a - 1, b + 1))],
    }
}

/// The gaps between allowed register ranges (0-based), each with the condition that a
/// request's 1-based range `[s, e]` meets it.
fn address_gaps(
    regs: &[(u16, u16)],
    allowed: &[Allowed],
    problems: &mut Vec<Problem>,
) -> Vec<((u32, u32), Address)> {
    let mut out = Vec::new();
    // In Suricata's 1-based numbering: allowed [lo+1, hi+1], gaps within [1, 65535].
    let mut prev_end: u32 = 0;
    let mut gaps = Vec::new();
    for &(lo, hi) in regs {
        let (a, b) = (u32::from(lo) + 1, u32::from(hi) + 1);
        if a > prev_end + 1 {
            gaps.push((prev_end + 1, a - 1));
        }
        prev_end = b;
    }
    if prev_end < 65535 {
        gaps.push((prev_end + 1, 65535));
    }
    for (g1, g2) in gaps {
        let cond = match (g1, g2) {
            (1, 65535) => None,
            (1, g2) => Some(Address::Below(g2 + 1)),
            (g1, 65535) => Some(Address::Above(g1 - 1)),
            (g1, g2) => Some(Address::Between(g1 - 1, g2 + 1)),
        };
        match cond {
            // Back to protocol addresses; the last one, 65535, is 65536 to Suricata.
            Some(c) => out.push(((g1 - 1, if g2 == 65535 { 65535 } else { g2 - 1 }), c)),
            None => {
                for a in allowed.iter().filter(|a| a.registers.is_some()) {
                    problems.push(Problem {
                        rule: a.rule,
                        code: "E0930",
                        message: "cannot enforce a register range that starts at 65535 with Suricata 7".to_string(),
                        help: "Suricata 7 counts addresses from 1 in 16 bits, so address 65535 is out of its reach".to_string(),
                    });
                }
            }
        }
    }
    out
}

/// The DNP3 function codes no rule of the group allows; `None` when every code is allowed.
/// Suricata makes no transaction of an application confirm (function 0), so it cannot
/// forbid one: a group whose rules do not allow `confirm` is a problem.
pub fn dnp3(allowed: &[Allowed], problems: &mut Vec<Problem>) -> Option<Vec<u8>> {
    if allowed.iter().any(|a| a.functions.is_none()) {
        return None;
    }
    let codes: BTreeSet<u8> = allowed
        .iter()
        .flat_map(|a| a.functions.iter().flatten().copied())
        .collect();
    if !codes.contains(&0) {
        for a in allowed {
            problems.push(Problem {
                rule: a.rule,
                code: "E0930",
                message: "cannot enforce a DNP3 function list without `confirm` with Suricata 7".to_string(),
                help: "Suricata 7 makes no transaction of application confirms, so it cannot forbid them; add `confirm` (masters confirm event responses, so polling needs it anyway)".to_string(),
            });
        }
    }
    (codes.len() < 256).then(|| codes.into_iter().collect())
}

/// The CIP service codes no rule of the group allows (0..=99: Suricata cannot name more).
pub fn cip(allowed: &[Allowed]) -> Vec<u8> {
    if allowed.iter().any(|a| a.functions.is_none()) {
        return Vec::new();
    }
    let codes: BTreeSet<u8> = allowed
        .iter()
        .flat_map(|a| a.functions.iter().flatten().copied())
        .collect();
    (0..=CIP_MAX_SERVICE)
        .filter(|c| !codes.contains(c))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(functions: &[u8], units: &[(u16, u16)], registers: &[(u16, u16)]) -> Allowed {
        let opt = |v: Vec<(u16, u16)>| (!v.is_empty()).then_some(v);
        Allowed {
            rule: RuleId(0),
            functions: (!functions.is_empty()).then(|| functions.iter().copied().collect()),
            units: opt(units.to_vec()),
            registers: opt(registers.to_vec()),
        }
    }

    #[test]
    fn unit_pieces_avoid_suricatas_open_bounds() {
        assert_eq!(unit_pieces(0, 255), vec![None]);
        assert_eq!(unit_pieces(0, 0), vec![Some(Unit::Is(0))]);
        assert_eq!(unit_pieces(0, 9), vec![Some(Unit::Below(10))]);
        assert_eq!(unit_pieces(2, 255), vec![Some(Unit::Above(1))]);
        assert_eq!(
            unit_pieces(1, 255),
            vec![Some(Unit::Is(1)), Some(Unit::Above(1))]
        );
        assert_eq!(
            unit_pieces(1, 9),
            vec![Some(Unit::Is(1)), Some(Unit::Between(1, 10))]
        );
        assert_eq!(unit_pieces(5, 9), vec![Some(Unit::Between(4, 10))]);
    }

    #[test]
    fn read_only_polling_of_one_unit_and_a_register_window() {
        let mut problems = Vec::new();
        let f = modbus(&[rule(&[3], &[(1, 1)], &[(100, 199)])], &mut problems);
        assert!(problems.is_empty());
        let for_3: Vec<&ModbusForbidden> = f
            .iter()
            .filter(|m| m.function == Function::Named(3))
            .collect();
        assert_eq!(
            for_3
                .iter()
                .map(|m| (m.unit.map(|u| u.0), m.address.map(|a| a.1)))
                .collect::<Vec<_>>(),
            vec![
                (Some(Unit::Is(0)), None),
                (Some(Unit::Is(1)), Some(Address::Below(101))),
                (Some(Unit::Is(1)), Some(Address::Above(200))),
                (Some(Unit::Above(1)), None),
            ]
        );
        // Every other named function, and the unnamed ones, are forbidden outright.
        assert_eq!(
            f.iter()
                .filter(|m| m.unit.is_none() && m.address.is_none())
                .count(),
            25
        );
    }

    #[test]
    fn fifo_and_read_write_with_registers_are_problems() {
        let mut problems = Vec::new();
        modbus(&[rule(&[3, 23], &[], &[(0, 9)])], &mut problems);
        assert_eq!(problems.len(), 1);
        problems.clear();
        modbus(
            &[rule(&[3, 23], &[], &[(0, 9)]), rule(&[23], &[], &[])],
            &mut problems,
        );
        assert!(problems.is_empty(), "another rule allows 23 everywhere");
    }

    #[test]
    fn dnp3_without_confirm_is_a_problem() {
        let mut problems = Vec::new();
        assert_eq!(
            dnp3(&[rule(&[0, 1], &[], &[])], &mut problems),
            Some(vec![0, 1])
        );
        assert!(problems.is_empty());
        dnp3(&[rule(&[1], &[], &[])], &mut problems);
        assert_eq!(problems.len(), 1);
    }
}
