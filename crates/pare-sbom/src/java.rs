//! Java archives (jar, war, ear): `META-INF/MANIFEST.MF`, every
//! `META-INF/maven/**/pom.properties`, and jars nested inside (Spring Boot's
//! `BOOT-INF/lib`, a war's `WEB-INF/lib`). A jar is summarised while it streams past
//! (bounded by [`JAR_LIMIT`]); only the summary is kept.

use std::collections::BTreeMap;
use std::io::Read;

use pare_image::ContentReducer;

use crate::context::Context;
use crate::package::{Ecosystem, OwnedFile, Package};
use crate::purl::Purl;
use crate::summary::{Archive, Pom, Summary, encode};

/// Jars larger than this are not read (and said so).
pub const JAR_LIMIT: u64 = 128 << 20;
/// The largest single entry (manifest, pom.properties, nested jar) inflated.
const ENTRY_LIMIT: u64 = 64 << 20;
/// How deep jars inside jars are followed.
const MAX_NESTING: usize = 3;
const MANIFEST_KEYS: [&str; 6] = [
    "Implementation-Title",
    "Implementation-Version",
    "Implementation-Vendor-Id",
    "Bundle-SymbolicName",
    "Bundle-Version",
    "Bundle-License",
];

pub(crate) fn is_archive(path: &str) -> bool {
    [".jar", ".war", ".ear", ".jpi", ".hpi"]
        .iter()
        .any(|ext| path.ends_with(ext))
}

/// Buffers a jar (up to [`JAR_LIMIT`]) and reads it when it is complete: a zip's
/// directory is at its end.
pub(crate) struct JarReducer {
    bytes: Vec<u8>,
    too_large: bool,
}

impl JarReducer {
    pub fn new(_path: &str, size: u64) -> Self {
        JarReducer {
            bytes: Vec::new(),
            too_large: size > JAR_LIMIT,
        }
    }
}

impl ContentReducer for JarReducer {
    fn update(&mut self, chunk: &[u8]) -> bool {
        if self.too_large {
            return false;
        }
        self.bytes.extend_from_slice(chunk);
        true
    }

    fn finish(self: Box<Self>) -> Option<Vec<u8>> {
        let mut summary = Summary::default();
        if self.too_large {
            summary.problem = Some(format!("archive larger than {JAR_LIMIT} bytes: not read"));
        } else if let Err(e) = read_archive(&self.bytes, "", 0, &mut summary.jar) {
            summary.problem = Some(e);
        }
        Some(encode(&summary))
    }
}

/// Reads one zip into `out` (itself first, then nested archives).
fn read_archive(
    zip: &[u8],
    inner: &str,
    depth: usize,
    out: &mut Vec<Archive>,
) -> Result<(), String> {
    let entries = zip_entries(zip)?;
    let mut archive = Archive {
        inner: inner.to_owned(),
        ..Default::default()
    };
    let mut nested = Vec::new();
    for e in &entries {
        if e.name.eq_ignore_ascii_case("META-INF/MANIFEST.MF") {
            archive.manifest = parse_manifest(&String::from_utf8_lossy(&zip_read(zip, e)?));
        } else if e.name.starts_with("META-INF/maven/") && e.name.ends_with("/pom.properties") {
            if let Some(pom) = parse_pom_properties(&String::from_utf8_lossy(&zip_read(zip, e)?)) {
                archive.poms.push(pom);
            }
        } else if is_archive(&e.name) && depth < MAX_NESTING {
            nested.push(e);
        }
    }
    out.push(archive);
    for e in nested {
        let name = if inner.is_empty() {
            e.name.clone()
        } else {
            format!("{inner}!/{}", e.name)
        };
        // A broken nested jar does not spoil the outer one.
        if let Ok(bytes) = zip_read(zip, e) {
            let _ = read_archive(&bytes, &name, depth + 1, out);
        }
    }
    Ok(())
}

struct ZipEntry {
    name: String,
    method: u16,
    compressed: u64,
    local_offset: u64,
}

fn u16_at(b: &[u8], o: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(o..o + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], o: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(o..o + 4)?.try_into().ok()?))
}

/// The central directory, found through the end-of-central-directory record.
fn zip_entries(zip: &[u8]) -> Result<Vec<ZipEntry>, String> {
    let not_zip = || "not a zip archive (no end of central directory)".to_owned();
    let last = zip.len().checked_sub(22).ok_or_else(not_zip)?;
    let first = last.saturating_sub(65_535);
    let eocd = (first..=last)
        .rev()
        .find(|&i| u32_at(zip, i) == Some(0x0605_4b50))
        .ok_or_else(not_zip)?;
    let count = u16_at(zip, eocd + 10).ok_or_else(not_zip)?;
    let offset = u32_at(zip, eocd + 16).ok_or_else(not_zip)?;
    if count == 0xffff || offset == 0xffff_ffff {
        return Err("ZIP64 archives are not read".into());
    }
    let mut entries = Vec::with_capacity(usize::from(count));
    let mut at = offset as usize;
    for _ in 0..count {
        let bad = || format!("central directory entry at offset {at} is cut short");
        if u32_at(zip, at) != Some(0x0201_4b50) {
            return Err(bad());
        }
        let method = u16_at(zip, at + 10).ok_or_else(bad)?;
        let compressed = u32_at(zip, at + 20).ok_or_else(bad)?;
        let name_len = usize::from(u16_at(zip, at + 28).ok_or_else(bad)?);
        let extra_len = usize::from(u16_at(zip, at + 30).ok_or_else(bad)?);
        let comment_len = usize::from(u16_at(zip, at + 32).ok_or_else(bad)?);
        let local_offset = u32_at(zip, at + 42).ok_or_else(bad)?;
        let name = zip.get(at + 46..at + 46 + name_len).ok_or_else(bad)?;
        entries.push(ZipEntry {
            name: String::from_utf8_lossy(name).into_owned(),
            method,
            compressed: u64::from(compressed),
            local_offset: u64::from(local_offset),
        });
        at += 46 + name_len + extra_len + comment_len;
    }
    Ok(entries)
}

fn zip_read(zip: &[u8], e: &ZipEntry) -> Result<Vec<u8>, String> {
    let at = e.local_offset as usize;
    let bad = || format!("{}: local header cut short", e.name);
    if u32_at(zip, at) != Some(0x0403_4b50) {
        return Err(bad());
    }
    let name_len = usize::from(u16_at(zip, at + 26).ok_or_else(bad)?);
    let extra_len = usize::from(u16_at(zip, at + 28).ok_or_else(bad)?);
    let start = at + 30 + name_len + extra_len;
    let data = zip
        .get(start..start.saturating_add(e.compressed as usize))
        .ok_or_else(bad)?;
    let mut out = Vec::new();
    let result = match e.method {
        0 => data.take(ENTRY_LIMIT).read_to_end(&mut out),
        8 => flate2::read::DeflateDecoder::new(data)
            .take(ENTRY_LIMIT)
            .read_to_end(&mut out),
        m => return Err(format!("{}: compression method {m} not read", e.name)),
    };
    result.map_err(|err| format!("{}: {err}", e.name))?;
    Ok(out)
}

/// `Key: value` lines; a line starting with one space continues the previous value.
fn parse_manifest(text: &str) -> BTreeMap<String, String> {
    let mut all: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            break; // per-entry sections follow the main one
        }
        if let Some(more) = line.strip_prefix(' ') {
            if let Some((_, v)) = all.last_mut() {
                v.push_str(more);
            }
        } else if let Some((k, v)) = line.split_once(':') {
            all.push((k.trim().to_owned(), v.trim().to_owned()));
        }
    }
    all.into_iter()
        .filter(|(k, _)| MANIFEST_KEYS.contains(&k.as_str()))
        .collect()
}

fn parse_pom_properties(text: &str) -> Option<Pom> {
    let mut pom = Pom::default();
    for line in text.lines() {
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        let v = v.trim().to_owned();
        match k.trim() {
            "groupId" => pom.group_id = v,
            "artifactId" => pom.artifact_id = v,
            "version" => pom.version = v,
            _ => {}
        }
    }
    (!pom.artifact_id.is_empty() && !pom.version.is_empty()).then_some(pom)
}

/// `commons-cli-1.5.0.jar` → (`commons-cli`, `1.5.0`).
fn name_version_from_file(path: &str) -> (String, Option<String>) {
    let file = path.rsplit(['/', '!']).next().unwrap_or(path);
    let stem = file.rsplit_once('.').map_or(file, |(s, _)| s);
    let split = stem
        .char_indices()
        .filter(|&(i, c)| c == '-' && stem[i + 1..].starts_with(|d: char| d.is_ascii_digit()))
        .map(|(i, _)| i)
        .next();
    match split {
        Some(i) => (stem[..i].to_owned(), Some(stem[i + 1..].to_owned())),
        None => (stem.to_owned(), None),
    }
}

pub(crate) fn catalog(cx: &mut Context, binaries: &BTreeMap<String, Summary>) -> Vec<Package> {
    let mut packages = Vec::new();
    for (path, summary) in binaries.iter().filter(|(p, _)| is_archive(p)) {
        if let Some(problem) = &summary.problem {
            cx.warn(path, problem.clone());
        }
        for archive in &summary.jar {
            let location = if archive.inner.is_empty() {
                path.clone()
            } else {
                format!("{path}!/{}", archive.inner)
            };
            let make = |group: &str, artifact: &str, version: &str, m: &Archive| Package {
                purl: Purl::new("maven", artifact, version)
                    .namespace(group)
                    .to_string(),
                name: artifact.to_owned(),
                version: version.to_owned(),
                ecosystem: Ecosystem::Maven,
                arch: None,
                source: None,
                licenses: m
                    .manifest
                    .get("Bundle-License")
                    .cloned()
                    .into_iter()
                    .collect(),
                found_in: location.clone(),
                files: vec![OwnedFile {
                    path: path.clone(),
                    checksum: None,
                }],
            };
            if !archive.poms.is_empty() {
                for pom in &archive.poms {
                    packages.push(make(&pom.group_id, &pom.artifact_id, &pom.version, archive));
                }
                continue;
            }
            let (file_name, file_version) = name_version_from_file(&location);
            let m = &archive.manifest;
            let version = m
                .get("Implementation-Version")
                .or(m.get("Bundle-Version"))
                .cloned()
                .or(file_version);
            let Some(version) = version else {
                cx.warn(
                    &location,
                    "jar with no version in its manifest, pom or name",
                );
                continue;
            };
            let group = m
                .get("Implementation-Vendor-Id")
                .or(m.get("Bundle-SymbolicName"))
                .map(|g| g.split(';').next().unwrap_or(g).to_owned())
                .unwrap_or_else(|| file_name.clone());
            packages.push(make(&group, &file_name, &version, archive));
        }
    }
    packages
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::testing::evidence;

    fn summarise(bytes: &[u8]) -> Summary {
        let mut r: Box<dyn ContentReducer> = Box::new(JarReducer::new("x.jar", bytes.len() as u64));
        for c in bytes.chunks(65_536) {
            r.update(c);
        }
        let out = r.finish().unwrap();
        serde_json::from_slice(&out[b"pare-sbom:binary:v1\n".len()..]).unwrap()
    }

    #[test]
    fn real_debian_jar_and_nested_copy() {
        let jar = evidence("java/commons-cli-1.5.0.jar");
        let s = summarise(&jar);
        assert_eq!(s.problem, None);
        assert_eq!(
            s.jar[0].poms,
            [Pom {
                group_id: "commons-cli".into(),
                artifact_id: "commons-cli".into(),
                version: "1.5.0".into()
            }]
        );
        let nested = summarise(&evidence("java/app-with-lib.jar"));
        let inner: Vec<&str> = nested.jar.iter().map(|a| a.inner.as_str()).collect();
        assert_eq!(inner, ["", "BOOT-INF/lib/commons-cli-1.5.0.jar"]);
        assert_eq!(nested.jar[1].poms[0].version, "1.5.0");
    }

    #[test]
    fn not_a_zip_is_a_problem_not_a_panic() {
        let s = summarise(&[7u8; 1000]);
        assert!(s.problem.unwrap().contains("not a zip"));
        assert_eq!(
            name_version_from_file("/x/BOOT-INF/lib/spring-core-5.3.9.jar"),
            ("spring-core".to_owned(), Some("5.3.9".to_owned()))
        );
    }
}
