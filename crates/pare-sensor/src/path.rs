//! Turning what a syscall named into the absolute path the keep-set needs.
//!
//! A relative path is joined to its base (the process's cwd or the directory behind a
//! dirfd, read from /proc by the caller). `.` and repeated slashes go. `..` is resolved
//! lexically only when the component before it is a real directory: after a symlink the
//! kernel goes up from the link's target, so the link is resolved first and reported
//! separately, because the slim image needs the link as well as where it leads.

/// The cleaned path and the symlinks passed through on the way to a `..`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Resolved {
    pub path: String,
    pub links: Vec<String>,
}

/// Joins `name` to `base` (ignored when `name` is absolute) and cleans the result.
/// `canonical_if_link(p)` returns the canonical path of `p` when `p` is a symlink.
pub fn resolve(
    base: &str,
    name: &str,
    canonical_if_link: impl Fn(&str) -> Option<String>,
) -> Resolved {
    let joined;
    let full = if name.starts_with('/') {
        name
    } else {
        joined = format!("{base}/{name}");
        &joined
    };
    let mut out = Resolved::default();
    let mut parts: Vec<String> = Vec::new();
    for component in full.split('/') {
        match component {
            "" | "." => {}
            ".." => {
                let here = to_path(&parts);
                if let Some(target) = (!parts.is_empty())
                    .then(|| canonical_if_link(&here))
                    .flatten()
                {
                    out.links.push(here);
                    parts = target
                        .split('/')
                        .filter(|c| !c.is_empty())
                        .map(str::to_owned)
                        .collect();
                }
                parts.pop();
            }
            name => parts.push(name.to_owned()),
        }
    }
    out.path = to_path(&parts);
    out
}

fn to_path(parts: &[String]) -> String {
    if parts.is_empty() {
        "/".to_owned()
    } else {
        parts.iter().fold(String::new(), |mut acc, p| {
            acc.push('/');
            acc.push_str(p);
            acc
        })
    }
}

/// The canonical path of `p` when it is a symlink, looked up in the sensor's own view
/// of the filesystem (the container's, since the sensor is its PID 1).
pub fn canonical_if_link(p: &str) -> Option<String> {
    use std::os::unix::ffi::OsStrExt;
    let host = pare_names::name_to_path(p);
    let meta = std::fs::symlink_metadata(&host).ok()?;
    if !meta.file_type().is_symlink() {
        return None;
    }
    let real = std::fs::canonicalize(&host).ok()?;
    Some(pare_names::name_from_bytes(real.as_os_str().as_bytes()).into_owned())
}

/// Strips the ` (deleted)` the kernel appends to /proc links of removed files and dirs.
pub fn strip_deleted(link: &str) -> &str {
    link.strip_suffix(" (deleted)").unwrap_or(link)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_links(_: &str) -> Option<String> {
        None
    }

    fn path(base: &str, name: &str) -> String {
        resolve(base, name, no_links).path
    }

    #[test]
    fn absolute_names_ignore_the_base() {
        assert_eq!(path("/app", "/etc/passwd"), "/etc/passwd");
    }

    #[test]
    fn relative_names_join_the_base() {
        assert_eq!(path("/app", "app.py"), "/app/app.py");
        assert_eq!(path("/", "etc/hosts"), "/etc/hosts");
        assert_eq!(path("/app", "."), "/app");
    }

    #[test]
    fn dots_and_slashes_are_cleaned() {
        assert_eq!(
            path("/app", "./static//css/./a.css"),
            "/app/static/css/a.css"
        );
        assert_eq!(
            path("/opt/venv/bin", "../lib/python3.11"),
            "/opt/venv/lib/python3.11"
        );
        assert_eq!(path("/", "../../etc"), "/etc");
        assert_eq!(path("/a/", "b/"), "/a/b");
    }

    #[test]
    fn dotdot_after_a_symlink_goes_up_from_the_target() {
        let link = |p: &str| (p == "/usr/lib/current").then(|| "/opt/real/v2".to_owned());
        let r = resolve("/", "/usr/lib/current/../data/x", link);
        assert_eq!(r.path, "/opt/real/data/x");
        assert_eq!(r.links, ["/usr/lib/current"]);
    }

    #[test]
    fn deleted_marker() {
        assert_eq!(strip_deleted("/tmp/x (deleted)"), "/tmp/x");
        assert_eq!(strip_deleted("/tmp/x"), "/tmp/x");
    }

    #[test]
    fn real_symlink_lookup() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real/sub");
        std::fs::create_dir_all(&real).unwrap();
        std::os::unix::fs::symlink(&real, dir.path().join("link")).unwrap();
        let base = dir
            .path()
            .canonicalize()
            .unwrap()
            .into_os_string()
            .into_string()
            .unwrap();
        let r = resolve(&base, "link/../other", canonical_if_link);
        assert_eq!(r.path, format!("{base}/real/other"));
        assert_eq!(r.links, [format!("{base}/link")]);
    }
}
