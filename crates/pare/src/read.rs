//! Reading the image a verb is given, as every verb reads it: a bar of the bytes read
//! on a terminal, and what the reading warns about on standard error naming the
//! image. Shared by the commands, which import no other command.

use anyhow::Context;
use pare_compare::{Inspected, Inspector};
use pare_image::ImageRef;
use pare_sbom::Sbom;

use crate::globals::Globals;

/// Reads the image `reference` (any transport) once and lists its packages; metadata
/// that cannot be read is a warning on standard error, as `pare sbom` shows it.
pub fn read_sbom(globals: &Globals, reference: &str) -> anyhow::Result<Sbom> {
    let context = &globals.read;
    let reference = ImageRef::parse(reference)?;
    let (options, bar) = crate::progress::reading(globals, &reference, pare_sbom::read_options());
    let image = pare_image::read_image(context, &reference, &options)
        .and_then(|image| pare_sbom::follow_links(context, image, &options))
        .with_context(|| format!("reading {reference}"))?;
    drop(bar);
    let sbom = pare_sbom::catalog(&image);
    for w in &sbom.warnings {
        say!("pare: warning: {}: {}", w.path, w.message);
    }
    Ok(sbom)
}

/// Reads and analyses one image as `pare xray`, `sbom` and `scan` read theirs (a bar of
/// the bytes read on a terminal); what those would warn about goes to standard error,
/// naming the image.
pub fn inspect(
    globals: &Globals,
    inspector: &Inspector,
    reference: &ImageRef,
) -> anyhow::Result<Inspected> {
    let (options, bar) = crate::progress::reading(globals, reference, Inspector::read_options());
    let inspected = inspector.inspect(&globals.read, reference, &options)?;
    drop(bar);
    for w in &inspected.warnings {
        say!("pare: warning: {}: {w}", inspected.name());
    }
    Ok(inspected)
}

/// Reads both images (each once) and compares them, as `pare diff` does and `pare
/// build --html` does of the original and the slim image; warnings go to standard
/// error.
pub fn diff(
    globals: &Globals,
    advisories: &crate::advisories::Advisories,
    before: &ImageRef,
    after: &ImageRef,
) -> anyhow::Result<pare_compare::diff::ImageDiff> {
    let inspector = advisories.inspector();
    let a = inspect(globals, &inspector, before)?;
    let b = inspect(globals, &inspector, after)?;
    Ok(pare_compare::diff::diff(&a, &b))
}
