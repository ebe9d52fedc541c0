//! Names that differ only in invalid UTF-8 (issue 23, case 3): `usr/bin/backdoor\xff`
//! (setuid) and `usr/bin/backdoor\xfe` (0644) in one layer are two files to the kernel
//! and to `docker export`. Read lossily they were one, and the setuid file vanished
//! from xray, sbom and diff. Each test builds its hostile image as an OCI layout.

mod support;

use std::path::Path;

use pare_image::testutil::{RawItem, gzip, tar_of_raw, write_layout};
use support::{pare, temp_dir};

/// A 64-bit ELF header and nothing else: enough for the SBOM to take an executable
/// for a binary.
fn elf() -> Vec<u8> {
    let mut bytes = b"\x7fELF\x02\x01\x01".to_vec();
    bytes.resize(64, 0);
    bytes
}

/// An OCI layout at `dir` of one layer holding `usr/bin/backdoor` + each of `last`,
/// the `\xff` one setuid (4755), the others 0755.
fn hostile_layout(dir: &Path, last: &[u8]) {
    let names: Vec<Vec<u8>> = last
        .iter()
        .map(|b| [&b"usr/bin/backdoor"[..], &[*b]].concat())
        .collect();
    let elf = elf();
    let mut items = vec![RawItem::dir(b"usr/"), RawItem::dir(b"usr/bin/")];
    for name in &names {
        let mode = if name.ends_with(b"\xff") {
            0o4755
        } else {
            0o755
        };
        items.push(RawItem::file(name, &elf, mode));
    }
    let tar = tar_of_raw(&items);
    write_layout(dir, &[(gzip(&tar), tar)]);
}

fn oci(dir: &Path) -> String {
    format!("oci:{}", dir.display())
}

fn paths(list: &serde_json::Value) -> Vec<&str> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .filter_map(|f| f["path"].as_str())
        .collect()
}

#[test]
fn xray_lists_both_names_and_counts_the_setuid_one() {
    let dir = temp_dir();
    hostile_layout(dir.path(), b"\xff\xfe");
    let report = pare(&["xray", "--json", &oci(dir.path())]).success().json();
    assert_eq!(report["image"]["files"], 2, "{report:#}");
    assert_eq!(
        paths(&report["setuid"]),
        ["/usr/bin/backdoor\\xff"],
        "{report:#}"
    );
    let text = pare(&["xray", &oci(dir.path())]).success().stdout();
    assert!(text.contains("/usr/bin/backdoor\\xff"), "{text}");
    assert!(!text.contains('\u{fffd}'), "{text}");
}

#[test]
fn sbom_lists_both_binaries() {
    let dir = temp_dir();
    hostile_layout(dir.path(), b"\xff\xfe");
    let run = pare(&["sbom", "--format", "cyclonedx", &oci(dir.path())]).success();
    let text = run.stdout();
    for name in ["/usr/bin/backdoor\\\\xff", "/usr/bin/backdoor\\\\xfe"] {
        assert!(text.contains(name), "no {name} in\n{}", run.explain());
    }
}

#[test]
fn diff_sees_the_setuid_file_go() {
    let (before, after) = (temp_dir(), temp_dir());
    hostile_layout(before.path(), b"\xff\xfe");
    hostile_layout(after.path(), b"\xfe");
    let run = pare(&[
        "diff",
        "--format",
        "json",
        &oci(before.path()),
        &oci(after.path()),
    ])
    .exits(1);
    let text = run.stdout();
    assert!(
        text.contains("/usr/bin/backdoor\\\\xff"),
        "{}",
        run.explain()
    );
    assert!(
        !text.contains("/usr/bin/backdoor\\\\xfe"),
        "{}",
        run.explain()
    );
}

/// The traced side: an app that opens a file whose name is not UTF-8. The sensor
/// spells what the app opened as the index spells the image's names, so that file is
/// kept (as its bytes) and its neighbour differing in one invalid byte is not.
#[test]
fn a_file_in_invalid_utf8_that_the_app_opens_is_kept() {
    if support::skip_without_engine() {
        return;
    }
    let base = support::test_image("cli");
    let context = temp_dir();
    std::fs::write(
        context.path().join("run.sh"),
        "cat \"$(printf '/data/note\\377')\"\n",
    )
    .unwrap();
    std::fs::write(
        context.path().join("Dockerfile"),
        format!(
            "FROM {}\nUSER root\nCOPY run.sh /run.sh\n\
             RUN mkdir /data && printf 'the one read\\n' > \"$(printf '/data/note\\377')\" \
             && printf 'the other\\n' > \"$(printf '/data/note\\376')\"\n\
             ENTRYPOINT [\"/bin/sh\", \"/run.sh\"]\nCMD []\n",
            base.image
        ),
    )
    .unwrap();
    let tag = "pare-test/utf8-names:test";
    support::build_image(tag, context.path());
    let reports = temp_dir();
    let reports_arg = reports.path().display().to_string();
    let run = pare(&["build", tag, "--report-dir", &reports_arg, "--json"]);
    support::docker(&["rmi", "-f", tag]);
    let run = run.success();
    let report = run.json();
    assert_eq!(report["verification"]["passed"], true, "{}", run.explain());
    let kept: Vec<&str> = report["kept_by_reason"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|paths| paths.as_array().unwrap())
        .filter_map(|p| p.as_str())
        .filter(|p| p.starts_with("/data/"))
        .collect();
    assert_eq!(kept, ["/data/note\\xff"], "{:#}", report["kept_by_reason"]);
}
