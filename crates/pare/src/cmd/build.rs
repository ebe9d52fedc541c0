//! `pare build IMAGE`: a minified single-layer image holding only what the app used,
//! verified to answer the probes as the original does.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use pare_image::{ImageRef, ReadContext};
use pare_minify::keep_set::KeepRules;
use pare_minify::{BuildOptions, ContinueAfter, ExecEntrypoint, Output, Probe, RuntimeChoice};

use crate::globals::Globals;
use crate::output::{emit, pretty};
use crate::render::build::summary;

/// `--network`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum NetworkArg {
    Private,
    Host,
}

/// `--keep`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum KeepArg {
    Reachable,
    Traced,
}

/// `--seccomp`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SeccompArg {
    Families,
    Learned,
    DockerDefault,
}

/// `--runtime`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Runtime {
    Auto,
    Docker,
    Oci,
}

#[derive(clap::Args)]
pub struct BuildArgs {
    /// The image to minify: NAME[:TAG] or docker-daemon:NAME in the Docker engine, or
    /// docker-archive:PATH, oci:DIR[:TAG], oci-archive:PATH, docker://REGISTRY/NAME[:TAG],
    /// containers-storage:NAME (loaded into the engine under a temporary tag to run it
    /// and removed afterwards; or, without an engine, unpacked for runc).
    pub image: String,
    /// An HTTP probe, `METHOD /path [BODY]` (repeatable). A body is sent with the
    /// Content-Type of its kind: JSON (`{...}`, `[...]`), a form (`name=value&n2=v2`:
    /// application/x-www-form-urlencoded), else text/plain. With no probe of any kind,
    /// pare sends `GET /` if the port answers in HTTP.
    #[arg(long = "probe", value_name = "PROBE", help_heading = "Probes")]
    pub probes: Vec<String>,
    /// A JSON file with a list of probes. HTTP: {"kind": "http", "method": "POST",
    /// "path": "/api/items", "headers": {"Name": "value"} or [["Name", "value"], ...],
    /// "body": "text" or any JSON value, "expect_status": 201} (headers, body and
    /// expect_status optional; a body without a Content-Type header gets one as with
    /// --probe; without expect_status, a 4xx or 5xx of the original is pointed out).
    /// Exec: {"kind": "exec", "command": ["psql", "-c", "select 1"]}.
    #[arg(long, value_name = "FILE", help_heading = "Probes")]
    pub probe_file: Option<PathBuf>,
    /// A command run inside the container as a probe, as the image's user (repeatable).
    /// In the original it is traced like the app; its output and exit code are compared.
    /// For a CLI image (no port, or --run-args), it is a run of the image of its own,
    /// the command replacing ENTRYPOINT and CMD (see --exec-entrypoint). It may start
    /// with `-` (arguments for --exec-entrypoint): `--exec '-r .name file.json'`.
    #[arg(
        long = "exec",
        allow_hyphen_values = true,
        value_name = "COMMAND",
        help_heading = "Probes"
    )]
    pub exec: Vec<String>,
    /// What every exec probe's command (--exec, and --probe-file's exec entries) runs
    /// under, as `docker run --entrypoint PROGRAM IMAGE COMMAND` runs it: PROGRAM (with
    /// any first arguments, e.g. `'sh -c'`) then the command's words; `image` for the
    /// image's own ENTRYPOINT, e.g. a docker-entrypoint.sh that sets up and runs its
    /// arguments. Traced, compared and named in the report with it. In a service
    /// image it prefixes the command run in the container the same way.
    #[arg(long, value_name = "PROGRAM", help_heading = "Probes")]
    pub exec_entrypoint: Option<String>,
    /// Send no HTTP request of pare's choosing (no default `GET /`, none of pare's own
    /// probes): for services that do not speak HTTP and are exercised by --exec probes
    /// or by hand.
    #[arg(long, help_heading = "Probes")]
    pub no_http: bool,
    /// Send none of pare's own probes. By default, after the user's HTTP probes pare
    /// sends its own, traced and verified like them, to reach the app's error
    /// handlers: GET of a missing path, DELETE on a probed GET path, each probed
    /// POST/PUT/PATCH with a body its content type cannot parse, and HEAD of each
    /// probed GET path. The report marks them "origin": "pare".
    #[arg(long, help_heading = "Probes")]
    pub no_pare_probes: bool,
    /// A command that succeeds once the app is ready, run (repeatedly) after its port
    /// accepts connections, e.g. `pg_isready`.
    #[arg(long, value_name = "COMMAND", help_heading = "Probes")]
    pub ready_exec: Option<String>,
    /// After the probes, follow same-origin links (href/src) from the pages they got,
    /// breadth-first, and send GET to each; the slim image gets the same requests.
    #[arg(long, help_heading = "Probes")]
    pub crawl: bool,
    /// The most pages the crawl requests.
    #[arg(long, default_value_t = 50, value_name = "N", help_heading = "Probes")]
    pub crawl_limit: usize,
    /// For CLI images: arguments that replace CMD; running to completion is the probe.
    /// (They may start with `-`: `--run-args '-n 1+1'`.) Repeatable: each is a run of
    /// its own, traced and compared.
    #[arg(
        long,
        allow_hyphen_values = true,
        value_name = "ARGS",
        help_heading = "Probes"
    )]
    pub run_args: Vec<String>,
    /// The port to probe on 127.0.0.1 (default: the first exposed TCP port).
    #[arg(long, help_heading = "Probes")]
    pub port: Option<u16>,
    /// Seconds to wait for the app to open its port (or, for CLI images, to finish).
    #[arg(long, default_value_t = 60, help_heading = "Probes")]
    pub timeout: u64,
    /// When to stop tracing: `probes` (default); after the probes, `enter` (a key press),
    /// `signal` (SIGUSR1 to pare: `kill -USR1 PID`), or a number of seconds.
    #[arg(long, default_value = "probes", help_heading = "Probes")]
    pub continue_after: String,
    /// Keep this path (a directory: everything below it) (repeatable).
    #[arg(
        long = "include-path",
        value_name = "PATH",
        help_heading = "What to keep"
    )]
    pub include_path: Vec<String>,
    /// A file listing paths to keep, one per line.
    #[arg(long, help_heading = "What to keep")]
    pub include_path_file: Option<PathBuf>,
    /// Keep this program and the libraries it loads (repeatable).
    #[arg(
        long = "include-bin",
        value_name = "PROGRAM",
        help_heading = "What to keep"
    )]
    pub include_bin: Vec<String>,
    /// Keep /bin/sh (left out by default).
    #[arg(long, help_heading = "What to keep")]
    pub include_shell: bool,
    /// What the slim image keeps: `reachable` (what the trace saw, plus what the app
    /// can reach without the probes reaching it: the files COPY/ADD put in the image
    /// and the app's own directories, what servers are set up to serve, the static
    /// import closure of kept Python, Node and Ruby code, and whole sets of which one
    /// member was used: templates, time zones, codecs, plugins), or `traced` (only what
    /// the trace saw and what loading it needs: the smallest image, proven only on the
    /// probed paths).
    #[arg(
        long,
        value_enum,
        default_value = "reachable",
        help_heading = "What to keep"
    )]
    pub keep: KeepArg,
    /// Leave out paths matching GLOB even if used (repeatable).
    #[arg(long = "exclude", value_name = "GLOB", help_heading = "What to keep")]
    pub exclude: Vec<String>,
    /// The slim image's seccomp profile, which it is verified under: `families`
    /// (Docker's default narrowed to the syscall families the app used a member of),
    /// `learned` (only the syscalls the trace saw: strictest, proven only on the probed
    /// paths) or `docker-default`.
    #[arg(
        long,
        value_enum,
        default_value = "families",
        help_heading = "Verification"
    )]
    pub seccomp: SeccompArg,
    /// Skip running the slim image to compare its answers.
    #[arg(long, help_heading = "Verification")]
    pub no_verify: bool,
    /// Accept this difference between the original's and the slim image's answers
    /// (repeatable): a JSON path (`$.pid`, `$.items[*].id`), a header (`header:etag`),
    /// or a regex whose matches are removed from both bodies. What varies between the
    /// untraced reference runs of the original is accepted without it.
    #[arg(
        long = "verify-ignore",
        value_name = "PATTERN",
        help_heading = "Verification"
    )]
    pub verify_ignore: Vec<String>,
    /// How many untraced reference runs of the original the slim image is compared
    /// with; what varies between them is noise (2 learn it; more for flakier apps).
    #[arg(
        long,
        default_value_t = 2,
        value_name = "N",
        help_heading = "Verification"
    )]
    pub verify_runs: usize,
    /// What runs the containers: `auto` (the Docker engine when one answers, else runc
    /// or crun on an unpacked bundle), `docker`, or `oci` (runc/crun; an image in the
    /// engine is exported from it; the slim image then goes to an OCI layout in the
    /// report directory instead of the engine, besides any --output).
    #[arg(
        long,
        value_enum,
        default_value = "auto",
        help_heading = "Running and limits"
    )]
    pub runtime: Runtime,
    /// The containers' network: `private` (a namespace of their own with loopback only;
    /// pare enters it to probe; the default as root) or `host` (the host's network:
    /// the app can reach the host's services, and pare checks that the probed port is
    /// free first; the default otherwise).
    #[arg(long, value_enum, help_heading = "Running and limits")]
    pub network: Option<NetworkArg>,
    /// The most processes (and threads) the app may have.
    #[arg(
        long,
        default_value_t = 4096,
        value_name = "N",
        help_heading = "Running and limits"
    )]
    pub max_pids: u32,
    /// The most memory the app may use, e.g. 512m, 4g.
    #[arg(
        long,
        default_value = "4g",
        value_name = "SIZE",
        help_heading = "Running and limits"
    )]
    pub max_memory: String,
    /// The most the app may write to its filesystem while it runs, e.g. 2g.
    #[arg(
        long,
        default_value = "2g",
        value_name = "SIZE",
        help_heading = "Running and limits"
    )]
    pub max_disk: String,
    /// Tag for the slim image in the Docker engine (default: NAME:TAG-slim).
    #[arg(long, help_heading = "Outputs")]
    pub tag: Option<String>,
    /// Also write the slim image here: docker-archive:PATH, oci:DIR[:TAG], or
    /// docker://REGISTRY/NAME[:TAG] (pushed once verified) (repeatable).
    #[arg(long = "output", value_name = "REF", help_heading = "Outputs")]
    pub outputs: Vec<String>,
    /// Do not attach the evidence (SBOM, OpenVEX, seccomp profile, report, SLSA
    /// provenance) to a slim image pushed to a registry as OCI referrers.
    #[arg(long, help_heading = "Outputs")]
    pub no_attach: bool,
    /// Where the report and the seccomp profile go (default: ./pare-build/NAME, or
    /// ./pare-build/TAG with --tag, so that two builds of one image to two tags keep
    /// both).
    #[arg(long, help_heading = "Outputs")]
    pub report_dir: Option<PathBuf>,
    /// The advisory database to prove which vulnerabilities the slim image is rid of
    /// (default: the one `pare db update` keeps); without one, no VEX is written.
    #[arg(long, value_name = "FILE", help_heading = "Outputs")]
    pub db: Option<PathBuf>,
    /// Print the report as JSON instead of the summary.
    #[arg(long, help_heading = "Outputs")]
    pub json: bool,
    /// Also write a self-contained HTML page (no network needed) to FILE: the report
    /// over what the slim image removed, by directory and by package.
    #[arg(long, value_name = "FILE", help_heading = "Outputs")]
    pub html: Option<PathBuf>,
}

pub fn run(args: BuildArgs, globals: &Globals) -> anyhow::Result<ExitCode> {
    let context = &globals.read;
    let quiet = args.json || globals.quiet;
    // Without root, runc runs in a user namespace of pare's own: pare starts again in
    // it before it makes anything.
    if pare_runtime::userns::needed()
        && pare_minify::backend::would_be_oci(args.runtime_choice(), &ImageRef::parse(&args.image)?)
    {
        pare_runtime::userns::reexec()
            .with_context(|| format!("building a slim image of {}", args.image))?;
    }
    let options = args.resolve(context)?;
    let image = options.image.clone();
    let report_dir = options.report_dir.clone();
    let reporter = crate::progress::Terminal::new(crate::progress::Show::choose(quiet));
    let result = pare_minify::build(&options, &reporter);
    drop(reporter);
    drop(options);
    let report = result.with_context(|| format!("building a slim image of {image}"))?;
    let report_path = report_dir.join("report.json");
    std::fs::write(&report_path, serde_json::to_vec_pretty(&report)?)
        .with_context(|| format!("writing {}", report_path.display()))?;
    if args.json {
        emit(&pretty(&report)?, None)?;
    } else {
        emit(&summary(&report, &report_path), None)?;
    }
    if let Some(path) = &args.html {
        build_page(globals, &report, path)?;
    }
    if !args.no_attach {
        crate::evidence::attach_build_evidence(
            globals,
            &args.provenance_options(),
            &report,
            &report_path,
        )?;
    }
    let verified = report.verification.as_ref().is_none_or(|v| v.passed);
    Ok(if verified {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The build's options, and the work directory they point into (removed when this
/// drops, or by the Ctrl-C handler).
struct Resolved {
    options: BuildOptions,
    _work: tempfile::TempDir,
    _on_interrupt: pare_runtime::cleanup::Registration,
}

impl std::ops::Deref for Resolved {
    type Target = BuildOptions;
    fn deref(&self) -> &BuildOptions {
        &self.options
    }
}

impl BuildArgs {
    fn runtime_choice(&self) -> RuntimeChoice {
        match self.runtime {
            Runtime::Auto => RuntimeChoice::Auto,
            Runtime::Docker => RuntimeChoice::Docker,
            Runtime::Oci => RuntimeChoice::Oci,
        }
    }

    /// Turns the command line into checked build options: probes parsed, files read,
    /// the default tag and report directory chosen, the work directory made.
    fn resolve(&self, context: &ReadContext) -> anyhow::Result<Resolved> {
        let image = ImageRef::parse(&self.image)?;
        let name = &pare_minify::options::display_name(context, &image)
            .with_context(|| format!("reading {image}"))?;
        let tag = self
            .tag
            .clone()
            .unwrap_or_else(|| pare_minify::options::default_tag(name));
        let mut outputs = vec![Output::Engine { tag: tag.clone() }];
        for text in &self.outputs {
            outputs.push(Output::parse(text, &tag)?);
        }
        let work = tempfile::Builder::new()
            .prefix("pare-build-")
            .tempdir()
            .context("creating a work directory")?;
        let on_interrupt = pare_runtime::cleanup::register_dir(work.path().to_owned());
        let (probes, mut exec_probes) = self.probes()?;
        for command in &self.exec {
            exec_probes.push(split_words("--exec", command)?);
        }
        let exec_entrypoint = match self.exec_entrypoint.as_deref() {
            None => None,
            Some(_) if exec_probes.is_empty() => {
                bail!("--exec-entrypoint: there is no exec probe to run under it (give --exec)")
            }
            Some("image") => Some(ExecEntrypoint::Image),
            Some(program) => Some(ExecEntrypoint::Program(split_words(
                "--exec-entrypoint",
                program,
            )?)),
        };
        let options = BuildOptions {
            image,
            context: context.clone(),
            probes,
            exec_probes,
            exec_entrypoint,
            no_http: self.no_http,
            pare_probes: !self.no_pare_probes,
            ready_exec: self
                .ready_exec
                .as_deref()
                .map(|c| split_words("--ready-exec", c))
                .transpose()?,
            run_args: self
                .run_args
                .iter()
                .map(|a| split_words("--run-args", a))
                .collect::<anyhow::Result<_>>()?,
            port: self.port,
            start_timeout: Duration::from_secs(self.timeout),
            continue_after: ContinueAfter::parse(&self.continue_after)?,
            rules: KeepRules {
                include_paths: self.include_paths()?,
                include_bins: self.include_bin.clone(),
                include_shell: self.include_shell,
                exclude: self.exclude.clone(),
                ..Default::default()
            },
            keep: match self.keep {
                KeepArg::Reachable => pare_minify::reach::KeepMode::Reachable,
                KeepArg::Traced => pare_minify::reach::KeepMode::Traced,
            },
            seccomp: match self.seccomp {
                SeccompArg::Families => pare_minify::seccomp::SeccompMode::Families,
                SeccompArg::Learned => pare_minify::seccomp::SeccompMode::Learned,
                SeccompArg::DockerDefault => pare_minify::seccomp::SeccompMode::DockerDefault,
            },
            verify: !self.no_verify,
            verify_ignore: pare_minify::noise::Ignore::parse(&self.verify_ignore)
                .map_err(anyhow::Error::msg)?,
            verify_runs: self.verify_runs.max(1),
            outputs,
            report_dir: self
                .report_dir
                .clone()
                .unwrap_or_else(|| default_report_dir(self.tag.as_deref(), name)),
            work_dir: work.path().to_owned(),
            sensor: pare_sensor_blob::sensor_bytes(),
            crawl: self.crawl.then_some(self.crawl_limit),
            network: match self.network {
                Some(NetworkArg::Private) => pare_runtime::Network::Private,
                Some(NetworkArg::Host) => pare_runtime::Network::Host,
                None => pare_runtime::Network::best_available(),
            },
            advisory_db: self.db.clone(),
            limits: pare_runtime::Limits {
                pids: self.max_pids,
                memory: crate::units::parse_size("--max-memory", &self.max_memory)?,
                disk: crate::units::parse_size("--max-disk", &self.max_disk)?,
            },
            runtime: self.runtime_choice(),
        };
        Ok(Resolved {
            options,
            _work: work,
            _on_interrupt: on_interrupt,
        })
    }

    /// The options that decided what the slim image keeps, for the provenance's
    /// external parameters (probes are listed from the report, as run).
    pub(crate) fn provenance_options(&self) -> serde_json::Value {
        serde_json::json!({
            "keep": format!("{:?}", self.keep).to_lowercase(),
            "seccomp": format!("{:?}", self.seccomp).to_lowercase(),
            "includePaths": self.include_path,
            "includePathFile": self.include_path_file,
            "includeBins": self.include_bin,
            "includeShell": self.include_shell,
            "exclude": self.exclude,
            "exec": self.exec,
            "execEntrypoint": self.exec_entrypoint,
            "runArgs": self.run_args,
            "probeFile": self.probe_file,
            "noHttp": self.no_http,
            "noPareProbes": self.no_pare_probes,
            "crawl": self.crawl.then_some(self.crawl_limit),
            "verify": !self.no_verify,
            "verifyIgnore": self.verify_ignore,
        })
    }

    /// The HTTP probes (`--probe`s, then those of `--probe-file`) and the exec probes
    /// of `--probe-file`.
    fn probes(&self) -> anyhow::Result<(Vec<Probe>, Vec<Vec<String>>)> {
        let mut probes = Vec::new();
        let mut exec = Vec::new();
        for p in &self.probes {
            probes.push(Probe::parse_http(p).map_err(anyhow::Error::msg)?);
        }
        if let Some(file) = &self.probe_file {
            let listed = pare_minify::probe_file::read(file)?;
            probes.extend(listed.http);
            exec.extend(listed.exec);
        }
        Ok((probes, exec))
    }

    /// `--include-path`s, then the lines of `--include-path-file`.
    fn include_paths(&self) -> anyhow::Result<Vec<String>> {
        let mut paths = self.include_path.clone();
        if let Some(file) = &self.include_path_file {
            paths.extend(KeepRules::read_include_path_file(file)?);
        }
        Ok(paths)
    }
}

fn split_words(flag: &str, text: &str) -> anyhow::Result<Vec<String>> {
    shlex::split(text)
        .filter(|v| !v.is_empty())
        .with_context(|| format!("{flag} {text:?}: cannot split into words"))
}

/// `pare build --html FILE`: the build report over the diff of the original and the
/// slim image (each read again, once).
fn build_page(
    globals: &crate::globals::Globals,
    report: &pare_minify::BuildReport,
    html: &std::path::Path,
) -> anyhow::Result<()> {
    let slim = report
        .outputs
        .first()
        .context("the build wrote no slim image to compare with")?;
    let d = crate::read::diff(
        globals,
        &crate::advisories::Advisories::none(),
        &pare_image::ImageRef::parse(&report.source)?,
        &pare_image::ImageRef::parse(slim)?,
    )
    .context("comparing the original and the slim image for the HTML report")?;
    emit(&crate::render::html::build::build(report, &d)?, Some(html))
}

/// `./pare-build/NAME` for the image NAME, or `./pare-build/TAG` when `--tag` names
/// the slim image: two builds of one image to two tags keep both reports.
fn default_report_dir(tag: Option<&str>, name: &str) -> PathBuf {
    pare_minify::options::default_report_dir(tag.unwrap_or(name))
}

#[cfg(test)]
mod tests {
    #[test]
    fn sizes_read_like_dockers() {
        let size = |t| crate::units::parse_size("--max-disk", t).map_err(|e| e.to_string());
        assert_eq!(size("4g"), Ok(4 << 30));
        assert_eq!(size("512M"), Ok(512 << 20));
        assert_eq!(size("100kb"), Ok(100 << 10));
        assert_eq!(size("1000"), Ok(1000));
        assert!(size("lots").unwrap_err().contains("--max-disk"));
        assert!(size("0").is_err());
        assert!(size("99999999999t").is_err());
    }

    #[test]
    fn a_tag_gives_the_report_its_own_directory() {
        let dir = super::default_report_dir;
        assert_eq!(
            dir(None, "pare-test/flask:latest"),
            std::path::Path::new("pare-build/pare-test_flask_latest")
        );
        assert_eq!(
            dir(Some("pare-test/flask:small"), "pare-test/flask:latest"),
            std::path::Path::new("pare-build/pare-test_flask_small")
        );
    }
}
