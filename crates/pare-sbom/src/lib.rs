//! pare-sbom: which packages an image holds, and which files each one owns.
//!
//! Catalogers read only the files they declare ([`wanted`]) while pare-image streams
//! the layers once; [`read_options`] sets that up, [`catalog`] then turns the kept
//! bytes into an [`Sbom`]. Nothing here fails on bad metadata: a file that cannot be
//! read becomes a [`Warning`] naming it, and the rest of the SBOM is still produced.
//!
//! ```no_run
//! use pare_image::ImageRef;
//! let image = pare_image::read_image(
//!     &pare_image::ReadContext::default(),
//!     &ImageRef::parse("docker-archive:/tmp/flask.tar").unwrap(),
//!     &pare_sbom::read_options(),
//! ).unwrap();
//! let sbom = pare_sbom::catalog(&image);
//! for p in &sbom.packages {
//!     println!("{} {} {} ({} files)", p.ecosystem, p.name, p.version, p.files.len());
//! }
//! ```

mod apk;
mod base64;
mod binary;
mod catalog;
mod context;
pub mod cyclonedx;
mod distro;
mod dpkg;
mod golang;
mod java;
pub mod license;
mod links;
mod ndb;
mod npm;
pub mod package;
#[cfg(test)]
mod properties;
pub mod purl;
mod python;
mod rfc822;
mod rpm;
mod rust_audit;
pub mod spdx;
mod sqlite;
mod summary;
mod time;
mod unowned;

use std::sync::Arc;

use pare_image::{ImageRead, ReadContext, ReadOptions};

pub use catalog::catalog;
pub use license::{is_spdx_expression, spdx_id};
pub use package::{
    Checksum, Distro, Ecosystem, ImageInfo, OwnedFile, Package, Sbom, SourcePackage, UnownedFile,
    UnownedKind, Warning,
};
pub use python::normalize_name as normalize_pypi_name;
pub use time::now_rfc3339;

/// Metadata files larger than this are not kept (a real dpkg status is a few MB).
pub const METADATA_LIMIT: u64 = 64 << 20;

/// Whether a cataloger needs the bytes of the file at `path` (of `size` bytes). Pass it
/// as `ReadOptions::keep_content`, alone or or-ed with the caller's own wishes.
pub fn wanted(path: &str, size: u64) -> bool {
    size <= METADATA_LIMIT
        && (distro::wants(path)
            || dpkg::wants(path)
            || apk::wants(path)
            || rpm::wants(path)
            || python::wants(path)
            || npm::wants(path)
            || license::wants(path))
}

/// Read options that keep what [`catalog`] needs: the metadata files of [`wanted`] in
/// full, and for executables, shared libraries and jars only a small summary made
/// while they stream past (Go build info, `cargo auditable` data, jar manifests), so
/// memory stays bounded whatever the image holds.
pub fn read_options() -> ReadOptions {
    ReadOptions {
        keep_content: Some(Arc::new(wanted)),
        reduce_content: Some(Arc::new(binary::reducer_for)),
        ..Default::default()
    }
}

/// `image` (read with `options`, from [`read_options`]) read once more when package
/// metadata lies behind a hard link or a symlink whose target the first read could not
/// know it had to keep (a `/var/lib/dpkg/status` linked to `/tmp/x`, a symlinked
/// `/var/lib/dpkg`): the second read also keeps those targets, so [`catalog`] reads
/// the packages as dpkg, apk or rpm would. An image without such links is returned
/// as it is, unread. The second read keeps to `context`, as the first did.
pub fn follow_links(
    context: &ReadContext,
    image: ImageRead,
    options: &ReadOptions,
) -> pare_image::Result<ImageRead> {
    let reference = image.reference.clone();
    follow_links_with(image, options, |again| {
        pare_image::read_image(context, &reference, again)
    })
}

/// [`follow_links`] for a caller that holds the image open already (`pare build`
/// reads it from the engine's storage or its own spool): `read_again` reads it once
/// more with the options given, only when links call for it.
pub fn follow_links_with(
    image: ImageRead,
    options: &ReadOptions,
    read_again: impl FnOnce(&ReadOptions) -> pare_image::Result<ImageRead>,
) -> pare_image::Result<ImageRead> {
    let unread = links::Links::find(&image.index).unread(&image.index);
    if unread.is_empty() {
        return Ok(image);
    }
    let first = options.keep_content.clone();
    let keep = move |path: &str, size: u64| {
        unread.contains(path) || first.as_ref().is_some_and(|wants| wants(path, size))
    };
    read_again(&ReadOptions {
        keep_content: Some(Arc::new(keep)),
        ..options.clone()
    })
}
