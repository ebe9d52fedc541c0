//! The one error type of pare-image: every variant names the image, blob, file or
//! place it is about, because that is what a user needs to fix the input.

use std::path::PathBuf;

/// What can go wrong while resolving or reading an image.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("bad image reference {reference:?}: {reason}")]
    BadReference { reference: String, reason: String },

    /// A file or directory pare reads or writes; the cause says what went wrong.
    #[error("{}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("{place}: {reason}")]
    BadManifest { place: String, reason: String },

    #[error("{place}: missing blob {digest}")]
    MissingBlob { place: String, digest: String },

    #[error("{place}: digest mismatch: expected {expected}, content hashes to {actual}")]
    DigestMismatch {
        place: String,
        expected: String,
        actual: String,
    },

    #[error("{place}: unsupported media type {media_type:?}")]
    UnknownMediaType { place: String, media_type: String },

    #[error("{place}: {reason}")]
    BadLayer { place: String, reason: String },

    #[error("{place}: layer expands past {limit} bytes ({reason}); refusing to read further")]
    LayerTooLarge {
        place: String,
        limit: u64,
        reason: String,
    },

    #[error("{}: not {kind} ({reason})", path.display())]
    NotAnArchive {
        path: PathBuf,
        kind: String,
        reason: String,
    },

    #[error("{}: not an OCI layout: no oci-layout file", dir.display())]
    NotAnOciLayout { dir: PathBuf },

    #[error("image {name:?} not found{hint}")]
    NotFound { name: String, hint: String },

    #[error("Docker engine: {0}")]
    Engine(String),
}

impl ImageError {
    /// What the user can do about it, when there is something.
    pub fn hint(&self) -> Option<String> {
        match self {
            ImageError::LayerTooLarge { .. } => Some(
                "if the image is genuine, raise the limit: --max-layer-expansion RATIO (default 100)"
                    .into(),
            ),
            ImageError::NotAnArchive { .. } => Some(
                "docker-archive: takes what `docker save` writes; an OCI layout directory is oci:DIR"
                    .into(),
            ),
            ImageError::NotAnOciLayout { .. } => Some(
                "oci: takes an OCI image layout directory (skopeo copy ... oci:DIR writes one)".into(),
            ),
            _ => None,
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        ImageError::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn manifest(place: impl Into<String>, reason: impl Into<String>) -> Self {
        ImageError::BadManifest {
            place: place.into(),
            reason: reason.into(),
        }
    }
}

pub type Result<T, E = ImageError> = std::result::Result<T, E>;
