//! The Dockerfile reader: logical lines ([`crate::parse::lines`]) into typed
//! instructions ([`crate::instruction`]) and a [`Dockerfile`], following BuildKit's
//! rules. Apart from the syntax in [`crate::parse`] so that the instruction types,
//! which are made of that syntax, and the reader, which builds them, form no cycle.

use crate::dockerfile::Dockerfile;
use crate::instruction::{
    ArgDecl, CommandForm, Copy, From, Healthcheck, Instruction, KeyValue, Kind, Run,
};
use crate::parse::lines::{self, LogicalLine};
use crate::parse::words::{self, Word, json_array, split, take_flags};
use crate::parse::{SyntaxError, is_keyword};
use crate::position::Pos;

/// Parses a whole Dockerfile.
pub fn parse(text: &str) -> Result<Dockerfile, SyntaxError> {
    let read = lines::read(text)?;
    let escape = read.escape;
    let instructions = read
        .instructions
        .into_iter()
        .map(|l| typed(l, escape))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Dockerfile::new(
        read.directives,
        escape,
        instructions,
        read.comments,
    ))
}

fn typed(line: LogicalLine, escape: char) -> Result<Instruction, SyntaxError> {
    let mut ins = Instruction {
        keyword: line.keyword,
        pos: line.pos,
        end_line: line.end_line,
        args: line.args,
        heredocs: line.heredocs,
        comments: line.comments,
        kind: Kind::Maintainer(String::new()),
    };
    ins.kind = kind(&ins, &ins.keyword, 0, escape)?;
    Ok(ins)
}

/// Builds the typed form of `keyword` whose arguments start at `start` in `ins.args`.
fn kind(ins: &Instruction, keyword: &str, start: usize, escape: char) -> Result<Kind, SyntaxError> {
    let text = &ins.args.text[start..];
    let at = |offset: usize| ins.pos_of(start + offset);
    let mut words: Vec<Word> = split(text, escape);
    if words.is_empty() {
        return Err(SyntaxError::new(
            ins.pos,
            format!("{keyword} needs at least one argument"),
        ));
    }
    let shift = |mut w: Word| {
        w.offset += start;
        w
    };
    let rest_of_line = |w: &Word| text[w.offset..].trim_end().to_owned();
    Ok(match keyword {
        "FROM" => {
            let flags = shifted_flags(take_flags(&mut words), start);
            match words.as_slice() {
                [image] => Kind::From(From {
                    flags,
                    image: shift(image.clone()),
                    alias: None,
                }),
                [image, as_kw, name] if as_kw.raw.eq_ignore_ascii_case("as") => {
                    if !valid_stage_name(&name.raw) {
                        return Err(SyntaxError::new(
                            at(name.offset),
                            format!(
                                "invalid stage name `{}`: use letters, digits, `-`, `_` and `.`, starting with a letter",
                                name.raw
                            ),
                        ));
                    }
                    Kind::From(From {
                        flags,
                        image: shift(image.clone()),
                        alias: Some(shift(name.clone())),
                    })
                }
                _ => {
                    return Err(SyntaxError::new(
                        ins.pos,
                        "FROM takes `IMAGE` or `IMAGE AS NAME`",
                    ));
                }
            }
        }
        "RUN" => {
            let flags = shifted_flags(take_flags(&mut words), start);
            let Some(first) = words.first() else {
                return Err(SyntaxError::new(ins.pos, "RUN needs a command"));
            };
            Kind::Run(Run {
                flags,
                command: command_form(text, first.offset, start),
            })
        }
        "CMD" | "ENTRYPOINT" => {
            let form = command_form(text, words[0].offset, start);
            if keyword == "CMD" {
                Kind::Cmd(form)
            } else {
                Kind::Entrypoint(form)
            }
        }
        "COPY" | "ADD" => {
            let flags = shifted_flags(take_flags(&mut words), start);
            let mut paths: Vec<Word> =
                match words.first().and_then(|w| json_array(&text[w.offset..])) {
                    Some(list) => list
                        .into_iter()
                        .map(|raw| Word {
                            raw: format!("\"{}\"", raw.replace('"', "\\\"")),
                            offset: words[0].offset,
                        })
                        .collect(),
                    None => words,
                };
            if paths.len() < 2 {
                return Err(SyntaxError::new(
                    ins.pos,
                    format!("{keyword} needs at least one source and a destination"),
                ));
            }
            let dest = shift(paths.remove(paths.len() - 1));
            let copy = Copy {
                flags,
                sources: paths.into_iter().map(shift).collect(),
                dest,
            };
            if keyword == "COPY" {
                Kind::Copy(copy)
            } else {
                Kind::Add(copy)
            }
        }
        "ENV" | "LABEL" => {
            let pairs = key_values(&words, text, start, escape, keyword, &at)?;
            if keyword == "ENV" {
                Kind::Env(pairs)
            } else {
                Kind::Label(pairs)
            }
        }
        "ARG" => Kind::Arg(
            words
                .iter()
                .map(|w| {
                    let (name, default) = match w.raw.split_once('=') {
                        Some((n, d)) => (n.to_owned(), Some(d.to_owned())),
                        None => (w.raw.clone(), None),
                    };
                    ArgDecl {
                        name,
                        raw_default: default,
                        offset: start + w.offset,
                    }
                })
                .collect(),
        ),
        "EXPOSE" => Kind::Expose(words.into_iter().map(shift).collect()),
        "USER" | "WORKDIR" | "STOPSIGNAL" => {
            let first = &words[0];
            let word = Word {
                raw: rest_of_line(first),
                offset: start + first.offset,
            };
            match keyword {
                "USER" => Kind::User(word),
                "WORKDIR" => Kind::Workdir(word),
                _ => Kind::StopSignal(word),
            }
        }
        "VOLUME" => Kind::Volume(
            json_array(text).unwrap_or_else(|| words.into_iter().map(|w| w.raw).collect()),
        ),
        "SHELL" => match json_array(text) {
            Some(list) if !list.is_empty() => Kind::Shell(list),
            _ => {
                return Err(SyntaxError::new(
                    at(words[0].offset),
                    "SHELL takes a JSON array, e.g. SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]",
                ));
            }
        },
        "HEALTHCHECK" => {
            let flags = shifted_flags(take_flags(&mut words), start);
            let Some(first) = words.first() else {
                return Err(SyntaxError::new(ins.pos, "HEALTHCHECK needs CMD or NONE"));
            };
            let command = if first.raw.eq_ignore_ascii_case("NONE") {
                None
            } else if first.raw.eq_ignore_ascii_case("CMD") {
                let Some(cmd) = words.get(1) else {
                    return Err(SyntaxError::new(
                        at(first.offset),
                        "HEALTHCHECK CMD needs a command",
                    ));
                };
                Some(command_form(text, cmd.offset, start))
            } else {
                return Err(SyntaxError::new(
                    at(first.offset),
                    format!("HEALTHCHECK takes CMD or NONE, not `{}`", first.raw),
                ));
            };
            Kind::Healthcheck(Healthcheck { flags, command })
        }
        "MAINTAINER" => Kind::Maintainer(rest_of_line(&words[0])),
        "ONBUILD" => {
            let first = &words[0];
            let inner_kw = first.raw.to_ascii_uppercase();
            if !is_keyword(&inner_kw) {
                return Err(SyntaxError::new(
                    at(first.offset),
                    format!("unknown instruction `{}` after ONBUILD", first.raw),
                ));
            }
            if matches!(inner_kw.as_str(), "ONBUILD" | "FROM" | "MAINTAINER") {
                return Err(SyntaxError::new(
                    at(first.offset),
                    format!("ONBUILD cannot be used with {inner_kw}"),
                ));
            }
            let inner_start = start + first.offset + first.raw.len();
            let mut inner = ins.clone();
            inner.keyword = inner_kw.clone();
            inner.pos = at(first.offset);
            inner.kind = kind(ins, &inner_kw, inner_start, escape)?;
            Kind::Onbuild(Box::new(inner))
        }
        other => {
            return Err(SyntaxError::new(
                ins.pos,
                format!("unknown instruction `{other}`"),
            ));
        }
    })
}

fn shifted_flags(mut flags: Vec<words::Flag>, start: usize) -> Vec<words::Flag> {
    for f in &mut flags {
        f.offset += start;
    }
    flags
}

/// The exec form when the text from `offset` is a JSON array, else the shell form.
fn command_form(text: &str, offset: usize, start: usize) -> CommandForm {
    let rest = &text[offset..];
    match json_array(rest) {
        Some(list) => CommandForm::Exec(list),
        None => CommandForm::Shell {
            text: rest.trim_end().to_owned(),
            offset: start + offset,
        },
    }
}

fn key_values(
    words: &[Word],
    text: &str,
    start: usize,
    escape: char,
    keyword: &str,
    at: &dyn Fn(usize) -> Pos,
) -> Result<Vec<KeyValue>, SyntaxError> {
    let first = &words[0];
    if !first.raw.contains('=') {
        // Legacy `ENV KEY value with blanks`.
        let value = text[first.offset + first.raw.len()..].trim();
        if value.is_empty() {
            return Err(SyntaxError::new(
                at(first.offset),
                format!(
                    "{keyword} {} needs a value: write {}=VALUE",
                    first.raw, first.raw
                ),
            ));
        }
        return Ok(vec![KeyValue {
            key: crate::expand::unquote(&first.raw, escape),
            raw_value: value.to_owned(),
            offset: start + first.offset,
        }]);
    }
    words
        .iter()
        .map(|w| match w.raw.split_once('=') {
            Some((k, v)) if !k.is_empty() => Ok(KeyValue {
                key: crate::expand::unquote(k, escape),
                raw_value: v.to_owned(),
                offset: start + w.offset,
            }),
            _ => Err(SyntaxError::new(
                at(w.offset),
                format!("{keyword} expects NAME=VALUE, found `{}`", w.raw),
            )),
        })
        .collect()
}

/// BuildKit's rule for stage names (compared without case).
fn valid_stage_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let mut chars = lower.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.'))
}
