//! Rules on a built image, read from pare-xray's report (which already found the
//! setuid files, world-writable paths, shells and package managers, and the user).

use pare_xray::{ToolKind, XrayReport};

use crate::catalog;
use crate::finding::{Finding, Location};
use crate::secrets::{is_secret_name, secret_value_kind};

/// Checks an image; `image` is the name the user gave, used in the findings.
pub fn check(report: &XrayReport, image: &str) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut push = |id: &str, path: Option<&str>, message: String| {
        if let Some(rule) = catalog::find(id) {
            out.push(Finding {
                rule: rule.id.to_owned(),
                name: rule.name.to_owned(),
                severity: rule.severity,
                location: Location::Image {
                    image: image.to_owned(),
                    path: path.map(str::to_owned),
                },
                message,
            });
        }
    };
    let facts = &report.image;
    if facts.runs_as_root {
        let who = if facts.user.is_empty() {
            "no USER is set".to_owned()
        } else {
            format!("USER is `{}`", facts.user)
        };
        push("PI001", None, format!("the image runs as root: {who}"));
    }
    for entry in &facts.env {
        let (name, value) = entry.split_once('=').unwrap_or((entry, ""));
        if let Some(kind) = secret_value_kind(value) {
            push(
                "PI002",
                None,
                format!("Env {name} holds what looks like {kind}"),
            );
        } else if is_secret_name(name) && !value.is_empty() {
            push(
                "PI002",
                None,
                format!(
                    "Env {name} looks like a secret and anyone who pulls the image can read it"
                ),
            );
        }
    }
    for f in &report.setuid {
        let what = match (f.setuid, f.setgid) {
            (true, true) => "setuid and setgid",
            (true, false) => "setuid",
            _ => "setgid",
        };
        push(
            "PI003",
            Some(&f.path),
            format!("{what} file (mode {}, owner {}:{})", f.mode, f.uid, f.gid),
        );
    }
    for f in report.world_writable.iter().filter(|f| !f.sticky) {
        push(
            "PI004",
            Some(&f.path),
            format!("world-writable (mode {}) without the sticky bit", f.mode),
        );
    }
    let service = !facts.exposed_ports.is_empty();
    if service {
        for (kind, what) in [
            (ToolKind::Shell, "shells"),
            (ToolKind::PackageManager, "package managers"),
        ] {
            let paths: Vec<&str> = report
                .tools
                .iter()
                .filter(|t| t.kind == kind)
                .map(|t| t.path.as_str())
                .collect();
            if !paths.is_empty() {
                push(
                    "PI005",
                    None,
                    format!("a service image with {what}: {}", paths.join(" ")),
                );
            }
        }
    }
    let tags: Vec<&str> = if facts.source.repo_tags.is_empty() {
        vec![image]
    } else {
        facts.source.repo_tags.iter().map(String::as_str).collect()
    };
    if tags.iter().all(|t| is_latest(t)) {
        push(
            "PI006",
            None,
            format!("tagged only `latest` ({})", tags.join(", ")),
        );
    }
    if facts
        .exposed_ports
        .iter()
        .any(|p| p == "22/tcp" || p == "22")
    {
        push("PI007", None, "port 22/tcp is exposed".into());
    }
    let no_healthcheck = facts.healthcheck.as_ref().is_none_or(|h| {
        h.get("Test")
            .and_then(|t| t.get(0))
            .and_then(|t| t.as_str())
            .is_none_or(|t| t == "NONE")
    });
    if service && no_healthcheck {
        push(
            "PI008",
            None,
            format!(
                "exposes {} but has no healthcheck",
                facts.exposed_ports.join(", ")
            ),
        );
    }
    out
}

/// A reference whose tag is `latest` or missing (digest references are pinned).
fn is_latest(reference: &str) -> bool {
    if reference.contains('@') {
        return false;
    }
    let name = reference.rsplit('/').next().unwrap_or(reference);
    match name.rsplit_once(':') {
        Some((_, tag)) => tag == "latest",
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use super::is_latest;

    #[test]
    fn latest_tags() {
        assert!(is_latest("pare-test/flask:latest"));
        assert!(is_latest("docker-daemon:pare-test/flask"));
        assert!(is_latest("localhost:5000/app"));
        assert!(!is_latest("app:1.2"));
        assert!(!is_latest("app@sha256:abc"));
    }
}
