//! Pids in answers, and the processes behind them.
//!
//! An answer that carries a pid (`{"pid": 7}` from a worker's `os.getpid()`) is not
//! the image's to choose: the OCI runtime's start-up threads take pid numbers in the
//! container's new pid namespace before the app runs, as many as it happened to make
//! (see `pare_runtime::Process`), so the same worker is pid 7 in one container and 6 in
//! the next. Two reference runs that both drew 7 then made a slim image that drew 6
//! fail verification on `$.pid` now and then (issue 21, seen built without root).
//!
//! That is not hidden as noise here: each run's processes are read when its answers
//! are in, and a number that differs is accepted only when, in each run, it is the pid
//! of a process in the same place of the process tree (the same command under the same
//! chain of parents). And the other explanation is checked too: a process every
//! reference run had that the slim image does not run is a difference of its own,
//! named by its command.

use std::collections::BTreeSet;

use pare_runtime::Process;
use serde_json::Value;

use crate::noise::{Comparison, FieldDiff};
use crate::probe::ProbeResult;

/// One run's answers and the processes it ran when they were in (empty when pare
/// cannot see them: a remote engine, or an app that had exited).
#[derive(Clone, Debug, Default)]
pub(crate) struct RunAnswers {
    pub results: Vec<ProbeResult>,
    pub processes: Vec<Process>,
}

/// A process's place in its container: its command under its parents' commands,
/// from the init down. Two workers of one master share a place.
fn place_of(processes: &[Process], pid: u32) -> Option<Vec<&str>> {
    let mut chain = Vec::new();
    let mut at = processes.iter().find(|p| p.pid == pid)?;
    loop {
        chain.push(at.command.as_str());
        if at.parent == 0 || chain.len() > processes.len() {
            break;
        }
        match processes.iter().find(|p| p.pid == at.parent) {
            Some(parent) => at = parent,
            None => break,
        }
    }
    chain.reverse();
    Some(chain)
}

/// Moves the differences of `compared` that are pids of the same process in the
/// reference run and the slim run into its ignored list, saying whose pid they are.
pub(crate) fn accept_same_process_pids(
    compared: &mut Comparison,
    reference: &[Process],
    slim: &[Process],
) {
    if reference.is_empty() || slim.is_empty() {
        return;
    }
    let as_pid = |text: &str| match serde_json::from_str::<Value>(text) {
        Ok(Value::Number(n)) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
        _ => None,
    };
    // The command of the process both numbers name, when they name one in the same
    // place of their trees.
    let same_process = |d: &FieldDiff| -> Option<String> {
        if !d.place.starts_with('$') {
            return None;
        }
        let ours = place_of(reference, as_pid(&d.reference)?)?;
        (place_of(slim, as_pid(&d.slim)?)? == ours)
            .then(|| ours.last().copied().unwrap_or("").to_owned())
    };
    for mut d in std::mem::take(&mut compared.differences) {
        match same_process(&d) {
            Some(command) => {
                d.slim = format!("{} (the pid of the same process, `{command}`)", d.slim);
                compared.ignored.push(d);
            }
            None => compared.differences.push(d),
        }
    }
}

/// Places of process trees ([`place_of`]), each a chain of commands from the init down.
pub(crate) type Places = BTreeSet<Vec<String>>;

fn places(processes: &[Process]) -> Places {
    processes
        .iter()
        .filter_map(|p| place_of(processes, p.pid))
        .map(|chain| chain.into_iter().map(str::to_owned).collect())
        .collect()
}

/// The places every reference run had a process in; none when any run's processes
/// are unknown (then nothing can be said to be missing).
pub(crate) fn always_running(references: &[RunAnswers]) -> Places {
    let Some((first, others)) = references.split_first() else {
        return Places::new();
    };
    if references.iter().any(|r| r.processes.is_empty()) {
        return Places::new();
    }
    let mut common = places(&first.processes);
    for other in others {
        let theirs = places(&other.processes);
        common.retain(|place| theirs.contains(place));
    }
    common
}

/// The commands of the `always_running` places the slim run has no process in: what
/// the slim image could not start. Nothing when the slim run's processes are unknown.
pub(crate) fn not_started(always_running: &Places, slim: &[Process]) -> Vec<String> {
    if slim.is_empty() {
        return Vec::new();
    }
    let in_slim = places(slim);
    let mut missing: Vec<String> = always_running
        .iter()
        .filter(|place| !in_slim.contains(*place))
        .filter_map(|place| place.last().cloned())
        .collect();
    missing.dedup();
    missing
}

#[cfg(test)]
mod tests {
    use super::*;

    fn process(pid: u32, parent: u32, command: &str) -> Process {
        Process {
            pid,
            parent,
            command: command.into(),
        }
    }

    fn gunicorn(first_worker: u32) -> Vec<Process> {
        vec![
            process(1, 0, "gunicorn app:app"),
            process(first_worker, 1, "gunicorn app:app"),
            process(first_worker + 1, 1, "gunicorn app:app"),
        ]
    }

    fn pid_diff(reference: &str, slim: &str) -> Comparison {
        Comparison {
            differences: vec![FieldDiff {
                place: "$.pid".into(),
                reference: reference.into(),
                slim: slim.into(),
                accept_with: Some("$.pid".into()),
            }],
            ignored: Vec::new(),
        }
    }

    #[test]
    fn the_same_worker_under_another_pid_is_the_same_answer() {
        // Both references drew 7 for the first worker, the slim run 6.
        let mut compared = pid_diff("7", "6");
        accept_same_process_pids(&mut compared, &gunicorn(7), &gunicorn(6));
        assert!(compared.differences.is_empty(), "{compared:?}");
        assert_eq!(
            compared.ignored[0].slim,
            "6 (the pid of the same process, `gunicorn app:app`)"
        );
    }

    #[test]
    fn a_pid_of_another_kind_of_process_or_no_process_stays_a_difference() {
        // 1 is the master in the reference, 7 a worker in the slim run.
        let mut compared = pid_diff("1", "7");
        accept_same_process_pids(&mut compared, &gunicorn(7), &gunicorn(6));
        assert_eq!(compared.differences.len(), 1);
        // A number that is no process's pid is not explained.
        let mut compared = pid_diff("7", "42");
        accept_same_process_pids(&mut compared, &gunicorn(7), &gunicorn(6));
        assert_eq!(compared.differences.len(), 1);
        // Without the processes (a remote engine), nothing is concluded.
        let mut compared = pid_diff("7", "6");
        accept_same_process_pids(&mut compared, &[], &gunicorn(6));
        assert_eq!(compared.differences.len(), 1);
    }

    #[test]
    fn a_process_every_reference_ran_and_the_slim_image_did_not_is_named() {
        let mut with_helper = gunicorn(7);
        with_helper.push(process(5, 1, "/usr/sbin/cron -f"));
        let references = [
            RunAnswers {
                results: Vec::new(),
                processes: with_helper.clone(),
            },
            RunAnswers {
                results: Vec::new(),
                processes: with_helper,
            },
        ];
        let always = always_running(&references);
        assert_eq!(not_started(&always, &gunicorn(6)), ["/usr/sbin/cron -f"]);
        let mut slim = gunicorn(6);
        slim.push(process(4, 1, "/usr/sbin/cron -f"));
        assert!(not_started(&always, &slim).is_empty());
        // One reference without it: it is not something the original always runs.
        let mut partial = references.to_vec();
        partial[1].processes = gunicorn(8);
        assert!(not_started(&always_running(&partial), &gunicorn(6)).is_empty());
        // A reference whose processes are unknown: nothing is concluded.
        partial[1].processes = Vec::new();
        assert!(not_started(&always_running(&partial), &gunicorn(6)).is_empty());
    }
}
