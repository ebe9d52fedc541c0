//! shellcheck's findings land on the Dockerfile's own lines and columns. Needs the
//! `shellcheck` program (Debian package `shellcheck`), which tests/setup installs.

use pare_lint::{Location, Options, Source, lint, shellcheck};

fn sc_findings(text: &str) -> Vec<(String, usize, usize)> {
    let program =
        shellcheck::find().expect("shellcheck is not installed: apt-get install -y shellcheck");
    let report = lint(
        &[Source {
            path: "Dockerfile".into(),
            text: text.into(),
        }],
        &Options {
            config: Default::default(),
            shellcheck: Some(program),
            shellcheck_cache: None,
        },
    );
    assert_eq!(report.shellcheck_error, None);
    report.files[0]
        .findings
        .iter()
        .filter(|f| f.rule.starts_with("SC"))
        .map(|f| match &f.location {
            Location::File { line, column, .. } => (f.rule.clone(), *line, *column),
            Location::Image { .. } => unreachable!(),
        })
        .collect()
}

#[test]
fn findings_in_a_continued_run_point_at_the_continuation_line() {
    let text = "FROM debian:12\nRUN mkdir -p /out \\\n    && cp $FILES /out\n";
    assert_eq!(sc_findings(text), [("SC2086".into(), 3, 11)]);
}

#[test]
fn arg_and_env_names_are_declared() {
    let text =
        "FROM debian:12\nARG VERSION=1\nENV HOME_DIR=/srv\nRUN echo \"$VERSION\" \"$HOME_DIR\"\n";
    assert_eq!(sc_findings(text), []);
}

#[test]
fn heredoc_bodies_are_checked_at_their_lines() {
    let text =
        "FROM debian:12\nRUN <<EOF\nset -e\nrm -rf $DIR/\nEOF\nRUN python3 <<EOF\nprint($1)\nEOF\n";
    let found = sc_findings(text);
    assert!(found.contains(&("SC2115".into(), 4, 8)), "{found:?}");
    assert!(found.iter().all(|(_, l, _)| *l == 4), "{found:?}");
}

#[test]
fn tab_stripped_heredoc_columns_count_the_tabs() {
    let text = "FROM debian:12\nRUN <<-EOF\n\tset -e\n\trm -rf $DIR/\n\tEOF\n";
    let found = sc_findings(text);
    assert!(found.contains(&("SC2115".into(), 4, 9)), "{found:?}");
}

#[test]
fn shellcheck_ignores_apply() {
    let text = "FROM debian:12\n# hadolint ignore=SC2086,SC2154\nRUN cp $FILES /out\n";
    assert_eq!(sc_findings(text), []);
}

#[test]
fn non_posix_shells_are_not_checked() {
    let text = "FROM mcr.microsoft.com/windows/servercore:ltsc2022\nSHELL [\"powershell\", \"-Command\"]\nRUN echo $env:PATH\n";
    assert_eq!(sc_findings(text), []);
}
