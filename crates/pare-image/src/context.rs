//! What every read of one command shares: how far a layer may expand, which image of
//! a multi-platform index to pick, and how registries are reached (with the
//! connections made so far). The CLI builds one [`ReadContext`] from its flags and
//! hands it to each reader, so nothing is set for the whole process: a library user
//! or a test can read two images in one process with different settings.

use std::sync::Arc;

use crate::layer::{DEFAULT_MAX_EXPANSION_RATIO, ReadOptions};
use crate::platform::Platform;
use crate::registry::{Access, Registries, Settings};

/// The settings of one command's reads. Cloning is cheap and shares the registry
/// connections, so every read of a command reuses them.
#[derive(Clone, Debug)]
pub struct ReadContext {
    max_expansion_ratio: u64,
    platform: Option<Platform>,
    registries: Arc<Registries>,
}

/// Today's defaults: a layer may expand 100 times (at least 1 GiB), this machine's
/// platform, registries reached with Docker's stored logins and default timeouts.
impl Default for ReadContext {
    fn default() -> Self {
        ReadContext {
            max_expansion_ratio: DEFAULT_MAX_EXPANSION_RATIO,
            platform: None,
            registries: Arc::new(Registries::default()),
        }
    }
}

impl ReadContext {
    /// Refuses a layer that expands past `ratio` times its stored size (at least
    /// 1 GiB; the CLI's `--max-layer-expansion`).
    pub fn with_max_expansion_ratio(mut self, ratio: u64) -> Self {
        self.max_expansion_ratio = ratio.max(1);
        self
    }

    /// Picks `platform` from multi-platform indexes (`--platform`); `None`: this
    /// machine's.
    pub fn with_platform(mut self, platform: Option<Platform>) -> Self {
        self.platform = platform;
        self
    }

    /// Reaches registries as `settings` say, with no connection made yet.
    pub fn with_registries(mut self, settings: Settings) -> Self {
        self.registries = Arc::new(Registries::new(settings));
        self
    }

    /// This context with `registry` reached with `access` over the default (`pare
    /// copy`'s `--src-*` and `--dest-*` flags); connections start afresh.
    pub fn with_access(&self, registry: &str, access: Access) -> Self {
        let mut settings = self.registries.settings().clone();
        settings.by_registry.insert(registry.to_owned(), access);
        self.clone().with_registries(settings)
    }

    /// How far a layer may expand, as a multiple of its stored size.
    pub fn max_expansion_ratio(&self) -> u64 {
        self.max_expansion_ratio
    }

    /// The platform to pick from an index: the one asked for, else this machine's.
    pub fn platform(&self) -> Platform {
        self.platform.clone().unwrap_or_else(Platform::host)
    }

    /// How registries are reached, and the clients connected so far.
    pub fn registries(&self) -> &Registries {
        &self.registries
    }

    /// `options` under this context's limits: what an image read passes to the layer
    /// reader whatever limit the caller's options carried.
    pub(crate) fn limit(&self, options: &ReadOptions) -> ReadOptions {
        ReadOptions {
            max_expansion_ratio: self.max_expansion_ratio,
            ..options.clone()
        }
    }
}
