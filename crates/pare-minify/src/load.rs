//! Putting an image that is not in the Docker engine (a `docker save` archive, an OCI
//! layout or archive) into it, so that it can be traced: pare writes a `docker save`
//! archive of its own with a temporary tag only (loading the user's archive as it is
//! would apply its RepoTags and could move a tag the user has), streams it to the
//! engine, and removes the tag when the build ends.

use std::path::Path;

use pare_image::OpenImage;
use pare_runtime::Engine;

use crate::pipeline::BuildError;

/// The original image in the engine under pare's temporary tag; dropping it removes
/// the tag (and the image, unless the engine has it under another name too).
pub struct LoadedImage<'e> {
    engine: &'e Engine,
    pub tag: String,
}

impl Drop for LoadedImage<'_> {
    fn drop(&mut self) {
        let _ = self.engine.remove_image(&self.tag);
    }
}

/// Loads `image` into the engine as `pare-build/<pid>:original`, through a
/// `docker save` archive written in `work_dir` (removed once loaded). The layer blobs
/// are copied as stored, compressed, without unpacking them.
pub fn load<'e>(
    engine: &'e Engine,
    image: &OpenImage,
    work_dir: &Path,
) -> Result<LoadedImage<'e>, BuildError> {
    let tag = format!("pare-build/{}:original", std::process::id());
    let archive = work_dir.join("original.tar");
    write_archive(image, &tag, &archive).map_err(|source| BuildError::Io {
        path: archive.display().to_string(),
        source,
    })?;
    pare_runtime::cleanup::register_image(&tag);
    let loaded = LoadedImage { engine, tag };
    let result = engine.load_file(&archive);
    let _ = std::fs::remove_file(&archive);
    result.map_err(|e| {
        BuildError::Input(format!(
            "{}: the Docker engine would not load it: {e}",
            image.reference
        ))
    })?;
    Ok(loaded)
}

fn write_archive(image: &OpenImage, tag: &str, path: &Path) -> std::io::Result<()> {
    let file = std::fs::File::create(path)?;
    let mut tar = tar::Builder::new(std::io::BufWriter::new(file));
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
    tar.into_inner()?
        .into_inner()
        .map_err(|e| e.into_error())?
        .sync_all()
}

fn member_header(size: u64) -> tar::Header {
    let mut header = tar::Header::new_gnu();
    header.set_size(size);
    header.set_mode(0o644);
    header
}
