//! Checking RUN scripts with shellcheck, when it is installed, and reporting its
//! findings at the Dockerfile's own lines and columns.
//!
//! Each distinct script is checked once per run (the same RUN line is common across
//! a repo's Dockerfiles), and not at all when [`Cache`] holds its result from an
//! earlier run. The rest go to one shellcheck process per core (one file each, in a
//! temporary directory), so a hundred Dockerfiles cost a start-up per core, not a
//! thousand.
//! Like hadolint, the stage's ARG and ENV names are declared first (so `$VERSION` is
//! not "referenced but not assigned"), and SC1090/SC1091 (sourced files that cannot be
//! followed) and SC2187 (ash) are left out.

mod cache;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

pub use cache::Cache;

use crate::finding::{Finding, Location, Severity};
use crate::instruction::Instruction;
use crate::rules::run::{Origin, Part};

/// Codes left out, as hadolint does.
const EXCLUDED: &str = "SC1090,SC1091,SC2187";

/// The environment variable GHC programs read runtime options from. It is meant for
/// the user's own Haskell programs; Debian's shellcheck is linked without
/// `-rtsopts` and refuses to start when it is set, so it is never passed on.
pub(crate) const GHC_RUNTIME_OPTIONS: &str = "GHCRTS";

/// The flags every check runs with (the file names follow).
pub const FLAGS: [&str; 4] = ["--format=json1", "--norc", "--exclude", EXCLUDED];

/// One script to check.
#[derive(Clone, Debug)]
pub struct Job {
    /// The Dockerfile's name, for the findings.
    pub path: String,
    pub instruction: Instruction,
    pub part: Part,
    /// shellcheck's dialect: sh, bash, dash or ksh.
    pub dialect: &'static str,
    /// Variable names to declare before the script.
    pub vars: Vec<String>,
}

/// A line of the script handed to shellcheck: ours (header) or from the part's text.
enum Line {
    Header,
    /// Starts at this byte offset of the part's text.
    Text(usize),
}

impl Job {
    fn script(&self) -> (String, Vec<Line>) {
        let mut out = String::new();
        let mut map = Vec::new();
        let mut rest = self.part.text.as_str();
        let mut offset = 0;
        if rest.starts_with("#!") {
            let end = rest.find('\n').map_or(rest.len(), |i| i + 1);
            out.push_str(&rest[..end]);
            map.push(Line::Text(0));
            offset = end;
            rest = &rest[end..];
        } else {
            out.push_str(&format!("#!/bin/{}\n", self.dialect));
            map.push(Line::Header);
        }
        for v in &self.vars {
            out.push_str(&format!("export {v}=1\n"));
            map.push(Line::Header);
        }
        for line in rest.split_inclusive('\n') {
            map.push(Line::Text(offset));
            offset += line.len();
        }
        out.push_str(rest);
        out.push('\n');
        (out, map)
    }
}

/// shellcheck's dialect for a SHELL, or `None` when it cannot check that shell.
pub fn dialect(shell: &[String]) -> Option<&'static str> {
    let first = shell.first()?;
    match first.rsplit('/').next().unwrap_or(first) {
        "sh" | "ash" | "busybox" => Some("sh"),
        "bash" => Some("bash"),
        "dash" => Some("dash"),
        "ksh" | "mksh" => Some("ksh"),
        _ => None,
    }
}

/// Finds `shellcheck` on PATH.
pub fn find() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("shellcheck"))
        .find(|p| p.is_file())
}

/// Why shellcheck could not be run.
#[derive(Debug, thiserror::Error)]
pub enum ShellcheckError {
    #[error("cannot run {program}")]
    Spawn {
        program: String,
        source: std::io::Error,
    },
    #[error("shellcheck failed ({status}): {stderr}")]
    Failed { status: String, stderr: String },
    #[error("cannot read shellcheck's output")]
    Output(#[from] serde_json::Error),
    #[error("cannot write the scripts for shellcheck")]
    Io(#[from] std::io::Error),
}

impl pare_hint::Hint for ShellcheckError {
    fn hint(&self) -> Option<String> {
        match self {
            ShellcheckError::Spawn { .. } => Some(
                "apt-get install shellcheck, or pass --no-shellcheck to skip its findings knowingly"
                    .into(),
            ),
            _ => None,
        }
    }
}

#[derive(serde::Deserialize)]
struct Report {
    comments: Vec<Located>,
}

/// A comment and the file it is about.
#[derive(serde::Deserialize)]
struct Located {
    file: String,
    #[serde(flatten)]
    comment: Comment,
}

/// What shellcheck says about a place in one script.
#[derive(Clone, Debug, serde::Deserialize, serde::Serialize)]
pub(crate) struct Comment {
    line: usize,
    column: usize,
    level: String,
    code: u32,
    message: String,
}

/// Checks every job, each distinct script once, taking what `cache` holds and
/// saving what it lacks; each finding comes with its job's index.
pub fn run(
    program: &Path,
    jobs: &[Job],
    cache: Option<&Cache>,
) -> Result<Vec<(usize, Finding)>, ShellcheckError> {
    let mut scripts: Vec<String> = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut maps = Vec::with_capacity(jobs.len());
    let mut script_of = Vec::with_capacity(jobs.len());
    for job in jobs {
        let (text, map) = job.script();
        let k = *seen.entry(text).or_insert_with_key(|text| {
            scripts.push(text.clone());
            scripts.len() - 1
        });
        script_of.push(k);
        maps.push(map);
    }
    let mut results: Vec<Option<Vec<Comment>>> = scripts
        .iter()
        .map(|s| cache.and_then(|c| c.get(s)))
        .collect();
    let unknown: Vec<usize> = (0..scripts.len())
        .filter(|&k| results[k].is_none())
        .collect();
    for (k, comments) in check(program, &scripts, &unknown)? {
        if let Some(cache) = cache {
            cache.put(&scripts[k], &comments);
        }
        results[k] = Some(comments);
    }
    let mut findings = Vec::new();
    for (j, (job, map)) in jobs.iter().zip(&maps).enumerate() {
        let comments = results[script_of[j]].iter().flatten();
        findings.extend(comments.filter_map(|c| finding(job, map, c).map(|f| (j, f))));
    }
    Ok(findings)
}

/// Runs shellcheck on the scripts numbered `wanted`: their comments, by number
/// (every wanted script gets an entry, empty when shellcheck had nothing to say).
fn check(
    program: &Path,
    scripts: &[String],
    wanted: &[usize],
) -> Result<Vec<(usize, Vec<Comment>)>, ShellcheckError> {
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let dir = tempfile::Builder::new().prefix("pare-lint-").tempdir()?;
    let mut names = Vec::new();
    for &k in wanted {
        let name = format!("{k}.sh");
        std::fs::write(dir.path().join(&name), &scripts[k])?;
        names.push(name);
    }
    // shellcheck checks its files one after another: one process per core, each
    // with an equal share (and never an argument list too long for the system).
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let per_call = names.len().div_ceil(cores).clamp(1, 500);
    let outputs: Vec<Result<Report, ShellcheckError>> = std::thread::scope(|scope| {
        let calls: Vec<_> = names
            .chunks(per_call)
            .map(|chunk| scope.spawn(|| check_files(program, dir.path(), chunk)))
            .collect();
        calls
            .into_iter()
            .map(|c| {
                c.join().unwrap_or_else(|_| {
                    Err(ShellcheckError::Failed {
                        status: "panicked".into(),
                        stderr: String::new(),
                    })
                })
            })
            .collect()
    });
    let mut by_script: HashMap<usize, Vec<Comment>> =
        wanted.iter().map(|&k| (k, Vec::new())).collect();
    for report in outputs {
        for located in report?.comments {
            let k = located
                .file
                .strip_suffix(".sh")
                .and_then(|n| n.parse::<usize>().ok());
            if let Some(comments) = k.and_then(|k| by_script.get_mut(&k)) {
                comments.push(located.comment);
            }
        }
    }
    Ok(by_script.into_iter().collect())
}

fn check_files(program: &Path, dir: &Path, files: &[String]) -> Result<Report, ShellcheckError> {
    let output = Command::new(program)
        .env_remove(GHC_RUNTIME_OPTIONS)
        .current_dir(dir)
        .args(FLAGS)
        .args(files)
        .output()
        .map_err(|source| ShellcheckError::Spawn {
            program: program.display().to_string(),
            source,
        })?;
    // Exit 1 means "found something"; anything else is a failure.
    if !matches!(output.status.code(), Some(0 | 1)) {
        return Err(ShellcheckError::Failed {
            status: output.status.to_string(),
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        });
    }
    Ok(serde_json::from_slice(&output.stdout)?)
}

fn finding(job: &Job, map: &[Line], c: &Comment) -> Option<Finding> {
    let Line::Text(start) = map.get(c.line.checked_sub(1)?)? else {
        return None;
    };
    let text = &job.part.text[*start..];
    let in_line: usize = text
        .chars()
        .take(c.column.saturating_sub(1))
        .map(char::len_utf8)
        .sum();
    let pos = match job.part.origin {
        Origin::Exec => job.instruction.pos,
        _ => job.part.pos(&job.instruction, start + in_line),
    };
    let severity = match c.level.as_str() {
        "error" => Severity::Error,
        "warning" => Severity::Warning,
        "info" => Severity::Info,
        _ => Severity::Style,
    };
    Some(Finding {
        rule: format!("SC{}", c.code),
        name: "shellcheck".into(),
        severity,
        location: Location::file(
            &job.path,
            pos,
            job.instruction.pos.line..=job.instruction.end_line,
        ),
        message: c.message.clone(),
    })
}
