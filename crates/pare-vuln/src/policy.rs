//! What the user asked to leave out: ignore-file entries, VEX statements, and
//! findings without a fix (`--only-fixed`). Nothing is dropped silently: every finding
//! left out is kept as [`Suppressed`] with the reason, for the JSON report.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::ignore::IgnoreRule;
use crate::matcher::Finding;
use crate::vex::{self, Statement, VexStatus};

/// The user's choices.
#[derive(Clone, Debug, Default)]
pub struct Policy {
    pub ignore: Vec<IgnoreRule>,
    pub vex: Vec<Statement>,
    pub only_fixed: bool,
    /// `YYYY-MM-DD`, for ignore-rule expiry ([`crate::ignore::today`]).
    pub today: String,
}

/// A finding left out, and why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Suppressed {
    #[serde(flatten)]
    pub finding: Finding,
    pub reason: Reason,
}

/// Why a finding was left out.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reason {
    /// A line of an ignore file names one of its ids.
    Ignored {
        file: PathBuf,
        line: usize,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expires: Option<String>,
    },
    /// A VEX statement says `not_affected` or `fixed`.
    Vex {
        file: PathBuf,
        /// 1-based, as people count.
        statement: usize,
        status: VexStatus,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        justification: Option<String>,
    },
    /// No fixed version is known and `--only-fixed` was given.
    NoFix,
}

/// Findings kept and left out, and notes (expired ignore rules).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Applied {
    pub findings: Vec<Finding>,
    pub suppressed: Vec<Suppressed>,
    pub warnings: Vec<String>,
}

/// Sorts `findings` into kept and suppressed. Ignore files are checked first (the
/// user's own word), then VEX, then `--only-fixed`.
pub fn apply(findings: Vec<Finding>, policy: &Policy) -> Applied {
    let mut out = Applied::default();
    for rule in policy.ignore.iter().filter(|r| !r.active(&policy.today)) {
        if findings.iter().any(|f| f.ids().any(|id| id == rule.id)) {
            out.warnings.push(format!(
                "{}, line {}: {} expired on {}, so it is reported again",
                rule.file.display(),
                rule.line,
                rule.id,
                rule.expires.as_deref().unwrap_or_default()
            ));
        }
    }
    for finding in findings {
        match reason(&finding, policy) {
            Some(reason) => out.suppressed.push(Suppressed { finding, reason }),
            None => out.findings.push(finding),
        }
    }
    out
}

fn reason(finding: &Finding, policy: &Policy) -> Option<Reason> {
    if let Some(rule) = policy
        .ignore
        .iter()
        .filter(|r| r.active(&policy.today))
        .find(|r| finding.ids().any(|id| id == r.id))
    {
        return Some(Reason::Ignored {
            file: rule.file.clone(),
            line: rule.line,
            expires: rule.expires.clone(),
        });
    }
    if let Some(s) = vex::verdict(&policy.vex, finding).filter(|s| s.status.suppresses()) {
        return Some(Reason::Vex {
            file: s.file.clone(),
            statement: s.index + 1,
            status: s.status,
            justification: s.justification.clone(),
        });
    }
    (policy.only_fixed && finding.fixed.is_none()).then_some(Reason::NoFix)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ignore;
    use crate::matcher::{AdvisoryPackage, FoundPackage};
    use crate::severity::{Rating, Severity};
    use std::path::Path;

    fn finding(id: &str, aliases: &[&str], fixed: Option<&str>) -> Finding {
        Finding {
            id: id.into(),
            aliases: aliases.iter().map(|a| (*a).to_owned()).collect(),
            summary: None,
            url: String::new(),
            severity: Severity::High,
            rating: Rating::UNKNOWN,
            package: FoundPackage {
                name: "flask".into(),
                version: "2.2.2".into(),
                ecosystem: "python".into(),
                purl: "pkg:pypi/flask@2.2.2".into(),
                found_in: String::new(),
                files: vec![],
            },
            advisory_package: AdvisoryPackage {
                ecosystem: "PyPI".into(),
                name: "flask".into(),
                version: "2.2.2".into(),
            },
            fixed: fixed.map(str::to_owned),
            no_fix_reason: None,
            records: vec![id.into()],
            vulnerable_imports: vec![],
        }
    }

    #[test]
    fn ignore_by_alias_expiry_and_only_fixed() {
        let rules = ignore::parse(
            "CVE-2023-30861\nGHSA-old exp:2020-01-01\n",
            Path::new(".pareignore"),
        )
        .unwrap();
        let policy = Policy {
            ignore: rules,
            only_fixed: true,
            today: "2026-11-30".into(),
            ..Default::default()
        };
        let applied = apply(
            vec![
                finding("GHSA-m2qf-hxjv-5gpq", &["CVE-2023-30861"], Some("2.2.5")),
                finding("GHSA-old", &[], Some("1.0")),
                finding("PYSEC-nofix", &[], None),
            ],
            &policy,
        );
        let kept: Vec<&str> = applied.findings.iter().map(|f| f.id.as_str()).collect();
        assert_eq!(kept, ["GHSA-old"], "an expired rule no longer applies");
        assert_eq!(
            applied.suppressed[0].reason,
            Reason::Ignored {
                file: ".pareignore".into(),
                line: 1,
                expires: None
            }
        );
        assert_eq!(applied.suppressed[1].reason, Reason::NoFix);
        assert_eq!(applied.warnings.len(), 1);
        assert!(applied.warnings[0].contains("line 2: GHSA-old expired on 2020-01-01"));
    }
}
