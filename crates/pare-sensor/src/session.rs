//! The state both sensor threads share, and the report made from it.
//!
//! The tracer thread holds the [`Tracer`] lock while it handles one stop (uncontended,
//! so nearly free); the control thread takes it briefly to copy a snapshot. Writes are
//! serialised so that a flush and the final report never interleave in the temp file.

use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

use pare_sensor::{FanotifyStatus, REPORT_VERSION, SensorReport, TraceStats};
use syscalls::Sysno;

use crate::cli::{Mode, Options};
use crate::tracer::Tracer;
use crate::{fanotify, output, seccomp};

/// Locks `m`, also after a thread panicked holding it: the data is plain records, and
/// a partial report beats none.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Everything the report is made from.
pub struct Session {
    pub options: Options,
    started: Instant,
    pub tracer: Mutex<Option<Tracer>>,
    pub fanotify: Mutex<Option<fanotify::Watch>>,
    pub fanotify_status: Mutex<FanotifyStatus>,
    pub warnings: Mutex<Vec<String>>,
    pub errors: Mutex<Vec<String>>,
    writing: Mutex<()>,
}

impl Session {
    pub fn new(options: Options) -> Self {
        Session {
            options,
            started: Instant::now(),
            tracer: Mutex::new(None),
            fanotify: Mutex::new(None),
            fanotify_status: Mutex::new(FanotifyStatus::Off),
            warnings: Mutex::new(Vec::new()),
            errors: Mutex::new(Vec::new()),
            writing: Mutex::new(()),
        }
    }

    pub fn warn(&self, message: String) {
        lock(&self.warnings).push(message);
    }

    /// Records a failure to start the app, writes the report, and returns `status`.
    pub fn fail(&self, status: i32, message: String) -> i32 {
        eprintln!("pare-sensor: {message}");
        lock(&self.errors).push(message);
        self.write(true);
        status
    }

    /// The syscalls the seccomp filter lets through without a stop.
    pub fn untraced(&self) -> &'static [Sysno] {
        if self.options.mode == Mode::Seccomp && !self.options.exact_syscalls {
            seccomp::UNTRACED
        } else {
            &[]
        }
    }

    /// Writes the report now; a failure is printed, not fatal (the next write may work).
    pub fn write(&self, complete: bool) {
        let _one_writer = lock(&self.writing);
        let report = self.snapshot(complete);
        if let Err(e) = output::write_report(&self.options.out, &report) {
            eprintln!("pare-sensor: {e:#}");
        }
    }

    fn snapshot(&self, complete: bool) -> SensorReport {
        let mut fanotify = lock(&self.fanotify);
        if let Some(watch) = fanotify.as_mut() {
            watch.drain();
        }
        let mut report = SensorReport {
            version: REPORT_VERSION,
            complete,
            command: self.options.command.clone(),
            fanotify_status: match fanotify.as_ref() {
                Some(watch) => watch.status(),
                None => lock(&self.fanotify_status).clone(),
            },
            stats: TraceStats {
                mode: self.options.mode.name().into(),
                pin: self.options.pin.name().into(),
                elapsed_ms: self.started.elapsed().as_millis() as u64,
                ..Default::default()
            },
            warnings: lock(&self.warnings).clone(),
            errors: lock(&self.errors).clone(),
            ..Default::default()
        };
        if let Some(tracer) = lock(&self.tracer).as_ref() {
            report.app = tracer.identity.clone();
            report.exit = tracer.app_exit.clone();
            report.files = tracer.recorder.files();
            report.syscalls = tracer.recorder.syscall_names(self.untraced());
            report.warnings.extend(tracer.recorder.warnings());
            let c = tracer.counters;
            report.stats.processes = c.processes;
            report.stats.threads = c.threads;
            report.stats.syscalls_traced = c.syscalls;
            report.stats.file_syscalls = c.file_syscalls;
            report.stats.ptrace_stops = c.stops;
            if let Some(watch) = fanotify.as_ref() {
                report.fanotify = watch.accesses(tracer.traced_pids());
                report.stats.fanotify_events = watch.event_count;
            }
        }
        report
    }
}
