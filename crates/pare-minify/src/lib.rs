//! pare-minify: `pare build`. Run the app under the sensor while probes exercise it,
//! keep only what it used (and what that needs to load), write one layer, and prove
//! the slim image answers the probes exactly as the original did.

pub mod assemble;
pub mod backend;
pub mod elf;
pub mod exercise;
pub mod keep_set;
pub mod load;
pub mod packages;
pub mod pipeline;
pub mod probe;
pub mod report;
pub mod seccomp;
pub mod trace;

pub use backend::RuntimeChoice;
pub use exercise::ContinueAfter;
pub use pipeline::{BuildError, BuildOptions, Output, build};
pub use probe::Probe;
pub use report::BuildReport;
