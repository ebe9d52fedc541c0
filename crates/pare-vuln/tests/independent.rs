//! pare's matching against an evaluation written apart from it:
//! `tests/vuln/osv_eval.py` orders Debian versions with `dpkg --compare-versions`,
//! PyPI versions with Python's `packaging`, SemVer with its own code, and follows the
//! OSV schema's pseudo-code. Where the two agree on thousands of real cases, neither
//! is likely wrong; where they do not, the test names the case.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use pare_sbom::{Distro, Ecosystem, Package};
use pare_vuln::db::Database;
use pare_vuln::import::{Source, import};
use pare_vuln::matcher::match_packages;
use serde_json::Value;

fn data(rel: &str) -> PathBuf {
    PathBuf::from(format!(
        "{}/../../tests/data/vuln/{rel}",
        env!("CARGO_MANIFEST_DIR")
    ))
}

/// Runs the independent evaluator with `args`, feeding it `stdin`.
fn evaluator(args: &[&Path], stdin: &Value) -> Value {
    let script = format!(
        "{}/../../tests/vuln/osv_eval.py",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut child = Command::new("/usr/bin/python3")
        .arg(&script)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("cannot run /usr/bin/python3 ({e}): apt-get install python3 python3-packaging (tests/run installs them)")
        });
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{script} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn database(inputs: &[PathBuf]) -> (tempfile::TempDir, Database) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("advisories.sqlite");
    let sources: Vec<Source> = inputs.iter().map(|p| Source::local(p).unwrap()).collect();
    import(&path, &sources).unwrap();
    let db = Database::open(&path).unwrap();
    (dir, db)
}

/// A package as pare-sbom would list it for an OSV (ecosystem, name, version).
fn package(ecosystem: &str, name: &str, version: &str) -> (Package, Option<Distro>) {
    let (kind, distro) = match ecosystem.split_once(':') {
        Some(("Debian", release)) => (
            Ecosystem::Deb,
            Some(Distro {
                id: "debian".into(),
                version_id: release.into(),
                ..Default::default()
            }),
        ),
        _ => match ecosystem {
            "PyPI" => (Ecosystem::Python, None),
            "npm" => (Ecosystem::Npm, None),
            "Go" => (Ecosystem::Go, None),
            other => panic!("no test mapping for {other}"),
        },
    };
    let p = Package {
        name: name.into(),
        version: version.into(),
        ecosystem: kind,
        purl: format!("pkg:{}/{name}@{version}", kind.purl_type()),
        arch: None,
        source: None,
        licenses: vec![],
        found_in: "/test".into(),
        files: vec![],
    };
    (p, distro)
}

/// pare's matching record ids for each case, in the evaluator's shape.
fn pare_matches(db: &Database, cases: &[Value]) -> Vec<BTreeSet<String>> {
    cases
        .iter()
        .map(|c| {
            let s = |k: &str| c[k].as_str().unwrap();
            let (p, distro) = package(s("ecosystem"), s("name"), s("version"));
            let m = match_packages(db, &[p], distro.as_ref()).unwrap();
            m.findings.into_iter().flat_map(|f| f.records).collect()
        })
        .collect()
}

fn ids(v: &Value) -> BTreeSet<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_owned())
        .collect()
}

/// The shared oracle (31 cases on the GHSA, PYSEC, npm, Go and Debian records):
/// the oracle, the independent evaluator and pare all agree.
#[test]
fn the_shared_oracle_agrees_with_both_evaluations() {
    let inputs = [data("osv"), data("debian-osv-derived")];
    let (_dir, db) = database(&inputs);
    let oracle: Value =
        serde_json::from_slice(&std::fs::read(data("expected-matches.json")).unwrap()).unwrap();
    let cases: Vec<Value> = oracle
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            serde_json::json!({"ecosystem": c["ecosystem"], "name": c["package"], "version": c["version"]})
        })
        .collect();
    let args: Vec<&Path> = inputs.iter().map(PathBuf::as_path).collect();
    let independent = evaluator(&args, &Value::Array(cases.clone()));
    let pare = pare_matches(&db, &cases);
    for ((case, theirs), ours) in oracle
        .as_array()
        .unwrap()
        .iter()
        .zip(independent.as_array().unwrap())
        .zip(&pare)
    {
        let expected: BTreeSet<String> = case["matches"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(
            ids(&theirs["matches"]),
            expected,
            "evaluator vs oracle: {case}"
        );
        assert_eq!(ours, &expected, "pare vs oracle: {case}");
    }
}

/// Every package of both real dumps, at the versions their records name (the edges of
/// every range), plus the Go toolchain Debian's runc was built with.
#[test]
fn both_dumps_at_every_range_edge() {
    let inputs = [
        data("dumps/PyPI-pypa-advisory-database-2024-10-10.zip"),
        data("dumps/Go-vulndb-2026-08-21.zip"),
    ];
    let args: Vec<&Path> = inputs.iter().map(PathBuf::as_path).collect();
    let mut probe_args = vec![Path::new("--probes")];
    probe_args.extend(&args);
    let mut cases = evaluator(&probe_args, &Value::Null)
        .as_array()
        .unwrap()
        .clone();
    cases.push(serde_json::json!({"ecosystem": "Go", "name": "stdlib", "version": "go1.19.8"}));
    assert!(cases.len() > 4000, "{}", cases.len());
    let independent = evaluator(&args, &Value::Array(cases.clone()));
    let (_dir, db) = database(&inputs);
    let pare = pare_matches(&db, &cases);
    let mut disagreements = Vec::new();
    for ((case, theirs), ours) in cases.iter().zip(independent.as_array().unwrap()).zip(&pare) {
        let theirs = ids(&theirs["matches"]);
        if &theirs != ours {
            disagreements.push(format!(
                "{} {} {}: only pare {:?}, only the evaluator {:?}",
                case["ecosystem"],
                case["name"],
                case["version"],
                ours.difference(&theirs).collect::<Vec<_>>(),
                theirs.difference(ours).collect::<Vec<_>>()
            ));
        }
    }
    assert!(
        disagreements.is_empty(),
        "{} of {} cases differ:\n{}",
        disagreements.len(),
        cases.len(),
        disagreements[..disagreements.len().min(30)].join("\n")
    );
    // runc's Go (1.19.8) is affected by standard-library advisories fixed later.
    let runc = &pare[pare.len() - 1];
    assert!(runc.len() > 20, "{runc:?}");
}
