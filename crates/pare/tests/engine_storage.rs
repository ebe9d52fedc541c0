//! An image in the Docker engine is read in place from the engine's overlay2 storage
//! (its layer directories and the tar headers the engine keeps beside them) rather
//! than exported: what pare reads must be exactly what `docker save` would have sent,
//! and a layer whose files differ from what the engine recorded must be refused.

mod support;

use serde_json::Value;
use support::{docker, pare, pare_env, test_image};

/// The export, forced: the transport a user without root, or with another storage
/// driver, gets.
const EXPORT: (&str, &str) = ("PARE_ENGINE_EXPORT", "1");

fn json(run: support::Run) -> Value {
    run.success().json()
}

#[test]
fn reading_in_place_gives_what_the_export_gives() {
    if support::skip_without_engine() {
        return;
    }
    // Images with whiteouts and opaque directories (layers), duplicate layers
    // (duplayers), hostile names and links (hostile), packages (flask, postgres).
    for name in ["layers", "duplayers", "hostile", "flask", "postgres"] {
        let image = test_image(name).daemon_ref();
        for verb in [
            vec!["xray", "--json", "--find", "/**", &image],
            vec!["sbom", "--format", "json", "--files", &image],
        ] {
            let in_place = json(pare(&verb));
            let exported = json(pare_env(&verb, &[EXPORT]));
            assert!(
                in_place == exported,
                "{name}: `pare {}` differs between the engine's storage and its export",
                verb.join(" ")
            );
        }
    }
}

/// A throwaway image imported into the engine, removed when dropped.
struct Imported(String);

impl Drop for Imported {
    fn drop(&mut self) {
        let _ = docker(&["rmi", "-f", &self.0]);
    }
}

#[test]
fn a_layer_changed_in_the_engines_storage_is_refused() {
    if support::skip_without_engine() {
        return;
    }
    let dir = support::temp_dir();
    let rootfs = dir.path().join("rootfs");
    std::fs::create_dir_all(rootfs.join("etc")).expect("rootfs");
    std::fs::write(rootfs.join("etc/motd"), "what the image holds\n").expect("motd");
    let archive = dir.path().join("layer.tar");
    let status = std::process::Command::new("tar")
        .arg("-C")
        .arg(&rootfs)
        .arg("-cf")
        .arg(&archive)
        .arg(".")
        .status()
        .unwrap_or_else(|e| support::cannot_run("tar", &e));
    assert!(status.success());
    let name = format!("pare-test-tampered:{}", std::process::id());
    let archive_text = archive.display().to_string();
    docker(&["import", &archive_text, &name]).success();
    let image = Imported(name);
    let reference = format!("docker-daemon:{}", image.0);

    let before = json(pare(&["xray", "--json", &reference]));
    assert_eq!(
        before["layers"].as_array().map(Vec::len),
        Some(1),
        "{before:#}"
    );

    // The same number of bytes, different content: only the digest can tell.
    let upper = docker(&[
        "image",
        "inspect",
        "--format",
        "{{.GraphDriver.Data.UpperDir}}",
        &image.0,
    ])
    .success()
    .stdout();
    let motd = std::path::Path::new(upper.trim()).join("etc/motd");
    std::fs::write(&motd, "what an attacker put\n").expect("tamper with the layer");

    let refused = pare(&["xray", "--json", &reference]);
    assert_eq!(refused.code(), Some(2), "{}", refused.explain());
    let stderr = refused.stderr();
    assert!(
        stderr.contains("digest") && stderr.contains(upper.trim()),
        "the error names neither the digest check nor the layer's directory: {stderr}"
    );
}

#[test]
fn a_build_reads_in_place_and_says_when_it_exported_instead() {
    if support::skip_without_engine() {
        return;
    }
    let _port = support::port_lock();
    let nginx = test_image("nginx");
    let mut kept = Vec::new();
    for (env, tag) in [
        (vec![], "pare-test-in-place/nginx:slim"),
        (vec![EXPORT], "pare-test-exported/nginx:slim"),
    ] {
        let reports = support::temp_dir();
        let dir = reports.path().display().to_string();
        let args = [
            "build",
            &nginx.image,
            "--probe",
            "GET /",
            "--tag",
            tag,
            "--report-dir",
            &dir,
            "--json",
        ];
        let report = json(pare_env(&args, &env));
        let _ = docker(&["rmi", "-f", tag]);
        let exported = report["notes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .any(|n| n.starts_with("the image was exported from the engine"));
        assert_eq!(exported, !env.is_empty(), "{report:#}");
        assert_eq!(report["verification"]["passed"], true, "{report:#}");
        // In place, the kept files' bytes come from single files of the layer
        // directories; exported, from a second read of every layer.
        kept.push((report["kept_by_reason"].clone(), report["slim"].clone()));
    }
    assert_eq!(
        kept[0], kept[1],
        "the slim layer depends on how the image was read"
    );
}
