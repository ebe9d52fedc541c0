//! The one registry client: `docker://` images are pulled and pushed through it.
//!
//! Built on ureq rather than oci-client: ureq is blocking and hands a response body out
//! as a `Read`, which plugs straight into the one-pass layer reader (digest check,
//! decompression, tar walk) on the reading thread with no async bridge and no buffering
//! of a whole layer; it is already in the workspace (pare-vuln) and TLS is rustls with
//! the platform's roots. oci-client is async on reqwest and tokio, has its own
//! credential model (no Docker config or credential helpers) and no resuming of a blob
//! cut mid-way; what it would add over this module is the distribution API's few
//! endpoints, which are written here against the spec.
//!
//! - [`name`]: references as Docker normalises them.
//! - [`auth`]: Docker's config, credential helpers, `WWW-Authenticate` challenges.
//! - [`client`]: connection (HTTPS, or plain HTTP for loopback), tokens, retries,
//!   redirects, size limits, deadlines.
//! - [`pace`]: the minimum transfer rate of a blob's body.
//!
//! Pushing an image's [`crate::parts`] (blobs first, the manifest last) is
//! [`crate::push`], beside the other writers.

pub mod auth;
pub mod client;
pub mod name;
pub(crate) mod pace;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use auth::Credentials;
pub use client::Client;
pub use name::RegistryRef;

/// How to reach one registry: the user's flags (`--creds`, `--cert-dir`,
/// `--tls-verify`); what is not given comes from Docker's config and defaults.
#[derive(Clone, Debug, Default)]
pub struct Access {
    pub credentials: Option<Credentials>,
    /// `*.crt` CAs (added to the system's) and a `*.cert`/`*.key` client certificate.
    pub cert_dir: Option<PathBuf>,
    /// `Some(false)`: skip certificate checks and allow plain HTTP, for any registry.
    pub tls_verify: Option<bool>,
}

/// How long registry requests may take (`--registry-timeout`, `--registry-min-rate`),
/// so that a registry that stalls or trickles fails the command instead of holding it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// No request takes longer, from connecting (retries included) to the last byte of
    /// its answer; a blob's body, which may rightly take long, has `min_rate` instead.
    pub deadline: Duration,
    /// Bytes per second a blob's body (download or upload) must keep up, over each
    /// [`Timeouts::window`]; 0 for no minimum.
    pub min_rate: u64,
}

impl Timeouts {
    /// 5 minutes for a request; 1 KiB/s for a blob.
    pub const DEFAULT: Timeouts = Timeouts {
        deadline: Duration::from_secs(300),
        min_rate: 1024,
    };

    /// The span over which the rate is measured, and the longest one read or write
    /// may wait: 30 seconds, or the deadline when that is shorter.
    pub fn window(&self) -> Duration {
        self.deadline.min(Duration::from_secs(30))
    }
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts::DEFAULT
    }
}

/// Access for every registry, and for some by host (`pare copy`'s `--src-creds`,
/// `--dest-creds`), and the timeouts of every request.
#[derive(Clone, Debug, Default)]
pub struct Settings {
    pub default: Access,
    pub by_registry: HashMap<String, Access>,
    pub timeouts: Timeouts,
}

/// How one command reaches registries: its [`Settings`], and the clients connected so
/// far, by registry, so a command that reads and writes the same registry pings it and
/// fetches tokens once. Held by a [`crate::ReadContext`]; a new one starts with no
/// connections.
#[derive(Default)]
pub struct Registries {
    settings: Settings,
    clients: Mutex<HashMap<String, Arc<Client>>>,
}

impl Registries {
    /// Registries reached as `settings` say, none connected yet.
    pub fn new(settings: Settings) -> Self {
        Registries {
            settings,
            clients: Mutex::new(HashMap::new()),
        }
    }

    /// How registries are reached.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The access configured for `registry`: its own (`pare copy`'s `--src-*` and
    /// `--dest-*` flags), else the default.
    pub fn access_for(&self, registry: &str) -> &Access {
        self.settings
            .by_registry
            .get(registry)
            .unwrap_or(&self.settings.default)
    }

    /// A connected client for `reference`'s registry (connected once per
    /// `Registries`).
    pub fn client_for(&self, reference: &RegistryRef) -> crate::Result<Arc<Client>> {
        let key = reference.registry.clone();
        let cached = |clients: &Mutex<HashMap<String, Arc<Client>>>| {
            clients
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get(&key)
                .cloned()
        };
        if let Some(client) = cached(&self.clients) {
            return Ok(client);
        }
        let client = Arc::new(Client::connect(
            reference,
            self.access_for(&key),
            self.settings.timeouts,
        )?);
        self.clients
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key, client.clone());
        Ok(client)
    }
}

impl std::fmt::Debug for Registries {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let connected: Vec<String> = self
            .clients
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .keys()
            .cloned()
            .collect();
        f.debug_struct("Registries")
            .field("settings", &self.settings)
            .field("connected", &connected)
            .finish()
    }
}
