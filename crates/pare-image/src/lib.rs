//! pare-image: reads container images from any transport into one index.
//!
//! `read_image` resolves a reference, checks every digest, streams each layer once
//! (decompressing several at a time where the store allows), and folds the layers into
//! a [`FileIndex`]. Nothing from an image is written to disk.

pub mod config;
pub mod digest;
pub mod error;
pub mod index;
pub mod layer;
pub mod path;
pub mod reference;
pub mod source;
#[doc(hidden)]
pub mod testutil;

use serde::Serialize;

pub use config::{History, ImageConfig, RunConfig};
pub use digest::Digest;
pub use error::{ImageError, Result};
pub use index::{FileIndex, Node};
pub use layer::{Compression, EntryKind, ReadOptions};
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

/// Reads an image through its transport into an index.
pub fn read_image(reference: &ImageRef, options: &ReadOptions) -> Result<ImageRead> {
    let (resolved, parsed) = match reference {
        ImageRef::DockerDaemon { name } => source::daemon::read(name, options)?,
        ImageRef::DockerArchive { path, name } => {
            let store = source::files::FileStore::archive(path)?;
            let resolved = source::resolve(&store, name.as_deref(), true)?;
            let layers = store.read_layers(&resolved.layers, options)?;
            (resolved, layers)
        }
        ImageRef::OciArchive { path, tag } => {
            let store = source::files::FileStore::archive(path)?;
            let resolved = source::resolve(&store, tag.as_deref(), false)?;
            let layers = store.read_layers(&resolved.layers, options)?;
            (resolved, layers)
        }
        ImageRef::OciLayout { dir, tag } => {
            if !dir.is_dir() {
                return Err(ImageError::NotFound {
                    name: dir.display().to_string(),
                    hint: ": no such OCI layout directory".into(),
                });
            }
            let store = source::files::FileStore::layout(dir)?;
            let resolved = source::resolve(&store, tag.as_deref(), false)?;
            let layers = store.read_layers(&resolved.layers, options)?;
            (resolved, layers)
        }
        ImageRef::Registry { reference } => {
            return Err(ImageError::BadReference {
                reference: format!("docker://{reference}"),
                reason: "reading from a registry is not supported yet; pull it first \
                         (docker pull) and use docker-daemon:, or copy it with skopeo to oci:DIR"
                    .into(),
            });
        }
    };
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
    Ok(ImageRead {
        reference: reference.clone(),
        resolved,
        layers,
        index,
    })
}
