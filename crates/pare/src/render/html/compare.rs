//! `pare compare --html`: the table, and bar charts of size and of vulnerabilities by
//! severity per image.

use pare_compare::summary::{Comparison, Outcome};
use pare_vuln::severity::Severity;
use serde::Serialize;

use super::chart::{BarChart, Series};
use super::{SEVERITY_COLOURS, page};
use crate::render::compare::{HEADERS, rows};
use crate::units::bytes;

#[derive(Serialize)]
struct Row {
    cells: Vec<String>,
    error: bool,
}

#[derive(Serialize)]
struct Context<'a> {
    comparison: &'a Comparison,
    headers: [&'static str; HEADERS.len()],
    rows: Vec<Row>,
    size_chart: String,
    vulnerability_chart: Option<String>,
    vulnerabilities_note: &'a str,
}

/// The size chart: stored and uncompressed bytes per image, in score order.
pub fn size_chart(c: &Comparison) -> BarChart<'static> {
    BarChart {
        title: "Size per image",
        series: vec![
            Series {
                name: "uncompressed",
                colour: "#4e79a7",
            },
            Series {
                name: "as stored",
                colour: "#a0cbe8",
            },
        ],
        rows: summaries(c)
            .map(|s| (s.name.clone(), vec![s.uncompressed_bytes, s.stored_bytes]))
            .collect(),
        stacked: false,
        format: bytes,
    }
}

/// Vulnerabilities per image, stacked by severity (worst first); `None` when they
/// were not checked.
pub fn vulnerability_chart(c: &Comparison) -> Option<BarChart<'static>> {
    c.database.as_ref()?;
    Some(BarChart {
        title: "Vulnerabilities per image, by severity",
        series: Severity::ALL
            .iter()
            .zip(SEVERITY_COLOURS)
            .map(|(s, colour)| Series {
                name: s.name(),
                colour,
            })
            .collect(),
        rows: summaries(c)
            .map(|s| {
                let counts = s.vulnerabilities.clone().unwrap_or_default();
                let values = Severity::ALL.iter().map(|l| counts.at(*l) as u64).collect();
                (s.name.clone(), values)
            })
            .collect(),
        stacked: true,
        format: |n| n.to_string(),
    })
}

fn summaries(c: &Comparison) -> impl Iterator<Item = &pare_compare::summary::Summary> {
    c.rows.iter().filter_map(|r| match &r.outcome {
        Outcome::Summary(s) => Some(s.as_ref()),
        Outcome::Failed { .. } => None,
    })
}

/// The page; `vulnerabilities_note` says why vulnerabilities are missing, if they are.
pub fn compare(c: &Comparison, vulnerabilities_note: &str) -> anyhow::Result<String> {
    let rows = rows(c)
        .into_iter()
        .zip(&c.rows)
        .map(|(cells, row)| Row {
            cells,
            error: matches!(row.outcome, Outcome::Failed { .. }),
        })
        .collect();
    page(
        "compare.html",
        Context {
            comparison: c,
            headers: HEADERS,
            rows,
            size_chart: size_chart(c).svg(),
            vulnerability_chart: vulnerability_chart(c).map(|chart| chart.svg()),
            vulnerabilities_note,
        },
    )
}

/// `--format svg`: both charts stacked into one picture people can paste.
pub fn picture(c: &Comparison) -> String {
    let mut charts = vec![size_chart(c).svg()];
    charts.extend(vulnerability_chart(c).map(|chart| chart.svg()));
    super::chart::stack(&charts)
}
