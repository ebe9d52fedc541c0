//! A real advisory database for tests (scan, diff, compare): the record sets of
//! tests/data/vuln imported by `pare db import` into a fresh folder.

use std::path::{Path, PathBuf};

use super::{Run, pare, temp_dir};

/// A file of tests/data/vuln.
pub fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/data/vuln")
        .join(rel)
}

/// The record sets every test database holds: both dumps, the GHSA/PYSEC/npm/Go
/// records and the Debian-derived records.
pub fn record_sets() -> Vec<PathBuf> {
    vec![
        data("dumps/PyPI-pypa-advisory-database-2024-10-10.zip"),
        data("dumps/Go-vulndb-2026-08-21.zip"),
        data("osv"),
        data("debian-osv-derived"),
    ]
}

/// `pare db import --db DB INPUT…`.
pub fn import(db: &Path, inputs: &[&Path]) -> Run {
    let mut args = vec![
        "db",
        "import",
        "--db",
        db.to_str().expect("UTF-8 test path"),
    ];
    args.extend(inputs.iter().map(|p| p.to_str().expect("UTF-8 test path")));
    pare(&args)
}

/// A database of [`record_sets`] in a fresh folder, made by `pare db import`.
pub struct Db {
    _dir: tempfile::TempDir,
    pub path: PathBuf,
}

impl Db {
    pub fn new() -> Db {
        let dir = temp_dir();
        let path = dir.path().join("advisories.sqlite");
        let mut args = vec!["db".to_owned(), "import".to_owned(), "--db".to_owned()];
        args.push(path.display().to_string());
        args.extend(record_sets().iter().map(|p| p.display().to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        pare(&args).success();
        Db { _dir: dir, path }
    }

    pub fn arg(&self) -> &str {
        self.path.to_str().unwrap()
    }

    /// `pare scan --db DB EXTRA… IMAGE`.
    pub fn scan(&self, image: &str, extra: &[&str]) -> Run {
        let mut args = vec!["scan", "--db", self.arg()];
        args.extend_from_slice(extra);
        args.push(image);
        pare(&args)
    }
}
