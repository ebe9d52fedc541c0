//! Finding PROGRAM on the container's PATH the way runc does before it execs the
//! entrypoint: a name with a slash is used as is, a bare name is the first executable
//! regular file in PATH. No shell fallback for scripts without `#!` (runc has none).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// PATH when the container's environment has none (Docker's default).
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Resolves `program` against `path_var`; `None` when no candidate is executable.
pub fn find(program: &str, path_var: Option<&str>) -> Option<PathBuf> {
    find_with(program, path_var, |p| {
        std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    })
}

/// [`find`] with the executable check injected, for tests.
fn find_with(
    program: &str,
    path_var: Option<&str>,
    is_executable: impl Fn(&Path) -> bool,
) -> Option<PathBuf> {
    if program.is_empty() {
        return None;
    }
    if program.contains('/') {
        return Some(PathBuf::from(program));
    }
    path_var
        .unwrap_or(DEFAULT_PATH)
        .split(':')
        .map(|dir| {
            if dir.is_empty() {
                Path::new(".")
            } else {
                Path::new(dir)
            }
        })
        .map(|dir| dir.join(program))
        .find(|candidate| is_executable(candidate))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exec_set(names: &'static [&'static str]) -> impl Fn(&Path) -> bool {
        move |p| names.iter().any(|n| Path::new(n) == p)
    }

    #[test]
    fn slash_means_as_given() {
        assert_eq!(
            find_with("./run.sh", None, |_| false),
            Some(PathBuf::from("./run.sh"))
        );
        assert_eq!(
            find_with("/opt/venv/bin/gunicorn", None, |_| false).unwrap(),
            PathBuf::from("/opt/venv/bin/gunicorn")
        );
    }

    #[test]
    fn first_executable_on_path_wins() {
        let found = find_with(
            "jq",
            Some("/usr/local/bin:/usr/bin:/bin"),
            exec_set(&["/usr/bin/jq", "/bin/jq"]),
        );
        assert_eq!(found, Some(PathBuf::from("/usr/bin/jq")));
    }

    #[test]
    fn default_path_and_empty_entries() {
        assert_eq!(
            find_with("nginx", None, exec_set(&["/usr/sbin/nginx"])),
            Some(PathBuf::from("/usr/sbin/nginx"))
        );
        assert_eq!(
            find_with("tool", Some(":/bin"), exec_set(&["./tool"])),
            Some(PathBuf::from("./tool"))
        );
    }

    #[test]
    fn nothing_found() {
        assert_eq!(find_with("nope", Some("/bin"), |_| false), None);
        assert_eq!(find_with("", None, |_| true), None);
    }

    #[test]
    fn real_filesystem() {
        assert!(find("sh", None).is_some());
    }
}
