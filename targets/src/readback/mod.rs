//! Readers of firewall rulesets: the text Palisade emitted, or what a kernel or device holds
//! (`nft -j list ruleset`, `iptables-save` with `ipset save`, an IOS configuration). Each
//! turns its input into the same small [`Ruleset`] model: chains of rules, each a list of
//! conditions over packet fields with a verdict. [`crate::validate`] gives that model its
//! meaning in Z3 and compares it with the policy; the same readers serve drift detection of
//! a deployed firewall (read it back, validate it against the policy).
//!
//! Only the constructs Palisade's own outputs use are understood; anything else is reported
//! as [`ReadError`] rather than guessed at, so a hand-edited firewall fails loudly.

pub mod cisco;
pub mod iptables;
pub mod nft_json;
pub mod nft_text;

use std::collections::BTreeMap;

/// A packet field a condition can test. Addresses hold v4 in the low 32 bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Field {
    Saddr,
    Daddr,
    /// IP protocol (`meta l4proto`, `-p`).
    Proto,
    Sport,
    Dport,
    IcmpType,
    IcmpCode,
    /// Connection-tracking state: [`CT_NEW`], [`CT_ESTABLISHED`], [`CT_RELATED`], [`CT_INVALID`].
    CtState,
    /// 0 original, 1 reply.
    CtDirection,
    CtMark,
}

pub const CT_NEW: u128 = 0;
pub const CT_ESTABLISHED: u128 = 1;
pub const CT_RELATED: u128 = 2;
pub const CT_INVALID: u128 = 3;

/// The values a condition accepts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Values {
    /// Inclusive ranges.
    Ranges(Vec<(u128, u128)>),
    /// A named set of the ruleset.
    Set(String),
}

impl Values {
    pub fn point(v: u128) -> Values {
        Values::Ranges(vec![(v, v)])
    }
}

/// One condition of a rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cond {
    /// The packet is IPv6 (`true`) or IPv4 (`false`).
    Family(bool),
    /// Input (`out == false`) or output interface is one of these names.
    Iface {
        out: bool,
        names: Vec<String>,
        negated: bool,
    },
    /// `field & mask` (all ones when `None`) lies in `values`.
    Match {
        field: Field,
        mask: Option<u128>,
        values: Values,
        negated: bool,
    },
    /// A rate limit: matches some packets and not others (no verdict may depend on it).
    Limit,
}

/// What a rule does when its conditions hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Accept,
    Drop,
    Return,
    Jump(String),
    Goto(String),
}

/// A key of a verdict-map lookup, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyPart {
    Iif,
    Oif,
    Field { field: Field, mask: Option<u128> },
}

/// A key value of a verdict-map element.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyValue {
    Name(String),
    Range(u128, u128),
}

/// A verdict map: the first element whose key matches decides.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VerdictMap {
    pub elements: Vec<(Vec<KeyValue>, Verdict)>,
}

/// A lookup `key vmap MAP`: no matching element means the rule does nothing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MapRef {
    Named(String),
    Inline(VerdictMap),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    pub conds: Vec<Cond>,
    /// `ct mark set V` (iptables: `CONNMARK --set-xmark V/0xffffffff`).
    pub set_mark: Option<u32>,
    pub verdict: Option<Verdict>,
    pub vmap: Option<(Vec<KeyPart>, MapRef)>,
    /// A comment, for messages.
    pub comment: Option<String>,
}

impl Rule {
    pub fn new(conds: Vec<Cond>, verdict: Option<Verdict>) -> Rule {
        Rule {
            conds,
            set_mark: None,
            verdict,
            vmap: None,
            comment: None,
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Chain {
    /// For a base chain: whether its policy accepts.
    pub policy_accept: Option<bool>,
    pub rules: Vec<Rule>,
}

/// A named set: static ranges, or a dynamic set (elements with timeouts, changed at run time),
/// whose contents the validator leaves open.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NamedSet {
    pub ranges: Vec<(u128, u128)>,
    pub dynamic: bool,
}

/// One ruleset: every chain, the base chains on the forward hook in order, sets and maps.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ruleset {
    /// Packets of other families are not this ruleset's business (iptables vs ip6tables).
    pub family: Option<bool>,
    pub chains: BTreeMap<String, Chain>,
    /// Base chains hooked on forwarding, in priority order; every one must accept.
    pub base: Vec<String>,
    pub sets: BTreeMap<String, NamedSet>,
    pub maps: BTreeMap<String, VerdictMap>,
}

/// A construct the reader does not understand, with where it was.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadError {
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line > 0 {
            write!(f, "line {}: {}", self.line, self.message)
        } else {
            f.write_str(&self.message)
        }
    }
}

pub fn err<T>(line: usize, message: impl Into<String>) -> Result<T, ReadError> {
    Err(ReadError {
        line,
        message: message.into(),
    })
}

/// An address or network (`10.0.0.0/8`, `fd00::1`, `10.0.0.1-10.0.0.9`) as a range, with its
/// family.
pub fn parse_addr_range(s: &str) -> Option<(bool, u128, u128)> {
    if let Some((a, b)) = s.split_once('-') {
        let (v6a, lo) = parse_addr(a)?;
        let (v6b, hi) = parse_addr(b)?;
        return (v6a == v6b && lo <= hi).then_some((v6a, lo, hi));
    }
    if let Some((a, p)) = s.split_once('/') {
        let (v6, addr) = parse_addr(a)?;
        let bits = if v6 { 128u32 } else { 32 };
        let prefix: u32 = p.parse().ok().filter(|p| *p <= bits)?;
        let host = bits - prefix;
        let span = if host >= 128 {
            u128::MAX
        } else {
            (1u128 << host) - 1
        };
        let lo = addr & !span;
        let hi = lo | span;
        let hi = if v6 { hi } else { hi & u32::MAX as u128 };
        return Some((v6, lo, hi));
    }
    let (v6, a) = parse_addr(s)?;
    Some((v6, a, a))
}

pub fn parse_addr(s: &str) -> Option<(bool, u128)> {
    if let Ok(a) = s.parse::<std::net::Ipv4Addr>() {
        return Some((false, u32::from(a) as u128));
    }
    s.parse::<std::net::Ipv6Addr>()
        .ok()
        .map(|a| (true, u128::from(a)))
}

/// A number in decimal or `0x` hexadecimal.
pub fn parse_num(s: &str) -> Option<u128> {
    match s.strip_prefix("0x") {
        Some(h) => u128::from_str_radix(h, 16).ok(),
        None => s.parse().ok(),
    }
}

/// IP protocol numbers by the names the tools print.
pub fn proto_number(s: &str) -> Option<u8> {
    Some(match s {
        "icmp" => 1,
        "igmp" => 2,
        "tcp" => 6,
        "udp" => 17,
        "gre" => 47,
        "esp" => 50,
        "ah" => 51,
        "icmpv6" | "ipv6-icmp" => 58,
        "sctp" => 132,
        "udplite" => 136,
        _ => return parse_num(s).and_then(|n| u8::try_from(n).ok()),
    })
}

/// Connection-tracking states by name.
pub fn ct_state(s: &str) -> Option<u128> {
    Some(match s.to_ascii_lowercase().as_str() {
        "new" => CT_NEW,
        "established" => CT_ESTABLISHED,
        "related" => CT_RELATED,
        "invalid" => CT_INVALID,
        _ => return None,
    })
}

impl Ruleset {
    /// At most how many rules one packet meets: every rule of each chain it enters, and at a
    /// jump or verdict-map lookup the costliest target (an upper bound: a real packet takes
    /// one branch, and established packets leave before the dispatch).
    pub fn worst_case_rules(&self) -> usize {
        let mut memo = BTreeMap::new();
        self.base
            .iter()
            .map(|b| self.chain_cost(b, &mut memo, 0))
            .sum()
    }

    fn chain_cost(&self, name: &str, memo: &mut BTreeMap<String, usize>, depth: usize) -> usize {
        if let Some(c) = memo.get(name) {
            return *c;
        }
        let Some(chain) = self.chains.get(name) else {
            return 0;
        };
        if depth > 32 {
            return 0;
        }
        let mut cost = chain.rules.len();
        for r in &chain.rules {
            let mut targets: Vec<&str> = Vec::new();
            if let Some(Verdict::Jump(t) | Verdict::Goto(t)) = &r.verdict {
                targets.push(t);
            }
            if let Some((_, map)) = &r.vmap {
                let elements = match map {
                    MapRef::Named(n) => self
                        .maps
                        .get(n)
                        .map(|m| m.elements.as_slice())
                        .unwrap_or(&[]),
                    MapRef::Inline(m) => m.elements.as_slice(),
                };
                targets.extend(elements.iter().filter_map(|(_, v)| match v {
                    Verdict::Jump(t) | Verdict::Goto(t) => Some(t.as_str()),
                    _ => None,
                }));
            }
            let mut seen = std::collections::BTreeSet::new();
            let worst = targets
                .into_iter()
                .filter(|t| seen.insert(*t))
                .map(|t| self.chain_cost(t, memo, depth + 1))
                .max()
                .unwrap_or(0);
            cost += worst;
        }
        memo.insert(name.to_string(), cost);
        cost
    }
}
