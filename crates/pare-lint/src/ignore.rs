//! Inline ignores: `# pare-ignore=RULE[,RULE]` or `# hadolint ignore=DL3008` on the
//! line(s) right above an instruction, and for the whole file
//! `# pare-ignore-file=RULE` or `# hadolint global ignore=DL3008`.
//! A RULE is a pare ID or name, a hadolint code, or a shellcheck code.

use crate::catalog;
use crate::dockerfile::Dockerfile;
use crate::finding::Finding;

/// The ignores of one file.
#[derive(Debug, Default)]
pub struct Ignores {
    /// (first line, last line, rules) per instruction with a pragma above it.
    spans: Vec<(usize, usize, Vec<String>)>,
    global: Vec<String>,
}

impl Ignores {
    pub fn collect(file: &Dockerfile) -> Self {
        let mut out = Ignores::default();
        for c in &file.comments {
            if let Some((true, keys)) = pragma(&c.text) {
                out.global.extend(keys);
            }
        }
        for ins in &file.instructions {
            let keys: Vec<String> = ins
                .comments
                .iter()
                .filter_map(|c| pragma(&c.text))
                .filter(|(global, _)| !global)
                .flat_map(|(_, k)| k)
                .collect();
            if !keys.is_empty() {
                out.spans.push((ins.pos.line, ins.end_line, keys));
            }
        }
        out
    }

    /// True when an ignore covers `finding`.
    pub fn covers(&self, finding: &Finding) -> bool {
        let matches = |keys: &[String]| keys.iter().any(|k| names_rule(k, finding));
        if matches(&self.global) {
            return true;
        }
        let Some(line) = finding.line() else {
            return false;
        };
        self.spans
            .iter()
            .any(|(from, to, keys)| (*from..=*to).contains(&line) && matches(keys))
    }
}

/// True when `key` (an ID, name, hadolint or shellcheck code) names the finding's rule.
pub fn names_rule(key: &str, finding: &Finding) -> bool {
    key.eq_ignore_ascii_case(&finding.rule)
        || key.eq_ignore_ascii_case(&finding.name)
        || catalog::for_hadolint(key).any(|r| r.id == finding.rule)
}

/// Reads a pragma comment: `(whole file?, rules)`.
fn pragma(text: &str) -> Option<(bool, Vec<String>)> {
    let (global, list) = if let Some(rest) = text.strip_prefix("pare-ignore-file") {
        (true, rest)
    } else if let Some(rest) = text.strip_prefix("pare-ignore") {
        (false, rest)
    } else if let Some(rest) = text.strip_prefix("hadolint") {
        let rest = rest.trim_start();
        match rest.strip_prefix("global") {
            Some(g) => (true, g.trim_start().strip_prefix("ignore")?),
            None => (false, rest.strip_prefix("ignore")?),
        }
    } else {
        return None;
    };
    let list = list.trim_start().strip_prefix('=')?;
    let keys: Vec<String> = list
        .split(|c: char| c == ',' || c.is_whitespace())
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(str::to_owned)
        .collect();
    (!keys.is_empty()).then_some((global, keys))
}

#[cfg(test)]
mod tests {
    use super::pragma;

    #[test]
    fn reads_pragmas() {
        assert_eq!(
            pragma("pare-ignore=PL101,apt-unpinned"),
            Some((false, vec!["PL101".into(), "apt-unpinned".into()]))
        );
        assert_eq!(
            pragma("hadolint ignore=DL3008 , SC2086"),
            Some((false, vec!["DL3008".into(), "SC2086".into()]))
        );
        assert_eq!(
            pragma("hadolint global ignore=DL3006"),
            Some((true, vec!["DL3006".into()]))
        );
        assert_eq!(
            pragma("pare-ignore-file=PL103"),
            Some((true, vec!["PL103".into()]))
        );
        assert_eq!(pragma("just a comment"), None);
        assert_eq!(pragma("pare-ignore="), None);
    }
}
