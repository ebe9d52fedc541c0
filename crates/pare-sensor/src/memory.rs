//! Reading a stopped tracee's memory: the NUL-terminated paths and the few structs that
//! syscalls point at. `process_vm_readv` copies without a ptrace round trip per word;
//! reads stop at page boundaries so a string ending just before an unmapped page reads.

use std::io::IoSliceMut;

use nix::sys::uio::{RemoteIoVec, process_vm_readv};
use nix::unistd::Pid;

/// Longest path the kernel accepts (PATH_MAX, NUL included).
const PATH_MAX: usize = 4096;
const PAGE: usize = 4096;

/// Why tracee memory could not be read.
#[derive(Debug)]
pub enum ReadError {
    /// The pointer was NULL.
    Null,
    /// No NUL within PATH_MAX bytes.
    TooLong,
    /// The kernel refused (unmapped address, process gone).
    Os(nix::errno::Errno),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::Null => f.write_str("NULL pointer"),
            ReadError::TooLong => f.write_str("no NUL within PATH_MAX"),
            ReadError::Os(e) => write!(f, "process_vm_readv: {e}"),
        }
    }
}

/// Reads a NUL-terminated string (without the NUL) at `addr` in `pid`.
pub fn read_cstring(pid: Pid, addr: u64) -> Result<Vec<u8>, ReadError> {
    if addr == 0 {
        return Err(ReadError::Null);
    }
    let mut out = Vec::with_capacity(128);
    let mut at = addr as usize;
    while out.len() < PATH_MAX {
        let chunk = (PAGE - at % PAGE).min(PATH_MAX - out.len());
        let mut buf = [0u8; PAGE];
        let n = read_into(pid, at, &mut buf[..chunk])?;
        if let Some(nul) = buf[..n].iter().position(|&b| b == 0) {
            out.extend_from_slice(&buf[..nul]);
            return Ok(out);
        }
        out.extend_from_slice(&buf[..n]);
        at += n;
    }
    Err(ReadError::TooLong)
}

/// Reads up to `len` bytes at `addr` in `pid` (fewer where the mapping ends).
pub fn read_bytes(pid: Pid, addr: u64, len: usize) -> Result<Vec<u8>, ReadError> {
    if addr == 0 {
        return Err(ReadError::Null);
    }
    let mut buf = vec![0u8; len.min(PAGE)];
    let first = (PAGE - addr as usize % PAGE).min(buf.len());
    let mut n = read_into(pid, addr as usize, &mut buf[..first])?;
    if n == first && first < buf.len() {
        n += read_into(pid, addr as usize + first, &mut buf[first..]).unwrap_or(0);
    }
    buf.truncate(n);
    Ok(buf)
}

/// Reads a native-endian u64 at `addr` in `pid` (e.g. `open_how.flags`).
pub fn read_u64(pid: Pid, addr: u64) -> Result<u64, ReadError> {
    if addr == 0 {
        return Err(ReadError::Null);
    }
    let mut buf = [0u8; 8];
    let n = read_into(pid, addr as usize, &mut buf)?;
    if n < buf.len() {
        return Err(ReadError::Os(nix::errno::Errno::EFAULT));
    }
    Ok(u64::from_ne_bytes(buf))
}

fn read_into(pid: Pid, addr: usize, buf: &mut [u8]) -> Result<usize, ReadError> {
    let len = buf.len();
    let remote = [RemoteIoVec { base: addr, len }];
    let n = process_vm_readv(pid, &mut [IoSliceMut::new(buf)], &remote).map_err(ReadError::Os)?;
    if n == 0 {
        return Err(ReadError::Os(nix::errno::Errno::EFAULT));
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_our_own_strings_across_a_page_boundary() {
        let me = Pid::this();
        let text = b"/usr/lib/python3.11/os.py\0";
        assert_eq!(
            read_cstring(me, text.as_ptr() as u64).unwrap(),
            &text[..text.len() - 1]
        );
        // A string placed so that it straddles a page boundary.
        let mut buf = vec![b'a'; 3 * PAGE];
        let base = buf.as_ptr() as usize;
        let start = (base / PAGE + 1) * PAGE - 5;
        let offset = start - base;
        buf[offset + 10] = 0;
        assert_eq!(read_cstring(me, (base + offset) as u64).unwrap().len(), 10);
        assert_eq!(
            read_bytes(me, (base + offset) as u64, 8).unwrap(),
            b"aaaaaaaa"
        );
        let value = 0x0102_0304_0506_0708u64;
        assert_eq!(read_u64(me, &value as *const u64 as u64).unwrap(), value);
    }

    #[test]
    fn null_and_unterminated() {
        assert!(matches!(read_cstring(Pid::this(), 0), Err(ReadError::Null)));
        let long = vec![b'x'; PATH_MAX + 10];
        assert!(matches!(
            read_cstring(Pid::this(), long.as_ptr() as u64),
            Err(ReadError::TooLong)
        ));
    }
}
