//! Writing the slim image where the user asked: the Docker engine, a `docker save`
//! archive, an OCI layout. Files are written beside their destination and renamed
//! into place, so a failure leaves no half-written image.

use std::path::{Path, PathBuf};

use pare_image::{Digest, ImageConfig};
use pare_runtime::Engine;
use serde_json::json;

use crate::assemble::{Slim, SlimLayer, io};
use crate::backend::Backend;
use crate::error::{AssembleError, BuildError};
use crate::options::{BuildOptions, Output};

/// Where the slim image goes: as asked, except that with no engine an engine tag
/// becomes an OCI layout in the report directory under the same tag.
pub(crate) fn outputs_for(backend: &Backend, options: &BuildOptions) -> Vec<Output> {
    options
        .outputs
        .iter()
        .map(|o| match (backend, o) {
            (Backend::Oci(_), Output::Engine { tag }) => Output::Oci {
                dir: options.report_dir.join("image"),
                tag: tag.rsplit(':').next().unwrap_or("slim").to_owned(),
            },
            _ => o.clone(),
        })
        .collect()
}

/// The slim image in the engine, to verify with: under the user's tag, or under a
/// temporary one pare removes (also on Ctrl-C).
pub(crate) struct InEngine {
    pub tag: String,
    pub temporary: Option<pare_runtime::cleanup::Registration>,
}

/// Writes the slim image to every output; returns the engine copy to verify with
/// (none without an engine).
pub(crate) fn write_outputs(
    engine: Option<&Engine>,
    outputs: &[Output],
    slim: &Slim,
) -> Result<Option<InEngine>, BuildError> {
    let (config, layer) = (&slim.config, &slim.layer);
    let engine_tag = match engine {
        Some(engine) => {
            let tag = outputs
                .iter()
                .find_map(|o| match o {
                    Output::Engine { tag } => Some(tag.clone()),
                    _ => None,
                })
                .unwrap_or_else(|| format!("pare-verify/{}:slim", std::process::id()));
            let temporary = (!outputs
                .iter()
                .any(|o| matches!(o, Output::Engine { tag: t } if *t == tag)))
            .then(|| engine.remove_on_interrupt(&tag));
            let archive = docker_archive(&tag, config, layer)?;
            engine.load(bytes::Bytes::from(archive))?;
            Some(InEngine { tag, temporary })
        }
        None => None,
    };
    for output in outputs {
        let result = match output {
            Output::Engine { .. } => Ok(()),
            Output::DockerArchive { path, tag } => docker_archive(tag, config, layer)
                .and_then(|bytes| write_docker_archive(path, &bytes)),
            Output::Oci { dir, tag } => write_oci_layout(dir, tag, config, layer),
        };
        if let Err(e) = result {
            if let Output::DockerArchive { path, .. } | Output::Oci { dir: path, .. } = output {
                discard_partial(path);
            }
            return Err(e.into());
        }
    }
    Ok(engine_tag)
}

/// Creates a directory of pare's own (and its parents).
pub(crate) fn create_dir(dir: &Path) -> Result<(), BuildError> {
    std::fs::create_dir_all(dir).map_err(|source| BuildError::Io {
        action: "creating",
        path: dir.to_owned(),
        source,
    })
}

/// Writes `bytes` to `path` (pare's own report files).
pub(crate) fn write_file(path: &Path, bytes: &[u8]) -> Result<(), BuildError> {
    if let Some(dir) = path.parent() {
        create_dir(dir)?;
    }
    std::fs::write(path, bytes).map_err(|source| BuildError::Io {
        action: "writing",
        path: path.to_owned(),
        source,
    })
}

/// Writes an OCI image layout at `dir` with the image tagged `tag`.
pub fn write_oci_layout(
    dir: &Path,
    tag: &str,
    config: &ImageConfig,
    layer: &SlimLayer,
) -> Result<(), AssembleError> {
    let staging = staging_path(dir);
    let blobs = staging.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).map_err(io(&blobs))?;
    let put = |bytes: &[u8]| -> Result<Digest, AssembleError> {
        let digest = Digest::of(bytes);
        let path = blobs.join(digest.hex());
        std::fs::write(&path, bytes).map_err(io(&path))?;
        Ok(digest)
    };
    let config_bytes = serde_json::to_vec(config).expect("a config always serialises");
    let config_digest = put(&config_bytes)?;
    put(&layer.gzip)?;
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest.to_string(), "size": config_bytes.len()},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": layer.blob_digest.to_string(), "size": layer.gzip.len()}]
    });
    let manifest_bytes = serde_json::to_vec(&manifest).expect("json");
    let manifest_digest = put(&manifest_bytes)?;
    let index = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": manifest_digest.to_string(), "size": manifest_bytes.len(),
            "annotations": {"org.opencontainers.image.ref.name": tag}
        }]
    });
    let write = |name: &str, bytes: &[u8]| -> Result<(), AssembleError> {
        let path = staging.join(name);
        std::fs::write(&path, bytes).map_err(io(&path))
    };
    write("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#)?;
    write("index.json", &serde_json::to_vec(&index).expect("json"))?;
    replace(&staging, dir)
}

/// A `docker save` style archive holding the image as `repo_tag`.
pub fn docker_archive(
    repo_tag: &str,
    config: &ImageConfig,
    layer: &SlimLayer,
) -> Result<Vec<u8>, AssembleError> {
    let config_bytes = serde_json::to_vec(config).expect("a config always serialises");
    let config_name = format!("{}.json", Digest::of(&config_bytes).hex());
    let layer_name = format!("{}/layer.tar", layer.diff_id.hex());
    let manifest = json!([{"Config": config_name, "RepoTags": [repo_tag], "Layers": [layer_name]}]);
    let mut builder = tar::Builder::new(Vec::new());
    let mut add = |name: &str, bytes: &[u8]| -> Result<(), AssembleError> {
        let mut header = tar::Header::new_gnu();
        header.set_mode(0o644);
        header.set_size(bytes.len() as u64);
        header.set_entry_type(tar::EntryType::Regular);
        builder
            .append_data(&mut header, name, bytes)
            .map_err(io(name))
    };
    add(&config_name, &config_bytes)?;
    add(&layer_name, &layer.tar)?;
    add(
        "manifest.json",
        &serde_json::to_vec(&manifest).expect("json"),
    )?;
    builder.into_inner().map_err(io("docker archive"))
}

/// Writes a docker archive to `path` via a staging file.
pub fn write_docker_archive(path: &Path, bytes: &[u8]) -> Result<(), AssembleError> {
    let staging = staging_path(path);
    std::fs::write(&staging, bytes).map_err(io(&staging))?;
    replace(&staging, path)
}

fn staging_path(dest: &Path) -> PathBuf {
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    dest.with_file_name(format!(".{name}.pare-partial-{}", std::process::id()))
}

/// Moves a finished staging file or directory over the destination.
fn replace(staging: &Path, dest: &Path) -> Result<(), AssembleError> {
    if dest.is_dir() {
        std::fs::remove_dir_all(dest).map_err(io(dest))?;
    }
    std::fs::rename(staging, dest).map_err(io(dest))
}

/// Removes a staging output left by a failed write.
pub fn discard_partial(dest: &Path) {
    let staging = staging_path(dest);
    let _ = std::fs::remove_dir_all(&staging);
    let _ = std::fs::remove_file(&staging);
}
