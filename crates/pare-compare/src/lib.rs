//! pare-compare: images side by side. [`diff::diff`] says what changed between two
//! images (files by content digest, packages, vulnerabilities, config, history, size
//! per directory); [`summary::Summary`] is one row of `pare compare` (size, layers,
//! packages, vulnerabilities, root, shells, setuid files, base OS and its support
//! status from [`lifecycle`], pending security updates from [`updates`]).
//!
//! Each image is read once ([`inspect::Inspector`]): the one-pass index of pare-image
//! serves the xray analysis, the SBOM and the vulnerability match together. Rendering
//! for people is the CLI's.

pub mod diff;
pub mod error;
pub mod inspect;
pub mod lifecycle;
pub mod summary;
pub mod updates;

pub use error::{CompareError, Result};
pub use inspect::{Inspected, Inspector};
