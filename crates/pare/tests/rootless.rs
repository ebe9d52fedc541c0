//! `pare build` as an ordinary user (issue 14): through rootless Podman's
//! Docker-compatible socket, and with no engine through runc in a user namespace
//! mapped with the user's subordinate ids; verified, the slim layer's owners and
//! modes those of a root build, nothing left behind after success, failure and
//! Ctrl-C; a user without subordinate ids is told how to get them.
//!
//! Each test makes a user of its own (with a subordinate id range, as `useradd` gives
//! one on Debian, or without), runs pare and Debian's podman as that user (`uidmap`
//! provides newuidmap), and removes the user, its processes and its files afterwards.

mod support;

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::{run, test_image};

/// An ordinary user with a subordinate id range, a runtime dir and (once served) a
/// rootless Podman API service; removed with everything it made when dropped.
struct RootlessUser {
    name: &'static str,
    uid: u32,
    home: PathBuf,
    runtime_dir: PathBuf,
    service: Option<Child>,
    /// The pare binary, copied where the user can run it.
    bin: tempfile::TempDir,
    /// pare's work dirs before the test (other tests' may come and go meanwhile).
    before: Vec<PathBuf>,
}

impl RootlessUser {
    /// A new user `name`, with a subordinate id range when `subordinate_ids`.
    fn create(name: &'static str, subordinate_ids: bool) -> Self {
        remove_user(name);
        let mut args = vec!["--create-home", "--user-group", "--shell", "/bin/sh"];
        if !subordinate_ids {
            args.extend(["-K", "SUB_UID_COUNT=0", "-K", "SUB_GID_COUNT=0"]);
        }
        args.push(name);
        run("useradd", &args, &[]).success();
        let has_range = |file: &str| {
            std::fs::read_to_string(file)
                .unwrap_or_default()
                .lines()
                .any(|l| l.starts_with(&format!("{name}:")))
        };
        if subordinate_ids && (!has_range("/etc/subuid") || !has_range("/etc/subgid")) {
            run(
                "usermod",
                &[
                    "--add-subuids",
                    "400000-465535",
                    "--add-subgids",
                    "400000-465535",
                    name,
                ],
                &[],
            )
            .success();
        }
        let uid = run("id", &["-u", name], &[]).success().stdout();
        let runtime_dir = PathBuf::from(format!("/run/user/{}", uid.trim()));
        std::fs::create_dir_all(&runtime_dir).expect("runtime dir");
        run("chown", &[name, &runtime_dir.display().to_string()], &[]).success();
        run("chmod", &["700", &runtime_dir.display().to_string()], &[]).success();
        let bin = support::temp_dir();
        std::fs::copy(env!("CARGO_BIN_EXE_pare"), bin.path().join("pare")).expect("copy pare");
        run("chmod", &["755", &bin.path().display().to_string()], &[]).success();
        RootlessUser {
            name,
            uid: uid.trim().parse().expect("uid"),
            home: PathBuf::from(format!("/home/{name}")),
            runtime_dir,
            service: None,
            bin,
            before: support::pare_work_dirs(),
        }
    }

    fn pare(&self) -> String {
        self.bin.path().join("pare").display().to_string()
    }

    /// The command line that runs `args` as the user, in its home, with its runtime dir.
    fn command(&self, env: &[(&str, &str)], args: &[&str]) -> Command {
        let mut command = Command::new("runuser");
        command.args(["-u", self.name, "--", "env"]);
        command.arg(format!("HOME={}", self.home.display()));
        command.arg(format!("XDG_RUNTIME_DIR={}", self.runtime_dir.display()));
        for (k, v) in env {
            command.arg(format!("{k}={v}"));
        }
        command.args(args).current_dir(&self.home);
        command
    }

    fn run(&self, env: &[(&str, &str)], args: &[&str]) -> support::Run {
        let output = self
            .command(env, args)
            .output()
            .unwrap_or_else(|e| support::cannot_run("runuser", &e));
        support::Run {
            command: format!("(as {}) {}", self.name, args.join(" ")),
            output,
        }
    }

    fn podman(&self, args: &[&str]) -> support::Run {
        let mut all = vec!["podman"];
        all.extend(args);
        self.run(&[], &all)
    }

    /// Copies `archive` into the user's home as `name`, the user's own.
    fn give(&self, archive: &Path, name: &str) -> String {
        let copy = self.home.join(name);
        std::fs::copy(archive, &copy).expect("copy the archive");
        run("chown", &[self.name, &copy.display().to_string()], &[]).success();
        format!("docker-archive:{name}")
    }

    /// Loads `archive` into the user's Podman store.
    fn load(&self, archive: &Path) {
        self.give(archive, "image.tar");
        self.podman(&["load", "-q", "-i", "image.tar"]).success();
        let _ = std::fs::remove_file(self.home.join("image.tar"));
    }

    /// What pare may have left: the user's runtime dir's entries, pare's work dirs the
    /// user owns (or its namespace's ids do), and pare's mounts.
    fn leftovers(&self) -> Vec<String> {
        let mut left: Vec<String> = std::fs::read_dir(&self.runtime_dir)
            .expect("runtime dir")
            .filter_map(|e| e.ok())
            .map(|e| e.path().display().to_string())
            .collect();
        left.extend(
            support::pare_work_dirs()
                .into_iter()
                .filter(|d| !self.before.contains(d))
                // Only this user's: the other tests here run pare at the same time.
                .filter(|d| {
                    std::fs::metadata(d)
                        .is_ok_and(|m| std::os::unix::fs::MetadataExt::uid(&m) == self.uid)
                })
                .map(|d| d.display().to_string()),
        );
        let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        left.extend(
            mounts
                .lines()
                .filter(|l| l.contains("pare-build-"))
                .map(str::to_owned),
        );
        left
    }

    /// Starts `podman system service` as the user; returns its `DOCKER_HOST`.
    fn serve(&mut self) -> String {
        let socket = self.runtime_dir.join("pare-test-podman.sock");
        let url = format!("unix://{}", socket.display());
        let child = self
            .command(&[], &["podman", "system", "service", "--time=0", &url])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("runuser podman system service");
        self.service = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::os::unix::net::UnixStream::connect(&socket).is_err() {
            assert!(
                Instant::now() < deadline,
                "rootless podman system service did not start"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        url
    }
}

/// Removes the test user with its home, processes (podman's pause process among them)
/// and runtime dir; quiet when there is none.
fn remove_user(name: &str) {
    let Ok(uid) = Command::new("id").args(["-u", name]).output() else {
        return;
    };
    if !uid.status.success() {
        return;
    }
    let uid = String::from_utf8_lossy(&uid.stdout).trim().to_owned();
    let _ = Command::new("pkill").args(["-KILL", "-u", name]).status();
    std::thread::sleep(Duration::from_millis(300));
    // The store holds files owned by the subordinate ids, which userdel -r removes
    // as root all the same.
    let _ = Command::new("userdel").args(["--remove", name]).output();
    let _ = std::fs::remove_dir_all(format!("/run/user/{uid}"));
}

impl Drop for RootlessUser {
    fn drop(&mut self) {
        if let Some(mut child) = self.service.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        remove_user(self.name);
    }
}

#[test]
fn an_ordinary_user_builds_through_rootless_podman() {
    if support::skip_without_engine() {
        return;
    }
    let nginx = test_image("nginx");
    let _port = support::port_lock();
    let mut user = RootlessUser::create("pare-rootless-podman", true);
    user.load(&nginx.archive);
    let docker_host = user.serve();
    let pare = user.pare();

    let build = user.run(
        &[("DOCKER_HOST", &docker_host)],
        &[
            &pare,
            "build",
            &nginx.image,
            "--probe",
            "GET /",
            "--report-dir",
            "report",
            "--json",
        ],
    );
    let report = build.success().json();
    assert_verified(&report);
    assert!(
        notes(&report)
            .iter()
            .any(|n| n.starts_with("fanotify was unavailable")),
        "{report:#}"
    );
    // The slim image is in the user's store; pare's containers are gone.
    let slim = format!("{}-slim", nginx.image);
    user.podman(&["image", "exists", &slim]).success();
    let containers = user.podman(&["ps", "-aq"]).success().stdout();
    assert_eq!(containers.trim(), "", "containers left behind");
}

#[test]
fn an_ordinary_user_builds_with_runc_and_the_slim_layer_is_a_root_builds() {
    if support::skip_without_engine() {
        return;
    }
    let _port = support::port_lock();
    let user = RootlessUser::create("pare-rootless-runc", true);
    let pare = user.pare();
    let root_reports = support::temp_dir();
    for (name, probes) in [
        ("nginx", vec!["--probe", "GET /"]),
        ("flask", support::FLASK_PROBES.to_vec()),
    ] {
        let image = test_image(name);
        let source = user.give(&image.archive, &format!("{name}.tar"));
        let mut args = vec![pare.as_str(), "build", "--runtime", "oci", &source];
        args.extend(&probes);
        args.extend(["--report-dir", name, "--json"]);
        let report = user.run(&[], &args).success().json();
        assert_verified(&report);
        assert_eq!(report["runtime"], "runc", "{report:#}");
        let notes = notes(&report);
        assert!(
            notes.iter().any(|n| n.starts_with("built without root")),
            "{notes:?}"
        );

        if name == "flask" {
            // pare saw the app's processes inside the user's container, as the app
            // sees them: gunicorn as pid 1 and its workers.
            assert_gunicorn_processes(&report);
        }

        let root_dir = root_reports.path().join(name);
        let root_dir_text = root_dir.display().to_string();
        let archive = format!("docker-archive:{}", image.archive.display());
        let mut args = vec!["build", "--runtime", "oci", &archive];
        args.extend(&probes);
        args.extend(["--report-dir", &root_dir_text, "--json"]);
        assert_verified(&support::pare(&args).success().json());
        let listing = layer_listing(&user.home.join(name).join("image"));
        assert!(listing.len() > 10, "{name}: {listing:?}");
        assert_eq!(
            listing,
            layer_listing(&root_dir.join("image")),
            "{name}: the slim layer built without root differs from root's"
        );
        let left = user.leftovers();
        assert!(left.is_empty(), "{name}: left behind: {left:?}");
    }

    // A build that fails (the app never opens the port it is said to) and one stopped
    // by Ctrl-C leave nothing behind either.
    let nginx = user.give(&test_image("nginx").archive, "nginx.tar");
    let failed = user.run(
        &[],
        &[
            &pare,
            "build",
            "--runtime",
            "oci",
            &nginx,
            "--port",
            "9",
            "--timeout",
            "5",
        ],
    );
    assert_eq!(failed.code(), Some(2), "{}", failed.explain());
    assert!(failed.stderr().contains("port 9"), "{}", failed.explain());
    let left = user.leftovers();
    assert!(left.is_empty(), "after a failed build: {left:?}");

    let mut child = user
        .command(
            &[],
            &[
                &pare,
                "build",
                "--runtime",
                "oci",
                &nginx,
                "--continue-after",
                "signal",
            ],
        )
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .expect("pare as the user");
    let mut stderr = child.stderr.take().expect("stderr");
    let mut seen = String::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    // The app is up and traced once pare says it is probing.
    while !seen.contains("pare: probe") {
        assert!(Instant::now() < deadline, "pare never probed: {seen}");
        let mut buf = [0u8; 4096];
        let n = std::io::Read::read(&mut stderr, &mut buf).expect("read stderr");
        assert!(n > 0, "pare ended early: {seen}");
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    std::thread::sleep(Duration::from_millis(500));
    // SAFETY: signals the process group the child leads.
    unsafe { libc::kill(-(child.id() as i32), libc::SIGINT) };
    let status = child.wait().expect("wait");
    std::io::Read::read_to_string(&mut stderr, &mut seen).expect("read stderr");
    // pare ends with 130 after removing what it made; runuser, which got the SIGINT
    // too, may report it as its own death by that signal.
    assert!(
        status.code() == Some(130)
            || std::os::unix::process::ExitStatusExt::signal(&status) == Some(libc::SIGINT),
        "{status:?}: {seen}"
    );
    assert!(!seen.contains("error:"), "{seen}");
    let left = user.leftovers();
    assert!(left.is_empty(), "after Ctrl-C: {left:?}");
}

#[test]
fn a_user_without_subordinate_ids_is_told_how_to_get_them() {
    if support::skip_without_engine() {
        return;
    }
    let user = RootlessUser::create("pare-rootless-noids", false);
    let pare = user.pare();
    let nginx = user.give(&test_image("nginx").archive, "nginx.tar");
    for args in [
        vec![pare.as_str(), "build", "--runtime", "oci", &nginx],
        vec![pare.as_str(), "build", &nginx],
    ] {
        let refused = user
            .run(&[("DOCKER_HOST", "unix:///nonexistent")], &args)
            .exits(2);
        let stderr = refused.stderr();
        assert!(
            stderr.contains("needs subordinate ids for pare-rootless-noids")
                && stderr.contains("hint: as root: usermod --add-subuids"),
            "{}",
            refused.explain()
        );
        let left = user.leftovers();
        assert!(left.is_empty(), "left behind: {left:?}");
    }
}

fn assert_verified(report: &Value) {
    let verification = &report["verification"];
    assert_eq!(verification["passed"], true, "{report:#}");
    assert_eq!(verification["seccomp_applied"], true, "{report:#}");
    assert!(
        report["slim"]["uncompressed_bytes"].as_u64()
            < report["original"]["uncompressed_bytes"].as_u64(),
        "{report:#}"
    );
}

/// The processes in the report: the flask image's gunicorn master as the container's
/// init and its workers under it, each with a pid of the container's.
fn assert_gunicorn_processes(report: &Value) {
    let verification = &report["verification"];
    for key in ["reference_processes", "processes"] {
        let processes = verification[key].as_array().cloned().unwrap_or_default();
        let gunicorn = |p: &Value| p["command"].as_str().unwrap_or("").contains("gunicorn");
        assert!(
            processes
                .first()
                .is_some_and(|p| p["pid"] == 1 && p["parent"] == 0 && gunicorn(p)),
            "{key}: {processes:?}"
        );
        // gunicorn forks its second worker while the first answers: when the answers
        // are in, one or both run.
        let workers: Vec<&Value> = processes.iter().filter(|p| p["parent"] == 1).collect();
        assert!((1..=2).contains(&workers.len()), "{key}: {processes:?}");
        assert!(
            workers
                .iter()
                .all(|p| gunicorn(p) && p["pid"].as_u64() > Some(1)),
            "{key}: {processes:?}"
        );
    }
}

fn notes(report: &Value) -> Vec<String> {
    report["notes"]
        .as_array()
        .expect("notes")
        .iter()
        .filter_map(|n| n.as_str().map(str::to_owned))
        .collect()
}

/// Every entry of the slim layer in an OCI layout: path, type, mode, owner, link
/// target, size.
fn layer_listing(layout: &Path) -> Vec<String> {
    let read_json = |path: PathBuf| -> Value {
        serde_json::from_slice(&std::fs::read(&path).expect("read")).expect("json")
    };
    let blob = |digest: &Value| {
        let digest = digest.as_str().expect("digest");
        layout
            .join("blobs/sha256")
            .join(digest.trim_start_matches("sha256:"))
    };
    let index = read_json(layout.join("index.json"));
    let manifest = read_json(blob(&index["manifests"][0]["digest"]));
    let layer = std::fs::File::open(blob(&manifest["layers"][0]["digest"])).expect("layer");
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(layer));
    archive
        .entries()
        .expect("entries")
        .map(|e| {
            let e = e.expect("entry");
            let h = e.header();
            format!(
                "{} {:?} {:o} {}:{} {:?} {}",
                e.path().expect("path").display(),
                h.entry_type(),
                h.mode().unwrap_or(0),
                h.uid().unwrap_or(0),
                h.gid().unwrap_or(0),
                e.link_name().ok().flatten(),
                h.size().unwrap_or(0),
            )
        })
        .collect()
}
