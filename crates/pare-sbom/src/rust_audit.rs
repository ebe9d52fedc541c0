//! Rust crates from the dependency list `cargo auditable` embeds in binaries.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::binary::Summary;
use crate::catalog::Context;
use crate::package::{Ecosystem, OwnedFile, Package};
use crate::purl::Purl;

#[derive(Deserialize)]
struct Audit {
    packages: Vec<Crate>,
}

#[derive(Deserialize)]
struct Crate {
    name: String,
    version: String,
    #[serde(default)]
    kind: Option<String>,
}

pub(crate) fn catalog(cx: &mut Context, binaries: &BTreeMap<String, Summary>) -> Vec<Package> {
    let mut packages = Vec::new();
    for (path, summary) in binaries {
        let Some(json) = &summary.cargo_audit else {
            continue;
        };
        let audit: Audit = match serde_json::from_str(json) {
            Ok(a) => a,
            Err(e) => {
                cx.warn(path, format!("cargo auditable data does not parse: {e}"));
                continue;
            }
        };
        // Build-time crates (build scripts, proc macros) are not in the binary.
        for c in audit
            .packages
            .into_iter()
            .filter(|c| c.kind.as_deref() != Some("build"))
        {
            packages.push(Package {
                purl: Purl::new("cargo", &c.name, &c.version).to_string(),
                name: c.name,
                version: c.version,
                ecosystem: Ecosystem::Cargo,
                arch: None,
                source: None,
                licenses: Vec::new(),
                found_in: path.clone(),
                files: vec![OwnedFile {
                    path: path.clone(),
                    checksum: None,
                }],
            });
        }
    }
    packages
}
