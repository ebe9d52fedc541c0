//! Turning the path bytes of a tar entry into a clean absolute path inside the image.
//!
//! A layer is untrusted input: `..` components, absolute names and link targets that
//! climb out of the root are recognised here so that nothing downstream has to.

/// A path inside the image: absolute, `/`-separated, no `.`/`..`/empty components.
/// The root itself is `/`.
pub type ImagePath = String;

/// Why an entry's path was refused or flagged.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PathProblem {
    /// `..` components climb above the root; the entry is left out of the index.
    EscapesRoot,
    /// The name is absolute (`/etc/x`); it is read as relative to the root.
    Absolute,
    /// A symlink whose relative target climbs above the root.
    SymlinkEscapesRoot,
    /// A hardlink whose target climbs above the root; left out of the index.
    HardlinkEscapesRoot,
    /// A character or block device node.
    DeviceFile,
}

/// A name as a layer spells it (tar path, PAX `path`, GNU long name, link target),
/// turned into the text the index keys on, reversibly: valid UTF-8 is kept as it is,
/// each byte of invalid UTF-8 becomes `\xNN` (two lowercase hex digits), and a
/// literal backslash followed by `x` becomes `\x5c`, so that every `\x` in the
/// text is an escape. Two names that differ only in invalid bytes stay two names
/// (`from_utf8_lossy` made both `\u{fffd}`), and [`name_to_bytes`] gives back the
/// bytes exactly, for the layers pare writes and the files it unpacks.
pub fn name_from_bytes(raw: &[u8]) -> std::borrow::Cow<'_, str> {
    if let Ok(text) = std::str::from_utf8(raw)
        && !text.contains("\\x")
    {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(raw.len() + 8);
    for chunk in raw.utf8_chunks() {
        let mut valid = chunk.valid();
        while let Some(at) = valid.find("\\x") {
            out.push_str(&valid[..at]);
            out.push_str("\\x5c");
            valid = &valid[at + 1..];
        }
        out.push_str(valid);
        for byte in chunk.invalid() {
            out.push_str(&format!("\\x{byte:02x}"));
        }
    }
    std::borrow::Cow::Owned(out)
}

/// The bytes a name from [`name_from_bytes`] was made from.
pub fn name_to_bytes(name: &str) -> std::borrow::Cow<'_, [u8]> {
    if !name.contains("\\x") {
        return std::borrow::Cow::Borrowed(name.as_bytes());
    }
    let bytes = name.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = bytes[i] == b'\\' && bytes.get(i + 1) == Some(&b'x');
        let hex = |at: usize| bytes.get(at).and_then(|&b| (b as char).to_digit(16));
        let value = hex(i + 2)
            .zip(hex(i + 3))
            .map(|(hi, lo)| (hi * 16 + lo) as u8);
        match value {
            Some(byte) if escaped => {
                out.push(byte);
                i += 4;
            }
            _ => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    std::borrow::Cow::Owned(out)
}

/// A name from [`name_from_bytes`] as a host path of the same bytes, for the layers
/// pare writes and the files it unpacks.
pub fn name_to_path(name: &str) -> std::borrow::Cow<'_, std::path::Path> {
    use std::os::unix::ffi::{OsStrExt, OsStringExt};
    match name_to_bytes(name) {
        std::borrow::Cow::Borrowed(b) => {
            std::borrow::Cow::Borrowed(std::path::Path::new(std::ffi::OsStr::from_bytes(b)))
        }
        std::borrow::Cow::Owned(b) => {
            std::borrow::Cow::Owned(std::path::PathBuf::from(std::ffi::OsString::from_vec(b)))
        }
    }
}

/// Normalises a tar entry name. `Err` when `..` climbs out of the root.
pub fn normalize(raw: &str) -> Result<ImagePath, PathProblem> {
    let mut parts: Vec<&str> = Vec::new();
    for part in raw.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err(PathProblem::EscapesRoot);
                }
            }
            other => parts.push(other),
        }
    }
    let mut out = String::with_capacity(raw.len() + 1);
    for part in &parts {
        out.push('/');
        out.push_str(part);
    }
    if out.is_empty() {
        out.push('/');
    }
    Ok(out)
}

/// The directory holding `path` (`/` for top-level entries and for `/` itself).
pub fn parent(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) | None => "/",
        Some(i) => &path[..i],
    }
}

/// The last component of `path`.
pub fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// Joins a child name onto a directory path.
pub fn join(dir: &str, name: &str) -> ImagePath {
    if dir == "/" {
        format!("/{name}")
    } else {
        format!("{dir}/{name}")
    }
}

/// Whether a symlink at `link` with `target` resolves, lexically, inside the root.
/// Absolute targets are relative to the image root, so they always stay inside.
pub fn symlink_stays_inside(link: &str, target: &str) -> bool {
    if target.starts_with('/') {
        return true;
    }
    normalize(&join(parent(link), target)).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes() {
        assert_eq!(normalize("./usr/bin/").unwrap(), "/usr/bin");
        assert_eq!(normalize("/etc//passwd").unwrap(), "/etc/passwd");
        assert_eq!(normalize("a/./b/../c").unwrap(), "/a/c");
        assert_eq!(normalize("./").unwrap(), "/");
        assert_eq!(normalize("../etc/passwd"), Err(PathProblem::EscapesRoot));
        assert_eq!(normalize("a/../../x"), Err(PathProblem::EscapesRoot));
    }

    #[test]
    fn names_keep_their_bytes() {
        let cases: [&[u8]; 8] = [
            b"usr/bin/plain",
            b"usr/bin/backdoor\xff",
            b"usr/bin/backdoor\xfe",
            b"a\\x41",
            b"a\\\xff",
            b"a\\",
            b"caf\xc3\xa9 \xc3",
            b"\\x5c",
        ];
        let names: Vec<String> = cases
            .iter()
            .map(|raw| name_from_bytes(raw).into_owned())
            .collect();
        for (raw, name) in cases.iter().zip(&names) {
            assert_eq!(&*name_to_bytes(name), *raw, "{name}");
        }
        assert_eq!(names[1], "usr/bin/backdoor\\xff");
        assert_ne!(names[1], names[2]);
        assert_eq!(names[3], "a\\x5cx41");
        assert_eq!(names[6], "caf\u{e9} \\xc3");
        let unique: std::collections::BTreeSet<_> = names.iter().collect();
        assert_eq!(unique.len(), cases.len());
    }

    #[test]
    fn symlink_escape() {
        assert!(symlink_stays_inside("/lib", "usr/lib"));
        assert!(symlink_stays_inside("/etc/x", "/etc/alternatives/x"));
        assert!(symlink_stays_inside("/a/b/c", "../../d"));
        assert!(!symlink_stays_inside("/a/b", "../../../etc/passwd"));
    }

    #[test]
    fn parents_and_names() {
        assert_eq!(parent("/usr/bin/env"), "/usr/bin");
        assert_eq!(parent("/usr"), "/");
        assert_eq!(file_name("/usr/bin/env"), "env");
        assert_eq!(join("/", "etc"), "/etc");
        assert_eq!(join("/etc", "x"), "/etc/x");
    }
}
