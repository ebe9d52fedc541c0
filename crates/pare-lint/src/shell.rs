//! Just enough of the POSIX shell to see which commands a RUN line runs, with which
//! words, and how they are connected (`&&`, `;`, `|`). Quotes are removed, `$(…)` and
//! backquoted commands are looked into, redirections and leading `VAR=value`
//! assignments are set aside. It never fails: odd input gives fewer commands.

/// One simple command.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Command {
    /// The words after quote removal; the first is the program.
    pub words: Vec<String>,
    /// Byte offset of each word in the script.
    pub offsets: Vec<usize>,
    /// `NAME=value` words before the program.
    pub assignments: Vec<String>,
    /// Its output goes into the next command through `|`.
    pub pipes_into_next: bool,
    /// It reads the previous command's output through `|`.
    pub piped_from_previous: bool,
}

impl Command {
    /// The program's file name (`/usr/bin/apt-get` → `apt-get`).
    pub fn name(&self) -> &str {
        let w = self.words.first().map_or("", String::as_str);
        w.rsplit('/').next().unwrap_or(w)
    }

    /// The words after the program.
    pub fn args(&self) -> &[String] {
        self.words.get(1..).unwrap_or(&[])
    }

    /// True when any argument equals one of `options`.
    pub fn has_any(&self, options: &[&str]) -> bool {
        self.args().iter().any(|a| options.contains(&a.as_str()))
    }

    /// Byte offset of the command in the script.
    pub fn offset(&self) -> usize {
        self.offsets.first().copied().unwrap_or(0)
    }
}

/// The commands of a script, in order.
#[derive(Clone, Debug, Default)]
pub struct Script {
    pub commands: Vec<Command>,
}

impl Script {
    /// True when a `|` connects two commands.
    pub fn has_pipe(&self) -> bool {
        self.commands.iter().any(|c| c.pipes_into_next)
    }

    /// Commands whose program is `name`.
    pub fn named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Command> + 'a {
        self.commands.iter().filter(move |c| c.name() == name)
    }
}

const RESERVED: [&str; 11] = [
    "if", "then", "else", "elif", "do", "while", "until", "!", "{", "time", "exec",
];
const CLOSERS: [&str; 4] = ["fi", "done", "esac", "}"];

/// Reads the commands of `script`.
pub fn parse(script: &str) -> Script {
    let mut out = Script::default();
    parse_into(script, 0, &mut out);
    out
}

fn parse_into(script: &str, base: usize, out: &mut Script) {
    let mut p = Parser {
        src: script,
        chars: script.char_indices().collect(),
        at: 0,
        base,
        word: None,
        command: Command::default(),
        skip_next_word: false,
        nested: Vec::new(),
        out: Vec::new(),
    };
    p.run();
    let nested = std::mem::take(&mut p.nested);
    out.commands.extend(p.out);
    for (text, offset) in nested {
        parse_into(&text, offset, out);
    }
}

struct Parser<'a> {
    src: &'a str,
    chars: Vec<(usize, char)>,
    at: usize,
    base: usize,
    word: Option<(String, usize)>,
    command: Command,
    skip_next_word: bool,
    /// `$(…)` and backquoted scripts, parsed after this one.
    nested: Vec<(String, usize)>,
    out: Vec<Command>,
}

impl Parser<'_> {
    fn peek(&self, n: usize) -> Option<char> {
        self.chars.get(self.at + n).map(|&(_, c)| c)
    }

    fn offset(&self) -> usize {
        self.chars.get(self.at).map_or(self.src.len(), |&(o, _)| o)
    }

    fn push_char(&mut self, c: char, offset: usize) {
        self.word
            .get_or_insert_with(|| (String::new(), offset))
            .0
            .push(c);
    }

    fn push_str(&mut self, s: &str, offset: usize) {
        self.word
            .get_or_insert_with(|| (String::new(), offset))
            .0
            .push_str(s);
    }

    fn end_word(&mut self) {
        let Some((word, offset)) = self.word.take() else {
            return;
        };
        if std::mem::take(&mut self.skip_next_word) {
            return;
        }
        let c = &mut self.command;
        let is_assignment = c.words.is_empty()
            && word.split_once('=').is_some_and(|(n, _)| {
                !n.is_empty()
                    && n.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
                    && !n.starts_with(|ch: char| ch.is_ascii_digit())
            });
        if is_assignment {
            c.assignments.push(word);
        } else if c.words.is_empty() && RESERVED.contains(&word.as_str()) {
        } else {
            c.words.push(word);
            c.offsets.push(self.base + offset);
        }
    }

    fn end_command(&mut self, pipe: bool) {
        self.end_word();
        let mut c = std::mem::take(&mut self.command);
        let first = c.words.first().map(String::as_str).unwrap_or("");
        let keep = !c.words.is_empty()
            && !CLOSERS.contains(&first)
            && !matches!(first, "for" | "case" | "in");
        if keep {
            c.pipes_into_next = pipe;
            self.out.push(c);
        } else if pipe {
            // `done | tee` and similar: still a pipe.
            if let Some(last) = self.out.last_mut() {
                last.pipes_into_next = true;
            }
        }
        let piped = pipe;
        self.command.piped_from_previous = piped;
    }

    /// Reads until the matching `close`, counting nested `open`s; returns the text
    /// inside and the offset where it starts.
    fn balanced(&mut self, open: char, close: char) -> (String, usize) {
        let start = self.offset();
        let mut depth = 1;
        let mut quote: Option<char> = None;
        while let Some(c) = self.peek(0) {
            let off = self.offset();
            self.at += 1;
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (Some('"'), '\\') | (None, '\\') => self.at += 1,
                (Some(_), _) => {}
                (None, '\'' | '"') => quote = Some(c),
                (None, c) if c == open => depth += 1,
                (None, c) if c == close => {
                    depth -= 1;
                    if depth == 0 {
                        return (self.src[start..off].to_owned(), start);
                    }
                }
                _ => {}
            }
        }
        (self.src[start..].to_owned(), start)
    }

    fn dollar(&mut self, offset: usize) {
        match self.peek(1) {
            Some('(') => {
                self.at += 2;
                let (inner, start) = self.balanced('(', ')');
                self.push_str(&format!("$({inner})"), offset);
                self.nested.push((inner, self.base + start));
            }
            Some('{') => {
                self.at += 2;
                let (inner, _) = self.balanced('{', '}');
                self.push_str(&format!("${{{inner}}}"), offset);
            }
            _ => {
                self.at += 1;
                self.push_char('$', offset);
            }
        }
    }

    fn backquote(&mut self, offset: usize) {
        self.at += 1;
        let start = self.offset();
        while let Some(c) = self.peek(0) {
            self.at += 1;
            if c == '`' {
                break;
            }
        }
        let end = self
            .chars
            .get(self.at - 1)
            .map_or(self.src.len(), |&(o, _)| o);
        let inner = self.src[start..end.max(start)].to_owned();
        self.push_str(&format!("`{inner}`"), offset);
        self.nested.push((inner, self.base + start));
    }

    fn double_quoted(&mut self, offset: usize) {
        self.at += 1;
        self.push_str("", offset);
        while let Some(c) = self.peek(0) {
            match c {
                '"' => {
                    self.at += 1;
                    return;
                }
                '\\' => {
                    match self.peek(1) {
                        Some(n @ ('"' | '\\' | '$' | '`')) => self.push_char(n, offset),
                        Some('\n') => {}
                        Some(n) => {
                            self.push_char('\\', offset);
                            self.push_char(n, offset);
                        }
                        None => {}
                    }
                    self.at += 2;
                }
                '$' => {
                    let o = self.offset();
                    self.dollar(o);
                }
                '`' => {
                    let o = self.offset();
                    self.backquote(o);
                }
                _ => {
                    self.push_char(c, offset);
                    self.at += 1;
                }
            }
        }
    }

    fn redirect(&mut self) {
        // A file descriptor number right before the operator belongs to it.
        if let Some((w, _)) = &self.word
            && w.chars().all(|c| c.is_ascii_digit())
        {
            self.word = None;
        }
        self.end_word();
        while matches!(self.peek(0), Some('<' | '>' | '&' | '-')) {
            self.at += 1;
        }
        // `>&2`, `2>&1`: the target is a descriptor, written right after.
        if self.peek(0).is_some_and(|c| c.is_ascii_digit()) {
            while self.peek(0).is_some_and(|c| c.is_ascii_digit()) {
                self.at += 1;
            }
            return;
        }
        self.skip_next_word = true;
    }

    fn run(&mut self) {
        while let Some(c) = self.peek(0) {
            let offset = self.offset();
            match c {
                ' ' | '\t' => {
                    self.end_word();
                    self.at += 1;
                }
                '\n' | ';' => {
                    self.end_command(false);
                    self.at += 1;
                }
                '#' if self.word.is_none() => {
                    while self.peek(0).is_some_and(|c| c != '\n') {
                        self.at += 1;
                    }
                }
                '\\' => {
                    match self.peek(1) {
                        Some('\n') | None => {}
                        Some(n) => self.push_char(n, offset),
                    }
                    self.at += 2;
                }
                '\'' => {
                    self.at += 1;
                    self.push_str("", offset);
                    while let Some(q) = self.peek(0) {
                        self.at += 1;
                        if q == '\'' {
                            break;
                        }
                        self.push_char(q, offset);
                    }
                }
                '"' => self.double_quoted(offset),
                '$' => self.dollar(offset),
                '`' => self.backquote(offset),
                '|' => {
                    if self.peek(1) == Some('|') {
                        self.end_command(false);
                        self.at += 2;
                    } else {
                        self.end_command(true);
                        self.at += if self.peek(1) == Some('&') { 2 } else { 1 };
                    }
                }
                '&' => {
                    if self.peek(1) == Some('>') {
                        self.redirect();
                    } else {
                        self.end_command(false);
                        self.at += if self.peek(1) == Some('&') { 2 } else { 1 };
                    }
                }
                '(' | ')' => {
                    self.end_command(false);
                    self.at += 1;
                }
                '<' | '>' => self.redirect(),
                _ => {
                    self.push_char(c, offset);
                    self.at += 1;
                }
            }
        }
        self.end_command(false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(script: &str) -> Vec<Vec<String>> {
        parse(script)
            .commands
            .into_iter()
            .map(|c| c.words)
            .collect()
    }

    #[test]
    fn splits_commands_and_removes_quotes() {
        assert_eq!(
            words(
                "apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y 'a b' \"c\"; rm -rf /x"
            ),
            vec![
                vec!["apt-get", "update"],
                vec!["apt-get", "install", "-y", "a b", "c"],
                vec!["rm", "-rf", "/x"],
            ]
        );
    }

    #[test]
    fn sees_pipes_and_redirections() {
        let s =
            parse("curl -fsSL https://x/install.sh 2>/dev/null | sh -s -- --yes > /tmp/log 2>&1");
        assert_eq!(s.commands.len(), 2);
        assert!(s.commands[0].pipes_into_next);
        assert!(s.commands[1].piped_from_previous);
        assert_eq!(
            s.commands[0].words,
            ["curl", "-fsSL", "https://x/install.sh"]
        );
        assert_eq!(s.commands[1].words, ["sh", "-s", "--", "--yes"]);
        assert!(!parse("a || b").has_pipe());
    }

    #[test]
    fn looks_into_substitutions_and_keywords() {
        let s = parse(
            "if [ -f x ]; then sh -c \"$(curl -s https://x)\"; fi\nfor p in a b; do pip install $p; done",
        );
        let names: Vec<&str> = s.commands.iter().map(|c| c.name()).collect();
        assert_eq!(names, ["[", "sh", "pip", "curl"]);
    }

    #[test]
    fn continuation_and_comments() {
        assert_eq!(
            words("apt-get install \\\n  curl # a comment\nls"),
            vec![vec!["apt-get", "install", "curl"], vec!["ls"]]
        );
    }

    #[test]
    fn offsets_point_at_words() {
        let s = parse("cd /x && make");
        assert_eq!(s.commands[1].offset(), 9);
    }
}
