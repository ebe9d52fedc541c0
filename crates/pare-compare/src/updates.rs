//! Pending security updates: installed Debian or Ubuntu packages for which the
//! distribution's own security archive offers a newer version. The archive's index is
//! the `Packages` file apt downloads (`dists/bookworm-security/main/binary-amd64/
//! Packages`, plain or gzip), given as a file, so the answer needs no network and can
//! be checked against a fixed index.

use std::collections::HashMap;
use std::io::Read as _;
use std::path::Path;

use pare_sbom::{Ecosystem, Sbom};
use pare_vuln::version::{Scheme, Version};
use serde::{Deserialize, Serialize};

use crate::error::{CompareError, Result};

/// The newest version of each binary package in one or more `Packages` indexes.
#[derive(Default)]
pub struct PackageIndex {
    newest: HashMap<String, (String, Version)>,
}

/// An installed package with a newer version in the index.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingUpdate {
    pub package: String,
    pub installed: String,
    pub available: String,
}

impl PackageIndex {
    /// Adds the index at `path`, plain or gzip-compressed.
    pub fn read(&mut self, path: &Path) -> Result<()> {
        let err = |source| CompareError::Index {
            path: path.to_owned(),
            source,
        };
        let bytes = std::fs::read(path).map_err(err)?;
        let mut text = String::new();
        if bytes.starts_with(&[0x1f, 0x8b]) {
            flate2::read::MultiGzDecoder::new(&bytes[..])
                .read_to_string(&mut text)
                .map_err(err)?;
        } else {
            text = String::from_utf8(bytes)
                .map_err(|e| err(std::io::Error::new(std::io::ErrorKind::InvalidData, e)))?;
        }
        self.add(&text);
        Ok(())
    }

    /// Adds the stanzas of a `Packages` text (`Package:` and `Version:` fields).
    pub fn add(&mut self, text: &str) {
        for stanza in text.split("\n\n") {
            let field = |name: &str| {
                stanza.lines().find_map(|l| {
                    l.strip_prefix(name)
                        .and_then(|rest| rest.strip_prefix(':'))
                        .map(str::trim)
                })
            };
            let (Some(name), Some(text)) = (field("Package"), field("Version")) else {
                continue;
            };
            let Some(version) = Scheme::Dpkg.parse(text) else {
                continue;
            };
            let newer = self
                .newest
                .get(name)
                .is_none_or(|(_, known)| version > *known);
            if newer {
                self.newest
                    .insert(name.to_owned(), (text.to_owned(), version));
            }
        }
    }

    /// The installed deb packages of `sbom` that the index has a newer version of,
    /// by name.
    pub fn pending(&self, sbom: &Sbom) -> Vec<PendingUpdate> {
        let mut out: Vec<PendingUpdate> = sbom
            .packages_of(Ecosystem::Deb)
            .filter_map(|p| {
                let (text, available) = self.newest.get(&p.name)?;
                let installed = Scheme::Dpkg.parse(&p.version)?;
                (*available > installed).then(|| PendingUpdate {
                    package: p.name.clone(),
                    installed: p.version.clone(),
                    available: text.clone(),
                })
            })
            .collect();
        out.sort_by(|a, b| a.package.cmp(&b.package));
        out.dedup();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_newest_version_of_each_package_by_dpkg_order() {
        let mut index = PackageIndex::default();
        index.add(
            "Package: libc6\nVersion: 2.36-9+deb12u10\nArchitecture: amd64\n\n\
             Package: libc6\nVersion: 2.36-9+deb12u9\n\n\
             Package: zlib1g\nVersion: 1:1.2.13.dfsg-1+deb12u1\n\nPackage: broken\n",
        );
        assert_eq!(index.newest["libc6"].0, "2.36-9+deb12u10");
        assert_eq!(index.newest["zlib1g"].0, "1:1.2.13.dfsg-1+deb12u1");
        assert!(!index.newest.contains_key("broken"));
    }
}
