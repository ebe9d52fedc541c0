//! Language and non-Debian package managers: pip's cache and pins, apk's cache and
//! pins, yum/dnf's `-y` and cache cleaning.

use super::apt::says_yes;
use super::run::RunScript;
use super::{Check, list};
use crate::shell::Command;

pub fn check(c: &mut Check) {
    let mut out: Vec<(usize, crate::position::Pos, &str, String)> = Vec::new();
    for run in &c.runs {
        for (part, cmd) in run.commands() {
            let pos = run.pos(c.file, part, cmd);
            let mut push =
                |id: &'static str, msg: String| out.push((run.instruction, pos, id, msg));
            if let Some(args) = pip_install(cmd) {
                if !pip_no_cache(c, run, cmd, args) {
                    push("PL207", "`pip install` without `--no-cache-dir` keeps pip's download cache in the layer".into());
                }
                let unpinned = pip_unpinned(args);
                if !unpinned.is_empty() {
                    push(
                        "PL208",
                        format!(
                            "{} installed by pip without a version (`name==version`)",
                            list(&unpinned)
                        ),
                    );
                }
            }
            if cmd.name() == "apk" && first_operand(cmd.args()) == Some("add") {
                let cached = run
                    .cache_targets(c.file)
                    .iter()
                    .any(|t| t.starts_with("/var/cache/apk"));
                if !cmd.has_any(&["--no-cache"]) && !cached {
                    push(
                        "PL209",
                        "`apk add` without `--no-cache` leaves the index in /var/cache/apk".into(),
                    );
                }
                let unpinned = apk_unpinned(cmd.args());
                if !unpinned.is_empty() {
                    push(
                        "PL210",
                        format!(
                            "{} added without a version (`package=version`)",
                            list(&unpinned)
                        ),
                    );
                }
            }
            if let Some(tool) = yum_like_install(cmd) {
                if tool != "microdnf" && !says_yes(cmd, &["--assumeyes"]) {
                    push(
                        "PL212",
                        format!("`{tool} install` without `-y` stops at the confirmation prompt"),
                    );
                }
                if !cleans_cache(c, run, tool) {
                    push(
                        "PL211",
                        format!(
                            "`{tool} install` without `{tool} clean all` in the same RUN leaves its cache in the layer"
                        ),
                    );
                }
            }
        }
    }
    for (i, pos, id, msg) in out {
        c.report(id, i, pos, msg);
    }
}

fn first_operand(args: &[String]) -> Option<&str> {
    args.iter()
        .find(|a| !a.starts_with('-'))
        .map(String::as_str)
}

/// The arguments after `install` for `pip install …`, `pip3 install`, `python -m pip install`.
fn pip_install(cmd: &Command) -> Option<&[String]> {
    let name = cmd.name();
    let args = cmd.args();
    let rest = if is_pip(name) {
        args
    } else if name.starts_with("python")
        && args.first().is_some_and(|a| a == "-m")
        && args.get(1).is_some_and(|a| is_pip(a))
    {
        &args[2..]
    } else {
        return None;
    };
    let at = rest.iter().position(|a| !a.starts_with('-'))?;
    (rest[at] == "install").then(|| &rest[at + 1..])
}

fn is_pip(name: &str) -> bool {
    name == "pip"
        || name
            .strip_prefix("pip")
            .is_some_and(|v| !v.is_empty() && v.chars().all(|c| c.is_ascii_digit() || c == '.'))
}

fn pip_no_cache(c: &Check, run: &RunScript, cmd: &Command, args: &[String]) -> bool {
    let env_says =
        |v: Option<&str>| v.is_some_and(|v| !matches!(v, "" | "0" | "false" | "off" | "no"));
    args.iter().any(|a| a == "--no-cache-dir")
        || cmd.assignments.iter().any(|a| {
            a.split_once('=')
                .is_some_and(|(k, v)| k == "PIP_NO_CACHE_DIR" && env_says(Some(v)))
        })
        || env_says(
            c.file
                .vars_at(run.instruction)
                .get("PIP_NO_CACHE_DIR")
                .and_then(|v| v.as_deref()),
        )
        || run
            .cache_targets(c.file)
            .iter()
            .any(|t| t.contains(".cache/pip") || t.ends_with("/.cache"))
}

/// Options of `pip install` that take a value.
const PIP_VALUE_OPTIONS: [&str; 24] = [
    "-r",
    "--requirement",
    "-c",
    "--constraint",
    "-e",
    "--editable",
    "-i",
    "--index-url",
    "--extra-index-url",
    "-f",
    "--find-links",
    "-t",
    "--target",
    "--prefix",
    "--root",
    "--trusted-host",
    "--platform",
    "--python-version",
    "--implementation",
    "--abi",
    "--src",
    "--upgrade-strategy",
    "--cache-dir",
    "--progress-bar",
];

fn pip_unpinned(args: &[String]) -> Vec<&str> {
    let mut out = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if PIP_VALUE_OPTIONS.contains(&a.as_str()) {
            it.next();
            continue;
        }
        if a.starts_with('-') {
            continue;
        }
        let pinned = ["==", ">=", "<=", "~=", "!=", ">", "<", "@"]
            .iter()
            .any(|s| a.contains(s))
            || a.starts_with(['.', '/', '$'])
            || a.contains("://")
            || [".whl", ".tar.gz", ".zip", ".tgz"]
                .iter()
                .any(|s| a.ends_with(s));
        if !pinned {
            out.push(a.as_str());
        }
    }
    out
}

fn apk_unpinned(args: &[String]) -> Vec<&str> {
    let mut out = Vec::new();
    let mut it = args.iter().skip_while(|a| a.as_str() != "add").skip(1);
    while let Some(a) = it.next() {
        if matches!(
            a.as_str(),
            "-t" | "--virtual" | "-X" | "--repository" | "--root" | "-p"
        ) {
            it.next();
            continue;
        }
        if a.starts_with('-') || a.starts_with('$') {
            continue;
        }
        if !a.contains(['=', '~', '<', '>']) && !a.ends_with(".apk") {
            out.push(a.as_str());
        }
    }
    out
}

fn yum_like_install(cmd: &Command) -> Option<&'static str> {
    let tool = match cmd.name() {
        "yum" => "yum",
        "dnf" => "dnf",
        "microdnf" => "microdnf",
        _ => return None,
    };
    matches!(
        first_operand(cmd.args()),
        Some("install" | "groupinstall" | "localinstall" | "reinstall")
    )
    .then_some(tool)
}

fn cleans_cache(c: &Check, run: &RunScript, tool: &str) -> bool {
    let cache = if tool == "yum" {
        "/var/cache/yum"
    } else {
        "/var/cache/dnf"
    };
    run.any(|cmd| {
        (cmd.name() == tool && cmd.args().iter().any(|a| a == "clean"))
            || (cmd.name() == "rm" && cmd.args().iter().any(|a| a.starts_with(cache)))
    }) || run
        .cache_targets(c.file)
        .iter()
        .any(|t| t.starts_with(cache))
}
