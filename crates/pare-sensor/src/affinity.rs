//! CPU pinning of the sensor (and, by inheritance, the app).
//!
//! Each ptrace stop hands the CPU from the tracee to the tracer and back. On two vCPUs,
//! when the two sit on different CPUs every hand-over is a cross-CPU wake-up, and the
//! scheduler keeps migrating them; on one CPU it is a plain context switch.

use nix::sched::{CpuSet, sched_getaffinity, sched_setaffinity};
use nix::unistd::Pid;

use crate::cli::Pin;

/// Pins the sensor as `pin` asks. Returns the CPU set the app must get back when it
/// differs from the sensor's (`Pin::Tracer`).
pub fn apply(pin: Pin) -> Result<Option<CpuSet>, String> {
    if pin == Pin::None {
        return Ok(None);
    }
    let me = Pid::from_raw(0);
    let all = sched_getaffinity(me).map_err(|e| format!("sched_getaffinity: {e}"))?;
    let first = (0..CpuSet::count())
        .find(|cpu| all.is_set(*cpu).unwrap_or(false))
        .ok_or("no CPU in the affinity mask")?;
    let mut one = CpuSet::new();
    one.set(first).map_err(|e| format!("CPU {first}: {e}"))?;
    sched_setaffinity(me, &one).map_err(|e| format!("sched_setaffinity to CPU {first}: {e}"))?;
    Ok((pin == Pin::Tracer).then_some(all))
}
