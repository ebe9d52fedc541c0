//! Package URLs (purl), canonical form: lower-case type, percent-encoded segments
//! (`+` too, as the current purl spec wants: `12.4%2Bdeb12u15`), qualifiers sorted by
//! key, empty qualifiers left out. [`Parsed`] reads either spelling of `+`, because
//! older tools (syft, Trivy before 2024) write it bare.

use std::collections::BTreeMap;
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
                write!(f, "{}/", encode(segment))?;
            }
        }
        f.write_str(&encode(self.name))?;
        if let Some(v) = self.version {
            write!(f, "@{}", encode(v))?;
        }
        let mut qualifiers = self.qualifiers.clone();
        qualifiers.sort_by(|a, b| a.0.cmp(b.0));
        for (i, (k, v)) in qualifiers.iter().enumerate() {
            let sep = if i == 0 { '?' } else { '&' };
            write!(f, "{sep}{k}={}", encode(v))?;
        }
        Ok(())
    }
}

/// Percent-encodes all but RFC 3986 unreserved characters.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        let c = b as char;
        if c.is_ascii_alphanumeric() || "-._~".contains(c) {
            out.push(c);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// Undoes percent-encoding; a bare `+` stays a `+` (purls are not form data).
fn decode(s: &str) -> Result<String, PurlError> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or(PurlError("a `%` not followed by two hex digits"))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| PurlError("percent-encoded bytes are not UTF-8"))
}

/// Why a string is not a purl.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PurlError(&'static str);

impl std::fmt::Display for PurlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for PurlError {}

/// A purl read from text, its parts decoded. `to_string` gives the canonical form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parsed {
    /// Lower case (`deb`, `pypi`).
    pub kind: String,
    /// Slash-separated segments, decoded.
    pub namespace: Option<String>,
    pub name: String,
    pub version: Option<String>,
    pub qualifiers: BTreeMap<String, String>,
    pub subpath: Option<String>,
}

impl Parsed {
    /// Reads `pkg:TYPE/NAMESPACE/NAME@VERSION?QUALIFIERS#SUBPATH` (namespace, version,
    /// qualifiers and subpath optional), `%2B` and `+` alike.
    pub fn parse(text: &str) -> Result<Parsed, PurlError> {
        let rest = text
            .trim()
            .strip_prefix("pkg:")
            .ok_or(PurlError("does not start with `pkg:`"))?
            .trim_start_matches('/');
        let (rest, subpath) = match rest.split_once('#') {
            Some((r, s)) => (r, Some(decode(s.trim_matches('/'))?)),
            None => (rest, None),
        };
        let (rest, query) = match rest.split_once('?') {
            Some((r, q)) => (r, Some(q)),
            None => (rest, None),
        };
        let mut qualifiers = BTreeMap::new();
        for pair in query.into_iter().flat_map(|q| q.split('&')) {
            if pair.is_empty() {
                continue;
            }
            let (k, v) = pair
                .split_once('=')
                .ok_or(PurlError("a qualifier without `=`"))?;
            let v = decode(v)?;
            if !v.is_empty() {
                qualifiers.insert(k.to_ascii_lowercase(), v);
            }
        }
        let (kind, path) = rest
            .split_once('/')
            .ok_or(PurlError("no `/` after the type"))?;
        if kind.is_empty() {
            return Err(PurlError("an empty type"));
        }
        let path = path.trim_end_matches('/');
        // The version follows the last `@` of the last segment (`@` in a scoped npm
        // namespace is percent-encoded in canonical purls, but not always by others).
        let (path, version) = match path.rsplit_once('/') {
            Some((ns, last)) => match last.split_once('@') {
                Some((n, v)) => (format!("{ns}/{n}"), Some(v)),
                None => (path.to_owned(), None),
            },
            None => match path.split_once('@') {
                Some((n, v)) => (n.to_owned(), Some(v)),
                None => (path.to_owned(), None),
            },
        };
        let mut segments = path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(decode)
            .collect::<Result<Vec<_>, _>>()?;
        let name = segments.pop().ok_or(PurlError("no name"))?;
        if name.is_empty() {
            return Err(PurlError("an empty name"));
        }
        Ok(Parsed {
            kind: kind.to_ascii_lowercase(),
            namespace: (!segments.is_empty()).then(|| segments.join("/")),
            name,
            version: version.map(decode).transpose()?.filter(|v| !v.is_empty()),
            qualifiers,
            subpath,
        })
    }
}

impl std::fmt::Display for Parsed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut purl = Purl::new(
            &self.kind,
            &self.name,
            self.version.as_deref().unwrap_or(""),
        )
        .namespace(self.namespace.as_deref().unwrap_or(""));
        for (k, v) in &self.qualifiers {
            purl = purl.qualifier(k, v.clone());
        }
        write!(f, "{purl}")?;
        if let Some(s) = &self.subpath {
            write!(
                f,
                "#{}",
                s.split('/').map(encode).collect::<Vec<_>>().join("/")
            )?;
        }
        Ok(())
    }
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
        // The purl spec's canonical form: `+` is percent-encoded, in versions and in
        // qualifier values.
        assert_eq!(
            Purl::new("deb", "libpython3.11-stdlib", "3.11.2-6+deb12u6")
                .namespace("debian")
                .qualifier("upstream", "python3.11@3.11.2-6+deb12u6")
                .to_string(),
            "pkg:deb/debian/libpython3.11-stdlib@3.11.2-6%2Bdeb12u6\
             ?upstream=python3.11%403.11.2-6%2Bdeb12u6"
        );
        assert_eq!(
            Purl::new("golang", "net", "v0.1.0")
                .namespace("golang.org/x")
                .to_string(),
            "pkg:golang/golang.org/x/net@v0.1.0"
        );
    }

    #[test]
    fn parses_either_spelling_of_plus() {
        let canonical = "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12";
        let bare = "pkg:deb/debian/libc6@2.36-9+deb12u4?distro=debian-12&arch=amd64";
        for text in [canonical, bare] {
            let p = Parsed::parse(text).unwrap();
            assert_eq!(p.kind, "deb");
            assert_eq!(p.namespace.as_deref(), Some("debian"));
            assert_eq!(p.name, "libc6");
            assert_eq!(p.version.as_deref(), Some("2.36-9+deb12u4"));
            assert_eq!(p.qualifiers["arch"], "amd64");
            assert_eq!(p.to_string(), canonical);
        }
    }

    #[test]
    fn parses_scopes_go_paths_epochs_and_subpaths() {
        let scoped = Parsed::parse("pkg:npm/%40babel/core@7.0.0").unwrap();
        assert_eq!(scoped.namespace.as_deref(), Some("@babel"));
        assert_eq!(scoped.name, "core");
        let unencoded_scope = Parsed::parse("pkg:npm/@babel/core@7.0.0").unwrap();
        assert_eq!(unencoded_scope, scoped);
        let go = Parsed::parse("pkg:golang/golang.org/x/net@v0.1.0#http2").unwrap();
        assert_eq!(go.namespace.as_deref(), Some("golang.org/x"));
        assert_eq!(go.subpath.as_deref(), Some("http2"));
        let epoch = Parsed::parse("pkg:deb/debian/zlib1g@1%3A1.2.13.dfsg-1").unwrap();
        assert_eq!(epoch.version.as_deref(), Some("1:1.2.13.dfsg-1"));
        let unversioned = Parsed::parse("pkg:pypi/flask").unwrap();
        assert_eq!(
            (unversioned.name.as_str(), unversioned.version),
            ("flask", None)
        );
    }

    #[test]
    fn rejects_what_is_not_a_purl() {
        for bad in [
            "",
            "flask",
            "pkg:",
            "pkg:pypi",
            "pkg:pypi/",
            "pkg:pypi/a%zz@1",
            "pkg:/x",
        ] {
            assert!(Parsed::parse(bad).is_err(), "{bad:?}");
        }
    }

    /// Purls come from VEX documents: every truncation and damaged byte gives a purl
    /// or an error, never a panic.
    #[test]
    fn damaged_purls_never_panic() {
        for text in [
            "pkg:deb/debian/zlib1g@1%3A1.2.13.dfsg-1?arch=amd64&distro=debian-12#sub/path",
            "pkg:npm/%40babel/core@7.0.0",
        ] {
            for cut in 0..=text.len() {
                let _ = Parsed::parse(&text[..cut]);
            }
            for at in 0..text.len() {
                for b in ["%", "@", "?", "#", "/", "é"] {
                    let damaged = format!("{}{b}{}", &text[..at], &text[at + 1..]);
                    let _ = Parsed::parse(&damaged);
                }
            }
        }
    }
}
