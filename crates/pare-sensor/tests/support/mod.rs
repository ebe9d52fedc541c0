//! Harness for running the real static sensor in real test images through the docker
//! CLI. Every container is removed on drop (also when an assertion fails), the host
//! port 8080 is held under the lock file all pare test suites share, and a failing step
//! says what it ran and what the container printed.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use pare_sensor::{REPORT_FILE, SensorReport};

/// A finished docker command and what it printed.
pub struct Run {
    pub command: String,
    pub output: Output,
}

impl Run {
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }

    pub fn code(&self) -> Option<i32> {
        self.output.status.code()
    }

    pub fn explain(&self) -> String {
        format!(
            "command: {}\nstatus: {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.command,
            self.output.status,
            tail(&self.stdout()),
            tail(&String::from_utf8_lossy(&self.output.stderr))
        )
    }

    pub fn success(self) -> Self {
        assert!(
            self.output.status.success(),
            "expected success\n{}",
            self.explain()
        );
        self
    }
}

fn tail(s: &str) -> &str {
    &s[s.len().saturating_sub(6000)..]
}

/// Runs `docker ARGS`.
pub fn docker(args: &[&str]) -> Run {
    let output = Command::new("docker")
        .args(args)
        .output()
        .unwrap_or_else(|e| match e.kind() {
            std::io::ErrorKind::NotFound => {
                panic!("docker is not installed: apt-get install docker.io (tests/run installs it)")
            }
            _ => panic!("cannot run docker: {e}"),
        });
    Run {
        command: format!("docker {}", args.join(" ")),
        output,
    }
}

/// The shipped sensor: pare-sensor-blob's bytes written to a fresh file, mode 0755,
/// exactly as `pare build` does.
pub struct SensorFile {
    _dir: tempfile::TempDir,
    pub path: PathBuf,
}

pub fn sensor_file() -> SensorFile {
    let bytes = pare_sensor_blob::sensor_bytes();
    assert!(!bytes.is_empty(), "no sensor embedded for this platform");
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("pare-sensor");
    std::fs::write(&path, bytes).expect("writing the sensor");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    SensorFile { _dir: dir, path }
}

/// Holds the lock on host port 8080 (shared by every pare test suite) while alive.
pub struct PortLock(std::fs::File);

pub fn port_lock() -> PortLock {
    use std::os::fd::AsRawFd;
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open("/tmp/pare-test-port-8080.lock")
        .expect("opening /tmp/pare-test-port-8080.lock");
    // SAFETY: flock on a descriptor we own; blocks until the lock is ours.
    let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) };
    assert_eq!(
        rc,
        0,
        "flock /tmp/pare-test-port-8080.lock: {}",
        std::io::Error::last_os_error()
    );
    PortLock(file)
}

/// A traced container: the sensor as entrypoint, its out directory, removed on drop.
pub struct Traced {
    pub name: String,
    pub out: tempfile::TempDir,
    sensor: SensorFile,
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// What to run: the image, extra `docker run` flags, sensor flags, the app command.
pub const BOTH_CAPS: &[&str] = &["SYS_PTRACE", "SYS_ADMIN"];

pub struct Spec<'a> {
    pub image: &'a str,
    /// Capabilities added to the container: `pare build` adds both.
    pub caps: &'a [&'a str],
    pub docker_flags: &'a [&'a str],
    pub sensor_flags: &'a [&'a str],
    pub command: &'a [&'a str],
}

impl Traced {
    fn new() -> Traced {
        let name = format!(
            "pare-sensor-test-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        );
        Traced {
            name,
            out: tempfile::tempdir().expect("temp dir"),
            sensor: sensor_file(),
        }
    }

    fn run_args(&self, spec: &Spec, detach: bool) -> Vec<String> {
        let mut args: Vec<String> = vec!["run".into(), "--name".into(), self.name.clone()];
        if detach {
            args.push("-d".into());
        }
        for cap in spec.caps {
            args.extend(["--cap-add".into(), cap.to_string()]);
        }
        args.extend(["--user".into(), "0".into()]);
        args.extend([
            "-v".into(),
            format!("{}:/.pare/sensor:ro", self.sensor.path.display()),
        ]);
        args.extend([
            "-v".into(),
            format!("{}:/.pare/out", self.out.path().display()),
        ]);
        args.extend(["--entrypoint".into(), "/.pare/sensor".into()]);
        args.extend(spec.docker_flags.iter().map(|s| s.to_string()));
        args.push(spec.image.into());
        args.extend(["--out".into(), "/.pare/out".into()]);
        args.extend(spec.sensor_flags.iter().map(|s| s.to_string()));
        args.push("--".into());
        args.extend(spec.command.iter().map(|s| s.to_string()));
        args
    }

    /// Starts `spec` detached.
    pub fn start(spec: &Spec) -> Traced {
        let traced = Traced::new();
        let args = traced.run_args(spec, true);
        docker(&args.iter().map(String::as_str).collect::<Vec<_>>()).success();
        traced
    }

    /// Runs `spec` to completion; returns the container and the `docker run` result.
    pub fn run_to_end(spec: &Spec) -> (Traced, Run) {
        let traced = Traced::new();
        let args = traced.run_args(spec, false);
        let run = docker(&args.iter().map(String::as_str).collect::<Vec<_>>());
        (traced, run)
    }

    /// The container's output, for failure messages.
    pub fn logs(&self) -> String {
        let run = docker(&["logs", "--tail", "40", &self.name]);
        format!(
            "{}{}",
            run.stdout(),
            String::from_utf8_lossy(&run.output.stderr)
        )
    }

    pub fn running(&self) -> bool {
        docker(&["inspect", "-f", "{{.State.Running}}", &self.name])
            .stdout()
            .trim()
            == "true"
    }

    pub fn exit_code(&self) -> i32 {
        let run = docker(&["inspect", "-f", "{{.State.ExitCode}}", &self.name]).success();
        run.stdout()
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("exit code?\n{}", run.explain()))
    }

    /// GET `path` on 127.0.0.1:8080 until it answers, polling with back-off; fails with
    /// the container's log when the container dies or `timeout` passes.
    pub fn wait_http(&self, path: &str, timeout: Duration) -> (u16, String) {
        let deadline = Instant::now() + timeout;
        let mut pause = Duration::from_millis(10);
        loop {
            if let Ok(answer) = http_get(path) {
                return answer;
            }
            assert!(
                self.running(),
                "the container exited before answering\n{}",
                self.logs()
            );
            assert!(
                Instant::now() < deadline,
                "no answer on 127.0.0.1:8080{path} within {timeout:?}\n{}",
                self.logs()
            );
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(250));
        }
    }

    /// The report the sensor wrote, or a failure with the container's log.
    pub fn report(&self) -> SensorReport {
        let path = self.out.path().join(REPORT_FILE);
        let bytes = std::fs::read(&path)
            .unwrap_or_else(|e| panic!("{}: {e}\n{}", path.display(), self.logs()));
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|e| panic!("{}: not a report: {e}", path.display()))
    }
}

impl Drop for Traced {
    fn drop(&mut self) {
        let _ = Command::new("docker")
            .args(["rm", "-f", &self.name])
            .output();
    }
}

/// A traced service on the host network, answering on port 8080. The container goes
/// before the port lock (fields drop in order).
pub struct Service {
    pub app: Traced,
    _port: PortLock,
}

/// Takes the port lock, starts `image` traced as `user` on the host network, and waits
/// until `GET /` answers 200.
pub fn serve(image: &str, user: &str, command: &[&str]) -> Service {
    let port = port_lock();
    let app = Traced::start(&Spec {
        caps: BOTH_CAPS,
        image,
        docker_flags: &["--network", "host"],
        sensor_flags: &["--user", user],
        command,
    });
    let (status, body) = app.wait_http("/", Duration::from_secs(60));
    assert_eq!(status, 200, "GET / on {image}: {body}");
    Service { app, _port: port }
}

/// One HTTP/1.0 GET on 127.0.0.1:8080; the status code and the body.
pub fn http_get(path: &str) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", 8080))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?;
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("not an HTTP answer: {answer:?}")))?;
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    Ok((status, body))
}

/// Polls `done` with back-off until it holds or `timeout` passes.
pub fn eventually(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(10);
    while !done() {
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(250));
    }
}
