//! CycloneDX 1.6 JSON: the image as the described component, the distro as an
//! `operating-system` component, every package as a `library` with its purl, licences
//! and the files it owns as `evidence.occurrences`, and unowned binaries as `file`
//! components.

use std::collections::HashSet;

use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::license::{is_spdx_expression, spdx_id};
use crate::package::{Package, Sbom, UnownedKind};

/// The document, with `timestamp` as its creation time (RFC 3339).
pub fn document(sbom: &Sbom, timestamp: &str) -> Value {
    let mut components: Vec<Value> = Vec::new();
    if let Some(d) = &sbom.distro {
        components.push(json!({
            "type": "operating-system",
            "bom-ref": "os",
            "name": d.id,
            "version": d.version_id,
            "description": d.pretty_name.clone().unwrap_or_default(),
        }));
    }
    for (p, bom_ref) in sbom.packages.iter().zip(bom_refs(&sbom.packages)) {
        components.push(component(p, bom_ref));
    }
    for u in &sbom.unowned {
        let kind = match u.kind {
            UnownedKind::Executable => "executable",
            UnownedKind::SharedLibrary => "shared-library",
        };
        let mut properties = vec![prop("pare:unowned", kind)];
        if let Some(problem) = &u.problem {
            properties.push(prop("pare:problem", problem));
        }
        components.push(json!({
            "type": "file",
            "bom-ref": format!("file:{}", u.path),
            "name": u.path,
            "properties": properties,
        }));
    }
    json!({
        "$schema": "http://cyclonedx.org/schema/bom-1.6.schema.json",
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": format!("urn:uuid:{}", uuid_from(&[&sbom.image.config_digest, timestamp])),
        "version": 1,
        "metadata": {
            "timestamp": timestamp,
            "tools": {"components": [{
                "type": "application",
                "name": "pare",
                "version": env!("CARGO_PKG_VERSION"),
            }]},
            "component": {
                "type": "container",
                "bom-ref": "image",
                "name": sbom.image.display_name(),
                "version": sbom.image.config_digest,
                "properties": [
                    prop("pare:reference", &sbom.image.reference),
                    prop("pare:platform", &format!("{}/{}", sbom.image.os, sbom.image.architecture)),
                ],
            },
        },
        "components": components,
    })
}

/// A package component's `bom-ref`: what a CycloneDX document's `vulnerabilities`
/// (pare scan's) point at, so it is made here, once, for both.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct BomRef(String);

impl BomRef {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The bom-ref of each of `packages`, in order: its purl, or `purl#found_in` when an
/// earlier package has that purl (the same package installed twice).
pub fn bom_refs(packages: &[Package]) -> Vec<BomRef> {
    let mut taken = HashSet::new();
    packages
        .iter()
        .map(|p| {
            let mut bom_ref = p.purl.clone();
            if !taken.insert(bom_ref.clone()) {
                bom_ref = format!("{}#{}", p.purl, p.found_in);
                taken.insert(bom_ref.clone());
            }
            BomRef(bom_ref)
        })
        .collect()
}

fn component(p: &Package, bom_ref: BomRef) -> Value {
    let mut properties = vec![
        prop("pare:ecosystem", p.ecosystem.name()),
        prop("pare:found-in", &p.found_in),
    ];
    if let Some(arch) = &p.arch {
        properties.push(prop("pare:arch", arch));
    }
    if let Some(s) = &p.source {
        properties.push(prop("pare:source-name", &s.name));
        properties.push(prop("pare:source-version", &s.version));
    }
    let mut c = json!({
        "type": "library",
        "bom-ref": bom_ref.0,
        "name": p.name,
        "version": p.version,
        "purl": p.purl,
        "properties": properties,
    });
    if !p.licenses.is_empty() {
        c["licenses"] = licenses(&p.licenses);
    }
    if !p.files.is_empty() {
        let occurrences: Vec<Value> = p
            .files
            .iter()
            .map(|f| json!({"location": f.path}))
            .collect();
        c["evidence"] = json!({"occurrences": occurrences});
    }
    c
}

/// One SPDX expression alone, or a list of licences by id or by name (the schema
/// allows one form or the other, not both).
fn licenses(list: &[String]) -> Value {
    if let [only] = list
        && only.contains(' ')
        && is_spdx_expression(only)
    {
        return json!([{"expression": only}]);
    }
    list.iter()
        .map(|l| match spdx_id(l) {
            Some(id) => json!({"license": {"id": id}}),
            None => json!({"license": {"name": l}}),
        })
        .collect()
}

fn prop(name: &str, value: &str) -> Value {
    json!({"name": name, "value": value})
}

/// A version-4-shaped UUID made from a hash of `parts` (unique per image and time).
pub fn uuid_from(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    let mut b: [u8; 16] = h.finalize()[..16].try_into().unwrap_or([0; 16]);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let x = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &x[..8],
        &x[8..12],
        &x[12..16],
        &x[16..20],
        &x[20..]
    )
}
