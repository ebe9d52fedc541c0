//! pare-vuln: which published advisories affect a set of packages, and what proves
//! a vulnerability absent. It knows advisories and packages (pare-sbom's), not
//! images or terminals.
//!
//! - [`osv`]: OSV records, validated against the OSV schema as they are read.
//! - [`version`]: one ordering per ecosystem (dpkg, apk, rpm, PEP 440, SemVer, Go).
//! - [`range`]: OSV's range evaluation.
//! - [`db`], [`import`], [`update`]: the SQLite database, filled from osv.dev-style
//!   `all.zip` exports and folders of records, replaced atomically.
//! - [`matcher`]: packages in, [`matcher::Finding`]s out; [`severity`] rates them.
//! - [`policy`], [`ignore`], [`vex`]: what the user leaves out, and why.
//! - [`report`]: the scan use case ([`report::Report::generate`]: match, apply the
//!   policy, count) and its SARIF and CycloneDX writers.
//! - [`absence`]: the OpenVEX document `pare build` writes for what slimming removed.
//!
//! # Scanning
//!
//! ```no_run
//! # fn main() -> pare_vuln::Result<()> {
//! # let sbom: pare_sbom::Sbom = unimplemented!();
//! let db = pare_vuln::db::Database::open(&pare_vuln::db::default_path().unwrap())?;
//! let settings = pare_vuln::report::Settings {
//!     policy: pare_vuln::policy::Policy::default(),
//!     now: std::time::SystemTime::now(),
//! };
//! let report = pare_vuln::report::Report::generate(&db, &sbom, &settings)?;
//! for f in &report.findings {
//!     println!("{} {} {} {}", f.severity, f.id, f.package.name, f.package.version);
//! }
//! # Ok(()) }
//! ```
//!
//! # What slimming removed (for `pare build`)
//!
//! Scan the *original* image's packages, then hand [`absence::prove_absent`] the
//! findings, whether each package kept a file in the slim image, and the slim
//! image's paths. It returns the OpenVEX document to write as `vex.openvex.json` and
//! the numbers for the summary line:
//!
//! ```no_run
//! use std::collections::BTreeSet;
//! use pare_vuln::absence::{DocumentInfo, keeps_any_file, prove_absent};
//! # fn main() -> pare_vuln::Result<()> {
//! # let db: pare_vuln::db::Database = unimplemented!();
//! # let original: pare_sbom::Sbom = unimplemented!();
//! // Every path the slim image holds (the keep-set).
//! let kept_paths: BTreeSet<String> = BTreeSet::from(["/usr/bin/python3.11".to_owned()]);
//! let matches =
//!     pare_vuln::matcher::match_packages(&db, &original.packages, original.distro.as_ref())?;
//! let absence = prove_absent(
//!     &matches.findings,
//!     &|package| keeps_any_file(package, &kept_paths),
//!     &kept_paths,
//!     &DocumentInfo {
//!         author: "pare build".into(),
//!         timestamp: pare_sbom::now_rfc3339(),
//!         tooling: Some(format!("pare {}", env!("CARGO_PKG_VERSION"))),
//!     },
//! );
//! println!("{}", absence.summary()); // Vulnerabilities 40 -> 12 (28 proven absent)
//! let json = serde_json::to_string_pretty(&absence.vex).unwrap();
//! std::fs::write("vex.openvex.json", json).unwrap();
//! # Ok(()) }
//! ```

pub mod absence;
pub mod db;
pub mod ecosystem;
pub mod error;
pub mod ignore;
pub mod import;
pub mod matcher;
pub mod osv;
pub mod policy;
pub mod range;
pub mod report;
pub mod severity;
pub mod source;
#[cfg(test)]
mod testing;
pub mod update;
pub mod version;
pub mod vex;

pub use error::{Error, Result};
