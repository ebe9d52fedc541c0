//! The build report: what was kept, what was measured, what the probes got. Its JSON
//! form is written next to the seccomp profile; the CLI prints a summary of it.

use std::collections::BTreeMap;

pub use crate::read::ImageSize;
use serde::{Deserialize, Serialize};

use crate::keep_set::Reason;
use crate::packages::Packages;
use crate::probe::{Origin, Probe, ProbeResult};

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct BuildReport {
    pub schema: String,
    pub source: String,
    pub outputs: Vec<String>,
    /// What ran the containers: `docker`, or the OCI runtime (`runc`, `crun`).
    pub runtime: String,
    pub original: ImageSize,
    pub slim: ImageSize,
    /// original uncompressed bytes / slim uncompressed bytes.
    pub ratio: f64,
    /// Every kept path, by the reason it is kept.
    pub kept_by_reason: BTreeMap<Reason, Vec<String>>,
    /// The app's own files (below its directories, owned by no installed package)
    /// that the slim image leaves out: where to look when it fails.
    #[serde(default)]
    pub app_files_removed: Vec<String>,
    /// Dependencies the app's own manifest declares of which the slim image holds
    /// nothing (its `package.json` `dependencies`).
    #[serde(default)]
    pub unused_dependencies: Vec<crate::app_files::UnusedDependency>,
    /// How far the probes reached, and what was kept without them.
    #[serde(default)]
    pub reach: crate::reach::Figures,
    /// Which seccomp profile the slim image got and was verified under.
    #[serde(default)]
    pub seccomp_mode: crate::seccomp::SeccompMode,
    /// The original's packages (by the SBOM catalogers), kept or removed.
    pub packages: Packages,
    pub files_removed: u64,
    /// Paths the trace kept that the slim layer leaves out, and why (a device file,
    /// a hardlink through a symlink: what unpacking an image refuses).
    #[serde(default)]
    pub left_out: Vec<LeftOut>,
    pub syscalls: Vec<String>,
    /// Paths the sensor saw named by a file syscall (found or not).
    pub traced_paths: Vec<String>,
    /// Paths fanotify saw opened (a cross-check).
    pub fanotify_paths: Vec<String>,
    /// What the user should know about how the build went (e.g. a port that does not
    /// speak HTTP, so no default probe was sent).
    #[serde(default)]
    pub notes: Vec<String>,
    pub sensor_warnings: Vec<String>,
    pub probes: Vec<ProbeResult>,
    /// Probes whose answers on the original say more about the probe than about the
    /// image: compared "the same", they prove little.
    #[serde(default)]
    pub suspect_probes: Vec<SuspectProbe>,
    pub verification: Option<Verification>,
    pub seccomp_profile: Option<String>,
    /// Known vulnerabilities of the original, and how many the slim image is proven
    /// rid of; absent without an advisory database (see `notes`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vulnerabilities: Option<crate::vex::Vulnerabilities>,
    /// The OpenVEX document of what is proven absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vex: Option<String>,
    pub phases_ms: BTreeMap<String, u128>,
    pub app_log_tail: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LeftOut {
    pub path: String,
    pub reason: String,
}

/// How the slim image answered, compared with untraced reference runs of the
/// original.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Verification {
    /// The slim image's answers.
    pub probes: Vec<ProbeResult>,
    /// What it answered differently (each fails the build).
    pub differences: Vec<Difference>,
    /// Differences inside what varied between the reference runs (or that
    /// `--verify-ignore` accepts): treated as noise.
    #[serde(default)]
    pub ignored: Vec<Difference>,
    /// How many untraced reference runs of the original the answers were compared
    /// with (each in a container of its own).
    #[serde(default)]
    pub references: usize,
    /// The first reference run's answers, which the slim image's are compared with.
    #[serde(default)]
    pub reference_probes: Vec<ProbeResult>,
    /// The processes of the first reference run and of the slim run when their
    /// answers were in, pids as the app sees them: a pid in an answer is accepted
    /// only as the pid of the same process ([`crate::same_process`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reference_processes: Vec<pare_runtime::Process>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub processes: Vec<pare_runtime::Process>,
    pub seccomp_applied: bool,
    pub passed: bool,
}

/// One difference between the original's answer (the first reference run's) and the
/// slim image's.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Difference {
    pub probe: String,
    /// Where: `status`, `headers`, `header NAME`, a JSON path (`$.pid`), `body`, or
    /// `start` (the slim image did not answer at all).
    #[serde(default)]
    pub place: String,
    pub original: String,
    pub slim: String,
    /// The `--verify-ignore` that would accept it, where one can.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accept_with: Option<String>,
}

/// A probe whose status on the (traced) original is suspect: the user's own getting a
/// 4xx or 5xx it did not say it expects (the probe is probably wrong), or pare's own
/// or a crawled page getting a 5xx (the original's error handling fails by itself).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuspectProbe {
    pub probe: String,
    pub origin: Origin,
    pub status: u16,
    /// Why it is pointed out, and what to do.
    pub why: String,
}

impl SuspectProbe {
    /// The suspect ones of the HTTP requests `sent` and their `answers` (in the same
    /// order; answers beyond them, the exec probes', are not looked at).
    pub fn find(sent: &[Probe], answers: &[ProbeResult]) -> Vec<SuspectProbe> {
        sent.iter()
            .zip(answers)
            .filter_map(|(probe, answer)| {
                let Probe::Http {
                    method,
                    expect_status,
                    ..
                } = probe
                else {
                    return None;
                };
                let status = answer.status?;
                let why = suspicion(probe.origin(), method, status, *expect_status)?;
                Some(SuspectProbe {
                    probe: answer.probe.clone(),
                    origin: probe.origin(),
                    status,
                    why,
                })
            })
            .collect()
    }
}

/// The reason phrase of the statuses a probe commonly gets wrong.
fn reason(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        411 => "Length Required",
        413 => "Content Too Large",
        415 => "Unsupported Media Type",
        422 => "Unprocessable Content",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "",
    }
}

fn suspicion(origin: Origin, method: &str, status: u16, expected: Option<u16>) -> Option<String> {
    let named = format!("{status} {}", reason(status)).trim_end().to_owned();
    // What a user can do about their own probe.
    let fix = format!(
        "fix it, or if {status} is the answer you test, say so with \"expect_status\": {status} in a --probe-file"
    );
    match (origin, status) {
        // Said and got (any other status failed the build already).
        _ if expected.is_some() => None,
        (Origin::User, 405) => Some(format!(
            "the original answers {named}: the app does not take {method} there, so the slim image answering {status} too proves nothing of the route; the probe is probably wrong: {fix}"
        )),
        (Origin::User, 501) => Some(format!(
            "the original answers {named}: its server does not implement {method} at all, so the slim image answering {status} too proves nothing of the app; the probe is probably wrong: {fix}"
        )),
        (Origin::User, 400..=499) => Some(format!(
            "the original answers {named}: it refuses the request, so the slim image answering {status} too shows little of it; the probe is probably wrong: {fix}"
        )),
        (Origin::User, 500..=599) => Some(format!(
            "the original fails it with {named}: the same failure shows little of the slim image; the probe is probably wrong: {fix}"
        )),
        // How a server says it has no such method (pare's DELETE to http.server):
        // nothing failed.
        (Origin::Pare, 501) => None,
        (Origin::Pare, 500..=599) => Some(format!(
            "the original answers pare's own probe with {status}: its error handling fails already, before anything is removed"
        )),
        (Origin::Crawl, 500..=599) => Some(format!(
            "a page the crawl found fails on the original ({status})"
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each probe answered with its status.
    fn answered(sent: &[Probe], statuses: &[u16]) -> Vec<ProbeResult> {
        statuses
            .iter()
            .zip(sent)
            .map(|(status, probe)| ProbeResult {
                probe: probe.label(),
                status: Some(*status),
                ..Default::default()
            })
            .collect()
    }

    #[test]
    fn suspects_a_users_error_and_pares_own_5xx_only() {
        let sent = [
            Probe::parse_http("GET /").unwrap(),
            Probe::parse_http("POST /note/ text=hello").unwrap(),
            Probe::Http {
                method: "GET".into(),
                path: "/gone".into(),
                headers: Vec::new(),
                body: None,
                expect_status: Some(410),
                origin: Origin::User,
            },
            Probe::http("GET", "/pare-probe-missing").from(Origin::Pare),
            Probe::http("DELETE", "/").from(Origin::Pare),
            Probe::http("GET", "/broken-link").from(Origin::Crawl),
            Probe::http("GET", "/crash").from(Origin::Crawl),
        ];
        let found = SuspectProbe::find(
            &sent,
            &answered(&sent, &[200, 400, 410, 404, 500, 404, 502]),
        );
        let said: Vec<(&str, u16)> = found.iter().map(|s| (s.probe.as_str(), s.status)).collect();
        assert_eq!(
            said,
            [("POST /note/", 400), ("DELETE /", 500), ("GET /crash", 502)]
        );
        assert!(found[0].why.contains("probably wrong"), "{}", found[0].why);
        assert!(found[1].why.contains("pare's own"), "{}", found[1].why);
    }

    #[test]
    fn a_users_405_and_501_say_the_method_is_the_trouble() {
        let sent = [
            Probe::parse_http("DELETE /notes").unwrap(),
            Probe::parse_http("POST / x=1").unwrap(),
        ];
        let found = SuspectProbe::find(&sent, &answered(&sent, &[405, 501]));
        assert_eq!(found.len(), 2, "{found:#?}");
        assert!(
            found[0].why.starts_with(
                "the original answers 405 Method Not Allowed: the app does not take DELETE there"
            ),
            "{}",
            found[0].why
        );
        assert!(
            found[1].why.starts_with(
                "the original answers 501 Not Implemented: its server does not implement POST at all"
            ),
            "{}",
            found[1].why
        );
        assert!(
            found[1].why.contains("\"expect_status\": 501"),
            "{}",
            found[1].why
        );
        // pare's own DELETE answered 501 is a server without DELETE, not a failure.
        let own = [Probe::http("DELETE", "/").from(Origin::Pare)];
        assert_eq!(SuspectProbe::find(&own, &answered(&own, &[501])), []);
    }
}
