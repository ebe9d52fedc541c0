//! What the tracer learned, gathered cheaply while tracing and turned into the sorted
//! report types on demand.

use std::collections::{BTreeSet, HashMap};

use pare_sensor::{FileAccess, Op};
use syscalls::Sysno;

/// How a call on a path ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    /// Failed with this errno.
    Failed(i32),
    /// The process died inside the call.
    Unfinished,
}

/// Most warnings kept; the rest are counted.
const MAX_WARNINGS: usize = 100;

/// Paths, syscalls and warnings.
#[derive(Default)]
pub struct Recorder {
    files: HashMap<String, FileAccess>,
    syscalls: BTreeSet<u64>,
    unknown_syscalls: BTreeSet<u64>,
    warnings: BTreeSet<String>,
    dropped_warnings: usize,
}

impl Recorder {
    /// Records that a call did `op` on `path` with `outcome`.
    pub fn file(&mut self, path: &str, op: Op, outcome: Outcome) {
        let entry = match self.files.get_mut(path) {
            Some(e) => e,
            None => self
                .files
                .entry(path.to_owned())
                .or_insert_with(|| FileAccess {
                    path: path.to_owned(),
                    ..Default::default()
                }),
        };
        match outcome {
            Outcome::Ok => {
                entry.ok.insert(op);
            }
            Outcome::Failed(errno) => {
                entry.failed.insert(op);
                entry.errors.insert(errno_name(errno));
            }
            Outcome::Unfinished => {
                entry.failed.insert(op);
                entry.errors.insert("UNFINISHED".into());
            }
        }
    }

    /// Records that syscall number `nr` (x86_64) was made.
    pub fn syscall(&mut self, nr: u64) {
        if Sysno::new(nr as usize).is_some() {
            self.syscalls.insert(nr);
        } else if self.unknown_syscalls.insert(nr) {
            self.warn(format!(
                "syscall number {nr} is not in the x86_64 table; left out of the list"
            ));
        }
    }

    /// Adds a warning (deduplicated, at most [`MAX_WARNINGS`]).
    pub fn warn(&mut self, message: String) {
        if self.warnings.len() < MAX_WARNINGS {
            self.warnings.insert(message);
        } else if !self.warnings.contains(&message) {
            self.dropped_warnings += 1;
        }
    }

    /// Every file access, sorted by path.
    pub fn files(&self) -> Vec<FileAccess> {
        let mut files: Vec<FileAccess> = self.files.values().cloned().collect();
        files.sort_by(|a, b| a.path.cmp(&b.path));
        files
    }

    /// Syscall names, sorted, with `always` (syscalls allowed without a stop) added.
    pub fn syscall_names(&self, always: &[Sysno]) -> Vec<String> {
        let mut names: BTreeSet<&'static str> = self
            .syscalls
            .iter()
            .filter_map(|nr| Sysno::new(*nr as usize))
            .map(|s| s.name())
            .collect();
        names.extend(always.iter().map(|s| s.name()));
        names.into_iter().map(str::to_owned).collect()
    }

    /// The warnings, with a last line counting those left out.
    pub fn warnings(&self) -> Vec<String> {
        let mut out: Vec<String> = self.warnings.iter().cloned().collect();
        if self.dropped_warnings > 0 {
            out.push(format!("{} more warnings not shown", self.dropped_warnings));
        }
        out
    }
}

/// `ENOENT`, `EACCES`, … for an errno value.
pub fn errno_name(errno: i32) -> String {
    format!("{:?}", nix::errno::Errno::from_raw(errno))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_are_kept_per_op() {
        let mut r = Recorder::default();
        r.file("/app/x.pyc", Op::Stat, Outcome::Failed(libc::ENOENT));
        r.file("/app/x.pyc", Op::Create, Outcome::Ok);
        r.file("/app/x.pyc", Op::Stat, Outcome::Failed(libc::ENOENT));
        r.file("/a", Op::Open, Outcome::Unfinished);
        let files = r.files();
        assert_eq!(files.len(), 2);
        assert_eq!(files[0].path, "/a");
        assert_eq!(files[0].errors, BTreeSet::from(["UNFINISHED".to_owned()]));
        let x = &files[1];
        assert_eq!(x.ok, BTreeSet::from([Op::Create]));
        assert_eq!(x.failed, BTreeSet::from([Op::Stat]));
        assert_eq!(x.errors, BTreeSet::from(["ENOENT".to_owned()]));
        assert!(x.created() && x.found() && !x.executed());
    }

    #[test]
    fn syscall_names_are_sorted_and_include_the_untraced() {
        let mut r = Recorder::default();
        r.syscall(Sysno::openat.id() as u64);
        r.syscall(Sysno::accept4.id() as u64);
        r.syscall(Sysno::openat.id() as u64);
        r.syscall(100_000);
        assert_eq!(
            r.syscall_names(&[Sysno::read]),
            ["accept4", "openat", "read"]
        );
        assert_eq!(r.warnings().len(), 1);
    }

    #[test]
    fn warnings_are_capped() {
        let mut r = Recorder::default();
        for i in 0..MAX_WARNINGS + 5 {
            r.warn(format!("w{i}"));
        }
        let w = r.warnings();
        assert_eq!(w.len(), MAX_WARNINGS + 1);
        assert_eq!(w.last().unwrap(), "5 more warnings not shown");
    }
}
