//! Finding the programs pare runs (runc, crun, newuidmap): a module of its own so
//! that `runc` and `userns`, which both need it, do not import each other.

use std::path::PathBuf;

/// The program `name` as a shell would find it on PATH, then in the sbin and bin
/// directories a root shell has (pare may run with a user's PATH under sudo); a name
/// with a `/` is taken as it is when it is a file.
pub(crate) fn which(name: &str) -> Option<PathBuf> {
    if name.contains('/') {
        return Some(PathBuf::from(name)).filter(|p| p.is_file());
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/usr/bin", "/sbin"].map(PathBuf::from))
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}
