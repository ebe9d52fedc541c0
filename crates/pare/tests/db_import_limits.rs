//! `pare db import` on hostile advisory files: records built to cost far more memory
//! than their size are refused before they are parsed, memory stays bounded whatever
//! the backlog, and an interrupted import leaves no half-built database behind.

mod support;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use support::{Background, children_peak_rss_kib, temp_dir};

/// A valid OSV record whose package lists `versions` versions, written as text (a
/// JSON tree of it would make this test process, and so the forked child's peak
/// memory before it runs pare, far larger than pare itself).
fn record(id: &str, versions: usize) -> Vec<u8> {
    let mut list = "\"1\",".repeat(versions);
    list.pop();
    format!(
        r#"{{"id":"{id}","modified":"2024-01-01T00:00:00Z","affected":[{{"package":{{"ecosystem":"PyPI","name":"pkg-{id}"}},"versions":[{list}]}}]}}"#
    )
    .into_bytes()
}

/// A zip of `records` (deflated, as osv.dev's all.zip is).
fn all_zip(dir: &Path, records: impl IntoIterator<Item = (String, Vec<u8>)>) -> PathBuf {
    let path = dir.join("all.zip");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(1));
    for (name, bytes) in records {
        zip.start_file(name, options).unwrap();
        zip.write_all(&bytes).unwrap();
    }
    zip.finish().unwrap();
    path
}

#[test]
fn records_of_millions_of_tiny_values_are_refused_in_bounded_memory() {
    let dir = temp_dir();
    // Eight records of 14 MiB, each 3.7 million one-character versions: parsed, each
    // would cost gigabytes; a good record beside them.
    let huge = (0..8).map(|i| {
        let id = format!("PYSEC-9999-{i}");
        (format!("HUGE-{i}.json"), record(&id, 3_700_000))
    });
    let good = std::iter::once(("GOOD-1.json".to_owned(), record("PYSEC-9998-1", 3)));
    let zip = all_zip(dir.path(), huge.chain(good));
    let db = dir.path().join("advisories.sqlite");
    let run = support::advisories::import(&db, &[&zip]).success();
    let said = run.stderr();
    assert!(
        said.contains("1 advisories, 0 withdrawn, 8 skipped"),
        "{}",
        run.explain()
    );
    assert!(
        said.contains("more than the limit of 250000"),
        "{}",
        run.explain()
    );
    let peak_mib = children_peak_rss_kib() / 1024;
    assert!(
        peak_mib < 200,
        "pare db import peaked at {peak_mib} MiB on 8 records of 14 MiB"
    );
}

/// The temporary files and folders imports leave beside `db`.
fn leftovers(db: &Path) -> Vec<String> {
    let prefix = format!(".{}.tmp", db.file_name().unwrap().to_string_lossy());
    std::fs::read_dir(db.parent().unwrap())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(&prefix) && !n.ends_with(".lock"))
        .collect()
}

#[test]
fn an_interrupted_import_leaves_no_partial_database() {
    let dir = temp_dir();
    // Enough valid records of 200,000 versions each that the import takes a while.
    let zip = all_zip(
        dir.path(),
        (0..400).map(|i| {
            (
                format!("SLOW-{i}.json"),
                record(&format!("PYSEC-9997-{i}"), 200_000),
            )
        }),
    );
    let db = dir.path().join("advisories.sqlite");
    let mut child = Background(
        std::process::Command::new(env!("CARGO_BIN_EXE_pare"))
            .args([
                "db",
                "import",
                "--db",
                db.to_str().unwrap(),
                zip.to_str().unwrap(),
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    while leftovers(&db).is_empty() {
        assert!(Instant::now() < deadline, "the import never started");
        assert!(
            child.0.try_wait().unwrap().is_none(),
            "the import ended already"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    // SAFETY: a signal to our own child.
    unsafe { libc::kill(child.0.id() as i32, libc::SIGINT) };
    let status = child.0.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{status:?}");
    assert_eq!(leftovers(&db), Vec::<String>::new());
    assert!(!db.exists(), "an interrupted first import made a database");
}
