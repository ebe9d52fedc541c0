//! Package metadata reached through links. A `/var/lib/dpkg/status` that is a hard
//! link to another file or a symlink (absolute or relative), or a `/var/lib/dpkg`
//! that is a symlinked directory, is read by dpkg inside the container all the same;
//! so is an apk or rpm database, a `*.dist-info` or a `package.json` behind one.
//! Catalogers read them too: every link is resolved inside the image root (an
//! absolute target is the image's, never the host's), the metadata is read from where
//! it really is under the name the cataloger looks for, and each such link is a
//! warning. A link that does not resolve is a warning as well: never a silent 0.

use std::collections::{BTreeMap, BTreeSet};

use pare_image::{EntryKind, FileIndex, Node};

use crate::package::Warning;

/// How many entries below symlinked directories are looked at, at most: an image with
/// thousands of links to `/` must not cost quadratic time.
const VISIT_BUDGET: usize = 4_000_000;

/// Where a whole package database lives: a link on the way to one that does not
/// resolve loses every package of that distro.
const DATABASES: [&str; 5] = [
    "/var/lib/dpkg/status",
    "/lib/apk/db/installed",
    "/usr/lib/apk/db/installed",
    "/var/lib/rpm/rpmdb.sqlite",
    "/usr/lib/sysimage/rpm/rpmdb.sqlite",
];

/// A metadata file that is not a regular file where a cataloger looks for it.
#[derive(Clone, Debug)]
pub(crate) struct Alias {
    /// The regular file it really is.
    pub real: String,
    /// The link through which it is reached (the path itself, or a directory above).
    pub link: String,
}

/// The links to package metadata in one index.
#[derive(Debug, Default)]
pub(crate) struct Links {
    /// Where a cataloger looks → what it reads there.
    pub aliases: BTreeMap<String, Alias>,
    /// Per link: what it is, for the warning that notes it.
    pub found: BTreeMap<String, String>,
    /// Links to metadata that do not resolve.
    pub broken: Vec<Warning>,
}

impl Links {
    /// Finds every link under which a cataloger's file (see [`crate::wanted`]) lies.
    pub fn find(index: &FileIndex) -> Links {
        let mut links = Links::default();
        let mut budget = VISIT_BUDGET;
        for (path, node) in &index.nodes {
            match node.kind {
                EntryKind::Hardlink => links.hardlink(index, path, node),
                EntryKind::Symlink => links.symlink(index, path, node, &mut budget),
                _ => {}
            }
        }
        if budget == 0 {
            links.broken.push(Warning {
                path: "/".into(),
                message: "too many entries below symlinked directories: package metadata \
                          behind some of them was not looked for"
                    .into(),
            });
        }
        links
    }

    /// The real files behind aliases whose bytes `index` does not hold in full: what a
    /// second read must keep.
    pub fn unread(&self, index: &FileIndex) -> BTreeSet<String> {
        self.aliases
            .values()
            .filter(|a| full_content(index, &a.real).is_none())
            .map(|a| a.real.clone())
            .collect()
    }

    /// The warnings a catalog carries: each link noted, and what could not be read.
    pub fn warnings(&self, index: &FileIndex) -> Vec<Warning> {
        let mut unread: BTreeSet<&str> = BTreeSet::new();
        for alias in self.aliases.values() {
            if full_content(index, &alias.real).is_none() {
                unread.insert(&alias.link);
            }
        }
        let mut warnings = self.broken.clone();
        for (link, what) in &self.found {
            let message = if unread.contains(link.as_str()) {
                format!("{what}; the package metadata behind it was not read: packages are missing")
            } else {
                format!(
                    "{what}; the package metadata is read through it, as the package manager would"
                )
            };
            warnings.push(Warning {
                path: link.clone(),
                message,
            });
        }
        warnings
    }

    fn hardlink(&mut self, index: &FileIndex, path: &str, node: &Node) {
        if !names_metadata(path) {
            return;
        }
        let target = node.link.as_deref().unwrap_or_default();
        match regular_file(index, target) {
            Some((real, file)) if self.alias(index, path, &real, file, path) => {
                self.found
                    .insert(path.to_owned(), format!("a hard link to {target}"));
            }
            Some(_) => {}
            None => self.broken.push(Warning {
                path: path.to_owned(),
                message: format!(
                    "a hard link to {target}, which is not a regular file of the image: \
                     package metadata not read"
                ),
            }),
        }
    }

    fn symlink(&mut self, index: &FileIndex, path: &str, node: &Node, budget: &mut usize) {
        let target = node.link.as_deref().unwrap_or_default();
        let what = || format!("a symlink to {target}");
        // Most links (a library's soname, /bin) are no metadata: resolved once, and
        // only a directory is looked into.
        let metadata = names_metadata(path);
        let resolved = index.resolve(path);
        let mut noted = false;
        match resolved {
            Some((real, found)) if found.kind == EntryKind::Dir => {
                let below = index.descendants(&real).take(*budget);
                let mut visited = 0;
                let mut logical = String::new();
                for (inner, node) in below {
                    visited += 1;
                    if node.kind == EntryKind::Dir {
                        continue;
                    }
                    let rest = if real == "/" {
                        inner.as_str()
                    } else {
                        &inner[real.len()..]
                    };
                    logical.clear();
                    logical.push_str(path);
                    logical.push_str(rest);
                    if !crate::wanted(&logical, 0) {
                        continue;
                    }
                    if let Some((file_path, file)) = regular_file(index, inner) {
                        noted |= self.alias(index, &logical, &file_path, file, path);
                    }
                }
                *budget -= visited;
            }
            Some(_) if !metadata => {}
            Some((real, _)) => match regular_file(index, &real) {
                Some((file_path, file)) => noted = self.alias(index, path, &file_path, file, path),
                None => self.broken.push(Warning {
                    path: path.to_owned(),
                    message: format!(
                        "{}, which is not a regular file: package metadata not read",
                        what()
                    ),
                }),
            },
            None if metadata => self.broken.push(Warning {
                path: path.to_owned(),
                message: format!(
                    "{}, which does not resolve inside the image: package metadata not read",
                    what()
                ),
            }),
            None => {}
        }
        if noted {
            self.found.insert(path.to_owned(), what());
        }
    }

    /// Records that a cataloger looking at `logical` reads `real`, when it would look
    /// there and would not find `real` on its own. Says whether it did.
    fn alias(
        &mut self,
        index: &FileIndex,
        logical: &str,
        real: &str,
        file: &Node,
        link: &str,
    ) -> bool {
        let own_file = index
            .nodes
            .get(logical)
            .is_some_and(|n| n.kind == EntryKind::File);
        if own_file || !crate::wanted(logical, file.size) || crate::wanted(real, file.size) {
            return false;
        }
        self.aliases.insert(
            logical.to_owned(),
            Alias {
                real: real.to_owned(),
                link: link.to_owned(),
            },
        );
        true
    }
}

/// Whether a link at `path` stands where a cataloger would read, or above a database.
fn names_metadata(path: &str) -> bool {
    crate::wanted(path, 0)
        || DATABASES
            .iter()
            .any(|db| db.strip_prefix(path).is_some_and(|r| r.starts_with('/')))
}

/// The regular file at `path`, through a hard link or symlinks (resolved in the image).
fn regular_file<'i>(index: &'i FileIndex, path: &str) -> Option<(String, &'i Node)> {
    let (mut real, mut node) = index.resolve(path)?;
    for _ in 0..8 {
        match node.kind {
            EntryKind::File => return Some((real, node)),
            EntryKind::Hardlink => (real, node) = index.resolve(node.link.as_deref()?)?,
            _ => return None,
        }
    }
    None
}

/// The bytes of the regular file at `path`, when this read kept all of them (a
/// reducer's summary of a file is not its bytes).
pub(crate) fn full_content<'i>(index: &'i FileIndex, path: &str) -> Option<&'i [u8]> {
    let node = index.nodes.get(path)?;
    let bytes = node.content.as_deref()?;
    (node.kind == EntryKind::File && bytes.len() as u64 == node.size).then_some(bytes)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use pare_image::layer::{Expected, read_layer};
    use pare_image::testutil::{TarItem, tar_of};
    use pare_image::{FileIndex, ReadOptions};

    use super::Links;
    use crate::Ecosystem;
    use crate::catalog::testing::index_of;

    const STATUS: &[u8] = b"Package: zlib1g\nStatus: install ok installed\n\
        Version: 1:1.2.13.dfsg-1\nArchitecture: amd64\n\n\
        Package: bash\nStatus: install ok installed\nVersion: 5.2.15-2\nArchitecture: amd64\n";

    /// The index a second read makes ([`crate::follow_links`]): what the first kept,
    /// and the targets of the links.
    fn reread(items: &[TarItem]) -> FileIndex {
        let first = index_of(items);
        let unread = Links::find(&first).unread(&first);
        let keep = move |p: &str, size| unread.contains(p) || crate::wanted(p, size);
        let options = ReadOptions {
            keep_content: Some(Arc::new(keep)),
            ..crate::read_options()
        };
        let layer = read_layer(&tar_of(items)[..], "t", &Expected::default(), &options);
        FileIndex::build([layer.expect("test layer")])
    }

    /// What the distro and language catalogers find in `index`, and every warning.
    struct Sbom {
        packages: Vec<crate::Package>,
        warnings: Vec<crate::Warning>,
    }

    fn sbom_of(index: FileIndex) -> Sbom {
        let mut cx = crate::context::Context::new(&index);
        cx.distro = crate::distro::read(&mut cx);
        let mut packages = crate::dpkg::catalog(&mut cx);
        packages.extend(crate::apk::catalog(&mut cx));
        packages.extend(crate::python::catalog(&mut cx));
        packages.sort_by(|a, b| a.name.cmp(&b.name));
        Sbom {
            packages,
            warnings: cx.warnings,
        }
    }

    fn names(sbom: &Sbom, ecosystem: Ecosystem) -> Vec<&str> {
        let of = |p: &&crate::Package| p.ecosystem == ecosystem;
        sbom.packages
            .iter()
            .filter(of)
            .map(|p| p.name.as_str())
            .collect()
    }

    fn warned<'s>(sbom: &'s Sbom, path: &str) -> Vec<&'s str> {
        let about = |w: &&crate::Warning| w.path == path;
        sbom.warnings
            .iter()
            .filter(about)
            .map(|w| w.message.as_str())
            .collect()
    }

    fn debian(extra: Vec<TarItem>) -> Vec<TarItem> {
        let mut items = vec![
            TarItem::file("etc/os-release", b"ID=debian\nVERSION_ID=\"12\"\n", 0o644),
            TarItem::dir("tmp/"),
            TarItem::file("tmp/s", STATUS, 0o644),
            TarItem::dir("var/"),
            TarItem::dir("var/lib/"),
        ];
        items.extend(extra);
        items
    }

    #[track_caller]
    fn reads_through(link: TarItem, how: &str) {
        let items = debian(vec![TarItem::dir("var/lib/dpkg/"), link]);
        let sbom = sbom_of(reread(&items));
        assert_eq!(names(&sbom, Ecosystem::Deb), ["bash", "zlib1g"]);
        let notes = warned(&sbom, "/var/lib/dpkg/status");
        assert!(
            notes
                .iter()
                .any(|m| m.contains(how) && m.contains("read through it")),
            "{notes:?}"
        );
        // A first read that did not keep the target says what is missing.
        let sbom = sbom_of(index_of(&items));
        assert!(names(&sbom, Ecosystem::Deb).is_empty());
        let notes = warned(&sbom, "/var/lib/dpkg/status");
        assert!(
            notes.iter().any(|m| m.contains("packages are missing")),
            "{notes:?}"
        );
    }

    #[test]
    fn status_as_a_hard_link() {
        reads_through(
            TarItem::hardlink("var/lib/dpkg/status", "tmp/s"),
            "hard link",
        );
    }

    #[test]
    fn status_as_an_absolute_symlink() {
        reads_through(TarItem::symlink("var/lib/dpkg/status", "/tmp/s"), "symlink");
    }

    #[test]
    fn status_as_a_relative_symlink_climbing_past_the_root() {
        // `..` at the root stays at the image's root: never the host's /tmp.
        let link = TarItem::symlink("var/lib/dpkg/status", "../../../../../../tmp/s");
        reads_through(link, "symlink");
    }

    #[test]
    fn dpkg_directory_as_a_symlink() {
        let items = debian(vec![
            TarItem::dir("opt/"),
            TarItem::dir("opt/d/"),
            TarItem::hardlink("opt/d/status", "tmp/s"),
            TarItem::dir("opt/d/info/"),
            TarItem::file("opt/d/info/bash.list", b"/bin/bash\n", 0o644),
            TarItem::symlink("var/lib/dpkg", "/opt/d"),
            TarItem::dir("bin/"),
            TarItem::file("bin/bash", b"elf", 0o755),
        ]);
        let sbom = sbom_of(reread(&items));
        assert_eq!(names(&sbom, Ecosystem::Deb), ["bash", "zlib1g"]);
        let bash = sbom.packages.iter().find(|p| p.name == "bash").unwrap();
        assert_eq!(bash.file_paths().collect::<Vec<_>>(), ["/bin/bash"]);
        let notes = warned(&sbom, "/var/lib/dpkg");
        assert!(
            notes.iter().any(|m| m.contains("read through it")),
            "{notes:?}"
        );
    }

    #[test]
    fn apk_database_and_python_metadata_behind_symlinks() {
        let items = [
            TarItem::file("etc/os-release", b"ID=alpine\nVERSION_ID=3.19.1\n", 0o644),
            TarItem::dir("srv/"),
            TarItem::file("srv/db", b"P:musl\nV:1.2.4-r2\nA:x86_64\n\n", 0o644),
            TarItem::file(
                "srv/meta",
                b"Metadata-Version: 2.1\nName: evil\nVersion: 1.0\n",
                0o644,
            ),
            TarItem::dir("lib/"),
            TarItem::dir("lib/apk/"),
            TarItem::dir("lib/apk/db/"),
            TarItem::symlink("lib/apk/db/installed", "../../../srv/db"),
            TarItem::dir("app/"),
            TarItem::dir("app/evil-1.0.dist-info/"),
            TarItem::symlink("app/evil-1.0.dist-info/METADATA", "/srv/meta"),
        ];
        let sbom = sbom_of(reread(&items));
        assert_eq!(names(&sbom, Ecosystem::Apk), ["musl"]);
        assert_eq!(names(&sbom, Ecosystem::Python), ["evil"]);
    }

    #[test]
    fn a_link_that_does_not_resolve_is_a_warning() {
        for link in [
            TarItem::symlink("var/lib/dpkg/status", "/nowhere/status"),
            TarItem::symlink("var/lib/dpkg/status", "status"),
            TarItem::hardlink("var/lib/dpkg/status", "tmp/gone"),
        ] {
            let items = debian(vec![TarItem::dir("var/lib/dpkg/"), link]);
            let sbom = sbom_of(reread(&items));
            let notes = warned(&sbom, "/var/lib/dpkg/status");
            assert!(notes.iter().any(|m| m.contains("not read")), "{notes:?}");
        }
        let items = debian(vec![TarItem::symlink("var/lib/dpkg", "/gone")]);
        let notes_of = sbom_of(reread(&items));
        let notes = warned(&notes_of, "/var/lib/dpkg");
        assert!(
            notes.iter().any(|m| m.contains("does not resolve")),
            "{notes:?}"
        );
    }

    #[test]
    fn an_ordinary_usr_merge_is_neither_read_twice_nor_noted() {
        let items = debian(vec![
            TarItem::dir("var/lib/dpkg/"),
            TarItem::file("var/lib/dpkg/status", STATUS, 0o644),
            TarItem::dir("usr/"),
            TarItem::dir("usr/lib/"),
            TarItem::dir("usr/lib/python3/"),
            TarItem::dir("usr/lib/python3/dist-packages/"),
            TarItem::dir("usr/lib/python3/dist-packages/six-1.16.0.dist-info/"),
            TarItem::file(
                "usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA",
                b"Metadata-Version: 2.1\nName: six\nVersion: 1.16.0\n",
                0o644,
            ),
            TarItem::symlink("lib", "usr/lib"),
        ]);
        let index = index_of(&items);
        assert!(Links::find(&index).aliases.is_empty());
        let sbom = sbom_of(index);
        assert_eq!(names(&sbom, Ecosystem::Python), ["six"]);
        assert!(warned(&sbom, "/lib").is_empty(), "{:?}", sbom.warnings);
    }
}
