//! `pare sbom` on broken metadata: each bad file is a warning naming it and the rest
//! of the SBOM is still produced; `--output` never leaves a half-written file.

mod support;

use std::path::{Path, PathBuf};

use std::io::Read;

use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use pare_image::digest::HashingReader;
use serde_json::{Value, json};
use support::{children_peak_rss_kib, pare, temp_dir};

/// Writes a `docker save`-style archive of one gzip-compressed layer holding `files`
/// and, streamed so that this process never holds it, a fake ELF of `fake_elf_size`
/// bytes at /usr/local/bin/fake (its header claims a 64-bit object and nothing else).
/// Returns the archive's path.
fn docker_archive(dir: &Path, files: &[(&str, &[u8], u32)], fake_elf_size: u64) -> PathBuf {
    let layer_path = dir.join("layer.tar.gz");
    let mut layer = tar::Builder::new(GzEncoder::new(
        std::fs::File::create(&layer_path).unwrap(),
        flate2::Compression::fast(),
    ));
    let mut add = |name: &str, mode: u32, size: u64, data: &mut dyn Read| {
        let mut header = tar::Header::new_gnu();
        header.set_size(size);
        header.set_mode(mode);
        header.set_cksum();
        layer.append_data(&mut header, name, data).unwrap();
    };
    for (name, bytes, mode) in files {
        add(name, *mode, bytes.len() as u64, &mut &bytes[..]);
    }
    let elf_ident = b"\x7fELF\x02\x01\x01";
    let mut fake = elf_ident.chain(std::io::repeat(0)).take(fake_elf_size);
    add("usr/local/bin/fake", 0o755, fake_elf_size, &mut fake);
    layer.into_inner().unwrap().finish().unwrap();
    // The config's diff_id is the digest of the uncompressed tar.
    let (diff_id, _) =
        HashingReader::new(GzDecoder::new(std::fs::File::open(&layer_path).unwrap()))
            .finish()
            .unwrap();
    let config = serde_json::to_vec(&json!({
        "architecture": "amd64", "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": [diff_id.to_string()]},
    }))
    .unwrap();
    let manifest = serde_json::to_vec(&json!([{
        "Config": "config.json", "RepoTags": ["broken:latest"], "Layers": ["layer/layer.tar"]
    }]))
    .unwrap();
    let path = dir.join("broken.tar");
    let mut archive = tar::Builder::new(std::fs::File::create(&path).unwrap());
    for (name, bytes) in [("manifest.json", &manifest), ("config.json", &config)] {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        archive.append_data(&mut header, name, &bytes[..]).unwrap();
    }
    archive
        .append_path_with_name(&layer_path, "layer/layer.tar")
        .unwrap();
    archive.finish().unwrap();
    path
}

const SITE: &str = "opt/venv/lib/python3.11/site-packages";

/// An image with a truncated dpkg status, a RECORD with garbage lines, a package.json
/// that is not JSON, a huge fake ELF, and good metadata beside each.
fn broken_image(dir: &Path, fake_elf_size: u64) -> PathBuf {
    let metadata = format!("{SITE}/ok-1.0.dist-info/METADATA");
    let record = format!("{SITE}/ok-1.0.dist-info/RECORD");
    let init = format!("{SITE}/ok/__init__.py");
    docker_archive(
        dir,
        &[
            ("etc/os-release", b"ID=debian\nVERSION_ID=\"12\"\n", 0o644),
            (
                "var/lib/dpkg/status",
                b"Package: good\nStatus: install ok installed\nVersion: 1.0-1\n\
                  Architecture: amd64\n\nPackage: cut\nStatus: install ok inst",
                0o644,
            ),
            ("var/lib/dpkg/info/good.list", b"/usr/bin/good\n", 0o644),
            ("usr/bin/good", b"#!/bin/sh\n", 0o755),
            (&metadata, b"Name: ok\nVersion: 1.0\n", 0o644),
            (
                &record,
                b"ok/__init__.py,,\n\x00\x01garbage\nok-1.0.dist-info/METADATA,,\n",
                0o644,
            ),
            (&init, b"", 0o644),
            (
                "app/node_modules/bad/package.json",
                b"{ \"name\": \"bad\", ",
                0o644,
            ),
            (
                "app/node_modules/fine/package.json",
                br#"{"name":"fine","version":"2.0.0"}"#,
                0o644,
            ),
        ],
        fake_elf_size,
    )
}

fn warnings_about(stderr: &str, path: &str) -> usize {
    stderr
        .lines()
        .filter(|l| l.starts_with("pare: warning: ") && l.contains(path))
        .count()
}

#[test]
fn bad_metadata_is_warned_about_and_the_rest_is_produced() {
    let dir = temp_dir();
    let archive = broken_image(dir.path(), 4 << 20);
    let reference = format!("docker-archive:{}", archive.display());
    let run = pare(&["sbom", "--format", "json", &reference]).success();
    let stderr = run.stderr();
    for path in [
        "/var/lib/dpkg/status",
        "ok-1.0.dist-info/RECORD",
        "/app/node_modules/bad/package.json",
        "/usr/local/bin/fake",
    ] {
        assert!(
            warnings_about(&stderr, path) >= 1,
            "no warning about {path}\n{}",
            run.explain()
        );
    }
    let sbom = run.json();
    let got: Vec<(String, String)> = sbom["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_owned(),
                p["version"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let want: Vec<(String, String)> = [("good", "1.0-1"), ("ok", "1.0"), ("fine", "2.0.0")]
        .iter()
        .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
        .collect();
    assert_eq!(got, want, "{}", run.explain());
    let unowned = &sbom["unowned"][0];
    assert_eq!(unowned["path"], "/usr/local/bin/fake");
    assert!(
        unowned["problem"].as_str().unwrap().contains("ELF"),
        "{unowned}"
    );
}

#[test]
fn a_huge_fake_elf_is_read_in_bounded_memory() {
    let dir = temp_dir();
    let size: u64 = 512 << 20;
    let archive = broken_image(dir.path(), size);
    let reference = format!("docker-archive:{}", archive.display());
    let run = pare(&["sbom", "--format", "json", &reference]).success();
    assert!(warnings_about(&run.stderr(), "/usr/local/bin/fake") >= 1);
    let peak = children_peak_rss_kib();
    assert!(
        peak < 200 * 1024,
        "peak RSS {peak} KiB while reading a {size}-byte binary"
    );
}

#[test]
fn output_is_written_whole_or_not_at_all() {
    let dir = temp_dir();
    let out = dir.path().join("sbom.json");
    std::fs::write(&out, "previous").unwrap();
    let missing = format!("docker-archive:{}", dir.path().join("nope.tar").display());
    pare(&["sbom", "--output", out.to_str().unwrap(), &missing]).exits(2);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "previous");
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(left.len(), 1, "a temporary file was left behind");

    let archive = broken_image(dir.path(), 1024);
    let reference = format!("docker-archive:{}", archive.display());
    let into_missing_dir = dir.path().join("no/such/dir/sbom.json");
    let run = pare(&["sbom", "-o", into_missing_dir.to_str().unwrap(), &reference]).exits(2);
    assert!(run.stderr().contains("no/such/dir"), "{}", run.explain());

    pare(&["sbom", "-o", out.to_str().unwrap(), &reference]).success();
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(
        doc["bomFormat"], "CycloneDX",
        "a file gets CycloneDX by default"
    );
}

/// An OCI layout whose dpkg database dpkg itself reads through links: the status is a
/// hard link to /tmp/s in the first layer, and `/var/lib/dpkg` a symlink to /opt/d in
/// the second (where `status` is an absolute symlink climbing above the root).
fn linked_dpkg_image(dir: &Path, second: &[pare_image::testutil::TarItem]) {
    use pare_image::testutil::{TarItem, gzip, tar_of, write_layout};
    let status = b"Package: bash\nStatus: install ok installed\nVersion: 5.2.15-2\n\
                   Architecture: amd64\n";
    let first = tar_of(&[
        TarItem::file("etc/os-release", b"ID=debian\nVERSION_ID=\"12\"\n", 0o644),
        TarItem::dir("tmp/"),
        TarItem::file("tmp/s", status, 0o644),
        TarItem::dir("var/"),
        TarItem::dir("var/lib/"),
        TarItem::dir("var/lib/dpkg/"),
        TarItem::hardlink("var/lib/dpkg/status", "tmp/s"),
    ]);
    let second = tar_of(second);
    write_layout(dir, &[(gzip(&first), first), (gzip(&second), second)]);
}

#[test]
fn a_dpkg_database_behind_links_is_read_as_dpkg_reads_it() {
    use pare_image::testutil::TarItem;
    let packages = |run: &support::Run| -> Vec<String> {
        let sbom = run.json();
        let all = sbom["packages"].as_array().cloned().unwrap_or_default();
        all.iter()
            .filter_map(|p| p["name"].as_str().map(str::to_owned))
            .collect()
    };
    // The status as a hard link alone.
    let dir = temp_dir();
    linked_dpkg_image(dir.path(), &[TarItem::dir("srv/")]);
    let reference = format!("oci:{}", dir.path().display());
    let run = pare(&["sbom", "--format", "json", &reference]).success();
    assert_eq!(packages(&run), ["bash"], "{}", run.explain());
    assert!(
        warnings_about(&run.stderr(), "/var/lib/dpkg/status: a hard link to /tmp/s") == 1,
        "{}",
        run.explain()
    );

    // A symlinked directory in a later layer, to a status that is a symlink itself.
    let dir = temp_dir();
    linked_dpkg_image(
        dir.path(),
        &[
            TarItem::dir("opt/"),
            TarItem::dir("opt/d/"),
            TarItem::symlink("opt/d/status", "/../../../tmp/s"),
            TarItem::dir("var/"),
            TarItem::dir("var/lib/"),
            TarItem::file("var/lib/.wh.dpkg", b"", 0o644),
            TarItem::symlink("var/lib/dpkg", "/opt/d"),
        ],
    );
    let reference = format!("oci:{}", dir.path().display());
    let run = pare(&["sbom", "--format", "json", &reference]).success();
    assert_eq!(packages(&run), ["bash"], "{}", run.explain());
    assert!(
        warnings_about(&run.stderr(), "/var/lib/dpkg: a symlink to /opt/d") == 1,
        "{}",
        run.explain()
    );

    // A link that leads nowhere in the image is a warning, never a silent 0.
    let dir = temp_dir();
    linked_dpkg_image(
        dir.path(),
        &[
            TarItem::dir("var/"),
            TarItem::dir("var/lib/"),
            TarItem::file("var/lib/.wh.dpkg", b"", 0o644),
            TarItem::symlink("var/lib/dpkg", "/gone"),
        ],
    );
    let reference = format!("oci:{}", dir.path().display());
    let run = pare(&["sbom", "--format", "json", &reference]).success();
    assert!(packages(&run).is_empty(), "{}", run.explain());
    assert!(
        warnings_about(&run.stderr(), "does not resolve inside the image") == 1,
        "{}",
        run.explain()
    );
}
