//! What slimming proves: for each finding of the original image, whether the slim
//! image still holds the vulnerable component, written as OpenVEX so that Trivy,
//! Grype and `pare scan --vex` stop reporting what is gone.
//!
//! - `component_not_present`: no file of the package is left.
//! - `vulnerable_code_not_present`: the package stays, but the files that hold the
//!   vulnerable code are gone. Only claimed when pare knows those files: from the Go
//!   vulnerability database's `imports` (Go source trees, as a builder stage leaves
//!   them), or from a small curated map ([`VULNERABLE_FILES`]); and only when the
//!   original package really had such files.
//!
//! Products are package purls without `distro` and `upstream` (a scanner matches a
//! VEX product only when each of its qualifiers is in its own purl, and Trivy's have
//! neither); packages with an epoch get one statement for each spelling
//! (`zlib1g@1%3A1.2.13.dfsg-1` and `zlib1g@1.2.13.dfsg-1?epoch=1`), because the
//! scanners write it differently. The vulnerability is named by its CVE where it has
//! one (what Trivy and Grype key Debian findings by), with the GHSA and other ids as
//! aliases (what they key language packages by). One statement per vulnerability and
//! product.

use std::collections::{BTreeMap, BTreeSet};

use globset::{Glob, GlobSet, GlobSetBuilder};
use pare_sbom::purl::Parsed;
use serde::Serialize;

use crate::matcher::{Finding, FoundPackage};
use crate::vex::VexStatus;
use crate::vex::openvex::{DocStatement, Document, Product, Vulnerability};

/// Files that hold the vulnerable code of advisories whose records do not say so,
/// by CVE id. Each entry was checked against the upstream fix.
pub const VULNERABLE_FILES: &[(&str, &[&str])] = &[
    // Python's mailcap module (findmatch/subst), fixed upstream in 3.11.0.
    (
        "CVE-2015-20107",
        &["**/mailcap.py", "**/__pycache__/mailcap.*.pyc"],
    ),
    // CPAN.pm does not verify TLS certificates (Debian: perl-modules-5.NN).
    (
        "CVE-2023-31484",
        &["**/perl/*/CPAN.pm", "**/perl/*/CPAN/**"],
    ),
    // Werkzeug's debugger (werkzeug/debug/) trusts the host it is served on.
    ("CVE-2024-34069", &["**/werkzeug/debug/**"]),
    // urllib.parse accepts URLs starting with blanks (urlsplit).
    (
        "CVE-2023-24329",
        &["**/urllib/parse.py", "**/urllib/__pycache__/parse.*.pyc"],
    ),
];

/// Who wrote the document, and when.
#[derive(Clone, Debug)]
pub struct DocumentInfo {
    /// OpenVEX `author` (e.g. `pare build`).
    pub author: String,
    /// RFC 3339.
    pub timestamp: String,
    /// OpenVEX `tooling` (e.g. `pare 0.1.0`).
    pub tooling: Option<String>,
}

/// The outcome: the VEX document and the numbers for the build summary.
#[derive(Clone, Debug, Serialize)]
pub struct Absence {
    pub vex: Document,
    /// Findings of the original image.
    pub before: usize,
    /// Findings still present in the slim image (what `pare scan` of it reports).
    pub after: usize,
    pub component_not_present: usize,
    pub vulnerable_code_not_present: usize,
}

impl Absence {
    /// Findings proven absent.
    pub fn proven(&self) -> usize {
        self.before - self.after
    }

    /// `Vulnerabilities 40 -> 12 (28 proven absent)`.
    pub fn summary(&self) -> String {
        format!(
            "Vulnerabilities {} -> {} ({} proven absent)",
            self.before,
            self.after,
            self.proven()
        )
    }
}

/// Whether any file of `package` is among `kept_paths`: the usual answer to
/// "did the package keep a file", for [`prove_absent`]'s `keeps_files`.
pub fn keeps_any_file(package: &FoundPackage, kept_paths: &BTreeSet<String>) -> bool {
    package.files.iter().any(|f| kept_paths.contains(f))
}

/// Proves which `findings` (of the original image) are absent from the slim image.
///
/// `keeps_files` says whether a package kept any file (see [`keeps_any_file`]);
/// `kept_paths` is every path of the slim image, for the vulnerable-code check.
pub fn prove_absent(
    findings: &[Finding],
    keeps_files: &dyn Fn(&FoundPackage) -> bool,
    kept_paths: &BTreeSet<String>,
    info: &DocumentInfo,
) -> Absence {
    // A statement is about a purl, which may name several installed copies (two
    // node_modules with the same package): it is only made when every copy is gone.
    let mut groups: BTreeMap<(String, String), Copies> = BTreeMap::new();
    for f in findings {
        let proof = proof(f, keeps_files, kept_paths);
        groups
            .entry((vulnerability(f).name, f.package.purl.clone()))
            .or_default()
            .push((f, proof));
    }
    let mut statements = Vec::new();
    let (mut component, mut code) = (0, 0);
    for members in groups.values() {
        if members.iter().any(|(_, p)| p.is_none()) {
            continue;
        }
        for (_, proof) in members {
            match proof {
                Some(Proof::ComponentGone { .. }) => component += 1,
                Some(Proof::CodeGone { .. }) => code += 1,
                None => {}
            }
        }
        let (finding, Some(proof)) = &members[0] else {
            continue;
        };
        for product in products(&finding.package.purl) {
            statements.push(DocStatement {
                vulnerability: vulnerability(finding),
                products: vec![Product { id: product }],
                status: VexStatus::NotAffected,
                justification: Some(proof.justification().into()),
                impact_statement: Some(proof.impact(&finding.package)),
            });
        }
    }
    Absence {
        vex: Document::new(
            &info.author,
            &info.timestamp,
            info.tooling.as_deref(),
            statements,
        ),
        before: findings.len(),
        after: findings.len() - component - code,
        component_not_present: component,
        vulnerable_code_not_present: code,
    }
}

/// The findings one statement would cover (one vulnerability, one purl: every
/// installed copy), each with its proof if it has one.
type Copies<'a> = Vec<(&'a Finding, Option<Proof>)>;

/// Why a finding is absent.
#[derive(Clone, Debug)]
enum Proof {
    ComponentGone { files: usize },
    CodeGone { gone: Vec<String> },
}

impl Proof {
    fn justification(&self) -> &'static str {
        match self {
            Proof::ComponentGone { .. } => "component_not_present",
            Proof::CodeGone { .. } => "vulnerable_code_not_present",
        }
    }

    fn impact(&self, p: &FoundPackage) -> String {
        match self {
            Proof::ComponentGone { files } => format!(
                "{} {}: none of its {files} files in the original image is left in the slim image",
                p.name, p.version
            ),
            Proof::CodeGone { gone } => format!(
                "{} {} stays, but the files holding the vulnerable code are gone from the slim image: {}",
                p.name,
                p.version,
                gone.join(", ")
            ),
        }
    }
}

fn proof(
    f: &Finding,
    keeps_files: &dyn Fn(&FoundPackage) -> bool,
    kept_paths: &BTreeSet<String>,
) -> Option<Proof> {
    if !keeps_files(&f.package) {
        return Some(Proof::ComponentGone {
            files: f.package.files.len(),
        });
    }
    let code = vulnerable_code(f)?;
    let had: Vec<String> = f
        .package
        .files
        .iter()
        .filter(|p| code.is_match(p.as_str()))
        .cloned()
        .collect();
    if had.is_empty() || kept_paths.iter().any(|p| code.is_match(p.as_str())) {
        return None;
    }
    Some(Proof::CodeGone { gone: had })
}

/// Where a finding's vulnerable code lives, as globs over image paths.
fn vulnerable_code(f: &Finding) -> Option<GlobSet> {
    let mut patterns: Vec<String> = VULNERABLE_FILES
        .iter()
        .filter(|(cve, _)| f.ids().any(|id| id == *cve))
        .flat_map(|(_, globs)| globs.iter().map(|g| (*g).to_owned()))
        .collect();
    if f.advisory_package.ecosystem == "Go" {
        patterns.extend(
            f.vulnerable_imports
                .iter()
                .filter_map(|import| go_source_glob(&f.package, import)),
        );
    }
    if patterns.is_empty() {
        return None;
    }
    let mut set = GlobSetBuilder::new();
    for p in &patterns {
        set.add(Glob::new(p).ok()?);
    }
    set.build().ok()
}

/// The Go source files of one package: in a toolchain (`…/src/net/http/*.go`) for
/// the standard library, in the module cache (`…/MODULE@VERSION/sub/*.go`, upper
/// case escaped as `!x` the way Go stores it) for modules.
fn go_source_glob(package: &FoundPackage, import: &str) -> Option<String> {
    let escape = |s: &str| globset::escape(s);
    if package.name == "stdlib" {
        return Some(format!("**/src/{}/*.go", escape(import)));
    }
    let sub = import.strip_prefix(&package.name)?;
    if !(sub.is_empty() || sub.starts_with('/')) {
        return None;
    }
    let cached: String = format!("{}@{}", package.name, package.version)
        .chars()
        .flat_map(|c| {
            if c.is_ascii_uppercase() {
                vec!['!', c.to_ascii_lowercase()]
            } else {
                vec![c]
            }
        })
        .collect();
    Some(format!("**/{}{}/*.go", escape(&cached), escape(sub)))
}

/// The statement's vulnerability: the CVE where there is one, every other id an alias.
fn vulnerability(f: &Finding) -> Vulnerability {
    let name = f.cve().unwrap_or(&f.id).to_owned();
    let mut aliases: Vec<String> = f.ids().filter(|i| *i != name).map(str::to_owned).collect();
    aliases.sort();
    aliases.dedup();
    Vulnerability { name, aliases }
}

/// The purls a statement names for a package: without `distro` and `upstream`, and
/// for an epoch version in both spellings.
fn products(purl: &str) -> Vec<String> {
    let Ok(mut p) = Parsed::parse(purl) else {
        return vec![purl.to_owned()];
    };
    p.qualifiers.remove("distro");
    p.qualifiers.remove("upstream");
    let mut out = vec![p.to_string()];
    if let Some((epoch, rest)) = p.version.clone().as_deref().and_then(|v| v.split_once(':')) {
        let mut other = p.clone();
        other.version = Some(rest.to_owned());
        other.qualifiers.insert("epoch".into(), epoch.to_owned());
        out.push(other.to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matcher::AdvisoryPackage;
    use crate::policy::{Policy, apply};
    use crate::testing::data;
    use pare_sbom::{Ecosystem, OwnedFile, Package, SourcePackage};

    /// A Debian 12 package owning the files of its real dpkg list.
    fn deb(name: &str, version: &str, source: &str, list: &str) -> Package {
        let text = std::fs::read_to_string(data(&format!("file-evidence/{list}"))).unwrap();
        let files = text
            .lines()
            .filter(|l| l.contains('.') && *l != "/.")
            .map(|l| OwnedFile {
                path: l.replacen("/lib/", "/usr/lib/", usize::from(l.starts_with("/lib/"))),
                checksum: None,
            })
            .collect();
        Package {
            name: name.into(),
            version: version.into(),
            ecosystem: Ecosystem::Deb,
            purl: pare_sbom::purl::Purl::new("deb", name, version)
                .namespace("debian")
                .qualifier("arch", "amd64")
                .qualifier("distro", "debian-12")
                .qualifier("upstream", source)
                .to_string(),
            arch: Some("amd64".into()),
            source: Some(SourcePackage {
                name: source.into(),
                version: version.into(),
            }),
            licenses: vec![],
            found_in: "/var/lib/dpkg/status".into(),
            files,
        }
    }

    fn findings(packages: &[Package]) -> Vec<Finding> {
        crate::testing::findings(&["debian-osv-derived"], packages)
    }

    /// zlib1g (an epoch version) and perl-modules-5.36 as on a Debian 12 host.
    fn zlib_and_perl() -> [Package; 2] {
        [
            deb("zlib1g", "1:1.2.13.dfsg-1", "zlib", "zlib1g:amd64.list"),
            deb(
                "perl-modules-5.36",
                "5.36.0-7+deb12u2",
                "perl",
                "perl-modules-5.36.list",
            ),
        ]
    }

    fn info() -> DocumentInfo {
        DocumentInfo {
            author: "pare build".into(),
            timestamp: "2026-11-30T00:00:00Z".into(),
            tooling: Some("pare test".into()),
        }
    }

    #[test]
    fn gone_packages_and_gone_code_become_statements() {
        let packages = zlib_and_perl();
        let perl = &packages[1];
        let found = findings(&packages);
        let ids: Vec<(&str, &str)> = found
            .iter()
            .map(|f| (f.package.name.as_str(), f.id.as_str()))
            .collect();
        assert_eq!(
            ids,
            [
                ("perl-modules-5.36", "DEBIAN-CVE-2011-4116"),
                ("perl-modules-5.36", "DEBIAN-CVE-2023-31484"),
                ("zlib1g", "DEBIAN-CVE-2023-45853"),
            ],
            "worst first: negligible (Debian's unimportant) before unknown"
        );
        // The slim image keeps some Perl modules, none of CPAN, and nothing of zlib.
        let kept: BTreeSet<String> = perl
            .files
            .iter()
            .map(|f| f.path.clone())
            .filter(|p| p.ends_with("/strict.pm") || p.ends_with("/Carp.pm"))
            .collect();
        assert_eq!(kept.len(), 2, "{kept:?}");
        let absence = prove_absent(&found, &|p| keeps_any_file(p, &kept), &kept, &info());
        assert_eq!((absence.before, absence.after, absence.proven()), (3, 1, 2));
        assert_eq!(
            absence.summary(),
            "Vulnerabilities 3 -> 1 (2 proven absent)"
        );
        assert_eq!(
            (
                absence.component_not_present,
                absence.vulnerable_code_not_present
            ),
            (1, 1)
        );

        let statements: Vec<(&str, &str, &str)> = absence
            .vex
            .statements
            .iter()
            .map(|s| {
                (
                    s.vulnerability.name.as_str(),
                    s.products[0].id.as_str(),
                    s.justification.as_deref().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            statements,
            [
                (
                    "CVE-2023-31484",
                    "pkg:deb/debian/perl-modules-5.36@5.36.0-7%2Bdeb12u2?arch=amd64",
                    "vulnerable_code_not_present"
                ),
                (
                    "CVE-2023-45853",
                    "pkg:deb/debian/zlib1g@1%3A1.2.13.dfsg-1?arch=amd64",
                    "component_not_present"
                ),
                (
                    "CVE-2023-45853",
                    "pkg:deb/debian/zlib1g@1.2.13.dfsg-1?arch=amd64&epoch=1",
                    "component_not_present"
                ),
            ]
        );
        assert_eq!(
            absence.vex.statements[0].vulnerability.aliases,
            ["DEBIAN-CVE-2023-31484"]
        );
        let impact = absence.vex.statements[0]
            .impact_statement
            .as_deref()
            .unwrap();
        assert!(
            impact.contains("/usr/share/perl/5.36.0/CPAN.pm"),
            "{impact}"
        );
    }

    #[test]
    fn the_document_is_valid_openvex_and_suppresses_exactly_what_is_gone() {
        let found = findings(&zlib_and_perl());
        let kept = BTreeSet::from(["/usr/share/perl/5.36.0/CPAN.pm".to_owned()]);
        let absence = prove_absent(&found, &|p| keeps_any_file(p, &kept), &kept, &info());
        assert_eq!(absence.after, 2, "CPAN.pm stays: only zlib is proven gone");

        let doc = serde_json::to_value(&absence.vex).unwrap();
        let schema: serde_json::Value = serde_json::from_slice(
            &std::fs::read(format!(
                "{}/../../tests/data/schemas/openvex_json_schema.json",
                env!("CARGO_MANIFEST_DIR")
            ))
            .unwrap(),
        )
        .unwrap();
        let validator = jsonschema::validator_for(&schema).unwrap();
        let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{errors:#?}");

        // Read back as `pare scan --vex` would: exactly the proven finding goes.
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("vex.openvex.json");
        std::fs::write(&file, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
        let policy = Policy {
            vex: crate::vex::read(&file).unwrap(),
            today: "2026-11-30".into(),
            ..Default::default()
        };
        let applied = apply(found.clone(), &policy);
        assert_eq!(applied.findings.len(), absence.after);
        let gone: Vec<&str> = applied
            .suppressed
            .iter()
            .map(|s| s.finding.package.name.as_str())
            .collect();
        assert_eq!(gone, ["zlib1g"]);
    }

    #[test]
    fn a_purl_with_one_copy_kept_is_not_claimed() {
        let copy = |at: &str| Finding {
            id: "GHSA-xvch-5gv4-984h".into(),
            aliases: vec!["CVE-2021-44906".into()],
            summary: None,
            url: String::new(),
            severity: crate::severity::Severity::Critical,
            rating: crate::severity::Rating::UNKNOWN,
            package: FoundPackage {
                name: "minimist".into(),
                version: "1.2.5".into(),
                ecosystem: "npm".into(),
                purl: "pkg:npm/minimist@1.2.5".into(),
                found_in: format!("{at}/package.json"),
                files: vec![format!("{at}/index.js")],
            },
            advisory_package: AdvisoryPackage {
                ecosystem: "npm".into(),
                name: "minimist".into(),
                version: "1.2.5".into(),
            },
            fixed: Some("1.2.6".into()),
            no_fix_reason: None,
            records: vec!["GHSA-xvch-5gv4-984h".into()],
            vulnerable_imports: vec![],
        };
        let found = [
            copy("/app/node_modules/minimist"),
            copy("/app/node_modules/x/node_modules/minimist"),
        ];
        let kept = BTreeSet::from(["/app/node_modules/minimist/index.js".to_owned()]);
        let absence = prove_absent(&found, &|p| keeps_any_file(p, &kept), &kept, &info());
        assert!(absence.vex.statements.is_empty());
        assert_eq!(absence.after, 2);
        // Both copies gone: one statement, named by the CVE with the GHSA as alias.
        let none = BTreeSet::new();
        let absence = prove_absent(&found, &|p| keeps_any_file(p, &none), &none, &info());
        assert_eq!(absence.vex.statements.len(), 1);
        assert_eq!(
            absence.vex.statements[0].vulnerability.name,
            "CVE-2021-44906"
        );
        assert_eq!(
            absence.vex.statements[0].vulnerability.aliases,
            ["GHSA-xvch-5gv4-984h"]
        );
        assert_eq!(absence.after, 0);
    }

    #[test]
    fn go_source_trees_from_the_vulnerability_database() {
        let p = FoundPackage {
            name: "github.com/BurntSushi/toml".into(),
            version: "v0.3.1".into(),
            ecosystem: "go".into(),
            purl: String::new(),
            found_in: String::new(),
            files: vec![],
        };
        assert_eq!(
            go_source_glob(&p, "github.com/BurntSushi/toml/internal").as_deref(),
            Some("**/github.com/!burnt!sushi/toml@v0.3.1/internal/*.go")
        );
        assert_eq!(go_source_glob(&p, "github.com/BurntSushi/tomlx"), None);
        let stdlib = FoundPackage {
            name: "stdlib".into(),
            ..p
        };
        assert_eq!(
            go_source_glob(&stdlib, "net/http").as_deref(),
            Some("**/src/net/http/*.go")
        );
    }
}
