//! What the unit tests share: the repository's real test data (tests/data/vuln) and
//! databases made from it.

use std::path::PathBuf;

use pare_sbom::{Distro, Package};

use crate::db::Database;
use crate::import::{Source, import};
use crate::matcher::{Finding, match_packages};

/// A path below tests/data/vuln.
pub fn data(rel: &str) -> PathBuf {
    PathBuf::from(format!(
        "{}/../../tests/data/vuln/{rel}",
        env!("CARGO_MANIFEST_DIR")
    ))
}

/// A database of the records below tests/data/vuln at `rels`, in a temporary folder
/// that lives as long as the returned guard.
pub fn database(rels: &[&str]) -> (tempfile::TempDir, Database) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("advisories.sqlite");
    let sources: Vec<Source> = rels
        .iter()
        .map(|r| Source::local(&data(r)).unwrap())
        .collect();
    import(&path, &sources).unwrap();
    let db = Database::open(&path).unwrap();
    (dir, db)
}

/// Debian 12's os-release.
pub fn bookworm() -> Distro {
    Distro {
        id: "debian".into(),
        version_id: "12".into(),
        ..Default::default()
    }
}

/// The findings for `packages` of a Debian 12 image, against the records at `rels`.
pub fn findings(rels: &[&str], packages: &[Package]) -> Vec<Finding> {
    let (_dir, db) = database(rels);
    match_packages(&db, packages, Some(&bookworm()))
        .unwrap()
        .findings
}
