//! Perl's static `use`/`require` closure: `use Module`, `no Module`, `require
//! Module`, `require "file.pl"`, `use parent`/`use base` with their class lists, and
//! quoted module names (`require_module('Template::Tiny')`, Template Toolkit's
//! `'date' => 'Template::Plugin::Date'`, Encode's table of encodings' modules),
//! resolved against `@INC` as Debian, Alpine, Fedora and the official perl image lay
//! it out, transitively. A module's compiled part (`auto/Foo/Bar/Bar.so`, which
//! `XSLoader::load` finds by the module's name) goes with it.
//!
//! A load in `eval { require … }` is followed like any other: Perl's Config reads
//! `Config_git.pl` that way and warns without it, and HTTP::Tiny finds its SSL
//! support that way the first time the app fetches an `https` URL.
//!
//! Perl apps load much by name at run time: a template's `[% USE date %]` makes
//! Template Toolkit require `Template::Plugin::Date` at the first render, Dancer2
//! requires `Template::Tiny` for its fallback error page. The names are literal
//! strings in the code that loads them; a quoted string counts only when it is a
//! whole module name with a `::` and a file of that name is in `@INC`, so prose and
//! messages do not.
//!
//! Hand-written: no crate parses Perl (only perl can, fully); this reads the
//! statements that load code, the way `perl -c` would not need to.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use pare_image::{EntryKind, FileIndex};

use super::is_file;

/// Whether `path` holds Perl code whose loads are followed.
pub fn is_source(path: &str) -> bool {
    [".pm", ".pl", ".psgi", ".cgi"]
        .iter()
        .any(|e| path.ends_with(e))
}

/// What a Perl file loads: a module by name (`Foo::Bar`) or a file by path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Load {
    Module(String),
    File(String),
    /// The files a distribution or a module installed with it (File::ShareDir's
    /// `dist_file('DateTime-Locale', "$code.pl")`, `module_dir(...)`): the
    /// directory under `auto/share/`, `dist/NAME` or `module/NAME`.
    ShareDir(String),
    /// Any module in a namespace, at least so many levels down
    /// (`"Dancer2::Serializer::$type"` is 1; the name it is given may hold `::`, as
    /// DateTime::TimeZone's `"DateTime::TimeZone::$subclass"` does with
    /// `Asia::Tokyo`): the code loads one by a name it makes at run time.
    Namespace(String, usize),
}

/// A quoted module name where code loads by name: the argument of a loader
/// (Module::Runtime's, Class::Load's, Module::Load's) or a value in a name-to-module
/// table (`'date' => 'Template::Plugin::Date'`). A quoted class name elsewhere
/// (`ref($fh) eq 'IO::Socket::SSL'`, `return "IO::Socket::SSL"`) names a class
/// something else loaded, or loads only when a feature the app did not ask for is on.
static QUOTED_MODULE: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(
        r#"(?:\b(?:require_module|use_module|use_package_optimistically|load_class|load_optional_class|try_load_class|load_first_existing_class|load)\s*\(?\s*|=>\s*)['"]([A-Za-z_]\w*(?:::\w+)+)['"]"#,
    )
    .expect("a valid pattern")
});

/// The code of `source` that runs: without its POD and what follows `__END__` or
/// `__DATA__`, and without whole-line comments.
fn code(source: &str) -> String {
    let mut out = String::with_capacity(source.len());
    let mut pod = false;
    for line in source.lines() {
        if line.starts_with('=') && line[1..].starts_with(|c: char| c.is_ascii_alphabetic()) {
            pod = !line.starts_with("=cut");
            continue;
        }
        if pod {
            continue;
        }
        if line == "__END__" || line == "__DATA__" {
            break;
        }
        out.push_str(without_comment(line));
        out.push('\n');
    }
    out
}

/// `line` up to its comment: a `#` at the start or after a blank or `;`, outside
/// quotes (roughly: an even number of quotes before it).
fn without_comment(line: &str) -> &str {
    let mut quotes = 0;
    let mut previous = ' ';
    for (i, c) in line.char_indices() {
        match c {
            '\'' | '"' => quotes += 1,
            '#' if quotes % 2 == 0 && (previous.is_whitespace() || previous == ';') => {
                return &line[..i];
            }
            _ => {}
        }
        previous = c;
    }
    line
}

/// Whether `name` is a module name: `Foo`, `Foo::Bar_2`.
fn is_module_name(name: &str) -> bool {
    // A part after the first may start with a digit (`Encode::KR::2022_KR`).
    name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name.split("::").all(|part| {
            !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
}

/// The bareword at the start of `text`: a module name or a keyword.
fn bareword(text: &str) -> &str {
    let end = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
        .unwrap_or(text.len());
    &text[..end]
}

/// The quoted strings and `qw` words of `list` (the rest of a `use parent`
/// statement).
fn listed_names(list: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = list;
    while let Some(i) = rest.find(['\'', '"', 'q']) {
        let c = rest.as_bytes()[i];
        if c == b'q' {
            let after = &rest[i + 1..];
            let word_before = rest[..i]
                .chars()
                .last()
                .is_some_and(|b| b.is_ascii_alphanumeric() || b == '_');
            if !word_before && after.starts_with('w') {
                let after = after[1..].trim_start();
                if let Some(open) = after.chars().next().filter(|o| !o.is_alphanumeric()) {
                    let close = match open {
                        '(' => ')',
                        '[' => ']',
                        '{' => '}',
                        '<' => '>',
                        other => other,
                    };
                    if let Some(end) = after[open.len_utf8()..].find(close) {
                        let words = &after[open.len_utf8()..open.len_utf8() + end];
                        names.extend(words.split_whitespace().map(str::to_owned));
                        rest = &after[open.len_utf8() + end + close.len_utf8()..];
                        continue;
                    }
                }
            }
            rest = &rest[i + 1..];
            continue;
        }
        let quote = c as char;
        let after = &rest[i + 1..];
        match after.find(quote) {
            Some(end) => {
                names.push(after[..end].to_owned());
                rest = &after[end + 1..];
            }
            None => break,
        }
    }
    names
}

/// A quoted namespace the code completes at run time: `"Dancer2::Serializer::$type"`,
/// `'Template::Plugin::' . $name`, and two levels down, `"Dancer2::${type}::${name}"`.
static NAMESPACE: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(r#"['"]([A-Za-z_]\w*(?:::\w+)*)((?:::\$\{?\w+\}?)+|::['"]\s*\.)"#)
        .expect("a valid pattern")
});

/// File::ShareDir's lookups by a literal distribution or module name.
static SHARE_DIR: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(
        r#"\b(dist_dir|dist_file|module_dir|module_file)\s*\(\s*['"]([A-Za-z_][\w:-]*)['"]"#,
    )
    .expect("a valid pattern")
});

/// What `source` loads, in order found.
pub fn loads(source: &str) -> Vec<Load> {
    let code = code(source);
    let mut found = Vec::new();
    for statement in code.split(';') {
        let mut rest = statement;
        while let Some(i) = rest.find(['u', 'n', 'r']) {
            let before = rest[..i].chars().last();
            let tail = &rest[i..];
            rest = &rest[i + 1..];
            // A keyword, not part of a word, a method (`->require`), a variable or
            // a package-qualified name.
            if before.is_some_and(|c| {
                c.is_ascii_alphanumeric() || matches!(c, '_' | ':' | '>' | '$' | '@' | '%' | '&')
            }) {
                continue;
            }
            let keyword = bareword(tail);
            if !matches!(keyword, "use" | "no" | "require") {
                continue;
            }
            let args = tail[keyword.len()..].trim_start();
            if args.len() == tail.len() - keyword.len() && !args.is_empty() {
                // `user`, `required`: the bareword was longer; `use(`: not a load.
                continue;
            }
            if keyword == "require"
                && let Some(quote) = args.chars().next().filter(|c| *c == '"' || *c == '\'')
            {
                if let Some(end) = args[1..].find(quote) {
                    let file = &args[1..1 + end];
                    if !file.is_empty() && !file.contains('$') && !file.contains('@') {
                        found.push(Load::File(file.to_owned()));
                    }
                }
                continue;
            }
            let name = bareword(args);
            // `use v5.36`: a version, not a module.
            let version =
                name.starts_with('v') && name[1..].starts_with(|c: char| c.is_ascii_digit());
            if !is_module_name(name) || version {
                continue;
            }
            if keyword != "require" && matches!(name, "parent" | "base") {
                let list = &args[name.len()..];
                if !list.contains("-norequire") {
                    for class in listed_names(list) {
                        if is_module_name(&class) {
                            found.push(Load::Module(class));
                        }
                    }
                }
            }
            found.push(Load::Module(name.to_owned()));
        }
    }
    for quoted in QUOTED_MODULE.captures_iter(&code) {
        found.push(Load::Module(quoted[1].to_owned()));
    }
    for share in SHARE_DIR.captures_iter(&code) {
        let kind = if share[1].starts_with("dist") {
            "dist"
        } else {
            "module"
        };
        // A module's directory is named by the module with `::` as `-`.
        found.push(Load::ShareDir(format!(
            "{kind}/{}",
            share[2].replace("::", "-")
        )));
    }
    for namespace in NAMESPACE.captures_iter(&code) {
        let levels = namespace[2].matches("::").count();
        found.push(Load::Namespace(namespace[1].to_owned(), levels));
    }
    found
}

/// The directories of `@INC` in the image: Debian's (`/etc/perl`, `perl5`,
/// `perl-base`, `perl/5.36`, `share/perl/5.36.0`), the `core_perl`, `site_perl` and
/// `vendor_perl` trees of Alpine, Fedora and the official perl image, and `extra` (the app's
/// directories and `PERL5LIB`).
pub fn inc(index: &FileIndex, extra: &[String]) -> Vec<String> {
    let mut roots: BTreeSet<String> = BTreeSet::new();
    for (path, node) in &index.nodes {
        if node.kind == EntryKind::File {
            continue;
        }
        let name = pare_image::path::file_name(path);
        let parent = pare_image::path::parent(path);
        let parent_name = pare_image::path::file_name(parent);
        let versioned =
            name.starts_with("5.") && name[2..].chars().all(|c| c.is_ascii_digit() || c == '.');
        let arch = name.ends_with("-linux") || name.contains("-linux-");
        let perl_tree = |n: &str| {
            matches!(
                n,
                "perl" | "perl5" | "site_perl" | "vendor_perl" | "core_perl"
            )
        };
        let root = path == "/etc/perl"
            || name == "perl-base"
            || (matches!(name, "perl5" | "site_perl" | "vendor_perl" | "core_perl")
                && (parent.starts_with("/usr") || parent == "/usr"))
            || (versioned && perl_tree(parent_name))
            || (arch && (perl_tree(parent_name) || parent_name.starts_with("5.")));
        if root {
            roots.insert(path.clone());
        }
    }
    roots.extend(extra.iter().cloned());
    roots.into_iter().collect()
}

/// The files of module `name` in `roots`, as the image resolves them: every root's,
/// since the order of `@INC` is perl's to know (a dual-life module Debian updated
/// is in `/usr/share/perl5` and in the core's directory, and perl takes the first).
fn find_module(index: &FileIndex, roots: &[String], name: &str) -> Vec<String> {
    let relative = format!("{}.pm", name.replace("::", "/"));
    find_file(index, roots, &relative)
}

fn find_file(index: &FileIndex, roots: &[String], relative: &str) -> Vec<String> {
    if relative.starts_with('/') {
        return resolved(index, relative).into_iter().collect();
    }
    roots
        .iter()
        .filter_map(|root| resolved(index, &pare_image::path::join(root, relative)))
        .collect()
}

fn resolved(index: &FileIndex, path: &str) -> Option<String> {
    if !is_file(index, path) {
        return None;
    }
    index.resolve(path).map(|(target, _)| target)
}

/// The files of module `name`'s `auto` directory (its shared object, `.bs` and
/// autosplit `.al`/`.ix` files), in every root: `XSLoader` searches `@INC` for them
/// apart from the `.pm`.
fn auto_files(index: &FileIndex, roots: &[String], name: &str) -> Vec<String> {
    let dir = format!("auto/{}", name.replace("::", "/"));
    files_in_every_root(index, roots, &dir, |below| !below.contains('/'))
}

/// The modules at least `levels` down in namespace `prefix`, in every root.
fn namespace_modules(
    index: &FileIndex,
    roots: &[String],
    prefix: &str,
    levels: usize,
) -> Vec<String> {
    files_in_every_root(index, roots, &prefix.replace("::", "/"), |below| {
        below.ends_with(".pm") && below.matches('/').count() + 1 >= levels
    })
}

/// The files below directory `dir` of each root (as the image resolves it) whose
/// path below it passes `wanted`.
fn files_in_every_root(
    index: &FileIndex,
    roots: &[String],
    dir: &str,
    wanted: impl Fn(&str) -> bool,
) -> Vec<String> {
    roots
        .iter()
        .flat_map(|root| super::files_below(index, &pare_image::path::join(root, dir), &wanted))
        .collect()
}

/// Every file reachable by literal loads from `start`, not including `start`.
pub fn closure(index: &FileIndex, roots: &[String], start: &BTreeSet<String>) -> BTreeSet<String> {
    super::walk(index, start, is_source, |file, source, _| {
        let mut reached = Vec::new();
        for load in loads(source) {
            match load {
                Load::Module(name) => {
                    let found = find_module(index, roots, &name);
                    if !found.is_empty() {
                        reached.extend(found);
                        reached.extend(auto_files(index, roots, &name));
                    }
                }
                Load::ShareDir(dir) => {
                    let dir = format!("auto/share/{dir}");
                    reached.extend(files_in_every_root(index, roots, &dir, |_| true));
                }
                Load::Namespace(prefix, levels) => {
                    reached.extend(namespace_modules(index, roots, &prefix, levels));
                }
                Load::File(relative) => {
                    // `require "lib.pl"` searches `@INC`; `./` and `../` the
                    // directory the process runs in, taken as the file's own.
                    let path = if relative.starts_with("./") || relative.starts_with("../") {
                        pare_image::path::normalize(&pare_image::path::join(
                            pare_image::path::parent(file),
                            &relative,
                        ))
                        .ok()
                        .and_then(|p| resolved(index, &p))
                        .into_iter()
                        .collect()
                    } else {
                        find_file(index, roots, &relative)
                    };
                    reached.extend(path);
                }
            }
        }
        reached
    })
}

#[cfg(test)]
mod tests {
    use super::Load::{File, Module, Namespace, ShareDir};

    #[test]
    fn finds_uses_requires_parents_and_quoted_module_names() {
        let source = "package Shop;\nuse strict;\nuse 5.010;\nuse v5.36;\nuse Dancer2;\n\
                      use parent -norequire, 'Not::Loaded';\nuse base qw(Exporter Base::Class);\n\
                      use parent 'Plack::Component';\nno warnings 'once';\n\
                      # use Commented::Out;\nmy $user = 1; $x->require; Foo::use(1); # use Trailing::Comment\n\
                      require Digest::SHA;\neval { require IO::Socket::SSL; 1 } or die;\nrequire \"shop/helpers.pl\";\nrequire $file;\n\
                      require_module('Template::Tiny');\nmy %p = (date => 'Template::Plugin::Date');\n\
                      print \"Can't find Not::A::Module here\";\n\
                      my $class = \"Dancer2::Serializer::$type\";\nmy $p = 'Template::Plugin::' . $name;\n\
                      my $c = \"Dancer2::${type}::${name}\";\n\
                      use Encode::KR::2022_KR;\nmy $f = dist_file('DateTime-Locale', $code . '.pl');\n\
                      =head1 SYNOPSIS\n\n  use Pod::Only;\n\n=cut\nuse Encode ();\n\
                      __END__\nuse After::End;\n";
        let loads = super::loads(source);
        for name in [
            "strict",
            "Dancer2",
            "Exporter",
            "Base::Class",
            "Plack::Component",
            "warnings",
            "Digest::SHA",
            "Encode",
            "Template::Tiny",
            "Template::Plugin::Date",
            "IO::Socket::SSL",
        ] {
            assert!(loads.contains(&Module(name.into())), "{name}: {loads:?}");
        }
        for name in [
            "v5",
            "5",
            "Commented::Out",
            "Pod::Only",
            "After::End",
            "Not::A::Module",
            "Trailing::Comment",
        ] {
            assert!(!loads.contains(&Module(name.into())), "{name}: {loads:?}");
        }
        for word in ["user", "Foo", "require", "file"] {
            assert!(!loads.contains(&Module(word.into())), "{word}: {loads:?}");
        }
        assert!(loads.contains(&Namespace("Dancer2::Serializer".into(), 1)));
        assert!(loads.contains(&Namespace("Template::Plugin".into(), 1)));
        assert!(loads.contains(&Namespace("Dancer2".into(), 2)));
        assert!(loads.contains(&Module("Encode::KR::2022_KR".into())));
        assert!(loads.contains(&ShareDir("dist/DateTime-Locale".into())));
        assert!(!loads.contains(&Namespace("Dancer2".into(), 1)));
        assert!(loads.contains(&File("shop/helpers.pl".into())));
        assert_eq!(loads.iter().filter(|l| matches!(l, File(_))).count(), 1);
    }

    /// `@INC` of Debian, Alpine and the official perl image, found from the
    /// directories alone; not a directory merely named like a version.
    #[test]
    fn inc_is_found_in_debian_alpine_and_the_official_image() {
        use pare_image::testutil::{TarItem, tar_of};
        let dirs = [
            "etc/perl/",
            "usr/lib/x86_64-linux-gnu/perl-base/",
            "usr/lib/x86_64-linux-gnu/perl/5.36.0/",
            "usr/lib/x86_64-linux-gnu/perl5/5.36/",
            "usr/share/perl/5.36.0/",
            "usr/share/perl5/",
            "usr/share/perl5/core_perl/",
            "usr/lib/perl5/vendor_perl/",
            "usr/local/lib/perl5/5.38.0/x86_64-linux-gnu/",
            "usr/local/lib/perl5/site_perl/5.38.0/",
            "opt/app/5.1/",
        ];
        let mut all = std::collections::BTreeSet::new();
        for dir in dirs {
            let mut at = String::new();
            for part in dir.trim_end_matches('/').split('/') {
                at.push_str(part);
                at.push('/');
                all.insert(at.clone());
            }
        }
        let items: Vec<TarItem> = all.iter().map(|d| TarItem::dir(d)).collect();
        let options = pare_image::layer::ReadOptions::default();
        let layer = pare_image::layer::read_layer(
            &tar_of(&items)[..],
            "t",
            &pare_image::layer::Expected::default(),
            &options,
        )
        .unwrap();
        let index = pare_image::FileIndex::build([layer]);
        let inc = super::inc(&index, &["/app/lib".to_owned()]);
        for dir in dirs
            .iter()
            .filter(|d| !d.starts_with("opt/"))
            .map(|d| format!("/{}", d.trim_end_matches('/')))
            .chain([
                "/app/lib".to_owned(),
                "/usr/local/lib/perl5/5.38.0".to_owned(),
            ])
        {
            assert!(inc.contains(&dir), "{dir}: {inc:?}");
        }
        assert!(!inc.iter().any(|d| d.starts_with("/opt")), "{inc:?}");
    }
}
