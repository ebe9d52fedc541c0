//! OSV records: validated against the official OSV schema as they are read, then
//! reduced to the [`Advisory`] pare stores and matches. A record that fails the schema
//! is not an error: [`read_record`] says why, the importer skips and counts it (the
//! real PyPA dump has seven, GIT ranges whose `fixed` is not a commit).

use std::sync::LazyLock;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The OSV schema (ossf/osv-schema `validation/schema.json`), as published.
const SCHEMA: &str = include_str!("osv-schema.json");

static VALIDATOR: LazyLock<jsonschema::Validator> = LazyLock::new(|| {
    let schema: Value = serde_json::from_str(SCHEMA).expect("the bundled OSV schema is JSON");
    jsonschema::validator_for(&schema).expect("the bundled OSV schema compiles")
});

/// One advisory as pare keeps it: what matching, severity and reports need.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Advisory {
    pub id: String,
    /// `aliases` and `upstream` ids of the record (CVE, GHSA, …), without `id`, so
    /// that ignore files and VEX statements naming any of them apply.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// The record's summary, else the first line of its details, shortened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    pub modified: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<String>,
    /// CVSS vectors (and Ubuntu ratings) of the whole record.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub severity: Vec<Score>,
    /// The database's own rating (`database_specific.severity`, as GitHub writes it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rating: Option<String>,
    /// Where a person reads more: the record's ADVISORY reference, else osv.dev.
    pub url: String,
    pub affected: Vec<Affected>,
}

/// A severity entry: a CVSS vector or a distribution's word.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Score {
    #[serde(rename = "type")]
    pub kind: ScoreKind,
    pub score: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ScoreKind {
    #[serde(rename = "CVSS_V2")]
    CvssV2,
    #[serde(rename = "CVSS_V3")]
    CvssV3,
    #[serde(rename = "CVSS_V4")]
    CvssV4,
    Ubuntu,
}

/// One package an advisory affects, with the versions it affects.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Affected {
    /// As the record writes it: `PyPI`, `Debian:12`, `Go`.
    pub ecosystem: String,
    /// As the record writes it; the database indexes [`crate::ecosystem::normalize_name`].
    pub name: String,
    /// `SEMVER` and `ECOSYSTEM` ranges; `GIT` ranges are dropped (they name commits,
    /// which an installed package does not have).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ranges: Vec<Range>,
    /// Versions listed one by one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub severity: Vec<Score>,
    /// Debian's urgency (`ecosystem_specific.urgency`: `unimportant`, `low`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub urgency: Option<String>,
    /// Why a distribution will not fix it (`database_specific.nodsa_reason`:
    /// `ignored`, `postponed`, `no-dsa`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_fix_reason: Option<String>,
    /// Go packages holding the vulnerable code (`ecosystem_specific.imports[].path`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub imports: Vec<String>,
}

/// A `SEMVER` or `ECOSYSTEM` range.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Range {
    #[serde(rename = "type")]
    pub kind: RangeKind,
    pub events: Vec<Event>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum RangeKind {
    Semver,
    Ecosystem,
}

/// One event of a range, in OSV's spelling.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    Introduced(String),
    Fixed(String),
    LastAffected(String),
    Limit(String),
}

/// What happened to one record read from a source.
#[derive(Debug)]
pub enum Record {
    Valid(Box<Advisory>),
    /// Marked withdrawn by its database: not stored, never matched.
    Withdrawn(String),
    /// Not JSON, or not valid OSV: skipped with the reason.
    Invalid {
        id: Option<String>,
        reason: String,
    },
}

/// Reads one OSV record: parses the JSON, validates it against the OSV schema, and
/// reduces it to an [`Advisory`].
pub fn read_record(bytes: &[u8]) -> Record {
    // A tree of JSON values costs tens of times its text: count them first, in no
    // memory, so a record of millions of tiny ranges or versions is refused before.
    let n = count_values(bytes);
    if n > MAX_VALUES {
        return Record::Invalid {
            id: None,
            reason: format!(
                "{n} JSON values (ranges, events, versions…), more than the limit of \
                 {MAX_VALUES}: not an advisory pare imports"
            ),
        };
    }
    let value: Value = match serde_json::from_slice(bytes) {
        Ok(v) => v,
        Err(e) => {
            return Record::Invalid {
                id: None,
                reason: format!("not JSON: {e}"),
            };
        }
    };
    let id = value.get("id").and_then(Value::as_str).map(str::to_owned);
    if let Some(error) = VALIDATOR.iter_errors(&value).next() {
        return Record::Invalid {
            id,
            reason: format!(
                "{} (at {})",
                shorten(&error.to_string()),
                error.instance_path()
            ),
        };
    }
    let raw: RawRecord = match serde_json::from_value(value) {
        Ok(r) => r,
        Err(e) => {
            return Record::Invalid {
                id,
                reason: e.to_string(),
            };
        }
    };
    if raw.withdrawn.is_some() {
        return Record::Withdrawn(raw.id);
    }
    Record::Valid(Box::new(raw.into_advisory()))
}

/// The most JSON values (objects, arrays, strings, numbers…) one record may hold. The
/// largest real OSV records (Linux kernel, GHSA with long version lists) hold a few
/// tens of thousands.
pub const MAX_VALUES: usize = 250_000;

/// How many JSON values `bytes` holds at most: one for the whole document, one for
/// each element after a comma, and one for the first element of every object or
/// array (counted at its opening bracket, so an empty one counts too). One pass over
/// the bytes that keeps nothing and skips string contents; whether the text is JSON
/// at all is for the parse that follows. Written by hand because it must cost far
/// less than that parse: a second serde pass made `pare db import` 7% slower.
fn count_values(bytes: &[u8]) -> usize {
    let mut n = 1;
    let mut in_string = false;
    let mut escaped = false;
    for &b in bytes {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b',' | b'[' | b'{' => n += 1,
            _ => {}
        }
    }
    n
}

// The record as the schema describes it; only the fields pare uses.

#[derive(Deserialize)]
struct RawRecord {
    id: String,
    modified: String,
    #[serde(default)]
    published: Option<String>,
    #[serde(default)]
    withdrawn: Option<String>,
    #[serde(default)]
    aliases: Option<Vec<String>>,
    #[serde(default)]
    upstream: Option<Vec<String>>,
    #[serde(default)]
    related: Option<Vec<String>>,
    #[serde(default)]
    summary: Option<String>,
    #[serde(default)]
    details: Option<String>,
    #[serde(default)]
    severity: Option<Vec<Score>>,
    #[serde(default)]
    affected: Option<Vec<RawAffected>>,
    #[serde(default)]
    references: Option<Vec<RawReference>>,
    #[serde(default)]
    database_specific: Option<Value>,
}

#[derive(Deserialize)]
struct RawAffected {
    package: Option<RawPackage>,
    #[serde(default)]
    severity: Option<Vec<Score>>,
    #[serde(default)]
    ranges: Vec<RawRange>,
    #[serde(default)]
    versions: Vec<String>,
    #[serde(default)]
    ecosystem_specific: Option<Value>,
    #[serde(default)]
    database_specific: Option<Value>,
}

#[derive(Deserialize)]
struct RawPackage {
    ecosystem: String,
    name: String,
}

#[derive(Deserialize)]
struct RawRange {
    #[serde(rename = "type")]
    kind: String,
    events: Vec<Event>,
}

#[derive(Deserialize)]
struct RawReference {
    #[serde(rename = "type")]
    kind: String,
    url: String,
}

impl RawRecord {
    fn into_advisory(self) -> Advisory {
        // `related` names other vulnerabilities, not this one, except in Chainguard's
        // and Wolfi's records (wolfictl), which list the record's own id there and
        // with it the CVE and GHSA ids it is: those are read as aliases, so a VEX
        // statement or an ignore line by CVE reaches the finding.
        let same = self
            .related
            .filter(|r| r.contains(&self.id))
            .unwrap_or_default();
        let mut aliases: Vec<String> = Vec::new();
        for alias in self
            .aliases
            .into_iter()
            .chain(self.upstream)
            .flatten()
            .chain(same)
        {
            if alias != self.id && !aliases.contains(&alias) {
                aliases.push(alias);
            }
        }
        let summary = self
            .summary
            .filter(|s| !s.trim().is_empty())
            .or_else(|| self.details.as_deref().and_then(first_line));
        let url = self
            .references
            .iter()
            .flatten()
            .find(|r| r.kind == "ADVISORY")
            .map(|r| r.url.clone())
            .unwrap_or_else(|| format!("https://osv.dev/vulnerability/{}", self.id));
        let affected = self
            .affected
            .into_iter()
            .flatten()
            .filter_map(RawAffected::into_affected)
            .collect();
        Advisory {
            aliases,
            summary,
            modified: self.modified,
            published: self.published,
            severity: self.severity.unwrap_or_default(),
            rating: string_at(self.database_specific.as_ref(), "severity"),
            url,
            affected,
            id: self.id,
        }
    }
}

impl RawAffected {
    /// `None` when nothing in it can match an installed package.
    fn into_affected(self) -> Option<Affected> {
        let package = self.package?;
        let ranges: Vec<Range> = self
            .ranges
            .into_iter()
            .filter_map(|r| {
                let kind = match r.kind.as_str() {
                    "SEMVER" => RangeKind::Semver,
                    "ECOSYSTEM" => RangeKind::Ecosystem,
                    _ => return None,
                };
                Some(Range {
                    kind,
                    events: r.events,
                })
            })
            .collect();
        if ranges.is_empty() && self.versions.is_empty() {
            return None;
        }
        let imports = self
            .ecosystem_specific
            .as_ref()
            .and_then(|e| e.get("imports"))
            .and_then(Value::as_array)
            .map(|imports| {
                imports
                    .iter()
                    .filter_map(|i| i.get("path").and_then(Value::as_str))
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        Some(Affected {
            ecosystem: package.ecosystem,
            name: package.name,
            ranges,
            versions: self.versions,
            severity: self.severity.unwrap_or_default(),
            // Debian's urgency; Ubuntu's CVE records carry their priority in the
            // same place under another name (the newer ones also as a severity).
            urgency: string_at(self.ecosystem_specific.as_ref(), "urgency")
                .or_else(|| string_at(self.ecosystem_specific.as_ref(), "ubuntu_priority")),
            no_fix_reason: string_at(self.database_specific.as_ref(), "nodsa_reason"),
            imports,
        })
    }
}

fn string_at(object: Option<&Value>, key: &str) -> Option<String> {
    object?
        .get(key)?
        .as_str()
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// A schema error quotes the offending value, which can be a whole `affected` list:
/// keep the start.
fn shorten(reason: &str) -> String {
    if reason.chars().count() <= 300 {
        return reason.to_owned();
    }
    let cut: String = reason.chars().take(299).collect();
    format!("{cut}…")
}

/// The first non-empty line of `details`, at most 160 characters.
fn first_line(details: &str) -> Option<String> {
    let line = details.lines().map(str::trim).find(|l| !l.is_empty())?;
    if line.chars().count() <= 160 {
        return Some(line.to_owned());
    }
    let cut: String = line.chars().take(159).collect();
    Some(format!("{}…", cut.trim_end()))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A record of the repository's tests/data/vuln, read as pare reads it.
    pub fn advisory(rel: &str) -> Advisory {
        let bytes = std::fs::read(crate::testing::data(rel)).unwrap();
        match read_record(&bytes) {
            Record::Valid(a) => *a,
            other => panic!("{rel}: {other:?}"),
        }
    }

    /// wolfictl's records list their own id in `related`, and with it the CVE and
    /// GHSA ids: those become aliases. Elsewhere `related` is other vulnerabilities.
    #[test]
    fn chainguard_related_ids_are_aliases_only_when_the_record_is_among_them() {
        let a = advisory("wolfi-osv/CGA-2p4x-8q6v-7m3c.json");
        assert_eq!(a.aliases, ["CVE-2024-9143", "GHSA-8c3m-9xq2-5vr4"]);
        let other = br#"{"id": "GHSA-aaaa-bbbb-cccc", "modified": "2024-01-01T00:00:00Z",
            "related": ["CVE-2024-0001"], "affected": []}"#;
        match read_record(other) {
            Record::Valid(a) => assert!(a.aliases.is_empty(), "{:?}", a.aliases),
            r => panic!("{r:?}"),
        }
    }

    #[test]
    fn ghsa_record_keeps_both_ranges_and_the_github_rating() {
        let a = advisory("osv/PyPI/GHSA-m2qf-hxjv-5gpq.json");
        assert_eq!(a.id, "GHSA-m2qf-hxjv-5gpq");
        assert_eq!(a.aliases, ["CVE-2023-30861"]);
        assert_eq!(a.rating.as_deref(), Some("HIGH"));
        assert_eq!(a.severity[0].kind, ScoreKind::CvssV3);
        assert_eq!(a.affected.len(), 2);
        assert_eq!(
            a.affected[1].ranges[0].events,
            [Event::Introduced("0".into()), Event::Fixed("2.2.5".into())]
        );
        assert!(
            a.summary
                .unwrap()
                .starts_with("Flask vulnerable to possible")
        );
    }

    #[test]
    fn pysec_record_drops_git_ranges_and_keeps_versions() {
        let a = advisory("osv/PyPI/PYSEC-2023-62.json");
        let affected = &a.affected[0];
        assert_eq!(affected.ranges.len(), 1, "the GIT range is dropped");
        assert_eq!(affected.ranges[0].kind, RangeKind::Ecosystem);
        assert!(affected.versions.contains(&"2.2.4".to_owned()));
        // No summary: the first line of the details stands in, shortened.
        let summary = a.summary.unwrap();
        assert!(summary.starts_with("Flask is a lightweight"), "{summary}");
        assert!(summary.chars().count() <= 160);
        assert!(a.aliases.contains(&"GHSA-m2qf-hxjv-5gpq".to_owned()));
    }

    #[test]
    fn debian_record_upstream_ids_urgency_and_no_dsa_reason() {
        let perl = advisory("debian-osv-derived/DEBIAN-CVE-2011-4116.json");
        assert_eq!(perl.aliases, ["CVE-2011-4116"]);
        assert_eq!(perl.affected[0].urgency.as_deref(), Some("unimportant"));
        let python = advisory("debian-osv-derived/DEBIAN-CVE-2015-20107.json");
        let py27 = python
            .affected
            .iter()
            .find(|a| a.name == "python2.7")
            .unwrap();
        assert_eq!(py27.no_fix_reason.as_deref(), Some("ignored"));
        assert_eq!(py27.ecosystem, "Debian:11");
    }

    #[test]
    fn go_record_keeps_the_vulnerable_packages() {
        let a = advisory("osv/Go/GO-2022-0463.json");
        assert!(!a.affected.is_empty());
        assert!(
            a.affected.iter().any(|x| !x.imports.is_empty()),
            "{:?}",
            a.affected
        );
    }

    #[test]
    fn schema_failures_are_reasons_not_panics() {
        // A real PyPA record whose GIT range names an abbreviated commit.
        let bad = br#"{"id":"PYSEC-2021-424","modified":"2021-01-01T00:00:00Z",
            "affected":[{"package":{"ecosystem":"PyPI","name":"x"},
            "ranges":[{"type":"GIT","repo":"https://x","events":[{"introduced":"0"},{"fixed":"cb35df940a"}]}]}]}"#;
        match read_record(bad) {
            Record::Invalid { id, reason } => {
                assert_eq!(id.as_deref(), Some("PYSEC-2021-424"));
                assert!(reason.contains("/affected/0/ranges/0/events/1"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
        for junk in [
            &b"{"[..],
            b"[]",
            b"null",
            br#"{"id":"NOPE-1","modified":"x"}"#,
        ] {
            assert!(matches!(read_record(junk), Record::Invalid { .. }));
        }
        let withdrawn = br#"{"id":"GHSA-aaaa-bbbb-cccc","modified":"2021-01-01T00:00:00Z",
            "withdrawn":"2021-02-01T00:00:00Z","affected":[]}"#;
        assert!(
            matches!(read_record(withdrawn), Record::Withdrawn(id) if id == "GHSA-aaaa-bbbb-cccc")
        );
    }

    /// Records are hostile input: every truncation and many one-byte damages of real
    /// records give a record or a reason, never a panic.
    #[test]
    fn damaged_records_never_panic() {
        for rel in [
            "osv/PyPI/GHSA-m2qf-hxjv-5gpq.json",
            "debian-osv-derived/DEBIAN-CVE-2015-20107.json",
            "osv/Go/GO-2022-0463.json",
        ] {
            let bytes = std::fs::read(crate::testing::data(rel)).unwrap();
            for cut in 0..bytes.len() {
                let _ = read_record(&bytes[..cut]);
            }
            for at in (0..bytes.len()).step_by(7) {
                for b in [b'"', b'{', b'0', 0xff] {
                    let mut damaged = bytes.clone();
                    damaged[at] = b;
                    let _ = read_record(&damaged);
                }
            }
        }
        // A huge invalid value is reported briefly.
        let long = format!(
            r#"{{"id":"GHSA-1","modified":"2021-01-01T00:00:00Z","aliases":[{}]}}"#,
            vec!["1"; 5000].join(",")
        );
        match read_record(long.as_bytes()) {
            Record::Invalid { reason, .. } => assert!(reason.len() < 400, "{}", reason.len()),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_record_of_millions_of_tiny_values_is_refused_before_it_is_parsed() {
        let versions = vec!["1"; MAX_VALUES + 1];
        let record = serde_json::json!({
            "id": "GHSA-huge", "modified": "2024-01-01T00:00:00Z",
            "affected": [{"package": {"ecosystem": "PyPI", "name": "x"}, "versions": versions}]
        });
        let Record::Invalid { reason, .. } = read_record(record.to_string().as_bytes()) else {
            panic!("a huge record was accepted");
        };
        assert!(reason.contains("more than the limit of 250000"), "{reason}");
        assert_eq!(count_values(br#"{"a": [1, "x", null, {"b": true}]}"#), 7);
        // Brackets, commas and quotes inside strings are not values.
        assert_eq!(count_values(br#"{"a,[{": "x\\\",{[", "b": 2}"#), 3);
        // An empty array or object counts a first element it does not have: a bound.
        assert_eq!(count_values(b"[[], {}]"), 5);
        // Not JSON is said by the parse that follows the count.
        for text in [&b"[1, 2"[..], b"[1] [2]"] {
            let Record::Invalid { reason, .. } = read_record(text) else {
                panic!("{text:?} was read");
            };
            assert!(reason.starts_with("not JSON"), "{reason}");
        }
    }
}
