//! The file a `struct sockaddr_un` names: bind makes it, connect needs it. Abstract
//! sockets (a leading NUL) and other address families name no file.

/// `sizeof(struct sockaddr_un)`: a 2-byte family and 108 bytes of path.
pub const SOCKADDR_UN_SIZE: usize = 110;

/// The path bytes of a Unix socket address, or `None` when it names no file.
pub fn unix_path(addr: &[u8]) -> Option<&[u8]> {
    let family = u16::from_ne_bytes([*addr.first()?, *addr.get(1)?]);
    if family != libc::AF_UNIX as u16 {
        return None;
    }
    let path = &addr[2..];
    let path = &path[..path.iter().position(|&b| b == 0).unwrap_or(path.len())];
    (!path.is_empty()).then_some(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(family: i32, path: &[u8]) -> Vec<u8> {
        let mut a = (family as u16).to_ne_bytes().to_vec();
        a.extend_from_slice(path);
        a
    }

    #[test]
    fn unix_paths_with_and_without_nul() {
        assert_eq!(
            unix_path(&addr(libc::AF_UNIX, b"/run/app.sock\0junk")),
            Some(&b"/run/app.sock"[..])
        );
        assert_eq!(
            unix_path(&addr(libc::AF_UNIX, b"rel.sock")),
            Some(&b"rel.sock"[..])
        );
    }

    #[test]
    fn no_file_for_abstract_inet_or_short_addresses() {
        assert_eq!(unix_path(&addr(libc::AF_UNIX, b"\0abstract")), None);
        assert_eq!(
            unix_path(&addr(libc::AF_INET, &[0x1f, 0x90, 127, 0, 0, 1])),
            None
        );
        assert_eq!(unix_path(&[1]), None);
        assert_eq!(unix_path(&addr(libc::AF_UNIX, b"")), None);
    }
}
