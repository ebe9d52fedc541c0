//! What every cataloger works with, apart from [`crate::catalog`], which runs them:
//! the catalogers import this and catalog imports the catalogers, and neither imports
//! the other back.

use std::collections::BTreeMap;

use pare_image::{EntryKind, FileIndex, Node};

use crate::links::{Links, full_content};
use crate::package::{Checksum, Distro, OwnedFile, Warning};

/// What every cataloger works with: the folded index, the distro, and a place to put
/// warnings.
pub(crate) struct Context<'a> {
    pub index: &'a FileIndex,
    pub distro: Option<Distro>,
    pub warnings: Vec<Warning>,
    /// Metadata reached through hard links and symlinks.
    links: Links,
}

impl<'a> Context<'a> {
    pub fn new(index: &'a FileIndex) -> Self {
        let links = Links::find(index);
        Context {
            index,
            distro: None,
            warnings: links.warnings(index),
            links,
        }
    }

    /// Records a warning about `path`.
    pub fn warn(&mut self, path: &str, message: impl Into<String>) {
        self.warnings.push(Warning {
            path: path.to_owned(),
            message: message.into(),
        });
    }

    /// The kept bytes of the regular file at `path`; metadata behind a hard link or a
    /// symlink (see [`crate::links`]) is read from the file it really is.
    pub fn content(&self, path: &str) -> Option<&'a [u8]> {
        if let Some(alias) = self.links.aliases.get(path) {
            return full_content(self.index, &alias.real);
        }
        self.index
            .nodes
            .get(path)
            .filter(|n| n.kind == EntryKind::File)
            .and_then(|n| n.content.as_deref())
    }

    /// The kept bytes at `path` as text (invalid UTF-8 replaced).
    pub fn text(&self, path: &str) -> Option<String> {
        self.content(path)
            .map(|b| String::from_utf8_lossy(b).into_owned())
    }

    /// Every kept regular file in path order, then the metadata read through links
    /// under the names catalogers look for.
    pub fn kept_files(&self) -> impl Iterator<Item = (&str, &'a Node)> + '_ {
        let index = self.index;
        let own = index
            .nodes
            .iter()
            .filter(|(_, n)| n.kind == EntryKind::File && n.content.is_some())
            .map(|(p, n)| (p.as_str(), n));
        let linked = self
            .links
            .aliases
            .iter()
            .filter_map(move |(logical, alias)| {
                full_content(index, &alias.real)?;
                Some((logical.as_str(), index.nodes.get(&alias.real)?))
            });
        own.chain(linked)
    }

    /// Where a file a package lists really is, when it is present and not a directory:
    /// symlinks in its parent directories are followed (`/lib/x` → `/usr/lib/x`), the
    /// last component is not (a packaged symlink is owned as a symlink).
    pub fn present(&self, path: &str) -> Option<String> {
        if let Some(node) = self.index.nodes.get(path) {
            return (node.kind != EntryKind::Dir).then(|| path.to_owned());
        }
        let (dir, name) = path.rsplit_once('/')?;
        if name.is_empty() || dir.is_empty() {
            return None;
        }
        let (real_dir, node) = self.index.resolve(dir)?;
        if node.kind != EntryKind::Dir {
            return None;
        }
        let real = if real_dir == "/" {
            format!("/{name}")
        } else {
            format!("{real_dir}/{name}")
        };
        let node = self.index.nodes.get(&real)?;
        (node.kind != EntryKind::Dir).then_some(real)
    }

    /// The present files among `listed` (with their checksums), deduplicated and sorted.
    pub fn owned_files(
        &self,
        listed: impl IntoIterator<Item = (String, Option<Checksum>)>,
    ) -> Vec<OwnedFile> {
        let mut files: BTreeMap<String, Option<Checksum>> = BTreeMap::new();
        for (path, checksum) in listed {
            if let Some(real) = self.present(&path) {
                let slot = files.entry(real).or_default();
                if slot.is_none() {
                    *slot = checksum;
                }
            }
        }
        files
            .into_iter()
            .map(|(path, checksum)| OwnedFile { path, checksum })
            .collect()
    }
}
