//! OpenVEX 0.2.0 (<https://github.com/openvex/spec>): reading statements, and the
//! document pare writes. Reading also takes the 0.0.x shapes still in the wild (a
//! vulnerability as a plain string, products as plain strings).

use std::path::Path;

use pare_sbom::purl::Parsed;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{Statement, VexStatus, items, text};
use crate::error::{Error, Result};

pub const CONTEXT: &str = "https://openvex.dev/ns/v0.2.0";

pub(super) fn statements(doc: &Value, path: &Path) -> Result<Vec<Statement>> {
    let fail = |message: String| Error::VexFormat {
        path: path.to_owned(),
        message,
    };
    let doc_time = text(doc, "timestamp");
    let list = doc
        .get("statements")
        .and_then(Value::as_array)
        .ok_or_else(|| fail("an OpenVEX document without `statements`".into()))?;
    let mut out = Vec::new();
    for (index, s) in list.iter().enumerate() {
        let at = |what: &str| fail(format!("statement {}: {what}", index + 1));
        let status = match text(s, "status") {
            Some("not_affected") => VexStatus::NotAffected,
            Some("affected") => VexStatus::Affected,
            Some("fixed") => VexStatus::Fixed,
            Some("under_investigation") => VexStatus::UnderInvestigation,
            Some(other) => return Err(at(&format!("unknown status {other:?}"))),
            None => return Err(at("no status")),
        };
        let vulnerability = match s.get("vulnerability") {
            Some(Value::String(name)) => vec![name.clone()],
            Some(v @ Value::Object(_)) => {
                let name = text(v, "name").ok_or_else(|| at("a vulnerability without a name"))?;
                let mut ids = vec![name.to_owned()];
                ids.extend(
                    items(v, "aliases")
                        .filter_map(Value::as_str)
                        .map(str::to_owned),
                );
                ids
            }
            _ => return Err(at("no vulnerability")),
        };
        let mut products = Vec::new();
        for product in items(s, "products") {
            let subcomponents: Vec<&Value> = items(product, "subcomponents").collect();
            // With subcomponents, the product is their container (an image): the
            // statement is about the subcomponents.
            if subcomponents.is_empty() {
                products.extend(purl_of(product));
            } else {
                products.extend(subcomponents.into_iter().filter_map(purl_of));
            }
        }
        out.push(Statement {
            vulnerability,
            products,
            status,
            justification: text(s, "justification").map(str::to_owned),
            timestamp: text(s, "timestamp").or(doc_time).map(str::to_owned),
            file: path.to_owned(),
            index,
        });
    }
    Ok(out)
}

/// A product's purl: its `@id` when that is one, else `identifiers.purl`.
fn purl_of(product: &Value) -> Option<Parsed> {
    let candidates = [
        product.as_str(),
        text(product, "@id"),
        product.get("identifiers").and_then(|i| text(i, "purl")),
    ];
    candidates
        .into_iter()
        .flatten()
        .find_map(|c| Parsed::parse(c).ok())
}

/// An OpenVEX document as pare writes it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Document {
    #[serde(rename = "@context")]
    pub context: String,
    #[serde(rename = "@id")]
    pub id: String,
    pub author: String,
    pub timestamp: String,
    pub version: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tooling: Option<String>,
    pub statements: Vec<DocStatement>,
}

/// One statement: one vulnerability, one product.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DocStatement {
    pub vulnerability: Vulnerability,
    pub products: Vec<Product>,
    pub status: VexStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub justification: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub impact_statement: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Vulnerability {
    pub name: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Product {
    #[serde(rename = "@id")]
    pub id: String,
}

impl Document {
    /// A document of `statements`, its `@id` derived from them (the way `vexctl` names
    /// documents), so the same evidence gives the same id.
    pub fn new(
        author: &str,
        timestamp: &str,
        tooling: Option<&str>,
        statements: Vec<DocStatement>,
    ) -> Document {
        let digest = Sha256::digest(serde_json::to_vec(&statements).unwrap_or_default());
        Document {
            context: CONTEXT.into(),
            id: format!(
                "https://openvex.dev/docs/public/vex-{}",
                hex::encode(digest)
            ),
            author: author.into(),
            timestamp: timestamp.into(),
            version: 1,
            tooling: tooling.map(str::to_owned),
            statements,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn example(name: &str) -> PathBuf {
        crate::testing::data(&format!("vex-examples/{name}"))
    }

    #[test]
    fn package_and_image_scoped_examples() {
        let minimal = super::super::read(&example("openvex-minimal-package-product.json")).unwrap();
        assert_eq!(minimal.len(), 1);
        assert_eq!(minimal[0].vulnerability, ["CVE-2023-31484"]);
        assert_eq!(minimal[0].status, VexStatus::NotAffected);
        assert_eq!(minimal[0].products[0].name, "perl-modules-5.36");
        assert_eq!(
            minimal[0].products[0].version.as_deref(),
            Some("5.36.0-7+deb12u2")
        );

        let scoped = super::super::read(&example("openvex-image-scoped.json")).unwrap();
        assert_eq!(scoped.len(), 3);
        // The pkg:oci product is the container; its subcomponents are the products.
        let zlib: Vec<String> = scoped[1].products.iter().map(ToString::to_string).collect();
        assert_eq!(
            zlib,
            [
                "pkg:deb/debian/zlib1g@1%3A1.2.13.dfsg-1",
                "pkg:deb/debian/zlib1g@1.2.13.dfsg-1?epoch=1"
            ]
        );
        assert_eq!(
            scoped[2].vulnerability,
            ["CVE-2024-34069", "GHSA-2g68-c3qc-8985"]
        );
        assert_eq!(scoped[2].timestamp.as_deref(), Some("2026-11-28T00:00:00Z"));
    }

    #[test]
    fn broken_documents_say_where() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.vex.json");
        std::fs::write(
            &path,
            r#"{"@context":"https://openvex.dev/ns/v0.2.0","statements":[
                {"vulnerability":{"name":"CVE-1"},"products":[],"status":"not_affected"},
                {"vulnerability":{"name":"CVE-2"},"products":[],"status":"maybe"}]}"#,
        )
        .unwrap();
        let err = super::super::read(&path).unwrap_err().to_string();
        assert!(
            err.ends_with("bad.vex.json: statement 2: unknown status \"maybe\""),
            "{err}"
        );
        std::fs::write(&path, "{").unwrap();
        assert!(matches!(
            super::super::read(&path),
            Err(Error::VexJson { .. })
        ));
        std::fs::write(&path, "{}").unwrap();
        assert!(matches!(
            super::super::read(&path),
            Err(Error::VexFormat { .. })
        ));
    }
}
