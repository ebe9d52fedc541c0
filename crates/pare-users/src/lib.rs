//! An image's `USER` (or `--user`) resolved against the container's `/etc/passwd` and
//! `/etc/group` with the same rules as Docker (runc's `GetExecUser`), so the app runs
//! with the uid, gid and supplementary groups it would have had under `docker run`.
//! One place for both who resolve it: pare-runtime, when it writes a runc bundle's
//! process user, and the sensor inside the container, when it starts the traced app.
//! Kept free of dependencies: the sensor is a static binary built apart.

use std::fmt;

/// The ids the app runs with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    pub uid: u32,
    pub gid: u32,
    /// Supplementary groups (`setgroups`), empty when the group was given explicitly.
    pub groups: Vec<u32>,
    /// Home directory from passwd, `/` when the user has no entry (as Docker does).
    pub home: String,
}

impl Identity {
    /// root with no supplementary groups: what the sensor itself runs as.
    pub fn root() -> Self {
        Identity {
            uid: 0,
            gid: 0,
            groups: Vec::new(),
            home: "/root".into(),
        }
    }
}

/// Why `--user` could not be resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UserError {
    NoSuchUser(String),
    NoSuchGroup(String),
}

impl fmt::Display for UserError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UserError::NoSuchUser(u) => write!(
                f,
                "unable to find user {u}: no matching entries in passwd file"
            ),
            UserError::NoSuchGroup(g) => write!(
                f,
                "unable to find group {g}: no matching entries in group file"
            ),
        }
    }
}

struct PasswdEntry<'a> {
    name: &'a str,
    uid: u32,
    gid: u32,
    home: &'a str,
}

struct GroupEntry<'a> {
    name: &'a str,
    gid: u32,
    members: Vec<&'a str>,
}

/// Resolves `spec` (`NAME`, `UID`, `NAME:GROUP`, `UID:GID` …) given the text of the
/// container's passwd and group files (empty when missing, as in distroless images).
pub fn resolve(spec: &str, passwd: &str, group: &str) -> Result<Identity, UserError> {
    let (user_arg, group_arg) = match spec.split_once(':') {
        Some((u, g)) => (u, Some(g).filter(|g| !g.is_empty())),
        None => (spec, None),
    };
    let numeric_uid = user_arg.parse::<u32>().ok();
    let entry = parse_passwd(passwd).find(|e| match numeric_uid {
        Some(uid) => e.uid == uid,
        None => e.name == user_arg,
    });
    let mut identity = match (&entry, numeric_uid) {
        (Some(e), _) => Identity {
            uid: e.uid,
            gid: e.gid,
            groups: Vec::new(),
            home: e.home.to_owned(),
        },
        (None, Some(uid)) => Identity {
            uid,
            gid: 0,
            groups: Vec::new(),
            home: "/".into(),
        },
        (None, None) if user_arg.is_empty() => Identity::root(),
        (None, None) => return Err(UserError::NoSuchUser(user_arg.to_owned())),
    };
    match group_arg {
        Some(g) => {
            let numeric_gid = g.parse::<u32>().ok();
            let found = parse_group(group).find(|e| match numeric_gid {
                Some(gid) => e.gid == gid,
                None => e.name == g,
            });
            identity.gid = match (found, numeric_gid) {
                (Some(e), _) => e.gid,
                (None, Some(gid)) => gid,
                (None, None) => return Err(UserError::NoSuchGroup(g.to_owned())),
            };
        }
        None => {
            if let Some(e) = &entry {
                identity.groups = parse_group(group)
                    .filter(|g| g.members.contains(&e.name))
                    .map(|g| g.gid)
                    .collect();
            }
        }
    }
    Ok(identity)
}

fn parse_passwd(text: &str) -> impl Iterator<Item = PasswdEntry<'_>> {
    records(text).filter_map(|f| {
        Some(PasswdEntry {
            name: f.first()?,
            uid: f.get(2)?.parse().ok()?,
            gid: f.get(3)?.parse().ok()?,
            home: f.get(5).copied().unwrap_or("/"),
        })
    })
}

fn parse_group(text: &str) -> impl Iterator<Item = GroupEntry<'_>> {
    records(text).filter_map(|f| {
        Some(GroupEntry {
            name: f.first()?,
            gid: f.get(2)?.parse().ok()?,
            members: f
                .get(3)
                .map(|m| {
                    m.split(',')
                        .map(str::trim)
                        .filter(|m| !m.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
        })
    })
}

/// Colon-separated records, skipping blank lines, comments and NIS `+`/`-` entries.
fn records(text: &str) -> impl Iterator<Item = Vec<&str>> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with(['+', '-']))
        .map(|l| l.split(':').collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/bash
# a comment
www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
app:x:1000:1000::/home/app:/bin/sh
broken:x:notanumber:1::/:/bin/sh
";
    const GROUP: &str = "root:x:0:
www-data:x:33:
staff:x:50:app,www-data
audio:x:29:app
nogroup:x:65534:
app:x:1000:
";

    fn id(spec: &str) -> Result<Identity, UserError> {
        resolve(spec, PASSWD, GROUP)
    }

    #[test]
    fn a_name_gets_its_passwd_ids_home_and_member_groups() {
        assert_eq!(
            id("app").unwrap(),
            Identity {
                uid: 1000,
                gid: 1000,
                groups: vec![50, 29],
                home: "/home/app".into()
            }
        );
        let nobody = id("nobody").unwrap();
        assert_eq!(
            (nobody.uid, nobody.gid, nobody.groups.len()),
            (65534, 65534, 0)
        );
        assert_eq!(nobody.home, "/nonexistent");
    }

    #[test]
    fn a_known_uid_is_looked_up_like_its_name() {
        assert_eq!(
            id("33").unwrap(),
            Identity {
                uid: 33,
                gid: 33,
                groups: vec![50],
                home: "/var/www".into()
            }
        );
    }

    #[test]
    fn an_unknown_uid_runs_with_gid_0_and_home_slash() {
        assert_eq!(
            id("4242").unwrap(),
            Identity {
                uid: 4242,
                gid: 0,
                groups: vec![],
                home: "/".into()
            }
        );
        assert_eq!(id("4242:4343").unwrap().gid, 4343);
    }

    #[test]
    fn an_explicit_group_replaces_gid_and_drops_supplementary_groups() {
        let i = id("app:staff").unwrap();
        assert_eq!((i.uid, i.gid), (1000, 50));
        assert!(i.groups.is_empty());
        assert_eq!(id("app:29").unwrap().gid, 29);
        assert_eq!(id("app:777").unwrap().gid, 777);
    }

    #[test]
    fn unknown_names_are_errors_naming_them() {
        assert_eq!(
            id("ghost").unwrap_err(),
            UserError::NoSuchUser("ghost".into())
        );
        assert_eq!(
            id("app:ghosts").unwrap_err(),
            UserError::NoSuchGroup("ghosts".into())
        );
        assert!(id("ghost").unwrap_err().to_string().contains("ghost"));
    }

    #[test]
    fn missing_files_still_allow_numeric_ids() {
        assert_eq!(resolve("0", "", "").unwrap().uid, 0);
        assert_eq!(resolve("65534:65534", "", "").unwrap().gid, 65534);
        assert!(resolve("nobody", "", "").is_err());
    }

    #[test]
    fn root_by_name() {
        let r = id("root").unwrap();
        assert_eq!((r.uid, r.gid, r.home.as_str()), (0, 0, "/root"));
    }
}
