//! Version orderings, one module per scheme, and the choice of scheme for an OSV
//! ecosystem. A [`Version`] only compares with a version of its own scheme.

/// `Ord`, and the `PartialOrd` that agrees with it, from a comparison function: each
/// scheme's order is a function, the traits are the same glue for all of them.
macro_rules! ord_by {
    ($t:ty, $cmp:expr) => {
        impl Ord for $t {
            fn cmp(&self, other: &Self) -> std::cmp::Ordering {
                $cmp(self, other)
            }
        }

        impl PartialOrd for $t {
            fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
                Some(self.cmp(other))
            }
        }
    };
}

pub mod apk;
pub mod dpkg;
pub mod pep440;
pub mod rpm;
pub mod semver;

use std::cmp::Ordering;

/// How an ecosystem orders its versions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    Dpkg,
    Apk,
    Rpm,
    Pep440,
    Semver,
    Go,
}

impl Scheme {
    /// The scheme of an OSV ecosystem (`Debian:12`, `Alpine:v3.19`, `PyPI`, …), or
    /// `None` for ecosystems pare cannot order.
    pub fn for_ecosystem(ecosystem: &str) -> Option<Scheme> {
        let base = ecosystem.split(':').next().unwrap_or(ecosystem);
        Some(match base {
            "Debian" | "Ubuntu" => Scheme::Dpkg,
            "Alpine" | "Wolfi" | "Chainguard" => Scheme::Apk,
            "Rocky Linux" | "AlmaLinux" | "Red Hat" | "openSUSE" | "SUSE" | "Mageia" => Scheme::Rpm,
            "PyPI" => Scheme::Pep440,
            "npm" | "crates.io" => Scheme::Semver,
            "Go" => Scheme::Go,
            _ => return None,
        })
    }

    /// Parses `text` in this scheme; `None` when it is not a version of it.
    pub fn parse(self, text: &str) -> Option<Version> {
        Some(match self {
            Scheme::Dpkg => Version::Dpkg(dpkg::Version::parse(text)?),
            Scheme::Apk => Version::Apk(apk::Version::parse(text)?),
            Scheme::Rpm => Version::Rpm(rpm::Version::parse(text)?),
            Scheme::Pep440 => Version::Pep440(pep440::Version::parse(text)?),
            Scheme::Semver => Version::Semver(semver::Version::parse(text)?),
            Scheme::Go => Version::Semver(semver::Version::parse_go(text)?),
        })
    }
}

/// A version of some scheme.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Version {
    Dpkg(dpkg::Version),
    Apk(apk::Version),
    Rpm(rpm::Version),
    Pep440(pep440::Version),
    Semver(semver::Version),
}

impl PartialOrd for Version {
    /// `None` across schemes.
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        match (self, other) {
            (Version::Dpkg(a), Version::Dpkg(b)) => Some(a.cmp(b)),
            (Version::Apk(a), Version::Apk(b)) => Some(a.cmp(b)),
            (Version::Rpm(a), Version::Rpm(b)) => Some(a.cmp(b)),
            (Version::Pep440(a), Version::Pep440(b)) => Some(a.cmp(b)),
            (Version::Semver(a), Version::Semver(b)) => Some(a.cmp(b)),
            _ => None,
        }
    }
}

#[cfg(test)]
pub(crate) mod testing {
    use super::{Scheme, Version};
    use std::cmp::Ordering;

    /// Asserts each pair orders as given under `scheme`, and the reverse pair the
    /// other way round.
    pub fn assert_orders(scheme: Scheme, cases: &[(&str, &str, Ordering)]) {
        let parse = |v: &str| -> Version {
            scheme
                .parse(v)
                .unwrap_or_else(|| panic!("{v:?} is not a {scheme:?} version"))
        };
        for (a, b, want) in cases {
            let (va, vb) = (parse(a), parse(b));
            assert_eq!(va.partial_cmp(&vb), Some(*want), "{a} vs {b}");
            assert_eq!(vb.partial_cmp(&va), Some(want.reverse()), "{b} vs {a}");
        }
    }
}
