//! Translation validation of Cisco IOS configurations, at the level IOS enforces: inbound ACLs
//! filter by ingress interface and addresses (the egress interface follows from routing), and
//! replies pass through reflexive entries, not connection tracking.
//!
//! The policy's meaning for such a device, per packet arriving on interface I:
//! - a packet in the initiator's direction (new, or later packets of the session) passes if a
//!   rule placed with ingress I admits it (work-order rules: while an end is in an open scope);
//! - a reply (established or related, reply direction) passes if it mirrors a TCP or UDP rule
//!   placed with egress I that is not on a diode — the reflexive entry outlives a closing work
//!   order by at most its timeout, so the scope is not required of replies;
//! - an ICMP echo reply mirroring an echo-request rule with egress I passes in any state (IOS
//!   has no state for it; the ACE is stateless and gated like its rule);
//! - invalid packets are not modelled (IOS has no such state).

use super::{
    addr_in, in_range, k, transport, Failure, GateNames, Gates, Proved, Query, Sym, OTHER_IFACE,
};
use crate::placement::Placement;
use crate::readback::{Ruleset, CT_ESTABLISHED, CT_INVALID, CT_NEW, CT_RELATED};
use palisade_compiler::ir::{DeviceId, Policy, Rule, Transport};
use z3::ast::Bool;

fn services(policy: &Policy, r: &Rule) -> Vec<Transport> {
    policy
        .leaf_services(&r.services)
        .iter()
        .filter_map(|s| policy.service(*s))
        .flat_map(|s| s.transports.iter().copied())
        .collect()
}

/// The packet mirrors transport `t` of a rule: source port in its ports.
fn mirrored(p: &Sym, t: &Transport) -> Bool {
    let proto = |n: u128| p.proto.eq(k(n, 8));
    match *t {
        Transport::Tcp { lo, hi } => {
            Bool::and(&[proto(6), in_range(&p.sport, lo as u128, hi as u128)])
        }
        Transport::Udp { lo, hi } => {
            Bool::and(&[proto(17), in_range(&p.sport, lo as u128, hi as u128)])
        }
        _ => Bool::from_bool(false),
    }
}

fn echo_reply(p: &Sym, t: &Transport) -> Bool {
    match *t {
        Transport::Icmp {
            icmp_type: Some(8), ..
        } => Bool::and(&[p.v6.not(), p.proto.eq(k(1, 8)), p.itype.eq(k(0, 8))]),
        Transport::Icmpv6 {
            icmp_type: Some(128),
            ..
        } => Bool::and(&[p.v6.clone(), p.proto.eq(k(58, 8)), p.itype.eq(k(129, 8))]),
        _ => Bool::from_bool(false),
    }
}

fn policy_in(
    policy: &Policy,
    placement: &Placement,
    device: DeviceId,
    p: &Sym,
    iif: &str,
    gates: &Gates,
) -> Bool {
    let reply = Bool::and(&[
        p.dir.eq(k(1, 1)),
        Bool::or(&[p.ct.eq(k(CT_ESTABLISHED, 2)), p.ct.eq(k(CT_RELATED, 2))]),
    ]);
    let mut parts = Vec::new();
    for pl in placement.rules_on(device) {
        let Some(r) = policy.rule(pl.rule) else {
            continue;
        };
        let ts = services(policy, r);
        let gate = r
            .workorder
            .map(|wo| gates.either_end(wo, p))
            .unwrap_or_else(|| Bool::from_bool(true));
        if pl.in_iface == iif {
            let t: Vec<Bool> = ts.iter().map(|t| transport(p, t)).collect();
            parts.push(Bool::and(&[
                addr_in(p, &p.src, &r.src.addrs),
                addr_in(p, &p.dst, &r.dst.addrs),
                Bool::or(&t),
                gate.clone(),
            ]));
        }
        let diode = policy.conduit(r.conduit).is_some_and(|c| c.unidirectional);
        if pl.out_iface == iif && !diode {
            let back = Bool::and(&[
                addr_in(p, &p.src, &r.dst.addrs),
                addr_in(p, &p.dst, &r.src.addrs),
            ]);
            let m: Vec<Bool> = ts.iter().map(|t| mirrored(p, t)).collect();
            parts.push(Bool::and(&[back.clone(), reply.clone(), Bool::or(&m)]));
            let e: Vec<Bool> = ts.iter().map(|t| echo_reply(p, t)).collect();
            parts.push(Bool::and(&[back, Bool::or(&e), gate]));
        }
    }
    Bool::or(&parts)
}

/// Prove an IOS configuration (read with [`crate::readback::cisco`]) equal to the policy on
/// `device`, for each declared ingress interface.
pub fn validate_cisco(
    policy: &Policy,
    placement: &Placement,
    device: DeviceId,
    rs: &Ruleset,
    gate_names: &GateNames,
) -> Result<Proved, Failure> {
    // Only declared interfaces: IOS forwards whatever an interface without an inbound ACL
    // receives, and Palisade binds ACLs only to the interfaces the policy names.
    let ifaces: Vec<String> = policy
        .device(device)
        .map(|d| d.interfaces.iter().map(|i| i.name.clone()).collect())
        .unwrap_or_default();
    let gates = Gates::new(policy);
    let mut proved = Proved::default();
    for iif in &ifaces {
        let p = Sym::new();
        let pol = policy_in(policy, placement, device, &p, iif, &gates);
        let enc = super::Enc::new(rs, &p, iif, OTHER_IFACE, &gates, gate_names);
        let o = enc.ruleset().map_err(Failure::Unsupported)?;
        let well_formed = Bool::and(&[
            p.v6.not().implies(Bool::and(&[
                p.src.bvule(k(u32::MAX as u128, 128)),
                p.dst.bvule(k(u32::MAX as u128, 128)),
            ])),
            p.ct.eq(k(CT_INVALID, 2)).not(),
            p.ct.eq(k(CT_NEW, 2)).implies(p.dir.eq(k(0, 1))),
            p.mark.eq(k(0, 32)),
        ]);
        let differs = o.accept.xor(&pol);
        let q = Query {
            p: &p,
            iif,
            oif: OTHER_IFACE,
            gates: &gates,
            gate_names,
            rs_accept: &o.accept,
            pol_accept: &pol,
        };
        q.prove(&well_formed, &differs)?;
        proved.queries += 1;
    }
    Ok(proved)
}
