//! Debian version ordering (`[epoch:]upstream[-revision]`), as dpkg's `verrevcmp`
//! does it: `~` sorts before everything, even the end of the string; letters before
//! other characters; digit runs compare as numbers. Hand-written: no maintained crate
//! does exactly dpkg's ordering, and it is forty lines.

use std::cmp::Ordering;

/// A parsed Debian version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Version {
    pub epoch: u64,
    pub upstream: String,
    pub revision: String,
}

impl Version {
    /// Parses `[epoch:]upstream[-revision]`; `None` when the epoch is not a number or
    /// the upstream part is empty.
    pub fn parse(text: &str) -> Option<Version> {
        let text = text.trim();
        let (epoch, rest) = match text.split_once(':') {
            Some((e, rest)) => (e.parse().ok()?, rest),
            None => (0, text),
        };
        let (upstream, revision) = match rest.rsplit_once('-') {
            Some((u, r)) => (u, r),
            None => (rest, ""),
        };
        if upstream.is_empty() || upstream.contains(char::is_whitespace) {
            return None;
        }
        Some(Version {
            epoch,
            upstream: upstream.to_owned(),
            revision: revision.to_owned(),
        })
    }
}

ord_by!(Version, |a: &Version, b: &Version| {
    a.epoch
        .cmp(&b.epoch)
        .then_with(|| verrevcmp(&a.upstream, &b.upstream))
        .then_with(|| verrevcmp(&a.revision, &b.revision))
});

/// The weight of a character in the non-digit parts (dpkg's `order()`).
fn order(c: Option<u8>) -> i32 {
    match c {
        Some(b'~') => -1,
        None => 0,
        Some(c) if c.is_ascii_digit() => 0,
        Some(c) if c.is_ascii_alphabetic() => i32::from(c),
        Some(c) => i32::from(c) + 256,
    }
}

fn verrevcmp(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        // The non-digit prefix, character by character.
        while (i < a.len() && !a[i].is_ascii_digit()) || (j < b.len() && !b[j].is_ascii_digit()) {
            let (ac, bc) = (order(a.get(i).copied()), order(b.get(j).copied()));
            if ac != bc {
                return ac.cmp(&bc);
            }
            i += 1;
            j += 1;
        }
        // The digit run, as a number (leading zeros skipped, then longer is bigger).
        while a.get(i) == Some(&b'0') {
            i += 1;
        }
        while b.get(j) == Some(&b'0') {
            j += 1;
        }
        let mut first_diff = Ordering::Equal;
        while i < a.len() && a[i].is_ascii_digit() && j < b.len() && b[j].is_ascii_digit() {
            if first_diff == Ordering::Equal {
                first_diff = a[i].cmp(&b[j]);
            }
            i += 1;
            j += 1;
        }
        if i < a.len() && a[i].is_ascii_digit() {
            return Ordering::Greater;
        }
        if j < b.len() && b[j].is_ascii_digit() {
            return Ordering::Less;
        }
        if first_diff != Ordering::Equal {
            return first_diff;
        }
    }
    Ordering::Equal
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::version::Scheme;
    use crate::version::testing::assert_orders;

    /// Versions from the real Debian records (debian-osv-derived) against the versions
    /// installed on Debian 11 and 12; each pair agrees with `dpkg --compare-versions`.
    #[test]
    fn real_debian_versions() {
        use Ordering::*;
        let cases = [
            // security updates sort after the release they patch
            ("5.36.0-7+deb12u2", "5.36.0-7+deb12u3", Less),
            ("5.36.0-7", "5.36.0-7+deb12u1", Less),
            ("3.40.1-2+deb12u2", "3.40.1-2+deb12u1", Greater),
            // a stable-update built from a newer upstream: `~deb12u1` sorts before
            // the plain revision it backports
            ("3.0.15-1~deb12u1", "3.0.15-1", Less),
            ("3.0.11-1~deb12u2", "3.0.15-1~deb12u1", Less),
            ("3.0.19-1~deb12u2", "3.0.15-1~deb12u1", Greater),
            // epochs beat everything
            ("1:1.2.13.dfsg-1", "1:1.2.11.dfsg-4.1", Greater),
            ("1:1.2.11.dfsg-2+deb11u2", "1:1.2.11.dfsg-4.1", Less),
            ("1:1.2.13.dfsg-1", "1.3", Greater),
            ("0:1.2", "1.2", Equal),
            // digit runs are numbers
            ("2.36-9+deb12u14", "2.36-9+deb12u4", Greater),
            ("2.31-13+deb11u3", "2.31-13+deb11u10", Less),
            // tildes: pre-releases before the release, and before the end of string
            ("1.0~rc1-1", "1.0-1", Less),
            ("1.0~~a", "1.0~", Less),
            ("1.0", "1.0-0", Equal),
            // letters sort before non-letters
            ("1.0a", "1.0+", Less),
            ("1.0+dfsg", "1.0.1", Less),
            ("3.11.2-6+deb12u6", "3.11.2-6", Greater),
            ("1.47.0-2", "1.46.6-1", Greater),
            ("1.1.5+ds1-1+deb12u1", "1.1.5+ds1-1", Greater),
        ];
        assert_orders(Scheme::Dpkg, &cases);
    }

    #[test]
    fn revision_is_split_at_the_last_hyphen() {
        let v = Version::parse("1:2.3-4-5").unwrap();
        assert_eq!(
            (v.epoch, v.upstream.as_str(), v.revision.as_str()),
            (1, "2.3-4", "5")
        );
    }

    #[test]
    fn rejects_what_dpkg_rejects() {
        for bad in ["", "x:1.0", ":1.0", "1:", "-1", "1.0 beta"] {
            assert!(Version::parse(bad).is_none(), "{bad:?}");
        }
    }
}
