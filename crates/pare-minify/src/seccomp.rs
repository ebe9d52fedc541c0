//! The seccomp profiles of a build. The traced container runs under Docker's default
//! profile as it applies to the app (not relaxed by the capabilities the sensor
//! needs), plus the few syscalls the sensor itself makes, which the sensor refuses the
//! app again with a filter of its own. The slim image gets Docker's default profile
//! narrowed to exactly the syscalls the app was seen to use, plus what the runtime
//! needs between installing the filter and handing over to the app (runc applies the
//! profile before its final execve); a syscall list can only narrow it.

use std::collections::BTreeSet;

use pare_runtime::seccomp::{Host, Profile, app_caps};

/// What the sensor does beyond the app: watch the filesystem (fanotify_init), and give
/// the app a mount namespace without pare's directories (unshare, mount, umount2).
const SENSOR_SYSCALLS: [&str; 4] = ["fanotify_init", "unshare", "mount", "umount2"];

/// The capabilities of the traced container beyond the app's: ptrace for the sensor
/// (CAP_SYS_ADMIN, for fanotify and the mount namespace, is added to the container
/// too, but the profile is resolved without it so it does not relax the profile).
const SENSOR_CAPS: [&str; 1] = ["CAP_SYS_PTRACE"];

/// The profiles of the traced container.
pub struct Containment {
    /// The container's: Docker's default for the sensor's capabilities, plus
    /// [`SENSOR_SYSCALLS`].
    pub container: Profile,
    /// What the container allows and the app may not have: the sensor's
    /// `--deny-syscalls`.
    pub deny_for_app: Vec<String>,
}

/// Docker's default profile for the app's capabilities on this machine.
pub fn app_profile() -> Profile {
    Profile::docker_default(&app_caps(), &Host::current())
}

/// The traced container's profile and what the sensor must take away from the app.
pub fn containment() -> Containment {
    let host = Host::current();
    let mut caps = app_caps();
    caps.extend(SENSOR_CAPS.iter().map(|c| (*c).to_owned()));
    let mut container = Profile::docker_default(&caps, &host);
    container.allow(&SENSOR_SYSCALLS);
    let app = Profile::docker_default(&app_caps(), &host).allowed_names();
    let deny_for_app = container
        .allowed_names()
        .into_iter()
        .filter(|n| !app.contains(n))
        .collect();
    Containment {
        container,
        deny_for_app,
    }
}

/// Syscalls made after the filter is in place but before the app's code runs:
/// runc's last steps, execve, the dynamic loader and libc start-up, and signal
/// handling the engine relies on to stop the container. runc installs the filter
/// before it switches user (unless no_new_privs is set) and then hands the stdio pipes
/// to that user with fchown: without it a non-root nginx cannot open /dev/stdout.
const RUNTIME_SYSCALLS: &[&str] = &[
    "access",
    "arch_prctl",
    "brk",
    "capget",
    "capset",
    "chdir",
    "close",
    "close_range",
    "dup2",
    "dup3",
    "epoll_ctl",
    "epoll_pwait",
    "epoll_wait",
    "execve",
    "execveat",
    "exit",
    "exit_group",
    "faccessat",
    "faccessat2",
    "fchdir",
    "fchown",
    "fchownat",
    "fcntl",
    "fstat",
    "fstatfs",
    "futex",
    "getcwd",
    "getdents64",
    "getegid",
    "geteuid",
    "getgid",
    "getpid",
    "getppid",
    "getgroups",
    "getrandom",
    "gettid",
    "getuid",
    "ioctl",
    "lseek",
    "mmap",
    "mprotect",
    "munmap",
    "nanosleep",
    "newfstatat",
    "openat",
    "pread64",
    "prctl",
    "prlimit64",
    "read",
    "readlink",
    "readlinkat",
    "rseq",
    "rt_sigaction",
    "rt_sigprocmask",
    "rt_sigreturn",
    "sched_getaffinity",
    "sched_yield",
    "set_robust_list",
    "set_tid_address",
    "setgid",
    "setgroups",
    "setresgid",
    "setresuid",
    "setuid",
    "sigaltstack",
    "stat",
    "statfs",
    "statx",
    "tgkill",
    "uname",
    "wait4",
    "write",
];

/// The slim image's profile: Docker's default for the app, allowing only what the app
/// was seen to use and what the runtime needs.
pub fn profile(traced: &BTreeSet<String>) -> Profile {
    let names: BTreeSet<String> = traced
        .iter()
        .cloned()
        .chain(RUNTIME_SYSCALLS.iter().map(|s| (*s).to_owned()))
        .collect();
    app_profile().restricted_to(&names)
}

#[cfg(test)]
mod tests {
    #[test]
    fn includes_runtime_and_traced_but_nothing_docker_refuses() {
        let traced = [
            "accept4".to_owned(),
            "openat".to_owned(),
            "mount".to_owned(),
        ]
        .into();
        let names = super::profile(&traced).allowed_names();
        assert!(names.contains("accept4"));
        assert!(names.contains("close_range"));
        assert!(
            !names.contains("mount"),
            "a traced name cannot widen the profile"
        );
        assert!(!names.contains("listen"), "only what was traced");
    }

    #[test]
    fn the_sensor_gets_its_syscalls_and_the_app_loses_them() {
        let c = super::containment();
        let allowed = c.container.allowed_names();
        for name in ["fanotify_init", "unshare", "mount", "umount2", "ptrace"] {
            assert!(allowed.contains(name), "{name}");
        }
        for name in ["fanotify_init", "unshare", "mount", "umount2", "kcmp"] {
            assert!(c.deny_for_app.iter().any(|d| d == name), "{name}");
        }
        // What Docker allows the app stays allowed.
        assert!(
            !c.deny_for_app
                .iter()
                .any(|d| d == "ptrace" || d == "openat")
        );
        // Never in the container at all.
        for name in ["keyctl", "add_key", "bpf", "io_uring_setup", "setns"] {
            assert!(!allowed.contains(name), "{name}");
        }
    }
}
