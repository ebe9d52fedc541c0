//! Places in a Dockerfile: 1-based line and column (columns count characters), and
//! text joined from several physical lines that still knows where each byte came from.

use serde::Serialize;

/// A place in a file. Lines and columns start at 1; a column counts characters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
}

impl Pos {
    pub fn new(line: usize, column: usize) -> Self {
        Pos { line, column }
    }
}

impl std::fmt::Display for Pos {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// Where one piece of a [`SourceText`] starts: its byte offset in the joined text and
/// the place of its first character in the file.
#[derive(Clone, Debug)]
struct Segment {
    offset: usize,
    pos: Pos,
}

/// Text assembled from pieces of physical lines (a continued instruction), mapping any
/// byte offset back to the line and column it came from.
#[derive(Clone, Debug, Default)]
pub struct SourceText {
    pub text: String,
    segments: Vec<Segment>,
}

impl SourceText {
    /// Appends `piece`, whose first character sits at `pos` in the file.
    pub fn push(&mut self, piece: &str, pos: Pos) {
        self.segments.push(Segment {
            offset: self.text.len(),
            pos,
        });
        self.text.push_str(piece);
    }

    /// The place in the file of the byte at `offset` (clamped to the text).
    pub fn pos(&self, offset: usize) -> Pos {
        let offset = offset.min(self.text.len());
        let Some(seg) = self.segments.iter().rev().find(|s| s.offset <= offset) else {
            return Pos::new(1, 1);
        };
        let chars = self
            .text
            .get(seg.offset..offset)
            .map_or(0, |s| s.chars().count());
        Pos::new(seg.pos.line, seg.pos.column + chars)
    }

    /// Text with no position of its own (built in code, e.g. for tests).
    pub fn detached(text: &str, pos: Pos) -> Self {
        let mut s = SourceText::default();
        s.push(text, pos);
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_offsets_across_pieces() {
        let mut t = SourceText::default();
        t.push(" apt-get install ", Pos::new(3, 4));
        t.push("    curl", Pos::new(4, 1));
        assert_eq!(t.pos(1), Pos::new(3, 5));
        let curl = t.text.find("curl").unwrap();
        assert_eq!(t.pos(curl), Pos::new(4, 5));
    }

    #[test]
    fn counts_characters_not_bytes() {
        let t = SourceText::detached("é x", Pos::new(1, 1));
        assert_eq!(t.pos(3), Pos::new(1, 3));
    }
}
