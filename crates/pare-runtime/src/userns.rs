//! Running the OCI runtime without root, as rootless Podman does: pare re-executes
//! itself in a user namespace where the user is root and the ids 1… map to the user's
//! subordinate range (`/etc/subuid`, `/etc/subgid`, written by `newuidmap` and
//! `newgidmap`), with a mount namespace of its own. Inside, unpacking keeps the image's
//! owners, runc mounts the container's root and its writable tmpfs, and pare can enter
//! the container's network namespace to probe it, all within the user's own ids.
//!
//! util-linux's `unshare --map-root-user --map-auto` does the mapping dance (a helper
//! process outside runs newuidmap on the new namespace); pare runs it rather than
//! writing that by hand.

use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;

use crate::RuntimeError;

/// Set in the environment of the pare re-executed inside the namespace.
const MARKER: &str = "PARE_ROOTLESS";

/// Whether this process is in a user namespace other than the host's (its uid map is
/// not the identity over all ids).
pub fn in_user_namespace() -> bool {
    let map = std::fs::read_to_string("/proc/self/uid_map").unwrap_or_default();
    let fields: Vec<&str> = map.split_whitespace().collect();
    fields != ["0", "0", "4294967295"]
}

/// Whether this is the pare that [`reexec`] started: root only inside its namespace,
/// without cgroups to limit the app with.
pub fn rootless() -> bool {
    std::env::var_os(MARKER).is_some() && in_user_namespace()
}

/// Whether running containers here needs [`reexec`] first: not root, and not already
/// in pare's namespace.
pub fn needed() -> bool {
    // SAFETY: geteuid has no preconditions.
    let uid = unsafe { libc::geteuid() };
    uid != 0 && !rootless()
}

/// Re-executes pare, with the same arguments, in a user and mount namespace of its
/// own; returns only on failure. Refused with a clear error when the user has no
/// subordinate ids or `newuidmap` is missing.
pub fn reexec() -> Result<std::convert::Infallible, RuntimeError> {
    // SAFETY: getuid has no preconditions.
    let uid = unsafe { libc::getuid() };
    let user = user_name(uid).unwrap_or_else(|| uid.to_string());
    for file in ["/etc/subuid", "/etc/subgid"] {
        if !has_range(file, &user, uid) {
            return Err(RuntimeError::NoSubordinateIds {
                user,
                file: file.into(),
            });
        }
    }
    if crate::program::which("newuidmap").is_none() || crate::program::which("newgidmap").is_none()
    {
        return Err(RuntimeError::Rootless(
            "newuidmap and newgidmap are not installed (Debian's uidmap package)".into(),
        ));
    }
    let exe = std::env::current_exe().map_err(|source| RuntimeError::RootlessIo {
        what: "finding pare's own binary",
        source,
    })?;
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    let error = std::process::Command::new("unshare")
        .args([
            "--user",
            "--map-root-user",
            "--map-auto",
            "--mount",
            "--propagation",
            "private",
            "--",
        ])
        .arg(exe)
        .args(args)
        .env(MARKER, "1")
        .exec();
    Err(RuntimeError::RootlessIo {
        what: "running unshare (util-linux 2.38 or later)",
        source: error,
    })
}

/// Where runc keeps its state for pare: root's `/run/pare-oci`, or in the user's
/// runtime dir (or a private temp dir) when rootless.
pub fn state_root() -> PathBuf {
    if !rootless() {
        return PathBuf::from("/run/pare-oci");
    }
    match std::env::var_os("XDG_RUNTIME_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir).join("pare-oci"),
        _ => std::env::temp_dir().join(format!("pare-oci-{}", host_uid())),
    }
}

/// The host uid this namespace's root is (the first line of the uid map).
fn host_uid() -> u32 {
    std::fs::read_to_string("/proc/self/uid_map")
        .ok()
        .and_then(|m| m.split_whitespace().nth(1).and_then(|f| f.parse().ok()))
        .unwrap_or(0)
}

fn user_name(uid: u32) -> Option<String> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let fields: Vec<&str> = line.split(':').collect();
        (fields.len() > 2 && fields[2] == uid.to_string()).then(|| fields[0].to_owned())
    })
}

/// Whether `file` gives `user` (by name or uid) a range of 65536 ids or more: images'
/// owners run up to 65534 (nobody).
fn has_range(file: &str, user: &str, uid: u32) -> bool {
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.trim().split(':').collect();
            (fields.len() == 3).then(|| (fields[0], fields[2].parse::<u64>().unwrap_or(0)))
        })
        .any(|(owner, count)| (owner == user || owner == uid.to_string()) && count >= 65536)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_range_is_found_by_name_or_uid_and_must_cover_nobody() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("subuid");
        std::fs::write(
            &file,
            "alice:100000:65536\n1002:165536:65536\nbob:231072:1000\n",
        )
        .unwrap();
        let file = file.to_str().unwrap();
        assert!(has_range(file, "alice", 1001));
        assert!(has_range(file, "carol", 1002));
        assert!(
            !has_range(file, "bob", 1003),
            "1000 ids do not cover nobody"
        );
        assert!(!has_range(file, "dave", 1004));
    }
}
