//! The `[lint]` table of `.pare.toml`: rules to ignore, severities to change, trusted
//! registries, the default `--fail-on`, and whether to run shellcheck.
//!
//! ```toml
//! [lint]
//! ignore = ["PL103", "apt-unpinned", "DL3008", "SC2086"]
//! trusted-registries = ["docker.io", "ghcr.io/acme"]
//! fail-on = "warning"
//! shellcheck = true
//!
//! [lint.severity]
//! PL205 = "warning"
//! missing-healthcheck = "style"
//! ```

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::catalog;
use crate::finding::{Finding, Severity};
use crate::ignore::names_rule;

/// When `pare lint` exits 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Threshold {
    /// Never: findings are reported, the exit code stays 0.
    Never,
    /// A finding at or above this severity.
    At(Severity),
}

impl std::str::FromStr for Threshold {
    type Err = crate::finding::BadSeverity;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.eq_ignore_ascii_case("none") || s.eq_ignore_ascii_case("never") {
            Ok(Threshold::Never)
        } else {
            s.parse().map(Threshold::At)
        }
    }
}

impl Threshold {
    /// True when `findings` hold one at or above the threshold.
    pub fn reached(self, findings: &[Finding]) -> bool {
        match self {
            Threshold::Never => false,
            Threshold::At(s) => findings.iter().any(|f| f.severity >= s),
        }
    }
}

/// Lint settings.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub ignore: Vec<String>,
    #[serde(default)]
    pub severity: BTreeMap<String, Severity>,
    #[serde(default)]
    pub trusted_registries: Vec<String>,
    #[serde(default)]
    pub fail_on: Option<String>,
    #[serde(default)]
    pub shellcheck: Option<bool>,
}

#[derive(Deserialize)]
struct File {
    #[serde(default)]
    lint: Config,
}

/// A config file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{place}: {message}")]
    Syntax { place: String, message: String },
    #[error(
        "{place}: unknown rule {key:?} (use a pare ID or name, a hadolint DL code or a shellcheck SC code)"
    )]
    UnknownRule { place: String, key: String },
    #[error("{place}: fail-on")]
    FailOn {
        place: String,
        source: crate::finding::BadSeverity,
    },
}

impl pare_hint::Hint for ConfigError {}

/// True when `key` can name a rule.
pub fn is_rule_key(key: &str) -> bool {
    let upper = key.to_ascii_uppercase();
    catalog::find(key).is_some()
        || catalog::for_hadolint(key).next().is_some()
        || upper
            .strip_prefix("SC")
            .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
}

impl Config {
    /// Reads the `[lint]` table of a `.pare.toml`; `place` names the file in errors.
    pub fn parse(text: &str, place: &str) -> Result<Self, ConfigError> {
        let file: File = toml::from_str(text).map_err(|e| ConfigError::Syntax {
            place: place.to_owned(),
            message: e.to_string().trim().to_owned(),
        })?;
        let config = file.lint;
        for key in config.ignore.iter().chain(config.severity.keys()) {
            if !is_rule_key(key) {
                return Err(ConfigError::UnknownRule {
                    place: place.to_owned(),
                    key: key.clone(),
                });
            }
        }
        config.threshold().map_err(|source| ConfigError::FailOn {
            place: place.to_owned(),
            source,
        })?;
        Ok(config)
    }

    /// The configured `fail-on`, if any.
    pub fn threshold(&self) -> Result<Option<Threshold>, crate::finding::BadSeverity> {
        self.fail_on.as_deref().map(str::parse).transpose()
    }

    /// Drops ignored findings and applies severity changes.
    pub fn apply(&self, findings: Vec<Finding>) -> Vec<Finding> {
        findings
            .into_iter()
            .filter(|f| !self.ignore.iter().any(|k| names_rule(k, f)))
            .map(|mut f| {
                if let Some((_, s)) = self.severity.iter().find(|(k, _)| names_rule(k, &f)) {
                    f.severity = *s;
                }
                f
            })
            .collect()
    }
}
