//! The fanotify cross-check: every file opened, executed or read on the container's
//! root filesystem, by any process (also `docker exec` probes, which ptrace cannot
//! follow), named by the descriptor fanotify hands over.
//!
//! fanotify names files by their real path (symlinks resolved) and never sees a stat,
//! so it sees fewer paths than ptrace; it does see what the kernel opens on its own
//! (the ELF interpreter, `#!` interpreters), which no syscall names.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::fanotify::{EventFFlags, Fanotify, InitFlags, MarkFlags, MaskFlags};
use pare_sensor::{FanEvent, FanotifyAccess, FanotifyStatus};

use crate::path::strip_deleted;

/// Pids kept per path to tell traced from untraced users; more add nothing.
const PIDS_PER_PATH: usize = 16;

#[derive(Default)]
struct Seen {
    events: BTreeSet<FanEvent>,
    pids: HashSet<i32>,
}

/// A fanotify group marked on `/`, and what it has reported so far.
pub struct Watch {
    group: Fanotify,
    own_pid: i32,
    seen: HashMap<String, Seen>,
    scope: &'static str,
    events: Vec<FanEvent>,
    overflowed: bool,
    pub event_count: u64,
}

const ATTEMPTS: &[(&str, MarkFlags)] = &[
    ("filesystem", MarkFlags::FAN_MARK_FILESYSTEM),
    ("mount", MarkFlags::FAN_MARK_MOUNT),
];

/// Starts watching `/`, as widely as the kernel allows: the whole filesystem, else the
/// mount; open+exec+access, else without exec (kernels before 5.0). On failure the
/// status says why and tracing goes on without it.
pub fn start() -> (Option<Watch>, FanotifyStatus) {
    let init = InitFlags::FAN_CLASS_NOTIF
        | InitFlags::FAN_CLOEXEC
        | InitFlags::FAN_NONBLOCK
        | InitFlags::FAN_UNLIMITED_QUEUE;
    let flags = EventFFlags::from_bits_truncate(
        (OFlag::O_RDONLY | OFlag::O_LARGEFILE | OFlag::O_CLOEXEC).bits() as u32,
    );
    let group = match Fanotify::init(init, flags) {
        Ok(g) => g,
        Err(e) => return (None, unavailable(format!("fanotify_init: {e}"))),
    };
    let masks: [(MaskFlags, &[FanEvent]); 2] = [
        (
            MaskFlags::FAN_OPEN | MaskFlags::FAN_OPEN_EXEC | MaskFlags::FAN_ACCESS,
            &[FanEvent::Open, FanEvent::Exec, FanEvent::Access],
        ),
        (
            MaskFlags::FAN_OPEN | MaskFlags::FAN_ACCESS,
            &[FanEvent::Open, FanEvent::Access],
        ),
    ];
    let mut last_error = Errno::UnknownErrno;
    for (scope, scope_flag) in ATTEMPTS {
        for (mask, events) in &masks {
            let flags = MarkFlags::FAN_MARK_ADD | *scope_flag;
            match group.mark(
                flags,
                *mask | MaskFlags::FAN_ONDIR,
                nix::fcntl::AT_FDCWD,
                Some("/"),
            ) {
                Ok(()) => {
                    let watch = Watch {
                        group,
                        own_pid: std::process::id() as i32,
                        seen: HashMap::new(),
                        scope,
                        events: events.to_vec(),
                        overflowed: false,
                        event_count: 0,
                    };
                    let status = watch.status();
                    return (Some(watch), status);
                }
                Err(e) => last_error = e,
            }
        }
    }
    (
        None,
        unavailable(format!("fanotify_mark on /: {last_error}")),
    )
}

fn unavailable(reason: String) -> FanotifyStatus {
    FanotifyStatus::Unavailable { reason }
}

impl Watch {
    /// Reads every queued event (the group is non-blocking).
    pub fn drain(&mut self) {
        loop {
            let events = match self.group.read_events() {
                Ok(events) if !events.is_empty() => events,
                _ => return,
            };
            for event in events {
                self.event_count += 1;
                let mask = event.mask();
                if mask.contains(MaskFlags::FAN_Q_OVERFLOW) {
                    self.overflowed = true;
                }
                // pid 0: a process outside the container's pid namespace. With an OCI
                // runtime on a plain directory the root is the host's filesystem, so
                // the filesystem mark also sees the host's own opens; they are not the
                // app's.
                if event.pid() == self.own_pid || event.pid() == 0 {
                    continue;
                }
                let Some(fd) = event.fd() else { continue };
                let Ok(target) = std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd()))
                else {
                    continue;
                };
                let path = {
                    use std::os::unix::ffi::OsStrExt;
                    pare_names::name_from_bytes(target.as_os_str().as_bytes())
                };
                let seen = self
                    .seen
                    .entry(strip_deleted(&path).to_owned())
                    .or_default();
                for (flag, kind) in [
                    (MaskFlags::FAN_OPEN, FanEvent::Open),
                    (MaskFlags::FAN_OPEN_EXEC, FanEvent::Exec),
                    (MaskFlags::FAN_ACCESS, FanEvent::Access),
                ] {
                    if mask.contains(flag) {
                        seen.events.insert(kind);
                    }
                }
                if seen.pids.len() < PIDS_PER_PATH {
                    seen.pids.insert(event.pid());
                }
            }
        }
    }

    /// What the report says about the watch itself.
    pub fn status(&self) -> FanotifyStatus {
        FanotifyStatus::Active {
            scope: self.scope.to_owned(),
            events: self.events.clone(),
            overflowed: self.overflowed,
        }
    }

    /// The files seen, sorted; `traced` holds every pid the tracer followed.
    pub fn accesses(&self, traced: &HashSet<i32>) -> Vec<FanotifyAccess> {
        let mut out: Vec<FanotifyAccess> = self
            .seen
            .iter()
            .map(|(path, seen)| FanotifyAccess {
                path: path.clone(),
                events: seen.events.clone(),
                untraced: seen.pids.iter().any(|p| !traced.contains(p)),
            })
            .collect();
        out.sort_by(|a, b| a.path.cmp(&b.path));
        out
    }
}

impl AsFd for Watch {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.group.as_fd()
    }
}
