//! Byte offsets (what the compiler's spans hold) to LSP positions (line and UTF-16 column)
//! and back. LSP counts columns in UTF-16 code units: `é` is one unit, `🏭` two, while both
//! are several bytes in the UTF-8 text the compiler sees.

use tower_lsp_server::ls_types::{Position, Range};

/// Where each line of a text starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineIndex {
    /// Byte offset of the first character of every line; `line_starts[0] == 0`.
    line_starts: Vec<u32>,
    /// Whether each line is plain ASCII (then columns are byte counts).
    ascii: Vec<bool>,
    len: u32,
}

impl LineIndex {
    pub fn new(text: &str) -> LineIndex {
        let mut line_starts = vec![0];
        let mut ascii = Vec::new();
        let mut line_ascii = true;
        for (i, b) in text.bytes().enumerate() {
            if b == b'\n' {
                line_starts.push(to_u32(i + 1));
                ascii.push(line_ascii);
                line_ascii = true;
            } else if !b.is_ascii() {
                line_ascii = false;
            }
        }
        ascii.push(line_ascii);
        LineIndex {
            line_starts,
            ascii,
            len: to_u32(text.len()),
        }
    }

    /// The LSP position of a byte offset. An offset inside a character counts from the
    /// character's start; one past the end is clamped to the end.
    pub fn position(&self, text: &str, offset: u32) -> Position {
        let offset = offset.min(self.len);
        let line = self
            .line_starts
            .partition_point(|s| *s <= offset)
            .saturating_sub(1);
        let start = self.line_starts.get(line).copied().unwrap_or(0);
        let character = if self.ascii.get(line).copied().unwrap_or(false) {
            offset - start
        } else {
            let end = floor_char_boundary(text, offset as usize);
            let slice = text.get(start as usize..end).unwrap_or("");
            to_u32(slice.encode_utf16().count())
        };
        Position::new(to_u32(line), character)
    }

    /// The byte offset of an LSP position. A column past the end of its line means the end
    /// of the line (before its newline); a line past the end means the end of the text, as
    /// the protocol asks. A column in the middle of a surrogate pair rounds down.
    pub fn offset(&self, text: &str, pos: Position) -> u32 {
        let Some(start) = self.line_starts.get(pos.line as usize).copied() else {
            return self.len;
        };
        let end = self
            .line_starts
            .get(pos.line as usize + 1)
            .map(|next| next.saturating_sub(1))
            .unwrap_or(self.len);
        let line = text.get(start as usize..end as usize).unwrap_or("");
        let line = line.strip_suffix('\r').unwrap_or(line);
        if self.ascii.get(pos.line as usize).copied().unwrap_or(false) {
            return start + pos.character.min(to_u32(line.len()));
        }
        let mut units = 0u32;
        for (i, c) in line.char_indices() {
            let next = units + to_u32(c.len_utf16());
            if next > pos.character {
                return start + to_u32(i);
            }
            units = next;
        }
        start + to_u32(line.len())
    }

    pub fn range(&self, text: &str, start: u32, end: u32) -> Range {
        Range::new(
            self.position(text, start),
            self.position(text, end.max(start)),
        )
    }

    /// Byte offsets of an LSP range, ordered.
    pub fn offsets(&self, text: &str, range: Range) -> (u32, u32) {
        let a = self.offset(text, range.start);
        let b = self.offset(text, range.end);
        (a.min(b), a.max(b))
    }

    pub fn line_count(&self) -> u32 {
        to_u32(self.line_starts.len())
    }
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    i = i.min(text.len());
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn ascii_positions_round_trip() {
        let text = "zone a {\n  network 10.0.0.0/24\n}\n";
        let idx = LineIndex::new(text);
        assert_eq!(idx.position(text, 0), Position::new(0, 0));
        assert_eq!(idx.position(text, 11), Position::new(1, 2));
        assert_eq!(idx.offset(text, Position::new(1, 2)), 11);
        assert_eq!(idx.position(text, text.len() as u32), Position::new(3, 0));
        for off in 0..=text.len() as u32 {
            assert_eq!(idx.offset(text, idx.position(text, off)), off);
        }
    }

    #[test]
    fn utf16_columns_count_surrogate_pairs() {
        // `é` is 2 bytes and 1 UTF-16 unit; `🏭` is 4 bytes and 2 units.
        let text = "// é🏭 x\nzone b";
        let idx = LineIndex::new(text);
        let x = text.find('x').unwrap() as u32;
        assert_eq!(idx.position(text, x), Position::new(0, 7));
        assert_eq!(idx.offset(text, Position::new(0, 7)), x);
        // The emoji covers columns 4 and 5; inside the pair rounds down to its start.
        let factory = text.find('🏭').unwrap() as u32;
        assert_eq!(idx.offset(text, Position::new(0, 4)), factory);
        assert_eq!(idx.offset(text, Position::new(0, 5)), factory);
        assert_eq!(idx.offset(text, Position::new(0, 6)), factory + 4);
        assert_eq!(idx.position(text, factory + 4), Position::new(0, 6));
        // Past the end of the line: the end of the line.
        assert_eq!(
            idx.offset(text, Position::new(0, 99)),
            text.find('\n').unwrap() as u32
        );
        assert_eq!(idx.position(text, text.len() as u32), Position::new(1, 6));
        // Past the last line: the end of the text.
        assert_eq!(idx.offset(text, Position::new(7, 0)), text.len() as u32);
    }

    #[test]
    fn offsets_inside_a_character_round_down() {
        let text = "aé";
        let idx = LineIndex::new(text);
        assert_eq!(idx.position(text, 2), Position::new(0, 1));
        assert_eq!(idx.position(text, 3), Position::new(0, 2));
    }

    #[test]
    fn crlf_line_ends_are_not_columns() {
        let text = "ab\r\ncd";
        let idx = LineIndex::new(text);
        assert_eq!(idx.offset(text, Position::new(0, 10)), 2);
        assert_eq!(idx.offset(text, Position::new(1, 1)), 5);
    }
}
