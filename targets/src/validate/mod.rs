//! Translation validation: for one device, prove with Z3 that a ruleset (read back from the
//! emitted text or from the kernel, see [`crate::readback`]) permits exactly the packets the
//! policy permits on that device, at the level the device enforces.
//!
//! A packet here is what a stateful Linux firewall sees: input and output interface, family,
//! addresses, protocol, ports, ICMP type and code, the connection-tracking state and
//! direction, and the connection mark (see [`crate::model`]). Work-order sets change at run
//! time: their contents are left open (an uninterpreted predicate per order and family), so
//! the proof holds for every combination of open instances.
//!
//! The policy's meaning on device D, written directly from the IR and the placement (not from
//! the emitters' model, so that the two check each other):
//! - a new connection passes if some rule placed on D for that interface pair admits it and,
//!   for a rule under `when workorder X`, one of its ends is in X's open set; the connection
//!   takes the mark of the first such rule in source order;
//! - an established or related packet passes, unless it is a reply on a diode connection or
//!   belongs to a work order's connection while neither of its ends is in that order's set;
//! - invalid packets never pass.
//!
//! Each (input, output) interface pair is one query; both differences must be unsatisfiable.
//! A satisfiable one is a compiler bug, reported with the differing packet.

use crate::model::{rule_mark, wo_mark, MARK_DIODE, MARK_WO_MASK};
use crate::placement::Placement;
use crate::readback::{Field, Ruleset, CT_ESTABLISHED, CT_NEW, CT_RELATED};
use palisade_compiler::address::{fmt_addr, AddrRange};
use palisade_compiler::ir::{DeviceId, Policy, Transport, WorkOrderId};
use std::collections::{BTreeMap, BTreeSet};
use z3::ast::{Bool, BV};
use z3::{FuncDecl, Params, SatResult, Solver, Sort};

/// Milliseconds Z3 may spend on one interface pair.
pub const TIMEOUT_MS: u32 = 120_000;
/// An interface name no device declares: packets through it must be dropped.
pub const OTHER_IFACE: &str = "(other)";

/// A packet on which ruleset and policy disagree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FwPacket {
    pub iif: String,
    pub oif: String,
    pub v6: bool,
    pub src: u128,
    pub dst: u128,
    pub proto: u8,
    pub sport: u16,
    pub dport: u16,
    pub icmp_type: u8,
    pub icmp_code: u8,
    /// 0 new, 1 established, 2 related, 3 invalid.
    pub ct_state: u8,
    pub reply: bool,
    pub mark: u32,
    /// Work-order sets that hold the source or destination in this counterexample.
    pub open: Vec<String>,
}

impl std::fmt::Display for FwPacket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = ["new", "established", "related", "invalid"]
            .get(self.ct_state as usize)
            .copied()
            .unwrap_or("?");
        write!(
            f,
            "in {} out {}: {} -> {}",
            self.iif,
            self.oif,
            fmt_addr(self.v6, self.src),
            fmt_addr(self.v6, self.dst)
        )?;
        match self.proto {
            6 | 17 => write!(
                f,
                " {} {} -> {}",
                if self.proto == 6 { "tcp" } else { "udp" },
                self.sport,
                self.dport
            )?,
            1 | 58 => write!(
                f,
                " {} type {} code {}",
                if self.proto == 1 { "icmp" } else { "icmpv6" },
                self.icmp_type,
                self.icmp_code
            )?,
            n => write!(f, " ip protocol {n}")?,
        }
        write!(f, ", ct state {state}")?;
        if self.ct_state != 0 {
            write!(
                f,
                " ({}, mark 0x{:08x})",
                if self.reply { "reply" } else { "original" },
                self.mark
            )?;
        }
        if !self.open.is_empty() {
            write!(f, ", open: {}", self.open.join(", "))?;
        }
        Ok(())
    }
}

/// Why a ruleset is not (proved) equal to the policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// The ruleset accepts (`ruleset_accepts`) or drops a packet the policy decides otherwise,
    /// or gives an accepted connection another mark.
    Differs {
        packet: Box<FwPacket>,
        ruleset_accepts: bool,
        policy_accepts: bool,
    },
    /// The ruleset uses something the encoding does not know.
    Unsupported(String),
    /// Z3 gave up (timeout or unknown): not proved.
    Unknown(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Differs {
                packet,
                ruleset_accepts,
                policy_accepts,
            } => {
                let verb = |b: bool| if b { "accepts" } else { "drops" };
                if ruleset_accepts == policy_accepts {
                    write!(
                        f,
                        "the ruleset marks this connection differently from the policy: {packet}"
                    )
                } else {
                    write!(
                        f,
                        "the ruleset {} and the policy {}: {packet}",
                        verb(*ruleset_accepts),
                        verb(*policy_accepts)
                    )
                }
            }
            Failure::Unsupported(m) => write!(f, "cannot validate: {m}"),
            Failure::Unknown(m) => write!(f, "not proved (solver: {m})"),
        }
    }
}

/// What was proved: queries run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Proved {
    pub queries: usize,
}

/// A dynamic (work-order) set: which order and family it holds, restricted to `within` when
/// the set holds only some addresses of the scopes (Cisco's per-rule object groups).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Gate {
    pub wo: WorkOrderId,
    pub v6: bool,
    pub within: Option<Vec<(u128, u128)>>,
}

/// The dynamic sets of a ruleset, by name.
pub type GateNames = BTreeMap<String, Gate>;

/// Work-order sets keyed by (order, family) turned into [`GateNames`], open to any element.
pub fn gates_by_name(sets: BTreeMap<(WorkOrderId, bool), String>) -> GateNames {
    sets.into_iter()
        .map(|((wo, v6), name)| {
            (
                name,
                Gate {
                    wo,
                    v6,
                    within: None,
                },
            )
        })
        .collect()
}

mod cisco;
mod emitted;
mod encode;
pub mod gateway;
pub use cisco::validate_cisco;
pub use emitted::{check_device, check_files};
use encode::Enc;

pub(crate) struct Sym {
    v6: Bool,
    pub(crate) src: BV,
    pub(crate) dst: BV,
    pub(crate) proto: BV,
    pub(crate) sport: BV,
    pub(crate) dport: BV,
    pub(crate) itype: BV,
    pub(crate) icode: BV,
    pub(crate) ct: BV,
    pub(crate) dir: BV,
    pub(crate) mark: BV,
}

impl Sym {
    pub(crate) fn new() -> Sym {
        let v = |n: &str, bits: u32| BV::new_const(n, bits);
        Sym {
            v6: Bool::new_const("v6"),
            src: v("src", 128),
            dst: v("dst", 128),
            proto: v("proto", 8),
            sport: v("sport", 16),
            dport: v("dport", 16),
            itype: v("icmp_type", 8),
            icode: v("icmp_code", 8),
            ct: v("ct_state", 2),
            dir: v("ct_direction", 1),
            mark: v("ct_mark", 32),
        }
    }
    fn field(&self, f: Field) -> &BV {
        match f {
            Field::Saddr => &self.src,
            Field::Daddr => &self.dst,
            Field::Proto => &self.proto,
            Field::Sport => &self.sport,
            Field::Dport => &self.dport,
            Field::IcmpType => &self.itype,
            Field::IcmpCode => &self.icode,
            Field::CtState => &self.ct,
            Field::CtDirection => &self.dir,
            Field::CtMark => &self.mark,
        }
    }
}

pub(crate) fn k(value: u128, bits: u32) -> BV {
    if bits <= 64 {
        BV::from_u64(value as u64, bits)
    } else {
        BV::from_str(bits, &value.to_string()).unwrap_or_else(|| BV::from_u64(0, bits))
    }
}

pub(crate) fn in_range(x: &BV, lo: u128, hi: u128) -> Bool {
    let bits = x.get_size();
    let max = if bits >= 128 {
        u128::MAX
    } else {
        (1u128 << bits) - 1
    };
    if lo > max || lo > hi {
        return Bool::from_bool(false);
    }
    let hi = hi.min(max);
    match (lo == 0, hi == max) {
        (true, true) => Bool::from_bool(true),
        _ if lo == hi => x.eq(k(lo, bits)),
        (true, false) => x.bvule(k(hi, bits)),
        (false, true) => k(lo, bits).bvule(x),
        (false, false) => Bool::and(&[k(lo, bits).bvule(x), x.bvule(k(hi, bits))]),
    }
}

pub(crate) fn any_range(x: &BV, ranges: &[(u128, u128)]) -> Bool {
    let parts: Vec<Bool> = ranges
        .iter()
        .map(|(lo, hi)| in_range(x, *lo, *hi))
        .collect();
    Bool::or(&parts)
}

pub(crate) fn addr_in(p: &Sym, x: &BV, ranges: &[AddrRange]) -> Bool {
    let parts: Vec<Bool> = ranges
        .iter()
        .map(|r| {
            Bool::and(&[
                if r.v6 { p.v6.clone() } else { p.v6.not() },
                in_range(x, r.lo, r.hi),
            ])
        })
        .collect();
    Bool::or(&parts)
}

/// The work-order predicates: `open(order, family)(address)`.
pub(crate) struct Gates {
    decls: BTreeMap<(WorkOrderId, bool), FuncDecl>,
}

impl Gates {
    pub(crate) fn new(policy: &Policy) -> Gates {
        let mut decls = BTreeMap::new();
        for (i, wo) in policy.workorders.iter().enumerate() {
            for v6 in [false, true] {
                let name = format!("open_{}_{}", wo.name, crate::model::family_suffix(v6));
                decls.insert(
                    (WorkOrderId(i as u32), v6),
                    FuncDecl::new(name, &[&Sort::bitvector(128)], &Sort::bool()),
                );
            }
        }
        Gates { decls }
    }
    pub(crate) fn open(&self, wo: WorkOrderId, v6: bool, addr: &BV) -> Bool {
        self.decls
            .get(&(wo, v6))
            .and_then(|d| d.apply(&[addr]).as_bool())
            .unwrap_or_else(|| Bool::from_bool(false))
    }
    /// Either end of the packet is in an open instance of `wo` (in the packet's family).
    pub(crate) fn either_end(&self, wo: WorkOrderId, p: &Sym) -> Bool {
        let v4 = Bool::or(&[self.open(wo, false, &p.src), self.open(wo, false, &p.dst)]);
        let v6 = Bool::or(&[self.open(wo, true, &p.src), self.open(wo, true, &p.dst)]);
        p.v6.ite(&v6, &v4)
    }
}

pub(crate) fn transport(p: &Sym, t: &Transport) -> Bool {
    let proto = |n: u128| p.proto.eq(k(n, 8));
    let opt = |x: &BV, v: Option<u8>| {
        v.map(|v| x.eq(k(v as u128, 8)))
            .unwrap_or_else(|| Bool::from_bool(true))
    };
    match *t {
        Transport::Tcp { lo, hi } => {
            Bool::and(&[proto(6), in_range(&p.dport, lo as u128, hi as u128)])
        }
        Transport::Udp { lo, hi } => {
            Bool::and(&[proto(17), in_range(&p.dport, lo as u128, hi as u128)])
        }
        Transport::Icmp { icmp_type, code } => Bool::and(&[
            p.v6.not(),
            proto(1),
            opt(&p.itype, icmp_type),
            opt(&p.icode, code),
        ]),
        Transport::Icmpv6 { icmp_type, code } => Bool::and(&[
            p.v6.clone(),
            proto(58),
            opt(&p.itype, icmp_type),
            opt(&p.icode, code),
        ]),
        Transport::Ip { number } => proto(number as u128),
        Transport::Ethertype { .. } => Bool::from_bool(false),
    }
}

/// The policy's decision on `device` for packets through (iif, oif).
fn policy_out(
    policy: &Policy,
    placement: &Placement,
    device: DeviceId,
    p: &Sym,
    iif: &str,
    oif: &str,
    gates: &Gates,
) -> (Bool, BV) {
    let placed: BTreeSet<_> = placement
        .rules_on(device)
        .filter(|pl| pl.in_iface == iif && pl.out_iface == oif)
        .map(|pl| pl.rule)
        .collect();
    // New connections: the first admitting rule in source order gives the mark.
    let mut accept_new = Vec::new();
    let mut mark = k(0, 32);
    for id in placed.iter().rev() {
        let Some(r) = policy.rule(*id) else { continue };
        let svcs: Vec<Bool> = policy
            .leaf_services(&r.services)
            .iter()
            .filter_map(|s| policy.service(*s))
            .flat_map(|s| s.transports.iter().map(|t| transport(p, t)))
            .collect();
        let mut parts = vec![
            addr_in(p, &p.src, &r.src.addrs),
            addr_in(p, &p.dst, &r.dst.addrs),
            Bool::or(&svcs),
        ];
        if let Some(wo) = r.workorder {
            parts.push(gates.either_end(wo, p));
        }
        let admits = Bool::and(&parts);
        mark = admits.ite(&k(rule_mark(policy, *id) as u128, 32), &mark);
        accept_new.push(admits);
    }
    // Established and related packets: the diode and the work-order gates.
    let mut keep = Vec::new();
    let on_device: BTreeSet<u32> = placement
        .rules_on(device)
        .map(|pl| rule_mark(policy, pl.rule))
        .collect();
    if on_device.iter().any(|m| m & MARK_DIODE != 0) {
        let diode_reply = Bool::and(&[
            p.dir.eq(k(1, 1)),
            p.mark
                .bvand(k(MARK_DIODE as u128, 32))
                .eq(k(MARK_DIODE as u128, 32)),
        ]);
        keep.push(diode_reply.not());
    }
    let wos: BTreeSet<WorkOrderId> = placement
        .rules_on(device)
        .filter_map(|pl| policy.rule(pl.rule).and_then(|r| r.workorder))
        .collect();
    for wo in wos {
        let of_wo = p
            .mark
            .bvand(k(MARK_WO_MASK as u128, 32))
            .eq(k(wo_mark(wo) as u128, 32));
        keep.push(Bool::and(&[of_wo, gates.either_end(wo, p).not()]).not());
    }
    let est = Bool::or(&[p.ct.eq(k(CT_ESTABLISHED, 2)), p.ct.eq(k(CT_RELATED, 2))]);
    let is_new = p.ct.eq(k(CT_NEW, 2));
    let accept = is_new.ite(&Bool::or(&accept_new), &Bool::and(&[est, Bool::and(&keep)]));
    (accept, mark)
}

/// What a packet may look like on this device: the marks our rules give connections.
fn well_formed(policy: &Policy, placement: &Placement, device: DeviceId, p: &Sym) -> Bool {
    let marks: BTreeSet<u32> = std::iter::once(0)
        .chain(
            placement
                .rules_on(device)
                .map(|pl| rule_mark(policy, pl.rule)),
        )
        .collect();
    let mark_ok: Vec<Bool> = marks.iter().map(|m| p.mark.eq(k(*m as u128, 32))).collect();
    let is_new = p.ct.eq(k(CT_NEW, 2));
    Bool::and(&[
        p.v6.not().implies(Bool::and(&[
            p.src.bvule(k(u32::MAX as u128, 128)),
            p.dst.bvule(k(u32::MAX as u128, 128)),
        ])),
        is_new.implies(Bool::and(&[p.dir.eq(k(0, 1)), p.mark.eq(k(0, 32))])),
        Bool::or(&mark_ok),
    ])
}

/// Prove that `rulesets` (one, or one per family for iptables) implement the policy on
/// `device`, for every pair of the device's interfaces and one undeclared interface.
pub fn validate(
    policy: &Policy,
    placement: &Placement,
    device: DeviceId,
    rulesets: &[Ruleset],
    gate_names: &GateNames,
) -> Result<Proved, Failure> {
    let mut ifaces: Vec<String> = policy
        .device(device)
        .map(|d| d.interfaces.iter().map(|i| i.name.clone()).collect())
        .unwrap_or_default();
    ifaces.push(OTHER_IFACE.to_string());
    let gates = Gates::new(policy);
    let mut proved = Proved::default();
    for iif in &ifaces {
        for oif in &ifaces {
            let p = Sym::new();
            let (pol_accept, pol_mark) =
                policy_out(policy, placement, device, &p, iif, oif, &gates);
            let mut rs_out: Option<(Bool, BV)> = None;
            for rs in rulesets {
                let enc = Enc::new(rs, &p, iif, oif, &gates, gate_names);
                let o = enc.ruleset().map_err(Failure::Unsupported)?;
                rs_out = Some(match (rs.family, rs_out) {
                    (Some(v6), Some((a, m))) => {
                        let mine = if v6 { p.v6.clone() } else { p.v6.not() };
                        (mine.ite(&o.accept, &a), mine.ite(&o.mark, &m))
                    }
                    (Some(v6), None) => {
                        let mine = if v6 { p.v6.clone() } else { p.v6.not() };
                        (Bool::and(&[mine, o.accept]), o.mark)
                    }
                    (None, _) => (o.accept, o.mark),
                });
            }
            let Some((rs_accept, rs_mark)) = rs_out else {
                return Err(Failure::Unsupported("no ruleset given".into()));
            };
            let differs = Bool::or(&[
                rs_accept.xor(&pol_accept),
                Bool::and(&[
                    p.ct.eq(k(CT_NEW, 2)),
                    pol_accept.clone(),
                    rs_accept.clone(),
                    rs_mark.eq(&pol_mark).not(),
                ]),
            ]);
            let q = Query {
                p: &p,
                iif,
                oif,
                gates: &gates,
                gate_names,
                rs_accept: &rs_accept,
                pol_accept: &pol_accept,
            };
            q.prove(&well_formed(policy, placement, device, &p), &differs)?;
            proved.queries += 1;
        }
    }
    Ok(proved)
}

/// One solver query: is there a well-formed packet on which ruleset and policy differ?
pub(crate) struct Query<'a> {
    pub(crate) p: &'a Sym,
    pub(crate) iif: &'a str,
    pub(crate) oif: &'a str,
    pub(crate) gates: &'a Gates,
    pub(crate) gate_names: &'a GateNames,
    pub(crate) rs_accept: &'a Bool,
    pub(crate) pol_accept: &'a Bool,
}

impl Query<'_> {
    pub(crate) fn prove(&self, well_formed: &Bool, differs: &Bool) -> Result<(), Failure> {
        let solver = Solver::new();
        let mut params = Params::new();
        params.set_u32("timeout", TIMEOUT_MS);
        solver.set_params(&params);
        solver.assert(well_formed);
        solver.assert(differs);
        // Prefer a packet that looks like real traffic: an ephemeral source port.
        let prefer = Bool::new_const("prefer_ephemeral_source");
        solver.assert(prefer.implies(k(49152, 16).bvule(&self.p.sport)));
        let mut result = solver.check_assumptions(&[prefer]);
        if result == SatResult::Unsat {
            result = solver.check();
        }
        match result {
            SatResult::Unsat => Ok(()),
            SatResult::Unknown => Err(Failure::Unknown(
                solver
                    .get_reason_unknown()
                    .unwrap_or_else(|| "unknown".into()),
            )),
            SatResult::Sat => {
                let model = solver
                    .get_model()
                    .ok_or_else(|| Failure::Unknown("no model".into()))?;
                let packet = packet(
                    &model,
                    self.p,
                    self.iif,
                    self.oif,
                    self.gates,
                    self.gate_names,
                );
                let ra = model
                    .eval(self.rs_accept, true)
                    .and_then(|b| b.as_bool())
                    .unwrap_or(false);
                let pa = model
                    .eval(self.pol_accept, true)
                    .and_then(|b| b.as_bool())
                    .unwrap_or(false);
                Err(Failure::Differs {
                    packet: Box::new(packet),
                    ruleset_accepts: ra,
                    policy_accepts: pa,
                })
            }
        }
    }
}

pub(crate) fn packet(
    model: &z3::Model,
    p: &Sym,
    iif: &str,
    oif: &str,
    gates: &Gates,
    gate_names: &GateNames,
) -> FwPacket {
    let get = |x: &BV| -> u128 {
        let bits = x.get_size();
        if bits <= 64 {
            return model.eval(x, true).and_then(|v| v.as_u64()).unwrap_or(0) as u128;
        }
        let hi = model
            .eval(&x.extract(bits - 1, 64), true)
            .and_then(|v| v.as_u64())
            .unwrap_or(0);
        let lo = model
            .eval(&x.extract(63, 0), true)
            .and_then(|v| v.as_u64())
            .unwrap_or(0);
        ((hi as u128) << 64) | lo as u128
    };
    let v6 = model
        .eval(&p.v6, true)
        .and_then(|b| b.as_bool())
        .unwrap_or(false);
    let mut open = Vec::new();
    let mut seen = BTreeSet::new();
    for (name, g) in gate_names {
        if g.v6 != v6 || !seen.insert((g.wo, g.v6)) {
            continue;
        }
        for (end, x) in [("source", &p.src), ("destination", &p.dst)] {
            if model
                .eval(&gates.open(g.wo, g.v6, x), true)
                .and_then(|b| b.as_bool())
                .unwrap_or(false)
            {
                open.push(format!("{end} in @{name}"));
            }
        }
    }
    FwPacket {
        iif: iif.to_string(),
        oif: oif.to_string(),
        v6,
        src: get(&p.src),
        dst: get(&p.dst),
        proto: get(&p.proto) as u8,
        sport: get(&p.sport) as u16,
        dport: get(&p.dport) as u16,
        icmp_type: get(&p.itype) as u8,
        icmp_code: get(&p.icode) as u8,
        ct_state: get(&p.ct) as u8,
        reply: get(&p.dir) == 1,
        mark: get(&p.mark) as u32,
        open,
    }
}
