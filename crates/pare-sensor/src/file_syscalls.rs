//! Which x86_64 syscalls name paths, in which arguments, and what they do with them.
//!
//! Syscalls that take only a file descriptor (fstat, fchdir, fchmod …) are absent: the
//! path behind the descriptor was recorded when it was opened.

use pare_sensor::Op;
use syscalls::Sysno;

/// One path argument of a syscall.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PathArg {
    /// Index of the directory fd the path is relative to; `None` means the cwd.
    pub dirfd: Option<usize>,
    /// Index of the pointer to the NUL-terminated path (or to a `struct sockaddr`).
    pub path: usize,
    pub op: Op,
    /// The path is the one of a `struct sockaddr_un` whose length is this argument
    /// (bind/connect); other address families name no file.
    pub sockaddr_len: Option<usize>,
}

/// Arguments that change the [`Op`] of the call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flags {
    None,
    /// open(2) flags at this index: `O_CREAT` makes it [`Op::Create`].
    Open(usize),
    /// Pointer to `struct open_how` (openat2) at this index; its first field is flags.
    OpenHow(usize),
    /// unlinkat flags at this index: `AT_REMOVEDIR` makes it [`Op::Rmdir`].
    Unlinkat(usize),
}

/// How to read the paths of one syscall.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileSyscall {
    pub paths: &'static [PathArg],
    pub flags: Flags,
}

const fn cwd(path: usize, op: Op) -> PathArg {
    PathArg {
        dirfd: None,
        path,
        op,
        sockaddr_len: None,
    }
}

const fn at(dirfd: usize, path: usize, op: Op) -> PathArg {
    PathArg {
        dirfd: Some(dirfd),
        path,
        op,
        sockaddr_len: None,
    }
}

const fn unix_socket(path: usize, len: usize, op: Op) -> PathArg {
    PathArg {
        dirfd: None,
        path,
        op,
        sockaddr_len: Some(len),
    }
}

const fn plain(paths: &'static [PathArg]) -> FileSyscall {
    FileSyscall {
        paths,
        flags: Flags::None,
    }
}

/// The description of `nr`, or `None` when it names no path.
pub fn lookup(nr: Sysno) -> Option<FileSyscall> {
    use Op::*;
    let spec = match nr {
        Sysno::open => FileSyscall {
            paths: const { &[cwd(0, Open)] },
            flags: Flags::Open(1),
        },
        Sysno::openat => FileSyscall {
            paths: const { &[at(0, 1, Open)] },
            flags: Flags::Open(2),
        },
        Sysno::openat2 => FileSyscall {
            paths: const { &[at(0, 1, Open)] },
            flags: Flags::OpenHow(2),
        },
        Sysno::creat => plain(const { &[cwd(0, Create)] }),
        Sysno::uselib => plain(const { &[cwd(0, Open)] }),
        Sysno::stat | Sysno::lstat | Sysno::statfs => plain(const { &[cwd(0, Stat)] }),
        Sysno::newfstatat | Sysno::statx | Sysno::name_to_handle_at | Sysno::file_getattr => {
            plain(const { &[at(0, 1, Stat)] })
        }
        Sysno::access => plain(const { &[cwd(0, Access)] }),
        Sysno::faccessat | Sysno::faccessat2 => plain(const { &[at(0, 1, Access)] }),
        Sysno::readlink => plain(const { &[cwd(0, Readlink)] }),
        Sysno::readlinkat => plain(const { &[at(0, 1, Readlink)] }),
        Sysno::execve => plain(const { &[cwd(0, Exec)] }),
        Sysno::execveat => plain(const { &[at(0, 1, Exec)] }),
        Sysno::chdir | Sysno::chroot => plain(const { &[cwd(0, Chdir)] }),
        Sysno::mkdir => plain(const { &[cwd(0, Mkdir)] }),
        Sysno::mkdirat => plain(const { &[at(0, 1, Mkdir)] }),
        Sysno::mknod => plain(const { &[cwd(0, Mknod)] }),
        Sysno::mknodat => plain(const { &[at(0, 1, Mknod)] }),
        Sysno::rmdir => plain(const { &[cwd(0, Rmdir)] }),
        Sysno::unlink => plain(const { &[cwd(0, Unlink)] }),
        Sysno::unlinkat => FileSyscall {
            paths: const { &[at(0, 1, Unlink)] },
            flags: Flags::Unlinkat(2),
        },
        Sysno::rename => plain(const { &[cwd(0, RenameFrom), cwd(1, RenameTo)] }),
        Sysno::renameat | Sysno::renameat2 => {
            plain(const { &[at(0, 1, RenameFrom), at(2, 3, RenameTo)] })
        }
        Sysno::link => plain(const { &[cwd(0, LinkFrom), cwd(1, LinkTo)] }),
        Sysno::linkat => plain(const { &[at(0, 1, LinkFrom), at(2, 3, LinkTo)] }),
        Sysno::symlink => plain(const { &[cwd(1, Symlink)] }),
        Sysno::symlinkat => plain(const { &[at(1, 2, Symlink)] }),
        Sysno::truncate => plain(const { &[cwd(0, Truncate)] }),
        Sysno::chmod => plain(const { &[cwd(0, Chmod)] }),
        Sysno::fchmodat | Sysno::fchmodat2 | Sysno::file_setattr => {
            plain(const { &[at(0, 1, Chmod)] })
        }
        Sysno::chown | Sysno::lchown => plain(const { &[cwd(0, Chown)] }),
        Sysno::fchownat => plain(const { &[at(0, 1, Chown)] }),
        Sysno::utime | Sysno::utimes => plain(const { &[cwd(0, Utime)] }),
        Sysno::futimesat | Sysno::utimensat => plain(const { &[at(0, 1, Utime)] }),
        Sysno::setxattr
        | Sysno::lsetxattr
        | Sysno::getxattr
        | Sysno::lgetxattr
        | Sysno::listxattr
        | Sysno::llistxattr
        | Sysno::removexattr
        | Sysno::lremovexattr => plain(const { &[cwd(0, Xattr)] }),
        Sysno::setxattrat | Sysno::getxattrat | Sysno::listxattrat | Sysno::removexattrat => {
            plain(const { &[at(0, 1, Xattr)] })
        }
        Sysno::inotify_add_watch => plain(const { &[cwd(1, Watch)] }),
        Sysno::fanotify_mark => plain(const { &[at(3, 4, Watch)] }),
        Sysno::bind => plain(const { &[unix_socket(1, 2, Bind)] }),
        Sysno::connect => plain(const { &[unix_socket(1, 2, Connect)] }),
        _ => return None,
    };
    Some(spec)
}

/// The op for `arg` once the call's flag argument is known.
pub fn adjust(op: Op, flags: Flags, flag_value: u64) -> Op {
    match flags {
        Flags::Open(_) | Flags::OpenHow(_) if flag_value & libc::O_CREAT as u64 != 0 => Op::Create,
        Flags::Unlinkat(_) if flag_value & libc::AT_REMOVEDIR as u64 != 0 => Op::Rmdir,
        _ => op,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openat_reads_dirfd_path_and_flags() {
        let s = lookup(Sysno::openat).unwrap();
        assert_eq!(s.paths, &[at(0, 1, Op::Open)]);
        assert_eq!(s.flags, Flags::Open(2));
        assert_eq!(
            adjust(Op::Open, s.flags, (libc::O_CREAT | libc::O_WRONLY) as u64),
            Op::Create
        );
        assert_eq!(adjust(Op::Open, s.flags, libc::O_RDONLY as u64), Op::Open);
    }

    #[test]
    fn two_path_calls() {
        let s = lookup(Sysno::renameat2).unwrap();
        assert_eq!(s.paths, &[at(0, 1, Op::RenameFrom), at(2, 3, Op::RenameTo)]);
        assert_eq!(
            lookup(Sysno::symlink).unwrap().paths,
            &[cwd(1, Op::Symlink)]
        );
    }

    #[test]
    fn unlinkat_of_a_directory_is_rmdir() {
        let s = lookup(Sysno::unlinkat).unwrap();
        assert_eq!(
            adjust(Op::Unlink, s.flags, libc::AT_REMOVEDIR as u64),
            Op::Rmdir
        );
        assert_eq!(adjust(Op::Unlink, s.flags, 0), Op::Unlink);
    }

    #[test]
    fn descriptor_only_calls_are_not_file_syscalls() {
        for nr in [
            Sysno::read,
            Sysno::fstat,
            Sysno::fchdir,
            Sysno::close,
            Sysno::accept4,
        ] {
            assert_eq!(lookup(nr), None, "{nr:?}");
        }
        for nr in [
            Sysno::stat,
            Sysno::statx,
            Sysno::execve,
            Sysno::readlink,
            Sysno::faccessat2,
        ] {
            assert!(lookup(nr).is_some(), "{nr:?}");
        }
    }
}
