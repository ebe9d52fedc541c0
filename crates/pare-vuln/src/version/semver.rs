//! Semantic versions for npm, crates.io and Go. Precedence as SemVer 2.0 says it:
//! pre-releases before the release, build metadata ignored (Go's `+incompatible`,
//! npm's `+build`). Go adds a `v` prefix, pseudo-versions (valid SemVer pre-releases,
//! `v0.0.0-20210101000000-abcdef123456`, which sort in time order) and the toolchain's
//! own spelling for the standard library (`go1.19.8`, `go1.21rc2`).

/// A SemVer version compared by precedence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Version(pub semver::Version);

impl Version {
    /// npm and crates.io: strict SemVer, also `v1.2.3`, `=1.2.3`, and the short
    /// `1` / `1.2` some old advisories use (missing parts are zero).
    pub fn parse(text: &str) -> Option<Version> {
        let text = text.trim();
        let text = text
            .strip_prefix('v')
            .or_else(|| text.strip_prefix('='))
            .unwrap_or(text);
        if let Ok(v) = semver::Version::parse(text) {
            return Some(Version(v));
        }
        // `1` or `1.2`, possibly with a pre-release: pad the core.
        let (core, tail) = match text.find(['-', '+']) {
            Some(i) => text.split_at(i),
            None => (text, ""),
        };
        let parts = core.split('.').count();
        if !(1..=2).contains(&parts) || !core.split('.').all(is_number) {
            return None;
        }
        let padded = format!("{core}{}{tail}", ".0".repeat(3 - parts));
        semver::Version::parse(&padded).ok().map(Version)
    }

    /// Go module versions (`v1.2.3`, pseudo-versions, `+incompatible`) and, for the
    /// standard library, Go release names (`go1.19.8`, `go1.21`, `go1.21rc2`,
    /// `go1.9beta1`), the latter as the Go vulnerability database writes them
    /// (`1.21.0-rc.2`).
    pub fn parse_go(text: &str) -> Option<Version> {
        let text = text.trim();
        match text.strip_prefix("go") {
            Some(release) => go_release(release),
            None => Version::parse(text),
        }
    }
}

fn is_number(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// `1.19.8` → 1.19.8; `1.21` → 1.21.0; `1.21rc2` → 1.21.0-rc.2; `1.9beta1` →
/// 1.9.0-beta.1 (Go's own `semverish` conversion in golang.org/x/vuln).
fn go_release(text: &str) -> Option<Version> {
    let (core, pre) = match text.find(|c: char| c.is_ascii_alphabetic()) {
        Some(i) => text.split_at(i),
        None => (text, ""),
    };
    let mut parts: Vec<&str> = core.split('.').collect();
    if parts.len() > 3 || !parts.iter().all(|p| is_number(p)) {
        return None;
    }
    while parts.len() < 3 {
        parts.push("0");
    }
    let mut v = parts.join(".");
    if !pre.is_empty() {
        let split = pre.find(|c: char| c.is_ascii_digit()).unwrap_or(pre.len());
        let (word, number) = pre.split_at(split);
        v = if number.is_empty() {
            format!("{v}-{word}")
        } else {
            format!("{v}-{word}.{number}")
        };
    }
    semver::Version::parse(&v).ok().map(Version)
}

ord_by!(Version, |a: &Version, b: &Version| a.0.cmp_precedence(&b.0));

#[cfg(test)]
mod tests {
    use super::*;
    use std::cmp::Ordering::{self, *};

    fn npm(a: &str, b: &str) -> Ordering {
        Version::parse(a)
            .expect(a)
            .cmp(&Version::parse(b).expect(b))
    }

    fn go(a: &str, b: &str) -> Ordering {
        Version::parse_go(a)
            .expect(a)
            .cmp(&Version::parse_go(b).expect(b))
    }

    /// minimist's advisory (GHSA-xvch-5gv4-984h: `< 0.2.4`, `>= 1.0.0, < 1.2.6`).
    #[test]
    fn npm_versions_from_the_minimist_record() {
        assert_eq!(npm("1.2.5", "1.2.6"), Less);
        assert_eq!(npm("0.2.3", "0.2.4"), Less);
        assert_eq!(npm("1.0.0", "0.2.4"), Greater);
        assert_eq!(npm("1.2.6-beta.1", "1.2.6"), Less);
        assert_eq!(npm("1.2.6+build.5", "1.2.6"), Equal);
        assert_eq!(npm("v1.2.5", "1.2.5"), Equal);
        assert_eq!(npm("1.2", "1.2.0"), Equal);
        assert_eq!(npm("2", "1.99.99"), Greater);
        assert!(Version::parse("1.2.x").is_none());
        assert!(Version::parse("latest").is_none());
    }

    /// Versions as the Go vulnerability database and Go binaries write them.
    #[test]
    fn go_module_and_toolchain_versions() {
        // stdlib, GO-2021-0067: introduced 1.16.0-0, fixed 1.16.1
        assert_eq!(go("go1.16", "1.16.0-0"), Greater);
        assert_eq!(go("go1.16.1", "1.16.1"), Equal);
        assert_eq!(go("go1.19.8", "1.19.9"), Less);
        assert_eq!(go("go1.19.8", "1.20.0-0"), Less);
        assert_eq!(go("go1.21rc2", "1.21.0-rc.2"), Equal);
        assert_eq!(go("go1.21rc2", "go1.21.0"), Less);
        assert_eq!(go("go1.9beta1", "1.9.0-beta.1"), Equal);
        // modules: the `v`, pseudo-versions in time order, +incompatible ignored
        assert_eq!(go("v0.7.0", "0.7.0"), Equal);
        assert_eq!(
            go(
                "v0.0.0-20210520170846-37e1c6afe023",
                "0.0.0-20220722155217-630584e8d5aa"
            ),
            Less
        );
        assert_eq!(go("v0.0.0-20220722155217-630584e8d5aa", "0.1.0"), Less);
        assert_eq!(go("v2.0.0+incompatible", "2.0.0"), Equal);
        assert!(Version::parse_go("devel +abc123").is_none());
        assert!(Version::parse_go("go1.x").is_none());
    }
}
