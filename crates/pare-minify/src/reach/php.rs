//! PHP's static include closure: `include`, `include_once`, `require` and
//! `require_once` of a path PHP knows before the script runs — a string literal, or
//! `__DIR__` / `dirname(__FILE__)` / `dirname(__DIR__)` joined to one with `.` —
//! resolved against the including file's directory, the directories the script may
//! run in (the app's directories, the served document roots, php-fpm's `chdir`) and
//! the include_path Debian's php.ini sets (`.:/usr/share/php`, with `/usr/share/pear`
//! of older releases), transitively. A page that no probe requested includes its
//! library only when it runs; a branch of a page that ran (a form post's mailer)
//! includes its own only on that branch.
//!
//! Only PHP code counts: the text outside `<?php … ?>` is output, and comments
//! (`//`, `#`, `/* */`) are skipped. An include of anything else (a variable, a
//! constant, a function's result) is not followed: its path is known only at run
//! time. Composer's class autoloading (a class file found by its name) is not
//! followed either; a `vendor/` copied with the app is the app's files.

use std::collections::BTreeSet;

use pare_image::FileIndex;

use super::is_file;

/// The extensions of PHP files whose includes are followed (and whose bytes the
/// first read loads).
pub const SOURCE_EXTENSIONS: [&str; 3] = [".php", ".inc", ".phtml"];

/// include_path's directories besides `.` on Debian (`/usr/share/php`) and where
/// PEAR's packages went before it.
pub const INCLUDE_PATH: [&str; 2] = ["/usr/share/php", "/usr/share/pear"];

/// Whether PHP includes of `path` are followed.
pub fn is_source(path: &str) -> bool {
    SOURCE_EXTENSIONS.iter().any(|e| path.ends_with(e))
}

/// One part of an include's path expression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Part {
    /// A string literal.
    Text(String),
    /// `__DIR__` or `dirname(__FILE__)` (`up` 0), `dirname(__DIR__)` (1),
    /// `dirname(__DIR__, n)`: the including file's directory, `up` levels higher.
    Dir { up: usize },
}

/// The includes of `source` whose path is known statically: each a path expression
/// as its parts.
pub fn includes(source: &str) -> Vec<Vec<Part>> {
    let code = code_of(source);
    let mut found = Vec::new();
    let bytes = code.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c == b'\'' || c == b'"' {
            // Skip a string: a keyword inside it is not code.
            i = string_end(bytes, i).unwrap_or(bytes.len());
            continue;
        }
        if !is_word_start(c) {
            i += 1;
            continue;
        }
        let start = i;
        i += 1;
        while i < bytes.len() && is_word(bytes[i]) {
            i += 1;
        }
        let word = &code[start..i];
        let keyword = matches!(
            word.to_ascii_lowercase().as_str(),
            "include" | "include_once" | "require" | "require_once"
        );
        // `$require`, `->include(`, `::require` and `function include` are names,
        // not the language construct.
        let before = code[..start].trim_end();
        let member = before.ends_with('$')
            || before.ends_with("->")
            || before.ends_with("::")
            || before.ends_with("function");
        if keyword
            && !member
            && let Some(parts) = expression(&code[i..])
        {
            found.push(parts);
        }
    }
    found
}

fn is_word_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_' || c == b'$' || c >= 0x80
}

fn is_word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80
}

/// The index just past the string literal opening at `open`.
fn string_end(bytes: &[u8], open: usize) -> Option<usize> {
    let quote = bytes[open];
    let mut i = open + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            c if c == quote => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// `source` with everything that is not PHP code blanked: the text outside
/// `<?php … ?>` (`<?=` too) and comments. String literals stay as they are.
fn code_of(source: &str) -> String {
    let bytes = source.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    let mut in_code = false;
    let blank = |out: &mut Vec<u8>, from: &[u8]| {
        out.extend(from.iter().map(|b| if *b == b'\n' { b'\n' } else { b' ' }));
    };
    while i < bytes.len() {
        if !in_code {
            match find(&bytes[i..], b"<?") {
                Some(at) => {
                    blank(&mut out, &bytes[i..i + at + 2]);
                    i += at + 2;
                    // `<?php`, `<?=` or the short `<?`.
                    if bytes[i..].len() >= 3 && bytes[i..i + 3].eq_ignore_ascii_case(b"php") {
                        blank(&mut out, &bytes[i..i + 3]);
                        i += 3;
                    } else if bytes.get(i) == Some(&b'=') {
                        out.push(b' ');
                        i += 1;
                    }
                    in_code = true;
                }
                None => {
                    blank(&mut out, &bytes[i..]);
                    i = bytes.len();
                }
            }
            continue;
        }
        let rest = &bytes[i..];
        if rest.starts_with(b"?>") {
            // The closing tag ends the statement as a `;` does.
            out.extend_from_slice(b"; ");
            i += 2;
            in_code = false;
        } else if rest.starts_with(b"/*") {
            let end = find(&rest[2..], b"*/").map_or(rest.len(), |e| e + 4);
            blank(&mut out, &rest[..end]);
            i += end;
        } else if rest.starts_with(b"//") || (rest[0] == b'#' && rest.get(1) != Some(&b'[')) {
            // A line comment ends at the line's end or at `?>`.
            let newline = rest.iter().position(|b| *b == b'\n').unwrap_or(rest.len());
            let end = find(&rest[..newline], b"?>").unwrap_or(newline);
            blank(&mut out, &rest[..end]);
            i += end;
        } else if rest[0] == b'\'' || rest[0] == b'"' {
            let end = string_end(bytes, i).unwrap_or(bytes.len());
            out.extend_from_slice(&bytes[i..end]);
            i = end;
        } else {
            out.push(rest[0]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The path expression at the start of `text` (just past the keyword), up to the
/// statement's end: `('a' . 'b')`, `__DIR__ . '/x.php'`; `None` when any part of it
/// is not known statically.
fn expression(text: &str) -> Option<Vec<Part>> {
    let mut rest = text.trim_start();
    let mut parens = 0;
    while let Some(r) = rest.strip_prefix('(') {
        parens += 1;
        rest = r.trim_start();
    }
    let mut parts = Vec::new();
    loop {
        let (part, after) = term(rest)?;
        parts.push(part);
        rest = after.trim_start();
        match rest.strip_prefix('.') {
            Some(r) => rest = r.trim_start(),
            None => break,
        }
    }
    for _ in 0..parens {
        rest = rest.strip_prefix(')')?.trim_start();
    }
    // The statement ends here: anything else (`. $name`, `?: 'x'`) makes the path
    // a run-time value.
    (rest.starts_with(';') || rest.is_empty()).then_some(parts)
}

/// One term of a path expression and the text after it.
fn term(text: &str) -> Option<(Part, &str)> {
    let bytes = text.as_bytes();
    match bytes.first()? {
        b'\'' => {
            let end = string_end(bytes, 0)?;
            let raw = &text[1..end - 1];
            let value = raw.replace("\\'", "'").replace("\\\\", "\\");
            Some((Part::Text(value), &text[end..]))
        }
        b'"' => {
            let end = string_end(bytes, 0)?;
            let raw = &text[1..end - 1];
            // Interpolation and escapes other than `\\` and `\"` are not a path.
            if raw.contains('$') || raw.replace("\\\\", "").replace("\\\"", "").contains('\\') {
                return None;
            }
            let value = raw.replace("\\\"", "\"").replace("\\\\", "\\");
            Some((Part::Text(value), &text[end..]))
        }
        _ => {
            if let Some(after) = strip_word(text, "__DIR__") {
                return Some((Part::Dir { up: 0 }, after));
            }
            let after = strip_word(text, "dirname")?.trim_start();
            let args = after.strip_prefix('(')?;
            let close = args.find(')')?;
            let (inner, after) = (&args[..close], &args[close + 1..]);
            let mut words = inner.split(',').map(str::trim);
            let base = words.next()?;
            let levels: usize = match words.next() {
                Some(n) => n.parse().ok().filter(|n| *n >= 1)?,
                None => 1,
            };
            if words.next().is_some() {
                return None;
            }
            let up = match base {
                // The file's directory is one level up from the file.
                "__FILE__" => levels - 1,
                "__DIR__" => levels,
                _ => return None,
            };
            Some((Part::Dir { up }, after))
        }
    }
}

/// `text` after `word` when it starts with that whole word.
fn strip_word<'a>(text: &'a str, word: &str) -> Option<&'a str> {
    let after = text.strip_prefix(word)?;
    (!after.as_bytes().first().is_some_and(|c| is_word(*c))).then_some(after)
}

/// The files of the image an include of `parts` in `file` may name: PHP looks up a
/// relative name in include_path (`.` is the working directory) and then in the
/// including file's directory; `./x` and `../x` only in the working directory. Which
/// directory the script runs in depends on the server (php-fpm's `chdir`, the
/// script's own directory for php-cgi), so each candidate that exists counts.
fn resolve(index: &FileIndex, work_dirs: &[String], file: &str, parts: &[Part]) -> Vec<String> {
    let mut name = String::new();
    for (i, part) in parts.iter().enumerate() {
        match part {
            Part::Text(text) => name.push_str(text),
            // A directory inside the expression (`'x' . __DIR__`) is no path.
            Part::Dir { .. } if i > 0 => return Vec::new(),
            Part::Dir { up } => {
                let mut dir = pare_image::path::parent(file);
                for _ in 0..*up {
                    dir = pare_image::path::parent(dir);
                }
                name.push_str(dir);
            }
        }
    }
    if name.is_empty() || name.contains('\0') {
        return Vec::new();
    }
    let here = pare_image::path::parent(file).to_owned();
    let bases: Vec<String> = if name.starts_with('/') {
        vec![String::new()]
    } else if name.starts_with("./") || name.starts_with("../") {
        work_dirs.iter().chain([&here]).cloned().collect()
    } else {
        work_dirs
            .iter()
            .cloned()
            .chain(INCLUDE_PATH.iter().map(|d| (*d).to_owned()))
            .chain([here])
            .collect()
    };
    let mut found: Vec<String> = bases
        .iter()
        .filter_map(|base| pare_image::path::normalize(&format!("{base}/{name}")).ok())
        .filter(|candidate| is_file(index, candidate))
        .collect();
    found.dedup();
    found
}

/// Every file reachable by static includes from `start`, not including `start`.
/// `work_dirs` are the directories a script may run in.
pub fn closure(
    index: &FileIndex,
    work_dirs: &[String],
    start: &BTreeSet<String>,
) -> BTreeSet<String> {
    super::walk(index, start, is_source, |file, source, _| {
        includes(source)
            .iter()
            .flat_map(|parts| resolve(index, work_dirs, file, parts))
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::Part::{Dir, Text};

    #[test]
    fn finds_the_includes_php_knows_before_running() {
        let source = r#"<p>include 'html.php'; is page text</p>
<?php
require_once __DIR__ . '/../lib/layout.php';
include("header.php");
INCLUDE_ONCE dirname(__FILE__) . "/parts/nav.php";
require dirname(__DIR__, 2) . '/config.php' ?>
<?= include 'inline.php' ?>
<?php
// include 'commented.php';
# require 'hashed.php';
/* require_once 'block.php';
   include 'block2.php'; */
$x = "include 'in-a-string.php'";
include $page . '.php';
require_once __DIR__ . '/' . $name;
include 'http://example.com/x.php' ? 1 : 2;
$loader->include('method.php');
function require_it() {}
#[Attribute] include 'after-attribute.php';
echo 'x'; // include 'tail.php' ?> include 'text.php'
"#;
        assert_eq!(
            super::includes(source),
            [
                vec![Dir { up: 0 }, Text("/../lib/layout.php".into())],
                vec![Text("header.php".into())],
                vec![Dir { up: 0 }, Text("/parts/nav.php".into())],
                vec![Dir { up: 2 }, Text("/config.php".into())],
                vec![Text("inline.php".into())],
                vec![Text("after-attribute.php".into())],
            ]
        );
    }
}
