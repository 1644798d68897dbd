//! Translation validation of a gateway's Suricata rules: the boundary rules, read back from
//! the emitted text, drop exactly the opening packets that no open conduit rule through the
//! gateway admits. The policy side is written from the IR and the placement (not from
//! [`crate::suricata::boundary`]), so the two check each other.
//!
//! A packet here is the first packet of a flow, in the initiator's direction: family,
//! addresses, protocol, destination port, ICMP type and code. Both differences must be
//! unsatisfiable: a packet the rules drop that the policy admits, or one they let pass that
//! the policy does not admit. Packets with the other family's ICMP protocol number (IPv6
//! carrying protocol 1, IPv4 carrying 58) are left out: they are malformed, and neither the
//! policy nor Suricata's decoders treat them as ICMP.
//!
//! The protocol-field rules (Modbus, DNP3, CIP) are checked by the real Suricata in the tests,
//! not here.

use super::{addr_in, in_range, k, transport, Failure, FwPacket, Proved, Sym};
use crate::placement::Placement;
use palisade_compiler::address::AddrRange;
use palisade_compiler::ir::{DeviceId, Policy, WorkOrderId};
use std::collections::BTreeMap;
use std::net::IpAddr;
use z3::ast::{Bool, BV};
use z3::{Params, SatResult, Solver};

/// One boundary rule as read back: what it matches of an opening packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BoundaryLine {
    pub proto: String,
    pub src: AddrSpec,
    pub dst: AddrSpec,
    pub dport: PortSpec,
    /// `ip_proto:!N` values (all must hold).
    pub not_protos: Vec<u8>,
    /// `itype` / `icode` conditions as inclusive intervals.
    pub itype: Option<(u8, u8)>,
    pub icode: Option<(u8, u8)>,
}

/// An address or port list of a rule header: `any`, an item, `[a,b]`, or a negation `!…`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Spec<T> {
    Any,
    List(Vec<T>),
    Not(Box<Spec<T>>),
}

pub type AddrSpec = Spec<AddrRange>;
pub type PortSpec = Spec<(u16, u16)>;

fn parse_spec<T>(s: &str, item: &impl Fn(&str) -> Result<T, String>) -> Result<Spec<T>, String> {
    if let Some(rest) = s.strip_prefix('!') {
        return Ok(Spec::Not(Box::new(parse_spec(rest, item)?)));
    }
    if s == "any" {
        return Ok(Spec::Any);
    }
    let inner = s
        .strip_prefix('[')
        .and_then(|x| x.strip_suffix(']'))
        .unwrap_or(s);
    inner
        .split(',')
        .map(item)
        .collect::<Result<_, _>>()
        .map(Spec::List)
}

/// `10.0.0.1`, `10.0.0.0/8`, `fd00::/64` as a range.
fn parse_cidr(item: &str) -> Result<AddrRange, String> {
    let (a, len) = match item.split_once('/') {
        Some((a, l)) => (
            a,
            Some(l.parse::<u32>().map_err(|e| format!("`{item}`: {e}"))?),
        ),
        None => (item, None),
    };
    let ip: IpAddr = a.parse().map_err(|e| format!("`{item}`: {e}"))?;
    let (v6, value, bits) = match ip {
        IpAddr::V4(x) => (false, u128::from(u32::from(x)), 32),
        IpAddr::V6(x) => (true, u128::from(x), 128),
    };
    let len = len.unwrap_or(bits);
    if len > bits {
        return Err(format!("`{item}`: prefix too long"));
    }
    let host = bits - len;
    let mask = if host >= 128 {
        u128::MAX
    } else {
        (1u128 << host) - 1
    };
    Ok(AddrRange {
        v6,
        lo: value & !mask,
        hi: value | mask,
    })
}

/// `502` or `1000:2000` as an inclusive range.
fn parse_port(item: &str) -> Result<(u16, u16), String> {
    let n = |x: &str| x.parse::<u16>().map_err(|e| format!("port `{item}`: {e}"));
    match item.split_once(':') {
        Some((a, b)) => Ok((n(a)?, n(b)?)),
        None => Ok((n(item)?, n(item)?)),
    }
}

fn parse_addr(s: &str) -> Result<AddrSpec, String> {
    parse_spec(s, &parse_cidr)
}

fn parse_ports(s: &str) -> Result<PortSpec, String> {
    parse_spec(s, &parse_port)
}

/// `itype:8;`, `itype:<8;`, `itype:>8;`, `itype:3<>9;` as an inclusive interval.
fn parse_byte(v: &str) -> Result<(u8, u8), String> {
    let n = |x: &str| x.trim().parse::<u16>().map_err(|e| format!("`{v}`: {e}"));
    let out = if let Some(x) = v.strip_prefix('<') {
        (0, n(x)?.checked_sub(1).ok_or("empty interval")?)
    } else if let Some(x) = v.strip_prefix('>') {
        (n(x)? + 1, 255)
    } else if let Some((a, b)) = v.split_once("<>") {
        (n(a)? + 1, n(b)?.checked_sub(1).ok_or("empty interval")?)
    } else {
        (n(v)?, n(v)?)
    };
    let b = |x: u16| u8::try_from(x).map_err(|_| format!("`{v}` out of range"));
    Ok((b(out.0)?, b(out.1)?))
}

/// The boundary rules of an emitted rules file: every rule line whose flow is exactly
/// `to_server` (the field rules run on established flows; the diodes' replies are
/// `to_client`).
pub fn read_boundary(text: &str) -> Result<Vec<BoundaryLine>, String> {
    let mut out = Vec::new();
    for line in text.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let (head, opts) = line
            .split_once(" (")
            .ok_or_else(|| format!("not a rule: `{line}`"))?;
        if !opts.contains("flow:to_server;") {
            continue;
        }
        let words: Vec<&str> = head.split_whitespace().collect();
        let [_, proto, src, _, arrow, dst, dport] = words.as_slice() else {
            return Err(format!("unexpected rule header `{head}`"));
        };
        if *arrow != "->" {
            return Err(format!("unexpected rule header `{head}`"));
        }
        let mut rule = BoundaryLine {
            proto: proto.to_string(),
            src: parse_addr(src)?,
            dst: parse_addr(dst)?,
            dport: parse_ports(dport)?,
            not_protos: Vec::new(),
            itype: None,
            icode: None,
        };
        // Options are `key:value;` separated by `; ` (msg text never holds `;`).
        for opt in opts.split(';').map(str::trim) {
            if let Some(v) = opt.strip_prefix("ip_proto:!") {
                rule.not_protos
                    .push(v.parse().map_err(|e| format!("`{opt}`: {e}"))?);
            } else if let Some(v) = opt.strip_prefix("itype:") {
                rule.itype = Some(parse_byte(v)?);
            } else if let Some(v) = opt.strip_prefix("icode:") {
                rule.icode = Some(parse_byte(v)?);
            } else if opt.starts_with("ip_proto:") {
                return Err(format!("unexpected option `{opt}`"));
            }
        }
        out.push(rule);
    }
    Ok(out)
}

/// Suricata's meaning of an address list. A negation negates within the families the list
/// names: `!fd00::/64` matches every IPv6 address outside it and no IPv4 address at all
/// (checked against Suricata 7 with pcaps).
fn addr_matches(p: &Sym, x: &BV, spec: &AddrSpec) -> Bool {
    match spec {
        AddrSpec::Any => Bool::from_bool(true),
        AddrSpec::List(r) => addr_in(p, x, r),
        AddrSpec::Not(inner) => {
            let families = families(inner);
            let named = Bool::or(&[
                Bool::and(&[p.v6.not(), Bool::from_bool(families.0)]),
                Bool::and(&[p.v6.clone(), Bool::from_bool(families.1)]),
            ]);
            Bool::and(&[named, addr_matches(p, x, inner).not()])
        }
    }
}

/// Whether a list names (IPv4, IPv6) addresses; `any` names both.
fn families(spec: &AddrSpec) -> (bool, bool) {
    match spec {
        AddrSpec::Any => (true, true),
        AddrSpec::List(r) => (r.iter().any(|x| !x.v6), r.iter().any(|x| x.v6)),
        AddrSpec::Not(inner) => families(inner),
    }
}

fn ports_match(x: &BV, spec: &PortSpec) -> Bool {
    match spec {
        PortSpec::Any => Bool::from_bool(true),
        PortSpec::List(l) => Bool::or(
            &l.iter()
                .map(|(a, b)| in_range(x, u128::from(*a), u128::from(*b)))
                .collect::<Vec<_>>(),
        ),
        PortSpec::Not(inner) => ports_match(x, inner).not(),
    }
}

fn line_matches(p: &Sym, r: &BoundaryLine) -> Result<Bool, String> {
    let proto = |n: u128| p.proto.eq(k(n, 8));
    let mut parts = vec![
        addr_matches(p, &p.src, &r.src),
        addr_matches(p, &p.dst, &r.dst),
    ];
    match r.proto.as_str() {
        "ip" => {}
        "tcp" => parts.push(proto(6)),
        "udp" => parts.push(proto(17)),
        "icmp" => parts.push(proto(1)),
        "icmpv6" => parts.push(proto(58)),
        other => return Err(format!("unexpected protocol `{other}` in a boundary rule")),
    }
    if r.proto == "tcp" || r.proto == "udp" {
        parts.push(ports_match(&p.dport, &r.dport));
    }
    for n in &r.not_protos {
        parts.push(proto(u128::from(*n)).not());
    }
    if let Some((a, b)) = r.itype {
        parts.push(in_range(&p.itype, a.into(), b.into()));
    }
    if let Some((a, b)) = r.icode {
        parts.push(in_range(&p.icode, a.into(), b.into()));
    }
    Ok(Bool::and(&parts))
}

/// What the policy admits through `device` with the orders in `open` open on their scopes.
fn admitted(
    policy: &Policy,
    placement: &Placement,
    device: DeviceId,
    open: &BTreeMap<WorkOrderId, Vec<AddrRange>>,
    p: &Sym,
) -> Bool {
    let mut rules: Vec<_> = placement.rules_on(device).map(|pl| pl.rule).collect();
    rules.sort();
    rules.dedup();
    let mut any = Vec::new();
    for id in rules {
        let Some(r) = policy.rule(id) else { continue };
        let scope = match r.workorder {
            Some(w) => match open.get(&w) {
                Some(s) => Some(s),
                None => continue,
            },
            None => None,
        };
        let svcs: Vec<Bool> = policy
            .leaf_services(&r.services)
            .iter()
            .filter_map(|s| policy.service(*s))
            .flat_map(|s| s.transports.iter())
            .map(|t| transport(p, t))
            .collect();
        let mut parts = vec![
            addr_in(p, &p.src, &r.src.addrs),
            addr_in(p, &p.dst, &r.dst.addrs),
            Bool::or(&svcs),
        ];
        if let Some(scope) = scope {
            parts.push(Bool::or(&[
                addr_in(p, &p.src, scope),
                addr_in(p, &p.dst, scope),
            ]));
        }
        any.push(Bool::and(&parts));
    }
    Bool::or(&any)
}

/// Prove that the boundary rules of one rules file drop exactly what the policy does not
/// admit through `device` (with `open` work orders open on the given scopes).
pub fn validate_gateway(
    policy: &Policy,
    placement: &Placement,
    device: DeviceId,
    text: &str,
    open: &BTreeMap<WorkOrderId, Vec<AddrRange>>,
) -> Result<Proved, Failure> {
    let lines = read_boundary(text).map_err(Failure::Unsupported)?;
    let p = Sym::new();
    let mut drops = Vec::new();
    for l in &lines {
        drops.push(line_matches(&p, l).map_err(Failure::Unsupported)?);
    }
    let dropped = Bool::or(&drops);
    let admitted = admitted(policy, placement, device, open, &p);
    let v4_bound = u128::from(u32::MAX);
    let domain = Bool::and(&[
        p.v6.ite(
            &Bool::from_bool(true),
            &Bool::and(&[in_range(&p.src, 0, v4_bound), in_range(&p.dst, 0, v4_bound)]),
        ),
        p.v6.ite(&p.proto.eq(k(1, 8)).not(), &p.proto.eq(k(58, 8)).not()),
    ]);
    let mut proved = Proved::default();
    for (ruleset_accepts, differs) in [
        (false, Bool::and(&[dropped.clone(), admitted.clone()])),
        (true, Bool::and(&[dropped.not(), admitted.not()])),
    ] {
        match differing(&[&domain, &differs], "the gateway's boundary")? {
            None => proved.queries += 1,
            Some(model) => {
                let num = |x: &BV| {
                    model
                        .eval(x, true)
                        .and_then(|v| {
                            v.to_string()
                                .strip_prefix("#x")
                                .and_then(|h| u128::from_str_radix(h, 16).ok())
                                .or_else(|| v.as_u64().map(u128::from))
                        })
                        .unwrap_or(0)
                };
                let v6 = model
                    .eval(&p.v6, true)
                    .and_then(|b| b.as_bool())
                    .unwrap_or(false);
                let packet = FwPacket {
                    iif: String::new(),
                    oif: String::new(),
                    v6,
                    src: num(&p.src),
                    dst: num(&p.dst),
                    proto: num(&p.proto) as u8,
                    sport: 0,
                    dport: num(&p.dport) as u16,
                    icmp_type: num(&p.itype) as u8,
                    icmp_code: num(&p.icode) as u8,
                    ct_state: 0,
                    reply: false,
                    mark: 0,
                    open: open
                        .keys()
                        .filter_map(|w| policy.workorder(*w).map(|x| x.name.clone()))
                        .collect(),
                };
                return Err(Failure::Differs {
                    packet: Box::new(packet),
                    ruleset_accepts,
                    policy_accepts: !ruleset_accepts,
                });
            }
        }
    }
    Ok(proved)
}

/// One difference query: `None` when no packet satisfies the constraints (that difference
/// is proved empty), else the model of a differing packet; a timeout is not a proof.
fn differing(constraints: &[&Bool], what: &str) -> Result<Option<z3::Model>, Failure> {
    let solver = Solver::new();
    let mut params = Params::new();
    params.set_u32("timeout", super::TIMEOUT_MS);
    solver.set_params(&params);
    for c in constraints {
        solver.assert(*c);
    }
    match solver.check() {
        SatResult::Unsat => Ok(None),
        SatResult::Unknown => Err(Failure::Unknown(format!("the solver gave up on {what}"))),
        SatResult::Sat => solver
            .get_model()
            .map(Some)
            .ok_or_else(|| Failure::Unknown("no model for a differing packet".into())),
    }
}

/// An address as the JSON allowlist writes it: `a`, `a/len` or `first-last`.
fn parse_json_addr(s: &str) -> Result<AddrRange, String> {
    match s.split_once('-') {
        Some((a, b)) => {
            let (x, y) = (parse_cidr(a)?, parse_cidr(b)?);
            if x.v6 != y.v6 {
                return Err(format!("address `{s}`"));
            }
            Ok(AddrRange {
                v6: x.v6,
                lo: x.lo,
                hi: y.hi,
            })
        }
        None => parse_cidr(s),
    }
}

fn json_transport(p: &Sym, t: &serde_json::Value) -> Result<Bool, String> {
    let num = |key: &str| t.get(key).and_then(|v| v.as_u64());
    let proto = t.get("protocol").and_then(|v| v.as_str()).unwrap_or("");
    let ports = t.get("ports");
    let range = |v: Option<&serde_json::Value>| -> Result<(u128, u128), String> {
        let v = v.ok_or("transport without ports")?;
        let f = |k: &str| v.get(k).and_then(|x| x.as_u64()).map(u128::from);
        Ok((f("from").ok_or("no `from`")?, f("to").ok_or("no `to`")?))
    };
    let opt_eq = |x: &BV, v: Option<u64>| {
        v.map(|v| x.eq(k(u128::from(v), 8)))
            .unwrap_or_else(|| Bool::from_bool(true))
    };
    let is = |n: u128| p.proto.eq(k(n, 8));
    Ok(match proto {
        "tcp" | "udp" => {
            let (lo, hi) = range(ports)?;
            Bool::and(&[
                is(if proto == "tcp" { 6 } else { 17 }),
                in_range(&p.dport, lo, hi),
            ])
        }
        "icmp" => Bool::and(&[
            p.v6.not(),
            is(1),
            opt_eq(&p.itype, num("type")),
            opt_eq(&p.icode, num("code")),
        ]),
        "icmpv6" => Bool::and(&[
            p.v6.clone(),
            is(58),
            opt_eq(&p.itype, num("type")),
            opt_eq(&p.icode, num("code")),
        ]),
        "ip" => is(u128::from(
            num("number").ok_or("ip transport without a number")?,
        )),
        "ethertype" => Bool::from_bool(false),
        other => return Err(format!("unknown transport protocol `{other}`")),
    })
}

/// Prove that a gateway's JSON allowlist, read back, admits exactly what the policy admits
/// through the gateway, for every combination of open work-order instances (a flow with a
/// `workorder` admits only packets with an end in an open instance of it, as on the
/// firewalls).
pub fn validate_allowlist(
    policy: &Policy,
    placement: &Placement,
    device: DeviceId,
    text: &str,
) -> Result<Proved, Failure> {
    let doc: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| Failure::Unsupported(format!("allowlist JSON: {e}")))?;
    let p = Sym::new();
    let gates = super::Gates::new(policy);
    let mut flows = Vec::new();
    let unsupported = Failure::Unsupported;
    for conduit in doc
        .get("conduits")
        .and_then(|c| c.as_array())
        .into_iter()
        .flatten()
    {
        for flow in conduit
            .get("flows")
            .and_then(|f| f.as_array())
            .into_iter()
            .flatten()
        {
            let addrs = |key: &str| -> Result<Vec<AddrRange>, Failure> {
                flow.get(key)
                    .and_then(|e| e.get("addresses"))
                    .and_then(|a| a.as_array())
                    .ok_or_else(|| unsupported(format!("flow without {key} addresses")))?
                    .iter()
                    .map(|a| {
                        a.as_str()
                            .ok_or("address is not a string".to_string())
                            .and_then(parse_json_addr)
                    })
                    .collect::<Result<Vec<_>, String>>()
                    .map_err(unsupported)
            };
            let mut transports = Vec::new();
            for svc in flow
                .get("services")
                .and_then(|s| s.as_array())
                .into_iter()
                .flatten()
            {
                for t in svc
                    .get("transports")
                    .and_then(|t| t.as_array())
                    .into_iter()
                    .flatten()
                {
                    transports.push(json_transport(&p, t).map_err(unsupported)?);
                }
            }
            let mut parts = vec![
                addr_in(&p, &p.src, &addrs("source")?),
                addr_in(&p, &p.dst, &addrs("destination")?),
                Bool::or(&transports),
            ];
            if let Some(name) = flow
                .get("workorder")
                .and_then(|w| w.get("name"))
                .and_then(|n| n.as_str())
            {
                let w = policy
                    .workorders
                    .iter()
                    .position(|w| w.name == name)
                    .map(|i| WorkOrderId(i as u32))
                    .ok_or_else(|| unsupported(format!("unknown work order `{name}`")))?;
                parts.push(gates.either_end(w, &p));
            }
            flows.push(Bool::and(&parts));
        }
    }
    let listed = Bool::or(&flows);
    // The policy: every rule placed on the gateway, gated like the firewalls' work orders.
    let mut rules: Vec<_> = placement.rules_on(device).map(|pl| pl.rule).collect();
    rules.sort();
    rules.dedup();
    let mut admitted = Vec::new();
    for id in rules {
        let Some(r) = policy.rule(id) else { continue };
        let svcs: Vec<Bool> = policy
            .leaf_services(&r.services)
            .iter()
            .filter_map(|s| policy.service(*s))
            .flat_map(|s| s.transports.iter())
            .map(|t| transport(&p, t))
            .collect();
        let mut parts = vec![
            addr_in(&p, &p.src, &r.src.addrs),
            addr_in(&p, &p.dst, &r.dst.addrs),
            Bool::or(&svcs),
        ];
        if let Some(w) = r.workorder {
            parts.push(gates.either_end(w, &p));
        }
        admitted.push(Bool::and(&parts));
    }
    let admitted = Bool::or(&admitted);
    let mut proved = Proved::default();
    for (ruleset_accepts, differs) in [
        (true, Bool::and(&[listed.clone(), admitted.not()])),
        (false, Bool::and(&[listed.not(), admitted.clone()])),
    ] {
        if differing(&[&differs], "the allowlist")?.is_none() {
            proved.queries += 1;
            continue;
        }
        return Err(Failure::Unsupported(format!(
            "the allowlist {} a packet the policy {}",
            if ruleset_accepts { "admits" } else { "refuses" },
            if ruleset_accepts { "refuses" } else { "admits" }
        )));
    }
    Ok(proved)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_boundary_syntax() {
        let text = "# c\ndrop ip !10.1.0.10 any -> any any (msg:\"x\"; flow:to_server; sid:1; rev:1;)\n\
                    drop tcp 10.1.0.10 any -> [10.2.0.0/24,fd00::1] ![502,1000:2000] (msg:\"y\"; flow:to_server; sid:2; rev:1;)\n\
                    drop icmp 10.1.0.10 any -> 10.2.0.11 any (msg:\"z\"; flow:to_server; itype:3<>9; icode:>0; sid:3; rev:1;)\n\
                    drop modbus 10.1.0.10 any -> 10.2.0.11 502 (msg:\"f\"; flow:to_server,established; modbus: function 1; sid:4; rev:1;)\n";
        let r = read_boundary(text).unwrap();
        assert_eq!(r.len(), 3);
        assert!(matches!(&r[0].src, AddrSpec::Not(_)));
        assert_eq!(
            r[1].dport,
            PortSpec::Not(Box::new(PortSpec::List(vec![(502, 502), (1000, 2000)])))
        );
        assert_eq!(r[2].itype, Some((4, 8)));
        assert_eq!(r[2].icode, Some((1, 255)));
    }
}
