//! A process-wide list of what pare made (containers, images it may drop, work
//! directories), so that a Ctrl-C handler can remove it all: destructors do not run
//! when a signal ends the process.

use std::path::PathBuf;
use std::sync::Mutex;

static CONTAINERS: Mutex<Vec<String>> = Mutex::new(Vec::new());
static PATHS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
static IMAGES: Mutex<Vec<String>> = Mutex::new(Vec::new());
/// (runtime binary, state root, id) of containers an OCI runtime runs.
static OCI_CONTAINERS: Mutex<Vec<(PathBuf, PathBuf, String)>> = Mutex::new(Vec::new());

pub(crate) fn register_oci_container(binary: &std::path::Path, root: &std::path::Path, id: &str) {
    if let Ok(mut list) = OCI_CONTAINERS.lock() {
        list.push((binary.to_owned(), root.to_owned(), id.to_owned()));
    }
}

pub(crate) fn forget_oci_container(id: &str) {
    if let Ok(mut list) = OCI_CONTAINERS.lock() {
        list.retain(|(_, _, i)| i != id);
    }
}

pub(crate) fn register_container(id: &str) {
    if let Ok(mut list) = CONTAINERS.lock() {
        list.push(id.to_owned());
    }
}

pub(crate) fn forget_container(id: &str) {
    if let Ok(mut list) = CONTAINERS.lock() {
        list.retain(|c| c != id);
    }
}

/// Registers an image pare loaded or tagged for its own use (the original loaded from
/// an archive, the slim image under a verification tag), to remove on interruption.
pub fn register_image(name: &str) {
    if let Ok(mut list) = IMAGES.lock() {
        list.push(name.to_owned());
    }
}

/// Forgets an image (it was removed, or it is the user's output).
pub fn forget_image(name: &str) {
    if let Ok(mut list) = IMAGES.lock() {
        list.retain(|i| i != name);
    }
}

/// Registers a directory to remove on interruption.
pub fn register_path(path: PathBuf) {
    if let Ok(mut list) = PATHS.lock() {
        list.push(path);
    }
}

/// Forgets a directory (it was removed, or handed to the user).
pub fn forget_path(path: &std::path::Path) {
    if let Ok(mut list) = PATHS.lock() {
        list.retain(|p| p != path);
    }
}

/// Removes every registered container and directory. Called from the Ctrl-C handler,
/// so it builds its own client and runtime and never panics.
pub fn remove_everything() {
    let containers: Vec<String> = CONTAINERS.lock().map(|l| l.clone()).unwrap_or_default();
    let images: Vec<String> = IMAGES.lock().map(|l| l.clone()).unwrap_or_default();
    if (!containers.is_empty() || !images.is_empty())
        && let Ok(engine) = crate::Engine::connect()
    {
        for id in &containers {
            engine.force_remove(id);
        }
        for image in &images {
            let _ = engine.remove_image(image);
        }
    }
    let oci: Vec<(PathBuf, PathBuf, String)> =
        OCI_CONTAINERS.lock().map(|l| l.clone()).unwrap_or_default();
    for (binary, root, id) in &oci {
        crate::runc::force_delete(binary, root, id);
    }
    let paths: Vec<PathBuf> = PATHS.lock().map(|l| l.clone()).unwrap_or_default();
    for path in paths {
        let _ = std::fs::remove_dir_all(&path);
    }
}
