//! `pare scan`'s report and its renderings: the table people read, pare's JSON
//! (docs/scan.md), SARIF 2.1.0 for code-scanning dashboards, and a CycloneDX 1.6 BOM
//! with vulnerabilities. All pure functions of the report (and, for CycloneDX, the
//! SBOM the findings refer to).

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::time::{Duration, SystemTime};

use pare_sbom::Sbom;
use pare_vuln::db::{SourceStatus, Status};
use pare_vuln::matcher::{Finding, Matches};
use pare_vuln::policy::{Applied, Reason, Suppressed};
use pare_vuln::severity::{Counts, RatingSource, Severity};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::column_width;
use crate::units::count;

/// Advisory data older than this gets a warning.
pub const STALE_AFTER: Duration = Duration::from_secs(7 * 24 * 3600);

/// Everything `pare scan` found, as `--format json` writes it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScanReport {
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

impl ScanReport {
    /// Puts together what the commands found. `now` decides how old the data is.
    pub fn new(
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
            let look_in = pare_vuln::ecosystem::look_in(ecosystem);
            if !status
                .ecosystems
                .iter()
                .any(|e| look_in.contains(&e.ecosystem))
            {
                warnings.push(format!(
                    "the advisory database has no records for {ecosystem}, so its {n} \
                     package(s) could not be checked; `pare db update --ecosystem {}` fetches them",
                    pare_vuln::ecosystem::base(ecosystem)
                ));
            }
        }
        ScanReport {
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

/// `3 critical, 12 high, 20 medium, 5 low`: the levels with findings, worst first.
pub fn counts_line(s: &Summary) -> String {
    let parts: Vec<String> = Severity::ALL
        .into_iter()
        .filter(|l| s.count(*l) > 0)
        .map(|l| format!("{} {l}", count(s.count(l) as u64)))
        .collect();
    if parts.is_empty() {
        "0".into()
    } else {
        format!("{}: {}", count(s.vulnerabilities as u64), parts.join(", "))
    }
}

/// `2 hours`, `9 days`.
pub fn age(d: Duration) -> String {
    let secs = d.as_secs();
    let (n, unit) = match secs {
        s if s < 120 => return "moments".into(),
        s if s < 7200 => (s / 60, "minute"),
        s if s < 2 * 86_400 => (s / 3600, "hour"),
        s => (s / 86_400, "day"),
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

/// The table: the counts first, then one line per finding (its files below it with
/// `files`), then what was left out.
pub fn table(r: &ScanReport, files: bool, now: SystemTime) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Image            {}", super::escape(&r.image.name));
    if let Some(d) = &r.image.distro {
        let _ = writeln!(out, "Distro           {}", super::escape(d));
    }
    let oldest = r.database.sources.iter().map(|s| s.fetched_at).min();
    let fetched = oldest
        .map(|t| {
            format!(
                ", fetched {} ago",
                age(now.duration_since(t).unwrap_or_default())
            )
        })
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "Advisory data    {} advisories from {} source{}{fetched}",
        count(r.database.advisories),
        r.database.sources.len(),
        if r.database.sources.len() == 1 {
            ""
        } else {
            "s"
        }
    );
    let _ = writeln!(
        out,
        "Packages         {} ({} checked{})",
        count(r.summary.packages as u64),
        count(r.summary.packages_checked as u64),
        not_covered(&r.summary.not_covered)
    );
    let _ = writeln!(out, "Vulnerabilities  {}", counts_line(&r.summary));
    if !r.suppressed.is_empty() {
        let _ = writeln!(out, "Suppressed       {}", suppressed_line(&r.suppressed));
    }
    if r.findings.is_empty() {
        let _ = writeln!(out, "\nNo known vulnerabilities.");
    } else {
        out.push('\n');
        findings_table(&mut out, &r.findings, files);
    }
    if !r.warnings.is_empty() {
        let _ = writeln!(out, "\n{} warning(s) (on stderr)", r.warnings.len());
    }
    out
}

fn not_covered(by: &BTreeMap<String, usize>) -> String {
    if by.is_empty() {
        return String::new();
    }
    let parts: Vec<String> = by.iter().map(|(e, n)| format!("{n} {e}")).collect();
    format!("; not covered by any advisory source: {}", parts.join(", "))
}

/// `3 (1 by --ignore, 2 by VEX)`.
fn suppressed_line(s: &[Suppressed]) -> String {
    let mut by: BTreeMap<&str, usize> = BTreeMap::new();
    for x in s {
        let why = match x.reason {
            Reason::Ignored { .. } => "by --ignore",
            Reason::Vex { .. } => "by VEX",
            Reason::NoFix => "without a fix (--only-fixed)",
        };
        *by.entry(why).or_default() += 1;
    }
    let parts: Vec<String> = by.iter().map(|(w, n)| format!("{n} {w}")).collect();
    format!("{} ({})", s.len(), parts.join(", "))
}

/// The package column: `libpython3.11-stdlib (python3.11)` when the advisory names
/// another (source) package.
fn package_cell(f: &Finding) -> String {
    if f.advisory_package.name != f.package.name
        && f.advisory_package
            .ecosystem
            .starts_with(|c: char| c.is_ascii_uppercase())
        && f.package.ecosystem == "deb"
    {
        format!("{} ({})", f.package.name, f.advisory_package.name)
    } else {
        f.package.name.clone()
    }
}

fn fixed_cell(f: &Finding) -> String {
    match (&f.fixed, &f.no_fix_reason) {
        (Some(v), _) => v.clone(),
        (None, Some(why)) => format!("no fix ({why})"),
        (None, None) => "no fix yet".into(),
    }
}

fn findings_table(out: &mut String, findings: &[Finding], files: bool) {
    let packages: Vec<String> = findings.iter().map(package_cell).collect();
    let fixes: Vec<String> = findings.iter().map(fixed_cell).collect();
    let id_w = column_width(findings.iter().map(|f| f.id.len()), 2, 24);
    let pkg_w = column_width(packages.iter().map(String::len), 7, 40);
    let ver_w = column_width(findings.iter().map(|f| f.package.version.len()), 7, 28);
    let fix_w = column_width(fixes.iter().map(String::len), 8, 28);
    let _ = writeln!(
        out,
        "{:<10}  {:<id_w$}  {:<6}  {:<pkg_w$}  {:<ver_w$}  {:<fix_w$}  ALIASES",
        "SEVERITY", "ID", "TYPE", "PACKAGE", "VERSION", "FIXED IN"
    );
    for ((f, package), fixed) in findings.iter().zip(&packages).zip(&fixes) {
        let line = format!(
            "{:<10}  {:<id_w$}  {:<6}  {:<pkg_w$}  {:<ver_w$}  {:<fix_w$}  {}",
            f.severity.name(),
            f.id,
            f.package.ecosystem,
            package,
            f.package.version,
            fixed,
            super::short_list(&f.aliases, 3)
        );
        // Names, versions and ids come from the image and the advisories.
        let _ = writeln!(out, "{}", super::escape(line.trim_end()));
        if files {
            for path in &f.package.files {
                let _ = writeln!(out, "            {}", super::escape(path));
            }
        }
    }
}

/// SARIF 2.1.0: one rule per advisory, one result per finding, located at the
/// metadata file (or binary) the package was found in.
pub fn sarif(r: &ScanReport) -> Value {
    let mut ids: Vec<&str> = r.findings.iter().map(|f| f.id.as_str()).collect();
    ids.sort();
    ids.dedup();
    let rules: Vec<Value> = ids
        .iter()
        .filter_map(|id| r.findings.iter().find(|f| f.id == *id))
        .map(|f| {
            let mut properties = json!({
                "tags": ["security", "vulnerability", f.package.ecosystem],
                "aliases": f.aliases,
            });
            if let Some(score) = f.rating.score {
                // GitHub code scanning ranks alerts by this (a string, per its docs).
                properties["security-severity"] = json!(format!("{score:.1}"));
            }
            json!({
                "id": f.id,
                "name": f.id,
                "shortDescription": { "text": f.summary.clone().unwrap_or_else(|| f.id.clone()) },
                "helpUri": f.url,
                "help": { "text": format!("{}\n{}", f.summary.as_deref().unwrap_or(&f.id), f.url) },
                "defaultConfiguration": { "level": level(f.severity) },
                "properties": properties,
            })
        })
        .collect();
    let results: Vec<Value> = r
        .findings
        .iter()
        .map(|f| {
            json!({
                "ruleId": f.id,
                "ruleIndex": ids.iter().position(|i| *i == f.id).unwrap_or(0),
                "level": level(f.severity),
                "message": { "text": format!(
                    "{} {} ({}) is affected by {}{}; {}",
                    f.package.name,
                    f.package.version,
                    f.package.ecosystem,
                    f.id,
                    if f.aliases.is_empty() { String::new() } else { format!(" ({})", f.aliases.join(", ")) },
                    match &f.fixed { Some(v) => format!("fixed in {v}"), None => "no fix yet".into() },
                ) },
                "locations": [{
                    // An image path, relative (SARIF wants a URI reference).
                    "physicalLocation": { "artifactLocation": {
                        "uri": pare_lint::format::sarif::uri(f.package.found_in.trim_start_matches('/')),
                    } },
                    "logicalLocations": [{
                        "name": f.package.name,
                        "fullyQualifiedName": f.package.purl,
                        "kind": "package",
                    }],
                }],
                "properties": { "severity": f.severity.name(), "purl": f.package.purl },
            })
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "pare",
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://osv.dev",
                "rules": rules,
            }},
            "invocations": [{ "executionSuccessful": true }],
            "properties": { "image": r.image.name, "configDigest": r.image.config_digest },
            "results": results,
        }]
    })
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Negligible | Severity::Unknown => "note",
    }
}

/// A CycloneDX 1.6 BOM of the image (pare sbom's) with `vulnerabilities`: the
/// findings, and those a VEX statement suppressed with their analysis.
pub fn cyclonedx(sbom: &Sbom, r: &ScanReport, timestamp: &str) -> Value {
    let mut doc = pare_sbom::cyclonedx::document(sbom, timestamp);
    doc["serialNumber"] = json!(format!(
        "urn:uuid:{}",
        pare_sbom::cyclonedx::uuid_from(&[&sbom.image.config_digest, timestamp, "scan"])
    ));
    // Components are keyed by purl and where they were found; their bom-refs are
    // what vulnerabilities point at.
    let mut refs: HashMap<(String, String), String> = HashMap::new();
    for c in doc["components"].as_array().into_iter().flatten() {
        let found_in = c["properties"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|p| p["name"] == "pare:found-in")
            .and_then(|p| p["value"].as_str());
        if let (Some(purl), Some(found_in), Some(bom_ref)) =
            (c["purl"].as_str(), found_in, c["bom-ref"].as_str())
        {
            refs.insert((purl.to_owned(), found_in.to_owned()), bom_ref.to_owned());
        }
    }
    let bom_ref = |f: &Finding| {
        refs.get(&(f.package.purl.clone(), f.package.found_in.clone()))
            .cloned()
            .unwrap_or_else(|| f.package.purl.clone())
    };
    let mut vulnerabilities: Vec<Value> = r
        .findings
        .iter()
        .map(|f| vulnerability(f, &bom_ref(f), None))
        .collect();
    for s in &r.suppressed {
        if let Reason::Vex { .. } = s.reason {
            vulnerabilities.push(vulnerability(
                &s.finding,
                &bom_ref(&s.finding),
                Some(&s.reason),
            ));
        }
    }
    doc["vulnerabilities"] = Value::Array(vulnerabilities);
    doc
}

fn vulnerability(f: &Finding, bom_ref: &str, vex: Option<&Reason>) -> Value {
    let (source, url) = source_of(&f.id, &f.url);
    let mut v = json!({
        "bom-ref": format!("{}@{bom_ref}", f.id),
        "id": f.id,
        "source": { "name": source, "url": url },
        "references": f.aliases.iter().map(|a| {
            let (name, url) = source_of(a, "");
            json!({ "id": a, "source": { "name": name, "url": url } })
        }).collect::<Vec<_>>(),
        "ratings": [rating(f)],
        "affects": [{ "ref": bom_ref, "versions": [{ "version": f.package.version, "status": "affected" }] }],
    });
    if let Some(summary) = &f.summary {
        v["description"] = json!(summary);
    }
    if let Some(fixed) = &f.fixed {
        v["recommendation"] = json!(format!("Upgrade {} to {fixed} or later", f.package.name));
    }
    if let Some(Reason::Vex {
        status,
        justification,
        ..
    }) = vex
    {
        let state = if status.name() == "fixed" {
            "resolved"
        } else {
            "not_affected"
        };
        let mut analysis = json!({ "state": state });
        if let Some(j) = justification.as_deref().and_then(cdx_justification) {
            analysis["justification"] = json!(j);
        }
        v["analysis"] = analysis;
        v["affects"][0]["versions"][0]["status"] = json!("unaffected");
    }
    v
}

fn rating(f: &Finding) -> Value {
    let method = match (f.rating.source, f.rating.vector.as_deref()) {
        (RatingSource::CvssV3, Some(v)) if v.starts_with("CVSS:3.1") => "CVSSv31",
        (RatingSource::CvssV3, _) => "CVSSv3",
        (RatingSource::CvssV4, _) => "CVSSv4",
        _ => "other",
    };
    let severity = match f.severity {
        Severity::Negligible => "info",
        s => s.name(),
    };
    let mut r = json!({ "severity": severity, "method": method });
    if matches!(f.rating.source, RatingSource::CvssV3 | RatingSource::CvssV4) {
        r["score"] = json!(f.rating.score);
        r["vector"] = json!(f.rating.vector);
    }
    r
}

/// OpenVEX justifications in CycloneDX's words.
fn cdx_justification(openvex: &str) -> Option<&'static str> {
    Some(match openvex {
        "component_not_present" | "vulnerable_code_not_present" => "code_not_present",
        "vulnerable_code_not_in_execute_path" => "code_not_reachable",
        "vulnerable_code_cannot_be_controlled_by_adversary" => "requires_environment",
        "inline_mitigations_already_exist" => "protected_by_mitigating_control",
        _ => return None,
    })
}

/// Which database an id belongs to, and where to read it.
fn source_of(id: &str, url: &str) -> (&'static str, String) {
    let or = |fallback: String| {
        if url.is_empty() {
            fallback
        } else {
            url.to_owned()
        }
    };
    match id.split('-').next().unwrap_or("") {
        "CVE" => ("NVD", or(format!("https://nvd.nist.gov/vuln/detail/{id}"))),
        "GHSA" => ("GitHub", or(format!("https://github.com/advisories/{id}"))),
        "GO" => ("Go", or(format!("https://pkg.go.dev/vuln/{id}"))),
        "DEBIAN" | "DSA" | "DLA" => ("Debian", or(format!("https://osv.dev/vulnerability/{id}"))),
        "PYSEC" => ("PyPA", or(format!("https://osv.dev/vulnerability/{id}"))),
        _ => ("OSV", or(format!("https://osv.dev/vulnerability/{id}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> ScanReport {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/data/vuln/scan-report-vulnapp.json"
        );
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    fn now() -> SystemTime {
        humantime::parse_rfc3339("2026-11-30T00:00:00Z").unwrap()
    }

    #[test]
    fn table_of_the_vulnapp_report() {
        insta::assert_snapshot!(table(&fixture(), false, now()));
    }

    #[test]
    fn table_with_files_and_without_findings() {
        let mut r = fixture();
        r.findings.truncate(1);
        let with_files = table(&r, true, now());
        for file in &r.findings[0].package.files {
            assert!(
                with_files.contains(&format!("\n            {file}\n")),
                "{with_files}"
            );
        }
        r.findings.clear();
        r.summary = Summary::default();
        r.suppressed.clear();
        let empty = table(&r, false, now());
        assert!(
            empty.contains("Vulnerabilities  0\n\nNo known vulnerabilities.\n"),
            "{empty}"
        );
    }

    #[test]
    fn counts_and_ages_read_as_people_say_them() {
        let s = Summary {
            vulnerabilities: 40,
            by_severity: Counts {
                critical: 3,
                high: 12,
                medium: 20,
                low: 5,
                ..Default::default()
            },
            ..Default::default()
        };
        assert_eq!(counts_line(&s), "40: 3 critical, 12 high, 20 medium, 5 low");
        assert_eq!(age(Duration::from_secs(30)), "moments");
        assert_eq!(age(Duration::from_secs(3600)), "60 minutes");
        assert_eq!(age(Duration::from_secs(3 * 3600)), "3 hours");
        assert_eq!(age(Duration::from_secs(86_400 * 9 + 5)), "9 days");
    }
}
