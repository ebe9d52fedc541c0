//! Recognising secrets by variable name (`DB_PASSWORD`, `GITHUB_TOKEN`) and by value
//! (cloud keys, tokens with a known prefix, private keys, passwords inside URLs).

use std::sync::LazyLock;

use regex::Regex;

/// Name parts that mark a secret. A bare `KEY` is left out on purpose: official
/// images set `GPG_KEY` to a public key fingerprint.
const SECRET_WORDS: [&str; 8] = [
    "PASSWORD",
    "PASSWD",
    "PWD",
    "SECRET",
    "TOKEN",
    "APIKEY",
    "CREDENTIALS",
    "CREDENTIAL",
];
const SECRET_PAIRS: [(&str, &str); 5] = [
    ("API", "KEY"),
    ("ACCESS", "KEY"),
    ("PRIVATE", "KEY"),
    ("SECRET", "KEY"),
    ("AUTH", "KEY"),
];
/// Names that point at a secret rather than hold it.
const POINTER_SUFFIXES: [&str; 5] = ["FILE", "PATH", "DIR", "ID", "URL"];

/// True when a variable called `name` probably holds a secret.
pub fn is_secret_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    let parts: Vec<&str> = upper
        .split(['_', '-', '.'])
        .filter(|p| !p.is_empty())
        .collect();
    if parts.last().is_some_and(|p| POINTER_SUFFIXES.contains(p)) || upper == "PWD" {
        return false;
    }
    parts.iter().any(|p| SECRET_WORDS.contains(p))
        || parts
            .windows(2)
            .any(|w| SECRET_PAIRS.contains(&(w[0], w[1])))
}

static VALUE_PATTERNS: LazyLock<Vec<(&'static str, Regex)>> = LazyLock::new(|| {
    [
        ("an AWS access key", r"\bAKIA[0-9A-Z]{16}\b"),
        (
            "a GitHub token",
            r"\b(gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})",
        ),
        ("a GitLab token", r"\bglpat-[A-Za-z0-9_-]{20,}"),
        ("a Slack token", r"\bxox[abprs]-[A-Za-z0-9-]{10,}"),
        ("a Stripe key", r"\b[sr]k_live_[A-Za-z0-9]{16,}"),
        ("a private key", r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
        ("a password in a URL", r"://[^/\s:@$]+:[^/\s@$]+@"),
    ]
    .into_iter()
    .filter_map(|(what, re)| Regex::new(re).ok().map(|r| (what, r)))
    .collect()
});

/// What kind of secret `value` looks like, if any.
pub fn secret_value_kind(value: &str) -> Option<&'static str> {
    VALUE_PATTERNS
        .iter()
        .find(|(_, re)| re.is_match(value))
        .map(|(what, _)| *what)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for yes in [
            "DB_PASSWORD",
            "GITHUB_TOKEN",
            "AWS_SECRET_ACCESS_KEY",
            "API_KEY",
            "npm_token",
            "STRIPE_APIKEY",
        ] {
            assert!(is_secret_name(yes), "{yes}");
        }
        for no in [
            "GPG_KEY",
            "PATH",
            "PASSWORD_FILE",
            "AWS_ACCESS_KEY_ID",
            "TOKENIZERS_PARALLELISM",
            "PWD",
            "KEYRING",
        ] {
            assert!(!is_secret_name(no), "{no}");
        }
    }

    #[test]
    fn values() {
        assert_eq!(
            secret_value_kind("AKIAABCDEFGHIJKLMNOP"),
            Some("an AWS access key")
        );
        assert_eq!(
            secret_value_kind("postgres://app:hunter2@db/app"),
            Some("a password in a URL")
        );
        assert_eq!(
            secret_value_kind("postgres://app:$DB_PASSWORD@db/app"),
            None
        );
        assert_eq!(secret_value_kind("https://example.org/x"), None);
    }
}
