//! pare-lint: best-practice checks for Dockerfiles and built images.
//!
//! [`lint`] parses each Dockerfile (see [`parse`] for why the parser is ours), runs
//! the rules of [`catalog::RULES`], runs shellcheck once over every RUN script when it
//! is installed, then applies inline ignores and the config. A file with a syntax
//! error gets that error and no findings; the other files are linted as usual.
//! [`image::check`] applies the image rules to an xray report.

pub mod catalog;
pub mod config;
pub mod discover;
pub mod dockerfile;
pub mod expand;
pub mod finding;
pub mod format;
pub mod ignore;
pub mod image;
pub mod image_name;
pub mod instruction;
pub mod parse;
pub mod position;
pub mod reader;
mod rules;
pub mod secrets;
pub mod shell;
pub mod shellcheck;

use std::path::PathBuf;

pub use config::{Config, Threshold};
pub use finding::{Finding, Location, Severity};
pub use parse::SyntaxError;
pub use reader::parse;

/// A Dockerfile to lint: its name (as shown in findings) and text.
#[derive(Clone, Debug)]
pub struct Source {
    pub path: String,
    pub text: String,
}

/// How to lint.
#[derive(Clone, Debug, Default)]
pub struct Options {
    pub config: Config,
    /// The shellcheck program to run on RUN scripts; `None` skips it.
    pub shellcheck: Option<PathBuf>,
    /// The folder where shellcheck's results are kept between runs (see
    /// [`shellcheck::Cache`]); `None` checks every script afresh and saves nothing.
    pub shellcheck_cache: Option<PathBuf>,
}

/// The outcome for one file.
#[derive(Clone, Debug, serde::Serialize)]
pub struct FileReport {
    pub path: String,
    pub findings: Vec<Finding>,
    /// Set when the file could not be parsed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<SyntaxError>,
}

/// The outcome for all files.
#[derive(Clone, Debug, Default)]
pub struct Report {
    pub files: Vec<FileReport>,
    /// shellcheck was asked for but could not run.
    pub shellcheck_error: Option<String>,
    /// How many RUN scripts shellcheck would have checked had [`Options::shellcheck`]
    /// named a program (0 when it did): what a caller that looked for shellcheck and
    /// found none has to tell its user was skipped.
    pub unchecked_scripts: usize,
}

impl serde::Serialize for SyntaxError {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("SyntaxError", 3)?;
        st.serialize_field("line", &self.pos.line)?;
        st.serialize_field("column", &self.pos.column)?;
        st.serialize_field("message", &self.message)?;
        st.end()
    }
}

/// Lints Dockerfiles.
pub fn lint(sources: &[Source], options: &Options) -> Report {
    let mut report = Report::default();
    let mut jobs = Vec::new();
    let mut ignores = Vec::new();
    for (k, source) in sources.iter().enumerate() {
        let file = match parse(&source.text) {
            Ok(f) => f,
            Err(error) => {
                report.files.push(FileReport {
                    path: source.path.clone(),
                    findings: Vec::new(),
                    error: Some(error),
                });
                ignores.push(ignore::Ignores::default());
                continue;
            }
        };
        let mut check = rules::Check::new(&file, &source.path, &options.config.trusted_registries);
        check.run_all();
        jobs.extend(shellcheck_jobs(&check, k));
        ignores.push(ignore::Ignores::collect(&file));
        report.files.push(FileReport {
            path: source.path.clone(),
            findings: check.findings,
            error: None,
        });
    }
    if let Some(program) = &options.shellcheck {
        let (owners, jobs): (Vec<usize>, Vec<shellcheck::Job>) = jobs.into_iter().unzip();
        let cache = options
            .shellcheck_cache
            .as_deref()
            .filter(|_| !jobs.is_empty())
            .and_then(|dir| shellcheck::Cache::new(dir, program, &shellcheck::FLAGS));
        match shellcheck::run(program, &jobs, cache.as_ref()) {
            Ok(found) => {
                for (job, f) in found {
                    if let Some(file) = owners.get(job).and_then(|&o| report.files.get_mut(o)) {
                        file.findings.push(f);
                    }
                }
            }
            Err(e) => report.shellcheck_error = Some(pare_hint::with_causes(&e)),
        }
    } else {
        report.unchecked_scripts = jobs.len();
    }
    for (file, ignores) in report.files.iter_mut().zip(&ignores) {
        let kept: Vec<Finding> = std::mem::take(&mut file.findings)
            .into_iter()
            .filter(|f| !ignores.covers(f))
            .collect();
        file.findings = options.config.apply(kept);
        sort(&mut file.findings);
    }
    report
}

fn sort(findings: &mut Vec<Finding>) {
    let key = |f: &Finding| match &f.location {
        Location::File { line, column, .. } => (*line, *column),
        Location::Image { .. } => (0, 0),
    };
    findings.sort_by(|a, b| key(a).cmp(&key(b)).then_with(|| a.rule.cmp(&b.rule)));
    findings.dedup();
}

/// Variables every build has (BuildKit's proxy arguments).
const PREDEFINED: [&str; 8] = [
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "FTP_PROXY",
    "ftp_proxy",
    "NO_PROXY",
    "no_proxy",
];

fn shellcheck_jobs(check: &rules::Check, owner: usize) -> Vec<(usize, shellcheck::Job)> {
    let file = check.file;
    let mut out = Vec::new();
    for run in &check.runs {
        let ins = &file.instructions[run.instruction];
        let Some(dialect) = shellcheck::dialect(&file.shell_at(run.instruction)) else {
            continue;
        };
        let vars: Vec<String> = file
            .vars_at(run.instruction)
            .keys()
            .cloned()
            .chain(PREDEFINED.iter().map(|s| s.to_string()))
            .collect();
        for part in &run.parts {
            let usable = match part.origin {
                rules::run::Origin::Args { .. } => ins.effective().heredocs.is_empty(),
                rules::run::Origin::Heredoc { .. } => true,
                rules::run::Origin::Exec => false,
            };
            if usable {
                out.push((
                    owner,
                    shellcheck::Job {
                        path: check.path.to_owned(),
                        instruction: ins.clone(),
                        part: part.clone(),
                        dialect,
                        vars: vars.clone(),
                    },
                ));
            }
        }
    }
    out
}
