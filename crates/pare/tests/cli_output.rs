//! What the verbs print, pinned with insta snapshots: the human output of `xray` and
//! `sbom` on a small image made here (no Docker needed), and stderr for the errors
//! users meet most. Temp paths and digests are replaced by placeholders, so a
//! snapshot changes only when what a user reads changes.

mod support;

use pare_image::testutil::{TarItem, gzip, tar_of, write_layout};
use support::{Run, pare, pare_env, temp_dir};

/// stdout or stderr with `dir` shown as `[DIR]` and sha256 digests as `[DIGEST]`.
fn redact(text: &str, dir: &std::path::Path) -> String {
    let text = text.replace(&dir.display().to_string(), "[DIR]");
    let digest = regex::Regex::new("[0-9a-f]{64}").expect("regex");
    digest.replace_all(&text, "[DIGEST]").into_owned()
}

/// A three-layer image: a base with a shell, a setuid tool, a world-writable
/// directory and dpkg's records of two packages; a layer adding a big file and a
/// duplicate; a layer deleting the big file and overwriting the config.
fn small_image(dir: &std::path::Path) {
    let status = "Package: dash\nStatus: install ok installed\nVersion: 0.5.12-2\nArchitecture: amd64\nDescription: POSIX shell\n\nPackage: tool\nStatus: install ok installed\nVersion: 1.0\nArchitecture: amd64\nSource: toolsrc (1.0-1)\nDescription: a tool\n";
    let base = tar_of(&[
        TarItem::dir("bin/"),
        TarItem::file("bin/dash", &[7u8; 3000], 0o755),
        TarItem::symlink("bin/sh", "dash"),
        TarItem::dir("usr/"),
        TarItem::dir("usr/local/"),
        TarItem::dir("usr/local/bin/"),
        TarItem::file("usr/local/bin/tool", &[1u8; 5000], 0o4755),
        TarItem::dir_mode("shared/", 0o777),
        TarItem::dir("etc/"),
        TarItem::file("etc/app.conf", b"v1\n", 0o644),
        TarItem::dir("var/"),
        TarItem::dir("var/lib/"),
        TarItem::dir("var/lib/dpkg/"),
        TarItem::file("var/lib/dpkg/status", status.as_bytes(), 0o644),
        TarItem::dir("var/lib/dpkg/info/"),
        TarItem::file("var/lib/dpkg/info/dash.list", b"/bin\n/bin/dash\n", 0o644),
        TarItem::file(
            "var/lib/dpkg/info/tool.list",
            b"/usr/local/bin\n/usr/local/bin/tool\n",
            0o644,
        ),
    ]);
    let second = tar_of(&[
        TarItem::dir("data/"),
        TarItem::file("data/big.bin", &[9u8; 200_000], 0o644),
        TarItem::file("data/copy-of-dash", &[7u8; 3000], 0o755),
    ]);
    let third = tar_of(&[
        TarItem::dir("data/"),
        TarItem::file("data/.wh.big.bin", b"", 0o644),
        TarItem::dir("etc/"),
        TarItem::file("etc/app.conf", b"v2\n", 0o644),
    ]);
    write_layout(
        dir,
        &[
            (gzip(&base), base),
            (gzip(&second), second),
            (gzip(&third), third),
        ],
    );
}

#[test]
fn xray_human_output() {
    let dir = temp_dir();
    small_image(dir.path());
    let layout = format!("oci:{}", dir.path().display());
    let run = pare(&["xray", &layout, "--find", "*.conf"]).success();
    insta::assert_snapshot!("xray_small_image", redact(&run.stdout(), dir.path()));
    assert_eq!(run.stderr(), "", "{}", run.explain());
}

#[test]
fn sbom_table_output() {
    let dir = temp_dir();
    small_image(dir.path());
    let layout = format!("oci:{}", dir.path().display());
    let run = pare(&["sbom", "--format", "table", &layout]).success();
    insta::assert_snapshot!("sbom_small_image", redact(&run.stdout(), dir.path()));
}

/// The small image without its middle layer and with another app.conf: a file gone
/// from /data, one changed, the shell kept.
fn smaller_image(dir: &std::path::Path) {
    let base = tar_of(&[
        TarItem::dir("bin/"),
        TarItem::file("bin/dash", &[7u8; 3000], 0o755),
        TarItem::symlink("bin/sh", "dash"),
        TarItem::dir("etc/"),
        TarItem::file("etc/app.conf", b"v3, longer\n", 0o600),
    ]);
    write_layout(dir, &[(gzip(&base), base)]);
}

#[test]
fn diff_and_compare_human_output() {
    let dir = temp_dir();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    small_image(&a);
    smaller_image(&b);
    let (a, b) = (
        format!("oci:{}", a.display()),
        format!("oci:{}", b.display()),
    );
    // No advisory database where the user's would be: the output says so.
    let env = [("PARE_CACHE_DIR", dir.path().to_str().expect("utf-8 path"))];
    let run = pare_env(&["diff", "--format", "table", &a, &b], &env).exits(1);
    insta::assert_snapshot!("diff_small_images", redact(&run.stdout(), dir.path()));
    let run = pare_env(&["compare", &a, &b, "oci:/nonexistent/layout"], &env).exits(2);
    insta::assert_snapshot!("compare_small_images", redact(&run.stdout(), dir.path()));
    let markdown = pare_env(&["compare", "--format", "markdown", &a, &b], &env).success();
    insta::assert_snapshot!(
        "compare_small_images_markdown",
        redact(&markdown.stdout(), dir.path())
    );
}

/// Asserts exit 2 and pins stderr.
fn error_snapshot(name: &str, run: Run, dir: &std::path::Path) {
    let run = run.exits(2);
    insta::assert_snapshot!(name, redact(&run.stderr(), dir));
}

#[test]
fn common_errors() {
    let dir = temp_dir();
    let p = dir.path();
    // A directory that is no OCI layout: the cause once, and how to get one.
    error_snapshot(
        "error_not_an_oci_layout",
        pare(&["sbom", &format!("oci:{}", p.display())]),
        p,
    );
    // A text file given as an archive: never its content in the message.
    let text = p.join("passwd");
    std::fs::write(&text, "root:x:0:0:root:/root:/bin/bash\n").expect("write");
    error_snapshot(
        "error_not_an_archive",
        pare(&["xray", &format!("docker-archive:{}", text.display())]),
        p,
    );
    // A blob changed on disk.
    let layout = p.join("layout");
    small_image(&layout);
    let (_, _, layers) = {
        let d = p.join("tampered");
        let tar = tar_of(&[TarItem::file("a", &[5u8; 4096], 0o644)]);
        let names = write_layout(&d, &[(gzip(&tar), tar)]);
        let blob = d.join(&names.2[0]);
        let mut bytes = std::fs::read(&blob).expect("blob");
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0x55;
        std::fs::write(&blob, bytes).expect("blob");
        names
    };
    assert_eq!(layers.len(), 1);
    error_snapshot(
        "error_digest_mismatch",
        pare(&["xray", &format!("oci:{}", p.join("tampered").display())]),
        p,
    );
    error_snapshot(
        "error_no_engine",
        pare_env(
            &["sbom", "pare-test/flask:latest"],
            &[("DOCKER_HOST", "unix:///nonexistent/docker.sock")],
        ),
        p,
    );
    // A reference no transport reads, and a registry that does not answer (on the
    // loopback: tests never reach out).
    error_snapshot("error_bad_reference", pare(&["xray", "docker-daemon:"]), p);
    error_snapshot(
        "error_registry_refused",
        pare(&["xray", "docker://127.0.0.1:1/app:1"]),
        p,
    );
    // A probe file that is not a list of probes: the file and the place.
    let probes = p.join("probes.json");
    std::fs::write(&probes, r#"[{"kind": "http", "path": "/"}]"#).expect("write");
    error_snapshot(
        "error_bad_probe_file",
        pare(&[
            "build",
            &format!("oci:{}", layout.display()),
            "--probe-file",
            &probes.display().to_string(),
        ]),
        p,
    );
}

/// `pare … | head` and `pare … 2>&1 | head`: the reader goes away before pare has
/// written; pare ends as it would have (no panic, no "Broken pipe" error).
#[test]
fn a_reader_that_stops_early_is_no_error() {
    use std::process::{Command, Stdio};
    let dir = temp_dir();
    small_image(dir.path());
    let layout = format!("oci:{}", dir.path().display());
    for args in [
        vec!["xray", &layout],
        vec!["xray", "--json", &layout],
        vec!["sbom", "--format", "json", &layout],
        vec!["lint", "--rules"],
    ] {
        for stderr_too in [false, true] {
            let mut child = Command::new(env!("CARGO_BIN_EXE_pare"))
                .args(&args)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("run pare");
            // Closed at once: every write pare makes finds no reader.
            drop(child.stdout.take());
            if stderr_too {
                drop(child.stderr.take());
            }
            let status = child.wait().expect("wait");
            let mut said = String::new();
            if let Some(mut stderr) = child.stderr.take() {
                std::io::Read::read_to_string(&mut stderr, &mut said).expect("stderr");
            }
            assert_eq!(
                status.code(),
                Some(0),
                "pare {} (stderr closed too: {stderr_too}): {said}",
                args.join(" ")
            );
            assert!(
                !said.contains("panicked") && !said.contains("error"),
                "{said}"
            );
        }
    }
}
