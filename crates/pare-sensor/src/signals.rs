//! The signals the sensor receives as PID 1: which it forwards to the app, which it
//! keeps (the flush signal), and a signalfd to read them from the control thread.
//!
//! Signals are blocked in every thread and read from a signalfd rather than caught by
//! handlers: the control thread polls the signalfd together with fanotify, so a signal
//! is forwarded at once whatever the tracer is doing, and a blocked signal is never
//! dropped by the kernel's "PID 1 ignores signals it has no handler for" rule. SIGCHLD
//! is not taken: the tracer thread learns about its children from a blocking waitpid.

use std::os::fd::{AsFd, BorrowedFd, FromRawFd, OwnedFd};

use nix::errno::Errno;
use nix::unistd::Pid;

use pare_sensor::FLUSH_SIGNAL_OFFSET;

/// The signal that asks for a report and is not forwarded (SIGRTMIN+4).
pub fn flush_signal() -> i32 {
    libc::SIGRTMIN() + FLUSH_SIGNAL_OFFSET
}

/// Signals left alone: uncatchable ones, faults that must kill the sensor if it has a
/// bug (blocking them would hide it), SIGPIPE (the sensor ignores it, as Rust does),
/// SIGCHLD, and the two realtime signals glibc keeps for itself.
fn is_kept_default(sig: i32) -> bool {
    matches!(
        sig,
        libc::SIGCHLD
            | libc::SIGKILL
            | libc::SIGSTOP
            | libc::SIGSEGV
            | libc::SIGBUS
            | libc::SIGILL
            | libc::SIGFPE
            | libc::SIGTRAP
            | libc::SIGSYS
            | libc::SIGPIPE
    ) || (libc::SIGRTMIN() > 32 && (32..libc::SIGRTMIN()).contains(&sig))
}

/// Signals the sensor reads from its signalfd.
fn handled() -> impl Iterator<Item = i32> {
    (1..=libc::SIGRTMAX()).filter(|s| !is_kept_default(*s))
}

/// Whether a received signal goes on to the app.
pub fn is_forwarded(sig: i32) -> bool {
    sig != flush_signal() && !is_kept_default(sig)
}

/// Signals that usually end the app: after forwarding one, the sensor also writes a
/// report, in case the app does not exit before `docker stop` sends SIGKILL.
pub fn is_stop_request(sig: i32) -> bool {
    matches!(
        sig,
        libc::SIGTERM | libc::SIGINT | libc::SIGQUIT | libc::SIGPWR
    )
}

/// `SIGTERM`, `SIGRTMIN+4`, …
pub fn name(sig: i32) -> String {
    let (min, max) = (libc::SIGRTMIN(), libc::SIGRTMAX());
    if (min..=max).contains(&sig) {
        return if sig == min {
            "SIGRTMIN".into()
        } else {
            format!("SIGRTMIN+{}", sig - min)
        };
    }
    match nix::sys::signal::Signal::try_from(sig) {
        Ok(s) => s.as_str().to_owned(),
        Err(_) => format!("SIG{sig}"),
    }
}

fn sigset(signals: impl Iterator<Item = i32>) -> libc::sigset_t {
    // SAFETY: sigemptyset initialises the set; sigaddset with valid numbers.
    unsafe {
        let mut set = std::mem::zeroed::<libc::sigset_t>();
        libc::sigemptyset(&mut set);
        for s in signals {
            libc::sigaddset(&mut set, s);
        }
        set
    }
}

/// The blocked signals and the signalfd that receives them.
pub struct Inbox {
    fd: OwnedFd,
}

impl Inbox {
    /// Blocks every handled signal (threads started later inherit the mask) and opens a
    /// non-blocking signalfd for them.
    pub fn install() -> Result<Inbox, Errno> {
        let set = sigset(handled());
        // SAFETY: a valid set; the old mask is not needed.
        Errno::result(unsafe { libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) })?;
        // SAFETY: a valid set; the returned fd is owned below.
        let fd = Errno::result(unsafe {
            libc::signalfd(-1, &set, libc::SFD_NONBLOCK | libc::SFD_CLOEXEC)
        })?;
        // SAFETY: signalfd returned a new descriptor we own.
        Ok(Inbox {
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
        })
    }

    /// Every signal received since the last call, in order.
    pub fn drain(&self) -> Vec<i32> {
        // struct signalfd_siginfo: ssi_signo first, 128 bytes in all.
        const SIZE: usize = std::mem::size_of::<libc::signalfd_siginfo>();
        let mut out = Vec::new();
        let mut buf = [0u8; 16 * SIZE];
        while let Ok(n) = nix::unistd::read(&self.fd, &mut buf) {
            if n == 0 {
                break;
            }
            out.extend(
                buf[..n]
                    .chunks_exact(SIZE)
                    .map(|info| i32::from_ne_bytes([info[0], info[1], info[2], info[3]])),
            );
        }
        out
    }
}

impl AsFd for Inbox {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// In the forked child before exec: unblock everything and restore default handlers
/// (Rust's runtime set SIGPIPE to ignored, which exec would otherwise pass on).
pub fn reset_for_exec() {
    // SAFETY: only async-signal-safe calls, in the single-threaded child.
    unsafe {
        let empty = sigset(std::iter::empty());
        libc::sigprocmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut());
        for sig in 1..=libc::SIGRTMAX() {
            if sig != libc::SIGKILL && sig != libc::SIGSTOP {
                libc::signal(sig, libc::SIG_DFL);
            }
        }
    }
}

/// Sends `sig` to the app's first process.
pub fn forward(app: Pid, sig: i32) -> Result<(), Errno> {
    // SAFETY: kill with a pid and a signal number.
    Errno::result(unsafe { libc::kill(app.as_raw(), sig) }).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_forwarded() {
        for sig in [
            libc::SIGTERM,
            libc::SIGINT,
            libc::SIGQUIT,
            libc::SIGHUP,
            libc::SIGUSR1,
            libc::SIGUSR2,
            libc::SIGWINCH,
            libc::SIGRTMIN(),
        ] {
            assert!(is_forwarded(sig), "{}", name(sig));
        }
        for sig in [
            libc::SIGCHLD,
            flush_signal(),
            libc::SIGKILL,
            libc::SIGSEGV,
            libc::SIGPIPE,
        ] {
            assert!(!is_forwarded(sig), "{}", name(sig));
        }
    }

    #[test]
    fn names() {
        assert_eq!(name(libc::SIGQUIT), "SIGQUIT");
        assert_eq!(name(flush_signal()), "SIGRTMIN+4");
        assert_eq!(
            flush_signal(),
            38,
            "glibc's SIGRTMIN is 34, Docker's RTMIN+4 is 38"
        );
    }
}
