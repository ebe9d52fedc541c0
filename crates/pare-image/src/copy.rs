//! Copying an image from any transport to any other, as `skopeo copy` does: the
//! blobs as stored (so their digests, and the manifest's, stay the same wherever the
//! bytes are unchanged), each checked against its digest on the way.

use std::path::Path;

use crate::context::ReadContext;
use crate::error::{ImageError, Result};
use crate::reference::ImageRef;

pub use crate::parts::{BlobInfo, Copied, Parts};

/// Copies `source` to `destination`, registries reached and an index's platform
/// picked as `context` says. `work` holds what must be spooled (an image exported
/// from the engine or Podman); the caller removes it.
pub fn copy(
    context: &ReadContext,
    source: &ImageRef,
    destination: &ImageRef,
    work: &Path,
) -> Result<Copied> {
    if source == destination {
        return Err(ImageError::BadReference {
            reference: destination.to_string(),
            reason: "the destination is the source".into(),
        });
    }
    let image = crate::open_image(context, source, Some(work))?;
    let parts = Parts::of_image(&image)?;
    let mut copied = crate::write::write(context, &parts, destination)?;
    copied.source = source.to_string();
    Ok(copied)
}
