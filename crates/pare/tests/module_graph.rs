//! Every crate's modules form no cycle (issue 24): a module that imports another which
//! imports it back cannot be understood, tested or moved alone. The test reads each
//! crate's `src/**/*.rs`, takes the modules every `crate::…` and `super::…` path names
//! (in `use` or inline, `#[cfg(test)]` modules left out), and fails naming each cycle
//! it finds, with one path around it. The cycles known today are allowed below, each
//! with why; a cycle that is new, or a known one that takes in another module, fails.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Cycles that were there when the test was written, left for the crates' owners to
/// break (issue 24 names their causes). Each entry is (crate, the modules of the
/// cycle); a cycle found is allowed when all its modules are in one entry of its
/// crate. Shrink an entry when a cycle is broken.
const KNOWN_CYCLES: &[(&str, &[&str])] = &[];

#[test]
fn no_crate_has_a_new_module_cycle() {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut failures = Vec::new();
    let mut known_seen = Vec::new();
    let mut names: Vec<PathBuf> = std::fs::read_dir(&crates)
        .expect("the crates directory")
        .map(|e| e.expect("a crates entry").path())
        .filter(|p| p.join("src").is_dir())
        .collect();
    names.sort();
    for dir in names {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let graph = module_graph(&dir.join("src"));
        // Cycles between modules, and between the crate's top-level modules with their
        // children (`dockerfile` using `parse::lines` while `parse` uses `dockerfile`).
        let mut found = cycles(&graph);
        for cycle in cycles(&top_level(&graph)) {
            if !found.iter().any(|c| c.members == cycle.members) {
                found.push(cycle);
            }
        }
        for cycle in found {
            let allowed = KNOWN_CYCLES.iter().any(|(krate, modules)| {
                *krate == name && cycle.members.iter().all(|m| modules.contains(&m.as_str()))
            });
            let text = format!(
                "{name}: {} (e.g. {})",
                cycle.members.join(", "),
                cycle.path.join(" -> ")
            );
            if allowed {
                known_seen.push(text);
            } else {
                failures.push(text);
            }
        }
    }
    for known in &known_seen {
        eprintln!("known module cycle (allowed in KNOWN_CYCLES): {known}");
    }
    assert!(
        failures.is_empty(),
        "module cycles (a module that uses another which uses it back):\n  {}",
        failures.join("\n  ")
    );
}

/// Issue 24: a command (`crates/pare/src/cmd/*`, one module per verb) uses no other
/// command; what several share (advisory settings, attached evidence, registry flags,
/// reading and comparing images) lives beside them.
#[test]
fn no_command_uses_another() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let graph = module_graph(&src);
    let mut found = Vec::new();
    for (from, uses) in &graph {
        if !from.starts_with("cmd::") {
            continue;
        }
        for to in uses {
            let command = |m: &str| {
                m.strip_prefix("cmd::")
                    .map(|r| r.split("::").next().unwrap_or(r).to_owned())
            };
            let (Some(a), Some(b)) = (command(from), command(to)) else {
                continue;
            };
            if a != b {
                found.push(format!("{from} -> {to}"));
            }
        }
    }
    assert!(found.is_empty(), "commands using other commands: {found:?}");
}

/// The modules of one crate and, for each, the modules its `crate::`/`super::` paths
/// name (itself and its ancestors left out: a child using its parent's items is not a
/// cycle by itself).
fn module_graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let mut modules: BTreeMap<String, PathBuf> = files
        .iter()
        .map(|f| (module_of(src, f), f.clone()))
        .collect();
    // Modules compiled only for tests (shared test helpers) are left out with their
    // children, as the `#[cfg(test)]` blocks are.
    let mut test_only = Vec::new();
    for (module, file) in &modules {
        let code = code_only(&std::fs::read_to_string(file).unwrap_or_default());
        for name in test_only_modules(&code) {
            test_only.push(if module.is_empty() {
                name
            } else {
                format!("{module}::{name}")
            });
        }
    }
    modules.retain(|m, _| {
        !test_only
            .iter()
            .any(|t| m == t || m.starts_with(&format!("{t}::")))
    });
    let mut graph = BTreeMap::new();
    for (module, file) in &modules {
        let text = std::fs::read_to_string(file)
            .unwrap_or_else(|e| panic!("reading {}: {e}", file.display()));
        let code = without_tests(&code_only(&text));
        let mut uses = BTreeSet::new();
        for path in paths(&code) {
            let Some(absolute) = absolute(module, &path) else {
                continue;
            };
            // The longest prefix that is a module of the crate.
            let target = (0..=absolute.len())
                .rev()
                .map(|n| absolute[..n].join("::"))
                .find(|m| modules.contains_key(m))
                .unwrap_or_default();
            let ancestor = target.is_empty()
                || *module == target
                || module.starts_with(&format!("{target}::"));
            if !ancestor {
                uses.insert(target);
            }
        }
        graph.insert(module.clone(), uses);
    }
    graph
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `src/a/b.rs` and `src/a/b/mod.rs` are `a::b`; `lib.rs` and `main.rs` the root, "".
fn module_of(src: &Path, file: &Path) -> String {
    let relative = file.strip_prefix(src).expect("a file under src");
    let mut parts: Vec<String> = relative
        .with_extension("")
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(parts.last().map(String::as_str), Some("mod")) {
        parts.pop();
    }
    if parts.len() == 1 && matches!(parts[0].as_str(), "lib" | "main") {
        parts.clear();
    }
    parts.join("::")
}

/// The source with comments, strings and character literals blanked out, so a path in
/// a doc comment or a message is not taken for a use.
fn code_only(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            out.push(' ');
        } else if c == 'r' && (next == Some('"') || next == Some('#')) && !ident(out.chars().last())
        {
            // A raw string: r"…", r#"…"#.
            let mut j = i + 1;
            let mut hashes = 0;
            while chars.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if chars.get(j) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            j += 1;
            while j < chars.len() {
                if chars[j] == '"' && (0..hashes).all(|h| chars.get(j + 1 + h) == Some(&'#')) {
                    j += 1 + hashes;
                    break;
                }
                j += 1;
            }
            i = j;
            out.push_str("\"\"");
        } else if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
            out.push_str("\"\"");
        } else if c == '\'' && (next == Some('\\') || chars.get(i + 2) == Some(&'\'')) {
            // A character literal ('a', '\n', '\u{1F600}'), not a lifetime.
            i += 1;
            while i < chars.len() && chars[i] != '\'' {
                if chars[i] == '\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
            out.push_str("' '");
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

fn ident(c: Option<char>) -> bool {
    c.is_some_and(|c| c.is_alphanumeric() || c == '_')
}

/// The code without its `#[cfg(test)] mod … { … }` blocks: tests may use anything.
fn without_tests(code: &str) -> String {
    let mut out = code.to_owned();
    while let Some(at) = out.find("#[cfg(test)]") {
        let rest = &out[at + "#[cfg(test)]".len()..];
        let trimmed = rest.trim_start();
        let skipped = rest.len() - trimmed.len();
        let is_mod = test_module_name(trimmed).is_some();
        let open = trimmed.find(['{', ';']);
        let start = at + "#[cfg(test)]".len() + skipped;
        let end = match (is_mod, open) {
            (true, Some(o)) if trimmed[o..].starts_with('{') => {
                let mut depth = 0;
                let mut end = start + o;
                for (k, ch) in out[start + o..].char_indices() {
                    match ch {
                        '{' => depth += 1,
                        '}' => {
                            depth -= 1;
                            if depth == 0 {
                                end = start + o + k + 1;
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                end
            }
            // `#[cfg(test)] mod tests;` or an item that is not a module: drop the
            // attribute only (a test-only item's uses stay, which errs on the safe side).
            _ => start,
        };
        out.replace_range(at..end, " ");
    }
    out
}

/// The name of the module an item declares, when it is one: `mod NAME`, with any
/// visibility (`pub`, `pub(crate)`).
fn test_module_name(item: &str) -> Option<&str> {
    let mut rest = item.trim_start();
    if let Some(after) = rest.strip_prefix("pub") {
        rest = after.trim_start();
        if rest.starts_with('(') {
            rest = rest[rest.find(')')? + 1..].trim_start();
        }
    }
    let rest = rest.strip_prefix("mod ")?.trim_start();
    let end = rest
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(rest.len());
    Some(&rest[..end])
}

/// The modules a file declares only for tests (`#[cfg(test)] mod testing;`).
fn test_only_modules(code: &str) -> Vec<String> {
    code.match_indices("#[cfg(test)]")
        .filter_map(|(at, attr)| {
            let item = &code[at + attr.len()..];
            let name = test_module_name(item)?;
            let declaration = item.trim_start();
            let after = &declaration[declaration.find(name)? + name.len()..];
            after.trim_start().starts_with(';').then(|| name.to_owned())
        })
        .collect()
}

/// Every path that starts with `crate::`, `super::` or `self::`, `use` groups
/// (`crate::{a, b::{c, d}}`) expanded, as segments.
fn paths(code: &str) -> Vec<Vec<String>> {
    let bytes = code.as_bytes();
    let mut found = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let starts = ["crate::", "super::", "self::"]
            .iter()
            .find(|p| code[i..].starts_with(**p));
        let boundary = i == 0 || !ident(code[..i].chars().last()) && !code[..i].ends_with("::");
        match starts {
            Some(_) if boundary => {
                let (mut expanded, len) = path_at(&code[i..]);
                found.append(&mut expanded);
                i += len.max(1);
            }
            _ => i += 1,
        }
    }
    found
}

/// The path(s) at the start of `text` and how many bytes they take.
fn path_at(text: &str) -> (Vec<Vec<String>>, usize) {
    let mut segments = Vec::new();
    let mut i = 0;
    let bytes = text.as_bytes();
    loop {
        let rest = &text[i..];
        let skip = rest.len() - rest.trim_start().len();
        i += skip;
        if text[i..].starts_with('{') {
            // A group: each member is a path relative to what came before.
            let mut out = Vec::new();
            i += 1;
            loop {
                let rest = &text[i..];
                let skip = rest.len() - rest.trim_start().len();
                i += skip;
                if i >= text.len() || text[i..].starts_with('}') {
                    i += 1;
                    break;
                }
                if text[i..].starts_with(',') {
                    i += 1;
                    continue;
                }
                let (members, len) = path_at(&text[i..]);
                for m in members {
                    let mut full = segments.clone();
                    full.extend(m.into_iter().filter(|s| s != "self"));
                    out.push(full);
                }
                i += len.max(1);
            }
            return (out, i);
        }
        let start = i;
        while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
            i += 1;
        }
        if i == start {
            return (vec![segments], i);
        }
        segments.push(text[start..i].to_owned());
        if text[i..].starts_with("::") {
            i += 2;
        } else {
            return (vec![segments], i);
        }
    }
}

/// A path's segments from the crate root, or None when it leaves the crate.
fn absolute(module: &str, path: &[String]) -> Option<Vec<String>> {
    let mut base: Vec<String> = if module.is_empty() {
        Vec::new()
    } else {
        module.split("::").map(str::to_owned).collect()
    };
    let mut rest = path;
    match rest.first().map(String::as_str) {
        Some("crate") => {
            base.clear();
            rest = &rest[1..];
        }
        Some("self") => rest = &rest[1..],
        Some("super") => {
            while rest.first().map(String::as_str) == Some("super") {
                base.pop()?;
                rest = &rest[1..];
            }
        }
        _ => return None,
    }
    base.extend(rest.iter().cloned());
    Some(base)
}

/// The graph with every module folded into its top-level module (`a::b` into `a`).
fn top_level(graph: &BTreeMap<String, BTreeSet<String>>) -> BTreeMap<String, BTreeSet<String>> {
    let top = |m: &str| m.split("::").next().unwrap_or_default().to_owned();
    let mut folded: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (module, uses) in graph {
        let from = top(module);
        let targets: BTreeSet<String> =
            uses.iter().map(|u| top(u)).filter(|u| *u != from).collect();
        folded.entry(from).or_default().extend(targets);
    }
    folded
}

/// A cycle: the modules of a strongly connected component and one path around it.
struct Cycle {
    members: Vec<String>,
    path: Vec<String>,
}

/// The strongly connected components of more than one module (Tarjan's algorithm).
fn cycles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Cycle> {
    struct State<'a> {
        graph: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        components: Vec<Vec<String>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a str) {
        let n = s.index.len();
        s.index.insert(v, n);
        s.low.insert(v, n);
        s.stack.push(v);
        s.on_stack.insert(v);
        for w in s.graph.get(v).into_iter().flatten() {
            let w = w.as_str();
            if !s.graph.contains_key(w) {
                continue;
            }
            if !s.index.contains_key(w) {
                visit(s, w);
                let low = s.low[v].min(s.low[w]);
                s.low.insert(v, low);
            } else if s.on_stack.contains(w) {
                let low = s.low[v].min(s.index[w]);
                s.low.insert(v, low);
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                component.push(w.to_owned());
                if w == v {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort();
                s.components.push(component);
            }
        }
    }
    let mut state = State {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        components: Vec::new(),
    };
    for v in graph.keys() {
        if !state.index.contains_key(v.as_str()) {
            visit(&mut state, v);
        }
    }
    state
        .components
        .into_iter()
        .map(|members| {
            let path = path_around(graph, &members);
            Cycle {
                members: members.iter().map(|m| display(m)).collect(),
                path: path.iter().map(|m| display(m)).collect(),
            }
        })
        .collect()
}

/// One walk from the component's first module back to it, inside the component
/// (breadth-first: the shortest).
fn path_around(graph: &BTreeMap<String, BTreeSet<String>>, members: &[String]) -> Vec<String> {
    let start = &members[0];
    let inside: BTreeSet<&String> = members.iter().collect();
    let mut came_from: BTreeMap<&String, &String> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    while let Some(v) = queue.pop_front() {
        for w in &graph[v] {
            if !inside.contains(w) {
                continue;
            }
            if w == start {
                let mut path = vec![start.clone()];
                let mut at = v;
                while at != start {
                    path.push(at.clone());
                    at = came_from[at];
                }
                path.push(start.clone());
                let last = path.len() - 1;
                path[1..last].reverse();
                return path;
            }
            if !came_from.contains_key(w) {
                came_from.insert(w, v);
                queue.push_back(w);
            }
        }
    }
    members.to_vec()
}

fn display(module: &str) -> String {
    if module.is_empty() {
        "crate".to_owned()
    } else {
        module.to_owned()
    }
}

/// The reader itself, on a crate made for it: a use in each direction is a cycle; one
/// in a comment, a string or a `#[cfg(test)]` module is not.
#[test]
fn a_cycle_is_found_and_comments_strings_and_tests_are_not_uses() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let src = dir.path().join("src");
    std::fs::create_dir_all(src.join("c")).unwrap();
    let files = [
        (
            "lib.rs",
            "mod a;\nmod b;\nmod c;\n#[cfg(test)]\nmod testing;\n",
        ),
        (
            "a.rs",
            "use crate::b::{Thing, other::More};\npub struct A;\n",
        ),
        (
            "b.rs",
            "pub struct Thing;\npub fn f() -> super::a::A { crate::a::A }\n",
        ),
        (
            "c/mod.rs",
            "// uses crate::a::A only in a comment\nconst S: &str = \"crate::a::A\";\n\
             #[cfg(test)]\npub(crate) mod tests {\n    use crate::a::A;\n}\nmod d;\n",
        ),
        ("c/d.rs", "use super::super::testing::helper;\n"),
        ("testing.rs", "use crate::c::d;\n"),
    ];
    for (name, text) in files {
        std::fs::write(src.join(name), text).unwrap();
    }
    let graph = module_graph(&src);
    let found: Vec<Vec<String>> = cycles(&graph).into_iter().map(|c| c.members).collect();
    assert_eq!(found, [["a", "b"]], "{graph:?}");
    assert!(graph["c"].is_empty(), "{graph:?}");
    assert!(!graph.contains_key("testing"), "{graph:?}");
}

/// Issue 24: one hint mechanism. What the user can do about an error is said by the
/// error type's `pare_hint::Hint` and printed by the CLI on a `hint:` line; no
/// library pastes a `hint:` into a message, and every error enum or struct of a
/// library crate implements `Hint` (pare-sensor's run inside the container and reach
/// the user as the sensor's report, not as errors).
#[test]
fn every_library_error_offers_its_hint_through_the_trait() {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut pasted = Vec::new();
    let mut errors = BTreeSet::new();
    let mut hinted = BTreeSet::new();
    for entry in std::fs::read_dir(&crates).expect("the crates directory") {
        let dir = entry.expect("a crates entry").path();
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        if ["pare", "pare-sensor", "pare-hint"].contains(&name.as_str()) {
            continue;
        }
        let mut files = Vec::new();
        rust_files(&dir.join("src"), &mut files);
        for path in files {
            {
                let text = std::fs::read_to_string(&path).expect("a source file");
                for (i, line) in text.lines().enumerate() {
                    let code = line.trim_start();
                    if !code.starts_with("//") && code.contains("\\nhint:") {
                        pasted.push(format!("{}:{}", path.display(), i + 1));
                    }
                    for kind in ["pub enum ", "pub struct "] {
                        if let Some(rest) = code.strip_prefix(kind) {
                            let ty: String = rest
                                .chars()
                                .take_while(|c| c.is_alphanumeric() || *c == '_')
                                .collect();
                            let is_error = ty.ends_with("Error") || ty == "BadSeverity";
                            let derived = text
                                .lines()
                                .nth(i.saturating_sub(1))
                                .is_some_and(|l| l.contains("thiserror::Error"))
                                || text
                                    .lines()
                                    .nth(i.saturating_sub(2))
                                    .is_some_and(|l| l.contains("thiserror::Error"));
                            if is_error && derived {
                                errors.insert(format!("{name}::{ty}"));
                            }
                        }
                    }
                    if let Some(rest) = code.split("Hint for ").nth(1)
                        && code.starts_with("impl")
                    {
                        let ty: String = rest
                            .chars()
                            .take_while(|c| c.is_alphanumeric() || *c == '_')
                            .collect();
                        hinted.insert(format!("{name}::{ty}"));
                    }
                }
            }
        }
    }
    assert!(pasted.is_empty(), "hints pasted into messages: {pasted:?}");
    assert!(errors.len() >= 8, "{errors:?}");
    let missing: Vec<&String> = errors.difference(&hinted).collect();
    assert!(missing.is_empty(), "error types without Hint: {missing:?}");
}
