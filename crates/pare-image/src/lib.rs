//! pare-image: reads container images from any transport into one index.
//!
//! `read_image` resolves a reference, checks every digest, streams each layer once
//! (decompressing several at a time where the store allows), and folds the layers into
//! a [`FileIndex`]. Nothing from an image is written to disk. Every reader takes a
//! [`ReadContext`] (layer expansion limit, platform, registry access): the settings of
//! one command, passed rather than set for the whole process, so one process can read
//! two images two ways.

pub mod config;
pub mod context;
pub mod copy;
pub mod digest;
pub mod error;
pub mod gzip;
pub mod index;
pub mod layer;
pub mod parts;
pub mod path;
pub mod platform;
pub mod push;
pub mod reference;
pub mod referrers;
pub mod registry;
pub mod source;
pub mod staging;
#[doc(hidden)]
pub mod testutil;
pub mod unpack;
pub mod write;

use serde::Serialize;

pub use config::{History, ImageConfig, RunConfig};
pub use context::ReadContext;
pub use copy::{Copied, Parts, copy};
pub use digest::Digest;
pub use error::{ImageError, Result};
pub use index::{FileIndex, Node};
pub use layer::{Compression, ContentReducer, EntryKind, ReadOptions};
pub use platform::Platform;
pub use reference::ImageRef;
pub use source::Resolved;

/// Facts about one layer, as read.
#[derive(Clone, Debug, Serialize)]
pub struct LayerSummary {
    pub blob_digest: Digest,
    pub diff_id: Digest,
    pub media_type: Option<String>,
    pub compression: Compression,
    /// Bytes as stored (compressed).
    pub blob_size: u64,
    /// Bytes of the uncompressed tar.
    pub tar_size: u64,
    pub entries: usize,
}

/// An image, read.
#[derive(Debug)]
pub struct ImageRead {
    pub reference: ImageRef,
    pub resolved: Resolved,
    pub layers: Vec<LayerSummary>,
    pub index: FileIndex,
}

/// Reads an image through its transport into an index, under `context`'s limits,
/// platform and registry access. Images in the Docker engine, in Podman's store and in
/// a registry are streamed (nothing is written to disk); use [`open_image`] to read
/// one twice.
pub fn read_image(
    context: &ReadContext,
    reference: &ImageRef,
    options: &ReadOptions,
) -> Result<ImageRead> {
    let platform = context.platform();
    let limited = context.limit(options);
    let (resolved, parsed) = match reference {
        ImageRef::DockerDaemon { name } => match in_engine_storage(context, reference, name) {
            Ok(opened) => return opened.read(options),
            Err(_) => source::daemon::read(name, &limited, &platform)?,
        },
        ImageRef::ContainersStorage { name, store } => {
            source::podman::read(name, store.as_ref(), &limited, &platform)?
        }
        _ => return open_image(context, reference, None)?.read(options),
    };
    Ok(ImageRead::fold(reference.clone(), resolved, parsed))
}

/// An image whose blobs can be read as often as needed (`pare build` reads the layers
/// once to index them and again to copy the files it keeps).
pub struct OpenImage {
    pub reference: ImageRef,
    pub resolved: Resolved,
    store: Box<dyn source::LayerStore>,
    /// What it was opened with; every read of it keeps to its limits.
    context: ReadContext,
    /// For an image in the Docker engine that [`open_and_read`] exported rather than
    /// read in place from the engine's storage: why it could not.
    pub exported: Option<String>,
}

/// Opens an image for repeated reads. An image in the Docker engine is read in place
/// from the engine's storage where it can be (see `source::engine_storage`); otherwise
/// it, or one in Podman's store, is exported once into `spool_dir` (required for
/// those transports); one in a
/// registry is pulled into it as an OCI layout when a spool directory is given (a
/// container will run from it, so its layers are read several times), else its blobs
/// are streamed from the registry at each read. The caller owns and removes the spool.
/// `context` gives the platform picked from an index, the registry access, and the
/// limits of every later read.
pub fn open_image(
    context: &ReadContext,
    reference: &ImageRef,
    spool_dir: Option<&std::path::Path>,
) -> Result<OpenImage> {
    let needs_spool = || {
        spool_dir.ok_or_else(|| ImageError::BadReference {
            reference: reference.to_string(),
            reason: "reading this transport twice needs a spool directory".into(),
        })
    };
    let (store, wanted, prefer_docker) = match reference {
        ImageRef::DockerDaemon { name } => {
            if let Ok(opened) = in_engine_storage(context, reference, name) {
                return Ok(opened);
            }
            let path = needs_spool()?.join("image.tar");
            source::daemon::export_to(name, &path)?;
            (
                source::files::FileStore::archive(&path, "a `docker save` archive")?,
                None,
                true,
            )
        }
        ImageRef::ContainersStorage { name, store } => {
            let path = needs_spool()?.join("image.tar");
            source::podman::save_to(name, store.as_ref(), &path)?;
            (
                source::files::FileStore::archive(&path, "a `docker save` archive")?,
                None,
                true,
            )
        }
        ImageRef::DockerArchive { path, name } => (
            source::files::FileStore::archive(path, "a `docker save` archive")?,
            name.as_deref(),
            true,
        ),
        ImageRef::OciArchive { path, tag } => (
            source::files::FileStore::archive(path, "an OCI archive")?,
            tag.as_deref(),
            false,
        ),
        ImageRef::OciLayout { dir, tag } => {
            if !dir.is_dir() {
                return Err(ImageError::NotFound {
                    name: dir.display().to_string(),
                    looked_in: ": no such OCI layout directory".into(),
                });
            }
            (
                source::files::FileStore::layout(dir)?,
                tag.as_deref(),
                false,
            )
        }
        ImageRef::Registry { reference: name } => {
            let store = source::registry::RegistryStore::connect(
                context.registries(),
                name,
                context.platform(),
            )?;
            let streamed = OpenImage {
                reference: reference.clone(),
                resolved: store.resolve()?,
                store: Box::new(store),
                context: context.clone(),
                exported: None,
            };
            return match spool_dir {
                None => Ok(streamed),
                Some(dir) => streamed.pulled_into(&dir.join("oci")),
            };
        }
    };
    let resolved = source::resolve(&store, wanted, prefer_docker, &context.platform())?;
    Ok(OpenImage {
        reference: reference.clone(),
        resolved,
        store: Box::new(store),
        context: context.clone(),
        exported: None,
    })
}

/// Opens an image for repeated reads and reads it once with `options`. An image in
/// the Docker engine is read in place from the engine's storage where it can be;
/// otherwise it is exported once: the stream is indexed as it passes and spooled
/// into `spool_dir` at the same time, so the later reads come from the spool and the
/// export is never written first and read back.
pub fn open_and_read(
    context: &ReadContext,
    reference: &ImageRef,
    spool_dir: &std::path::Path,
    options: &ReadOptions,
) -> Result<(OpenImage, ImageRead)> {
    if let ImageRef::DockerDaemon { name } = reference {
        let not_in_place = match in_engine_storage(context, reference, name) {
            Ok(opened) => {
                let read = opened.read(options)?;
                return Ok((opened, read));
            }
            Err(why) => why,
        };
        let path = spool_dir.join("image.tar");
        let (resolved, parsed) = source::daemon::read_spooling(
            name,
            Some(&path),
            &context.limit(options),
            &context.platform(),
        )?;
        let store = source::files::FileStore::archive(&path, "a `docker save` archive")?;
        let opened = OpenImage {
            reference: reference.clone(),
            resolved: resolved.clone(),
            store: Box::new(store),
            context: context.clone(),
            exported: Some(not_in_place),
        };
        return Ok((opened, ImageRead::fold(reference.clone(), resolved, parsed)));
    }
    let opened = open_image(context, reference, Some(spool_dir))?;
    let read = opened.read(options)?;
    Ok((opened, read))
}

/// The engine image `name` opened in the engine's own storage, or why it cannot be
/// (the caller then exports it).
fn in_engine_storage(
    context: &ReadContext,
    reference: &ImageRef,
    name: &str,
) -> std::result::Result<OpenImage, String> {
    let (resolved, storage) = source::engine_storage::open(name)?;
    Ok(OpenImage {
        reference: reference.clone(),
        resolved,
        store: Box::new(storage),
        context: context.clone(),
        exported: None,
    })
}

/// About how many bytes reading `reference` reads (its layers as stored; an engine
/// image's size), for a progress display; `None` when that cannot be known cheaply.
pub fn expected_read_size(context: &ReadContext, reference: &ImageRef) -> Option<u64> {
    match reference {
        ImageRef::DockerDaemon { name } => source::daemon::image_size(name),
        _ => open_image(context, reference, None)
            .ok()
            .map(|o| o.layers_size()),
    }
}

impl OpenImage {
    /// The stored bytes of its layers.
    pub fn layers_size(&self) -> u64 {
        self.store.layers_size(&self.resolved.layers)
    }

    /// Reads every layer (several at once) and folds them into an index, under the
    /// limits of the context it was opened with.
    pub fn read(&self, options: &ReadOptions) -> Result<ImageRead> {
        let parsed = self.read_layers(options)?;
        Ok(ImageRead::fold(
            self.reference.clone(),
            self.resolved.clone(),
            parsed,
        ))
    }

    /// The stored bytes of layer `i` (bottom first) as the store holds them, still
    /// compressed, and their size: for handing the image on (to the Docker engine)
    /// without unpacking it. Their digests were checked when the layers were read.
    pub fn layer_blob(&self, i: usize) -> Result<(Box<dyn std::io::Read + Send>, u64)> {
        let plan = self
            .resolved
            .layers
            .get(i)
            .ok_or_else(|| ImageError::BadReference {
                reference: self.reference.to_string(),
                reason: format!("the image has no layer {i}"),
            })?;
        self.store.open_blob(plan)
    }

    /// `index` (from an earlier read of this image) with the bytes of its regular
    /// files in `wanted` as content, and no other content. A store that can open one
    /// file of a layer (the engine's storage) reads just those, each checked against
    /// the size and content hash the earlier read recorded; any other store, or any
    /// file that does not match, means reading every layer again, digests checked.
    pub fn with_contents(
        &self,
        index: &FileIndex,
        wanted: &std::collections::BTreeSet<String>,
    ) -> Result<FileIndex> {
        if let Some(filled) = self.contents_in_place(index, wanted) {
            return Ok(filled);
        }
        let wanted = std::sync::Arc::new(wanted.clone());
        let read = self.read(&ReadOptions {
            keep_content: Some(std::sync::Arc::new(move |p: &str, _| wanted.contains(p))),
            ..Default::default()
        })?;
        Ok(read.index)
    }

    /// [`OpenImage::with_contents`] from single files, or `None` when the store cannot
    /// or a file is not what the index says.
    fn contents_in_place(
        &self,
        index: &FileIndex,
        wanted: &std::collections::BTreeSet<String>,
    ) -> Option<FileIndex> {
        // Every file first: a store that cannot, or a file that differs, costs no
        // copy of the index.
        let mut contents = Vec::new();
        for path in wanted {
            let Some(node) = index.nodes.get(path) else {
                continue;
            };
            if node.kind != EntryKind::File || node.size == 0 {
                continue;
            }
            let plan = self.resolved.layers.get(node.layer)?;
            let bytes = self.store.read_file(plan, path)?.ok()?;
            let same = bytes.len() as u64 == node.size
                && node.content_hash == Some(xxhash_rust::xxh3::xxh3_128(&bytes));
            if !same {
                return None;
            }
            contents.push((path, bytes));
        }
        let mut filled = index.clone();
        for node in filled.nodes.values_mut() {
            node.content = None;
        }
        for (path, bytes) in contents {
            if let Some(node) = filled.nodes.get_mut(path) {
                node.content = Some(bytes.into());
            }
        }
        Some(filled)
    }

    /// Reads every layer without folding, under the limits of the context it was
    /// opened with.
    pub fn read_layers(&self, options: &ReadOptions) -> Result<Vec<layer::ParsedLayer>> {
        self.store
            .read_layers(&self.resolved.layers, &self.context.limit(options))
    }

    /// Copies the image's blobs into an OCI layout at `dir` (each checked on the
    /// way) and reads from there from now on.
    fn pulled_into(self, dir: &std::path::Path) -> Result<OpenImage> {
        let parts = Parts::of_image(&self)?;
        write::write(
            &self.context,
            &parts,
            &ImageRef::OciLayout {
                dir: dir.to_owned(),
                tag: None,
            },
        )?;
        Ok(OpenImage {
            store: Box::new(source::files::FileStore::layout(dir)?),
            reference: self.reference,
            resolved: self.resolved,
            context: self.context,
            exported: None,
        })
    }
}

impl ImageRead {
    fn fold(reference: ImageRef, resolved: Resolved, parsed: Vec<layer::ParsedLayer>) -> Self {
        let layers = parsed
            .iter()
            .zip(&resolved.layers)
            .map(|(layer, plan)| LayerSummary {
                blob_digest: layer.blob_digest.clone(),
                diff_id: layer.diff_id.clone(),
                media_type: plan.media_type.clone(),
                compression: layer.compression,
                blob_size: layer.blob_size,
                tar_size: layer.tar_size,
                entries: layer.entries.len(),
            })
            .collect();
        let index = FileIndex::build(parsed);
        ImageRead {
            reference,
            resolved,
            layers,
            index,
        }
    }
}
