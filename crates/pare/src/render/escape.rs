//! Text from an image, a registry or an advisory made safe for a terminal. A file
//! name, label, history line, licence, zip entry or error message can hold raw ESC
//! bytes: printed as they are, they recolour, retitle or clear the terminal, or open
//! an OSC sequence that swallows what follows. Every control character (C0, DEL, C1)
//! and every bidirectional override is shown as an escape (`\x1b`, `\n`, `\u{202e}`)
//! instead, and text is cut only between whole characters or whole escapes.

use std::borrow::Cow;
use std::fmt::Write as _;

/// `s` with every control character shown as an escape: one line, whatever it holds.
pub fn escape(s: &str) -> Cow<'_, str> {
    escaped(s, Lines::Escape)
}

/// `s` with every control character but the line break and tab shown as an escape: for
/// text of several lines (an answer's body, what a program printed).
pub fn escape_text(s: &str) -> Cow<'_, str> {
    escaped(s, Lines::Keep)
}

/// `s`, escaped as [`escape_text`] does, cut to `max` characters with an ellipsis when
/// cut; the cut never falls inside an escape.
pub fn truncate(s: &str, max: usize) -> String {
    cut(s, max, Lines::Keep)
}

/// `s`, escaped as [`escape`] does (one line), cut to `max` characters with an
/// ellipsis when cut; the cut never falls inside an escape.
pub fn truncate_line(s: &str, max: usize) -> String {
    cut(s, max, Lines::Escape)
}

/// Whether line breaks and tabs are kept or escaped.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Lines {
    Keep,
    Escape,
}

/// How `c` is shown: `None` when as itself.
fn escape_of(c: char, lines: Lines) -> Option<String> {
    let is_bidi =
        matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
    match c {
        '\n' | '\t' if lines == Lines::Keep => None,
        '\n' => Some("\\n".into()),
        '\t' => Some("\\t".into()),
        '\r' => Some("\\r".into()),
        '\0'..='\u{1f}' | '\u{7f}' => Some(format!("\\x{:02x}", c as u32)),
        '\u{80}'..='\u{9f}' => Some(format!("\\u{{{:x}}}", c as u32)),
        _ if is_bidi => Some(format!("\\u{{{:x}}}", c as u32)),
        _ => None,
    }
}

fn escaped(s: &str, lines: Lines) -> Cow<'_, str> {
    if !s.chars().any(|c| escape_of(c, lines).is_some()) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match escape_of(c, lines) {
            Some(e) => out.push_str(&e),
            None => out.push(c),
        }
    }
    Cow::Owned(out)
}

fn cut(s: &str, max: usize, lines: Lines) -> String {
    let shown = escaped(s, lines);
    if shown.chars().count() <= max {
        return shown.into_owned();
    }
    let room = max.saturating_sub(1);
    let mut out = String::new();
    let mut width = 0;
    for c in s.chars() {
        let unit = escape_of(c, lines);
        let w = unit.as_ref().map_or(1, |u| u.chars().count());
        if width + w > room {
            break;
        }
        width += w;
        match unit {
            Some(u) => out.push_str(&u),
            None => out.push(c),
        }
    }
    let _ = write!(out, "…");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_shown_not_sent() {
        assert_eq!(escape("plain/name.txt"), "plain/name.txt");
        assert_eq!(escape("a\x1b[2Jb"), "a\\x1b[2Jb");
        assert_eq!(escape("x\ny\tz\r\x7f"), "x\\ny\\tz\\r\\x7f");
        assert_eq!(escape("csi\u{9b}31m"), "csi\\u{9b}31m");
        assert_eq!(escape("evil\u{202e}txt.exe"), "evil\\u{202e}txt.exe");
        assert_eq!(escape_text("two\nlines\x1b"), "two\nlines\\x1b");
        assert_eq!(escape("ünïcode ✓"), "ünïcode ✓");
    }

    #[test]
    fn a_cut_never_splits_an_escape() {
        // An OSC 8 hyperlink cut in half would swallow what the terminal shows next.
        let osc = "RUN x \x1b]8;;http://evil/\x1b\\click\x1b]8;;\x1b\\ done";
        for max in 1..80 {
            let cut = truncate_line(osc, max);
            assert!(!cut.contains('\x1b'), "{cut:?}");
            assert!(cut.chars().count() <= max.max(1), "{max}: {cut:?}");
            let body = cut.trim_end_matches('…');
            assert!(
                escape(osc).starts_with(body),
                "{max}: {cut:?} is not a prefix of whole escapes"
            );
            assert!(!body.ends_with("\\x1") && !body.ends_with("\\x"), "{cut:?}");
        }
        assert_eq!(truncate_line("ab\x1bcd", 5), "ab…");
        assert_eq!(truncate_line("ab\x1bcd", 7), "ab\\x1b…");
        assert_eq!(truncate("short", 10), "short");
        assert_eq!(truncate("a\nb", 10), "a\nb");
    }
}
