//! `pare build` on the real test images: the slim image works, is small, has lost what
//! an attacker would use, and nothing pare made is left behind — after success, after
//! a failing probe, and after Ctrl-C.

mod support;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Child;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::{
    Background, assert_nothing_left, docker, http_get, pare, pare_containers, pare_env,
    pare_oci_containers, pare_temporary_images, pare_work_dirs, port_lock, temp_dir, test_image,
};

fn slim_paths(oci: &Path) -> (Value, BTreeSet<String>) {
    let report = pare(&[
        "xray",
        "--json",
        "--find",
        "/**",
        &format!("oci:{}", oci.display()),
    ])
    .success()
    .json();
    let paths = report["found"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_owned())
        .collect();
    (report, paths)
}

#[test]
fn flask_slim_image_works_is_small_and_lost_the_attack_tools() {
    if support::skip_without_engine() {
        return;
    }
    let flask = test_image("flask");
    let _port = port_lock();
    let before = pare_work_dirs();
    let out = temp_dir();
    let oci = out.path().join("slim-oci");
    let reports = out.path().join("report");
    let tag = "pare-test/flask:slim-test";
    let output = format!("oci:{}", oci.display());
    let reports_arg = reports.display().to_string();
    let mut args = vec!["build", &flask.image, "--tag", tag];
    args.extend(support::FLASK_PROBES);
    args.extend(["--output", &output, "--report-dir", &reports_arg, "--json"]);
    let run = pare(&args).success();
    let report = run.json();
    assert_eq!(report["verification"]["passed"], true, "{}", run.explain());
    let ratio = report["ratio"].as_f64().unwrap();
    // 6.7x keeping only what the probes used; what the app can reach beyond them (its
    // codecs, time zones, the modules its code imports) costs about 4.5 MB: 5.84x
    // (imports that never run in a container are not followed: main blocks,
    // Windows-only and TYPE_CHECKING branches, ImportError fallbacks, frozen modules).
    assert!(ratio >= 5.75, "only {ratio:.2}x smaller\n{}", run.explain());

    let (slim, paths) = slim_paths(&oci);
    for gone in [
        "/usr/lib/python3.11/mailcap.py",
        "/usr/lib/python3.11/__pycache__/mailcap.cpython-311.pyc",
        "/usr/bin/apt",
        "/usr/bin/apt-get",
        "/usr/bin/dpkg",
        "/usr/bin/perl",
        "/usr/bin/sh",
        "/usr/bin/dash",
        "/usr/bin/bash",
    ] {
        assert!(!paths.contains(gone), "{gone} is still in the slim image");
    }
    for kept in [
        "/opt/venv/bin/gunicorn",
        "/app/app.py",
        "/etc/passwd",
        "/etc/group",
    ] {
        assert!(
            paths.contains(kept),
            "{kept} is missing from the slim image"
        );
    }
    // Packages kept/removed agree with the files really in the slim image: every file
    // of a removed package is gone, every kept package has a file in it.
    let listed = |list: &str, field: &str| -> BTreeSet<String> {
        report["packages"][list]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p[field].as_str().unwrap().to_owned())
            .collect()
    };
    let (kept, removed) = (listed("kept", "name"), listed("removed", "name"));
    let kept_purls = listed("kept", "purl");
    for gone in ["apt", "dpkg", "perl-base", "bash", "dash"] {
        assert!(
            removed.contains(gone),
            "{gone} not reported removed: {removed:?}"
        );
    }
    for stays in ["libpython3.11-minimal", "libc6", "Flask", "gunicorn"] {
        assert!(kept.contains(stays), "{stays} not reported kept: {kept:?}");
    }
    let sbom = pare(&["sbom", "--format", "json", &flask.archive_ref()])
        .success()
        .json();
    for package in sbom["packages"].as_array().unwrap() {
        let purl = package["purl"].as_str().unwrap();
        let in_slim = package["files"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| paths.contains(f["path"].as_str().unwrap()))
            .count();
        assert_eq!(
            kept_purls.contains(purl),
            in_slim > 0,
            "{purl}: {in_slim} of its files are in the slim image"
        );
    }
    // The slim image carries the kept packages' metadata, and only theirs: its own
    // SBOM lists exactly the packages the report says were kept.
    let slim_sbom = pare(&[
        "sbom",
        "--format",
        "json",
        &format!("oci:{}", oci.display()),
    ])
    .success()
    .json();
    let slim_purls: BTreeSet<String> = slim_sbom["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["purl"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(slim_purls, kept_purls);
    assert!(paths.contains("/var/lib/dpkg/status"));
    assert!(
        slim["tools"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["kind"] != "shell"),
        "{:#}",
        slim["tools"]
    );
    let writable: Vec<&str> = slim["world_writable"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["sticky"] == false)
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert!(
        writable.is_empty(),
        "the slim image is more writable than the original: {writable:?}"
    );
    assert_eq!(slim["image"]["user"], "nobody");
    assert_eq!(
        slim["image"]["entrypoint"],
        pare(&["xray", "--json", &flask.archive_ref()])
            .success()
            .json()["image"]["entrypoint"]
    );
    assert_eq!(slim["layers"].as_array().unwrap().len(), 1);

    // The seccomp profile pare wrote starts the container and lets the app serve.
    let profile = reports.join("seccomp.json");
    let id = docker(&[
        "run",
        "-d",
        "--network",
        "host",
        "--label",
        "pare.build=test",
        "--security-opt",
        &format!("seccomp={}", profile.display()),
        tag,
    ])
    .success()
    .stdout();
    let id = id.trim();
    let answered = wait_http(8080, Duration::from_secs(30));
    let logs = docker(&["logs", id]).stderr();
    docker(&["rm", "-f", id]).success();
    assert!(
        answered,
        "the slim image under pare's seccomp profile did not answer:\n{logs}"
    );
    docker(&["rmi", tag]).success();
    assert_nothing_left("after a successful build", &before);
}

/// By default pare sends its own probes after the user's (a missing path, a wrong
/// method, a malformed JSON body, HEADs): traced, so the files the error handlers load
/// are kept, and compared, so a slim image that turns a 404 into a 500 is not
/// "Verified". The report marks them as pare's and says what each got from the
/// original and from the slim image; a user's probe the original answers with a 4xx
/// is pointed out as suspect.
#[test]
fn pares_own_probes_reach_the_error_handlers_and_are_verified() {
    if support::skip_without_engine() {
        return;
    }
    let flask = test_image("flask");
    let _port = port_lock();
    let before = pare_work_dirs();
    let out = temp_dir();
    let tag = "pare-test/flask:own-probes-test";
    let reports = out.path().display().to_string();
    let mut args = vec!["build", &flask.image, "--tag", tag];
    args.extend(support::FLASK_PROBES);
    args.extend(["--probe", "GET /api/items/99"]);
    args.extend(["--report-dir", &reports, "--json"]);
    let run = pare(&args);
    assert_eq!(run.code(), Some(0), "{}", run.explain());
    docker(&["rmi", tag]).success();
    let report = run.json();
    let verification = &report["verification"];
    assert_eq!(verification["passed"], true, "{verification:#}");
    let traced = report["probes"].as_array().unwrap();
    let slim = verification["probes"].as_array().unwrap();
    let reference = verification["reference_probes"].as_array().unwrap();
    assert_eq!(slim.len(), traced.len(), "the slim image got every probe");
    let status_of = |answers: &[Value], label: &str| -> (String, Value) {
        let answer = answers
            .iter()
            .find(|p| p["probe"] == label)
            .unwrap_or_else(|| panic!("{label} not sent: {answers:#?}"));
        (
            answer["origin"].as_str().unwrap().to_owned(),
            answer["status"].clone(),
        )
    };
    for (label, origin, status) in [
        ("GET /", "user", 200),
        ("GET /api/items/99", "user", 404),
        ("GET /pare-probe-missing-7f3c9a1e", "pare", 404),
        ("DELETE /", "pare", 405),
        ("POST /api/items", "user", 201),
        // The same path and content type as the user's POST, and `{` for a body.
        ("POST /api/items (malformed body)", "pare", 400),
        ("HEAD /", "pare", 200),
        ("HEAD /api/items", "pare", 200),
    ] {
        for (run, answers) in [("traced", traced), ("reference", reference), ("slim", slim)] {
            assert_eq!(
                status_of(answers, label),
                (origin.to_owned(), Value::from(status)),
                "{label} in the {run} run"
            );
        }
    }
    // The user's probe the original answers 404 is suspect; pare's own 4xx are not.
    let suspect = report["suspect_probes"].as_array().unwrap();
    assert_eq!(suspect.len(), 1, "{suspect:#?}");
    assert_eq!(suspect[0]["probe"], "GET /api/items/99");
    assert_eq!(suspect[0]["origin"], "user");
    assert_eq!(suspect[0]["status"], 404);

    // --no-pare-probes sends the user's probes only.
    args.push("--no-pare-probes");
    let run = pare(&args);
    assert_eq!(run.code(), Some(0), "{}", run.explain());
    docker(&["rmi", tag]).success();
    let report = run.json();
    let origins: BTreeSet<&str> = report["probes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["origin"].as_str().unwrap())
        .collect();
    assert_eq!(origins, BTreeSet::from(["user"]), "{:#}", report["probes"]);
    assert_nothing_left("after a build with pare's own probes", &before);
}

fn wait_http(port: u16, timeout: Duration) -> bool {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if http_get(port, "/").is_some_and(|r| r.starts_with("HTTP/1.1 200")) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

/// The files under /srv/www of the slim image written to `oci`.
fn site_files(oci: &Path) -> BTreeSet<String> {
    slim_paths(oci)
        .1
        .into_iter()
        .filter(|p| p.starts_with("/srv/www/") && (p.ends_with(".html") || p.ends_with(".json")))
        .collect()
}

#[test]
fn crawl_follows_the_links_of_the_probed_pages() {
    if support::skip_without_engine() {
        return;
    }
    let nginx = test_image("nginx");
    let _port = port_lock();
    let out = temp_dir();
    let oci = out.path().join("oci");
    let tag = "pare-test/nginx:crawl-test";
    let run = pare(&[
        "build",
        &nginx.image,
        "--crawl",
        "--tag",
        tag,
        "--output",
        &format!("oci:{}", oci.display()),
        "--json",
        "--report-dir",
        &out.path().display().to_string(),
    ]);
    assert_eq!(run.code(), Some(0), "{}", run.explain());
    docker(&["rmi", tag]).success();
    let report = run.json();
    let probes: Vec<&str> = report["probes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["probe"].as_str().unwrap())
        .collect();
    // index.html links about.html, docs/guide.html and api/status.json; about.html
    // links back to the index by name.
    for page in [
        "GET /",
        "GET /about.html",
        "GET /docs/guide.html",
        "GET /api/status.json",
    ] {
        assert!(probes.contains(&page), "{page} not requested: {probes:?}");
    }
    let verified = &report["verification"];
    assert_eq!(verified["passed"], true, "{verified:#}");
    assert_eq!(
        verified["probes"].as_array().unwrap().len(),
        probes.len(),
        "the slim image got the same requests"
    );
    let site = site_files(&oci);
    for file in [
        "about.html",
        "docs/guide.html",
        "api/status.json",
        "index.html",
    ] {
        assert!(
            site.contains(&format!("/srv/www/{file}")),
            "{file}: {site:?}"
        );
    }
}

#[test]
fn continue_after_signal_traces_what_the_user_does_until_sigusr1() {
    if support::skip_without_engine() {
        return;
    }
    trace_while_the_user_acts("signal", "kill -USR1", |child| {
        // SAFETY: sending SIGUSR1 to our own child.
        unsafe { libc::kill(child.id() as i32, libc::SIGUSR1) };
    });
}

#[test]
fn continue_after_enter_traces_what_the_user_does_until_a_key_press() {
    if support::skip_without_engine() {
        return;
    }
    use std::io::Write;
    trace_while_the_user_acts("enter", "press Enter", |child| {
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(b"\n").unwrap();
    });
}

/// Builds nginx with `--continue-after MODE`; once pare says `waiting` (it waits for
/// the user), GETs a page no probe asks for, then lets `finish` end the wait. What the
/// user did is traced: that page is in the slim image, a page nobody asked for is not.
fn trace_while_the_user_acts(mode: &str, waiting: &str, finish: impl FnOnce(&mut Child)) {
    use std::io::BufRead;
    let nginx = test_image("nginx");
    let _port = port_lock();
    let before = pare_work_dirs();
    let out = temp_dir();
    let oci = out.path().join("oci");
    let tag = format!("pare-test/nginx:{mode}-test");
    let mut child = Background(
        std::process::Command::new(env!("CARGO_BIN_EXE_pare"))
            .args([
                "build",
                &nginx.image,
                "--continue-after",
                mode,
                // Only what the trace saw: what nginx serves is otherwise kept
                // whether or not it was asked for.
                "--keep",
                "traced",
                "--tag",
                &tag,
            ])
            .arg("--output")
            .arg(format!("oci:{}", oci.display()))
            .arg("--report-dir")
            .arg(out.path())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let stderr = child.0.stderr.take().unwrap();
    let (lines, said_line) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            let _ = lines.send(line);
        }
    });
    let mut said = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !said.iter().any(|l: &String| l.contains(waiting)) {
        let left = deadline.saturating_duration_since(Instant::now());
        match said_line.recv_timeout(left) {
            Ok(line) => said.push(line),
            Err(_) => panic!("pare never said {waiting:?}: {said:?}"),
        }
    }
    // What the user does while pare waits is traced: about.html is in no probe.
    let answer = http_get(8080, "/about.html").unwrap_or_default();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    finish(&mut child.0);
    let status = child.0.wait().unwrap();
    assert_eq!(status.code(), Some(0), "{said:?}");
    docker(&["rmi", &tag]).success();
    let site = site_files(&oci);
    assert!(site.contains("/srv/www/about.html"), "{site:?}");
    assert!(
        !site.contains("/srv/www/docs/guide.html"),
        "nobody asked for the guide: {site:?}"
    );
    assert_nothing_left(&format!("after --continue-after {mode}"), &before);
}

#[test]
fn service_and_cli_images_pass_verification() {
    if support::skip_without_engine() {
        return;
    }
    let _port = port_lock();
    let before = pare_work_dirs();
    for (name, extra) in [
        (
            "nginx",
            vec!["--probe", "GET /", "--probe", "GET /about.html"],
        ),
        (
            "node",
            vec![
                "--probe",
                "GET /",
                "--probe",
                "GET /api/users",
                "--probe",
                r#"POST /api/echo {"a":1}"#,
            ],
        ),
        ("cli", vec![]),
    ] {
        let image = test_image(name);
        let out = temp_dir();
        let tag = format!("pare-test/{name}:slim-test");
        let mut args = vec![
            "build",
            image.image.as_str(),
            "--tag",
            tag.as_str(),
            "--json",
            "--report-dir",
        ];
        let dir = out.path().display().to_string();
        args.push(&dir);
        args.extend(extra.iter().copied());
        let run = pare(&args);
        assert_eq!(run.code(), Some(0), "{name}\n{}", run.explain());
        let report = run.json();
        assert_eq!(
            report["verification"]["passed"], true,
            "{name}: {:#}",
            report["verification"]
        );
        assert!(
            report["slim"]["uncompressed_bytes"].as_u64().unwrap()
                < report["original"]["uncompressed_bytes"].as_u64().unwrap() / 2
        );
        docker(&["rmi", &tag]).success();
    }
    assert_nothing_left("after the service and CLI builds", &before);
}

#[test]
fn archive_and_oci_inputs_are_built_and_leave_no_temporary_image() {
    if support::skip_without_engine() {
        return;
    }
    let _port = port_lock();
    let before = pare_work_dirs();
    let out = temp_dir();
    let reports = out.path().display().to_string();

    // A CLI image from a `docker save` archive, into the engine under --tag.
    let cli = test_image("cli");
    let tag = "pare-test/cli:from-archive";
    let run = pare(&[
        "build",
        &cli.archive_ref(),
        "--tag",
        tag,
        "--json",
        "--report-dir",
        &reports,
    ]);
    assert_eq!(run.code(), Some(0), "{}", run.explain());
    let report = run.json();
    assert_eq!(report["source"], cli.archive_ref());
    assert_eq!(report["verification"]["passed"], true, "{}", run.explain());
    let slim = docker(&["run", "--rm", "--network", "none", tag]).success();
    let original = docker(&["run", "--rm", "--network", "none", &cli.image]).success();
    assert_eq!(
        slim.stdout(),
        original.stdout(),
        "the slim CLI prints the same"
    );
    docker(&["rmi", tag]).success();

    // A service from an OCI layout, written out as an archive as well.
    let nginx = test_image("nginx");
    let archive = out.path().join("nginx-slim.tar");
    let tag = "pare-test/nginx:from-oci";
    let run = pare(&[
        "build",
        &nginx.oci_ref(),
        "--tag",
        tag,
        "--output",
        &format!("docker-archive:{}", archive.display()),
        "--json",
        "--report-dir",
        &reports,
    ]);
    assert_eq!(run.code(), Some(0), "{}", run.explain());
    let report = run.json();
    assert_eq!(report["verification"]["passed"], true, "{}", run.explain());
    let written = pare(&[
        "xray",
        "--json",
        &format!("docker-archive:{}", archive.display()),
    ])
    .success()
    .json();
    assert_eq!(written["layers"].as_array().unwrap().len(), 1);
    assert_eq!(written["image"]["files"], report["slim"]["files"]);
    docker(&["rmi", tag]).success();
    assert_nothing_left("after building from an archive and a layout", &before);
}

/// An exec probe for the flask image: its venv's Python loads PyYAML's C extension.
const YAML_PROBE: &str = r#"/opt/venv/bin/python3 -c "import yaml; print(yaml.__version__)""#;

/// No engine answers (DOCKER_HOST names a socket that does not exist): pare unpacks
/// the archive, traces and verifies with runc, and writes an OCI layout.
#[test]
fn without_an_engine_runc_runs_the_build() {
    if support::skip_without_engine() {
        return;
    }
    let flask = test_image("flask");
    let _port = port_lock();
    let before = pare_work_dirs();
    let out = temp_dir();
    let reports = out.path().join("report");
    let no_engine = [("DOCKER_HOST", "unix:///nonexistent/docker.sock")];
    let archive = flask.archive_ref();
    let reports_arg = reports.display().to_string();
    let mut args = vec!["build", &archive];
    args.extend(support::FLASK_PROBES);
    args.extend(["--exec", YAML_PROBE, "--report-dir", &reports_arg, "--json"]);
    let run = pare_env(&args, &no_engine);
    assert_eq!(run.code(), Some(0), "{}", run.explain());
    let report = run.json();
    assert_eq!(report["runtime"], "runc");
    // The exec probe ran inside the runc container (`runc exec`), in the slim one too;
    // it comes last, after the HTTP probes and pare's own.
    let last = report["probes"].as_array().unwrap().len() - 1;
    let exec = &report["probes"][last];
    assert!(
        exec["probe"].as_str().unwrap().starts_with("exec "),
        "{exec:#}"
    );
    assert_eq!(exec["status"], 0, "{exec:#}");
    assert_eq!(report["verification"]["probes"][last]["body"], exec["body"]);
    assert_eq!(report["verification"]["passed"], true, "{}", run.explain());
    let ratio = report["ratio"].as_f64().unwrap();
    assert!(ratio >= 5.5, "only {ratio:.2}x smaller");
    let layout = reports.join("image");
    assert_eq!(
        report["outputs"],
        serde_json::json!([format!("oci:{}:latest-slim", layout.display())])
    );
    let (slim, paths) = slim_paths(&layout);
    for gone in [
        "/usr/lib/python3.11/mailcap.py",
        "/usr/bin/dpkg",
        "/usr/bin/sh",
    ] {
        assert!(!paths.contains(gone), "{gone} is still in the slim image");
    }
    assert!(paths.contains("/app/app.py"));
    assert_eq!(slim["image"]["user"], "nobody");
    let writable: Vec<&Value> = slim["world_writable"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["sticky"] == false)
        .collect();
    assert!(writable.is_empty(), "{writable:?}");
    // The host's own file accesses (the root is on the host's filesystem here) must
    // not be taken for the app's: the same files as a build in the engine keeps.
    let packages = |r: &Value| r["packages"]["kept"].as_array().unwrap().len();
    let engine_reports = out.path().join("engine").display().to_string();
    let tag = "pare-test/flask:runc-compare";
    let mut args = vec!["build", &flask.image, "--tag", tag, "--no-verify"];
    args.extend(support::FLASK_PROBES);
    args.extend([
        "--exec",
        YAML_PROBE,
        "--report-dir",
        &engine_reports,
        "--json",
    ]);
    let in_engine = pare(&args).success().json();
    docker(&["rmi", "pare-test/flask:runc-compare"]).success();
    assert_eq!(packages(&report), packages(&in_engine));
    assert_eq!(report["slim"]["files"], in_engine["slim"]["files"]);
    assert_nothing_left("after a build with runc", &before);
}

/// The cli image with a hostile layer on top (an absolute symlink to a host directory
/// and a file "below" it, a `../` path aimed at /tmp, a hardlink to a host file), built
/// with runc: the unpacked root filesystem is the one place pare writes an image's
/// files, and nothing lands outside it; the app still runs and verifies.
#[test]
fn hostile_layers_cannot_write_outside_the_bundle() {
    if support::skip_without_engine() {
        return;
    }
    use pare_image::testutil::{TarItem, tar_of};
    let cli = test_image("cli");
    let _port = port_lock();
    let before = pare_work_dirs();
    let dir = temp_dir();
    let canary = dir.path().join("canary");
    std::fs::create_dir(&canary).unwrap();
    let escape = std::env::temp_dir().join(format!("pare-escape-{}", std::process::id()));
    let climb = "../".repeat(12);
    let escape_name = format!(
        "{climb}{}",
        escape.display().to_string().trim_start_matches('/')
    );
    let layer = tar_of(&[
        TarItem::symlink("evil", &canary.display().to_string()),
        TarItem::file("evil/planted", b"pwned", 0o644),
        TarItem::file(&escape_name, b"pwned", 0o644),
        TarItem::hardlink("usr/share/pare-test/hostname", "/etc/hostname"),
        // What unpacking refuses must not reach the slim layer either: a hardlink
        // made through a symlinked directory, a device; a FIFO is an ordinary entry.
        TarItem::dir("app/"),
        TarItem::symlink("app/etc-link", "/etc"),
        TarItem::hardlink("app/pw", "app/etc-link/passwd"),
        TarItem::fifo("app/fifo"),
        TarItem::char_device("app/null"),
    ]);
    let layout = dir.path().join("oci");
    add_layer(&cli.oci, &layout, &layer);

    let reports = dir.path().join("report").display().to_string();
    let reference = format!("oci:{}:latest", layout.display());
    let slim = dir.path().join("slim");
    let output = format!("oci:{}", slim.display());
    let run = pare(&[
        "build",
        "--runtime",
        "oci",
        &reference,
        "--include-path",
        "/app",
        "--output",
        &output,
        "--report-dir",
        &reports,
        "--json",
    ]);
    assert_eq!(run.code(), Some(0), "{}", run.explain());
    let report = run.json();
    assert_eq!(report["verification"]["passed"], true);
    let left_out: BTreeSet<String> = report["left_out"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            format!(
                "{} ({})",
                l["path"].as_str().unwrap(),
                l["reason"].as_str().unwrap()
            )
        })
        .collect();
    assert!(
        left_out.iter().any(|l| l.starts_with("/app/pw (hardlink"))
            && left_out.iter().any(|l| l.starts_with("/app/null (device")),
        "{left_out:?}"
    );
    let (_, paths) = slim_paths(&slim);
    assert!(!paths.contains("/app/pw") && !paths.contains("/app/null"));
    assert!(paths.contains("/app/fifo") && paths.contains("/app/etc-link"));
    assert!(
        std::fs::read_dir(&canary).unwrap().next().is_none(),
        "a file was written through the image's symlink"
    );
    assert!(
        !escape.exists(),
        "a ../ path escaped to {}",
        escape.display()
    );
    assert_nothing_left("after a hostile image", &before);
}

/// A dpkg database whose status is a symlink (to a file elsewhere in the image) is read
/// as dpkg reads it, so the summary's packages are those of the image, not none: jq's
/// packages are kept, the others removed, and the link is said as a warning.
#[test]
fn packages_behind_a_symlinked_dpkg_status_are_sorted_out() {
    if support::skip_without_engine() {
        return;
    }
    use pare_image::testutil::{TarItem, tar_of};
    let cli = test_image("cli");
    let status = support::in_container(&cli.image, "/bin/cat", &["/var/lib/dpkg/status"]);
    let layer = tar_of(&[
        TarItem::dir("opt/"),
        TarItem::file("opt/dpkg-status", status.stdout().as_bytes(), 0o644),
        TarItem::dir("var/"),
        TarItem::dir("var/lib/"),
        TarItem::dir("var/lib/dpkg/"),
        TarItem::symlink("var/lib/dpkg/status", "/opt/dpkg-status"),
    ]);
    let dir = temp_dir();
    let layout = dir.path().join("oci");
    add_layer(&cli.oci, &layout, &layer);
    let _port = port_lock();
    let reports = dir.path().join("report").display().to_string();
    let reference = format!("oci:{}:latest", layout.display());
    let slim = format!("oci:{}", dir.path().join("slim").display());
    let run = pare(&[
        "build",
        "--runtime",
        "oci",
        &reference,
        "--output",
        &slim,
        "--report-dir",
        &reports,
        "--json",
    ]);
    assert_eq!(run.code(), Some(0), "{}", run.explain());
    let report = run.json();
    let names = |side: &str| -> BTreeSet<String> {
        report["packages"][side]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|p| p["name"].as_str().map(str::to_owned))
            .collect()
    };
    let (kept, removed) = (names("kept"), names("removed"));
    assert!(
        kept.contains("jq") && kept.contains("libjq1"),
        "kept {kept:?}\n{:#}",
        report["packages"]
    );
    assert!(
        removed.contains("bash") || removed.contains("dash"),
        "{removed:?}"
    );
    let warnings = report["packages"]["warnings"].to_string();
    assert!(
        warnings.contains("/var/lib/dpkg/status: a symlink to /opt/dpkg-status"),
        "{warnings}"
    );
}

/// Writes to `to` an OCI layout of the image in the layout `from` with `layer` (an
/// uncompressed tar) added on top; blobs are hardlinked (or copied).
fn add_layer(from: &Path, to: &Path, layer: &[u8]) {
    use pare_image::Digest;
    let blobs = to.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    for entry in std::fs::read_dir(from.join("blobs/sha256")).unwrap() {
        let entry = entry.unwrap();
        let target = blobs.join(entry.file_name());
        if std::fs::hard_link(entry.path(), &target).is_err() {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
    let read = |digest: &str| -> Value {
        let hex = digest.trim_start_matches("sha256:");
        serde_json::from_slice(&std::fs::read(blobs.join(hex)).unwrap()).unwrap()
    };
    let put = |bytes: &[u8]| -> (String, usize) {
        let d = Digest::of(bytes);
        std::fs::write(blobs.join(d.hex()), bytes).unwrap();
        (d.to_string(), bytes.len())
    };
    let index: Value =
        serde_json::from_slice(&std::fs::read(from.join("index.json")).unwrap()).unwrap();
    let mut manifest = read(index["manifests"][0]["digest"].as_str().unwrap());
    let mut config = read(manifest["config"]["digest"].as_str().unwrap());
    let compressed = pare_image::testutil::gzip(layer);
    let (digest, size) = put(&compressed);
    config["rootfs"]["diff_ids"]
        .as_array_mut()
        .unwrap()
        .push(Value::from(Digest::of(layer).to_string()));
    config["history"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({"created_by": "COPY hostile / # test"}));
    let (config_digest, config_size) = put(&serde_json::to_vec(&config).unwrap());
    manifest["config"]["digest"] = Value::from(config_digest);
    manifest["config"]["size"] = Value::from(config_size);
    manifest["layers"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({
            "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
            "digest": digest, "size": size,
        }));
    let (manifest_digest, manifest_size) = put(&serde_json::to_vec(&manifest).unwrap());
    let mut index = index;
    index["manifests"][0]["digest"] = Value::from(manifest_digest);
    index["manifests"][0]["size"] = Value::from(manifest_size);
    std::fs::write(to.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
    std::fs::copy(from.join("oci-layout"), to.join("oci-layout")).unwrap();
}

#[test]
fn interrupt_under_runc_removes_everything() {
    if support::skip_without_engine() {
        return;
    }
    let nginx = test_image("nginx");
    let _port = port_lock();
    let before = pare_work_dirs();
    let reports = temp_dir();
    let reports = reports.path().display().to_string();
    let args = [
        "build",
        "--runtime",
        "oci",
        &nginx.archive_ref(),
        "--report-dir",
        &reports,
    ];
    interrupt_while_probing(&args, || {
        assert!(
            !pare_oci_containers().is_empty(),
            "no runc container while probing"
        );
    });
    assert!(
        !wait_http(8080, Duration::from_millis(500)),
        "the app still answers after SIGINT"
    );
    assert_nothing_left("after SIGINT under runc", &before);
}

/// Runs `pare ARGS --continue-after 120`, waits until the traced app answers on 8080,
/// runs `while_probing`, then sends SIGINT and expects exit code 130.
fn interrupt_while_probing(args: &[&str], while_probing: impl FnOnce()) {
    let mut child = Background(
        std::process::Command::new(env!("CARGO_BIN_EXE_pare"))
            .args(args)
            .args(["--continue-after", "120"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    // The app answers (through the port pare forwards while it waits): the trace is
    // running and probing is done.
    assert!(
        wait_http(8080, Duration::from_secs(60)),
        "the traced app never answered"
    );
    while_probing();
    // SAFETY: sending SIGINT to our own child.
    unsafe { libc::kill(child.0.id() as i32, libc::SIGINT) };
    assert_eq!(child.0.wait().unwrap().code(), Some(130));
}

/// A probe file, `--include-path` and `--exclude` on nginx: the excluded page makes
/// the slim image answer differently, which fails verification with exit 1, lists the
/// difference, and still writes the slim image; the included directory is kept though
/// no probe asked for it.
#[test]
fn a_verification_difference_exits_1_and_keeps_the_slim_image() {
    if support::skip_without_engine() {
        return;
    }
    let nginx = test_image("nginx");
    let _port = port_lock();
    let before = pare_work_dirs();
    let dir = temp_dir();
    let probes = dir.path().join("probes.json");
    std::fs::write(
        &probes,
        r#"[{"kind": "http", "method": "GET", "path": "/", "expect_status": 200},
            {"kind": "http", "method": "GET", "path": "/about.html"}]"#,
    )
    .unwrap();
    let oci = dir.path().join("oci");
    let tag = "pare-test/nginx:differs";
    let run = pare(&[
        "build",
        &nginx.image,
        "--tag",
        tag,
        "--probe-file",
        &probes.display().to_string(),
        "--exclude",
        "/srv/www/about.html",
        "--include-path",
        "/srv/www/docs",
        "--output",
        &format!("oci:{}", oci.display()),
        "--report-dir",
        &dir.path().join("report").display().to_string(),
        "--json",
    ]);
    assert_eq!(run.code(), Some(1), "{}", run.explain());
    let report = run.json();
    let verification = &report["verification"];
    assert_eq!(verification["passed"], false);
    let differences = verification["differences"].as_array().unwrap();
    // The GET of the removed page, and pare's own HEAD of it.
    assert!(
        differences
            .iter()
            .all(|d| d["probe"] == "GET /about.html" || d["probe"] == "HEAD /about.html"),
        "{verification:#}"
    );
    let status = &differences[0];
    assert_eq!(
        (&status["place"], &status["original"], &status["slim"]),
        (
            &Value::from("status"),
            &Value::from("200"),
            &Value::from("404")
        ),
        "{verification:#}"
    );
    let site = site_files(&oci);
    assert!(!site.contains("/srv/www/about.html"), "{site:?}");
    assert!(site.contains("/srv/www/docs/guide.html"), "{site:?}");
    docker(&["rmi", tag]).success();
    assert_nothing_left("after a failed verification", &before);
}

/// `--run-args` replaces CMD for the traced run and the verification; `--include-shell`
/// keeps /bin/sh (and what it needs), which is left out otherwise.
#[test]
fn run_args_and_include_shell() {
    if support::skip_without_engine() {
        return;
    }
    let cli = test_image("cli");
    // No port is used, but the lock also keeps other tests' containers and work dirs
    // out of this test's "nothing left" check.
    let _port = port_lock();
    let before = pare_work_dirs();
    let dir = temp_dir();
    let oci = dir.path().join("oci");
    let run = pare(&[
        "build",
        &cli.archive_ref(),
        "--runtime",
        "oci",
        "--run-args",
        "-n '1 + 41'",
        "--include-shell",
        "--output",
        &format!("oci:{}", oci.display()),
        "--report-dir",
        &dir.path().join("report").display().to_string(),
        "--json",
    ]);
    assert_eq!(run.code(), Some(0), "{}", run.explain());
    let report = run.json();
    assert_eq!(report["probes"][0]["body"], "42\n");
    assert_eq!(report["verification"]["probes"][0]["body"], "42\n");
    let (slim, paths) = slim_paths(&oci);
    assert!(paths.contains("/usr/bin/dash"), "the shell was left out");
    assert!(
        slim["tools"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["kind"] == "shell"),
        "{:#}",
        slim["tools"]
    );
    assert_nothing_left("after --run-args", &before);
}

/// A CLI image runs once per `--run-args`, and once per `--exec` probe with the
/// command in place of its ENTRYPOINT (a container that has exited takes no `docker
/// exec`): every run is traced, sent to the reference runs and the slim image, and
/// compared.
#[test]
fn every_run_args_and_exec_probe_of_a_cli_image_is_a_traced_and_compared_run() {
    if support::skip_without_engine() {
        return;
    }
    let cli = test_image("cli");
    let _port = port_lock();
    let before = pare_work_dirs();
    let dir = temp_dir();
    let oci = dir.path().join("oci");
    let tag = "pare-test/cli:runs-test";
    let run = pare(&[
        "build",
        &cli.image,
        "--tag",
        tag,
        "--run-args",
        "-n '1 + 41'",
        "--run-args",
        "-n '[1, 2] | add'",
        "--exec",
        "/usr/bin/cat /usr/share/pare-test/sample.json",
        "--output",
        &format!("oci:{}", oci.display()),
        "--report-dir",
        &dir.path().join("report").display().to_string(),
        "--json",
    ]);
    assert_eq!(run.code(), Some(0), "{}", run.explain());
    docker(&["rmi", tag]).success();
    let report = run.json();
    let sample = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/images/cli/sample.json"),
    )
    .unwrap();
    let expected = [
        ("run to completion", "42\n"),
        ("run -n '[1, 2] | add'", "3\n"),
        (
            "exec /usr/bin/cat /usr/share/pare-test/sample.json",
            sample.as_str(),
        ),
    ];
    let verification = &report["verification"];
    assert_eq!(verification["passed"], true, "{verification:#}");
    for answers in [&report["probes"], &verification["probes"]] {
        let got: Vec<(&str, &str)> = answers
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p["probe"].as_str().unwrap(), p["body"].as_str().unwrap()))
            .collect();
        assert_eq!(got, expected, "{answers:#}");
    }
    let (_, paths) = slim_paths(&oci);
    assert!(
        paths.contains("/usr/bin/cat"),
        "the exec probe's run was traced: cat is kept"
    );
    assert_nothing_left("after a CLI image's several runs", &before);
}

/// A user's probe that the original answers with an error is called out in the
/// summary, not passed as "the same": a 405 from the express app (DELETE on a route
/// that takes GET and POST) and a 501 from Python's http.server (POST, which it does
/// not implement) each get a Suspect line saying the method is the trouble, and the
/// Verified line says that some of its "same" answers are suspect.
#[test]
fn a_users_probe_answered_405_or_501_is_called_out_in_the_summary() {
    if support::skip_without_engine() {
        return;
    }
    let _port = port_lock();
    let before = pare_work_dirs();
    for (name, probe, line) in [
        (
            "lazy",
            "DELETE /notes",
            "Suspect      DELETE /notes: the original answers 405 Method Not Allowed: the app does not take DELETE there",
        ),
        (
            "entrypoint",
            "POST / x=1",
            "Suspect      POST /: the original answers 501 Not Implemented: its server does not implement POST at all",
        ),
    ] {
        let app = test_image(name);
        let out = temp_dir();
        let tag = format!("pare-test/{name}:suspect-test");
        let reports = out.path().display().to_string();
        let run = pare(&[
            "build",
            &app.image,
            "--tag",
            &tag,
            "--probe",
            "GET /",
            "--probe",
            probe,
            "--report-dir",
            &reports,
        ]);
        docker(&["rmi", &tag]).success();
        assert_eq!(run.code(), Some(0), "{}", run.explain());
        let stdout = run.stdout();
        let suspect: Vec<&str> = stdout
            .lines()
            .filter(|l| l.starts_with("Suspect"))
            .collect();
        assert_eq!(suspect.len(), 1, "{name}: {stdout}");
        assert!(suspect[0].starts_with(line), "{name}: {stdout}");
        assert!(
            suspect[0].contains("\"expect_status\""),
            "{name}: says how to mean it: {stdout}"
        );
        let verified = stdout
            .lines()
            .find(|l| l.starts_with("Verified"))
            .unwrap_or_default();
        assert!(
            verified.ends_with("; 1 of them is suspect, below"),
            "{name}: {stdout}"
        );
    }
    // A status other than the one the probe expects, from the original: no build.
    let dir = temp_dir();
    let probes = dir.path().join("probes.json");
    std::fs::write(
        &probes,
        r#"[{"kind": "http", "method": "DELETE", "path": "/notes", "expect_status": 204}]"#,
    )
    .unwrap();
    let lazy = test_image("lazy");
    let run = pare(&[
        "build",
        &lazy.image,
        "--tag",
        "pare-test/lazy:suspect-test",
        "--probe-file",
        &probes.display().to_string(),
    ])
    .exits(2);
    assert!(
        run.stderr().contains("DELETE /notes") && run.stderr().contains("status 405, expected 204"),
        "{}",
        run.explain()
    );
    assert_nothing_left("after builds with suspect probes", &before);
}

/// `--exec-entrypoint` hands each exec probe's command to another program, as `docker
/// run --entrypoint` does: `image` to the image's own ENTRYPOINT (jq here), a program
/// (`sh -c`) to it; in a service (kvstore) the command run in the container gets the
/// program in front (`redis-cli -p 8094`). Each run is traced (what it ran is kept),
/// verified, and named in the report by the whole command line it ran; `image` with no
/// ENTRYPOINT, or the flag with no exec probe, is a usage error.
#[test]
fn exec_probes_run_under_the_entrypoint_asked_for() {
    if support::skip_without_engine() {
        return;
    }
    let cli = test_image("cli");
    let _port = port_lock();
    let before = pare_work_dirs();
    let tag = "pare-test/cli:exec-entrypoint-test";
    let build = |entrypoint: &str, exec: &str, oci: &Path, report: &Path| {
        let run = pare(&[
            "build",
            &cli.image,
            "--tag",
            tag,
            "--exec-entrypoint",
            entrypoint,
            "--exec",
            exec,
            "--output",
            &format!("oci:{}", oci.display()),
            "--report-dir",
            &report.display().to_string(),
            "--json",
        ]);
        assert_eq!(run.code(), Some(0), "{}", run.explain());
        docker(&["rmi", tag]).success();
        let report = run.json();
        assert_eq!(report["verification"]["passed"], true, "{report:#}");
        let answers = |key: &Value| -> Vec<(String, String)> {
            key.as_array()
                .unwrap()
                .iter()
                .map(|p| {
                    (
                        p["probe"].as_str().unwrap().to_owned(),
                        p["body"].as_str().unwrap().to_owned(),
                    )
                })
                .collect()
        };
        let traced = answers(&report["probes"]);
        assert_eq!(traced, answers(&report["verification"]["probes"]));
        traced
    };

    // The image's ENTRYPOINT, /usr/bin/jq, given the probe's words as arguments.
    let dir = temp_dir();
    let oci = dir.path().join("oci");
    let got = build(
        "image",
        "-r .tags[] /usr/share/pare-test/sample.json",
        &oci,
        &dir.path().join("report"),
    );
    assert_eq!(
        got[1],
        (
            "exec /usr/bin/jq -r '.tags[]' /usr/share/pare-test/sample.json".to_owned(),
            "cli\njq\n".to_owned()
        ),
        "{got:#?}"
    );

    // A program of the user's choosing: a shell running a pipeline (the probe is
    // split into words as any --exec is, so the script is quoted as one).
    let dir = temp_dir();
    let oci = dir.path().join("oci");
    let got = build(
        "/bin/sh -c",
        "'jq -r .name /usr/share/pare-test/sample.json | tr a-z A-Z'",
        &oci,
        &dir.path().join("report"),
    );
    assert_eq!(
        got[1],
        (
            "exec /bin/sh -c 'jq -r .name /usr/share/pare-test/sample.json | tr a-z A-Z'"
                .to_owned(),
            "PARE-TEST\n".to_owned()
        ),
        "{got:#?}"
    );
    let (_, paths) = slim_paths(&oci);
    for program in ["/usr/bin/dash", "/usr/bin/tr"] {
        assert!(
            paths.contains(program),
            "the exec probe ran {program}: kept"
        );
    }

    // A service: each probe runs in the running container under the program.
    let kv = test_image("kvstore");
    let dir = temp_dir();
    let kv_tag = "pare-test/kvstore:exec-entrypoint-test";
    let run = pare(&[
        "build",
        &kv.image,
        "--tag",
        kv_tag,
        "--no-http",
        "--exec-entrypoint",
        "redis-cli -p 8094",
        "--exec",
        "SET a 1",
        "--exec",
        "GET a",
        "--report-dir",
        &dir.path().display().to_string(),
        "--json",
    ]);
    assert_eq!(run.code(), Some(0), "{}", run.explain());
    docker(&["rmi", kv_tag]).success();
    let report = run.json();
    assert_eq!(report["verification"]["passed"], true, "{report:#}");
    let got: Vec<(&str, &str)> = report["verification"]["probes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["probe"].as_str().unwrap(), p["body"].as_str().unwrap()))
        .collect();
    assert_eq!(
        got,
        [
            ("exec redis-cli -p 8094 SET a 1", "OK\n"),
            ("exec redis-cli -p 8094 GET a", "1\n")
        ]
    );

    // `image` for an image without ENTRYPOINT (duplayers has a CMD only), and the
    // flag without any exec probe.
    let dup = test_image("duplayers");
    let run = pare(&[
        "build",
        &dup.image,
        "--exec-entrypoint",
        "image",
        "--exec",
        "true",
    ])
    .exits(2);
    assert!(
        run.stderr().contains("the image has no ENTRYPOINT"),
        "{}",
        run.explain()
    );
    let run = pare(&["build", &cli.image, "--exec-entrypoint", "image"]).exits(2);
    assert!(
        run.stderr().contains("no exec probe to run under it"),
        "{}",
        run.explain()
    );
    assert_nothing_left("after exec probes under an entrypoint", &before);
}

#[test]
fn failing_probe_exits_2_and_leaves_nothing() {
    if support::skip_without_engine() {
        return;
    }
    let flask = test_image("flask");
    let _port = port_lock();
    let before = pare_work_dirs();
    let run = pare(&[
        "build",
        &flask.image,
        "--tag",
        "pare-test/flask:never",
        "--exec",
        "false",
    ])
    .exits(2);
    assert!(run.stderr().contains("exec false"), "{}", run.explain());
    assert_nothing_left("after a failing probe", &before);
    assert!(
        !docker(&["image", "inspect", "pare-test/flask:never"])
            .output
            .status
            .success()
    );
}

#[test]
fn interrupt_during_probing_removes_everything() {
    if support::skip_without_engine() {
        return;
    }
    let flask = test_image("flask");
    let _port = port_lock();
    let before = pare_work_dirs();
    // From the archive, so that the original loaded under a temporary tag is there to
    // be removed too.
    let archive = flask.archive_ref();
    let args = ["build", &archive, "--tag", "pare-test/flask:interrupted"];
    interrupt_while_probing(&args, || {
        assert!(
            !pare_containers().is_empty(),
            "no traced container while probing"
        );
        assert!(
            !pare_temporary_images().is_empty(),
            "the archive was not loaded under a temporary tag"
        );
    });
    assert_nothing_left("after SIGINT", &before);
}

#[test]
fn bad_input_exits_2_and_leaves_nothing() {
    if support::skip_without_engine() {
        return;
    }
    let _port = port_lock();
    let before = pare_work_dirs();
    // An unknown image.
    let run = pare(&["build", "pare-test/no-such-image:nope"]).exits(2);
    assert!(run.stderr().contains("not found"), "{}", run.explain());
    // An app that exits at once (jq with no input as a "service").
    let cli = test_image("cli");
    let run = pare(&["build", &cli.image, "--port", "8080", "--timeout", "20"]).exits(2);
    assert!(
        run.stderr().contains("exited before port 8080 opened"),
        "{}",
        run.explain()
    );
    // A port that never opens.
    let flask = test_image("flask");
    let run = pare(&["build", &flask.image, "--port", "18099", "--timeout", "5"]).exits(2);
    assert!(
        run.stderr().contains("port 18099 did not open within 5s"),
        "{}",
        run.explain()
    );
    // An image with no entrypoint and no cmd.
    let dir = temp_dir();
    let tar = dir.path().join("empty.tar");
    let file = std::fs::File::create(&tar).unwrap();
    let mut builder = tar::Builder::new(file);
    let mut header = tar::Header::new_gnu();
    header.set_size(2);
    header.set_mode(0o644);
    builder
        .append_data(&mut header, "hello.txt", &b"hi"[..])
        .unwrap();
    builder.finish().unwrap();
    docker(&[
        "import",
        &tar.display().to_string(),
        "pare-test/nocmd:latest",
    ])
    .success();
    let run = pare(&["build", "pare-test/nocmd:latest"]).exits(2);
    assert!(
        run.stderr().contains("no ENTRYPOINT or CMD"),
        "{}",
        run.explain()
    );
    docker(&["rmi", "pare-test/nocmd:latest"]).success();
    // The engine asked for, and none answers.
    let no_engine = [("DOCKER_HOST", "unix:///nonexistent/docker.sock")];
    let args = ["build", "--runtime", "docker", &flask.archive_ref()];
    let run = pare_env(&args, &no_engine).exits(2);
    assert!(
        run.stderr().contains("no Docker engine answers"),
        "{}",
        run.explain()
    );
    assert_nothing_left("after bad input", &before);
}

/// `--runtime oci` takes an image the engine holds: pare exports it itself, then runs
/// it with runc; the slim image goes to an OCI layout in the report directory.
#[test]
fn runc_builds_an_image_the_engine_holds() {
    if support::skip_without_engine() {
        return;
    }
    let cli = test_image("cli");
    let _port = port_lock();
    let before = pare_work_dirs();
    let out = temp_dir();
    let reports = out.path().join("report");
    let reports_arg = reports.display().to_string();
    let run = pare(&[
        "build",
        "--runtime",
        "oci",
        &cli.image,
        "--report-dir",
        &reports_arg,
        "--json",
    ])
    .success();
    let report = run.json();
    assert_eq!(report["runtime"], "runc", "{}", run.explain());
    assert_eq!(report["verification"]["passed"], true);
    let (_, paths) = slim_paths(&reports.join("image"));
    assert!(paths.contains("/usr/bin/jq"), "{paths:?}");
    assert_nothing_left("after --runtime oci of an engine image", &before);
}
