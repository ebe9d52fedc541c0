//! `pare lint [PATH…] [--image IMAGE]`: Dockerfile and image best practices.
//!
//! Files that cannot be read or parsed are reported (exit 2) without stopping the
//! others; findings at or above `--fail-on` give exit 1.

use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use pare_image::{ImageRef, ReadContext, ReadOptions};
use pare_lint::catalog;
use pare_lint::{Config, Finding, Options, Severity, Source, Threshold};
use pare_xray::XrayOptions;

use crate::output::{emit, pretty};
pub use crate::render::lint::Format;
use crate::render::lint::{Outcome, Problem, explain, findings, render, rule_list};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Color {
    Auto,
    Always,
    Never,
}

#[derive(clap::Args)]
pub struct LintArgs {
    /// Dockerfiles, or folders to search for Dockerfile*, *.Dockerfile and
    /// Containerfile; `-` reads standard input. Default: the current folder (unless
    /// --image is given).
    pub paths: Vec<PathBuf>,
    /// Check a built image's config and files (repeatable): NAME[:TAG],
    /// docker-daemon:NAME, docker-archive:PATH, oci:DIR[:TAG], docker://REGISTRY/NAME[:TAG],
    /// containers-storage:NAME.
    #[arg(long = "image", value_name = "IMAGE")]
    pub images: Vec<String>,
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Exit 1 when a finding is at or above this: error, warning, info, style or
    /// none. Default: the config's fail-on, else warning.
    #[arg(long, value_name = "SEVERITY")]
    pub fail_on: Option<String>,
    /// The config file (default: .pare.toml in the current folder or above).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Do not run shellcheck on RUN scripts even when it is installed.
    #[arg(long)]
    pub no_shellcheck: bool,
    /// Check every RUN script with shellcheck, even those whose result an earlier run
    /// kept (in $PARE_CACHE_DIR, else $XDG_CACHE_HOME/pare, else ~/.cache/pare), and
    /// keep nothing.
    #[arg(long)]
    pub no_cache: bool,
    /// Print what a rule checks and why, then exit.
    #[arg(long, value_name = "RULE")]
    pub explain: Option<String>,
    /// List every rule (as JSON with --format json), then exit.
    #[arg(long)]
    pub rules: bool,
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
}

pub fn run(args: LintArgs, context: &ReadContext) -> anyhow::Result<ExitCode> {
    if let Some(rule) = &args.explain {
        emit(&explain(rule)?, None)?;
        return Ok(ExitCode::SUCCESS);
    }
    if args.rules {
        if args.format == Format::Json {
            emit(&pretty(&catalog::RULES)?, None)?;
        } else {
            emit(&rule_list(), None)?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    let config = load_config(args.config.as_deref())?;
    let threshold = match &args.fail_on {
        Some(s) => s.parse::<Threshold>().context("--fail-on")?,
        None => config
            .threshold()?
            .unwrap_or(Threshold::At(Severity::Warning)),
    };
    let shellcheck_wanted = !args.no_shellcheck && config.shellcheck != Some(false);
    let shellcheck = shellcheck_wanted
        .then(pare_lint::shellcheck::find)
        .flatten();
    let shellcheck_cache = match args.no_cache {
        true => None,
        false => pare_vuln::db::cache_dir().map(|d| d.join("shellcheck")),
    };
    let options = Options {
        config,
        shellcheck,
        shellcheck_cache,
    };

    let mut outcome = Outcome::default();
    let sources = read_sources(&args, &mut outcome.problems)?;
    let report = pare_lint::lint(&sources, &options);
    if let Some(e) = &report.shellcheck_error {
        say!("pare: warning: shellcheck: {e}");
    }
    if shellcheck_wanted && report.unchecked_scripts > 0 {
        say!("{}", shellcheck_missing(report.unchecked_scripts));
    }
    outcome.files = report.files;
    for image in &args.images {
        match lint_image(context, image, &options.config) {
            Ok(found) => outcome.images.push((image.clone(), found)),
            Err(e) => outcome.problems.push(Problem {
                place: image.clone(),
                message: format!("{e:#}"),
            }),
        }
    }

    let color = match args.color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    };
    emit(&render(&outcome, args.format, color)?, None)?;
    let syntax_errors = outcome
        .files
        .iter()
        .filter_map(|f| f.error.as_ref().map(|e| (f.path.as_str(), e)));
    for (path, e) in syntax_errors {
        say!(
            "pare: error: {path}:{}:{}: {}",
            e.pos.line,
            e.pos.column,
            e.message
        );
    }
    for p in &outcome.problems {
        say!("pare: error: {}: {}", p.place, p.message);
    }
    let failed_inputs =
        !outcome.problems.is_empty() || outcome.files.iter().any(|f| f.error.is_some());
    let all: Vec<Finding> = findings(&outcome).into_iter().cloned().collect();
    Ok(if failed_inputs {
        ExitCode::from(2)
    } else if threshold.reached(&all) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// What pare says once when shellcheck is not on PATH: hadolint would report the
/// SC findings of these scripts, so their absence must not pass for a clean result.
fn shellcheck_missing(scripts: usize) -> String {
    let scripts = match scripts {
        1 => "1 RUN script".to_owned(),
        n => format!("{n} RUN scripts"),
    };
    format!(
        "pare: warning: shellcheck is not installed: its findings (SC codes) on {scripts} are skipped\n\
         hint: apt-get install shellcheck, or pass --no-shellcheck to skip them knowingly"
    )
}

fn load_config(given: Option<&Path>) -> anyhow::Result<Config> {
    let path = match given {
        Some(p) => Some(p.to_path_buf()),
        None => std::env::current_dir().ok().and_then(|cwd| {
            cwd.ancestors()
                .map(|d| d.join(".pare.toml"))
                .find(|p| p.is_file())
        }),
    };
    let Some(path) = path else {
        return Ok(Config::default());
    };
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    Ok(Config::parse(&text, &path.display().to_string())?)
}

fn read_sources(args: &LintArgs, problems: &mut Vec<Problem>) -> anyhow::Result<Vec<Source>> {
    let mut paths = args.paths.clone();
    if paths.is_empty() && args.images.is_empty() {
        paths.push(PathBuf::from("."));
    }
    let mut sources = Vec::new();
    for path in paths {
        if path.as_os_str() == "-" {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .context("reading standard input")?;
            sources.push(Source {
                path: "-".into(),
                text,
            });
            continue;
        }
        let files = if path.is_dir() {
            let found = pare_lint::discover::dockerfiles(&path)
                .with_context(|| format!("searching {}", path.display()))?;
            if found.is_empty() {
                problems.push(Problem {
                    place: path.display().to_string(),
                    message:
                        "no Dockerfile (Dockerfile*, *.Dockerfile, Containerfile) in this folder"
                            .into(),
                });
            }
            found
        } else {
            vec![path]
        };
        for file in files {
            let name = file
                .strip_prefix("./")
                .unwrap_or(&file)
                .display()
                .to_string();
            match std::fs::read(&file) {
                Ok(bytes) => sources.push(Source {
                    path: name,
                    text: String::from_utf8_lossy(&bytes).into_owned(),
                }),
                Err(e) => problems.push(Problem {
                    place: name,
                    message: format!("cannot read: {e}"),
                }),
            }
        }
    }
    Ok(sources)
}

fn lint_image(context: &ReadContext, image: &str, config: &Config) -> anyhow::Result<Vec<Finding>> {
    let reference = ImageRef::parse(image)?;
    let read = pare_image::read_image(context, &reference, &ReadOptions::default())
        .with_context(|| format!("reading {reference}"))?;
    let report = pare_xray::analyse(&read, &XrayOptions::default())?;
    Ok(config.apply(pare_lint::image::check(&report, image)))
}
