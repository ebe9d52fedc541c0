//! RPM version ordering (`[epoch:]version[-release]`), a port of rpm's `rpmvercmp`:
//! alternating digit and letter segments, separators ignored, digits newer than
//! letters, `~` before everything (pre-releases), `^` after the base (snapshots).
//! Hand-written: the rpm crates on crates.io wrap librpm or do not follow `^`.

use std::cmp::Ordering;

/// A parsed RPM EVR.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Version {
    pub epoch: u64,
    pub version: String,
    pub release: Option<String>,
}

impl Version {
    /// `None` when the epoch is not a number or the version is empty.
    pub fn parse(text: &str) -> Option<Version> {
        let text = text.trim();
        let (epoch, rest) = match text.split_once(':') {
            Some((e, rest)) => (e.parse().ok()?, rest),
            None => (0, text),
        };
        let (version, release) = match rest.rsplit_once('-') {
            Some((v, r)) => (v, Some(r.to_owned())),
            None => (rest, None),
        };
        if version.is_empty() || text.contains(char::is_whitespace) {
            return None;
        }
        Some(Version {
            epoch,
            version: version.to_owned(),
            release,
        })
    }
}

ord_by!(Version, |a: &Version, b: &Version| {
    a.epoch
        .cmp(&b.epoch)
        .then_with(|| rpmvercmp(&a.version, &b.version))
        .then_with(|| match (&a.release, &b.release) {
            (Some(x), Some(y)) => rpmvercmp(x, y),
            // A fix version without a release covers every release of it.
            _ => Ordering::Equal,
        })
});

fn rpmvercmp(a: &str, b: &str) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    let separator = |c: u8| !c.is_ascii_alphanumeric() && c != b'~' && c != b'^';
    while i < a.len() || j < b.len() {
        while i < a.len() && separator(a[i]) {
            i += 1;
        }
        while j < b.len() && separator(b[j]) {
            j += 1;
        }
        let (ca, cb) = (a.get(i).copied(), b.get(j).copied());
        if ca == Some(b'~') || cb == Some(b'~') {
            if ca != Some(b'~') {
                return Ordering::Greater;
            }
            if cb != Some(b'~') {
                return Ordering::Less;
            }
            i += 1;
            j += 1;
            continue;
        }
        if ca == Some(b'^') || cb == Some(b'^') {
            match (ca, cb) {
                (None, _) => return Ordering::Less,
                (_, None) => return Ordering::Greater,
                (Some(x), _) if x != b'^' => return Ordering::Greater,
                (_, Some(y)) if y != b'^' => return Ordering::Less,
                _ => {}
            }
            i += 1;
            j += 1;
            continue;
        }
        let (Some(first), Some(_)) = (ca, cb) else {
            break;
        };
        let numeric = first.is_ascii_digit();
        let same_kind = |c: &u8| {
            if numeric {
                c.is_ascii_digit()
            } else {
                c.is_ascii_alphabetic()
            }
        };
        let end_a = i + a[i..].iter().take_while(|c| same_kind(c)).count();
        let end_b = j + b[j..].iter().take_while(|c| same_kind(c)).count();
        if end_b == j {
            // A number beats letters; letters lose to a number.
            return if numeric {
                Ordering::Greater
            } else {
                Ordering::Less
            };
        }
        let (mut sa, mut sb) = (&a[i..end_a], &b[j..end_b]);
        if numeric {
            while sa.first() == Some(&b'0') {
                sa = &sa[1..];
            }
            while sb.first() == Some(&b'0') {
                sb = &sb[1..];
            }
            match sa.len().cmp(&sb.len()) {
                Ordering::Equal => {}
                longer => return longer,
            }
        }
        match sa.cmp(sb) {
            Ordering::Equal => {}
            other => return other,
        }
        i = end_a;
        j = end_b;
    }
    match (i >= a.len(), j >= b.len()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        _ => Ordering::Greater,
    }
}

#[cfg(test)]
mod tests {
    use crate::version::Scheme;
    use crate::version::testing::assert_orders;
    use std::cmp::Ordering;

    /// rpm's own test pairs (`tests/rpmvercmp.at`) and EVRs from Rocky Linux 9 errata.
    #[test]
    fn rpm_versions() {
        use Ordering::*;
        let cases = [
            ("1.0", "1.0", Equal),
            ("1.0", "2.0", Less),
            ("2.0.1", "2.0", Greater),
            ("2.0.1a", "2.0.1", Greater),
            ("5.5p1", "5.5p10", Less),
            ("10xyz", "10.1xyz", Less),
            ("xyz10", "xyz10.1", Less),
            ("1.0aa", "1.0a", Greater),
            ("10b2", "10a1", Greater),
            ("1b.fc17", "1.fc17", Less),
            ("20101121", "20101122", Less),
            ("2_0", "2.0", Equal),
            ("a", "1", Less),
            ("1.0~rc1", "1.0", Less),
            ("1.0~rc1", "1.0~rc2", Less),
            ("1.0~rc1~git123", "1.0~rc1", Less),
            ("1.0^", "1.0", Greater),
            ("1.0^git1", "1.0^git2", Less),
            ("1.0^git1", "1.01", Less),
            ("1.0~rc1^git1", "1.0~rc1", Greater),
            ("1:3.0.7-16.el9_2", "3.0.7-24.el9", Greater),
            ("3.0.7-16.el9_2", "3.0.7-24.el9", Less),
            ("2.34-60.el9", "2.34-60.el9_2.7", Less),
            ("1.1.1k-7.el8_6", "1.1.1k-12.el8_9", Less),
            ("7.76.1-26.el9", "7.76.1", Equal),
        ];
        assert_orders(Scheme::Rpm, &cases);
    }
}
