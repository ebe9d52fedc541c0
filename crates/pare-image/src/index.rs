//! The squashed filesystem index: layers folded in order, whiteouts applied as the OCI
//! image spec says, and a record of everything a later layer hid (wasted space).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde::Serialize;

use crate::layer::{EntryKind, LayerEntry, ParsedLayer, UnsafeEntry};
use crate::path::ImagePath;

/// The final version of one path.
#[derive(Clone, Debug)]
pub struct Node {
    pub kind: EntryKind,
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    pub size: u64,
    pub mtime: u64,
    pub link: Option<String>,
    pub content_hash: Option<u128>,
    pub xattrs: Vec<(String, Vec<u8>)>,
    pub content: Option<Arc<[u8]>>,
    /// The layer (0-based) that provides this version.
    pub layer: usize,
}

/// A count of files and their bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Tally {
    pub files: u64,
    pub bytes: u64,
}

impl Tally {
    /// Counts one more file of `bytes`.
    pub fn add(&mut self, bytes: u64) {
        self.files += 1;
        self.bytes += bytes;
    }
}

/// What one layer did to the filesystem below it. Directories are not counted:
/// a layer "changes" a directory whenever it writes into it.
#[derive(Clone, Debug, Default, Serialize)]
pub struct LayerChanges {
    pub added: Tally,
    pub modified: Tally,
    pub deleted: Tally,
}

/// How a file version came to be hidden.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HiddenBy {
    Overwritten,
    Deleted,
}

/// A file version that a later layer overwrote or deleted: bytes shipped for nothing.
#[derive(Clone, Debug, Serialize)]
pub struct HiddenFile {
    pub path: ImagePath,
    pub size: u64,
    pub added_in: usize,
    pub hidden_in: usize,
    pub how: HiddenBy,
}

/// An entry that was refused or flagged, with its layer.
#[derive(Clone, Debug, Serialize)]
pub struct LayerUnsafeEntry {
    pub layer: usize,
    #[serde(flatten)]
    pub entry: UnsafeEntry,
}

/// The folded image.
#[derive(Clone, Debug, Default)]
pub struct FileIndex {
    pub nodes: BTreeMap<ImagePath, Node>,
    pub changes: Vec<LayerChanges>,
    pub hidden: Vec<HiddenFile>,
    pub unsafe_entries: Vec<LayerUnsafeEntry>,
    /// Per path: (sum of sizes of every version, smallest version), as dive scores it.
    path_sizes: HashMap<ImagePath, PathSizes>,
}

#[derive(Clone, Copy, Debug)]
struct PathSizes {
    cumulative: u64,
    smallest: u64,
    versions: u32,
}

/// dive's efficiency score and its notion of wasted bytes, for comparison with dive.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Efficiency {
    /// smallest version of each path / all versions of each path (1.0 = nothing wasted).
    pub score: f64,
    /// Sum of all versions' sizes of every path that appears in more than one layer
    /// (dive counts the surviving version too).
    pub dive_wasted_bytes: u64,
}

impl FileIndex {
    /// Folds parsed layers, bottom first.
    pub fn build(layers: impl IntoIterator<Item = ParsedLayer>) -> Self {
        let mut index = FileIndex::default();
        for (i, layer) in layers.into_iter().enumerate() {
            index.apply(i, layer);
        }
        index
    }

    /// Applies one layer on top. Whiteouts go first: per the OCI spec they only hide
    /// what lower layers made, never what the same layer adds.
    pub fn apply(&mut self, layer_no: usize, layer: ParsedLayer) {
        let mut changes = LayerChanges::default();
        self.unsafe_entries
            .extend(
                layer
                    .unsafe_entries
                    .into_iter()
                    .map(|entry| LayerUnsafeEntry {
                        layer: layer_no,
                        entry,
                    }),
            );
        let (whiteouts, entries): (Vec<LayerEntry>, Vec<LayerEntry>) = layer
            .entries
            .into_iter()
            .partition(|e| matches!(e.kind, EntryKind::Whiteout | EntryKind::OpaqueWhiteout));
        for w in &whiteouts {
            let is_opaque = w.kind == EntryKind::OpaqueWhiteout;
            let deletes_dir = !is_opaque
                && self
                    .nodes
                    .get(&w.path)
                    .is_some_and(|n| n.kind == EntryKind::Dir);
            let removed = self.remove_tree(&w.path, !is_opaque);
            let mut bytes = 0;
            for (path, node) in removed {
                bytes += node.size;
                if node.kind != EntryKind::Dir {
                    changes.deleted.add(node.size);
                    self.hide(path, &node, layer_no, HiddenBy::Deleted);
                }
            }
            // dive scores a whiteout of a directory as large as the tree it deletes,
            // a whiteout of a file as 0 bytes, and an opaque marker not at all; we
            // follow it so that the two tools' scores can be compared.
            if !is_opaque {
                self.record_version(&w.path, if deletes_dir { bytes } else { 0 });
            }
        }
        for entry in entries {
            self.put(layer_no, entry, &mut changes);
        }
        self.changes.push(changes);
    }

    fn put(&mut self, layer_no: usize, entry: LayerEntry, changes: &mut LayerChanges) {
        let LayerEntry {
            path,
            kind,
            mode,
            uid,
            gid,
            size,
            mtime,
            link,
            content_hash,
            xattrs,
            content,
        } = entry;
        if kind != EntryKind::Dir {
            self.record_version(&path, size);
        }
        match self.nodes.get(&path) {
            Some(old) if old.kind == EntryKind::Dir && kind == EntryKind::Dir => {}
            Some(old) if old.kind == EntryKind::Dir => {
                // A file replaces a directory: its whole tree is gone.
                for (p, node) in self.remove_tree(&path, true) {
                    if node.kind != EntryKind::Dir {
                        changes.deleted.add(node.size);
                        self.hide(p, &node, layer_no, HiddenBy::Deleted);
                    }
                }
                changes.added.add(size);
            }
            Some(old) => {
                let old = old.clone();
                if kind != EntryKind::Dir {
                    changes.modified.add(size);
                }
                if old.layer != layer_no {
                    self.hide(path.clone(), &old, layer_no, HiddenBy::Overwritten);
                }
            }
            None => {
                if kind != EntryKind::Dir {
                    changes.added.add(size);
                }
            }
        }
        self.nodes.insert(
            path,
            Node {
                kind,
                mode,
                uid,
                gid,
                size,
                mtime,
                link,
                content_hash,
                xattrs,
                content,
                layer: layer_no,
            },
        );
    }

    fn hide(&mut self, path: ImagePath, node: &Node, layer_no: usize, how: HiddenBy) {
        self.hidden.push(HiddenFile {
            path,
            size: node.size,
            added_in: node.layer,
            hidden_in: layer_no,
            how,
        });
    }

    fn record_version(&mut self, path: &str, size: u64) {
        self.path_sizes
            .entry(path.to_owned())
            .and_modify(|s| {
                s.cumulative += size;
                s.smallest = s.smallest.min(size);
                s.versions += 1;
            })
            .or_insert(PathSizes {
                cumulative: size,
                smallest: size,
                versions: 1,
            });
    }

    /// Removes everything below `dir` (and `dir` itself when `with_root`).
    fn remove_tree(&mut self, dir: &str, with_root: bool) -> Vec<(ImagePath, Node)> {
        let mut keys: Vec<ImagePath> = self.descendants(dir).map(|(k, _)| k.clone()).collect();
        if with_root && self.nodes.contains_key(dir) {
            keys.push(dir.to_owned());
        }
        keys.into_iter()
            .filter_map(|k| self.nodes.remove(&k).map(|n| (k, n)))
            .collect()
    }

    /// Every path strictly below `dir`, in order.
    pub fn descendants<'a>(
        &'a self,
        dir: &str,
    ) -> impl Iterator<Item = (&'a ImagePath, &'a Node)> + 'a {
        let prefix = if dir == "/" {
            "/".to_owned()
        } else {
            format!("{dir}/")
        };
        let dir_is_root = dir == "/";
        self.nodes
            .range(prefix.clone()..)
            .take_while(move |(k, _)| k.starts_with(&prefix))
            .filter(move |(k, _)| !(dir_is_root && k.as_str() == "/"))
    }

    /// Bytes hidden by later layers: what a flatter build would not ship.
    pub fn wasted_bytes(&self) -> u64 {
        self.hidden.iter().map(|h| h.size).sum()
    }

    /// dive's efficiency score and wasted bytes.
    pub fn efficiency(&self) -> Efficiency {
        let (mut smallest, mut cumulative, mut dive_wasted) = (0u64, 0u64, 0u64);
        for sizes in self.path_sizes.values() {
            smallest += sizes.smallest;
            cumulative += sizes.cumulative;
            if sizes.versions > 1 {
                dive_wasted += sizes.cumulative;
            }
        }
        Efficiency {
            score: if cumulative == 0 {
                1.0
            } else {
                smallest as f64 / cumulative as f64
            },
            dive_wasted_bytes: dive_wasted,
        }
    }

    /// Follows symlinks (relative and absolute, within the image) to the final node,
    /// at most 40 hops as the kernel does.
    pub fn resolve(&self, path: &str) -> Option<(ImagePath, &Node)> {
        let mut current = crate::path::normalize(path).ok()?;
        for _ in 0..40 {
            let resolved = self.resolve_parents(&current)?;
            let node = self.nodes.get(&resolved)?;
            match (&node.kind, &node.link) {
                (EntryKind::Symlink, Some(target)) => {
                    let joined = if target.starts_with('/') {
                        target.clone()
                    } else {
                        crate::path::join(crate::path::parent(&resolved), target)
                    };
                    current = normalize_clamped(&joined);
                }
                _ => return Some((resolved, node)),
            }
        }
        None
    }

    /// Resolves symlinks in the directory part of `path` (so `/lib/x` finds `/usr/lib/x`).
    fn resolve_parents(&self, path: &str) -> Option<ImagePath> {
        let mut resolved = String::new();
        let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
        for (i, part) in parts.iter().enumerate() {
            let candidate = format!("{resolved}/{part}");
            let last = i + 1 == parts.len();
            match self.nodes.get(&candidate) {
                Some(node) if !last && node.kind == EntryKind::Symlink => {
                    let (target, _) = self.resolve(&candidate)?;
                    resolved = if target == "/" { String::new() } else { target };
                }
                _ => resolved = candidate,
            }
        }
        Some(if resolved.is_empty() {
            "/".into()
        } else {
            resolved
        })
    }
}

/// Lexical normalisation where `..` at the root stays at the root, as the kernel does
/// inside a container.
fn normalize_clamped(path: &str) -> ImagePath {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    if parts.is_empty() {
        "/".into()
    } else {
        parts.iter().map(|p| format!("/{p}")).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::TarItem;

    fn layer(items: &[TarItem]) -> ParsedLayer {
        crate::testutil::parsed_layer(items)
    }

    #[test]
    fn whiteouts_overwrites_and_waste() {
        let index = FileIndex::build([
            layer(&[
                TarItem::dir("etc/"),
                TarItem::file("etc/conf", &[1; 100], 0o644),
                TarItem::file("big", &[2; 1000], 0o644),
                TarItem::dir("opt/"),
                TarItem::file("opt/a", &[3; 10], 0o644),
                TarItem::file("opt/b", &[4; 20], 0o644),
            ]),
            layer(&[
                TarItem::file("etc/conf", &[5; 50], 0o644),
                TarItem::file(".wh.big", b"", 0o644),
            ]),
            layer(&[
                TarItem::dir("opt/"),
                TarItem::file("opt/.wh..wh..opq", b"", 0o644),
                TarItem::file("opt/c", &[6; 5], 0o644),
            ]),
        ]);
        let paths: Vec<_> = index.nodes.keys().map(String::as_str).collect();
        assert_eq!(paths, ["/etc", "/etc/conf", "/opt", "/opt/c"]);
        assert_eq!(index.nodes["/etc/conf"].size, 50);
        assert_eq!(index.nodes["/etc/conf"].layer, 1);
        assert_eq!(index.wasted_bytes(), 100 + 1000 + 10 + 20);
        assert_eq!(
            index.changes[1].modified,
            Tally {
                files: 1,
                bytes: 50
            }
        );
        assert_eq!(
            index.changes[1].deleted,
            Tally {
                files: 1,
                bytes: 1000
            }
        );
        assert_eq!(
            index.changes[2].deleted,
            Tally {
                files: 2,
                bytes: 30
            }
        );
        assert_eq!(index.changes[2].added, Tally { files: 1, bytes: 5 });
        let eff = index.efficiency();
        // As dive scores it: a file whiteout is a 0-byte version, an opaque marker is
        // no version: etc/conf (100+50, min 50), big (1000+0, min 0), opt/a 10,
        // opt/b 20, opt/c 5
        let smallest = 50 + 10 + 20 + 5;
        let cumulative = 150 + 1000 + 10 + 20 + 5;
        assert!((eff.score - smallest as f64 / cumulative as f64).abs() < 1e-9);
        assert_eq!(eff.dive_wasted_bytes, 150 + 1000);
    }

    #[test]
    fn whiteout_in_same_layer_does_not_hide_that_layers_file() {
        let index = FileIndex::build([
            layer(&[TarItem::file("x", b"old", 0o644)]),
            layer(&[
                TarItem::file("x", b"new", 0o644),
                TarItem::file(".wh.x", b"", 0o644),
            ]),
        ]);
        assert_eq!(index.nodes["/x"].layer, 1);
    }

    #[test]
    fn resolves_through_usrmerge_links() {
        let index = FileIndex::build([layer(&[
            TarItem::dir("usr/"),
            TarItem::dir("usr/lib/"),
            TarItem::file("usr/lib/libz.so.1.2", b"elf", 0o644),
            TarItem::symlink("usr/lib/libz.so.1", "libz.so.1.2"),
            TarItem::symlink("lib", "usr/lib"),
            TarItem::symlink("loop", "loop"),
        ])]);
        let (path, node) = index.resolve("/lib/libz.so.1").unwrap();
        assert_eq!(path, "/usr/lib/libz.so.1.2");
        assert_eq!(node.size, 3);
        assert!(index.resolve("/loop").is_none());
    }
}
