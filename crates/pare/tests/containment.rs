//! `pare build` runs untrusted images. `tests/images/hostile` is a deliberately
//! malicious (but harmless) static program, run as root, that tries to escape: the
//! host's keyring, namespaces and mounts, io_uring, bpf, raw sockets, the host's
//! loopback services, the sensor (PID 1) and pare's report directory. Traced by pare,
//! in the engine and with runc, every attempt must be refused, and a fork bomb and a
//! disk filler must stop at their limits with a clear error and nothing left behind.

mod support;

use std::collections::BTreeSet;
use std::net::TcpListener;

use serde_json::Value;
use support::{assert_nothing_left, pare, pare_work_dirs, port_lock, temp_dir, test_image};

/// Every attempt the hostile program makes (tests/images/hostile/README.md).
const ATTEMPTS: [&str; 23] = [
    "keyctl_read_session",
    "add_key",
    "unshare_user",
    "unshare_ns_mount",
    "clone_newns",
    "mount_tmpfs",
    "setns",
    "io_uring_setup",
    "bpf_map_create",
    "perf_event_open",
    "keyctl",
    "userfaultfd",
    "af_packet",
    "raw_icmp",
    "host_loopback",
    "ptrace_pid1",
    "proc1_mem",
    "proc1_root",
    "proc_keys",
    "pare_out_mkdir_tmp",
    "pare_out_forge",
    "pare_out_symlink",
    "pare_out_fifo",
];

/// The port of the host's 127.0.0.1 the hostile app tries to reach (its image's
/// `PARE_HOSTILE_HOST_PORT`).
const HOST_SERVICE_PORT: u16 = 18470;

/// A key in this process's session keyring, which pare (and runc, unless told to
/// share it) would hand on; removed on drop.
struct Canary(i64);

const KEY_SPEC_SESSION_KEYRING: i64 = -3;
const KEYCTL_SEARCH: i64 = 10;
const KEYCTL_INVALIDATE: i64 = 21;

impl Canary {
    fn add() -> Canary {
        let payload = b"pare-canary-secret";
        // SAFETY: add_key with NUL-terminated strings and a buffer of the given size.
        let serial = unsafe {
            libc::syscall(
                libc::SYS_add_key,
                c"user".as_ptr(),
                c"pare-hostile-canary".as_ptr(),
                payload.as_ptr(),
                payload.len(),
                KEY_SPEC_SESSION_KEYRING,
            )
        };
        assert!(serial > 0, "add_key: {}", std::io::Error::last_os_error());
        Canary(serial)
    }
}

impl Drop for Canary {
    fn drop(&mut self) {
        // SAFETY: keyctl on a key this process made.
        unsafe { libc::syscall(libc::SYS_keyctl, KEYCTL_INVALIDATE, self.0) };
    }
}

/// Whether this process's session keyring holds a "user" key called `name`.
fn session_has_key(name: &std::ffi::CStr) -> bool {
    // SAFETY: keyctl search with NUL-terminated strings.
    unsafe {
        libc::syscall(
            libc::SYS_keyctl,
            KEYCTL_SEARCH,
            KEY_SPEC_SESSION_KEYRING,
            c"user".as_ptr(),
            name.as_ptr(),
            0,
        ) > 0
    }
}

/// The attempts the traced app reported (its answer to the `GET /` probe).
fn traced_attempts(report: &Value) -> Vec<Value> {
    let body = report["probes"][0]["body"]
        .as_str()
        .expect("a probe answer");
    let answer: Value = serde_json::from_str(body).expect("the app's JSON");
    answer["attempts"].as_array().expect("attempts").clone()
}

#[test]
fn every_escape_attempt_is_refused_in_both_backends() {
    if support::skip_without_engine() {
        return;
    }
    let hostile = test_image("hostile");
    let _port = port_lock();
    let before = pare_work_dirs();
    let canary = Canary::add();
    // A service on the host's loopback that the app must not reach.
    let service = TcpListener::bind(("127.0.0.1", HOST_SERVICE_PORT)).expect("bind 18470");
    service.set_nonblocking(true).expect("nonblocking");
    let engine = vec![hostile.image.clone()];
    let runc = vec![
        "--runtime".to_owned(),
        "oci".to_owned(),
        hostile.archive_ref(),
    ];
    for (backend, image_args) in [("docker", engine), ("runc", runc)] {
        let out = temp_dir();
        let mut args: Vec<&str> = vec!["build"];
        args.extend(image_args.iter().map(String::as_str));
        let reports = out.path().join("report").display().to_string();
        args.extend(["--report-dir", &reports, "--json"]);
        let run = pare(&args);
        // The slim image runs without the sensor, so PID 1 answers differently there:
        // verification may fail (exit 1); it must not be an error.
        assert!(
            matches!(run.code(), Some(0 | 1)),
            "{backend}: {}",
            run.explain()
        );
        let report = run.json();
        assert_eq!(report["runtime"], backend);
        let attempts = traced_attempts(&report);
        let names: BTreeSet<&str> = attempts
            .iter()
            .map(|a| a["attempt"].as_str().unwrap())
            .collect();
        assert_eq!(names, ATTEMPTS.into(), "{backend}: every attempt ran");
        for attempt in &attempts {
            let name = attempt["attempt"].as_str().unwrap();
            if name == "proc_keys" {
                // /proc/keys is masked: reading it is allowed and shows nothing.
                let detail = attempt["detail"].as_str().unwrap();
                assert!(detail.contains("canary not listed"), "{backend}: {attempt}");
            } else {
                assert_eq!(attempt["ok"], false, "{backend}: {attempt}");
            }
        }
        // The report pare used is the sensor's own: it saw the app's files.
        assert!(
            !report["traced_paths"].as_array().unwrap().is_empty(),
            "{backend}"
        );
        assert!(
            report["syscalls"].as_array().unwrap().iter().all(|s| ![
                "mount",
                "unshare",
                "keyctl",
                "add_key",
                "io_uring_setup"
            ]
            .contains(&s.as_str().unwrap())),
            "{backend}: refused syscalls are not in the profile: {}",
            report["syscalls"]
        );
    }
    assert!(
        service.accept().is_err(),
        "the app reached a service on the host's loopback"
    );
    assert!(
        session_has_key(c"pare-hostile-canary"),
        "the canary is gone"
    );
    assert!(
        !session_has_key(c"pare-hostile-added"),
        "the app added a key to the host's keyring"
    );
    drop(canary);
    assert_nothing_left("after the hostile image", &before);
}

#[test]
fn a_fork_bomb_and_a_disk_filler_stop_at_their_limits() {
    if support::skip_without_engine() {
        return;
    }
    let hostile = test_image("hostile");
    let _port = port_lock();
    let before = pare_work_dirs();
    let engine = vec![hostile.image.clone()];
    let runc = vec![
        "--runtime".to_owned(),
        "oci".to_owned(),
        hostile.archive_ref(),
    ];
    for (backend, image_args) in [("docker", &engine), ("runc", &runc)] {
        for (run_args, limit, expected, flag) in [
            (
                "forkbomb 10000",
                ["--max-pids", "256"],
                "the process limit (256 processes)",
                "--max-pids",
            ),
            (
                "fill-disk 3000000000",
                ["--max-disk", "64m"],
                "the disk limit (64 MiB written)",
                "--max-disk",
            ),
        ] {
            let out = temp_dir();
            let reports = out.path().join("report");
            let mut args: Vec<&str> = vec!["build"];
            args.extend(image_args.iter().map(String::as_str));
            let reports_arg = reports.display().to_string();
            args.extend(["--run-args", run_args, "--report-dir", &reports_arg]);
            args.extend(limit);
            let started = std::time::Instant::now();
            let run = pare(&args).exits(2);
            let stderr = run.stderr();
            assert!(
                stderr.contains(&format!("the app ran into {expected}")),
                "{backend} {run_args}: {}",
                run.explain()
            );
            assert!(stderr.contains("hint: ") && stderr.contains(flag));
            assert!(
                started.elapsed() < std::time::Duration::from_secs(60),
                "{backend} {run_args}: took {:?}",
                started.elapsed()
            );
            // The reference runs (beside assembly) can be the ones that hit the
            // limit, after the OCI layout output was staged in the report dir.
            assert!(
                !reports.exists(),
                "{backend} {run_args}: a failed build left its report dir: {:?}",
                std::fs::read_dir(&reports).map(|d| d.count())
            );
        }
    }
    assert_nothing_left("after the fork bomb and disk filler", &before);
}
