//! Putting an image that is not in the Docker engine (a `docker save` archive, an OCI
//! layout or archive) into it, so that it can be traced: pare writes a `docker save`
//! archive of its own with a temporary tag only (loading the user's archive as it is
//! would apply its RepoTags and could move a tag the user has), streams it to the
//! engine, and removes the tag when the build ends.

use std::io::Write;

use pare_image::OpenImage;
use pare_runtime::Engine;

use crate::error::BuildError;

/// The original image in the engine under pare's temporary tag; dropping it removes
/// the tag (and the image, unless the engine has it under another name too).
pub struct LoadedImage<'e> {
    engine: &'e Engine,
    pub tag: String,
    _on_interrupt: pare_runtime::cleanup::Registration,
}

impl Drop for LoadedImage<'_> {
    fn drop(&mut self) {
        let _ = self.engine.remove_image(&self.tag);
    }
}

/// Loads `image` into the engine as `pare-build/<pid>:original`, through a
/// `docker save` archive written by a thread into a pipe the engine reads: nothing is
/// written to disk. The layer blobs are copied as stored, compressed, without
/// unpacking them.
pub fn load<'e>(engine: &'e Engine, image: &OpenImage) -> Result<LoadedImage<'e>, BuildError> {
    let tag = format!("pare-build/{}:original", std::process::id());
    let (reader, writer) = std::io::pipe().map_err(|source| BuildError::Load {
        image: image.reference.to_string(),
        source,
    })?;
    let loaded = LoadedImage {
        engine,
        _on_interrupt: engine.remove_on_interrupt(&tag),
        tag,
    };
    let (written, result) = std::thread::scope(|scope| {
        let writer = scope.spawn(|| write_archive(image, &loaded.tag, writer));
        // The reader is dropped when loading ends, so a writer whose reader is gone
        // gets an error instead of blocking.
        let result = engine.load_stream(reader);
        (writer.join(), result)
    });
    let written = written.unwrap_or_else(|_| Err(std::io::Error::other("the writer panicked")));
    let writer_failed = |source| BuildError::Load {
        image: image.reference.to_string(),
        source,
    };
    match (written, result) {
        (Ok(()), Ok(())) => Ok(loaded),
        // A writer that failed ends the archive early: its error is the cause, not the
        // engine's complaint about a cut archive. A broken pipe is the engine's doing.
        (Err(e), _) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(writer_failed(e)),
        (_, Err(source)) => Err(BuildError::LoadRefused {
            image: image.reference.to_string(),
            source,
        }),
        (Err(e), Ok(())) => Err(writer_failed(e)),
    }
}

/// Writes the image as a `docker save` archive tagged `tag` only.
fn write_archive(image: &OpenImage, tag: &str, out: impl std::io::Write) -> std::io::Result<()> {
    let mut tar = tar::Builder::new(std::io::BufWriter::new(out));
    let mut layers = Vec::new();
    for i in 0..image.resolved.layers.len() {
        let (blob, size) = image
            .layer_blob(i)
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        let name = format!("{i}/layer.tar");
        let mut header = member_header(size);
        tar.append_data(&mut header, &name, blob)?;
        layers.push(name);
    }
    let config = serde_json::to_vec(&image.resolved.config).map_err(std::io::Error::other)?;
    let mut header = member_header(config.len() as u64);
    tar.append_data(&mut header, "config.json", config.as_slice())?;
    let manifest = serde_json::json!([{
        "Config": "config.json",
        "RepoTags": [tag],
        "Layers": layers,
    }]);
    let manifest = manifest.to_string().into_bytes();
    let mut header = member_header(manifest.len() as u64);
    tar.append_data(&mut header, "manifest.json", manifest.as_slice())?;
    tar.into_inner()?.flush()
}

fn member_header(size: u64) -> tar::Header {
    let mut header = tar::Header::new_gnu();
    header.set_size(size);
    header.set_mode(0o644);
    header
}
