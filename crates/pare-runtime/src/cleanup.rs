//! What to undo when a signal ends the process: destructors do not run then, so
//! whatever pare made (containers, images it loaded, mounts, work directories)
//! registers how to remove itself here, and the Ctrl-C handler runs every removal.
//!
//! The registry knows nothing of what it removes: each owner (the engine's container
//! handle, the OCI runtime's, a loaded image, a work directory) registers a closure and
//! keeps the [`Registration`]; dropping that (after removing the thing normally)
//! forgets the closure. Removals run newest first, so a container goes before the
//! image it runs and before the directory its bundle is in.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};

type Removal = Box<dyn Fn() + Send + Sync>;

/// The registered removals, oldest first. A poisoned lock is used as it is: the list
/// is still what was registered, and cleanup must not panic.
static REMOVALS: Mutex<Vec<(u64, Removal)>> = Mutex::new(Vec::new());
static NEXT_ID: AtomicU64 = AtomicU64::new(1);
/// Taken by whoever ends the process (the interrupt's thread, or the main thread when
/// the command is done) and never released: the two never overlap, so neither cuts
/// the other short, and the main thread never prints an error the interrupt caused.
static ENDING: Mutex<()> = Mutex::new(());
/// Set by the signal handler itself (not by the thread that then acts on it): the
/// main thread can see an interrupt whose thread has not run yet.
static INTERRUPTED: OnceLock<Arc<AtomicBool>> = OnceLock::new();
/// Exit code of a process ended by an interrupt, as a shell reports SIGINT.
const INTERRUPTED_CODE: i32 = 130;

/// Makes SIGINT, SIGTERM and SIGHUP remove everything registered, print `notice`
/// first, and end the process with code 130. Call once, early in `main`.
pub fn on_interrupt(notice: fn()) -> std::io::Result<()> {
    let flag = Arc::clone(INTERRUPTED.get_or_init(Arc::default));
    let signals = [SIGINT, SIGTERM, SIGHUP];
    for signal in signals {
        signal_hook::flag::register(signal, Arc::clone(&flag))?;
    }
    let mut received = signal_hook::iterator::Signals::new(signals)?;
    std::thread::Builder::new()
        .name("interrupt".into())
        .spawn(move || {
            if received.forever().next().is_some() {
                let ending = ENDING.lock().unwrap_or_else(|p| p.into_inner());
                end_interrupted(ending, notice);
            }
        })?;
    Ok(())
}

/// Called once the command is done, before the process ends. An interrupt under way
/// ends the process itself (this waits for it); one that came but whose thread has
/// not run yet is handled here the same way, so the command's result (most likely
/// an error the interrupt caused) is never printed. Otherwise a later interrupt finds
/// the lock taken for good and does nothing: every owner has removed its things.
pub fn end(notice: fn()) {
    let ending = ENDING.lock().unwrap_or_else(|p| p.into_inner());
    if INTERRUPTED
        .get()
        .is_some_and(|flag| flag.load(Ordering::SeqCst))
    {
        end_interrupted(ending, notice);
    }
    std::mem::forget(ending);
}

/// Runs every removal and exits, holding `ENDING` until the process is gone.
fn end_interrupted(_ending: std::sync::MutexGuard<'_, ()>, notice: fn()) -> ! {
    notice();
    run_removals();
    std::process::exit(INTERRUPTED_CODE)
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

/// Runs every registered removal, newest first, and forgets them. Called when an
/// interrupt ends the process: the removals never panic and build whatever client
/// they need.
fn run_removals() {
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
        run_removals();
        let ran = ran.lock().unwrap().clone();
        // Other tests of this binary may register too; only our order matters.
        let ours: Vec<_> = ran
            .into_iter()
            .filter(|n| ["work dir", "removed normally", "container"].contains(n))
            .collect();
        assert_eq!(ours, ["container", "work dir"]);
    }
}
