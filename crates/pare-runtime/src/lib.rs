//! pare-runtime: the containers pare starts, through the Docker Engine API or, with no
//! engine, through an OCI runtime (runc, crun) on an unpacked bundle.
//!
//! Every container made here is registered with [`cleanup`] the moment it exists, and
//! removed when its handle drops — on success, on error, and (through the registry) on
//! Ctrl-C, when no destructor runs.

pub mod cleanup;
mod engine;
pub mod limits;
pub mod network;
mod processes;
mod program;
pub mod runc;
pub mod seccomp;
pub mod userns;

use std::time::Duration;

pub use engine::{Container, ContainerSpec, Engine, ExecOutput};
pub use limits::{LimitHit, Limits};
pub use network::{Network, Reach};
pub use processes::Process;
pub use runc::{BundleSpec, OciContainer, OciRuntime};

/// A started container, whichever runs it: what probing and tracing need of it.
pub trait Running {
    /// Whether the container's main process still runs; its exit code if not.
    fn state(&self) -> Result<(bool, Option<i64>)>;
    /// Waits up to `timeout` for the container to exit; its exit code, or `None`.
    fn wait(&self, timeout: Duration) -> Result<Option<i64>>;
    /// Sends a signal (`SIGQUIT`, `TERM`, …) to the container's main process.
    fn signal(&self, signal: &str) -> Result<()>;
    /// Stops with `signal` (default TERM), killing it after `grace`.
    fn stop(&self, signal: Option<&str>, grace: Duration) -> Result<()>;
    /// Kills it at once (SIGKILL): for a run whose answers are in, which need not
    /// wait out an app that ignores SIGTERM.
    fn kill(&self) {
        let _ = self.signal("KILL");
    }
    /// The last `lines` lines the app printed (stdout and stderr).
    fn logs_tail(&self, lines: usize) -> String;
    /// Runs a command inside the container and collects its output.
    fn exec(&self, cmd: &[String], user: Option<&str>) -> Result<ExecOutput>;
    /// Where connections to the container's ports are made from.
    fn reach(&self) -> &Reach;
    /// The limits the container ran into so far.
    fn limit_hits(&self) -> Vec<LimitHit>;
    /// Its processes now, with their pids inside ([`processes`] says why); empty
    /// when this host cannot see them (a remote engine).
    fn processes(&self) -> Vec<Process>;
}

/// What can go wrong talking to the engine.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// No socket where the engine is looked for (`DOCKER_HOST`, else the local one).
    #[error("no Docker engine answers at {socket}")]
    NoSocket { socket: String },
    /// The socket is there, but nothing answers on it (or the client cannot start).
    #[error("no Docker engine answers")]
    NoEngine(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("image {0:?} not found in the Docker engine")]
    ImageNotFound(String),
    /// The engine refused a request; `message` is the engine's own words.
    #[error("Docker engine: {what}: {message}")]
    Engine { what: String, message: String },
    /// A request to the engine that failed on its way, or its answer did.
    #[error("Docker engine: {what}")]
    EngineCall {
        what: String,
        #[source]
        source: bollard::errors::Error,
    },
    #[error("no OCI runtime found ({0} on PATH)")]
    NoRuntime(String),
    /// The OCI runtime refused; `message` is its own words.
    #[error("OCI runtime: {what}: {message}")]
    Oci { what: String, message: String },
    /// The OCI runtime could not be run, or a file of its bundle written; the cause
    /// says why.
    #[error("OCI runtime: {what}")]
    OciIo {
        what: String,
        #[source]
        source: std::io::Error,
    },
    /// A step pare takes on this host for the container (a profile file, a flag of
    /// its own process).
    #[error("{what}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    /// The container's network namespace, entered to reach the app, cannot be opened.
    #[error("cannot open the container's network namespace {key}")]
    Namespace {
        key: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "building without root needs subordinate ids for {user}, and {file} has none (or fewer than 65536)"
    )]
    NoSubordinateIds { user: String, file: String },
    #[error("building without root: {0}")]
    Rootless(String),
    /// A step of building without root that failed on this host.
    #[error("building without root: {what}")]
    RootlessIo {
        what: &'static str,
        #[source]
        source: std::io::Error,
    },
}

impl pare_hint::Hint for RuntimeError {
    fn hint(&self) -> Option<String> {
        match self {
            RuntimeError::NoSocket { .. } | RuntimeError::NoEngine(_) => {
                Some("start dockerd (pare build needs one to run the app)".into())
            }
            RuntimeError::NoRuntime(_) => {
                Some("install runc (Debian's runc package) or start a Docker engine".into())
            }
            RuntimeError::Namespace { .. } => {
                Some("run pare as root on the engine's host, or use --network host".into())
            }
            RuntimeError::NoSubordinateIds { user, .. } => Some(format!(
                "as root: usermod --add-subuids 100000-165535 --add-subgids 100000-165535 {user} (any free range of 65536), or build through a rootless engine (DOCKER_HOST)"
            )),
            _ => None,
        }
    }
}

pub type Result<T, E = RuntimeError> = std::result::Result<T, E>;

pub(crate) fn engine_error(what: &str, e: bollard::errors::Error) -> RuntimeError {
    use bollard::errors::Error as E;
    match e {
        E::SocketNotFoundError(socket) => RuntimeError::NoSocket { socket },
        E::HyperLegacyError { .. } | E::IOError { .. } => RuntimeError::NoEngine(Box::new(e)),
        E::DockerResponseServerError { message, .. } => RuntimeError::Engine {
            what: what.to_owned(),
            message,
        },
        source => RuntimeError::EngineCall {
            what: what.to_owned(),
            source,
        },
    }
}
