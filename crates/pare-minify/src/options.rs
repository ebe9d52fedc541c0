//! What `pare build` is asked to do: plain data, resolved from the command line by the
//! CLI in one place and trusted by every phase, and the rules that resolve the values
//! the command line gives as text (outputs, when the traced run ends, the default
//! names), so that every front end resolves them alike.

use std::path::PathBuf;
use std::time::Duration;

use pare_image::{ImageRef, ReadContext};

use crate::error::BuildError;
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

impl Output {
    /// An `--output` (`docker-archive:PATH`, `oci:DIR[:TAG]`, `docker-daemon:NAME`,
    /// `docker://REGISTRY/NAME[:TAG]`); what names no tag gets `default_tag`'s (or,
    /// for a layout or a registry, its tag part).
    pub fn parse(text: &str, default_tag: &str) -> Result<Output, BuildError> {
        let tag = default_tag.rsplit(':').next().unwrap_or("slim").to_owned();
        match ImageRef::parse(text)? {
            ImageRef::DockerArchive { path, name } => Ok(Output::DockerArchive {
                path,
                tag: name.unwrap_or_else(|| default_tag.to_owned()),
            }),
            ImageRef::OciLayout { dir, tag: t } => Ok(Output::Oci {
                dir,
                tag: t.unwrap_or(tag),
            }),
            ImageRef::DockerDaemon { name } => Ok(Output::Engine { tag: name }),
            ImageRef::Registry { reference }
                if reference.tag.is_none() && reference.digest.is_none() =>
            {
                Ok(Output::Registry {
                    reference: reference.with_tag(&tag),
                })
            }
            ImageRef::Registry { reference } => Ok(Output::Registry { reference }),
            other => Err(BuildError::BadOption {
                flag: "--output",
                value: other.to_string(),
                expected: "docker-archive:PATH, oci:DIR[:TAG] or docker://REGISTRY/NAME[:TAG]",
            }),
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

impl ContinueAfter {
    /// `--continue-after`: `probes`, `enter`, `signal` or a number of seconds.
    pub fn parse(text: &str) -> Result<ContinueAfter, BuildError> {
        Ok(match text {
            "probes" => ContinueAfter::Probes,
            "enter" => ContinueAfter::Enter,
            "signal" => ContinueAfter::Signal,
            secs => ContinueAfter::Timeout(Duration::from_secs(secs.parse().map_err(|_| {
                BuildError::BadOption {
                    flag: "--continue-after",
                    value: format!("{secs:?}"),
                    expected: "probes, enter, signal or seconds",
                }
            })?)),
        })
    }
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

/// What to call the image in the default slim tag and report directory: its name in
/// the engine; for an archive or layout, the first tag it records (`docker save`'s
/// RepoTags, an OCI `:TAG`), else the file or directory name.
pub fn display_name(context: &ReadContext, image: &ImageRef) -> Result<String, BuildError> {
    let (path, tag) = match image {
        ImageRef::DockerDaemon { name } => return Ok(name.clone()),
        ImageRef::DockerArchive { path, name } => (path, name.clone()),
        ImageRef::OciArchive { path, tag } => (path, tag.clone()),
        ImageRef::OciLayout { dir, tag } => (dir, tag.clone()),
        ImageRef::Registry { reference } => {
            let tag = reference.tag.as_deref().unwrap_or("latest");
            return Ok(format!(
                "{}/{}:{tag}",
                reference.registry, reference.repository
            ));
        }
        ImageRef::ContainersStorage { name, .. } => return Ok(name.clone()),
    };
    let opened = pare_image::open_image(context, image, None)?;
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().to_lowercase())
        .unwrap_or_else(|| "image".into());
    // An OCI ref name may be a whole reference or only a tag.
    let recorded = opened.resolved.repo_tags.first().cloned().or(tag);
    Ok(match recorded {
        Some(t) if t.contains(':') => t,
        Some(t) => format!("{stem}:{}", t.to_lowercase()),
        None => format!("{stem}:latest"),
    })
}

/// The slim image's tag when none is given: the image's [`display_name`] with
/// `-slim`.
pub fn default_tag(name: &str) -> String {
    format!("{name}-slim")
}

/// Where the report goes when no directory is given: `pare-build/` and the image's
/// [`display_name`] as a directory name (letters, digits and `-`, the rest `_`).
pub fn default_report_dir(name: &str) -> PathBuf {
    let slug: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    PathBuf::from("pare-build").join(slug)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outputs_take_the_default_tag_where_they_name_none() {
        let tag = "pare-test/flask:latest-slim";
        assert_eq!(
            Output::parse("docker-archive:/tmp/slim.tar", tag).unwrap(),
            Output::DockerArchive {
                path: "/tmp/slim.tar".into(),
                tag: tag.into()
            }
        );
        assert_eq!(
            Output::parse("oci:/tmp/layout", tag).unwrap(),
            Output::Oci {
                dir: "/tmp/layout".into(),
                tag: "latest-slim".into()
            }
        );
        let Output::Registry { reference } =
            Output::parse("docker://127.0.0.1:5000/flask", tag).unwrap()
        else {
            panic!("a registry output");
        };
        assert_eq!(reference.tag.as_deref(), Some("latest-slim"));
        let refused = Output::parse("oci-archive:/tmp/x.tar", tag).unwrap_err();
        assert!(
            refused
                .to_string()
                .starts_with("--output oci-archive:/tmp/x.tar: expected"),
            "{refused}"
        );
    }

    #[test]
    fn continue_after_reads_its_four_forms() {
        assert_eq!(
            ContinueAfter::parse("probes").unwrap(),
            ContinueAfter::Probes
        );
        assert_eq!(
            ContinueAfter::parse("signal").unwrap(),
            ContinueAfter::Signal
        );
        assert_eq!(
            ContinueAfter::parse("90").unwrap(),
            ContinueAfter::Timeout(Duration::from_secs(90))
        );
        assert_eq!(
            ContinueAfter::parse("soon").unwrap_err().to_string(),
            "--continue-after \"soon\": expected probes, enter, signal or seconds"
        );
    }

    #[test]
    fn default_names_come_from_the_images_name() {
        assert_eq!(
            default_tag("pare-test/flask:latest"),
            "pare-test/flask:latest-slim"
        );
        assert_eq!(
            default_report_dir("127.0.0.1:5000/app:1.0"),
            PathBuf::from("pare-build/127_0_0_1_5000_app_1_0")
        );
    }
}
