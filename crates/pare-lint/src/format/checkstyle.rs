//! Checkstyle XML, read by Jenkins, GitLab and many review tools.

use std::fmt::Write as _;

use crate::finding::{Finding, Location, Severity};
use crate::parse::SyntaxError;

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// One `<file>` per file (in first-seen order), images included under their name.
pub fn document(findings: &[&Finding], errors: &[(&str, &SyntaxError)]) -> String {
    let mut files: Vec<(String, Vec<String>)> = Vec::new();
    let mut entry = |name: String, line: String| match files.iter_mut().find(|(n, _)| *n == name) {
        Some((_, lines)) => lines.push(line),
        None => files.push((name, vec![line])),
    };
    for (path, e) in errors {
        entry(
            path.to_string(),
            format!(
                "<error line=\"{}\" column=\"{}\" severity=\"error\" message=\"{}\" source=\"pare.syntax\"/>",
                e.pos.line,
                e.pos.column,
                escape(&e.message)
            ),
        );
    }
    for f in findings {
        let severity = match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info | Severity::Style => "info",
        };
        let (name, place) = match &f.location {
            Location::File {
                file, line, column, ..
            } => (
                file.clone(),
                format!("line=\"{line}\" column=\"{column}\" "),
            ),
            Location::Image { image, path } => (
                path.as_ref()
                    .map_or(image.clone(), |p| format!("{image}:{p}")),
                String::new(),
            ),
        };
        entry(
            name,
            format!(
                "<error {place}severity=\"{severity}\" message=\"{}\" source=\"pare.{}\"/>",
                escape(&f.message),
                f.rule
            ),
        );
    }
    let mut out =
        String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<checkstyle version=\"4.3\">\n");
    for (name, lines) in files {
        let _ = writeln!(out, "  <file name=\"{}\">", escape(&name));
        for l in lines {
            let _ = writeln!(out, "    {l}");
        }
        out.push_str("  </file>\n");
    }
    out.push_str("</checkstyle>\n");
    out
}
