//! The one error type of pare-compare. Each variant names the image it is about and
//! the step that failed; the cause is its `#[source]`, never repeated in the message.
//! Imports nothing else of the crate.

/// What can go wrong inspecting an image.
#[derive(Debug, thiserror::Error)]
pub enum CompareError {
    /// The image could not be resolved or read.
    #[error("reading {reference}")]
    Read {
        reference: String,
        #[source]
        source: pare_image::ImageError,
    },

    /// A package index (`--updates`) could not be read.
    #[error("reading the package index {}", path.display())]
    Index {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// The advisory database failed while the image's packages were looked up.
    #[error("matching the packages of {reference}")]
    Match {
        reference: String,
        #[source]
        source: Box<pare_vuln::Error>,
    },
}

/// Each variant's cause is in the chain, and says what to do about itself.
impl pare_hint::Hint for CompareError {}

pub type Result<T, E = CompareError> = std::result::Result<T, E>;
