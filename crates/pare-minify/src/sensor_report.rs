//! Reading the sensor's report into a [`Trace`]: every path the app named (found or
//! not: the keep-set keeps only what exists), what it executed and created, what
//! fanotify saw (also from `docker exec` probes outside the traced tree), and the
//! syscalls for the seccomp profile.

use std::path::Path;

use pare_sensor::SensorReport;

use crate::keep_set::Trace;

/// Reads `report.json` written by the sensor; the error says what is wrong with it.
pub fn read_report(path: &Path) -> Result<(Trace, SensorReport), String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot be read ({e})"))?;
    let report: SensorReport =
        serde_json::from_slice(&bytes).map_err(|e| format!("is not a sensor report ({e})"))?;
    Ok((to_trace(&report), report))
}

/// The parts of a report the keep-set needs.
pub fn to_trace(report: &SensorReport) -> Trace {
    let mut trace = Trace::default();
    for access in &report.files {
        trace.accessed.insert(access.path.clone());
        if access.executed() {
            trace.executed.insert(access.path.clone());
        }
        if access.created() {
            trace.created.insert(access.path.clone());
        }
    }
    for seen in &report.fanotify {
        trace.accessed.insert(seen.path.clone());
    }
    trace.syscalls = report.syscalls.iter().cloned().collect();
    trace
}
