//! Which packages a slim image keeps and which it loses, told by the SBOM catalogers
//! of the original image: a package is kept when at least one file it owns is in the
//! keep-set. This is what tells a user (and later `pare vex`) that a vulnerable
//! package left with its files.

use serde::Serialize;

use crate::keep_set::KeepSet;

/// One package of the original image and how much of it the slim image holds.
#[derive(Clone, Debug, Serialize)]
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
#[derive(Debug, Default, Serialize)]
pub struct Packages {
    pub kept: Vec<PackageFate>,
    pub removed: Vec<PackageFate>,
    /// Problems the catalogers met in the original's metadata (file: message).
    #[serde(skip_serializing_if = "Vec::is_empty")]
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

#[cfg(test)]
mod tests {
    use super::*;
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
        let archive = dir.path().join("image.tar");
        write_archive(&archive, &pare_image::testutil::tar_of(&items));
        let reference =
            pare_image::ImageRef::parse(&format!("docker-archive:{}", archive.display()))
                .expect("a reference");
        let image =
            pare_image::read_image(&reference, &pare_sbom::read_options()).expect("readable");
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
    }

    /// A `docker save` archive of one uncompressed layer.
    fn write_archive(path: &std::path::Path, layer: &[u8]) {
        use sha2::Digest;
        let diff_id = format!("sha256:{}", hex::encode(sha2::Sha256::digest(layer)));
        let config = serde_json::json!({
            "architecture": "amd64", "os": "linux",
            "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        });
        let manifest = serde_json::json!([{
            "Config": "config.json", "RepoTags": ["t:1"], "Layers": ["layer.tar"],
        }]);
        let mut tar = tar::Builder::new(std::fs::File::create(path).expect("create"));
        for (name, bytes) in [
            ("config.json", config.to_string().into_bytes()),
            ("layer.tar", layer.to_vec()),
            ("manifest.json", manifest.to_string().into_bytes()),
        ] {
            let mut header = tar::Header::new_gnu();
            header.set_size(bytes.len() as u64);
            header.set_mode(0o644);
            tar.append_data(&mut header, name, bytes.as_slice())
                .expect("append");
        }
        tar.finish().expect("finish");
    }
}
