//! Recognising shells, interpreters and package managers by where they live and
//! what they are called: each is a tool an attacker can use once inside.

use pare_image::path::{file_name, parent};

/// What kind of tool a path is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolKind {
    Shell,
    Interpreter,
    PackageManager,
}

const SHELLS: &[&str] = &[
    "sh", "bash", "dash", "ash", "zsh", "ksh", "mksh", "csh", "tcsh", "fish", "busybox",
];
const INTERPRETERS: &[&str] = &[
    "perl", "python", "python2", "python3", "ruby", "node", "nodejs", "php", "lua", "tclsh",
    "java", "jshell", "Rscript",
];
const PACKAGE_MANAGERS: &[&str] = &[
    "apt", "apt-get", "aptitude", "dpkg", "pip", "pip2", "pip3", "npm", "npx", "yarn", "pnpm",
    "apk", "yum", "dnf", "microdnf", "rpm", "zypper", "gem", "cargo", "composer", "conda",
];

/// Classifies an executable path, if it is one of the tools we look for.
/// Versioned names count too (`python3.11`, `perl5.36.0`, `pip3.11`, `lua5.4`).
pub fn classify(path: &str) -> Option<ToolKind> {
    let dir = parent(path);
    if !(dir.ends_with("/bin") || dir.ends_with("/sbin")) {
        return None;
    }
    let name = file_name(path);
    let base = name.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.');
    let is = |list: &[&str]| list.contains(&name) || (base != name && list.contains(&base));
    if is(SHELLS) {
        Some(ToolKind::Shell)
    } else if is(PACKAGE_MANAGERS) {
        Some(ToolKind::PackageManager)
    } else if is(INTERPRETERS) {
        Some(ToolKind::Interpreter)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies() {
        assert_eq!(classify("/usr/bin/bash"), Some(ToolKind::Shell));
        assert_eq!(classify("/bin/sh"), Some(ToolKind::Shell));
        assert_eq!(classify("/usr/bin/python3.11"), Some(ToolKind::Interpreter));
        assert_eq!(classify("/usr/bin/perl5.36.0"), Some(ToolKind::Interpreter));
        assert_eq!(
            classify("/opt/venv/bin/pip3"),
            Some(ToolKind::PackageManager)
        );
        assert_eq!(classify("/usr/bin/dpkg"), Some(ToolKind::PackageManager));
        assert_eq!(classify("/usr/share/doc/bash"), None);
        assert_eq!(classify("/usr/bin/dpkg-query"), None);
        assert_eq!(classify("/usr/bin/sha256sum"), None);
    }
}
