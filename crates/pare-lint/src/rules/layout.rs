//! Cache order: copying the whole build context before installing dependencies.

use super::Check;
use crate::expand::unquote;
use crate::instruction::Kind;
use crate::shell::Command;

pub fn check(c: &mut Check) {
    let file = c.file;
    let mut out = Vec::new();
    for stage in &file.stages {
        let whole_copy = stage.body.clone().find(|&i| {
            let ins = &file.instructions[i];
            match &ins.kind {
                Kind::Copy(copy) | Kind::Add(copy) if ins.flag("from").is_none() => {
                    copy.sources.iter().any(|s| {
                        matches!(
                            unquote(&s.raw, file.escape).as_str(),
                            "." | "./" | "*" | "./*"
                        )
                    })
                }
                _ => false,
            }
        });
        let Some(copy_at) = whole_copy else { continue };
        let install = c
            .runs
            .iter()
            .filter(|r| r.instruction > copy_at && stage.body.contains(&r.instruction))
            .find_map(|r| {
                r.commands()
                    .find_map(|(_, cmd)| dependency_install(cmd))
                    .map(|what| (r.instruction, what))
            });
        if let Some((run_at, what)) = install {
            let line = file.instructions[run_at].pos.line;
            out.push((copy_at, format!("the whole build context is copied before `{what}` (line {line}): every code change reinstalls the dependencies; copy the manifests first")));
        }
    }
    for (i, msg) in out {
        c.report_at("PL213", i, msg);
    }
}

/// A command that installs dependencies from manifests, named for the message.
fn dependency_install(cmd: &Command) -> Option<String> {
    let args: Vec<&str> = cmd.args().iter().map(String::as_str).collect();
    let sub = args.iter().find(|a| !a.starts_with('-')).copied();
    let name = cmd.name();
    let found = match (name, sub) {
        ("npm", Some("ci" | "install" | "i"))
        | ("yarn", None | Some("install"))
        | ("pnpm", Some("install" | "i")) => true,
        ("bundle", Some("install"))
        | ("composer", Some("install"))
        | ("poetry", Some("install"))
        | ("pipenv", Some("install")) => true,
        ("go", Some("mod")) => args.contains(&"download"),
        ("cargo", Some("fetch")) => true,
        ("apt-get", Some("install")) | ("apk", Some("add")) => true,
        (n, _) if n == "pip" || n.starts_with("pip3") => args
            .iter()
            .any(|a| *a == "-r" || a.starts_with("--requirement")),
        _ => false,
    };
    found.then(|| match sub {
        Some(s) => format!("{name} {s}"),
        None => name.to_owned(),
    })
}
