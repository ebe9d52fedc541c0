//! pare-runtime: the containers pare starts, through the Docker Engine API.
//!
//! Every container made here is registered with [`cleanup`] the moment it exists, and
//! removed when its [`Container`] handle drops — on success, on error, and (through
//! the registry) on Ctrl-C, when no destructor runs.

pub mod cleanup;
mod engine;

pub use engine::{Container, ContainerSpec, Engine, ExecOutput};

/// What can go wrong talking to the engine.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error("no Docker engine answers ({0}): start dockerd (pare build needs one to run the app)")]
    NoEngine(String),
    #[error("image {0:?} not found in the Docker engine")]
    ImageNotFound(String),
    #[error("Docker engine: {what}: {message}")]
    Engine { what: String, message: String },
}

pub type Result<T, E = RuntimeError> = std::result::Result<T, E>;

pub(crate) fn engine_error(what: &str, e: bollard::errors::Error) -> RuntimeError {
    use bollard::errors::Error as E;
    match e {
        E::SocketNotFoundError(path) => RuntimeError::NoEngine(format!("no socket at {path}")),
        E::HyperLegacyError { .. } | E::IOError { .. } => RuntimeError::NoEngine(e.to_string()),
        E::DockerResponseServerError { message, .. } => RuntimeError::Engine {
            what: what.to_owned(),
            message,
        },
        other => RuntimeError::Engine {
            what: what.to_owned(),
            message: other.to_string(),
        },
    }
}
