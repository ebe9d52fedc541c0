//! An app built on a base image whose filesystem is one copied layer: `ADD file:… in /`
//! (ubuntu, alpine, older debian) or `COPY --from=… / /` (distroless-style and
//! pare-test/base-debian). The default build keeps the app's own files, those COPY/ADD
//! layers put in the image; the base's copied rootfs must not count as the app, or
//! the "slim" image keeps the whole distribution.

mod support;

use serde_json::Value;
use support::{docker, pare, temp_dir, test_image};

/// Builds `FROM base` plus the app's one script, tagged `tag`.
fn app_on(base: &str, tag: &str) {
    let context = temp_dir();
    std::fs::write(
        context.path().join("run.sh"),
        "#!/bin/bash\necho \"hello from $(uname -s), $(date -u -d @0 +%Y)\"\n",
    )
    .unwrap();
    std::fs::write(
        context.path().join("Dockerfile"),
        format!(
            "FROM {base}\nCOPY run.sh /app/run.sh\nWORKDIR /app\nCMD [\"bash\", \"/app/run.sh\"]\n"
        ),
    )
    .unwrap();
    docker(&[
        "build",
        "-q",
        "--network",
        "none",
        "-t",
        tag,
        context.path().to_str().unwrap(),
    ])
    .success();
}

#[test]
fn a_base_copied_as_one_layer_is_not_the_apps_files() {
    if support::skip_without_engine() {
        return;
    }
    let base = test_image("base-debian");
    let history = docker(&[
        "history",
        "--no-trunc",
        "--format",
        "{{.CreatedBy}}",
        &base.image,
    ])
    .success()
    .stdout();
    assert!(history.contains("COPY / /"), "{history}");
    let tag = "pare-test/rootfs-app:test";
    app_on(&base.image, tag);
    let reports = temp_dir();
    let reports_arg = reports.path().display().to_string();
    let run = pare(&[
        "build",
        tag,
        "--report-dir",
        &reports_arg,
        "--output",
        &format!("oci:{}", reports.path().join("slim").display()),
        "--json",
    ])
    .success();
    docker(&["rmi", "-f", tag]);
    let report: Value = run.json();
    assert_eq!(report["verification"]["passed"], true, "{}", run.explain());
    // Before: 85.0 MB -> 81.6 MB, 3,770 "app files" (all of Debian); after: 7.3 MB.
    let ratio = report["ratio"].as_f64().unwrap();
    assert!(ratio > 5.0, "only {ratio:.1}x smaller\n{}", run.explain());
    // What no package owns in the copied rootfs (certificate links, alternatives,
    // generated /etc files) is still kept as the app's, a few hundred small files.
    let app_files = report["kept_by_reason"]["app_file"]
        .as_array()
        .map_or(0, Vec::len);
    assert!(app_files < 1000, "{app_files} app files kept");
    let kept = |path: &str| {
        report["kept_by_reason"]
            .as_object()
            .unwrap()
            .values()
            .any(|paths| paths.as_array().unwrap().iter().any(|p| p == path))
    };
    assert!(kept("/app/run.sh"));
    assert!(!kept("/usr/bin/perl"), "Debian's perl is not the app");
}
