//! pare's own image (issue 25 point 4): deploy/image/Dockerfile with the pare under
//! test, slimmed by pare itself (`--keep traced`, exec probes of `--version`, `build
//! --help` and `xray` of a registry image), and the slim image then runs `pare xray`
//! and `pare build` on a test image with the engine's socket mounted, as a user runs
//! it (docs/image.md).

mod support;

use std::path::Path;

use support::registry::{Mode, Registry};
use support::{docker, pare, run, skip_without_engine, test_image};

/// Engine images this test makes, removed when it ends, however it ends.
struct Images(Vec<String>);

impl Drop for Images {
    fn drop(&mut self) {
        for tag in &self.0 {
            let _ = docker(&["rmi", "-f", tag]);
        }
    }
}

#[test]
fn pares_slim_image_runs_xray_and_build_on_test_images() {
    if skip_without_engine() {
        return;
    }
    let base = test_image("base-debian");
    let flask = test_image("flask");
    let tag = format!("pare-test-own/pare:{}", std::process::id());
    let slim = format!("{tag}-slim");
    let built_by_slim = format!("pare-test-own/flask:{}-by-pare-slim", std::process::id());
    let _images = Images(vec![tag.clone(), slim.clone(), built_by_slim.clone()]);

    // The image, from the Dockerfile users build, without the apt step (no network).
    let context = tempfile::tempdir().unwrap();
    let dockerfile = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/image/Dockerfile");
    std::fs::copy(&dockerfile, context.path().join("Dockerfile")).unwrap();
    let binary = context.path().join("pare");
    run(
        "strip",
        &[
            "--strip-debug",
            "-o",
            binary.to_str().unwrap(),
            env!("CARGO_BIN_EXE_pare"),
        ],
        &[],
    )
    .success();
    docker(&[
        "build",
        "-q",
        "--network",
        "none",
        "--build-arg",
        &format!("BASE={}", base.image),
        "--build-arg",
        "PACKAGES=",
        "-t",
        &tag,
        context.path().to_str().unwrap(),
    ])
    .success();

    // Slimmed by pare, probed with the verbs it is for; xray reads a registry on
    // loopback (the probes run on the host's network).
    let registry = Registry::start(Mode::Plain);
    registry.push_with_skopeo(&flask.archive_ref(), "team/flask:latest");
    let report_dir = tempfile::tempdir().unwrap();
    let xray_probe = format!("xray {}", registry.image("team/flask:latest"));
    let built = pare(&[
        "build",
        &tag,
        "--tag",
        &slim,
        "--network",
        "host",
        "--keep",
        "traced",
        "--exec-entrypoint",
        "image",
        "--exec",
        "--version",
        "--exec",
        "build --help",
        "--exec",
        &xray_probe,
        "--report-dir",
        report_dir.path().to_str().unwrap(),
    ])
    .success();
    assert!(
        built
            .stdout()
            .contains("Verified     the slim image answers all"),
        "{}",
        built.explain()
    );
    let report = std::fs::read_to_string(report_dir.path().join("report.json")).unwrap();
    let report: serde_json::Value = serde_json::from_str(&report).unwrap();
    let (before, after) = (
        report["original"]["uncompressed_bytes"].as_u64().unwrap(),
        report["slim"]["uncompressed_bytes"].as_u64().unwrap(),
    );
    assert!(after < before, "{before} -> {after}");

    // The slim image, as users run it: the engine's socket, and the work directory at
    // the same path inside and out.
    let work = tempfile::Builder::new()
        .prefix("pare-own-image-")
        .tempdir_in("/var/tmp")
        .unwrap();
    let work_dir = work.path().to_str().unwrap();
    let in_slim = |args: &[&str]| {
        let mut all = vec![
            "run",
            "--rm",
            "--network",
            "host",
            "-v",
            "/var/run/docker.sock:/var/run/docker.sock",
        ];
        let volume = format!("{work_dir}:{work_dir}");
        let tmpdir = format!("TMPDIR={work_dir}");
        all.extend(["-v", &volume, "-e", &tmpdir, &slim]);
        all.extend(args);
        docker(&all)
    };

    // xray reads the image through the engine's socket: its config is the engine's.
    let id = docker(&["image", "inspect", "--format", "{{.Id}}", &flask.image]).success();
    let xray = in_slim(&["xray", &flask.image]).success();
    assert!(
        xray.stdout().contains(id.stdout().trim()),
        "{}",
        xray.explain()
    );

    let report_in = format!("{work_dir}/report");
    let build = in_slim(&[
        "build",
        &flask.image,
        "--network",
        "host",
        "--tag",
        &built_by_slim,
        "--report-dir",
        &report_in,
    ])
    .success();
    assert!(
        build
            .stdout()
            .contains("Verified     the slim image answers all"),
        "{}",
        build.explain()
    );
    docker(&["image", "inspect", &built_by_slim]).success();
}
