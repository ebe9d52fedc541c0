//! `pare copy` into a directory someone else can write (run as root into a shared
//! directory): links planted at every staging name pare could pick, or at the
//! destination itself, are never followed; another user's destination is refused;
//! what a killed run left is removed by the next.

mod support;

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use support::{pare, test_image, umask};

/// The PIDs the next processes are likely to get: an attacker's prediction.
fn next_pids(count: u32) -> std::ops::Range<u32> {
    let last: u32 = std::fs::read_to_string("/proc/sys/kernel/ns_last_pid")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    last + 1..last + 1 + count
}

/// Links named `.NAME.pare-partial-PID` for every likely PID, to `target`.
fn plant(dir: &Path, name: &str, target: &Path) {
    for pid in next_pids(4000) {
        std::os::unix::fs::symlink(target, dir.join(format!(".{name}.pare-partial-{pid}")))
            .unwrap();
    }
}

#[test]
fn links_at_predictable_staging_names_are_never_followed() {
    if support::skip_without_engine() {
        return;
    }
    let cli = test_image("cli");
    let dir = support::temp_dir();
    let shared = dir.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    let victim = dir.path().join("root-only");
    std::fs::write(&victim, "secret").unwrap();
    let victim_dir = dir.path().join("elsewhere");
    std::fs::create_dir(&victim_dir).unwrap();

    plant(&shared, "out.tar", &victim);
    let out = shared.join("out.tar");
    pare(&[
        "copy",
        &cli.oci_ref(),
        &format!("docker-archive:{}", out.display()),
    ])
    .success();
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "secret");
    assert!(
        out.symlink_metadata().unwrap().is_file(),
        "out.tar is a file"
    );
    pare(&["xray", &format!("docker-archive:{}", out.display())]).success();

    plant(&shared, "layout", &victim_dir);
    let layout = shared.join("layout");
    pare(&[
        "copy",
        &cli.oci_ref(),
        &format!("oci:{}:v1", layout.display()),
    ])
    .success();
    assert_eq!(std::fs::read_dir(&victim_dir).unwrap().count(), 0);
    let meta = layout.symlink_metadata().unwrap();
    assert!(meta.is_dir(), "the layout is a directory of its own");
    // A new layout gets 0777 less the umask, as mkdir gives.
    assert_eq!(meta.mode() & 0o777, 0o777 & !umask());
    pare(&["xray", &format!("oci:{}:v1", layout.display())]).success();
}

/// `pare copy` of the cli image to `destination` fails, saying `why`.
#[track_caller]
fn refused(destination: &str, why: &str) {
    let run = pare(&["copy", &test_image("cli").oci_ref(), destination]).exits(2);
    assert!(run.stderr().contains(why), "{}", run.explain());
}

#[test]
fn a_destination_that_is_a_link_or_another_users_is_refused() {
    if support::skip_without_engine() {
        return;
    }
    let dir = support::temp_dir();
    let victim = dir.path().join("root-only");
    std::fs::write(&victim, "secret").unwrap();
    let victim_dir = dir.path().join("elsewhere");
    std::fs::create_dir(&victim_dir).unwrap();

    let out = dir.path().join("out.tar");
    std::os::unix::fs::symlink(&victim, &out).unwrap();
    refused(
        &format!("docker-archive:{}", out.display()),
        "symbolic link",
    );
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "secret");
    assert!(out.symlink_metadata().unwrap().is_symlink());

    let layout = dir.path().join("layout");
    std::os::unix::fs::symlink(&victim_dir, &layout).unwrap();
    refused(&format!("oci:{}", layout.display()), "symbolic link");
    assert_eq!(std::fs::read_dir(&victim_dir).unwrap().count(), 0);

    // Only root can hand a file to another user; as another user the test has nothing
    // to show.
    if euid() != 0 {
        return;
    }
    for (name, make_dir) in [("theirs.tar", false), ("their-layout", true)] {
        let theirs = dir.path().join(name);
        if make_dir {
            std::fs::create_dir(&theirs).unwrap();
        } else {
            std::fs::write(&theirs, "theirs").unwrap();
        }
        std::os::unix::fs::chown(&theirs, Some(65534), Some(65534)).unwrap();
        let transport = if make_dir { "oci" } else { "docker-archive" };
        refused(
            &format!("{transport}:{}", theirs.display()),
            "belongs to uid 65534",
        );
        assert_eq!(theirs.metadata().unwrap().uid(), 65534);
    }
}

#[test]
fn what_a_killed_copy_left_is_removed_by_the_next() {
    if support::skip_without_engine() {
        return;
    }
    let cli = test_image("cli");
    let dir = support::temp_dir();
    // 4194305 is above the largest PID Linux hands out: that run is gone.
    let file_left = dir.path().join(".out.tar.pare-partial-4194305-a1b2c3");
    std::fs::write(&file_left, "half an archive").unwrap();
    let dir_left = dir.path().join(".layout.pare-partial-4194305-d4e5f6");
    std::fs::create_dir_all(dir_left.join("blobs/sha256")).unwrap();
    let out = dir.path().join("out.tar");
    pare(&[
        "copy",
        &cli.oci_ref(),
        &format!("docker-archive:{}", out.display()),
    ])
    .success();
    assert!(!file_left.exists(), "the old partial archive is gone");
    let layout = dir.path().join("layout");
    pare(&["copy", &cli.oci_ref(), &format!("oci:{}", layout.display())]).success();
    assert!(!dir_left.exists(), "the old partial layout is gone");

    // Inside an existing layout, a killed run's blob (added to it) goes too.
    let blob_left = layout.join("blobs/sha256/.0123.pare-partial-4194305-0a0b");
    std::fs::write(&blob_left, "half a blob").unwrap();
    pare(&[
        "copy",
        &cli.oci_ref(),
        &format!("oci:{}:v2", layout.display()),
    ])
    .success();
    assert!(!blob_left.exists(), "the old partial blob is gone");
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 2, "only out.tar and layout: {names:?}");
}

fn euid() -> u32 {
    std::fs::metadata("/proc/self").unwrap().uid()
}
