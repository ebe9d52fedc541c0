//! Alpine, Wolfi and Chainguard packages: `/lib/apk/db/installed` (on a merged-/usr
//! image such as Wolfi `/lib` links to `usr/lib`, and without the link the database
//! is looked for at `/usr/lib/apk/db/installed`), one `X:value` paragraph per package
//! (`P` name, `V` version, `A` arch, `L` licence, `o` origin, `F` directory, `R` file in
//! it, `Z` that file's checksum).

use crate::context::Context;
use crate::package::{Checksum, Ecosystem, Package, SourcePackage};
use crate::purl::Purl;

const INSTALLED: &str = "/lib/apk/db/installed";
const INSTALLED_USR: &str = "/usr/lib/apk/db/installed";

pub(crate) fn wants(path: &str) -> bool {
    path == INSTALLED || path == INSTALLED_USR
}

pub(crate) fn catalog(cx: &mut Context) -> Vec<Package> {
    let Some((real, _)) = cx
        .index
        .resolve(INSTALLED)
        .or_else(|| cx.index.resolve(INSTALLED_USR))
    else {
        return Vec::new();
    };
    let Some(text) = cx.text(&real) else {
        return Vec::new();
    };
    let mut packages = Vec::new();
    for record in parse(&text) {
        let (Some(name), Some(version)) = (record.name.clone(), record.version.clone()) else {
            cx.warn(
                &real,
                format!("line {}: package without P: or V: skipped", record.line),
            );
            continue;
        };
        let distro = cx.distro.as_ref();
        let purl = Purl::new("apk", &name, &version)
            .namespace(distro.map(|d| d.id.as_str()).unwrap_or("alpine"))
            .qualifier("arch", record.arch.clone().unwrap_or_default())
            .qualifier("distro", distro.map(|d| d.qualifier()).unwrap_or_default())
            .qualifier(
                "upstream",
                record
                    .origin
                    .clone()
                    .filter(|o| *o != name)
                    .unwrap_or_default(),
            )
            .to_string();
        packages.push(Package {
            purl,
            source: record.origin.clone().map(|o| SourcePackage {
                name: o,
                version: version.clone(),
            }),
            name,
            version,
            ecosystem: Ecosystem::Apk,
            arch: record.arch,
            licenses: record.license.into_iter().collect(),
            found_in: real.clone(),
            files: cx.owned_files(record.files),
        });
    }
    if !text.is_empty() && !text.ends_with('\n') {
        cx.warn(&real, "ends in the middle of a line: truncated?");
    }
    packages
}

#[derive(Default)]
pub(crate) struct Record {
    line: usize,
    name: Option<String>,
    version: Option<String>,
    arch: Option<String>,
    license: Option<String>,
    origin: Option<String>,
    files: Vec<(String, Option<Checksum>)>,
}

pub(crate) fn parse(text: &str) -> Vec<Record> {
    let mut out = Vec::new();
    let mut current = Record::default();
    let mut dir = String::new();
    for (i, line) in text.lines().enumerate() {
        if line.is_empty() {
            if current.name.is_some() || current.version.is_some() {
                out.push(std::mem::take(&mut current));
            }
            dir.clear();
            continue;
        }
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        if current.line == 0 {
            current.line = i + 1;
        }
        let value = value.to_owned();
        match key {
            "P" => current.name = Some(value),
            "V" => current.version = Some(value),
            "A" => current.arch = Some(value),
            "L" => current.license = Some(value).filter(|l| !l.is_empty()),
            "o" => current.origin = Some(value),
            "F" => dir = value,
            "R" => current
                .files
                .push((format!("/{dir}/{value}").replace("//", "/"), None)),
            "Z" => {
                if let Some(last) = current.files.last_mut() {
                    last.1 = sha1_checksum(&value);
                }
            }
            _ => {}
        }
    }
    if current.name.is_some() || current.version.is_some() {
        out.push(current);
    }
    out
}

/// `Q1` + base64 of a SHA-1.
fn sha1_checksum(value: &str) -> Option<Checksum> {
    let bytes = crate::base64::decode(value.strip_prefix("Q1")?)?;
    (bytes.len() == 20).then(|| Checksum {
        algorithm: "SHA1",
        hex: hex::encode(bytes),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::testing::{evidence, index_of};
    use pare_image::testutil::TarItem;

    #[test]
    fn installed_db_with_files_and_checksums() {
        let db = evidence("apk/installed");
        let index = index_of(&[
            TarItem::file("etc/os-release", b"ID=alpine\nVERSION_ID=3.19.1\n", 0o644),
            TarItem::file("lib/apk/db/installed", &db, 0o644),
            TarItem::file("lib/ld-musl-x86_64.so.1", b"elf", 0o755),
            TarItem::file("lib/libz.so.1.3.1", b"elf", 0o755),
            TarItem::symlink("lib/libz.so.1", "libz.so.1.3.1"),
        ]);
        let mut cx = Context::new(&index);
        cx.distro = crate::distro::read(&mut cx);
        let packages = catalog(&mut cx);
        assert!(cx.warnings.is_empty(), "{:?}", cx.warnings);
        let names: Vec<(&str, &str)> = packages
            .iter()
            .map(|p| (p.name.as_str(), p.version.as_str()))
            .collect();
        assert_eq!(
            names,
            [("musl", "1.2.4_git20230717-r4"), ("zlib", "1.3.1-r0")]
        );
        let zlib = &packages[1];
        assert_eq!(
            zlib.purl,
            "pkg:apk/alpine/zlib@1.3.1-r0?arch=x86_64&distro=alpine-3.19.1"
        );
        assert_eq!(zlib.licenses, ["Zlib"]);
        let files: Vec<&str> = zlib.file_paths().collect();
        assert_eq!(files, ["/lib/libz.so.1", "/lib/libz.so.1.3.1"]);
        assert_eq!(zlib.files[1].checksum.as_ref().unwrap().algorithm, "SHA1");
    }

    /// Wolfi keeps the database under /usr; read there with or without /lib linking
    /// to usr/lib.
    #[test]
    fn wolfi_database_under_usr() {
        let db = evidence("apk/installed");
        for link in [false, true] {
            let mut items = vec![
                TarItem::file("etc/os-release", b"ID=wolfi\nVERSION_ID=20230201\n", 0o644),
                TarItem::file("usr/lib/apk/db/installed", &db, 0o644),
            ];
            if link {
                items.push(TarItem::symlink("lib", "usr/lib"));
            }
            let index = index_of(&items);
            let mut cx = Context::new(&index);
            cx.distro = crate::distro::read(&mut cx);
            let packages = catalog(&mut cx);
            assert_eq!(packages.len(), 2, "link {link}");
            assert_eq!(packages[0].found_in, "/usr/lib/apk/db/installed");
            assert!(packages[1].purl.starts_with("pkg:apk/wolfi/zlib@1.3.1-r0?"));
        }
    }
}
