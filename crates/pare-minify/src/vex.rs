//! Phase `vex`: which known vulnerabilities of the original image the slim image
//! proves absent. The original's packages are matched against the advisory database
//! (`pare db`); an advisory whose package has no file left in the slim image, or whose
//! vulnerable files are gone, becomes an OpenVEX `not_affected` statement, which
//! scanners (`pare scan --vex`, Trivy, Grype) then stop reporting.

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::keep::KeepPlan;
use crate::read::Original;

/// The vulnerability figures of a build.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Vulnerabilities {
    /// Findings of the original image.
    pub before: usize,
    /// Findings the slim image still holds (what a scan of it reports).
    pub after: usize,
    pub component_not_present: usize,
    pub vulnerable_code_not_present: usize,
    /// The advisory database used.
    pub database: String,
}

/// What the phase gives: the figures and the OpenVEX document, or why there are none.
pub enum Outcome {
    Proven {
        figures: Vulnerabilities,
        document: serde_json::Value,
    },
    /// No database (or it cannot be read): the build goes on without VEX; this says
    /// why and how to get one.
    Skipped(String),
}

/// Matches the original's packages and proves what the slim image left behind.
pub fn prove(original: &Original, plan: &KeepPlan, database: Option<&PathBuf>) -> Outcome {
    let Some(path) = database.cloned().or_else(pare_vuln::db::default_path) else {
        return Outcome::Skipped("no advisory database location (no HOME): no VEX written".into());
    };
    let db = match pare_vuln::db::Database::open(&path) {
        Ok(db) => db,
        Err(e @ pare_vuln::Error::NoDatabase { .. }) => {
            return Outcome::Skipped(format!(
                "{e}: no VEX written (`pare db update`, or `pare db import` offline, makes one)"
            ));
        }
        Err(e) => {
            let e = pare_hint::with_causes(&e);
            return Outcome::Skipped(format!("{e}: no VEX written"));
        }
    };
    // No policy: the proof covers every finding of the original, whatever a later
    // scan chooses to leave out.
    let settings = pare_vuln::report::Settings {
        policy: pare_vuln::policy::Policy::default(),
        now: std::time::SystemTime::now(),
    };
    let report = match pare_vuln::report::Report::generate(&db, &original.sbom, &settings) {
        Ok(r) => r,
        Err(e) => {
            let e = pare_hint::with_causes(&e);
            return Outcome::Skipped(format!("matching advisories: {e}: no VEX written"));
        }
    };
    let kept: BTreeSet<String> = plan.keep.paths.keys().cloned().collect();
    let info = pare_vuln::absence::DocumentInfo {
        author: "pare build".into(),
        timestamp: pare_sbom::now_rfc3339(),
        tooling: Some(format!("pare {}", env!("CARGO_PKG_VERSION"))),
    };
    let absence = pare_vuln::absence::prove_absent(
        &report.findings,
        &|package| pare_vuln::absence::keeps_any_file(package, &kept),
        &kept,
        &info,
    );
    Outcome::Proven {
        figures: Vulnerabilities {
            before: absence.before,
            after: absence.after,
            component_not_present: absence.component_not_present,
            vulnerable_code_not_present: absence.vulnerable_code_not_present,
            database: path.display().to_string(),
        },
        document: serde_json::to_value(&absence.vex).unwrap_or_default(),
    }
}
