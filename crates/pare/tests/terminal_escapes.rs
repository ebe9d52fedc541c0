//! Raw escape sequences from an image, an advisory file or a registry never reach the
//! terminal: xray's names, labels, history and tags, the sbom table's licences,
//! `db import`'s zip entries and record ids, a registry's error message are all shown
//! escaped (`\x1b`), and a cut column never leaves half a sequence.

mod support;

use std::io::Write as _;
use std::path::{Path, PathBuf};

use pare_image::Digest;
use pare_image::testutil::{TarItem, gzip, tar_of};
use serde_json::json;
use support::{Run, pare, temp_dir};

/// An OSC 8 hyperlink and a screen clear: what a hostile string would send.
const OSC: &str = "\x1b]8;;http://evil.example/\x1b\\click\x1b]8;;\x1b\\\x1b[2J";

#[track_caller]
fn assert_escaped(run: &Run, what: &str) {
    let (stdout, stderr) = (run.stdout(), run.stderr());
    assert!(
        !stdout.contains('\x1b') && !stderr.contains('\x1b'),
        "a raw ESC reached the terminal ({what}):\n{}",
        run.explain().escape_debug()
    );
    assert!(
        stdout.contains("\\x1b") || stderr.contains("\\x1b"),
        "the ESC is not shown escaped ({what}):\n{}",
        run.explain().escape_debug()
    );
}

/// A `docker save` archive of one layer of `items`, with hostile tags, labels,
/// history, and returns its path.
fn hostile_archive(dir: &Path, items: &[TarItem]) -> PathBuf {
    let tar = tar_of(items);
    let layer = gzip(&tar);
    let config = serde_json::to_vec(&json!({
        "architecture": "amd64", "os": "linux",
        "config": {
            "User": format!("app{OSC}"),
            "Env": [format!("PATH=/bin{OSC}")],
            "Labels": {format!("evil{OSC}"): format!("value{OSC}")},
            "WorkingDir": format!("/srv{OSC}"),
        },
        "rootfs": {"type": "layers", "diff_ids": [Digest::of(&tar).to_string()]},
        "history": [{"created_by": format!("/bin/sh -c #(nop) COPY file:{} in / {OSC} and more", "a".repeat(50))}],
    }))
    .unwrap();
    let manifest = serde_json::to_vec(&json!([{
        "Config": "config.json",
        "RepoTags": [format!("evil{OSC}:latest")],
        "Layers": ["layer.tar.gz"],
    }]))
    .unwrap();
    let path = dir.join("hostile.tar");
    let mut archive = tar::Builder::new(std::fs::File::create(&path).unwrap());
    for (name, bytes) in [
        ("manifest.json", &manifest),
        ("config.json", &config),
        ("layer.tar.gz", &layer),
    ] {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        archive.append_data(&mut header, name, &bytes[..]).unwrap();
    }
    archive.finish().unwrap();
    path
}

#[test]
fn xray_shows_hostile_names_labels_history_and_tags_escaped() {
    let dir = temp_dir();
    let name = format!("usr/bin/su{OSC}");
    let archive = hostile_archive(
        dir.path(),
        &[
            TarItem::dir("usr/"),
            TarItem::dir("usr/bin/"),
            TarItem::file(&name, b"#!/bin/sh\n", 0o4755),
            TarItem::file("usr/bin/sh", b"#!/bin/sh\n", 0o755),
        ],
    );
    let reference = format!("docker-archive:{}", archive.display());
    let run = pare(&["xray", "--find", "**/su*", &reference]).success();
    assert_escaped(&run, "xray");
    let stdout = run.stdout();
    for shown in [
        "/usr/bin/su\\x1b]8;;http:/evil.example/\\x1b\\click",
        "Label        evil\\x1b]8;;",
        "Tags         evil\\x1b]8;;",
    ] {
        assert!(stdout.contains(shown), "no {shown:?}:\n{stdout}");
    }
}

#[test]
fn the_sbom_table_shows_hostile_licences_escaped() {
    let dir = temp_dir();
    let metadata =
        format!("Metadata-Version: 2.1\nName: evil{OSC}\nVersion: 1.0\nLicense: MIT{OSC}\n");
    let archive = hostile_archive(
        dir.path(),
        &[
            TarItem::dir("app/"),
            TarItem::dir("app/evil-1.0.dist-info/"),
            TarItem::file(
                "app/evil-1.0.dist-info/METADATA",
                metadata.as_bytes(),
                0o644,
            ),
        ],
    );
    let reference = format!("docker-archive:{}", archive.display());
    let run = pare(&["sbom", "--format", "table", &reference]).success();
    assert_escaped(&run, "sbom table");
    assert!(run.stdout().contains("MIT\\x1b]8;;"), "{}", run.explain());
}

#[test]
fn db_import_shows_hostile_zip_entries_and_record_ids_escaped() {
    let dir = temp_dir();
    let zip_path = dir.path().join("all.zip");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&zip_path).unwrap());
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    // Not JSON: only the entry's name says which.
    zip.start_file(format!("bad{OSC}.json"), options).unwrap();
    zip.write_all(b"{ not json").unwrap();
    // Valid JSON, not valid OSV (no `modified`): the id is quoted.
    zip.start_file("id.json", options).unwrap();
    zip.write_all(json!({"id": format!("GHSA-{OSC}")}).to_string().as_bytes())
        .unwrap();
    zip.finish().unwrap();
    let db = dir.path().join("advisories.sqlite");
    let run = support::advisories::import(&db, &[&zip_path]).success();
    assert_escaped(&run, "db import");
    // `db import` reports on standard error.
    let said = run.stderr();
    assert!(said.contains("skipped bad\\x1b]8;;"), "{said}");
    assert!(said.contains("(GHSA-\\x1b]8;;"), "{said}");
}

/// A registry that answers `/v2/` and then every request with a 400 whose error
/// message holds `OSC`.
fn hostile_registry() -> String {
    use std::io::{BufRead, BufReader};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let host = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(50) {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            let _ = reader.read_line(&mut request_line);
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) <= 2 {
                    break;
                }
            }
            let (status, body) = if request_line.starts_with("GET /v2/ ") {
                ("200 OK", "{}".to_owned())
            } else {
                let error = json!({"errors": [{"code": "NAME_INVALID",
                    "message": format!("invalid name{OSC}")}]});
                ("400 Bad Request", error.to_string())
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    host
}

#[test]
fn a_registry_error_message_is_shown_escaped() {
    let host = hostile_registry();
    let run = pare(&["xray", &format!("docker://{host}/evil:1")]).exits(2);
    assert_escaped(&run, "registry error");
}

#[test]
fn diff_shows_hostile_paths_and_settings_escaped() {
    let (a, b) = (temp_dir(), temp_dir());
    let before = hostile_archive(a.path(), &[TarItem::file("etc/motd", b"hi\n", 0o644)]);
    let name = format!("etc/new{OSC}");
    let after = hostile_archive(
        b.path(),
        &[
            TarItem::dir("etc/"),
            TarItem::file(&name, b"x\n", 0o644),
            TarItem::dir(&format!("top{OSC}/")),
            TarItem::file(&format!("top{OSC}/f"), &[7u8; 4096], 0o644),
        ],
    );
    let refs = [before, after].map(|p| format!("docker-archive:{}", p.display()));
    let run = pare(&["diff", "--format", "table", &refs[0], &refs[1]]).exits(1);
    assert_escaped(&run, "diff");
}

#[test]
fn lint_quotes_a_hostile_dockerfile_escaped() {
    let dir = temp_dir();
    let dockerfile = dir.path().join("Dockerfile");
    std::fs::write(
        &dockerfile,
        format!("FROM debian:12\nRUN apt-get install -y curl{OSC}\n"),
    )
    .unwrap();
    let run = pare(&["lint", dockerfile.to_str().unwrap()]);
    assert_escaped(&run, "lint");
    assert!(run.stdout().contains("`curl\\x1b]8`"), "{}", run.explain());
}
