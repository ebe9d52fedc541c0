//! The shipped sensor (pare-sensor-blob's bytes) as PID 1 of real test images, driven
//! through the docker CLI as `pare build` drives it.

mod support;

use std::time::Duration;

use pare_sensor::{AppExit, FLUSH_REQUEST_FILE, FanEvent, FanotifyStatus, Op};
use support::{BOTH_CAPS, Spec, Traced, docker, eventually, serve};

const FLASK: &[&str] = &[
    "/opt/venv/bin/gunicorn",
    "--bind",
    "0.0.0.0:8080",
    "--workers",
    "2",
    "--access-logfile",
    "-",
    "app:app",
];
const CAP_SYS_PTRACE: u64 = 1 << 19;
const CAP_SYS_ADMIN: u64 = 1 << 21;

#[test]
fn flask_app_is_traced_as_nobody_and_reports_what_it_used() {
    let service = serve("pare-test/flask:latest", "nobody", FLASK);
    let app = &service.app;
    for _ in 0..2 {
        assert_eq!(support::http_get("/").expect("GET /").0, 200);
    }

    // Seen from the host: the app's processes run as nobody, the sensor as root.
    let top = docker(&["top", &app.name, "-eo", "pid,user,args"])
        .success()
        .stdout();
    let gunicorn: Vec<&str> = top
        .lines()
        .filter(|l| l.contains("gunicorn") && !l.contains("/.pare/sensor"))
        .collect();
    assert!(gunicorn.len() >= 3, "master and 2 workers expected:\n{top}");
    assert!(
        gunicorn
            .iter()
            .all(|l| l.split_whitespace().nth(1) == Some("nobody")),
        "{top}"
    );

    // A process the tracer does not follow: fanotify still sees what it opens.
    docker(&["exec", &app.name, "/usr/bin/cat", "/etc/debian_version"]).success();

    // A report on request, while the app runs.
    let request = app.out.path().join(FLUSH_REQUEST_FILE);
    std::fs::write(&request, b"").expect("flush request");
    eventually(
        "the sensor to answer the flush request",
        Duration::from_secs(20),
        || !request.exists(),
    );
    let interim = app.report();
    assert!(!interim.complete && interim.exit.is_none());
    assert!(interim.file("/app/app.py").is_some());

    docker(&["stop", "-t", "20", &app.name]).success();
    assert_eq!(app.exit_code(), 0, "{}", app.logs());
    let report = app.report();
    assert!(report.complete, "{:?}", report.errors);
    assert_eq!(report.exit, Some(AppExit::Code(0)));
    assert!(report.errors.is_empty(), "{:?}", report.errors);

    let gunicorn = report
        .file("/opt/venv/bin/gunicorn")
        .expect("gunicorn recorded");
    assert!(gunicorn.executed(), "{gunicorn:?}");
    assert!(report.file("/app/app.py").is_some());
    assert!(
        report.file("/usr/bin/python3.11").is_some(),
        "the venv's python resolves to /usr/bin/python3.11"
    );
    assert!(
        report
            .files
            .iter()
            .any(|f| f.path.contains("/site-packages/flask/")
                && f.path.ends_with(".pyc")
                && f.found()),
        "a flask .pyc"
    );
    assert!(
        !report.files.iter().any(|f| f.path.contains("mailcap")),
        "mailcap is never touched"
    );
    // Python probes for files that are not there: recorded as failures.
    assert!(
        report
            .files
            .iter()
            .any(|f| !f.found() && f.errors.contains("ENOENT"))
    );
    for syscall in ["openat", "execve", "newfstatat", "clone"] {
        assert!(
            report.syscalls.iter().any(|s| s == syscall),
            "{syscall} in {:?}",
            report.syscalls
        );
    }
    assert!(
        report
            .syscalls
            .iter()
            .any(|s| s == "accept4" || s == "accept"),
        "{:?}",
        report.syscalls
    );
    assert!(report.stats.processes >= 3, "{:?}", report.stats);

    let identity = report.app.as_ref().expect("app identity");
    assert_eq!((identity.uid, identity.gid), (65534, 65534));
    assert_eq!(identity.program, "/opt/venv/bin/gunicorn");
    assert_eq!(identity.cap_effective, 0);
    assert_eq!(identity.cap_bounding & (CAP_SYS_PTRACE | CAP_SYS_ADMIN), 0);

    let exec_probe = report
        .fanotify
        .iter()
        .find(|f| f.path == "/usr/bin/cat")
        .expect("fanotify saw cat");
    assert!(
        exec_probe.untraced && exec_probe.events.contains(&FanEvent::Exec),
        "{exec_probe:?}"
    );
    let interpreter = report
        .fanotify
        .iter()
        .find(|f| f.path == "/usr/bin/python3.11")
        .expect("the #! interpreter");
    assert!(interpreter.events.contains(&FanEvent::Exec) && !interpreter.untraced);
}

#[test]
fn cli_runs_to_completion_as_root_without_the_sensors_capabilities() {
    let (app, run) = Traced::run_to_end(&Spec {
        caps: BOTH_CAPS,
        image: "pare-test/cli:latest",
        docker_flags: &["--network", "none", "--workdir", "/usr/share/pare-test"],
        sensor_flags: &[],
        command: &["jq", "-c", "{name, total: (.items | add)}", "sample.json"],
    });
    let run = run.success();
    assert!(run.stdout().contains("\"total\":"), "{}", run.explain());
    let report = app.report();
    assert_eq!(report.exit, Some(AppExit::Code(0)));
    let jq = report.file("/usr/bin/jq").expect("jq found on PATH");
    assert!(jq.executed());
    let sample = report
        .file("/usr/share/pare-test/sample.json")
        .expect("relative path resolved");
    assert!(sample.ok.contains(&Op::Open), "{sample:?}");

    let identity = report.app.expect("app identity");
    assert_eq!(identity.uid, 0);
    assert_eq!(identity.cap_effective & (CAP_SYS_PTRACE | CAP_SYS_ADMIN), 0);
    assert_eq!(identity.cap_bounding & (CAP_SYS_PTRACE | CAP_SYS_ADMIN), 0);
    const CAP_CHOWN: u64 = 1;
    const CAP_SETUID: u64 = 1 << 7;
    assert_eq!(
        identity.cap_effective & (CAP_CHOWN | CAP_SETUID),
        CAP_CHOWN | CAP_SETUID,
        "Docker's default set stays"
    );
}

#[test]
fn the_apps_exit_status_and_a_missing_program_come_through() {
    let (app, run) = Traced::run_to_end(&Spec {
        caps: BOTH_CAPS,
        image: "pare-test/cli:latest",
        docker_flags: &["--network", "none"],
        sensor_flags: &["--user", "nobody"],
        command: &["jq", ".", "/no/such/file.json"],
    });
    assert_eq!(run.code(), Some(2), "{}", run.explain());
    let report = app.report();
    assert_eq!(report.exit, Some(AppExit::Code(2)));
    let missing = report
        .file("/no/such/file.json")
        .expect("the probe is recorded");
    assert!(
        !missing.found() && missing.errors.contains("ENOENT"),
        "{missing:?}"
    );

    let (app, run) = Traced::run_to_end(&Spec {
        caps: BOTH_CAPS,
        image: "pare-test/cli:latest",
        docker_flags: &["--network", "none"],
        sensor_flags: &[],
        command: &["/bin/sh", "-c", "kill -KILL $$"],
    });
    assert_eq!(run.code(), Some(128 + 9), "{}", run.explain());
    let exit = app.report().exit;
    assert_eq!(
        exit,
        Some(AppExit::Signal {
            number: 9,
            name: "SIGKILL".into()
        })
    );

    let (app, run) = Traced::run_to_end(&Spec {
        caps: BOTH_CAPS,
        image: "pare-test/cli:latest",
        docker_flags: &["--network", "none"],
        sensor_flags: &[],
        command: &["no-such-program"],
    });
    assert_eq!(run.code(), Some(127), "{}", run.explain());
    let report = app.report();
    assert!(
        report.errors.iter().any(|e| e.contains("no-such-program")),
        "{:?}",
        report.errors
    );
}

#[test]
fn nginx_stops_gracefully_on_its_stop_signal() {
    let service = serve(
        "pare-test/nginx:latest",
        "www-data",
        &[
            "/usr/sbin/nginx",
            "-e",
            "stderr",
            "-c",
            "/etc/nginx/nginx.conf",
            "-g",
            "daemon off;",
        ],
    );
    let app = &service.app;
    // `docker stop` sends the image's StopSignal, SIGQUIT, to PID 1: the sensor.
    let signal = docker(&["inspect", "-f", "{{.Config.StopSignal}}", &app.name])
        .success()
        .stdout();
    assert_eq!(signal.trim(), "SIGQUIT");
    docker(&["stop", "-t", "30", &app.name]).success();
    assert_eq!(
        app.exit_code(),
        0,
        "a graceful quit, not SIGKILL after the timeout\n{}",
        app.logs()
    );
    let report = app.report();
    assert_eq!(report.exit, Some(AppExit::Code(0)));
    assert!(report.file("/etc/nginx/nginx.conf").is_some());
    assert_eq!(report.app.expect("identity").uid, 33);
}

#[test]
fn without_cap_sys_admin_tracing_still_works_and_fanotify_says_why_not() {
    let (app, run) = Traced::run_to_end(&Spec {
        caps: &["SYS_PTRACE"],
        image: "pare-test/cli:latest",
        docker_flags: &["--network", "none"],
        sensor_flags: &["--user", "nobody"],
        command: &["jq", "-n", "1+1"],
    });
    assert!(run.success().stdout().contains('2'));
    let report = app.report();
    assert!(
        matches!(report.fanotify_status, FanotifyStatus::Unavailable { .. }),
        "{:?}",
        report.fanotify_status
    );
    assert!(
        report.warnings.iter().any(|w| w.contains("no_new_privs")),
        "{:?}",
        report.warnings
    );
    assert!(
        report
            .files
            .iter()
            .any(|f| f.path == "/usr/bin/jq" && f.executed())
    );
    assert!(report.syscalls.iter().any(|s| s == "openat"));
}

#[test]
fn unix_sockets_are_files_the_app_makes_or_needs() {
    let script = "import socket\n\
        s = socket.socket(socket.AF_UNIX)\n\
        s.bind('app.sock')\n\
        c = socket.socket(socket.AF_UNIX)\n\
        try: c.connect('/run/missing.sock')\n\
        except OSError: pass\n\
        t = socket.socket(socket.AF_UNIX)\n\
        t.bind('\\0abstract')\n";
    let (app, run) = Traced::run_to_end(&Spec {
        caps: BOTH_CAPS,
        image: "pare-test/flask:latest",
        docker_flags: &["--network", "none", "--workdir", "/tmp"],
        sensor_flags: &["--user", "nobody"],
        command: &["python3", "-c", script],
    });
    run.success();
    let report = app.report();
    let made = report
        .file("/tmp/app.sock")
        .expect("bind resolved against the cwd");
    assert!(made.created() && made.ok.contains(&Op::Bind), "{made:?}");
    let missing = report.file("/run/missing.sock").expect("connect recorded");
    assert!(missing.failed.contains(&Op::Connect) && missing.errors.contains("ENOENT"));
    assert!(!report.files.iter().any(|f| f.path.contains("abstract")));
}
