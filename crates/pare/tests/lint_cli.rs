//! `pare lint` through the real binary: formats, exit codes, errors, ignores, config.

mod support;

use std::path::Path;
use std::process::Command;

use support::Run;

/// Runs pare in `dir` (so paths print relative and `.pare.toml` is found there).
fn pare_in(dir: &Path, args: &[&str]) -> Run {
    pare_in_env(dir, args, &[])
}

fn pare_in_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_pare"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        // shellcheck's results are kept beside the files, never in the home folder.
        .env("PARE_CACHE_DIR", cache_of(dir))
        .envs(env.iter().copied())
        .output()
        .expect("run pare");
    Run {
        command: format!("(cd {}; pare {})", dir.display(), args.join(" ")),
        output,
    }
}

fn cache_of(dir: &Path) -> std::path::PathBuf {
    dir.join(".pare-cache")
}

const BAD: &str = "FROM python:latest
MAINTAINER jane@example.org
COPY . /app
RUN apt-get update
RUN apt-get install -y python3-dev \\
    build-essential
RUN cd /app && pip install flask
CMD gunicorn --bind 0.0.0.0:5000 app:app
";

const GOOD: &str =
    "FROM debian:12@sha256:2bac43769ace90ebd3ad83e5392295e25dfc58e58543d3ab326c3330b505283d
USER nobody
ENTRYPOINT [\"/bin/true\"]
";

/// Only warnings and infos: PL101 (warning) and PL103-free.
const WARN_ONLY: &str = "FROM debian:latest\nUSER nobody\nENTRYPOINT [\"/bin/true\"]\n";

/// Only an info: PL103.
const INFO_ONLY: &str = "FROM debian:12\nUSER nobody\nENTRYPOINT [\"/bin/true\"]\n";

fn dir_with(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = support::temp_dir();
    for (name, text) in files {
        let path = dir.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(path, text).unwrap();
    }
    dir
}

#[test]
fn human_output() {
    let dir = dir_with(&[("Dockerfile", BAD)]);
    let run = pare_in(dir.path(), &["lint", "--no-shellcheck", "Dockerfile"]).exits(1);
    insta::assert_snapshot!("human_bad_dockerfile", run.stdout());
    assert_eq!(run.stderr(), "");
}

#[test]
fn exit_codes_follow_fail_on() {
    let dir = dir_with(&[
        ("bad.Dockerfile", BAD),
        ("good.Dockerfile", GOOD),
        ("warn.Dockerfile", WARN_ONLY),
        ("info.Dockerfile", INFO_ONLY),
    ]);
    let p = dir.path();
    let lint = |args: &[&str]| {
        let mut all = vec!["lint", "--no-shellcheck"];
        all.extend_from_slice(args);
        pare_in(p, &all)
    };
    lint(&["good.Dockerfile"]).exits(0);
    lint(&["warn.Dockerfile"]).exits(1);
    lint(&["--fail-on", "error", "warn.Dockerfile"]).exits(0);
    lint(&["--fail-on", "error", "bad.Dockerfile"]).exits(0);
    lint(&["--fail-on", "none", "bad.Dockerfile"]).exits(0);
    lint(&["info.Dockerfile"]).exits(0);
    lint(&["--fail-on", "info", "info.Dockerfile"]).exits(1);
    lint(&["--fail-on", "style", "good.Dockerfile"]).exits(0);
    let run = lint(&["--fail-on", "loud", "good.Dockerfile"]).exits(2);
    assert!(
        run.stderr().contains("unknown severity"),
        "{}",
        run.explain()
    );
}

#[test]
fn json_output() {
    let dir = dir_with(&[("Dockerfile", BAD)]);
    let run = pare_in(dir.path(), &["lint", "--no-shellcheck", "--format", "json"]).exits(1);
    let doc = run.json();
    assert_eq!(doc["schema"], "pare.lint/v1");
    let findings = doc["files"][0]["findings"].as_array().unwrap();
    let latest = findings.iter().find(|f| f["rule"] == "PL101").unwrap();
    assert_eq!(latest["name"], "base-latest");
    assert_eq!(latest["severity"], "warning");
    assert_eq!(latest["file"], "Dockerfile");
    assert_eq!(
        (latest["line"].as_u64(), latest["column"].as_u64()),
        (Some(1), Some(6))
    );
    // A finding on a continuation line knows its instruction's lines.
    let unpinned = findings.iter().find(|f| f["rule"] == "PL205").unwrap();
    assert_eq!(
        (
            unpinned["instruction_line"].as_u64(),
            unpinned["end_line"].as_u64()
        ),
        (Some(5), Some(6))
    );
    assert_eq!(
        doc["summary"]["warning"].as_u64(),
        Some(
            findings
                .iter()
                .filter(|f| f["severity"] == "warning")
                .count() as u64
        )
    );
}

#[test]
fn sarif_is_valid_against_the_official_schema() {
    let validator = support::schema::validator("sarif-schema-2.1.0.json");
    let dir = dir_with(&[
        ("Dockerfile", BAD),
        ("broken.Dockerfile", "FROM debian:12\nRUNN x\n"),
        ("dir with space/Dockerfile", WARN_ONLY),
    ]);
    let run = pare_in(dir.path(), &["lint", "--format", "sarif", "."]).exits(2);
    let log = run.json();
    let errors: Vec<String> = validator
        .iter_errors(&log)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}\n{}", run.explain());
    let results = log["runs"][0]["results"].as_array().unwrap();
    assert!(
        results
            .iter()
            .any(|r| r["ruleId"] == "PL101" && r["level"] == "warning")
    );
    let rules = log["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    assert!(
        rules
            .iter()
            .any(|r| r["id"] == "PL101" && r["properties"]["tags"][1] == "hadolint:DL3007")
    );
    let invocation = &log["runs"][0]["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], false);
    assert!(
        invocation["toolExecutionNotifications"][0]["message"]["text"]
            .as_str()
            .unwrap()
            .contains("RUNN")
    );
}

#[test]
fn checkstyle_and_github_formats() {
    let dir = dir_with(&[("Dockerfile", BAD)]);
    let xml = pare_in(
        dir.path(),
        &["lint", "--no-shellcheck", "--format", "checkstyle"],
    )
    .exits(1)
    .stdout();
    assert!(xml.starts_with("<?xml"), "{xml}");
    assert!(xml.contains("<file name=\"Dockerfile\">"), "{xml}");
    assert!(
        xml.contains("<error line=\"1\" column=\"6\" severity=\"warning\""),
        "{xml}"
    );
    assert!(xml.contains("source=\"pare.PL101\""), "{xml}");
    let gh = pare_in(
        dir.path(),
        &["lint", "--no-shellcheck", "--format", "github"],
    )
    .exits(1)
    .stdout();
    assert!(
        gh.lines().any(|l| l.starts_with(
            "::warning file=Dockerfile,line=1,col=6,endLine=1,title=PL101 base-latest::"
        )),
        "{gh}"
    );
    assert!(
        gh.lines()
            .any(|l| l.starts_with("::notice file=Dockerfile,line=2,")),
        "{gh}"
    );
}

#[test]
fn a_syntax_error_is_reported_and_the_other_files_still_linted() {
    let dir = dir_with(&[
        ("a.Dockerfile", "FROM debian:12\n  RUNN echo\n"),
        ("b.Dockerfile", WARN_ONLY),
        ("c.Dockerfile", "FROM debian:12\nRUN <<EOF\necho\n"),
    ]);
    let run = pare_in(
        dir.path(),
        &[
            "lint",
            "--no-shellcheck",
            "a.Dockerfile",
            "b.Dockerfile",
            "c.Dockerfile",
        ],
    )
    .exits(2);
    let err = run.stderr();
    assert!(
        err.contains("pare: error: a.Dockerfile:2:3: unknown instruction `RUNN`"),
        "{}",
        run.explain()
    );
    assert!(
        err.contains("pare: error: c.Dockerfile:2:5: heredoc `EOF` is never closed"),
        "{}",
        run.explain()
    );
    assert!(
        run.stdout().contains("b.Dockerfile:1:6  warning  PL101"),
        "{}",
        run.explain()
    );
    assert!(
        run.stdout().contains("2 could not be checked"),
        "{}",
        run.explain()
    );
}

#[test]
fn missing_files_and_empty_folders_are_errors() {
    let dir = dir_with(&[("good.Dockerfile", GOOD), ("empty/README", "x")]);
    let run = pare_in(
        dir.path(),
        &[
            "lint",
            "--no-shellcheck",
            "nope.Dockerfile",
            "good.Dockerfile",
        ],
    )
    .exits(2);
    assert!(
        run.stderr()
            .contains("pare: error: nope.Dockerfile: cannot read"),
        "{}",
        run.explain()
    );
    let run = pare_in(dir.path(), &["lint", "empty"]).exits(2);
    assert!(
        run.stderr().contains("empty: no Dockerfile"),
        "{}",
        run.explain()
    );
}

#[test]
fn folders_are_searched_for_dockerfiles() {
    let dir = dir_with(&[
        ("Dockerfile", WARN_ONLY),
        ("services/api.Dockerfile", WARN_ONLY),
        ("services/Containerfile", WARN_ONLY),
        ("notes.txt", "FROM x"),
        ("node_modules/x/Dockerfile", WARN_ONLY),
    ]);
    let run = pare_in(dir.path(), &["lint", "--no-shellcheck", "--format", "json"]).exits(1);
    let files: Vec<String> = run.json()["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        files,
        [
            "Dockerfile",
            "services/Containerfile",
            "services/api.Dockerfile"
        ]
    );
}

#[test]
fn standard_input() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_pare"))
        .args(["lint", "--no-shellcheck", "--format", "json", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(WARN_ONLY.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["files"][0]["path"], "-");
    assert_eq!(doc["files"][0]["findings"][0]["rule"], "PL101");
}

#[test]
fn inline_ignores_pare_and_hadolint_style() {
    let text = "FROM debian:12\n# hadolint ignore=DL3003\nRUN cd /tmp && ls\n# pare-ignore=base-latest\nFROM debian:latest\nUSER nobody\n";
    let dir = dir_with(&[("Dockerfile", text)]);
    let run = pare_in(dir.path(), &["lint", "--no-shellcheck", "--format", "json"]);
    let rules: Vec<String> = run.json()["files"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        !rules.contains(&"PL404".to_owned()) && !rules.contains(&"PL101".to_owned()),
        "{rules:?}"
    );
    assert!(rules.contains(&"PL103".to_owned()), "{rules:?}");
}

#[test]
fn config_file_in_the_current_folder_or_above() {
    let dir = dir_with(&[
        (
            ".pare.toml",
            "[lint]\nignore = [\"DL3007\"]\nfail-on = \"info\"\n\n[lint.severity]\nPL103 = \"style\"\n",
        ),
        ("sub/Dockerfile", WARN_ONLY),
        ("sub/info.Dockerfile", INFO_ONLY),
    ]);
    let sub = dir.path().join("sub");
    // PL101 ignored; fail-on info but PL103 is now style: exit 0.
    let run = pare_in(
        &sub,
        &[
            "lint",
            "--no-shellcheck",
            "--format",
            "json",
            "info.Dockerfile",
            "Dockerfile",
        ],
    )
    .exits(0);
    let findings = run.json()["files"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["findings"].as_array().unwrap().clone())
        .collect::<Vec<_>>();
    assert!(
        findings.iter().all(|f| f["rule"] != "PL101"),
        "{findings:?}"
    );
    assert!(
        findings
            .iter()
            .any(|f| f["rule"] == "PL103" && f["severity"] == "style"),
        "{findings:?}"
    );
    // --fail-on on the command line wins over the file.
    pare_in(
        &sub,
        &[
            "lint",
            "--no-shellcheck",
            "--fail-on",
            "style",
            "info.Dockerfile",
        ],
    )
    .exits(1);
    // An explicit --config replaces discovery.
    std::fs::write(
        dir.path().join("other.toml"),
        "[lint]\nignore = [\"nonsense\"]\n",
    )
    .unwrap();
    let run = pare_in(&sub, &["lint", "--config", "../other.toml", "Dockerfile"]).exits(2);
    assert!(
        run.stderr()
            .contains("../other.toml: unknown rule \"nonsense\""),
        "{}",
        run.explain()
    );
    std::fs::write(dir.path().join(".pare.toml"), "[lint\n").unwrap();
    let run = pare_in(&sub, &["lint", "Dockerfile"]).exits(2);
    assert!(run.stderr().contains(".pare.toml"), "{}", run.explain());
}

#[test]
fn explain_and_rule_list() {
    let dir = support::temp_dir();
    let run = pare_in(dir.path(), &["lint", "--explain", "DL3007"]).exits(0);
    assert!(
        run.stdout()
            .starts_with("PL101 base-latest (warning, Dockerfile; hadolint DL3007)\n"),
        "{}",
        run.explain()
    );
    let run = pare_in(dir.path(), &["lint", "--explain", "root-user"]).exits(0);
    assert!(
        run.stdout().contains("not switch back to\nroot")
            || run.stdout().contains("not switch back to root"),
        "{}",
        run.explain()
    );
    pare_in(dir.path(), &["lint", "--explain", "SC2086"]).exits(0);
    let run = pare_in(dir.path(), &["lint", "--explain", "PL999"]).exits(2);
    assert!(
        run.stderr().contains("no rule called \"PL999\""),
        "{}",
        run.explain()
    );
    let list = pare_in(dir.path(), &["lint", "--rules"]).exits(0).stdout();
    assert_eq!(list.lines().count(), pare_lint::catalog::RULES.len());
}

#[test]
fn shellcheck_findings_use_dockerfile_lines() {
    pare_lint::shellcheck::find()
        .expect("shellcheck is not installed: apt-get install -y shellcheck");
    let dir = dir_with(&[(
        "Dockerfile",
        "FROM debian:12\nRUN mkdir -p /out \\\n && cp $FILES /out\nUSER nobody\n",
    )]);
    let run = pare_in(
        dir.path(),
        &["lint", "--format", "json", "--fail-on", "none"],
    )
    .exits(0);
    let findings = run.json()["files"][0]["findings"]
        .as_array()
        .unwrap()
        .clone();
    let sc = findings
        .iter()
        .find(|f| f["rule"] == "SC2086")
        .unwrap_or_else(|| panic!("{}", run.explain()));
    assert_eq!(
        (sc["line"].as_u64(), sc["column"].as_u64()),
        (Some(3), Some(8))
    );
    // A user's GHCRTS (for their own Haskell programs) is not shellcheck's: Debian's
    // shellcheck refuses to start with RTS options, which lost every SC finding.
    let ghcrts = pare_in_env(
        dir.path(),
        &[
            "lint",
            "--format",
            "json",
            "--fail-on",
            "none",
            "--no-cache",
        ],
        &[("GHCRTS", "-A64m")],
    )
    .exits(0);
    assert!(!ghcrts.stderr().contains("warning"), "{}", ghcrts.explain());
    assert_eq!(ghcrts.json()["files"], run.json()["files"]);
    let quiet = pare_in(
        dir.path(),
        &[
            "lint",
            "--format",
            "json",
            "--no-shellcheck",
            "--fail-on",
            "none",
        ],
    )
    .json();
    assert!(
        quiet["files"][0]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["rule"] != "SC2086")
    );
}

/// Without shellcheck on PATH the SC findings are missing, which must not read as a
/// clean result: pare says so once, naming the package, and not when told to skip it
/// or when there is no RUN script to check.
#[test]
fn a_missing_shellcheck_is_said_once_with_its_package() {
    let dir = dir_with(&[
        ("a/Dockerfile", "FROM debian:12\nRUN cp $FILES /out\n"),
        ("b/Dockerfile", "FROM debian:12\nRUN echo $HOME\nRUN true\n"),
        ("c/Dockerfile", "FROM debian:12\nUSER nobody\n"),
    ]);
    let no_shellcheck = support::temp_dir();
    let path = no_shellcheck.path().display().to_string();
    let without = |args: &[&str]| pare_in_env(dir.path(), args, &[("PATH", path.as_str())]);
    let args = ["lint", "--fail-on", "none", "--no-cache", "."];

    let run = without(&args).exits(0);
    let stderr = run.stderr();
    assert_eq!(
        stderr.matches("shellcheck is not installed").count(),
        1,
        "{}",
        run.explain()
    );
    assert!(
        stderr.contains("3 RUN scripts") && stderr.contains("apt-get install shellcheck"),
        "{}",
        run.explain()
    );
    assert!(!run.stdout().contains("SC2086"), "{}", run.explain());

    let told = without(&[&args[..], &["--no-shellcheck"]].concat()).exits(0);
    assert!(!told.stderr().contains("shellcheck"), "{}", told.explain());
    let no_run = without(&["lint", "--fail-on", "none", "c/Dockerfile"]).exits(0);
    assert!(
        !no_run.stderr().contains("shellcheck"),
        "{}",
        no_run.explain()
    );
}

#[test]
fn shellcheck_results_are_kept_in_the_cache_dir_and_change_nothing() {
    pare_lint::shellcheck::find()
        .expect("shellcheck is not installed: apt-get install -y shellcheck");
    let script = "RUN cp $FILES /out && echo `date` > /stamp\n";
    let dir = dir_with(&[
        (
            "a/Dockerfile",
            &format!("FROM debian:12\n{script}USER nobody\n"),
        ),
        (
            "b/Dockerfile",
            &format!("FROM debian:12\nUSER nobody\n{script}"),
        ),
    ]);
    let args = ["lint", "--format", "json", "--fail-on", "none", "."];
    let uncached = pare_in(dir.path(), &[&args[..], &["--no-cache"]].concat()).exits(0);
    assert!(
        !cache_of(dir.path()).exists(),
        "--no-cache keeps nothing: {}",
        uncached.explain()
    );
    let cold = pare_in(dir.path(), &args).exits(0);
    let kept = std::fs::read_dir(cache_of(dir.path()).join("shellcheck"))
        .unwrap_or_else(|e| panic!("nothing kept ({e}): {}", cold.explain()))
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "json"))
        })
        .count();
    assert_eq!(kept, 1, "one script, the same in both files, is kept once");
    let warm = pare_in(dir.path(), &args).exits(0);
    assert!(cold.stdout().contains("SC2086"), "{}", cold.explain());
    assert_eq!(cold.stdout(), uncached.stdout());
    assert_eq!(warm.stdout(), uncached.stdout());
}

#[test]
fn the_test_images_dockerfiles_lint_cleanly_but_for_infos() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/images");
    let run = pare_in(
        Path::new(root),
        &["lint", "--no-shellcheck", "--format", "json", "."],
    );
    let doc = run.json();
    let rules: Vec<(String, String)> = doc["files"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| {
            f["findings"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| {
                    (
                        f["path"].as_str().unwrap().to_owned(),
                        x["rule"].as_str().unwrap().to_owned(),
                    )
                })
                .collect::<Vec<_>>()
        })
        .collect();
    // The layers image runs as root on purpose; the services have no HEALTHCHECK.
    assert!(
        rules.contains(&("layers/Dockerfile".into(), "PL301".into())),
        "{rules:?}"
    );
    assert!(
        rules.contains(&("flask/Dockerfile".into(), "PL407".into())),
        "{rules:?}"
    );
    assert!(
        !rules.iter().any(|(f, _)| f == "cli/Dockerfile"),
        "{rules:?}"
    );
}
