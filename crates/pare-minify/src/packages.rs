//! Which packages a slim image keeps and which it loses, told by the SBOM catalogers
//! of the original image: a package is kept when at least one file it owns is in the
//! keep-set. This is what tells a user (and later `pare vex`) that a vulnerable
//! package left with its files.

use serde::{Deserialize, Serialize};

use crate::keep_set::KeepSet;

/// One package of the original image and how much of it the slim image holds.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PackageFate {
    pub ecosystem: String,
    pub name: String,
    pub version: String,
    pub purl: String,
    /// Files of the package present in the original image.
    pub files: usize,
    /// Of those, the files the slim image keeps.
    pub files_kept: usize,
}

/// The packages kept and removed, each list sorted as the SBOM sorts them.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Packages {
    pub kept: Vec<PackageFate>,
    pub removed: Vec<PackageFate>,
    /// Problems the catalogers met in the original's metadata (file: message).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// Splits the original's packages by whether the keep-set holds any of their files.
pub fn sort_out(sbom: &pare_sbom::Sbom, keep: &KeepSet) -> Packages {
    let mut out = Packages {
        warnings: sbom
            .warnings
            .iter()
            .map(|w| format!("{}: {}", w.path, w.message))
            .collect(),
        ..Default::default()
    };
    for package in &sbom.packages {
        let files_kept = package
            .file_paths()
            .filter(|p| keep.paths.contains_key(*p))
            .count();
        let fate = PackageFate {
            ecosystem: package.ecosystem.to_string(),
            name: package.name.clone(),
            version: package.version.clone(),
            purl: package.purl.clone(),
            files: package.files.len(),
            files_kept,
        };
        if files_kept > 0 {
            out.kept.push(fate);
        } else {
            out.removed.push(fate);
        }
    }
    out
}

/// The dpkg status database and the directory of per-package files.
const DPKG_STATUS: &str = "/var/lib/dpkg/status";
const DPKG_INFO: &str = "/var/lib/dpkg/info/";

/// Package metadata the slim image keeps, so that `pare sbom` and scanners see the
/// packages it really holds, and only those: the dpkg status cut down to the kept
/// packages' stanzas, their `info/*.list` and `*.md5sums` (or distroless `status.d`
/// files), the `METADATA`/`RECORD` of kept Python distributions, the `package.json`
/// of kept npm packages, and os-release. Each with its bytes (taken from `original`,
/// whose read kept every cataloger's file); paths as in the original image.
pub fn metadata_to_keep(
    sbom: &pare_sbom::Sbom,
    fates: &Packages,
    original: &pare_image::FileIndex,
) -> Vec<(String, std::sync::Arc<[u8]>)> {
    use pare_sbom::Ecosystem;
    let kept: std::collections::HashSet<&str> =
        fates.kept.iter().map(|f| f.purl.as_str()).collect();
    let bytes = |path: &str| -> Option<std::sync::Arc<[u8]>> {
        original.nodes.get(path).and_then(|n| n.content.clone())
    };
    let mut out: Vec<(String, std::sync::Arc<[u8]>)> = Vec::new();
    let mut push = |path: String| {
        if let Some(content) = bytes(&path)
            && !out.iter().any(|(p, _)| *p == path)
        {
            out.push((path, content));
        }
    };
    let mut kept_debs: Vec<(&str, &str)> = Vec::new();
    let mut kept_apks: Vec<(&str, &str)> = Vec::new();
    let mut apk_db: Option<&str> = None;
    for package in sbom
        .packages
        .iter()
        .filter(|p| kept.contains(p.purl.as_str()))
    {
        let found = package.found_in.as_str();
        match package.ecosystem {
            Ecosystem::Deb if found == DPKG_STATUS => {
                let arch = package.arch.as_deref().unwrap_or("");
                kept_debs.push((package.name.as_str(), arch));
                for name in [package.name.clone(), format!("{}:{arch}", package.name)] {
                    push(format!("{DPKG_INFO}{name}.list"));
                    push(format!("{DPKG_INFO}{name}.md5sums"));
                }
            }
            Ecosystem::Deb => {
                push(found.to_owned());
                push(format!("{found}.md5sums"));
            }
            Ecosystem::Python => {
                push(found.to_owned());
                if let Some(dir) = found.strip_suffix("/METADATA") {
                    push(format!("{dir}/RECORD"));
                }
            }
            Ecosystem::Npm => push(found.to_owned()),
            Ecosystem::Apk => {
                kept_apks.push((package.name.as_str(), package.arch.as_deref().unwrap_or("")));
                apk_db = Some(found);
            }
            _ => {}
        }
    }
    for path in ["/etc/os-release", "/usr/lib/os-release"] {
        if let Some((real, _)) = original.resolve(path) {
            push(real);
        }
    }
    if let Some(status) = bytes(DPKG_STATUS).filter(|_| !kept_debs.is_empty()) {
        let cut = cut_stanzas(&String::from_utf8_lossy(&status), &kept_debs, DPKG_FIELDS);
        out.push((DPKG_STATUS.to_owned(), cut.into_bytes().into()));
    }
    if let Some(db) = apk_db
        && let Some(installed) = bytes(db)
    {
        let cut = cut_stanzas(&String::from_utf8_lossy(&installed), &kept_apks, APK_FIELDS);
        out.push((db.to_owned(), cut.into_bytes().into()));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// The name and architecture fields of a dpkg status stanza (`Package: x`).
const DPKG_FIELDS: (&str, &str) = ("Package:", "Architecture:");
/// The same in apk's installed database (`P:x`).
const APK_FIELDS: (&str, &str) = ("P:", "A:");

/// The stanzas of a dpkg status file or an apk installed database whose name and
/// architecture (`fields`) are in `kept`, as they were written (both separate stanzas
/// by an empty line).
fn cut_stanzas(db: &str, kept: &[(&str, &str)], fields: (&str, &str)) -> String {
    let field = |stanza: &str, name: &str| -> String {
        stanza
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.trim().to_owned())
            .unwrap_or_default()
    };
    let mut out = String::new();
    for stanza in db.split("\n\n").filter(|s| !s.trim().is_empty()) {
        let (name, arch) = (field(stanza, fields.0), field(stanza, fields.1));
        if kept
            .iter()
            .any(|(n, a)| *n == name && (a.is_empty() || *a == arch))
        {
            out.push_str(stanza.trim_matches('\n'));
            out.push_str("\n\n");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apk_database_is_cut_to_the_kept_packages() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/data/sbom/apk/installed"
        );
        let db = std::fs::read_to_string(path).expect("the apk fixture");
        let cut = cut_stanzas(&db, &[("zlib", "x86_64")], APK_FIELDS);
        assert!(
            cut.starts_with("C:Q1c1BIq3ky5Kj7R86kKqP6Yh0CF8o=\nP:zlib\nV:1.3.1-r0\n"),
            "{cut}"
        );
        assert!(!cut.contains("P:musl"), "{cut}");
        assert!(cut.ends_with("\n\n"));
        assert_eq!(cut_stanzas(&db, &[("zlib", "aarch64")], APK_FIELDS), "");
    }
    use crate::keep_set::Reason;
    use pare_image::testutil::TarItem;

    /// A dpkg database of three packages; the keep-set holds one file of `libc6`.
    #[test]
    fn a_package_is_kept_when_any_of_its_files_is() {
        let status = "Package: libc6\nStatus: install ok installed\nVersion: 2.36-9\nArchitecture: amd64\n\n\
                      Package: dash\nStatus: install ok installed\nVersion: 0.5.12-2\nArchitecture: amd64\n\n\
                      Package: tzdata\nStatus: install ok installed\nVersion: 2024a-0\nArchitecture: all\n\n";
        let items = [
            TarItem::file("etc/os-release", b"ID=debian\nVERSION_ID=\"12\"\n", 0o644),
            TarItem::file("var/lib/dpkg/status", status.as_bytes(), 0o644),
            TarItem::file(
                "var/lib/dpkg/info/libc6:amd64.list",
                b"/usr/lib/x86_64-linux-gnu/libc.so.6\n/usr/lib/x86_64-linux-gnu/libm.so.6\n",
                0o644,
            ),
            TarItem::file("var/lib/dpkg/info/dash.list", b"/usr/bin/dash\n", 0o644),
            TarItem::file(
                "var/lib/dpkg/info/tzdata.list",
                b"/usr/share/zoneinfo/UTC\n",
                0o644,
            ),
            TarItem::file("usr/lib/x86_64-linux-gnu/libc.so.6", b"c", 0o755),
            TarItem::file("usr/lib/x86_64-linux-gnu/libm.so.6", b"m", 0o755),
            TarItem::file("usr/bin/dash", b"d", 0o755),
        ];
        let dir = tempfile::tempdir().expect("a temp dir");
        let tar = pare_image::testutil::tar_of(&items);
        pare_image::testutil::write_layout(dir.path(), &[(pare_image::testutil::gzip(&tar), tar)]);
        let reference = pare_image::ImageRef::parse(&format!("oci:{}", dir.path().display()))
            .expect("a reference");
        let image = pare_image::read_image(
            &pare_image::ReadContext::default(),
            &reference,
            &pare_sbom::read_options(),
        )
        .expect("readable");
        let sbom = pare_sbom::catalog(&image);
        let keep = KeepSet {
            paths: [(
                "/usr/lib/x86_64-linux-gnu/libc.so.6".to_owned(),
                Reason::Traced,
            )]
            .into(),
            ..Default::default()
        };
        let fates = sort_out(&sbom, &keep);
        let kept: Vec<(&str, usize, usize)> = fates
            .kept
            .iter()
            .map(|f| (f.name.as_str(), f.files, f.files_kept))
            .collect();
        let removed: Vec<(&str, usize)> = fates
            .removed
            .iter()
            .map(|f| (f.name.as_str(), f.files))
            .collect();
        assert_eq!(kept, [("libc6", 2, 1)]);
        // tzdata's file is not in the image at all: nothing of it is kept either.
        assert_eq!(removed, [("dash", 1), ("tzdata", 0)]);

        // The slim image keeps libc6's stanza and file list, and nothing of the others.
        let metadata = metadata_to_keep(&sbom, &fates, &image.index);
        let paths: Vec<&str> = metadata.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            paths,
            [
                "/etc/os-release",
                "/var/lib/dpkg/info/libc6:amd64.list",
                "/var/lib/dpkg/status"
            ]
        );
        let status = String::from_utf8_lossy(&metadata[2].1).into_owned();
        assert_eq!(
            status,
            "Package: libc6\nStatus: install ok installed\nVersion: 2.36-9\nArchitecture: amd64\n\n"
        );
    }
}
