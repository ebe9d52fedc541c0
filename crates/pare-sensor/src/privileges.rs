//! Becoming the app's user in the forked child, before exec.
//!
//! The container runs as root with CAP_SYS_PTRACE and CAP_SYS_ADMIN added so the sensor
//! can trace and watch; the app must not inherit them. They are dropped from the
//! bounding set (so no setuid binary brings them back) and from the effective,
//! permitted, inheritable and ambient sets, leaving Docker's default set for a root app
//! (nginx's master needs CAP_SETUID and friends). For another user, setuid clears the
//! effective and permitted sets as it does under runc.

use nix::errno::Errno;
use nix::unistd::{Gid, Uid};

use pare_users::Identity;

pub const CAP_SETPCAP: u32 = 8;
pub const CAP_SYS_PTRACE: u32 = 19;
pub const CAP_SYS_ADMIN: u32 = 21;
/// The capabilities the sensor keeps for itself.
pub const SENSOR_ONLY: [u32; 2] = [CAP_SYS_PTRACE, CAP_SYS_ADMIN];

const LINUX_CAPABILITY_VERSION_3: u32 = 0x2008_0522;

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: libc::c_int,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

/// What the child does to become the app, decided in the parent from what the sensor
/// itself holds (so a sensor run unprivileged, in tests, still works).
#[derive(Clone, Debug)]
pub struct Plan {
    /// Drop [`SENSOR_ONLY`] from the bounding set (needs CAP_SETPCAP).
    pub drop_bounding: bool,
    /// setgroups/setgid/setuid to this identity.
    pub switch_to: Option<Identity>,
    /// Set no_new_privs: only when the sensor lacks CAP_SYS_ADMIN, because a seccomp
    /// filter then needs it.
    pub no_new_privs: bool,
}

/// Which stage of becoming the app failed.
#[derive(Clone, Copy, Debug)]
pub enum Step {
    Bounding,
    Groups,
    Gid,
    Uid,
    Capabilities,
    NoNewPrivs,
}

/// Carries out `plan` (except no_new_privs, see [`set_no_new_privs`]) in the calling
/// (child) process.
pub fn apply(plan: &Plan) -> Result<(), (Step, Errno)> {
    if plan.drop_bounding {
        for cap in SENSOR_ONLY {
            // SAFETY: prctl with integer arguments.
            let rc = unsafe { libc::prctl(libc::PR_CAPBSET_DROP, cap as libc::c_ulong, 0, 0, 0) };
            Errno::result(rc).map_err(|e| (Step::Bounding, e))?;
        }
    }
    if let Some(id) = &plan.switch_to {
        crate::stdio::give_to(id.uid, id.gid);
        let groups: Vec<Gid> = id.groups.iter().map(|g| Gid::from_raw(*g)).collect();
        nix::unistd::setgroups(&groups).map_err(|e| (Step::Groups, e))?;
        let gid = Gid::from_raw(id.gid);
        nix::unistd::setresgid(gid, gid, gid).map_err(|e| (Step::Gid, e))?;
        let uid = Uid::from_raw(id.uid);
        nix::unistd::setresuid(uid, uid, uid).map_err(|e| (Step::Uid, e))?;
    }
    drop_from_process_sets().map_err(|e| (Step::Capabilities, e))
}

/// Sets no_new_privs (before the seccomp filter, which needs it without CAP_SYS_ADMIN).
pub fn set_no_new_privs() -> Result<(), Errno> {
    // SAFETY: prctl with integer arguments.
    Errno::result(unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) }).map(drop)
}

/// Clears [`SENSOR_ONLY`] from the effective, permitted and inheritable sets, and the
/// whole ambient set.
fn drop_from_process_sets() -> Result<(), Errno> {
    let mut data = capget()?;
    let mask = !SENSOR_ONLY.iter().fold(0u32, |m, c| m | (1 << c));
    data[0].effective &= mask;
    data[0].permitted &= mask;
    data[0].inheritable &= mask;
    let mut header = CapHeader {
        version: LINUX_CAPABILITY_VERSION_3,
        pid: 0,
    };
    // SAFETY: header and a two-element data array, as capset(2) v3 requires.
    Errno::result(unsafe { libc::syscall(libc::SYS_capset, &mut header, data.as_ptr()) })?;
    // SAFETY: prctl with integer arguments. Fails with EINVAL on kernels without
    // ambient capabilities, which then have none to clear.
    let rc = unsafe {
        libc::prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_CLEAR_ALL,
            0,
            0,
            0,
        )
    };
    match Errno::result(rc) {
        Ok(_) | Err(Errno::EINVAL) => Ok(()),
        Err(e) => Err(e),
    }
}

fn capget() -> Result<[CapData; 2], Errno> {
    let mut header = CapHeader {
        version: LINUX_CAPABILITY_VERSION_3,
        pid: 0,
    };
    let mut data = [CapData::default(); 2];
    // SAFETY: header and a two-element data array, as capget(2) v3 requires.
    Errno::result(unsafe { libc::syscall(libc::SYS_capget, &mut header, data.as_mut_ptr()) })?;
    Ok(data)
}

/// Whether the calling process has `cap` in its effective set.
pub fn has_effective(cap: u32) -> bool {
    capget().is_ok_and(|d| d[(cap / 32) as usize].effective & (1 << (cap % 32)) != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capget_works_and_is_consistent_with_our_uid() {
        // root in a container or on a host has CAP_SETPCAP; a normal user does not.
        let root = nix::unistd::geteuid().is_root();
        if !root {
            assert!(!has_effective(CAP_SETPCAP));
        }
        assert!(capget().is_ok());
    }
}
