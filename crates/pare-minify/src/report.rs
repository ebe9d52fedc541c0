//! The build report: what was kept, what was measured, what the probes got. Its JSON
//! form is written next to the seccomp profile; the CLI prints a summary of it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::keep_set::Reason;
use crate::packages::Packages;
use crate::probe::ProbeResult;

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

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ImageSize {
    pub uncompressed_bytes: u64,
    pub compressed_bytes: u64,
    pub files: u64,
    pub layers: usize,
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
