//! Shell habits in RUN: piping downloads into a shell, `cd` instead of WORKDIR, pipes
//! without `pipefail`.

use super::Check;
use super::run::Origin;
use crate::shell::Command;

const SHELLS: [&str; 7] = ["sh", "bash", "zsh", "ash", "dash", "ksh", "sudo"];
const INTERPRETERS: [&str; 4] = ["python", "python3", "perl", "ruby"];

pub fn check(c: &mut Check) {
    c.report_commands(
        "PL404",
        false,
        |cmd| cmd.name() == "cd",
        "`cd` lasts for this RUN only; use WORKDIR to change directory",
    );
    let mut out = Vec::new();
    for run in &c.runs {
        let commands: Vec<_> = run.commands().collect();
        for (k, (part, cmd)) in commands.iter().enumerate() {
            let pos = run.pos(c.file, part, cmd);
            let downloads = matches!(cmd.name(), "curl" | "wget");
            let into_shell = cmd.pipes_into_next
                && commands
                    .get(k + 1)
                    .is_some_and(|(_, next)| runs_stdin(next));
            if (downloads && into_shell) || runs_download(cmd) {
                out.push((run.instruction, pos, "PL304", "a downloaded script is run unverified; save it, check its SHA-256, then run it".to_owned()));
            }
        }
        pipefail(c, run, &mut out);
    }
    for (i, pos, id, msg) in out {
        c.report(id, i, pos, msg);
    }
}

/// A shell or interpreter reading a script from its input.
fn runs_stdin(cmd: &Command) -> bool {
    let name = cmd.name();
    let interp = SHELLS.contains(&name) || INTERPRETERS.iter().any(|i| name.starts_with(i));
    if name == "sudo" {
        return cmd
            .args()
            .first()
            .is_some_and(|a| SHELLS.contains(&a.rsplit('/').next().unwrap_or(a)));
    }
    interp && !cmd.args().iter().any(|a| a == "-c")
}

/// `sh -c "$(curl …)"`.
fn runs_download(cmd: &Command) -> bool {
    SHELLS.contains(&cmd.name())
        && cmd.args().iter().any(|a| {
            ["$(curl", "$(wget", "`curl", "`wget"]
                .iter()
                .any(|p| a.contains(p))
        })
}

fn pipefail(
    c: &Check,
    run: &super::run::RunScript,
    out: &mut Vec<(usize, crate::position::Pos, &'static str, String)>,
) {
    let Some(main) = run
        .parts
        .iter()
        .find(|p| matches!(p.origin, Origin::Args { .. }))
    else {
        return;
    };
    let Some(piped) = main.script.commands.iter().find(|c| c.pipes_into_next) else {
        return;
    };
    let shell = c.file.shell_at(run.instruction);
    let program = shell
        .first()
        .map(|s| {
            s.rsplit(['/', '\\'])
                .next()
                .unwrap_or(s)
                .to_ascii_lowercase()
        })
        .unwrap_or_default();
    if matches!(
        program.as_str(),
        "pwsh" | "powershell" | "powershell.exe" | "cmd" | "cmd.exe"
    ) {
        return;
    }
    let shell_has = shell.iter().any(|w| w == "pipefail");
    let set_before = main
        .script
        .commands
        .iter()
        .take_while(|c| !c.pipes_into_next)
        .any(|c| c.name() == "set" && c.args().iter().any(|a| a == "pipefail"));
    if !shell_has && !set_before {
        out.push((
            run.instruction,
            run.pos(c.file, main, piped),
            "PL409",
            format!("this RUN pipes `{}` into another command under `{}`, which ignores the failure of all but the last; set `SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]`", piped.name(), shell.join(" ")),
        ));
    }
}
