//! Starting the app: fork, seize the child before it does anything, then let it set
//! itself up (seccomp filter, user, capabilities) and exec.
//!
//! The child waits on a pipe until the parent has seized it, so not one of its syscalls
//! escapes the tracer and a SECCOMP_RET_TRACE never fires without a tracer (which would
//! fail the call with ENOSYS). A failure in the child before exec is sent back through
//! a close-on-exec pipe: EOF means the exec worked.

use std::ffi::CString;
use std::os::fd::{AsRawFd, OwnedFd};

use anyhow::{Context, bail};
use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sched::CpuSet;
use nix::sys::signal::{Signal, kill};
use nix::unistd::{ForkResult, Pid};

use crate::privileges::{self, Plan, Step};
use crate::{ptrace, seccomp, signals};

/// Everything the child needs, prepared before fork.
pub struct Launch {
    /// The resolved program (what execve gets).
    pub program: CString,
    pub argv: Vec<CString>,
    pub env: Vec<CString>,
    pub plan: Plan,
    /// Mount points to take out of the app's view (in a mount namespace of its own),
    /// deepest first.
    pub hide: Vec<CString>,
    /// Directories then covered with an empty read-only tmpfs, so the app finds
    /// nothing there and can write nothing there.
    pub cover: Vec<CString>,
    /// The filter refusing the app what the container allows only for the sensor.
    pub deny: Option<Vec<libc::sock_filter>>,
    /// The seccomp filter to install (seccomp mode).
    pub filter: Option<Vec<libc::sock_filter>>,
    /// CPUs the app may use, when they differ from the sensor's.
    pub cpus: Option<CpuSet>,
}

/// The started, seized app.
pub struct Child {
    pub pid: Pid,
    failure: OwnedFd,
}

/// The stage at which the child failed before exec.
const STAGES: [&str; 11] = [
    "installing the seccomp filter",
    "dropping CAP_SYS_PTRACE/CAP_SYS_ADMIN from the bounding set",
    "setting supplementary groups",
    "setting the gid",
    "setting the uid",
    "dropping capabilities",
    "setting no_new_privs",
    "executing the program",
    "making a mount namespace for the app (needs CAP_SYS_ADMIN)",
    "unmounting pare's directories in the app's mount namespace",
    "installing the filter that refuses the sensor's syscalls to the app",
];
const EXEC_STAGE: u8 = 7;
const NAMESPACE_STAGE: u8 = 8;
const UNMOUNT_STAGE: u8 = 9;
const DENY_STAGE: u8 = 10;

fn stage_of(step: Step) -> u8 {
    match step {
        Step::Bounding => 1,
        Step::Groups => 2,
        Step::Gid => 3,
        Step::Uid => 4,
        Step::Capabilities => 5,
        Step::NoNewPrivs => 6,
    }
}

/// Forks and seizes the app. The caller then runs the trace loop.
pub fn start(launch: &Launch, options: libc::c_int) -> anyhow::Result<Child> {
    let (go_read, go_write) = nix::unistd::pipe2(OFlag::O_CLOEXEC).context("creating a pipe")?;
    let (fail_read, fail_write) =
        nix::unistd::pipe2(OFlag::O_CLOEXEC).context("creating a pipe")?;
    let argv = null_terminated(&launch.argv);
    let env = null_terminated(&launch.env);
    // SAFETY: the sensor is single-threaded, so the child may run any code.
    match unsafe { nix::unistd::fork() }.context("fork")? {
        ForkResult::Child => {
            drop(go_write);
            drop(fail_read);
            child(launch, &argv, &env, go_read, fail_write)
        }
        ForkResult::Parent { child } => {
            drop(go_read);
            drop(fail_write);
            if let Err(e) = ptrace::seize(child, options) {
                let _ = kill(child, Signal::SIGKILL);
                let _ = nix::sys::wait::waitpid(child, None);
                bail!(
                    "cannot trace the app (PTRACE_SEIZE: {e}); run the container with --cap-add SYS_PTRACE"
                );
            }
            nix::unistd::write(&go_write, &[1]).context("starting the app")?;
            Ok(Child {
                pid: child,
                failure: fail_read,
            })
        }
    }
}

impl Child {
    /// Why the child never became the app, if it did not; call after it exited.
    pub fn launch_failure(&self, program: &str) -> Option<String> {
        let mut buf = [0u8; 5];
        let n = nix::unistd::read(&self.failure, &mut buf).ok()?;
        if n != buf.len() {
            return None;
        }
        let stage = STAGES
            .get(buf[0] as usize)
            .copied()
            .unwrap_or("starting the app");
        let errno = Errno::from_raw(i32::from_ne_bytes([buf[1], buf[2], buf[3], buf[4]]));
        Some(format!("{program}: {stage} failed: {errno}"))
    }
}

fn null_terminated(strings: &[CString]) -> Vec<*const libc::c_char> {
    strings
        .iter()
        .map(|s| s.as_ptr())
        .chain(std::iter::once(std::ptr::null()))
        .collect()
}

/// The child's side; never returns.
fn child(
    launch: &Launch,
    argv: &[*const libc::c_char],
    env: &[*const libc::c_char],
    go: OwnedFd,
    fail: OwnedFd,
) -> ! {
    signals::reset_for_exec();
    let mut byte = [0u8];
    loop {
        match nix::unistd::read(&go, &mut byte) {
            Ok(1) => break,
            Err(Errno::EINTR) => continue,
            // The sensor died before seizing us: do not run the app untraced.
            _ => exit_child(125),
        }
    }
    drop(go);
    if let Some(cpus) = &launch.cpus {
        let _ = nix::sched::sched_setaffinity(Pid::from_raw(0), cpus);
    }
    if (!launch.hide.is_empty() || !launch.cover.is_empty())
        && let Err((stage, e)) = hide_mounts(&launch.hide, &launch.cover)
    {
        fail_child(&fail, stage, e, 125);
    }
    if launch.plan.no_new_privs
        && let Err(e) = privileges::set_no_new_privs()
    {
        fail_child(&fail, stage_of(Step::NoNewPrivs), e, 125);
    }
    if let Some(deny) = &launch.deny
        && let Err(e) = seccomp::install(deny)
    {
        fail_child(&fail, DENY_STAGE, e, 125);
    }
    if let Some(filter) = &launch.filter
        && let Err(e) = seccomp::install(filter)
    {
        fail_child(&fail, 0, e, 125);
    }
    if let Err((step, e)) = privileges::apply(&launch.plan) {
        fail_child(&fail, stage_of(step), e, 125);
    }
    // SAFETY: NUL-terminated arrays of pointers into CStrings that outlive the call.
    unsafe { libc::execve(launch.program.as_ptr(), argv.as_ptr(), env.as_ptr()) };
    let e = Errno::last();
    let status = if e == Errno::ENOENT { 127 } else { 126 };
    fail_child(&fail, EXEC_STAGE, e, status)
}

/// Gives the child a mount namespace of its own in which `mounts` (deepest first) are
/// gone and the `cover` directories are empty and read-only. Propagation is made
/// private first, so the changes stay in this namespace and the sensor keeps its view.
fn hide_mounts(mounts: &[CString], cover: &[CString]) -> Result<(), (u8, Errno)> {
    nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNS).map_err(|e| (NAMESPACE_STAGE, e))?;
    nix::mount::mount(
        None::<&str>,
        "/",
        None::<&str>,
        nix::mount::MsFlags::MS_REC | nix::mount::MsFlags::MS_PRIVATE,
        None::<&str>,
    )
    .map_err(|e| (NAMESPACE_STAGE, e))?;
    for mount in mounts {
        nix::mount::umount2(mount.as_c_str(), nix::mount::MntFlags::MNT_DETACH)
            .map_err(|e| (UNMOUNT_STAGE, e))?;
    }
    use nix::mount::MsFlags;
    for dir in cover {
        nix::mount::mount(
            Some("tmpfs"),
            dir.as_c_str(),
            Some("tmpfs"),
            MsFlags::MS_RDONLY | MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
            Some("size=4k,mode=0555"),
        )
        .map_err(|e| (UNMOUNT_STAGE, e))?;
    }
    Ok(())
}

fn fail_child(fail: &OwnedFd, stage: u8, errno: Errno, status: i32) -> ! {
    let mut msg = [stage, 0, 0, 0, 0];
    msg[1..].copy_from_slice(&(errno as i32).to_ne_bytes());
    // SAFETY: write of a local buffer to a descriptor we own.
    unsafe { libc::write(fail.as_raw_fd(), msg.as_ptr().cast(), msg.len()) };
    exit_child(status)
}

fn exit_child(status: i32) -> ! {
    // SAFETY: _exit skips the parent's atexit handlers and buffers, as a forked child must.
    unsafe { libc::_exit(status) }
}
