//! What /proc says about a traced task: its cwd and open descriptors (to resolve
//! relative paths), its thread group, and the identity it runs with.

use nix::unistd::Pid;
use pare_sensor::AppIdentity;

use crate::path::strip_deleted;

/// The directory a relative path of `pid` starts from: its cwd for `AT_FDCWD` (or a
/// plain relative path), else the directory open as `dirfd`.
pub fn base_dir(pid: Pid, dirfd: Option<i32>) -> std::io::Result<String> {
    let link = match dirfd {
        None | Some(libc::AT_FDCWD) => format!("/proc/{pid}/cwd"),
        Some(fd) => format!("/proc/{pid}/fd/{fd}"),
    };
    let target = std::fs::read_link(&link)?;
    let target = {
        use std::os::unix::ffi::OsStrExt;
        pare_names::name_from_bytes(target.as_os_str().as_bytes())
    };
    Ok(strip_deleted(&target).to_owned())
}

/// The thread group (process) `tid` belongs to.
pub fn tgid(tid: Pid) -> Option<i32> {
    let status = std::fs::read_to_string(format!("/proc/{tid}/status")).ok()?;
    field(&status, "Tgid:")?.parse().ok()
}

/// Uid, gid, groups and capabilities of `pid`, which has just exec'd `program`.
pub fn identity(pid: Pid, program: &str) -> Option<AppIdentity> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    parse_identity(&status, pid.as_raw(), program)
}

fn parse_identity(status: &str, pid: i32, program: &str) -> Option<AppIdentity> {
    let first = |key| {
        field(status, key)?
            .split_whitespace()
            .next()?
            .parse::<u32>()
            .ok()
    };
    let caps = |key| u64::from_str_radix(field(status, key)?, 16).ok();
    Some(AppIdentity {
        pid,
        program: program.to_owned(),
        uid: first("Uid:")?,
        gid: first("Gid:")?,
        groups: field(status, "Groups:")
            .unwrap_or("")
            .split_whitespace()
            .filter_map(|g| g.parse().ok())
            .collect(),
        cap_effective: caps("CapEff:")?,
        cap_permitted: caps("CapPrm:")?,
        cap_bounding: caps("CapBnd:")?,
    })
}

fn field<'a>(status: &'a str, key: &str) -> Option<&'a str> {
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .map(str::trim)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_status_file() {
        let status = "Name:\tgunicorn\nTgid:\t7\nPid:\t7\nUid:\t65534\t65534\t65534\t65534\nGid:\t65534\t65534\t65534\t65534\nGroups:\t29 50 \nCapInh:\t0000000000000000\nCapPrm:\t0000000000000000\nCapEff:\t0000000000000000\nCapBnd:\t00000000a80425fb\n";
        let id = parse_identity(status, 7, "/opt/venv/bin/gunicorn").unwrap();
        assert_eq!((id.uid, id.gid), (65534, 65534));
        assert_eq!(id.groups, [29, 50]);
        assert_eq!(id.cap_bounding, 0xa80425fb);
        assert_eq!(id.cap_effective, 0);
    }

    #[test]
    fn reads_our_own_cwd_and_tgid() {
        let me = Pid::this();
        let cwd = std::env::current_dir().unwrap();
        assert_eq!(base_dir(me, None).unwrap(), cwd.to_str().unwrap());
        assert_eq!(tgid(me), Some(me.as_raw()));
        assert!(identity(me, "x").is_some());
    }
}
