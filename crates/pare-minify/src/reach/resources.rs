//! Resource sets: directories whose members are loaded by name at run time, one
//! request at a time, so that the trace sees only the members the probes asked for.
//! When one member was used, the whole set is kept: a framework package's
//! `templates/` and `static/`, the time zone database, glibc's gconv modules, Python's
//! codecs, plugin directories (ImageMagick's coders, GDK's loaders, …: shared
//! objects that were `dlopen`ed from outside the library directories), the
//! configuration directories a program searches for its files by name (ImageMagick's
//! `colors.xml`, `type.xml` and message catalogues, read only when a named colour, a
//! font or an error needs them), fontconfig's configuration and fonts (read at the
//! first text drawn), and every installed Python distribution's metadata once
//! `importlib.metadata` or `pkg_resources` is kept (read by distribution name).

use std::collections::{BTreeMap, BTreeSet};

use pare_image::{EntryKind, FileIndex};

use super::is_dir;

/// A directory kept whole, and why.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Set {
    pub dir: String,
    pub why: &'static str,
    /// Only the files directly in `dir`, not its subdirectories.
    pub shallow: bool,
}

/// Directories ld.so searches: what is found there is a library, not a plugin.
pub(super) const LIBRARY_DIRS: [&str; 8] = [
    "/lib",
    "/lib64",
    "/usr/lib",
    "/usr/lib64",
    "/usr/local/lib",
    "/lib/x86_64-linux-gnu",
    "/usr/lib/x86_64-linux-gnu",
    "/usr/lib/aarch64-linux-gnu",
];

/// Directories whose members are modules found by an interpreter's import system,
/// which the import closures handle file by file.
const MODULE_DIRS: [&str; 6] = [
    "/site-packages",
    "/dist-packages",
    "/lib-dynload",
    "/node_modules",
    "/ruby/",
    "/nodejs/",
];

/// Subdirectories of a kept package whose members the package finds by name at run
/// time: a Django app's templates, static files, message catalogues (one language per
/// request's `Accept-Language`, with its `formats.py`), management commands and
/// migrations (listed by `manage.py`, which no HTTP probe runs). Not any `commands/`:
/// RubyGems' and pip's are their own CLIs', which the app does not run.
const PACKAGE_SETS: [(&str, &str); 5] = [
    ("templates", "a kept package's templates or static files"),
    ("static", "a kept package's templates or static files"),
    (
        "locale",
        "a kept package's message catalogues, one per language",
    ),
    (
        "management/commands",
        "a kept package's commands, loaded by name",
    ),
    ("migrations", "a kept package's migrations, loaded by name"),
];

/// Kinds of configuration file a program looks up by name in its directories.
const CONFIG_KINDS: [&str; 9] = [
    ".xml",
    ".conf",
    ".cfg",
    ".ini",
    ".json",
    ".yaml",
    ".yml",
    ".toml",
    ".properties",
];

/// Directories many programs share: a program's lookups there say nothing about the
/// other files.
const SHARED_DIRS: [&str; 15] = [
    "/etc",
    "/usr/share",
    "/usr/lib",
    // Programs' own directories: PHP looks up php.ini and php-fpm-fcgi.ini beside
    // its binary, which says nothing about the other programs there.
    "/usr/bin",
    "/usr/sbin",
    "/bin",
    "/sbin",
    "/usr/local/bin",
    "/usr/local/sbin",
    "/usr/local/etc",
    "/usr/local/share",
    "/usr/local/lib",
    "/var/lib",
    "/opt",
    "/root",
];

/// Where fontconfig finds its configuration, its fonts and their cache.
const FONTCONFIG_DIRS: [&str; 5] = [
    "/etc/fonts",
    "/usr/share/fontconfig",
    "/usr/share/fonts",
    "/usr/local/share/fonts",
    "/var/cache/fontconfig",
];

/// The resource sets of which `used` holds a member; `looked_up` is every path the
/// app named, found or not (a search path shows in the names it did not find).
pub fn sets(
    index: &FileIndex,
    used: &BTreeSet<String>,
    looked_up: &BTreeSet<String>,
    tz_env: bool,
) -> BTreeSet<Set> {
    let mut sets = config_dirs(index, used, looked_up);
    let mut plugin_dirs: BTreeMap<&str, usize> = BTreeMap::new();
    for path in used {
        let dir = pare_image::path::parent(path);
        if is_source(path) {
            for (sub, why) in PACKAGE_SETS {
                let candidate = pare_image::path::join(dir, sub);
                if is_dir(index, &candidate) {
                    sets.insert(Set {
                        dir: candidate,
                        why,
                        shallow: false,
                    });
                }
            }
        }
        let zone_read =
            path.starts_with("/usr/share/zoneinfo/") || path == "/etc/localtime" || tz_env;
        if zone_read && is_dir(index, "/usr/share/zoneinfo") {
            sets.insert(Set {
                dir: "/usr/share/zoneinfo".into(),
                why: "the time zone database",
                shallow: false,
            });
        }
        if let Some(i) = path.find("/tzdata/zoneinfo/") {
            sets.insert(Set {
                dir: path[..i + "/tzdata/zoneinfo".len()].to_owned(),
                why: "the time zone database",
                shallow: false,
            });
        }
        // The converters' cache is read by every iconv_open; a converter module
        // loaded means the app converts character sets, and may ask for another.
        if pare_image::path::file_name(dir) == "gconv" && path.ends_with(".so") {
            sets.insert(Set {
                dir: dir.to_owned(),
                why: "glibc's character set converters",
                shallow: false,
            });
        }
        if pare_image::path::file_name(dir) == "encodings" && path.ends_with(".py") {
            sets.insert(Set {
                dir: dir.to_owned(),
                why: "Python's codecs",
                shallow: false,
            });
        }
        // Ruby loads `enc/encdb.so` and `enc/trans/transdb.so` at start, and an
        // encoding's or a transcoder's shared object at its first use by name.
        if let Some(i) = path.find("/enc/")
            && path.contains("/ruby/")
            && path.ends_with(".so")
        {
            sets.insert(Set {
                dir: path[..i + "/enc".len()].to_owned(),
                why: "Ruby's encodings and transcoders",
                shallow: false,
            });
        }
        if crate::keep_set::looks_like_library(path)
            && !LIBRARY_DIRS.contains(&dir)
            && !MODULE_DIRS
                .iter()
                .any(|m| dir.contains(m) || dir.ends_with(m.trim_end_matches('/')))
        {
            *plugin_dirs.entry(dir).or_default() += 1;
        }
    }
    let fontconfig = used
        .iter()
        .any(|p| pare_image::path::file_name(p).starts_with("libfontconfig.so"));
    if fontconfig {
        for dir in FONTCONFIG_DIRS.iter().filter(|d| is_dir(index, d)) {
            sets.insert(Set {
                dir: (*dir).to_owned(),
                why: "fontconfig's configuration and fonts, read at the first text drawn",
                shallow: false,
            });
        }
    }
    for (dir, _) in plugin_dirs {
        let objects = index
            .descendants(dir)
            .filter(|(p, n)| {
                n.kind == EntryKind::File
                    && pare_image::path::parent(p) == dir
                    && pare_image::path::file_name(p).ends_with(".so")
            })
            .count();
        // One shared object alone in its directory is a library with a private
        // path, not a set of plugins.
        if objects >= 2 {
            sets.insert(Set {
                dir: dir.to_owned(),
                why: "a plugin directory one of whose plugins was loaded",
                shallow: false,
            });
        }
    }
    sets
}

/// Directories where the app looked up two or more configuration files of one kind
/// by name (found or not): it looks up the others there too when a feature needs
/// them. Their files, not their subdirectories.
fn config_dirs(
    index: &FileIndex,
    used: &BTreeSet<String>,
    looked_up: &BTreeSet<String>,
) -> BTreeSet<Set> {
    let mut names: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for path in used.iter().chain(looked_up.difference(used)) {
        let Some(kind) = CONFIG_KINDS.iter().find(|k| path.ends_with(*k)) else {
            continue;
        };
        let dir = pare_image::path::parent(path);
        let shared = dir.matches('/').count() < 2
            || SHARED_DIRS.contains(&dir)
            || LIBRARY_DIRS.contains(&dir)
            || MODULE_DIRS
                .iter()
                .any(|m| dir.contains(m.trim_end_matches('/')))
            || ["/proc/", "/sys/", "/dev/", "/tmp/", "/run/"]
                .iter()
                .any(|p| dir.starts_with(p));
        if !shared {
            *names.entry((dir, kind)).or_default() += 1;
        }
    }
    names
        .into_iter()
        .filter(|((dir, _), n)| *n >= 2 && is_dir(index, dir))
        .map(|((dir, _), _)| Set {
            dir: dir.to_owned(),
            why: "a configuration directory the app looks up files in by name",
            shallow: true,
        })
        .collect()
}

fn is_source(path: &str) -> bool {
    [".py", ".rb", ".js", ".php"]
        .iter()
        .any(|e| path.ends_with(e))
}
