//! Reader of iptables-restore / `iptables-save` text (the filter table) and of `ipset save`
//! (the sets it names). The same reader reads Palisade's files and a live firewall.

use super::{
    ct_state, err, parse_addr_range, parse_num, proto_number, Cond, Field, NamedSet, ReadError,
    Rule, Ruleset, Values, Verdict,
};
use std::collections::BTreeMap;

/// Split a line into words, honouring double quotes (with `\"` inside).
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' if quoted => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            '"' => {
                quoted = !quoted;
                in_word = true;
            }
            c if c.is_whitespace() && !quoted => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            c => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        out.push(cur);
    }
    out
}

/// Read `ipset save` output (or a Palisade `.ipset` file): sets by name; a set created with
/// `timeout` is dynamic.
pub fn read_ipsets(text: &str) -> Result<BTreeMap<String, (bool, NamedSet)>, ReadError> {
    let mut sets: BTreeMap<String, (bool, NamedSet)> = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let w = words(line);
        match w.first().map(String::as_str) {
            None => {}
            Some(c) if c.starts_with('#') => {}
            Some("create") => {
                let (Some(name), Some(kind)) = (w.get(1), w.get(2)) else {
                    return err(n + 1, "incomplete `create`");
                };
                if kind != "hash:net" && kind != "hash:ip" {
                    return err(n + 1, format!("unsupported ipset type `{kind}`"));
                }
                let v6 = w.windows(2).any(|p| {
                    p.first().map(String::as_str) == Some("family")
                        && p.get(1).map(String::as_str) == Some("inet6")
                });
                let dynamic = w.iter().any(|x| x == "timeout");
                sets.insert(
                    name.clone(),
                    (
                        v6,
                        NamedSet {
                            ranges: Vec::new(),
                            dynamic,
                        },
                    ),
                );
            }
            Some("add") => {
                let (Some(name), Some(elem)) = (w.get(1), w.get(2)) else {
                    return err(n + 1, "incomplete `add`");
                };
                let Some((_, set)) = sets.get_mut(name) else {
                    return err(n + 1, format!("`add` to unknown set `{name}`"));
                };
                match parse_addr_range(elem) {
                    Some((_, lo, hi)) => set.ranges.push((lo, hi)),
                    None => return err(n + 1, format!("bad element `{elem}`")),
                }
            }
            Some("flush") => {
                if let Some((_, s)) = w.get(1).and_then(|name| sets.get_mut(name)) {
                    s.ranges.clear();
                }
            }
            Some(other) => return err(n + 1, format!("unsupported ipset command `{other}`")),
        }
    }
    Ok(sets)
}

fn ports(s: &str) -> Option<Vec<(u128, u128)>> {
    s.split(',')
        .map(|p| match p.split_once(':') {
            Some((a, b)) => Some((parse_num(a)?, parse_num(b)?)),
            None => parse_num(p).map(|v| (v, v)),
        })
        .collect()
}

fn m(field: Field, values: Values, negated: bool) -> Cond {
    Cond::Match {
        field,
        mask: None,
        values,
        negated,
    }
}

/// Read the filter table of an iptables-restore file for one family; `sets` are the ipsets
/// (of both families) its rules may name.
pub fn read(
    text: &str,
    v6: bool,
    sets: &BTreeMap<String, (bool, NamedSet)>,
) -> Result<Ruleset, ReadError> {
    let mut rs = Ruleset {
        family: Some(v6),
        ..Ruleset::default()
    };
    for (name, (fam, set)) in sets {
        if *fam == v6 {
            rs.sets.insert(name.clone(), set.clone());
        }
    }
    let mut in_filter = false;
    for (n, line) in text.lines().enumerate() {
        let line_no = n + 1;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(table) = line.strip_prefix('*') {
            in_filter = table == "filter";
            continue;
        }
        if !in_filter || line == "COMMIT" {
            continue;
        }
        if let Some(decl) = line.strip_prefix(':') {
            let mut parts = decl.split_whitespace();
            let name = parts.next().unwrap_or_default().to_string();
            let policy = parts.next().unwrap_or("-");
            let chain = rs.chains.entry(name.clone()).or_default();
            if policy != "-" {
                chain.policy_accept = Some(policy == "ACCEPT");
                if name == "FORWARD" {
                    rs.base.push(name);
                }
            }
            continue;
        }
        let w = words(line);
        let (Some(op), Some(chain)) = (w.first(), w.get(1)) else {
            return err(line_no, "incomplete rule");
        };
        if op != "-A" {
            return err(line_no, format!("unsupported command `{op}`"));
        }
        let rule = rule(w.get(2..).unwrap_or(&[]), line_no, v6)?;
        rs.chains.entry(chain.clone()).or_default().rules.push(rule);
    }
    if !rs.chains.contains_key("FORWARD") {
        return err(0, "no FORWARD chain in the filter table");
    }
    Ok(rs)
}

fn rule(w: &[String], line: usize, v6: bool) -> Result<Rule, ReadError> {
    let mut r = Rule::new(Vec::new(), None);
    let mut i = 0;
    let mut negate = false;
    let arg = |i: usize| -> Result<&str, ReadError> {
        w.get(i).map(String::as_str).ok_or(ReadError {
            line,
            message: "option without value".into(),
        })
    };
    let addr = |s: &str| -> Result<(u128, u128), ReadError> {
        match parse_addr_range(s) {
            Some((f, lo, hi)) if f == v6 => Ok((lo, hi)),
            _ => err(line, format!("bad address `{s}`")),
        }
    };
    while let Some(opt) = w.get(i).map(String::as_str) {
        i += 1;
        let neg = std::mem::take(&mut negate);
        match opt {
            "!" => negate = true,
            "-s" | "-d" => {
                let field = if opt == "-s" {
                    Field::Saddr
                } else {
                    Field::Daddr
                };
                r.conds
                    .push(m(field, Values::Ranges(vec![addr(arg(i)?)?]), neg));
                i += 1;
            }
            "-i" | "-o" => {
                r.conds.push(Cond::Iface {
                    out: opt == "-o",
                    names: vec![arg(i)?.to_string()],
                    negated: neg,
                });
                i += 1;
            }
            "-p" => {
                let p = arg(i)?;
                let Some(n) = proto_number(p) else {
                    return err(line, format!("unknown protocol `{p}`"));
                };
                r.conds.push(m(Field::Proto, Values::point(n as u128), neg));
                i += 1;
            }
            "-m" => i += 1,
            "--dport" | "--sport" | "--dports" | "--sports" => {
                let field = if opt.starts_with("--d") {
                    Field::Dport
                } else {
                    Field::Sport
                };
                let Some(p) = ports(arg(i)?) else {
                    return err(line, format!("bad ports `{}`", arg(i)?));
                };
                r.conds.push(m(field, Values::Ranges(p), neg));
                i += 1;
            }
            "--src-range" | "--dst-range" => {
                let field = if opt == "--src-range" {
                    Field::Saddr
                } else {
                    Field::Daddr
                };
                r.conds
                    .push(m(field, Values::Ranges(vec![addr(arg(i)?)?]), neg));
                i += 1;
            }
            "--match-set" => {
                let name = arg(i)?.to_string();
                let dirs = arg(i + 1)?;
                let field = match dirs {
                    "src" => Field::Saddr,
                    "dst" => Field::Daddr,
                    other => return err(line, format!("unsupported set direction `{other}`")),
                };
                r.conds.push(m(field, Values::Set(name), neg));
                i += 2;
            }
            "--ctstate" | "--state" => {
                let mut states = Vec::new();
                for s in arg(i)?.split(',') {
                    let v = match s {
                        "UNTRACKED" | "SNAT" | "DNAT" => {
                            return err(line, format!("unsupported state `{s}`"))
                        }
                        s => ct_state(s),
                    };
                    match v {
                        Some(v) => states.push((v, v)),
                        None => return err(line, format!("unknown state `{s}`")),
                    }
                }
                r.conds.push(m(Field::CtState, Values::Ranges(states), neg));
                i += 1;
            }
            "--ctdir" => {
                let d = if arg(i)? == "REPLY" { 1 } else { 0 };
                r.conds.push(m(Field::CtDirection, Values::point(d), neg));
                i += 1;
            }
            "--mark" => {
                let v = arg(i)?;
                let (val, mask) = v.split_once('/').unwrap_or((v, "0xffffffff"));
                let (Some(val), Some(mask)) = (parse_num(val), parse_num(mask)) else {
                    return err(line, format!("bad mark `{v}`"));
                };
                r.conds.push(Cond::Match {
                    field: Field::CtMark,
                    mask: Some(mask),
                    values: Values::point(val),
                    negated: neg,
                });
                i += 1;
            }
            "--icmp-type" | "--icmpv6-type" => {
                let v = arg(i)?;
                let (t, c) = match v.split_once('/') {
                    Some((t, c)) => (t, Some(c)),
                    None => (v, None),
                };
                let Some(t) = parse_num(t) else {
                    return err(line, format!("unsupported ICMP type `{v}`"));
                };
                r.conds.push(m(Field::IcmpType, Values::point(t), neg));
                if let Some(c) = c {
                    let Some(c) = parse_num(c) else {
                        return err(line, format!("bad ICMP code `{v}`"));
                    };
                    r.conds.push(m(Field::IcmpCode, Values::point(c), neg));
                }
                i += 1;
            }
            "--limit" | "--limit-burst" => {
                if opt == "--limit" {
                    r.conds.push(Cond::Limit);
                }
                i += 1;
            }
            "--comment" => {
                r.comment = Some(arg(i)?.to_string());
                i += 1;
            }
            "-j" | "-g" => {
                let target = arg(i)?.to_string();
                i += 1;
                match target.as_str() {
                    "ACCEPT" => r.verdict = Some(Verdict::Accept),
                    "DROP" => r.verdict = Some(Verdict::Drop),
                    "RETURN" => r.verdict = Some(Verdict::Return),
                    "LOG" => {
                        // Options of the LOG target; no verdict.
                        while matches!(
                            w.get(i).map(String::as_str),
                            Some("--log-prefix" | "--log-level")
                        ) {
                            i += 2;
                        }
                    }
                    "CONNMARK" => {
                        if arg(i)? != "--set-xmark" {
                            return err(line, format!("unsupported CONNMARK option `{}`", arg(i)?));
                        }
                        let v = arg(i + 1)?;
                        let (val, mask) = v.split_once('/').unwrap_or((v, "0xffffffff"));
                        if parse_num(mask) != Some(0xffff_ffff) {
                            return err(line, format!("unsupported CONNMARK mask `{v}`"));
                        }
                        r.set_mark = parse_num(val).and_then(|v| u32::try_from(v).ok());
                        i += 2;
                    }
                    chain if opt == "-g" => r.verdict = Some(Verdict::Goto(chain.to_string())),
                    chain => r.verdict = Some(Verdict::Jump(chain.to_string())),
                }
            }
            other => return err(line, format!("unsupported option `{other}`")),
        }
    }
    // A CONNMARK rule without a verdict sets the mark for the rules after it: our output
    // always follows it with ACCEPT in the same chain, which the encoding folds together.
    Ok(r)
}

/// Fold `-j CONNMARK --set-xmark V` followed by `-j ACCEPT` (both unconditional) into one
/// accepting rule that sets the mark, the form [`crate::validate`] understands.
pub fn fold_marks(rs: &mut Ruleset) {
    for chain in rs.chains.values_mut() {
        let mut out: Vec<Rule> = Vec::new();
        for r in std::mem::take(&mut chain.rules) {
            match out.last_mut() {
                Some(prev)
                    if prev.set_mark.is_some()
                        && prev.verdict.is_none()
                        && prev.conds.is_empty()
                        && r.conds.is_empty()
                        && r.verdict == Some(Verdict::Accept) =>
                {
                    prev.verdict = Some(Verdict::Accept);
                }
                _ => out.push(r),
            }
        }
        chain.rules = out;
    }
}

/// Read a device's three files (ipset, IPv4, IPv6) into one ruleset per family.
pub fn read_device(ipset: &str, v4: &str, v6: &str) -> Result<Vec<Ruleset>, ReadError> {
    let sets = read_ipsets(ipset)?;
    let mut a = read(v4, false, &sets)?;
    let mut b = read(v6, true, &sets)?;
    fold_marks(&mut a);
    fold_marks(&mut b);
    Ok(vec![a, b])
}
