//! The keep-set: which paths of the original image the slim image holds.
//!
//! Traced paths are resolved through the image's own symlinks (every link on the way
//! is kept, and every directory above a kept path), then closed over what the kernel
//! and ld.so load without a traced syscall naming it: ELF interpreters, `DT_NEEDED`
//! libraries, `#!` interpreters. User includes and excludes come last.

use std::collections::{BTreeMap, BTreeSet};

use globset::{Glob, GlobSet, GlobSetBuilder};
use pare_image::{EntryKind, FileIndex};

use crate::elf;
use crate::error::BuildError;

/// Where dependencies are installed, inside an app's directory or not (the app's
/// own files are told from them; the import closures look in them).
pub(crate) const DEPENDENCY_DIRS: [&str; 4] = [
    "/node_modules/",
    "/site-packages/",
    "/dist-packages/",
    "/vendor/",
];

/// What the sensor saw the app do.
#[derive(Clone, Debug, Default)]
pub struct Trace {
    /// Every path a file syscall named (resolved to absolute), found or not.
    pub accessed: BTreeSet<String>,
    /// Paths passed to execve/execveat.
    pub executed: BTreeSet<String>,
    /// Paths the app created (files, directories): their parents must exist.
    pub created: BTreeSet<String>,
    pub syscalls: BTreeSet<String>,
}

impl Trace {
    /// Adds what another traced process tree (an exec probe's) saw.
    pub fn merge(&mut self, other: Trace) {
        self.accessed.extend(other.accessed);
        self.executed.extend(other.executed);
        self.created.extend(other.created);
        self.syscalls.extend(other.syscalls);
    }
}

/// The user's and the image's say in what is kept.
#[derive(Clone, Debug, Default)]
pub struct KeepRules {
    pub include_paths: Vec<String>,
    pub include_bins: Vec<String>,
    pub include_shell: bool,
    pub exclude: Vec<String>,
    /// PATH of the image, to find `--include-bin` names, the entrypoint and `env X`.
    pub path_dirs: Vec<String>,
    pub ld_library_path: Vec<String>,
    /// Paths the runtime needs whatever the trace says (the entrypoint, the workdir).
    pub always: Vec<String>,
    /// What the app can reach beyond the trace ([`crate::reach`]), with the reason.
    pub reached: BTreeMap<String, Reason>,
}

impl KeepRules {
    /// The paths of an `--include-path-file`: one a line, blank lines and `#`
    /// comments left out.
    pub fn read_include_path_file(path: &std::path::Path) -> Result<Vec<String>, BuildError> {
        let text = std::fs::read_to_string(path).map_err(|source| BuildError::Io {
            action: "reading",
            path: path.to_owned(),
            source,
        })?;
        Ok(text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(str::to_owned)
            .collect())
    }
}

/// Why a path is kept (the first reason found).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    Traced,
    Runtime,
    ElfInterpreter,
    SharedLibrary,
    ScriptInterpreter,
    Included,
    Parent,
    /// The kept packages' metadata (dpkg status cut to them, file lists, METADATA …).
    PackageMetadata,
    /// The source a kept compiled file is checked against by its loader: CPython
    /// uses `__pycache__/X.cpython-311.pyc` only if `X.py` is there with the size and
    /// mtime the `.pyc` records, else it reads the source and fails without it.
    CompiledSource,
    /// The app's own files: what the image's COPY/ADD layers put there, the files of
    /// its directories no package owns, and what an app server is set up to serve.
    AppFile,
    /// A module the static import closure of kept code reaches.
    Imported,
    /// A member of a set of which the app used another (templates, time zones,
    /// codecs, plugins).
    ResourceSet,
    /// A directory the app may write its state into (a session store, a data
    /// directory of its user), empty until it does.
    StateDir,
    /// Another name a kept program is run by: a link in a `bin` or `sbin` directory
    /// that leads to it (a venv's `python` for the `python3` its scripts name).
    Alias,
}

impl Reason {
    /// Kept without the trace having seen it used.
    pub fn unseen(self) -> bool {
        matches!(
            self,
            Reason::AppFile
                | Reason::Imported
                | Reason::ResourceSet
                | Reason::StateDir
                | Reason::Alias
        )
    }
}

/// The result: paths with their reasons, and regular files whose bytes are needed to
/// finish the ELF closure but were not loaded yet.
#[derive(Clone, Debug, Default)]
pub struct KeepSet {
    pub paths: BTreeMap<String, Reason>,
    pub needs_content: BTreeSet<String>,
}

/// Files the runtime itself needs: Docker resolves USER from passwd/group outside the
/// container, and these small files are read by libc before any traced app code runs.
const RUNTIME_FILES: &[&str] = &[
    "/etc/passwd",
    "/etc/group",
    "/etc/nsswitch.conf",
    "/etc/ld.so.cache",
    "/etc/hosts",
    "/etc/resolv.conf",
    "/etc/hostname",
    "/tmp",
];

/// TLS trust store, kept when the trace shows the app touched TLS material.
const CA_FILES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/ssl/openssl.cnf",
    "/usr/lib/ssl/openssl.cnf",
];

impl KeepSet {
    /// Computes the keep-set. Call again with an index that has the contents listed
    /// in `needs_content` loaded, until that list is empty.
    pub fn compute(index: &FileIndex, trace: &Trace, rules: &KeepRules) -> KeepSet {
        let mut keep = KeepSet::default();
        let mut work: Vec<String> = Vec::new();
        let conf_dirs = ld_conf_dirs(index);

        for path in trace.accessed.iter().chain(&trace.executed) {
            if let Some(found) = keep.add(index, path, Reason::Traced) {
                work.push(found);
            }
        }
        for created in &trace.created {
            keep.add_existing_parents(index, created);
        }
        for path in RUNTIME_FILES
            .iter()
            .copied()
            .map(str::to_owned)
            .chain(rules.always.iter().cloned())
        {
            if let Some(found) = keep.add(index, &path, Reason::Runtime) {
                work.push(found);
            }
        }
        let used_tls = trace.accessed.iter().any(|p| {
            p.starts_with("/etc/ssl/")
                || p.starts_with("/usr/lib/ssl/")
                || p.ends_with("cacert.pem")
        });
        if used_tls {
            for path in CA_FILES {
                keep.add(index, path, Reason::Runtime);
            }
        }
        let mut bins: Vec<String> = rules.include_bins.clone();
        if rules.include_shell {
            bins.extend(["/bin/sh".to_owned(), "/usr/bin/sh".to_owned()]);
        }
        for bin in &bins {
            if let Some(found) = find_on_path(index, bin, &rules.path_dirs)
                .and_then(|p| keep.add(index, &p, Reason::Included))
            {
                work.push(found);
            }
        }
        for include in &rules.include_paths {
            if let Some(found) = keep.add(index, include, Reason::Included) {
                let below: Vec<String> =
                    index.descendants(&found).map(|(p, _)| p.clone()).collect();
                for p in below {
                    keep.paths.entry(p.clone()).or_insert(Reason::Included);
                    work.push(p);
                }
                work.push(found);
            }
        }

        for (path, reason) in &rules.reached {
            if let Some(found) = keep.add(index, path, *reason) {
                work.push(found);
            }
        }

        keep.close(index, work, rules, &conf_dirs);
        keep.add_compiled_sources(index);
        keep.exclude(&rules.exclude);
        keep
    }

    /// Keeps the `.py` of every kept `__pycache__/*.pyc`.
    fn add_compiled_sources(&mut self, index: &FileIndex) {
        let sources: Vec<String> = self
            .paths
            .keys()
            .filter_map(|p| python_source_of(p))
            .filter(|source| {
                index
                    .resolve(source)
                    .is_some_and(|(_, n)| n.kind == EntryKind::File)
            })
            .collect();
        for source in sources {
            self.add(index, &source, Reason::CompiledSource);
        }
    }

    /// Follows the ELF and script interpreters and libraries of everything kept.
    fn close(
        &mut self,
        index: &FileIndex,
        mut work: Vec<String>,
        rules: &KeepRules,
        conf_dirs: &[String],
    ) {
        let mut seen: BTreeSet<String> = BTreeSet::new();
        while let Some(path) = work.pop() {
            if !seen.insert(path.clone()) {
                continue;
            }
            let Some(node) = index.nodes.get(&path) else {
                continue;
            };
            if node.kind != EntryKind::File || node.size < 4 {
                continue;
            }
            let Some(bytes) = node.content.as_deref() else {
                if node.mode & 0o111 != 0 || looks_like_library(&path) {
                    self.needs_content.insert(path);
                }
                continue;
            };
            if let Some(needs) = elf::needs(bytes) {
                if let Some(interp) = &needs.interpreter
                    && let Some(found) = self.add(index, interp, Reason::ElfInterpreter)
                {
                    work.push(found);
                }
                let origin = pare_image::path::parent(&path).to_owned();
                let dirs = elf::search_dirs(&needs, &origin, &rules.ld_library_path, conf_dirs);
                for lib in &needs.needed {
                    let candidate = if lib.contains('/') {
                        Some(lib.clone())
                    } else {
                        dirs.iter()
                            .map(|d| pare_image::path::join(d, lib))
                            .find(|p| {
                                index
                                    .resolve(p)
                                    .is_some_and(|(_, n)| n.kind == EntryKind::File)
                            })
                    };
                    if let Some(found) =
                        candidate.and_then(|c| self.add(index, &c, Reason::SharedLibrary))
                    {
                        work.push(found);
                    }
                }
            } else if let Some((interp, arg)) = elf::shebang(bytes)
                // A `#!` line matters to execve only: an executable file, and not a
                // module kept because code imports it (a stdlib module with
                // `#!/usr/bin/env python3` is read by the interpreter, never run).
                && node.mode & 0o111 != 0
                && !self
                    .paths
                    .get(&path)
                    .is_some_and(|r| matches!(r, Reason::Imported | Reason::ResourceSet))
            {
                if let Some(found) = self.add(index, &interp, Reason::ScriptInterpreter) {
                    work.push(found);
                }
                let is_env = pare_image::path::file_name(&interp) == "env";
                if let (true, Some(program)) = (is_env, arg) {
                    let program = program.split_whitespace().next().unwrap_or("").to_owned();
                    if let Some(found) = find_on_path(index, &program, &rules.path_dirs)
                        .and_then(|p| self.add(index, &p, Reason::ScriptInterpreter))
                    {
                        work.push(found);
                    }
                }
            }
        }
    }

    /// Adds `path` as the image resolves it: each directory on the way, each symlink
    /// followed, and the final object. Returns the final path, or `None` when the
    /// image has no such path (the app probed for something absent).
    pub fn add(&mut self, index: &FileIndex, path: &str, reason: Reason) -> Option<String> {
        let mut pending: Vec<String> = path
            .split('/')
            .filter(|c| !c.is_empty())
            .rev()
            .map(str::to_owned)
            .collect();
        let mut current = String::from("/");
        let mut hops = 0;
        self.paths.entry("/".into()).or_insert(Reason::Parent);
        while let Some(component) = pending.pop() {
            match component.as_str() {
                "." => continue,
                ".." => {
                    current = pare_image::path::parent(&current).to_owned();
                    continue;
                }
                _ => {}
            }
            let candidate = pare_image::path::join(&current, &component);
            let node = index.nodes.get(&candidate)?;
            let last = pending.is_empty();
            let this_reason = if last { reason } else { Reason::Parent };
            self.paths.entry(candidate.clone()).or_insert(this_reason);
            if node.kind == EntryKind::Symlink {
                hops += 1;
                if hops > 40 {
                    return None;
                }
                let target = node.link.clone().unwrap_or_default();
                if target.starts_with('/') {
                    current = "/".into();
                }
                pending.extend(
                    target
                        .split('/')
                        .filter(|c| !c.is_empty())
                        .rev()
                        .map(str::to_owned),
                );
                continue;
            }
            if node.kind == EntryKind::Hardlink
                && let Some(target) = node.link.clone()
            {
                self.add(index, &target, reason);
            }
            current = candidate;
        }
        Some(current)
    }

    fn add_existing_parents(&mut self, index: &FileIndex, path: &str) {
        let mut dir = pare_image::path::parent(path).to_owned();
        loop {
            if index.resolve(&dir).is_some() {
                self.add(index, &dir, Reason::Parent);
                return;
            }
            if dir == "/" {
                return;
            }
            dir = pare_image::path::parent(&dir).to_owned();
        }
    }

    pub(crate) fn exclude(&mut self, globs: &[String]) {
        let Some(set) = glob_set(globs) else { return };
        self.paths.retain(|p, _| p == "/" || !set.is_match(p));
        self.needs_content.retain(|p| !set.is_match(p));
    }

    /// The kept paths of each reason, sorted.
    pub fn by_reason(&self) -> BTreeMap<Reason, Vec<String>> {
        let mut by = BTreeMap::<Reason, Vec<String>>::new();
        for (path, reason) in &self.paths {
            by.entry(*reason).or_default().push(path.clone());
        }
        by
    }
}

fn glob_set(globs: &[String]) -> Option<GlobSet> {
    if globs.is_empty() {
        return None;
    }
    let mut builder = GlobSetBuilder::new();
    for g in globs {
        if let Ok(glob) = Glob::new(g) {
            builder.add(glob);
        }
    }
    builder.build().ok()
}

/// `/lib/x/__pycache__/mod.cpython-311.pyc` (or `.opt-1.pyc`) → `/lib/x/mod.py`.
pub(crate) fn python_source_of(path: &str) -> Option<String> {
    let name = pare_image::path::file_name(path).strip_suffix(".pyc")?;
    let dir = pare_image::path::parent(path);
    if pare_image::path::file_name(dir) != "__pycache__" {
        return None;
    }
    // NAME.TAG[.opt-N]: the module name is everything before the interpreter tag.
    let module = name.split('.').next().filter(|m| !m.is_empty())?;
    Some(pare_image::path::join(
        pare_image::path::parent(dir),
        &format!("{module}.py"),
    ))
}

/// Whether `path` is named as a shared object is (`libz.so`, `libc.so.6`,
/// `ld-linux-x86-64.so.2`).
pub(crate) fn looks_like_library(path: &str) -> bool {
    let name = pare_image::path::file_name(path);
    name.ends_with(".so") || name.contains(".so.")
}

/// Finds a program the way execvp does: a path as is, a name through PATH.
pub fn find_on_path(index: &FileIndex, program: &str, path_dirs: &[String]) -> Option<String> {
    if program.contains('/') {
        return index.resolve(program).map(|_| program.to_owned());
    }
    path_dirs
        .iter()
        .map(|d| pare_image::path::join(d, program))
        .find(|p| {
            index
                .resolve(p)
                .is_some_and(|(_, n)| n.kind == EntryKind::File)
        })
}

/// Library directories from `/etc/ld.so.conf` and `/etc/ld.so.conf.d/*.conf` — what
/// `ldconfig` builds `ld.so.cache` from — when their bytes were loaded.
fn ld_conf_dirs(index: &FileIndex) -> Vec<String> {
    let mut dirs = Vec::new();
    for (path, node) in index.descendants("/etc/ld.so.conf.d") {
        if path.ends_with(".conf")
            && let Some(bytes) = node.content.as_deref()
        {
            // Spelt as the index spells names, so a directory with invalid UTF-8 matches.
            dirs.extend(
                pare_image::path::name_from_bytes(bytes)
                    .lines()
                    .map(str::trim)
                    .filter(|l| l.starts_with('/'))
                    .map(str::to_owned),
            );
        }
    }
    dirs
}

#[cfg(test)]
mod tests {
    use super::*;
    use pare_image::layer::{Expected, ReadOptions, read_layer};
    use pare_image::testutil::{TarItem, tar_of};
    use std::sync::Arc;

    fn index(items: &[TarItem]) -> FileIndex {
        let options = ReadOptions {
            keep_content: Some(Arc::new(|_: &str, _: u64| true)),
            ..Default::default()
        };
        FileIndex::build([
            read_layer(&tar_of(items)[..], "t", &Expected::default(), &options).unwrap(),
        ])
    }

    #[test]
    fn keeps_links_parents_and_script_interpreters() {
        let idx = index(&[
            TarItem::dir("usr/"),
            TarItem::dir("usr/bin/"),
            TarItem::file("usr/bin/dash", b"\x7fELF-not-really", 0o755),
            TarItem::symlink("usr/bin/sh", "dash"),
            TarItem::symlink("bin", "usr/bin"),
            TarItem::dir("app/"),
            TarItem::file("app/run.sh", b"#!/bin/sh\necho hi\n", 0o755),
            TarItem::file("app/unused", b"x", 0o644),
            TarItem::dir("etc/"),
            TarItem::file("etc/passwd", b"root:x:0:0::/root:/bin/sh\n", 0o644),
        ]);
        let trace = Trace {
            executed: ["/app/run.sh".to_owned()].into(),
            ..Default::default()
        };
        let keep = KeepSet::compute(&idx, &trace, &KeepRules::default());
        let paths: Vec<&str> = keep.paths.keys().map(String::as_str).collect();
        assert_eq!(
            paths,
            [
                "/",
                "/app",
                "/app/run.sh",
                "/bin",
                "/etc",
                "/etc/passwd",
                "/usr",
                "/usr/bin",
                "/usr/bin/dash",
                "/usr/bin/sh"
            ]
        );
        assert_eq!(keep.paths["/usr/bin/dash"], Reason::ScriptInterpreter);
    }

    #[test]
    fn missing_paths_keep_only_existing_parents() {
        let idx = index(&[TarItem::dir("var/"), TarItem::dir("var/log/")]);
        let trace = Trace {
            accessed: ["/var/log/app/missing.log".to_owned()].into(),
            created: ["/var/log/new.log".to_owned()].into(),
            ..Default::default()
        };
        let keep = KeepSet::compute(&idx, &trace, &KeepRules::default());
        assert!(keep.paths.contains_key("/var/log"));
    }

    #[test]
    fn excludes_win_and_includes_take_whole_trees() {
        let idx = index(&[
            TarItem::dir("data/"),
            TarItem::file("data/a", b"1", 0o644),
            TarItem::file("data/b.log", b"2", 0o644),
        ]);
        let rules = KeepRules {
            include_paths: vec!["/data".into()],
            exclude: vec!["**/*.log".into()],
            ..Default::default()
        };
        let keep = KeepSet::compute(&idx, &Trace::default(), &rules);
        assert!(keep.paths.contains_key("/data/a"));
        assert!(!keep.paths.contains_key("/data/b.log"));
    }

    #[test]
    fn a_kept_pyc_keeps_its_source() {
        let idx = index(&[
            TarItem::dir("lib/"),
            TarItem::dir("lib/sqlite3/"),
            TarItem::file("lib/sqlite3/__init__.py", b"from .dbapi2 import *\n", 0o644),
            TarItem::file("lib/sqlite3/dbapi2.py", b"x = 1\n", 0o644),
            TarItem::dir("lib/sqlite3/__pycache__/"),
            TarItem::file(
                "lib/sqlite3/__pycache__/__init__.cpython-311.pyc",
                b"\x00pyc",
                0o644,
            ),
            TarItem::file(
                "lib/sqlite3/__pycache__/dbapi2.cpython-311.opt-1.pyc",
                b"\x00pyc",
                0o644,
            ),
        ]);
        let trace = Trace {
            accessed: [
                "/lib/sqlite3/__pycache__/__init__.cpython-311.pyc".to_owned(),
                "/lib/sqlite3/__pycache__/dbapi2.cpython-311.opt-1.pyc".to_owned(),
            ]
            .into(),
            ..Default::default()
        };
        let keep = KeepSet::compute(&idx, &trace, &KeepRules::default());
        assert_eq!(
            keep.paths.get("/lib/sqlite3/__init__.py"),
            Some(&Reason::CompiledSource)
        );
        assert!(keep.paths.contains_key("/lib/sqlite3/dbapi2.py"));
        assert_eq!(
            python_source_of("/a/__pycache__/m.cpython-311.pyc").as_deref(),
            Some("/a/m.py")
        );
        assert_eq!(python_source_of("/a/m.pyc"), None);
    }

    #[test]
    fn unloaded_executables_are_asked_for() {
        let options = ReadOptions::default();
        let tar = tar_of(&[
            TarItem::dir("bin/"),
            TarItem::file("bin/app", b"\x7fELF....", 0o755),
        ]);
        let idx =
            FileIndex::build([read_layer(&tar[..], "t", &Expected::default(), &options).unwrap()]);
        let trace = Trace {
            executed: ["/bin/app".to_owned()].into(),
            ..Default::default()
        };
        let keep = KeepSet::compute(&idx, &trace, &KeepRules::default());
        assert!(keep.needs_content.contains("/bin/app"));
    }
}
