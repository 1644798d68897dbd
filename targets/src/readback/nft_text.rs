//! Reader of nftables text, as Palisade writes it (and as `nft list table` prints it): the
//! table `inet palisade` with its sets, verdict maps and chains. Build-time translation
//! validation reads the emitted file with this; the kernel is read through [`super::nft_json`].

use super::{
    ct_state, err, parse_addr_range, parse_num, proto_number, Chain, Cond, Field, KeyPart,
    KeyValue, MapRef, NamedSet, ReadError, Rule, Ruleset, Values, Verdict, VerdictMap,
};

#[derive(Clone, Debug, PartialEq, Eq)]
enum Tok {
    Word(String),
    Str(String),
    Open,
    Close,
    Comma,
    Semi,
    Newline,
}

fn tokenize(text: &str) -> Vec<(usize, Tok)> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line_no = n + 1;
        let mut chars = line.char_indices().peekable();
        let mut word = String::new();
        let flush = |word: &mut String, out: &mut Vec<(usize, Tok)>| {
            if !word.is_empty() {
                out.push((line_no, Tok::Word(std::mem::take(word))));
            }
        };
        while let Some((_, c)) = chars.next() {
            match c {
                '#' => break,
                '"' => {
                    flush(&mut word, &mut out);
                    let mut s = String::new();
                    for (_, c) in chars.by_ref() {
                        if c == '"' {
                            break;
                        }
                        s.push(c);
                    }
                    out.push((line_no, Tok::Str(s)));
                }
                '{' | '}' | ',' | ';' => {
                    flush(&mut word, &mut out);
                    out.push((
                        line_no,
                        match c {
                            '{' => Tok::Open,
                            '}' => Tok::Close,
                            ',' => Tok::Comma,
                            _ => Tok::Semi,
                        },
                    ));
                }
                c if c.is_whitespace() => flush(&mut word, &mut out),
                c => word.push(c),
            }
        }
        flush(&mut word, &mut out);
        out.push((line_no, Tok::Newline));
    }
    out
}

struct Parser {
    toks: Vec<(usize, Tok)>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|(_, t)| t)
    }
    fn line(&self) -> usize {
        self.toks
            .get(self.pos)
            .or(self.toks.last())
            .map(|(l, _)| *l)
            .unwrap_or(0)
    }
    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).map(|(_, t)| t.clone());
        self.pos += 1;
        t
    }
    fn skip_newlines(&mut self) {
        while matches!(self.peek(), Some(Tok::Newline) | Some(Tok::Semi)) {
            self.pos += 1;
        }
    }
    fn word(&mut self) -> Result<String, ReadError> {
        let line = self.line();
        match self.next() {
            Some(Tok::Word(w)) => Ok(w),
            Some(Tok::Str(s)) => Ok(s),
            t => err(line, format!("expected a word, found {t:?}")),
        }
    }
    fn expect_word(&mut self, w: &str) -> Result<(), ReadError> {
        let line = self.line();
        let got = self.word()?;
        if got == w {
            Ok(())
        } else {
            err(line, format!("expected `{w}`, found `{got}`"))
        }
    }
    fn expect(&mut self, t: Tok) -> Result<(), ReadError> {
        let line = self.line();
        match self.next() {
            Some(got) if got == t => Ok(()),
            got => err(line, format!("expected {t:?}, found {got:?}")),
        }
    }
    fn at_end_of_statement(&self) -> bool {
        matches!(
            self.peek(),
            None | Some(Tok::Newline) | Some(Tok::Semi) | Some(Tok::Close)
        )
    }
    /// A `{ a, b, c }` list (newlines allowed) or one word.
    fn list(&mut self) -> Result<Vec<String>, ReadError> {
        if self.peek() != Some(&Tok::Open) {
            return Ok(vec![self.word()?]);
        }
        self.pos += 1;
        let mut items = Vec::new();
        loop {
            self.skip_newlines();
            match self.peek() {
                Some(Tok::Close) => {
                    self.pos += 1;
                    return Ok(items);
                }
                Some(Tok::Comma) => self.pos += 1,
                _ => items.push(self.word()?),
            }
        }
    }
}

/// Read the table `inet palisade` from nftables text.
pub fn read(text: &str) -> Result<Ruleset, ReadError> {
    let mut p = Parser {
        toks: tokenize(text),
        pos: 0,
    };
    let mut rs = Ruleset::default();
    loop {
        p.skip_newlines();
        let Some(t) = p.next() else { break };
        let line = p.line();
        match t {
            Tok::Word(w) if w == "table" => {
                let family = p.word()?;
                let name = p.word()?;
                if family != "inet" {
                    return err(line, format!("unexpected table family `{family}`"));
                }
                if p.peek() == Some(&Tok::Open) {
                    p.pos += 1;
                    if name == crate::nftables::TABLE {
                        table_body(&mut p, &mut rs)?;
                    } else {
                        return err(line, format!("unexpected table `{name}`"));
                    }
                }
            }
            Tok::Word(w) if w == "delete" => {
                while !p.at_end_of_statement() {
                    p.pos += 1;
                }
                rs = Ruleset::default();
            }
            t => return err(line, format!("unexpected {t:?} at top level")),
        }
    }
    Ok(rs)
}

fn table_body(p: &mut Parser, rs: &mut Ruleset) -> Result<(), ReadError> {
    loop {
        p.skip_newlines();
        let line = p.line();
        match p.next() {
            Some(Tok::Close) => return Ok(()),
            Some(Tok::Word(w)) if w == "set" || w == "map" => {
                let name = p.word()?;
                p.expect(Tok::Open)?;
                if w == "set" {
                    let set = set_body(p)?;
                    rs.sets.insert(name, set);
                } else {
                    let map = map_body(p)?;
                    rs.maps.insert(name, map);
                }
            }
            Some(Tok::Word(w)) if w == "chain" => {
                let name = p.word()?;
                p.expect(Tok::Open)?;
                let (chain, base) = chain_body(p)?;
                if base {
                    rs.base.push(name.clone());
                }
                rs.chains.insert(name, chain);
            }
            t => return err(line, format!("unexpected {t:?} in table")),
        }
    }
}

fn set_body(p: &mut Parser) -> Result<NamedSet, ReadError> {
    let mut set = NamedSet::default();
    let mut service = false;
    loop {
        p.skip_newlines();
        let line = p.line();
        match p.next() {
            Some(Tok::Close) => return Ok(set),
            Some(Tok::Word(w)) => match w.as_str() {
                "type" => service = p.word()? == "inet_service",
                "flags" => {
                    while !p.at_end_of_statement() {
                        if let Some(Tok::Word(f)) = p.next() {
                            set.dynamic |= f.split(',').any(|f| f == "timeout" || f == "dynamic");
                        }
                    }
                }
                "comment" | "size" | "policy" | "timeout" | "gc-interval" => {
                    p.word()?;
                }
                "elements" => {
                    p.expect_word("=")?;
                    let items = p.list()?;
                    let mut skip = 0;
                    for it in items {
                        // Elements listed from a kernel carry `timeout 4h expires 3h59m`.
                        for part in it.split_whitespace() {
                            if skip > 0 {
                                skip -= 1;
                                continue;
                            }
                            if part == "timeout" || part == "expires" {
                                skip = 1;
                                continue;
                            }
                            let r = if service {
                                port_range(part)
                            } else {
                                parse_addr_range(part).map(|(_, lo, hi)| (lo, hi))
                            };
                            match r {
                                Some(r) => set.ranges.push(r),
                                None => return err(line, format!("bad set element `{part}`")),
                            }
                        }
                    }
                }
                other => return err(line, format!("unexpected `{other}` in set")),
            },
            t => return err(line, format!("unexpected {t:?} in set")),
        }
    }
}

fn port_range(s: &str) -> Option<(u128, u128)> {
    match s.split_once('-') {
        Some((a, b)) => Some((parse_num(a)?, parse_num(b)?)),
        None => parse_num(s).map(|v| (v, v)),
    }
}

fn key_value(s: &str, is_str: bool) -> Option<KeyValue> {
    if is_str {
        return Some(KeyValue::Name(s.to_string()));
    }
    if let Some((_, lo, hi)) = parse_addr_range(s) {
        return Some(KeyValue::Range(lo, hi));
    }
    port_range(s).map(|(lo, hi)| KeyValue::Range(lo, hi))
}

fn verdict(p: &mut Parser) -> Result<Verdict, ReadError> {
    let line = p.line();
    let w = p.word()?;
    Ok(match w.as_str() {
        "accept" => Verdict::Accept,
        "drop" => Verdict::Drop,
        "return" => Verdict::Return,
        "jump" => Verdict::Jump(p.word()?),
        "goto" => Verdict::Goto(p.word()?),
        other => return err(line, format!("unknown verdict `{other}`")),
    })
}

/// Elements `k . k : verdict, …` up to the closing brace.
fn map_elements(p: &mut Parser) -> Result<VerdictMap, ReadError> {
    let mut map = VerdictMap::default();
    loop {
        p.skip_newlines();
        let line = p.line();
        match p.peek() {
            Some(Tok::Close) => {
                p.pos += 1;
                return Ok(map);
            }
            Some(Tok::Comma) => {
                p.pos += 1;
                continue;
            }
            _ => {}
        }
        let mut key = Vec::new();
        loop {
            let (is_str, s) = match p.next() {
                Some(Tok::Str(s)) => (true, s),
                Some(Tok::Word(w)) => (false, w),
                t => return err(line, format!("unexpected {t:?} in map element")),
            };
            if s == ":" {
                break;
            }
            if s == "." {
                continue;
            }
            match key_value(&s, is_str) {
                Some(k) => key.push(k),
                None => return err(line, format!("bad map key `{s}`")),
            }
        }
        map.elements.push((key, verdict(p)?));
    }
}

fn map_body(p: &mut Parser) -> Result<VerdictMap, ReadError> {
    let mut map = VerdictMap::default();
    loop {
        p.skip_newlines();
        let line = p.line();
        match p.next() {
            Some(Tok::Close) => return Ok(map),
            Some(Tok::Word(w)) => match w.as_str() {
                "type" | "flags" | "comment" | "size" | "policy" => {
                    while !p.at_end_of_statement() {
                        p.pos += 1;
                    }
                }
                "elements" => {
                    p.expect_word("=")?;
                    p.expect(Tok::Open)?;
                    map = map_elements(p)?;
                }
                other => return err(line, format!("unexpected `{other}` in map")),
            },
            t => return err(line, format!("unexpected {t:?} in map")),
        }
    }
}

fn chain_body(p: &mut Parser) -> Result<(Chain, bool), ReadError> {
    let mut chain = Chain::default();
    let mut base = false;
    loop {
        p.skip_newlines();
        match p.peek() {
            Some(Tok::Close) => {
                p.pos += 1;
                return Ok((chain, base));
            }
            Some(Tok::Word(w)) if w == "type" => {
                let line = p.line();
                p.pos += 1;
                let words: Vec<String> = std::iter::from_fn(|| {
                    if p.at_end_of_statement() {
                        None
                    } else {
                        p.word().ok()
                    }
                })
                .collect();
                if words.first().map(String::as_str) != Some("filter")
                    || words.get(2).map(String::as_str) != Some("forward")
                {
                    return err(
                        line,
                        format!("unexpected base chain `type {}`", words.join(" ")),
                    );
                }
                base = true;
            }
            Some(Tok::Word(w)) if w == "policy" => {
                p.pos += 1;
                chain.policy_accept = Some(p.word()? == "accept");
            }
            _ => chain.rules.push(rule(p)?),
        }
    }
}

fn values(
    p: &mut Parser,
    line: usize,
    parse: impl Fn(&str) -> Option<(u128, u128)>,
) -> Result<Values, ReadError> {
    if let Some(Tok::Word(w)) = p.peek() {
        if let Some(name) = w.strip_prefix('@') {
            let name = name.to_string();
            p.pos += 1;
            return Ok(Values::Set(name));
        }
    }
    let mut ranges = Vec::new();
    for item in p.list()? {
        match parse(&item) {
            Some(r) => ranges.push(r),
            None => return err(line, format!("bad value `{item}`")),
        }
    }
    Ok(Values::Ranges(ranges))
}

fn m(field: Field, values: Values) -> Cond {
    Cond::Match {
        field,
        mask: None,
        values,
        negated: false,
    }
}

fn rule(p: &mut Parser) -> Result<Rule, ReadError> {
    let mut r = Rule::new(Vec::new(), None);
    while !p.at_end_of_statement() {
        let line = p.line();
        let w = p.word()?;
        match w.as_str() {
            "ip" | "ip6" => {
                let v6 = w == "ip6";
                let field = match p.word()?.as_str() {
                    "saddr" => Field::Saddr,
                    "daddr" => Field::Daddr,
                    other => return err(line, format!("unsupported `{w} {other}`")),
                };
                r.conds.push(Cond::Family(v6));
                let v = values(p, line, |s| {
                    parse_addr_range(s)
                        .filter(|(f, _, _)| *f == v6)
                        .map(|(_, lo, hi)| (lo, hi))
                })?;
                r.conds.push(m(field, v));
            }
            "tcp" | "udp" => {
                let field = match p.word()?.as_str() {
                    "dport" => Field::Dport,
                    "sport" => Field::Sport,
                    other => return err(line, format!("unsupported `{w} {other}`")),
                };
                r.conds.push(m(
                    Field::Proto,
                    Values::point(if w == "tcp" { 6 } else { 17 }),
                ));
                let v = values(p, line, port_range)?;
                r.conds.push(m(field, v));
            }
            "icmp" | "icmpv6" => {
                let v6 = w == "icmpv6";
                let field = match p.word()?.as_str() {
                    "type" => Field::IcmpType,
                    "code" => Field::IcmpCode,
                    other => return err(line, format!("unsupported `{w} {other}`")),
                };
                r.conds.push(Cond::Family(v6));
                r.conds
                    .push(m(Field::Proto, Values::point(if v6 { 58 } else { 1 })));
                let v = values(p, line, port_range)?;
                r.conds.push(m(field, v));
            }
            "meta" => match p.word()?.as_str() {
                "l4proto" => {
                    let v = values(p, line, |s| proto_number(s).map(|n| (n as u128, n as u128)))?;
                    r.conds.push(m(Field::Proto, v));
                }
                "nfproto" => {
                    let f = p.word()?;
                    r.conds.push(Cond::Family(f == "ipv6"));
                }
                other => return err(line, format!("unsupported `meta {other}`")),
            },
            "iifname" | "oifname" => {
                if p.peek() == Some(&Tok::Word(".".into())) {
                    // A concatenated key: `iifname . oifname . ip saddr . ip daddr vmap @m`.
                    let mut key = vec![if w == "iifname" {
                        KeyPart::Iif
                    } else {
                        KeyPart::Oif
                    }];
                    loop {
                        let part = p.word()?;
                        match part.as_str() {
                            "." => {}
                            "iifname" => key.push(KeyPart::Iif),
                            "oifname" => key.push(KeyPart::Oif),
                            "ip" | "ip6" => {
                                r.conds.push(Cond::Family(part == "ip6"));
                                let field = if p.word()? == "saddr" {
                                    Field::Saddr
                                } else {
                                    Field::Daddr
                                };
                                key.push(KeyPart::Field { field, mask: None });
                            }
                            "vmap" => break,
                            other => return err(line, format!("unsupported key part `{other}`")),
                        }
                    }
                    let map = map_operand(p)?;
                    r.vmap = Some((key, map));
                } else {
                    let names = p.list()?;
                    r.conds.push(Cond::Iface {
                        out: w == "oifname",
                        names,
                        negated: false,
                    });
                }
            }
            "ct" => {
                let key = p.word()?;
                match key.as_str() {
                    "state" => {
                        let mut states = Vec::new();
                        let mut names = p.list()?;
                        // `established,related`: the tokenizer splits at the comma.
                        while p.peek() == Some(&Tok::Comma) {
                            p.pos += 1;
                            names.push(p.word()?);
                        }
                        for s in names {
                            match ct_state(&s) {
                                Some(v) => states.push((v, v)),
                                None => return err(line, format!("unsupported ct state `{s}`")),
                            }
                        }
                        r.conds.push(m(Field::CtState, Values::Ranges(states)));
                    }
                    "direction" => {
                        let d = if p.word()? == "reply" { 1 } else { 0 };
                        r.conds.push(m(Field::CtDirection, Values::point(d)));
                    }
                    "mark" => {
                        let op = p.word()?;
                        match op.as_str() {
                            "set" => {
                                r.set_mark =
                                    parse_num(&p.word()?).and_then(|v| u32::try_from(v).ok())
                            }
                            "and" => {
                                let mask = parse_num(&p.word()?);
                                let next = p.word()?;
                                if next == "vmap" {
                                    let map = map_operand(p)?;
                                    r.vmap = Some((
                                        vec![KeyPart::Field {
                                            field: Field::CtMark,
                                            mask,
                                        }],
                                        map,
                                    ));
                                } else if next == "==" {
                                    let v = parse_num(&p.word()?).unwrap_or(0);
                                    r.conds.push(Cond::Match {
                                        field: Field::CtMark,
                                        mask,
                                        values: Values::point(v),
                                        negated: false,
                                    });
                                } else {
                                    return err(
                                        line,
                                        format!("unsupported `ct mark and … {next}`"),
                                    );
                                }
                            }
                            other => return err(line, format!("unsupported `ct mark {other}`")),
                        }
                    }
                    other => return err(line, format!("unsupported `ct {other}`")),
                }
            }
            "limit" => {
                r.conds.push(Cond::Limit);
                p.expect_word("rate")?;
                p.word()?;
                if p.peek() == Some(&Tok::Word("burst".into())) {
                    p.pos += 1;
                    p.word()?;
                    p.word()?;
                }
            }
            "log" => {
                while matches!(p.peek(), Some(Tok::Word(w)) if w == "prefix" || w == "level" || w == "group")
                {
                    p.pos += 1;
                    p.word()?;
                }
            }
            "counter" => {
                while matches!(p.peek(), Some(Tok::Word(w)) if w == "packets" || w == "bytes") {
                    p.pos += 1;
                    p.word()?;
                }
            }
            "comment" => r.comment = Some(p.word()?),
            "accept" | "drop" | "return" | "jump" | "goto" => {
                p.pos -= 1;
                r.verdict = Some(verdict(p)?);
            }
            other => return err(line, format!("unsupported statement `{other}`")),
        }
    }
    Ok(r)
}

fn map_operand(p: &mut Parser) -> Result<MapRef, ReadError> {
    let line = p.line();
    match p.next() {
        Some(Tok::Word(w)) if w.starts_with('@') => {
            Ok(MapRef::Named(w.trim_start_matches('@').to_string()))
        }
        Some(Tok::Open) => Ok(MapRef::Inline(map_elements(p)?)),
        t => err(line, format!("expected a map, found {t:?}")),
    }
}
