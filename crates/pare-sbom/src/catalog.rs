//! Running every cataloger over one image index and putting the results together.

use std::collections::{BTreeMap, HashSet};

use pare_image::{EntryKind, FileIndex, ImageRead, Node};

use crate::links::{Links, full_content};
use crate::package::{
    Checksum, Distro, ImageInfo, OwnedFile, Package, Sbom, SourcePackage, Warning,
};
use crate::{apk, binary, distro, dpkg, java, license, npm, python, rpm, rust_audit, unowned};

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

/// Catalogs an image read with [`crate::read_options`] (or with a `keep_content` that
/// includes [`crate::wanted`]).
pub fn catalog(image: &ImageRead) -> Sbom {
    let mut cx = Context::new(&image.index);
    cx.distro = distro::read(&mut cx);
    let mut packages = Vec::new();
    packages.extend(dpkg::catalog(&mut cx));
    packages.extend(apk::catalog(&mut cx));
    packages.extend(rpm::catalog(&mut cx));
    let binaries = binary::summaries(&mut cx);
    for (path, summary) in &binaries {
        if let (true, Some(problem)) = (summary.elf, &summary.problem) {
            cx.warn(path, format!("not a readable ELF object: {problem}"));
        }
    }
    packages.extend(python::catalog(&mut cx));
    packages.extend(npm::catalog(&mut cx));
    packages.extend(crate::golang::catalog(&mut cx, &binaries));
    packages.extend(rust_audit::catalog(&mut cx, &binaries));
    packages.extend(java::catalog(&mut cx, &binaries));
    license::fill_deb_licenses(&cx, &mut packages);
    sort_packages(&mut packages);

    let owned: HashSet<&str> = packages.iter().flat_map(Package::file_paths).collect();
    let unowned = unowned::find(&cx, &owned, &binaries);
    let mut warnings = std::mem::take(&mut cx.warnings);
    warnings.sort_by(|a, b| (&a.path, &a.message).cmp(&(&b.path, &b.message)));
    warnings.dedup();
    let config = &image.resolved.config;
    Sbom {
        image: ImageInfo {
            reference: image.reference.to_string(),
            repo_tags: image.resolved.repo_tags.clone(),
            config_digest: image.resolved.config_digest.to_string(),
            manifest_digest: image
                .resolved
                .manifest_digest
                .as_ref()
                .map(ToString::to_string),
            os: config.os.clone(),
            architecture: config.architecture.clone(),
        },
        distro: cx.distro,
        packages,
        unowned,
        warnings,
    }
}

fn sort_packages(packages: &mut [Package]) {
    packages.sort_by(|a, b| {
        (a.ecosystem, &a.name, &a.version, &a.found_in).cmp(&(
            b.ecosystem,
            &b.name,
            &b.version,
            &b.found_in,
        ))
    });
}

/// `Source: name (version)` or `name`, with the binary version as the default.
pub(crate) fn source_package(field: Option<&str>, version: &str) -> Option<SourcePackage> {
    let field = field?.trim();
    if field.is_empty() {
        return None;
    }
    let (name, source_version) = match field.split_once('(') {
        Some((n, v)) => (n.trim(), v.trim_end_matches(')').trim()),
        None => (field, version),
    };
    Some(SourcePackage {
        name: name.to_owned(),
        version: source_version.to_owned(),
    })
}

#[cfg(test)]
pub(crate) mod testing {
    //! Building small indexes in code for the catalogers' unit tests.
    use pare_image::FileIndex;
    use pare_image::layer::{Expected, read_layer};
    use pare_image::testutil::{TarItem, tar_of};

    /// A file of the repository's tests/data/sbom (real package-manager files).
    pub fn evidence(rel: &str) -> Vec<u8> {
        let path = format!("{}/../../tests/data/sbom/{rel}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    /// The same, as text.
    pub fn evidence_text(rel: &str) -> String {
        String::from_utf8(evidence(rel)).expect("UTF-8 test data")
    }

    /// Name, version and purl of each package, in order: what most tests compare.
    pub fn identities(packages: &[crate::Package]) -> Vec<(&str, &str, &str)> {
        packages
            .iter()
            .map(|p| (p.name.as_str(), p.version.as_str(), p.purl.as_str()))
            .collect()
    }

    /// Runs one cataloger on an image of one layer made of `items`.
    pub fn run_cataloger(
        items: &[TarItem],
        cataloger: fn(&mut super::Context) -> Vec<crate::Package>,
    ) -> (Vec<crate::Package>, Vec<crate::Warning>) {
        let index = index_of(items);
        let mut cx = super::Context::new(&index);
        cx.distro = crate::distro::read(&mut cx);
        let packages = cataloger(&mut cx);
        (packages, cx.warnings)
    }

    /// An index of one layer made of `items`, read with pare-sbom's options.
    pub fn index_of(items: &[TarItem]) -> FileIndex {
        let layer = read_layer(
            &tar_of(items)[..],
            "test",
            &Expected::default(),
            &crate::read_options(),
        )
        .expect("test layer");
        FileIndex::build([layer])
    }
}
