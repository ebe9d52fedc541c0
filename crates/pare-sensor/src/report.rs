//! The report the sensor writes to `OUT/report.json`: what the traced app touched.
//!
//! The shape is plain data so that `pare build` (and a person with `jq`) can read it
//! without knowing how it was gathered. Everything is sorted, so two reports of the same
//! run compare equal and diffs between runs are readable.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

/// The file name the sensor writes inside its `--out` directory (atomically: a temporary
/// file renamed over it, so a reader never sees half a report).
pub const REPORT_FILE: &str = "report.json";

/// Creating this file in the `--out` directory asks the sensor to write its report now.
/// The sensor deletes the file once the new `report.json` is in place, so a caller
/// waits for the request file to disappear and then reads the report.
pub const FLUSH_REQUEST_FILE: &str = "flush-request";

/// The realtime signal offset (`SIGRTMIN+4`, 38 with glibc) that asks for a report
/// without being forwarded to the app: `docker kill --signal RTMIN+4 CONTAINER`.
/// SIGUSR1/SIGUSR2 are not used because apps use them (gunicorn, nginx do).
pub const FLUSH_SIGNAL_OFFSET: i32 = 4;

/// Everything the sensor observed, written when the app exits, when asked (see
/// [`FLUSH_REQUEST_FILE`]), and when a stop signal arrives (so that a `docker stop` that
/// ends in SIGKILL still leaves a report).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SensorReport {
    /// Report format version; bumped when a field changes meaning.
    pub version: u32,
    /// `true` once the app has exited and nothing more will be traced; `false` in the
    /// reports written on request or on a stop signal.
    pub complete: bool,
    /// The command the sensor ran, as given (before PATH lookup).
    pub command: Vec<String>,
    /// Who the app ran as, read from `/proc/PID/status` right after its first exec.
    pub app: Option<AppIdentity>,
    /// How the app ended; `None` while it still runs.
    pub exit: Option<AppExit>,
    /// Every path a file syscall of the traced tree named, resolved to an absolute,
    /// lexically clean path (sorted by path).
    pub files: Vec<FileAccess>,
    /// Names of the syscalls the traced tree made after the app's first exec, sorted
    /// (x86_64 names, as in a Docker seccomp profile).
    pub syscalls: Vec<String>,
    /// Files the fanotify mark on the root filesystem saw opened, executed or read, by
    /// any process in the container (sorted by path). Empty when fanotify was not
    /// available (see [`FanotifyStatus`]).
    pub fanotify: Vec<FanotifyAccess>,
    /// Whether and how the fanotify cross-check ran.
    pub fanotify_status: FanotifyStatus,
    /// Counters, for benchmarks and sanity checks.
    pub stats: TraceStats,
    /// Things that went wrong but did not stop tracing (a path that could not be read,
    /// a 32-bit syscall, …). A consumer shows them; it does not fail on them.
    pub warnings: Vec<String>,
    /// Things that went wrong and make the report incomplete (the program was not
    /// found, tracing could not start, …).
    pub errors: Vec<String>,
}

impl SensorReport {
    /// The record of `path`, if a syscall named it (`files` is sorted by path).
    pub fn file(&self, path: &str) -> Option<&FileAccess> {
        self.files
            .binary_search_by(|f| f.path.as_str().cmp(path))
            .ok()
            .map(|i| &self.files[i])
    }
}

/// The current [`SensorReport::version`].
pub const REPORT_VERSION: u32 = 1;

/// One path and what the app did with it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileAccess {
    /// Absolute path as the app named it, with `.`, `..` and repeated slashes resolved
    /// (a `..` after a symlink is resolved through the link, and the link itself is
    /// recorded with [`Op::Lookup`]).
    pub path: String,
    /// Operations that succeeded at least once on this path.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub ok: BTreeSet<Op>,
    /// Operations that failed at least once: a failed stat of a missing file is a probe
    /// the app makes, and the slim image must fail it the same way.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub failed: BTreeSet<Op>,
    /// The errno names of the failures (`ENOENT`, `EACCES`, `UNFINISHED` when the
    /// process died inside the call).
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub errors: BTreeSet<String>,
}

impl FileAccess {
    /// The path certainly existed (or was made): a call on it succeeded, or failed in
    /// a way only an existing path can (readlink of a regular file: EINVAL; mkdir of an
    /// existing directory: EEXIST). EACCES and the like say nothing either way.
    pub fn found(&self) -> bool {
        !self.ok.is_empty() || self.errors.iter().any(|e| EXISTING.contains(&e.as_str()))
    }

    /// The path was executed (execve/execveat), successfully or not.
    pub fn executed(&self) -> bool {
        self.ok.contains(&Op::Exec)
    }

    /// The app made this path (a file, directory, link, node, or a rename/link target),
    /// so its parent directory must exist in the slim image.
    pub fn created(&self) -> bool {
        self.ok.iter().any(|op| op.creates())
    }
}

/// Errors only an existing path gives: it exists (EEXIST), is not a symlink (EINVAL
/// from readlink), is one (ELOOP with O_NOFOLLOW), is a directory (EISDIR, ENOTEMPTY).
const EXISTING: &[&str] = &["EEXIST", "EINVAL", "ELOOP", "EISDIR", "ENOTEMPTY"];

/// What a file syscall did with a path. The names are stable (snake_case in JSON).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    /// open/openat/openat2 without `O_CREAT`, uselib.
    Open,
    /// creat, or open* with `O_CREAT` (the file may have existed).
    Create,
    /// stat, lstat, newfstatat, statx, statfs, name_to_handle_at, file_getattr.
    Stat,
    /// access, faccessat, faccessat2.
    Access,
    /// readlink, readlinkat.
    Readlink,
    /// execve, execveat (the path named, not the `#!` or ELF interpreter).
    Exec,
    /// chdir, chroot.
    Chdir,
    /// mkdir, mkdirat.
    Mkdir,
    /// mknod, mknodat.
    Mknod,
    /// rmdir, unlinkat with `AT_REMOVEDIR`.
    Rmdir,
    /// unlink, unlinkat.
    Unlink,
    /// The old path of rename/renameat/renameat2.
    RenameFrom,
    /// The new path of rename/renameat/renameat2.
    RenameTo,
    /// The existing path of link/linkat.
    LinkFrom,
    /// The new path of link/linkat.
    LinkTo,
    /// The link made by symlink/symlinkat (its target text is not a path access).
    Symlink,
    /// truncate.
    Truncate,
    /// chmod, fchmodat, fchmodat2, file_setattr.
    Chmod,
    /// chown, lchown, fchownat.
    Chown,
    /// utime, utimes, futimesat, utimensat.
    Utime,
    /// The *xattr calls that take a path.
    Xattr,
    /// inotify_add_watch, fanotify_mark.
    Watch,
    /// bind of a Unix socket: makes the socket file.
    Bind,
    /// connect to a Unix socket.
    Connect,
    /// A symlink passed through on the way to a `..` (recorded by the sensor, not named
    /// by a syscall on its own).
    Lookup,
}

impl Op {
    /// This operation brings the path into existence.
    pub fn creates(self) -> bool {
        matches!(
            self,
            Op::Create | Op::Mkdir | Op::Mknod | Op::RenameTo | Op::LinkTo | Op::Symlink | Op::Bind
        )
    }
}

/// The identity the app ran with, as the kernel saw it after the first exec.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppIdentity {
    /// PID of the app's first process (inside the container's PID namespace).
    pub pid: i32,
    /// The resolved program path that was executed.
    pub program: String,
    /// Real uid and gid.
    pub uid: u32,
    pub gid: u32,
    /// Supplementary groups.
    pub groups: Vec<u32>,
    /// Capability sets (bit masks from `/proc/PID/status`): the app never holds
    /// CAP_SYS_PTRACE (bit 19) or CAP_SYS_ADMIN (bit 21), which the sensor needs.
    pub cap_effective: u64,
    pub cap_permitted: u64,
    pub cap_bounding: u64,
}

/// How the app's first process ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AppExit {
    /// It exited with this status.
    Code(i32),
    /// A signal killed it (the sensor exits with 128 + the number).
    Signal {
        /// The signal number.
        number: i32,
        /// Its name (`SIGKILL`).
        name: String,
    },
}

impl AppExit {
    /// The exit status a shell (and Docker) reports for this: the code, or 128+signal.
    pub fn status(&self) -> i32 {
        match self {
            AppExit::Code(code) => *code,
            AppExit::Signal { number, .. } => 128 + number,
        }
    }
}

/// A file fanotify saw used.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FanotifyAccess {
    /// The file's path, as the kernel names an open descriptor of it: symlinks are
    /// resolved, so this is the link's target, never the link.
    pub path: String,
    /// Which events were seen: `open`, `exec`, `access` (read).
    pub events: BTreeSet<FanEvent>,
    /// At least one event came from a process outside the traced tree (a `docker exec`
    /// probe, or a process that escaped ptrace).
    pub untraced: bool,
}

/// The fanotify event kinds the sensor listens for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FanEvent {
    /// FAN_OPEN.
    Open,
    /// FAN_OPEN_EXEC: opened to be executed, including ELF and `#!` interpreters.
    Exec,
    /// FAN_ACCESS: read.
    Access,
}

/// Whether the fanotify cross-check ran, and on what.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum FanotifyStatus {
    /// Not attempted (`--no-fanotify`).
    #[default]
    Off,
    /// Marked; `scope` is `filesystem` (the whole root filesystem) or `mount` (the root
    /// mount only), `events` the event kinds the kernel accepted.
    Active {
        scope: String,
        events: Vec<FanEvent>,
        /// The queue overflowed at least once: some events were lost.
        overflowed: bool,
    },
    /// The kernel or the container refused (no CAP_SYS_ADMIN, seccomp, old kernel).
    Unavailable { reason: String },
}

/// Counters about the trace.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceStats {
    /// `seccomp` (a BPF filter stops the tracee only where needed) or `syscall`
    /// (PTRACE_SYSCALL: a stop on every entry and exit).
    pub mode: String,
    /// The CPU pinning used: `none`, `tracer` or `all`.
    pub pin: String,
    /// Processes (thread groups) traced, the first included.
    pub processes: u64,
    /// Threads traced beyond each process's first.
    pub threads: u64,
    /// Syscalls seen by the tracer (after the app's first exec).
    pub syscalls_traced: u64,
    /// Of those, calls that named a path.
    pub file_syscalls: u64,
    /// ptrace stops handled (syscall, event and signal stops).
    pub ptrace_stops: u64,
    /// fanotify events read.
    pub fanotify_events: u64,
    /// Milliseconds from the sensor's start to this report.
    pub elapsed_ms: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn access(path: &str, ok: &[Op], failed: &[Op], errors: &[&str]) -> FileAccess {
        FileAccess {
            path: path.into(),
            ok: ok.iter().copied().collect(),
            failed: failed.iter().copied().collect(),
            errors: errors.iter().map(|e| e.to_string()).collect(),
        }
    }

    #[test]
    fn what_a_record_says_about_its_path() {
        let probe = access("/app/x.py", &[], &[Op::Stat], &["ENOENT"]);
        assert!(!probe.found() && !probe.created());
        let not_a_link = access("/usr/bin/python3.11", &[], &[Op::Readlink], &["EINVAL"]);
        assert!(
            not_a_link.found(),
            "readlink of a regular file fails, but the file is there"
        );
        let denied = access(
            "/app/__pycache__",
            &[],
            &[Op::Stat, Op::Mkdir],
            &["ENOENT", "EACCES"],
        );
        assert!(!denied.found(), "mkdir refused in a read-only directory");
        let made = access("/tmp/cache", &[Op::Mkdir], &[], &[]);
        assert!(made.found() && made.created() && !made.executed());
        assert!(access("/bin/sh", &[Op::Exec], &[], &[]).executed());
    }

    #[test]
    fn files_are_looked_up_by_path() {
        let report = SensorReport {
            files: vec![
                access("/a", &[Op::Open], &[], &[]),
                access("/b", &[Op::Stat], &[], &[]),
            ],
            ..Default::default()
        };
        assert_eq!(
            report.file("/b").map(|f| f.ok.clone()),
            Some([Op::Stat].into())
        );
        assert!(report.file("/c").is_none());
    }

    #[test]
    fn exit_statuses_follow_the_shell_convention() {
        assert_eq!(AppExit::Code(3).status(), 3);
        assert_eq!(
            AppExit::Signal {
                number: 15,
                name: "SIGTERM".into()
            }
            .status(),
            143
        );
    }

    #[test]
    fn the_json_shape_is_stable() {
        let report = SensorReport {
            files: vec![access(
                "/etc/hosts",
                &[Op::Open, Op::RenameTo],
                &[Op::Stat],
                &["ENOENT"],
            )],
            exit: Some(AppExit::Code(0)),
            fanotify_status: FanotifyStatus::Unavailable {
                reason: "EPERM".into(),
            },
            ..Default::default()
        };
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(
            json["files"][0],
            serde_json::json!({"path": "/etc/hosts", "ok": ["open", "rename_to"], "failed": ["stat"], "errors": ["ENOENT"]})
        );
        assert_eq!(json["exit"], serde_json::json!({"code": 0}));
        assert_eq!(
            json["fanotify_status"],
            serde_json::json!({"state": "unavailable", "reason": "EPERM"})
        );
        let back: SensorReport = serde_json::from_value(json).unwrap();
        assert_eq!(back, report);
    }
}
