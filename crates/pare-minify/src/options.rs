//! What `pare build` is asked to do: plain data, resolved from the command line by the
//! CLI in one place and trusted by every phase.

use std::path::PathBuf;
use std::time::Duration;

use pare_image::{ImageRef, ReadContext};

use crate::keep_set::KeepRules;
use crate::probe::Probe;

/// Everything `pare build` was asked to do.
#[derive(Clone)]
pub struct BuildOptions {
    pub image: ImageRef,
    /// How the image is read (layer limit, platform) and registries are reached,
    /// for the original and the pushed slim image alike.
    pub context: ReadContext,
    pub probes: Vec<Probe>,
    pub exec_probes: Vec<Vec<String>>,
    /// What every exec probe's command runs under (`--exec-entrypoint`); none: the
    /// command itself is the whole command line.
    pub exec_entrypoint: Option<ExecEntrypoint>,
    /// Never send HTTP requests of pare's choosing (`GET /` when no probe is given,
    /// pare's own probes).
    pub no_http: bool,
    /// Send pare's own probes after the user's ([`crate::own_probes`]): a missing path,
    /// a wrong method, malformed bodies, `HEAD`s.
    pub pare_probes: bool,
    /// A command that succeeds once the app is ready (after its port accepts).
    pub ready_exec: Option<Vec<String>>,
    /// For CLI images: arguments replacing CMD, one list per run; each run to
    /// completion is a probe (the first is the traced app's own run).
    pub run_args: Vec<Vec<String>>,
    /// The port to probe (default: the first exposed TCP port).
    pub port: Option<u16>,
    pub start_timeout: Duration,
    pub continue_after: ContinueAfter,
    pub rules: KeepRules,
    /// How much beyond the trace the slim image keeps.
    pub keep: crate::reach::KeepMode,
    /// Which seccomp profile the slim image gets (and is verified under).
    pub seccomp: crate::seccomp::SeccompMode,
    pub verify: bool,
    /// What the user accepts as differing between the original's and the slim
    /// image's answers, beside the noise learned from the reference runs.
    pub verify_ignore: crate::noise::Ignore,
    /// Untraced reference runs of the original (at least 1; 2 learn the noise).
    pub verify_runs: usize,
    pub outputs: Vec<Output>,
    pub report_dir: PathBuf,
    pub work_dir: PathBuf,
    pub sensor: &'static [u8],
    /// Where the containers run.
    pub runtime: RuntimeChoice,
    /// The containers' network: a namespace of their own (reached by entering it),
    /// or the host's.
    pub network: pare_runtime::Network,
    /// The advisory database for the VEX document (default: `pare db`'s).
    pub advisory_db: Option<PathBuf>,
    /// Processes, memory and disk the traced and slim containers may use.
    pub limits: pare_runtime::Limits,
    /// Follow same-origin links from the probed pages, sending at most this many GETs.
    pub crawl: Option<usize>,
}

/// The program an exec probe's command is handed to, as `docker run --entrypoint
/// PROGRAM IMAGE COMMAND...` hands it: a wrapper that sets up and then runs its
/// arguments (`docker-entrypoint.sh`), a shell, the image's own tool.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExecEntrypoint {
    /// The image's own ENTRYPOINT.
    Image,
    /// A program and its first arguments.
    Program(Vec<String>),
}

/// Where the slim image goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    Engine {
        tag: String,
    },
    DockerArchive {
        path: PathBuf,
        tag: String,
    },
    Oci {
        dir: PathBuf,
        tag: String,
    },
    /// Pushed to a registry once verified (blobs first, the manifest last).
    Registry {
        reference: pare_image::registry::RegistryRef,
    },
}

impl std::fmt::Display for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Output::Engine { tag } => write!(f, "docker-daemon:{tag}"),
            Output::DockerArchive { path, .. } => write!(f, "docker-archive:{}", path.display()),
            Output::Oci { dir, tag } => write!(f, "oci:{}:{tag}", dir.display()),
            Output::Registry { reference } => write!(f, "docker://{reference}"),
        }
    }
}

/// When the traced run ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContinueAfter {
    /// When the probes are done (the default).
    Probes,
    /// After the probes, when the user says so ([`crate::Reporter::wait_for_user`]).
    Enter,
    /// After the probes, after this long (the app keeps running meanwhile).
    Timeout(Duration),
    /// After the probes, when pare gets SIGUSR1 (`kill -USR1 PID`), for scripts that
    /// exercise the app themselves; also ends when the app exits.
    Signal,
}

/// What the user asked for with `--runtime`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RuntimeChoice {
    /// The Docker engine when one answers, else an OCI runtime.
    #[default]
    Auto,
    Docker,
    Oci,
}
