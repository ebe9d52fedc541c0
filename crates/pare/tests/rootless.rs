//! `pare build` as an ordinary user (issue 14, the part that works today): through
//! rootless Podman's Docker-compatible socket, verified, with nothing left behind;
//! and, with no engine, a clear refusal instead of runc failing half-way.
//!
//! The test makes a user of its own with a subordinate id range (as `useradd` gives
//! one on Debian), runs Debian's podman as that user (`uidmap` provides newuidmap),
//! and removes the user, its processes and its store afterwards.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::{run, test_image};

const USER: &str = "pare-rootless-test";

/// An ordinary user with a subordinate id range, a runtime dir and (once served) a
/// rootless Podman API service; removed with everything it made when dropped.
struct RootlessUser {
    home: PathBuf,
    runtime_dir: PathBuf,
    service: Option<Child>,
    /// The pare binary, copied where the user can run it.
    bin: tempfile::TempDir,
}

impl RootlessUser {
    fn create() -> Self {
        remove_user();
        run(
            "useradd",
            &["--create-home", "--user-group", "--shell", "/bin/sh", USER],
            &[],
        )
        .success();
        let has_range = |file: &str| {
            std::fs::read_to_string(file)
                .unwrap_or_default()
                .lines()
                .any(|l| l.starts_with(&format!("{USER}:")))
        };
        if !has_range("/etc/subuid") || !has_range("/etc/subgid") {
            run(
                "usermod",
                &[
                    "--add-subuids",
                    "400000-465535",
                    "--add-subgids",
                    "400000-465535",
                    USER,
                ],
                &[],
            )
            .success();
        }
        let uid = run("id", &["-u", USER], &[]).success().stdout();
        let runtime_dir = PathBuf::from(format!("/run/user/{}", uid.trim()));
        std::fs::create_dir_all(&runtime_dir).expect("runtime dir");
        run("chown", &[USER, &runtime_dir.display().to_string()], &[]).success();
        run("chmod", &["700", &runtime_dir.display().to_string()], &[]).success();
        let bin = support::temp_dir();
        std::fs::copy(env!("CARGO_BIN_EXE_pare"), bin.path().join("pare")).expect("copy pare");
        run("chmod", &["755", &bin.path().display().to_string()], &[]).success();
        RootlessUser {
            home: PathBuf::from(format!("/home/{USER}")),
            runtime_dir,
            service: None,
            bin,
        }
    }

    fn pare(&self) -> String {
        self.bin.path().join("pare").display().to_string()
    }

    /// The command line that runs `args` as the user, in its home, with its runtime dir.
    fn command(&self, env: &[(&str, &str)], args: &[&str]) -> Command {
        let mut command = Command::new("runuser");
        command.args(["-u", USER, "--", "env"]);
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
            .expect("runuser (util-linux)");
        support::Run {
            command: format!("(as {USER}) {}", args.join(" ")),
            output,
        }
    }

    fn podman(&self, args: &[&str]) -> support::Run {
        let mut all = vec!["podman"];
        all.extend(args);
        self.run(&[], &all)
    }

    /// Copies `archive` where the user can read it and loads it into its store.
    fn load(&self, archive: &Path) {
        let copy = self.home.join("image.tar");
        std::fs::copy(archive, &copy).expect("copy the archive");
        run("chown", &[USER, &copy.display().to_string()], &[]).success();
        self.podman(&["load", "-q", "-i", "image.tar"]).success();
        let _ = std::fs::remove_file(copy);
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
fn remove_user() {
    let Ok(uid) = Command::new("id").args(["-u", USER]).output() else {
        return;
    };
    if !uid.status.success() {
        return;
    }
    let uid = String::from_utf8_lossy(&uid.stdout).trim().to_owned();
    let _ = Command::new("pkill").args(["-KILL", "-u", USER]).status();
    std::thread::sleep(Duration::from_millis(300));
    // The store holds files owned by the subordinate ids, which userdel -r removes
    // as root all the same.
    let _ = Command::new("userdel").args(["--remove", USER]).output();
    let _ = std::fs::remove_dir_all(format!("/run/user/{uid}"));
}

impl Drop for RootlessUser {
    fn drop(&mut self) {
        if let Some(mut child) = self.service.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        remove_user();
    }
}

#[test]
fn an_ordinary_user_builds_through_rootless_podman_and_is_refused_runc() {
    let nginx = test_image("nginx");
    let _port = support::port_lock();
    let mut user = RootlessUser::create();
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
    let verification = &report["verification"];
    assert_eq!(verification["passed"], true, "{report:#}");
    assert_eq!(verification["seccomp_applied"], true, "{report:#}");
    assert!(verification["references"].as_u64() >= Some(1), "{report:#}");
    assert!(
        report["slim"]["uncompressed_bytes"].as_u64()
            < report["original"]["uncompressed_bytes"].as_u64(),
        "{report:#}"
    );
    // The sensor cannot watch the filesystem without CAP_SYS_ADMIN in the host's user
    // namespace, and the report says so rather than staying silent.
    let notes: Vec<&str> = report["notes"]
        .as_array()
        .expect("notes")
        .iter()
        .filter_map(|n| n.as_str())
        .collect();
    assert!(
        notes
            .iter()
            .any(|n| n.starts_with("fanotify was unavailable")),
        "{notes:?}"
    );
    // The slim image is in the user's store and runs there; pare's containers are gone.
    let slim = format!("{}-slim", nginx.image);
    user.podman(&["image", "exists", &slim]).success();
    let containers = user.podman(&["ps", "-aq"]).success().stdout();
    assert_eq!(containers.trim(), "", "containers left behind");

    // No engine and not root: a clear refusal naming what to do, exit 2.
    let archive = user.home.join("nginx.tar");
    std::fs::copy(&nginx.archive, &archive).expect("copy");
    run("chown", &[USER, &archive.display().to_string()], &[]).success();
    let no_engine: [(&str, &str); 1] = [("DOCKER_HOST", "unix:///nonexistent")];
    for (env, args) in [
        (
            &no_engine[..],
            vec![pare.as_str(), "build", "docker-archive:nginx.tar"],
        ),
        (
            &[][..],
            vec![
                pare.as_str(),
                "build",
                "--runtime",
                "oci",
                "docker-archive:nginx.tar",
            ],
        ),
    ] {
        let refused = user.run(env, &args).exits(2);
        let stderr = refused.stderr();
        assert!(
            stderr.contains("needs root") && stderr.contains("podman system service"),
            "{}",
            refused.explain()
        );
        let left: Vec<_> = std::fs::read_dir(&user.home)
            .expect("home")
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("pare-build"))
            .collect();
        assert!(left.is_empty(), "left behind: {left:?}");
    }
}
