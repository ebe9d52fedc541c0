//! What an SBOM is made of: packages with the files they own, unowned binaries, and the
//! warnings about metadata that could not be read.

use serde::Serialize;

/// The package manager or language ecosystem a package comes from. Its purl type is
/// [`Ecosystem::purl_type`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Ecosystem {
    Deb,
    Apk,
    Rpm,
    Python,
    Npm,
    Go,
    Cargo,
    Maven,
}

impl Ecosystem {
    /// Every ecosystem, in the order tables list them.
    pub const ALL: [Ecosystem; 8] = [
        Ecosystem::Deb,
        Ecosystem::Apk,
        Ecosystem::Rpm,
        Ecosystem::Python,
        Ecosystem::Npm,
        Ecosystem::Go,
        Ecosystem::Cargo,
        Ecosystem::Maven,
    ];

    /// The package-url type (`pkg:TYPE/...`).
    pub fn purl_type(self) -> &'static str {
        match self {
            Ecosystem::Deb => "deb",
            Ecosystem::Apk => "apk",
            Ecosystem::Rpm => "rpm",
            Ecosystem::Python => "pypi",
            Ecosystem::Npm => "npm",
            Ecosystem::Go => "golang",
            Ecosystem::Cargo => "cargo",
            Ecosystem::Maven => "maven",
        }
    }

    /// The short name pare prints and writes (`deb`, `python`, …).
    pub fn name(self) -> &'static str {
        match self {
            Ecosystem::Deb => "deb",
            Ecosystem::Apk => "apk",
            Ecosystem::Rpm => "rpm",
            Ecosystem::Python => "python",
            Ecosystem::Npm => "npm",
            Ecosystem::Go => "go",
            Ecosystem::Cargo => "cargo",
            Ecosystem::Maven => "maven",
        }
    }
}

impl std::fmt::Display for Ecosystem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The source package a binary package was built from (dpkg's `Source:`, rpm's
/// source rpm). Debian advisories are keyed by it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SourcePackage {
    pub name: String,
    pub version: String,
}

/// A file a package owns that is present in the image, with the checksum the package
/// manager recorded for it, when it did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OwnedFile {
    /// Where the file is in the image, parent symlinks resolved (dpkg's `/lib/x` on a
    /// merged-usr system is `/usr/lib/x` here).
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checksum: Option<Checksum>,
}

/// A checksum as a package manager recorded it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Checksum {
    /// SPDX's algorithm names: `MD5`, `SHA1`, `SHA256`, `SHA512`.
    pub algorithm: &'static str,
    /// Lower-case hex.
    pub hex: String,
}

/// One installed package.
#[derive(Clone, Debug, Serialize)]
pub struct Package {
    pub name: String,
    pub version: String,
    pub ecosystem: Ecosystem,
    /// The package URL, canonical form.
    pub purl: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arch: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<SourcePackage>,
    /// Licences as the metadata states them (SPDX ids or expressions where it uses them).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub licenses: Vec<String>,
    /// The metadata file this package was read from.
    pub found_in: String,
    /// Files the package owns that are present in the image, sorted.
    pub files: Vec<OwnedFile>,
}

impl Package {
    /// The paths of [`Package::files`], for callers that only need where they are.
    pub fn file_paths(&self) -> impl Iterator<Item = &str> {
        self.files.iter().map(|f| f.path.as_str())
    }
}

/// Why a file is listed as unowned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UnownedKind {
    Executable,
    SharedLibrary,
}

/// An ELF executable or shared library no package claims: a copied-in binary, a
/// vendored `.so`. Scanners miss these, so they are listed.
#[derive(Clone, Debug, Serialize)]
pub struct UnownedFile {
    pub path: String,
    pub kind: UnownedKind,
    pub size: u64,
    /// Why its ELF header does not hold up (truncated, or only the magic), if so.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

/// Metadata that could not be (fully) read. The rest of the SBOM is still produced.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Warning {
    /// The file in the image the warning is about.
    pub path: String,
    pub message: String,
}

/// The operating system release, from `/etc/os-release`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Distro {
    /// `ID` (`debian`, `alpine`, `rhel`, …).
    pub id: String,
    /// `VERSION_ID` (`12`, `3.19.1`).
    pub version_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pretty_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub codename: Option<String>,
}

impl Distro {
    /// The purl `distro` qualifier: `debian-12`, `alpine-3.19.1`.
    pub fn qualifier(&self) -> String {
        format!("{}-{}", self.id, self.version_id)
    }
}

/// The image an SBOM describes.
#[derive(Clone, Debug, Serialize)]
pub struct ImageInfo {
    /// The reference as given (`docker-archive:/x.tar`, `docker-daemon:nginx:latest`).
    pub reference: String,
    /// The repository tags the image carries.
    pub repo_tags: Vec<String>,
    pub config_digest: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manifest_digest: Option<String>,
    pub os: String,
    pub architecture: String,
}

impl ImageInfo {
    /// A human name for the image: its first tag, else the reference.
    pub fn display_name(&self) -> &str {
        self.repo_tags
            .first()
            .map(String::as_str)
            .unwrap_or(&self.reference)
    }
}

/// Everything `pare sbom` knows about an image.
#[derive(Clone, Debug, Serialize)]
pub struct Sbom {
    pub image: ImageInfo,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distro: Option<Distro>,
    /// Sorted by ecosystem, name, version, then where they were found.
    pub packages: Vec<Package>,
    pub unowned: Vec<UnownedFile>,
    pub warnings: Vec<Warning>,
}

impl Sbom {
    /// The packages of one ecosystem.
    pub fn packages_of(&self, ecosystem: Ecosystem) -> impl Iterator<Item = &Package> {
        self.packages
            .iter()
            .filter(move |p| p.ecosystem == ecosystem)
    }
}
