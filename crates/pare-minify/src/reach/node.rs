//! Node's static require closure: `require("x")`, `import … from "x"` and
//! `import("x")` with a literal name, resolved as Node resolves them (a relative
//! file with the extensions it tries, a directory's `package.json` main or
//! `index.js`, a package found in `node_modules` up the tree, `NODE_PATH` or the
//! distribution's global folders), transitively.

use std::collections::BTreeSet;

use pare_image::FileIndex;

use super::{is_dir, is_file};

/// Where Debian's node (and a `npm -g` install) finds packages beyond `node_modules`.
pub const GLOBAL_FOLDERS: [&str; 5] = [
    "/usr/share/nodejs",
    "/usr/lib/nodejs",
    "/usr/lib/x86_64-linux-gnu/nodejs",
    "/usr/local/lib/node_modules",
    "/usr/lib/node_modules",
];

/// The module names a source file asks for literally.
pub fn requires(source: &str) -> Vec<String> {
    let mut names = Vec::new();
    for call in ["require(", "import(", "require.resolve("] {
        let mut rest = source;
        while let Some(i) = rest.find(call) {
            rest = &rest[i + call.len()..];
            if let Some(dir) = computed_dir(rest.trim_start()) {
                names.push(format!("{dir}/*"));
            } else if let Some(name) = quoted(rest.trim_start())
                && !rest.trim_start()[name.len() + 2..]
                    .trim_start()
                    .starts_with('+')
            {
                names.push(name);
            }
        }
    }
    // express requires the template engine named by `app.set("view engine", "pug")`
    // itself, by that name, at the first render: `require(this.ext.slice(1))`.
    for key in ["\"view engine\"", "'view engine'"] {
        let mut rest = source;
        while let Some(i) = rest.find(key) {
            rest = &rest[i + key.len()..];
            if let Some(after) = rest.trim_start().strip_prefix(',')
                && let Some(name) = quoted(after.trim_start())
            {
                names.push(name);
            }
        }
    }
    // `import x from "y"`, `export * from "y"`, `import "y"`.
    for line in source.lines() {
        let t = line.trim_start();
        if !(t.starts_with("import ") || t.starts_with("export ") || t.starts_with("} from")) {
            continue;
        }
        let tail = match t.rfind(" from ") {
            Some(i) => &t[i + " from ".len()..],
            None => t.strip_prefix("import ").unwrap_or(""),
        };
        if let Some(name) = quoted(tail.trim_start()) {
            names.push(name);
        }
    }
    names
}

/// The relative directory of a name the code completes: `'./locale/' + name`,
/// `` `./lang/${name}` ``, `"../plugins/" + id + ".js"`.
fn computed_dir(text: &str) -> Option<String> {
    let quote = text
        .chars()
        .next()
        .filter(|c| matches!(c, '"' | '\'' | '`'))?;
    let end = text[1..].find(quote)?;
    let literal = &text[1..1 + end];
    let dir = if quote == '`' {
        let at = literal.find("${")?;
        let tail = &literal[at..];
        if tail.contains('/') {
            return None;
        }
        literal[..at].strip_suffix('/')?
    } else if text[1 + end + 1..].trim_start().starts_with('+') {
        literal.strip_suffix('/')?
    } else {
        return None;
    };
    let relative = dir == "." || dir == ".." || dir.starts_with("./") || dir.starts_with("../");
    (relative && !dir.contains("${")).then(|| dir.to_owned())
}

fn quoted(text: &str) -> Option<String> {
    let quote = text
        .chars()
        .next()
        .filter(|c| matches!(c, '"' | '\'' | '`'))?;
    let end = text[1..].find(quote)?;
    let name = &text[1..1 + end];
    (!name.is_empty() && !name.contains("${") && !name.contains('\n')).then(|| name.to_owned())
}

fn node<'a>(index: &'a FileIndex, path: &str) -> Option<&'a pare_image::Node> {
    index.resolve(path).map(|(_, n)| n)
}

/// The files a resolved module brings: the file, or a package's `package.json` and
/// entry points.
fn load_path(index: &FileIndex, base: &str, out: &mut Vec<String>) -> bool {
    for ext in ["", ".js", ".json", ".node", ".cjs", ".mjs"] {
        let candidate = format!("{base}{ext}");
        if is_file(index, &candidate) {
            out.push(candidate);
            return true;
        }
    }
    if !is_dir(index, base) {
        return false;
    }
    let manifest = format!("{base}/package.json");
    let mut found = false;
    if let Some(json) = node(index, &manifest)
        .and_then(|n| n.content.as_deref())
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(b).ok())
    {
        out.push(manifest.clone());
        let mut entries: Vec<String> = Vec::new();
        if let Some(main) = json["main"].as_str() {
            entries.push(main.to_owned());
        }
        collect_strings(&json["exports"], &mut entries);
        for entry in entries {
            let target = pare_image::path::join(base, entry.trim_start_matches("./"));
            if !target.contains('*') && load_path_file(index, &target, out) {
                found = true;
            }
        }
    } else if is_file(index, &manifest) {
        out.push(manifest);
    }
    for index_file in ["index.js", "index.json", "index.node"] {
        let candidate = format!("{base}/{index_file}");
        if is_file(index, &candidate) {
            out.push(candidate);
            return true;
        }
    }
    found
}

/// A file target of `main`/`exports` (a directory there means its index).
fn load_path_file(index: &FileIndex, base: &str, out: &mut Vec<String>) -> bool {
    for ext in ["", ".js", ".json", ".node", ".cjs", ".mjs", "/index.js"] {
        let candidate = format!("{base}{ext}");
        if is_file(index, &candidate) {
            out.push(candidate);
            return true;
        }
    }
    false
}

fn collect_strings(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Object(map) => map.values().for_each(|v| collect_strings(v, out)),
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_strings(v, out)),
        _ => {}
    }
}

/// Resolves `name` as asked for by `file`.
fn resolve(index: &FileIndex, file: &str, name: &str, global: &[String], out: &mut Vec<String>) {
    let name = name.strip_prefix("node:").unwrap_or(name);
    let dir = pare_image::path::parent(file);
    if name.starts_with("./") || name.starts_with("../") || name == "." || name == ".." {
        let base =
            pare_image::path::normalize(&pare_image::path::join(dir, name)).unwrap_or_default();
        load_path(index, &base, out);
        return;
    }
    if name.starts_with('/') {
        load_path(index, name, out);
        return;
    }
    // node_modules in this directory and every one above it, then the globals.
    let mut search = Vec::new();
    let mut d = dir.to_owned();
    loop {
        if pare_image::path::file_name(&d) != "node_modules" {
            search.push(pare_image::path::join(&d, "node_modules"));
        }
        if d == "/" || d.is_empty() {
            break;
        }
        d = pare_image::path::parent(&d).to_owned();
    }
    search.extend(global.iter().cloned());
    for root in search {
        if load_path(index, &pare_image::path::join(&root, name), out) {
            return;
        }
    }
}

/// Every file reachable by literal requires from `start`, not including `start`.
pub fn closure(index: &FileIndex, global: &[String], start: &BTreeSet<String>) -> BTreeSet<String> {
    super::walk(index, start, is_source, |file, source, _| {
        let mut found = Vec::new();
        for name in requires(source) {
            match name.strip_suffix("/*") {
                // Any module of that directory: its scripts and JSON files.
                Some(dir) => {
                    let Ok(dir) = pare_image::path::normalize(&pare_image::path::join(
                        pare_image::path::parent(file),
                        dir,
                    )) else {
                        continue;
                    };
                    found.extend(super::files_below(index, &dir, |below| {
                        !below.contains('/') && (is_source(below) || below.ends_with(".json"))
                    }));
                }
                None => resolve(index, file, &name, global, &mut found),
            }
        }
        found
    })
}

/// A file whose requires are followed.
pub fn is_source(path: &str) -> bool {
    path.ends_with(".js") || path.ends_with(".cjs") || path.ends_with(".mjs")
}

#[cfg(test)]
mod tests {
    #[test]
    fn finds_literal_requires_and_imports() {
        let source = "const a = require('./lib/render');\n\
                      const b = require(\"marked\");\n\
                      import c from 'node:path';\n\
                      export { d } from \"../d.js\";\n\
                      const e = await import('lazy');\n\
                      const f = require(name);\n\
                      const g = require('./locale/' + lang);\n\
                      const h = require(`../lang/${id}`);\n\
                      const i = require(`./a/${b}/c`);\n\
                      const j = require('pkg/' + sub);\n";
        assert_eq!(
            super::requires(source),
            [
                "./lib/render",
                "marked",
                "./locale/*",
                "../lang/*",
                "lazy",
                "node:path",
                "../d.js"
            ]
        );
    }

    #[test]
    fn expresss_view_engine_is_a_require_by_name() {
        let source = "app.set(\"views\", dir);\n\
                      app.set(\"view engine\", \"ejs\");\n\
                      app.set('view engine' , 'pug');\n\
                      app.get('view engine');\n";
        assert_eq!(super::requires(source), ["ejs", "pug"]);
    }
}
