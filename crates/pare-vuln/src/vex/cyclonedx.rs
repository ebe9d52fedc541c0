//! CycloneDX VEX (1.4 and later): `vulnerabilities[]` with an `analysis.state` and the
//! components they `affects`. A reference is a component's `bom-ref` in the same
//! document, or a BOM-Link (`urn:cdx:SERIAL/VERSION#BOM-REF`) into the SBOM the VEX
//! is for; either way pare needs a purl: the component's, or the bom-ref itself
//! when it is one (as syft and pare write them).

use std::collections::HashMap;
use std::path::Path;

use pare_sbom::purl::Parsed;
use serde_json::Value;

use super::{Statement, VexStatus, items, text};
use crate::error::{Error, Result};

pub(super) fn statements(doc: &Value, path: &Path) -> Result<Vec<Statement>> {
    let fail = |message: String| Error::VexFormat {
        path: path.to_owned(),
        message,
    };
    let doc_time = doc.get("metadata").and_then(|m| text(m, "timestamp"));
    let mut purls_by_ref: HashMap<&str, &str> = HashMap::new();
    collect_components(doc.get("components"), &mut purls_by_ref);
    let mut out = Vec::new();
    let list = doc
        .get("vulnerabilities")
        .and_then(Value::as_array)
        .ok_or_else(|| fail("a CycloneDX document without `vulnerabilities`".into()))?;
    for (index, v) in list.iter().enumerate() {
        let at = |what: &str| fail(format!("vulnerability {}: {what}", index + 1));
        let id = text(v, "id").ok_or_else(|| at("no id"))?;
        let Some(analysis) = v.get("analysis") else {
            // Without an analysis it is a finding, not a statement.
            continue;
        };
        let status = match text(analysis, "state") {
            Some("not_affected" | "false_positive") => VexStatus::NotAffected,
            Some("resolved" | "resolved_with_pedigree") => VexStatus::Fixed,
            Some("exploitable") => VexStatus::Affected,
            Some("in_triage") | None => VexStatus::UnderInvestigation,
            Some(other) => return Err(at(&format!("unknown analysis state {other:?}"))),
        };
        let mut vulnerability = vec![id.to_owned()];
        vulnerability.extend(
            items(v, "references")
                .filter_map(|r| text(r, "id"))
                .map(str::to_owned),
        );
        let products = items(v, "affects")
            .filter_map(|a| text(a, "ref"))
            .filter_map(|r| resolve(r, &purls_by_ref))
            .collect();
        out.push(Statement {
            vulnerability,
            products,
            status,
            justification: text(analysis, "justification").map(str::to_owned),
            timestamp: text(analysis, "lastUpdated")
                .or(doc_time)
                .map(str::to_owned),
            file: path.to_owned(),
            index,
        });
    }
    Ok(out)
}

fn collect_components<'a>(components: Option<&'a Value>, out: &mut HashMap<&'a str, &'a str>) {
    for c in components.and_then(Value::as_array).into_iter().flatten() {
        if let (Some(r), Some(p)) = (text(c, "bom-ref"), text(c, "purl")) {
            out.insert(r, p);
        }
        collect_components(c.get("components"), out);
    }
}

fn resolve(reference: &str, purls_by_ref: &HashMap<&str, &str>) -> Option<Parsed> {
    let bom_ref = match reference.strip_prefix("urn:cdx:") {
        Some(link) => link.split_once('#')?.1,
        None => reference,
    };
    let purl = purls_by_ref.get(bom_ref).copied().unwrap_or(bom_ref);
    // A bom-ref made unique with `#where` (as pare-sbom does) still starts with the purl.
    let purl = match purl.find('#') {
        Some(i) if Parsed::parse(purl).is_err() => &purl[..i],
        _ => purl,
    };
    Parsed::parse(purl).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cyclonedx_example() {
        let path = crate::testing::data("vex-examples/cyclonedx-1.6-vex-for-sbom.json");
        let s = super::super::read(&path).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].vulnerability, ["CVE-2023-45853"]);
        assert_eq!(s[0].status, VexStatus::NotAffected);
        assert_eq!(s[0].justification.as_deref(), Some("code_not_present"));
        assert_eq!(
            s[0].products[0].to_string(),
            "pkg:deb/debian/zlib1g@1%3A1.2.13.dfsg-1?arch=amd64&distro=debian-12"
        );
        assert_eq!(
            s[1].vulnerability,
            ["CVE-2024-34069", "GHSA-2g68-c3qc-8985"]
        );
        assert_eq!(s[1].products[0].to_string(), "pkg:pypi/werkzeug@2.2.2");
        assert_eq!(s[1].timestamp.as_deref(), Some("2026-11-28T00:00:00Z"));
    }

    #[test]
    fn references_to_components_of_the_same_document() {
        let doc = serde_json::json!({
            "bomFormat": "CycloneDX", "specVersion": "1.6",
            "components": [{"bom-ref": "c1", "purl": "pkg:pypi/flask@2.2.2", "name": "flask"}],
            "vulnerabilities": [
                {"id": "GHSA-m2qf-hxjv-5gpq", "analysis": {"state": "resolved"}, "affects": [{"ref": "c1"}]},
                {"id": "CVE-1", "affects": [{"ref": "c1"}]}
            ]
        });
        let s = statements(&doc, Path::new("x.cdx.json")).unwrap();
        assert_eq!(
            s.len(),
            1,
            "a vulnerability without analysis is not a statement"
        );
        assert_eq!(s[0].status, VexStatus::Fixed);
        assert_eq!(s[0].products[0].name, "flask");
    }
}
