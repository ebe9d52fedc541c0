//! pare-sensor: the tracer `pare build` runs as PID 1 inside the container it minifies,
//! and the report it writes.
//!
//! The binary (`pare-sensor`, built fully static so it runs in any image) starts the
//! image's entrypoint under ptrace, records every path a file syscall names and every
//! syscall used, cross-checks with fanotify, forwards signals and reaps zombies. This
//! library holds only what the rest of pare needs: the [`report`] types it reads back.
//!
//! ```text
//! pare-sensor --out /.pare/out [--user USER] [--mode seccomp|syscall]
//!             [--pin none|tracer|all] [--no-fanotify] -- PROGRAM ARGS...
//! ```

pub mod report;

pub use report::{
    AppExit, AppIdentity, FLUSH_REQUEST_FILE, FLUSH_SIGNAL_OFFSET, FanEvent, FanotifyAccess,
    FanotifyStatus, FileAccess, Op, REPORT_FILE, REPORT_VERSION, SensorReport, TraceStats,
};
