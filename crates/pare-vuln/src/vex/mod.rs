//! VEX: statements that a vulnerability does or does not affect a product. pare reads
//! OpenVEX and CycloneDX VEX documents to suppress findings, and writes OpenVEX for
//! what slimming removed ([`crate::absence`]).
//!
//! A statement applies to a finding when it names one of the finding's ids (or
//! aliases) and one of its products is the finding's package: same purl type,
//! namespace and name, the same version when the statement gives one (an epoch may
//! be written either way: `1%3A1.2` or `1.2?epoch=1`), and every other qualifier it
//! gives present in the package's purl with the same value, the way Trivy and Grype
//! match. When several statements apply, the latest (by timestamp, then by order
//! read) decides; only `not_affected` and `fixed` suppress.

pub mod cyclonedx;
pub mod openvex;

use std::path::{Path, PathBuf};

use pare_sbom::purl::Parsed;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::matcher::Finding;

/// What a statement says about its products.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VexStatus {
    NotAffected,
    Affected,
    Fixed,
    UnderInvestigation,
}

impl VexStatus {
    /// Scanners suppress only these.
    pub fn suppresses(self) -> bool {
        matches!(self, VexStatus::NotAffected | VexStatus::Fixed)
    }

    pub fn name(self) -> &'static str {
        match self {
            VexStatus::NotAffected => "not_affected",
            VexStatus::Affected => "affected",
            VexStatus::Fixed => "fixed",
            VexStatus::UnderInvestigation => "under_investigation",
        }
    }
}

/// One statement, from either format.
#[derive(Clone, Debug, PartialEq)]
pub struct Statement {
    /// The vulnerability's name and aliases.
    pub vulnerability: Vec<String>,
    /// Package purls the statement is about.
    pub products: Vec<Parsed>,
    pub status: VexStatus,
    pub justification: Option<String>,
    /// RFC 3339, the statement's or else its document's.
    pub timestamp: Option<String>,
    pub file: PathBuf,
    /// Which statement of the file (0-based).
    pub index: usize,
}

/// Reads a VEX document: OpenVEX (`@context` names openvex) or CycloneDX
/// (`bomFormat: CycloneDX`). Statements whose products are not purls are kept out:
/// they cannot name a package.
pub fn read(path: &Path) -> Result<Vec<Statement>> {
    let bytes = std::fs::read(path).map_err(|source| Error::Io {
        step: "reading the VEX document",
        path: path.to_owned(),
        source,
    })?;
    parse(&bytes, path)
}

/// Reads a VEX document already in memory (one attached to an image in its
/// registry); `path` names where it came from in messages and statements.
pub fn parse(bytes: &[u8], path: &Path) -> Result<Vec<Statement>> {
    let doc: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|source| Error::VexJson {
            path: path.to_owned(),
            source,
        })?;
    let context = text(&doc, "@context").unwrap_or("");
    if context.contains("openvex") {
        openvex::statements(&doc, path)
    } else if text(&doc, "bomFormat") == Some("CycloneDX") {
        cyclonedx::statements(&doc, path)
    } else {
        Err(Error::VexFormat {
            path: path.to_owned(),
            message: "neither OpenVEX (@context) nor CycloneDX (bomFormat)".into(),
        })
    }
}

/// The string at `key` of a JSON object.
fn text<'a>(object: &'a serde_json::Value, key: &str) -> Option<&'a str> {
    object.get(key).and_then(serde_json::Value::as_str)
}

/// The elements of the array at `key` (none when it is missing or not an array).
fn items<'a>(
    object: &'a serde_json::Value,
    key: &str,
) -> impl Iterator<Item = &'a serde_json::Value> {
    object
        .get(key)
        .and_then(serde_json::Value::as_array)
        .into_iter()
        .flatten()
}

/// The statement that decides about `finding`, if any applies.
pub fn verdict<'a>(statements: &'a [Statement], finding: &Finding) -> Option<&'a Statement> {
    let package = Parsed::parse(&finding.package.purl).ok()?;
    statements
        .iter()
        .enumerate()
        .filter(|(_, s)| {
            s.vulnerability
                .iter()
                .any(|v| finding.ids().any(|id| id == v))
        })
        .filter(|(_, s)| s.products.iter().any(|p| product_matches(p, &package)))
        // Latest timestamp wins; ties go to the statement read last.
        .max_by(|(i, a), (j, b)| (&a.timestamp, i).cmp(&(&b.timestamp, j)))
        .map(|(_, s)| s)
}

/// Whether a VEX product purl names the package purl (see the module docs).
pub fn product_matches(product: &Parsed, package: &Parsed) -> bool {
    if product.kind != package.kind
        || !same_name(
            &product.kind,
            product.namespace.as_deref(),
            package.namespace.as_deref(),
        )
        || !same_name(&product.kind, Some(&product.name), Some(&package.name))
    {
        return false;
    }
    if product.version.is_some() && versioned(product) != versioned(package) {
        return false;
    }
    product
        .qualifiers
        .iter()
        .filter(|(k, _)| k.as_str() != "epoch")
        .all(|(k, v)| package.qualifiers.get(k) == Some(v))
}

/// Names compare case-insensitively where the purl spec says the type does.
fn same_name(kind: &str, a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) if matches!(kind, "pypi" | "npm" | "deb" | "apk" | "golang") => {
            a.eq_ignore_ascii_case(b)
        }
        (a, b) => a == b,
    }
}

/// The version with its epoch in front (`1:1.2.13`), whichever way it was written.
fn versioned(p: &Parsed) -> Option<String> {
    let v = p.version.as_deref()?;
    match p.qualifiers.get("epoch") {
        Some(e) if !v.contains(':') && e != "0" => Some(format!("{e}:{v}")),
        _ => Some(v.strip_prefix("0:").unwrap_or(v).to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(product: &str, package: &str) -> bool {
        product_matches(
            &Parsed::parse(product).unwrap(),
            &Parsed::parse(package).unwrap(),
        )
    }

    #[test]
    fn purl_matching_as_scanners_do() {
        let zlib = "pkg:deb/debian/zlib1g@1%3A1.2.13.dfsg-1?arch=amd64&distro=debian-12";
        // Both epoch spellings, with and without qualifiers the package has.
        assert!(matches("pkg:deb/debian/zlib1g@1%3A1.2.13.dfsg-1", zlib));
        assert!(matches("pkg:deb/debian/zlib1g@1.2.13.dfsg-1?epoch=1", zlib));
        assert!(matches(
            "pkg:deb/debian/zlib1g@1.2.13.dfsg-1?epoch=1&arch=amd64",
            zlib
        ));
        assert!(matches("pkg:deb/debian/zlib1g", zlib));
        // A qualifier the package lacks or has otherwise: no match (why pare leaves
        // `distro` out of what it writes).
        assert!(!matches(
            "pkg:deb/debian/zlib1g@1%3A1.2.13.dfsg-1?distro=bookworm",
            zlib
        ));
        assert!(
            !matches("pkg:deb/debian/zlib1g@1.2.13.dfsg-1", zlib),
            "epoch missing"
        );
        assert!(!matches("pkg:deb/debian/zlib1g@1%3A1.2.13.dfsg-2", zlib));
        assert!(!matches("pkg:deb/debian/zlib@1%3A1.2.13.dfsg-1", zlib));
        // `+` either way.
        let perl = "pkg:deb/debian/perl-modules-5.36@5.36.0-7%2Bdeb12u2?arch=all&distro=debian-12";
        assert!(matches(
            "pkg:deb/debian/perl-modules-5.36@5.36.0-7+deb12u2",
            perl
        ));
        assert!(matches(
            "pkg:pypi/Werkzeug@2.2.2",
            "pkg:pypi/werkzeug@2.2.2"
        ));
        assert!(!matches(
            "pkg:npm/werkzeug@2.2.2",
            "pkg:pypi/werkzeug@2.2.2"
        ));
    }
}
