//! The parser on every construct BuildKit accepts, and the errors it gives for what
//! BuildKit refuses.

use pare_lint::dockerfile::Base;
use pare_lint::instruction::{CommandForm, Kind};
use pare_lint::position::Pos;
use pare_lint::{SyntaxError, parse};

fn keywords(text: &str) -> Vec<String> {
    parse(text)
        .unwrap()
        .instructions
        .iter()
        .map(|i| i.keyword.clone())
        .collect()
}

fn error(text: &str) -> SyntaxError {
    parse(text).expect_err("should not parse")
}

#[test]
fn parser_directives_are_read_at_the_top_only() {
    let f =
        parse("# syntax=docker/dockerfile:1.7\n# escape=`\nFROM scratch\n# escape=\\\n").unwrap();
    assert_eq!(f.directives.len(), 2);
    assert_eq!(f.directives[0].name, "syntax");
    assert_eq!(f.directives[0].value, "docker/dockerfile:1.7");
    assert_eq!(f.escape, '`');
    // After a blank line or a comment, `# escape=` is just a comment.
    let f = parse("# a comment\n# escape=`\nFROM scratch\n").unwrap();
    assert_eq!(f.escape, '\\');
    assert!(f.directives.is_empty());
}

#[test]
fn continuation_with_backslash_and_with_backtick() {
    let f = parse("FROM debian\nRUN apt-get update \\\n && apt-get install -y curl\n").unwrap();
    let Kind::Run(run) = &f.instructions[1].kind else {
        panic!()
    };
    let CommandForm::Shell { text, .. } = &run.command else {
        panic!()
    };
    assert_eq!(text, "apt-get update  && apt-get install -y curl");
    assert_eq!(f.instructions[1].end_line, 3);

    let f = parse("# escape=`\nFROM windows\nRUN dir c:\\ `\n  /b\nWORKDIR c:\\app\n").unwrap();
    assert_eq!(keywords_of(&f), ["FROM", "RUN", "WORKDIR"]);
    let Kind::Run(run) = &f.instructions[1].kind else {
        panic!()
    };
    assert_eq!(
        run.command,
        CommandForm::Shell {
            text: "dir c:\\   /b".into(),
            offset: 1
        }
    );
}

fn keywords_of(f: &pare_lint::dockerfile::Dockerfile) -> Vec<&str> {
    f.instructions.iter().map(|i| i.keyword.as_str()).collect()
}

#[test]
fn comments_and_blank_lines_inside_continuations_are_dropped() {
    let text =
        "FROM debian\nRUN apt-get install -y \\\n# a comment\n    curl \\\n\n    jq\nUSER nobody\n";
    let f = parse(text).unwrap();
    assert_eq!(keywords_of(&f), ["FROM", "RUN", "USER"]);
    let Kind::Run(run) = &f.instructions[1].kind else {
        panic!()
    };
    let CommandForm::Shell { text, .. } = &run.command else {
        panic!()
    };
    assert_eq!(text, "apt-get install -y     curl     jq");
    // Every word still knows its line and column.
    let jq = f.instructions[1].args.text.find("jq").unwrap();
    assert_eq!(f.instructions[1].pos_of(jq), Pos::new(6, 5));
}

#[test]
fn heredocs_for_run_and_copy() {
    let text = "FROM debian\nRUN <<EOF\napt-get update\nFROM not-an-instruction\nEOF\nCOPY <<-\"CONF\" /etc/app.conf\n\tkey = $value\n\tCONF\nRUN <<A cat > /a && cat <<'B' > /b\none\nA\ntwo\nB\nCMD [\"x\"]\n";
    let f = parse(text).unwrap();
    assert_eq!(keywords_of(&f), ["FROM", "RUN", "COPY", "RUN", "CMD"]);
    let run = &f.instructions[1];
    assert_eq!(run.heredocs[0].name, "EOF");
    assert_eq!(
        run.heredocs[0].body,
        "apt-get update\nFROM not-an-instruction\n"
    );
    assert_eq!(run.heredocs[0].first_line, 3);
    assert_eq!(run.end_line, 5);
    let copy = &f.instructions[2];
    assert_eq!(copy.heredocs[0].body, "key = $value\n");
    assert!(copy.heredocs[0].quoted);
    let two = &f.instructions[3];
    assert_eq!(two.heredocs.len(), 2);
    assert_eq!(two.heredocs[1].body, "two\n");
}

#[test]
fn here_strings_and_spaced_markers_are_not_heredocs() {
    let f = parse("FROM debian\nRUN cat <<< \"x\"\nRUN echo '<<EOF'\nUSER nobody\n").unwrap();
    assert_eq!(keywords_of(&f), ["FROM", "RUN", "RUN", "USER"]);
}

#[test]
fn exec_and_shell_forms() {
    let f = parse("FROM debian\nCMD [\"gunicorn\", \"app:app\"]\nENTRYPOINT exec gunicorn app:app\nRUN [\"/bin/true\"]\nRUN [not json]\n").unwrap();
    let forms: Vec<bool> = f
        .instructions
        .iter()
        .filter_map(|i| match &i.kind {
            Kind::Cmd(c) | Kind::Entrypoint(c) => Some(matches!(c, CommandForm::Exec(_))),
            Kind::Run(r) => Some(matches!(r.command, CommandForm::Exec(_))),
            _ => None,
        })
        .collect();
    assert_eq!(forms, [true, false, true, false]);
}

#[test]
fn flags_of_from_run_copy_and_add() {
    let text = "FROM --platform=linux/amd64 golang:1.22 AS build\nRUN --mount=type=cache,target=/root/.cache --network=none go build\nFROM debian\nCOPY --from=build --chown=app:app --chmod=0755 /out/app /usr/bin/\nADD --checksum=sha256:abc https://x/y.tgz /tmp/\n";
    let f = parse(text).unwrap();
    let flag = |i: usize, n: &str| f.instructions[i].flag(n).and_then(|f| f.value.clone());
    assert_eq!(flag(0, "platform").as_deref(), Some("linux/amd64"));
    assert_eq!(
        flag(1, "mount").as_deref(),
        Some("type=cache,target=/root/.cache")
    );
    assert_eq!(flag(1, "network").as_deref(), Some("none"));
    assert_eq!(flag(3, "from").as_deref(), Some("build"));
    assert_eq!(flag(3, "chown").as_deref(), Some("app:app"));
    assert_eq!(flag(3, "chmod").as_deref(), Some("0755"));
    assert_eq!(flag(4, "checksum").as_deref(), Some("sha256:abc"));
    let Kind::Copy(copy) = &f.instructions[3].kind else {
        panic!()
    };
    assert_eq!(copy.sources.len(), 1);
    assert_eq!(copy.dest.raw, "/usr/bin/");
}

#[test]
fn arg_and_env_substitution_decides_the_base_image() {
    let text = "ARG REGISTRY=ghcr.io\nARG TAG\nARG VARIANT=slim\nFROM ${REGISTRY}/acme/app:${TAG:-1.2}-${VARIANT}\nFROM $TAG AS unknown\nFROM app-base AS named\nFROM named\nFROM scratch\n";
    let f = parse(text).unwrap();
    let bases: Vec<&Base> = f.stages.iter().map(|s| &s.base).collect();
    match bases[0] {
        Base::Image(n) => {
            assert_eq!(n.registry.as_deref(), Some("ghcr.io"));
            assert_eq!(n.repository, "acme/app");
            assert_eq!(n.tag.as_deref(), Some("1.2-slim"));
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(bases[1], Base::Unresolved { names, .. } if names == &["TAG"]));
    assert!(matches!(bases[3], Base::Stage(2)));
    assert_eq!(bases[4], &Base::Scratch);
}

#[test]
fn env_values_are_seen_by_later_instructions() {
    let f =
        parse("FROM debian\nARG V=1\nENV HOME=/srv/app DIR=$HOME/data\nWORKDIR $HOME\n").unwrap();
    assert_eq!(f.expand_at(3, "$HOME").value, "/srv/app");
    // Inside one ENV, the old value is seen.
    assert_eq!(f.expand_at(3, "$DIR").value, "/data");
    assert_eq!(f.expand_at(3, "$V").value, "1");
}

#[test]
fn multi_stage_names_and_lineage() {
    let f = parse("FROM golang:1.22 AS Build\nRUN go build\nFROM build AS test\nRUN go test\nFROM debian:12\nCOPY --from=build /x /x\n").unwrap();
    assert_eq!(f.stages.len(), 3);
    assert_eq!(f.stages[0].name.as_deref(), Some("build"));
    assert_eq!(f.stages[1].base, Base::Stage(0));
    assert_eq!(
        f.lineage(1).iter().map(|s| s.index).collect::<Vec<_>>(),
        [1, 0]
    );
    assert_eq!(f.final_lineage(), [2]);
}

#[test]
fn onbuild_wraps_an_instruction() {
    let f = parse(
        "FROM python:3.12\nONBUILD RUN pip install -r requirements.txt\nONBUILD COPY . /app\n",
    )
    .unwrap();
    let Kind::Onbuild(inner) = &f.instructions[1].kind else {
        panic!()
    };
    assert_eq!(inner.keyword, "RUN");
    assert_eq!(inner.pos, Pos::new(2, 9));
    assert!(matches!(f.instructions[2].effective().kind, Kind::Copy(_)));
}

#[test]
fn every_instruction_parses() {
    let text = "ARG BASE=debian:12\nFROM $BASE AS base\nLABEL org.opencontainers.image.title=\"My app\" version=1\nMAINTAINER me@example.com\nENV LANG C.UTF-8\nRUN echo hi\nCOPY a b\nADD c d\nEXPOSE 8080/tcp 9090\nVOLUME [\"/data\"]\nVOLUME /cache /tmp\nUSER app:app\nWORKDIR /srv\nSTOPSIGNAL SIGQUIT\nSHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]\nHEALTHCHECK --interval=30s --timeout=3s CMD curl -f http://127.0.0.1/ || exit 1\nHEALTHCHECK NONE\nONBUILD RUN make\nENTRYPOINT [\"/app\"]\nCMD [\"--help\"]\n";
    assert_eq!(
        keywords(text),
        [
            "ARG",
            "FROM",
            "LABEL",
            "MAINTAINER",
            "ENV",
            "RUN",
            "COPY",
            "ADD",
            "EXPOSE",
            "VOLUME",
            "VOLUME",
            "USER",
            "WORKDIR",
            "STOPSIGNAL",
            "SHELL",
            "HEALTHCHECK",
            "HEALTHCHECK",
            "ONBUILD",
            "ENTRYPOINT",
            "CMD"
        ]
    );
    let f = parse(text).unwrap();
    let Kind::Env(env) = &f.instructions[4].kind else {
        panic!()
    };
    assert_eq!(
        (env[0].key.as_str(), env[0].raw_value.as_str()),
        ("LANG", "C.UTF-8")
    );
    let Kind::Label(labels) = &f.instructions[2].kind else {
        panic!()
    };
    assert_eq!(labels.len(), 2);
    let Kind::Healthcheck(h) = &f.instructions[16].kind else {
        panic!()
    };
    assert!(h.command.is_none());
    assert_eq!(f.shell_at(17), ["/bin/bash", "-o", "pipefail", "-c"]);
}

#[test]
fn lower_case_keywords_and_crlf_line_ends() {
    let f = parse("from debian:12\r\nrun echo \\\r\n  hi\r\nuser nobody\r\n").unwrap();
    assert_eq!(keywords_of(&f), ["FROM", "RUN", "USER"]);
}

#[test]
fn syntax_errors_name_line_and_column() {
    assert_eq!(
        error("FROM debian\n  RUNN echo\n"),
        SyntaxError::new(Pos::new(2, 3), "unknown instruction `RUNN`")
    );
    let e = error("FROM debian\nRUN <<EOF\necho\n");
    assert_eq!(e.pos, Pos::new(2, 5));
    assert!(e.message.contains("never closed"), "{e}");
    assert_eq!(error("FROM a b\n").pos, Pos::new(1, 1));
    assert_eq!(error("# escape=x\nFROM a\n").pos, Pos::new(1, 1));
    assert_eq!(error("FROM a\nSHELL /bin/bash -c\n").pos, Pos::new(2, 7));
    assert_eq!(error("FROM a\nENV A=1 B\n").pos, Pos::new(2, 9));
    assert_eq!(error("FROM a\nRUN\n").pos, Pos::new(2, 1));
    assert_eq!(error("FROM a AS 1st\n").pos, Pos::new(1, 11));
    assert_eq!(error("FROM a\nONBUILD FROM b\n").pos, Pos::new(2, 9));
    assert_eq!(
        error("FROM a\n= oops\n").to_string(),
        "2:1: expected an instruction, found `=`"
    );
}

#[test]
fn every_test_dockerfile_parses() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data/dockerfiles");
    let mut count = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        if let Err(e) = parse(&text) {
            panic!("{}: {e}", path.display());
        }
        count += 1;
    }
    assert!(count >= 40, "only {count} Dockerfiles");
}

/// Never a panic: every prefix of every test Dockerfile, and each with a line dropped,
/// parses or gives an error (and linting what parses does not panic either).
#[test]
fn truncated_and_damaged_files_never_panic() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data/dockerfiles");
    for entry in std::fs::read_dir(dir).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        let mut variants: Vec<String> = text
            .char_indices()
            .map(|(i, _)| text[..i].to_owned())
            .collect();
        let lines: Vec<&str> = text.lines().collect();
        for skip in 0..lines.len() {
            let mut l = lines.clone();
            l.remove(skip);
            variants.push(l.join("\n"));
        }
        for v in variants {
            if parse(&v).is_ok() {
                pare_lint::lint(
                    &[pare_lint::Source {
                        path: "x".into(),
                        text: v,
                    }],
                    &pare_lint::Options::default(),
                );
            }
        }
    }
}
