//! The few ptrace requests the tracer makes, and wait statuses decoded into stops.
//!
//! Raw libc calls rather than nix's wrappers because nix models signals as an enum
//! without the realtime ones: a tracee stopped by SIGRTMIN (glibc's thread
//! cancellation) or SIGRTMIN+1 (setxid broadcast) would be undecodable, and such
//! signals must be re-injected exactly.

use nix::errno::Errno;
use nix::unistd::Pid;

/// ptrace options: follow every new task and exec, kill tracees if the sensor dies,
/// mark syscall stops, and (seccomp mode) stop on SECCOMP_RET_TRACE.
pub fn options(seccomp: bool) -> libc::c_int {
    let mut o = libc::PTRACE_O_TRACESYSGOOD
        | libc::PTRACE_O_TRACEFORK
        | libc::PTRACE_O_TRACEVFORK
        | libc::PTRACE_O_TRACECLONE
        | libc::PTRACE_O_TRACEEXEC
        | libc::PTRACE_O_EXITKILL;
    if seccomp {
        o |= libc::PTRACE_O_TRACESECCOMP;
    }
    o
}

fn request(req: libc::c_uint, pid: Pid, addr: usize, data: usize) -> Result<libc::c_long, Errno> {
    // SAFETY: the requests used here take integers or a pointer to a buffer we own
    // (GETEVENTMSG), never memory the kernel keeps.
    Errno::result(unsafe { libc::ptrace(req, pid.as_raw(), addr, data) })
}

/// Attaches to `pid` without stopping it.
pub fn seize(pid: Pid, options: libc::c_int) -> Result<(), Errno> {
    request(libc::PTRACE_SEIZE, pid, 0, options as usize).map(drop)
}

/// Resumes, stopping at the next seccomp event (or not at all for syscalls).
pub fn cont(pid: Pid, signal: i32) -> Result<(), Errno> {
    request(libc::PTRACE_CONT, pid, 0, signal as usize).map(drop)
}

/// Resumes, stopping at the next syscall entry or exit.
pub fn syscall(pid: Pid, signal: i32) -> Result<(), Errno> {
    request(libc::PTRACE_SYSCALL, pid, 0, signal as usize).map(drop)
}

/// Leaves a group-stopped tracee stopped, but lets it report SIGCONT.
pub fn listen(pid: Pid) -> Result<(), Errno> {
    request(libc::PTRACE_LISTEN, pid, 0, 0).map(drop)
}

/// The message of the last event stop (new pid for fork/clone, former tid for exec).
pub fn event_msg(pid: Pid) -> Result<u64, Errno> {
    let mut msg: libc::c_ulong = 0;
    request(
        libc::PTRACE_GETEVENTMSG,
        pid,
        0,
        &mut msg as *mut libc::c_ulong as usize,
    )?;
    Ok(msg as u64)
}

/// What a syscall stop tells.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyscallInfo {
    /// Entering a syscall (PTRACE_SYSCALL entry, or the seccomp stop).
    Entry { arch: u32, nr: u64, args: [u64; 6] },
    /// Leaving it with this return value.
    Exit { value: i64, is_error: bool },
    /// Not a syscall stop.
    None,
}

/// PTRACE_GET_SYSCALL_INFO (Linux 5.3): arguments at entry, the result at exit.
pub fn syscall_info(pid: Pid) -> Result<SyscallInfo, Errno> {
    let info = nix::sys::ptrace::syscall_info(pid)?;
    // SAFETY: `op` says which member of the union the kernel filled.
    Ok(unsafe {
        match info.op {
            libc::PTRACE_SYSCALL_INFO_ENTRY => SyscallInfo::Entry {
                arch: info.arch,
                nr: info.u.entry.nr,
                args: info.u.entry.args,
            },
            libc::PTRACE_SYSCALL_INFO_SECCOMP => SyscallInfo::Entry {
                arch: info.arch,
                nr: info.u.seccomp.nr,
                args: info.u.seccomp.args,
            },
            libc::PTRACE_SYSCALL_INFO_EXIT => SyscallInfo::Exit {
                value: info.u.exit.sval,
                is_error: info.u.exit.is_error != 0,
            },
            _ => SyscallInfo::None,
        }
    })
}

/// A wait status, decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    Exited(Pid, i32),
    Killed(Pid, i32),
    /// Syscall entry or exit (PTRACE_O_TRACESYSGOOD).
    Syscall(Pid),
    /// PTRACE_EVENT_* with the stop signal.
    Event(Pid, i32, i32),
    /// Signal-delivery-stop: the signal is re-injected on resume (or suppressed).
    Signal(Pid, i32),
    /// Anything else (continued, unknown).
    Other(Pid),
}

/// Decodes `status` from waitpid for `pid`.
pub fn decode(pid: Pid, status: libc::c_int) -> Stop {
    if libc::WIFEXITED(status) {
        Stop::Exited(pid, libc::WEXITSTATUS(status))
    } else if libc::WIFSIGNALED(status) {
        Stop::Killed(pid, libc::WTERMSIG(status))
    } else if libc::WIFSTOPPED(status) {
        let sig = libc::WSTOPSIG(status);
        let event = status >> 16;
        if sig == libc::SIGTRAP | 0x80 {
            Stop::Syscall(pid)
        } else if event != 0 {
            Stop::Event(pid, sig, event)
        } else {
            Stop::Signal(pid, sig)
        }
    } else {
        Stop::Other(pid)
    }
}

/// Waits for the next stop or exit of any child or tracee (traced or not: orphans
/// re-parented to PID 1 are reaped here too).
pub fn wait_any() -> Result<Stop, Errno> {
    let mut status = 0;
    loop {
        // SAFETY: plain waitpid with a status out-parameter we own.
        match Errno::result(unsafe { libc::waitpid(-1, &mut status, libc::__WALL) }) {
            Ok(pid) => return Ok(decode(Pid::from_raw(pid), status)),
            Err(Errno::EINTR) => {}
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_the_kinds_of_stop() {
        let p = Pid::from_raw(7);
        assert_eq!(decode(p, 3 << 8), Stop::Exited(p, 3));
        assert_eq!(decode(p, libc::SIGKILL), Stop::Killed(p, libc::SIGKILL));
        assert_eq!(
            decode(p, ((libc::SIGTRAP | 0x80) << 8) | 0x7f),
            Stop::Syscall(p)
        );
        let seccomp = (libc::PTRACE_EVENT_SECCOMP << 16) | (libc::SIGTRAP << 8) | 0x7f;
        assert_eq!(
            decode(p, seccomp),
            Stop::Event(p, libc::SIGTRAP, libc::PTRACE_EVENT_SECCOMP)
        );
        let rt = libc::SIGRTMIN() + 1;
        assert_eq!(decode(p, (rt << 8) | 0x7f), Stop::Signal(p, rt));
    }
}
