//! Python's static import closure: every module a kept source file imports anywhere
//! (top level, inside functions, `importlib.import_module("literal")`), resolved the
//! way the import system would against the image's search roots, transitively.
//!
//! Parsed by hand, line by line: a real parser (rustpython-parser) would refuse the
//! Python 2 files some packages still ship and cost a large dependency, while an
//! import statement has a small grammar. A false hit (an import in a docstring) keeps
//! one more module that exists; a miss is what this is here to prevent.

use std::collections::BTreeSet;

use pare_image::{EntryKind, FileIndex};

use super::{is_dir, is_file};

/// One import a source file makes: `from .pkg import name` is
/// `{ level: 1, module: ["pkg"], names: ["name"] }`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Import {
    /// Leading dots of a relative import (0 for an absolute one).
    pub level: usize,
    pub module: Vec<String>,
    /// What `from … import` names: each may be a submodule or an attribute.
    pub names: Vec<String>,
    /// Inside a function body: runs only when the function is called, not when the
    /// module is imported.
    pub in_function: bool,
    /// Not an import but a dotted name in a string (`"django.core.cache.backends.
    /// locmem.LocMemCache"` in a settings dict): what `import_string` and plugin
    /// registries import by name when a setting or a command asks for it.
    pub named: bool,
    /// Inside `if __name__ == "__main__":`: runs only when the file is the program
    /// (`python file.py`, `python -m module`), never when it is imported.
    pub in_main: bool,
    /// Inside an `if` (or `elif`) whose test is false when the app runs: a test for
    /// another platform than Linux, where every image pare builds runs (`if
    /// sys.platform == "win32":`, `if os.name == "nt":`), or `if TYPE_CHECKING:`
    /// (false but for a type checker).
    pub never_true: bool,
    /// In an `except ImportError:` handler: the imports of its `try` block (a
    /// block of nothing but imports), which this one stands in for when they fail
    /// (`try: import ujson as json` / `except ImportError: import json`). Empty for
    /// any other import.
    pub fallback_for: Vec<Import>,
}

/// The blocks [`imports`] tracks, each at the indentation of its header.
enum Block {
    Def,
    /// `if __name__ == "__main__":`.
    Main,
    /// `if sys.platform == "win32":`, `if TYPE_CHECKING:`: see [`is_false_at_run_time`].
    NeverTrue,
    /// `try:` and where its imports start in the found list; whether its body is
    /// nothing but imports (else an ImportError may come from other code).
    Try {
        start: usize,
        only_imports: bool,
    },
    /// An `except` clause of a `try` of nothing but imports, with those imports
    /// when the clause catches only ImportError.
    Except {
        tried: Vec<Import>,
        fallback: bool,
    },
}

/// The imports of one source file.
pub fn imports(source: &str) -> Vec<Import> {
    let mut found: Vec<Import> = Vec::new();
    // The enclosing blocks, innermost last: a line indented no deeper than a
    // block's header has left that block.
    let mut blocks: Vec<(usize, Block)> = Vec::new();
    // A line that starts inside a triple-quoted string (a docstring's example
    // `if __name__ == "__main__":` at column 0) opens no block.
    for (statement, quoted) in logical_lines(source) {
        let indent = statement.len() - statement.trim_start().len();
        let text = statement.trim();
        if text.is_empty() {
            continue;
        }
        // The imports of the `try` (or of its previous `except`) this line ends,
        // when the line is another clause of it.
        let mut tried: Option<Vec<Import>> = None;
        while blocks.last().is_some_and(|(d, _)| indent <= *d) {
            if let Some((d, block)) = blocks.pop() {
                if d != indent {
                    continue;
                }
                match block {
                    Block::Try {
                        start,
                        only_imports: true,
                    } => {
                        tried = Some(
                            found[start..]
                                .iter()
                                .filter(|i| !i.named)
                                .cloned()
                                .collect(),
                        )
                    }
                    Block::Except { tried: t, .. } => tried = Some(t),
                    _ => tried = None,
                }
            }
        }
        let in_function = blocks.iter().any(|(_, b)| matches!(b, Block::Def));
        for (_, block) in &mut blocks {
            if let Block::Try { only_imports, .. } = block {
                *only_imports &= is_import_or_flag(text);
            }
        }
        if quoted {
            // Inside a string: it ends blocks by its indentation, as before, but
            // opens none.
        } else if text.starts_with("def ") || text.starts_with("async def ") {
            blocks.push((indent, Block::Def));
        } else if is_main_guard(text) {
            blocks.push((indent, Block::Main));
        } else if is_false_at_run_time(text) {
            blocks.push((indent, Block::NeverTrue));
        } else if let Some(tail) = text.strip_prefix("try:") {
            let tail = tail.trim();
            let only_imports = tail.is_empty() || is_import_or_flag(tail);
            blocks.push((
                indent,
                Block::Try {
                    start: found.len(),
                    only_imports,
                },
            ));
        } else if text.starts_with("except")
            && let Some(tried) = tried.filter(|t| !t.is_empty())
        {
            let fallback = catches_only_import_errors(text);
            blocks.push((indent, Block::Except { tried, fallback }));
        }
        let in_main = blocks.iter().any(|(_, b)| matches!(b, Block::Main));
        let never_true = blocks.iter().any(|(_, b)| matches!(b, Block::NeverTrue));
        let fallback_for = match blocks.last() {
            Some((
                _,
                Block::Except {
                    tried,
                    fallback: true,
                },
            )) => tried.clone(),
            _ => Vec::new(),
        };
        let before = found.len();
        for part in text.split(';') {
            parse_statement(part.trim(), &mut found);
        }
        let dynamic = dynamic_imports(text);
        for literal in &dynamic {
            found.push(Import {
                level: 0,
                module: literal.split('.').map(str::to_owned).collect(),
                names: Vec::new(),
                in_function,
                named: false,
                in_main: false,
                never_true: false,
                fallback_for: Vec::new(),
            });
        }
        for literal in dotted_strings(text)
            .into_iter()
            .filter(|l| !dynamic.contains(l))
        {
            found.push(Import {
                level: 0,
                module: literal.split('.').map(str::to_owned).collect(),
                names: Vec::new(),
                in_function,
                named: true,
                in_main: false,
                never_true: false,
                fallback_for: Vec::new(),
            });
        }
        for import in &mut found[before..] {
            import.in_function = in_function;
            import.in_main = in_main;
            import.never_true = never_true;
            if !import.named {
                import.fallback_for = fallback_for.clone();
            }
        }
    }
    found
}

/// The triple quote open at the end of `line`, given the one open at its start:
/// quotes are read as Python's tokenizer reads them (one-line strings, escapes, a
/// `#` comment outside strings).
fn string_after<'q>(line: &[u8], mut open: Option<&'q [u8]>) -> Option<&'q [u8]> {
    const TRIPLES: [&[u8]; 2] = [b"\"\"\"", b"'''"];
    let mut i = 0;
    while i < line.len() {
        if let Some(quote) = open {
            if line[i..].starts_with(quote) {
                open = None;
                i += 3;
            } else {
                i += if line[i] == b'\\' { 2 } else { 1 };
            }
            continue;
        }
        match line[i] {
            b'#' => return None,
            c @ (b'"' | b'\'') => {
                if let Some(triple) = TRIPLES.into_iter().find(|t| line[i..].starts_with(t)) {
                    open = Some(triple);
                    i += 3;
                    continue;
                }
                // A one-line string: on to its closing quote.
                i += 1;
                while i < line.len() && line[i] != c {
                    i += if line[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    open
}

/// `if __name__ == "__main__":` (either quote, either order).
fn is_main_guard(text: &str) -> bool {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let compact = compact.replace('\'', "\"");
    compact.starts_with("if__name__==\"__main__\":")
        || compact.starts_with("if\"__main__\"==__name__:")
}

/// `if`/`elif` whose test is false when the app runs: a conjunct compares
/// `sys.platform` (`"linux"` in a container) or `os.name` (`"posix"`) with another
/// string, asks whether `sys.platform` starts with a prefix of something else, or
/// is `TYPE_CHECKING` (`typing`'s constant, `False` at run time). No `or`, no
/// `not`: the test must be false whatever its other conjuncts are.
fn is_false_at_run_time(text: &str) -> bool {
    let Some(test) = text
        .strip_prefix("if ")
        .or_else(|| text.strip_prefix("elif "))
        .and_then(|t| t.rsplit_once(':'))
        .map(|(t, _)| t)
    else {
        return false;
    };
    let test = test.replace('\'', "\"");
    if test.contains(" or ") || test.contains("not ") || test.contains("!=") {
        return false;
    }
    test.split(" and ").any(|conjunct| {
        let compact: String = conjunct
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '(' && *c != ')')
            .collect();
        let literal = |rest: &str| -> Option<String> {
            let inner = rest.strip_prefix('"')?.strip_suffix('"')?;
            (!inner.contains('"')).then(|| inner.to_owned())
        };
        if compact == "TYPE_CHECKING"
            || compact
                .strip_suffix(".TYPE_CHECKING")
                .is_some_and(|m| ["t", "typing", "typing_extensions", "_t"].contains(&m))
        {
            return true;
        }
        if let Some(value) = compact.strip_prefix("sys.platform==").and_then(literal) {
            return value != "linux";
        }
        if let Some(value) = compact.strip_prefix("os.name==").and_then(literal) {
            return value != "posix";
        }
        if let Some(prefix) = compact
            .strip_prefix("sys.platform.startswith")
            .and_then(literal)
        {
            return !"linux".starts_with(&prefix);
        }
        false
    })
}

/// A statement that cannot raise ImportError but by importing: an import, `pass`,
/// or a flag set to a constant (`HAS_C = True` beside the import it records).
fn is_import_or_flag(text: &str) -> bool {
    text.split(';').map(str::trim).all(|s| {
        s.is_empty()
            || s == "pass"
            || s.starts_with("import ")
            || (s.starts_with("from ") && s.contains(" import "))
            || s.split_once('=').is_some_and(|(name, value)| {
                is_identifier(name.trim()) && ["True", "False", "None"].contains(&value.trim())
            })
    })
}

/// `except ImportError:`, `except (ImportError, ModuleNotFoundError) as e:`.
fn catches_only_import_errors(text: &str) -> bool {
    let Some(rest) = text.strip_prefix("except") else {
        return false;
    };
    let Some((caught, _)) = rest.split_once(':') else {
        return false;
    };
    let caught = caught.split(" as ").next().unwrap_or("");
    let names: Vec<&str> = caught
        .split([',', '(', ')'])
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .collect();
    !names.is_empty()
        && names
            .iter()
            .all(|n| *n == "ImportError" || *n == "ModuleNotFoundError")
}

/// Lines joined across backslashes and open parentheses, comments cut.
/// Each with whether it starts inside a triple-quoted string.
fn logical_lines(source: &str) -> Vec<(String, bool)> {
    let mut lines = Vec::new();
    let mut current = String::new();
    let mut depth: i32 = 0;
    // The triple quote open at the start of the current raw line, and at the start
    // of the current logical line.
    let mut string: Option<&[u8]> = None;
    let mut quoted = false;
    for raw in source.lines() {
        if current.is_empty() {
            quoted = string.is_some();
        }
        string = string_after(raw.as_bytes(), string);
        let line = match raw.find('#') {
            // A `#` inside a string is rare on an import line; cutting it there
            // loses nothing an import needs.
            Some(i) => &raw[..i],
            None => raw,
        };
        let (line, continued) = match line.trim_end().strip_suffix('\\') {
            Some(l) => (l, true),
            None => (line, false),
        };
        if current.is_empty() {
            // The first physical line keeps its indentation (tabs count as 8, as
            // the tokenizer counts them).
            let indent: usize = line
                .chars()
                .take_while(|c| c.is_whitespace())
                .map(|c| if c == '\t' { 8 } else { 1 })
                .sum();
            current.push_str(&" ".repeat(indent));
            current.push_str(line.trim());
        } else {
            current.push(' ');
            current.push_str(line.trim());
        }
        depth += line.matches('(').count() as i32 - line.matches(')').count() as i32;
        // Only import statements are worth joining across lines.
        let worth = {
            let t = current.trim_start();
            t.starts_with("from ") || t.starts_with("import ")
        };
        if (continued || depth > 0) && worth && current.len() < 8192 {
            continue;
        }
        depth = 0;
        let line = std::mem::take(&mut current);
        if !line.trim().is_empty() {
            lines.push((line, quoted));
        }
    }
    if !current.trim().is_empty() {
        lines.push((current, quoted));
    }
    lines
}

fn parse_statement(statement: &str, found: &mut Vec<Import>) {
    // Compound statements put an import after a colon: `try: import x`.
    let statement = match statement.rsplit_once(':') {
        Some((head, tail))
            if ["try", "else", "finally"].contains(&head.trim())
                || head.trim_start().starts_with("if ")
                || head.trim_start().starts_with("except") =>
        {
            tail.trim()
        }
        _ => statement,
    };
    if let Some(rest) = statement.strip_prefix("import ") {
        for item in rest.split(',') {
            let name = item.split_whitespace().next().unwrap_or("");
            if let Some(module) = dotted(name) {
                found.push(Import {
                    level: 0,
                    module,
                    names: Vec::new(),
                    in_function: false,
                    named: false,
                    in_main: false,
                    never_true: false,
                    fallback_for: Vec::new(),
                });
            }
        }
    } else if let Some(rest) = statement.strip_prefix("from ") {
        let Some((module, names)) = rest.split_once(" import ") else {
            return;
        };
        let module = module.trim();
        let level = module.chars().take_while(|c| *c == '.').count();
        let module = &module[level..];
        let module = if module.is_empty() {
            Vec::new()
        } else {
            match dotted(module) {
                Some(m) => m,
                None => return,
            }
        };
        let names = names
            .replace(['(', ')'], " ")
            .split(',')
            .filter_map(|n| n.split_whitespace().next())
            .filter(|n| *n != "*" && is_identifier(n))
            .map(str::to_owned)
            .collect();
        found.push(Import {
            level,
            module,
            names,
            in_function: false,
            named: false,
            in_main: false,
            never_true: false,
            fallback_for: Vec::new(),
        });
    }
}

/// `import_module("a.b")`, `__import__('a')`: the literal module names.
fn dynamic_imports(statement: &str) -> Vec<String> {
    let mut names = Vec::new();
    for call in ["import_module(", "__import__("] {
        let mut rest = statement;
        while let Some(i) = rest.find(call) {
            rest = &rest[i + call.len()..];
            let quoted = rest.trim_start();
            let Some(quote) = quoted.chars().next().filter(|c| *c == '"' || *c == '\'') else {
                continue;
            };
            if let Some(end) = quoted[1..].find(quote) {
                let literal = &quoted[1..1 + end];
                if dotted(literal).is_some() {
                    names.push(literal.to_owned());
                }
            }
        }
    }
    names
}

/// The packages whose submodules `statement` imports by a name it computes:
/// `__import__('pygments.styles.' + name)`, `import_module(f"app.backends.{name}")`,
/// `__import__("sqlalchemy.dialects.%s" % (dialect,))`. A literal that is a whole
/// module name is [`dynamic_imports`]'.
fn computed_imports(statement: &str) -> Vec<Vec<String>> {
    let mut packages = Vec::new();
    for call in ["import_module(", "__import__("] {
        let mut rest = statement;
        while let Some(i) = rest.find(call) {
            rest = &rest[i + call.len()..];
            let argument = rest.trim_start();
            let argument = argument.strip_prefix(['f', 'F']).unwrap_or(argument);
            let Some(quote) = argument.chars().next().filter(|c| *c == '"' || *c == '\'') else {
                continue;
            };
            let Some(end) = argument[1..].find(quote) else {
                continue;
            };
            let literal = &argument[1..1 + end];
            let after = argument[1 + end + 1..].trim_start();
            let prefix = if let Some(prefix) = literal.strip_suffix('.')
                && after.starts_with('+')
            {
                prefix
            } else if let Some(at) = literal.find(['%', '{']) {
                match literal[..at].strip_suffix('.') {
                    Some(prefix) => prefix,
                    None => continue,
                }
            } else {
                continue;
            };
            if let Some(parts) = dotted(prefix) {
                packages.push(parts);
            }
        }
    }
    packages
}

/// The direct submodules of the packages `source` (the code of `file`) imports
/// submodules of by computed names (see [`computed_imports`]), in its own package or
/// anywhere from the app's code: a plugin set its package loads one member of by a
/// name it is given (Pygments' styles, SQLAlchemy's dialects by a URL's scheme).
/// Each package's modules and its subpackages' `__init__.py`.
pub fn computed_submodules(
    index: &FileIndex,
    roots: &[String],
    app_dirs: &[String],
    file: &str,
    source: &str,
) -> Vec<String> {
    if !source.contains("import_module(") && !source.contains("__import__(") {
        return Vec::new();
    }
    let app_code = app_dirs
        .iter()
        .any(|d| pare_image::path::is_within(file, d));
    let package = package_of(roots, file).and_then(|(_, parts)| parts.first().cloned());
    let mut found = Vec::new();
    for (statement, quoted) in logical_lines(source) {
        if quoted {
            continue;
        }
        for parts in computed_imports(&statement) {
            if !app_code && package.as_ref() != parts.first() {
                continue;
            }
            for root in roots {
                let dir = parts
                    .iter()
                    .fold(root.trim_end_matches('/').to_owned(), |d, p| {
                        pare_image::path::join(&d, p)
                    });
                if !is_dir(index, &dir) {
                    continue;
                }
                for (path, node) in index.descendants(&dir) {
                    let below = &path[dir.len()..];
                    let module = node.kind == EntryKind::File
                        && below.matches('/').count() == 1
                        && path.ends_with(".py");
                    let subpackage = node.kind == EntryKind::File
                        && below.matches('/').count() == 2
                        && below.ends_with("/__init__.py");
                    if module || subpackage {
                        found.push(path.clone());
                    }
                }
            }
        }
    }
    found
}

/// The data files and directories an installed package's module (or the app's)
/// names beside itself (see [`super::data_beside`]): Babel's
/// `os.path.join(os.path.dirname(__file__), 'locale-data')` and `'global.dat'`.
pub fn data_beside(
    index: &FileIndex,
    app_dirs: &[String],
    file: &str,
    source: &str,
) -> Vec<String> {
    let installed = file.contains("/site-packages/") || file.contains("/dist-packages/");
    let app_code = app_dirs
        .iter()
        .any(|d| pare_image::path::is_within(file, d));
    if !(installed || app_code) || !super::has_data_beside(index, file) {
        return Vec::new();
    }
    let literals: Vec<String> = logical_lines(source)
        .into_iter()
        .filter(|(_, quoted)| !quoted)
        .flat_map(|(statement, _)| {
            super::quoted_literals(&statement)
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect();
    super::data_beside(index, file, literals.iter().map(String::as_str))
}

/// Quoted literals of two or more dotted identifiers: `"pkg.mod.Class"`.
fn dotted_strings(statement: &str) -> Vec<String> {
    super::quoted_literals(statement)
        .filter(|literal| literal.contains('.') && dotted(literal).is_some())
        .map(str::to_owned)
        .collect()
}

fn dotted(name: &str) -> Option<Vec<String>> {
    let parts: Vec<String> = name.split('.').map(str::to_owned).collect();
    parts.iter().all(|p| is_identifier(p)).then_some(parts)
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_')
}

/// Where the import system looks: the standard library, its `lib-dynload`, every
/// `site-packages`/`dist-packages`, `PYTHONPATH` and the app's directories.
pub fn search_roots(index: &FileIndex, extra: &[String]) -> Vec<String> {
    let mut roots: BTreeSet<String> = BTreeSet::new();
    for (path, node) in &index.nodes {
        if node.kind != EntryKind::Dir {
            continue;
        }
        let name = pare_image::path::file_name(path);
        let stdlib = name.starts_with("python3.")
            && name["python3.".len()..].chars().all(|c| c.is_ascii_digit())
            && index.nodes.contains_key(&format!("{path}/os.py"));
        if stdlib || name == "site-packages" || name == "dist-packages" || name == "lib-dynload" {
            roots.insert(path.clone());
        }
    }
    roots.extend(extra.iter().cloned());
    roots.into_iter().collect()
}

/// The files that make module `parts` importable from `root`: each package's
/// `__init__.py` on the way and the module itself. A `from` name that is no module
/// is an attribute: resolution stops there.
fn resolve_in(index: &FileIndex, root: &str, parts: &[String], out: &mut Vec<String>) -> bool {
    let mut dir = root.to_owned();
    for (i, part) in parts.iter().enumerate() {
        let base = pare_image::path::join(&dir, part);
        if is_file(index, &format!("{base}.py")) {
            out.push(format!("{base}.py"));
            return true;
        }
        if is_dir(index, &base) {
            let init = format!("{base}/__init__.py");
            if is_file(index, &init) {
                out.push(init);
            }
            dir = base;
            continue;
        }
        if let Some(ext) = extension_module(index, &dir, part) {
            out.push(ext);
            return true;
        }
        if is_file(index, &format!("{base}.pyc")) {
            out.push(format!("{base}.pyc"));
            return true;
        }
        return i > 0;
    }
    true
}

/// `NAME.cpython-311-x86_64-linux-gnu.so`, `NAME.abi3.so` or `NAME.so` in `dir`.
fn extension_module(index: &FileIndex, dir: &str, name: &str) -> Option<String> {
    let prefix = format!("{}/{name}.", dir.trim_end_matches('/'));
    index
        .nodes
        .range(prefix.clone()..)
        .take_while(|(p, _)| p.starts_with(&prefix))
        .map(|(p, _)| p)
        .find(|p| p.ends_with(".so") && !p[prefix.len()..].contains('/'))
        .cloned()
}

/// The root a source file was imported from and its package path: for
/// `/r/pkg/sub/mod.py` under root `/r`, `("/r", ["pkg", "sub"])`.
fn package_of<'a>(roots: &'a [String], file: &str) -> Option<(&'a str, Vec<String>)> {
    let root = roots
        .iter()
        .filter(|r| file.starts_with(&format!("{}/", r.trim_end_matches('/'))))
        .max_by_key(|r| r.len())?;
    let rel = &file[root.trim_end_matches('/').len() + 1..];
    let mut parts: Vec<String> = rel.split('/').map(str::to_owned).collect();
    parts.pop();
    Some((root, parts))
}

/// What [`closure`] found each file leads to, by file, start and plugin: kept
/// between its calls.
pub type Known = std::collections::HashMap<(String, bool, bool), Vec<String>>;

/// Every source file reachable by imports from `start` (the kept `.py` files),
/// not including `start` itself:
/// - what a module imports when it is imported (its module-level imports), for
///   every module kept or found, transitively;
/// - what a function imports when it is called, for the files in `start`: all of
///   it in the app's own code (below `app_dirs`: the view no probe called), and a
///   package's own lazy modules in an installed package or the standard library
///   (`flask.debughelpers` imported inside `flask`'s error handling).
///
/// A function-level import from one installed package into another (the standard
/// library's `logging` importing `multiprocessing` when asked about processes) is
/// not followed: following every one keeps most of the standard library for any
/// app, and an app's path into another package goes through its own code or that
/// package's own modules, which are followed. Except from `plugins`, the modules a
/// package imports by a computed name ([`computed_submodules`]): a plugin's lazy
/// import is how it does its one job (SQLAlchemy's sqlite dialect imports `sqlite3`
/// in `dbapi()`, when an engine is made for a `sqlite://` URL).
///
/// Three kinds of import statement never run in the slim image, and are not followed:
/// - in a module outside the app's code, the imports of its `if __name__ ==
///   "__main__":` block (`heapq` importing `doctest`, and with it `pdb` and
///   `unittest`): the block runs only when the file is the program, and then it ran
///   under the trace, which saw what it imported; an imported module's never runs.
/// - the imports under an `if` that is false when the app runs: `if sys.platform
///   == "win32":` (click's Windows console pulling in ctypes, libffi and
///   `_ctypes`, 0.2 MB; every image pare builds runs Linux), `if TYPE_CHECKING:`
///   (imports for annotations only);
/// - the fallback in `except ImportError:` of a `try` that holds nothing but
///   imports, when every one of those surely succeeds: whole modules (`import
///   ujson as json` / `except ImportError: import json`, `from _speedups import *`)
///   or submodules that resolve in the image to a module CPython loads (`loads`).
///   They raise no ImportError, so the handler never runs. A module compiled into
///   the interpreter does not resolve to a file, and a name imported from a module
///   may be a missing attribute (`from _decimal import __version__`), so their
///   fallbacks are kept.
///
/// `known` holds what each file was found to lead to, for the next call.
pub fn closure(
    index: &FileIndex,
    roots: &[String],
    app_dirs: &[String],
    start: &BTreeSet<String>,
    plugins: &BTreeSet<String>,
    known: &mut Known,
) -> BTreeSet<String> {
    super::walk(
        index,
        start,
        |path| path.ends_with(".py"),
        |file, source, started| {
            // What a file leads to depends on the file, whether it is a start and
            // whether a plugin: the rounds of [`super::reachable`] walk the same
            // files again, and resolving is the cost.
            let plugin = plugins.contains(file);
            if let Some(found) = known.get(&(file.to_owned(), started, plugin)) {
                return found.clone();
            }
            let app_code = app_dirs
                .iter()
                .any(|d| file.starts_with(&format!("{}/", d.trim_end_matches('/'))));
            let package = package_of(roots, file).map(|(_, parts)| {
                parts
                    .first()
                    .cloned()
                    .unwrap_or_else(|| module_name(file).to_owned())
            });
            let mut found = Vec::new();
            for import in imports(source)
                .into_iter()
                .chain(implicit_imports(roots, file))
            {
                let own = import.level > 0
                    || package.as_deref() == import.module.first().map(String::as_str);
                // A name in a string is followed where the package names its own
                // modules, or the app names any: a docstring's mention of another
                // package is no plugin.
                let follow = if import.named {
                    app_code || own
                } else {
                    !import.in_function || (started && (app_code || own || plugin))
                };
                let never_runs = import.never_true
                    || (import.in_main && !app_code)
                    || (!import.fallback_for.is_empty()
                        && import
                            .fallback_for
                            .iter()
                            .all(|tried| loads(index, roots, file, tried)));
                let follow = follow && !never_runs;
                if follow {
                    resolve_import(index, roots, file, &import, &mut found);
                }
            }
            known.insert((file.to_owned(), started, plugin), found.clone());
            found
        },
    )
}

/// Whether `import` (one of `file`'s) surely succeeds: `import m` and `from m
/// import *` when `m` loads, `from m import a, b` when each name is a submodule
/// that loads. A name that may be an attribute is not known to exist: `from typing
/// import Literal` fails on an older Python and its fallback then runs.
fn loads(index: &FileIndex, roots: &[String], file: &str, import: &Import) -> bool {
    let candidates = candidates(roots, file, import);
    candidates.iter().any(|(root, module)| {
        let module_found = import.module.is_empty() || module_loads(index, root, module);
        let names_found = import.names.iter().all(|name| {
            let mut sub = module.clone();
            sub.push(name.clone());
            module_loads(index, root, &sub)
        });
        module_found && names_found && !(import.module.is_empty() && import.names.is_empty())
    })
}

/// Whether dotted `parts` below `root` name a package, a source or compiled module,
/// or an extension module built for the Python of its directory (`_x.cpython-311-…
/// .so` under `python3.11/`, an `abi3` or untagged `.so`; one built for another
/// Python fails to import).
fn module_loads(index: &FileIndex, root: &str, parts: &[String]) -> bool {
    let Some((last, packages)) = parts.split_last() else {
        return false;
    };
    let mut dir = root.trim_end_matches('/').to_owned();
    for part in packages {
        dir = pare_image::path::join(&dir, part);
        if !is_dir(index, &dir) {
            return false;
        }
    }
    let base = pare_image::path::join(&dir, last);
    if is_file(index, &format!("{base}.py"))
        || is_dir(index, &base)
        || is_file(index, &format!("{base}.pyc"))
    {
        return true;
    }
    let Some(ext) = extension_module(index, &dir, last) else {
        return false;
    };
    let tag = &ext[base.len() + 1..];
    let python = ext
        .split('/')
        .find_map(|p| p.strip_prefix("python3."))
        .filter(|minor| !minor.is_empty() && minor.chars().all(|c| c.is_ascii_digit()));
    match python {
        Some(minor) => {
            tag == "so" || tag == "abi3.so" || tag.starts_with(&format!("cpython-3{minor}-"))
        }
        None => true,
    }
}

/// The standard library modules CPython 3.11 and later freeze into the interpreter
/// (`Tools/build/freeze_modules.py`): it runs their frozen code object and never
/// opens the source, not even for a traceback (`<frozen posixpath>`). `os.py` is
/// not here: it is the landmark by which CPython finds its standard library.
const FROZEN: [&str; 16] = [
    "importlib/_bootstrap.py",
    "importlib/_bootstrap_external.py",
    "zipimport.py",
    "abc.py",
    "codecs.py",
    "io.py",
    "_collections_abc.py",
    "_sitebuiltins.py",
    "genericpath.py",
    "ntpath.py",
    "posixpath.py",
    "site.py",
    "stat.py",
    "importlib/util.py",
    "importlib/machinery.py",
    "runpy.py",
];

/// Whether `path` is the source of a module frozen into its CPython (3.11 or
/// later, by the `python3.N/` directory it is in): reached by imports, but the
/// interpreter runs its own copy, so the file is not kept (what it imports is).
/// Seen used by the trace (a Python run with `-X frozen_modules=off`), it is kept
/// as traced.
pub fn frozen_source(path: &str) -> bool {
    let Some((dir, rel)) = path
        .match_indices("/python3.")
        .filter_map(|(i, _)| {
            let after = &path[i + "/python3.".len()..];
            let (minor, rel) = after.split_once('/')?;
            let minor: u32 = minor.parse().ok()?;
            Some((minor, rel))
        })
        .last()
    else {
        return false;
    };
    dir >= 11 && FROZEN.contains(&rel)
}

/// Modules CPython's C code imports by name, which no `import` statement shows:
/// `datetime.strptime` (of the `_datetime` accelerator) imports `_strptime` at its
/// first call, a form's date field parsing for instance.
const IMPLICIT: [(&str, &str); 1] = [("datetime", "_strptime")];

/// What [`IMPLICIT`] says module `file` imports without saying so.
fn implicit_imports(roots: &[String], file: &str) -> Vec<Import> {
    let Some((_, mut parts)) = package_of(roots, file) else {
        return Vec::new();
    };
    if module_name(file) != "__init__" {
        parts.push(module_name(file).to_owned());
    }
    let dotted = parts.join(".");
    IMPLICIT
        .iter()
        .filter(|(module, _)| *module == dotted)
        .map(|(_, implied)| Import {
            level: 0,
            module: implied.split('.').map(str::to_owned).collect(),
            names: Vec::new(),
            in_function: false,
            named: false,
            in_main: false,
            never_true: false,
            fallback_for: Vec::new(),
        })
        .collect()
}

/// `/r/mod.py` → `mod`.
fn module_name(file: &str) -> &str {
    let name = pare_image::path::file_name(file);
    name.split('.').next().unwrap_or(name)
}

/// Where `import` (one of `file`'s) may be found: each search root (and the file's
/// own directory) with the module's dotted parts below it, or for a relative import
/// its package's root with the parts resolved against the package.
fn candidates(roots: &[String], file: &str, import: &Import) -> Vec<(String, Vec<String>)> {
    let mut candidates: Vec<(String, Vec<String>)> = Vec::new();
    if import.level > 0 {
        let (root, mut package) = match package_of(roots, file) {
            Some((root, package)) => (root.to_owned(), package),
            // A script's own directory is where its relative imports start.
            None => (pare_image::path::parent(file).to_owned(), Vec::new()),
        };
        for _ in 1..import.level {
            package.pop();
        }
        let mut module = package;
        module.extend(import.module.iter().cloned());
        candidates.push((root, module));
    } else {
        for root in roots {
            candidates.push((root.clone(), import.module.clone()));
        }
        candidates.push((
            pare_image::path::parent(file).to_owned(),
            import.module.clone(),
        ));
    }
    candidates
}

fn resolve_import(
    index: &FileIndex,
    roots: &[String],
    file: &str,
    import: &Import,
    found: &mut Vec<String>,
) {
    for (root, module) in candidates(roots, file, import) {
        let mut files = Vec::new();
        if !module.is_empty() && !resolve_in(index, &root, &module, &mut files) {
            continue;
        }
        found.extend(files);
        for name in &import.names {
            let mut sub = module.clone();
            sub.push(name.clone());
            let mut files = Vec::new();
            if resolve_in(index, &root, &sub, &mut files) {
                found.extend(files);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(source: &str) -> Vec<(usize, String, Vec<String>)> {
        imports(source)
            .into_iter()
            .filter(|i| !i.named)
            .map(|i| (i.level, i.module.join("."), i.names))
            .collect()
    }

    #[test]
    fn tells_function_level_imports_from_module_level_ones() {
        let source = "import a\nclass C:\n    import b\n    def m(self):\n        import c\n\
                      try:\n    import d\nexcept ImportError:\n    pass\n\
                      async def f():\n    if x:\n        from e import (\n  g)\n\
                      import h\n";
        let all: Vec<String> = imports(source).iter().map(|i| i.module.join(".")).collect();
        assert_eq!(all, ["a", "b", "c", "d", "e", "h"]);
        assert_eq!(flagged(source, |i| i.in_function), ["c", "e"]);
    }

    /// The modules of the imports `flag` is true of.
    fn flagged(source: &str, flag: fn(&Import) -> bool) -> Vec<String> {
        imports(source)
            .iter()
            .filter(|i| flag(i))
            .map(|i| i.module.join("."))
            .collect()
    }

    #[test]
    fn marks_main_blocks_and_import_error_fallbacks() {
        let source = "try:\n    from _c import f\n    HAVE_C = True\n\
                      except (ImportError, ModuleNotFoundError) as e:\n    from _py import f\n\
                      else:\n    import after\n\
                      try:\n    import a\nexcept ValueError:\n    import b\n\
                      except ImportError:\n    import c\n\
                      if __name__ == '__main__':\n    import doctest\n\
                      else:\n    import imported\n";
        let dead = "if sys.platform.startswith('win') and WIN:\n    import a\n\
                    elif os.name == 'nt':\n    import b\nelse:\n    import c\n\
                    if t.TYPE_CHECKING:\n    import d\n\
                    if sys.platform == 'linux':\n    import e\n\
                    if sys.platform != 'win32':\n    import f\n\
                    if sys.platform == 'win32' or X:\n    import g\n";
        // A docstring's example at a lower indentation than the code after it.
        let docstring = "class C:\n    def f(self):\n        \"\"\"Typed as\n\
                         if TYPE_CHECKING:\n    if __name__ == '__main__':\n        \"\"\"\n        import a\n";
        assert_eq!(
            flagged(docstring, |i| i.never_true || i.in_main),
            Vec::<String>::new()
        );
        // c runs (else), e is Linux, f is not Windows, g may be X.
        assert_eq!(flagged(dead, |i| i.never_true), ["a", "b", "d"]);
        let found: Vec<(String, bool, Vec<String>)> = imports(source)
            .into_iter()
            .map(|i| {
                let tried = i.fallback_for.iter().map(|t| t.module.join(".")).collect();
                (i.module.join("."), i.in_main, tried)
            })
            .collect();
        let row = |m: &str, main: bool, tried: &[&str]| {
            (
                m.to_owned(),
                main,
                tried.iter().map(|t| (*t).to_owned()).collect(),
            )
        };
        assert_eq!(
            found,
            [
                row("_c", false, &[]),
                row("_py", false, &["_c"]),
                row("after", false, &[]),
                row("a", false, &[]),
                // Caught as a ValueError: not a fallback for a failed import.
                row("b", false, &[]),
                row("c", false, &["a"]),
                row("doctest", true, &[]),
                row("imported", false, &[]),
            ]
        );
    }

    #[test]
    fn dotted_names_in_strings_are_named_imports() {
        let source = "CACHES = {'default': {'BACKEND': 'django.core.cache.backends.locmem.LocMemCache'}}\n\
                      SERIALIZERS = {\"json\": \"django.core.serializers.json\", 'x': 'style.css/a'}\n\
                      m = import_module('pkg.lazy')\nv = '1.2'\n";
        let named: Vec<String> = imports(source)
            .into_iter()
            .filter(|i| i.named)
            .map(|i| i.module.join("."))
            .collect();
        assert_eq!(
            named,
            [
                "django.core.cache.backends.locmem.LocMemCache",
                "django.core.serializers.json"
            ]
        );
    }

    #[test]
    fn imports_of_computed_submodule_names_name_their_package() {
        let packages = |statement: &str| -> Vec<String> {
            super::computed_imports(statement)
                .iter()
                .map(|p| p.join("."))
                .collect()
        };
        assert_eq!(
            packages("mod = __import__('pygments.styles.' + mod, None, None, [cls])"),
            ["pygments.styles"]
        );
        assert_eq!(
            packages("module = __import__(\"sqlalchemy.dialects.%s\" % (dialect,)).dialects"),
            ["sqlalchemy.dialects"]
        );
        assert_eq!(
            packages("m = importlib.import_module(f'app.backends.{name}')"),
            ["app.backends"]
        );
        for whole_or_unknown in [
            "__import__('pkg.lazy')",
            "import_module(name)",
            "import_module('pkg' + name)",
            "import_module('%s.models' % app)",
            "x = 'a.b.' + c",
        ] {
            assert!(packages(whole_or_unknown).is_empty(), "{whole_or_unknown}");
        }
    }

    #[test]
    fn finds_imports_anywhere_in_a_file() {
        let source = "import os, sys as system\n\
                      from a.b import (c,\n    d as e)\n\
                      def f():\n    import encodings.unicode_escape\n\
                      try: import json\nexcept ImportError: pass\n\
                      from . import sibling\nfrom ..up import thing  # comment\n\
                      m = importlib.import_module('pkg.lazy')\n\
                      x = 1; import re\n\
                      from x import *\n";
        assert_eq!(
            names(source),
            [
                (0, "os".into(), vec![]),
                (0, "sys".into(), vec![]),
                (0, "a.b".into(), vec!["c".into(), "d".into()]),
                (0, "encodings.unicode_escape".into(), vec![]),
                (0, "json".into(), vec![]),
                (1, "".into(), vec!["sibling".into()]),
                (2, "up".into(), vec!["thing".into()]),
                (0, "pkg.lazy".into(), vec![]),
                (0, "re".into(), vec![]),
                (0, "x".into(), vec![]),
            ]
        );
    }
}
