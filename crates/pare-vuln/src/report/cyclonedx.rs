//! A CycloneDX 1.6 BOM of the image (pare sbom's) with `vulnerabilities`: a scan
//! report's findings, and the VEX-suppressed ones with their analysis.

use std::collections::HashMap;

use pare_sbom::Sbom;
use pare_sbom::cyclonedx::{BomRef, bom_refs};
use serde_json::{Value, json};

use super::Report;
use crate::matcher::Finding;
use crate::policy::Reason;
use crate::severity::{RatingSource, Severity};

/// A CycloneDX 1.6 BOM of the image (pare sbom's) with `vulnerabilities`: the
/// findings, and those a VEX statement suppressed with their analysis.
pub fn document(sbom: &Sbom, r: &Report, timestamp: &str) -> Value {
    let mut doc = pare_sbom::cyclonedx::document(sbom, timestamp);
    doc["serialNumber"] = json!(format!(
        "urn:uuid:{}",
        pare_sbom::cyclonedx::uuid_from(&[&sbom.image.config_digest, timestamp, "scan"])
    ));
    // Vulnerabilities point at their package's component by its bom-ref, found by
    // purl and where the package was found (the last package wins a tie, as in the
    // document's components).
    let refs: HashMap<(&str, &str), BomRef> = sbom
        .packages
        .iter()
        .zip(bom_refs(&sbom.packages))
        .map(|(p, r)| ((p.purl.as_str(), p.found_in.as_str()), r))
        .collect();
    let bom_ref = |f: &Finding| {
        refs.get(&(f.package.purl.as_str(), f.package.found_in.as_str()))
            .map(|r| r.as_str().to_owned())
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
