//! SPDX 2.3 JSON: the image as the described package, which CONTAINS every package;
//! each package CONTAINS its files. SPDX requires a checksum on every file, so files
//! are written with the checksum their package manager recorded (dpkg MD5, wheel
//! RECORD SHA-256, apk SHA-1, rpm digests); files without one (symlinks, npm files,
//! binaries of Go and Rust modules) are counted in the package's comment and listed
//! in the CycloneDX and pare JSON outputs.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Value, json};

use crate::cyclonedx::uuid_from;
use crate::license::{is_spdx_expression, spdx_id};
use crate::package::{Package, Sbom};

/// The document, created at `timestamp` (RFC 3339).
pub fn document(sbom: &Sbom, timestamp: &str) -> Value {
    let name = sbom.image.display_name();
    let mut packages = vec![json!({
        "SPDXID": "SPDXRef-Image",
        "name": name,
        "versionInfo": sbom.image.config_digest,
        "downloadLocation": "NOASSERTION",
        "filesAnalyzed": false,
        "primaryPackagePurpose": "CONTAINER",
        "comment": format!("image {}", sbom.image.reference),
    })];
    let mut relationships = vec![json!({
        "spdxElementId": "SPDXRef-DOCUMENT",
        "relationshipType": "DESCRIBES",
        "relatedSpdxElement": "SPDXRef-Image",
    })];
    if let Some(d) = &sbom.distro {
        packages.push(json!({
            "SPDXID": "SPDXRef-OperatingSystem",
            "name": d.id,
            "versionInfo": d.version_id,
            "downloadLocation": "NOASSERTION",
            "filesAnalyzed": false,
            "primaryPackagePurpose": "OPERATING_SYSTEM",
        }));
        relationships.push(contains("SPDXRef-Image", "SPDXRef-OperatingSystem"));
    }
    let mut files: BTreeMap<&str, (String, Value)> = BTreeMap::new();
    let mut extracted: HashMap<String, String> = HashMap::new();
    for (i, p) in sbom.packages.iter().enumerate() {
        let id = format!(
            "SPDXRef-Package-{}-{}-{i}",
            p.ecosystem.name(),
            sanitize(&p.name)
        );
        let mut without_checksum = 0;
        for f in &p.files {
            let Some(sum) = &f.checksum else {
                without_checksum += 1;
                continue;
            };
            let next = files.len();
            let (file_id, _) = files.entry(&f.path).or_insert_with(|| {
                let file_id = format!("SPDXRef-File-{next}");
                let file = json!({
                    "SPDXID": file_id,
                    "fileName": f.path,
                    "checksums": [{"algorithm": sum.algorithm, "checksumValue": sum.hex}],
                });
                (file_id, file)
            });
            relationships.push(contains(&id, file_id));
        }
        relationships.push(contains("SPDXRef-Image", &id));
        packages.push(package(p, &id, without_checksum, &mut extracted));
    }
    let mut doc = json!({
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": name,
        "documentNamespace": format!(
            "https://pare.invalid/spdx/{}-{}",
            sanitize(name),
            uuid_from(&[&sbom.image.config_digest, timestamp, "spdx"])
        ),
        "creationInfo": {
            "created": timestamp,
            "creators": [format!("Tool: pare-{}", env!("CARGO_PKG_VERSION"))],
        },
        "packages": packages,
        "files": files.into_values().map(|(_, f)| f).collect::<Vec<_>>(),
        "relationships": relationships,
    });
    if !extracted.is_empty() {
        let mut infos: Vec<Value> = extracted
            .into_iter()
            .map(|(id, text)| json!({"licenseId": id, "extractedText": text, "name": text}))
            .collect();
        infos.sort_by_key(|v| v["licenseId"].as_str().unwrap_or_default().to_owned());
        doc["hasExtractedLicensingInfos"] = Value::Array(infos);
    }
    doc
}

fn package(
    p: &Package,
    id: &str,
    without_checksum: usize,
    extracted: &mut HashMap<String, String>,
) -> Value {
    let mut v = json!({
        "SPDXID": id,
        "name": p.name,
        "versionInfo": p.version,
        "downloadLocation": "NOASSERTION",
        "filesAnalyzed": false,
        "licenseConcluded": "NOASSERTION",
        "licenseDeclared": declared_license(&p.licenses, extracted),
        "copyrightText": "NOASSERTION",
        "primaryPackagePurpose": "LIBRARY",
        "sourceInfo": format!("found in {}", p.found_in),
        "externalRefs": [{
            "referenceCategory": "PACKAGE-MANAGER",
            "referenceType": "purl",
            "referenceLocator": p.purl,
        }],
    });
    if without_checksum > 0 {
        v["comment"] = json!(format!(
            "{without_checksum} of its {} files have no recorded checksum and are not \
             listed here",
            p.files.len()
        ));
    }
    v
}

/// Known ids and expressions as they are; anything else as a `LicenseRef-`.
fn declared_license(licenses: &[String], extracted: &mut HashMap<String, String>) -> String {
    if licenses.is_empty() {
        return "NOASSERTION".into();
    }
    let parts: Vec<String> = licenses
        .iter()
        .map(|l| {
            if let Some(id) = spdx_id(l) {
                id.to_owned()
            } else if is_spdx_expression(l) {
                format!("({l})")
            } else {
                let id = format!("LicenseRef-{}", sanitize(l));
                extracted.insert(id.clone(), l.clone());
                id
            }
        })
        .collect();
    parts.join(" AND ")
}

fn contains(from: &str, to: &str) -> Value {
    json!({"spdxElementId": from, "relationshipType": "CONTAINS", "relatedSpdxElement": to})
}

/// Letters, digits, `.` and `-` only, as SPDX ids require.
fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect()
}
