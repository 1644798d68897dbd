//! Suricata rule syntax: address and port lists and sids (text from the source goes through
//! [`crate::text`]).

use super::complement::Unit;
use super::{Planned, SID_BASE, SID_SPAN};
use palisade_compiler::address::AddrRange;
use palisade_compiler::hash::sha256_hex;
use std::collections::BTreeSet;

/// `5` or `5-9`.
pub(super) fn range_text(lo: u32, hi: u32) -> String {
    if lo == hi {
        lo.to_string()
    } else {
        format!("{lo}-{hi}")
    }
}

/// The argument of `modbus: unit`.
pub(super) fn unit_text(u: Unit) -> String {
    match u {
        Unit::Is(n) => n.to_string(),
        Unit::Below(n) => format!("<{n}"),
        Unit::Above(n) => format!(">{n}"),
        Unit::Between(a, b) => format!("{a}<>{b}"),
    }
}

/// Addresses for a comment: `10.0.0.1, 10.0.1.0/24`.
pub(super) fn ranges_text(r: &[AddrRange]) -> String {
    let v: Vec<String> = r.iter().map(|r| r.to_string()).collect();
    v.join(", ")
}

/// Suricata's address list: CIDR blocks, bracketed when more than one.
pub(super) fn addr_list(ranges: &[AddrRange]) -> String {
    let items: Vec<String> = ranges
        .iter()
        .flat_map(|r| r.to_cidrs())
        .map(|c| {
            let full = if c.v6 { 128 } else { 32 };
            let a = palisade_compiler::address::fmt_addr(c.v6, c.addr);
            if c.prefix == full {
                a
            } else {
                format!("{a}/{}", c.prefix)
            }
        })
        .collect();
    match items.as_slice() {
        [one] => one.clone(),
        _ => format!("[{}]", items.join(",")),
    }
}

/// Suricata's port list: `502`, `5000:5010`, bracketed when more than one.
pub(super) fn port_list(ports: &[(u16, u16)]) -> String {
    let items: Vec<String> = ports
        .iter()
        .map(|&(a, b)| {
            if a == b {
                a.to_string()
            } else {
                format!("{a}:{b}")
            }
        })
        .collect();
    match items.as_slice() {
        [one] => one.clone(),
        _ => format!("[{}]", items.join(",")),
    }
}

/// A sid per planned rule from its identity; collisions move to the next free sid, in the
/// order of the identities, so the outcome does not depend on the rules' positions.
pub(super) fn assign_sids(planned: &[Planned]) -> Vec<u32> {
    let preferred = |identity: &str| -> u32 {
        let hex = sha256_hex(identity.as_bytes());
        let n = u64::from_str_radix(hex.get(..16).unwrap_or("0"), 16).unwrap_or(0);
        SID_BASE + (n % u64::from(SID_SPAN)) as u32
    };
    let mut order: Vec<usize> = (0..planned.len()).collect();
    order.sort_by(|a, b| {
        planned
            .get(*a)
            .map(|p| &p.identity)
            .cmp(&planned.get(*b).map(|p| &p.identity))
    });
    let mut used = BTreeSet::new();
    let mut sids = vec![0; planned.len()];
    for i in order {
        let Some(p) = planned.get(i) else { continue };
        let mut sid = preferred(&p.identity);
        while !used.insert(sid) {
            sid = SID_BASE + (sid - SID_BASE + 1) % SID_SPAN;
        }
        if let Some(slot) = sids.get_mut(i) {
            *slot = sid;
        }
    }
    sids
}
