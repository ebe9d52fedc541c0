//! SARIF 2.1.0, the format GitHub code scanning and most CI dashboards read.

use serde_json::{Value, json};

use crate::catalog;
use crate::finding::{Finding, Location, Severity};
use crate::parse::SyntaxError;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info | Severity::Style => "note",
    }
}

/// A relative path or image name as a URI reference (blanks and `%` escaped).
pub fn uri(path: &str) -> String {
    let mut out = String::new();
    for c in path.replace('\\', "/").chars() {
        match c {
            ' ' => out.push_str("%20"),
            '%' => out.push_str("%25"),
            '#' => out.push_str("%23"),
            '?' => out.push_str("%3F"),
            c => out.push(c),
        }
    }
    out
}

fn descriptor(id: &str) -> Value {
    match catalog::find(id) {
        Some(r) => {
            let mut tags = vec!["dockerfile".to_owned()];
            tags.extend(r.hadolint.iter().map(|h| format!("hadolint:{h}")));
            json!({
                "id": r.id,
                "name": r.name,
                "shortDescription": { "text": r.summary },
                "fullDescription": { "text": r.explanation },
                "help": { "text": r.explanation },
                "defaultConfiguration": { "level": level(r.severity) },
                "properties": { "tags": tags },
            })
        }
        None => json!({
            "id": id,
            "name": "shellcheck",
            "shortDescription": { "text": format!("shellcheck {id}") },
            "helpUri": format!("https://www.shellcheck.net/wiki/{id}"),
        }),
    }
}

fn location(loc: &Location) -> Value {
    match loc {
        Location::File {
            file,
            line,
            column,
            end_line,
            ..
        } => json!({
            "physicalLocation": {
                "artifactLocation": { "uri": uri(file) },
                "region": { "startLine": line, "startColumn": column, "endLine": end_line },
            }
        }),
        Location::Image { image, path } => json!({
            "logicalLocations": [{
                "name": path.as_deref().unwrap_or(image),
                "fullyQualifiedName": match path { Some(p) => format!("{image}:{p}"), None => image.clone() },
                "kind": "resource",
            }]
        }),
    }
}

/// The SARIF log for `findings`; `errors` (files that did not parse) become error
/// notifications and mark the run unsuccessful.
pub fn log(findings: &[&Finding], errors: &[(&str, &SyntaxError)], version: &str) -> Value {
    let mut ids: Vec<&str> = findings.iter().map(|f| f.rule.as_str()).collect();
    ids.sort();
    ids.dedup();
    let rules: Vec<Value> = ids.iter().map(|id| descriptor(id)).collect();
    let results: Vec<Value> = findings
        .iter()
        .map(|f| {
            json!({
                "ruleId": f.rule,
                "ruleIndex": ids.iter().position(|i| *i == f.rule).unwrap_or(0),
                "level": level(f.severity),
                "message": { "text": f.message },
                "locations": [location(&f.location)],
            })
        })
        .collect();
    let notifications: Vec<Value> = errors
        .iter()
        .map(|(path, e)| {
            json!({
                "level": "error",
                "message": { "text": format!("syntax error: {}", e.message) },
                "locations": [location(&Location::file(path, e.pos, e.pos.line..=e.pos.line))],
            })
        })
        .collect();
    json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "pare",
                "semanticVersion": version,
                "rules": rules,
            }},
            "invocations": [{
                "executionSuccessful": errors.is_empty(),
                "toolExecutionNotifications": notifications,
            }],
            "results": results,
        }]
    })
}
