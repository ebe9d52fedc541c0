//! Handing the container's stdio to the app's user, as runc does for PID 1.
//!
//! Docker's stdout/stderr pipes are created for the container's process, here the
//! sensor running as root. Without the sensor, runc would have chowned them to the
//! image's user, so an app that opens `/dev/stdout` by name (nginx's
//! `error_log /dev/stdout`) can; the sensor does the same before the app drops root.

use std::os::fd::BorrowedFd;

use nix::sys::stat::{SFlag, fstat};
use nix::unistd::{Gid, Uid, fchown};

/// Chowns descriptors 0, 1 and 2 to `uid:gid`, except `/dev/null` (shared by every
/// process). Best effort: a descriptor that cannot be changed is left as it is.
pub fn give_to(uid: u32, gid: u32) {
    let dev_null = nix::sys::stat::stat("/dev/null").ok().map(|s| s.st_rdev);
    for raw in 0..=2 {
        // SAFETY: 0-2 stay open for the life of the process; only borrowed here.
        let fd = unsafe { BorrowedFd::borrow_raw(raw) };
        let Ok(st) = fstat(fd) else { continue };
        let is_char = SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT == SFlag::S_IFCHR;
        if is_char && Some(st.st_rdev) == dev_null {
            continue;
        }
        if st.st_uid != uid {
            let _ = fchown(fd, Some(Uid::from_raw(uid)), Some(Gid::from_raw(gid)));
        }
    }
}
