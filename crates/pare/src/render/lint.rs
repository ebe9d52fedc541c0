//! `pare lint`'s output in every format, and the rule texts `--explain` and `--rules`
//! print: pure functions of what was checked and found.

use std::fmt::Write as _;

use anyhow::bail;
use pare_lint::catalog::{self, Scope};
use pare_lint::{Finding, Location, Severity, SyntaxError};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One line per finding, coloured on a terminal.
    Human,
    Json,
    /// SARIF 2.1.0 (GitHub code scanning).
    Sarif,
    /// Checkstyle XML.
    Checkstyle,
    /// GitHub Actions annotations.
    Github,
}

/// Something that went wrong with one input; the others go on.
pub struct Problem {
    pub place: String,
    pub message: String,
}

/// What was checked and found.
#[derive(Default)]
pub struct Outcome {
    pub files: Vec<pare_lint::FileReport>,
    pub images: Vec<(String, Vec<Finding>)>,
    pub problems: Vec<Problem>,
}

pub fn findings(outcome: &Outcome) -> Vec<&Finding> {
    outcome
        .files
        .iter()
        .flat_map(|f| &f.findings)
        .chain(outcome.images.iter().flat_map(|(_, f)| f))
        .collect()
}

pub fn syntax_errors(outcome: &Outcome) -> Vec<(&str, &SyntaxError)> {
    outcome
        .files
        .iter()
        .filter_map(|f| f.error.as_ref().map(|e| (f.path.as_str(), e)))
        .collect()
}

pub fn render(outcome: &Outcome, format: Format, color: bool) -> anyhow::Result<String> {
    let all = findings(outcome);
    let errors = syntax_errors(outcome);
    let version = env!("CARGO_PKG_VERSION");
    Ok(match format {
        Format::Human => human(outcome, &all, color),
        Format::Json => {
            let images: Vec<_> = outcome
                .images
                .iter()
                .map(
                    |(image, findings)| serde_json::json!({ "image": image, "findings": findings }),
                )
                .collect();
            let mut summary = serde_json::Map::new();
            for s in Severity::ALL {
                summary.insert(
                    s.to_string(),
                    all.iter().filter(|f| f.severity == s).count().into(),
                );
            }
            let doc = serde_json::json!({
                "schema": "pare.lint/v1",
                "files": outcome.files,
                "images": images,
                "summary": summary,
            });
            format!("{}\n", serde_json::to_string_pretty(&doc)?)
        }
        Format::Sarif => format!(
            "{}\n",
            serde_json::to_string_pretty(&pare_lint::format::sarif::log(&all, &errors, version))?
        ),
        Format::Checkstyle => pare_lint::format::checkstyle::document(&all, &errors),
        Format::Github => pare_lint::format::github::annotations(&all, &errors),
    })
}

/// `text` (escaped: it can quote a Dockerfile or an image's config) in a colour.
fn paint(text: &str, code: &str, color: bool) -> String {
    let text = super::escape(text);
    if color {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.into_owned()
    }
}

fn severity_color(s: Severity) -> &'static str {
    match s {
        Severity::Error => "1;31",
        Severity::Warning => "1;33",
        Severity::Info => "36",
        Severity::Style => "2",
    }
}

fn human(outcome: &Outcome, all: &[&Finding], color: bool) -> String {
    let mut out = String::new();
    for f in all {
        let place = match &f.location {
            Location::File { .. } => f.location.to_string(),
            Location::Image { .. } => format!("image {}", f.location),
        };
        let _ = writeln!(
            out,
            "{}  {}  {} {}  {}",
            paint(&place, "1", color),
            paint(
                &format!("{:<7}", f.severity.as_str()),
                severity_color(f.severity),
                color
            ),
            f.rule,
            paint(&f.name, "2", color),
            super::escape(&f.message)
        );
    }
    let mut counts = Vec::new();
    for s in Severity::ALL {
        let n = all.iter().filter(|f| f.severity == s).count();
        if n > 0 {
            let plural = if n > 1 && s >= Severity::Warning {
                "s"
            } else {
                ""
            };
            counts.push(format!("{n} {s}{plural}"));
        }
    }
    let checked = outcome.files.len() + outcome.images.len();
    let broken =
        outcome.files.iter().filter(|f| f.error.is_some()).count() + outcome.problems.len();
    let what = if checked == 1 { "input" } else { "inputs" };
    let _ = write!(
        out,
        "{} finding{} in {checked} {what}",
        all.len(),
        if all.len() == 1 { "" } else { "s" },
    );
    if !counts.is_empty() {
        let _ = write!(out, " ({})", counts.join(", "));
    }
    if broken > 0 {
        let _ = write!(out, "; {broken} could not be checked");
    }
    out.push('\n');
    out
}

pub fn explain(key: &str) -> anyhow::Result<String> {
    let upper = key.to_ascii_uppercase();
    let Some(rule) = catalog::find(key).or_else(|| catalog::for_hadolint(key).next()) else {
        if upper.starts_with("SC") && upper[2..].chars().all(|c| c.is_ascii_digit()) {
            return Ok(format!(
                "{upper} is a shellcheck code: pare runs shellcheck on RUN scripts and reports its findings under their own codes.\nRun `shellcheck --list-checks` or read shellcheck's wiki page for {upper}.\n"
            ));
        }
        bail!("no rule called {key:?}; `pare lint --rules` lists them");
    };
    let mut out = String::new();
    let hadolint = if rule.hadolint.is_empty() {
        String::new()
    } else {
        format!("; hadolint {}", rule.hadolint.join(", "))
    };
    let scope = match rule.scope {
        Scope::Dockerfile => "Dockerfile",
        Scope::Image => "image (--image)",
    };
    let _ = writeln!(
        out,
        "{} {} ({}, {scope}{hadolint})",
        rule.id, rule.name, rule.severity
    );
    let _ = writeln!(out, "{}\n", rule.summary);
    let _ = writeln!(out, "{}", wrap(rule.explanation, 88));
    Ok(out)
}

fn wrap(text: &str, width: usize) -> String {
    let mut out = String::new();
    let mut line = 0;
    for word in text.split_whitespace() {
        if line > 0 && line + 1 + word.len() > width {
            out.push('\n');
            line = 0;
        } else if line > 0 {
            out.push(' ');
            line += 1;
        }
        out.push_str(word);
        line += word.len();
    }
    out
}

pub fn rule_list() -> String {
    let mut out = String::new();
    for r in catalog::RULES {
        let _ = writeln!(
            out,
            "{:<6} {:<30} {:<8} {:<22} {}",
            r.id,
            r.name,
            r.severity.as_str(),
            r.hadolint.join(","),
            r.summary
        );
    }
    out
}
