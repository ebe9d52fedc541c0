//! Debian control paragraphs and the e-mail-style headers of Python's METADATA: `Key: value`
//! lines, continuation lines that start with a space or tab, paragraphs split by blank lines.

/// One paragraph: its fields in order, and the 1-based line it starts on.
#[derive(Clone, Debug, Default)]
pub(crate) struct Paragraph {
    pub line: usize,
    pub fields: Vec<(String, String)>,
}

impl Paragraph {
    /// The first value of `key` (case-insensitive), trimmed.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.trim())
    }

    /// Every value of `key` (METADATA repeats `Classifier:`).
    pub fn all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.fields
            .iter()
            .filter(move |(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.trim())
    }
}

/// A line that is neither a field, a continuation nor blank.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct BadLine {
    pub line: usize,
    pub text: String,
}

/// Splits `text` into paragraphs. With `only_first`, stops at the first blank line
/// (METADATA: what follows is the description body).
pub(crate) fn paragraphs(text: &str, only_first: bool) -> (Vec<Paragraph>, Vec<BadLine>) {
    let mut out = Vec::new();
    let mut bad = Vec::new();
    let mut current = Paragraph::default();
    for (i, line) in text.lines().enumerate() {
        let line_no = i + 1;
        if line.trim().is_empty() {
            if !current.fields.is_empty() {
                out.push(std::mem::take(&mut current));
                if only_first {
                    return (out, bad);
                }
            }
            continue;
        }
        if line.starts_with([' ', '\t']) {
            match current.fields.last_mut() {
                Some((_, value)) => {
                    value.push('\n');
                    value.push_str(line.trim());
                }
                None => bad.push(BadLine {
                    line: line_no,
                    text: line.to_owned(),
                }),
            }
            continue;
        }
        match line.split_once(':') {
            Some((key, value)) if !key.is_empty() && !key.contains(' ') => {
                if current.fields.is_empty() {
                    current.line = line_no;
                }
                current
                    .fields
                    .push((key.to_owned(), value.trim().to_owned()));
            }
            _ => bad.push(BadLine {
                line: line_no,
                text: line.to_owned(),
            }),
        }
    }
    if !current.fields.is_empty() {
        out.push(current);
    }
    (out, bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_continuations_and_bad_lines() {
        let (ps, bad) = paragraphs(
            "Package: a\nConffiles:\n /etc/a 123\n /etc/b 456\n\nPackage: b\nnot a field\n",
            false,
        );
        assert_eq!(ps.len(), 2);
        assert_eq!(ps[0].get("conffiles"), Some("/etc/a 123\n/etc/b 456"));
        assert_eq!(ps[1].line, 6);
        assert_eq!(bad[0].line, 7);
    }
}
