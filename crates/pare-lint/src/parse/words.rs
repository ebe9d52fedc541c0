//! Splitting an instruction's arguments into words (blanks separate them; quotes and
//! the escape character keep blanks inside a word), leading `--flag=value` options, and
//! the JSON (exec) form.

/// A word as written (quotes still in), with its byte offset in the arguments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Word {
    pub raw: String,
    pub offset: usize,
}

/// A `--name=value` (or bare `--name`) option before an instruction's arguments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Flag {
    pub name: String,
    pub value: Option<String>,
    pub offset: usize,
}

/// Splits on blanks outside quotes. Quotes are kept in [`Word::raw`]; an unclosed quote
/// runs to the end.
pub fn split(text: &str, escape: char) -> Vec<Word> {
    let mut words = Vec::new();
    let mut current: Option<Word> = None;
    let mut quote: Option<char> = None;
    let mut chars = text.char_indices().peekable();
    while let Some((offset, c)) = chars.next() {
        if quote.is_none() && c.is_whitespace() {
            if let Some(w) = current.take() {
                words.push(w);
            }
            continue;
        }
        let word = current.get_or_insert_with(|| Word {
            raw: String::new(),
            offset,
        });
        word.raw.push(c);
        if c == escape && quote != Some('\'') {
            if let Some((_, next)) = chars.next() {
                word.raw.push(next);
            }
            continue;
        }
        match quote {
            Some(q) if c == q => quote = None,
            None if c == '"' || c == '\'' => quote = Some(c),
            _ => {}
        }
    }
    words.extend(current);
    words
}

/// Takes the leading `--flag` words off `words`.
pub fn take_flags(words: &mut Vec<Word>) -> Vec<Flag> {
    let count = words
        .iter()
        .take_while(|w| w.raw.starts_with("--") && w.raw.len() > 2)
        .count();
    words
        .drain(..count)
        .map(|w| {
            let body = &w.raw[2..];
            let (name, value) = match body.split_once('=') {
                Some((n, v)) => (n, Some(v.to_owned())),
                None => (body, None),
            };
            Flag {
                name: name.to_ascii_lowercase(),
                value,
                offset: w.offset,
            }
        })
        .collect()
}

/// The JSON array form (`["a", "b"]`) if `text` is one; BuildKit reads anything that
/// does not parse as a JSON array of strings as the shell form.
pub fn json_array(text: &str) -> Option<Vec<String>> {
    let t = text.trim();
    if !t.starts_with('[') {
        return None;
    }
    serde_json::from_str::<Vec<String>>(t).ok()
}

/// Byte offset just past the leading flags in `text` (where the rest begins).
pub fn after_flags(text: &str, flags: &[Flag], words: &[Word]) -> usize {
    match words.first() {
        Some(w) => w.offset,
        None if flags.is_empty() => text.len() - text.trim_start().len(),
        None => text.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raws(text: &str) -> Vec<String> {
        split(text, '\\').into_iter().map(|w| w.raw).collect()
    }

    #[test]
    fn quotes_and_escapes_keep_blanks() {
        assert_eq!(
            raws(r#" a "b c" 'd e' f\ g "#),
            ["a", "\"b c\"", "'d e'", "f\\ g"]
        );
    }

    #[test]
    fn flags_come_first() {
        let mut w = split("--from=build --chown=1:1 /a /b", '\\');
        let flags = take_flags(&mut w);
        assert_eq!(flags.len(), 2);
        assert_eq!(flags[0].name, "from");
        assert_eq!(flags[0].value.as_deref(), Some("build"));
        assert_eq!(w.len(), 2);
    }

    #[test]
    fn json_form_or_not() {
        assert_eq!(
            json_array(r#" ["a", "b"] "#),
            Some(vec!["a".into(), "b".into()])
        );
        assert_eq!(json_array("[a, b]"), None);
        assert_eq!(json_array("echo"), None);
    }
}
