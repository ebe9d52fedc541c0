//! Who the image runs as, secrets in ENV/ARG, and sudo.

use super::Check;
use crate::dockerfile::Base;
use crate::instruction::Kind;
use crate::secrets::{is_secret_name, secret_value_kind};

pub fn check(c: &mut Check) {
    final_user(c);
    secrets(c);
    sudo(c);
}

/// True for `root`, `0`, `root:…`, `0:…`.
pub(crate) fn is_root(user: &str) -> bool {
    let name = user.split(':').next().unwrap_or(user).trim();
    name == "root" || name == "0"
}

fn final_user(c: &mut Check) {
    let file = c.file;
    let Some(last) = file.final_stage() else {
        return;
    };
    let lineage = file.final_lineage();
    let mut last_user = None;
    for &s in lineage.iter().rev() {
        for i in file.stages[s].body.clone() {
            if let Kind::User(u) = &file.instructions[i].kind {
                last_user = Some((i, u));
            }
        }
    }
    match last_user {
        Some((i, user)) => {
            let value = file.expand_at(i, &user.raw);
            if value.is_resolved() && is_root(&value.value) {
                let pos = file.instructions[i].pos_of(user.offset);
                c.report(
                    "PL301",
                    i,
                    pos,
                    format!(
                        "the final USER is `{}`: the container runs as root",
                        value.value
                    ),
                );
            }
        }
        None => {
            let root_stage = lineage.last().map_or(last, |&s| &file.stages[s]);
            let base_says_nonroot = match &root_stage.base {
                Base::Image(n) => {
                    let tagged = format!("{}:{}", n.repository, n.tag.as_deref().unwrap_or(""));
                    tagged.contains("nonroot") || tagged.contains("rootless")
                }
                _ => false,
            };
            if !base_says_nonroot {
                c.report_at("PL301", last.from, "the final stage sets no USER: the container runs as the base image's user, root for most bases".into());
            }
        }
    }
}

fn secrets(c: &mut Check) {
    let file = c.file;
    let mut out = Vec::new();
    for (i, ins) in file.instructions.iter().enumerate() {
        let entries: Vec<(&str, Option<&str>, usize, &str)> = match &ins.effective().kind {
            Kind::Env(pairs) => pairs
                .iter()
                .map(|p| (p.key.as_str(), Some(p.raw_value.as_str()), p.offset, "ENV"))
                .collect(),
            Kind::Arg(decls) => decls
                .iter()
                .map(|d| (d.name.as_str(), d.raw_default.as_deref(), d.offset, "ARG"))
                .collect(),
            _ => continue,
        };
        for (name, raw, offset, kw) in entries {
            let value = raw.map(|r| crate::expand::unquote(r, file.escape));
            let pos = ins.pos_of(offset);
            if let Some(kind) = value.as_deref().and_then(secret_value_kind) {
                out.push((i, pos, format!("{kw} {name} holds what looks like {kind}; it is readable by anyone who can pull the image")));
            } else if is_secret_name(name) && !(kw == "ENV" && value.as_deref() == Some("")) {
                let place = if kw == "ENV" {
                    "the image config"
                } else {
                    "the build history"
                };
                out.push((i, pos, format!("{kw} {name} looks like a secret and is stored in {place}; use a build secret (`RUN --mount=type=secret`) or set it at run time")));
            }
        }
    }
    for (i, pos, msg) in out {
        c.report("PL302", i, pos, msg);
    }
}

fn sudo(c: &mut Check) {
    c.report_commands(
        "PL303",
        false,
        |cmd| cmd.name() == "sudo",
        "`sudo` in a RUN; switch users with USER instead",
    );
}
