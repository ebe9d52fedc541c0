//! shellcheck's results kept between runs, so that linting a repo whose scripts did
//! not change starts no shellcheck at all.
//!
//! A result is filed under the SHA-256 of everything shellcheck's output depends on:
//! the script as handed to it (its text, so the dialect's shebang and the declared
//! names), the flags pare passes, `SHELLCHECK_OPTS`, and shellcheck's version.
//! Asking `--version` would cost the very process start the cache saves, so the
//! version is itself remembered per program file, known by its resolved path, size,
//! inode and modification and change times: installing another shellcheck changes
//! them (a package manager writes a new file), and then `--version` is asked again.
//!
//! One file per script: runs at the same time never lose each other's results, and
//! a damaged file costs only its own entry. Files are written to a temporary name
//! and renamed, so a reader sees a whole file or none. The cache is a convenience:
//! a file that cannot be read or parsed is a miss (and is rewritten after the
//! check), a folder that cannot be written is no cache, and neither fails a lint.

use std::io::{Read, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

use super::Comment;

/// A cached result larger than this is not one pare wrote.
const ENTRY_LIMIT: u64 = 4 << 20;

/// Bumped when what an entry holds or how its key is made changes.
const FORMAT: &str = "pare shellcheck cache 2";

/// Where the versions of the shellcheck programs seen are remembered.
const PROGRAMS: &str = "programs";

/// The results folder for one shellcheck version and one set of flags.
#[derive(Clone, Debug)]
pub struct Cache {
    dir: PathBuf,
    /// The hash of everything but the script, ready to take the script.
    salted: Sha256,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Entry {
    comments: Vec<Comment>,
}

impl Cache {
    /// The cache in `dir` for results of `program` run with `flags`; `None` when the
    /// program's version cannot be told (then nothing can tell its results apart).
    pub fn new(dir: &Path, program: &Path, flags: &[&str]) -> Option<Cache> {
        let version = version(dir, program)?;
        let mut salted = Sha256::new();
        let mut field = |bytes: &[u8]| {
            salted.update((bytes.len() as u64).to_le_bytes());
            salted.update(bytes);
        };
        field(FORMAT.as_bytes());
        field(version.as_bytes());
        for flag in flags {
            field(flag.as_bytes());
        }
        let opts = std::env::var_os("SHELLCHECK_OPTS").unwrap_or_default();
        field(opts.as_encoded_bytes());
        Some(Cache {
            dir: dir.to_owned(),
            salted,
        })
    }

    fn file(&self, script: &str) -> PathBuf {
        let mut hasher = self.salted.clone();
        hasher.update(script.as_bytes());
        self.dir
            .join(format!("{}.json", hex::encode(hasher.finalize())))
    }

    /// shellcheck's comments on `script`, when an earlier run saved them.
    pub(crate) fn get(&self, script: &str) -> Option<Vec<Comment>> {
        let bytes = read_small(&self.file(script))?;
        serde_json::from_slice::<Entry>(&bytes)
            .ok()
            .map(|e| e.comments)
    }

    /// Saves shellcheck's comments on `script`; a failure only means a later run
    /// checks the script again.
    pub(crate) fn put(&self, script: &str, comments: &[Comment]) {
        let entry = Entry {
            comments: comments.to_vec(),
        };
        if let Ok(bytes) = serde_json::to_vec(&entry) {
            let _ = write_atomically(&self.dir, &self.file(script), &bytes);
        }
    }
}

/// `program`'s version (the line `version: …` of `--version`), as remembered in
/// `dir` for this very file, else asked and remembered.
fn version(dir: &Path, program: &Path) -> Option<String> {
    let resolved = std::fs::canonicalize(program).ok()?;
    let meta = std::fs::metadata(&resolved).ok()?;
    let mut identity = Sha256::new();
    identity.update(resolved.as_os_str().as_encoded_bytes());
    for n in [meta.len(), meta.ino(), meta.dev()] {
        identity.update(n.to_le_bytes());
    }
    for (s, ns) in [
        (meta.mtime(), meta.mtime_nsec()),
        (meta.ctime(), meta.ctime_nsec()),
    ] {
        identity.update(s.to_le_bytes());
        identity.update(ns.to_le_bytes());
    }
    let programs = dir.join(PROGRAMS);
    let remembered = programs.join(hex::encode(identity.finalize()));
    if let Some(known) = read_small(&remembered)
        .and_then(|b| String::from_utf8(b).ok())
        .filter(|v| !v.is_empty() && !v.contains('\n'))
    {
        return Some(known);
    }
    let output = Command::new(&resolved)
        .env_remove(super::GHC_RUNTIME_OPTIONS)
        .arg("--version")
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let asked = text
        .lines()
        .find_map(|l| l.strip_prefix("version:"))
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())?;
    let _ = write_atomically(&programs, &remembered, asked.as_bytes());
    Some(asked)
}

/// A cache file's bytes; `None` when it is missing, unreadable or too large to be
/// one pare wrote.
fn read_small(path: &Path) -> Option<Vec<u8>> {
    let file = std::fs::File::open(path).ok()?;
    let mut bytes = Vec::new();
    file.take(ENTRY_LIMIT + 1).read_to_end(&mut bytes).ok()?;
    (bytes.len() as u64 <= ENTRY_LIMIT).then_some(bytes)
}

/// Writes `bytes` to a temporary file in `dir`, then renames it to `path`.
fn write_atomically(dir: &Path, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut temp = tempfile::NamedTempFile::new_in(dir)?;
    temp.write_all(bytes)?;
    temp.persist(path)?;
    Ok(())
}
