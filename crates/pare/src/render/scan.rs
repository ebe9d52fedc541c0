//! The table people read of `pare scan`'s report. The report itself, its JSON shape
//! and its SARIF and CycloneDX writers are pare-vuln's ([`pare_vuln::report`]); the
//! table is here because it is for a terminal (widths, escaping, `1,234`).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::{Duration, SystemTime};

use pare_vuln::matcher::Finding;
use pare_vuln::policy::{Reason, Suppressed};
pub use pare_vuln::report::STALE_AFTER;
use pare_vuln::report::{Report, Summary};
use pare_vuln::severity::Severity;

use super::column_width;
use crate::units::count;

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
pub fn table(r: &Report, files: bool, now: SystemTime) -> String {
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
        "Packages         {} ({} checked{}{})",
        count(r.summary.packages as u64),
        count(r.summary.packages_checked as u64),
        no_records(&r.summary.no_records),
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

fn no_records(by: &BTreeMap<String, usize>) -> String {
    if by.is_empty() {
        return String::new();
    }
    let parts: Vec<String> = by.iter().map(|(e, n)| format!("{n} {e}")).collect();
    format!(
        "; not checked, the database has no records of their ecosystem: {}",
        parts.join(", ")
    )
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

#[cfg(test)]
mod tests {
    use super::*;
    use pare_vuln::severity::Counts;

    fn fixture() -> Report {
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
