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
    pub packages_checked: usize,
    /// Packages no advisory source covers, by ecosystem.
    pub not_covered: BTreeMap<String, usize>,
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
        let summary = Summary {
            vulnerabilities: applied.findings.len(),
            by_severity: Counts::of(applied.findings.iter().map(|f| f.severity)),
            suppressed: applied.suppressed.len(),
            packages: sbom.packages.len(),
            packages_checked: matches.packages_checked,
            not_covered: matches.not_covered,
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
