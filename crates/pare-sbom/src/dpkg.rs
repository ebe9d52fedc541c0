//! Debian packages: `/var/lib/dpkg/status` with the file lists in `info/*.list`, and
//! distroless's `/var/lib/dpkg/status.d/*` with their `*.md5sums`.
//!
//! On a merged-usr system (Debian 12) `/lib` is a link to `/usr/lib` while dpkg lists
//! `/lib/...`: files are reported where they really are. Files moved aside by
//! `dpkg-divert` are reported at their diverted path.

use std::collections::{HashMap, HashSet};

use crate::context::Context;
use crate::package::{Checksum, Ecosystem, Package, SourcePackage};
use crate::purl::Purl;
use crate::rfc822::{self, Paragraph};

const STATUS: &str = "/var/lib/dpkg/status";
const STATUS_D: &str = "/var/lib/dpkg/status.d/";
const INFO: &str = "/var/lib/dpkg/info/";
const DIVERSIONS: &str = "/var/lib/dpkg/diversions";

pub(crate) fn wants(path: &str) -> bool {
    path == STATUS
        || path == DIVERSIONS
        || path.starts_with(STATUS_D)
        || path
            .strip_prefix(INFO)
            .is_some_and(|name| name.ends_with(".list") || name.ends_with(".md5sums"))
}

pub(crate) fn catalog(cx: &mut Context) -> Vec<Package> {
    let diversions = cx
        .text(DIVERSIONS)
        .map(|t| parse_diversions(&t))
        .unwrap_or_default();
    let mut packages = Vec::new();
    if let Some(text) = cx.text(STATUS) {
        let mut without_list = 0;
        for p in parse_status(cx, STATUS, &text) {
            let listed = info_files(cx, &p);
            if listed.is_none() {
                without_list += 1;
            }
            let listed = listed.unwrap_or_default();
            packages.push(package(cx, &p, STATUS, listed, &diversions));
        }
        if without_list > 0 {
            cx.warn(
                STATUS,
                format!("{without_list} installed packages have no file list in {INFO}"),
            );
        }
    }
    let status_d: Vec<(String, String)> = cx
        .kept_files()
        .filter_map(|(path, _)| {
            let name = path.strip_prefix(STATUS_D)?;
            (!name.contains('/') && !name.ends_with(".md5sums")).then(|| path.to_owned())
        })
        .filter_map(|path| cx.text(&path).map(|t| (path, t)))
        .collect();
    for (path, text) in status_d {
        let md5sums = path.clone() + ".md5sums";
        for p in parse_status(cx, &path, &text) {
            let listed = cx
                .text(&md5sums)
                .map(|t| parse_md5sums(&t))
                .unwrap_or_default();
            packages.push(package(cx, &p, &path, listed, &diversions));
        }
    }
    packages
}

/// A package from the status database, ready to be matched with its files.
#[derive(Clone, Debug)]
pub(crate) struct StatusEntry {
    pub paragraph: Paragraph,
    pub name: String,
    pub version: String,
    pub arch: Option<String>,
}

/// The installed packages of a status file. Paragraphs without a name or version and
/// a file that ends mid-line (truncated) are warned about; the rest is kept.
pub(crate) fn parse_status(cx: &mut Context, path: &str, text: &str) -> Vec<StatusEntry> {
    let (paragraphs, bad) = rfc822::paragraphs(text, false);
    for b in bad.iter().take(5) {
        cx.warn(path, format!("line {}: not a field: {:?}", b.line, b.text));
    }
    if !text.is_empty() && !text.ends_with('\n') {
        cx.warn(path, "ends in the middle of a line: truncated?");
    }
    let mut entries = Vec::new();
    for p in paragraphs {
        let (Some(name), Some(version)) = (p.get("Package"), p.get("Version")) else {
            cx.warn(
                path,
                format!(
                    "line {}: paragraph without Package or Version (package {:?}): skipped",
                    p.line,
                    p.get("Package").unwrap_or("?")
                ),
            );
            continue;
        };
        // status.d entries carry no Status field: they are installed by definition.
        let installed = p
            .get("Status")
            .is_none_or(|s| s.split_whitespace().nth(2).is_some_and(is_installed_state));
        if !installed {
            continue;
        }
        entries.push(StatusEntry {
            name: name.to_owned(),
            version: version.to_owned(),
            arch: p.get("Architecture").map(str::to_owned),
            paragraph: p,
        });
    }
    entries
}

/// dpkg's package states that have files on disk.
fn is_installed_state(state: &str) -> bool {
    matches!(
        state,
        "installed"
            | "half-installed"
            | "unpacked"
            | "half-configured"
            | "triggers-awaited"
            | "triggers-pending"
    )
}

/// The `info/NAME.list` (or `NAME:ARCH.list`) of a package, with checksums from its
/// `md5sums` and conffiles.
fn info_files(cx: &Context, p: &StatusEntry) -> Option<Vec<(String, Option<Checksum>)>> {
    let stems = [
        p.arch
            .as_ref()
            .map(|a| format!("{INFO}{}:{a}", p.name))
            .unwrap_or_default(),
        format!("{INFO}{}", p.name),
    ];
    let stem = stems
        .iter()
        .find(|s| !s.is_empty() && cx.content(&format!("{s}.list")).is_some())?;
    let list = cx.text(&format!("{stem}.list"))?;
    let mut sums: HashMap<String, Checksum> = cx
        .text(&format!("{stem}.md5sums"))
        .map(|t| parse_md5sums(&t))
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(path, sum)| Some((path, sum?)))
        .collect();
    sums.extend(conffiles(&p.paragraph));
    let listed: Vec<&str> = list
        .lines()
        .filter(|l| l.starts_with('/') && *l != "/.")
        .collect();
    // Directories of the package (parents of other entries) are not owned: in the
    // image `/lib` may be the merged-usr symlink, which is not this package's.
    let dirs: HashSet<&str> = listed
        .iter()
        .filter_map(|l| l.rsplit_once('/').map(|(d, _)| d))
        .collect();
    Some(
        listed
            .into_iter()
            .filter(|l| !dirs.contains(l))
            .map(|l| (l.to_owned(), sums.remove(l)))
            .collect(),
    )
}

/// `Conffiles:` lines: ` /etc/x MD5 [obsolete]`.
fn conffiles(p: &Paragraph) -> Vec<(String, Checksum)> {
    p.get("Conffiles")
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let mut parts = l.split_whitespace();
            let path = parts.next()?;
            let sum = parts.next().filter(|s| s.len() == 32)?;
            Some((path.to_owned(), md5(sum)))
        })
        .collect()
}

fn md5(hex: &str) -> Checksum {
    Checksum {
        algorithm: "MD5",
        hex: hex.to_ascii_lowercase(),
    }
}

/// `md5sums` lines: `HEX  relative/path`. Paths come back absolute.
pub(crate) fn parse_md5sums(text: &str) -> Vec<(String, Option<Checksum>)> {
    text.lines()
        .filter_map(|l| {
            let (sum, path) = l.split_once(char::is_whitespace)?;
            let path = path.trim_start();
            if path.is_empty() {
                return None;
            }
            let sum =
                (sum.len() == 32 && sum.bytes().all(|b| b.is_ascii_hexdigit())).then(|| md5(sum));
            Some((format!("/{}", path.trim_start_matches('/')), sum))
        })
        .collect()
}

/// A diversion: files of packages other than `by` at `from` are really at `to`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Diversion {
    pub to: String,
    pub by: String,
}

/// `diversions`: three lines per entry (from, to, diverting package; `:` for local).
pub(crate) fn parse_diversions(text: &str) -> HashMap<String, Diversion> {
    let lines: Vec<&str> = text.lines().collect();
    lines
        .chunks_exact(3)
        .map(|c| {
            (
                c[0].to_owned(),
                Diversion {
                    to: c[1].to_owned(),
                    by: c[2].to_owned(),
                },
            )
        })
        .collect()
}

fn package(
    cx: &Context,
    p: &StatusEntry,
    found_in: &str,
    listed: Vec<(String, Option<Checksum>)>,
    diversions: &HashMap<String, Diversion>,
) -> Package {
    let listed = listed
        .into_iter()
        .map(|(path, sum)| match diversions.get(&path) {
            Some(d) if d.by != p.name => (d.to.clone(), sum),
            _ => (path, sum),
        });
    let source = source_package(p.paragraph.get("Source"), &p.version);
    Package {
        purl: purl(cx, p, source.as_ref()),
        name: p.name.clone(),
        version: p.version.clone(),
        ecosystem: Ecosystem::Deb,
        arch: p.arch.clone(),
        source,
        licenses: Vec::new(),
        found_in: found_in.to_owned(),
        files: cx.owned_files(listed),
    }
}

/// `pkg:deb/debian/NAME@VERSION?arch=…&distro=debian-12[&upstream=SRC[@VER]]`, with
/// `upstream` as syft writes it so that scanners keyed by source package match.
fn purl(cx: &Context, p: &StatusEntry, source: Option<&crate::SourcePackage>) -> String {
    let namespace = cx
        .distro
        .as_ref()
        .map(|d| d.id.as_str())
        .unwrap_or("debian");
    let upstream = match source {
        Some(s) if s.version != p.version => format!("{}@{}", s.name, s.version),
        Some(s) if s.name != p.name => s.name.clone(),
        _ => String::new(),
    };
    Purl::new("deb", &p.name, &p.version)
        .namespace(namespace)
        .qualifier("arch", p.arch.clone().unwrap_or_default())
        .qualifier(
            "distro",
            cx.distro
                .as_ref()
                .map(|d| d.qualifier())
                .unwrap_or_default(),
        )
        .qualifier("upstream", upstream)
        .to_string()
}

/// `Source: name (version)` or `name`, with the binary version as the default.
fn source_package(field: Option<&str>, version: &str) -> Option<SourcePackage> {
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
mod tests {
    use super::*;
    use crate::catalog::testing::evidence;
    use pare_image::testutil::TarItem;

    /// A merged-usr Debian 12 with the real status excerpt and file lists.
    fn bookworm(status: &[u8]) -> Vec<TarItem> {
        let mut items = vec![
            TarItem::file("etc/os-release", b"ID=debian\nVERSION_ID=\"12\"\n", 0o644),
            TarItem::symlink("lib", "usr/lib"),
            TarItem::dir("usr/"),
            TarItem::dir("usr/lib/"),
            TarItem::dir("usr/lib/x86_64-linux-gnu/"),
            TarItem::file(
                "usr/lib/x86_64-linux-gnu/libz.so.1.2.13",
                b"\x7fELF fake",
                0o644,
            ),
            TarItem::symlink("usr/lib/x86_64-linux-gnu/libz.so.1", "libz.so.1.2.13"),
            TarItem::dir("usr/lib/python3.11/"),
            TarItem::file("usr/lib/python3.11/mailcap.py", b"# mailcap", 0o644),
            TarItem::file("var/lib/dpkg/status", status, 0o644),
        ];
        for name in [
            "zlib1g:amd64.list",
            "zlib1g:amd64.md5sums",
            "libpython3.11-stdlib:amd64.list",
            "libpython3.11-stdlib:amd64.md5sums",
        ] {
            items.push(TarItem::file(
                &format!("var/lib/dpkg/info/{name}"),
                &evidence(&format!("dpkg-bookworm/{name}")),
                0o644,
            ));
        }
        items
    }

    fn catalog_of(items: &[TarItem]) -> (Vec<Package>, Vec<crate::Warning>) {
        crate::catalog::testing::run_cataloger(items, catalog)
    }

    #[test]
    fn real_status_and_lists_with_usr_merge() {
        let (packages, _) = catalog_of(&bookworm(&evidence("dpkg-bookworm/status.excerpt")));
        let stdlib = packages
            .iter()
            .find(|p| p.name == "libpython3.11-stdlib")
            .unwrap();
        assert_eq!(stdlib.version, "3.11.2-6+deb12u6");
        assert_eq!(
            stdlib.source,
            Some(crate::SourcePackage {
                name: "python3.11".into(),
                version: "3.11.2-6+deb12u6".into()
            })
        );
        assert_eq!(
            stdlib.purl,
            "pkg:deb/debian/libpython3.11-stdlib@3.11.2-6%2Bdeb12u6\
             ?arch=amd64&distro=debian-12&upstream=python3.11"
        );
        let mailcap = stdlib
            .files
            .iter()
            .find(|f| f.path == "/usr/lib/python3.11/mailcap.py")
            .expect("libpython3.11-stdlib owns mailcap.py");
        assert_eq!(mailcap.checksum.as_ref().unwrap().algorithm, "MD5");

        let zlib = packages.iter().find(|p| p.name == "zlib1g").unwrap();
        assert_eq!(zlib.version, "1:1.2.13.dfsg-1");
        // dpkg lists /lib/x86_64-linux-gnu/...; /lib is a link to /usr/lib.
        let paths: Vec<&str> = zlib.file_paths().collect();
        assert_eq!(
            paths,
            [
                "/usr/lib/x86_64-linux-gnu/libz.so.1",
                "/usr/lib/x86_64-linux-gnu/libz.so.1.2.13"
            ]
        );
        assert_eq!(
            zlib.files[1].checksum.as_ref().unwrap().hex,
            "c7c774d91213e966a04b2e51c787be23"
        );
        assert!(zlib.purl.contains("@1%3A1.2.13.dfsg-1?"), "{}", zlib.purl);
    }

    #[test]
    fn truncated_status_warns_and_keeps_the_complete_paragraphs() {
        let status = evidence("dpkg-bookworm/status.excerpt");
        let text = String::from_utf8(status).unwrap();
        // Cut inside the libsqlite3-0 paragraph, before its Version field.
        let cut = text.find("Package: libsqlite3-0").unwrap() + "Package: libsqlite3-0\nSta".len();
        let (packages, warnings) = catalog_of(&bookworm(&text.as_bytes()[..cut]));
        let names: Vec<&str> = packages.iter().map(|p| p.name.as_str()).collect();
        assert!(names.contains(&"libpython3.11-stdlib"), "{names:?}");
        assert!(!names.contains(&"libsqlite3-0"), "{names:?}");
        let about_status: Vec<&str> = warnings
            .iter()
            .filter(|w| w.path == STATUS)
            .map(|w| w.message.as_str())
            .collect();
        assert!(
            about_status.iter().any(|m| m.contains("truncated")),
            "{about_status:?}"
        );
        assert!(
            about_status.iter().any(|m| m.contains("libsqlite3-0")),
            "{about_status:?}"
        );
    }

    #[test]
    fn distroless_status_d_with_md5sums() {
        let (packages, _) = catalog_of(&[
            TarItem::file(
                "var/lib/dpkg/status.d/zlib1g",
                b"Package: zlib1g\nVersion: 1:1.2.13.dfsg-1\nArchitecture: amd64\n\
                  Source: zlib\n",
                0o644,
            ),
            TarItem::file(
                "var/lib/dpkg/status.d/zlib1g.md5sums",
                &evidence("dpkg-bookworm/zlib1g:amd64.md5sums"),
                0o644,
            ),
            TarItem::file("lib/x86_64-linux-gnu/libz.so.1.2.13", b"elf", 0o644),
            TarItem::file("usr/share/doc/zlib1g/copyright", b"c", 0o644),
        ]);
        assert_eq!(packages.len(), 1);
        let paths: Vec<&str> = packages[0].file_paths().collect();
        assert_eq!(
            paths,
            [
                "/lib/x86_64-linux-gnu/libz.so.1.2.13",
                "/usr/share/doc/zlib1g/copyright"
            ]
        );
        assert_eq!(packages[0].found_in, "/var/lib/dpkg/status.d/zlib1g");
        assert_eq!(packages[0].source.as_ref().unwrap().name, "zlib");
    }

    #[test]
    fn diverted_files_are_found_where_they_were_moved() {
        let (packages, _) = catalog_of(&[
            TarItem::file(
                "var/lib/dpkg/status",
                b"Package: dash\nStatus: install ok installed\nVersion: 0.5.12-2\n\n\
                  Package: other\nStatus: install ok installed\nVersion: 1\n\n\
                  Package: gone\nStatus: deinstall ok config-files\nVersion: 1\n",
                0o644,
            ),
            TarItem::file("var/lib/dpkg/info/dash.list", b"/bin/sh\n", 0o644),
            TarItem::file("var/lib/dpkg/info/other.list", b"/bin/sh\n", 0o644),
            TarItem::file(
                "var/lib/dpkg/diversions",
                b"/bin/sh\n/bin/sh.distrib\ndash\n",
                0o644,
            ),
            TarItem::file("bin/sh", b"dash", 0o755),
            TarItem::file("bin/sh.distrib", b"other", 0o755),
        ]);
        let files = |name: &str| -> Vec<String> {
            packages
                .iter()
                .find(|p| p.name == name)
                .unwrap()
                .file_paths()
                .map(str::to_owned)
                .collect()
        };
        assert_eq!(files("dash"), ["/bin/sh"]);
        assert_eq!(files("other"), ["/bin/sh.distrib"]);
        assert!(packages.iter().all(|p| p.name != "gone"));
    }
}
