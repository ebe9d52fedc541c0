//! `containers-storage:NAME`, skopeo's name for Podman's image store, read by asking
//! `podman image save` for a `docker save` stream and written with `podman load`.
//!
//! Why podman rather than the store's files or Podman's API: containers/storage's
//! layout (layer chains in `overlay-layers/layers.json`, tar-split metadata to rebuild
//! exact layer tars, driver-specific directories, lock files shared with running
//! podman processes) is an implementation detail that changes between releases, and
//! rebuilding byte-exact layers needs tar-split; the API needs `podman system
//! service` running. The `podman` command is there wherever the store is, takes the
//! store's configuration (storage.conf, rootless paths, the `[driver@root+runroot]`
//! override) and its locks, and streams the image, which pare reads in one pass as it
//! reads the Docker engine's export.

use std::path::Path;
use std::process::{Child, Command, Stdio};

use super::Resolved;
use crate::error::{ImageError, Result};
use crate::layer::{ParsedLayer, ReadOptions};
use crate::reference::StorageSpec;

/// `podman` with the global flags that choose the store.
fn podman(store: Option<&StorageSpec>) -> Command {
    let mut command = Command::new("podman");
    if let Some(spec) = store {
        if let Some(driver) = &spec.driver {
            command.arg("--storage-driver").arg(driver);
        }
        command.arg("--root").arg(&spec.root);
        if let Some(run) = &spec.run_root {
            command.arg("--runroot").arg(run);
        }
    }
    command
}

fn spawn(mut command: Command, what: &str) -> Result<Child> {
    command.spawn().map_err(|e| ImageError::Command {
        command: what.to_owned(),
        reason: if e.kind() == std::io::ErrorKind::NotFound {
            "podman is not installed (containers-storage: is read through it)".into()
        } else {
            e.to_string()
        },
    })
}

/// Waits for podman and turns a failure into an error carrying what it said.
fn finish(child: Child, what: &str, name: &str) -> Result<()> {
    let out = child.wait_with_output().map_err(|e| ImageError::Command {
        command: what.to_owned(),
        reason: e.to_string(),
    })?;
    if out.status.success() {
        return Ok(());
    }
    let said = String::from_utf8_lossy(&out.stderr).trim().to_owned();
    if said.contains("image not known") || said.contains("no such image") {
        return Err(ImageError::NotFound {
            name: name.to_owned(),
            looked_in: " in Podman's store (containers-storage)".into(),
        });
    }
    Err(ImageError::Command {
        command: what.to_owned(),
        reason: format!("{}: {said}", out.status),
    })
}

fn save_command(name: &str, store: Option<&StorageSpec>) -> (Command, String) {
    let mut command = podman(store);
    command
        .args(["image", "save", "--format", "docker-archive", name])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    (command, format!("podman image save {name}"))
}

/// Reads an image from Podman's store in one pass over `podman image save`'s stream.
pub fn read(
    name: &str,
    store: Option<&StorageSpec>,
    options: &ReadOptions,
    platform: &crate::Platform,
) -> Result<(Resolved, Vec<ParsedLayer>)> {
    let (command, what) = save_command(name, store);
    let mut child = spawn(command, &what)?;
    let stdout = child.stdout.take();
    let read = stdout.map(|mut out| {
        let place = format!("containers-storage:{name}");
        let read = super::daemon::read_exported(&mut out, &place, options, platform);
        // The tar ends before podman stops writing (the archive's end blocks and
        // padding): read what is left, or podman dies of a broken pipe.
        let _ = std::io::copy(&mut out, &mut std::io::sink());
        read
    });
    // The stream is closed by now, so podman has ended (on a broken pipe if pare
    // stopped reading): a missing image is podman's news, anything else pare's.
    let status = finish(child, &what, name);
    match (read, status) {
        (_, Err(e @ ImageError::NotFound { .. })) => Err(e),
        (Some(Err(e)), _) => Err(e),
        (Some(Ok(read)), Ok(())) => Ok(read),
        (_, Err(e)) => Err(e),
        (None, Ok(())) => Err(ImageError::Command {
            command: what,
            reason: "no output".into(),
        }),
    }
}

/// Saves an image from Podman's store into a `docker save` archive at `path`.
pub fn save_to(name: &str, store: Option<&StorageSpec>, path: &Path) -> Result<()> {
    let (mut command, what) = save_command(name, store);
    let file = std::fs::File::create(path).map_err(|e| ImageError::io(path, e))?;
    command.stdout(file);
    let child = spawn(command, &what)?;
    finish(child, &what, name)
}

/// Loads a `docker save` archive streamed by `write` into Podman's store.
pub fn load(
    store: Option<&StorageSpec>,
    name: &str,
    write: impl FnOnce(&mut dyn std::io::Write) -> Result<()>,
) -> Result<()> {
    let mut command = podman(store);
    command
        .args(["load"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let what = format!("podman load ({name})");
    let mut child = spawn(command, &what)?;
    let written = match child.stdin.take() {
        Some(mut stdin) => write(&mut stdin),
        None => Ok(()),
    };
    finish(child, &what, name)?;
    written
}
