//! `pare scan` and `pare db` on the real vulnapp test image and the real advisory data
//! (tests/data/vuln). What pare finds is compared with an evaluation written apart
//! from it (tests/vuln/osv_eval.py) of the packages the package managers themselves
//! list inside a container of the image, never with pare's own earlier output.

mod support;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{Value, json};
use support::advisories::{Db, data, record_sets};
use support::bucket::{Answer, Bucket};
use support::schema::validate;
use support::{in_container, pare, temp_dir, test_image};

fn vulnapp() -> String {
    test_image("vulnapp").archive_ref()
}

/// (OSV ecosystem, name, version) of every package in the image, as dpkg, pip, node
/// and runc report them inside a container; Debian packages by source.
fn packages_in_container(image: &str) -> BTreeSet<(String, String, String)> {
    let mut out = BTreeSet::new();
    let dpkg = in_container(
        image,
        "dpkg-query",
        &["-W", "-f", "${source:Package}\t${source:Version}\n"],
    )
    .stdout();
    for line in dpkg.lines() {
        let (name, version) = line.split_once('\t').expect("source\tversion");
        out.insert(("Debian:12".into(), name.into(), version.into()));
    }
    let pip: Value = serde_json::from_str(
        &in_container(
            image,
            "/opt/venv/bin/pip",
            &["list", "--format", "json", "--disable-pip-version-check"],
        )
        .stdout(),
    )
    .expect("pip list JSON");
    for p in pip.as_array().unwrap() {
        let (name, version) = (p["name"].as_str().unwrap(), p["version"].as_str().unwrap());
        out.insert((
            "PyPI".into(),
            pare_sbom::normalize_pypi_name(name),
            version.into(),
        ));
    }
    let script = r#"
const fs = require('fs'), path = require('path');
function walk(dir) {
  let names = [];
  try { names = fs.readdirSync(dir); } catch (e) { return; }
  for (const n of names) {
    if (n.startsWith('.')) continue;
    const d = path.join(dir, n);
    try {
      const j = JSON.parse(fs.readFileSync(path.join(d, 'package.json'), 'utf8'));
      console.log(j.name + '\t' + j.version);
    } catch (e) {}
    walk(path.join(d, 'node_modules'));
  }
}
walk('/opt/js/node_modules');
"#;
    for line in in_container(image, "/usr/bin/node", &["-e", script])
        .stdout()
        .lines()
    {
        let (name, version) = line.split_once('\t').expect("name\tversion");
        out.insert(("npm".into(), name.into(), version.into()));
    }
    let runc = in_container(image, "/usr/sbin/runc", &["--version"]).stdout();
    let go = runc
        .lines()
        .find_map(|l| l.strip_prefix("go: "))
        .expect("runc --version names its Go");
    out.insert(("Go".into(), "stdlib".into(), go.into()));
    out
}

/// The independent evaluation: which records of `sets` affect each package.
fn evaluate(
    packages: &BTreeSet<(String, String, String)>,
    sets: &[PathBuf],
) -> BTreeMap<(String, String, String), BTreeSet<String>> {
    let input: Vec<Value> = packages
        .iter()
        .map(|(e, n, v)| json!({"ecosystem": e, "name": n, "version": v}))
        .collect();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/vuln/osv_eval.py");
    let mut child = Command::new("/usr/bin/python3")
        .arg(&script)
        .args(sets)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| support::cannot_run("/usr/bin/python3", &e));
    child
        .stdin
        .take()
        .unwrap()
        .write_all(Value::Array(input).to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{} failed: {}",
        script.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let result: Value = serde_json::from_slice(&out.stdout).unwrap();
    result
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| !p["matches"].as_array().unwrap().is_empty())
        .map(|p| {
            let s = |k: &str| p[k].as_str().unwrap().to_owned();
            let ids = p["matches"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m.as_str().unwrap().to_owned())
                .collect();
            ((s("ecosystem"), s("name"), s("version")), ids)
        })
        .collect()
}

/// pare's findings in the same shape: the records matched per package as the
/// advisory names it.
fn by_advisory_package(findings: &Value) -> BTreeMap<(String, String, String), BTreeSet<String>> {
    let mut out: BTreeMap<(String, String, String), BTreeSet<String>> = BTreeMap::new();
    for f in findings.as_array().unwrap() {
        let a = &f["advisory_package"];
        let key = (
            a["ecosystem"].as_str().unwrap().to_owned(),
            a["name"].as_str().unwrap().to_owned(),
            a["version"].as_str().unwrap().to_owned(),
        );
        out.entry(key).or_default().extend(
            f["records"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r.as_str().unwrap().to_owned()),
        );
    }
    out
}

fn ids_of(findings: &Value, package: &str, version: &str) -> BTreeSet<String> {
    findings
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["package"]["name"] == package && f["package"]["version"] == version)
        .map(|f| f["id"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn vulnapp_findings_equal_an_independent_evaluation() {
    if support::skip_without_engine() {
        return;
    }
    let image = test_image("vulnapp");
    let expected = evaluate(&packages_in_container(&image.image), &record_sets());
    let db = Db::new();
    let report = db
        .scan(&image.archive_ref(), &["--format", "json"])
        .success()
        .json();
    let got = by_advisory_package(&report["findings"]);
    assert_eq!(got, expected);

    // What that means, spelled out for the packages the image was built around.
    let findings = &report["findings"];
    // minimist twice: 1.2.5 (top level) and 0.0.10 (under optimist, never imported).
    assert_eq!(
        ids_of(findings, "minimist", "1.2.5"),
        BTreeSet::from(["GHSA-xvch-5gv4-984h".to_owned()])
    );
    assert_eq!(
        ids_of(findings, "minimist", "0.0.10"),
        BTreeSet::from(["GHSA-xvch-5gv4-984h".to_owned()])
    );
    // Flask 2.2.2: the GHSA and the PYSEC record are one finding, fixed in 2.2.5.
    let flask: Vec<&Value> = findings
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["package"]["name"] == "Flask")
        .collect();
    assert_eq!(flask.len(), 1);
    assert_eq!(flask[0]["id"], "GHSA-m2qf-hxjv-5gpq");
    assert_eq!(flask[0]["fixed"], "2.2.5");
    assert_eq!(flask[0]["severity"], "high");
    assert!(
        flask[0]["package"]["files"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f == "/opt/venv/lib/python3.11/site-packages/flask/app.py")
    );
    // Never imported, still installed: PyJWT 1.7.1 (CVE-2022-29217, fixed in 2.4.0).
    assert_eq!(
        ids_of(findings, "PyJWT", "1.7.1"),
        BTreeSet::from(["PYSEC-2022-202".to_owned()])
    );
    // Debian's runc, a Go binary: the standard library of its Go (1.19.8).
    let stdlib = findings
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["package"]["name"] == "stdlib")
        .inspect(|f| assert_eq!(f["package"]["files"], json!(["/usr/sbin/runc"])))
        .count();
    assert!(stdlib > 20, "{stdlib}");
    // Debian advisories are keyed by source package: perl-base is perl's.
    let perl = findings
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "DEBIAN-CVE-2011-4116")
        .expect("CVE-2011-4116 (perl, unfixed, unimportant)");
    assert_eq!(perl["package"]["name"], "perl-base");
    assert_eq!(perl["advisory_package"]["name"], "perl");
    assert_eq!(perl["severity"], "negligible");
    // The counts agree with the list.
    let summary = &report["summary"];
    assert_eq!(
        summary["vulnerabilities"],
        findings.as_array().unwrap().len()
    );
    let by_level: u64 = ["critical", "high", "medium", "low", "negligible", "unknown"]
        .iter()
        .map(|l| summary[l].as_u64().unwrap())
        .sum();
    assert_eq!(by_level, summary["vulnerabilities"].as_u64().unwrap());
    assert_eq!(summary["critical"], 2, "the two minimist findings");
}

/// [`evaluate`], with a Red Hat or SUSE release's packages evaluated in each of the
/// repositories or modules its records are filed under, and the matches put back
/// together under the release.
fn evaluate_in_repositories(
    packages: &BTreeSet<(String, String, String)>,
    sets: &[PathBuf],
) -> BTreeMap<(String, String, String), BTreeSet<String>> {
    // Written out here rather than taken from pare: which repositories a release
    // draws from is part of what is checked.
    let repositories = |ecosystem: &str| -> Vec<String> {
        if ecosystem.starts_with("Red Hat:") {
            let mut all = vec![ecosystem.to_owned()];
            all.extend(["baseos", "appstream", "crb"].map(|r| format!("{ecosystem}::{r}")));
            all
        } else if let Some(sp) = ecosystem.strip_prefix("SUSE:Linux Enterprise Server ") {
            vec![
                ecosystem.to_owned(),
                format!("SUSE:Linux Enterprise Module for Basesystem {sp}"),
                format!("SUSE:Linux Enterprise Module for Server Applications {sp}"),
            ]
        } else {
            vec![ecosystem.to_owned()]
        }
    };
    let mut spread = BTreeMap::new();
    for (e, n, v) in packages {
        for repository in repositories(e) {
            spread.insert((repository, n.clone(), v.clone()), e.clone());
        }
    }
    let keys: BTreeSet<_> = spread.keys().cloned().collect();
    let mut out: BTreeMap<(String, String, String), BTreeSet<String>> = BTreeMap::new();
    for ((repository, n, v), ids) in evaluate(&keys, sets) {
        let release = spread[&(repository, n.clone(), v.clone())].clone();
        out.entry((release, n, v)).or_default().extend(ids);
    }
    out
}

/// (OSV ecosystem, source name, source version) of an image's distribution packages
/// as the distribution's own tools read them: dpkg-query inside the container for
/// Debian and Ubuntu; for distroless (no shell, no dpkg database) the host's
/// dpkg-query over a status file made of the image's status.d paragraphs; for Alpine,
/// Wolfi and Chainguard the P:/V:/o: lines of apk's database, read with the image's
/// busybox; for UBI and openSUSE the host's rpm over a copy of the image's database;
/// for SLES (ndb, which the host's rpm cannot read) the real image's `rpm -qa`.
fn os_packages(kind: &str, image: &str) -> BTreeSet<(String, String, String)> {
    let dpkg_format = "${source:Package}\t${source:Version}\n";
    let (ecosystem, listing) = match kind {
        "base-debian" => (
            "Debian:12",
            in_container(image, "dpkg-query", &["-W", "-f", dpkg_format]).stdout(),
        ),
        "base-ubuntu" => (
            "Ubuntu:22.04:LTS",
            in_container(image, "dpkg-query", &["-W", "-f", dpkg_format]).stdout(),
        ),
        "base-distroless" => {
            // Never started: a command is only there because the image has none.
            let id = support::docker(&["create", image, "/none"])
                .success()
                .stdout()
                .trim()
                .to_owned();
            let dir = temp_dir();
            let copied = dir.path().join("status.d");
            let cp = support::docker(&[
                "cp",
                &format!("{id}:/var/lib/dpkg/status.d"),
                copied.to_str().unwrap(),
            ]);
            support::docker(&["rm", &id]);
            cp.success();
            let mut status = String::new();
            for entry in std::fs::read_dir(&copied).unwrap() {
                let path = entry.unwrap().path();
                if path.extension().is_none() {
                    let paragraph = std::fs::read_to_string(&path).unwrap();
                    status.push_str(paragraph.trim_end());
                    status.push_str("\nStatus: install ok installed\n\n");
                }
            }
            let admin = dir.path().join("admin");
            std::fs::create_dir_all(admin.join("info")).unwrap();
            std::fs::write(admin.join("status"), status).unwrap();
            let admindir = format!("--admindir={}", admin.display());
            let listing = support::run("dpkg-query", &[&admindir, "-W", "-f", dpkg_format], &[])
                .success()
                .stdout();
            ("Debian:12", listing)
        }
        "base-alpine" | "base-wolfi" | "base-chainguard" => {
            let (ecosystem, path) = match kind {
                "base-alpine" => ("Alpine:v3.11", "/lib/apk/db/installed"),
                "base-wolfi" => ("Wolfi", "/usr/lib/apk/db/installed"),
                _ => ("Chainguard", "/usr/lib/apk/db/installed"),
            };
            let db = in_container(image, "/bin/cat", &[path]).stdout();
            let mut out = BTreeSet::new();
            for paragraph in db.split("\n\n").filter(|p| !p.trim().is_empty()) {
                let field = |k: &str| {
                    paragraph
                        .lines()
                        .find_map(|l| l.strip_prefix(k))
                        .map(str::to_owned)
                };
                let version = field("V:").expect("V: line");
                let origin = field("o:").or_else(|| field("P:")).expect("o: or P:");
                out.insert((ecosystem.to_owned(), origin, version));
            }
            return out;
        }
        "base-ubi" => (
            "Red Hat:enterprise_linux:9",
            host_rpm_listing(image, "/var/lib/rpm"),
        ),
        // Tumbleweed's database is under /usr/lib/sysimage (/var/lib/rpm links there).
        "base-opensuse" => (
            "openSUSE:Tumbleweed",
            host_rpm_listing(image, "/usr/lib/sysimage/rpm"),
        ),
        "base-sles" => {
            // The real image's `rpm -qa` (the host's rpm cannot read ndb): kept beside
            // the database it lists.
            let listed = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../tests/images/base-sles/rpm-qa.txt");
            (
                "SUSE:Linux Enterprise Server 15 SP3",
                std::fs::read_to_string(listed).unwrap(),
            )
        }
        other => panic!("no package listing for {other}"),
    };
    listing
        .lines()
        .map(|line| {
            let (name, version) = line.split_once('\t').expect("source\tversion");
            (ecosystem.to_owned(), name.to_owned(), version.to_owned())
        })
        .collect()
}

/// `NAME\t[EPOCH:]VERSION-RELEASE` lines of the rpm database in `dir` of `image`, as
/// the host's rpm reads a copy of it; pare writes an epoch only where the package has
/// one, as rpm -q does.
fn host_rpm_listing(image: &str, dir: &str) -> String {
    let copy = temp_dir();
    let id = support::docker(&["create", image])
        .success()
        .stdout()
        .trim()
        .to_owned();
    let cp = support::docker(&[
        "cp",
        &format!("{id}:{dir}/."),
        copy.path().to_str().unwrap(),
    ]);
    support::docker(&["rm", &id]);
    cp.success();
    support::run(
        "rpm",
        &[
            "--dbpath",
            copy.path().to_str().unwrap(),
            "-qa",
            "--qf",
            "%{NAME}\t%|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE}\n",
        ],
        &[],
    )
    .success()
    .stdout()
}

/// Issue 22's first promise, for the distributions whose images the tests build
/// (tests/images/base-*): Debian (dpkg and distroless's status.d), Ubuntu, Alpine,
/// Red Hat UBI, SUSE (a real SLE 15 SP3 ndb database), openSUSE Tumbleweed (SQLite
/// under /usr/lib/sysimage), Wolfi and Chainguard images matched against records in
/// osv.dev's shape (Canonical's real CVE-2024-0727, whose other entries are for 18.04
/// Pro and 24.04 and must not match; Alpine's secdb for v3.10 and v3.11, of which only
/// v3.11's may; Red Hat records for RHEL 9's repositories, RHEL 8, EUS and a withdrawn
/// one; SUSE records for SP3's modules, SP2, LTSS and openSUSE Leap; Tumbleweed
/// records with rpm's tilde both ways, a fix one build below the installed one, a
/// withdrawn one, and Leap 15.6 and SLE 15 SP6 builds that sort above Tumbleweed's;
/// Wolfi and Chainguard records by origin and subpackage, a false positive
/// (`fixed: 0`), Chainguard-only, Wolfi-only and withdrawn ones) give exactly the
/// matches of the independent evaluation, which orders Debian and Ubuntu versions
/// with `dpkg --compare-versions`, Alpine's, Wolfi's and Chainguard's by apk's rules
/// and Red Hat's, SUSE's and openSUSE's with rpm's own vercmp. Red Hat and SUSE
/// packages are evaluated in each repository or module of the release; what matches
/// in any of them is the package's.
#[test]
fn os_packages_of_every_base_match_an_independent_evaluation() {
    if support::skip_without_engine() {
        return;
    }
    let mut sets = record_sets();
    sets.push(data("ubuntu-osv"));
    sets.push(data("dumps/Alpine-secdb-derived.zip"));
    sets.push(data("redhat-osv"));
    sets.push(data("suse-osv"));
    sets.push(data("wolfi-osv"));
    let dir = temp_dir();
    let db = dir.path().join("advisories.sqlite");
    let inputs: Vec<&Path> = sets.iter().map(PathBuf::as_path).collect();
    support::advisories::import(&db, &inputs).success();
    let mut matched_somewhere = 0;
    for kind in [
        "base-debian",
        "base-distroless",
        "base-ubuntu",
        "base-alpine",
        "base-ubi",
        "base-sles",
        "base-opensuse",
        "base-wolfi",
        "base-chainguard",
    ] {
        let image = test_image(kind);
        let packages = os_packages(kind, &image.image);
        assert!(packages.len() >= 7, "{kind}: {packages:?}");
        let expected = evaluate_in_repositories(&packages, &sets);
        let report = pare(&[
            "scan",
            "--format",
            "json",
            "--db",
            db.to_str().unwrap(),
            &image.archive_ref(),
        ])
        .success()
        .json();
        let got = by_advisory_package(&report["findings"]);
        assert_eq!(got, expected, "{kind}");
        if kind == "base-opensuse" {
            // Reached at /usr/lib/sysimage/rpm and through the /var/lib/rpm link, the
            // database is read once: a package twice would be a finding twice.
            assert_eq!(report["summary"]["packages_checked"], packages.len());
        }
        matched_somewhere += usize::from(!expected.is_empty());
    }
    // The evaluation is not empty-handed: Ubuntu's openssl, Alpine's, UBI's, SLES's,
    // Tumbleweed's, Wolfi's and Chainguard's match.
    assert!(matched_somewhere >= 7, "{matched_somewhere}");
}

#[test]
fn table_leads_with_the_counts_and_fail_on_sets_the_exit_code() {
    if support::skip_without_engine() {
        return;
    }
    let db = Db::new();
    let run = db
        .scan(&vulnapp(), &["--format", "table", "--fail-on", "critical"])
        .exits(1);
    let out = run.stdout();
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[0].starts_with("Image            pare-test/vulnapp"),
        "{out}"
    );
    let counts = lines
        .iter()
        .find(|l| l.starts_with("Vulnerabilities  "))
        .expect("a Vulnerabilities line");
    assert!(counts.contains(": 2 critical, "), "{counts}");
    let header = lines
        .iter()
        .position(|l| l.starts_with("SEVERITY"))
        .unwrap();
    assert!(
        lines
            .iter()
            .position(|l| l.starts_with("Vulnerabilities"))
            .unwrap()
            < header
    );
    assert!(
        lines[header + 1].starts_with("critical    GHSA-xvch-5gv4-984h"),
        "{out}"
    );
    assert!(
        out.contains("perl-base (perl)"),
        "the source package the advisory names"
    );
    assert!(out.contains("no fix yet"));
    // Nothing at or above the threshold: exit 0. An unknown word: exit 2.
    let dir = temp_dir();
    let ignore = dir.path().join("ignore");
    std::fs::write(
        &ignore,
        "CVE-2021-44906  # minimist: only parses our own arguments\n",
    )
    .unwrap();
    db.scan(
        &vulnapp(),
        &[
            "--fail-on",
            "critical",
            "--ignore",
            ignore.to_str().unwrap(),
        ],
    )
    .exits(0);
    let bad = db.scan(&vulnapp(), &["--fail-on", "severe"]).exits(2);
    assert!(
        bad.stderr().contains("unknown severity"),
        "{}",
        bad.explain()
    );
}

#[test]
fn ignore_files_and_only_fixed_keep_what_they_leave_out() {
    if support::skip_without_engine() {
        return;
    }
    let db = Db::new();
    let dir = temp_dir();
    let ignore = dir.path().join(".pareignore");
    std::fs::write(
        &ignore,
        "# accepted\nGHSA-m2qf-hxjv-5gpq\nPYSEC-2022-202 exp:2020-01-01  # expired\n",
    )
    .unwrap();
    let run = db.scan(
        &vulnapp(),
        &[
            "--format",
            "json",
            "--only-fixed",
            "--ignore",
            ignore.to_str().unwrap(),
        ],
    );
    let run = run.success();
    let report = run.json();
    let suppressed = report["suppressed"].as_array().unwrap();
    let flask = suppressed
        .iter()
        .find(|s| s["id"] == "GHSA-m2qf-hxjv-5gpq")
        .unwrap();
    assert_eq!(flask["reason"]["kind"], "ignored");
    assert_eq!(flask["reason"]["line"], 2);
    // The expired line no longer applies, and pare says so.
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["id"] == "PYSEC-2022-202")
    );
    assert!(
        run.stderr()
            .contains("line 3: PYSEC-2022-202 expired on 2020-01-01"),
        "{}",
        run.explain()
    );
    // --only-fixed: the Debian findings without a fix move to the suppressed list.
    let no_fix: Vec<&Value> = suppressed
        .iter()
        .filter(|s| s["reason"]["kind"] == "no_fix")
        .collect();
    assert!(no_fix.iter().any(|s| s["id"] == "DEBIAN-CVE-2023-45853"));
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["fixed"].is_string())
    );
    assert_eq!(report["summary"]["suppressed"], suppressed.len());
    // A mistake in the file is an error naming the line, before any image is read.
    std::fs::write(&ignore, "CVE-2021-44906\nCVE-2022-1 until:2026-01-01\n").unwrap();
    let bad = db
        .scan(
            "docker-archive:/nonexistent.tar",
            &["--ignore", ignore.to_str().unwrap()],
        )
        .exits(2);
    assert!(
        bad.stderr()
            .contains(".pareignore, line 2: unexpected \"until:2026-01-01\""),
        "{}",
        bad.explain()
    );
}

#[test]
fn vex_documents_suppress_not_affected_and_fixed_statements() {
    if support::skip_without_engine() {
        return;
    }
    let db = Db::new();
    let dir = temp_dir();
    let openvex = dir.path().join("app.openvex.json");
    // minimist 1.2.5 only (0.0.10 stays), in the epoch-free purl Trivy writes; and a
    // later `affected` statement that takes back an earlier `not_affected`.
    std::fs::write(
        &openvex,
        json!({
            "@context": "https://openvex.dev/ns/v0.2.0",
            "@id": "https://example.invalid/vex/1",
            "author": "test",
            "timestamp": "2026-01-01T00:00:00Z",
            "version": 1,
            "statements": [
                {"vulnerability": {"name": "CVE-2021-44906"},
                 "products": [{"@id": "pkg:npm/minimist@1.2.5"}],
                 "status": "not_affected", "justification": "vulnerable_code_not_in_execute_path"},
                {"vulnerability": {"name": "CVE-2022-29217"},
                 "products": [{"@id": "pkg:pypi/pyjwt@1.7.1"}],
                 "status": "not_affected", "justification": "component_not_present",
                 "timestamp": "2026-01-01T00:00:00Z"},
                {"vulnerability": {"name": "CVE-2022-29217"},
                 "products": [{"@id": "pkg:pypi/pyjwt@1.7.1"}],
                 "status": "affected", "timestamp": "2026-02-01T00:00:00Z"}
            ]
        })
        .to_string(),
    )
    .unwrap();
    let cdx = dir.path().join("vex.cdx.json");
    std::fs::write(
        &cdx,
        json!({
            "bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
            "vulnerabilities": [{
                "id": "CVE-2024-34069",
                "analysis": {"state": "resolved"},
                "affects": [{"ref": "urn:cdx:3e671687-395b-41f5-a30f-a58921a69b79/1#pkg:pypi/werkzeug@2.2.2"}]
            }]
        })
        .to_string(),
    )
    .unwrap();
    let report = db
        .scan(
            &vulnapp(),
            &[
                "--format",
                "json",
                "--vex",
                openvex.to_str().unwrap(),
                "--vex",
                cdx.to_str().unwrap(),
            ],
        )
        .success()
        .json();
    let suppressed: Vec<(String, String, String)> = report["suppressed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["id"].as_str().unwrap().to_owned(),
                s["package"]["version"].as_str().unwrap().to_owned(),
                s["reason"]["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        suppressed,
        [
            (
                "GHSA-xvch-5gv4-984h".to_owned(),
                "1.2.5".to_owned(),
                "not_affected".to_owned()
            ),
            (
                "GHSA-2g68-c3qc-8985".to_owned(),
                "2.2.2".to_owned(),
                "fixed".to_owned()
            ),
        ]
    );
    let findings = &report["findings"];
    assert_eq!(ids_of(findings, "minimist", "0.0.10").len(), 1);
    assert_eq!(
        ids_of(findings, "PyJWT", "1.7.1").len(),
        1,
        "the later `affected` decides"
    );
}

#[test]
fn sarif_and_cyclonedx_validate_against_the_official_schemas() {
    if support::skip_without_engine() {
        return;
    }
    let db = Db::new();
    let sarif = db.scan(&vulnapp(), &["--format", "sarif"]).success().json();
    validate("sarif-schema-2.1.0.json", &sarif);
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let minimist = results
        .iter()
        .find(|r| r["ruleId"] == "GHSA-xvch-5gv4-984h")
        .expect("a minimist result");
    assert_eq!(minimist["level"], "error");
    assert!(
        minimist["message"]["text"]
            .as_str()
            .unwrap()
            .contains("fixed in")
    );

    let dir = temp_dir();
    let vex = dir.path().join("vex.json");
    std::fs::write(
        &vex,
        json!({"@context": "https://openvex.dev/ns/v0.2.0", "statements": [
            {"vulnerability": {"name": "CVE-2022-29217"},
             "products": [{"@id": "pkg:pypi/pyjwt@1.7.1"}],
             "status": "not_affected", "justification": "component_not_present"}]})
        .to_string(),
    )
    .unwrap();
    let out = dir.path().join("scan.cdx.json");
    db.scan(
        &vulnapp(),
        &[
            "--format",
            "cyclonedx",
            "-o",
            out.to_str().unwrap(),
            "--vex",
            vex.to_str().unwrap(),
        ],
    )
    .success();
    let bom: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    validate("cyclonedx/bom-1.6.schema.json", &bom);
    let refs: BTreeSet<&str> = bom["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["bom-ref"].as_str())
        .collect();
    let vulns = bom["vulnerabilities"].as_array().unwrap();
    for v in vulns {
        let r = v["affects"][0]["ref"].as_str().unwrap();
        assert!(refs.contains(r), "{r} is not a component");
    }
    let jwt = vulns.iter().find(|v| v["id"] == "PYSEC-2022-202").unwrap();
    assert_eq!(jwt["analysis"]["state"], "not_affected");
    assert_eq!(jwt["analysis"]["justification"], "code_not_present");
}

#[test]
fn transports_agree() {
    if support::skip_without_engine() {
        return;
    }
    let db = Db::new();
    let image = test_image("vulnapp");
    let findings = |r: &str| db.scan(r, &["--format", "json"]).success().json()["findings"].clone();
    let from_archive = findings(&image.archive_ref());
    assert_eq!(findings(&image.oci_ref()), from_archive);
    assert_eq!(findings(&image.daemon_ref()), from_archive);
}

#[test]
fn without_a_database_scan_says_how_to_get_one() {
    if support::skip_without_engine() {
        return;
    }
    let dir = temp_dir();
    let missing = dir.path().join("none.sqlite");
    let run = pare(&["scan", "--db", missing.to_str().unwrap(), &vulnapp()]).exits(2);
    let err = run.stderr();
    assert!(
        err.contains(&format!("no advisory database at {}", missing.display())),
        "{err}"
    );
    assert!(err.contains("hint: `pare db update`"), "{err}");
    assert!(run.stdout().is_empty());
    // The default location is the user's cache folder.
    let run = support::pare_env(
        &["db", "status"],
        &[("XDG_CACHE_HOME", dir.path().to_str().unwrap())],
    )
    .exits(2);
    assert!(
        run.stderr()
            .contains(&format!("{}/pare/advisories.sqlite", dir.path().display())),
        "{}",
        run.explain()
    );
}

#[test]
fn stale_data_is_warned_about() {
    if support::skip_without_engine() {
        return;
    }
    let db = Db::new();
    let fresh = db.scan(&vulnapp(), &["--format", "json"]).success();
    assert!(!fresh.stderr().contains("days old"), "{}", fresh.explain());
    // Ten days pass (the fetch times move back).
    let conn = rusqlite::Connection::open(&db.path).unwrap();
    conn.execute("UPDATE source SET fetched_at = fetched_at - 10 * 86400", [])
        .unwrap();
    drop(conn);
    let old = db.scan(&vulnapp(), &["--format", "json"]).success();
    assert!(
        old.stderr()
            .contains("the advisory data is 10 days old; run `pare db update`"),
        "{}",
        old.explain()
    );
    assert_eq!(old.json()["database"]["stale"], true);
    let status = pare(&["db", "status", "--db", db.arg()]).success().stdout();
    assert!(
        status.contains("Age         10 days (older than a week"),
        "{status}"
    );
}

fn dump(name: &str) -> Vec<u8> {
    std::fs::read(data(&format!("dumps/{name}"))).unwrap()
}

/// `pare db update` from a loopback bucket: both dumps arrive; then an interrupted
/// transfer, a damaged zip and a missing ecosystem each fail with exit 2 and leave the
/// database exactly as it was.
#[test]
fn db_update_from_a_loopback_bucket_is_all_or_nothing() {
    let pypi = dump("PyPI-pypa-advisory-database-2024-10-10.zip");
    let go = dump("Go-vulndb-2026-08-21.zip");
    let mut damaged = go.clone();
    // Inside the first entry's compressed data: its CRC no longer matches.
    damaged[200] ^= 0xff;
    let bucket = Bucket::serve(HashMap::from([
        ("/PyPI/all.zip".to_owned(), Answer::File(pypi.clone())),
        ("/Go/all.zip".to_owned(), Answer::File(go.clone())),
        (
            "/npm/all.zip".to_owned(),
            Answer::CutAfter {
                sent: go.len() / 3,
                bytes: go.clone(),
            },
        ),
        ("/Maven/all.zip".to_owned(), Answer::File(damaged)),
    ]));
    let dir = temp_dir();
    let db = dir.path().join("cache").join("advisories.sqlite");
    let db_arg = db.to_str().unwrap();
    let update = |ecosystems: &[&str]| {
        let mut args = vec!["db", "update", "--db", db_arg, "--base-url", &bucket.base];
        for e in ecosystems {
            args.extend(["--ecosystem", e]);
        }
        pare(&args)
    };
    let first = update(&["PyPI", "Go"]).success();
    assert!(
        first
            .stderr()
            .contains("osv:PyPI: 2,644 advisories, 10 withdrawn, 7 skipped"),
        "{}",
        first.explain()
    );
    assert!(
        first
            .stderr()
            .contains("osv:Go: 4,274 advisories, 17 withdrawn, 0 skipped"),
        "{}",
        first.explain()
    );
    let status: Value = serde_json::from_str(
        &pare(&["db", "status", "--db", db_arg, "--format", "json"])
            .success()
            .stdout(),
    )
    .unwrap();
    assert_eq!(status["advisories"], 2644 + 4274);
    let origins: Vec<&str> = status["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["origin"].as_str().unwrap())
        .collect();
    assert_eq!(
        origins,
        [
            format!("{}/Go/all.zip", bucket.base),
            format!("{}/PyPI/all.zip", bucket.base)
        ]
    );
    let before = std::fs::read(&db).unwrap();

    for (ecosystems, says) in [
        (&["PyPI", "npm"][..], "the transfer ended after"),
        (&["Maven"][..], "in the zip file"),
        (&["Alpine"][..], "the server answered 404"),
    ] {
        let run = update(ecosystems).exits(2);
        let err = run.stderr();
        assert!(
            err.contains("updating the advisory database (left unchanged)"),
            "{}",
            run.explain()
        );
        assert!(err.contains(says), "{}", run.explain());
        assert_eq!(std::fs::read(&db).unwrap(), before, "after {ecosystems:?}");
    }
    // Nothing but the database (and its lock) is left in the folder.
    let mut left: Vec<String> = std::fs::read_dir(db.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, [".advisories.sqlite.tmp.lock", "advisories.sqlite"]);
    // Without --ecosystem, an update fetches again what was downloaded before.
    let requests_before = bucket.requests.lock().unwrap().len();
    pare(&["db", "update", "--db", db_arg, "--base-url", &bucket.base]).success();
    let requests = bucket.requests.lock().unwrap()[requests_before..].to_vec();
    assert_eq!(requests, ["/Go/all.zip", "/PyPI/all.zip"]);
}

#[test]
fn db_import_refuses_what_is_not_records() {
    let dir = temp_dir();
    let db = dir.path().join("advisories.sqlite");
    let db_arg = db.to_str().unwrap();
    pare(&[
        "db",
        "import",
        "--db",
        db_arg,
        data("osv").to_str().unwrap(),
    ])
    .success();
    let before = std::fs::read(&db).unwrap();
    let not_records = dir.path().join("notes.txt");
    std::fs::write(&not_records, "hello").unwrap();
    let truncated = dir.path().join("all.zip");
    let go = dump("Go-vulndb-2026-08-21.zip");
    std::fs::write(&truncated, &go[..go.len() / 2]).unwrap();
    for (path, says) in [
        (not_records.to_str().unwrap(), "holds no OSV records"),
        (truncated.to_str().unwrap(), "reading the zip file"),
        ("/nonexistent/all.zip", "/nonexistent/all.zip"),
    ] {
        let run = pare(&["db", "import", "--db", db_arg, path]).exits(2);
        assert!(run.stderr().contains(says), "{}", run.explain());
        assert_eq!(std::fs::read(&db).unwrap(), before);
    }
}

/// Every path in a single-layer docker-archive (what `pare build` writes).
fn archive_paths(archive: &Path) -> BTreeSet<String> {
    let mut outer = tar::Archive::new(std::fs::File::open(archive).unwrap());
    let mut paths = BTreeSet::new();
    for entry in outer.entries().unwrap() {
        let entry = entry.unwrap();
        let name = entry.path().unwrap().display().to_string();
        if !name.ends_with(".tar") {
            continue;
        }
        let mut layer = tar::Archive::new(entry);
        for e in layer.entries().unwrap() {
            let p = e.unwrap().path().unwrap().display().to_string();
            let p = format!("/{}", p.trim_start_matches("./").trim_end_matches('/'));
            paths.insert(p);
        }
    }
    paths
}

/// (id, package, version, where) of each finding, to compare scans.
fn finding_keys(findings: &Value) -> BTreeSet<(String, String, String, String)> {
    findings
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let s = |v: &Value| v.as_str().unwrap().to_owned();
            (
                s(&f["id"]),
                s(&f["package"]["name"]),
                s(&f["package"]["version"]),
                s(&f["package"]["found_in"]),
            )
        })
        .collect()
}

/// The build integration (`pare_vuln::absence`) on a real slim image: `pare build`
/// slims vulnapp, the proof is written as OpenVEX from the original's findings and
/// the slim image's paths, and then `pare scan --vex` of the original reports exactly
/// what a scan of the slim image reports (with the same VEX, for the findings whose
/// package stays but whose vulnerable files are gone).
#[test]
fn build_vex_leaves_exactly_the_findings_of_what_the_slim_image_holds() {
    if support::skip_without_engine() {
        return;
    }
    let image = test_image("vulnapp");
    let db = Db::new();
    let dir = temp_dir();
    let slim = dir.path().join("slim.tar");
    let tag = "pare-test/vulnapp:scan-test-slim";
    let report_dir = dir.path().join("report");
    let run = {
        let _port = support::port_lock();
        pare(&[
            "build",
            &image.image,
            "--tag",
            tag,
            "--db",
            db.arg(),
            "--output",
            &format!("docker-archive:{}", slim.display()),
            "--report-dir",
            report_dir.to_str().unwrap(),
            "--probe",
            "GET /",
            "--probe",
            "GET /api/versions",
            "--probe",
            "GET /hello/pare",
        ])
        .success()
    };
    support::docker(&["rmi", tag]).success();
    let report: Value =
        serde_json::from_slice(&std::fs::read(report_dir.join("report.json")).unwrap()).unwrap();
    let figures = &report["vulnerabilities"];
    let (before, after) = (
        figures["before"].as_u64().unwrap() as usize,
        figures["after"].as_u64().unwrap() as usize,
    );
    let vex = report_dir.join("vex.openvex.json");
    assert_eq!(report["vex"], vex.display().to_string());
    assert!(
        run.stdout().contains(&format!(
            "Advisories   {before} -> {after} ({} proven absent; VEX: {})",
            before - after,
            vex.display()
        )),
        "{}",
        run.explain()
    );
    let vex_doc: Value = serde_json::from_slice(&std::fs::read(&vex).unwrap()).unwrap();
    validate("openvex_json_schema.json", &vex_doc);

    // The original's findings, as `pare scan` gives them, are the build's "before".
    let original = db
        .scan(&image.archive_ref(), &["--format", "json"])
        .success()
        .json();
    assert_eq!(original["findings"].as_array().unwrap().len(), before);
    let kept = archive_paths(&slim);
    assert!(kept.contains("/opt/venv/lib/python3.11/site-packages/flask/app.py"));

    // runc, PyJWT, sqlparse, the minimist no kept code requires and perl are gone;
    // Flask stays, and so does the minimist the image's own cli.js requires (a file
    // of the app's, kept whether or not a probe ran it).
    let justified: BTreeMap<String, BTreeSet<String>> = vex_doc["statements"]
        .as_array()
        .unwrap()
        .iter()
        .fold(BTreeMap::new(), |mut m, s| {
            m.entry(s["justification"].as_str().unwrap().to_owned())
                .or_default()
                .insert(s["products"][0]["@id"].as_str().unwrap().to_owned());
            m
        });
    let gone = &justified["component_not_present"];
    for purl in [
        "pkg:golang/stdlib@go1.19.8",
        "pkg:pypi/pyjwt@1.7.1",
        "pkg:pypi/sqlparse@0.4.1",
        "pkg:npm/minimist@0.0.10",
    ] {
        assert!(
            gone.contains(purl),
            "{purl} not proven gone: {justified:#?}"
        );
    }
    assert!(gone.iter().all(|p| !p.contains("distro=")), "{gone:?}");
    assert!(!gone.iter().any(|p| p.starts_with("pkg:pypi/flask@")));
    assert!(!gone.contains("pkg:npm/minimist@1.2.5"), "{gone:?}");
    assert!(
        kept.contains("/opt/js/cli.js") && kept.contains("/opt/js/node_modules/minimist/index.js")
    );
    assert!(after > 0 && before > after, "{figures}");

    // The original scanned with the build's VEX reports exactly what the slim image
    // holds.
    let with_vex = db
        .scan(
            &image.archive_ref(),
            &["--format", "json", "--vex", vex.to_str().unwrap()],
        )
        .success()
        .json();
    assert_eq!(with_vex["findings"].as_array().unwrap().len(), after);
    let slim_ref = format!("docker-archive:{}", slim.display());
    let slim_with_vex = db
        .scan(
            &slim_ref,
            &["--format", "json", "--vex", vex.to_str().unwrap()],
        )
        .success()
        .json();
    assert_eq!(
        finding_keys(&with_vex["findings"]),
        finding_keys(&slim_with_vex["findings"])
    );
    // Without the VEX the slim image's own scan adds back only the findings whose
    // package stays with its vulnerable files gone.
    let slim_alone = db.scan(&slim_ref, &["--format", "json"]).success().json();
    assert_eq!(
        slim_alone["findings"].as_array().unwrap().len(),
        after + figures["vulnerable_code_not_present"].as_u64().unwrap() as usize
    );
}

#[test]
fn ecosystems_without_data_are_not_reported_clean() {
    if support::skip_without_engine() {
        return;
    }
    // Only the PyPA dump: the image's Debian, npm and Go packages cannot be checked.
    let dir = temp_dir();
    let db = dir.path().join("advisories.sqlite");
    let db_arg = db.to_str().unwrap();
    let dump = data("dumps/PyPI-pypa-advisory-database-2024-10-10.zip");
    pare(&["db", "import", "--db", db_arg, dump.to_str().unwrap()]).success();
    let run = pare(&["scan", "--db", db_arg, "--format", "json", &vulnapp()]).success();
    let err = run.stderr();
    for (ecosystem, base) in [("Debian:12", "Debian"), ("npm", "npm"), ("Go", "Go")] {
        assert!(
            err.contains(&format!(
                "the advisory database has no records for {ecosystem}, so its "
            )) && err.contains(&format!("`pare db update --ecosystem {base}`")),
            "{}",
            run.explain()
        );
    }
    assert!(!err.contains("no records for PyPI"), "{err}");
}

/// The air-gapped round trip: `pare db export` on a machine with the advisories,
/// `pare db import` of that one file on a machine without network; the scan there
/// finds exactly what it finds here. A damaged or foreign export changes nothing.
#[test]
fn an_exported_database_scans_the_same_on_a_machine_without_network() {
    if support::skip_without_engine() {
        return;
    }
    let db = Db::new();
    let here = db.scan(&vulnapp(), &["--format", "json"]).success().json();
    let dir = temp_dir();
    let export = dir.path().join("pare-advisories.db");
    let run = pare(&["db", "export", "--db", db.arg(), export.to_str().unwrap()]).success();
    assert!(run.stderr().contains("Wrote "), "{}", run.explain());
    let left: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left, ["pare-advisories.db"], "no temporary file left");

    // The other machine already has a database of its own: the export replaces it.
    let there = dir.path().join("there").join("advisories.sqlite");
    let there_arg = there.to_str().unwrap();
    pare(&[
        "db",
        "import",
        "--db",
        there_arg,
        data("osv").to_str().unwrap(),
    ])
    .success();
    let run = pare(&["db", "import", "--db", there_arg, export.to_str().unwrap()]).success();
    assert!(run.stderr().contains("Replaced "), "{}", run.explain());
    let scanned = pare(&["scan", "--db", there_arg, "--format", "json", &vulnapp()])
        .success()
        .json();
    assert_eq!(
        finding_keys(&scanned["findings"]),
        finding_keys(&here["findings"])
    );
    assert_eq!(scanned["summary"], here["summary"]);

    // A damaged export (cut in half) and an export given with other paths: exit 2,
    // the database unchanged.
    let before = std::fs::read(&there).unwrap();
    let bytes = std::fs::read(&export).unwrap();
    let damaged = dir.path().join("damaged.db");
    std::fs::write(&damaged, &bytes[..bytes.len() / 2]).unwrap();
    let run = pare(&["db", "import", "--db", there_arg, damaged.to_str().unwrap()]).exits(2);
    assert!(run.stderr().contains("damaged.db"), "{}", run.explain());
    let run = pare(&[
        "db",
        "import",
        "--db",
        there_arg,
        export.to_str().unwrap(),
        data("osv").to_str().unwrap(),
    ])
    .exits(2);
    assert!(run.stderr().contains("imported alone"), "{}", run.explain());
    assert_eq!(std::fs::read(&there).unwrap(), before);
    let left: Vec<String> = std::fs::read_dir(there.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.ends_with(".lock"))
        .collect();
    assert_eq!(left, ["advisories.sqlite"], "no temporary file left");
}
