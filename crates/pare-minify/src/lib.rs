//! pare-minify: `pare build`. Run the app under the sensor while probes exercise it,
//! keep only what it used (and what that needs to load), write one layer, and prove
//! the slim image answers the probes exactly as the original did.
//!
//! The build is a sequence of typed phases ([`pipeline`]); each lives in its own
//! module: [`read`], [`trace`] (start and probe), [`keep`], [`assemble`], [`verify`],
//! with [`outputs`] writing the result. Errors are [`BuildError`]; progress and input
//! go through a [`Reporter`] the caller implements.

pub mod app_files;
pub mod assemble;
pub mod backend;
pub mod elf;
pub mod error;
pub mod exercise;
pub mod keep;
pub mod keep_set;
pub mod load;
pub mod noise;
pub mod options;
pub mod outputs;
pub mod own_probes;
pub mod packages;
pub mod pipeline;
pub mod probe;
pub mod probe_file;
pub mod progress;
pub mod reach;
pub mod read;
pub mod reference;
pub mod report;
pub mod same_process;
pub mod seccomp;
pub mod sensor_report;
pub mod trace;
pub mod verify;
pub mod vex;

pub use error::{AssembleError, BuildError};
pub use options::{BuildOptions, ContinueAfter, ExecEntrypoint, Output, RuntimeChoice};
pub use pipeline::build;
pub use probe::Probe;
pub use progress::{Phase, Reporter, Silent};
pub use report::{BuildReport, Verification};
