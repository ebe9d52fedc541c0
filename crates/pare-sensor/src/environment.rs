//! The app's environment: the container's, as Docker set it for the sensor, with HOME
//! corrected for the app's user.
//!
//! The sensor runs as root, so Docker set HOME=/root when the image has no HOME; the
//! app, run as another user without the sensor, would have had that user's home (as
//! runc sets it). An image that sets HOME=/root itself for a non-root user loses that
//! value; pare can pass `-e HOME=...` explicitly if it ever matters.

use std::ffi::{CString, OsString};
use std::os::unix::ffi::OsStrExt;

use pare_users::Identity;

/// `KEY=VALUE` strings for execve.
pub fn app_env(
    vars: impl Iterator<Item = (OsString, OsString)>,
    identity: Option<&Identity>,
) -> Vec<CString> {
    let home = identity.filter(|i| i.uid != 0).map(|i| i.home.as_str());
    vars.filter_map(|(key, value)| {
        let mut entry = key.as_bytes().to_vec();
        entry.push(b'=');
        match home {
            Some(home) if key == "HOME" && value == "/root" => {
                entry.extend_from_slice(home.as_bytes())
            }
            _ => entry.extend_from_slice(value.as_bytes()),
        }
        CString::new(entry).ok()
    })
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)], id: Option<&Identity>) -> Vec<String> {
        app_env(
            vars.iter()
                .map(|(k, v)| (OsString::from(k), OsString::from(v))),
            id,
        )
        .into_iter()
        .map(|c| c.into_string().unwrap())
        .collect()
    }

    #[test]
    fn home_follows_a_non_root_user() {
        let nobody = Identity {
            uid: 65534,
            gid: 65534,
            groups: vec![],
            home: "/nonexistent".into(),
        };
        let vars = [("PATH", "/usr/bin"), ("HOME", "/root")];
        assert_eq!(
            env(&vars, Some(&nobody)),
            ["PATH=/usr/bin", "HOME=/nonexistent"]
        );
        assert_eq!(
            env(&vars, Some(&Identity::root())),
            ["PATH=/usr/bin", "HOME=/root"]
        );
        assert_eq!(env(&vars, None), ["PATH=/usr/bin", "HOME=/root"]);
    }

    #[test]
    fn an_image_home_is_kept() {
        let app = Identity {
            uid: 1000,
            gid: 1000,
            groups: vec![],
            home: "/home/app".into(),
        };
        assert_eq!(env(&[("HOME", "/srv")], Some(&app)), ["HOME=/srv"]);
    }
}
