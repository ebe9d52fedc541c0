//! GitHub Actions workflow commands: each finding becomes an annotation on the line.

use crate::finding::{Finding, Location, Severity};
use crate::parse::SyntaxError;

fn data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn property(s: &str) -> String {
    data(s).replace(':', "%3A").replace(',', "%2C")
}

/// One `::level file=…,line=…::message` line per finding and error.
pub fn annotations(findings: &[&Finding], errors: &[(&str, &SyntaxError)]) -> String {
    let mut out = String::new();
    for (path, e) in errors {
        out.push_str(&format!(
            "::error file={},line={},col={},title=syntax error::{}\n",
            property(path),
            e.pos.line,
            e.pos.column,
            data(&e.message)
        ));
    }
    for f in findings {
        let level = match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info | Severity::Style => "notice",
        };
        let title = property(&format!("{} {}", f.rule, f.name));
        let place = match &f.location {
            Location::File {
                file,
                line,
                column,
                end_line,
                ..
            } => format!(
                "file={},line={line},col={column},endLine={end_line},",
                property(file)
            ),
            Location::Image { .. } => String::new(),
        };
        let subject = match &f.location {
            Location::Image { image, path } => format!(
                "{}: ",
                path.as_ref()
                    .map_or(image.clone(), |p| format!("{image}:{p}"))
            ),
            Location::File { .. } => String::new(),
        };
        out.push_str(&format!(
            "::{level} {place}title={title}::{}{}\n",
            data(&subject),
            data(&f.message)
        ));
    }
    out
}
