//! Go modules from the build info the Go linker embeds in every binary (Go 1.18 and
//! later write it inline; older binaries point into the data segment and are reported
//! with a warning instead).

use std::collections::BTreeMap;

use crate::context::Context;
use crate::package::{Ecosystem, OwnedFile, Package};
use crate::purl::Purl;
use crate::summary::Summary;

/// The build info of one binary.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct BuildInfo {
    pub go_version: String,
    /// The main package path (`path` line).
    pub path: String,
    /// The main module and its dependencies: (module path, version).
    pub main: Option<(String, String)>,
    pub deps: Vec<(String, String)>,
}

/// Parses the blob that starts at the magic. `Err` says why it cannot be read.
pub(crate) fn parse_buildinfo(blob: &[u8]) -> Result<BuildInfo, String> {
    let header = blob.get(..32).ok_or("Go build info cut short")?;
    let flags = header[15];
    if flags & 0x2 == 0 {
        return Err("Go build info in the pre-1.18 format (pointers) is not read".into());
    }
    let mut rest = &blob[32..];
    let version = read_string(&mut rest).ok_or("Go version string cut short")?;
    let mut modinfo = read_string(&mut rest).ok_or("Go module info cut short")?;
    // The module info is framed by 16-byte sentinels.
    if modinfo.len() >= 33 && modinfo[modinfo.len() - 17] == b'\n' {
        modinfo = &modinfo[16..modinfo.len() - 16];
    }
    let mut info = BuildInfo {
        go_version: String::from_utf8_lossy(version).into_owned(),
        ..Default::default()
    };
    for line in String::from_utf8_lossy(modinfo).lines() {
        let fields: Vec<&str> = line.split('\t').collect();
        match fields.as_slice() {
            ["path", p, ..] => info.path = (*p).to_owned(),
            ["mod", m, v, ..] => info.main = Some(((*m).to_owned(), (*v).to_owned())),
            ["dep", m, v, ..] => info.deps.push(((*m).to_owned(), (*v).to_owned())),
            // A replacement applies to the dependency just before it.
            ["=>", m, v, ..] => {
                if let Some(last) = info.deps.last_mut() {
                    *last = ((*m).to_owned(), (*v).to_owned());
                }
            }
            _ => {}
        }
    }
    Ok(info)
}

fn read_string<'a>(rest: &mut &'a [u8]) -> Option<&'a [u8]> {
    let mut len: u64 = 0;
    let mut shift = 0;
    loop {
        let (&b, tail) = rest.split_first()?;
        *rest = tail;
        len |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            break;
        }
        shift += 7;
        if shift > 63 {
            return None;
        }
    }
    let len = usize::try_from(len).ok()?;
    let s = rest.get(..len)?;
    *rest = &rest[len..];
    Some(s)
}

/// `pkg:golang/golang.org/x/net@v0.1.0`: the last path segment is the name.
pub(crate) fn purl(module: &str, version: &str) -> String {
    let (namespace, name) = module.rsplit_once('/').unwrap_or(("", module));
    Purl::new("golang", name, version)
        .namespace(namespace)
        .to_string()
}

pub(crate) fn catalog(cx: &mut Context, binaries: &BTreeMap<String, Summary>) -> Vec<Package> {
    let mut packages = Vec::new();
    for (path, summary) in binaries {
        let Some(blob) = &summary.go_buildinfo else {
            continue;
        };
        let info = match parse_buildinfo(blob) {
            Ok(info) => info,
            Err(e) => {
                cx.warn(path, e);
                continue;
            }
        };
        let owned = vec![OwnedFile {
            path: path.clone(),
            checksum: None,
        }];
        let module = |(m, v): &(String, String)| Package {
            purl: purl(m, v),
            name: m.clone(),
            version: v.clone(),
            ecosystem: Ecosystem::Go,
            arch: None,
            source: None,
            licenses: Vec::new(),
            found_in: path.clone(),
            files: owned.clone(),
        };
        packages.extend(info.main.iter().map(module));
        packages.extend(info.deps.iter().map(module));
        packages.push(Package {
            purl: purl("stdlib", &info.go_version),
            name: "stdlib".into(),
            version: info.go_version.clone(),
            ..module(&(String::new(), String::new()))
        });
    }
    packages
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::binary::tests::{elf_header, noise, reduce};

    /// The blob Go 1.18+ writes: magic, pointer size, flags (inline strings), padding,
    /// then the version and the sentinel-framed module info, each with a varint length.
    pub fn go_blob(version: &str, modinfo: &str) -> Vec<u8> {
        let mut b = b"\xff Go buildinf:".to_vec();
        b.extend([8, 2]);
        b.extend([0u8; 16]);
        let mut framed =
            b"\x30\x77\xaf\x0c\x92\x74\x08\x02\x41\xe1\xc1\x07\xe6\xd6\x18\xe6".to_vec();
        framed.extend(modinfo.as_bytes());
        framed.extend(b"\xf9\x32\x43\x31\x86\x18\x20\x72\x00\x82\x42\x10\x41\x16\xd8\xf2");
        for s in [version.as_bytes(), &framed[..]] {
            let mut n = s.len();
            while n >= 0x80 {
                b.push((n as u8) | 0x80);
                n >>= 7;
            }
            b.push(n as u8);
            b.extend(s);
        }
        b
    }

    const MODINFO: &str = "path\texample.com/hello\nmod\texample.com/hello\t(devel)\t\n\
        dep\tgithub.com/google/uuid\tv1.3.0\th1:t6JiXgmwXMjEs8VusXIJk2BXHsn+wx8BZdTaoZ5fu7I=\n\
        dep\tgolang.org/x/net\tv0.7.0\th1:x\n=>\tgolang.org/x/net\tv0.8.0\th1:y\n\
        build\t-compiler=gc\n";

    #[test]
    fn inline_build_info_from_a_streamed_binary() {
        let size = 200_000u64;
        let mut file = elf_header(size);
        // A literal copy of the magic that is not aligned comes first and is ignored.
        file.extend(noise(1000 - 64 + 3, 5));
        file.extend(b"\xff Go buildinf:");
        let pad = 16 - file.len() % 16 + 65_536;
        file.extend(noise(pad, 11));
        file.extend(go_blob("go1.19.8", MODINFO));
        file.extend(noise(size as usize - file.len(), 13));
        let summary = reduce(&file, 4096);
        let info = parse_buildinfo(summary.go_buildinfo.as_deref().unwrap()).unwrap();
        assert_eq!(info.go_version, "go1.19.8");
        assert_eq!(info.path, "example.com/hello");
        assert_eq!(
            info.deps,
            [
                ("github.com/google/uuid".to_owned(), "v1.3.0".to_owned()),
                ("golang.org/x/net".to_owned(), "v0.8.0".to_owned())
            ]
        );
        assert_eq!(
            purl("github.com/google/uuid", "v1.3.0"),
            "pkg:golang/github.com/google/uuid@v1.3.0"
        );
    }

    /// A real Go binary: Debian's runc (`tests/setup` installs it). Debian
    /// builds it in GOPATH mode, so its build info names the main package and the Go
    /// version, and no module versions; the Go version must be the one runc reports.
    #[test]
    fn debian_runc_build_info() {
        let path = "/usr/sbin/runc";
        let bytes = std::fs::read(path).expect("Debian's runc package is installed");
        let summary = reduce(&bytes, 1 << 16);
        let info = parse_buildinfo(summary.go_buildinfo.as_deref().expect("build info found"))
            .expect("build info parses");
        let version = std::process::Command::new(path)
            .arg("--version")
            .output()
            .expect("runc --version runs");
        let printed = String::from_utf8_lossy(&version.stdout).into_owned();
        assert!(
            printed.contains(&format!("go: {}\n", info.go_version)),
            "pare read {}, runc says:\n{printed}",
            info.go_version
        );
        assert_eq!(info.path, "github.com/opencontainers/runc");
        assert!(info.deps.is_empty(), "{:?}", info.deps);
    }

    #[test]
    fn old_format_is_an_error_not_a_guess() {
        let mut blob = go_blob("go1.16", MODINFO);
        blob[15] = 0;
        assert!(parse_buildinfo(&blob).unwrap_err().contains("pre-1.18"));
    }
}
