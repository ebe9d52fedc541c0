//! The processes running in a container, as the app inside sees them: their pids in
//! the container's pid namespace, their parents and their command lines.
//!
//! Verification needs them because a pid is not the image's to choose: the OCI
//! runtime's start-up (`runc init`, a Go program) runs its threads inside the new pid
//! namespace before it executes the app, and takes as many pid numbers as it made
//! threads — four in one run, five in the next. An app that shows its pid (a worker's
//! `os.getpid()` in a health answer) therefore answers 6 in one container and 7 in
//! another though the same process answered. Knowing each run's processes, pare can
//! tell "the same process under another number" from "a process the slim image did
//! not start".
//!
//! Read from `/proc` of the host, from the container's init (whose host pid the
//! engine or the runtime reports) down through its descendants; `NSpid` in
//! `/proc/PID/status` gives each one's pid inside. A process with that pid that is not
//! in a pid namespace below pare's own is not the container's init (pare does not run
//! on the engine's host): the list is then empty and nothing is concluded from it.

use std::collections::BTreeMap;

/// One process of a container.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Process {
    /// Its pid in the container's pid namespace.
    pub pid: u32,
    /// Its parent's pid there; 0 for the container's init.
    pub parent: u32,
    /// Its command line, arguments separated by spaces (what `ps -o args` shows).
    pub command: String,
}

/// The processes of the container whose init has host pid `init`: the init first,
/// then its descendants (breadth first, by pid). Empty when `/proc` does not show it.
pub fn of_container(init: i32) -> Vec<Process> {
    let proc_root = std::path::Path::new("/proc");
    let own_depth = std::fs::read_to_string(proc_root.join("self/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("NSpid:"))
                .map(|l| l.split_whitespace().count())
        })
        .unwrap_or(1);
    of_container_in(proc_root, init, own_depth)
}

/// [`of_container`] over a `/proc` at `proc_root` (a copy, in tests), pare itself
/// being `own_depth` pid namespaces deep.
fn of_container_in(proc_root: &std::path::Path, init: i32, own_depth: usize) -> Vec<Process> {
    let Ok(entries) = std::fs::read_dir(proc_root) else {
        return Vec::new();
    };
    // Every process's host parent, read once: a container's processes are found by
    // descent from its init, which also keeps other containers' out.
    let mut children: BTreeMap<i32, Vec<i32>> = BTreeMap::new();
    let mut inside: BTreeMap<i32, u32> = BTreeMap::new();
    let mut init_depth = 0;
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<i32>().ok())
        else {
            continue;
        };
        let Ok(status) = std::fs::read_to_string(entry.path().join("status")) else {
            continue;
        };
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .map(str::trim)
        };
        if let Some(parent) = field("PPid:").and_then(|p| p.parse::<i32>().ok()) {
            children.entry(parent).or_default().push(pid);
        }
        // NSpid lists the pid in each namespace from the host's down: the last is
        // the container's.
        let ns_pids: Vec<&str> = field("NSpid:").unwrap_or("").split_whitespace().collect();
        if pid == init {
            init_depth = ns_pids.len();
        }
        if let Some(ns_pid) = ns_pids.last().and_then(|p| p.parse::<u32>().ok()) {
            inside.insert(pid, ns_pid);
        }
    }
    let Some(&init_inside) = inside.get(&init).filter(|_| init_depth > own_depth) else {
        return Vec::new();
    };
    let mut found = vec![Process {
        pid: init_inside,
        parent: 0,
        command: command_of(proc_root, init),
    }];
    let mut queue = std::collections::VecDeque::from([init]);
    while let Some(host_parent) = queue.pop_front() {
        let parent = inside.get(&host_parent).copied().unwrap_or(0);
        let mut kids = children.get(&host_parent).cloned().unwrap_or_default();
        kids.sort_unstable();
        for kid in kids {
            let Some(&pid) = inside.get(&kid) else {
                continue;
            };
            found.push(Process {
                pid,
                parent,
                command: command_of(proc_root, kid),
            });
            queue.push_back(kid);
        }
    }
    found
}

/// `/proc/PID/cmdline` with its NULs as spaces; a kernel thread's or a gone
/// process's is empty.
fn command_of(proc_root: &std::path::Path, pid: i32) -> String {
    let raw = std::fs::read(proc_root.join(pid.to_string()).join("cmdline")).unwrap_or_default();
    let text = String::from_utf8_lossy(&raw);
    text.trim_end_matches('\0').replace('\0', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fake(root: &std::path::Path, host: i32, parent: i32, ns: &str, cmdline: &str) {
        let dir = root.join(host.to_string());
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("status"),
            format!("Name:\tx\nPPid:\t{parent}\nNSpid:\t{ns}\n"),
        )
        .unwrap();
        std::fs::write(dir.join("cmdline"), cmdline.replace(' ', "\0") + "\0").unwrap();
    }

    #[test]
    fn a_containers_processes_are_its_inits_descendants_with_their_inside_pids() {
        let root = tempfile::tempdir().unwrap();
        fake(root.path(), 900, 1, "900 1", "gunicorn --workers 2");
        fake(root.path(), 907, 900, "907 7", "gunicorn --workers 2");
        fake(root.path(), 908, 900, "908 8", "gunicorn --workers 2");
        fake(root.path(), 950, 907, "950 9", "sh -c date");
        // Another container's and the host's own processes are not its.
        fake(root.path(), 1000, 1, "1000 1", "nginx: master process");
        fake(root.path(), 1, 0, "1", "/sbin/init");
        let found = of_container_in(root.path(), 900, 1);
        let pids: Vec<(u32, u32, &str)> = found
            .iter()
            .map(|p| (p.pid, p.parent, p.command.as_str()))
            .collect();
        assert_eq!(
            pids,
            [
                (1, 0, "gunicorn --workers 2"),
                (7, 1, "gunicorn --workers 2"),
                (8, 1, "gunicorn --workers 2"),
                (9, 7, "sh -c date"),
            ]
        );
        assert!(of_container_in(root.path(), 4242, 1).is_empty());
        // A process in pare's own pid namespace is no container's init: a remote
        // engine's pid that happens to be a local process's.
        assert!(of_container_in(root.path(), 1, 1).is_empty());
    }

    #[test]
    fn pare_itself_is_not_taken_for_a_container() {
        assert!(of_container(std::process::id() as i32).is_empty());
    }
}
