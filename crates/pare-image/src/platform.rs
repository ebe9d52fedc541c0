//! Which image of a multi-platform index pare reads: `--platform os/arch[/variant]`,
//! by default this machine's, as `docker pull` and `skopeo copy` choose; a
//! `ReadContext` says which for each read.

use std::fmt;

/// An OS, architecture and optional variant, in the OCI index's words
/// (`linux/amd64`, `linux/arm/v7`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
}

impl Platform {
    /// Parses `os/arch[/variant]`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let parts: Vec<&str> = text.split('/').collect();
        let ok =
            |s: &&str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        match parts.as_slice() {
            [os, arch] if ok(os) && ok(arch) => Ok(Platform {
                os: os.to_string(),
                architecture: arch.to_string(),
                variant: None,
            }),
            [os, arch, variant] if ok(os) && ok(arch) && ok(variant) => Ok(Platform {
                os: os.to_string(),
                architecture: arch.to_string(),
                variant: Some(variant.to_string()),
            }),
            _ => Err(format!(
                "platform {text:?}: expected OS/ARCH[/VARIANT], e.g. linux/amd64 or linux/arm64/v8"
            )),
        }
    }

    /// This machine, in Go's architecture names (which image indexes use).
    pub fn host() -> Self {
        let architecture = match std::env::consts::ARCH {
            "x86_64" => "amd64",
            "aarch64" => "arm64",
            "powerpc64" => "ppc64le",
            "x86" => "386",
            other => other,
        };
        Platform {
            os: "linux".into(),
            architecture: architecture.into(),
            variant: None,
        }
    }

    /// Whether an index entry for `offered` serves a request for `self`. With no
    /// variant asked for, any variant does (arm64 images often say `v8`, often nothing);
    /// an arm64 entry without a variant is `v8`.
    pub fn accepts(&self, offered: &Platform) -> bool {
        if self.os != offered.os || self.architecture != offered.architecture {
            return false;
        }
        let normal = |p: &Platform| match (p.architecture.as_str(), p.variant.as_deref()) {
            ("arm64", None) => Some("v8".to_owned()),
            (_, v) => v.map(str::to_owned),
        };
        self.variant.is_none() || normal(self) == normal(offered)
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_matches_as_docker_does() {
        let amd64 = Platform::parse("linux/amd64").unwrap();
        assert_eq!(amd64.to_string(), "linux/amd64");
        let arm = Platform::parse("linux/arm/v7").unwrap();
        assert_eq!(arm.variant.as_deref(), Some("v7"));
        assert!(Platform::parse("linux").is_err());
        assert!(Platform::parse("linux/amd64/v1/x").is_err());
        assert!(Platform::parse("linux//v7").is_err());

        let arm64 = Platform::parse("linux/arm64").unwrap();
        let arm64_v8 = Platform::parse("linux/arm64/v8").unwrap();
        assert!(arm64.accepts(&arm64_v8));
        assert!(arm64_v8.accepts(&arm64));
        assert!(!arm.accepts(&Platform::parse("linux/arm/v6").unwrap()));
        assert!(!amd64.accepts(&arm64));
    }
}
