//! Properties: the parser never panics on any text, and on every text that parses without
//! errors the formatter keeps the tree and the comments and is idempotent.
//!
//! The seed is fixed and the case counts modest, so a run is deterministic and quick.

use crate::support::{round_trip, SAMPLE};
use palisade_syntax::format::format;
use palisade_syntax::lexer::{lex, KEYWORDS};
use palisade_syntax::parse;
use proptest::prelude::*;
use proptest::sample::{select, Index};
use proptest::test_runner::RngSeed;

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        rng_seed: RngSeed::Fixed(0x9a11_5ade),
        ..ProptestConfig::default()
    }
}

/// Punctuation, literals of every kind (some malformed), comments and line breaks; the
/// keywords are added from the lexer's table.
#[rustfmt::skip]
const TOKENS: &[&str] = &[
    "{", "}", "[", "]", "(", ")", ",", ";", ":", ".", "=", "/", "-", "->", "<->", "\n", "\n\n",
    "// note\n", "/* note */", "/* two\n lines */", "a", "plc", "FR1", "tcp", "icmp", "Mon", "Fri",
    "std", "\"text\"", "\"q \\\" b \\\\\"", "\"open", "502", "0x10", "3", "10.0.0.1",
    "10.0.0.0/24", "999.1.1.1", "fd00::1", "fd00::/64", "::ffff:102:304", "06:00", "25:00",
    "2027-12-31", "2027-02-30", "4h", "90s", "§", "#", "*/", "/*",
];

fn vocabulary() -> Vec<String> {
    TOKENS
        .iter()
        .map(|t| t.to_string())
        .chain(KEYWORDS.iter().map(|(kw, _)| kw.to_string()))
        .collect()
}

/// Parse, and require that `format` refuses exactly the texts with syntax errors and
/// round-trips the others.
fn check(text: &str) -> Result<(), TestCaseError> {
    let parsed = parse(text);
    let formatted = format(text);
    prop_assert_eq!(parsed.errors.is_empty(), formatted.is_ok());
    if parsed.errors.is_empty() {
        if let Err(e) = round_trip(text) {
            return Err(TestCaseError::fail(e));
        }
    }
    Ok(())
}

/// `text` cut at token starts: each piece is one token and what follows it up to the next
/// token (spaces, comments); the first piece is what precedes the first token.
fn pieces(text: &str) -> Vec<String> {
    let (tokens, _) = lex(text);
    let mut starts: Vec<usize> = tokens.iter().map(|(start, _, _)| *start).collect();
    starts.insert(0, 0);
    starts.push(text.len());
    starts
        .windows(2)
        .map(|w| text[w[0]..w[1]].to_string())
        .collect()
}

/// An edit of a token-sized piece or of a whole line (often a whole statement).
#[derive(Clone, Debug)]
enum Mutation {
    Delete(Index),
    Duplicate(Index),
    /// Insert a vocabulary token (followed by a space) before a piece.
    Insert(Index, Index),
    /// Move a piece somewhere else.
    Move(Index, Index),
    DeleteLine(Index),
    DuplicateLine(Index),
    MoveLine(Index, Index),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<Index>().prop_map(Mutation::Delete),
        any::<Index>().prop_map(Mutation::Duplicate),
        (any::<Index>(), any::<Index>()).prop_map(|(at, token)| Mutation::Insert(at, token)),
        (any::<Index>(), any::<Index>()).prop_map(|(from, to)| Mutation::Move(from, to)),
        any::<Index>().prop_map(Mutation::DeleteLine),
        any::<Index>().prop_map(Mutation::DuplicateLine),
        (any::<Index>(), any::<Index>()).prop_map(|(from, to)| Mutation::MoveLine(from, to)),
    ]
}

fn mutate(text: &str, m: &Mutation, vocabulary: &[String]) -> String {
    let line_edit = matches!(
        m,
        Mutation::DeleteLine(_) | Mutation::DuplicateLine(_) | Mutation::MoveLine(..)
    );
    let mut parts: Vec<String> = if line_edit {
        text.split_inclusive('\n').map(str::to_string).collect()
    } else {
        pieces(text)
    };
    if parts.is_empty() {
        return text.to_string();
    }
    match m {
        Mutation::Delete(i) | Mutation::DeleteLine(i) => {
            parts.remove(i.index(parts.len()));
        }
        Mutation::Duplicate(i) | Mutation::DuplicateLine(i) => {
            let at = i.index(parts.len());
            parts.insert(at, parts[at].clone());
        }
        Mutation::Insert(at, token) => {
            let text = format!("{} ", token.get(vocabulary));
            parts.insert(at.index(parts.len() + 1), text);
        }
        Mutation::Move(from, to) | Mutation::MoveLine(from, to) => {
            let part = parts.remove(from.index(parts.len()));
            parts.insert(to.index(parts.len() + 1), part);
        }
    }
    parts.concat()
}

/// What may go between two tokens without changing the tree: comments and line breaks.
const NEUTRAL: &[&str] = &[
    " /* c{} */ ",
    " // c{}\n",
    "\n",
    "\n\n\n",
    " /* c{}\n  more */ ",
];

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn any_text_never_panics(text in ".*") {
        check(&text)?;
    }

    #[test]
    fn token_soup_never_panics(tokens in prop::collection::vec(select(vocabulary()), 0..60)) {
        check(&tokens.join(" "))?;
    }
}

proptest! {
    #![proptest_config(config(256))]

    /// Lines of the sample in random order and number: often a valid file, with blocks
    /// cut open or closed in odd places when not.
    #[test]
    fn reference_lines_in_any_order(
        lines in prop::collection::vec(select(SAMPLE.lines().collect::<Vec<_>>()), 0..25)
    ) {
        check(&lines.join("\n"))?;
    }

    /// Comments and line breaks anywhere between tokens: the sample still parses, and the
    /// formatter keeps every comment, in order, and the tree.
    #[test]
    fn comments_anywhere_are_kept(
        inserts in prop::collection::vec((any::<Index>(), 0..NEUTRAL.len()), 1..12)
    ) {
        let mut pieces = pieces(SAMPLE);
        for (n, (at, which)) in inserts.iter().enumerate() {
            let text = NEUTRAL[*which].replace("{}", &n.to_string());
            // After a piece's token, before whatever followed it.
            let at = at.index(pieces.len());
            let (head, tail) = split_after_token(&pieces[at], at == 0);
            pieces[at] = format!("{head}{text}{tail}");
        }
        let text = pieces.concat();
        prop_assert!(parse(&text).errors.is_empty(), "{}", text);
        check(&text)?;
    }
}

proptest! {
    #![proptest_config(config(768))]

    /// About one mutant in five still parses, and then goes through the formatter.
    #[test]
    fn mutated_reference(mutations in prop::collection::vec(mutation(), 1..3)) {
        let vocabulary = vocabulary();
        let mut text = SAMPLE.to_string();
        for m in &mutations {
            text = mutate(&text, m, &vocabulary);
        }
        check(&text)?;
    }
}

/// Split a piece right after its token (the prefix piece has no token).
fn split_after_token(piece: &str, prefix: bool) -> (String, String) {
    if prefix {
        return (String::new(), piece.to_string());
    }
    let (tokens, _) = lex(piece);
    let end = tokens.first().map_or(0, |(_, _, end)| *end);
    (piece[..end].to_string(), piece[end..].to_string())
}
