//! What the slim image keeps beyond the trace: the paths the app can reach without
//! the probes having reached them. The probes prove the paths they hit; this
//! protects the paths they did not — a 404 page whose template no probe rendered, a
//! module imported inside the function that handles a form post, the coder of an
//! output format nobody asked for during the build.
//!
//! Five rules, each reported under its own [`Reason`]:
//! - the app's own files ([`Reason::AppFile`]): what the image's COPY/ADD layers put
//!   there, the files of the app's directories no package owns, and the directories
//!   an app server is configured to serve ([`served`]);
//! - the static import closure of kept interpreted code ([`Reason::Imported`]):
//!   [`python`], [`node`], [`ruby`], [`php`], [`perl`];
//! - resource sets of which one member was used ([`Reason::ResourceSet`],
//!   [`resources`]), and the metadata of the Python distributions the app can ask
//!   about ([`distributions`]);
//! - the directories the app may write its state into ([`Reason::StateDir`],
//!   [`state`]);
//! - the other names of kept programs ([`Reason::Alias`]): the links in `bin` and
//!   `sbin` directories that lead to one, so that a second command (`docker exec …
//!   python`) finds the interpreter the app ran as `python3`.
//!
//! glibc's converters ([`converters`]) and the time zone database of a Go program
//! that loads zones by name ([`go`]) are resource sets found from what the kept
//! machine code holds, once the keep-set has settled and its bytes are loaded.

pub mod converters;
pub mod distributions;
pub mod go;
pub mod node;
pub mod perl;
pub mod php;
pub mod python;
pub mod resources;
pub mod ruby;
pub mod served;
pub mod state;

use std::collections::{BTreeMap, BTreeSet};

use pare_image::{EntryKind, FileIndex};

use crate::keep_set::Reason;

/// How much beyond the trace the slim image keeps (`--keep`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeepMode {
    /// What the trace saw and what the app can reach from it (the default).
    #[default]
    Reachable,
    /// Only what the trace saw and what loading it needs: the smallest image, proven
    /// only on the probed paths.
    Traced,
}

/// What the image tells about where the app is.
#[derive(Clone, Debug, Default)]
pub struct AppLayout {
    /// Layers made by COPY or ADD (0-based).
    pub copy_layers: BTreeSet<usize>,
    /// Files a distribution package (deb, apk, rpm) owns: the operating system's,
    /// even when a COPY or ADD layer put them there (the base image's own rootfs,
    /// `ADD file:… in /` of ubuntu and alpine, `COPY --from=build / /`).
    pub system_files: BTreeSet<String>,
    /// The app's own files in its directories that no package owns.
    pub app_files: Vec<String>,
    /// The app's directories (WORKDIR, the directories of its command line's files).
    pub app_dirs: Vec<String>,
    /// `PYTHONPATH`, `NODE_PATH`, `RUBYLIB` and `PERL5LIB` (or `PERLLIB`) of the
    /// image's environment.
    pub python_path: Vec<String>,
    pub node_path: Vec<String>,
    pub ruby_lib: Vec<String>,
    pub perl_lib: Vec<String>,
    /// `TZ` is set: the app reads a zone by name.
    pub tz_env: bool,
    /// Every path the trace saw the app name, found or not: the directories it
    /// searches show in the names it did not find there.
    pub looked_up: BTreeSet<String>,
}

/// Whether the first read must load this file's bytes for [`reachable`].
pub fn wants_content(path: &str, size: u64) -> bool {
    let source = [".py", ".js", ".cjs", ".mjs", ".rb"]
        .iter()
        .any(|e| path.ends_with(e))
        || php::is_source(path)
        || perl::is_source(path);
    let requirements = pare_image::path::file_name(path).starts_with("requirements")
        && path.ends_with(".txt")
        && size < 64 * 1024;
    (source && size < 2 * 1024 * 1024)
        || served::is_config(path, size)
        || requirements
        || distributions::wants_content(path, size)
}

/// The paths reachable from `kept` (the traced keep-set), each with its reason.
/// Paths already in `kept` are not repeated.
pub fn reachable(
    index: &FileIndex,
    layout: &AppLayout,
    kept: &BTreeSet<String>,
) -> BTreeMap<String, Reason> {
    let mut reached: BTreeMap<String, Reason> = BTreeMap::new();
    let add = |reached: &mut BTreeMap<String, Reason>, path: &str, reason: Reason| {
        if !kept.contains(path) {
            reached.entry(path.to_owned()).or_insert(reason);
        }
    };

    for (path, node) in &index.nodes {
        // A copied `node_modules` or `site-packages` holds dependencies, not the
        // app: what of them the app uses the import closures find.
        let dependency = crate::keep_set::DEPENDENCY_DIRS
            .iter()
            .any(|d| path.contains(d));
        if node.kind != EntryKind::Dir
            && !dependency
            && layout.copy_layers.contains(&node.layer)
            && !is_system_file(layout, path)
        {
            add(&mut reached, path, Reason::AppFile);
        }
    }
    for path in &layout.app_files {
        add(&mut reached, path, Reason::AppFile);
    }
    let served = served::directories(index);
    for dir in &served {
        for (path, node) in index.descendants(dir) {
            if node.kind != EntryKind::Dir {
                add(&mut reached, path, Reason::AppFile);
            }
        }
    }
    for dir in state::directories(index) {
        add(&mut reached, &dir, Reason::StateDir);
    }

    let python_roots = python::search_roots(
        index,
        &[layout.python_path.clone(), layout.app_dirs.clone()].concat(),
    );
    let mut node_global: Vec<String> = layout.node_path.clone();
    node_global.extend(node::GLOBAL_FOLDERS.iter().map(|d| (*d).to_owned()));
    let ruby_roots = ruby::load_path(
        index,
        &[
            layout.ruby_lib.clone(),
            layout.app_dirs.clone(),
            layout
                .app_dirs
                .iter()
                .map(|d| pare_image::path::join(d, "lib"))
                .collect(),
        ]
        .concat(),
    );

    // A Perl app finds its own modules in `lib` beside its script's directory
    // (`use lib "$FindBin::Bin/../lib"`) or its working directory.
    let perl_roots = perl::inc(
        index,
        &[
            layout.perl_lib.clone(),
            layout
                .app_dirs
                .iter()
                .flat_map(|d| {
                    [
                        d.clone(),
                        pare_image::path::join(d, "lib"),
                        pare_image::path::join(pare_image::path::parent(d), "lib"),
                    ]
                })
                .collect(),
        ]
        .concat(),
    );

    // A PHP script runs in the app's directory or a served one (php-fpm's `chdir`).
    let php_work_dirs: Vec<String> = layout
        .app_dirs
        .iter()
        .cloned()
        .chain(served.iter().cloned())
        .collect();

    // Closures and sets feed each other (a set's modules import more; an imported
    // package has templates): repeat until nothing new, a few rounds at most.
    let mut done_sets: BTreeSet<String> = BTreeSet::new();
    let mut computed_scanned: BTreeSet<String> = BTreeSet::new();
    let mut python_plugins: BTreeSet<String> = BTreeSet::new();
    let mut python_walked: Option<(BTreeSet<String>, BTreeSet<String>)> = None;
    let mut python_known = python::Known::new();
    for _round in 0..4 {
        let all: BTreeSet<String> = kept.iter().chain(reached.keys()).cloned().collect();
        let before = reached.len();
        // What ran (the trace's), the app's own code and the modules of resource
        // sets (a command loaded by name is an entry point like a traced one):
        // their function-level imports are followed too (see [`python::closure`]).
        let python_start: BTreeSet<String> = kept
            .iter()
            .chain(
                reached
                    .iter()
                    .filter(|(_, r)| matches!(**r, Reason::AppFile | Reason::ResourceSet))
                    .map(|(p, _)| p),
            )
            .filter_map(|p| {
                if p.ends_with(".py") {
                    Some(p.clone())
                } else {
                    crate::keep_set::python_source_of(p)
                }
            })
            .collect();
        // The same start and plugins walk to the same files: a round that added
        // none skips the walk (the costliest part, a quarter second on flask).
        let python_input = (python_start, python_plugins.clone());
        if python_walked.as_ref() != Some(&python_input) {
            for path in python::closure(
                index,
                &python_roots,
                &layout.app_dirs,
                &python_input.0,
                &python_input.1,
                &mut python_known,
            ) {
                if !python::frozen_source(&path) {
                    add(&mut reached, &path, Reason::Imported);
                }
            }
            python_walked = Some(python_input);
        }
        // A package's plugins imported by a computed name are a set: kept whole,
        // and entry points of their own next round (their function-level imports
        // are followed, as a traced module's). So is the data a module names beside
        // itself.
        let python_sources: Vec<String> = kept
            .iter()
            .chain(reached.keys())
            .filter_map(|p| {
                if p.ends_with(".py") {
                    Some(p.clone())
                } else {
                    crate::keep_set::python_source_of(p)
                }
            })
            .filter(|p| !computed_scanned.contains(p))
            .collect();
        for file in python_sources {
            if let Some((real, node)) = index.resolve(&file)
                && let Some(source) = node.content.as_deref()
            {
                let source = String::from_utf8_lossy(source);
                for path in python::computed_submodules(
                    index,
                    &python_roots,
                    &layout.app_dirs,
                    &real,
                    &source,
                ) {
                    add(&mut reached, &path, Reason::ResourceSet);
                    python_plugins.insert(path);
                }
                for path in python::data_beside(index, &layout.app_dirs, &real, &source) {
                    add(&mut reached, &path, Reason::ResourceSet);
                }
            }
            computed_scanned.insert(file);
        }
        let node_start: BTreeSet<String> =
            all.iter().filter(|p| node::is_source(p)).cloned().collect();
        for path in node::closure(index, &node_global, &node_start) {
            add(&mut reached, &path, Reason::Imported);
        }
        let ruby_start: BTreeSet<String> =
            all.iter().filter(|p| p.ends_with(".rb")).cloned().collect();
        for path in ruby::closure(index, &ruby_roots, &layout.app_dirs, &ruby_start) {
            add(&mut reached, &path, Reason::Imported);
        }
        let ruby_sources: Vec<String> = kept
            .iter()
            .chain(reached.keys())
            .filter(|p| p.ends_with(".rb") && !computed_scanned.contains(*p))
            .cloned()
            .collect();
        for file in ruby_sources {
            for path in ruby::data_beside(index, &layout.app_dirs, &file) {
                add(&mut reached, &path, Reason::ResourceSet);
            }
            computed_scanned.insert(file);
        }
        let perl_start: BTreeSet<String> =
            all.iter().filter(|p| perl::is_source(p)).cloned().collect();
        for path in perl::closure(index, &perl_roots, &perl_start) {
            add(&mut reached, &path, Reason::Imported);
        }
        let php_start: BTreeSet<String> =
            all.iter().filter(|p| php::is_source(p)).cloned().collect();
        for path in php::closure(index, &php_work_dirs, &php_start) {
            add(&mut reached, &path, Reason::Imported);
        }
        let all: BTreeSet<String> = kept.iter().chain(reached.keys()).cloned().collect();
        for set in resources::sets(index, &all, &layout.looked_up, layout.tz_env) {
            if !done_sets.insert(set.dir.clone()) {
                continue;
            }
            for path in members(index, &set, layout.tz_env) {
                add(&mut reached, &path, Reason::ResourceSet);
            }
        }
        if reached.len() == before {
            break;
        }
    }
    // Once the code has settled: the metadata of the distributions it holds or the
    // app's code names.
    let all: BTreeSet<String> = kept.iter().chain(reached.keys()).cloned().collect();
    let app_sources: Vec<&str> = all
        .iter()
        .filter(|p| p.ends_with(".py") && !p.contains("-packages/"))
        .filter(|p| {
            reached.get(p.as_str()) == Some(&Reason::AppFile)
                || layout
                    .app_dirs
                    .iter()
                    .any(|d| pare_image::path::is_within(p, d))
        })
        .map(String::as_str)
        .collect();
    for path in distributions::kept_metadata(index, &all, &app_sources) {
        add(&mut reached, &path, Reason::ResourceSet);
    }
    for path in aliases(index, |p| kept.contains(p) || reached.contains_key(p)) {
        add(&mut reached, &path, Reason::Alias);
    }
    reached
}

/// The links in `bin` and `sbin` directories that lead to a program `kept` holds:
/// the names it is also run by. Links to programs not kept are left out with them,
/// and so are links to a shared object (Debian's `/usr/bin/ld.so` to the dynamic
/// loader): no app runs the loader by name, and whether the loader is in `kept` yet
/// depends on how the trace saw it (a build as root kept the link, one without root
/// did not), which would make two builds of one image differ.
fn aliases(index: &FileIndex, kept: impl Fn(&str) -> bool) -> Vec<String> {
    index
        .nodes
        .iter()
        .filter(|(path, node)| {
            let dir = pare_image::path::file_name(pare_image::path::parent(path));
            node.kind == EntryKind::Symlink && (dir == "bin" || dir == "sbin") && !kept(path)
        })
        .filter(|(path, _)| {
            index.resolve(path).is_some_and(|(target, node)| {
                node.kind == EntryKind::File
                    && node.mode & 0o111 != 0
                    && !crate::keep_set::looks_like_library(&target)
                    && kept(&target)
            })
        })
        .map(|(path, _)| path.clone())
        .collect()
}

/// The files of a resource set that are kept with it. `tz_env`: the image sets `TZ`.
pub(super) fn members(index: &FileIndex, set: &resources::Set, tz_env: bool) -> Vec<String> {
    index
        .descendants(&set.dir)
        .filter(|(path, node)| {
            // Compiled Python beside its source is a cache, rebuilt in memory when
            // absent: the source is the member of the set.
            let cache = path.contains("/__pycache__/");
            // `zoneinfo/right/` is the same zones counting leap seconds, named only
            // by a `TZ=right/…`.
            let leap =
                set.dir.ends_with("/zoneinfo") && path.contains("/zoneinfo/right/") && !tz_env;
            let deeper = set.shallow && pare_image::path::parent(path) != set.dir;
            // gettext reads a catalogue's compiled `.mo`, never its `.po` source.
            let po = set.dir.ends_with("/locale") && path.ends_with(".po");
            node.kind != EntryKind::Dir && !cache && !leap && !deeper && !po
        })
        .map(|(path, _)| path.clone())
        .collect()
}

/// How far the probes reached, and what was kept without them: what "Verified"
/// covers and what it does not.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Figures {
    pub keep: KeepMode,
    /// The app's own files (COPY/ADD layers, its directories, served directories)
    /// and how many of them the trace saw used.
    pub app_files: u64,
    pub app_files_touched: u64,
    /// Interpreted modules kept, and how many of them the trace saw loaded.
    pub modules: u64,
    pub modules_touched: u64,
    /// Kept without the trace having seen them used, by reason: files and bytes.
    pub unseen: BTreeMap<Reason, pare_image::index::Tally>,
    /// Kinds of file whose loads reach does not follow (`shell script`), with how
    /// many of them the trace kept: what these load only on a path no probe took is not in the
    /// slim image, and "Verified" does not cover it.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub not_followed: BTreeMap<String, u64>,
}

/// Files of languages whose code loads or runs more code by name, which reach does
/// not read, by their ending: a Lua module `require`s others, a shell script sources
/// and runs others, a JVM loads classes by name. Named as the summary counts them.
const NOT_FOLLOWED: [(&str, &[&str]); 7] = [
    ("Lua module", &[".lua"]),
    ("Tcl script", &[".tcl"]),
    ("shell script", &[".sh", ".bash"]),
    ("Java class", &[".class"]),
    ("Erlang module", &[".beam"]),
    ("R script", &[".R"]),
    ("Julia file", &[".jl"]),
];

impl Figures {
    /// The figures of a build that kept `kept` (the traced keep-set) and `reached`.
    pub fn of(
        index: &FileIndex,
        layout: &AppLayout,
        kept: &BTreeSet<String>,
        reached: &BTreeMap<String, Reason>,
        keep: KeepMode,
    ) -> Figures {
        let mut figures = Figures {
            keep,
            ..Default::default()
        };
        let app: BTreeSet<&str> = layout.app_files.iter().map(String::as_str).collect();
        for path in kept {
            let Some(node) = index.nodes.get(path).filter(|n| n.kind != EntryKind::Dir) else {
                continue;
            };
            if layout.copy_layers.contains(&node.layer) || app.contains(path.as_str()) {
                figures.app_files_touched += 1;
            }
        }
        let modules_touched: BTreeSet<String> = kept
            .iter()
            .filter_map(|p| crate::keep_set::python_source_of(p).or_else(|| Some(p.clone())))
            .filter(|p| is_module(p))
            .collect();
        figures.modules_touched = modules_touched.len() as u64;
        for path in kept {
            let file = index
                .nodes
                .get(path)
                .is_some_and(|n| n.kind == EntryKind::File);
            if let Some((language, _)) = NOT_FOLLOWED
                .iter()
                .find(|(_, endings)| endings.iter().any(|e| path.ends_with(e)))
                && file
            {
                *figures
                    .not_followed
                    .entry((*language).to_owned())
                    .or_default() += 1;
            }
        }
        for (path, reason) in reached {
            let size = index.nodes.get(path).map_or(0, |n| n.size);
            figures.unseen.entry(*reason).or_default().add(size);
            if *reason == Reason::AppFile {
                figures.app_files += 1;
            }
            if is_module(path) && !modules_touched.contains(path) {
                figures.modules += 1;
            }
        }
        figures.app_files += figures.app_files_touched;
        figures.modules += figures.modules_touched;
        figures
    }
}

fn is_module(path: &str) -> bool {
    [".py", ".js", ".cjs", ".mjs", ".rb", ".php", ".pm", ".pl"]
        .iter()
        .any(|e| path.ends_with(e))
}

/// Whether the loaded bytes of any of `paths` pass `test` (a file whose bytes were
/// not loaded does not).
pub(super) fn any_bytes<'a>(
    index: &FileIndex,
    paths: impl IntoIterator<Item = &'a String>,
    test: impl Fn(&[u8]) -> bool,
) -> bool {
    paths.into_iter().any(|path| {
        index
            .nodes
            .get(path.as_str())
            .and_then(|n| n.content.as_deref())
            .is_some_and(&test)
    })
}

/// The one-line quoted literals of `text`, `'…'` and `"…"`.
pub(super) fn quoted_literals(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        let start = rest.find(['"', '\''])?;
        let quote = rest[start..].chars().next().unwrap_or('"');
        let after = &rest[start + 1..];
        let end = after.find(quote)?;
        rest = &after[end + 1..];
        Some(&after[..end])
    })
}

/// Endings of code and its companions, which the import closures find: never data
/// beside a module.
const NOT_DATA: [&str; 6] = [".py", ".pyc", ".so", ".rb", ".pyi", ".typed"];

/// Whether `file`'s directory holds anything [`data_beside`] could keep: most
/// packages' directories hold code alone, and their sources need no reading.
pub(super) fn has_data_beside(index: &FileIndex, file: &str) -> bool {
    let dir = pare_image::path::parent(file);
    let Some((real, _)) = index.resolve(dir) else {
        return false;
    };
    let prefix = format!("{}/", real.trim_end_matches('/'));
    index
        .nodes
        .range(prefix.clone()..)
        .take_while(|(p, _)| p.starts_with(&prefix))
        .filter(|(p, _)| !p[prefix.len()..].contains('/'))
        .any(|(p, node)| {
            let name = &p[prefix.len()..];
            let code = NOT_DATA.iter().any(|e| name.ends_with(e)) || name == "__pycache__";
            let package = node.kind == EntryKind::Dir
                && index.nodes.contains_key(&format!("{p}/__init__.py"));
            !code && !package
        })
}

/// The data files and directories a module names beside itself: a quoted name
/// that is a file or directory next to `file`, as Babel's
/// `os.path.join(os.path.dirname(__file__), 'locale-data')` or Liquid's
/// `File.join(__dir__, "locales", "en.yml")` find theirs. Read by the name of the
/// locale, the zone, the format asked for, so kept whole: a directory's files, and
/// where its link leads. Not code (imports find that: a Python package, a `.py`,
/// `.rb` or `.so`), nor tests, docs or caches.
pub(super) fn data_beside<'a>(
    index: &FileIndex,
    file: &str,
    literals: impl Iterator<Item = &'a str>,
) -> Vec<String> {
    let dir = pare_image::path::parent(file);
    let mut found = Vec::new();
    for name in literals {
        let plain = name.len() >= 2
            && !name.starts_with('.')
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        let code = NOT_DATA.iter().any(|e| name.ends_with(e))
            || matches!(
                name,
                "tests" | "test" | "testing" | "spec" | "docs" | "examples" | "__pycache__"
            );
        if !plain || code {
            continue;
        }
        let path = pare_image::path::join(dir, name);
        let Some((real, node)) = index.resolve(&path) else {
            continue;
        };
        match node.kind {
            EntryKind::File => {
                found.push(path.clone());
                found.push(real);
            }
            EntryKind::Dir if !index.nodes.contains_key(&format!("{real}/__init__.py")) => {
                found.push(path.clone());
                found.extend(
                    index
                        .descendants(&real)
                        .filter(|(_, n)| n.kind != EntryKind::Dir)
                        .map(|(p, _)| p.clone()),
                );
            }
            _ => {}
        }
    }
    found.sort();
    found.dedup();
    found
}

/// The regular files below directory `dir` (as the image resolves it, a link
/// followed) whose path below it passes `wanted` (`"x.rb"` directly in it,
/// `"sub/x.rb"` one deeper): the members of a directory code loads from by a name
/// it makes at run time. None when `dir` is no directory.
pub(super) fn files_below(
    index: &FileIndex,
    dir: &str,
    wanted: impl Fn(&str) -> bool,
) -> Vec<String> {
    let Some((real, node)) = index.resolve(dir) else {
        return Vec::new();
    };
    if node.kind != EntryKind::Dir {
        return Vec::new();
    }
    index
        .descendants(&real)
        .filter(|(p, n)| {
            n.kind == EntryKind::File
                && p.strip_prefix(real.as_str())
                    .and_then(|below| below.strip_prefix('/'))
                    .is_some_and(&wanted)
        })
        .map(|(p, _)| p.clone())
        .collect()
}

/// Whether `path`, as the image resolves it (symlinks followed inside the image), is
/// a regular file.
pub(super) fn is_file(index: &FileIndex, path: &str) -> bool {
    index
        .resolve(path)
        .is_some_and(|(_, n)| n.kind == EntryKind::File)
}

/// Whether `path`, as the image resolves it, is a directory.
pub(super) fn is_dir(index: &FileIndex, path: &str) -> bool {
    index
        .resolve(path)
        .is_some_and(|(_, n)| n.kind == EntryKind::Dir)
}

/// The walk the import closures share: the source of each file of `start`, then of
/// each file found that `follow` accepts, goes to `found_in` (with whether the file
/// is in `start`), which names the files it reaches. Returns what was reached,
/// `start` aside; a file whose bytes were not loaded is not read.
pub(super) fn walk(
    index: &FileIndex,
    start: &BTreeSet<String>,
    follow: impl Fn(&str) -> bool,
    mut found_in: impl FnMut(&str, &str, bool) -> Vec<String>,
) -> BTreeSet<String> {
    let mut seen = start.clone();
    let mut reached = BTreeSet::new();
    let mut work: Vec<String> = start.iter().cloned().collect();
    while let Some(file) = work.pop() {
        // A file reached through a linked directory (Debian's `/usr/share/node_modules`
        // is a link to `/usr/share/nodejs`) is read where it is, and its relative
        // loads resolve from there, as node, ruby, perl and PHP resolve them.
        let (real, node) = match index.nodes.get(&file) {
            Some(node) if node.kind == EntryKind::File => (file.clone(), node),
            _ => match index.resolve(&file) {
                Some(found) => found,
                None => continue,
            },
        };
        let Some(source) = node.content.as_deref().map(String::from_utf8_lossy) else {
            continue;
        };
        for path in found_in(&real, &source, start.contains(&file)) {
            if seen.insert(path.clone()) {
                reached.insert(path.clone());
                if follow(&path) {
                    work.push(path);
                }
            }
        }
    }
    reached
}

/// Package managers' own state: what a rootfs copied whole holds besides its
/// packages' files, never the app's.
const PACKAGE_STATE: [&str; 8] = [
    "/var/lib/dpkg/",
    "/var/lib/apt/",
    "/var/cache/",
    "/var/log/",
    "/lib/apk/",
    "/usr/lib/apk/",
    "/var/lib/rpm/",
    "/usr/lib/sysimage/",
];

/// Whether a file a COPY or ADD layer holds is the operating system's rather than
/// the app's: a package owns it, or it is a package manager's state. Without this an
/// image whose base is one ADDed rootfs (ubuntu, alpine, distroless-style `COPY / /`)
/// would count the whole distribution as the app and keep all of it.
fn is_system_file(layout: &AppLayout, path: &str) -> bool {
    layout.system_files.contains(path) || PACKAGE_STATE.iter().any(|d| path.starts_with(d))
}

/// The layers of `history` (one entry per layer, as
/// [`pare_image::ImageConfig::layer_history`] gives it) that COPY or ADD made.
pub fn copy_layers(history: &[Option<&pare_image::config::History>]) -> BTreeSet<usize> {
    history
        .iter()
        .enumerate()
        .filter(|(_, h)| {
            h.and_then(|h| h.created_by.as_deref())
                .is_some_and(is_copy_instruction)
        })
        .map(|(i, _)| i)
        .collect()
}

/// `COPY app.py /app/ # buildkit`, `/bin/sh -c #(nop) ADD file:… in /app`.
fn is_copy_instruction(created_by: &str) -> bool {
    let text = created_by.trim();
    let text = text
        .strip_prefix("/bin/sh -c #(nop)")
        .map(str::trim_start)
        .unwrap_or(text);
    text.starts_with("COPY ") || text.starts_with("ADD ")
}

#[cfg(test)]
mod tests;
