//! `pare build IMAGE`: a minified single-layer image holding only what the app used,
//! verified to answer the probes as the original does.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use pare_image::ImageRef;
use pare_minify::keep_set::KeepRules;
use pare_minify::{BuildOptions, BuildReport, ContinueAfter, Output, Probe, RuntimeChoice};

/// `--runtime`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Runtime {
    Auto,
    Docker,
    Oci,
}

use crate::units::{bytes, count};

#[derive(clap::Args)]
pub struct BuildArgs {
    /// The image to minify: NAME[:TAG] or docker-daemon:NAME in the Docker engine, or
    /// docker-archive:PATH, oci:DIR[:TAG], oci-archive:PATH (loaded into the engine under
    /// a temporary tag to run it and removed afterwards; or, without an engine, unpacked
    /// for runc).
    pub image: String,
    /// Tag for the slim image in the Docker engine (default: NAME:TAG-slim).
    #[arg(long)]
    pub tag: Option<String>,
    /// Also write the slim image here: docker-archive:PATH or oci:DIR[:TAG] (repeatable).
    #[arg(long = "output", value_name = "REF")]
    pub outputs: Vec<String>,
    /// An HTTP probe, `METHOD /path [BODY]` (repeatable; default `GET /`).
    #[arg(long = "probe", value_name = "PROBE")]
    pub probes: Vec<String>,
    /// A JSON file with a list of probes: {"kind":"http","method","path","headers","body","expect_status"}.
    #[arg(long)]
    pub probe_file: Option<PathBuf>,
    /// A command run inside the traced container as a probe (repeatable).
    #[arg(long = "exec", value_name = "COMMAND")]
    pub exec: Vec<String>,
    /// After the probes, follow same-origin links (href/src) from the pages they got,
    /// breadth-first, and send GET to each; the slim image gets the same requests.
    #[arg(long)]
    pub crawl: bool,
    /// The most pages the crawl requests.
    #[arg(long, default_value_t = 50, value_name = "N")]
    pub crawl_limit: usize,
    /// For CLI images: arguments that replace CMD; running to completion is the probe.
    /// (They may start with `-`: `--run-args '-n 1+1'`.)
    #[arg(long, allow_hyphen_values = true)]
    pub run_args: Option<String>,
    /// The port to probe on 127.0.0.1 (default: the first exposed TCP port).
    #[arg(long)]
    pub port: Option<u16>,
    /// Seconds to wait for the app to open its port (or, for CLI images, to finish).
    #[arg(long, default_value_t = 60)]
    pub timeout: u64,
    /// When to stop tracing: `probes` (default); after the probes, `enter` (a key press),
    /// `signal` (SIGUSR1 to pare: `kill -USR1 PID`), or a number of seconds.
    #[arg(long, default_value = "probes")]
    pub continue_after: String,
    /// Keep this path (a directory: everything below it) (repeatable).
    #[arg(long = "include-path", value_name = "PATH")]
    pub include_path: Vec<String>,
    /// A file listing paths to keep, one per line.
    #[arg(long)]
    pub include_path_file: Option<PathBuf>,
    /// Keep this program and the libraries it loads (repeatable).
    #[arg(long = "include-bin", value_name = "PROGRAM")]
    pub include_bin: Vec<String>,
    /// Keep /bin/sh (left out by default).
    #[arg(long)]
    pub include_shell: bool,
    /// Leave out paths matching GLOB even if used (repeatable).
    #[arg(long = "exclude", value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Skip running the slim image to compare its answers.
    #[arg(long)]
    pub no_verify: bool,
    /// A regex whose matches are ignored when comparing answers (repeatable).
    #[arg(long = "verify-ignore", value_name = "REGEX")]
    pub verify_ignore: Vec<String>,
    /// Where the report and the seccomp profile go (default: ./pare-build/NAME).
    #[arg(long)]
    pub report_dir: Option<PathBuf>,
    /// What runs the containers: `auto` (the Docker engine when one answers, else runc
    /// or crun on an unpacked bundle), `docker`, or `oci` (runc/crun, no engine needed;
    /// the slim image then goes to an OCI layout in the report directory instead of the
    /// engine, besides any --output).
    #[arg(long, value_enum, default_value = "auto")]
    pub runtime: Runtime,
    /// Print the report as JSON instead of the summary.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: BuildArgs) -> anyhow::Result<ExitCode> {
    let image = ImageRef::parse(&args.image)?;
    let name = &display_name(&image)?;
    let tag = args.tag.clone().unwrap_or_else(|| format!("{name}-slim"));
    let mut outputs = vec![Output::Engine { tag: tag.clone() }];
    for text in &args.outputs {
        outputs.push(parse_output(text, &tag)?);
    }
    let mut probes = Vec::new();
    for p in &args.probes {
        probes.push(Probe::parse_http(p).map_err(anyhow::Error::msg)?);
    }
    if let Some(file) = &args.probe_file {
        let text =
            std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
        let listed: Vec<Probe> = serde_json::from_str(&text)
            .with_context(|| format!("{}: not a JSON list of probes", file.display()))?;
        probes.extend(listed);
    }
    let exec_probes = args
        .exec
        .iter()
        .map(|c| {
            shlex::split(c)
                .filter(|v| !v.is_empty())
                .with_context(|| format!("--exec {c:?}: cannot split into words"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let run_args = match &args.run_args {
        Some(a) => Some(
            shlex::split(a)
                .with_context(|| format!("--run-args {a:?}: cannot split into words"))?,
        ),
        None => None,
    };
    let continue_after = match args.continue_after.as_str() {
        "probes" => ContinueAfter::Probes,
        "enter" => ContinueAfter::Enter,
        "signal" => ContinueAfter::Signal,
        secs => ContinueAfter::Timeout(Duration::from_secs(secs.parse().with_context(|| {
            format!("--continue-after {secs:?}: expected probes, enter, signal or seconds")
        })?)),
    };
    let mut include_paths = args.include_path.clone();
    if let Some(file) = &args.include_path_file {
        let text =
            std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
        include_paths.extend(
            text.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .map(str::to_owned),
        );
    }
    let verify_ignore = args
        .verify_ignore
        .iter()
        .map(|r| regex::Regex::new(r).with_context(|| format!("--verify-ignore {r:?}")))
        .collect::<anyhow::Result<Vec<_>>>()?;
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
    let report_dir = args
        .report_dir
        .clone()
        .unwrap_or_else(|| PathBuf::from("pare-build").join(slug));

    let work = tempfile::Builder::new()
        .prefix("pare-build-")
        .tempdir()
        .context("creating a work directory")?;
    pare_runtime::cleanup::register_path(work.path().to_owned());
    let options = BuildOptions {
        image: image.clone(),
        probes,
        exec_probes,
        run_args,
        port: args.port,
        start_timeout: Duration::from_secs(args.timeout),
        continue_after,
        rules: KeepRules {
            include_paths,
            include_bins: args.include_bin.clone(),
            include_shell: args.include_shell,
            exclude: args.exclude.clone(),
            ..Default::default()
        },
        verify: !args.no_verify,
        verify_ignore,
        outputs,
        report_dir: report_dir.clone(),
        work_dir: work.path().to_owned(),
        sensor: pare_sensor_blob::sensor_bytes(),
        crawl: args.crawl.then_some(args.crawl_limit),
        runtime: match args.runtime {
            Runtime::Auto => RuntimeChoice::Auto,
            Runtime::Docker => RuntimeChoice::Docker,
            Runtime::Oci => RuntimeChoice::Oci,
        },
    };
    let quiet = args.json;
    let result = pare_minify::build(&options, &mut |phase| {
        if !quiet {
            eprintln!("pare: {phase}…");
        }
    });
    pare_runtime::cleanup::forget_path(work.path());
    let report = result.with_context(|| format!("building a slim image of {image}"))?;
    let report_path = report_dir.join("report.json");
    std::fs::write(&report_path, serde_json::to_vec_pretty(&report)?)
        .with_context(|| format!("writing {}", report_path.display()))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", summary(&report, &report_path));
    }
    let verified = report.verification.as_ref().is_none_or(|v| v.passed);
    Ok(if verified {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// What to call the image in the default slim tag and report directory: its name in
/// the engine; for an archive or layout, the first tag it records (`docker save`'s
/// RepoTags, an OCI `:TAG`), else the file or directory name.
fn display_name(image: &ImageRef) -> anyhow::Result<String> {
    let (path, tag) = match image {
        ImageRef::DockerDaemon { name } => return Ok(name.clone()),
        ImageRef::DockerArchive { path, name } => (path, name.clone()),
        ImageRef::OciArchive { path, tag } => (path, tag.clone()),
        ImageRef::OciLayout { dir, tag } => (dir, tag.clone()),
        ImageRef::Registry { .. } => {
            // open_image says why this transport cannot be read.
            return Err(pare_image::open_image(image, None).err().map_or_else(
                || anyhow::anyhow!("{image}: not supported"),
                anyhow::Error::from,
            ));
        }
    };
    let opened = pare_image::open_image(image, None).with_context(|| format!("reading {image}"))?;
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

fn parse_output(text: &str, default_tag: &str) -> anyhow::Result<Output> {
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
        other => bail!("--output {other}: expected docker-archive:PATH or oci:DIR[:TAG]"),
    }
}

fn summary(r: &BuildReport, report_path: &std::path::Path) -> String {
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
    let phases: Vec<String> = pare_minify::pipeline::PHASES
        .iter()
        .filter_map(|p| {
            r.phases_ms
                .get(*p)
                .map(|ms| format!("{p} {:.1}s", *ms as f64 / 1000.0))
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
    if s.chars().count() > 120 {
        format!("{}…", s.chars().take(119).collect::<String>())
    } else {
        s.to_owned()
    }
}
