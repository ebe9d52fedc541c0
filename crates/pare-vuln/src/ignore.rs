//! Ignore files, in the `.trivyignore` style users already keep: one advisory id a
//! line (any of a finding's ids: CVE, GHSA, PYSEC, …), `#` starts a comment, and an
//! optional `exp:YYYY-MM-DD` after which the line no longer applies.
//!
//! ```text
//! # accepted until the base image moves to bookworm-updates
//! CVE-2023-45853 exp:2026-12-31
//! GHSA-m2qf-hxjv-5gpq   # Flask session cookie: we set no permanent sessions
//! ```

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// One line of an ignore file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IgnoreRule {
    pub id: String,
    /// The last day the rule applies (`YYYY-MM-DD`, inclusive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    pub file: PathBuf,
    pub line: usize,
}

impl IgnoreRule {
    /// Whether the rule still applies on `today` (`YYYY-MM-DD`).
    pub fn active(&self, today: &str) -> bool {
        self.expires.as_deref().is_none_or(|e| today <= e)
    }
}

/// Reads an ignore file. A line that is not `ID [exp:YYYY-MM-DD]` is an error naming
/// the file and line: a typo must not silently ignore nothing.
pub fn read(path: &Path) -> Result<Vec<IgnoreRule>> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
        step: "reading the ignore file",
        path: path.to_owned(),
        source,
    })?;
    parse(&text, path)
}

pub fn parse(text: &str, path: &Path) -> Result<Vec<IgnoreRule>> {
    let mut rules = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let fail = |message: String| Error::IgnoreSyntax {
            path: path.to_owned(),
            line: i + 1,
            message,
        };
        let mut words = line.split_whitespace();
        let id = words.next().unwrap_or_default();
        if !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_:.".contains(c))
        {
            return Err(fail(format!("{id:?} is not an advisory id")));
        }
        let mut expires = None;
        for word in words {
            match word.strip_prefix("exp:") {
                Some(date) if is_date(date) => expires = Some(date.to_owned()),
                Some(date) => return Err(fail(format!("{date:?} is not a date (YYYY-MM-DD)"))),
                None => {
                    return Err(fail(format!(
                        "unexpected {word:?} (a line is an id, optionally `exp:YYYY-MM-DD`)"
                    )));
                }
            }
        }
        rules.push(IgnoreRule {
            id: id.to_owned(),
            expires,
            file: path.to_owned(),
            line: i + 1,
        });
    }
    Ok(rules)
}

/// `YYYY-MM-DD` with a month and day that exist.
fn is_date(s: &str) -> bool {
    humantime::parse_rfc3339(&format!("{s}T00:00:00Z")).is_ok() && s.len() == 10
}

/// Today's date in UTC, `YYYY-MM-DD`.
pub fn today() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()[..10].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_comments_and_expiry() {
        let text = "# header\n\nCVE-2023-45853 exp:2026-12-31\n  GHSA-m2qf-hxjv-5gpq   # why\nPYSEC-2023-62\n";
        let rules = parse(text, Path::new(".pareignore")).unwrap();
        let ids: Vec<(&str, Option<&str>, usize)> = rules
            .iter()
            .map(|r| (r.id.as_str(), r.expires.as_deref(), r.line))
            .collect();
        assert_eq!(
            ids,
            [
                ("CVE-2023-45853", Some("2026-12-31"), 3),
                ("GHSA-m2qf-hxjv-5gpq", None, 4),
                ("PYSEC-2023-62", None, 5)
            ]
        );
        assert!(rules[0].active("2026-12-31"));
        assert!(!rules[0].active("2027-01-01"));
        assert!(rules[1].active("2099-01-01"));
        assert_eq!(today().len(), 10);
    }

    #[test]
    fn mistakes_name_the_line() {
        for (text, line, words) in [
            ("CVE-1\nCVE-2 exp:2026-02-30\n", 2, "not a date"),
            ("CVE-1 until:2026-01-01\n", 1, "unexpected"),
            ("\n\nCVE 2023 1\n", 3, "unexpected"),
            ("CVE-2023-1;rm\n", 1, "not an advisory id"),
        ] {
            let err = parse(text, Path::new("ignore.txt")).unwrap_err();
            let msg = err.to_string();
            assert!(
                msg.starts_with(&format!("ignore.txt, line {line}: ")),
                "{msg}"
            );
            assert!(msg.contains(words), "{msg}");
        }
    }
}
