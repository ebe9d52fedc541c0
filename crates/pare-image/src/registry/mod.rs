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
use std::sync::{Arc, Mutex, RwLock};
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

static SETTINGS: RwLock<Option<Arc<Settings>>> = RwLock::new(None);

/// Connected clients by registry, so a command that reads and writes the same
/// registry pings it and fetches tokens once.
static CLIENTS: Mutex<Option<HashMap<String, Arc<Client>>>> = Mutex::new(None);

/// Sets how every later request reaches registries: the command line's choice for the
/// whole command, like the layer expansion limit, rather than a parameter threaded
/// through every reader.
pub fn configure(settings: Settings) {
    if let Ok(mut s) = SETTINGS.write() {
        *s = Some(Arc::new(settings));
    }
    if let Ok(mut c) = CLIENTS.lock() {
        *c = None;
    }
}

/// Sets how one registry is reached, over the default (`pare copy`'s `--src-*` and
/// `--dest-*` flags).
pub fn set_access(registry: &str, access: Access) {
    if let Ok(mut s) = SETTINGS.write() {
        let mut settings = s.as_deref().cloned().unwrap_or_default();
        settings.by_registry.insert(registry.to_owned(), access);
        *s = Some(Arc::new(settings));
    }
    if let Ok(mut c) = CLIENTS.lock() {
        *c = None;
    }
}

/// The access configured for `registry`.
pub(crate) fn access_for(registry: &str) -> Access {
    let settings = SETTINGS.read().ok().and_then(|s| s.clone());
    settings
        .map(|s| {
            s.by_registry
                .get(registry)
                .cloned()
                .unwrap_or_else(|| s.default.clone())
        })
        .unwrap_or_default()
}

/// The timeouts configured for every registry.
pub(crate) fn timeouts() -> Timeouts {
    SETTINGS
        .read()
        .ok()
        .and_then(|s| s.as_ref().map(|s| s.timeouts))
        .unwrap_or_default()
}

/// A connected client for `reference`'s registry (connected once per command).
pub fn client_for(reference: &RegistryRef) -> crate::Result<Arc<Client>> {
    let key = reference.registry.clone();
    if let Some(client) = CLIENTS
        .lock()
        .ok()
        .and_then(|c| c.as_ref().and_then(|m| m.get(&key).cloned()))
    {
        return Ok(client);
    }
    let client = Arc::new(Client::connect(reference, &access_for(&key))?);
    if let Ok(mut c) = CLIENTS.lock() {
        c.get_or_insert_with(HashMap::new)
            .insert(key, client.clone());
    }
    Ok(client)
}
