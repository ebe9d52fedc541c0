//! The scan use case: an SBOM's packages matched against the advisory database, the
//! user's policy applied, counted by severity. One function,
//! [`Report::generate`], serves `pare scan`, `pare compare`/`pare diff` and
//! `pare build`'s VEX phase, so "match, then apply the policy" is written once; the
//! writers of the report ([`sarif`], [`cyclonedx`]) live beside it.

pub mod cyclonedx;
pub mod sarif;

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use pare_sbom::Sbom;
use serde::{Deserialize, Serialize};

use crate::Result;
use crate::db::{Database, SourceStatus, Status};
use crate::matcher::{Finding, Matches};
use crate::policy::{Applied, Policy, Suppressed};
use crate::severity::{Counts, Severity};

/// Advisory data older than this gets a warning.
pub const STALE_AFTER: Duration = Duration::from_secs(7 * 24 * 3600);

/// What a scan is told besides the packages: what to leave out and when it is.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Ignore files, VEX documents and `--only-fixed`.
    pub policy: Policy,
    /// Decides how old the advisory data is.
    pub now: SystemTime,
}

/// Everything a scan found, as `pare scan --format json` writes it (docs/scan.md).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub image: ImageSummary,
    pub database: DatabaseSummary,
    pub summary: Summary,
    /// Worst first.
    pub findings: Vec<Finding>,
    /// Left out by `--ignore`, `--vex` or `--only-fixed`, each with the reason.
    pub suppressed: Vec<Suppressed>,
    pub warnings: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ImageSummary {
    pub reference: String,
    pub name: String,
    pub config_digest: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distro: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DatabaseSummary {
    pub path: String,
    pub advisories: u64,
    pub sources: Vec<SourceStatus>,
    /// Whole days since the oldest source was fetched.
    pub age_days: u64,
    /// Older than a week.
    pub stale: bool,
}

/// The counts people compare images by.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub vulnerabilities: usize,
    #[serde(flatten)]
    pub by_severity: Counts,
    pub suppressed: usize,
    pub packages: usize,
    /// Packages looked up in an ecosystem the database holds records of: the ones
    /// whose "no findings" means something.
    pub packages_checked: usize,
    /// Packages no advisory source covers, by ecosystem.
    pub not_covered: BTreeMap<String, usize>,
    /// Packages of an ecosystem a source covers but this database holds no records
    /// of (`Debian:12` in a database of PyPI's advisories only), by ecosystem: not
    /// checked, whatever their versions.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub no_records: BTreeMap<String, usize>,
}

impl Summary {
    pub fn count(&self, s: Severity) -> usize {
        self.by_severity.at(s)
    }
}

impl Report {
    /// Matches `sbom`'s packages against `db` and applies `settings.policy`.
    pub fn generate(db: &Database, sbom: &Sbom, settings: &Settings) -> Result<Report> {
        let status = db.status()?;
        let mut matches = crate::matcher::match_packages(db, &sbom.packages, sbom.distro.as_ref())?;
        let findings = std::mem::take(&mut matches.findings);
        let applied = crate::policy::apply(findings, &settings.policy);
        Ok(Report::new(sbom, &status, matches, applied, settings.now))
    }

    /// Puts together what was found. `now` decides how old the data is.
    fn new(
        sbom: &Sbom,
        status: &Status,
        matches: Matches,
        applied: Applied,
        now: SystemTime,
    ) -> Self {
        let age = status.age(now).unwrap_or_default();
        let mut summary = Summary {
            vulnerabilities: applied.findings.len(),
            by_severity: Counts::of(applied.findings.iter().map(|f| f.severity)),
            suppressed: applied.suppressed.len(),
            packages: sbom.packages.len(),
            packages_checked: matches.packages_checked,
            not_covered: matches.not_covered,
            no_records: BTreeMap::new(),
        };
        let mut warnings = matches.warnings;
        warnings.extend(applied.warnings);
        // A package with no findings is only known clean if its ecosystem has data
        // (for Red Hat and SUSE, one of the release's repositories or modules).
        for (ecosystem, n) in &matches.looked_up {
            let look_in = crate::ecosystem::look_in(ecosystem);
            if !status
                .ecosystems
                .iter()
                .any(|e| look_in.contains(&e.ecosystem))
            {
                summary.packages_checked = summary.packages_checked.saturating_sub(*n);
                summary.no_records.insert(ecosystem.clone(), *n);
                warnings.push(format!(
                    "the advisory database has no records for {ecosystem}, so its {n} \
                     package(s) could not be checked; `pare db update --ecosystem {}` fetches them",
                    crate::ecosystem::base(ecosystem)
                ));
            }
        }
        Report {
            image: ImageSummary {
                reference: sbom.image.reference.clone(),
                name: sbom.image.display_name().to_owned(),
                config_digest: sbom.image.config_digest.clone(),
                distro: sbom.distro.as_ref().map(|d| {
                    d.pretty_name
                        .clone()
                        .unwrap_or_else(|| format!("{} {}", d.id, d.version_id))
                }),
            },
            database: DatabaseSummary {
                path: status.path.display().to_string(),
                advisories: status.advisories,
                sources: status.sources.clone(),
                age_days: age.as_secs() / 86_400,
                stale: age > STALE_AFTER,
            },
            summary,
            findings: applied.findings,
            suppressed: applied.suppressed,
            warnings,
        }
    }

    /// Whether a finding is at or above `threshold` (for `--fail-on`).
    pub fn fails(&self, threshold: Severity) -> bool {
        self.findings.iter().any(|f| f.severity >= threshold)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ecosystem::tests::package;
    use crate::ignore::IgnoreRule;
    use crate::policy::Reason;
    use pare_sbom::{Ecosystem, ImageInfo};

    fn flask_image() -> Sbom {
        Sbom {
            image: ImageInfo {
                reference: "docker-archive:/flask.tar".into(),
                repo_tags: vec!["flask:1".into()],
                config_digest: "sha256:00".into(),
                manifest_digest: None,
                os: "linux".into(),
                architecture: "amd64".into(),
            },
            distro: None,
            packages: vec![package(Ecosystem::Python, "Flask", "2.2.2")],
            unowned: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// The real GHSA record of CVE-2023-30861 (tests/data/vuln/osv) affects Flask
    /// 2.2.2: counted when nothing leaves it out, suppressed (and counted as such)
    /// when an ignore rule names its CVE alias; week-old data is stale.
    #[test]
    fn generate_matches_applies_the_policy_and_counts() {
        let (_dir, db) = crate::testing::database(&["osv", "debian-osv-derived"]);
        let sbom = flask_image();
        let now = SystemTime::now();
        let plain = Settings {
            policy: Policy::default(),
            now,
        };
        let r = Report::generate(&db, &sbom, &plain).unwrap();
        assert_eq!(r.image.name, "flask:1");
        assert_eq!(r.findings.len(), 1, "{:#?}", r.findings);
        assert_eq!(r.findings[0].id, "GHSA-m2qf-hxjv-5gpq");
        assert_eq!(
            (r.summary.vulnerabilities, r.summary.count(Severity::High)),
            (1, 1)
        );
        assert_eq!((r.summary.packages, r.summary.packages_checked), (1, 1));
        assert!(r.fails(Severity::High) && !r.fails(Severity::Critical));
        assert!(!r.database.stale && r.database.advisories > 0);

        let ignoring = Settings {
            policy: Policy {
                ignore: vec![IgnoreRule {
                    id: "CVE-2023-30861".into(),
                    expires: None,
                    file: ".pareignore".into(),
                    line: 3,
                }],
                ..Policy::default()
            },
            now: now + Duration::from_secs(8 * 86_400),
        };
        let r = Report::generate(&db, &sbom, &ignoring).unwrap();
        assert!(r.findings.is_empty(), "{:#?}", r.findings);
        assert_eq!((r.summary.vulnerabilities, r.summary.suppressed), (0, 1));
        assert!(matches!(
            r.suppressed[0].reason,
            Reason::Ignored { line: 3, .. }
        ));
        assert!(r.database.stale && r.database.age_days >= 7);
    }

    /// A Debian image's packages, scanned with a database of the other ecosystems'
    /// records only, are not counted as checked: their "no findings" says nothing.
    #[test]
    fn packages_of_an_ecosystem_without_records_are_not_counted_as_checked() {
        let (_dir, db) = crate::testing::database(&["osv"]);
        let mut sbom = flask_image();
        sbom.distro = Some(pare_sbom::Distro {
            id: "debian".into(),
            version_id: "12".into(),
            pretty_name: None,
            codename: Some("bookworm".into()),
        });
        sbom.packages
            .push(package(Ecosystem::Deb, "libc6", "2.36-9+deb12u4"));
        sbom.packages
            .push(package(Ecosystem::Deb, "zlib1g", "1:1.2.13.dfsg-1"));
        let settings = Settings {
            policy: Policy::default(),
            now: SystemTime::now(),
        };
        let r = Report::generate(&db, &sbom, &settings).unwrap();
        assert_eq!((r.summary.packages, r.summary.packages_checked), (3, 1));
        assert_eq!(
            r.summary.no_records,
            [("Debian:12".to_owned(), 2)].into_iter().collect()
        );
        assert!(
            r.warnings.iter().any(|w| w.contains("Debian:12")),
            "{:?}",
            r.warnings
        );
    }

    /// The same package found twice (two virtualenvs): each finding's `affects` points
    /// at its own component, by the bom-ref pare-sbom gave that component.
    #[test]
    fn cyclonedx_vulnerabilities_point_at_their_own_component() {
        let (_dir, db) = crate::testing::database(&["osv", "debian-osv-derived"]);
        let mut sbom = flask_image();
        let mut second = sbom.packages[0].clone();
        second.found_in = "/venv/b".into();
        sbom.packages.push(second);
        let settings = Settings {
            policy: Policy::default(),
            now: SystemTime::now(),
        };
        let r = Report::generate(&db, &sbom, &settings).unwrap();
        let doc = cyclonedx::document(&sbom, &r, "2026-12-05T00:00:00Z");
        let components: Vec<&str> = doc["components"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|c| c["bom-ref"].as_str())
            .collect();
        let mut affected: Vec<&str> = doc["vulnerabilities"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["affects"][0]["ref"].as_str().unwrap())
            .collect();
        affected.sort();
        let purl = sbom.packages[0].purl.clone();
        assert_eq!(affected, [purl.clone(), format!("{purl}#/venv/b")]);
        assert!(affected.iter().all(|a| components.contains(a)), "{doc:#}");
    }
}
