//! Directories an app writes its state into at run time: a PHP session store
//! (`/var/lib/php/sessions`, mode 1733), a data directory the Dockerfile made for the
//! app's user (`install -d -o www-data /var/lib/app`), a spool or upload directory.
//! They are empty in the image, so a trace whose probes wrote nothing there shows
//! none of them, and the slim image's first session, upload or saved form fails.
//! Someone other than root may write there: that is what they are for. Only the
//! directory entries are kept; what is in them is for the other rules to judge.

use pare_image::{EntryKind, FileIndex};

/// Where no app state is: the kernel's and the engine's mount points, and the
/// package manager's own directories (apt's `archives/partial` belongs to `_apt`),
/// which go with the package manager.
const NOT_STATE: [&str; 9] = [
    "/proc",
    "/sys",
    "/dev",
    "/run",
    "/var/cache/apt",
    "/var/lib/apt",
    "/var/lib/dpkg",
    "/var/cache/apk",
    "/var/lib/rpm",
];

/// Directories of the image that a user other than root may write to: world-writable
/// (`/tmp`, a 1733 session store), or owned by a non-root user or group that may
/// write.
pub fn directories(index: &FileIndex) -> Vec<String> {
    index
        .nodes
        .iter()
        .filter(|(path, node)| {
            node.kind == EntryKind::Dir
                && !NOT_STATE
                    .iter()
                    .any(|m| *path == m || path.starts_with(&format!("{m}/")))
                && writable_by_non_root(node.mode, node.uid, node.gid)
        })
        .map(|(path, _)| path.clone())
        .collect()
}

fn writable_by_non_root(mode: u32, uid: u64, gid: u64) -> bool {
    mode & 0o002 != 0 || (uid != 0 && mode & 0o200 != 0) || (gid != 0 && mode & 0o020 != 0)
}

#[cfg(test)]
mod tests {
    use pare_image::layer::{Expected, ReadOptions, read_layer};
    use pare_image::testutil::{TarItem, tar_of};

    #[test]
    fn finds_world_writable_directories_but_not_the_kernels_or_apts() {
        let tar = tar_of(&[
            TarItem::dir("var/"),
            TarItem::dir("var/lib/"),
            TarItem::dir("var/lib/php/"),
            TarItem::dir_mode("var/lib/php/sessions/", 0o1733),
            TarItem::dir_mode("var/lib/readonly/", 0o555),
            TarItem::dir_mode("tmp/", 0o1777),
            TarItem::dir_mode("proc/", 0o777),
            TarItem::dir("var/cache/"),
            TarItem::dir("var/cache/apt/"),
            TarItem::dir_mode("var/cache/apt/archives/", 0o777),
            TarItem::file("var/lib/open.txt", b"", 0o666),
        ]);
        let layer = read_layer(&tar[..], "t", &Expected::default(), &ReadOptions::default())
            .expect("layer");
        let index = pare_image::FileIndex::build([layer]);
        assert_eq!(
            super::directories(&index),
            ["/tmp", "/var/lib/php/sessions"]
        );
    }

    #[test]
    fn a_directory_of_a_non_root_owner_who_may_write_is_state() {
        use super::writable_by_non_root as w;
        assert!(w(0o755, 33, 33), "install -d -o www-data");
        assert!(w(0o2775, 0, 50), "a group's shared directory");
        assert!(!w(0o755, 0, 0), "root's");
        assert!(!w(0o555, 33, 33), "nobody may write");
        assert!(!w(0o755, 0, 4), "the group may not write");
    }
}
