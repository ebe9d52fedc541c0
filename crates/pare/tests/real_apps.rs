//! `pare build` on apps none of the other tests use: a JVM service, PostgreSQL behind a
//! docker-library style entrypoint with a volume, a Python app behind a shell
//! entrypoint, and an express app that loads a module lazily. A "Verified" must be
//! true (a port held by another process is refused, a slim image that cannot start
//! fails), services that are not HTTP are built with exec probes, what exec probes use
//! is traced, and the summary names the app's own files it removed.

mod support;

use std::net::TcpListener;
use std::time::Duration;

use serde_json::Value;
use support::{
    Run, assert_nothing_left, docker, http_get, pare, pare_env, pare_work_dirs, port_lock,
    temp_dir, test_image,
};

/// `pare build IMAGE --tag TAG ARGS --report-dir DIR` with no advisory database (an
/// empty cache dir), its output, and the tag removed afterwards.
fn build(image: &str, tag: &str, args: &[&str]) -> (Run, tempfile::TempDir) {
    let out = temp_dir();
    let reports = out.path().join("report").display().to_string();
    let cache = out.path().join("cache").display().to_string();
    let mut all = vec!["build", image, "--tag", tag, "--report-dir", &reports];
    all.extend_from_slice(args);
    let run = pare_env(&all, &[("PARE_CACHE_DIR", &cache)]);
    let _ = docker(&["rmi", tag]);
    (run, out)
}

fn report_of(out: &tempfile::TempDir) -> Value {
    let path = out.path().join("report/report.json");
    serde_json::from_slice(&std::fs::read(&path).expect("report.json")).expect("JSON")
}

#[test]
fn a_jvm_service_is_verified_and_a_port_held_by_another_process_is_refused() {
    if support::skip_without_engine() {
        return;
    }
    let jvm = test_image("jvm");
    let _port = port_lock();
    let before = pare_work_dirs();
    let tag = "pare-test/jvm:slim-test";
    let (run, out) = build(
        &jvm.image,
        tag,
        &["--probe", "GET /", "--probe", "GET /health"],
    );
    let run = run.success();
    let report = report_of(&out);
    assert_eq!(report["verification"]["passed"], true, "{}", run.explain());
    // The user's 2 probes and pare's own (a missing path, DELETE /, HEADs).
    let verified = run.stdout();
    assert!(
        verified.contains("Verified     the slim image answers all ")
            && verified.contains(" probes the same"),
        "{verified}"
    );
    // No advisory database: the build goes on, and says how to get the VEX.
    assert!(report.get("vex").is_none());
    assert!(
        report["notes"].as_array().unwrap().iter().any(|n| n
            .as_str()
            .unwrap()
            .contains("no VEX written (`pare db update`")),
        "{}",
        report["notes"]
    );

    // Another process listens on the service's port of the host. On the host's
    // network the probes would reach it: pare refuses and names it, and writes nothing.
    let squatter = TcpListener::bind(("127.0.0.1", 8081)).expect("bind 8081");
    let (run, out) = build(
        &jvm.image,
        tag,
        &["--network", "host", "--probe", "GET /health"],
    );
    let run = run.exits(2);
    let stderr = run.stderr();
    assert!(
        stderr.contains("port 8081") && stderr.contains(&format!("pid {}", std::process::id())),
        "{}",
        run.explain()
    );
    assert!(
        !out.path().join("report").exists(),
        "a report dir was written"
    );
    assert!(
        docker(&["image", "inspect", tag]).code() != Some(0),
        "a slim image was written"
    );
    // In a network of its own (the default) the same port is no concern.
    let (run, _out) = build(&jvm.image, tag, &["--probe", "GET /health"]);
    run.success();
    drop(squatter);

    // A slim image that cannot start fails verification, and says which image and
    // what it printed.
    let (run, _out) = build(
        &jvm.image,
        tag,
        &["--probe", "GET /health", "--exclude", "/app/service.jar"],
    );
    let run = run.exits(1);
    let stdout = run.stdout();
    assert!(stdout.contains("NOT VERIFIED"), "{}", run.explain());
    assert!(
        stdout.contains(
            "GET /health status: 200 -> error: the slim image did not start: the app exited before port 8081 opened"
        ) && stdout.contains("      Error: Unable to access jarfile /app/service.jar"),
        "{}",
        run.explain()
    );
    assert_nothing_left("after the jvm builds", &before);
}

#[test]
fn postgres_is_built_with_exec_probes_only_and_its_slim_image_initialises_a_fresh_data_dir() {
    if support::skip_without_engine() {
        return;
    }
    let pg = test_image("postgres");
    let _port = port_lock();
    let before = pare_work_dirs();
    let tag = "pare-test/postgres:slim-test";
    let out = temp_dir();
    let reports = out.path().join("report").display().to_string();
    let run = pare(&[
        "build",
        &pg.image,
        "--tag",
        tag,
        "--report-dir",
        &reports,
        "--ready-exec",
        "pg_isready -h 127.0.0.1",
        "--exec",
        "psql -h 127.0.0.1 -U postgres -Atc 'select 40 + 2'",
        "--exec",
        "psql -h 127.0.0.1 -U postgres -Atc 'select note from pare_smoke'",
    ])
    .success();
    let report = report_of(&out);
    assert_eq!(report["verification"]["passed"], true, "{}", run.explain());
    let probes = report["probes"].as_array().unwrap();
    assert_eq!(probes.len(), 2, "no HTTP probe beside the exec probes");
    assert_eq!(
        probes[0]["probe"], "exec psql -h 127.0.0.1 -U postgres -Atc 'select 40 + 2'",
        "the label keeps the quotes"
    );
    assert_eq!(probes[0]["body"].as_str().unwrap().trim(), "42");
    // 5.4x keeping only what the probes used; the default keeps the plugin directory
    // postgres loaded plpgsql.so from (every extension, and the JIT provider with the
    // LLVM it links: reachable, as jit is on by default), about 165 MB more: 1.84x;
    // and the Perl closure of Debian's `psql`, a Perl wrapper (pg_wrapper), 16 MB
    // more, Encode's tables of encodings loaded by name among it: 1.73x.
    assert!(
        report["ratio"].as_f64().unwrap() > 1.7,
        "{}",
        report["ratio"]
    );

    // The slim image, started afresh with a new volume, initialises its data
    // directory and answers the same query.
    let name = format!("pare-test-pg-{}", std::process::id());
    docker(&["run", "-d", "--name", &name, "--network", "none", tag]).success();
    let mut answer = String::new();
    for _ in 0..60 {
        let run = docker(&[
            "exec",
            &name,
            "psql",
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-Atc",
            "select 40 + 2",
        ]);
        answer = run.stdout();
        if run.code() == Some(0) {
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    let logs = docker(&["logs", &name]).stderr();
    docker(&["rm", "-f", "-v", &name]).success();
    docker(&["rmi", tag]).success();
    assert_eq!(answer.trim(), "42", "{logs}");

    // With no probe at all, pare sees the port does not speak HTTP, says so, and
    // still builds (the start is traced).
    let (run, out) = build(&pg.image, tag, &["--no-verify"]);
    run.success();
    let report = report_of(&out);
    assert!(
        report["notes"][0]
            .as_str()
            .is_some_and(|n| n.contains("does not answer in HTTP")),
        "{report:#}"
    );
    assert_nothing_left("after the postgres builds", &before);
}

#[test]
fn an_app_behind_a_shell_entrypoint_is_verified() {
    if support::skip_without_engine() {
        return;
    }
    let app = test_image("entrypoint");
    let _port = port_lock();
    let before = pare_work_dirs();
    let (run, out) = build(
        &app.image,
        "pare-test/entrypoint:slim-test",
        // The config the entrypoint writes holds the time it was written: the
        // reference runs show it varies, so no flag is needed to accept it.
        &["--probe", "GET /", "--probe", "GET /config"],
    );
    let run = run.success();
    let report = report_of(&out);
    assert_eq!(report["verification"]["passed"], true, "{}", run.explain());
    assert!(
        report["verification"]["ignored"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["place"] == "$.config.written_at"),
        "{:#}",
        report["verification"]
    );
    let kept: Vec<&str> = report["kept_by_reason"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|paths| paths.as_array().unwrap())
        .map(|p| p.as_str().unwrap())
        .collect();
    for path in [
        "/usr/local/bin/docker-entrypoint.sh",
        "/usr/bin/sh",
        "/usr/bin/dash",
        "/app/app.py",
    ] {
        assert!(kept.contains(&path), "{path} is not kept");
    }
    assert_nothing_left("after the entrypoint build", &before);
}

/// GET / alone is probed; GET /render requires `./lib/render` (and through it the
/// npm package marked and `content/hello.md`) only when first called.
#[test]
fn the_lazy_apps_unprobed_route_works_by_default_and_keep_traced_names_what_it_removed() {
    if support::skip_without_engine() {
        return;
    }
    let lazy = test_image("lazy");
    let _port = port_lock();
    let before = pare_work_dirs();
    let tag = "pare-test/lazy:slim-test";

    // The default keeps what the app can reach: its own files (COPY layers).
    let out = temp_dir();
    let reports = out.path().join("report").display().to_string();
    let run = pare(&[
        "build",
        &lazy.image,
        "--probe",
        "GET /",
        "--tag",
        tag,
        "--report-dir",
        &reports,
    ])
    .success();
    let report = report_of(&out);
    let app_files: Vec<&str> = report["kept_by_reason"]["app_file"]
        .as_array()
        .expect("app files kept")
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    for path in ["/app/lib/render.js", "/app/content/hello.md"] {
        assert!(app_files.contains(&path), "{path} not kept: {app_files:?}");
    }
    assert_eq!(report["app_files_removed"], serde_json::json!([]));
    let stdout = run.stdout();
    assert!(stdout.contains("Kept unseen"), "{stdout}");
    assert!(stdout.contains("Reach        the probes used"), "{stdout}");
    let name = format!("pare-test-lazy-{}", std::process::id());
    docker(&["run", "-d", "--name", &name, "--network", "host", tag]).success();
    let mut answer = String::new();
    for _ in 0..50 {
        answer = http_get(8083, "/render").unwrap_or_default();
        if answer.starts_with("HTTP/1.1 200") {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    docker(&["rm", "-f", &name]).success();
    docker(&["rmi", tag]).success();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer.contains("<h1>"),
        "marked rendered the page: {answer}"
    );

    // --keep traced keeps what the probes used only, and names what it removed.
    let (run, out) = build(&lazy.image, tag, &["--probe", "GET /", "--keep", "traced"]);
    let run = run.success();
    let stdout = run.stdout();
    let report = report_of(&out);
    let removed: Vec<&str> = report["app_files_removed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert!(removed.contains(&"/app/lib/render.js"), "{removed:?}");
    // Few enough to be named one by one.
    assert!(stdout.contains("/app/lib/render.js"), "{stdout}");
    assert!(stdout.contains("the app declares marked"), "{stdout}");
    assert!(
        stdout.contains("Kept unseen  nothing (--keep traced)"),
        "{stdout}"
    );
    let flags_line = stdout
        .lines()
        .find(|l| l.starts_with("Keep them"))
        .expect("a Keep them line");
    for dir in ["/app/lib", "/app/content"] {
        assert!(
            flags_line.contains(&format!("--include-path {dir}")),
            "{flags_line}"
        );
    }
    assert_nothing_left("after the lazy builds", &before);
}

#[test]
fn what_exec_probes_use_is_traced_and_probe_file_exec_entries_work() {
    if support::skip_without_engine() {
        return;
    }
    let flask = test_image("flask");
    let _port = port_lock();
    let before = pare_work_dirs();
    let dir = temp_dir();
    let probes = dir.path().join("probes.json");
    std::fs::write(
        &probes,
        r#"[{"kind": "http", "method": "GET", "path": "/api/items"},
            {"kind": "exec", "command": ["python3", "-c", "import json; print(json.dumps([1]))"]}]"#,
    )
    .unwrap();
    let tag = "pare-test/flask:slim-test";
    let out = temp_dir();
    let oci = out.path().join("oci");
    let reports = out.path().join("report").display().to_string();
    let run = pare(&[
        "build",
        &flask.image,
        "--tag",
        tag,
        "--report-dir",
        &reports,
        "--probe-file",
        &probes.display().to_string(),
        "--exec",
        "python3 -c 'import sqlite3; print(sqlite3.sqlite_version)'",
        "--output",
        &format!("oci:{}", oci.display()),
        "--json",
    ])
    .success();
    let _ = docker(&["rmi", tag]);
    let report = run.json();
    assert_eq!(report["verification"]["passed"], true, "{}", run.explain());
    let labels: Vec<&str> = report["probes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["origin"] == "user")
        .map(|p| p["probe"].as_str().unwrap())
        .collect();
    assert_eq!(
        labels,
        [
            "GET /api/items",
            "exec python3 -c 'import json; print(json.dumps([1]))'",
            "exec python3 -c 'import sqlite3; print(sqlite3.sqlite_version)'",
        ]
    );
    // sqlite3 was imported by an exec probe: its sources are in the slim image (the
    // .pyc alone is not enough), and the verification ran it there.
    let found = pare(&[
        "xray",
        "--json",
        "--find",
        "/usr/lib/python3.11/sqlite3/*",
        &format!("oci:{}", oci.display()),
    ])
    .success()
    .json();
    let paths: Vec<&str> = found["found"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert!(
        paths.contains(&"/usr/lib/python3.11/sqlite3/__init__.py")
            && paths.contains(&"/usr/lib/python3.11/sqlite3/dbapi2.py"),
        "{paths:?}"
    );
    assert_nothing_left("after the exec probes", &before);
}

/// Verification learns what is noise from two untraced runs of the original: an app
/// whose answers carry the time, a uuid, its pid, a counter and varying headers
/// verifies with no flags; a file it serves that the slim image lacks fails, named by
/// its probe; with one reference run the uuid is a difference, and the summary names
/// the --verify-ignore that accepts it.
#[test]
fn verification_tells_noise_from_change() {
    if support::skip_without_engine() {
        return;
    }
    let noisy = test_image("noisy");
    let _port = port_lock();
    let before = pare_work_dirs();
    let tag = "pare-test/noisy:slim-test";
    let probes = [
        "--probe",
        "GET /health",
        "--probe",
        "GET /page",
        "--probe",
        "GET /file",
    ];
    let (run, out) = build(&noisy.image, tag, &probes);
    let run = run.success();
    let report = report_of(&out);
    let v = &report["verification"];
    assert_eq!(v["passed"], true, "{}", run.explain());
    assert_eq!(v["references"], 2);
    let ignored: Vec<String> = v["ignored"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            format!(
                "{} {}",
                d["probe"].as_str().unwrap(),
                d["place"].as_str().unwrap()
            )
        })
        .collect();
    for noise in [
        "GET /health $.time",
        "GET /health $.id",
        "GET /health header etag",
        "GET /health header x-request-id",
        "GET /page body",
        "GET /file $.served_at",
    ] {
        assert!(
            ignored.iter().any(|i| i == noise),
            "{noise} not noise: {ignored:?}"
        );
    }
    // The pid and the counter are the same in every untraced run and the slim one.
    assert!(
        !ignored
            .iter()
            .any(|i| i.contains("$.pid") || i.contains("$.count"))
    );
    assert!(
        run.stdout().contains("differences were noise"),
        "{}",
        run.explain()
    );

    // A file the app serves, left out: a real difference.
    let (run, out) = build(
        &noisy.image,
        tag,
        &[&probes[..], &["--exclude", "/app/data/message.txt"]].concat(),
    );
    let run = run.exits(1);
    let report = report_of(&out);
    let differences = report["verification"]["differences"].as_array().unwrap();
    // The GET of the file, and pare's own HEAD of it.
    assert!(
        !differences.is_empty()
            && differences
                .iter()
                .all(|d| d["probe"] == "GET /file" || d["probe"] == "HEAD /file"),
        "{:#}",
        report["verification"]
    );
    assert!(
        run.stdout().contains("  GET /file status: 200 -> "),
        "{}",
        run.explain()
    );

    // One reference run learns nothing: the uuid differs, and the summary says how to
    // accept it.
    let (run, _out) = build(
        &noisy.image,
        tag,
        &["--probe", "GET /health", "--verify-runs", "1"],
    );
    let run = run.exits(1);
    assert!(
        run.stdout().contains("GET /health $.id: ")
            && run
                .stdout()
                .contains("(accept with --verify-ignore '$.id')"),
        "{}",
        run.explain()
    );
    assert_nothing_left("after the noisy builds", &before);
}
