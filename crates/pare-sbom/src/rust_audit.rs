//! Rust crates from the dependency list `cargo auditable` embeds in binaries.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::context::Context;
use crate::package::{Ecosystem, OwnedFile, Package};
use crate::purl::Purl;
use crate::summary::Summary;

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

#[cfg(test)]
mod tests {
    use crate::binary::tests::reduce;
    use crate::catalog::testing::index_of;
    use crate::catalog::testing::{evidence, identities};
    use crate::context::Context;

    /// A binary `cargo auditable build` made (tests/data/sbom/README.md says how):
    /// the crate itself and its runtime dependency are listed, the build-only `cc`
    /// (and what it pulls in) is not, each owning the binary.
    #[test]
    fn real_cargo_auditable_binary() {
        let bytes = evidence("cargo/pare-audit-fixture");
        let summary = reduce(&bytes, 1 << 16);
        assert!(
            summary.cargo_audit.is_some(),
            "the .dep-v0 data was not found"
        );
        let path = "/usr/local/bin/pare-audit-fixture".to_owned();
        let index = index_of(&[]);
        let mut cx = Context::new(&index);
        let packages = super::catalog(&mut cx, &[(path.clone(), summary)].into());
        assert!(cx.warnings.is_empty(), "{:?}", cx.warnings);
        assert_eq!(
            identities(&packages),
            [
                ("itoa", "1.0.19", "pkg:cargo/itoa@1.0.19"),
                (
                    "pare-audit-fixture",
                    "0.3.1",
                    "pkg:cargo/pare-audit-fixture@0.3.1"
                ),
            ]
        );
        assert!(packages.iter().all(|p| p.file_paths().eq([path.as_str()])));
    }
}
