//! `pare diff`, `pare compare` and the `--html` pages on the real test images. Every
//! figure is checked against what `pare xray`, `pare sbom` and `pare scan` report for
//! the image alone, and against a real `pare build`; the pages are opened in headless
//! Chromium and looked at as a person would (no console errors, no network, the
//! treemap and charts drawn, the search finding `mailcap.py`).

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;
use support::advisories::Db;
use support::chromium::Browser;
use support::registry::{Mode, Registry};
use support::{assert_nothing_left, docker, pare, pare_work_dirs, port_lock, temp_dir, test_image};

/// Where the screenshots go, to be looked at after a run.
fn screenshot_path(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// Opens `page`, asserts that it loaded with no console error, exception or request,
/// and takes a screenshot that must not be blank.
fn open_page(browser: &mut Browser, page: &Path, screenshot: &str) {
    browser.open(page);
    let colours = browser.screenshot(&screenshot_path(screenshot));
    assert!(
        browser.problems.is_empty(),
        "{}: {:#?}",
        page.display(),
        browser.problems
    );
    assert!(colours > 20, "{screenshot} looks blank ({colours} colours)");
}

fn strings(v: &Value) -> BTreeSet<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect()
}

/// (ecosystem, name) of every package in a list of them (`pare sbom`'s `packages`,
/// `pare diff`'s `packages.removed`).
fn package_names(packages: &Value) -> BTreeSet<(String, String)> {
    packages
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["ecosystem"].as_str().unwrap().to_owned(),
                p["name"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn sbom_json(reference: &str) -> Value {
    pare(&["sbom", "--format", "json", reference])
        .success()
        .json()
}

fn xray_json(reference: &str) -> Value {
    pare(&["xray", "--json", reference]).success().json()
}

#[test]
fn an_image_diffed_with_itself_has_no_difference() {
    if support::skip_without_engine() {
        return;
    }
    let flask = test_image("flask");
    // The same image through two transports: the archive and the OCI layout.
    let run = pare(&[
        "diff",
        "--format",
        "json",
        &flask.archive_ref(),
        &flask.oci_ref(),
    ])
    .exits(0);
    let d = run.json();
    for list in ["added", "removed", "changed", "metadata_changed"] {
        assert_eq!(d["files"][list], Value::Array(vec![]), "{list}");
    }
    assert_eq!(d["config"], Value::Array(vec![]));
    assert_eq!(d["packages"]["removed"], Value::Array(vec![]));
    let xray = xray_json(&flask.archive_ref());
    assert_eq!(d["files"]["unchanged"]["files"], xray["image"]["files"]);
    let table = pare(&[
        "diff",
        "--format",
        "table",
        &flask.archive_ref(),
        &flask.archive_ref(),
    ])
    .exits(0)
    .stdout();
    assert!(table.contains("No differences."), "{table}");
}

#[test]
fn diff_and_compare_read_a_registry_as_the_other_verbs_do() {
    if support::skip_without_engine() {
        return;
    }
    let cli = test_image("cli");
    let registry = Registry::start(Mode::Plain);
    registry.push_with_skopeo(&cli.oci_ref(), "cli:1");
    let pushed = registry.image("cli:1");
    let d = pare(&["diff", "--format", "json", &cli.archive_ref(), &pushed])
        .exits(0)
        .json();
    let xray = xray_json(&pushed);
    assert_eq!(d["files"]["unchanged"]["files"], xray["image"]["files"]);
    assert_eq!(
        d["after"]["stored_bytes"],
        xray["image"]["compressed_bytes"]
    );

    // The same figures in compare, whichever transport the image came through.
    let c = pare(&["compare", "--format", "json", &cli.oci_ref(), &pushed])
        .success()
        .json();
    let mut rows: Vec<Value> = c["rows"].as_array().unwrap().clone();
    assert_eq!(rows.len(), 2);
    for row in &mut rows {
        let row = row.as_object_mut().unwrap();
        row.remove("reference");
        row.remove("name");
    }
    assert_eq!(rows[0], rows[1]);
    assert_eq!(rows[0]["files"], xray["image"]["files"]);
}

#[test]
fn diff_of_flask_and_its_slim_build() {
    if support::skip_without_engine() {
        return;
    }
    let flask = test_image("flask");
    let db = Db::new();
    let dir = temp_dir();
    let tag = "pare-test/flask:diff-slim";
    let _slim = Untag(tag);
    let build_page = dir.path().join("build.html");
    let reports = dir.path().join("reports");
    {
        let _port = port_lock();
        let before = pare_work_dirs();
        pare(&[
            "build",
            &flask.image,
            "--tag",
            tag,
            "--report-dir",
            reports.to_str().unwrap(),
            "--db",
            db.arg(),
            "--html",
            build_page.to_str().unwrap(),
        ])
        .success();
        assert_nothing_left("after pare build --html", &before);
    }
    let slim = format!("docker-daemon:{tag}");
    let diff_page = dir.path().join("diff.html");
    let d = pare(&[
        "diff",
        "--format",
        "json",
        "--db",
        db.arg(),
        "--html",
        diff_page.to_str().unwrap(),
        &flask.archive_ref(),
        &slim,
    ])
    .exits(1)
    .json();

    // Every package the slim image no longer has is listed as removed, by the SBOMs
    // of both images and by the build's own account.
    let (original_sbom, slim_sbom) = (sbom_json(&flask.archive_ref()), sbom_json(&slim));
    let gone: BTreeSet<_> = package_names(&original_sbom["packages"])
        .difference(&package_names(&slim_sbom["packages"]))
        .cloned()
        .collect();
    let listed = package_names(&d["packages"]["removed"]);
    assert_eq!(listed, gone);
    assert!(gone.len() > 50, "{gone:?}");
    let report: Value =
        serde_json::from_slice(&std::fs::read(reports.join("report.json")).unwrap()).unwrap();
    let by_build = package_names(&report["packages"]["removed"]);
    assert!(
        by_build.is_subset(&listed),
        "removed by the build, not listed: {:?}",
        by_build.difference(&listed).collect::<Vec<_>>()
    );

    // The history entry pare build adds, and nothing of the original's kept.
    let added = strings(&d["history"]["added"]);
    assert_eq!(added.len(), 1, "{added:?}");
    assert!(added.iter().all(|h| h.contains("pare build")), "{added:?}");
    assert_eq!(d["history"]["common"], 0);

    // Sizes add up to what xray says of each image alone.
    for (side, reference) in [("before", flask.archive_ref()), ("after", slim.clone())] {
        let xray = xray_json(&reference);
        let (mut files, mut bytes) = (0, 0);
        for dir in d["directories"].as_array().unwrap() {
            files += dir[side]["files"].as_u64().unwrap();
            bytes += dir[side]["bytes"].as_u64().unwrap();
        }
        assert_eq!(files, xray["image"]["files"].as_u64().unwrap(), "{side}");
        assert_eq!(
            bytes,
            xray["image"]["content_bytes"].as_u64().unwrap(),
            "{side}"
        );
        assert_eq!(
            d[side]["uncompressed_bytes"],
            xray["image"]["uncompressed_bytes"]
        );
        assert_eq!(d[side]["stored_bytes"], xray["image"]["compressed_bytes"]);
    }
    let f = &d["files"];
    let count = |k: &str| f[k].as_array().unwrap().len() as u64;
    assert_eq!(
        count("removed")
            + count("changed")
            + count("metadata_changed")
            + f["unchanged"]["files"].as_u64().unwrap(),
        d["before"]["files"].as_u64().unwrap()
    );
    assert!(
        strings(&Value::Array(
            f["removed"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["path"].clone())
                .collect()
        ))
        .contains("/usr/lib/python3.11/mailcap.py")
    );

    // Vulnerabilities: what scan says of each image alone, VEX applied.
    let scan = |r: &str| db.scan(r, &["--format", "json"]).success().json();
    let (scan_before, scan_after) = (scan(&flask.archive_ref()), scan(&slim));
    assert_eq!(
        d["before"]["vulnerabilities"],
        scan_before["summary"]["vulnerabilities"]
    );
    assert_eq!(
        d["after"]["vulnerabilities"],
        scan_after["summary"]["vulnerabilities"]
    );
    let key = |f: &Value| {
        format!(
            "{} {}",
            f["id"].as_str().unwrap(),
            f["package"]["name"].as_str().unwrap()
        )
    };
    let ids = |s: &Value| -> BTreeSet<String> {
        s["findings"].as_array().unwrap().iter().map(key).collect()
    };
    let gone_vulns: BTreeSet<String> = ids(&scan_before)
        .difference(&ids(&scan_after))
        .cloned()
        .collect();
    let listed_vulns: BTreeSet<String> = d["vulnerabilities"]["removed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            format!(
                "{} {}",
                v["id"].as_str().unwrap(),
                v["package"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(listed_vulns, gone_vulns);

    // The pages show what was removed, by directory and by package.
    let mut browser = Browser::start();
    for (page, shot) in [
        (&diff_page, "diff-flask.png"),
        (&build_page, "build-flask.png"),
    ] {
        assert!(std::fs::metadata(page).unwrap().len() < 2_000_000);
        open_page(&mut browser, page, shot);
        let bars =
            browser.eval("document.querySelectorAll('#removed-by-directory svg rect.bar').length");
        assert!(bars.as_u64().unwrap() >= 5, "{bars}");
        let rows =
            browser.eval("document.querySelectorAll('#removed-packages-table tbody tr').length");
        assert_eq!(rows.as_u64().unwrap(), gone.len() as u64);
        let typed = browser.eval(
            "(() => { const i = document.querySelector('[data-filter=removed-packages-table]'); \
             i.value = 'coreutils'; i.dispatchEvent(new Event('input')); \
             return [...document.querySelectorAll('#removed-packages-table tbody tr')] \
             .filter(r => !r.hidden).map(r => r.textContent); })()",
        );
        assert_eq!(typed.as_array().unwrap().len(), 1, "{typed}");
    }
    let build_text = browser.eval("document.getElementById('build').textContent");
    assert!(
        build_text.as_str().unwrap().contains("smaller"),
        "{build_text}"
    );
}

/// Removes a tag from the engine when the test ends, passed or not.
struct Untag(&'static str);

impl Drop for Untag {
    fn drop(&mut self) {
        docker(&["rmi", self.0]);
    }
}

#[test]
fn compare_figures_equal_xray_sbom_and_scan_alone() {
    if support::skip_without_engine() {
        return;
    }
    let db = Db::new();
    let dir = temp_dir();
    let page = dir.path().join("compare.html");
    let images: Vec<String> = ["flask", "nginx", "vulnapp", "cli"]
        .iter()
        .map(|n| test_image(n).archive_ref())
        .collect();
    let missing = "docker-archive:/nonexistent/pare-missing.tar";
    let mut args = vec!["compare", "--format", "json", "--db", db.arg()];
    args.extend(images.iter().map(String::as_str));
    args.push(missing);
    args.extend(["--html", page.to_str().unwrap()]);
    let run = pare(&args).exits(2);
    assert!(
        run.stderr().contains("/nonexistent/pare-missing.tar"),
        "{}",
        run.explain()
    );
    let c = run.json();
    let rows = c["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 5);
    // The unreadable image is a row of its own, last, with the error.
    assert_eq!(rows[4]["reference"], missing);
    assert!(
        rows[4]["error"]
            .as_str()
            .unwrap()
            .contains("pare-missing.tar")
    );

    let mut last_score = 0;
    for row in &rows[..4] {
        let reference = row["reference"].as_str().unwrap();
        let score = row["score"].as_u64().unwrap();
        assert!(score >= last_score, "not sorted by score: {rows:#?}");
        last_score = score;

        let xray = xray_json(reference);
        let img = &xray["image"];
        assert_eq!(row["stored_bytes"], img["compressed_bytes"], "{reference}");
        assert_eq!(row["uncompressed_bytes"], img["uncompressed_bytes"]);
        assert_eq!(row["files"], img["files"]);
        assert_eq!(
            row["layers"].as_u64(),
            Some(xray["layers"].as_array().unwrap().len() as u64)
        );
        assert_eq!(row["runs_as_root"], img["runs_as_root"]);
        assert_eq!(row["user"], img["user"]);
        let paths = |kind: &str| -> BTreeSet<String> {
            xray["tools"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|t| t["kind"] == kind)
                .map(|t| t["path"].as_str().unwrap().to_owned())
                .collect()
        };
        assert_eq!(strings(&row["shells"]), paths("shell"));
        assert_eq!(strings(&row["package_managers"]), paths("package_manager"));
        let setuid: BTreeSet<String> = xray["setuid"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["path"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(strings(&row["setuid"]), setuid);

        let sbom = sbom_json(reference);
        let mut by_type: BTreeMap<String, u64> = BTreeMap::new();
        for p in sbom["packages"].as_array().unwrap() {
            *by_type
                .entry(p["ecosystem"].as_str().unwrap().to_owned())
                .or_default() += 1;
        }
        let listed: BTreeMap<String, u64> = row["packages"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_u64().unwrap()))
            .collect();
        assert_eq!(listed, by_type, "{reference}");

        let scan = db.scan(reference, &["--format", "json"]).success().json();
        let v = &row["vulnerabilities"];
        for level in ["critical", "high", "medium", "low", "negligible", "unknown"] {
            assert_eq!(v[level], scan["summary"][level], "{reference} {level}");
        }
        assert_eq!(v["total"], scan["summary"]["vulnerabilities"]);
        let fixable = scan["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f.get("fixed").is_some())
            .count();
        assert_eq!(v["fixable"].as_u64(), Some(fixable as u64), "{reference}");
        assert_eq!(row["base_os"]["name"], scan["image"]["distro"]);
        // Debian 12's regular support ended 2026-07-11; Debian LTS runs to 2028-06-30.
        let support = &row["base_os"]["support"];
        assert_eq!(support["end_of_life"], "2026-07-11");
        assert_eq!(support["extended_until"], "2028-06-30");
    }
    let vulnapp = rows
        .iter()
        .find(|r| r["name"] == "pare-test/vulnapp:latest")
        .unwrap();
    assert!(vulnapp["vulnerabilities"]["high"].as_u64().unwrap() > 0);

    // The same rows as CSV and Markdown, the failure included.
    let mut csv_args = vec!["compare", "--format", "csv", "--db", db.arg()];
    csv_args.extend(images.iter().map(String::as_str));
    csv_args.push(missing);
    let csv = pare(&csv_args).exits(2).stdout();
    assert_eq!(csv.lines().count(), 6, "{csv}");
    assert!(csv.lines().last().unwrap().contains("pare-missing.tar"));

    let mut browser = Browser::start();
    open_page(&mut browser, &page, "compare.png");
    let charts = browser.eval("document.querySelectorAll('svg.chart').length");
    assert_eq!(charts.as_u64(), Some(2));
    let size_bars = browser.eval("document.querySelectorAll('#size-chart rect.bar').length");
    assert_eq!(
        size_bars.as_u64(),
        Some(8),
        "two bars for each readable image"
    );
    let failed = browser.eval("document.querySelectorAll('tr.failed').length");
    assert_eq!(failed.as_u64(), Some(1));

    // The picture to paste: both charts in one SVG file that Chromium draws alone.
    let picture = dir.path().join("compare.svg");
    let mut svg_args = vec!["compare", "--format", "svg", "--db", db.arg()];
    svg_args.extend(images.iter().map(String::as_str));
    svg_args.extend(["-o", picture.to_str().unwrap()]);
    pare(&svg_args).success();
    open_page(&mut browser, &picture, "compare-svg.png");
    let drawn = browser.eval(
        "[document.documentElement.tagName, document.documentElement.querySelectorAll('svg').length, document.querySelectorAll('rect.bar').length]",
    );
    assert_eq!(drawn[0], "svg", "{drawn}");
    assert_eq!(drawn[1].as_u64(), Some(2), "{drawn}");
    assert!(drawn[2].as_u64().unwrap() >= 8 + 4, "{drawn}");
}

/// The comparison issue 22 is about: the four kinds of base people choose between
/// (tests/images/base-*: Debian slim, distroless, Ubuntu, Alpine, each with libssl
/// and the CA bundle; how each is made and how faithful it is, in its Dockerfile),
/// looked up in real advisory data of each distribution (Debian's derived records,
/// Canonical's CVE-2024-0727, Alpine 3.11's secdb as OSV records). Every row's
/// figures are those `pare sbom` and `pare scan` give for the image alone, and
/// what sets the bases apart is there: where the packages were read from, the
/// release's support, the Ubuntu and Alpine findings and their fixes.
#[test]
fn the_four_kinds_of_base_side_by_side() {
    if support::skip_without_engine() {
        return;
    }
    let dir = temp_dir();
    let db_path = dir.path().join("advisories.sqlite");
    let sets = [
        support::advisories::data("debian-osv-derived"),
        support::advisories::data("ubuntu-osv"),
        support::advisories::data("dumps/Alpine-secdb-derived.zip"),
    ];
    let sets: Vec<&Path> = sets.iter().map(PathBuf::as_path).collect();
    support::advisories::import(&db_path, &sets).success();
    let db = db_path.to_str().unwrap();

    let kinds = [
        "base-debian",
        "base-distroless",
        "base-ubuntu",
        "base-alpine",
    ];
    let images: Vec<String> = kinds.iter().map(|n| test_image(n).archive_ref()).collect();
    let mut args = vec!["compare", "--format", "json", "--db", db];
    args.extend(images.iter().map(String::as_str));
    let c = pare(&args).success().json();
    let today = c["date"].as_str().unwrap().to_owned();
    let rows = c["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 4);
    let row = |kind: &str| -> &Value {
        rows.iter()
            .find(|r| r["name"] == format!("pare-test/{kind}:latest"))
            .unwrap_or_else(|| panic!("no row for {kind}: {c:#}"))
    };

    for (kind, reference) in kinds.iter().zip(&images) {
        let r = row(kind);
        let sbom = sbom_json(reference);
        assert_eq!(
            r["packages_total"].as_u64(),
            Some(sbom["packages"].as_array().unwrap().len() as u64),
            "{kind}"
        );
        let scan = pare(&["scan", "--format", "json", "--db", db, reference])
            .success()
            .json();
        let v = &r["vulnerabilities"];
        for level in ["critical", "high", "medium", "low", "negligible", "unknown"] {
            assert_eq!(v[level], scan["summary"][level], "{kind} {level}");
        }
        assert_eq!(v["total"], scan["summary"]["vulnerabilities"], "{kind}");
        assert_eq!(r["base_os"]["name"], scan["image"]["distro"], "{kind}");
    }

    // Debian slim and Ubuntu carry the same packages (the Ubuntu image is Debian's
    // files with Ubuntu's release and openssl entries); distroless only the seven it
    // unpacked, read from status.d, with no shell, no package manager, not as root.
    let debian = row("base-debian");
    assert_eq!(
        debian["packages"]["deb"],
        row("base-ubuntu")["packages"]["deb"]
    );
    let distroless = row("base-distroless");
    assert_eq!(distroless["packages"], serde_json::json!({"deb": 7}));
    let status_d = sbom_json(&images[1]);
    for p in status_d["packages"].as_array().unwrap() {
        let found = p["found_in"].as_str().unwrap_or_default();
        assert!(found.starts_with("/var/lib/dpkg/status.d/"), "{p:#}");
    }
    assert_eq!(distroless["shells"], serde_json::json!([]));
    assert_eq!(distroless["package_managers"], serde_json::json!([]));
    assert_eq!(distroless["runs_as_root"], false);
    assert!(
        distroless["uncompressed_bytes"].as_u64() < debian["uncompressed_bytes"].as_u64(),
        "{c:#}"
    );

    // Ubuntu: matched in Ubuntu:22.04:LTS by source package, rated by Canonical's
    // priority, fixable; supported until 2027-06-01, then ESM.
    let ubuntu_scan = pare(&["scan", "--format", "json", "--db", db, &images[2]])
        .success()
        .json();
    let libssl: Vec<&Value> = ubuntu_scan["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["package"]["name"] == "libssl3")
        .collect();
    assert_eq!(libssl.len(), 1, "{ubuntu_scan:#}");
    assert_eq!(libssl[0]["id"], "CVE-2024-0727");
    assert_eq!(libssl[0]["severity"], "low");
    assert_eq!(libssl[0]["fixed"], "3.0.2-0ubuntu1.14");
    let support = |kind: &str| row(kind)["base_os"]["support"].clone();
    let ubuntu = support("base-ubuntu");
    assert_eq!(ubuntu["end_of_life"], "2027-06-01");
    let expected = if today.as_str() < "2027-06-01" {
        "supported"
    } else if today.as_str() < "2032-04-21" {
        "extended"
    } else {
        "end_of_life"
    };
    assert_eq!(ubuntu["status"], expected, "{today}");

    // Alpine: read from apk's database, openssl's subpackages matched by origin in
    // Alpine:v3.11 and fixed in 1.1.1d-r3; the branch's support ended in 2021, and
    // the table says so in capitals.
    let alpine = row("base-alpine");
    assert_eq!(alpine["packages"], serde_json::json!({"apk": 14}));
    let alpine_scan = pare(&["scan", "--format", "json", "--db", db, &images[3]])
        .success()
        .json();
    let openssl: BTreeSet<(String, String, String)> = alpine_scan["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let s = |v: &Value| v.as_str().unwrap_or_default().to_owned();
            (s(&f["id"]), s(&f["package"]["name"]), s(&f["fixed"]))
        })
        .collect();
    let fix = |p: &str| {
        (
            "ALPINE-CVE-2019-1551".to_owned(),
            p.to_owned(),
            "1.1.1d-r3".to_owned(),
        )
    };
    assert_eq!(
        openssl,
        BTreeSet::from([fix("libcrypto1.1"), fix("libssl1.1")])
    );
    assert_eq!(support("base-alpine")["status"], "end_of_life");
    // Debian 12: regular support to 2026-07-11, Debian LTS to 2028-06-30.
    assert_eq!(support("base-debian")["extended_until"], "2028-06-30");
    assert_eq!(support("base-distroless"), support("base-debian"));

    let mut table_args = vec!["compare", "--db", db];
    table_args.extend(images.iter().map(String::as_str));
    let table = pare(&table_args).success().stdout();
    assert!(
        table.contains("Alpine Linux v3.11: END OF LIFE since 2021-11-01"),
        "{table}"
    );
}

#[test]
fn xray_html_treemap_and_search() {
    if support::skip_without_engine() {
        return;
    }
    let flask = test_image("flask");
    let dir = temp_dir();
    let page = dir.path().join("flask.html");
    pare(&[
        "xray",
        &flask.archive_ref(),
        "--html",
        page.to_str().unwrap(),
    ])
    .success();
    assert!(std::fs::metadata(&page).unwrap().len() < 2_000_000);
    let mut browser = Browser::start();
    open_page(&mut browser, &page, "xray-flask.png");
    // The top directories, and the ones inside them, are drawn with their paths.
    let titles = strings(&browser.eval(
        "[...document.querySelectorAll('#treemap rect title')].map(t => t.textContent.split(':')[0])",
    ));
    for dir in ["/usr", "/opt", "/usr/lib", "/usr/share", "/opt/venv"] {
        assert!(titles.contains(dir), "{dir} not drawn: {titles:?}");
    }
    let layers = browser.eval("document.querySelectorAll('#layers tbody tr').length");
    assert_eq!(layers.as_u64(), Some(6));
    // The Slim viewer's search: typing `mailcap` finds mailcap.py.
    let hits = browser.eval(
        "(() => { const s = document.getElementById('search'); s.value = 'mailcap'; \
         s.dispatchEvent(new Event('input')); \
         return [...document.querySelectorAll('#search-results .hit')].map(h => h.firstChild.textContent); })()",
    );
    let hits = strings(&hits);
    assert!(hits.contains("/usr/lib/python3.11/mailcap.py"), "{hits:?}");
    // Clicking a hit zooms the treemap into its directory.
    let crumbs = browser.eval(
        "(() => { [...document.querySelectorAll('#search-results .hit')] \
         .find(h => h.firstChild.textContent === '/usr/lib/python3.11/mailcap.py').click(); \
         return document.getElementById('crumbs').textContent; })()",
    );
    assert!(
        crumbs.as_str().unwrap().starts_with("/usr/lib/python3.11"),
        "{crumbs}"
    );
    browser.screenshot(&screenshot_path("xray-flask-zoomed.png"));
    // Clicking a directory in the treemap zooms too; the root crumb goes back.
    let back = browser.eval(
        "(() => { document.querySelector('#crumbs a').click(); \
         document.querySelector('#treemap rect.dir').dispatchEvent(new MouseEvent('click', {bubbles: true})); \
         return document.getElementById('crumbs').textContent; })()",
    );
    assert!(back.as_str().unwrap().starts_with("/usr"), "{back}");
    assert!(browser.problems.is_empty(), "{:#?}", browser.problems);
}

#[test]
fn xray_pages_of_every_test_image_stay_under_2_mb() {
    if support::skip_without_engine() {
        return;
    }
    let dir = temp_dir();
    for name in [
        "flask",
        "nginx",
        "node",
        "cli",
        "layers",
        "jvm",
        "lazy",
        "entrypoint",
        "postgres",
        "vulnapp",
        "hostile",
    ] {
        let page = dir.path().join(format!("{name}.html"));
        pare(&[
            "xray",
            &test_image(name).archive_ref(),
            "--html",
            page.to_str().unwrap(),
        ])
        .success();
        let size = std::fs::metadata(&page).unwrap().len();
        assert!(size < 2_000_000, "{name}: {size} bytes");
    }
}

#[test]
fn bad_input_is_an_error_naming_the_image() {
    if support::skip_without_engine() {
        return;
    }
    let flask = test_image("flask");
    let run = pare(&[
        "diff",
        &flask.archive_ref(),
        "docker-archive:/nonexistent/b.tar",
    ])
    .exits(2);
    assert!(
        run.stderr().contains("/nonexistent/b.tar"),
        "{}",
        run.explain()
    );
    let run = pare(&["diff", "oci:/nonexistent/a", &flask.archive_ref()]).exits(2);
    assert!(run.stderr().contains("/nonexistent/a"), "{}", run.explain());
    let run = pare(&[
        "diff",
        "--db",
        "/nonexistent/advisories.sqlite",
        &flask.archive_ref(),
        &flask.archive_ref(),
    ])
    .exits(2);
    assert!(
        run.stderr().contains("hint: `pare db update`"),
        "{}",
        run.explain()
    );
    let run = pare(&[
        "compare",
        "docker-archive:/nonexistent/c.tar",
        "no such:ref",
    ])
    .exits(2);
    let text = run.stdout();
    assert!(
        text.contains("/nonexistent/c.tar") && text.contains("no such:ref"),
        "{text}"
    );
}

#[test]
fn security_updates_from_the_archives_package_index() {
    if support::skip_without_engine() {
        return;
    }
    use std::io::Write as _;
    let flask = test_image("flask").archive_ref();
    let sbom = sbom_json(&flask);
    let version = |name: &str| {
        sbom["packages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["ecosystem"] == "deb" && p["name"] == name)
            .unwrap_or_else(|| panic!("no {name} in flask"))["version"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    // A security archive's index (gzip, as mirrors serve it): a newer bash, the very
    // libc6 installed, an older tar, and a package flask does not have.
    let index = format!(
        "Package: bash\nVersion: 99:1.0\nArchitecture: amd64\n\n\
         Package: libc6\nVersion: {}\n\n\
         Package: tar\nVersion: 0.1-1\n\n\
         Package: not-installed\nVersion: 9.9\n",
        version("libc6")
    );
    let dir = temp_dir();
    let path = dir.path().join("Packages.gz");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(index.as_bytes()).unwrap();
    std::fs::write(&path, gz.finish().unwrap()).unwrap();

    let with = pare(&[
        "compare",
        "--format",
        "json",
        "--updates",
        path.to_str().unwrap(),
        &flask,
    ])
    .success()
    .json();
    let row = &with["rows"][0];
    assert_eq!(
        row["security_updates"],
        serde_json::json!([{"package": "bash", "installed": version("bash"), "available": "99:1.0"}])
    );
    let without = pare(&["compare", "--format", "json", &flask])
        .success()
        .json();
    assert_eq!(without["rows"][0]["security_updates"], Value::Null);
    assert_eq!(
        row["score"].as_u64().unwrap(),
        without["rows"][0]["score"].as_u64().unwrap() + 2
    );
    let run = pare(&["compare", "--updates", "/nonexistent/Packages", &flask]).exits(2);
    assert!(
        run.stderr().contains("/nonexistent/Packages"),
        "{}",
        run.explain()
    );
}

#[test]
fn pending_security_updates_agree_with_dpkg_on_the_real_security_index() {
    if support::skip_without_engine() {
        return;
    }
    use std::io::Read as _;
    let index = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/data/apt/bookworm-security-main-amd64-Packages.gz");
    let flask = test_image("flask").archive_ref();
    let c = pare(&[
        "compare",
        "--format",
        "json",
        "--updates",
        index.to_str().unwrap(),
        &flask,
    ])
    .success()
    .json();
    let found: BTreeMap<String, (String, String)> = c["rows"][0]["security_updates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            let s = |k: &str| u[k].as_str().unwrap().to_owned();
            (s("package"), (s("installed"), s("available")))
        })
        .collect();

    // The oracle: every version the index has of each installed deb package, ordered
    // by dpkg itself.
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(&index).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    let mut offered: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for stanza in text.split("\n\n") {
        let field = |f: &str| {
            stanza
                .lines()
                .find_map(|l| l.strip_prefix(f).map(|v| v.trim().to_owned()))
        };
        if let (Some(name), Some(version)) = (field("Package:"), field("Version:")) {
            offered.entry(name).or_default().push(version);
        }
    }
    let dpkg_gt = |a: &str, b: &str| {
        std::process::Command::new("dpkg")
            .args(["--compare-versions", a, "gt", b])
            .status()
            .unwrap_or_else(|e| support::cannot_run("dpkg", &e))
            .success()
    };
    let mut expected: BTreeMap<String, (String, String)> = BTreeMap::new();
    let sbom = sbom_json(&flask);
    for p in sbom["packages"].as_array().unwrap() {
        let (name, installed) = (p["name"].as_str().unwrap(), p["version"].as_str().unwrap());
        if p["ecosystem"] != "deb" {
            continue;
        }
        let Some(versions) = offered.get(name) else {
            continue;
        };
        let mut newest = &versions[0];
        for v in versions {
            if dpkg_gt(v, newest) {
                newest = v;
            }
        }
        if dpkg_gt(newest, installed) {
            expected.insert(name.to_owned(), (installed.to_owned(), newest.clone()));
        }
    }
    assert!(!expected.is_empty(), "the index offers flask nothing newer");
    assert_eq!(found, expected);
}
