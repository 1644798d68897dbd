//! Tokens of the Palisade language (logos) and the adapter that feeds them to lalrpop.
//!
//! Comments are not tokens the grammar sees: the lexer keeps them aside so that the
//! formatter can put them back. A character the lexer does not know becomes an
//! [`Token::Error`] token, so the grammar's error recovery can carry on after it.

use crate::ast::Span;
use logos::Logos;
use std::net::{Ipv4Addr, Ipv6Addr};

/// An IP address (v4 or v6) as a 128-bit value plus its family; v4 values sit in the low bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IpLit {
    pub v6: bool,
    pub value: u128,
}

impl std::fmt::Display for IpLit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.v6 {
            write!(f, "{}", Ipv6Addr::from(self.value))
        } else {
            write!(f, "{}", Ipv4Addr::from(self.value as u32))
        }
    }
}

/// A network literal `address/prefix`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NetLit {
    pub addr: IpLit,
    pub prefix: u8,
}

impl std::fmt::Display for NetLit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Comment {
    pub text: String,
    pub span: Span,
}

/// A backslash in a string that starts no escape the language knows (`"C:\\new"`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadEscape {
    /// The backslash and the character after it.
    pub span: Span,
    pub escape: char,
}

#[derive(Default)]
pub struct LexExtras {
    pub comments: Vec<Comment>,
    pub bad_escapes: Vec<BadEscape>,
}

fn parse_v4(s: &str) -> Option<IpLit> {
    s.parse::<Ipv4Addr>().ok().map(|a| IpLit {
        v6: false,
        value: u32::from(a) as u128,
    })
}

fn parse_v6(s: &str) -> Option<IpLit> {
    s.parse::<Ipv6Addr>().ok().map(|a| IpLit {
        v6: true,
        value: u128::from(a),
    })
}

fn parse_net(s: &str, v6: bool) -> Option<NetLit> {
    let (addr, prefix) = s.split_once('/')?;
    let prefix: u8 = prefix.parse().ok()?;
    let addr = if v6 { parse_v6(addr)? } else { parse_v4(addr)? };
    let max = if v6 { 128 } else { 32 };
    (prefix <= max).then_some(NetLit { addr, prefix })
}

fn parse_int(s: &str) -> Option<u64> {
    if let Some(hex) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        u64::from_str_radix(hex, 16).ok()
    } else {
        s.parse().ok()
    }
}

/// Seconds of a duration literal such as `4h`.
fn parse_duration(s: &str) -> Option<u64> {
    let unit = s.chars().last()?;
    let n: u64 = s.get(..s.len().saturating_sub(1))?.parse().ok()?;
    let mult = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86400,
        _ => return None,
    };
    n.checked_mul(mult)
}

/// Minutes since midnight of `HH:MM`.
fn parse_time(s: &str) -> Option<u32> {
    let (h, m) = s.split_once(':')?;
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (h <= 24 && m < 60 && (h < 24 || m == 0)).then_some(h * 60 + m)
}

fn parse_date(s: &str) -> Option<(u16, u8, u8)> {
    let mut it = s.split('-');
    let y: u16 = it.next()?.parse().ok()?;
    let m: u8 = it.next()?.parse().ok()?;
    let d: u8 = it.next()?.parse().ok()?;
    // `checked_rem` rather than `is_multiple_of`, which needs Rust 1.87.
    let divides = |n: u16| y.checked_rem(n) == Some(0);
    let leap = (divides(4) && !divides(100)) || divides(400);
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    (d >= 1 && d <= days).then_some((y, m, d))
}

/// The value of a string literal. The language knows two escapes, `\\"` and `\\\\`; any other
/// backslash is recorded in the lexer's extras (and reported, E0003), its character kept.
fn string(lex: &mut logos::Lexer<'_, Token>) -> String {
    let start = lex.span().start;
    let slice = lex.slice();
    let inner = slice.get(1..slice.len().saturating_sub(1)).unwrap_or("");
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.char_indices();
    while let Some((i, c)) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some((_, n @ ('"' | '\\'))) => out.push(n),
            Some((j, n)) => {
                // `start + 1` skips the opening quote.
                let at = start + 1 + i;
                lex.extras.bad_escapes.push(BadEscape {
                    span: Span::new(at, start + 1 + j + n.len_utf8()),
                    escape: n,
                });
                out.push('\\');
                out.push(n);
            }
            None => out.push('\\'),
        }
    }
    out
}

fn comment(lex: &mut logos::Lexer<'_, Token>) -> logos::Skip {
    let span = lex.span();
    lex.extras.comments.push(Comment {
        text: lex.slice().trim_end().to_string(),
        span: Span::new(span.start, span.end),
    });
    logos::Skip
}

#[derive(Logos, Clone, Debug, PartialEq)]
#[logos(extras = LexExtras)]
#[logos(skip r"[ \t\r\n\f]+")]
pub enum Token {
    #[regex(r"//[^\n]*", comment, allow_greedy = true)]
    #[regex(r"/\*([^*]|\*+[^*/])*\*+/", comment)]
    Comment,

    // Keywords.
    #[token("site")]
    Site,
    #[token("timezone")]
    Timezone,
    #[token("use")]
    Use,
    #[token("const")]
    Const,
    #[token("role")]
    Role,
    #[token("person")]
    Person,
    #[token("roles")]
    Roles,
    #[token("service")]
    Service,
    #[token("protocol")]
    Protocol,
    #[token("function")]
    Function,
    #[token("access")]
    Access,
    #[token("group")]
    Group,
    #[token("zone")]
    Zone,
    #[token("security_level")]
    SecurityLevel,
    #[token("network")]
    Network,
    #[token("asset")]
    Asset,
    #[token("at")]
    At,
    #[token("kind")]
    Kind,
    #[token("capability")]
    Capability,
    #[token("interface")]
    Interface,
    #[token("bridge")]
    Bridge,
    #[token("compensating")]
    Compensating,
    #[token("covers")]
    Covers,
    #[token("relies_on")]
    ReliesOn,
    #[token("because")]
    Because,
    #[token("owner")]
    Owner,
    #[token("expires")]
    Expires,
    #[token("conduit")]
    Conduit,
    #[token("allow")]
    Allow,
    #[token("when")]
    When,
    #[token("workorder")]
    Workorder,
    #[token("unidirectional")]
    Unidirectional,
    #[token("log")]
    Log,
    #[token("firewall")]
    Firewall,
    #[token("gateway")]
    Gateway,
    #[token("target")]
    Target,
    #[token("faces")]
    Faces,
    #[token("inline")]
    Inline,
    #[token("mode")]
    Mode,
    #[token("between")]
    Between,
    #[token("and")]
    And,
    #[token("or")]
    Or,
    #[token("of")]
    Of,
    #[token("link")]
    Link,
    #[token("scope")]
    Scope,
    #[token("requested_by")]
    RequestedBy,
    #[token("approved_by")]
    ApprovedBy,
    #[token("separation_of_duties")]
    SeparationOfDuties,
    #[token("prerequisite")]
    Prerequisite,
    #[token("window")]
    Window,
    #[token("max_duration")]
    MaxDuration,
    #[token("emergency")]
    Emergency,
    #[token("review_after")]
    ReviewAfter,
    #[token("opens")]
    Opens,
    #[token("dataflow")]
    Dataflow,
    #[token("integrity")]
    Integrity,
    #[token("confidentiality")]
    Confidentiality,
    #[token("push")]
    Push,
    #[token("pull")]
    Pull,
    #[token("assert")]
    Assert,
    #[token("no_path")]
    NoPath,
    #[token("only_via")]
    OnlyVia,
    #[token("isolated")]
    Isolated,
    #[token("reachable")]
    Reachable,
    #[token("approvals")]
    Approvals,
    #[token("in")]
    In,
    #[token("during")]
    During,
    #[token("except")]
    Except,
    #[token("base")]
    Base,
    #[token("any")]
    Any,
    #[token("external")]
    External,
    #[token("description")]
    Description,
    #[token("inspect")]
    Inspect,
    #[token("provides")]
    Provides,
    #[token("broadcast")]
    Broadcast,
    #[token("multicast")]
    Multicast,
    #[token("layer2")]
    Layer2,
    #[token("isolation")]
    Isolation,
    #[token("profile")]
    Profile,
    #[token("require")]
    Require,
    #[token("disable")]
    Disable,

    // Punctuation.
    #[token("{")]
    LBrace,
    #[token("}")]
    RBrace,
    #[token("[")]
    LBracket,
    #[token("]")]
    RBracket,
    #[token("(")]
    LParen,
    #[token(")")]
    RParen,
    #[token(",")]
    Comma,
    #[token(";")]
    Semi,
    #[token(":")]
    Colon,
    #[token(".")]
    Dot,
    #[token("=")]
    Eq,
    #[token("/")]
    Slash,
    #[token("-")]
    Minus,
    #[token("->")]
    Arrow,
    #[token("<->")]
    BiArrow,

    // Literals.
    #[regex(r"[A-Za-z_][A-Za-z0-9_]*", |lex| lex.slice().to_string())]
    Ident(String),
    #[regex(r#""([^"\\\n]|\\[^\n])*""#, string)]
    Str(String),
    #[regex(r"[0-9]+|0[xX][0-9a-fA-F]+", |lex| parse_int(lex.slice()), priority = 3)]
    Int(u64),
    #[regex(r"[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+", |lex| parse_v4(lex.slice()))]
    Ip4(IpLit),
    #[regex(r"[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+/[0-9]+", |lex| parse_net(lex.slice(), false))]
    Net4(NetLit),
    #[regex(r"[0-9a-fA-F]{0,4}(:[0-9a-fA-F]{0,4}){2,7}", |lex| parse_v6(lex.slice()))]
    Ip6(IpLit),
    #[regex(r"[0-9a-fA-F]{0,4}(:[0-9a-fA-F]{0,4}){2,7}/[0-9]+", |lex| parse_net(lex.slice(), true))]
    Net6(NetLit),
    #[regex(r"[0-9]{2}:[0-9]{2}", |lex| parse_time(lex.slice()))]
    Time(u32),
    #[regex(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", |lex| parse_date(lex.slice()))]
    Date((u16, u8, u8)),
    #[regex(r"[0-9]+[smhd]", |lex| parse_duration(lex.slice()))]
    Duration(u64),

    /// A byte-order mark; skipped at the very start of a file, unreadable anywhere else.
    #[token("\u{feff}")]
    ByteOrderMark,

    /// Anything the lexer could not read; the parser reports it and recovers.
    Error,
}

/// The error type the grammar's `extern` block names. Lexing failures never surface here:
/// they become [`Token::Error`] so that recovery continues.
#[derive(Clone, Debug, PartialEq)]
pub struct LexError;

pub type Spanned = (usize, Token, usize);

/// Lex a whole file into tokens and comments.
pub fn lex(text: &str) -> (Vec<Spanned>, Vec<Comment>) {
    let (tokens, extras) = lex_with_extras(text);
    (tokens, extras.comments)
}

/// Lex a whole file: tokens, comments and the unknown escapes met in strings. A byte-order
/// mark at the start is skipped.
pub fn lex_with_extras(text: &str) -> (Vec<Spanned>, LexExtras) {
    let mut lexer = Token::lexer_with_extras(text, LexExtras::default());
    let mut tokens = Vec::new();
    while let Some(tok) = lexer.next() {
        let span = lexer.span();
        let tok = match tok {
            Ok(Token::ByteOrderMark) if span.start == 0 => continue,
            Ok(Token::ByteOrderMark) | Err(_) => Token::Error,
            Ok(t) => t,
        };
        tokens.push((span.start, tok, span.end));
    }
    (tokens, lexer.extras)
}

impl Token {
    /// How a token is named after "unexpected" in a syntax error (no article: "unexpected string").
    pub fn describe(&self) -> String {
        match self {
            Token::Ident(s) => format!("`{s}`"),
            Token::Str(_) => "string".into(),
            Token::Int(n) => format!("`{n}`"),
            Token::Ip4(a) | Token::Ip6(a) => format!("`{a}`"),
            Token::Net4(n) | Token::Net6(n) => format!("`{n}`"),
            Token::Time(_) => "time of day".into(),
            Token::Date(_) => "date".into(),
            Token::Duration(_) => "duration".into(),
            Token::Error => "unreadable character".into(),
            Token::ByteOrderMark => "byte-order mark".into(),
            Token::Comment => "comment".into(),
            other => format!("`{}`", other.keyword_text()),
        }
    }

    fn keyword_text(&self) -> String {
        let dbg = format!("{self:?}");
        match self {
            Token::LBrace => "{".into(),
            Token::RBrace => "}".into(),
            Token::LBracket => "[".into(),
            Token::RBracket => "]".into(),
            Token::LParen => "(".into(),
            Token::RParen => ")".into(),
            Token::Comma => ",".into(),
            Token::Semi => ";".into(),
            Token::Colon => ":".into(),
            Token::Dot => ".".into(),
            Token::Eq => "=".into(),
            Token::Slash => "/".into(),
            Token::Minus => "-".into(),
            Token::Arrow => "->".into(),
            Token::BiArrow => "<->".into(),
            _ => KEYWORDS
                .iter()
                .find(|(_, name)| *name == dbg)
                .map(|(kw, _)| (*kw).to_string())
                .unwrap_or(dbg),
        }
    }
}

/// Every keyword with the name of its token variant (for messages, completion and the
/// formatter's check that an identifier never collides with a keyword).
pub const KEYWORDS: &[(&str, &str)] = &[
    ("site", "Site"),
    ("timezone", "Timezone"),
    ("use", "Use"),
    ("const", "Const"),
    ("role", "Role"),
    ("person", "Person"),
    ("roles", "Roles"),
    ("service", "Service"),
    ("protocol", "Protocol"),
    ("function", "Function"),
    ("access", "Access"),
    ("group", "Group"),
    ("zone", "Zone"),
    ("security_level", "SecurityLevel"),
    ("network", "Network"),
    ("asset", "Asset"),
    ("at", "At"),
    ("kind", "Kind"),
    ("capability", "Capability"),
    ("interface", "Interface"),
    ("bridge", "Bridge"),
    ("compensating", "Compensating"),
    ("covers", "Covers"),
    ("relies_on", "ReliesOn"),
    ("because", "Because"),
    ("owner", "Owner"),
    ("expires", "Expires"),
    ("conduit", "Conduit"),
    ("allow", "Allow"),
    ("when", "When"),
    ("workorder", "Workorder"),
    ("unidirectional", "Unidirectional"),
    ("log", "Log"),
    ("firewall", "Firewall"),
    ("gateway", "Gateway"),
    ("target", "Target"),
    ("faces", "Faces"),
    ("inline", "Inline"),
    ("mode", "Mode"),
    ("between", "Between"),
    ("and", "And"),
    ("or", "Or"),
    ("of", "Of"),
    ("link", "Link"),
    ("scope", "Scope"),
    ("requested_by", "RequestedBy"),
    ("approved_by", "ApprovedBy"),
    ("separation_of_duties", "SeparationOfDuties"),
    ("prerequisite", "Prerequisite"),
    ("window", "Window"),
    ("max_duration", "MaxDuration"),
    ("emergency", "Emergency"),
    ("review_after", "ReviewAfter"),
    ("opens", "Opens"),
    ("dataflow", "Dataflow"),
    ("integrity", "Integrity"),
    ("confidentiality", "Confidentiality"),
    ("push", "Push"),
    ("pull", "Pull"),
    ("assert", "Assert"),
    ("no_path", "NoPath"),
    ("only_via", "OnlyVia"),
    ("isolated", "Isolated"),
    ("reachable", "Reachable"),
    ("approvals", "Approvals"),
    ("in", "In"),
    ("during", "During"),
    ("except", "Except"),
    ("base", "Base"),
    ("any", "Any"),
    ("external", "External"),
    ("description", "Description"),
    ("inspect", "Inspect"),
    ("provides", "Provides"),
    ("broadcast", "Broadcast"),
    ("multicast", "Multicast"),
    ("layer2", "Layer2"),
    ("isolation", "Isolation"),
    ("profile", "Profile"),
    ("require", "Require"),
    ("disable", "Disable"),
];

pub fn is_keyword(word: &str) -> bool {
    KEYWORDS.iter().any(|(kw, _)| *kw == word)
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<Token> {
        lex(text).0.into_iter().map(|(_, t, _)| t).collect()
    }

    #[test]
    fn addresses_times_and_durations() {
        let toks = kinds("10.40.0.0/24 fd00:40::/64 fd00::1 06:00 2027-12-31 4h 0x10 tcp/502");
        assert!(matches!(toks[0], Token::Net4(NetLit { prefix: 24, .. })));
        assert!(matches!(toks[1], Token::Net6(NetLit { prefix: 64, .. })));
        assert!(matches!(toks[2], Token::Ip6(_)));
        assert_eq!(toks[3], Token::Time(360));
        assert_eq!(toks[4], Token::Date((2027, 12, 31)));
        assert_eq!(toks[5], Token::Duration(4 * 3600));
        assert_eq!(toks[6], Token::Int(16));
        assert_eq!(toks[7], Token::Ident("tcp".into()));
        assert_eq!(toks[8], Token::Slash);
        assert_eq!(toks[9], Token::Int(502));
    }

    #[test]
    fn comments_are_kept_aside() {
        let (toks, comments) = lex("zone a // trailing\n/* block */ zone b");
        assert_eq!(toks.len(), 4);
        assert_eq!(comments.len(), 2);
        assert_eq!(comments[0].text, "// trailing");
    }

    #[test]
    fn bad_input_becomes_error_tokens() {
        let toks = kinds("zone § 999.1.1.1 2027-13-40");
        assert!(toks.contains(&Token::Error));
        assert_eq!(toks.iter().filter(|t| **t == Token::Error).count(), 3);
    }

    #[test]
    fn keyword_names_match_variants() {
        for (kw, _) in KEYWORDS {
            let toks = kinds(kw);
            assert_eq!(toks.len(), 1);
            assert_eq!(toks[0].describe(), format!("`{kw}`"));
        }
    }
}
