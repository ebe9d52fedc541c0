//! From file text to logical instructions, the way BuildKit reads a Dockerfile:
//! parser directives at the top, comments, continuation lines (with `\` or the escape
//! character the `# escape=` directive chose), comment and blank lines inside a
//! continuation dropped, and heredoc bodies (`<<EOF`, `<<-EOF`, `<<"EOF"`) pulled in
//! verbatim after the line that opens them.

use crate::position::{Pos, SourceText};

use super::SyntaxError;

/// A parser directive (`# syntax=…`, `# escape=…`, `# check=…`).
#[derive(Clone, Debug, serde::Serialize)]
pub struct Directive {
    pub name: String,
    pub value: String,
    pub line: usize,
}

/// A comment line, kept for ignore pragmas.
#[derive(Clone, Debug)]
pub struct Comment {
    pub line: usize,
    /// The text after `#`, trimmed.
    pub text: String,
}

/// A heredoc body attached to an instruction.
#[derive(Clone, Debug)]
pub struct Heredoc {
    /// The delimiter word (`EOF`).
    pub name: String,
    /// The body, each line ending in `\n` (leading tabs stripped for `<<-`).
    pub body: String,
    /// The line of the body's first line (the line after the opening instruction
    /// line for the first heredoc).
    pub first_line: usize,
    /// How many leading tabs `<<-` took off each body line.
    pub stripped_tabs: Vec<usize>,
    /// `<<"EOF"` or `<<'EOF'`: the body is not expanded.
    pub quoted: bool,
    /// Byte offset of the `<<` marker in the instruction's arguments.
    pub marker: usize,
}

/// One instruction as written: keyword, joined arguments, heredocs, and the comments
/// right above it.
#[derive(Clone, Debug)]
pub struct LogicalLine {
    pub keyword: String,
    pub pos: Pos,
    pub end_line: usize,
    pub args: SourceText,
    pub heredocs: Vec<Heredoc>,
    pub comments: Vec<Comment>,
}

/// Everything the line reader found.
pub struct Lines {
    pub directives: Vec<Directive>,
    pub escape: char,
    pub instructions: Vec<LogicalLine>,
    /// Every comment in the file (also those inside continuations).
    pub comments: Vec<Comment>,
}

const KNOWN_DIRECTIVES: [&str; 3] = ["syntax", "escape", "check"];
const HEREDOC_KEYWORDS: [&str; 3] = ["RUN", "COPY", "ADD"];

/// Splits `text` into logical instructions.
pub fn read(text: &str) -> Result<Lines, SyntaxError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let lines: Vec<&str> = text
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect();
    let (directives, escape, mut i) = read_directives(&lines)?;
    let mut out = Lines {
        directives,
        escape,
        instructions: Vec::new(),
        comments: Vec::new(),
    };
    let mut pending: Vec<Comment> = Vec::new();
    while i < lines.len() {
        let line = lines[i];
        let trimmed = line.trim_start();
        if trimmed.is_empty() {
            pending.clear();
            i += 1;
            continue;
        }
        if let Some(c) = trimmed.strip_prefix('#') {
            let comment = Comment {
                line: i + 1,
                text: c.trim().to_owned(),
            };
            out.comments.push(comment.clone());
            pending.push(comment);
            i += 1;
            continue;
        }
        let mut logical = read_instruction(&lines, &mut i, escape, &mut out.comments)?;
        logical.comments = std::mem::take(&mut pending);
        out.instructions.push(logical);
    }
    Ok(out)
}

fn read_directives(lines: &[&str]) -> Result<(Vec<Directive>, char, usize), SyntaxError> {
    let mut directives: Vec<Directive> = Vec::new();
    let mut escape = '\\';
    let mut i = 0;
    while let Some(line) = lines.get(i) {
        let Some((name, value)) = directive(line) else {
            break;
        };
        let lower = name.to_ascii_lowercase();
        if !KNOWN_DIRECTIVES.contains(&lower.as_str()) {
            break;
        }
        if directives.iter().any(|d| d.name == lower) {
            return Err(SyntaxError::new(
                Pos::new(i + 1, 1),
                format!("only one `{lower}` parser directive may be used"),
            ));
        }
        if lower == "escape" {
            escape = match value.as_str() {
                "\\" => '\\',
                "`" => '`',
                other => {
                    return Err(SyntaxError::new(
                        Pos::new(i + 1, 1),
                        format!("invalid escape character {other:?}: it must be ` or \\"),
                    ));
                }
            };
        }
        directives.push(Directive {
            name: lower,
            value,
            line: i + 1,
        });
        i += 1;
    }
    Ok((directives, escape, i))
}

/// `# name=value` with optional blanks around each part.
fn directive(line: &str) -> Option<(String, String)> {
    let rest = line.trim().strip_prefix('#')?.trim_start();
    let name_len = rest
        .find(|c: char| !c.is_ascii_alphanumeric())
        .unwrap_or(rest.len());
    if name_len == 0 {
        return None;
    }
    let (name, rest) = rest.split_at(name_len);
    let value = rest.trim_start().strip_prefix('=')?.trim();
    Some((name.to_owned(), value.to_owned()))
}

/// True when the line ends in the escape character (blanks after it allowed); returns
/// the line without it.
fn strip_continuation(line: &str, escape: char) -> Option<&str> {
    line.trim_end().strip_suffix(escape)
}

fn read_instruction(
    lines: &[&str],
    i: &mut usize,
    escape: char,
    comments: &mut Vec<Comment>,
) -> Result<LogicalLine, SyntaxError> {
    let line = lines[*i];
    let indent = line.len() - line.trim_start().len();
    let start = Pos::new(*i + 1, line[..indent].chars().count() + 1);
    let body = &line[indent..];
    let kw_len = body
        .find(|c: char| !c.is_ascii_alphabetic())
        .unwrap_or(body.len());
    let keyword = &body[..kw_len];
    let after = &body[kw_len..];
    let continues_at_keyword = strip_continuation(after, escape).is_some_and(|s| s.is_empty());
    if keyword.is_empty()
        || !(after.is_empty() || after.starts_with([' ', '\t']) || continues_at_keyword)
    {
        let word: String = body.chars().take_while(|c| !c.is_whitespace()).collect();
        return Err(SyntaxError::new(
            start,
            format!("expected an instruction, found `{word}`"),
        ));
    }
    let keyword_upper = keyword.to_ascii_uppercase();
    if !super::is_keyword(&keyword_upper) {
        return Err(SyntaxError::new(
            start,
            format!("unknown instruction `{keyword}`"),
        ));
    }
    let mut args = SourceText::default();
    let mut piece = after;
    let mut piece_pos = Pos::new(start.line, start.column + kw_len);
    loop {
        match strip_continuation(piece, escape) {
            Some(head) => {
                args.push(head, piece_pos);
                *i += 1;
                // Blank and comment lines inside a continuation are dropped.
                while let Some(next) = lines.get(*i) {
                    let t = next.trim_start();
                    if t.is_empty() {
                        *i += 1;
                    } else if let Some(c) = t.strip_prefix('#') {
                        comments.push(Comment {
                            line: *i + 1,
                            text: c.trim().to_owned(),
                        });
                        *i += 1;
                    } else {
                        break;
                    }
                }
                let Some(next) = lines.get(*i) else {
                    break;
                };
                piece = next;
                piece_pos = Pos::new(*i + 1, 1);
            }
            None => {
                args.push(piece, piece_pos);
                *i += 1;
                break;
            }
        }
    }
    let end_line = (*i).max(start.line);
    let mut logical = LogicalLine {
        keyword: keyword_upper,
        pos: start,
        end_line,
        args,
        heredocs: Vec::new(),
        comments: Vec::new(),
    };
    let heredoc_owner = if logical.keyword == "ONBUILD" {
        onbuild_keyword(&logical.args.text)
    } else {
        logical.keyword.clone()
    };
    if HEREDOC_KEYWORDS.contains(&heredoc_owner.as_str()) {
        read_heredocs(lines, i, escape, &mut logical)?;
    }
    Ok(logical)
}

fn onbuild_keyword(args: &str) -> String {
    args.split_whitespace()
        .next()
        .unwrap_or_default()
        .to_ascii_uppercase()
}

/// A `<<WORD` marker found in an instruction line.
struct Marker {
    offset: usize,
    name: String,
    strip_tabs: bool,
    quoted: bool,
}

fn read_heredocs(
    lines: &[&str],
    i: &mut usize,
    escape: char,
    logical: &mut LogicalLine,
) -> Result<(), SyntaxError> {
    for marker in heredoc_markers(&logical.args.text, escape) {
        let first_line = *i + 1;
        let mut body = String::new();
        let mut stripped_tabs = Vec::new();
        let mut closed = false;
        while let Some(line) = lines.get(*i) {
            *i += 1;
            let candidate = if marker.strip_tabs {
                line.trim_start_matches('\t')
            } else {
                line
            };
            if candidate == marker.name {
                closed = true;
                break;
            }
            body.push_str(candidate);
            body.push('\n');
            stripped_tabs.push(line.len() - candidate.len());
        }
        if !closed {
            return Err(SyntaxError::new(
                logical.args.pos(marker.offset),
                format!(
                    "heredoc `{}` is never closed: no line `{}` follows",
                    marker.name, marker.name
                ),
            ));
        }
        logical.end_line = *i;
        logical.heredocs.push(Heredoc {
            name: marker.name,
            body,
            first_line,
            stripped_tabs,
            quoted: marker.quoted,
            marker: marker.offset,
        });
    }
    Ok(())
}

/// Heredoc markers outside quotes: `<<EOF`, `<<-EOF`, `<<"EOF"`, `<<'EOF'`, `3<<EOF`;
/// not `<<<` (a here-string) and not `<< EOF` (BuildKit reads only attached words).
fn heredoc_markers(text: &str, escape: char) -> Vec<Marker> {
    let bytes: Vec<(usize, char)> = text.char_indices().collect();
    let mut out = Vec::new();
    let mut quote: Option<char> = None;
    let mut k = 0;
    while k < bytes.len() {
        let (offset, c) = bytes[k];
        if c == escape && quote != Some('\'') {
            k += 2;
            continue;
        }
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '\'' || c == '"' => quote = Some(c),
            None if c == '<' => {
                let rest = &text[offset..];
                let prev_is_lt = k > 0 && bytes[k - 1].1 == '<';
                if rest.starts_with("<<")
                    && !rest.starts_with("<<<")
                    && !prev_is_lt
                    && let Some((marker, used)) = parse_marker(&rest[2..])
                {
                    out.push(Marker { offset, ..marker });
                    k += 2 + used;
                    continue;
                }
            }
            None => {}
        }
        k += 1;
    }
    out
}

/// Parses what follows `<<`; returns the marker and how many characters it used.
fn parse_marker(rest: &str) -> Option<(Marker, usize)> {
    let mut chars = rest.chars().peekable();
    let mut used = 0;
    let strip_tabs = chars.peek() == Some(&'-');
    if strip_tabs {
        chars.next();
        used += 1;
    }
    let quote = match chars.peek() {
        Some(&q @ ('"' | '\'')) => {
            chars.next();
            used += 1;
            Some(q)
        }
        _ => None,
    };
    let mut name = String::new();
    while let Some(&c) = chars.peek() {
        if c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-' {
            name.push(c);
            chars.next();
            used += 1;
        } else {
            break;
        }
    }
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    if let Some(q) = quote {
        if chars.next() != Some(q) {
            return None;
        }
        used += 1;
    }
    Some((
        Marker {
            offset: 0,
            name,
            strip_tabs,
            quoted: quote.is_some(),
        },
        used,
    ))
}
