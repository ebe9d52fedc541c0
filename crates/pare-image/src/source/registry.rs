//! A registry as a store (`docker://`): the manifest resolved by tag or digest (an
//! index to the wanted platform), the config fetched and checked, and each layer blob
//! streamed from the registry straight into the one-pass reader, which checks its
//! digest as it goes. Nothing is written to disk; a blob cut off mid-way is picked up
//! where it stopped with a range request.

use std::io::{self, Read};
use std::sync::Arc;
use std::time::Instant;

use ureq::http;

use super::{BlobPlace, LayerPlan, LayerStore, Resolved, SMALL_BLOB_LIMIT, Store};
use crate::digest::{CheckedReader, Digest};
use crate::error::{ImageError, Result};
use crate::layer::{ParsedLayer, ReadOptions, read_layer};
use crate::platform::Platform;
use crate::registry::client::{Call, MANIFEST_ACCEPT, MANIFEST_LIMIT, content_length};
use crate::registry::pace::{Pace, Slow};
use crate::registry::{Client, Registries, RegistryRef};

/// How often a blob cut off mid-way is resumed before giving up.
const RESUMES: u32 = 3;

/// One repository of a registry, and the platform to pick from its indexes.
pub(crate) struct RegistryStore {
    client: Arc<Client>,
    reference: RegistryRef,
    platform: Platform,
}

impl RegistryStore {
    pub fn connect(
        registries: &Registries,
        reference: &RegistryRef,
        platform: Platform,
    ) -> Result<Self> {
        Ok(RegistryStore {
            client: registries.client_for(reference)?,
            reference: reference.clone(),
            platform,
        })
    }

    /// Fetches the manifest the reference names and resolves the image.
    pub fn resolve(&self) -> Result<Resolved> {
        let wanted = self.reference.reference();
        let repository = &self.reference.repository;
        let mut call = Call::new(
            http::Method::GET,
            format!("/v2/{repository}/manifests/{wanted}"),
            repository,
            format!("fetching manifest {wanted}"),
        );
        call.headers.push(("Accept", MANIFEST_ACCEPT.join(", ")));
        let response = self.client.send(&call)?;
        match response.status().as_u16() {
            200 => {}
            404 => {
                let separator = if wanted.starts_with("sha256:") {
                    '@'
                } else {
                    ':'
                };
                return Err(ImageError::NotFound {
                    name: format!("{repository}{separator}{wanted}"),
                    looked_in: format!(" in registry {}", self.reference.registry),
                });
            }
            status => return Err(self.client.status_error(&call, status, response)),
        }
        let header_type = response
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or(v).trim().to_owned());
        let bytes = self.client.read_small(&call, response, MANIFEST_LIMIT)?;
        let digest = Digest::of(&bytes);
        if let Some(want) = self.reference.digest.as_ref().filter(|w| **w != digest) {
            return Err(ImageError::DigestMismatch {
                place: self.place(""),
                expected: want.to_string(),
                actual: digest.to_string(),
            });
        }
        let media_type = media_type_of(header_type, &bytes);
        let (manifest, raw, digest) =
            super::parse_manifest(self, bytes, media_type, digest, &self.platform, 0)?;
        let mut resolved = super::resolve_manifest(self, &manifest, raw, digest)?;
        resolved.repo_tags = self
            .reference
            .tag
            .iter()
            .map(|t| format!("{}/{}:{t}", self.reference.registry, repository))
            .collect();
        Ok(resolved)
    }

    /// A reader of the blob's bytes from the registry, resuming where a broken
    /// transfer stopped.
    fn blob(&self, digest: &Digest, size: Option<u64>) -> BlobReader {
        BlobReader {
            client: self.client.clone(),
            repository: self.reference.repository.clone(),
            digest: digest.clone(),
            size,
            offset: 0,
            body: None,
            resumes: RESUMES,
            pace: Pace::new(self.client.timeouts()),
            too_slow: None,
        }
    }

    fn small_blob(&self, name: &str, manifest: bool) -> Result<Option<Vec<u8>>> {
        let Some(digest) = super::digest_from_blob_name(name) else {
            return Ok(None);
        };
        let repository = &self.reference.repository;
        let (kind, limit) = if manifest {
            ("manifests", MANIFEST_LIMIT)
        } else {
            ("blobs", SMALL_BLOB_LIMIT)
        };
        let mut call = Call::new(
            http::Method::GET,
            format!("/v2/{repository}/{kind}/{digest}"),
            repository,
            format!(
                "fetching {} {digest}",
                if manifest { "manifest" } else { "blob" }
            ),
        );
        if manifest {
            call.headers.push(("Accept", MANIFEST_ACCEPT.join(", ")));
        }
        let response = if manifest {
            self.client.send(&call)?
        } else {
            self.client.get_blob(repository, &digest, 0, false)?
        };
        match response.status().as_u16() {
            200 => Ok(Some(self.client.read_small(&call, response, limit)?)),
            404 => Ok(None),
            status => Err(self.client.status_error(&call, status, response)),
        }
    }
}

/// The media type of a manifest: the `Content-Type` the registry sent when it is one
/// pare knows, else the document's own `mediaType` (or an index's shape).
fn media_type_of(header: Option<String>, bytes: &[u8]) -> String {
    if let Some(h) =
        header.filter(|h| super::is_index_media_type(h) || super::is_manifest_media_type(h))
    {
        return h;
    }
    #[derive(serde::Deserialize)]
    struct Peek {
        #[serde(rename = "mediaType")]
        media_type: Option<String>,
        manifests: Option<serde_json::Value>,
        #[serde(rename = "schemaVersion")]
        schema_version: Option<u64>,
    }
    match serde_json::from_slice::<Peek>(bytes) {
        Ok(Peek {
            media_type: Some(m),
            ..
        }) => m,
        Ok(Peek {
            manifests: Some(_), ..
        }) => "application/vnd.oci.image.index.v1+json".into(),
        Ok(Peek {
            schema_version: Some(1),
            ..
        }) => "application/vnd.docker.distribution.manifest.v1+json (schema 1, retired)".into(),
        _ => "application/vnd.oci.image.manifest.v1+json".into(),
    }
}

impl Store for RegistryStore {
    fn read_small(&self, name: &str) -> Result<Option<Vec<u8>>> {
        self.small_blob(name, false)
    }

    fn read_manifest(&self, name: &str) -> Result<Option<Vec<u8>>> {
        self.small_blob(name, true)
    }

    fn place(&self, name: &str) -> String {
        let repo = format!(
            "docker://{}/{}",
            self.reference.registry, self.reference.repository
        );
        match super::digest_from_blob_name(name) {
            Some(d) => format!("{repo}@{d}"),
            None => format!("docker://{}", self.reference),
        }
    }
}

impl LayerStore for RegistryStore {
    fn read_layers(&self, plans: &[LayerPlan], options: &ReadOptions) -> Result<Vec<ParsedLayer>> {
        // Downloads wait on the network as much as on the cores: a few more than one
        // per core keeps both busy (skopeo runs six).
        super::read_distinct(
            plans,
            super::cores().max(4),
            |plan| BlobPlace {
                key: plan.name.clone(),
                size: plan.expected.blob_size.unwrap_or(0),
            },
            |plan| self.place(&plan.name),
            |plan| {
                let digest = planned_digest(plan)?;
                read_layer(
                    crate::layer::Counted::new(
                        self.blob(&digest, plan.expected.blob_size),
                        options.progress.clone(),
                    ),
                    &self.place(&plan.name),
                    &plan.expected,
                    options,
                )
            },
        )
    }

    fn open_blob(&self, plan: &LayerPlan) -> Result<(Box<dyn Read + Send>, u64)> {
        let digest = planned_digest(plan)?;
        let size = plan.expected.blob_size.ok_or_else(|| {
            ImageError::manifest(self.place(&plan.name), "the manifest gives no size")
        })?;
        let reader = CheckedReader::new(
            self.blob(&digest, Some(size)),
            digest,
            Some(size),
            self.place(&plan.name),
        );
        Ok((Box::new(reader), size))
    }
}

fn planned_digest(plan: &LayerPlan) -> Result<Digest> {
    plan.expected
        .blob_digest
        .clone()
        .ok_or_else(|| ImageError::manifest(&plan.name, "no digest for the layer"))
}

/// A blob streamed from the registry. A transfer that breaks is resumed from the
/// last byte received (a `Range` request), a few times; a registry that then sends
/// the whole blob again instead of the rest is an error, not silently re-read. One
/// that sends slower than the minimum rate is an error too.
pub(crate) struct BlobReader {
    client: Arc<Client>,
    repository: String,
    digest: Digest,
    size: Option<u64>,
    offset: u64,
    body: Option<ureq::BodyReader<'static>>,
    resumes: u32,
    pace: Pace,
    /// Set once the blob came too slowly: every later read fails the same way (a
    /// reader that reads on to the end after an error must not see the rest).
    too_slow: Option<Slow>,
}

impl BlobReader {
    fn open(&mut self) -> Result<ureq::BodyReader<'static>> {
        let response = self
            .client
            .get_blob(&self.repository, &self.digest, self.offset, true)?;
        let status = response.status().as_u16();
        let call = || {
            Call::new(
                http::Method::GET,
                String::new(),
                &self.repository,
                format!("fetching blob {}", self.digest),
            )
        };
        match status {
            200 if self.offset == 0 => {}
            206 if self.offset > 0 => {}
            404 => {
                return Err(ImageError::MissingBlob {
                    place: format!("docker://{}/{}", self.client.registry(), self.repository),
                    digest: self.digest.to_string(),
                });
            }
            _ => return Err(self.client.status_error(&call(), status, response)),
        }
        let remaining = self.size.map(|s| s.saturating_sub(self.offset));
        if let (Some(remaining), Some(sent)) = (remaining, content_length(&response))
            && sent > remaining
        {
            return Err(ImageError::manifest(
                format!("docker://{}/{}", self.client.registry(), self.repository),
                format!(
                    "blob {} is {} bytes long per the manifest but the registry sends {sent} more from byte {}",
                    self.digest,
                    self.size.unwrap_or_default(),
                    self.offset
                ),
            ));
        }
        Ok(response
            .into_body()
            .into_with_config()
            .limit(remaining.unwrap_or(u64::MAX))
            .reader())
    }
}

impl Read for BlobReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(slow) = &self.too_slow {
            let action = format!("fetching blob {}", self.digest);
            return Err(slow.io_error(self.client.registry(), &action));
        }
        loop {
            let body = match &mut self.body {
                Some(body) => body,
                None => {
                    let opened = self.open().map_err(io::Error::other)?;
                    self.body.insert(opened)
                }
            };
            let started = Instant::now();
            match body.read(buf) {
                Ok(n) => {
                    self.offset += n as u64;
                    // These bytes are good; the next read reports the slowness.
                    self.too_slow = self.pace.record(n, started.elapsed()).err();
                    return Ok(n);
                }
                Err(e) if self.resumes > 0 && crate::registry::client::transient_io(&e) => {
                    self.resumes -= 1;
                    self.body = None;
                }
                Err(e) => return Err(e),
            }
        }
    }
}
