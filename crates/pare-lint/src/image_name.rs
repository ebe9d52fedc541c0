//! Image names as written in `FROM`: `[REGISTRY/]REPOSITORY[:TAG][@DIGEST]`.

/// A parsed image name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageName {
    /// The registry host when the name carries one (`ghcr.io`, `localhost:5000`).
    pub registry: Option<String>,
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

impl ImageName {
    pub fn parse(text: &str) -> Self {
        let (rest, digest) = match text.split_once('@') {
            Some((r, d)) => (r, Some(d.to_owned())),
            None => (text, None),
        };
        let slash = rest.rfind('/').map_or(0, |i| i + 1);
        let (repo, tag) = match rest[slash..].rfind(':') {
            Some(i) => (&rest[..slash + i], Some(rest[slash + i + 1..].to_owned())),
            None => (rest, None),
        };
        let (registry, repository) = match repo.split_once('/') {
            Some((first, path))
                if first.contains('.') || first.contains(':') || first == "localhost" =>
            {
                (Some(first.to_owned()), path.to_owned())
            }
            _ => (None, repo.to_owned()),
        };
        ImageName {
            registry,
            repository,
            tag,
            digest,
        }
    }

    /// The registry, with Docker Hub's name when none is written.
    pub fn registry_or_default(&self) -> &str {
        self.registry.as_deref().unwrap_or("docker.io")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts() {
        let n = ImageName::parse("ghcr.io/org/app:1.2@sha256:abc");
        assert_eq!(n.registry.as_deref(), Some("ghcr.io"));
        assert_eq!(n.repository, "org/app");
        assert_eq!(n.tag.as_deref(), Some("1.2"));
        assert_eq!(n.digest.as_deref(), Some("sha256:abc"));
        let n = ImageName::parse("localhost:5000/app");
        assert_eq!(n.registry.as_deref(), Some("localhost:5000"));
        assert_eq!(n.tag, None);
        let n = ImageName::parse("library/debian:bookworm");
        assert_eq!(n.registry, None);
        assert_eq!(n.registry_or_default(), "docker.io");
        assert_eq!(n.tag.as_deref(), Some("bookworm"));
    }
}
