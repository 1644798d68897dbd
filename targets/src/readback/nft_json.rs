//! Reader of `nft -j list ruleset` (libnftables JSON schema 1): what the kernel really holds
//! in the table `inet palisade`. Other tables are ignored; their base chains can only drop
//! more, never accept what this table drops.

use super::{
    ct_state, err, parse_addr_range, proto_number, Chain, Cond, Field, KeyPart, KeyValue, MapRef,
    NamedSet, ReadError, Rule, Ruleset, Values, Verdict, VerdictMap,
};
use serde_json::Value;

fn s(v: &Value) -> Option<&str> {
    v.as_str()
}

fn ours(obj: &Value) -> bool {
    obj.get("family").and_then(s) == Some("inet")
        && obj.get("table").and_then(s) == Some(crate::nftables::TABLE)
}

/// Read the table `inet palisade` from the kernel's JSON listing.
pub fn read(json: &str) -> Result<Ruleset, ReadError> {
    let doc: Value = serde_json::from_str(json).map_err(|e| ReadError {
        line: 0,
        message: format!("not JSON: {e}"),
    })?;
    let Some(items) = doc.get("nftables").and_then(Value::as_array) else {
        return err(0, "no `nftables` array");
    };
    let mut rs = Ruleset::default();
    let mut found = false;
    for item in items {
        if let Some(t) = item.get("table") {
            found |= t.get("family").and_then(s) == Some("inet")
                && t.get("name").and_then(s) == Some(crate::nftables::TABLE);
        }
        if let Some(set) = item.get("set").filter(|o| ours(o)) {
            let name = set.get("name").and_then(s).unwrap_or_default().to_string();
            rs.sets.insert(name, read_set(set)?);
        }
        if let Some(map) = item.get("map").filter(|o| ours(o)) {
            let name = map.get("name").and_then(s).unwrap_or_default().to_string();
            let mut vm = VerdictMap::default();
            for e in map
                .get("elem")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                vm.elements.push(map_element(e)?);
            }
            rs.maps.insert(name, vm);
        }
        if let Some(chain) = item.get("chain").filter(|o| ours(o)) {
            let name = chain
                .get("name")
                .and_then(s)
                .unwrap_or_default()
                .to_string();
            let mut c = Chain::default();
            if let Some(hook) = chain.get("hook").and_then(s) {
                if hook != "forward" || chain.get("type").and_then(s) != Some("filter") {
                    return err(
                        0,
                        format!("unexpected base chain `{name}` on hook `{hook}`"),
                    );
                }
                c.policy_accept = Some(chain.get("policy").and_then(s) == Some("accept"));
                rs.base.push(name.clone());
            }
            rs.chains.insert(name, c);
        }
        if let Some(rule) = item.get("rule").filter(|o| ours(o)) {
            let chain = rule
                .get("chain")
                .and_then(s)
                .unwrap_or_default()
                .to_string();
            let r = read_rule(rule)?;
            rs.chains.entry(chain).or_default().rules.push(r);
        }
    }
    if !found {
        return err(
            0,
            format!("the kernel has no table inet {}", crate::nftables::TABLE),
        );
    }
    Ok(rs)
}

fn read_set(set: &Value) -> Result<NamedSet, ReadError> {
    let flags: Vec<&str> = set
        .get("flags")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(s)
        .collect();
    let mut ns = NamedSet {
        ranges: Vec::new(),
        dynamic: flags.contains(&"timeout") || flags.contains(&"dynamic"),
    };
    for e in set
        .get("elem")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let v = e.get("elem").and_then(|x| x.get("val")).unwrap_or(e);
        match range(v) {
            Some(r) => ns.ranges.push(r),
            None => return err(0, format!("bad set element {v}")),
        }
    }
    Ok(ns)
}

/// A value as an inclusive range: address, prefix, range, number.
fn range(v: &Value) -> Option<(u128, u128)> {
    if let Some(n) = v.as_u64() {
        return Some((n as u128, n as u128));
    }
    if let Some(t) = v.as_str() {
        return parse_addr_range(t).map(|(_, lo, hi)| (lo, hi));
    }
    if let Some(p) = v.get("prefix") {
        let text = format!("{}/{}", p.get("addr").and_then(s)?, p.get("len")?.as_u64()?);
        return parse_addr_range(&text).map(|(_, lo, hi)| (lo, hi));
    }
    if let Some([a, b]) = v.get("range").and_then(Value::as_array).map(Vec::as_slice) {
        return Some((range(a)?.0, range(b)?.1));
    }
    None
}

fn verdict(v: &Value) -> Option<Verdict> {
    let obj = v.as_object()?;
    let (k, body) = obj.iter().next()?;
    let target = || body.get("target").and_then(s).map(str::to_string);
    Some(match k.as_str() {
        "accept" => Verdict::Accept,
        "drop" => Verdict::Drop,
        "return" => Verdict::Return,
        "jump" => Verdict::Jump(target()?),
        "goto" => Verdict::Goto(target()?),
        _ => return None,
    })
}

fn key_value(v: &Value) -> Option<KeyValue> {
    if let Some(t) = v.as_str() {
        if let Some((_, lo, hi)) = parse_addr_range(t) {
            return Some(KeyValue::Range(lo, hi));
        }
        return Some(KeyValue::Name(t.to_string()));
    }
    range(v).map(|(lo, hi)| KeyValue::Range(lo, hi))
}

fn map_element(e: &Value) -> Result<(Vec<KeyValue>, Verdict), ReadError> {
    let (Some(key), Some(val)) = (e.get(0), e.get(1)) else {
        return err(0, format!("bad map element {e}"));
    };
    let key = key.get("elem").and_then(|x| x.get("val")).unwrap_or(key);
    let parts: Vec<&Value> = match key.get("concat").and_then(Value::as_array) {
        Some(a) => a.iter().collect(),
        None => vec![key],
    };
    let mut k = Vec::new();
    for p in parts {
        match key_value(p) {
            Some(v) => k.push(v),
            None => return err(0, format!("bad map key {p}")),
        }
    }
    match verdict(val) {
        Some(v) => Ok((k, v)),
        None => err(0, format!("bad map verdict {val}")),
    }
}

/// The field (and mask) an expression reads, with the conditions it implies.
fn field_of(left: &Value) -> Result<(KeyPart, Vec<Cond>), ReadError> {
    if let Some(p) = left.get("payload") {
        let proto = p.get("protocol").and_then(s).unwrap_or_default();
        let f = p.get("field").and_then(s).unwrap_or_default();
        let field = match (proto, f) {
            ("ip" | "ip6", "saddr") => Field::Saddr,
            ("ip" | "ip6", "daddr") => Field::Daddr,
            ("tcp" | "udp", "dport") => Field::Dport,
            ("tcp" | "udp", "sport") => Field::Sport,
            ("icmp" | "icmpv6", "type") => Field::IcmpType,
            ("icmp" | "icmpv6", "code") => Field::IcmpCode,
            _ => return err(0, format!("unsupported payload {proto} {f}")),
        };
        let implied = match proto {
            "ip" | "ip6" => vec![Cond::Family(proto == "ip6")],
            "tcp" | "udp" => vec![Cond::Match {
                field: Field::Proto,
                mask: None,
                values: Values::point(if proto == "tcp" { 6 } else { 17 }),
                negated: false,
            }],
            _ => vec![
                Cond::Family(proto == "icmpv6"),
                Cond::Match {
                    field: Field::Proto,
                    mask: None,
                    values: Values::point(if proto == "icmpv6" { 58 } else { 1 }),
                    negated: false,
                },
            ],
        };
        return Ok((KeyPart::Field { field, mask: None }, implied));
    }
    if let Some(m) = left.get("meta") {
        return match m.get("key").and_then(s) {
            Some("iifname") => Ok((KeyPart::Iif, vec![])),
            Some("oifname") => Ok((KeyPart::Oif, vec![])),
            Some("l4proto") => Ok((
                KeyPart::Field {
                    field: Field::Proto,
                    mask: None,
                },
                vec![],
            )),
            k => err(0, format!("unsupported meta {k:?}")),
        };
    }
    if let Some(c) = left.get("ct") {
        let field = match c.get("key").and_then(s) {
            Some("state") => Field::CtState,
            Some("direction") => Field::CtDirection,
            Some("mark") => Field::CtMark,
            k => return err(0, format!("unsupported ct {k:?}")),
        };
        return Ok((KeyPart::Field { field, mask: None }, vec![]));
    }
    if let Some([inner, mask]) = left.get("&").and_then(Value::as_array).map(Vec::as_slice) {
        let (part, implied) = field_of(inner)?;
        if let KeyPart::Field { field, .. } = part {
            return Ok((
                KeyPart::Field {
                    field,
                    mask: mask.as_u64().map(u128::from),
                },
                implied,
            ));
        }
    }
    err(0, format!("unsupported expression {left}"))
}

/// The values a right-hand side names, for `field`.
fn values_of(field: Field, right: &Value) -> Result<Values, ReadError> {
    if let Some(name) = right.as_str().and_then(|t| t.strip_prefix('@')) {
        return Ok(Values::Set(name.to_string()));
    }
    let items: Vec<&Value> = match (right.as_array(), right.get("set").and_then(Value::as_array)) {
        (Some(a), _) | (None, Some(a)) => a.iter().collect(),
        _ => vec![right],
    };
    let mut out = Vec::new();
    for it in items {
        let r = match field {
            Field::CtState => match (it.as_str(), it.as_u64()) {
                (Some(name), _) => ct_state(name).map(|v| (v, v)),
                // `nft -nn`: the kernel's bits (1 invalid, 2 established, 4 related, 8 new).
                (None, Some(bits)) => [
                    (1, super::CT_INVALID),
                    (2, super::CT_ESTABLISHED),
                    (4, super::CT_RELATED),
                    (8, super::CT_NEW),
                ]
                .iter()
                .find(|(b, _)| *b == bits)
                .map(|(_, v)| (*v, *v)),
                _ => None,
            },
            Field::CtDirection => match it.as_str() {
                Some("original") => Some((0, 0)),
                Some("reply") => Some((1, 1)),
                _ => it.as_u64().map(|v| (v as u128, v as u128)),
            },
            Field::Proto => match it.as_str() {
                Some(name) => proto_number(name).map(|n| (n as u128, n as u128)),
                None => range(it),
            },
            Field::IcmpType | Field::IcmpCode => match it.as_str() {
                Some(name) => icmp_type_number(name).map(|n| (n as u128, n as u128)),
                None => range(it),
            },
            _ => range(it),
        };
        match r {
            Some(r) => out.push(r),
            None => return err(0, format!("unsupported value {it}")),
        }
    }
    Ok(Values::Ranges(out))
}

/// ICMP types by the names nft prints without `-n` (only those a policy may name).
fn icmp_type_number(name: &str) -> Option<u8> {
    Some(match name {
        "echo-reply" => 0,
        "destination-unreachable" => 3,
        "echo-request" => 8,
        "time-exceeded" => 11,
        "packet-too-big" => 2,
        _ => return None,
    })
}

fn read_rule(rule: &Value) -> Result<Rule, ReadError> {
    let mut r = Rule::new(Vec::new(), None);
    r.comment = rule.get("comment").and_then(s).map(str::to_string);
    for e in rule
        .get("expr")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some((k, body)) = e.as_object().and_then(|o| o.iter().next()) else {
            continue;
        };
        match k.as_str() {
            "match" => {
                let op = body.get("op").and_then(s).unwrap_or("==");
                let negated = op == "!=";
                let (Some(left), Some(right)) = (body.get("left"), body.get("right")) else {
                    return err(0, "match without operands");
                };
                let (part, implied) = field_of(left)?;
                r.conds.extend(implied);
                match part {
                    KeyPart::Iif | KeyPart::Oif => {
                        let names: Vec<String> = match right.as_str() {
                            Some(n) => vec![n.to_string()],
                            None => right
                                .get("set")
                                .and_then(Value::as_array)
                                .into_iter()
                                .flatten()
                                .filter_map(s)
                                .map(str::to_string)
                                .collect(),
                        };
                        r.conds.push(Cond::Iface {
                            out: part == KeyPart::Oif,
                            names,
                            negated,
                        });
                    }
                    KeyPart::Field { field, mask } => {
                        let values = values_of(field, right)?;
                        r.conds.push(Cond::Match {
                            field,
                            mask,
                            values,
                            negated,
                        });
                    }
                }
            }
            "vmap" => {
                let Some(key) = body.get("key") else {
                    return err(0, "vmap without key");
                };
                let parts: Vec<&Value> = match key.get("concat").and_then(Value::as_array) {
                    Some(a) => a.iter().collect(),
                    None => vec![key],
                };
                let mut kp = Vec::new();
                for p in parts {
                    let (part, implied) = field_of(p)?;
                    r.conds.extend(implied);
                    kp.push(part);
                }
                let data = body.get("data").unwrap_or(&Value::Null);
                let map = match data.as_str().and_then(|t| t.strip_prefix('@')) {
                    Some(name) => MapRef::Named(name.to_string()),
                    None => {
                        let mut vm = VerdictMap::default();
                        for el in data
                            .get("set")
                            .and_then(Value::as_array)
                            .into_iter()
                            .flatten()
                        {
                            vm.elements.push(map_element(el)?);
                        }
                        MapRef::Inline(vm)
                    }
                };
                r.vmap = Some((kp, map));
            }
            "mangle" => {
                let is_mark = body
                    .get("key")
                    .and_then(|k| k.get("ct"))
                    .and_then(|c| c.get("key"))
                    .and_then(s)
                    == Some("mark");
                match (is_mark, body.get("value").and_then(Value::as_u64)) {
                    (true, Some(v)) => r.set_mark = u32::try_from(v).ok(),
                    _ => return err(0, format!("unsupported mangle {body}")),
                }
            }
            "limit" => r.conds.push(Cond::Limit),
            "counter" | "log" => {}
            _ => match verdict(e) {
                Some(v) => r.verdict = Some(v),
                None => return err(0, format!("unsupported statement {e}")),
            },
        }
    }
    Ok(r)
}
