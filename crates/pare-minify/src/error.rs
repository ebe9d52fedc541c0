//! The errors of `pare build`, one enum for the crate. Each variant names the step
//! that failed and the thing it failed on; a message never repeats its `#[source]`
//! (the CLI prints the cause chain once), and its [`Hint`] says what the user can do
//! about it where there is something to do.
//!
//! This module imports nothing else of the crate, so every module can use it without
//! a cycle through the pipeline.

use std::path::{Path, PathBuf};

use pare_hint::Hint;

/// Why a build could not finish. Every variant is exit code 2 (a slim image that
/// answers differently is not an error: it is a failed [`crate::Verification`]).
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Image(#[from] pare_image::ImageError),

    #[error(transparent)]
    Runtime(#[from] pare_runtime::RuntimeError),

    #[error(transparent)]
    Assemble(#[from] AssembleError),

    /// A file or directory of pare's own (work dir, report dir, outputs).
    #[error("{action} {}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A mistake in a `--probe-file`, where it is.
    #[error("{}:{line}:{column}: {message}", path.display())]
    ProbeFile {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },

    /// A build option's value that means nothing (`--continue-after soon`, an
    /// `--output` of a kind pare does not write).
    #[error("{flag} {value}: expected {expected}")]
    BadOption {
        flag: &'static str,
        value: String,
        expected: &'static str,
    },

    #[error("the image has no ENTRYPOINT or CMD: nothing to run")]
    NothingToRun,

    #[error("--exec-entrypoint image: the image has no ENTRYPOINT to run the exec probes under")]
    NoEntrypointForExec,

    /// Neither backend can run the app: each failure with its causes.
    #[error("{engine}, and {oci}")]
    NoBackend { engine: String, oci: String },

    #[error(
        "building with an OCI runtime (runc, crun) needs root, and pare runs as uid {uid}{engine}"
    )]
    OciNeedsRoot { uid: u32, engine: String },

    #[error("cannot catch SIGUSR1 for --continue-after signal")]
    Signal(#[source] std::io::Error),

    #[error("loading {image} into the Docker engine")]
    Load {
        image: String,
        #[source]
        source: std::io::Error,
    },

    #[error("the Docker engine would not load {image}")]
    LoadRefused {
        image: String,
        #[source]
        source: pare_runtime::RuntimeError,
    },

    #[error("the app exited before port {port} opened{}{}", exit_code_text(*code), log_text(log_tail))]
    AppExited {
        port: u16,
        code: Option<i64>,
        log_tail: String,
    },

    #[error(
        "port {port} on the host's 127.0.0.1 is already taken by {holder}: the probes would reach it instead of the app"
    )]
    PortBusy {
        port: u16,
        holder: pare_runtime::network::PortHolder,
    },

    #[error("the app ran into {hit}{}", log_text(log_tail))]
    LimitHit {
        hit: pare_runtime::LimitHit,
        log_tail: String,
    },

    #[error("the app of {image} exited while it was being probed{}{}", exit_code_text(*code), log_text(log_tail))]
    AppDied {
        image: &'static str,
        code: Option<i64>,
        log_tail: String,
    },

    #[error(
        "--ready-exec {command} did not succeed within {seconds}s{}",
        answer_text(answer)
    )]
    NotReady {
        command: String,
        seconds: u64,
        answer: String,
    },

    #[error("port {port} did not open within {seconds}s{}", log_text(log_tail))]
    PortNeverOpened {
        port: u16,
        seconds: u64,
        log_tail: String,
    },

    #[error("the app did not finish within {seconds}s{}", log_text(log_tail))]
    DidNotFinish { seconds: u64, log_tail: String },

    #[error(
        "probe {probe} failed against {image}: {reason}{}{}",
        answer_text(answer),
        log_text(log_tail)
    )]
    ProbeFailed {
        image: &'static str,
        probe: String,
        reason: String,
        answer: String,
        log_tail: String,
    },

    #[error("the sensor's report {}: {reason}{}", path.display(), log_text(log_tail))]
    SensorReport {
        path: PathBuf,
        reason: String,
        log_tail: String,
    },

    #[error("the keep-set did not settle after {rounds} rounds of library closure")]
    KeepSetUnsettled { rounds: usize },

    /// The reference runs' thread panicked: a bug in pare, said as one rather than
    /// verifying against no reference at all.
    #[error("the reference runs of the original failed inside pare (a bug in pare): {0}")]
    ReferencePanicked(String),
}

impl Hint for BuildError {
    fn hint(&self) -> Option<String> {
        match self {
            BuildError::PortNeverOpened { .. } => Some(
                "give the port the app listens on with --port, or more time with --timeout".into(),
            ),
            BuildError::DidNotFinish { .. } => Some(
                "raise --timeout, or give probes (--probe, --exec) if the image runs a service"
                    .into(),
            ),
            BuildError::NothingToRun => {
                Some("give the command with --run-args (for CLI images)".into())
            }
            BuildError::NoEntrypointForExec => Some(
                "name the program with --exec-entrypoint PROGRAM, or leave it out: each exec probe's command is then its whole command line".into(),
            ),
            BuildError::LimitHit { hit, .. } => Some(format!(
                "if the app really needs more, raise it with {} (an untrusted image gets limits so it cannot exhaust this machine)",
                hit.flag()
            )),
            BuildError::PortBusy { .. } => Some(
                "stop that process, or leave out --network host: in a network of its own the app cannot be confused with another process".into(),
            ),
            BuildError::NoBackend { .. } => Some(
                "start dockerd, or install runc (Debian's runc package) to build without an engine"
                    .into(),
            ),
            BuildError::OciNeedsRoot { .. } => Some(
                "as an ordinary user, build through a rootless engine: `podman system service` and DOCKER_HOST=unix://$XDG_RUNTIME_DIR/podman/podman.sock (or rootless Docker's socket)".into(),
            ),
            BuildError::AppDied { .. } => Some(
                "if it died on one of pare's own probes (a missing path, a wrong method, a malformed body: the last ones sent), --no-pare-probes leaves them out".into(),
            ),
            // Transparent: the chain goes on at their causes, so they are asked here.
            BuildError::Image(e) => e.hint(),
            BuildError::Runtime(e) => e.hint(),
            BuildError::Assemble(e) => e.hint(),
            _ => None,
        }
    }
}

impl Hint for AssembleError {}

/// What can go wrong writing the slim image.
#[derive(Debug, thiserror::Error)]
pub enum AssembleError {
    #[error("writing {}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}: kept, but its bytes were not loaded (a bug in pare)")]
    MissingContent(String),
}

fn log_text(log_tail: &str) -> String {
    if log_tail.trim().is_empty() {
        String::new()
    } else {
        format!("\nlast lines the app printed:\n{}", log_tail.trim_end())
    }
}

fn answer_text(answer: &str) -> String {
    if answer.trim().is_empty() {
        String::new()
    } else {
        format!("\nit answered:\n{}", answer.trim_end())
    }
}

fn exit_code_text(code: Option<i64>) -> String {
    code.map(|c| format!(" (exit code {c})"))
        .unwrap_or_default()
}

/// Creates a directory of pare's own (and its parents). Here, beside the error it
/// makes, because every phase makes its directories.
pub(crate) fn create_dir(dir: &Path) -> Result<(), BuildError> {
    std::fs::create_dir_all(dir).map_err(|source| BuildError::Io {
        action: "creating",
        path: dir.to_owned(),
        source,
    })
}
