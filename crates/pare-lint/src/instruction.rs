//! The instructions of a Dockerfile, each with what the rules need: flags, words as
//! written, the exec or shell form, heredocs, and where everything sits in the file.

use crate::parse::lines::{Comment, Heredoc};
use crate::parse::words::{Flag, Word};
use crate::position::{Pos, SourceText};

/// One instruction.
#[derive(Clone, Debug)]
pub struct Instruction {
    /// Upper-case keyword (`RUN`).
    pub keyword: String,
    /// Where the keyword starts.
    pub pos: Pos,
    /// The last line the instruction uses (continuations and heredocs included).
    pub end_line: usize,
    /// Everything after the keyword, continuation lines joined.
    pub args: SourceText,
    pub heredocs: Vec<Heredoc>,
    /// Comment lines right above it (ignore pragmas live here).
    pub comments: Vec<Comment>,
    pub kind: Kind,
}

impl Instruction {
    /// The place of a byte offset in [`Instruction::args`].
    pub fn pos_of(&self, offset: usize) -> Pos {
        self.args.pos(offset)
    }

    /// The flag called `name` (`--from`, `--mount` …), if given.
    pub fn flag(&self, name: &str) -> Option<&Flag> {
        self.flags().iter().find(|f| f.name == name)
    }

    /// Every flag given to the instruction.
    pub fn flags(&self) -> &[Flag] {
        match &self.kind {
            Kind::From(f) => &f.flags,
            Kind::Run(r) => &r.flags,
            Kind::Copy(c) | Kind::Add(c) => &c.flags,
            Kind::Healthcheck(h) => &h.flags,
            _ => &[],
        }
    }

    /// The instruction ONBUILD wraps, or this one.
    pub fn effective(&self) -> &Instruction {
        match &self.kind {
            Kind::Onbuild(inner) => inner,
            _ => self,
        }
    }
}

/// What an instruction says, by keyword.
#[derive(Clone, Debug)]
pub enum Kind {
    From(From),
    Run(Run),
    Cmd(CommandForm),
    Entrypoint(CommandForm),
    Copy(Copy),
    Add(Copy),
    Env(Vec<KeyValue>),
    Arg(Vec<ArgDecl>),
    Label(Vec<KeyValue>),
    Expose(Vec<Word>),
    User(Word),
    Workdir(Word),
    Volume(Vec<String>),
    Shell(Vec<String>),
    Healthcheck(Healthcheck),
    StopSignal(Word),
    Maintainer(String),
    Onbuild(Box<Instruction>),
}

/// `FROM [--platform=…] IMAGE [AS NAME]`.
#[derive(Clone, Debug)]
pub struct From {
    pub flags: Vec<Flag>,
    pub image: Word,
    pub alias: Option<Word>,
}

/// `RUN [--mount=… --network=…] COMMAND`.
#[derive(Clone, Debug)]
pub struct Run {
    pub flags: Vec<Flag>,
    pub command: CommandForm,
}

/// The two ways to write a command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CommandForm {
    /// `["executable", "arg"]`: run directly, signals reach the program.
    Exec(Vec<String>),
    /// `executable arg`: run through the SHELL (`/bin/sh -c`). `offset` is where the
    /// text starts in the instruction's arguments.
    Shell { text: String, offset: usize },
}

/// `COPY`/`ADD [flags] SRC… DEST`.
#[derive(Clone, Debug)]
pub struct Copy {
    pub flags: Vec<Flag>,
    pub sources: Vec<Word>,
    pub dest: Word,
}

/// `KEY=value` in ENV and LABEL (also the legacy `ENV KEY value`).
#[derive(Clone, Debug)]
pub struct KeyValue {
    pub key: String,
    /// The value as written (quotes in).
    pub raw_value: String,
    pub offset: usize,
}

/// `ARG NAME[=default]`.
#[derive(Clone, Debug)]
pub struct ArgDecl {
    pub name: String,
    pub raw_default: Option<String>,
    pub offset: usize,
}

/// `HEALTHCHECK [flags] CMD …` or `HEALTHCHECK NONE`.
#[derive(Clone, Debug)]
pub struct Healthcheck {
    pub flags: Vec<Flag>,
    /// `None` for `HEALTHCHECK NONE`.
    pub command: Option<CommandForm>,
}
