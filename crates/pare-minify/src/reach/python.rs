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
}

/// The imports of one source file.
pub fn imports(source: &str) -> Vec<Import> {
    let mut found = Vec::new();
    // The indentation of each enclosing `def`: a line indented deeper than the
    // innermost is inside that function.
    let mut defs: Vec<usize> = Vec::new();
    for statement in logical_lines(source) {
        let indent = statement.len() - statement.trim_start().len();
        let text = statement.trim();
        if text.is_empty() {
            continue;
        }
        while defs.last().is_some_and(|d| indent <= *d) {
            defs.pop();
        }
        let in_function = !defs.is_empty();
        if text.starts_with("def ") || text.starts_with("async def ") {
            defs.push(indent);
        }
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
            });
        }
        for import in &mut found[before..] {
            import.in_function = in_function;
        }
    }
    found
}

/// Lines joined across backslashes and open parentheses, comments cut.
fn logical_lines(source: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut current = String::new();
    let mut depth: i32 = 0;
    for raw in source.lines() {
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
            lines.push(line);
        }
    }
    if !current.trim().is_empty() {
        lines.push(current);
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

/// Quoted literals of two or more dotted identifiers: `"pkg.mod.Class"`.
fn dotted_strings(statement: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = statement;
    while let Some(start) = rest.find(['"', '\'']) {
        let quote = rest[start..].chars().next().unwrap_or('"');
        let after = &rest[start + 1..];
        let Some(end) = after.find(quote) else {
            break;
        };
        let literal = &after[..end];
        if literal.contains('.') && dotted(literal).is_some() {
            names.push(literal.to_owned());
        }
        rest = &after[end + 1..];
    }
    names
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
/// package's own modules, which are followed.
pub fn closure(
    index: &FileIndex,
    roots: &[String],
    app_dirs: &[String],
    start: &BTreeSet<String>,
) -> BTreeSet<String> {
    super::walk(
        index,
        start,
        |path| path.ends_with(".py"),
        |file, source, started| {
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
                    !import.in_function || (started && (app_code || own))
                };
                if follow {
                    resolve_import(index, roots, file, &import, &mut found);
                }
            }
            found
        },
    )
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
        })
        .collect()
}

/// `/r/mod.py` → `mod`.
fn module_name(file: &str) -> &str {
    let name = pare_image::path::file_name(file);
    name.split('.').next().unwrap_or(name)
}

fn resolve_import(
    index: &FileIndex,
    roots: &[String],
    file: &str,
    import: &Import,
    found: &mut Vec<String>,
) {
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
    for (root, module) in candidates {
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
        let found: Vec<(String, bool)> = imports(source)
            .into_iter()
            .map(|i| (i.module.join("."), i.in_function))
            .collect();
        assert_eq!(
            found,
            [
                ("a".into(), false),
                ("b".into(), false),
                ("c".into(), true),
                ("d".into(), false),
                ("e".into(), true),
                ("h".into(), false),
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
