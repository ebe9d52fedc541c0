//! `pare compare`'s outputs: the table people read, Markdown to paste, CSV for
//! spreadsheets. JSON is the report itself. All pure functions of the comparison.

use std::fmt::Write as _;

use pare_compare::summary::{Comparison, Outcome, Row, Summary};
use pare_vuln::severity::Severity;

use crate::units::{bytes, count};

/// The columns of the table and the Markdown.
pub const HEADERS: [&str; 15] = [
    "#",
    "image",
    "score",
    "stored",
    "uncompressed",
    "layers",
    "files",
    "packages",
    "vulns (C/H/M/L)",
    "fixable",
    "user",
    "shells / pkg managers",
    "setuid",
    "updates",
    "base OS",
];

/// One row's cells as people read them (for an image that could not be read, the
/// error in the last column).
pub fn cells(rank: usize, row: &Row) -> Vec<String> {
    match &row.outcome {
        Outcome::Failed { error } => {
            // The error goes last, where a long cell widens no other column.
            let mut cells = vec!["-".to_owned(), row.reference.clone()];
            cells.resize(HEADERS.len() - 1, "-".into());
            cells.push(format!("error: {error}"));
            cells
        }
        Outcome::Summary(s) => vec![
            rank.to_string(),
            s.name.clone(),
            s.score.to_string(),
            bytes(s.stored_bytes),
            bytes(s.uncompressed_bytes),
            s.layers.to_string(),
            count(s.files),
            packages(s),
            s.vulnerabilities
                .as_ref()
                .map_or("-".into(), |v| vulnerabilities(v.total, &v.by_severity)),
            s.vulnerabilities
                .as_ref()
                .map_or("-".into(), |v| v.fixable.to_string()),
            format!(
                "{}{}",
                if s.user.is_empty() { "root" } else { &s.user },
                if s.runs_as_root { " (root)" } else { "" }
            ),
            format!("{} / {}", s.shells.len(), s.package_managers.len()),
            s.setuid.len().to_string(),
            s.security_updates
                .as_ref()
                .map_or("-".into(), |u| u.len().to_string()),
            base_os(s),
        ],
    }
}

/// `5 (0/1/2/0)`, and findings rated neither of the four named after them
/// (`2 (0/0/0/0, 1 negligible, 1 unknown)`): a total the four counts do not add up
/// to would read as a miscount, and unrated findings are never dropped.
fn vulnerabilities(total: usize, c: &pare_vuln::severity::Counts) -> String {
    let mut cell = format!("{total} ({}/{}/{}/{}", c.critical, c.high, c.medium, c.low);
    for (n, name) in [(c.negligible, "negligible"), (c.unknown, "unknown")] {
        if n > 0 {
            let _ = write!(cell, ", {n} {name}");
        }
    }
    cell.push(')');
    cell
}

/// `152 (deb 120, python 32)`.
fn packages(s: &Summary) -> String {
    if s.packages.is_empty() {
        return "0".into();
    }
    let by_type: Vec<String> = s.packages.iter().map(|(k, v)| format!("{k} {v}")).collect();
    format!("{} ({})", s.packages_total, by_type.join(", "))
}

/// `Debian GNU/Linux 12 (bookworm): extended until 2028-06-30`.
fn base_os(s: &Summary) -> String {
    let Some(os) = &s.base_os else {
        return "-".into();
    };
    match &os.support {
        None => format!("{}: support not known", os.name),
        Some(support) => {
            use pare_compare::lifecycle::SupportStatus::*;
            let status = match support.status {
                Development => "in development".to_owned(),
                Supported => format!(
                    "supported until {}",
                    support.end_of_life.as_deref().unwrap_or("?")
                ),
                Extended => format!(
                    "{} until {}",
                    support.extended.as_deref().unwrap_or("extended support"),
                    support.extended_until.as_deref().unwrap_or("?")
                ),
                EndOfLife => format!(
                    "END OF LIFE since {}",
                    support
                        .extended_until
                        .as_deref()
                        .or(support.end_of_life.as_deref())
                        .unwrap_or("?")
                ),
            };
            format!("{}: {status}", os.name)
        }
    }
}

/// Every row's cells, ranked.
pub fn rows(c: &Comparison) -> Vec<Vec<String>> {
    c.rows
        .iter()
        .enumerate()
        .map(|(i, row)| cells(i + 1, row))
        .collect()
}

/// The table: aligned columns, then the score rule and what was not checked.
pub fn table(c: &Comparison, vulnerabilities_note: Option<&str>) -> String {
    let rows = rows(c);
    let widths: Vec<usize> = (0..HEADERS.len())
        .map(|i| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .chain([HEADERS[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    let line = |cells: &[String], out: &mut String| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{:<w$}", super::escape(c)))
            .collect();
        let _ = writeln!(out, "{}", padded.join("  ").trim_end());
    };
    line(&HEADERS.map(str::to_owned), &mut out);
    for r in &rows {
        line(r, &mut out);
    }
    footer(c, vulnerabilities_note, &mut out);
    out
}

fn footer(c: &Comparison, vulnerabilities_note: Option<&str>, out: &mut String) {
    let _ = writeln!(out, "\nScore: {}.", c.score);
    if let Some(note) = vulnerabilities_note {
        let _ = writeln!(out, "Vulnerabilities not checked: {note}.");
    }
}

/// A Markdown table (GitHub's), with the same cells.
pub fn markdown(c: &Comparison, vulnerabilities_note: Option<&str>) -> String {
    let mut out = String::new();
    let cell = |s: &str| super::escape(s).replace('|', "\\|");
    let _ = writeln!(out, "| {} |", HEADERS.join(" | "));
    let _ = writeln!(out, "|{}", "---|".repeat(HEADERS.len()));
    for r in rows(c) {
        let cells: Vec<String> = r.iter().map(|s| cell(s)).collect();
        let _ = writeln!(out, "| {} |", cells.join(" | "));
    }
    footer(c, vulnerabilities_note, &mut out);
    out
}

/// The CSV columns: plain numbers, one column per severity.
const CSV_HEADERS: [&str; 27] = [
    "rank",
    "reference",
    "name",
    "score",
    "stored_bytes",
    "uncompressed_bytes",
    "layers",
    "files",
    "packages",
    "packages_by_type",
    "vulnerabilities",
    "critical",
    "high",
    "medium",
    "low",
    "negligible",
    "unknown",
    "fixable",
    "user",
    "runs_as_root",
    "shells",
    "package_managers",
    "setuid_files",
    "security_updates",
    "base_os",
    "support",
    "error",
];

/// CSV with a header line (RFC 4180 quoting, by the csv crate).
pub fn csv(c: &Comparison) -> anyhow::Result<String> {
    let mut w = ::csv::Writer::from_writer(Vec::new());
    w.write_record(CSV_HEADERS)?;
    for (i, row) in c.rows.iter().enumerate() {
        w.write_record(csv_record(i + 1, row))?;
    }
    Ok(String::from_utf8(w.into_inner()?)?)
}

fn csv_record(rank: usize, row: &Row) -> Vec<String> {
    let mut r = vec![rank.to_string(), row.reference.clone()];
    match &row.outcome {
        Outcome::Failed { error } => {
            r.resize(CSV_HEADERS.len() - 1, String::new());
            r.push(error.clone());
        }
        Outcome::Summary(s) => {
            let n = |v: usize| v.to_string();
            let vuln = |f: &dyn Fn(&pare_compare::summary::VulnerabilityCounts) -> usize| {
                s.vulnerabilities
                    .as_ref()
                    .map_or(String::new(), |v| n(f(v)))
            };
            r.extend([
                s.name.clone(),
                s.score.to_string(),
                s.stored_bytes.to_string(),
                s.uncompressed_bytes.to_string(),
                n(s.layers),
                s.files.to_string(),
                n(s.packages_total),
                s.packages
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(";"),
                vuln(&|v| v.total),
            ]);
            for level in Severity::ALL {
                r.push(vuln(&|v| v.at(level)));
            }
            r.extend([
                vuln(&|v| v.fixable),
                s.user.clone(),
                s.runs_as_root.to_string(),
                n(s.shells.len()),
                n(s.package_managers.len()),
                n(s.setuid.len()),
                s.security_updates
                    .as_ref()
                    .map_or(String::new(), |u| n(u.len())),
                s.base_os.as_ref().map_or(String::new(), |o| o.name.clone()),
                s.base_os
                    .as_ref()
                    .and_then(|o| o.support.as_ref())
                    .map_or(String::new(), |s| s.status.as_str().to_owned()),
                String::new(),
            ]);
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> Comparison {
        serde_json::from_str(include_str!("fixtures/compare.json")).unwrap()
    }

    #[test]
    fn table_of_the_test_images() {
        insta::assert_snapshot!(table(&fixture(), None));
    }

    #[test]
    fn markdown_of_the_test_images() {
        insta::assert_snapshot!(markdown(&fixture(), None));
    }

    #[test]
    fn csv_has_a_column_per_header_on_every_row() {
        let text = csv(&fixture()).unwrap();
        let mut reader = ::csv::Reader::from_reader(text.as_bytes());
        let rows: Vec<_> = reader.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), fixture().rows.len());
        assert!(rows.iter().all(|r| r.len() == CSV_HEADERS.len()));
    }

    #[test]
    fn unrated_findings_are_named_beside_the_four_counts() {
        let counts = |negligible, unknown| pare_vuln::severity::Counts {
            high: 1,
            negligible,
            unknown,
            ..Default::default()
        };
        assert_eq!(vulnerabilities(1, &counts(0, 0)), "1 (0/1/0/0)");
        assert_eq!(
            vulnerabilities(3, &counts(1, 1)),
            "3 (0/1/0/0, 1 negligible, 1 unknown)"
        );
        assert_eq!(vulnerabilities(2, &counts(0, 1)), "2 (0/1/0/0, 1 unknown)");
    }
}
