//! ARG/ENV substitution the way BuildKit does it for instructions other than RUN:
//! quote removal plus `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`,
//! `${VAR:+alt}`, `${VAR+alt}`, `${VAR:?message}`. A name nobody gave a value (an `ARG`
//! without default, waiting for `--build-arg`) is reported as unresolved so rules can
//! stay quiet about what they cannot know.

use std::collections::BTreeMap;

/// Variables in scope: `None` for an `ARG` declared without a default.
pub type Vars = BTreeMap<String, Option<String>>;

/// The result of expanding a word.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Expanded {
    pub value: String,
    /// Names whose value was not known (expanded to empty, as BuildKit does).
    pub unresolved: Vec<String>,
    /// Every name referred to.
    pub referenced: Vec<String>,
}

impl Expanded {
    pub fn is_resolved(&self) -> bool {
        self.unresolved.is_empty()
    }
}

/// Removes quotes and substitutes variables.
pub fn expand(raw: &str, vars: &Vars, escape: char) -> Expanded {
    let mut out = Expanded::default();
    Lexer {
        chars: raw.chars().collect(),
        at: 0,
        escape,
        vars: Some(vars),
    }
    .run(&mut out);
    out
}

/// Removes quotes, keeping `$…` references as written.
pub fn unquote(raw: &str, escape: char) -> String {
    let mut out = Expanded::default();
    Lexer {
        chars: raw.chars().collect(),
        at: 0,
        escape,
        vars: None,
    }
    .run(&mut out);
    out.value
}

/// The variable names `raw` refers to (outside single quotes).
pub fn references(raw: &str, escape: char) -> Vec<String> {
    let empty = Vars::new();
    let mut out = Expanded::default();
    Lexer {
        chars: raw.chars().collect(),
        at: 0,
        escape,
        vars: Some(&empty),
    }
    .run(&mut out);
    out.referenced
}

struct Lexer<'a> {
    chars: Vec<char>,
    at: usize,
    escape: char,
    /// `None`: keep references verbatim.
    vars: Option<&'a Vars>,
}

impl Lexer<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn run(&mut self, out: &mut Expanded) {
        let mut quote: Option<char> = None;
        while let Some(c) = self.peek() {
            self.at += 1;
            match (quote, c) {
                (Some('\''), '\'') | (Some('"'), '"') => quote = None,
                (Some('\''), _) => out.value.push(c),
                (None, '\'' | '"') => quote = Some(c),
                (_, e) if e == self.escape => {
                    let Some(next) = self.peek() else {
                        out.value.push(e);
                        continue;
                    };
                    self.at += 1;
                    let literal = quote.is_none() || matches!(next, '"' | '$') || next == e;
                    if !literal {
                        out.value.push(e);
                    }
                    out.value.push(next);
                }
                (_, '$') => self.variable(out),
                _ => out.value.push(c),
            }
        }
    }

    fn name(&mut self) -> String {
        let mut name = String::new();
        while let Some(c) = self.peek() {
            if c.is_ascii_alphanumeric() || c == '_' {
                name.push(c);
                self.at += 1;
            } else {
                break;
            }
        }
        name
    }

    fn variable(&mut self, out: &mut Expanded) {
        let start = self.at - 1;
        if self.peek() != Some('{') {
            let name = self.name();
            if name.is_empty() {
                out.value.push('$');
            } else {
                self.substitute(out, &name, "", "", start);
            }
            return;
        }
        self.at += 1;
        let name = self.name();
        let mut modifier = String::new();
        if self.peek() == Some(':') {
            modifier.push(':');
            self.at += 1;
        }
        if let Some(c @ ('-' | '+' | '?')) = self.peek() {
            modifier.push(c);
            self.at += 1;
        }
        let mut word = String::new();
        let mut depth = 0;
        while let Some(c) = self.peek() {
            self.at += 1;
            match c {
                '}' if depth == 0 => break,
                '{' => depth += 1,
                '}' => depth -= 1,
                _ => {}
            }
            word.push(c);
        }
        // Pattern operators (`%`, `#`, `/`) are not modelled: the value stands in.
        if !matches!(modifier.as_str(), ":-" | "-" | ":+" | "+" | ":?" | "?") {
            modifier.clear();
            word.clear();
        }
        self.substitute(out, &name, &modifier, &word, start);
    }

    fn substitute(&self, out: &mut Expanded, name: &str, modifier: &str, word: &str, start: usize) {
        let Some(vars) = self.vars else {
            out.value.extend(&self.chars[start..self.at]);
            return;
        };
        out.referenced.push(name.to_owned());
        let value = vars.get(name).cloned().flatten();
        let nested = |out: &mut Expanded| {
            let inner = expand(word, vars, self.escape);
            out.unresolved.extend(inner.unresolved);
            out.referenced.extend(inner.referenced);
            out.value.push_str(&inner.value);
        };
        match (modifier, value) {
            (":-", Some(v)) if !v.is_empty() => out.value.push_str(&v),
            (":-", _) => nested(out),
            ("-", Some(v)) => out.value.push_str(&v),
            ("-", None) => nested(out),
            (":+", Some(v)) if !v.is_empty() => nested(out),
            (":+", _) => {}
            ("+", Some(_)) => nested(out),
            ("+", None) => {}
            (_, Some(v)) => out.value.push_str(&v),
            (_, None) => out.unresolved.push(name.to_owned()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, Option<&str>)]) -> Vars {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.map(str::to_owned)))
            .collect()
    }

    #[test]
    fn substitutes_forms() {
        let v = vars(&[("TAG", Some("3.12")), ("EMPTY", Some("")), ("NOVAL", None)]);
        let e = |s: &str| expand(s, &v, '\\').value;
        assert_eq!(e("python:$TAG"), "python:3.12");
        assert_eq!(e("python:${TAG}-slim"), "python:3.12-slim");
        assert_eq!(e("${MISSING:-debian}:${TAG}"), "debian:3.12");
        assert_eq!(e("${EMPTY:-x}"), "x");
        assert_eq!(e("${EMPTY-x}"), "");
        assert_eq!(e("${TAG:+set}"), "set");
        assert_eq!(e("${MISSING:+set}"), "");
        assert_eq!(e("'$TAG'"), "$TAG");
        assert_eq!(e("\"$TAG\""), "3.12");
        assert_eq!(e("\\$TAG"), "$TAG");
        assert_eq!(e("${X:-${TAG}}"), "3.12");
    }

    #[test]
    fn reports_unresolved() {
        let v = vars(&[("BASE", None)]);
        let x = expand("$BASE", &v, '\\');
        assert_eq!(x.value, "");
        assert_eq!(x.unresolved, ["BASE"]);
        assert!(expand("${BASE:-debian}", &v, '\\').is_resolved());
        assert_eq!(references("a=$A ${B:-x} '$C'", '\\'), ["A", "B"]);
    }

    #[test]
    fn unquote_keeps_references() {
        assert_eq!(unquote("\"a b\" $X", '\\'), "a b $X");
        assert_eq!(unquote("c:\\dir", '`'), "c:\\dir");
    }
}
