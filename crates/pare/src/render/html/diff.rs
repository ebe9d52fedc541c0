//! `pare diff --html`: what was removed by directory and by package, what else changed.
//! The same sections open the build page.

use pare_compare::diff::{FileEntry, ImageDiff, PackageEntry};
use serde::Serialize;

use super::chart::{BarChart, Series};
use super::page;
use crate::units::bytes;

/// Files listed per list at most (largest first); `--format json` has them all.
const FILES_LISTED: usize = 5_000;
/// Bars in the by-directory and by-package charts.
const BARS: usize = 15;

/// A file list cut to its largest entries.
#[derive(Serialize)]
struct Listed {
    total: usize,
    entries: Vec<FileEntry>,
}

fn largest(files: &[FileEntry]) -> Listed {
    let mut entries = files.to_vec();
    entries.sort_by(|a, b| b.size.cmp(&a.size).then_with(|| a.path.cmp(&b.path)));
    entries.truncate(FILES_LISTED);
    Listed {
        total: files.len(),
        entries,
    }
}

/// A top directory and its change in bytes, signed as people read it.
#[derive(Serialize)]
struct Directory<'a> {
    #[serde(flatten)]
    sizes: &'a pare_compare::diff::DirectorySizes,
    change: String,
}

/// What both the diff and the build page show.
#[derive(Serialize)]
pub struct Changes<'a> {
    diff: serde_json::Value,
    removed_chart: Option<String>,
    package_chart: Option<String>,
    removed_packages: Vec<PackageEntry>,
    removed_files: Listed,
    added_files: Listed,
    vulnerabilities_note: &'a str,
}

impl<'a> Changes<'a> {
    /// `vulnerabilities_note` says why there are no vulnerabilities, when there are none.
    pub fn new(d: &ImageDiff, vulnerabilities_note: &'a str) -> anyhow::Result<Self> {
        let by_dir = d.files.removed_by_directory(2);
        let removed_chart = (!by_dir.is_empty()).then(|| {
            BarChart {
                title: "Bytes removed, by directory",
                series: vec![Series {
                    name: "removed",
                    colour: "#d62728",
                }],
                rows: by_dir
                    .iter()
                    .take(BARS)
                    .map(|(dir, t)| (format!("{dir} ({} files)", t.files), vec![t.bytes]))
                    .collect(),
                stacked: false,
                format: bytes,
            }
            .svg()
        });
        let mut removed_packages = d.packages.removed.clone();
        removed_packages.sort_by(|a, b| b.bytes.cmp(&a.bytes).then_with(|| a.name.cmp(&b.name)));
        let package_chart = (!removed_packages.is_empty()).then(|| {
            BarChart {
                title: "Bytes removed, by package (largest)",
                series: vec![Series {
                    name: "files of the package",
                    colour: "#b07aa1",
                }],
                rows: removed_packages
                    .iter()
                    .take(BARS)
                    .map(|p| (format!("{} {}", p.ecosystem, p.name), vec![p.bytes]))
                    .collect(),
                stacked: false,
                format: bytes,
            }
            .svg()
        });
        let mut diff = serde_json::to_value(d)?;
        let directories: Vec<Directory> = d
            .directories
            .iter()
            .map(|s| Directory {
                sizes: s,
                change: signed_bytes(s.after.bytes as i128 - s.before.bytes as i128),
            })
            .collect();
        diff["directories"] = serde_json::to_value(directories)?;
        Ok(Changes {
            diff,
            removed_chart,
            package_chart,
            removed_packages,
            removed_files: largest(&d.files.removed),
            added_files: largest(&d.files.added),
            vulnerabilities_note,
        })
    }
}

/// `-150.2 MB`, `+3.1 kB`, `0 B`.
pub fn signed_bytes(n: i128) -> String {
    match n {
        0 => "0 B".into(),
        n if n > 0 => format!("+{}", bytes(n as u64)),
        n => format!("-{}", bytes(n.unsigned_abs() as u64)),
    }
}

/// The diff page.
pub fn diff(d: &ImageDiff, vulnerabilities_note: &str) -> anyhow::Result<String> {
    page("diff.html", Changes::new(d, vulnerabilities_note)?)
}
