//! A parsed Dockerfile as the rules see it: instructions, build stages, what each
//! stage builds on, and the ARG/ENV values in scope at each instruction.

use std::ops::Range;

use crate::expand::{Expanded, Vars, expand};
use crate::image_name::ImageName;
use crate::instruction::{Instruction, Kind};
use crate::parse::lines::{Comment, Directive};

/// A whole Dockerfile.
#[derive(Clone, Debug)]
pub struct Dockerfile {
    pub directives: Vec<Directive>,
    /// `\` or the character `# escape=` chose.
    pub escape: char,
    pub instructions: Vec<Instruction>,
    /// Every comment line in the file.
    pub comments: Vec<Comment>,
    pub stages: Vec<Stage>,
    /// Variables in scope before each instruction (same index).
    scopes: Vec<Vars>,
}

/// One build stage: a FROM and what follows it up to the next FROM.
#[derive(Clone, Debug)]
pub struct Stage {
    pub index: usize,
    /// Index of its FROM in [`Dockerfile::instructions`].
    pub from: usize,
    /// The `AS` name, lower-cased as BuildKit compares it.
    pub name: Option<String>,
    pub base: Base,
    /// Indices of the instructions after FROM.
    pub body: Range<usize>,
}

/// What a stage starts from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Base {
    Scratch,
    /// An earlier stage of this file.
    Stage(usize),
    Image(ImageName),
    /// A name made of build arguments with no value here (`FROM $BASE`).
    Unresolved {
        raw: String,
        names: Vec<String>,
    },
}

impl Dockerfile {
    pub(crate) fn new(
        directives: Vec<Directive>,
        escape: char,
        instructions: Vec<Instruction>,
        comments: Vec<Comment>,
    ) -> Self {
        let mut file = Dockerfile {
            directives,
            escape,
            instructions,
            comments,
            stages: Vec::new(),
            scopes: Vec::new(),
        };
        file.model();
        file
    }

    /// Walks the instructions once: stage boundaries, bases, variable scopes.
    fn model(&mut self) {
        let mut global = Vars::new();
        let mut scope = Vars::new();
        let mut in_stage = false;
        for (i, ins) in self.instructions.iter().enumerate() {
            // FROM sees only the global ARGs.
            let is_from = matches!(ins.kind, Kind::From(_));
            self.scopes.push(if in_stage && !is_from {
                scope.clone()
            } else {
                global.clone()
            });
            match &ins.kind {
                Kind::From(from) => {
                    if let Some(last) = self.stages.last_mut() {
                        last.body.end = i;
                    }
                    let image = expand(&from.image.raw, &global, self.escape);
                    let base = self.base(&image, &from.image.raw);
                    self.stages.push(Stage {
                        index: self.stages.len(),
                        from: i,
                        name: from.alias.as_ref().map(|a| a.raw.to_ascii_lowercase()),
                        base,
                        body: i + 1..self.instructions.len(),
                    });
                    in_stage = true;
                    scope = Vars::new();
                }
                Kind::Arg(decls) => {
                    for d in decls {
                        let current = if in_stage { &scope } else { &global };
                        let value = match &d.raw_default {
                            Some(raw) => Some(expand(raw, current, self.escape).value),
                            // A stage's bare `ARG NAME` brings in the global value.
                            None if in_stage => global.get(&d.name).cloned().flatten(),
                            None => None,
                        };
                        let target = if in_stage { &mut scope } else { &mut global };
                        target.insert(d.name.clone(), value);
                    }
                }
                Kind::Env(pairs) => {
                    let before = scope.clone();
                    for p in pairs {
                        let v = expand(&p.raw_value, &before, self.escape).value;
                        scope.insert(p.key.clone(), Some(v));
                    }
                }
                _ => {}
            }
        }
    }

    fn base(&self, image: &Expanded, raw: &str) -> Base {
        if !image.is_resolved() {
            return Base::Unresolved {
                raw: raw.to_owned(),
                names: image.unresolved.clone(),
            };
        }
        let lower = image.value.to_ascii_lowercase();
        if lower == "scratch" {
            return Base::Scratch;
        }
        match self
            .stages
            .iter()
            .find(|s| s.name.as_deref() == Some(lower.as_str()))
        {
            Some(s) => Base::Stage(s.index),
            None => Base::Image(ImageName::parse(&image.value)),
        }
    }

    /// Variables in scope just before instruction `index`.
    pub fn vars_at(&self, index: usize) -> &Vars {
        static EMPTY: Vars = Vars::new();
        self.scopes.get(index).unwrap_or(&EMPTY)
    }

    /// Expands a word as BuildKit would at instruction `index`.
    pub fn expand_at(&self, index: usize, raw: &str) -> Expanded {
        expand(raw, self.vars_at(index), self.escape)
    }

    /// The last stage: what `docker build` produces without `--target`.
    pub fn final_stage(&self) -> Option<&Stage> {
        self.stages.last()
    }

    /// A stage and every stage it builds on (`FROM earlier-stage`), the stage itself
    /// first: together they are one image's layers.
    pub fn lineage(&self, stage: usize) -> Vec<&Stage> {
        let mut out = Vec::new();
        let mut cur = self.stages.get(stage);
        while let Some(s) = cur {
            out.push(s);
            cur = match s.base {
                Base::Stage(i) if i < s.index => self.stages.get(i),
                _ => None,
            };
        }
        out
    }

    /// Indices of the stages whose layers end up in the final image.
    pub fn final_lineage(&self) -> Vec<usize> {
        self.final_stage()
            .map(|s| self.lineage(s.index).iter().map(|s| s.index).collect())
            .unwrap_or_default()
    }

    /// The stage instruction `index` belongs to.
    pub fn stage_of(&self, index: usize) -> Option<&Stage> {
        self.stages
            .iter()
            .find(|s| s.from == index || s.body.contains(&index))
    }

    /// The SHELL in force at instruction `index` (`["/bin/sh", "-c"]` unless changed).
    pub fn shell_at(&self, index: usize) -> Vec<String> {
        match self.stage_of(index) {
            Some(stage) => self.stage_shell(stage, index),
            None => default_shell(),
        }
    }

    /// The SHELL of `stage` before instruction `upto`, inherited from a base stage.
    fn stage_shell(&self, stage: &Stage, upto: usize) -> Vec<String> {
        let mut shell = match stage.base {
            Base::Stage(b) if b < stage.index => self
                .stages
                .get(b)
                .map(|base| self.stage_shell(base, base.body.end))
                .unwrap_or_else(default_shell),
            _ => default_shell(),
        };
        for ins in &self.instructions[stage.from..upto.min(stage.body.end)] {
            if let Kind::Shell(s) = &ins.kind {
                shell = s.clone();
            }
        }
        shell
    }
}

fn default_shell() -> Vec<String> {
    vec!["/bin/sh".into(), "-c".into()]
}
