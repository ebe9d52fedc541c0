//! Image references in skopeo's transport syntax, so users can reuse what they know.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::error::ImageError;
use crate::registry::RegistryRef;

/// Where an image comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImageRef {
    /// `docker-daemon:NAME[:TAG]`, or a bare `NAME[:TAG]`: an image in the Docker engine.
    DockerDaemon { name: String },
    /// `docker-archive:PATH[:NAME[:TAG]]`: what `docker save` writes, classic or OCI layout.
    DockerArchive { path: PathBuf, name: Option<String> },
    /// `oci-archive:PATH[:TAG]`: a tar of an OCI image layout.
    OciArchive { path: PathBuf, tag: Option<String> },
    /// `oci:DIR[:TAG]`: an OCI image layout directory.
    OciLayout { dir: PathBuf, tag: Option<String> },
    /// `docker://REGISTRY/NAME[:TAG|@DIGEST]`, Docker Hub names normalised.
    Registry { reference: RegistryRef },
    /// `containers-storage:[DRIVER@ROOT+RUNROOT]NAME`: an image in Podman's store.
    ContainersStorage {
        name: String,
        store: Option<StorageSpec>,
    },
}

/// skopeo's `[DRIVER@ROOT+RUNROOT]` prefix of a `containers-storage:` reference: which
/// containers/storage store to use instead of the default one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StorageSpec {
    pub driver: Option<String>,
    pub root: PathBuf,
    pub run_root: Option<PathBuf>,
}

impl ImageRef {
    /// Parses a reference as the user typed it.
    pub fn parse(text: &str) -> Result<Self, ImageError> {
        let bad = |reason: &str| ImageError::BadReference {
            reference: text.to_owned(),
            reason: reason.to_owned(),
        };
        if text.is_empty() {
            return Err(bad("empty"));
        }
        if let Some(rest) = text.strip_prefix("docker-daemon:") {
            if rest.is_empty() {
                return Err(bad("no image name after docker-daemon:"));
            }
            return Ok(ImageRef::DockerDaemon {
                name: with_default_tag(rest),
            });
        }
        if let Some(rest) = text.strip_prefix("docker-archive:") {
            let (path, name) = split_path_and_suffix(rest);
            if path.as_os_str().is_empty() {
                return Err(bad("no path after docker-archive:"));
            }
            return Ok(ImageRef::DockerArchive { path, name });
        }
        if let Some(rest) = text.strip_prefix("oci-archive:") {
            let (path, tag) = split_path_and_suffix(rest);
            if path.as_os_str().is_empty() {
                return Err(bad("no path after oci-archive:"));
            }
            return Ok(ImageRef::OciArchive { path, tag });
        }
        if let Some(rest) = text.strip_prefix("oci:") {
            let (dir, tag) = split_path_and_suffix(rest);
            if dir.as_os_str().is_empty() {
                return Err(bad("no directory after oci:"));
            }
            return Ok(ImageRef::OciLayout { dir, tag });
        }
        if let Some(rest) = text.strip_prefix("docker://") {
            if rest.is_empty() {
                return Err(bad("no image after docker://"));
            }
            return RegistryRef::parse(rest)
                .map(|reference| ImageRef::Registry { reference })
                .map_err(|reason| bad(&reason));
        }
        if let Some(rest) = text.strip_prefix("containers-storage:") {
            let (store, name) = match rest.strip_prefix('[') {
                Some(inner) => {
                    let (spec, name) = inner
                        .split_once(']')
                        .ok_or_else(|| bad("no ] after containers-storage:[STORE"))?;
                    (Some(parse_storage_spec(spec).map_err(|r| bad(&r))?), name)
                }
                None => (None, rest),
            };
            if name.is_empty() || name.contains(char::is_whitespace) {
                return Err(bad("no image name after containers-storage:"));
            }
            return Ok(ImageRef::ContainersStorage {
                name: name.to_owned(),
                store,
            });
        }
        if text.contains(char::is_whitespace) || text.starts_with('/') || text.starts_with('.') {
            return Err(bad(
                "not an image name; use docker-archive:PATH, oci:DIR or docker-daemon:NAME",
            ));
        }
        Ok(ImageRef::DockerDaemon {
            name: with_default_tag(text),
        })
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let suffix = |s: &Option<String>| s.as_ref().map(|s| format!(":{s}")).unwrap_or_default();
        match self {
            ImageRef::DockerDaemon { name } => write!(f, "docker-daemon:{name}"),
            ImageRef::DockerArchive { path, name } => {
                write!(f, "docker-archive:{}{}", path.display(), suffix(name))
            }
            ImageRef::OciArchive { path, tag } => {
                write!(f, "oci-archive:{}{}", path.display(), suffix(tag))
            }
            ImageRef::OciLayout { dir, tag } => write!(f, "oci:{}{}", dir.display(), suffix(tag)),
            ImageRef::Registry { reference } => write!(f, "docker://{reference}"),
            ImageRef::ContainersStorage { name, store: None } => {
                write!(f, "containers-storage:{name}")
            }
            ImageRef::ContainersStorage {
                name,
                store: Some(s),
            } => {
                write!(f, "containers-storage:[")?;
                if let Some(d) = &s.driver {
                    write!(f, "{d}@")?;
                }
                write!(f, "{}", s.root.display())?;
                if let Some(r) = &s.run_root {
                    write!(f, "+{}", r.display())?;
                }
                write!(f, "]{name}")
            }
        }
    }
}

/// `[DRIVER@]ROOT[+RUNROOT]`; store options (`:OPTIONS`) are refused rather than
/// ignored.
fn parse_storage_spec(spec: &str) -> Result<StorageSpec, String> {
    let (driver, rest) = match spec.split_once('@') {
        Some((d, r)) => (Some(d.to_owned()), r),
        None => (None, spec),
    };
    if rest.contains(':') {
        return Err(
            "storage options in [...] are not supported; configure them in storage.conf".into(),
        );
    }
    let (root, run_root) = match rest.split_once('+') {
        Some((root, run)) => (root, Some(PathBuf::from(run))),
        None => (rest, None),
    };
    if !root.starts_with('/') {
        return Err(format!(
            "{root:?}: the store's root must be an absolute path"
        ));
    }
    Ok(StorageSpec {
        driver,
        root: PathBuf::from(root),
        run_root,
    })
}

/// `nginx` means `nginx:latest`, as in Docker; a digest or an explicit tag stays.
fn with_default_tag(name: &str) -> String {
    let last = name.rsplit('/').next().unwrap_or(name);
    if name.contains('@') || last.contains(':') || name.starts_with("sha256:") {
        name.to_owned()
    } else {
        format!("{name}:latest")
    }
}

/// A path may itself hold `:`, so the suffix is split off only when what stands before
/// it exists and the whole does not (skopeo reads `PATH:REF` the same way).
fn split_path_and_suffix(rest: &str) -> (PathBuf, Option<String>) {
    if Path::new(rest).exists() {
        return (PathBuf::from(rest), None);
    }
    match rest.split_once(':') {
        Some((path, suffix)) if !suffix.is_empty() => {
            (PathBuf::from(path), Some(suffix.to_owned()))
        }
        Some((path, _)) => (PathBuf::from(path), None),
        None => (PathBuf::from(rest), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transports() {
        assert_eq!(
            ImageRef::parse("nginx").unwrap(),
            ImageRef::DockerDaemon {
                name: "nginx:latest".into()
            }
        );
        assert_eq!(
            ImageRef::parse("localhost:5000/app").unwrap(),
            ImageRef::DockerDaemon {
                name: "localhost:5000/app:latest".into()
            }
        );
        assert_eq!(
            ImageRef::parse("docker-daemon:pare-test/flask:1").unwrap(),
            ImageRef::DockerDaemon {
                name: "pare-test/flask:1".into()
            }
        );
        assert_eq!(
            ImageRef::parse("oci:/nonexistent/dir:v1").unwrap(),
            ImageRef::OciLayout {
                dir: "/nonexistent/dir".into(),
                tag: Some("v1".into())
            }
        );
        assert_eq!(
            ImageRef::parse("docker-archive:/x.tar").unwrap(),
            ImageRef::DockerArchive {
                path: "/x.tar".into(),
                name: None
            }
        );
        assert_eq!(
            ImageRef::parse("docker://debian:12").unwrap().to_string(),
            "docker://docker.io/library/debian:12"
        );
        assert!(ImageRef::parse("docker://UPPER").is_err());
        let podman = ImageRef::parse("containers-storage:[overlay@/s/root+/s/run]app:1").unwrap();
        assert_eq!(
            podman,
            ImageRef::ContainersStorage {
                name: "app:1".into(),
                store: Some(StorageSpec {
                    driver: Some("overlay".into()),
                    root: "/s/root".into(),
                    run_root: Some("/s/run".into()),
                }),
            }
        );
        assert_eq!(
            podman.to_string(),
            "containers-storage:[overlay@/s/root+/s/run]app:1"
        );
        assert!(ImageRef::parse("containers-storage:[/x:opt]app").is_err());
        assert!(ImageRef::parse("containers-storage:").is_err());
        assert!(ImageRef::parse("oci:").is_err());
        assert!(ImageRef::parse("/some/path.tar").is_err());
    }
}
