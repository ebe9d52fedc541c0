//! Ruby's static require closure: `require`, `require_relative`, `load` and
//! `autoload` with a literal name, resolved against the image's `$LOAD_PATH` as
//! Debian's and RubyGems' layouts make it (the standard library, `vendor_ruby`,
//! `site_ruby`, the arch directories, and each installed gem's `lib`), transitively.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use pare_image::{EntryKind, FileIndex};

use super::is_file;

/// A quoted feature name with a directory (`'tilt/kramdown'`): what a table of
/// lazily required files names (Tilt's `register_lazy :KramdownTemplate,
/// 'tilt/kramdown', 'markdown'`), required when a template of that kind is first
/// rendered. It counts only when such a file is on the load path.
static FEATURE: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(r#"['"]([a-z_][a-z0-9_]*(?:/[a-z0-9_]+)+)['"]"#).expect("a valid pattern")
});

/// A glob of the Ruby files of a directory beside the file, required one by one:
/// Liquid's `Dir["#{__dir__}/liquid/tags/*.rb"].each { |f| require f }`.
static DIR_GLOB: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(
        r##"Dir(?:\.glob)?\s*[\[(]\s*"#\{(?:__dir__|File\.dirname\(__FILE__\))\}/([\w/.-]+)/\*\.rb""##,
    )
    .expect("a valid pattern")
});

/// The directories, relative to the file, whose Ruby files `source` requires by a
/// glob (see [`DIR_GLOB`]).
pub fn globbed_dirs(source: &str) -> Vec<String> {
    source
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .flat_map(|l| DIR_GLOB.captures_iter(l).map(|c| c[1].to_owned()))
        .collect()
}

/// The quoted feature names with a directory of `source`'s code (see [`FEATURE`]).
pub fn features(source: &str) -> Vec<String> {
    source
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .flat_map(|l| FEATURE.captures_iter(l).map(|c| c[1].to_owned()))
        .collect()
}

/// A literal require: `(relative, name)`.
pub fn requires(source: &str) -> Vec<(bool, String)> {
    let mut found = Vec::new();
    for line in source.lines() {
        let t = line.trim_start();
        if t.starts_with('#') {
            continue;
        }

        for (call, relative) in [
            ("require_relative", true),
            ("require", false),
            ("load", false),
            ("autoload", false),
        ] {
            let mut rest = t;
            while let Some(i) = rest.find(call) {
                let before = rest[..i].chars().last();
                rest = &rest[i + call.len()..];
                if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.') {
                    continue;
                }
                if call == "require" && rest.starts_with("_relative") {
                    continue;
                }
                let mut args = rest.trim_start().trim_start_matches('(').trim_start();
                if call == "autoload" {
                    // autoload :Name, "path"
                    match args.split_once(',') {
                        Some((_, tail)) => args = tail.trim_start(),
                        None => continue,
                    }
                }
                if let Some(name) = quoted(args) {
                    found.push((relative, name));
                } else if let Some(dir) = interpolated_dir(args) {
                    // `require "tilt/#{engine}"`: any file of that directory.
                    found.push((relative, format!("{dir}/*")));
                }
            }
        }
    }
    found
}

fn quoted(text: &str) -> Option<String> {
    let quote = text.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let end = text[1..].find(quote)?;
    let name = &text[1..1 + end];
    (!name.is_empty() && !name.contains("#{")).then(|| name.to_owned())
}

/// The directory of a double-quoted name that interpolates its last part:
/// `"rack/handler/#{name}"` is `rack/handler`.
fn interpolated_dir(text: &str) -> Option<String> {
    let rest = text.strip_prefix('"')?;
    let at = rest.find("#{")?;
    let dir = rest[..at].strip_suffix('/')?;
    let end = rest.find('"')?;
    // One interpolated part, the file's name, and nothing after it.
    let tail = &rest[at..end];
    let simple = tail.ends_with('}') && tail.matches("#{").count() == 1 && !tail.contains('/');
    (!dir.is_empty() && !dir.contains("#{") && simple).then(|| dir.to_owned())
}

/// The data files and directories an installed gem's code (or the app's) names
/// beside itself (see [`super::data_beside`]): Liquid's `File.join(__dir__,
/// "locales", "en.yml")`.
pub fn data_beside(index: &FileIndex, app_dirs: &[String], file: &str) -> Vec<String> {
    if !is_gem_or_app(app_dirs, file) || !super::has_data_beside(index, file) {
        return Vec::new();
    }
    let Some((_, node)) = index.resolve(file) else {
        return Vec::new();
    };
    let Some(source) = node.content.as_deref().map(String::from_utf8_lossy) else {
        return Vec::new();
    };
    let literals: Vec<String> = source
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .flat_map(super::quoted_literals)
        .map(str::to_owned)
        .collect();
    super::data_beside(index, file, literals.iter().map(String::as_str))
}

/// Whether `file` is an installed gem's code (RubyGems' `gems/`, Debian's
/// `vendor_ruby`) or the app's: where lazily required features and data are named
/// for the app's use. Not Ruby's own library, whose RubyGems, Bundler and RDoc name
/// their internals and data for their commands, which an app does not run.
fn is_gem_or_app(app_dirs: &[String], file: &str) -> bool {
    // Debian installs RubyGems itself in `vendor_ruby`.
    let tooling = ["/rubygems", "/bundler"].iter().any(|d| file.contains(d));
    (["/gems/", "/vendor_ruby/"].iter().any(|d| file.contains(d)) && !tooling)
        || app_dirs
            .iter()
            .any(|d| pare_image::path::is_within(file, d))
}

/// The directories of `$LOAD_PATH` in the image.
pub fn load_path(index: &FileIndex, extra: &[String]) -> Vec<String> {
    let mut roots: BTreeSet<String> = BTreeSet::new();
    for (path, node) in &index.nodes {
        if node.kind != EntryKind::Dir {
            continue;
        }
        let name = pare_image::path::file_name(path);
        let parent = pare_image::path::parent(path);
        let parent_name = pare_image::path::file_name(parent);
        let versioned = name.chars().next().is_some_and(|c| c.is_ascii_digit())
            && name.chars().all(|c| c.is_ascii_digit() || c == '.');
        let ruby_dir =
            parent_name == "ruby" && (versioned || name == "vendor_ruby" || name == "site_ruby");
        let arch_dir =
            versioned && pare_image::path::file_name(pare_image::path::parent(parent)) == "ruby";
        let gem_lib = name == "lib"
            && pare_image::path::file_name(pare_image::path::parent(parent)) == "gems";
        // A gem's compiled extensions: `extensions/x86_64-linux/3.1.0/haml-6.1.1`
        // (haml's `require 'haml/haml'` finds `haml/haml.so` there).
        let gem_extensions =
            pare_image::path::file_name(pare_image::path::parent(pare_image::path::parent(parent)))
                == "extensions"
                && parent_name
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_digit());
        if ruby_dir || arch_dir || gem_lib || gem_extensions {
            roots.insert(path.clone());
        }
    }
    // The arch subdirectories (`3.1.0/x86_64-linux`) hold the compiled extensions.
    let arch: Vec<String> = roots
        .iter()
        .flat_map(|r| {
            index
                .descendants(r)
                .filter(|(p, n)| {
                    n.kind == EntryKind::Dir
                        && pare_image::path::parent(p) == r.as_str()
                        && pare_image::path::file_name(p).ends_with("-linux")
                })
                .map(|(p, _)| p.clone())
                .collect::<Vec<_>>()
        })
        .collect();
    roots.extend(arch);
    roots.extend(extra.iter().cloned());
    roots.into_iter().collect()
}

fn resolve(
    index: &FileIndex,
    roots: &[String],
    file: &str,
    relative: bool,
    name: &str,
) -> Option<String> {
    let bases: Vec<String> = if relative {
        vec![
            pare_image::path::normalize(&pare_image::path::join(
                pare_image::path::parent(file),
                name,
            ))
            .ok()?,
        ]
    } else if name.starts_with('/') {
        vec![name.to_owned()]
    } else {
        roots
            .iter()
            .map(|r| pare_image::path::join(r, name))
            .collect()
    };
    for base in bases {
        for ext in [".rb", ".so", ""] {
            let candidate = format!("{base}{ext}");
            if is_file(index, &candidate) {
                return Some(candidate);
            }
        }
    }
    None
}

/// The `.rb` files directly in `dir` (relative to `file`'s directory, or in each root).
fn directory(
    index: &FileIndex,
    roots: &[String],
    file: &str,
    relative: bool,
    dir: &str,
) -> Vec<String> {
    let bases: Vec<String> = if relative {
        pare_image::path::normalize(&pare_image::path::join(pare_image::path::parent(file), dir))
            .into_iter()
            .collect()
    } else {
        roots
            .iter()
            .map(|r| pare_image::path::join(r, dir))
            .collect()
    };
    bases
        .iter()
        .flat_map(|base| {
            super::files_below(index, base, |below| {
                below.ends_with(".rb") && !below.contains('/')
            })
        })
        .collect()
}

/// Every file reachable by literal requires from `start`, not including `start`; a
/// require of a name interpolated into a directory's (`"tilt/#{engine}"`) reaches
/// each file of that directory, and a quoted feature name with a directory
/// (`'tilt/kramdown'` in Tilt's table of lazily required engines) its file.
pub fn closure(
    index: &FileIndex,
    roots: &[String],
    app_dirs: &[String],
    start: &BTreeSet<String>,
) -> BTreeSet<String> {
    super::walk(
        index,
        start,
        |path| path.ends_with(".rb"),
        |file, source, _| {
            let mut found = Vec::new();
            for (relative, name) in requires(source) {
                match name.strip_suffix("/*") {
                    Some(dir) => found.extend(directory(index, roots, file, relative, dir)),
                    None => found.extend(resolve(index, roots, file, relative, &name)),
                }
            }
            for dir in globbed_dirs(source) {
                found.extend(directory(index, roots, file, true, &dir));
            }
            // A feature named in a table is a `.rb` on the load path, not the `.so`
            // or the directory a literal require may also name; in a gem's code or
            // the app's.
            let tables = if is_gem_or_app(app_dirs, file) {
                features(source)
            } else {
                Vec::new()
            };
            for name in tables {
                found.extend(
                    resolve(index, roots, file, false, &name).filter(|p| p.ends_with(".rb")),
                );
            }
            found
        },
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn finds_globbed_requires_of_a_directory_beside_the_file() {
        let source = "Dir[\"#{__dir__}/liquid/tags/*.rb\"].each { |f| require f }\n\
                      Dir.glob(\"#{File.dirname(__FILE__)}/plugins/*.rb\").each { |f| load f }\n\
                      # Dir[\"#{__dir__}/commented/*.rb\"]\n";
        assert_eq!(super::globbed_dirs(source), ["liquid/tags", "plugins"]);
    }

    #[test]
    fn finds_feature_names_in_tables() {
        let source = "register_lazy :KramdownTemplate, 'tilt/kramdown', 'markdown', 'md'\n\
                      # register_lazy :X, 'tilt/commented'\n\
                      content_type 'text/html'\nx = \"a/b c\"\n";
        assert_eq!(super::features(source), ["tilt/kramdown", "text/html"]);
    }

    #[test]
    fn finds_literal_requires() {
        let source = "require 'rack/multipart'\nrequire_relative \"views/helper\"\n\
                      autoload :Parser, 'rack/multipart/parser'\n# require 'commented'\n\
                      x.require 'method_call'\nrequire(name)\n\
                      require \"rack/handler/#{name}\"\nrequire \"#{dir}/x\"\n\
                      require \"a/#{b}/#{c}\"\n";
        assert_eq!(
            super::requires(source),
            [
                (false, "rack/multipart".to_owned()),
                (true, "views/helper".to_owned()),
                (false, "rack/multipart/parser".to_owned()),
                (false, "rack/handler/*".to_owned()),
            ]
        );
    }
}
