//! A process-wide list of what pare made (containers, images it may drop, work
//! directories), so that a Ctrl-C handler can remove it all: destructors do not run
//! when a signal ends the process.

use std::path::PathBuf;
use std::sync::Mutex;

/// One list of things to remove. A poisoned lock is used as it is: the list is still
/// what was registered, and cleanup must not panic.
struct Registry<T>(Mutex<Vec<T>>);

impl<T: Clone> Registry<T> {
    const fn new() -> Self {
        Registry(Mutex::new(Vec::new()))
    }

    fn add(&self, item: T) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).push(item);
    }

    fn remove(&self, gone: impl Fn(&T) -> bool) {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|i| !gone(i));
    }

    fn items(&self) -> Vec<T> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

static CONTAINERS: Registry<String> = Registry::new();
static PATHS: Registry<PathBuf> = Registry::new();
static IMAGES: Registry<String> = Registry::new();
/// (runtime binary, state root, id) of containers an OCI runtime runs.
static OCI_CONTAINERS: Registry<(PathBuf, PathBuf, String)> = Registry::new();

pub(crate) fn register_oci_container(binary: &std::path::Path, root: &std::path::Path, id: &str) {
    OCI_CONTAINERS.add((binary.to_owned(), root.to_owned(), id.to_owned()));
}

pub(crate) fn forget_oci_container(id: &str) {
    OCI_CONTAINERS.remove(|(_, _, i)| i == id);
}

pub(crate) fn register_container(id: &str) {
    CONTAINERS.add(id.to_owned());
}

pub(crate) fn forget_container(id: &str) {
    CONTAINERS.remove(|c| c == id);
}

/// Registers an image pare loaded or tagged for its own use (the original loaded from
/// an archive, the slim image under a verification tag), to remove on interruption.
pub fn register_image(name: &str) {
    IMAGES.add(name.to_owned());
}

/// Forgets an image (it was removed, or it is the user's output).
pub fn forget_image(name: &str) {
    IMAGES.remove(|i| i == name);
}

/// Registers a directory to remove on interruption.
pub fn register_path(path: PathBuf) {
    PATHS.add(path);
}

/// Forgets a directory (it was removed, or handed to the user).
pub fn forget_path(path: &std::path::Path) {
    PATHS.remove(|p| p == path);
}

/// Removes every registered container and directory. Called from the Ctrl-C handler,
/// so it builds its own client and runtime and never panics.
pub fn remove_everything() {
    let containers = CONTAINERS.items();
    let images = IMAGES.items();
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
    for (binary, root, id) in &OCI_CONTAINERS.items() {
        crate::runc::force_delete(binary, root, id);
    }
    for path in PATHS.items() {
        let _ = std::fs::remove_dir_all(&path);
    }
}
