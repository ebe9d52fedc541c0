//! Hostile and broken images: each gives one clear line naming the file, exit 2, no
//! panic, and nothing written outside pare's own work directory.

mod support;

use std::path::Path;

use pare_image::Digest;
use pare_image::testutil::{TarItem, gzip, tar_of, write_layout};
use serde_json::json;
use support::{children_peak_rss_kib, pare, pare_env, temp_dir};

fn simple_layer() -> (Vec<u8>, Vec<u8>) {
    let tar = tar_of(&[
        TarItem::dir("app/"),
        TarItem::file("app/run", &[42u8; 200_000], 0o755),
    ]);
    (gzip(&tar), tar)
}

/// Asserts exit 2 with one error line on stderr that contains every `needle`, and at
/// most `hint:` lines after it.
fn assert_clear_error(args: &[&str], needles: &[&str]) {
    let run = pare(args).exits(2);
    let stderr = run.stderr();
    let mut lines = stderr.trim_end().lines();
    let error = lines.next().unwrap_or_default();
    assert!(
        error.starts_with("pare: error: ") && lines.all(|l| l.starts_with("hint: ")),
        "not one error line (and hints):\n{}",
        run.explain()
    );
    assert!(!stderr.contains("panicked"), "{}", run.explain());
    for needle in needles {
        assert!(error.contains(needle), "no {needle:?}:\n{}", run.explain());
    }
}

#[test]
fn a_good_synthetic_layout_reads() {
    let dir = temp_dir();
    write_layout(dir.path(), &[simple_layer()]);
    let r = pare(&["xray", "--json", &format!("oci:{}", dir.path().display())])
        .success()
        .json();
    assert_eq!(r["image"]["files"], 1);
    assert_eq!(r["image"]["user"], "1000");
}

#[test]
fn truncated_gzip_layer() {
    let dir = temp_dir();
    let (blob, tar) = simple_layer();
    let cut = blob[..blob.len() / 2].to_vec();
    let (_, _, layers) = write_layout(dir.path(), &[(cut, tar)]);
    assert_clear_error(
        &["xray", &format!("oci:{}", dir.path().display())],
        &[&layers[0]],
    );
}

#[test]
fn blob_with_wrong_digest() {
    let dir = temp_dir();
    let (_, _, layers) = write_layout(dir.path(), &[simple_layer()]);
    // Same size, one byte changed: what a bad disk or a tampered mirror gives.
    let path = dir.path().join(&layers[0]);
    let mut blob = std::fs::read(&path).unwrap();
    let middle = blob.len() / 2;
    blob[middle] ^= 0x55;
    std::fs::write(&path, &blob).unwrap();
    assert_clear_error(
        &["xray", &format!("oci:{}", dir.path().display())],
        &[&layers[0], "digest mismatch"],
    );
}

#[test]
fn missing_blob() {
    let dir = temp_dir();
    let (_, _, layers) = write_layout(dir.path(), &[simple_layer()]);
    std::fs::remove_file(dir.path().join(&layers[0])).unwrap();
    let digest = layers[0].replace("blobs/sha256/", "sha256:");
    assert_clear_error(
        &["xray", &format!("oci:{}", dir.path().display())],
        &["missing blob", &digest],
    );
}

#[test]
fn manifest_that_is_not_json() {
    let dir = temp_dir();
    write_layout(dir.path(), &[simple_layer()]);
    let garbage = b"this is not json {".to_vec();
    let d = Digest::of(&garbage);
    std::fs::write(dir.path().join("blobs/sha256").join(d.hex()), &garbage).unwrap();
    let index = json!({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": d.to_string(), "size": garbage.len()}]});
    std::fs::write(
        dir.path().join("index.json"),
        serde_json::to_vec(&index).unwrap(),
    )
    .unwrap();
    assert_clear_error(
        &["xray", &format!("oci:{}", dir.path().display())],
        &[
            &format!("blobs/sha256/{}", d.hex()),
            "not a valid image manifest",
        ],
    );
}

#[test]
fn index_that_is_not_json() {
    let dir = temp_dir();
    write_layout(dir.path(), &[simple_layer()]);
    std::fs::write(dir.path().join("index.json"), b"{{{").unwrap();
    assert_clear_error(
        &["xray", &format!("oci:{}", dir.path().display())],
        &["index.json", "not a valid OCI index"],
    );
}

#[test]
fn hostile_paths_are_reported_and_never_followed() {
    let dir = temp_dir();
    let canary = format!("pare-escape-{}", std::process::id());
    let tar = tar_of(&[
        TarItem::file(
            &format!("../../../../../../tmp/{canary}"),
            b"escaped",
            0o644,
        ),
        TarItem::file("/etc/absolute", b"abs", 0o644),
        TarItem::symlink("etc/shadow-link", "../../../../../etc/shadow"),
        TarItem::char_device("dev-null-copy"),
        TarItem::file("ok", b"fine", 0o644),
    ]);
    write_layout(dir.path(), &[(gzip(&tar), tar)]);
    let report = pare(&["xray", "--json", &format!("oci:{}", dir.path().display())])
        .success()
        .json();
    let problems: Vec<&str> = report["unsafe_entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["problem"].as_str().unwrap())
        .collect();
    assert_eq!(
        problems,
        [
            "escapes_root",
            "absolute",
            "symlink_escapes_root",
            "device_file"
        ],
        "{report:#}"
    );
    assert!(
        !Path::new("/tmp").join(&canary).exists(),
        "a layer wrote outside the work directory"
    );
    assert!(!dir.path().join(&canary).exists());
}

#[test]
fn gzip_bomb_is_refused_in_bounded_memory() {
    // 1.5 GiB of zeros gzip to ~1.5 MB: past the 1 GiB floor and 100x the blob size.
    let mut tar = tar_of(&[TarItem::file("bomb", &[], 0o644)]);
    let size: u64 = 3 << 29;
    let mut header = tar::Header::new_gnu();
    header.set_path("bomb").unwrap();
    header.set_size(size);
    header.set_mode(0o644);
    header.set_cksum();
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    use std::io::Write;
    encoder.write_all(header.as_bytes()).unwrap();
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..(size >> 20) {
        encoder.write_all(&zeros).unwrap();
    }
    encoder.write_all(&[0u8; 1024]).unwrap();
    let blob = encoder.finish().unwrap();
    tar.clear(); // the diff_id does not matter: the read stops before it is checked
    let dir = temp_dir();
    let (_, _, layers) = write_layout(dir.path(), &[(blob, tar)]);
    let layout = format!("oci:{}", dir.path().display());
    assert_clear_error(&["xray", &layout], &[&layers[0], "decompression bomb"]);
    let peak_kib = children_peak_rss_kib();
    assert!(
        peak_kib < 200 * 1024,
        "pare used {peak_kib} KiB reading a bomb"
    );
    // The hint's flag raises the limit for a layer the user trusts (3 GB > 1.5 GiB):
    // the whole layer is read, and only then is its (deliberately wrong) diff_id
    // checked.
    let run = pare(&["xray", "--max-layer-expansion", "2000", &layout]).exits(2);
    assert!(
        run.stderr().contains("diff_id") && !run.stderr().contains("decompression bomb"),
        "{}",
        run.explain()
    );
}

#[test]
fn image_name_that_does_not_exist() {
    assert_clear_error(
        &["xray", "pare-test/no-such-image:nope"],
        &["pare-test/no-such-image:nope", "not found"],
    );
    assert_clear_error(
        &["xray", "oci:/nonexistent/layout"],
        &["/nonexistent/layout"],
    );
    assert_clear_error(
        &["xray", "docker-archive:/nonexistent.tar"],
        &["/nonexistent.tar"],
    );
}

#[test]
fn no_docker_engine() {
    let run = pare_env(
        &["xray", "docker-daemon:pare-test/flask:latest"],
        &[("DOCKER_HOST", "unix:///nonexistent/docker.sock")],
    )
    .exits(2);
    assert!(
        run.stderr().contains("no Docker engine answers"),
        "{}",
        run.explain()
    );
    // One line says what failed, one what to do: start the engine or read a file.
    let lines: Vec<String> = run.stderr().trim_end().lines().map(str::to_owned).collect();
    assert_eq!(lines.len(), 2, "{}", run.explain());
    assert!(
        lines[1].starts_with("hint: ") && lines[1].contains("docker-archive:PATH"),
        "{}",
        run.explain()
    );
}

#[test]
fn not_an_archive() {
    let dir = temp_dir();
    let file = dir.path().join("junk.tar");
    std::fs::write(&file, b"definitely not a tar file, just some words").unwrap();
    assert_clear_error(
        &["xray", &format!("docker-archive:{}", file.display())],
        &[&file.display().to_string()],
    );
}
