//! Package URLs (purl), canonical form: lower-case type, percent-encoded segments,
//! qualifiers sorted by key, empty qualifiers left out.

use std::fmt::Write as _;

/// A purl being put together.
#[derive(Clone, Debug, Default)]
pub struct Purl<'a> {
    pub kind: &'a str,
    pub namespace: Option<&'a str>,
    pub name: &'a str,
    pub version: Option<&'a str>,
    pub qualifiers: Vec<(&'a str, String)>,
}

impl<'a> Purl<'a> {
    /// `pkg:KIND/NAME@VERSION`.
    pub fn new(kind: &'a str, name: &'a str, version: &'a str) -> Self {
        Purl {
            kind,
            name,
            version: (!version.is_empty()).then_some(version),
            ..Default::default()
        }
    }

    /// With a namespace (`debian`, `@types`, a Maven group, a Go module path prefix).
    pub fn namespace(mut self, namespace: &'a str) -> Self {
        self.namespace = (!namespace.is_empty()).then_some(namespace);
        self
    }

    /// With a qualifier; empty values are left out.
    pub fn qualifier(mut self, key: &'a str, value: impl Into<String>) -> Self {
        let value = value.into();
        if !value.is_empty() {
            self.qualifiers.push((key, value));
        }
        self
    }
}

impl std::fmt::Display for Purl<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "pkg:{}/", self.kind)?;
        if let Some(ns) = self.namespace {
            for segment in ns.split('/').filter(|s| !s.is_empty()) {
                write!(f, "{}/", encode(segment, ""))?;
            }
        }
        f.write_str(&encode(self.name, ""))?;
        if let Some(v) = self.version {
            // `+` is common in distro versions and every purl parser reads it as is.
            write!(f, "@{}", encode(v, "+"))?;
        }
        let mut qualifiers = self.qualifiers.clone();
        qualifiers.sort_by(|a, b| a.0.cmp(b.0));
        for (i, (k, v)) in qualifiers.iter().enumerate() {
            let sep = if i == 0 { '?' } else { '&' };
            write!(f, "{sep}{k}={}", encode(v, "+"))?;
        }
        Ok(())
    }
}

/// Percent-encodes all but RFC 3986 unreserved characters and `keep`.
fn encode(s: &str, keep: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        let c = b as char;
        if c.is_ascii_alphanumeric() || "-._~".contains(c) || keep.contains(c) {
            out.push(c);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deb_with_epoch_and_qualifiers_sorted() {
        let purl = Purl::new("deb", "zlib1g", "1:1.2.13.dfsg-1")
            .namespace("debian")
            .qualifier("distro", "debian-12")
            .qualifier("arch", "amd64")
            .qualifier("upstream", "");
        assert_eq!(
            purl.to_string(),
            "pkg:deb/debian/zlib1g@1%3A1.2.13.dfsg-1?arch=amd64&distro=debian-12"
        );
    }

    #[test]
    fn npm_scope_and_plus_in_versions() {
        assert_eq!(
            Purl::new("npm", "node", "20.1.0")
                .namespace("@types")
                .to_string(),
            "pkg:npm/%40types/node@20.1.0"
        );
        assert_eq!(
            Purl::new("deb", "libpython3.11-stdlib", "3.11.2-6+deb12u6")
                .namespace("debian")
                .to_string(),
            "pkg:deb/debian/libpython3.11-stdlib@3.11.2-6+deb12u6"
        );
        assert_eq!(
            Purl::new("golang", "net", "v0.1.0")
                .namespace("golang.org/x")
                .to_string(),
            "pkg:golang/golang.org/x/net@v0.1.0"
        );
    }
}
