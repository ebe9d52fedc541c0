//! The paths one syscall names, read from the stopped tracee and made absolute.

use nix::unistd::Pid;
use pare_sensor::Op;

use crate::file_syscalls::{FileSyscall, Flags, adjust};
use crate::memory::{ReadError, read_bytes, read_cstring, read_u64};
use crate::path::{canonical_if_link, resolve};
use crate::procfs::base_dir;
use crate::sockaddr::{SOCKADDR_UN_SIZE, unix_path};

/// A path the call names, and what it does with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Named {
    pub path: String,
    pub op: Op,
}

/// The paths of a call, and the symlinks passed through on the way to a `..` (which
/// exist whatever the call's outcome).
#[derive(Debug, Default)]
pub struct CallPaths {
    pub named: Vec<Named>,
    pub links: Vec<String>,
}

/// Reads the paths `spec` describes from `pid`'s memory at syscall entry. Problems
/// (unreadable memory, a vanished process) become `warn` messages, not errors: one
/// missed path must not stop the trace.
pub fn read(
    pid: Pid,
    name: &str,
    spec: &FileSyscall,
    args: &[u64; 6],
    warn: &mut dyn FnMut(String),
) -> CallPaths {
    let mut out = CallPaths::default();
    let flag_value = match spec.flags {
        Flags::None => 0,
        Flags::Open(i) | Flags::Unlinkat(i) => args[i],
        Flags::OpenHow(i) => read_u64(pid, args[i]).unwrap_or(0),
    };
    for arg in spec.paths {
        let read = match arg.sockaddr_len {
            Some(len) => read_bytes(
                pid,
                args[arg.path],
                (args[len] as usize).min(SOCKADDR_UN_SIZE),
            )
            .map(|addr| unix_path(&addr).map(<[u8]>::to_vec).unwrap_or_default()),
            None => read_cstring(pid, args[arg.path]),
        };
        let raw = match read {
            Ok(raw) => raw,
            // utimensat(fd, NULL, …) works on the descriptor itself.
            Err(ReadError::Null) => continue,
            Err(e) => {
                warn(format!("{name}: could not read a path argument: {e}"));
                continue;
            }
        };
        // An empty path with AT_EMPTY_PATH means the descriptor itself (fstat is
        // newfstatat(fd, "", AT_EMPTY_PATH) in glibc); it was recorded when opened,
        // except for fexecve (execveat of a descriptor), where it says what ran.
        if raw.is_empty() {
            if arg.op == Op::Exec
                && let Some(fd) = arg.dirfd.map(|i| args[i] as i32)
                && let Ok(path) = base_dir(pid, Some(fd))
            {
                out.named.push(Named { path, op: Op::Exec });
            }
            continue;
        }
        // Not lossy: a name in invalid UTF-8 is escaped as pare's index spells it,
        // so the file the app opened is the one kept.
        let text = pare_names::name_from_bytes(&raw);
        let base = if raw.starts_with(b"/") {
            String::new()
        } else {
            let dirfd = arg.dirfd.map(|i| args[i] as i32);
            match base_dir(pid, dirfd) {
                Ok(base) => base,
                Err(e) => {
                    warn(format!(
                        "{name}({text}): could not read the base directory: {e}"
                    ));
                    continue;
                }
            }
        };
        let resolved = resolve(&base, &text, canonical_if_link);
        out.links.extend(resolved.links);
        out.named.push(Named {
            path: resolved.path,
            op: adjust(arg.op, spec.flags, flag_value),
        });
    }
    out
}
