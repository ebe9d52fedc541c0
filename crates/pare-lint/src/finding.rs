//! What a rule reports: the rule, how bad, where, and a one-line message.

use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::position::Pos;

/// How bad a finding is, lowest first (so `>=` means "at least as bad").
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Style,
    Info,
    Warning,
    Error,
}

impl Severity {
    pub const ALL: [Severity; 4] = [
        Severity::Error,
        Severity::Warning,
        Severity::Info,
        Severity::Style,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Style => "style",
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A word that is not a severity.
#[derive(Debug, thiserror::Error)]
#[error("unknown severity {0:?}: use error, warning, info or style")]
pub struct BadSeverity(pub String);

impl pare_hint::Hint for BadSeverity {}

impl FromStr for Severity {
    type Err = BadSeverity;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "style" => Ok(Severity::Style),
            "info" => Ok(Severity::Info),
            "warning" | "warn" => Ok(Severity::Warning),
            "error" => Ok(Severity::Error),
            _ => Err(BadSeverity(s.to_owned())),
        }
    }
}

/// Where a finding is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Location {
    /// A place in a Dockerfile, and the lines of the instruction it is in
    /// (`instruction_line` is where hadolint would report it).
    File {
        file: String,
        line: usize,
        column: usize,
        instruction_line: usize,
        end_line: usize,
    },
    /// An image, and a path inside it when the finding is about a file.
    Image {
        image: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        path: Option<String>,
    },
}

impl Location {
    /// A place inside an instruction that spans `lines`.
    pub fn file(file: &str, pos: Pos, lines: std::ops::RangeInclusive<usize>) -> Self {
        Location::File {
            file: file.to_owned(),
            line: pos.line,
            column: pos.column,
            instruction_line: (*lines.start()).min(pos.line),
            end_line: (*lines.end()).max(pos.line),
        }
    }
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::File {
                file, line, column, ..
            } => write!(f, "{file}:{line}:{column}"),
            Location::Image { image, path: None } => f.write_str(image),
            Location::Image {
                image,
                path: Some(p),
            } => write!(f, "{image} {p}"),
        }
    }
}

/// One finding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The rule ID (`PL101`, or `SC2086` for shellcheck's).
    pub rule: String,
    /// The rule's readable name (`base-latest`).
    pub name: String,
    pub severity: Severity,
    #[serde(flatten)]
    pub location: Location,
    pub message: String,
}

impl Finding {
    /// The line, for findings in a file.
    pub fn line(&self) -> Option<usize> {
        match self.location {
            Location::File { line, .. } => Some(line),
            Location::Image { .. } => None,
        }
    }
}
