//! How bad a finding is. The distribution's rating comes first (Debian's urgency,
//! Ubuntu's priority: it says what the vulnerability means *in that distribution*),
//! then the database's own rating (GitHub's), then the base score computed from a
//! CVSS v3 or v4 vector with the `cvss` crate.

use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::osv::{Advisory, Affected, Score, ScoreKind};

/// Severity levels, least first. `Unknown` sorts lowest: a finding without any rating
/// only trips `--fail-on unknown`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    #[default]
    Unknown,
    Negligible,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    /// Every level, most severe first (the order reports count them in).
    pub const ALL: [Severity; 6] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Negligible,
        Severity::Unknown,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Severity::Unknown => "unknown",
            Severity::Negligible => "negligible",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// The CVSS qualitative scale (0.1-3.9 low, 4-6.9 medium, 7-8.9 high, 9+ critical).
    pub fn from_score(score: f64) -> Severity {
        match score {
            s if s >= 9.0 => Severity::Critical,
            s if s >= 7.0 => Severity::High,
            s if s >= 4.0 => Severity::Medium,
            s if s > 0.0 => Severity::Low,
            _ => Severity::Negligible,
        }
    }
}

/// How many findings there are at each level: what reports and comparisons count.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub critical: usize,
    pub high: usize,
    pub medium: usize,
    pub low: usize,
    pub negligible: usize,
    pub unknown: usize,
}

impl Counts {
    /// The counts of `levels`.
    pub fn of(levels: impl IntoIterator<Item = Severity>) -> Counts {
        let mut counts = Counts::default();
        for level in levels {
            *counts.at_mut(level) += 1;
        }
        counts
    }

    pub fn at(&self, level: Severity) -> usize {
        match level {
            Severity::Critical => self.critical,
            Severity::High => self.high,
            Severity::Medium => self.medium,
            Severity::Low => self.low,
            Severity::Negligible => self.negligible,
            Severity::Unknown => self.unknown,
        }
    }

    fn at_mut(&mut self, level: Severity) -> &mut usize {
        match level {
            Severity::Critical => &mut self.critical,
            Severity::High => &mut self.high,
            Severity::Medium => &mut self.medium,
            Severity::Low => &mut self.low,
            Severity::Negligible => &mut self.negligible,
            Severity::Unknown => &mut self.unknown,
        }
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Severity::ALL
            .into_iter()
            .find(|l| l.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| format!("unknown severity {s:?}"))
    }
}

/// Where a severity came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RatingSource {
    /// The distribution's own rating (Debian urgency, Ubuntu priority).
    Distribution,
    /// The advisory database's rating (`database_specific.severity`).
    Database,
    CvssV3,
    CvssV4,
    /// Nothing to go by.
    None,
}

/// A severity with its origin, and the CVSS score and vector when one was used or
/// is known.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Rating {
    pub severity: Severity,
    pub source: RatingSource,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vector: Option<String>,
    /// The record the score was taken from when none of the matched records rates
    /// the vulnerability (osv.dev's `CVE-…` record, which carries NVD's vector).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
}

impl Rating {
    pub const UNKNOWN: Rating = Rating {
        severity: Severity::Unknown,
        source: RatingSource::None,
        score: None,
        vector: None,
        via: None,
    };
}

/// The CVSS rating of a whole record: its own vectors, else those of its entries;
/// the highest base score wins. What a finding no matched record rates borrows from
/// the other records of the same vulnerability.
pub fn cvss_of(advisory: &Advisory) -> Option<Rating> {
    std::iter::once(&advisory.severity)
        .chain(advisory.affected.iter().map(|a| &a.severity))
        .filter_map(|scores| cvss_rating(scores))
        .max_by(|a, b| a.score.unwrap_or(0.0).total_cmp(&b.score.unwrap_or(0.0)))
}

/// Rates `advisory` for the package entry `affected` that matched.
pub fn rate(advisory: &Advisory, affected: &Affected) -> Rating {
    // The entry's own severity overrides the record's (OSV allows either, not both).
    let scores = if affected.severity.is_empty() {
        &advisory.severity
    } else {
        &affected.severity
    };
    let cvss = cvss_rating(scores);
    let with_cvss = |severity, source| Rating {
        severity,
        source,
        score: cvss.as_ref().and_then(|c| c.score),
        vector: cvss.as_ref().and_then(|c| c.vector.clone()),
        via: None,
    };
    if let Some(s) = distribution_rating(affected, scores) {
        return with_cvss(s, RatingSource::Distribution);
    }
    if let Some(s) = advisory.rating.as_deref().and_then(database_rating) {
        return with_cvss(s, RatingSource::Database);
    }
    cvss.unwrap_or(Rating::UNKNOWN)
}

/// Debian's urgency or Ubuntu's priority, when they say something.
fn distribution_rating(affected: &Affected, scores: &[Score]) -> Option<Severity> {
    if let Some(urgency) = &affected.urgency {
        // `low*`/`low**` mark urgencies derived from a bug's severity.
        let word = urgency.trim_end_matches('*');
        let s = match word {
            // Debian's words, and Ubuntu's (`negligible` … `critical`).
            "unimportant" | "negligible" => Some(Severity::Negligible),
            "low" => Some(Severity::Low),
            "medium" => Some(Severity::Medium),
            "high" => Some(Severity::High),
            "critical" => Some(Severity::Critical),
            // "not yet assigned", "end-of-life": no rating, fall through
            _ => None,
        };
        if s.is_some() {
            return s;
        }
    }
    scores
        .iter()
        .find(|s| s.kind == ScoreKind::Ubuntu)
        .and_then(|s| s.score.parse().ok())
}

/// GitHub's words (`LOW`, `MODERATE`, `HIGH`, `CRITICAL`) and the usual others.
fn database_rating(word: &str) -> Option<Severity> {
    match word.to_ascii_lowercase().as_str() {
        "critical" => Some(Severity::Critical),
        "high" | "important" => Some(Severity::High),
        "moderate" | "medium" => Some(Severity::Medium),
        "low" => Some(Severity::Low),
        "negligible" | "unimportant" => Some(Severity::Negligible),
        _ => None,
    }
}

/// The base score of the first CVSS v3 vector, else of the first v4 vector. v3 comes
/// first because it is what NVD and GitHub publish for nearly every CVE, so ratings
/// stay comparable with other scanners.
fn cvss_rating(scores: &[Score]) -> Option<Rating> {
    let v3 = scores.iter().filter(|s| s.kind == ScoreKind::CvssV3);
    let v4 = scores.iter().filter(|s| s.kind == ScoreKind::CvssV4);
    for s in v3 {
        if let Ok(v) = cvss::v3::Vector::from_str(&s.score) {
            return Some(scored(v.base_score().value(), RatingSource::CvssV3, s));
        }
    }
    for s in v4 {
        if let Ok(v) = cvss::v4::Vector::from_str(&s.score) {
            return Some(scored(v.score().value(), RatingSource::CvssV4, s));
        }
    }
    None
}

fn scored(value: f64, source: RatingSource, s: &Score) -> Rating {
    Rating {
        severity: Severity::from_score(value),
        source,
        score: Some(value),
        vector: Some(s.score.clone()),
        via: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::osv::tests::advisory;

    #[test]
    fn github_rating_comes_before_the_cvss_score() {
        // GHSA-m2qf-hxjv-5gpq: GitHub says HIGH, CVSS:3.1 …/C:H/I:N/A:N is 7.5.
        let a = advisory("osv/PyPI/GHSA-m2qf-hxjv-5gpq.json");
        let r = rate(&a, &a.affected[0]);
        assert_eq!(r.severity, Severity::High);
        assert_eq!(r.source, RatingSource::Database);
        assert_eq!(r.score, Some(7.5));
    }

    #[test]
    fn cvss_when_nothing_else_rates_it() {
        let mut a = advisory("osv/PyPI/GHSA-m2qf-hxjv-5gpq.json");
        a.rating = None;
        let r = rate(&a, &a.affected[0]);
        assert_eq!(
            (r.severity, r.source),
            (Severity::High, RatingSource::CvssV3)
        );
        // A v4 vector (the CVSS 4.0 specification's example, base score 9.3).
        a.severity = vec![Score {
            kind: ScoreKind::CvssV4,
            score: "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N".into(),
        }];
        let r = rate(&a, &a.affected[0]);
        assert_eq!(
            (r.severity, r.source),
            (Severity::Critical, RatingSource::CvssV4)
        );
        assert_eq!(r.score, Some(9.3));
    }

    #[test]
    fn debian_urgency_first_and_nothing_is_unknown() {
        let a = advisory("debian-osv-derived/DEBIAN-CVE-2011-4116.json");
        let r = rate(&a, &a.affected[0]);
        assert_eq!(
            (r.severity, r.source),
            (Severity::Negligible, RatingSource::Distribution)
        );
        let b = advisory("debian-osv-derived/DEBIAN-CVE-2023-31484.json");
        assert_eq!(rate(&b, &b.affected[0]), Rating::UNKNOWN);
    }

    #[test]
    fn levels_parse_and_order() {
        assert_eq!("HIGH".parse::<Severity>(), Ok(Severity::High));
        assert!("severe".parse::<Severity>().is_err());
        assert!(Severity::Unknown < Severity::Negligible);
        assert!(Severity::High < Severity::Critical);
        assert_eq!(Severity::from_score(0.0), Severity::Negligible);
        assert_eq!(Severity::from_score(3.9), Severity::Low);
        assert_eq!(Severity::from_score(9.0), Severity::Critical);
    }
}
