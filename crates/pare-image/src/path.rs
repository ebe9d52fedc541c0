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

pub use pare_names::{name_from_bytes, name_to_bytes, name_to_path};

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

/// Whether `path` is `dir` or lies below it, by name (`dir` as the index spells it,
/// without a trailing `/`).
pub fn is_within(path: &str, dir: &str) -> bool {
    path.strip_prefix(dir)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
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
    fn within_is_by_whole_names() {
        assert!(is_within("/app/static/a.css", "/app"));
        assert!(is_within("/app", "/app"));
        assert!(!is_within("/application/x", "/app"));
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
