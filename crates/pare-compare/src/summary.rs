//! One row of `pare compare`: the figures people choose a base image by, each the
//! same as `pare xray`, `pare sbom` or `pare scan` reports for the image alone, and
//! the score the rows are sorted by.

use std::collections::BTreeMap;

use pare_vuln::matcher::Finding;
use pare_vuln::severity::{Counts, Severity};
use pare_xray::ToolKind;
use serde::{Deserialize, Serialize};

use crate::inspect::Inspected;
use crate::lifecycle::{Support, SupportStatus};
use crate::updates::{PackageIndex, PendingUpdate};

/// The version of the JSON shape of [`Comparison`].
pub const SCHEMA: &str = "pare.compare/v1";

/// How the score is made, as `pare compare` states it (lower is better).
pub const SCORE_RULE: &str = "points, lower is better: 10 per critical, 5 per high, 2 per \
    medium, 1 per low vulnerability; 10 for running as root; 5 for a shell; 5 for a package \
    manager; 1 per setuid/setgid file (at most 10); 20 for a base OS on extended support, \
    50 past its end of life; 2 per pending security update (with --updates); 1 per 10 MB \
    uncompressed";

/// Every image compared, best score first; images that could not be read last.
#[derive(Debug, Serialize, Deserialize)]
pub struct Comparison {
    pub schema: String,
    pub score: String,
    /// The day support statuses are judged on (`YYYY-MM-DD`).
    pub date: String,
    /// The advisory database the vulnerabilities come from; `None`: not checked.
    pub database: Option<String>,
    pub rows: Vec<Row>,
}

/// One image: its figures, or why it could not be read.
#[derive(Debug, Serialize, Deserialize)]
pub struct Row {
    pub reference: String,
    #[serde(flatten)]
    pub outcome: Outcome,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Outcome {
    Summary(Box<Summary>),
    Failed { error: String },
}

/// The figures of one image.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Summary {
    pub name: String,
    pub score: u64,
    /// Layers as stored (compressed, as the registry and `pare xray` count them).
    pub stored_bytes: u64,
    pub uncompressed_bytes: u64,
    pub layers: usize,
    /// Everything but directories, as `pare xray` counts files.
    pub files: u64,
    /// Packages by pare's ecosystem name (`deb`, `python`, `npm` …).
    pub packages: BTreeMap<String, usize>,
    pub packages_total: usize,
    /// `None`: no advisory database.
    pub vulnerabilities: Option<VulnerabilityCounts>,
    pub user: String,
    pub runs_as_root: bool,
    pub shells: Vec<String>,
    pub package_managers: Vec<String>,
    /// Files with the setuid or setgid bit.
    pub setuid: Vec<String>,
    pub base_os: Option<BaseOs>,
    /// Installed packages with a newer version in the security archive's index;
    /// `None` without `--updates`.
    pub security_updates: Option<Vec<PendingUpdate>>,
}

/// Vulnerabilities by severity, as `pare scan` counts them (after ignore files and VEX).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VulnerabilityCounts {
    pub total: usize,
    #[serde(flatten)]
    pub by_severity: Counts,
    /// Those a fixed version is known for.
    pub fixable: usize,
}

impl VulnerabilityCounts {
    pub fn of(findings: &[Finding]) -> Self {
        VulnerabilityCounts {
            total: findings.len(),
            by_severity: Counts::of(findings.iter().map(|f| f.severity)),
            fixable: findings.iter().filter(|f| f.fixed.is_some()).count(),
        }
    }

    pub fn at(&self, severity: Severity) -> usize {
        self.by_severity.at(severity)
    }
}

/// The operating system the image is built on, from its os-release.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BaseOs {
    pub id: String,
    pub version_id: String,
    pub name: String,
    /// `None`: a distribution the embedded release data does not cover.
    pub support: Option<Support>,
}

impl Summary {
    /// The row of an inspected image; `today` (`YYYY-MM-DD`) judges OS support, and
    /// `updates`, the security archive's index, which packages are out of date.
    pub fn of(inspected: &Inspected, today: &str, updates: Option<&PackageIndex>) -> Summary {
        let facts = &inspected.xray.image;
        let mut packages: BTreeMap<String, usize> = BTreeMap::new();
        for p in &inspected.sbom.packages {
            *packages.entry(p.ecosystem.name().to_owned()).or_default() += 1;
        }
        let tools = |kind: ToolKind| -> Vec<String> {
            inspected
                .xray
                .tools
                .iter()
                .filter(|t| t.kind == kind)
                .map(|t| t.path.clone())
                .collect()
        };
        let base_os = inspected.sbom.distro.as_ref().map(|d| BaseOs {
            id: d.id.clone(),
            version_id: d.version_id.clone(),
            name: d
                .pretty_name
                .clone()
                .unwrap_or_else(|| format!("{} {}", d.id, d.version_id)),
            support: crate::lifecycle::support(d, today),
        });
        let mut summary = Summary {
            name: inspected.name().to_owned(),
            score: 0,
            stored_bytes: facts.compressed_bytes,
            uncompressed_bytes: facts.uncompressed_bytes,
            layers: inspected.xray.layers.len(),
            files: facts.files,
            packages_total: inspected.sbom.packages.len(),
            packages,
            vulnerabilities: inspected
                .vulnerabilities
                .as_deref()
                .map(VulnerabilityCounts::of),
            user: facts.user.clone(),
            runs_as_root: facts.runs_as_root,
            shells: tools(ToolKind::Shell),
            package_managers: tools(ToolKind::PackageManager),
            setuid: inspected
                .xray
                .setuid
                .iter()
                .map(|f| f.path.clone())
                .collect(),
            base_os,
            security_updates: updates.map(|index| index.pending(&inspected.sbom)),
        };
        summary.score = summary.points();
        summary
    }

    /// The points of [`SCORE_RULE`].
    fn points(&self) -> u64 {
        let mut points = 0u64;
        if let Some(v) = &self.vulnerabilities {
            let c = &v.by_severity;
            points += (10 * c.critical + 5 * c.high + 2 * c.medium + c.low) as u64;
        }
        points += if self.runs_as_root { 10 } else { 0 };
        points += if self.shells.is_empty() { 0 } else { 5 };
        points += if self.package_managers.is_empty() {
            0
        } else {
            5
        };
        points += self.setuid.len().min(10) as u64;
        points += match self
            .base_os
            .as_ref()
            .and_then(|o| o.support.as_ref())
            .map(|s| s.status)
        {
            Some(SupportStatus::Extended) => 20,
            Some(SupportStatus::EndOfLife) => 50,
            _ => 0,
        };
        points += 2 * self.security_updates.as_ref().map_or(0, Vec::len) as u64;
        points + self.uncompressed_bytes / 10_000_000
    }
}

impl Comparison {
    /// Sorts the rows: best score first, then smaller, then by name; failures last in
    /// the order given.
    pub fn new(rows: Vec<Row>, date: String, database: Option<String>) -> Comparison {
        let mut rows = rows;
        rows.sort_by(|a, b| match (&a.outcome, &b.outcome) {
            (Outcome::Summary(x), Outcome::Summary(y)) => (x.score, x.uncompressed_bytes, &x.name)
                .cmp(&(y.score, y.uncompressed_bytes, &y.name)),
            (Outcome::Summary(_), Outcome::Failed { .. }) => std::cmp::Ordering::Less,
            (Outcome::Failed { .. }, Outcome::Summary(_)) => std::cmp::Ordering::Greater,
            _ => std::cmp::Ordering::Equal,
        });
        Comparison {
            schema: SCHEMA.into(),
            score: SCORE_RULE.into(),
            date,
            database,
            rows,
        }
    }

    /// Whether any image could not be read.
    pub fn has_failures(&self) -> bool {
        self.rows
            .iter()
            .any(|r| matches!(r.outcome, Outcome::Failed { .. }))
    }
}
