//! The image configuration (Docker's and OCI's share one JSON shape).
//!
//! Our own serde types rather than oci-spec's `ImageConfiguration`: Docker configs carry
//! fields OCI leaves out (`Healthcheck`, `OnBuild`, a `null` `config`), and `pare build`
//! must carry every field over unchanged, so unknown fields are kept in `extra`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The whole config blob.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct ImageConfig {
    #[serde(default)]
    pub architecture: String,
    #[serde(default)]
    pub os: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// Docker writes `null` here for images with no settings at all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<RunConfig>,
    #[serde(default)]
    pub rootfs: RootFs,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<History>,
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// How a container of this image runs.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RunConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entrypoint: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cmd: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub working_dir: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exposed_ports: Option<BTreeMap<String, serde_json::Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volumes: Option<BTreeMap<String, serde_json::Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_signal: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<serde_json::Value>,
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// The layer list of the config: `diff_ids` are digests of the uncompressed layer tars.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct RootFs {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub diff_ids: Vec<String>,
}

/// One build step. Steps with `empty_layer` made no layer (ENV, CMD …).
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct History {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub empty_layer: bool,
}

impl ImageConfig {
    /// Parses a config blob; `place` names it in the error.
    pub fn parse(bytes: &[u8], place: &str) -> crate::Result<Self> {
        serde_json::from_slice(bytes)
            .map_err(|e| crate::ImageError::json(place, "config is not valid JSON", e))
    }

    /// The run settings, or empty ones.
    pub fn run(&self) -> RunConfig {
        self.config.clone().unwrap_or_default()
    }

    /// The history entry that made each layer, in layer order.
    pub fn layer_history(&self) -> Vec<Option<&History>> {
        let with_layers: Vec<&History> = self.history.iter().filter(|h| !h.empty_layer).collect();
        (0..self.rootfs.diff_ids.len())
            .map(|i| with_layers.get(i).copied())
            .collect()
    }
}
