//! Copying an image from any transport to any other, as `skopeo copy` does: the
//! blobs as stored (so their digests, and the manifest's, stay the same wherever the
//! bytes are unchanged), each checked against its digest on the way.

use std::path::Path;

use crate::error::{ImageError, Result};
use crate::reference::ImageRef;

pub use crate::parts::{BlobInfo, Copied, Parts};

/// Copies `source` to `destination`. `work` holds what must be spooled (an image
/// exported from the engine or Podman); the caller removes it.
pub fn copy(source: &ImageRef, destination: &ImageRef, work: &Path) -> Result<Copied> {
    if source == destination {
        return Err(ImageError::BadReference {
            reference: destination.to_string(),
            reason: "the destination is the source".into(),
        });
    }
    let image = crate::open_image(source, Some(work))?;
    let parts = Parts::of_image(&image)?;
    let mut copied = crate::write::write(&parts, destination)?;
    copied.source = source.to_string();
    Ok(copied)
}
