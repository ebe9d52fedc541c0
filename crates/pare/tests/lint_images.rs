//! `pare lint --image` on the real test images: the flask image runs as nobody, the
//! layers image as root with setuid/setgid and world-writable files.

mod support;

use support::{pare, test_image};

fn image_findings(name: &str) -> Vec<serde_json::Value> {
    let image = test_image(name);
    let run = pare(&[
        "lint",
        "--format",
        "json",
        "--fail-on",
        "none",
        "--image",
        &image.image,
    ])
    .exits(0);
    let doc = run.json();
    assert_eq!(doc["images"][0]["image"], image.image.as_str());
    doc["images"][0]["findings"].as_array().unwrap().clone()
}

fn has(findings: &[serde_json::Value], rule: &str, path: Option<&str>) -> bool {
    findings
        .iter()
        .any(|f| f["rule"] == rule && path.is_none_or(|p| f["path"] == p))
}

#[test]
fn flask_runs_as_nobody_and_is_a_service() {
    if support::skip_without_engine() {
        return;
    }
    let f = image_findings("flask");
    assert!(!has(&f, "PI001", None), "{f:#?}");
    assert!(has(&f, "PI008", None), "no healthcheck: {f:#?}");
    assert!(has(&f, "PI005", None), "shells in a service: {f:#?}");
    assert!(has(&f, "PI006", None), "tagged latest: {f:#?}");
    assert!(!has(&f, "PI007", None), "{f:#?}");
    assert!(!has(&f, "PI002", None), "{f:#?}");
}

#[test]
fn layers_runs_as_root_with_setuid_and_world_writable_files() {
    if support::skip_without_engine() {
        return;
    }
    let f = image_findings("layers");
    assert!(has(&f, "PI001", None), "{f:#?}");
    assert!(has(&f, "PI003", Some("/usr/local/bin/suidtool")), "{f:#?}");
    assert!(has(&f, "PI003", Some("/usr/local/bin/sgidtool")), "{f:#?}");
    assert!(has(&f, "PI004", Some("/shared")), "{f:#?}");
    assert!(has(&f, "PI004", Some("/shared/world.txt")), "{f:#?}");
    // No port: not a service, so no healthcheck or shell findings.
    assert!(!has(&f, "PI008", None) && !has(&f, "PI005", None), "{f:#?}");
}

#[test]
fn image_and_dockerfile_together_and_exit_code() {
    if support::skip_without_engine() {
        return;
    }
    let image = test_image("layers");
    let dockerfile = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/images/layers/Dockerfile"
    );
    let run = pare(&[
        "lint",
        "--no-shellcheck",
        "--image",
        &image.archive_ref(),
        dockerfile,
    ])
    .exits(1);
    let out = run.stdout();
    assert!(
        out.contains(&format!("image {}  warning  PI001", image.archive_ref())),
        "{}",
        run.explain()
    );
    assert!(
        out.contains("layers/Dockerfile:6:1  warning  PL301"),
        "{}",
        run.explain()
    );
    assert!(out.contains("2 inputs"), "{}", run.explain());
}

#[test]
fn a_missing_image_is_an_error_naming_it() {
    let run = pare(&["lint", "--image", "oci:/nonexistent/pare-lint-test:latest"]).exits(2);
    assert!(
        run.stderr()
            .contains("pare: error: oci:/nonexistent/pare-lint-test:latest"),
        "{}",
        run.explain()
    );
}
