//! Image names in a registry, normalised as Docker normalises them: `debian:12` is
//! `docker.io/library/debian:12`, a first component with a `.` or `:` (or
//! `localhost`) is a registry host, and a digest wins over a tag.

use std::fmt;
use std::net::IpAddr;

use crate::digest::Digest;

/// Docker Hub as users write it; its API lives at [`HUB_API_HOST`].
pub const HUB: &str = "docker.io";
/// Where Docker Hub's registry API answers.
pub const HUB_API_HOST: &str = "registry-1.docker.io";

/// `REGISTRY/REPOSITORY[:TAG][@DIGEST]`, parsed and normalised.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegistryRef {
    /// `host[:port]` as the user wrote it (`docker.io` for Docker Hub).
    pub registry: String,
    /// `library/debian`, `team/app`.
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<Digest>,
}

impl RegistryRef {
    /// Parses what follows `docker://`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let (rest, digest) = match text.split_once('@') {
            Some((rest, digest)) => (rest, Some(Digest::parse(digest)?)),
            None => (text, None),
        };
        let (name, tag) = match rest.rsplit_once(':') {
            Some((name, tag)) if !tag.contains('/') => (name, Some(tag.to_owned())),
            _ => (rest, None),
        };
        let (registry, repository) = match name.split_once('/') {
            Some((first, path))
                if first.contains('.') || first.contains(':') || first == "localhost" =>
            {
                (first.to_owned(), path.to_owned())
            }
            _ => (HUB.to_owned(), name.to_owned()),
        };
        let registry = match registry.as_str() {
            "index.docker.io" | "registry-1.docker.io" => HUB.to_owned(),
            _ => registry,
        };
        let repository = if registry == HUB && !repository.contains('/') {
            format!("library/{repository}")
        } else {
            repository
        };
        check_host(&registry)?;
        check_repository(&repository)?;
        if let Some(tag) = &tag {
            check_tag(tag)?;
        }
        Ok(RegistryRef {
            registry,
            repository,
            tag,
            digest,
        })
    }

    /// What goes after `/manifests/`: the digest when there is one, else the tag
    /// (`latest` when none was given, as in Docker).
    pub fn reference(&self) -> String {
        match (&self.digest, &self.tag) {
            (Some(d), _) => d.to_string(),
            (None, Some(t)) => t.clone(),
            (None, None) => "latest".into(),
        }
    }

    /// The host the API answers at (`registry-1.docker.io` for Docker Hub).
    pub fn api_host(&self) -> &str {
        if self.registry == HUB {
            HUB_API_HOST
        } else {
            &self.registry
        }
    }

    /// A registry on this machine (`localhost`, 127.0.0.0/8, `::1`), which Docker
    /// lets speak plain HTTP.
    pub fn is_loopback(&self) -> bool {
        is_loopback_host(&self.registry)
    }

    /// The same repository with another tag and no digest.
    pub fn with_tag(&self, tag: &str) -> Self {
        RegistryRef {
            tag: Some(tag.to_owned()),
            digest: None,
            ..self.clone()
        }
    }
}

/// Whether `host[:port]` names this machine.
pub fn is_loopback_host(host_port: &str) -> bool {
    let host = match host_port.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(v6),
        None => host_port.rsplit_once(':').map_or(host_port, |(h, p)| {
            if p.chars().all(|c| c.is_ascii_digit()) {
                h
            } else {
                host_port
            }
        }),
    };
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

impl fmt::Display for RegistryRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

fn check_host(host: &str) -> Result<(), String> {
    let ok = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    if ok {
        Ok(())
    } else {
        Err(format!("{host:?} is not a registry host"))
    }
}

/// Lowercase path components of letters and digits joined by `.`, `_`, `__` or `-`s,
/// as the distribution spec allows.
fn check_repository(repository: &str) -> Result<(), String> {
    let component_ok = |c: &str| {
        let bytes = c.as_bytes();
        !c.is_empty()
            && bytes[0].is_ascii_alphanumeric()
            && bytes[bytes.len() - 1].is_ascii_alphanumeric()
            && c.chars().all(|ch| {
                ch.is_ascii_lowercase() || ch.is_ascii_digit() || matches!(ch, '.' | '_' | '-')
            })
    };
    if repository.len() <= 255 && repository.split('/').all(component_ok) {
        Ok(())
    } else {
        Err(format!(
            "{repository:?} is not a repository name (lowercase letters, digits and . _ - between them, / between components)"
        ))
    }
}

fn check_tag(tag: &str) -> Result<(), String> {
    let ok = !tag.is_empty()
        && tag.len() <= 128
        && tag
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        && tag
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if ok {
        Ok(())
    } else {
        Err(format!("{tag:?} is not a tag"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> (String, String, String) {
        let r = RegistryRef::parse(text).unwrap();
        (r.registry.clone(), r.repository.clone(), r.reference())
    }

    #[test]
    fn docker_hub_short_names() {
        let hub = |repo: &str, reference: &str| ("docker.io".into(), repo.into(), reference.into());
        assert_eq!(parsed("debian:12"), hub("library/debian", "12"));
        assert_eq!(parsed("debian"), hub("library/debian", "latest"));
        assert_eq!(parsed("bitnami/redis:7"), hub("bitnami/redis", "7"));
        assert_eq!(parsed("docker.io/debian"), hub("library/debian", "latest"));
        assert_eq!(
            parsed("index.docker.io/library/debian:12"),
            hub("library/debian", "12")
        );
        assert_eq!(
            RegistryRef::parse("debian").unwrap().api_host(),
            HUB_API_HOST
        );
    }

    #[test]
    fn hosts_ports_tags_digests() {
        let digest = format!("sha256:{}", "a".repeat(64));
        assert_eq!(
            parsed("127.0.0.1:5000/app:1"),
            ("127.0.0.1:5000".into(), "app".into(), "1".into())
        );
        assert_eq!(
            parsed("localhost/team/app"),
            ("localhost".into(), "team/app".into(), "latest".into())
        );
        assert_eq!(
            parsed(&format!("quay.io/team/app:1@{digest}")),
            ("quay.io".into(), "team/app".into(), digest.clone())
        );
        let r = RegistryRef::parse("127.0.0.1:5000/app:1").unwrap();
        assert_eq!(r.to_string(), "127.0.0.1:5000/app:1");
        assert!(r.is_loopback());
        assert!(is_loopback_host("[::1]:5000"));
        assert!(is_loopback_host("127.1.2.3"));
        assert!(is_loopback_host("localhost:80"));
        assert!(!is_loopback_host("10.0.0.1:5000"));
        assert!(!is_loopback_host("registry.example.com"));
    }

    #[test]
    fn refuses_what_docker_refuses() {
        for bad in [
            "Upper/Case",
            "app:",
            "app:-tag",
            "app@sha256:xyz",
            "a//b",
            "127.0.0.1:5000/",
            "app:tag with space",
        ] {
            assert!(RegistryRef::parse(bad).is_err(), "{bad}");
        }
    }
}
