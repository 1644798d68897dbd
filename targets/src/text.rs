//! Text from the source in emitted files: the one place where a string from a `.pal` file (a
//! site name, a title, a description, a name, a source path) is made fit for an output.
//! Every output module formats such text only through these functions, one per kind of
//! position.
//!
//! The rule, the same everywhere: the text stays on its line (no LF, CR or other control
//! character, no bidi control), in the line-oriented outputs it is printable ASCII (anything
//! else becomes `?`), it never holds what would end its position (`"` and `\` inside quotes,
//! `;` in a Suricata option, `--` in an XML comment, a `\` that Suricata would read as a line
//! continuation), and it is bounded: at most a few hundred bytes, cut with [`CUT`]. Bounding
//! matters as much as the characters: the tools read their files in chunks — ipset 1,023
//! bytes, Suricata 8,191, iptables-restore 10,239 — and read the rest of a longer line as a
//! line of its own, so a long enough "comment" could carry a command past its own marker.
//! Every line that carries source text therefore stays well under [`LINE_MAX`].
//!
//! JSON outputs need none of this (serde escapes), and the HTML report escapes with [`html`].

/// No line of a line-oriented output that carries text from the source is longer than this
/// (ipset, the shortest reader, cuts after 1,023 bytes).
pub const LINE_MAX: usize = 1000;
/// The longest text from the source in one comment field (a site name, a title).
pub const FIELD_MAX: usize = 200;
/// What a cut text ends with.
pub const CUT: &str = "...";

/// Bidi controls (embeddings, overrides, isolates, marks): they reorder what a reader sees.
fn is_bidi(c: char) -> bool {
    matches!(c, '\u{200e}' | '\u{200f}' | '\u{061c}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `s` with every character `keep` refuses replaced by `replace`, then cut to `max` bytes.
/// `keep` must accept only ASCII, so that any byte is a character boundary.
fn ascii(s: &str, keep: impl Fn(char) -> bool, replace: char, max: usize) -> String {
    let mut out = String::with_capacity(s.len().min(max));
    for c in s.chars() {
        if out.len() > max {
            break;
        }
        out.push(if c.is_ascii() && keep(c) { c } else { replace });
    }
    cut(out, max)
}

/// Cut ASCII text to `max` bytes, ending in [`CUT`] when anything was removed.
fn cut(mut s: String, max: usize) -> String {
    if s.len() > max {
        s.truncate(max.saturating_sub(CUT.len()));
        s.push_str(CUT);
        s.truncate(max);
    }
    s
}

fn printable(c: char) -> bool {
    c.is_ascii_graphic() || c == ' '
}

/// The text of a comment line: `# …` in nftables, iptables-restore, ipset, Suricata rules
/// and YAML, `! …` in Cisco IOS. Printable ASCII without `\` (a Suricata line ending in `\`
/// continues on the next one), at most `max` bytes.
pub fn comment(s: &str, max: usize) -> String {
    ascii(s, |c| printable(c) && c != '\\', '?', max.min(LINE_MAX))
}

/// One field of a comment line, at most [`FIELD_MAX`] bytes.
pub fn comment_field(s: &str) -> String {
    comment(s, FIELD_MAX)
}

/// Inside a double-quoted nftables string (`comment "…"`, `log prefix "…"`): printable
/// ASCII without `"` and `\`, at most `max` bytes (the kernel keeps 128 of a comment).
pub fn nft_string(s: &str, max: usize) -> String {
    quoted(s, max)
}

/// Inside a double-quoted iptables-restore argument (`--comment "…"`, at most 256 bytes;
/// `--log-prefix "…"`, 29): printable ASCII without `"` and `\`, at most `max` bytes.
pub fn iptables_string(s: &str, max: usize) -> String {
    quoted(s, max)
}

/// The rest of a Cisco IOS line after `remark` (at most 100 characters) or `description`:
/// printable ASCII without `"` and `\`, at most `max` bytes.
pub fn ios_text(s: &str, max: usize) -> String {
    quoted(s, max)
}

/// Quoted text is cut without a marker: these fields are short, and a log prefix or rule
/// comment keeps as much of its own text as fits.
fn quoted(s: &str, max: usize) -> String {
    let max = max.min(LINE_MAX);
    let mut out = String::with_capacity(s.len().min(max));
    for c in s.chars().take(max) {
        out.push(match c {
            '"' | '\\' => '\'',
            c if c.is_ascii() && printable(c) => c,
            _ => '?',
        });
    }
    out
}

/// Inside a Suricata `msg:"…"`: only characters that need no escaping and cannot end the
/// string or the option (`"`, `;` and `\` never pass), at most `max` bytes.
pub fn suricata_msg(s: &str, max: usize) -> String {
    ascii(
        s,
        |c| c.is_ascii_alphanumeric() || " _-.,:/>()+=#".contains(c),
        '?',
        max.min(LINE_MAX),
    )
}

/// A Suricata `metadata` value: a word of letters, digits, `_`, `-` and `.`, at most 100
/// bytes (metadata is `key value, key value`, so neither `,` nor `;` nor a space may pass).
pub fn suricata_metadata(s: &str) -> String {
    ascii(
        s,
        |c| c.is_ascii_alphanumeric() || "_-.".contains(c),
        '_',
        100,
    )
}

/// Text for an XML comment (`<!-- … -->`): one line of printable ASCII, never `--`, never
/// ending in `-`, at most `max` bytes.
pub fn xml_comment(s: &str, max: usize) -> String {
    let mut out = String::new();
    for c in comment(s, max).chars() {
        if c == '-' && out.ends_with('-') {
            out.push(' ');
        }
        out.push(c);
    }
    if out.ends_with('-') {
        out.push(' ');
    }
    // The spaces may have made it longer; a cut ends in `...`, never in `-`.
    cut(out, max.min(LINE_MAX))
}

/// Escape text for XML content and attribute values. Line breaks and tabs become character
/// references; characters XML 1.0 cannot carry at all (other controls, U+FFFE, U+FFFF) and
/// bidi controls become U+FFFD. Not bounded: XML is read as a document, not in lines.
pub fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c if (c as u32) < 0x20 || matches!(c as u32, 0x7f | 0xfffe | 0xffff) || is_bidi(c) => {
                out.push('\u{fffd}')
            }
            c => out.push(c),
        }
    }
    out
}

/// Escape text for HTML content and attribute values (the audit report). Control and bidi
/// characters become U+FFFD, except line breaks and tabs.
pub fn html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if (c.is_control() && c != '\n' && c != '\t') || is_bidi(c) => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: &str = "a\"b\\c\nd\re\u{0}f\u{1b}[31m;g#h\u{202e}i--> Zürich -";

    #[test]
    fn every_kind_keeps_its_line_and_bounds() {
        let long = HOSTILE.repeat(5000);
        for out in [
            comment(&long, 10_000),
            comment_field(&long),
            nft_string(&long, 10_000),
            iptables_string(&long, 29),
            ios_text(&long, 100),
            suricata_msg(&long, 10_000),
            suricata_metadata(&long),
            xml_comment(&long, 10_000),
        ] {
            assert!(out.len() <= LINE_MAX, "{}", out.len());
            assert!(
                out.chars().all(|c| c.is_ascii_graphic() || c == ' '),
                "{out}"
            );
        }
        assert!(iptables_string(&long, 29).len() <= 29);
        assert!(comment_field(&long).ends_with(CUT));
    }

    #[test]
    fn what_each_position_refuses() {
        assert_eq!(comment(HOSTILE, 100), "a\"b?c?d?e?f?[31m;g#h?i--> Z?rich -");
        assert_eq!(comment("ends in \\", 100), "ends in ?");
        assert_eq!(
            nft_string(HOSTILE, 100),
            "a'b'c?d?e?f?[31m;g#h?i--> Z?rich -"
        );
        assert_eq!(
            suricata_msg(HOSTILE, 100),
            "a?b?c?d?e?f??31m?g#h?i--> Z?rich -"
        );
        assert_eq!(suricata_metadata("a b,c;d"), "a_b_c_d");
        assert_eq!(xml_comment("x -- y -->", 100), "x - - y - ->");
        assert_eq!(xml_comment("ends-", 100), "ends- ");
        assert_eq!(
            xml("a<b>&\"c'\n\u{1}\u{202e}"),
            "a&lt;b&gt;&amp;&quot;c&apos;&#10;\u{fffd}\u{fffd}"
        );
        assert_eq!(html("<\u{1b}\u{2066}\n"), "&lt;\u{fffd}\u{fffd}\n");
    }

    #[test]
    fn short_text_is_unchanged_and_cuts_are_marked() {
        assert_eq!(comment("Site DMZ (Level 3.5)", 100), "Site DMZ (Level 3.5)");
        assert_eq!(comment(&"x".repeat(20), 10), "xxxxxxx...");
        assert_eq!(comment(&"x".repeat(10), 10), "xxxxxxxxxx");
    }
}
