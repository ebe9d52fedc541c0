//! Limits on what an untrusted app may use while pare runs it: processes and memory
//! (the container's cgroup, set through the engine or the OCI config), and the disk it
//! writes (for the OCI runtime, a size-limited tmpfs under its root; in the engine, a
//! watch on the container's writable layer that kills it past the limit, since Docker
//! limits a layer's size only on storage drivers with quotas).
//!
//! A [`Watch`] samples the container's cgroup and disk use while it runs, so that
//! afterwards pare can tell a limit that was hit from an app that failed by itself.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How much a container may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Processes and threads.
    pub pids: u32,
    /// Bytes of memory (swap not allowed beyond it).
    pub memory: u64,
    /// Bytes the app may write to its filesystem.
    pub disk: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            pids: 4096,
            memory: 4 << 30,
            disk: 2 << 30,
        }
    }
}

/// A limit the app ran into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LimitHit {
    /// A fork or clone failed at the process limit.
    Pids(u32),
    /// A process was killed for want of memory.
    Memory(u64),
    /// The app wrote as much as it may.
    Disk(u64),
}

impl LimitHit {
    /// The flag that raises this limit.
    pub fn flag(self) -> &'static str {
        match self {
            LimitHit::Pids(_) => "--max-pids",
            LimitHit::Memory(_) => "--max-memory",
            LimitHit::Disk(_) => "--max-disk",
        }
    }
}

impl std::fmt::Display for LimitHit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LimitHit::Pids(n) => write!(f, "the process limit ({n} processes)"),
            LimitHit::Memory(b) => write!(f, "the memory limit ({} MiB)", b >> 20),
            LimitHit::Disk(b) => write!(f, "the disk limit ({} MiB written)", b >> 20),
        }
    }
}

/// How the disk a container writes is measured.
#[derive(Clone, Debug)]
pub enum DiskUse {
    /// The size of the files below this directory (the engine's writable layer).
    Tree(PathBuf),
    /// The used space of the filesystem mounted here (a size-limited tmpfs).
    Filesystem(PathBuf),
    /// Not measurable here (a remote engine).
    Unknown,
}

/// Samples a running container's use of its limits until dropped.
pub struct Watch {
    hits: Arc<Mutex<Vec<LimitHit>>>,
    stop: Arc<AtomicBool>,
    peak_disk: Arc<AtomicU64>,
}

impl Watch {
    /// Starts sampling the container whose init process is `pid` (on the host).
    /// Past the disk limit, `kill` is called once (the engine cannot stop the writes
    /// otherwise).
    pub fn start(
        pid: i32,
        limits: Limits,
        disk: DiskUse,
        kill: impl Fn() + Send + 'static,
    ) -> Watch {
        let hits = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let peak_disk = Arc::new(AtomicU64::new(0));
        let cgroups = Cgroups::of(pid);
        let (t_hits, t_stop, t_peak) =
            (Arc::clone(&hits), Arc::clone(&stop), Arc::clone(&peak_disk));
        std::thread::spawn(move || {
            let mut killed = false;
            while !t_stop.load(Ordering::Relaxed) {
                let mut found = Vec::new();
                if cgroups.pids_refused() > 0 {
                    found.push(LimitHit::Pids(limits.pids));
                }
                if cgroups.oom_kills() > 0 {
                    found.push(LimitHit::Memory(limits.memory));
                }
                let used = disk_used(&disk);
                t_peak.fetch_max(used, Ordering::Relaxed);
                // A tmpfs stops the writes itself a little before its size.
                let full = match disk {
                    DiskUse::Filesystem(_) => used + (1 << 20) >= limits.disk,
                    _ => used >= limits.disk,
                };
                if full {
                    found.push(LimitHit::Disk(limits.disk));
                    if !killed && matches!(disk, DiskUse::Tree(_)) {
                        kill();
                        killed = true;
                    }
                }
                if !found.is_empty() {
                    let mut hits = t_hits.lock().unwrap_or_else(|p| p.into_inner());
                    for hit in found {
                        if !hits.contains(&hit) {
                            hits.push(hit);
                        }
                    }
                }
                // statvfs is one cheap call, so a tmpfs is sampled often enough to see
                // it fill even if the app deletes what it wrote at once; walking a
                // writable layer costs more.
                let pause = match disk {
                    DiskUse::Filesystem(_) => 5,
                    _ => 100,
                };
                std::thread::sleep(Duration::from_millis(pause));
            }
        });
        Watch {
            hits,
            stop,
            peak_disk,
        }
    }

    /// The limits hit so far.
    pub fn hits(&self) -> Vec<LimitHit> {
        self.hits.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The most the app had written at any sample.
    pub fn peak_disk(&self) -> u64 {
        self.peak_disk.load(Ordering::Relaxed)
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// The cgroup files of a process, cgroup v1 or v2.
struct Cgroups {
    pids_events: Option<PathBuf>,
    memory_events: Option<(PathBuf, &'static str)>,
}

impl Cgroups {
    fn of(pid: i32) -> Cgroups {
        let text = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap_or_default();
        // Only a machine with cgroup v2 alone has its controllers at the root; a hybrid
        // one lists an empty v2 hierarchy ("0::/") beside the v1 controllers.
        let v2_only = Path::new("/sys/fs/cgroup/cgroup.controllers").exists();
        let mut cgroups = Cgroups {
            pids_events: None,
            memory_events: None,
        };
        for line in text.lines() {
            let mut fields = line.splitn(3, ':');
            let (Some(_), Some(controllers), Some(path)) =
                (fields.next(), fields.next(), fields.next())
            else {
                continue;
            };
            let rel = path.trim_start_matches('/');
            if controllers.is_empty() && v2_only {
                // cgroup v2: one hierarchy for every controller.
                let dir = Path::new("/sys/fs/cgroup").join(rel);
                cgroups.pids_events = Some(dir.join("pids.events"));
                cgroups.memory_events = Some((dir.join("memory.events"), "oom_kill"));
            } else if controllers.split(',').any(|c| c == "pids") {
                cgroups.pids_events = Some(
                    Path::new("/sys/fs/cgroup/pids")
                        .join(rel)
                        .join("pids.events"),
                );
            } else if controllers.split(',').any(|c| c == "memory") {
                cgroups.memory_events = Some((
                    Path::new("/sys/fs/cgroup/memory")
                        .join(rel)
                        .join("memory.oom_control"),
                    "oom_kill",
                ));
            }
        }
        cgroups
    }

    /// How many forks the pids controller refused.
    fn pids_refused(&self) -> u64 {
        self.pids_events.as_deref().map_or(0, |p| counter(p, "max"))
    }

    /// How many processes the memory controller killed.
    fn oom_kills(&self) -> u64 {
        self.memory_events
            .as_ref()
            .map_or(0, |(p, key)| counter(p, key))
    }
}

/// The value of `key` in a `key value` per line cgroup file (0 when unreadable).
fn counter(path: &Path, key: &str) -> u64 {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|text| counter_in(&text, key))
        .unwrap_or(0)
}

fn counter_in(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|line| {
        let (k, v) = line.split_once(' ')?;
        (k == key).then(|| v.trim().parse().ok()).flatten()
    })
}

/// Bytes written so far.
fn disk_used(disk: &DiskUse) -> u64 {
    match disk {
        DiskUse::Tree(dir) => tree_size(dir),
        DiskUse::Filesystem(mount) => filesystem_used(mount),
        DiskUse::Unknown => 0,
    }
}

/// The allocated size of every file below `dir`, without following symlinks.
fn tree_size(dir: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let mut total = 0;
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let Ok(meta) = entry.path().symlink_metadata() else {
                continue;
            };
            if meta.is_dir() {
                stack.push(entry.path());
            } else {
                total += meta.blocks() * 512;
            }
        }
    }
    total
}

fn filesystem_used(mount: &Path) -> u64 {
    let Ok(c) = std::ffi::CString::new(mount.as_os_str().as_encoded_bytes()) else {
        return 0;
    };
    // SAFETY: statvfs fills the struct we hand it, for a NUL-terminated path.
    unsafe {
        let mut st: libc::statvfs = std::mem::zeroed();
        if libc::statvfs(c.as_ptr(), &mut st) != 0 {
            return 0;
        }
        (st.f_blocks - st.f_bfree) * st.f_frsize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_cgroup_counters() {
        assert_eq!(counter_in("max 12\n", "max"), Some(12));
        let v1 = "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n";
        assert_eq!(counter_in(v1, "oom_kill"), Some(3));
        let v2 = "low 0\nhigh 0\nmax 7\noom 2\noom_kill 1\noom_group_kill 0\n";
        assert_eq!(counter_in(v2, "oom_kill"), Some(1));
        assert_eq!(counter_in(v2, "missing"), None);
    }

    #[test]
    fn a_tree_past_the_limit_is_a_hit_and_the_kill_comes_once() {
        let dir = tempfile::tempdir().expect("temp dir");
        let kills = Arc::new(AtomicU64::new(0));
        let counted = Arc::clone(&kills);
        let watch = Watch::start(
            std::process::id() as i32,
            Limits {
                disk: 64 << 10,
                ..Limits::default()
            },
            DiskUse::Tree(dir.path().to_owned()),
            move || {
                counted.fetch_add(1, Ordering::Relaxed);
            },
        );
        std::fs::write(dir.path().join("big"), vec![1u8; 256 << 10]).expect("write");
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while watch.hits().is_empty() && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        std::thread::sleep(Duration::from_millis(300));
        assert_eq!(watch.hits(), [LimitHit::Disk(64 << 10)]);
        assert_eq!(kills.load(Ordering::Relaxed), 1);
        assert!(watch.peak_disk() >= 256 << 10);
    }
}
