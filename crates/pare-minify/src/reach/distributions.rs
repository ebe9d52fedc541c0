//! Installed Python distributions' metadata (`*.dist-info`, `*.egg-info` in a
//! `site-packages` or `dist-packages`), kept when the app can read it:
//! `importlib.metadata` (`version("requests")`, `entry_points(group=…)`), its backport
//! and `pkg_resources` find a distribution by a name given at run time, so the trace
//! sees only the ones the probes asked about.
//!
//! Kept: the metadata of every distribution whose code the slim image keeps, and of
//! every one the app's own code names in a string (`metadata.version("requests")` of
//! a dependency it never imports). Not the metadata of a distribution whose code is
//! gone: scanners read a `METADATA` as the package being installed (the slim image
//! would be reported with the removed package's vulnerabilities, and pare's VEX could
//! not say the package is not present), and the entry points it declares would name
//! modules that are not there.

use std::collections::BTreeSet;

use pare_image::{EntryKind, FileIndex};

/// Python's readers of installed distributions' metadata: `importlib.metadata`, its
/// backport and `pkg_resources`.
const READERS: [&str; 3] = [
    "/importlib/metadata/",
    "/importlib_metadata/",
    "/pkg_resources/",
];

/// The files of a distribution's metadata that `importlib.metadata` and
/// `pkg_resources` read for a name: its version, requirements and description
/// (`METADATA`, `PKG-INFO`, `requires.txt`), its plugins (`entry_points.txt`) and
/// its top-level packages. Not `RECORD` (the list of its files, of which a slim
/// image holds only some) nor its licences.
const READ_BY_NAME: [&str; 5] = [
    "METADATA",
    "PKG-INFO",
    "requires.txt",
    "entry_points.txt",
    "top_level.txt",
];

/// Whether `path` is a module of a reader of distribution metadata.
fn is_reader(path: &str) -> bool {
    READERS.iter().any(|r| path.contains(r)) && path.contains("__init__.")
}

/// Whether `dir` is an installed distribution's metadata directory.
fn is_metadata_dir(dir: &str) -> bool {
    let name = pare_image::path::file_name(dir);
    let parent = pare_image::path::file_name(pare_image::path::parent(dir));
    (name.ends_with(".dist-info") || name.ends_with(".egg-info"))
        && (parent == "site-packages" || parent == "dist-packages")
}

/// Whether the first read must load this file's bytes: the lists of a distribution's
/// files and top-level packages, which tell whether its code is kept.
pub fn wants_content(path: &str, size: u64) -> bool {
    let name = pare_image::path::file_name(path);
    (name == "RECORD" || name == "top_level.txt")
        && is_metadata_dir(pare_image::path::parent(path))
        && size < 4 * 1024 * 1024
}

/// The metadata files to keep, given everything kept so far (`all`) and the app's own
/// Python sources (`app_sources`), whose strings may name a distribution. Nothing
/// unless a reader of metadata is kept.
pub fn kept_metadata(
    index: &FileIndex,
    all: &BTreeSet<String>,
    app_sources: &[&str],
) -> Vec<String> {
    if !all.iter().any(|p| is_reader(p)) {
        return Vec::new();
    }
    let named: BTreeSet<String> = app_sources
        .iter()
        .filter_map(|p| index.nodes.get(*p).and_then(|n| n.content.as_deref()))
        .flat_map(short_strings)
        .collect();
    let mut files = Vec::new();
    for (dir, node) in &index.nodes {
        if node.kind != EntryKind::Dir || !is_metadata_dir(dir) {
            continue;
        }
        if !named.contains(&distribution_name(dir)) && !code_kept(index, dir, all) {
            continue;
        }
        files.extend(
            index
                .descendants(dir)
                .filter(|(p, n)| {
                    n.kind != EntryKind::Dir
                        && pare_image::path::parent(p) == dir
                        && READ_BY_NAME.contains(&pare_image::path::file_name(p))
                })
                .map(|(p, _)| p.clone()),
        );
    }
    files
}

/// A distribution's name as its metadata directory spells it (`PyJWT-1.7.1.dist-info`,
/// `python_dateutil-2.9.0.dist-info`, `PyYAML.egg-info`), normalised as PEP 503
/// compares names: lower case, runs of `-`, `_` and `.` as one `-`.
fn distribution_name(dir: &str) -> String {
    let name = pare_image::path::file_name(dir);
    let stem = name
        .strip_suffix(".dist-info")
        .or_else(|| name.strip_suffix(".egg-info"))
        .unwrap_or(name);
    pare_sbom::normalize_pypi_name(stem.split('-').next().unwrap_or(stem))
}

/// The strings quoted on one line in `source` (up to 100 characters), normalised as
/// distribution names: what `version("requests")` or a list of names holds.
fn short_strings(source: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(source);
    let mut found = Vec::new();
    for line in text.lines() {
        let mut rest = line;
        while let Some(start) = rest.find(['"', '\'']) {
            let quote = rest.as_bytes()[start] as char;
            let after = &rest[start + 1..];
            let Some(end) = after.find(quote) else {
                break;
            };
            let inner = &after[..end];
            if !inner.is_empty() && inner.len() <= 100 {
                found.push(pare_sbom::normalize_pypi_name(inner));
            }
            rest = &after[end + 1..];
        }
    }
    found
}

/// Whether the slim image keeps any of the distribution's code: a file its `RECORD`
/// lists, a top-level package or module its `top_level.txt` names, else the package
/// named like the distribution.
fn code_kept(index: &FileIndex, dir: &str, all: &BTreeSet<String>) -> bool {
    let site = pare_image::path::parent(dir);
    let content = |name: &str| {
        index
            .nodes
            .get(&pare_image::path::join(dir, name))
            .and_then(|n| n.content.as_deref())
            .map(String::from_utf8_lossy)
    };
    if let Some(record) = content("RECORD") {
        return record.lines().any(|line| {
            let path = record_path(line);
            !path.is_empty()
                && !path.contains("__pycache__/")
                && pare_image::path::normalize(&format!("{site}/{path}"))
                    .is_ok_and(|p| !p.starts_with(dir) && all.contains(&p))
        });
    }
    let top_level: Vec<String> = match content("top_level.txt") {
        Some(names) => names.lines().map(|l| l.trim().to_owned()).collect(),
        None => vec![distribution_name(dir).replace('-', "_")],
    };
    top_level
        .iter()
        .filter(|name| !name.is_empty())
        .any(|name| {
            let package = format!("{site}/{name}/");
            let module = format!("{site}/{name}.");
            [package, module].iter().any(|prefix| {
                all.range(prefix.clone()..)
                    .next()
                    .is_some_and(|p| p.starts_with(prefix.as_str()))
            })
        })
}

/// The path of one line of a wheel's `RECORD` (CSV: `path,hash,size`; a path with a
/// comma is quoted).
fn record_path(line: &str) -> &str {
    match line.strip_prefix('"') {
        Some(quoted) => quoted.split('"').next().unwrap_or(""),
        None => line.split(',').next().unwrap_or(""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_compare_as_pep_503_says() {
        assert_eq!(
            distribution_name("/s/site-packages/PyJWT-1.7.1.dist-info"),
            "pyjwt"
        );
        assert_eq!(
            distribution_name("/s/site-packages/python_dateutil-2.9.0.dist-info"),
            "python-dateutil"
        );
        assert_eq!(
            distribution_name("/s/dist-packages/PyYAML.egg-info"),
            "pyyaml"
        );
    }

    #[test]
    fn strings_of_a_source_are_found_on_their_line() {
        let found = short_strings(
            b"names = [\"flask\", 'Requests']\nx = \"a\nprint(version(\"PyYAML\"))\n",
        );
        assert_eq!(found, ["flask", "requests", "pyyaml"]);
    }

    #[test]
    fn record_paths_may_be_quoted() {
        assert_eq!(
            record_path("jwt/__init__.py,sha256=x,12"),
            "jwt/__init__.py"
        );
        assert_eq!(record_path("\"a,b.py\",sha256=x,1"), "a,b.py");
    }
}
