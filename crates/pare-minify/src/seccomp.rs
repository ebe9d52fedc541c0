//! A seccomp profile in Docker's JSON format that allows exactly the syscalls the app
//! was seen to use, plus what the runtime needs between installing the filter and
//! handing over to the app (runc applies the profile before its final execve).

use std::collections::BTreeSet;

use serde_json::{Value, json};

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

/// The profile, as Docker's `--security-opt seccomp=FILE` reads it.
pub fn profile(traced: &BTreeSet<String>) -> Value {
    let names: BTreeSet<&str> = traced
        .iter()
        .map(String::as_str)
        .chain(RUNTIME_SYSCALLS.iter().copied())
        .collect();
    json!({
        "defaultAction": "SCMP_ACT_ERRNO",
        "defaultErrnoRet": 1,
        "archMap": [
            {"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]},
            {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]}
        ],
        "syscalls": [{"names": names, "action": "SCMP_ACT_ALLOW"}]
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn includes_runtime_and_traced() {
        let traced = ["accept4".to_owned(), "openat".to_owned()].into();
        let p = super::profile(&traced);
        let names = p["syscalls"][0]["names"].as_array().unwrap();
        assert!(names.iter().any(|n| n == "accept4"));
        assert!(names.iter().any(|n| n == "close_range"));
        assert_eq!(p["defaultAction"], "SCMP_ACT_ERRNO");
    }
}
