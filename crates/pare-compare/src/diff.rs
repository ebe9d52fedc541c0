//! `pare diff A B`: what changed between two images, file by file (by content digest;
//! mode and owner changes apart), package by package, vulnerability by vulnerability,
//! in the config and the history, and in size per top-level directory.

use std::collections::{BTreeMap, BTreeSet};

pub use pare_image::index::Tally;
use pare_image::{EntryKind, Node};
use pare_vuln::matcher::Finding;
use pare_vuln::severity::Severity;
use serde::{Deserialize, Serialize};

use crate::inspect::Inspected;

/// The version of the JSON shape of [`ImageDiff`].
pub const SCHEMA: &str = "pare.diff/v1";

/// Everything that differs between `before` and `after`.
#[derive(Debug, Serialize, Deserialize)]
pub struct ImageDiff {
    pub schema: String,
    pub before: Side,
    pub after: Side,
    pub files: FileChanges,
    /// Per top-level directory (`/usr`; `/` for files at the root), sorted by path.
    pub directories: Vec<DirectorySizes>,
    pub packages: PackageChanges,
    /// `None` when no advisory database was given.
    pub vulnerabilities: Option<VulnerabilityChanges>,
    pub config: Vec<ConfigChange>,
    pub history: HistoryChanges,
}

/// The headline figures of one side.
#[derive(Debug, Serialize, Deserialize)]
pub struct Side {
    pub reference: String,
    pub name: String,
    pub config_digest: String,
    pub stored_bytes: u64,
    pub uncompressed_bytes: u64,
    /// Bytes of the files in the final filesystem (what `pare xray` calls content).
    pub content_bytes: u64,
    pub files: u64,
    pub layers: usize,
    pub packages: usize,
    pub vulnerabilities: Option<usize>,
}

/// One path present on one side only.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FileEntry {
    pub path: String,
    pub kind: EntryKind,
    pub size: u64,
}

/// A path whose content (or kind, or link target) differs.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ChangedFile {
    pub path: String,
    pub kind_before: EntryKind,
    pub kind_after: EntryKind,
    pub size_before: u64,
    pub size_after: u64,
}

/// A path with the same content whose mode or owner differs.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MetadataChange {
    pub path: String,
    /// Octal, four digits, and `uid:gid`.
    pub mode_before: String,
    pub mode_after: String,
    pub owner_before: String,
    pub owner_after: String,
}

/// Files (everything but directories) added, removed and changed, sorted by path.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct FileChanges {
    pub added: Vec<FileEntry>,
    pub removed: Vec<FileEntry>,
    pub changed: Vec<ChangedFile>,
    pub metadata_changed: Vec<MetadataChange>,
    pub unchanged: Tally,
}

/// The size of one top-level directory on each side.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DirectorySizes {
    pub directory: String,
    pub before: Tally,
    pub after: Tally,
}

/// A package name on one side only, with its versions and the bytes of its files.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PackageEntry {
    pub ecosystem: String,
    pub name: String,
    pub versions: Vec<String>,
    pub files: usize,
    pub bytes: u64,
}

/// A package on both sides whose versions differ.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PackageChange {
    pub ecosystem: String,
    pub name: String,
    pub before: Vec<String>,
    pub after: Vec<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct PackageChanges {
    pub added: Vec<PackageEntry>,
    pub removed: Vec<PackageEntry>,
    pub changed: Vec<PackageChange>,
    pub unchanged: usize,
}

/// A vulnerability of one package, as the diff lists it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct VulnerabilityEntry {
    pub id: String,
    pub severity: Severity,
    pub package: String,
    pub version: String,
    pub fixed: Option<String>,
}

/// Worst first.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct VulnerabilityChanges {
    pub added: Vec<VulnerabilityEntry>,
    pub removed: Vec<VulnerabilityEntry>,
    pub unchanged: usize,
}

/// One setting that differs; `None` where a side does not set it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigChange {
    /// `user`, `entrypoint`, `cmd`, `workdir`, `env PATH`, `port 8080/tcp`,
    /// `label org.opencontainers.image.version`, `volume /data`, `stop_signal`,
    /// `healthcheck`.
    pub setting: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// The build history (one entry per Dockerfile step): the steps both share from
/// the start, then what each has after that.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct HistoryChanges {
    pub common: usize,
    pub removed: Vec<String>,
    pub added: Vec<String>,
}

impl ImageDiff {
    /// Whether the two images are the same in everything the diff looks at.
    pub fn is_empty(&self) -> bool {
        let f = &self.files;
        let p = &self.packages;
        f.added.is_empty()
            && f.removed.is_empty()
            && f.changed.is_empty()
            && f.metadata_changed.is_empty()
            && p.added.is_empty()
            && p.removed.is_empty()
            && p.changed.is_empty()
            && self
                .vulnerabilities
                .as_ref()
                .is_none_or(|v| v.added.is_empty() && v.removed.is_empty())
            && self.config.is_empty()
            && self.history.added.is_empty()
            && self.history.removed.is_empty()
    }
}

impl FileChanges {
    /// Removed files by directory, `depth` components deep (`/usr/lib` at 2), largest
    /// first: where the bytes went.
    pub fn removed_by_directory(&self, depth: usize) -> Vec<(String, Tally)> {
        by_directory(&self.removed, depth)
    }

    /// Added files by directory, as [`FileChanges::removed_by_directory`].
    pub fn added_by_directory(&self, depth: usize) -> Vec<(String, Tally)> {
        by_directory(&self.added, depth)
    }
}

fn by_directory(entries: &[FileEntry], depth: usize) -> Vec<(String, Tally)> {
    let mut dirs: BTreeMap<String, Tally> = BTreeMap::new();
    for e in entries {
        dirs.entry(directory_at(&e.path, depth))
            .or_default()
            .add(e.size);
    }
    let mut out: Vec<(String, Tally)> = dirs.into_iter().collect();
    out.sort_by(|a, b| b.1.bytes.cmp(&a.1.bytes).then_with(|| a.0.cmp(&b.0)));
    out
}

/// The directory of `path` cut to `depth` components: `/usr/lib/x/y` at 2 is
/// `/usr/lib`; a file higher up counts in its own directory (`/etc/passwd` at 2 is
/// `/etc`, `/vmlinuz` is `/`).
pub fn directory_at(path: &str, depth: usize) -> String {
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    let dir_parts = parts.len().saturating_sub(1).min(depth);
    if dir_parts == 0 {
        "/".into()
    } else {
        format!("/{}", parts[..dir_parts].join("/"))
    }
}

/// Compares two inspected images.
pub fn diff(before: &Inspected, after: &Inspected) -> ImageDiff {
    let files = files(before, after);
    ImageDiff {
        schema: SCHEMA.into(),
        before: side(before),
        after: side(after),
        directories: directories(before, after),
        packages: packages(before, after),
        vulnerabilities: match (&before.vulnerabilities, &after.vulnerabilities) {
            (Some(a), Some(b)) => Some(vulnerabilities(a, b)),
            _ => None,
        },
        config: config(before, after),
        history: history(before, after),
        files,
    }
}

fn side(i: &Inspected) -> Side {
    let facts = &i.xray.image;
    Side {
        reference: facts.source.reference.clone(),
        name: i.name().to_owned(),
        config_digest: facts.source.config_digest.clone(),
        stored_bytes: facts.compressed_bytes,
        uncompressed_bytes: facts.uncompressed_bytes,
        content_bytes: facts.content_bytes,
        files: facts.files,
        layers: i.xray.layers.len(),
        packages: i.sbom.packages.len(),
        vulnerabilities: i.vulnerabilities.as_ref().map(Vec::len),
    }
}

/// The non-directory nodes of an image.
fn file_nodes(i: &Inspected) -> impl Iterator<Item = (&String, &Node)> {
    i.image
        .index
        .nodes
        .iter()
        .filter(|(_, n)| n.kind != EntryKind::Dir)
}

fn files(before: &Inspected, after: &Inspected) -> FileChanges {
    let old = &before.image.index.nodes;
    let new = &after.image.index.nodes;
    let mut out = FileChanges::default();
    let entry = |path: &String, n: &Node| FileEntry {
        path: path.clone(),
        kind: n.kind,
        size: n.size,
    };
    for (path, a) in file_nodes(before) {
        match new.get(path).filter(|b| b.kind != EntryKind::Dir) {
            None => out.removed.push(entry(path, a)),
            Some(b) if content_differs(a, b) => out.changed.push(ChangedFile {
                path: path.clone(),
                kind_before: a.kind,
                kind_after: b.kind,
                size_before: a.size,
                size_after: b.size,
            }),
            Some(b) if (a.mode, a.uid, a.gid) != (b.mode, b.uid, b.gid) => {
                out.metadata_changed.push(MetadataChange {
                    path: path.clone(),
                    mode_before: format!("{:04o}", a.mode),
                    mode_after: format!("{:04o}", b.mode),
                    owner_before: format!("{}:{}", a.uid, a.gid),
                    owner_after: format!("{}:{}", b.uid, b.gid),
                })
            }
            Some(b) => out.unchanged.add(b.size),
        }
    }
    for (path, b) in file_nodes(after) {
        if old.get(path).is_none_or(|a| a.kind == EntryKind::Dir) {
            out.added.push(entry(path, b));
        }
    }
    out
}

/// Content, not metadata: the kind, the bytes (size and xxh3 digest) or the link.
fn content_differs(a: &Node, b: &Node) -> bool {
    a.kind != b.kind || a.size != b.size || a.content_hash != b.content_hash || a.link != b.link
}

fn directories(before: &Inspected, after: &Inspected) -> Vec<DirectorySizes> {
    let mut dirs: BTreeMap<String, DirectorySizes> = BTreeMap::new();
    let mut tally = |i: &Inspected, pick: fn(&mut DirectorySizes) -> &mut Tally| {
        for (path, node) in file_nodes(i) {
            let dir = directory_at(path, 1);
            let sizes = dirs.entry(dir.clone()).or_insert_with(|| DirectorySizes {
                directory: dir,
                before: Tally::default(),
                after: Tally::default(),
            });
            pick(sizes).add(node.size);
        }
    };
    tally(before, |d| &mut d.before);
    tally(after, |d| &mut d.after);
    dirs.into_values().collect()
}

/// Packages by (ecosystem, name): their versions, files and bytes.
fn package_groups(i: &Inspected) -> BTreeMap<(String, String), PackageEntry> {
    let mut groups: BTreeMap<(String, String), PackageEntry> = BTreeMap::new();
    for p in &i.sbom.packages {
        let key = (p.ecosystem.name().to_owned(), p.name.clone());
        let group = groups.entry(key).or_insert_with(|| PackageEntry {
            ecosystem: p.ecosystem.name().to_owned(),
            name: p.name.clone(),
            versions: Vec::new(),
            files: 0,
            bytes: 0,
        });
        if !group.versions.contains(&p.version) {
            group.versions.push(p.version.clone());
            group.versions.sort();
        }
        group.files += p.files.len();
        group.bytes += p
            .file_paths()
            .filter_map(|f| i.image.index.nodes.get(f))
            .map(|n| n.size)
            .sum::<u64>();
    }
    groups
}

fn packages(before: &Inspected, after: &Inspected) -> PackageChanges {
    let old = package_groups(before);
    let mut new = package_groups(after);
    let mut out = PackageChanges::default();
    for (key, a) in old {
        match new.remove(&key) {
            None => out.removed.push(a),
            Some(b) if a.versions != b.versions => out.changed.push(PackageChange {
                ecosystem: a.ecosystem,
                name: a.name,
                before: a.versions,
                after: b.versions,
            }),
            Some(_) => out.unchanged += 1,
        }
    }
    out.added = new.into_values().collect();
    out
}

fn vulnerabilities(before: &[Finding], after: &[Finding]) -> VulnerabilityChanges {
    // The same vulnerability of the same package, whatever its version.
    let key = |f: &Finding| {
        (
            f.id.clone(),
            f.package.ecosystem.clone(),
            f.package.name.clone(),
        )
    };
    let old: BTreeSet<_> = before.iter().map(key).collect();
    let new: BTreeSet<_> = after.iter().map(key).collect();
    let entry = |f: &Finding| VulnerabilityEntry {
        id: f.id.clone(),
        severity: f.severity,
        package: f.package.name.clone(),
        version: f.package.version.clone(),
        fixed: f.fixed.clone(),
    };
    let worst_first = |mut v: Vec<VulnerabilityEntry>| {
        v.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then_with(|| (&a.package, &a.id).cmp(&(&b.package, &b.id)))
        });
        v.dedup_by(|a, b| (&a.id, &a.package) == (&b.id, &b.package));
        v
    };
    VulnerabilityChanges {
        added: worst_first(
            after
                .iter()
                .filter(|f| !old.contains(&key(f)))
                .map(entry)
                .collect(),
        ),
        removed: worst_first(
            before
                .iter()
                .filter(|f| !new.contains(&key(f)))
                .map(entry)
                .collect(),
        ),
        unchanged: old.intersection(&new).count(),
    }
}

/// Each setting as text, keyed by what `ConfigChange::setting` calls it.
fn settings(i: &Inspected) -> BTreeMap<String, String> {
    let f = &i.xray.image;
    let mut s: BTreeMap<String, String> = BTreeMap::new();
    let json = |v: &Vec<String>| serde_json::to_string(v).unwrap_or_default();
    if !f.user.is_empty() {
        s.insert("user".into(), f.user.clone());
    }
    if let Some(e) = &f.entrypoint {
        s.insert("entrypoint".into(), json(e));
    }
    if let Some(c) = &f.cmd {
        s.insert("cmd".into(), json(c));
    }
    if let Some(w) = &f.workdir {
        s.insert("workdir".into(), w.clone());
    }
    for e in &f.env {
        let (k, v) = e.split_once('=').unwrap_or((e, ""));
        s.insert(format!("env {k}"), v.to_owned());
    }
    for p in &f.exposed_ports {
        s.insert(format!("port {p}"), "exposed".into());
    }
    for v in &f.volumes {
        s.insert(format!("volume {v}"), "declared".into());
    }
    for (k, v) in &f.labels {
        s.insert(format!("label {k}"), v.clone());
    }
    if let Some(sig) = &f.stop_signal {
        s.insert("stop_signal".into(), sig.clone());
    }
    if let Some(h) = &f.healthcheck {
        s.insert("healthcheck".into(), h.to_string());
    }
    s
}

fn config(before: &Inspected, after: &Inspected) -> Vec<ConfigChange> {
    let old = settings(before);
    let new = settings(after);
    let keys: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    keys.into_iter()
        .filter(|k| old.get(*k) != new.get(*k))
        .map(|k| ConfigChange {
            setting: k.clone(),
            before: old.get(k).cloned(),
            after: new.get(k).cloned(),
        })
        .collect()
}

fn history(before: &Inspected, after: &Inspected) -> HistoryChanges {
    let old = &before.xray.dockerfile;
    let new = &after.xray.dockerfile;
    let common = old.iter().zip(new).take_while(|(a, b)| a == b).count();
    HistoryChanges {
        common,
        removed: old[common..].to_vec(),
        added: new[common..].to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::directory_at;

    #[test]
    fn directories_at_a_depth() {
        assert_eq!(directory_at("/usr/lib/x/y.so", 2), "/usr/lib");
        assert_eq!(directory_at("/usr/lib/x/y.so", 1), "/usr");
        assert_eq!(directory_at("/etc/passwd", 2), "/etc");
        assert_eq!(directory_at("/vmlinuz", 1), "/");
    }
}
