//! What to undo when a signal ends the process: destructors do not run then, so
//! whatever pare made (containers, images it loaded, mounts, work directories)
//! registers how to remove itself here, and the Ctrl-C handler runs every removal.
//!
//! The registry knows nothing of what it removes: each owner (the engine's container
//! handle, the OCI runtime's, a loaded image, a work directory) registers a closure and
//! keeps the [`Registration`]; dropping that (after removing the thing normally)
//! forgets the closure. Removals run newest first, so a container goes before the
//! image it runs and before the directory its bundle is in.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

type Removal = Box<dyn Fn() + Send + Sync>;

/// The registered removals, oldest first. A poisoned lock is used as it is: the list
/// is still what was registered, and cleanup must not panic.
static REMOVALS: Mutex<Vec<(u64, Removal)>> = Mutex::new(Vec::new());
static NEXT_ID: AtomicU64 = AtomicU64::new(1);
/// Held while an interrupt's removals run, and by a process that is ending normally:
/// the two never overlap, so neither cuts the other short.
static ENDING: Mutex<()> = Mutex::new(());

/// Called once the command is done, before the process ends: waits for an
/// interrupt's removals under way (whose handler then ends the process itself), and
/// keeps a later interrupt from starting them (every owner has removed its things by
/// now) by never releasing the lock.
pub fn end() {
    std::mem::forget(ENDING.lock().unwrap_or_else(|p| p.into_inner()));
}

/// Proof that a removal is registered; dropping it forgets the removal (without
/// running it: the owner removes the thing itself when it is done with it).
#[must_use = "dropping the registration forgets the removal at once"]
#[derive(Debug)]
pub struct Registration(u64);

/// Registers `removal` to run if the process is interrupted.
pub fn register(removal: impl Fn() + Send + Sync + 'static) -> Registration {
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    REMOVALS
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push((id, Box::new(removal)));
    Registration(id)
}

/// Registers the removal of a directory tree (a work directory).
pub fn register_dir(path: std::path::PathBuf) -> Registration {
    register(move || {
        let _ = std::fs::remove_dir_all(&path);
    })
}

impl Drop for Registration {
    fn drop(&mut self) {
        REMOVALS
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|(id, _)| *id != self.0);
    }
}

/// Runs every registered removal, newest first, and forgets them. Called from the
/// Ctrl-C handler: the removals never panic and build whatever client they need.
pub fn remove_everything() {
    let _ending = ENDING.lock().unwrap_or_else(|p| p.into_inner());
    let removals = std::mem::take(&mut *REMOVALS.lock().unwrap_or_else(|p| p.into_inner()));
    for (_, removal) in removals.iter().rev() {
        removal();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn removals_run_newest_first_and_dropped_ones_never() {
        let ran = Arc::new(Mutex::new(Vec::new()));
        let log = |name: &'static str| {
            let ran = Arc::clone(&ran);
            move || ran.lock().unwrap().push(name)
        };
        let _dir = register(log("work dir"));
        let forgotten = register(log("removed normally"));
        let _container = register(log("container"));
        drop(forgotten);
        remove_everything();
        let ran = ran.lock().unwrap().clone();
        // Other tests of this binary may register too; only our order matters.
        let ours: Vec<_> = ran
            .into_iter()
            .filter(|n| ["work dir", "removed normally", "container"].contains(n))
            .collect();
        assert_eq!(ours, ["container", "work dir"]);
    }
}
