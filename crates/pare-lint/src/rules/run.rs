//! RUN instructions as scripts: the shell form's text, or a heredoc body run by the
//! shell, split into commands, each command able to say where it is in the file.

use crate::dockerfile::Dockerfile;
use crate::instruction::{CommandForm, Instruction, Kind};
use crate::position::Pos;
use crate::shell::{self, Command, Script};

/// Where a script's text sits in the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// In the instruction's (joined) arguments, from this byte offset.
    Args { offset: usize },
    /// A heredoc body starting on this line, with the tabs `<<-` took off each line.
    Heredoc {
        first_line: usize,
        stripped_tabs: Vec<usize>,
    },
    /// The exec form: no shell, words only.
    Exec,
}

/// One piece of shell a RUN executes.
#[derive(Clone, Debug)]
pub struct Part {
    pub text: String,
    pub origin: Origin,
    pub script: Script,
}

impl Part {
    /// The place in the file of byte `offset` of this part's text.
    pub fn pos(&self, ins: &Instruction, offset: usize) -> Pos {
        match self.origin {
            Origin::Args { offset: base } => ins.pos_of(base + offset),
            Origin::Exec => ins.pos,
            Origin::Heredoc {
                first_line,
                ref stripped_tabs,
            } => {
                let before = &self.text[..offset.min(self.text.len())];
                let index = before.matches('\n').count();
                let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count())
                    + 1
                    + stripped_tabs.get(index).copied().unwrap_or(0);
                Pos::new(first_line + index, column)
            }
        }
    }
}

/// A RUN instruction's scripts.
#[derive(Clone, Debug)]
pub struct RunScript {
    /// Index in [`Dockerfile::instructions`].
    pub instruction: usize,
    pub parts: Vec<Part>,
}

impl RunScript {
    /// Every command of every part, with the part it is in.
    pub fn commands(&self) -> impl Iterator<Item = (&Part, &Command)> {
        self.parts
            .iter()
            .flat_map(|p| p.script.commands.iter().map(move |c| (p, c)))
    }

    /// True when some command satisfies `pred`.
    pub fn any(&self, pred: impl Fn(&Command) -> bool) -> bool {
        self.commands().any(|(_, c)| pred(c))
    }

    /// The place of a command in the file.
    pub fn pos(&self, file: &Dockerfile, part: &Part, command: &Command) -> Pos {
        part.pos(&file.instructions[self.instruction], command.offset())
    }

    /// The RUN's `--mount` flags' targets for cache mounts.
    pub fn cache_targets<'a>(&self, file: &'a Dockerfile) -> Vec<&'a str> {
        file.instructions[self.instruction]
            .effective()
            .flags()
            .iter()
            .filter(|f| f.name == "mount")
            .filter_map(|f| f.value.as_deref())
            .filter(|v| v.split(',').any(|kv| kv == "type=cache"))
            .filter_map(|v| {
                v.split(',').find_map(|kv| {
                    kv.strip_prefix("target=")
                        .or_else(|| kv.strip_prefix("dst="))
                        .or_else(|| kv.strip_prefix("destination="))
                })
            })
            .collect()
    }
}

const SHELLS: [&str; 6] = ["sh", "bash", "ash", "dash", "zsh", "ksh"];

/// The scripts of every RUN, ONBUILD RUN included.
pub fn scripts(file: &Dockerfile) -> Vec<RunScript> {
    file.instructions
        .iter()
        .enumerate()
        .filter_map(|(i, ins)| {
            let inner = ins.effective();
            let Kind::Run(run) = &inner.kind else {
                return None;
            };
            Some(RunScript {
                instruction: i,
                parts: parts(inner, &run.command),
            })
        })
        .collect()
}

fn parts(ins: &Instruction, command: &CommandForm) -> Vec<Part> {
    let (text, offset) = match command {
        CommandForm::Exec(words) => {
            let script = Script {
                commands: vec![Command {
                    words: words.clone(),
                    offsets: vec![0; words.len()],
                    ..Command::default()
                }],
            };
            return vec![Part {
                text: words.join(" "),
                origin: Origin::Exec,
                script,
            }];
        }
        CommandForm::Shell { text, offset } => (text, *offset),
    };
    let main = Part {
        text: text.clone(),
        origin: Origin::Args { offset },
        script: shell::parse(text),
    };
    // `RUN <<EOF` alone: the body is the script. `RUN bash <<EOF`: the body is shell too.
    let whole_is_heredoc = text.trim_start().starts_with("<<") && main.script.commands.is_empty();
    let fed_to_shell = main
        .script
        .commands
        .first()
        .is_some_and(|c| SHELLS.contains(&c.name()));
    let mut out = Vec::new();
    if !whole_is_heredoc {
        out.push(main);
    }
    if whole_is_heredoc || fed_to_shell {
        for h in &ins.heredocs {
            if is_shell_body(&h.body) {
                out.push(Part {
                    text: h.body.clone(),
                    origin: Origin::Heredoc {
                        first_line: h.first_line,
                        stripped_tabs: h.stripped_tabs.clone(),
                    },
                    script: shell::parse(&h.body),
                });
            }
        }
    }
    out
}

/// A body without a shebang, or with a shell's.
fn is_shell_body(body: &str) -> bool {
    match body.lines().next().and_then(|l| l.strip_prefix("#!")) {
        None => true,
        Some(interp) => {
            let mut words = interp.split_whitespace();
            let first = words.next().unwrap_or_default();
            let prog = if first.ends_with("/env") {
                words.next().unwrap_or_default()
            } else {
                first
            };
            SHELLS.contains(&prog.rsplit('/').next().unwrap_or(prog))
        }
    }
}
