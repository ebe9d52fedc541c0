//! `pare build`'s human summary, a pure function of the build report.

use std::fmt::Write as _;

use pare_minify::{BuildReport, Phase};

use super::truncate;
use crate::units::{bytes, count};

/// The summary `pare build` prints: what was made, how much smaller, what was
/// verified, where the report is.
pub fn summary(r: &BuildReport, report_path: &std::path::Path) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Slim image   {}", r.outputs.join(", "));
    let _ = writeln!(
        out,
        "Size         {} -> {} ({:.1}x smaller); {} as stored",
        bytes(r.original.uncompressed_bytes),
        bytes(r.slim.uncompressed_bytes),
        r.ratio,
        bytes(r.slim.compressed_bytes)
    );
    let _ = writeln!(
        out,
        "Files        {} -> {} ({} removed)",
        count(r.original.files),
        count(r.slim.files),
        count(r.files_removed)
    );
    let _ = writeln!(out, "{}", packages_line(&r.packages));
    let probes: Vec<String> = r
        .probes
        .iter()
        .map(|p| {
            format!(
                "{} {}",
                p.probe,
                p.status
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| "-".into())
            )
        })
        .collect();
    let _ = writeln!(out, "Probes       {}", probes.join(", "));
    match &r.verification {
        Some(v) if v.passed => {
            let _ = writeln!(
                out,
                "Verified     the slim image answers all {} probes the same (seccomp profile applied)",
                v.probes.len()
            );
        }
        Some(v) => {
            let _ = writeln!(out, "NOT VERIFIED {} difference(s):", v.differences.len());
            for d in &v.differences {
                let _ = writeln!(
                    out,
                    "  {}: original {:?}, slim {:?}",
                    d.probe,
                    cut(&d.original),
                    cut(&d.slim)
                );
            }
        }
        None => {
            let _ = writeln!(out, "Verified     skipped (--no-verify)");
        }
    }
    let _ = writeln!(out, "Syscalls     {} used", r.syscalls.len());
    let _ = writeln!(out, "Runtime      {}", r.runtime);
    let phases: Vec<String> = Phase::ALL
        .iter()
        .filter_map(|p| {
            r.phases_ms
                .get(p.name())
                .map(|ms| format!("{} {:.1}s", p.name(), *ms as f64 / 1000.0))
        })
        .collect();
    let _ = writeln!(out, "Time         {}", phases.join(", "));
    let _ = writeln!(out, "Report       {}", report_path.display());
    if let Some(p) = &r.seccomp_profile {
        let _ = writeln!(out, "Seccomp      {p}");
    }
    out
}

/// `Packages  135 -> 24 kept (111 removed: apt, bash, dpkg, perl-base, …)`: the
/// removed ones a reader looks for (shells, package managers) come first.
fn packages_line(p: &pare_minify::packages::Packages) -> String {
    let total = p.kept.len() + p.removed.len();
    if total == 0 {
        return "Packages     none found by the catalogers".into();
    }
    const NOTABLE: [&str; 8] = [
        "bash",
        "dash",
        "apt",
        "dpkg",
        "perl-base",
        "coreutils",
        "pip",
        "npm",
    ];
    let mut removed: Vec<&str> = p.removed.iter().map(|f| f.name.as_str()).collect();
    removed.sort_by_key(|n| (!NOTABLE.contains(n), *n));
    let shown: Vec<&str> = removed.iter().take(6).copied().collect();
    let more = if removed.len() > shown.len() {
        ", …"
    } else {
        ""
    };
    format!(
        "Packages     {} -> {} kept ({} removed{}{}{})",
        count(total as u64),
        count(p.kept.len() as u64),
        count(p.removed.len() as u64),
        if shown.is_empty() { "" } else { ": " },
        shown.join(", "),
        more
    )
}

fn cut(s: &str) -> String {
    truncate(s, 120)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A real report of `pare build pare-test/flask:latest` with three probes.
    fn flask() -> BuildReport {
        serde_json::from_str(include_str!("fixtures/build-flask.json")).expect("fixture")
    }

    #[test]
    fn verified_build() {
        let report = flask();
        let path = std::path::Path::new("pare-build/pare-test_flask_latest/report.json");
        insta::assert_snapshot!(summary(&report, path));
    }

    #[test]
    fn failed_verification_names_the_probe_and_both_answers() {
        let mut report = flask();
        let verification = report.verification.as_mut().expect("verified");
        verification.passed = false;
        verification.differences = vec![pare_minify::probe::Difference {
            probe: "GET /api/items".into(),
            original: "200 [{\"id\":1,\"name\":\"first\"}]".into(),
            slim: "500 Internal Server Error".into(),
        }];
        let path = std::path::Path::new("report.json");
        insta::assert_snapshot!(summary(&report, path));
    }
}
