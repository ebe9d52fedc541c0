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

/// Which profile the slim image gets (`--seccomp`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SeccompMode {
    /// Docker's default narrowed to the syscall families of which the app used a
    /// member (the default): a path the probes did not take may make a sibling call
    /// (`mkdirat` beside `openat`'s file creation, `sendfile` beside `write`).
    #[default]
    Families,
    /// Docker's default narrowed to exactly the calls the trace saw: the strictest,
    /// proven only on the probed paths.
    Learned,
    /// Docker's default profile as it is.
    DockerDefault,
}

impl SeccompMode {
    pub fn name(self) -> &'static str {
        match self {
            SeccompMode::Families => "syscall families the app used",
            SeccompMode::Learned => "only the syscalls the trace saw",
            SeccompMode::DockerDefault => "Docker's default",
        }
    }
}

/// Syscalls grouped by what an app does with them: an app that made one call of a
/// family can make the others on a path the probes did not take (a background
/// rewrite that makes a directory, a static file sent with `sendfile`, a timer
/// armed on a slow request). Docker's default profile still bounds every family.
pub const FAMILIES: &[(&str, &[&str])] = &[
    (
        "file read",
        &[
            "read",
            "readv",
            "pread64",
            "preadv",
            "preadv2",
            "lseek",
            "_llseek",
            "readahead",
            "open",
            "openat",
            "openat2",
            "close",
            "close_range",
            "fadvise64",
            "fadvise64_64",
        ],
    ),
    (
        "file write",
        &[
            "write",
            "writev",
            "pwrite64",
            "pwritev",
            "pwritev2",
            "fsync",
            "fdatasync",
            "sync_file_range",
            "syncfs",
            "sync",
            "ftruncate",
            "truncate",
            "fallocate",
            // A server that wrote a file's bytes itself on one path may hand the kernel
            // the copy on another (a static file, a large body).
            "sendfile",
            "sendfile64",
            "splice",
            "tee",
            "vmsplice",
            "copy_file_range",
        ],
    ),
    (
        "file creation",
        &[
            "creat",
            "mkdir",
            "mkdirat",
            "mknod",
            "mknodat",
            "rename",
            "renameat",
            "renameat2",
            "unlink",
            "unlinkat",
            "rmdir",
            "link",
            "linkat",
            "symlink",
            "symlinkat",
            "memfd_create",
        ],
    ),
    (
        "file metadata",
        &[
            "stat",
            "fstat",
            "lstat",
            "newfstatat",
            "fstatat64",
            "statx",
            "stat64",
            "fstat64",
            "lstat64",
            "access",
            "faccessat",
            "faccessat2",
            "readlink",
            "readlinkat",
            "getdents",
            "getdents64",
            "statfs",
            "fstatfs",
            "statfs64",
            "fstatfs64",
            "getcwd",
            "chdir",
            "fchdir",
            "umask",
        ],
    ),
    (
        "file attributes",
        &[
            "chmod",
            "fchmod",
            "fchmodat",
            "fchmodat2",
            "chown",
            "fchown",
            "lchown",
            "fchownat",
            "utime",
            "utimes",
            "utimensat",
            "futimesat",
            "getxattr",
            "lgetxattr",
            "fgetxattr",
            "setxattr",
            "lsetxattr",
            "fsetxattr",
            "listxattr",
            "llistxattr",
            "flistxattr",
            "removexattr",
            "lremovexattr",
            "fremovexattr",
        ],
    ),
    (
        "file locks and notes",
        &[
            "flock",
            "fcntl",
            "fcntl64",
            "inotify_init",
            "inotify_init1",
            "inotify_add_watch",
            "inotify_rm_watch",
        ],
    ),
    (
        "descriptors",
        &["dup", "dup2", "dup3", "pipe", "pipe2", "ioctl"],
    ),
    (
        "memory",
        &[
            "mmap",
            "mmap2",
            "munmap",
            "mprotect",
            "mremap",
            "madvise",
            "brk",
            "msync",
            "mincore",
            "mlock",
            "mlock2",
            "munlock",
            "mlockall",
            "munlockall",
            "membarrier",
            "pkey_alloc",
            "pkey_free",
            "pkey_mprotect",
        ],
    ),
    (
        "processes",
        &[
            "clone",
            "clone3",
            "fork",
            "vfork",
            "execve",
            "execveat",
            "wait4",
            "waitid",
            "exit",
            "exit_group",
            "kill",
            "tkill",
            "tgkill",
            "getpid",
            "getppid",
            "gettid",
            "setsid",
            "getsid",
            "setpgid",
            "getpgid",
            "getpgrp",
            "prctl",
            "prlimit64",
            "getrlimit",
            "setrlimit",
            "getrusage",
            "getpriority",
            "setpriority",
            "set_tid_address",
            "pidfd_open",
            "pidfd_send_signal",
            "pidfd_getfd",
        ],
    ),
    (
        "threads and scheduling",
        &[
            "futex",
            "futex_waitv",
            "set_robust_list",
            "get_robust_list",
            "rseq",
            "sched_yield",
            "sched_getaffinity",
            "sched_setaffinity",
            "sched_getparam",
            "sched_setparam",
            "sched_getscheduler",
            "sched_setscheduler",
            "sched_get_priority_max",
            "sched_get_priority_min",
            "sched_rr_get_interval",
            "sched_getattr",
            "sched_setattr",
            "arch_prctl",
            "set_thread_area",
            "get_thread_area",
        ],
    ),
    (
        "signals",
        &[
            "rt_sigaction",
            "rt_sigprocmask",
            "rt_sigreturn",
            "rt_sigsuspend",
            "rt_sigpending",
            "rt_sigtimedwait",
            "rt_sigqueueinfo",
            "rt_tgsigqueueinfo",
            "sigaltstack",
            "signalfd",
            "signalfd4",
            "pause",
            "alarm",
            "sigreturn",
            "sigaction",
            "sigprocmask",
        ],
    ),
    (
        "time",
        &[
            "clock_gettime",
            "clock_getres",
            "clock_nanosleep",
            "nanosleep",
            "gettimeofday",
            "time",
            "times",
            "timer_create",
            "timer_settime",
            "timer_gettime",
            "timer_getoverrun",
            "timer_delete",
            "timerfd_create",
            "timerfd_settime",
            "timerfd_gettime",
            "setitimer",
            "getitimer",
            "clock_gettime64",
            "clock_nanosleep_time64",
        ],
    ),
    (
        "waiting",
        &[
            "poll",
            "ppoll",
            "select",
            "pselect6",
            "_newselect",
            "epoll_create",
            "epoll_create1",
            "epoll_ctl",
            "epoll_wait",
            "epoll_pwait",
            "epoll_pwait2",
            "eventfd",
            "eventfd2",
        ],
    ),
    (
        "network",
        &[
            "socket",
            "socketpair",
            "connect",
            "accept",
            "accept4",
            "bind",
            "listen",
            "sendto",
            "recvfrom",
            "sendmsg",
            "recvmsg",
            "sendmmsg",
            "recvmmsg",
            "shutdown",
            "getsockname",
            "getpeername",
            "setsockopt",
            "getsockopt",
        ],
    ),
    (
        "identity",
        &[
            "getuid",
            "geteuid",
            "getgid",
            "getegid",
            "getgroups",
            "getresuid",
            "getresgid",
            "capget",
            "uname",
        ],
    ),
    (
        "changing identity",
        &[
            "setuid",
            "setgid",
            "setreuid",
            "setregid",
            "setresuid",
            "setresgid",
            "setgroups",
            "setfsuid",
            "setfsgid",
            "capset",
        ],
    ),
    ("randomness", &["getrandom"]),
    (
        "shared memory and queues",
        &[
            "shmget",
            "shmat",
            "shmdt",
            "shmctl",
            "semget",
            "semop",
            "semtimedop",
            "semctl",
            "msgget",
            "msgsnd",
            "msgrcv",
            "msgctl",
            "mq_open",
            "mq_unlink",
            "mq_timedsend",
            "mq_timedreceive",
            "mq_notify",
            "mq_getsetattr",
        ],
    ),
];

/// Families that one the app used brings along. An app that writes files can
/// already create and truncate them (`openat` with `O_CREAT`, a file-read member),
/// so making a directory, renaming or removing a file gives it no power it lacks; a
/// write path the probes did not take (the first note saved into a directory made on
/// demand, a cache rotated) needs them, and refusing them breaks it with EPERM.
pub const IMPLIED: &[(&str, &str)] = &[("file write", "file creation")];

/// The families `syscalls` touch, by name, with those they bring ([`IMPLIED`]).
pub fn families_of(syscalls: &BTreeSet<String>) -> Vec<&'static str> {
    let touched: BTreeSet<&str> = FAMILIES
        .iter()
        .filter(|(_, members)| members.iter().any(|m| syscalls.contains(*m)))
        .map(|(name, _)| *name)
        .collect();
    FAMILIES
        .iter()
        .map(|(name, _)| *name)
        .filter(|name| {
            touched.contains(name)
                || IMPLIED
                    .iter()
                    .any(|(family, brings)| brings == name && touched.contains(family))
        })
        .collect()
}

/// The slim image's profile: Docker's default for the app, allowing what `mode`
/// says of the syscalls the app was seen to use, and what the runtime needs.
pub fn profile(traced: &BTreeSet<String>, mode: SeccompMode) -> Profile {
    let mut names: BTreeSet<String> = traced
        .iter()
        .cloned()
        .chain(RUNTIME_SYSCALLS.iter().map(|s| (*s).to_owned()))
        .collect();
    match mode {
        SeccompMode::DockerDefault => return app_profile(),
        SeccompMode::Learned => {}
        SeccompMode::Families => {
            let allowed = families_of(&names);
            for (family, members) in FAMILIES {
                if allowed.contains(family) {
                    names.extend(members.iter().map(|m| (*m).to_owned()));
                }
            }
        }
    }
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
        let names = super::profile(&traced, super::SeccompMode::Learned).allowed_names();
        assert!(names.contains("accept4"));
        assert!(names.contains("close_range"));
        assert!(
            !names.contains("mount"),
            "a traced name cannot widen the profile"
        );
        assert!(!names.contains("listen"), "only what was traced");
    }

    #[test]
    fn a_family_member_allows_its_siblings_and_nothing_docker_refuses() {
        let traced = ["openat".to_owned(), "write".to_owned(), "unlink".to_owned()].into();
        let names = super::profile(&traced, super::SeccompMode::Families).allowed_names();
        for name in ["sendfile", "mkdirat", "renameat2", "pwrite64", "fsync"] {
            assert!(names.contains(name), "{name}");
        }
        assert!(!names.contains("listen"), "no network call was made");
        assert!(!names.contains("mount"));
        let learned = super::profile(&traced, super::SeccompMode::Learned).allowed_names();
        assert!(!learned.contains("mkdirat"));
        assert!(learned.is_subset(&names));
    }

    #[test]
    fn an_app_that_writes_may_make_directories_it_never_made_while_traced() {
        // The lazy Node app under GET /: it read and wrote, made nothing.
        let traced = ["openat".to_owned(), "write".to_owned()].into();
        let names = super::profile(&traced, super::SeccompMode::Families).allowed_names();
        for name in ["mkdir", "mkdirat", "renameat2", "unlinkat"] {
            assert!(names.contains(name), "{name}");
        }
        let learned = super::profile(&traced, super::SeccompMode::Learned).allowed_names();
        assert!(!learned.contains("mkdir"));
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
