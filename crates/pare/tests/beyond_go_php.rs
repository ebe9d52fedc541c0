//! Issue 21: a slim image must keep working beyond the probes it was built with. Two
//! apps of kinds users run, built from Debian's packages: a Go server (standard
//! library, the cgo default) with static files, templates parsed per request and
//! zones loaded by name, and a PHP site (nginx and php-fpm behind a shell entrypoint)
//! with includes, forms, a guestbook, sessions and error pages. Each is slimmed with
//! the probes a user writes on a first try, then sent a broad set of checks the probes
//! never made, to the original and to the slim image under the seccomp profile pare
//! wrote. The same checks against `--keep traced --seccomp learned` (the behaviour
//! before the issue) are printed beside, as the before/after evidence.

mod support;

use serde_json::Value;
use support::beyond::{Build, Check, Outcome, assert_only_known, compare_service, print_evidence};
use support::{assert_nothing_left, pare_work_dirs, port_lock, test_image};

/// Builds `image` the default way and the old way (`--keep traced --seccomp learned`)
/// with `probes`, sends `checks` to each slim image and the original, and returns the
/// default's outcome and report after printing both outcomes and the sizes.
fn default_and_old(
    image: &str,
    name: &str,
    port: u16,
    probes: &[&str],
    checks: &[Check],
) -> (Outcome, Value) {
    let same = |s: &str| s.to_owned();
    let now = Build::new(image, &format!("pare-test/{name}:beyond-default"), probes).verified();
    let after = compare_service(image, &now.tag, port, &now.seccomp(), checks, &same);
    let old_args = [probes, &["--keep", "traced", "--seccomp", "learned"]].concat();
    let old = Build::new(image, &format!("pare-test/{name}:beyond-old"), &old_args).verified();
    let before = compare_service(image, &old.tag, port, &old.seccomp(), checks, &same);
    print_evidence(name, &now, &old, &after, &before);
    (after, now.report())
}

/// goweb: probed with `GET /` and `GET /tz?zone=UTC` (a zone Go knows without reading
/// a file), then asked for the other static files, the templates no probe rendered,
/// zones read from the zone database, a bad zone, the form, 404s, HEAD.
#[test]
fn goweb_keeps_working_beyond_its_probes() {
    if support::skip_without_engine() {
        return;
    }
    let app = test_image("goweb");
    let _port = port_lock();
    let before = pare_work_dirs();
    let form = "application/x-www-form-urlencoded";
    let checks = [
        Check::get("/static/css/site.css"),
        Check::get("/static/css/print.css"),
        Check::get("/static/img/logo.png"),
        Check::get("/static/robots.txt"),
        Check::get("/static/"),
        Check::get("/static/missing.css"),
        Check::get("/hello?name=Ada"),
        Check::get("/about"),
        Check::get("/zones"),
        Check::get("/tz?zone=Europe/Paris"),
        Check::get("/tz?zone=America/New_York"),
        Check::get("/tz?zone=Asia/Tokyo"),
        Check::get("/tz?zone=Australia/Lord_Howe"),
        Check::get("/tz?zone=Etc/GMT%2B5"),
        Check::get("/tz?zone=Mars/Olympus"),
        Check::get("/contact"),
        Check::send("POST", "/contact", form, b"name=Ada&message=Hello+there"),
        Check::send("POST", "/contact", form, b"name=&message="),
        Check::send("PUT", "/contact", form, b"name=Ada"),
        Check::get("/no/such/page"),
        Check::send("HEAD", "/", "text/plain", b""),
        Check::send("HEAD", "/static/css/site.css", "text/plain", b""),
        Check::get("/health"),
    ];
    let (outcome, default_report) = default_and_old(
        &app.image,
        "goweb",
        8092,
        &["--probe", "GET /", "--probe", "GET /tz?zone=UTC"],
        &checks,
    );
    assert_only_known(&outcome, &[], "goweb");
    // The log's time stamps read /etc/localtime: the zone database is kept whole.
    let sets = &default_report["kept_by_reason"]["resource_set"];
    assert!(
        sets.as_array()
            .is_some_and(|a| a.iter().any(|p| p == "/usr/share/zoneinfo/Asia/Tokyo")),
        "{sets}"
    );
    assert_nothing_left("after the goweb builds", &before);
}

/// goweb with `TZ=` set empty: Go then takes UTC for local time without reading
/// /etc/localtime, so its log's time stamps read no zone file and the trace of a
/// probe that asks for UTC (a zone Go knows without a file) shows none. Only the
/// binary says that zones are loaded by name: the slim image must keep the zone
/// database for `/tz?zone=Asia/Tokyo`, which no probe made.
#[test]
fn a_go_program_that_loads_zones_by_name_keeps_the_zone_database_unseen() {
    if support::skip_without_engine() {
        return;
    }
    let app = test_image("goweb");
    let _port = port_lock();
    let before = pare_work_dirs();
    let context = support::temp_dir();
    std::fs::write(
        context.path().join("Dockerfile"),
        format!("FROM {}\nENV TZ=\n", app.image),
    )
    .expect("write the Dockerfile");
    let image = "pare-test/goweb-utc:beyond";
    support::build_image(image, context.path());
    let build = Build::new(
        image,
        "pare-test/goweb-utc:slim",
        &["--probe", "GET /tz?zone=UTC"],
    );
    let checks = [
        Check::get("/tz?zone=Asia/Tokyo"),
        Check::get("/tz?zone=Europe/Paris"),
        Check::get("/zones"),
        Check::get("/tz?zone=Mars/Olympus"),
    ];
    let outcome = (build.report()["verification"]["passed"] == true).then(|| {
        compare_service(image, &build.tag, 8092, &build.seccomp(), &checks, &|s| {
            s.to_owned()
        })
    });
    let report = build.report();
    drop(build);
    support::docker(&["rmi", "-f", image]);
    assert_eq!(report["verification"]["passed"], true, "{report:#}");
    let traced: Vec<&str> = report["kept_by_reason"]
        .as_object()
        .expect("kept_by_reason")
        .iter()
        // Directories are kept as the parents of kept files.
        .filter(|(reason, _)| !["resource_set", "parent"].contains(&reason.as_str()))
        .flat_map(|(_, paths)| paths.as_array().into_iter().flatten())
        .filter_map(Value::as_str)
        .filter(|p| p.contains("zoneinfo") || *p == "/etc/localtime")
        .collect();
    assert!(traced.is_empty(), "the trace saw a zone file: {traced:?}");
    let sets = &report["kept_by_reason"]["resource_set"];
    assert!(
        sets.as_array()
            .is_some_and(|a| a.iter().any(|p| p == "/usr/share/zoneinfo/Asia/Tokyo")),
        "{sets}"
    );
    let outcome = outcome.expect("verified");
    assert_only_known(&outcome, &[], "goweb with TZ=");
    assert_nothing_left("after the goweb TZ= build", &before);
}

/// A 1x1 PNG: what an avatar upload sends.
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0\x90wS\xde\0\0\0\x0cIDATx\x9cc\xf8\xcf\xc0\0\0\x03\x01\x01\0\xc9\xfe\x92\xef\0\0\0\0IEND\xaeB`\x82";

/// A multipart form post of one file, as a browser sends it, to `/upload.php`.
fn upload(name: &str, bytes: &[u8]) -> Check {
    let boundary = "----pare-beyond-21";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"avatar\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    Check::send(
        "POST",
        "/upload.php",
        &format!("multipart/form-data; boundary={boundary}"),
        &body,
    )
}

/// phpsite: probed with `GET /` only, then asked for the other pages, the included
/// files' pages, static files, the form posts, the guestbook, a session, time zones,
/// the 404 page and a page that fails.
#[test]
fn phpsite_keeps_working_beyond_its_probes() {
    if support::skip_without_engine() {
        return;
    }
    let app = test_image("phpsite");
    let _port = port_lock();
    let before = pare_work_dirs();
    let form = "application/x-www-form-urlencoded";
    let session = |c: Check| c.with_header("Cookie", "PHPSESSID=beyond21");
    let checks = [
        Check::get("/about.php"),
        Check::get("/products.php"),
        Check::get("/products.php?id=2"),
        Check::get("/products.php?id=99"),
        Check::get("/products.php?format=json"),
        Check::get("/products.php?format=csv"),
        Check::get("/products.php?format=csv&charset=windows-1252"),
        Check::get("/time.php?tz=Asia/Tokyo"),
        Check::get("/time.php?tz=America/New_York"),
        Check::get("/time.php?tz=Nowhere/Land"),
        Check::get("/contact.php"),
        Check::send(
            "POST",
            "/contact.php",
            form,
            "name=Zoë&message=Hello".as_bytes(),
        ),
        Check::send("POST", "/contact.php", form, b"name=&message="),
        Check::send("PUT", "/contact.php", form, b"name=x"),
        Check::send("POST", "/guestbook.php", form, b"text=first+entry"),
        Check::get("/guestbook.php"),
        session(Check::get("/visits.php")),
        session(Check::get("/visits.php")),
        Check::get("/css/site.css"),
        Check::get("/img/logo.svg"),
        Check::get("/robots.txt"),
        Check::get("/no-such-page"),
        Check::get("/no-such-page.php"),
        Check::get("/report.php"),
        Check::send("POST", "/css/site.css", form, b"x=1"),
        Check::send("HEAD", "/about.php", "text/plain", b""),
        Check::get("/upload.php"),
        upload("avatar.png", PNG),
        upload("notes.txt", b"not an image at all\n"),
    ];
    let (outcome, default_report) =
        default_and_old(&app.image, "phpsite", 8093, &["--probe", "GET /"], &checks);
    assert_only_known(&outcome, &[], "phpsite");
    // The session store and the guestbook's directory are empty in the image: kept
    // as the directories the app writes its state into.
    let state: Vec<&str> = default_report["kept_by_reason"]["state_dir"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    for dir in ["/var/lib/php/sessions", "/var/lib/phpsite"] {
        assert!(state.contains(&dir), "{dir} not kept: {state:?}");
    }
    assert_nothing_left("after the phpsite builds", &before);
}
