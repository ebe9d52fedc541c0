//! Debian's apt: `-y`, `--no-install-recommends`, update and install in one RUN, the
//! lists removed in the same layer, pinned versions, `apt` in scripts, and security
//! updates in the final image (which also covers apk, dnf, yum and zypper).

use super::{Check, list};
use crate::shell::Command;

/// A call of apt-get (or apt) split into its subcommand and the words after it.
pub(crate) struct AptCall<'a> {
    pub sub: &'a str,
    pub operands: Vec<&'a str>,
}

const VALUE_OPTIONS: [&str; 7] = [
    "-o",
    "-c",
    "-t",
    "--option",
    "--config-file",
    "--target-release",
    "--default-release",
];

pub(crate) fn apt_call(cmd: &Command) -> Option<AptCall<'_>> {
    if !matches!(cmd.name(), "apt-get" | "apt") {
        return None;
    }
    let mut sub = None;
    let mut operands = Vec::new();
    let mut args = cmd.args().iter();
    while let Some(a) = args.next() {
        if VALUE_OPTIONS.contains(&a.as_str()) {
            args.next();
        } else if a.starts_with('-') {
        } else if sub.is_none() {
            sub = Some(a.as_str());
        } else {
            operands.push(a.as_str());
        }
    }
    Some(AptCall {
        sub: sub?,
        operands,
    })
}

/// True when a short-option cluster (`-qy`) or a long option says yes.
pub(crate) fn says_yes(cmd: &Command, long: &[&str]) -> bool {
    cmd.args().iter().any(|a| {
        if long.contains(&a.as_str()) {
            return true;
        }
        match a.strip_prefix('-') {
            Some(short)
                if !short.starts_with('-') && short.chars().all(|c| c.is_ascii_alphabetic()) =>
            {
                short.contains('y')
            }
            _ => false,
        }
    })
}

fn apt_yes(cmd: &Command) -> bool {
    says_yes(cmd, &["--yes", "--assume-yes", "-qq", "-q=2", "--quiet=2"])
        || cmd.args().iter().any(|a| a.starts_with("-qq"))
}

const INSTALLS: [&str; 1] = ["install"];
const FRESH_LISTS: [&str; 6] = [
    "install",
    "upgrade",
    "dist-upgrade",
    "full-upgrade",
    "build-dep",
    "source",
];

pub fn check(c: &mut Check) {
    install_options(c);
    update_with_install(c);
    lists_removed(c);
    apt_in_scripts(c);
    security_updates(c);
}

fn install_options(c: &mut Check) {
    let mut out = Vec::new();
    for run in &c.runs {
        for (part, cmd) in run.commands() {
            let Some(call) = apt_call(cmd) else { continue };
            if !INSTALLS.contains(&call.sub) {
                continue;
            }
            let pos = run.pos(c.file, part, cmd);
            let tool = cmd.name();
            if !apt_yes(cmd) {
                out.push((
                    run.instruction,
                    pos,
                    "PL202",
                    format!("`{tool} install` without `-y` stops at apt's question"),
                ));
            }
            let no_recommends = cmd.args().iter().any(|a| {
                a == "--no-install-recommends"
                    || a.contains("Install-Recommends=false")
                    || a.contains("Install-Recommends=0")
                    || a.contains("Install-Recommends=no")
            });
            if !no_recommends {
                out.push((run.instruction, pos, "PL201", format!("`{tool} install` without `--no-install-recommends` pulls in recommended packages")));
            }
            let unpinned: Vec<&str> = call
                .operands
                .iter()
                .copied()
                .filter(|p| !(p.contains('=') || p.contains('/') || p.ends_with(".deb")))
                .collect();
            if !unpinned.is_empty() {
                out.push((
                    run.instruction,
                    pos,
                    "PL205",
                    format!(
                        "{} installed without a version (`package=version`)",
                        list(&unpinned)
                    ),
                ));
            }
        }
    }
    for (i, pos, id, msg) in out {
        c.report(id, i, pos, msg);
    }
}

fn update_with_install(c: &mut Check) {
    let mut out = Vec::new();
    for run in &c.runs {
        let calls: Vec<_> = run
            .commands()
            .filter_map(|(p, cmd)| apt_call(cmd).map(|a| (p, cmd, a)))
            .collect();
        let updates = calls.iter().any(|(_, _, a)| a.sub == "update");
        let uses_lists = calls.iter().any(|(_, _, a)| FRESH_LISTS.contains(&a.sub));
        for (part, cmd, call) in &calls {
            let pos = run.pos(c.file, part, cmd);
            if call.sub == "update" && !uses_lists {
                out.push((run.instruction, pos, "apt-get update runs alone; install in the same RUN, or a cached update layer feeds later installs stale lists".to_owned()));
            }
            if call.sub == "install" && !updates {
                out.push((run.instruction, pos, format!("`{} install` without `apt-get update` in the same RUN works from stale (or no) package lists", cmd.name())));
            }
        }
    }
    for (i, pos, msg) in out {
        c.report("PL203", i, pos, msg);
    }
}

fn lists_removed(c: &mut Check) {
    let stages = c.file.final_lineage();
    let mut out = Vec::new();
    for run in c.runs_in(&stages) {
        let update = run
            .commands()
            .find(|(_, cmd)| apt_call(cmd).is_some_and(|a| a.sub == "update"));
        let Some((part, cmd)) = update else { continue };
        let removed = run.any(|cmd| {
            matches!(cmd.name(), "rm" | "find")
                && cmd
                    .args()
                    .iter()
                    .any(|a| a.starts_with("/var/lib/apt/lists"))
        });
        let cached = run
            .cache_targets(c.file)
            .iter()
            .any(|t| t.starts_with("/var/lib/apt"));
        if !removed && !cached {
            out.push((run.instruction, run.pos(c.file, part, cmd)));
        }
    }
    for (i, pos) in out {
        c.report(
            "PL204",
            i,
            pos,
            "this RUN downloads the apt lists but does not `rm -rf /var/lib/apt/lists/*`; they stay in the layer".into(),
        );
    }
}

fn apt_in_scripts(c: &mut Check) {
    // Once per RUN is enough to make the point.
    c.report_commands(
        "PL214",
        true,
        |cmd| cmd.name() == "apt",
        "`apt` has no stable command-line interface; use `apt-get` in scripts",
    );
}

/// The package manager a command installs with, if it installs packages.
fn installs_with(cmd: &Command) -> Option<&'static str> {
    let first = cmd
        .args()
        .iter()
        .find(|a| !a.starts_with('-'))
        .map(String::as_str);
    match (cmd.name(), first) {
        ("apt-get" | "apt", Some("install")) => Some("apt-get"),
        ("apk", Some("add")) => Some("apk"),
        ("dnf", Some("install")) => Some("dnf"),
        ("yum", Some("install")) => Some("yum"),
        ("microdnf", Some("install")) => Some("microdnf"),
        ("zypper", Some("install" | "in")) => Some("zypper"),
        _ => None,
    }
}

fn upgrades(cmd: &Command) -> bool {
    let sub = cmd
        .args()
        .iter()
        .find(|a| !a.starts_with('-'))
        .map(String::as_str);
    matches!(
        (cmd.name(), sub),
        (
            "apt-get" | "apt",
            Some("upgrade" | "dist-upgrade" | "full-upgrade")
        ) | ("apk", Some("upgrade"))
            | (
                "dnf" | "yum" | "microdnf",
                Some("upgrade" | "update" | "distro-sync" | "upgrade-minimal")
            )
            | (
                "zypper",
                Some("up" | "update" | "patch" | "dup" | "dist-upgrade")
            )
    )
}

fn security_updates(c: &mut Check) {
    let stages = c.file.final_lineage();
    let Some(final_stage) = c.file.final_stage() else {
        return;
    };
    let mut manager = None;
    let mut upgraded = false;
    for run in c.runs_in(&stages) {
        for (_, cmd) in run.commands() {
            manager = manager.or(installs_with(cmd));
            upgraded |= upgrades(cmd);
        }
    }
    let Some(manager) = manager else { return };
    if upgraded {
        return;
    }
    let how = match manager {
        "apt-get" => "apt-get upgrade -y",
        "apk" => "apk upgrade --no-cache",
        "dnf" => "dnf upgrade -y",
        "yum" => "yum update -y",
        "microdnf" => "microdnf upgrade",
        _ => "zypper patch -y",
    };
    let from = final_stage.from;
    c.report_at(
        "PL206",
        from,
        format!("the final image installs packages but never runs `{how}`; base images lag the security archive by days"),
    );
}
