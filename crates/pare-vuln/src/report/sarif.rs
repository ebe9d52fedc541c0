//! SARIF 2.1.0 of a scan report, for code-scanning dashboards (GitHub's): one rule
//! per advisory, one result per finding.

use serde_json::{Value, json};

use super::Report;
use crate::severity::Severity;

/// SARIF 2.1.0: one rule per advisory, one result per finding, located at the
/// metadata file (or binary) the package was found in.
pub fn document(r: &Report) -> Value {
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
