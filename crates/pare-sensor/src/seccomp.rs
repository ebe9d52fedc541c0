//! The seccomp filter that turns syscalls into ptrace stops (SECCOMP_RET_TRACE).
//!
//! Every syscall must be seen once to build the app's syscall list, so the filter
//! traces all of them except [`UNTRACED`], a handful that every process makes
//! constantly and that any profile must allow anyway; the report lists those as used.
//! The win over PTRACE_SYSCALL is one stop per call instead of two; the exit stop is
//! requested only for calls that name a path.

use syscalls::Sysno;

const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
const AUDIT_ARCH_I386: u32 = 0x4000_0003;
const X32_SYSCALL_BIT: u32 = 0x4000_0000;
/// Offsets in `struct seccomp_data`.
const NR_OFFSET: u32 = 0;
const ARCH_OFFSET: u32 = 4;

/// Syscalls let through without a stop: the hot path of every program (memory, I/O on
/// open descriptors, futexes, signals), all in Docker's default profile and needed by
/// runc itself. Listed in the report's syscalls as if seen.
pub const UNTRACED: &[Sysno] = &[
    Sysno::read,
    Sysno::write,
    Sysno::close,
    Sysno::futex,
    Sysno::mmap,
    Sysno::munmap,
    Sysno::mprotect,
    Sysno::brk,
    Sysno::rt_sigaction,
    Sysno::rt_sigprocmask,
    Sysno::rt_sigreturn,
    Sysno::lseek,
    Sysno::fstat,
    Sysno::getpid,
    Sysno::gettid,
    Sysno::exit,
    Sysno::exit_group,
];

fn stmt(code: u32, k: u32) -> libc::sock_filter {
    libc::sock_filter {
        code: code as u16,
        jt: 0,
        jf: 0,
        k,
    }
}

fn jump(code: u32, k: u32, jt: u8, jf: u8) -> libc::sock_filter {
    libc::sock_filter {
        code: code as u16,
        jt,
        jf,
        k,
    }
}

/// Builds the filter program: other architectures and x32 trace (the tracer warns
/// about them); `untraced` returns ALLOW; everything else returns TRACE.
pub fn program(untraced: &[Sysno]) -> Vec<libc::sock_filter> {
    use libc::{BPF_ABS, BPF_JEQ, BPF_JGE, BPF_JMP, BPF_K, BPF_LD, BPF_RET, BPF_W};
    let trace = libc::SECCOMP_RET_TRACE;
    let allow = libc::SECCOMP_RET_ALLOW;
    let n = untraced.len();
    let mut p = vec![
        stmt(BPF_LD | BPF_W | BPF_ABS, ARCH_OFFSET),
        jump(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        stmt(BPF_RET | BPF_K, trace),
        stmt(BPF_LD | BPF_W | BPF_ABS, NR_OFFSET),
        jump(BPF_JMP | BPF_JGE | BPF_K, X32_SYSCALL_BIT, 0, 1),
        stmt(BPF_RET | BPF_K, trace),
    ];
    for (i, nr) in untraced.iter().enumerate() {
        // Jump over the remaining comparisons and the TRACE return to the ALLOW return.
        let to_allow = (n - i) as u8;
        p.push(jump(BPF_JMP | BPF_JEQ | BPF_K, nr.id() as u32, to_allow, 0));
    }
    p.push(stmt(BPF_RET | BPF_K, trace));
    p.push(stmt(BPF_RET | BPF_K, allow));
    p
}

/// Builds the filter that refuses `names` to the app with EPERM (both for the native
/// ABI, x32 included, and for i386 system calls) and allows everything else: the
/// container's profile allows these only for the sensor's own set-up. Names the
/// syscall tables do not know for an ABI are skipped for it; they are returned.
pub fn deny_program(names: &[String]) -> (Vec<libc::sock_filter>, Vec<String>) {
    use libc::{BPF_ABS, BPF_ALU, BPF_AND, BPF_JEQ, BPF_JMP, BPF_K, BPF_LD, BPF_RET, BPF_W};
    let mut unknown = Vec::new();
    let mut native: Vec<u32> = Vec::new();
    let mut i386: Vec<u32> = Vec::new();
    for name in names {
        let n64 = name.parse::<Sysno>().ok().map(|s| s.id() as u32);
        let n32 = name
            .parse::<syscalls::x86::Sysno>()
            .ok()
            .map(|s| s.id() as u32);
        if n64.is_none() && n32.is_none() {
            unknown.push(name.clone());
        }
        native.extend(n64);
        i386.extend(n32);
    }
    let deny = libc::SECCOMP_RET_ERRNO | libc::EPERM as u32;
    let allow = libc::SECCOMP_RET_ALLOW;
    // Each section: compare the number with every entry, jumping to its own deny
    // return on a match; fall through to allow.
    let section = |numbers: &[u32]| -> Vec<libc::sock_filter> {
        let n = numbers.len();
        let mut p = Vec::with_capacity(n + 2);
        for (i, nr) in numbers.iter().enumerate() {
            // Jump over the remaining comparisons and the allow return.
            p.push(jump(BPF_JMP | BPF_JEQ | BPF_K, *nr, (n - i) as u8, 0));
        }
        p.push(stmt(BPF_RET | BPF_K, allow));
        p.push(stmt(BPF_RET | BPF_K, deny));
        p
    };
    let native_section = section(&native);
    let i386_section = section(&i386);
    let mut p = vec![
        stmt(BPF_LD | BPF_W | BPF_ABS, ARCH_OFFSET),
        // Not x86_64: go to the i386 check.
        jump(
            BPF_JMP | BPF_JEQ | BPF_K,
            AUDIT_ARCH_X86_64,
            0,
            (native_section.len() + 2) as u8,
        ),
        stmt(BPF_LD | BPF_W | BPF_ABS, NR_OFFSET),
        // x32 system calls are the native numbers with the x32 bit set.
        stmt(BPF_ALU | BPF_AND | BPF_K, !X32_SYSCALL_BIT),
    ];
    p.extend(native_section);
    p.push(jump(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_I386, 1, 0));
    p.push(stmt(BPF_RET | BPF_K, allow));
    p.push(stmt(BPF_LD | BPF_W | BPF_ABS, NR_OFFSET));
    p.extend(i386_section);
    (p, unknown)
}

/// Installs `program` on the calling thread (inherited by its children and execs).
/// Needs CAP_SYS_ADMIN or no_new_privs.
pub fn install(program: &[libc::sock_filter]) -> Result<(), nix::errno::Errno> {
    let prog = libc::sock_fprog {
        len: program.len() as u16,
        filter: program.as_ptr() as *mut libc::sock_filter,
    };
    // SAFETY: `prog` points at `program`, which outlives the call; the kernel copies it.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            0,
            &prog as *const libc::sock_fprog,
        )
    };
    nix::errno::Errno::result(rc).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tiny classic-BPF interpreter for the subset the filter uses.
    fn run(p: &[libc::sock_filter], arch: u32, nr: u32) -> u32 {
        let (mut pc, mut acc) = (0usize, 0u32);
        loop {
            let i = p[pc];
            match i.code as u32 {
                c if c == libc::BPF_LD | libc::BPF_W | libc::BPF_ABS => {
                    acc = if i.k == ARCH_OFFSET { arch } else { nr };
                    pc += 1;
                }
                c if c == libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K => {
                    pc += 1 + if acc == i.k {
                        i.jt as usize
                    } else {
                        i.jf as usize
                    };
                }
                c if c == libc::BPF_JMP | libc::BPF_JGE | libc::BPF_K => {
                    pc += 1 + if acc >= i.k {
                        i.jt as usize
                    } else {
                        i.jf as usize
                    };
                }
                c if c == libc::BPF_ALU | libc::BPF_AND | libc::BPF_K => {
                    acc &= i.k;
                    pc += 1;
                }
                c if c == libc::BPF_RET | libc::BPF_K => return i.k,
                c => panic!("unexpected opcode {c:#x}"),
            }
        }
    }

    #[test]
    fn untraced_syscalls_are_allowed_and_the_rest_traced() {
        let p = program(UNTRACED);
        for nr in UNTRACED {
            assert_eq!(
                run(&p, AUDIT_ARCH_X86_64, nr.id() as u32),
                libc::SECCOMP_RET_ALLOW,
                "{nr:?}"
            );
        }
        for nr in [Sysno::openat, Sysno::accept4, Sysno::execve, Sysno::clone3] {
            assert_eq!(
                run(&p, AUDIT_ARCH_X86_64, nr.id() as u32),
                libc::SECCOMP_RET_TRACE,
                "{nr:?}"
            );
        }
    }

    #[test]
    fn other_abis_are_traced() {
        let p = program(UNTRACED);
        assert_eq!(run(&p, 0x4000_0003, 3), libc::SECCOMP_RET_TRACE);
        assert_eq!(
            run(&p, AUDIT_ARCH_X86_64, X32_SYSCALL_BIT | 1),
            libc::SECCOMP_RET_TRACE
        );
    }

    #[test]
    fn an_empty_allow_list_traces_everything() {
        let p = program(&[]);
        assert_eq!(
            run(&p, AUDIT_ARCH_X86_64, Sysno::read.id() as u32),
            libc::SECCOMP_RET_TRACE
        );
    }

    #[test]
    fn denied_syscalls_get_eperm_on_every_abi_and_the_rest_pass() {
        let names: Vec<String> = ["unshare", "mount", "fanotify_init", "no_such_call"]
            .map(str::to_owned)
            .into();
        let (p, unknown) = deny_program(&names);
        assert_eq!(unknown, ["no_such_call"]);
        let eperm = libc::SECCOMP_RET_ERRNO | libc::EPERM as u32;
        let x64 = |s: Sysno| run(&p, AUDIT_ARCH_X86_64, s.id() as u32);
        assert_eq!(x64(Sysno::unshare), eperm);
        assert_eq!(x64(Sysno::mount), eperm);
        assert_eq!(x64(Sysno::fanotify_init), eperm);
        assert_eq!(x64(Sysno::openat), libc::SECCOMP_RET_ALLOW);
        assert_eq!(x64(Sysno::clone), libc::SECCOMP_RET_ALLOW);
        // x32: the native number with the x32 bit.
        assert_eq!(
            run(
                &p,
                AUDIT_ARCH_X86_64,
                X32_SYSCALL_BIT | Sysno::unshare.id() as u32
            ),
            eperm
        );
        // i386 numbers differ: unshare is 310, mount 21; open (5) passes.
        assert_eq!(run(&p, AUDIT_ARCH_I386, 310), eperm);
        assert_eq!(run(&p, AUDIT_ARCH_I386, 21), eperm);
        assert_eq!(run(&p, AUDIT_ARCH_I386, 5), libc::SECCOMP_RET_ALLOW);
    }

    #[test]
    fn an_empty_deny_list_allows_everything() {
        let (p, _) = deny_program(&[]);
        assert_eq!(
            run(&p, AUDIT_ARCH_X86_64, Sysno::mount.id() as u32),
            libc::SECCOMP_RET_ALLOW
        );
    }
}
