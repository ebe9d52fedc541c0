//! The build's phases, their timings, and how the library tells its caller what it is
//! doing and asks for input: through [`Reporter`], which the CLI implements (plain
//! lines, progress bars, a key press). The library never touches the terminal.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// The phases of a build, in order. Their names are the keys of `phases_ms` in the
/// report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Phase {
    /// Resolving the image, reading and indexing its layers, cataloguing packages.
    Read,
    /// Starting the traced container until the app is ready (port open).
    Trace,
    /// Exercising the traced app, stopping it, reading the sensor's report.
    Probe,
    /// The keep-set, the slim layer and config, the seccomp profile, the outputs.
    Assemble,
    /// The original again, untraced, for what verification compares with (beside
    /// `Assemble`, so its time overlaps).
    Reference,
    /// Running the slim image and comparing its answers.
    Verify,
    /// Proving which known vulnerabilities the slim image left behind.
    Vex,
}

impl Phase {
    pub const ALL: [Phase; 7] = [
        Phase::Read,
        Phase::Trace,
        Phase::Probe,
        Phase::Assemble,
        Phase::Reference,
        Phase::Verify,
        Phase::Vex,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Phase::Read => "read",
            Phase::Trace => "trace",
            Phase::Probe => "probe",
            Phase::Assemble => "assemble",
            Phase::Reference => "reference",
            Phase::Verify => "verify",
            Phase::Vex => "vex",
        }
    }
}

/// What the library tells its caller while a build runs, and the input it may ask
/// for. Every method has a default that does nothing, so a test or a quiet caller
/// implements none.
pub trait Reporter: Sync {
    /// A phase starts.
    fn phase(&self, _phase: Phase) {}
    /// Something the user should read now (e.g. how to end tracing by hand).
    fn note(&self, _text: &str) {}
    /// Blocks until the user says to go on (`--continue-after enter`); `prompt` says
    /// what they are asked.
    fn wait_for_user(&self, _prompt: &str) {}
    /// What the current phase is doing now (`waiting for port 8080`).
    fn status(&self, _phase: Phase, _text: &str) {}
    /// How far the current phase has come: `done` of `total` (bytes read, probes
    /// sent); `total` 0 when unknown.
    fn advance(&self, _phase: Phase, _done: u64, _total: u64) {}
}

/// A reporter that reports nothing and never waits.
pub struct Silent;

impl Reporter for Silent {}

/// Time spent in each phase (a phase entered twice adds up).
#[derive(Clone, Debug, Default)]
pub struct Timings(BTreeMap<Phase, Duration>);

impl Timings {
    /// Runs `step` as (part of) `phase`: tells the reporter, times it.
    pub fn run<T>(&mut self, phase: Phase, reporter: &dyn Reporter, step: impl FnOnce() -> T) -> T {
        if !self.0.contains_key(&phase) {
            reporter.phase(phase);
        }
        let started = Instant::now();
        let value = step();
        *self.0.entry(phase).or_default() += started.elapsed();
        value
    }

    /// Adds time spent in `phase` measured elsewhere (a thread of its own).
    pub fn add(&mut self, phase: Phase, took: Duration) {
        *self.0.entry(phase).or_default() += took;
    }

    /// Milliseconds per phase name, as `report.json` holds them.
    pub fn millis(&self) -> BTreeMap<String, u128> {
        self.0
            .iter()
            .map(|(phase, d)| (phase.name().to_owned(), d.as_millis()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    struct Recorder(Mutex<Vec<Phase>>);
    impl Reporter for Recorder {
        fn phase(&self, phase: Phase) {
            self.0.lock().unwrap().push(phase);
        }
    }

    #[test]
    fn a_phase_is_announced_once_and_its_time_adds_up() {
        let reporter = Recorder(Mutex::new(Vec::new()));
        let mut timings = Timings::default();
        timings.run(Phase::Assemble, &reporter, || {
            std::thread::sleep(Duration::from_millis(5))
        });
        timings.run(Phase::Assemble, &reporter, || {
            std::thread::sleep(Duration::from_millis(5))
        });
        timings.run(Phase::Verify, &reporter, || ());
        assert_eq!(
            *reporter.0.lock().unwrap(),
            [Phase::Assemble, Phase::Verify]
        );
        let ms = timings.millis();
        assert!(ms["assemble"] >= 10, "{ms:?}");
        assert!(ms.contains_key("verify"));
        assert!(!ms.contains_key("read"));
    }
}
