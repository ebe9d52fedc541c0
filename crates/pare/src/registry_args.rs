//! The flags every verb that reads or writes images takes for registries and image
//! indexes, made once into the command's [`ReadContext`].

use std::path::PathBuf;

use anyhow::Context;
use pare_image::registry::{Access, Credentials, Settings, Timeouts};
use pare_image::{Platform, ReadContext};

#[derive(clap::Args)]
pub struct RegistryArgs {
    /// Log in to registries as USER:PASSWORD (default: the login `docker login` or
    /// `skopeo login` stored, from $DOCKER_CONFIG/config.json or ~/.docker/config.json
    /// and its credential helpers; else anonymous).
    #[arg(long, global = true, value_name = "USER:PASSWORD")]
    pub creds: Option<String>,
    /// Certificates for registries: *.crt CAs (trusted besides the system's), and a
    /// NAME.cert with NAME.key client certificate. /etc/docker/certs.d/HOST:PORT/ is
    /// read too.
    #[arg(long, global = true, value_name = "DIR")]
    pub cert_dir: Option<PathBuf>,
    /// Check registries' certificates and require HTTPS. By default plain HTTP is
    /// still allowed for loopback registries, as Docker allows it; `--tls-verify`
    /// refuses it there too, `--tls-verify=false` skips both checks everywhere.
    #[arg(long, global = true, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub tls_verify: Option<bool>,
    /// Which image of a multi-platform index to read: OS/ARCH[/VARIANT] (default:
    /// this machine's, e.g. linux/amd64).
    #[arg(long, global = true, value_name = "OS/ARCH[/VARIANT]")]
    pub platform: Option<String>,
    /// The longest a registry request may take, retries included, from connecting to
    /// the last byte of the answer (a layer's body has --registry-min-rate instead):
    /// 90s, 5m, 1h.
    #[arg(long, global = true, value_name = "DURATION", default_value = "5m")]
    pub registry_timeout: String,
    /// The slowest a layer may come from (or go to) a registry, in bytes per second
    /// over each 30 s (or --registry-timeout when shorter): 1KiB, 100k, 1m; 0 for no
    /// minimum.
    #[arg(long, global = true, value_name = "RATE", default_value = "1KiB")]
    pub registry_min_rate: String,
}

impl RegistryArgs {
    /// The command's read context: these flags' registry access and platform, and
    /// `--max-layer-expansion`'s `max_layer_expansion`.
    pub fn read_context(&self, max_layer_expansion: u64) -> anyhow::Result<ReadContext> {
        let platform = self
            .platform
            .as_deref()
            .map(Platform::parse)
            .transpose()
            .map_err(anyhow::Error::msg)
            .context("--platform")?;
        Ok(ReadContext::default()
            .with_max_expansion_ratio(max_layer_expansion)
            .with_platform(platform)
            .with_registries(Settings {
                default: access(self.creds.as_deref(), &self.cert_dir, self.tls_verify)?,
                timeouts: self.timeouts()?,
                ..Default::default()
            }))
    }

    fn timeouts(&self) -> anyhow::Result<Timeouts> {
        let deadline = humantime::parse_duration(&self.registry_timeout)
            .ok()
            .filter(|d| !d.is_zero())
            .with_context(|| {
                format!(
                    "--registry-timeout {:?}: expected a duration such as 90s or 5m",
                    self.registry_timeout
                )
            })?;
        let rate = self
            .registry_min_rate
            .trim()
            .trim_end_matches("/s")
            .replace("iB", "");
        let min_rate = match rate.as_str() {
            "0" => 0,
            rate => crate::units::parse_size("--registry-min-rate", rate)?,
        };
        Ok(Timeouts { deadline, min_rate })
    }
}

/// Checked access settings from the flags' values.
pub fn access(
    creds: Option<&str>,
    cert_dir: &Option<PathBuf>,
    tls_verify: Option<bool>,
) -> anyhow::Result<Access> {
    if let Some(dir) = cert_dir.as_ref().filter(|d| !d.is_dir()) {
        anyhow::bail!("--cert-dir {}: not a directory", dir.display());
    }
    Ok(Access {
        credentials: creds
            .map(Credentials::parse_creds)
            .transpose()
            .map_err(anyhow::Error::msg)?,
        cert_dir: cert_dir.clone(),
        tls_verify,
    })
}
