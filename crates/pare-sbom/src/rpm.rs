//! RPM packages from the SQLite database (`/var/lib/rpm/rpmdb.sqlite`, or
//! `/usr/lib/sysimage/rpm/rpmdb.sqlite`): each row of its `Packages` table is an rpm
//! header blob, parsed here for name, epoch, version, release, arch, licence, source rpm
//! and the file list. SUSE's ndb database (`Packages.db`, see [`crate::ndb`]) holds the
//! same header blobs and is read the same way. The older Berkeley DB `Packages` file is
//! reported, not read.

use crate::context::Context;
use crate::package::{Checksum, Ecosystem, Package, SourcePackage};
use crate::purl::Purl;
use crate::sqlite::{Database, OwnedValue};

const SQLITE_DBS: [&str; 2] = [
    "/var/lib/rpm/rpmdb.sqlite",
    "/usr/lib/sysimage/rpm/rpmdb.sqlite",
];
/// rpm's ndb backend: SUSE Linux Enterprise and openSUSE keep it under sysimage.
const NDB_DBS: [&str; 2] = [
    "/usr/lib/sysimage/rpm/Packages.db",
    "/var/lib/rpm/Packages.db",
];
const BDB: &str = "/var/lib/rpm/Packages";

const NAME: u32 = 1000;
const VERSION: u32 = 1001;
const RELEASE: u32 = 1002;
const EPOCH: u32 = 1003;
const LICENSE: u32 = 1014;
const ARCH: u32 = 1022;
const FILEDIGESTS: u32 = 1035;
const SOURCERPM: u32 = 1044;
const DIRINDEXES: u32 = 1116;
const BASENAMES: u32 = 1117;
const DIRNAMES: u32 = 1118;
const FILEDIGESTALGO: u32 = 5011;

pub(crate) fn wants(path: &str) -> bool {
    SQLITE_DBS.contains(&path) || NDB_DBS.contains(&path)
}

pub(crate) fn catalog(cx: &mut Context) -> Vec<Package> {
    let modern = SQLITE_DBS
        .iter()
        .chain(&NDB_DBS)
        .any(|p| cx.content(p).is_some());
    if cx.index.nodes.contains_key(BDB) && !modern {
        cx.warn(
            BDB,
            "rpm's Berkeley DB database is not read (only rpmdb.sqlite and ndb's Packages.db): rpm packages are missing",
        );
    }
    let mut packages = Vec::new();
    for db_path in SQLITE_DBS {
        let Some(bytes) = cx.content(db_path) else {
            continue;
        };
        // rpm runs SQLite in write-ahead-log mode and folds the log in when it closes
        // the database, leaving it empty; an image whose log still holds pages has
        // changes (installs, removals) that the database file alone does not show.
        let wal = format!("{db_path}-wal");
        if cx.index.nodes.get(&wal).is_some_and(|n| n.size > 0) {
            cx.warn(
                &wal,
                "rpm's write-ahead log holds changes not yet in rpmdb.sqlite, which are not read: packages may be missing or stale",
            );
        }
        let rows = match Database::open(bytes).and_then(|db| db.table("Packages")) {
            Ok(rows) => rows,
            Err(e) => {
                cx.warn(db_path, format!("rpm database not read: {e}"));
                continue;
            }
        };
        for (i, row) in rows.iter().enumerate() {
            let Some(OwnedValue::Blob(blob)) = row.get(1) else {
                cx.warn(db_path, format!("Packages row {}: no header blob", i + 1));
                continue;
            };
            match Header::parse(blob).and_then(|h| package(cx, db_path, &h)) {
                Ok(p) => packages.push(p),
                Err(e) => cx.warn(db_path, format!("Packages row {}: {e}", i + 1)),
            }
        }
    }
    for db_path in NDB_DBS {
        let Some(bytes) = cx.content(db_path) else {
            continue;
        };
        let blobs = match crate::ndb::blobs(bytes) {
            Ok(blobs) => blobs,
            Err(e) => {
                cx.warn(db_path, format!("rpm database not read: {e}"));
                continue;
            }
        };
        for (index, blob) in blobs {
            match blob.and_then(|b| Header::parse(b).and_then(|h| package(cx, db_path, &h))) {
                Ok(p) => packages.push(p),
                Err(e) => cx.warn(db_path, format!("package {index}: {e}")),
            }
        }
    }
    packages
}

fn package(cx: &Context, db_path: &str, h: &Header) -> Result<Package, String> {
    let name = h.string(NAME).ok_or("header without a name")?;
    if name == "gpg-pubkey" {
        return Err("gpg-pubkey is a key, not a package".into());
    }
    let version = h.string(VERSION).ok_or("header without a version")?;
    let release = h.string(RELEASE).unwrap_or_default();
    let epoch = h.ints(EPOCH).first().copied();
    let arch = h.string(ARCH);
    let evr = if release.is_empty() {
        version.clone()
    } else {
        format!("{version}-{release}")
    };
    let full_version = match epoch {
        Some(e) => format!("{e}:{evr}"),
        None => evr.clone(),
    };
    let distro = cx.distro.as_ref();
    let source_rpm = h.string(SOURCERPM);
    let purl = Purl::new("rpm", &name, &evr)
        .namespace(distro.map(|d| d.id.as_str()).unwrap_or("redhat"))
        .qualifier("arch", arch.clone().unwrap_or_default())
        .qualifier("epoch", epoch.map(|e| e.to_string()).unwrap_or_default())
        .qualifier("distro", distro.map(|d| d.qualifier()).unwrap_or_default())
        .qualifier("upstream", source_rpm.clone().unwrap_or_default())
        .to_string();
    Ok(Package {
        purl,
        source: source_rpm.as_deref().and_then(source_of),
        name,
        version: full_version,
        ecosystem: Ecosystem::Rpm,
        arch,
        licenses: h.string(LICENSE).into_iter().collect(),
        found_in: db_path.to_owned(),
        files: cx.owned_files(h.files()),
    })
}

/// `glibc-2.34-60.el9.src.rpm` → (`glibc`, `2.34-60.el9`).
fn source_of(srpm: &str) -> Option<SourcePackage> {
    let stem = srpm.strip_suffix(".rpm")?;
    let stem = stem.rsplit_once('.').map_or(stem, |(s, _)| s); // drop `.src`
    let (rest, release) = stem.rsplit_once('-')?;
    let (name, version) = rest.rsplit_once('-')?;
    Some(SourcePackage {
        name: name.to_owned(),
        version: format!("{version}-{release}"),
    })
}

/// An rpm header: index entries pointing into a data store.
struct Header<'a> {
    entries: Vec<(u32, u32, usize, usize)>,
    store: &'a [u8],
}

impl<'a> Header<'a> {
    /// The blob as rpmdb stores it: counts, then the index, then the data.
    fn parse(blob: &'a [u8]) -> Result<Self, String> {
        let be = |o: usize| -> Result<u32, String> {
            blob.get(o..o + 4)
                .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
                .ok_or_else(|| "header cut short".to_owned())
        };
        let (il, dl) = (be(0)? as usize, be(4)? as usize);
        let store_at = 8 + il.checked_mul(16).ok_or("bad index length")?;
        let store = blob
            .get(store_at..store_at.saturating_add(dl))
            .ok_or("header data cut short")?;
        let mut entries = Vec::with_capacity(il.min(4096));
        for i in 0..il {
            let at = 8 + i * 16;
            entries.push((
                be(at)?,
                be(at + 4)?,
                be(at + 8)? as usize,
                be(at + 12)? as usize,
            ));
        }
        Ok(Header { entries, store })
    }

    fn entry(&self, tag: u32) -> Option<(u32, &'a [u8], usize)> {
        let &(_, kind, offset, count) = self.entries.iter().find(|e| e.0 == tag)?;
        Some((kind, self.store.get(offset..)?, count))
    }

    /// STRING, I18NSTRING (first) or STRING_ARRAY values.
    fn strings(&self, tag: u32) -> Vec<String> {
        let Some((kind, data, count)) = self.entry(tag) else {
            return Vec::new();
        };
        let count = if matches!(kind, 6 | 9) { 1 } else { count };
        if !matches!(kind, 6 | 8 | 9) {
            return Vec::new();
        }
        data.split(|&b| b == 0)
            .take(count)
            .map(|s| String::from_utf8_lossy(s).into_owned())
            .collect()
    }

    fn string(&self, tag: u32) -> Option<String> {
        self.strings(tag).into_iter().next()
    }

    /// INT32 values.
    fn ints(&self, tag: u32) -> Vec<u32> {
        match self.entry(tag) {
            Some((4, data, count)) => data
                .chunks_exact(4)
                .take(count)
                .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Paths from DIRNAMES[DIRINDEXES[i]] + BASENAMES[i], with FILEDIGESTS.
    fn files(&self) -> Vec<(String, Option<Checksum>)> {
        let dirs = self.strings(DIRNAMES);
        let indexes = self.ints(DIRINDEXES);
        let digests = self.strings(FILEDIGESTS);
        let algorithm = match self.ints(FILEDIGESTALGO).first() {
            Some(8) => "SHA256",
            Some(2) => "SHA1",
            Some(10) => "SHA512",
            Some(1) | None => "MD5",
            Some(_) => "",
        };
        self.strings(BASENAMES)
            .into_iter()
            .enumerate()
            .filter_map(|(i, base)| {
                let dir = dirs.get(*indexes.get(i)? as usize)?;
                let checksum = digests
                    .get(i)
                    .filter(|d| !d.is_empty() && !algorithm.is_empty())
                    .map(|d| Checksum {
                        algorithm,
                        hex: d.to_ascii_lowercase(),
                    });
                Some((format!("{dir}{base}"), checksum))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::testing::{evidence, identities, run_cataloger};
    use pare_image::testutil::TarItem;

    /// SUSE's ndb database of a real SUSE Linux Enterprise 15 SP3 BCI image
    /// (tests/data/sbom/README.md): every one of its 35 packages, as `rpm -qa` in that
    /// image listed them (go-rpmdb's test expectations), without a warning.
    #[test]
    fn real_sle15_ndb_database() {
        let items = vec![
            TarItem::file(
                "etc/os-release",
                b"NAME=\"SLES\"\nVERSION_ID=\"15.3\"\nID=\"sles\"\n",
                0o644,
            ),
            TarItem::file(
                "usr/lib/sysimage/rpm/Packages.db",
                &evidence("../../images/base-sles/Packages.db"),
                0o644,
            ),
        ];
        let (packages, warnings) = run_cataloger(&items, catalog);
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(packages.len(), 35);
        let nvr: Vec<(&str, &str)> = packages
            .iter()
            .map(|p| (p.name.as_str(), p.version.as_str()))
            .collect();
        for expected in [
            ("system-user-root", "20190513-3.3.1"),
            ("glibc", "2.31-9.3.2"),
            ("libgcc_s1", "11.2.1+git610-1.3.9"),
            ("libstdc++6", "11.2.1+git610-1.3.9"),
            ("sles-release", "15.3-55.4.1"),
            ("rpm-ndb", "4.14.3-40.1"),
        ] {
            assert!(nvr.contains(&expected), "{expected:?} not in {nvr:?}");
        }
        let glibc = packages.iter().find(|p| p.name == "glibc").unwrap();
        assert_eq!(
            glibc.licenses,
            ["LGPL-2.1-or-later AND LGPL-2.1-or-later WITH GCC-exception-2.0 AND GPL-2.0-or-later"]
        );
        assert_eq!(
            glibc.source.as_ref().map(|s| s.name.as_str()),
            Some("glibc")
        );
        let pcre = packages.iter().find(|p| p.name == "libpcre1").unwrap();
        assert_eq!(pcre.source.as_ref().map(|s| s.name.as_str()), Some("pcre"));
    }

    /// A database written by Debian's rpm 4.18 (`rpm --justdb -i` of the two packages
    /// built from tests/data/sbom/rpm/*.spec); pare-many's header spills into
    /// overflow pages.
    #[test]
    fn real_sqlite_rpmdb() {
        let mut items = vec![
            TarItem::file("etc/os-release", b"ID=rhel\nVERSION_ID=\"9.3\"\n", 0o644),
            TarItem::file(
                "var/lib/rpm/rpmdb.sqlite",
                &evidence("rpm/rpmdb.sqlite"),
                0o644,
            ),
            TarItem::file("usr/bin/pare-hello", b"#!/bin/sh\n", 0o755),
            TarItem::file("usr/share/pare-hello/README", b"hello\n", 0o644),
        ];
        for i in [1, 150, 300] {
            let path = format!("usr/share/pare-many/file-{i}.txt");
            items.push(TarItem::file(&path, b"x", 0o644));
        }
        let (packages, warnings) = run_cataloger(&items, catalog);
        assert!(warnings.is_empty(), "{warnings:?}");
        // The same with a log rpm left empty (as it does), and with one holding pages.
        let mut logged = items;
        logged.push(TarItem::file("var/lib/rpm/rpmdb.sqlite-wal", b"", 0o644));
        assert!(run_cataloger(&logged, catalog).1.is_empty());
        logged.pop();
        logged.push(TarItem::file(
            "var/lib/rpm/rpmdb.sqlite-wal",
            &[7; 4128],
            0o644,
        ));
        let (again, warnings) = run_cataloger(&logged, catalog);
        assert_eq!(again.len(), packages.len());
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert_eq!(warnings[0].path, "/var/lib/rpm/rpmdb.sqlite-wal");
        assert_eq!(
            identities(&packages),
            [
                (
                    "pare-hello",
                    "2:1.0-3.fixture",
                    "pkg:rpm/rhel/pare-hello@1.0-3.fixture?arch=noarch&distro=rhel-9.3\
                     &epoch=2&upstream=pare-hello-1.0-3.fixture.src.rpm"
                ),
                (
                    "pare-many",
                    "0.5-1",
                    "pkg:rpm/rhel/pare-many@0.5-1?arch=noarch&distro=rhel-9.3\
                     &upstream=pare-many-0.5-1.src.rpm"
                ),
            ]
        );
        assert_eq!(packages[0].licenses, ["MIT"]);
        let hello: Vec<&str> = packages[0].file_paths().collect();
        assert_eq!(
            hello,
            ["/usr/bin/pare-hello", "/usr/share/pare-hello/README"]
        );
        let readme = &packages[0].files[1];
        assert_eq!(readme.checksum.as_ref().unwrap().algorithm, "SHA256");
        // sha256 of "hello\n", as rpm recorded it
        assert_eq!(
            readme.checksum.as_ref().unwrap().hex,
            "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"
        );
        assert_eq!(packages[1].files.len(), 3);
        assert_eq!(packages[0].source.as_ref().unwrap().name, "pare-hello");
    }

    #[test]
    fn a_cut_database_is_a_warning() {
        let db = evidence("rpm/rpmdb.sqlite");
        let (packages, warnings) = run_cataloger(
            &[TarItem::file(
                "var/lib/rpm/rpmdb.sqlite",
                &db[..8192],
                0o644,
            )],
            catalog,
        );
        assert!(packages.is_empty());
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert_eq!(warnings[0].path, "/var/lib/rpm/rpmdb.sqlite");
    }

    #[test]
    fn source_rpm_names() {
        assert_eq!(
            source_of("glibc-2.34-60.el9.src.rpm"),
            Some(SourcePackage {
                name: "glibc".into(),
                version: "2.34-60.el9".into()
            })
        );
        assert!(Header::parse(&[0, 0, 0, 9, 0, 0, 0, 1]).is_err());
    }
}
