//! An image as the blobs a destination stores: its manifest, config and layers, each
//! with its digest, size and media type, and where the layers' bytes come from. Every
//! writer ([`crate::write`], the registry push, referrers) takes these; copying is one
//! use of them, building a slim image another.

use std::io::Read;

use crate::OpenImage;
use crate::digest::{CheckedReader, Digest, HashingReader};
use crate::error::{ImageError, Result};
use crate::layer::Compression;
use crate::reference::ImageRef;
use crate::registry::RegistryRef;
use crate::source::RawManifest;

/// A blob as a manifest lists it.
#[derive(Clone, Debug)]
pub struct BlobInfo {
    pub digest: Digest,
    pub size: u64,
    pub media_type: String,
}

impl BlobInfo {
    /// The descriptor a manifest lists the blob by.
    pub fn descriptor(&self) -> oci_spec::image::Descriptor {
        oci_spec::image::Descriptor::new(
            self.media_type.as_str().into(),
            self.size,
            self.digest.to_oci(),
        )
    }
}

/// Where the layer bytes of [`Parts`] come from.
enum Layers<'a> {
    Image(&'a OpenImage),
    Memory(Vec<&'a [u8]>),
}

/// An image as the blobs a destination stores: the manifest (the source's own when
/// it had one), the config as stored, and the layers.
pub struct Parts<'a> {
    pub manifest: RawManifest,
    pub manifest_digest: Digest,
    pub config: Vec<u8>,
    pub config_info: BlobInfo,
    pub layers: Vec<BlobInfo>,
    /// The registry the image came from, for a cross-repository mount when pushing
    /// to another repository of the same registry.
    pub origin: Option<RegistryRef>,
    source: Layers<'a>,
}

impl<'a> Parts<'a> {
    /// The parts of an opened image. A store without a manifest (`docker save`
    /// archives, the engine, Podman) gets an OCI manifest made for it; a layer whose
    /// digest the store does not give is hashed first (a `docker save` layer is an
    /// uncompressed tar, whose digest is its diff_id, so that is seldom needed).
    pub fn of_image(image: &'a OpenImage) -> Result<Self> {
        let resolved = &image.resolved;
        let origin = match &image.reference {
            ImageRef::Registry { reference } => Some(reference.clone()),
            _ => None,
        };
        if let (Some(manifest), Some(manifest_digest)) =
            (&resolved.manifest, &resolved.manifest_digest)
        {
            let parsed: oci_spec::image::ImageManifest = serde_json::from_slice(&manifest.bytes)
                .map_err(|e| {
                    ImageError::json(image.reference.to_string(), "not a valid image manifest", e)
                })?;
            let info = |d: &oci_spec::image::Descriptor| -> Result<BlobInfo> {
                Ok(BlobInfo {
                    digest: crate::source::descriptor_digest(d, &image.reference.to_string())?,
                    size: d.size(),
                    media_type: d.media_type().to_string(),
                })
            };
            return Ok(Parts {
                manifest: manifest.clone(),
                manifest_digest: manifest_digest.clone(),
                config: resolved.config_bytes.clone(),
                config_info: info(parsed.config())?,
                layers: parsed.layers().iter().map(info).collect::<Result<_>>()?,
                origin,
                source: Layers::Image(image),
            });
        }
        let mut layers = Vec::new();
        for (i, plan) in resolved.layers.iter().enumerate() {
            let place = format!("{}: layer {i}", image.reference);
            let (mut blob, size) = image.layer_blob(i)?;
            let mut head = [0u8; 4];
            let got = crate::digest::read_up_to(&mut blob, &mut head)
                .map_err(|e| ImageError::io(&place, e))?;
            let compression = Compression::sniff(&head[..got]);
            let digest = match (
                &plan.expected.blob_digest,
                compression,
                &plan.expected.diff_id,
            ) {
                (Some(d), _, _) => d.clone(),
                (None, Compression::None, Some(diff_id)) => diff_id.clone(),
                _ => {
                    let (d, _) = HashingReader::new((&head[..got]).chain(blob))
                        .finish()
                        .map_err(|e| ImageError::io(&place, e))?;
                    d
                }
            };
            layers.push(BlobInfo {
                digest,
                size,
                media_type: match compression {
                    Compression::None => "application/vnd.oci.image.layer.v1.tar",
                    Compression::Gzip => "application/vnd.oci.image.layer.v1.tar+gzip",
                    Compression::Zstd => "application/vnd.oci.image.layer.v1.tar+zstd",
                }
                .into(),
            });
        }
        Ok(Parts::with_oci_manifest(
            resolved.config_bytes.clone(),
            layers,
            origin,
            Layers::Image(image),
        ))
    }

    /// The parts of an image held in memory (`pare build`'s slim image): its config
    /// and layers as stored, each with its media type and the digest the caller
    /// computed from those bytes (trusted: they are not hashed again), with an OCI
    /// manifest.
    pub fn in_memory(config: Vec<u8>, layers: Vec<(&'a [u8], &str, Digest)>) -> Self {
        let infos = layers
            .iter()
            .map(|(bytes, media_type, digest)| BlobInfo {
                digest: digest.clone(),
                size: bytes.len() as u64,
                media_type: (*media_type).to_owned(),
            })
            .collect();
        let bytes = layers.into_iter().map(|(b, _, _)| b).collect();
        Parts::with_oci_manifest(config, infos, None, Layers::Memory(bytes))
    }

    fn with_oci_manifest(
        config: Vec<u8>,
        layers: Vec<BlobInfo>,
        origin: Option<RegistryRef>,
        source: Layers<'a>,
    ) -> Self {
        let config_info = BlobInfo {
            digest: Digest::of(&config),
            size: config.len() as u64,
            media_type: "application/vnd.oci.image.config.v1+json".into(),
        };
        let manifest = oci_spec::image::ImageManifestBuilder::default()
            .schema_version(2u32)
            .media_type(oci_spec::image::MediaType::ImageManifest)
            .config(config_info.descriptor())
            .layers(layers.iter().map(BlobInfo::descriptor).collect::<Vec<_>>())
            .build()
            .expect("a manifest with its schema version, config and layers set builds");
        let bytes = serde_json::to_vec(&manifest).expect("a manifest always serialises");
        Parts {
            manifest_digest: Digest::of(&bytes),
            manifest: RawManifest {
                bytes,
                media_type: "application/vnd.oci.image.manifest.v1+json".into(),
            },
            config,
            config_info,
            layers,
            origin,
            source,
        }
    }

    /// Layer `i`'s stored bytes; those read from a store are checked against their
    /// digest and size as they pass (the last read fails when they do not match).
    pub fn open_layer(&self, i: usize) -> Result<Box<dyn Read + Send + '_>> {
        let info = &self.layers[i];
        let inner = match &self.source {
            Layers::Image(image) => image.layer_blob(i)?.0,
            // Bytes this process made and hashed itself (`pare build`'s slim layer): a
            // second pass over them would only cost time.
            Layers::Memory(bytes) => return Ok(Box::new(bytes[i])),
        };
        Ok(Box::new(CheckedReader::new(
            inner,
            info.digest.clone(),
            Some(info.size),
            format!("blob {}", info.digest),
        )))
    }
}

/// What a copy did.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Copied {
    pub source: String,
    pub destination: String,
    /// The manifest's digest where it was written (the same as the source's when the
    /// source had one).
    pub manifest_digest: Option<String>,
    /// Blobs written, found already there, and mounted from another repository.
    pub blobs_written: usize,
    pub blobs_present: usize,
    pub blobs_mounted: usize,
    pub bytes_written: u64,
    /// Referrers copied along (`--all-referrers`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub referrers: Option<usize>,
}
