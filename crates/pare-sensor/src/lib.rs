//! pare-sensor: the tracer `pare build` runs as PID 1 inside the container it minifies,
//! and the report it writes. This library holds only what the rest of pare needs: the
//! [`report`] types. The binary (`pare-sensor`, built fully static by
//! `pare-sensor-blob` so it runs in any image: Debian, Alpine, distroless) does the work.
//!
//! # Running it
//!
//! ```text
//! docker run --cap-add SYS_PTRACE --cap-add SYS_ADMIN --user 0 \
//!     -v SENSOR:/.pare/sensor:ro -v OUTDIR:/.pare/out --entrypoint /.pare/sensor \
//!     IMAGE --out /.pare/out [--user USER[:GROUP]] [--mode seccomp|syscall]
//!           [--pin none|tracer|all] [--no-fanotify] [--exact-syscalls] -- PROGRAM ARGS...
//! ```
//!
//! PROGRAM is looked up on the container's PATH as runc does. `--user` is the image's
//! `USER`, resolved in the container's `/etc/passwd` and `/etc/group` with Docker's
//! rules (supplementary groups included); the app never holds CAP_SYS_PTRACE or
//! CAP_SYS_ADMIN (dropped from every set, the bounding set too), and a root app keeps
//! the rest of Docker's default set. The container's stdio is chowned to the user, as
//! runc does, and HOME=/root is replaced by the user's home.
//!
//! # What it does
//!
//! - Runs the app under ptrace, following forks, vforks, clones and execs. In the
//!   default `seccomp` mode a BPF filter stops the app once per syscall (twice for the
//!   calls that name a path, to learn their result) except a few hot calls every
//!   program makes (read, write, mmap …, listed as used in the report); `syscall` mode
//!   uses PTRACE_SYSCALL (two stops per call). Every path argument of the file syscalls
//!   is recorded, resolved against the cwd or dirfd through /proc.
//! - Marks the root filesystem with fanotify (open, exec, read) to see what the
//!   kernel opens by itself (ELF and `#!` interpreters) and what processes outside the
//!   traced tree (`docker exec` probes) use.
//! - Forwards every catchable signal to the app except [`FLUSH_SIGNAL_OFFSET`]'s
//!   SIGRTMIN+4, reaps orphans, and exits with the app's status (128+N when a signal
//!   killed it). Its own failures exit 125 (127 when PROGRAM is not found), as Docker's.
//!
//! # When the report is written
//!
//! `OUT/report.json` ([`REPORT_FILE`]), always atomically (temp file + rename):
//! - when the app's first process exits ([`SensorReport::complete`] is then true);
//! - after forwarding SIGTERM, SIGINT, SIGQUIT or SIGPWR, in case `docker stop` ends
//!   in SIGKILL;
//! - on SIGRTMIN+4 (`docker kill --signal RTMIN+4`);
//! - when `OUT/flush-request` ([`FLUSH_REQUEST_FILE`]) appears: the sensor deletes it
//!   once the new report is in place.
//!
//! # For the keep-set
//!
//! Paths are absolute and lexically clean but symlinks are not resolved (except before
//! a `..`), so `/lib/x86_64-linux-gnu/libc.so.6` appears as named and the image's
//! `/lib -> usr/lib` link must be followed by the consumer. fanotify paths are the
//! opposite: real paths, never links. Virtual files (`/proc`, `/sys`, `/dev`) are
//! recorded like any other. The ELF interpreter and `#!` interpreters are named by no
//! syscall; they appear in [`SensorReport::fanotify`] with [`FanEvent::Exec`].

pub mod report;

pub use report::{
    AppExit, AppIdentity, FLUSH_REQUEST_FILE, FLUSH_SIGNAL_OFFSET, FanEvent, FanotifyAccess,
    FanotifyStatus, FileAccess, Op, REPORT_FILE, REPORT_VERSION, SensorReport, TraceStats,
};
