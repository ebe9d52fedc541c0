//! OSV's evaluation of an `affected` entry for one installed version, as the schema
//! specifies it: the version is affected when it is listed in `versions`, or when some
//! `SEMVER`/`ECOSYSTEM` range includes it. A range's events are sorted by version
//! (`introduced: "0"` first) and walked in order: `introduced` at or below the version
//! makes it affected, `fixed` at or below it, or `last_affected` below it, unaffected;
//! a `limit` at or below the version excludes it outright.

use std::cmp::Ordering;

use crate::osv::{Affected, Event, Range};
use crate::version::{Scheme, Version};

/// Why a version is affected, and the fix that applies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hit {
    /// The first `fixed` version after the installed one in the range that includes
    /// it; `None` when no fix is known (or the version was only listed).
    pub fixed: Option<String>,
    /// True when the only evidence was the `versions` list.
    pub listed_only: bool,
}

/// A range event with its version parsed; `None` stands for `introduced: "0"`.
struct Parsed<'a> {
    event: &'a Event,
    version: Option<Version>,
}

/// Evaluates `affected` for the installed version `raw`, `installed` being its parse
/// in `scheme`. A version that does not parse (a legacy PyPI `0.7.10p1`) can still be
/// listed word for word in `versions`; ranges need an ordering.
pub fn evaluate(
    affected: &Affected,
    scheme: Scheme,
    installed: Option<&Version>,
    raw: &str,
) -> Option<Hit> {
    if let Some(installed) = installed {
        for range in &affected.ranges {
            if let Some(hit) = evaluate_range(range, scheme, installed) {
                return Some(hit);
            }
        }
    }
    listed(affected, scheme, installed, raw).then_some(Hit {
        fixed: None,
        listed_only: true,
    })
}

/// Whether the version is in the `versions` list, by text or, when both parse, by
/// the ecosystem's equality (PEP 440 says `2.2` is `2.2.0`).
fn listed(affected: &Affected, scheme: Scheme, installed: Option<&Version>, raw: &str) -> bool {
    affected.versions.iter().any(|v| {
        v == raw
            || installed.is_some_and(|i| {
                scheme
                    .parse(v)
                    .is_some_and(|p| p.partial_cmp(i) == Some(Ordering::Equal))
            })
    })
}

fn evaluate_range(range: &Range, scheme: Scheme, installed: &Version) -> Option<Hit> {
    // A range with a version that does not parse cannot be evaluated honestly.
    let mut events = Vec::with_capacity(range.events.len());
    for event in &range.events {
        let version = match event {
            Event::Introduced(v) if v == "0" => None,
            Event::Introduced(v) | Event::Fixed(v) | Event::LastAffected(v) | Event::Limit(v) => {
                Some(scheme.parse(v)?)
            }
        };
        events.push(Parsed { event, version });
    }
    events.sort_by(|a, b| match (&a.version, &b.version) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(x), Some(y)) => x.partial_cmp(y).unwrap_or(Ordering::Equal),
    });
    let at_or_below = |v: &Option<Version>| match v {
        None => true,
        Some(v) => matches!(
            v.partial_cmp(installed),
            Some(Ordering::Less | Ordering::Equal)
        ),
    };
    for e in &events {
        if matches!(e.event, Event::Limit(_)) && at_or_below(&e.version) {
            return None;
        }
    }
    let mut affected = false;
    for e in &events {
        match e.event {
            Event::Introduced(_) if at_or_below(&e.version) => affected = true,
            Event::Fixed(_) if at_or_below(&e.version) => affected = false,
            Event::LastAffected(_)
                if e.version.as_ref().and_then(|v| v.partial_cmp(installed))
                    == Some(Ordering::Less) =>
            {
                affected = false
            }
            _ => {}
        }
    }
    if !affected {
        return None;
    }
    // The event that ends the affected stretch the version is in.
    let fixed = events
        .iter()
        .filter(|e| !at_or_below(&e.version))
        .find_map(|e| match e.event {
            Event::Fixed(v) => Some(Some(v.clone())),
            Event::LastAffected(_) | Event::Limit(_) => Some(None),
            Event::Introduced(_) => None,
        })
        .flatten();
    Some(Hit {
        fixed,
        listed_only: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::osv::RangeKind;
    use crate::osv::tests::advisory;

    fn check(affected: &Affected, version: &str) -> Option<Hit> {
        let scheme = Scheme::for_ecosystem(&affected.ecosystem).unwrap();
        let installed = scheme.parse(version);
        evaluate(affected, scheme, installed.as_ref(), version)
    }

    fn fixed(affected: &Affected, version: &str) -> Option<Option<String>> {
        check(affected, version).map(|h| h.fixed)
    }

    fn range(events: &[Event]) -> Affected {
        Affected {
            ecosystem: "PyPI".into(),
            name: "x".into(),
            ranges: vec![Range {
                kind: RangeKind::Ecosystem,
                events: events.to_vec(),
            }],
            versions: vec![],
            severity: vec![],
            urgency: None,
            no_fix_reason: None,
            imports: vec![],
        }
    }

    #[test]
    fn two_stretches_in_one_range_pysec_2023_62() {
        // introduced 0, fixed 2.2.5, introduced 2.3.0, fixed 2.3.2
        let a = advisory("osv/PyPI/PYSEC-2023-62.json").affected.remove(0);
        assert_eq!(fixed(&a, "2.2.2"), Some(Some("2.2.5".into())));
        assert_eq!(fixed(&a, "2.2.5"), None);
        assert_eq!(fixed(&a, "2.2.9"), None);
        assert_eq!(fixed(&a, "2.3.0"), Some(Some("2.3.2".into())));
        assert_eq!(fixed(&a, "2.3.1"), Some(Some("2.3.2".into())));
        assert_eq!(fixed(&a, "2.3.2"), None);
        assert_eq!(fixed(&a, "0.1"), Some(Some("2.2.5".into())));
        // Pre-releases of the fix are before it.
        assert_eq!(fixed(&a, "2.3.2rc1"), Some(Some("2.3.2".into())));
    }

    #[test]
    fn last_affected_and_limit() {
        let a = range(&[
            Event::Introduced("1.0".into()),
            Event::LastAffected("1.4".into()),
        ]);
        assert!(check(&a, "0.9").is_none());
        assert_eq!(fixed(&a, "1.0"), Some(None));
        assert_eq!(fixed(&a, "1.4"), Some(None), "last_affected is inclusive");
        assert!(check(&a, "1.4.1").is_none());
        let limited = range(&[Event::Introduced("0".into()), Event::Limit("2.0".into())]);
        assert!(check(&limited, "1.9").is_some());
        assert!(check(&limited, "2.0").is_none());
        assert!(check(&limited, "3.0").is_none());
        // Events need not be in order in the record.
        let shuffled = range(&[
            Event::Fixed("2.0".into()),
            Event::Introduced("1.5".into()),
            Event::Introduced("0".into()),
            Event::Fixed("1.0".into()),
        ]);
        assert_eq!(fixed(&shuffled, "0.5"), Some(Some("1.0".into())));
        assert!(check(&shuffled, "1.2").is_none());
        assert_eq!(fixed(&shuffled, "1.7"), Some(Some("2.0".into())));
    }

    #[test]
    fn versions_list_alone_and_unparseable_ranges() {
        // PYSEC records whose only range is GIT still list versions.
        let mut a = range(&[]);
        a.ranges.clear();
        a.versions = vec!["0.9".into(), "1.0".into()];
        let hit = check(&a, "1.0.0").unwrap();
        assert!(hit.listed_only, "2.2 == 2.2.0 under PEP 440");
        assert!(check(&a, "1.1").is_none());
        // A legacy version no ordering reads is still found in the list, word for word.
        a.versions.push("0.7.10p1-final".into());
        assert!(check(&a, "0.7.10p1-final").unwrap().listed_only);
        // A fixed version that does not parse: the range is not guessed at.
        let broken = range(&[
            Event::Introduced("0".into()),
            Event::Fixed("not a version".into()),
        ]);
        assert!(check(&broken, "1.0").is_none());
    }

    #[test]
    fn go_stdlib_from_the_binary_version() {
        // GO-2021-0157: stdlib (net/textproto), introduced 0, fixed 1.4.3.
        let textproto = advisory("osv/Go/GO-2021-0157.json");
        let stdlib = &textproto.affected[0];
        assert_eq!(stdlib.ecosystem, "Go");
        let scheme = Scheme::Go;
        for (v, want) in [("go1.4.2", true), ("go1.4.3", false), ("go1.19.8", false)] {
            let installed = scheme.parse(v);
            let got = evaluate(stdlib, scheme, installed.as_ref(), v).is_some();
            assert_eq!(got, want, "{v} against {:?}", stdlib.ranges);
        }
    }

    #[test]
    fn debian_epoch_versions_zlib() {
        // DEBIAN-CVE-2022-37434: bookworm fixed in 1:1.2.11.dfsg-4.1.
        let a = advisory("debian-osv-derived/DEBIAN-CVE-2022-37434.json");
        let bookworm = a
            .affected
            .iter()
            .find(|x| x.ecosystem == "Debian:12")
            .unwrap();
        assert!(check(bookworm, "1:1.2.13.dfsg-1").is_none());
        assert_eq!(
            fixed(bookworm, "1:1.2.11.dfsg-2"),
            Some(Some("1:1.2.11.dfsg-4.1".into()))
        );
        // Without the epoch the version is older than every 1: version.
        assert!(check(bookworm, "1.2.13.dfsg-1").is_some());
    }
}
