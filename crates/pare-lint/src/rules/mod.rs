//! The Dockerfile rules. Each module checks one subject; all of them read a
//! [`Check`]: the parsed file, the RUN scripts already split into commands, and the
//! options, and push findings into it.

mod apt;
mod base;
mod instructions;
mod layout;
mod packages;
pub(crate) mod run;
mod service;
mod shell_rules;
mod user;

use crate::catalog;
use crate::dockerfile::Dockerfile;
use crate::finding::{Finding, Location};
use crate::position::Pos;
use run::RunScript;

/// What the rules read and where they write.
pub struct Check<'a> {
    pub file: &'a Dockerfile,
    pub path: &'a str,
    pub trusted_registries: &'a [String],
    /// Every RUN (also inside ONBUILD), split into commands.
    pub runs: Vec<RunScript>,
    pub findings: Vec<Finding>,
}

impl<'a> Check<'a> {
    pub fn new(file: &'a Dockerfile, path: &'a str, trusted_registries: &'a [String]) -> Self {
        Check {
            file,
            path,
            trusted_registries,
            runs: run::scripts(file),
            findings: Vec::new(),
        }
    }

    /// Runs every rule.
    pub fn run_all(&mut self) {
        base::check(self);
        apt::check(self);
        packages::check(self);
        layout::check(self);
        user::check(self);
        shell_rules::check(self);
        instructions::check(self);
    }

    /// Reports rule `id` at `pos`, inside instruction `index`.
    pub fn report(&mut self, id: &str, index: usize, pos: Pos, message: String) {
        let Some(rule) = catalog::find(id) else {
            return;
        };
        let lines = self
            .file
            .instructions
            .get(index)
            .map_or(pos.line..=pos.line, |i| i.pos.line..=i.end_line);
        self.findings.push(Finding {
            rule: rule.id.to_owned(),
            name: rule.name.to_owned(),
            severity: rule.severity,
            location: Location::file(self.path, pos, lines),
            message,
        });
    }

    /// Reports `id` at each command `pred` accepts, or only at the first one of each RUN
    /// when `once_per_run`.
    pub fn report_commands(
        &mut self,
        id: &str,
        once_per_run: bool,
        pred: impl Fn(&crate::shell::Command) -> bool,
        message: &str,
    ) {
        let mut out = Vec::new();
        for run in &self.runs {
            let hits = run.commands().filter(|(_, cmd)| pred(cmd));
            let taken = if once_per_run { 1 } else { usize::MAX };
            for (part, cmd) in hits.take(taken) {
                out.push((run.instruction, run.pos(self.file, part, cmd)));
            }
        }
        for (i, pos) in out {
            self.report(id, i, pos, message.to_owned());
        }
    }

    /// Reports at the keyword of instruction `index`.
    pub fn report_at(&mut self, id: &str, index: usize, message: String) {
        let pos = self.file.instructions[index].pos;
        self.report(id, index, pos, message);
    }

    /// The RUN scripts of the stages in `stages`.
    pub fn runs_in<'s>(&'s self, stages: &'s [usize]) -> impl Iterator<Item = &'s RunScript> + 's {
        self.runs.iter().filter(move |r| {
            self.file
                .stage_of(r.instruction)
                .is_some_and(|s| stages.contains(&s.index))
        })
    }
}

/// Shortens a list of names for a message: `a, b, c and 4 more`.
pub(crate) fn list(names: &[&str]) -> String {
    const SHOWN: usize = 3;
    let shown: Vec<String> = names.iter().take(SHOWN).map(|n| format!("`{n}`")).collect();
    if names.len() > SHOWN {
        format!("{} and {} more", shown.join(", "), names.len() - SHOWN)
    } else {
        shown.join(", ")
    }
}
