//! The ptrace side: one state machine fed every wait status of the traced tree.
//!
//! Each task (thread) is either running or stopped; a stopped task is handled and
//! resumed at once. A file syscall's paths are read at entry (the memory and the cwd
//! are as the call sees them) and recorded at exit with the result, so a task with a
//! call in flight is resumed with PTRACE_SYSCALL to get that exit stop; in seccomp mode
//! every other task is resumed with PTRACE_CONT and stops again only at the next
//! SECCOMP_RET_TRACE.

use std::collections::{HashMap, HashSet};

use nix::unistd::Pid;
use pare_sensor::{AppExit, AppIdentity, Op};
use syscalls::Sysno;

use crate::cli::Mode;
use crate::named::{self, Named};
use crate::ptrace::{self, Stop, SyscallInfo};
use crate::recorder::{Outcome, Recorder};
use crate::{file_syscalls, procfs, signals};

const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
/// ERESTARTSYS … ERESTART_RESTARTBLOCK: the call is restarted and will be seen again.
const RESTART_ERRNOS: std::ops::RangeInclusive<i64> = 512..=516;

#[derive(Default)]
struct Task {
    /// Has reported its first stop (new tasks start with a PTRACE_EVENT_STOP that is not
    /// a job-control stop).
    started: bool,
    /// Paths of the file syscall in flight, recorded at its exit.
    pending: Option<Vec<Named>>,
}

/// Counters for [`pare_sensor::TraceStats`].
#[derive(Clone, Copy, Debug, Default)]
pub struct Counters {
    pub processes: u64,
    pub threads: u64,
    pub syscalls: u64,
    pub file_syscalls: u64,
    pub stops: u64,
}

/// The traced tree and what it did.
pub struct Tracer {
    mode: Mode,
    app: Pid,
    program: String,
    app_started: bool,
    tasks: HashMap<Pid, Task>,
    tgids: HashSet<i32>,
    warned_arch: bool,
    pub recorder: Recorder,
    pub identity: Option<AppIdentity>,
    pub app_exit: Option<AppExit>,
    pub counters: Counters,
}

impl Tracer {
    /// Starts tracking `app`, seized and about to exec `program` (absolute).
    pub fn new(mode: Mode, app: Pid, program: String) -> Tracer {
        let mut tasks = HashMap::new();
        tasks.insert(
            app,
            Task {
                started: true,
                pending: None,
            },
        );
        Tracer {
            mode,
            app,
            program,
            app_started: false,
            tasks,
            tgids: HashSet::from([app.as_raw()]),
            warned_arch: false,
            recorder: Recorder::default(),
            identity: None,
            app_exit: None,
            counters: Counters {
                processes: 1,
                ..Default::default()
            },
        }
    }

    /// Every process (thread group) traced so far.
    pub fn traced_pids(&self) -> &HashSet<i32> {
        &self.tgids
    }

    /// Handles one wait status: records what the stop shows and resumes the task.
    pub fn handle(&mut self, stop: Stop) {
        match stop {
            Stop::Exited(pid, code) => self.gone(pid, AppExit::Code(code)),
            Stop::Killed(pid, sig) => self.gone(
                pid,
                AppExit::Signal {
                    number: sig,
                    name: signals::name(sig),
                },
            ),
            Stop::Syscall(pid) => {
                self.counters.stops += 1;
                self.on_syscall_stop(pid);
                self.resume(pid, 0);
            }
            Stop::Event(pid, sig, event) => {
                self.counters.stops += 1;
                self.on_event(pid, sig, event);
            }
            Stop::Signal(pid, sig) => {
                self.counters.stops += 1;
                self.tasks.entry(pid).or_default().started = true;
                self.resume(pid, sig);
            }
            Stop::Other(_) => {}
        }
    }

    fn on_event(&mut self, pid: Pid, sig: i32, event: i32) {
        match event {
            libc::PTRACE_EVENT_SECCOMP => self.on_syscall_stop(pid),
            libc::PTRACE_EVENT_FORK | libc::PTRACE_EVENT_VFORK | libc::PTRACE_EVENT_CLONE => {
                if let Ok(new) = ptrace::event_msg(pid) {
                    self.on_new_task(Pid::from_raw(new as i32), event == libc::PTRACE_EVENT_CLONE);
                }
            }
            libc::PTRACE_EVENT_EXEC => self.on_exec(pid),
            libc::PTRACE_EVENT_STOP => {
                let task = self.tasks.entry(pid).or_default();
                if !task.started {
                    task.started = true;
                } else if matches!(
                    sig,
                    libc::SIGSTOP | libc::SIGTSTP | libc::SIGTTIN | libc::SIGTTOU
                ) {
                    // A job-control stop: stay stopped until SIGCONT, as without ptrace.
                    let _ = ptrace::listen(pid);
                    return;
                }
            }
            _ => {}
        }
        self.resume(pid, 0);
    }

    fn on_new_task(&mut self, new: Pid, by_clone: bool) {
        self.tasks.entry(new).or_default();
        let is_thread = by_clone && procfs::tgid(new).is_some_and(|tgid| tgid != new.as_raw());
        if is_thread {
            self.counters.threads += 1;
        } else {
            self.counters.processes += 1;
            self.tgids.insert(new.as_raw());
        }
    }

    /// After an exec by a non-leader thread the kernel gives it the leader's tid; the
    /// call in flight moves with it.
    fn on_exec(&mut self, pid: Pid) {
        if let Ok(former) = ptrace::event_msg(pid).map(|t| Pid::from_raw(t as i32))
            && former != pid
            && let Some(task) = self.tasks.remove(&former)
        {
            self.tasks.insert(pid, task);
        }
        if pid == self.app && !self.app_started {
            // From here on the syscalls are the app's, not the sensor's set-up in the
            // child (seccomp, setuid, capset). The first execve was resolved by us.
            self.app_started = true;
            self.identity = procfs::identity(pid, &self.program);
            self.recorder.file(&self.program, Op::Exec, Outcome::Ok);
            self.recorder.syscall(Sysno::execve.id() as u64);
        }
    }

    fn on_syscall_stop(&mut self, pid: Pid) {
        match ptrace::syscall_info(pid) {
            Ok(SyscallInfo::Entry { arch, nr, args }) => self.on_entry(pid, arch, nr, &args),
            Ok(SyscallInfo::Exit { value, is_error }) => self.on_exit(pid, value, is_error),
            Ok(SyscallInfo::None) | Err(_) => {}
        }
    }

    fn on_entry(&mut self, pid: Pid, arch: u32, nr: u64, args: &[u64; 6]) {
        if !self.app_started {
            return;
        }
        if arch != AUDIT_ARCH_X86_64 {
            if !self.warned_arch {
                self.warned_arch = true;
                self.recorder.warn(format!(
                    "pid {pid} made syscalls of another ABI (audit arch {arch:#x}, e.g. 32-bit); their paths and names are not recorded"
                ));
            }
            return;
        }
        self.counters.syscalls += 1;
        self.recorder.syscall(nr);
        let Some(sysno) = Sysno::new(nr as usize) else {
            return;
        };
        let Some(spec) = file_syscalls::lookup(sysno) else {
            return;
        };
        self.counters.file_syscalls += 1;
        let recorder = &mut self.recorder;
        let paths = named::read(pid, sysno.name(), &spec, args, &mut |w| recorder.warn(w));
        for link in &paths.links {
            recorder.file(link, Op::Lookup, Outcome::Ok);
        }
        if !paths.named.is_empty() {
            self.tasks.entry(pid).or_default().pending = Some(paths.named);
        }
    }

    fn on_exit(&mut self, pid: Pid, value: i64, is_error: bool) {
        let Some(named) = self.tasks.get_mut(&pid).and_then(|t| t.pending.take()) else {
            return;
        };
        if is_error && RESTART_ERRNOS.contains(&-value) {
            return;
        }
        let outcome = if is_error {
            Outcome::Failed(-value as i32)
        } else {
            Outcome::Ok
        };
        for n in named {
            self.recorder.file(&n.path, n.op, outcome);
        }
    }

    fn gone(&mut self, pid: Pid, how: AppExit) {
        if let Some(named) = self.tasks.remove(&pid).and_then(|t| t.pending) {
            for n in named {
                self.recorder.file(&n.path, n.op, Outcome::Unfinished);
            }
        }
        if pid == self.app {
            self.app_exit = Some(how);
        }
    }

    fn resume(&mut self, pid: Pid, signal: i32) {
        let in_flight = self.tasks.get(&pid).is_some_and(|t| t.pending.is_some());
        // ESRCH: the task was killed meanwhile; its exit status follows.
        let _ = if self.mode == Mode::Syscall || in_flight {
            ptrace::syscall(pid, signal)
        } else {
            ptrace::cont(pid, signal)
        };
    }
}
