//! Rules on single instructions and their count: ADD, CMD/ENTRYPOINT form, EXPOSE,
//! WORKDIR, repeated CMD/ENTRYPOINT/HEALTHCHECK, MAINTAINER, HEALTHCHECK, ENV.

use super::Check;
use super::service::starts_server;
use crate::expand::{references, unquote};
use crate::instruction::{CommandForm, Kind};

pub fn check(c: &mut Check) {
    add(c);
    per_instruction(c);
    repeated(c);
    service(c);
}

const ARCHIVES: [&str; 12] = [
    ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz", ".tar.zst", ".gz", ".bz2",
    ".xz", ".zst",
];

fn is_url(s: &str) -> bool {
    s.starts_with("http://") || s.starts_with("https://")
}

fn is_git(s: &str) -> bool {
    s.starts_with("git@") || s.starts_with("git://") || (is_url(s) && s.contains(".git"))
}

fn add(c: &mut Check) {
    let file = c.file;
    for (i, ins) in file.instructions.iter().enumerate() {
        let Kind::Add(copy) = &ins.kind else { continue };
        let sources: Vec<String> = copy
            .sources
            .iter()
            .map(|s| unquote(&s.raw, file.escape))
            .collect();
        if let Some(url) = sources.iter().find(|s| is_url(s) && !is_git(s))
            && ins.flag("checksum").is_none()
        {
            c.report_at(
                "PL305",
                i,
                format!(
                    "`ADD {url}` downloads without `--checksum`; the file can change under you"
                ),
            );
        }
        let local = sources.iter().any(|s| {
            !is_url(s)
                && !is_git(s)
                && !s.starts_with("<<")
                && !ARCHIVES.iter().any(|a| s.ends_with(a))
        });
        if local {
            c.report_at(
                "PL306",
                i,
                "ADD of local files; use COPY (ADD also unpacks archives and fetches URLs)".into(),
            );
        }
    }
}

fn per_instruction(c: &mut Check) {
    let file = c.file;
    for (i, ins) in file.instructions.iter().enumerate() {
        match &ins.kind {
            Kind::Cmd(CommandForm::Shell { .. }) | Kind::Entrypoint(CommandForm::Shell { .. }) => {
                c.report_at("PL401", i, format!("{} in shell form: /bin/sh becomes PID 1 and the app never sees SIGTERM; use the JSON form", ins.keyword));
            }
            Kind::Workdir(w) => {
                let value = file.expand_at(i, &w.raw);
                let v = value.value.as_str();
                let windows_absolute = v.len() > 2 && v.as_bytes()[1] == b':';
                if value.is_resolved() && !v.starts_with('/') && !windows_absolute {
                    c.report(
                        "PL403",
                        i,
                        ins.pos_of(w.offset),
                        format!("WORKDIR `{v}` is relative; use an absolute path"),
                    );
                }
            }
            Kind::Maintainer(_) => {
                c.report_at(
                    "PL406",
                    i,
                    "MAINTAINER is deprecated; use LABEL org.opencontainers.image.authors".into(),
                );
            }
            Kind::Env(pairs) if pairs.len() > 1 => {
                for (k, p) in pairs.iter().enumerate().skip(1) {
                    let refs = references(&p.raw_value, file.escape);
                    if let Some(r) = refs
                        .iter()
                        .find(|r| pairs[..k].iter().any(|q| &q.key == *r))
                    {
                        c.report(
                            "PL408",
                            i,
                            ins.pos_of(p.offset),
                            format!(
                                "{}=… uses ${r}, which this same ENV sets; it sees the old value",
                                p.key
                            ),
                        );
                    }
                }
            }
            _ => {}
        }
    }
}

fn repeated(c: &mut Check) {
    let file = c.file;
    for stage in &file.stages {
        for keyword in ["CMD", "ENTRYPOINT", "HEALTHCHECK"] {
            let at: Vec<usize> = stage
                .body
                .clone()
                .filter(|&i| file.instructions[i].keyword == keyword)
                .collect();
            for &i in at.iter().skip(1) {
                c.report_at(
                    "PL405",
                    i,
                    format!("another {keyword} in this stage; only the last one takes effect"),
                );
            }
        }
    }
}

fn service(c: &mut Check) {
    let file = c.file;
    let Some(last) = file.final_stage() else {
        return;
    };
    let lineage = file.final_lineage();
    let instructions: Vec<usize> = lineage
        .iter()
        .rev()
        .flat_map(|&s| file.stages[s].body.clone())
        .collect();
    let mut command = None;
    let mut exposed = false;
    let mut healthcheck = false;
    for &i in &instructions {
        match &file.instructions[i].kind {
            Kind::Cmd(f) | Kind::Entrypoint(f) => command = Some((i, f)),
            Kind::Expose(_) => exposed = true,
            Kind::Healthcheck(_) => healthcheck = true,
            _ => {}
        }
    }
    let server = command.filter(|(_, f)| starts_server(f));
    if let Some((i, _)) = server
        && !exposed
    {
        c.report_at(
            "PL402",
            i,
            "this starts a server but the image EXPOSEs no port".into(),
        );
    }
    if (exposed || server.is_some()) && !healthcheck {
        c.report_at(
            "PL407",
            last.from,
            "a service image without HEALTHCHECK: the engine cannot tell whether it answers".into(),
        );
    }
}
