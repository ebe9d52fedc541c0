//! Podman from Debian: pare's engine backend against Podman's Docker-compatible
//! socket (`podman system service`), and `containers-storage:` read and written
//! through podman, each on a store of the test's own (`--root`, `--runroot`).

mod support;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::{pare, pare_env, run, test_image};

/// A Podman store in a temp dir, with its API service on a socket there.
struct PodmanStore {
    dir: tempfile::TempDir,
    service: Option<Child>,
}

impl PodmanStore {
    fn new() -> Self {
        PodmanStore {
            dir: support::temp_dir(),
            service: None,
        }
    }

    fn flags(&self) -> Vec<String> {
        let p = |name: &str| self.dir.path().join(name).display().to_string();
        vec![
            "--storage-driver".into(),
            "overlay".into(),
            "--root".into(),
            p("root"),
            "--runroot".into(),
            p("run"),
        ]
    }

    /// `containers-storage:[overlay@ROOT+RUNROOT]NAME`, skopeo's way to name this store.
    fn reference(&self, name: &str) -> String {
        let p = |name: &str| self.dir.path().join(name).display().to_string();
        format!(
            "containers-storage:[overlay@{}+{}]{name}",
            p("root"),
            p("run")
        )
    }

    fn podman(&self, args: &[&str]) -> support::Run {
        let mut all: Vec<String> = self.flags();
        all.extend(args.iter().map(|a| a.to_string()));
        let all: Vec<&str> = all.iter().map(String::as_str).collect();
        run("podman", &all, &[])
    }

    /// Starts `podman system service` and returns its `DOCKER_HOST`.
    fn serve(&mut self) -> String {
        let socket = self.dir.path().join("podman.sock");
        let url = format!("unix://{}", socket.display());
        let child = Command::new("podman")
            .args(self.flags())
            .args(["system", "service", "--time=0", &url])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| support::cannot_run("podman", &e));
        self.service = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        while !socket_answers(&socket) {
            assert!(
                Instant::now() < deadline,
                "podman system service did not start"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        url
    }
}

fn socket_answers(socket: &Path) -> bool {
    std::os::unix::net::UnixStream::connect(socket).is_ok()
}

impl Drop for PodmanStore {
    fn drop(&mut self) {
        if let Some(mut child) = self.service.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = self.podman(&["system", "reset", "--force"]);
    }
}

fn xray_without_source(args: &[&str], env: &[(&str, &str)]) -> Value {
    let mut v = pare_env(args, env).success().json();
    if let Some(source) = v
        .pointer_mut("/image/source")
        .and_then(Value::as_object_mut)
    {
        source.remove("reference");
        source.remove("repo_tags");
        source.remove("manifest_digest");
    }
    v
}

#[test]
fn podman_socket_and_containers_storage_read_as_the_archive() {
    if support::skip_without_engine() {
        return;
    }
    let cli = test_image("cli");
    let mut store = PodmanStore::new();
    store
        .podman(&["load", "-q", "-i", &cli.archive.display().to_string()])
        .success();
    let expected = xray_without_source(&["xray", "--json", &cli.archive_ref()], &[]);

    let docker_host = store.serve();
    let through_socket = xray_without_source(
        &["xray", "--json", "pare-test/cli:latest"],
        &[("DOCKER_HOST", docker_host.as_str())],
    );
    assert_eq!(through_socket, expected);
    let sbom = pare_env(
        &["sbom", "--format", "cyclonedx", "pare-test/cli:latest"],
        &[("DOCKER_HOST", docker_host.as_str())],
    )
    .success()
    .json();
    assert!(
        sbom["components"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["name"] == "jq"),
        "jq is in the image"
    );

    let stored = xray_without_source(
        &["xray", "--json", &store.reference("pare-test/cli:latest")],
        &[],
    );
    assert_eq!(stored, expected);

    // Written into the store by pare copy, read back by podman and by pare.
    pare(&[
        "copy",
        &cli.oci_ref(),
        &store.reference("pare-copied/cli:1"),
    ])
    .success();
    let images = store
        .podman(&["images", "--format", "{{.Repository}}:{{.Tag}}"])
        .success();
    assert!(
        images.stdout().contains("pare-copied/cli:1"),
        "{}",
        images.stdout()
    );
    let copied = xray_without_source(
        &["xray", "--json", &store.reference("pare-copied/cli:1")],
        &[],
    );
    // The config as stored in the layout: the image ID podman gives it.
    let layout = xray_without_source(&["xray", "--json", &cli.oci_ref()], &[]);
    assert_eq!(
        copied["image"]["source"]["config_digest"],
        layout["image"]["source"]["config_digest"]
    );

    let missing = pare(&["xray", &store.reference("no/such:image")]).exits(2);
    assert!(
        missing.stderr().contains("not found in Podman's store"),
        "{}",
        missing.stderr()
    );
}
