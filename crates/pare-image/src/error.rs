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

    /// A manifest, index, config or other JSON document that does not parse as
    /// `what` says it should.
    #[error("{place}: {what}")]
    BadJson {
        place: String,
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },

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

    /// Bytes of a layer or an archive stream that could not be read (or decompressed,
    /// or hashed); the cause says why.
    #[error("{place}: {what}")]
    ReadFailed {
        place: String,
        what: &'static str,
        #[source]
        source: std::io::Error,
    },

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

    /// An output pare will not write: a link, another user's file, a non-empty directory.
    #[error("{}: refusing to write there: {reason}", path.display())]
    UnsafeDestination { path: PathBuf, reason: String },

    #[error("{}: not an OCI layout: no oci-layout file", dir.display())]
    NotAnOciLayout { dir: PathBuf },

    /// `looked_in` says where (" in the Docker engine", " in registry R").
    #[error("image {name:?} not found{looked_in}")]
    NotFound { name: String, looked_in: String },

    /// The engine said something went wrong, in its own words (or pare's, for what
    /// pare's side of the exchange got wrong).
    #[error("Docker engine: {0}")]
    Engine(String),

    /// No Docker engine answers where it is looked for (`at`, when known).
    #[error("no Docker engine answers{}", at.as_ref().map(|s| format!(" at {s}")).unwrap_or_default())]
    NoEngine {
        at: Option<String>,
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },

    /// A call to the engine that failed on its way.
    #[error("Docker engine")]
    EngineCall(#[source] bollard::errors::Error),

    /// A request to a registry that got no answer (or a broken one); the cause says why.
    #[error("registry {registry}: {action}")]
    Registry {
        registry: String,
        action: String,
        #[source]
        source: Box<ureq::Error>,
    },

    /// A registry answered, but not with what was asked for.
    #[error("registry {registry}: {action}: HTTP {status}{detail}")]
    RegistryStatus {
        registry: String,
        action: String,
        status: u16,
        detail: String,
    },

    /// A blob's body that came (or went) slower than `--registry-min-rate`.
    #[error(
        "registry {registry}: {action}: {bytes} bytes in {seconds} s, slower than the minimum of {min_rate} bytes/s; giving up"
    )]
    TooSlow {
        registry: String,
        action: String,
        bytes: u64,
        seconds: u64,
        min_rate: u64,
    },

    #[error("registry {registry} refused {action} {repository} (HTTP 401{detail})")]
    Unauthorized {
        registry: String,
        repository: String,
        action: String,
        detail: String,
    },

    #[error("{place}: no image for {wanted} (the index has {available})")]
    NoPlatform {
        place: String,
        wanted: String,
        available: String,
    },

    #[error("credential helper {helper}: {reason}")]
    CredentialHelper { helper: String, reason: String },

    /// A credential helper that could not be run or read.
    #[error("credential helper {helper}: {what}")]
    CredentialHelperIo {
        helper: String,
        what: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },

    /// An external program pare asks for an image (`podman image save`).
    #[error("`{command}` failed: {reason}")]
    Command { command: String, reason: String },
}

impl pare_hint::Hint for ImageError {
    fn hint(&self) -> Option<String> {
        match self {
            ImageError::NoEngine { .. } => Some(
                "start dockerd, or read the image with docker-archive:PATH or oci:DIR".into(),
            ),
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
            ImageError::Unauthorized { registry, .. } => Some(format!(
                "log in with `docker login {registry}` (pare reads $DOCKER_CONFIG/config.json, \
                 else ~/.docker/config.json, and its credential helpers), or pass --creds USER:PASSWORD"
            )),
            ImageError::UnsafeDestination { .. } => Some(
                "name a destination of your own that is not a link (a new name, or a file or \
                 directory you made)"
                    .into(),
            ),
            ImageError::NoPlatform { .. } => {
                Some("choose one with --platform OS/ARCH[/VARIANT]".into())
            }
            ImageError::TooSlow { .. } => Some(
                "on a link this slow, lower the minimum: --registry-min-rate RATE (default 1KiB; 0 for none)"
                    .into(),
            ),
            ImageError::Registry { source, .. } => match source.as_ref() {
                ureq::Error::Timeout(_) => Some(
                    "the registry did not answer in time; --registry-timeout DURATION sets how long \
                     a request may take (default 5m)"
                        .into(),
                ),
                // rustls's verdicts reach ureq's callers wrapped in an I/O error.
                e if e.to_string().contains("certificate") => Some(
                    "if the registry's certificate comes from your own CA, pass --cert-dir DIR \
                     holding it as *.crt (or put it in /etc/docker/certs.d/HOST:PORT/); \
                     --tls-verify=false skips the check"
                        .into(),
                ),
                e if matches!(e, ureq::Error::HostNotFound)
                    || e.to_string().contains("lookup address") =>
                {
                    Some("check the registry's name: docker://REGISTRY/NAME[:TAG]".into())
                }
                _ => None,
            },
            _ => None,
        }
    }
}

impl ImageError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        ImageError::Io {
            path: path.into(),
            source,
        }
    }

    /// A JSON document at `place` that is not the `what` it should be.
    pub(crate) fn json(
        place: impl Into<String>,
        what: &'static str,
        source: serde_json::Error,
    ) -> Self {
        ImageError::BadJson {
            place: place.into(),
            what,
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
