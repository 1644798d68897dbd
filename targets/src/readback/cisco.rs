//! Reader of the IOS configurations Palisade writes: network object groups, extended and
//! IPv6 ACLs (`permit`/`deny`, `reflect`, `evaluate`, `remark`) and the interfaces' inbound
//! bindings. There is no offline IOS validator; this reader plus [`crate::validate`] is the
//! check, and the same reader can read a device's `show running-config` for drift detection.
//!
//! The model: a base chain dispatches on the ingress interface and family to the bound ACL
//! (an interface with no ACL forwards everything); an ACL ends in an implicit deny.
//! `evaluate NAME` accepts replies (reply direction, established or related) that mirror an
//! ACE carrying `reflect NAME`; a work-order group in a mirrored ACE stands for every address
//! it may hold, since a reflected entry outlives the group's contents.

use super::{
    err, parse_addr, parse_addr_range, parse_num, proto_number, Chain, Cond, Field, NamedSet,
    ReadError, Rule, Ruleset, Values, Verdict, CT_ESTABLISHED, CT_RELATED,
};
use crate::validate::GateNames;
use std::collections::BTreeMap;

fn m(field: Field, values: Values) -> Cond {
    Cond::Match {
        field,
        mask: None,
        values,
        negated: false,
    }
}

/// An address operand: `any`, `host A`, `object-group N`, `A WILDCARD`, `P/LEN`.
fn operand(w: &[&str], i: &mut usize, v6: bool, line: usize) -> Result<Option<Values>, ReadError> {
    let word = w.get(*i).copied().unwrap_or_default();
    *i += 1;
    match word {
        "any" => Ok(None),
        "host" => {
            let a = w.get(*i).copied().unwrap_or_default();
            *i += 1;
            match parse_addr(a) {
                Some((f, v)) if f == v6 => Ok(Some(Values::point(v))),
                _ => err(line, format!("bad host `{a}`")),
            }
        }
        "object-group" => {
            let n = w.get(*i).copied().unwrap_or_default();
            *i += 1;
            Ok(Some(Values::Set(n.to_string())))
        }
        a if v6 => match parse_addr_range(a) {
            Some((true, lo, hi)) => Ok(Some(Values::Ranges(vec![(lo, hi)]))),
            _ => err(line, format!("bad IPv6 prefix `{a}`")),
        },
        a => {
            let wild = w.get(*i).copied().unwrap_or_default();
            *i += 1;
            match (parse_addr(a), parse_addr(wild)) {
                (Some((false, base)), Some((false, mask))) => {
                    Ok(Some(Values::Ranges(vec![(base & !mask, base | mask)])))
                }
                _ => err(line, format!("bad address `{a} {wild}`")),
            }
        }
    }
}

fn port_op(w: &[&str], i: &mut usize, line: usize) -> Result<Option<Values>, ReadError> {
    match w.get(*i).copied() {
        Some("eq") => {
            let v = w.get(*i + 1).and_then(|s| parse_num(s));
            *i += 2;
            v.map(|v| Some(Values::point(v))).ok_or(ReadError {
                line,
                message: "bad `eq`".into(),
            })
        }
        Some("range") => {
            let a = w.get(*i + 1).and_then(|s| parse_num(s));
            let b = w.get(*i + 2).and_then(|s| parse_num(s));
            *i += 3;
            match (a, b) {
                (Some(a), Some(b)) => Ok(Some(Values::Ranges(vec![(a, b)]))),
                _ => err(line, "bad `range`"),
            }
        }
        Some(op @ ("gt" | "lt" | "neq")) => err(line, format!("unsupported port operator `{op}`")),
        _ => Ok(None),
    }
}

struct Ace {
    rule: Rule,
    reflect: Option<String>,
}

fn ace(text: &str, v6: bool, line: usize) -> Result<Ace, ReadError> {
    let w: Vec<&str> = text.split_whitespace().collect();
    let mut r = Rule::new(vec![Cond::Family(v6)], None);
    r.verdict = Some(match w.first().copied() {
        Some("permit") => Verdict::Accept,
        Some("deny") => Verdict::Drop,
        other => {
            return err(
                line,
                format!("unsupported ACL entry `{}`", other.unwrap_or_default()),
            )
        }
    });
    let proto = w.get(1).copied().unwrap_or_default();
    let tcp_udp = proto == "tcp" || proto == "udp";
    let icmp = proto == "icmp";
    if proto != "ip" && proto != "ipv6" {
        let n = match (proto, v6) {
            ("icmp", true) => 58,
            _ => proto_number(proto).ok_or(ReadError {
                line,
                message: format!("unknown protocol `{proto}`"),
            })?,
        };
        r.conds.push(m(Field::Proto, Values::point(n as u128)));
    }
    let mut i = 2;
    if let Some(v) = operand(&w, &mut i, v6, line)? {
        r.conds.push(m(Field::Saddr, v));
    }
    if tcp_udp {
        if let Some(v) = port_op(&w, &mut i, line)? {
            r.conds.push(m(Field::Sport, v));
        }
    }
    if let Some(v) = operand(&w, &mut i, v6, line)? {
        r.conds.push(m(Field::Daddr, v));
    }
    if tcp_udp {
        if let Some(v) = port_op(&w, &mut i, line)? {
            r.conds.push(m(Field::Dport, v));
        }
    }
    if icmp {
        if let Some(t) = w.get(i).and_then(|s| parse_num(s)) {
            r.conds.push(m(Field::IcmpType, Values::point(t)));
            i += 1;
            if let Some(c) = w.get(i).and_then(|s| parse_num(s)) {
                r.conds.push(m(Field::IcmpCode, Values::point(c)));
                i += 1;
            }
        }
    }
    let mut reflect = None;
    while let Some(word) = w.get(i).copied() {
        i += 1;
        match word {
            "established" => r.conds.push(m(
                Field::CtState,
                Values::Ranges(vec![(CT_ESTABLISHED, CT_RELATED)]),
            )),
            "log" | "log-input" => {
                // An optional cookie follows.
                if w.get(i)
                    .is_some_and(|c| !matches!(*c, "reflect" | "timeout"))
                {
                    i += 1;
                }
            }
            "reflect" => {
                reflect = w.get(i).map(|s| s.to_string());
                i += 1;
            }
            "timeout" => i += 1,
            other => return err(line, format!("unsupported ACL option `{other}`")),
        }
    }
    Ok(Ace { rule: r, reflect })
}

/// The mirror of an ACE: ends and ports swapped; work-order groups widened to what they may
/// hold.
fn mirror(r: &Rule, gates: &GateNames) -> Rule {
    let mut out = Rule::new(Vec::new(), Some(Verdict::Accept));
    for c in &r.conds {
        out.conds.push(match c {
            Cond::Match {
                field,
                mask,
                values,
                negated,
            } => {
                let f = match field {
                    Field::Saddr => Field::Daddr,
                    Field::Daddr => Field::Saddr,
                    Field::Sport => Field::Dport,
                    Field::Dport => Field::Sport,
                    f => *f,
                };
                let values = match values {
                    Values::Set(n) => match gates.get(n).and_then(|g| g.within.clone()) {
                        Some(w) => Values::Ranges(w),
                        None => values.clone(),
                    },
                    v => v.clone(),
                };
                Cond::Match {
                    field: f,
                    mask: *mask,
                    values,
                    negated: *negated,
                }
            }
            c => c.clone(),
        });
    }
    out.conds.push(m(Field::CtDirection, Values::point(1)));
    out.conds.push(m(
        Field::CtState,
        Values::Ranges(vec![(CT_ESTABLISHED, CT_RELATED)]),
    ));
    out
}

enum Block {
    None,
    Group(String),
    Acl(String),
    Interface(String),
}

/// Read an IOS configuration; `gates` names the work-order groups (dynamic).
pub fn read(text: &str, gates: &GateNames) -> Result<Ruleset, ReadError> {
    let mut rs = Ruleset::default();
    let mut acls: BTreeMap<String, (bool, Vec<(usize, String)>)> = BTreeMap::new();
    let mut bindings: Vec<(String, bool, String)> = Vec::new();
    let mut block = Block::None;
    for (n, raw) in text.lines().enumerate() {
        let line = n + 1;
        if raw.starts_with('!') || raw.trim().is_empty() {
            continue;
        }
        let body = raw.trim();
        if !raw.starts_with(' ') {
            let w: Vec<&str> = body.split_whitespace().collect();
            block = match w.as_slice() {
                ["object-group", "network", name] => {
                    rs.sets.insert(
                        name.to_string(),
                        NamedSet {
                            ranges: Vec::new(),
                            dynamic: gates.contains_key(*name),
                        },
                    );
                    Block::Group(name.to_string())
                }
                ["ip", "access-list", "extended", name] => {
                    acls.insert(name.to_string(), (false, Vec::new()));
                    Block::Acl(name.to_string())
                }
                ["ipv6", "access-list", name] => {
                    acls.insert(name.to_string(), (true, Vec::new()));
                    Block::Acl(name.to_string())
                }
                ["interface", name] => Block::Interface(name.to_string()),
                ["ip", "access-list", "logging", ..] | ["end"] => Block::None,
                _ => return err(line, format!("unsupported configuration line `{body}`")),
            };
            continue;
        }
        match &block {
            Block::Group(name) => {
                let w: Vec<&str> = body.split_whitespace().collect();
                if w.first() == Some(&"description") {
                    continue;
                }
                // `host A` or `A NETMASK` (a netmask here, a wildcard in ACEs).
                let range = match w.as_slice() {
                    ["host", a] => parse_addr(a).filter(|(v6, _)| !v6).map(|(_, v)| (v, v)),
                    [a, mask] => match (parse_addr(a), parse_addr(mask)) {
                        (Some((false, base)), Some((false, m))) => {
                            Some((base & m, base | (!m & u32::MAX as u128)))
                        }
                        _ => None,
                    },
                    _ => None,
                };
                match (rs.sets.get_mut(name), range) {
                    (Some(set), Some(r)) => set.ranges.push(r),
                    _ => return err(line, format!("unsupported object-group entry `{body}`")),
                }
            }
            Block::Acl(name) => {
                if let Some((_, lines)) = acls.get_mut(name) {
                    lines.push((line, body.to_string()));
                }
            }
            Block::Interface(iface) => {
                let w: Vec<&str> = body.split_whitespace().collect();
                match w.as_slice() {
                    ["ip", "access-group", acl, "in"] => {
                        bindings.push((iface.clone(), false, acl.to_string()))
                    }
                    ["ipv6", "traffic-filter", acl, "in"] => {
                        bindings.push((iface.clone(), true, acl.to_string()))
                    }
                    _ => return err(line, format!("unsupported interface line `{body}`")),
                }
            }
            Block::None => return err(line, format!("unexpected `{body}`")),
        }
    }
    // ACEs, then `evaluate` as the mirrors of every ACE reflecting into that list.
    let mut parsed: BTreeMap<String, Vec<Result<Ace, String>>> = BTreeMap::new();
    let mut reflected: BTreeMap<String, Vec<Rule>> = BTreeMap::new();
    for (name, (v6, lines)) in &acls {
        let mut aces = Vec::new();
        for (line, text) in lines {
            if text.starts_with("remark") {
                continue;
            }
            if let Some(list) = text.strip_prefix("evaluate ") {
                aces.push(Err(list.trim().to_string()));
                continue;
            }
            let a = ace(text, *v6, *line)?;
            if let Some(list) = &a.reflect {
                reflected
                    .entry(list.clone())
                    .or_default()
                    .push(mirror(&a.rule, gates));
            }
            aces.push(Ok(a));
        }
        parsed.insert(name.clone(), aces);
    }
    for (name, aces) in parsed {
        let mut chain = Chain::default();
        for a in aces {
            match a {
                Ok(a) => chain.rules.push(a.rule),
                Err(list) => chain
                    .rules
                    .extend(reflected.get(&list).cloned().unwrap_or_default()),
            }
        }
        chain.rules.push(Rule::new(Vec::new(), Some(Verdict::Drop)));
        rs.chains.insert(name, chain);
    }
    let mut ingress = Chain {
        policy_accept: Some(true),
        rules: Vec::new(),
    };
    for (iface, v6, acl) in bindings {
        ingress.rules.push(Rule::new(
            vec![
                Cond::Iface {
                    out: false,
                    names: vec![iface],
                    negated: false,
                },
                Cond::Family(v6),
            ],
            Some(Verdict::Goto(acl)),
        ));
    }
    rs.chains.insert("ingress".into(), ingress);
    rs.base.push("ingress".into());
    Ok(rs)
}
