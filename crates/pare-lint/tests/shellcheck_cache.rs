//! shellcheck's results kept between runs: the same findings with and without the
//! cache, no shellcheck started for scripts it holds, and a miss whenever what the
//! result depends on changed or the entry is damaged. Needs the `shellcheck` program
//! (Debian package `shellcheck`), which tests/setup installs.
//!
//! shellcheck is run through a wrapper script that logs the files each call checks,
//! so the tests see exactly which scripts reached shellcheck.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use pare_lint::{Finding, Options, Source, lint, shellcheck};

const DOCKERFILE: &str = "FROM debian:12\n\
ARG version\n\
RUN apt-get update && apt-get install -y curl\n\
RUN cp $FILES /out && echo \"$version\"\n\
RUN <<EOF\nset -e\nrm -rf $DIR/\nEOF\n";

/// A folder with a logging wrapper around the real shellcheck, and a cache folder.
struct Setup {
    dir: tempfile::TempDir,
}

impl Setup {
    fn new() -> Setup {
        let setup = Setup {
            dir: tempfile::tempdir().expect("temp dir"),
        };
        setup.write_wrapper(None);
        setup
    }

    /// (Re)writes the wrapper; `version` makes it report another shellcheck version
    /// (and its bytes differ, as after an upgrade), `None` reports the real one.
    fn write_wrapper(&self, version: Option<&str>) {
        let real =
            shellcheck::find().expect("shellcheck is not installed: apt-get install -y shellcheck");
        let fake = match version {
            Some(v) => format!(
                "case \"$1\" in --version|-V) echo 'ShellCheck - shell script analysis tool'; echo 'version: {v}'; exit 0;; esac\n"
            ),
            None => String::new(),
        };
        let script = format!(
            "#!/bin/sh\n{fake}for a in \"$@\"; do case $a in *.sh) echo \"$a\" >> '{}';; esac; done\nexec '{}' \"$@\"\n",
            self.log_path().display(),
            real.display()
        );
        // A new file, as a package manager installs one (a new inode).
        let temp = self.dir.path().join("shellcheck.new");
        std::fs::write(&temp, script).expect("write wrapper");
        std::fs::set_permissions(&temp, std::fs::Permissions::from_mode(0o755))
            .expect("chmod wrapper");
        std::fs::rename(&temp, self.program()).expect("install wrapper");
    }

    fn program(&self) -> PathBuf {
        self.dir.path().join("shellcheck")
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("calls.log")
    }

    fn cache(&self) -> PathBuf {
        self.dir.path().join("cache")
    }

    /// How many scripts shellcheck was handed since the last call.
    fn checked(&self) -> usize {
        let log = std::fs::read_to_string(self.log_path()).unwrap_or_default();
        let _ = std::fs::remove_file(self.log_path());
        log.lines().count()
    }

    fn lint(&self, texts: &[&str], cached: bool) -> Vec<Vec<Finding>> {
        self.lint_into(texts, cached.then(|| self.cache()))
    }

    fn lint_into(&self, texts: &[&str], cache: Option<PathBuf>) -> Vec<Vec<Finding>> {
        let sources: Vec<Source> = texts
            .iter()
            .enumerate()
            .map(|(i, text)| Source {
                path: format!("{i}/Dockerfile"),
                text: (*text).into(),
            })
            .collect();
        let report = lint(
            &sources,
            &Options {
                config: Default::default(),
                shellcheck: Some(self.program()),
                shellcheck_cache: cache,
            },
        );
        assert_eq!(report.shellcheck_error, None);
        report.files.into_iter().map(|f| f.findings).collect()
    }

    /// The cached results (not the remembered versions).
    fn entries(&self) -> Vec<PathBuf> {
        std::fs::read_dir(self.cache())
            .map(|d| {
                d.filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|x| x == "json"))
                    .collect()
            })
            .unwrap_or_default()
    }
}

fn has_shellcheck_findings(found: &[Vec<Finding>]) -> bool {
    found.iter().flatten().any(|f| f.rule.starts_with("SC"))
}

#[test]
fn a_rerun_starts_no_shellcheck_and_finds_the_same() {
    let setup = Setup::new();
    let uncached = setup.lint(&[DOCKERFILE], false);
    assert!(has_shellcheck_findings(&uncached), "{uncached:?}");
    assert_eq!(setup.checked(), 3);
    assert!(setup.entries().is_empty(), "--no-cache saves nothing");

    let cold = setup.lint(&[DOCKERFILE], true);
    assert_eq!(setup.checked(), 3);
    assert_eq!(setup.entries().len(), 3);
    let warm = setup.lint(&[DOCKERFILE], true);
    assert_eq!(setup.checked(), 0, "every script was cached");
    assert_eq!(cold, uncached);
    assert_eq!(warm, uncached);
}

#[test]
fn each_distinct_script_is_checked_once_per_run() {
    let setup = Setup::new();
    let other = DOCKERFILE.replace("curl", "wget");
    let found = setup.lint(&[DOCKERFILE, DOCKERFILE, &other], false);
    // Three scripts in the first file, one new in the third.
    assert_eq!(setup.checked(), 4);
    assert_eq!(found[0].len(), found[1].len());
    assert!(has_shellcheck_findings(&found[1..2]), "{found:?}");
}

#[test]
fn a_changed_script_misses_the_cache() {
    let setup = Setup::new();
    let sc2086_on_line_4 = |found: &[Vec<Finding>]| {
        found[0]
            .iter()
            .any(|f| f.rule == "SC2086" && f.line() == Some(4))
    };
    let before = setup.lint(&[DOCKERFILE], true);
    assert!(sc2086_on_line_4(&before), "{before:?}");
    setup.checked();
    let changed = DOCKERFILE.replace("$FILES", "\"$FILES\"");
    let found = setup.lint(&[&changed], true);
    assert_eq!(setup.checked(), 1, "only the changed script is checked");
    assert_eq!(found, setup.lint(&[&changed], false));
    assert!(
        !sc2086_on_line_4(&found),
        "the old script's finding is gone: {found:?}"
    );
}

#[test]
fn declared_names_are_part_of_the_key() {
    let setup = Setup::new();
    let undeclared = DOCKERFILE.replace("ARG version\n", "");
    let with = setup.lint(&[DOCKERFILE], true);
    setup.checked();
    let without = setup.lint(&[&undeclared], true);
    assert_eq!(
        setup.checked(),
        3,
        "every script after the ARG is checked again"
    );
    assert!(
        without[0].iter().any(|f| f.rule == "SC2154")
            && !with[0].iter().any(|f| f.rule == "SC2154"),
        "{with:?}\n{without:?}"
    );
}

#[test]
fn another_shellcheck_version_misses_the_cache() {
    let setup = Setup::new();
    let real = setup.lint(&[DOCKERFILE], true);
    setup.checked();

    setup.write_wrapper(Some("0.0.1-pare-test"));
    let found = setup.lint(&[DOCKERFILE], true);
    assert_eq!(
        setup.checked(),
        3,
        "another version checks every script again"
    );
    assert_eq!(found, real);
    setup.lint(&[DOCKERFILE], true);
    assert_eq!(setup.checked(), 0, "and keeps its own results");

    // Back to the real version (a new program file, the same version): its
    // results are still there.
    setup.write_wrapper(None);
    assert_eq!(setup.lint(&[DOCKERFILE], true), real);
    assert_eq!(setup.checked(), 0, "the version, not the file, is the key");
}

#[test]
fn a_damaged_version_record_is_asked_again() {
    let setup = Setup::new();
    let fresh = setup.lint(&[DOCKERFILE], true);
    setup.checked();
    let programs = setup.cache().join("programs");
    let records: Vec<PathBuf> = std::fs::read_dir(&programs)
        .expect("the version was remembered")
        .map(|e| e.expect("entry").path())
        .collect();
    assert_eq!(records.len(), 1, "{records:?}");
    std::fs::write(&records[0], b"\xff\n\x00garbage\nmore").expect("damage the record");
    assert_eq!(setup.lint(&[DOCKERFILE], true), fresh);
    assert_eq!(
        setup.checked(),
        0,
        "the results stay keyed by the real version"
    );
    let version = std::fs::read_to_string(&records[0]).expect("rewritten as text");
    assert!(!version.contains("garbage"), "{version:?}");
}

#[test]
fn damaged_entries_are_ignored_and_rewritten() {
    let setup = Setup::new();
    let fresh = setup.lint(&[DOCKERFILE], true);
    setup.checked();
    let entries = setup.entries();
    let damage: [&[u8]; 3] = [b"", b"{\"comments\": [{\"line\": 1", b"\xff\xfe not json"];
    for (path, bytes) in entries.iter().zip(damage) {
        std::fs::write(path, bytes).expect("damage an entry");
    }
    let found = setup.lint(&[DOCKERFILE], true);
    assert_eq!(found, fresh);
    assert_eq!(setup.checked(), 3, "every damaged entry was checked again");
    for path in &entries {
        let bytes = std::fs::read(path).expect("rewritten");
        serde_json::from_slice::<serde_json::Value>(&bytes)
            .unwrap_or_else(|e| panic!("{} not rewritten: {e}", path.display()));
    }
    setup.lint(&[DOCKERFILE], true);
    assert_eq!(setup.checked(), 0);
}

#[test]
fn an_unwritable_cache_is_no_cache() {
    let setup = Setup::new();
    let blocked = setup.dir.path().join("a-file");
    std::fs::write(&blocked, b"not a folder").expect("write");
    let found = setup.lint_into(&[DOCKERFILE], Some(blocked.join("cache")));
    assert_eq!(found, setup.lint(&[DOCKERFILE], false));
}
