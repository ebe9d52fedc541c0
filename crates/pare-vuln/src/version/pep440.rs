//! PyPI versions, ordered as PEP 440 says (`1.0.dev1 < 1.0a1 < 1.0rc1 < 1.0 <
//! 1.0.post1`, epochs `1!`, local versions `+ubuntu1` after their base), through the
//! `pep440_rs` crate (uv's). Legacy non-PEP 440 versions do not parse: they cannot be
//! ordered, so ranges are not evaluated for them (exact `versions` entries still are).

use std::str::FromStr;

/// A PEP 440 version.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version(pep440_rs::Version);

impl Version {
    pub fn parse(text: &str) -> Option<Version> {
        pep440_rs::Version::from_str(text.trim()).ok().map(Version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cmp::Ordering::{self, *};

    fn cmp(a: &str, b: &str) -> Ordering {
        Version::parse(a)
            .expect(a)
            .cmp(&Version::parse(b).expect(b))
    }

    /// Versions from the Flask, Werkzeug, requests and PyYAML records.
    #[test]
    fn versions_from_real_records() {
        assert_eq!(cmp("2.2.2", "2.2.5"), Less);
        assert_eq!(cmp("2.3.1", "2.3.0"), Greater);
        assert_eq!(cmp("2.0.0rc1", "2.0.0"), Less);
        assert_eq!(cmp("2.0.0rc2", "2.0.0rc1"), Greater);
        assert_eq!(cmp("0.10", "0.9"), Greater);
        assert_eq!(cmp("5.4b1", "5.4"), Less);
        assert_eq!(cmp("5.4b2", "5.3.1"), Greater);
        assert_eq!(cmp("2.2", "2.2.0"), Equal);
        assert_eq!(cmp("1.0.dev1", "1.0a1"), Less);
        assert_eq!(cmp("1.0.post1", "1.0"), Greater);
        assert_eq!(cmp("1!0.1", "2.0"), Greater);
        assert_eq!(cmp("1.0+ubuntu1", "1.0"), Greater);
        assert_eq!(cmp("2.32.0", "2.4.0"), Greater);
        assert!(Version::parse("0.1dev-r1234-x").is_none());
    }
}
