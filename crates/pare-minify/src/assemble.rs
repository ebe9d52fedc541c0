//! Writing the slim image: one layer built from the original image's index filtered by
//! the keep-set (modes, owners, xattrs and hardlinks as they were), a config carried
//! over from the original, and the image in the layout the user asked for. Outputs are
//! written beside their destination and renamed into place, so a failure leaves no
//! half-written image.

use std::io::Write;
use std::path::{Path, PathBuf};

use pare_image::{Digest, EntryKind, FileIndex, History, ImageConfig};
use serde_json::json;

use crate::keep_set::KeepSet;

/// What can go wrong writing the slim image.
#[derive(Debug, thiserror::Error)]
pub enum AssembleError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}: kept, but its bytes were not loaded (a bug in pare)")]
    MissingContent(String),
}

fn io(path: impl AsRef<Path>) -> impl FnOnce(std::io::Error) -> AssembleError {
    let path = path.as_ref().display().to_string();
    move |source| AssembleError::Io { path, source }
}

/// The new layer, uncompressed and gzip-compressed, with its digests.
pub struct SlimLayer {
    pub tar: Vec<u8>,
    pub diff_id: Digest,
    pub gzip: Vec<u8>,
    pub blob_digest: Digest,
    pub files: usize,
    pub directories: usize,
    pub content_bytes: u64,
}

/// Builds the layer tar from the kept paths, parents first (they sort first), and
/// hardlinks after every file so that their targets precede them.
pub fn build_layer(index: &FileIndex, keep: &KeepSet) -> Result<SlimLayer, AssembleError> {
    let mut builder = tar::Builder::new(Vec::new());
    let (mut files, mut directories, mut content_bytes) = (0, 0, 0);
    let ordered = keep
        .paths
        .keys()
        .filter(|p| p.as_str() != "/")
        .filter_map(|p| index.nodes.get(p).map(|n| (p, n)));
    let (links, others): (Vec<_>, Vec<_>) =
        ordered.partition(|(_, n)| n.kind == EntryKind::Hardlink);
    for (path, node) in others.into_iter().chain(links) {
        let name = &path[1..];
        let mut header = tar::Header::new_gnu();
        header.set_mode(node.mode);
        header.set_uid(node.uid);
        header.set_gid(node.gid);
        header.set_mtime(node.mtime);
        if !node.xattrs.is_empty() {
            let records: Vec<(String, &[u8])> = node
                .xattrs
                .iter()
                .map(|(k, v)| (format!("SCHILY.xattr.{k}"), v.as_slice()))
                .collect();
            builder
                .append_pax_extensions(records.iter().map(|(k, v)| (k.as_str(), *v)))
                .map_err(io(path))?;
        }
        let result = match node.kind {
            EntryKind::Dir => {
                directories += 1;
                header.set_entry_type(tar::EntryType::Directory);
                header.set_size(0);
                builder.append_data(&mut header, name, std::io::empty())
            }
            EntryKind::File => {
                files += 1;
                let bytes: &[u8] = match (&node.content, node.size) {
                    (Some(b), _) => b,
                    (None, 0) => &[],
                    (None, _) => return Err(AssembleError::MissingContent(path.clone())),
                };
                content_bytes += bytes.len() as u64;
                header.set_entry_type(tar::EntryType::Regular);
                header.set_size(bytes.len() as u64);
                builder.append_data(&mut header, name, bytes)
            }
            EntryKind::Symlink | EntryKind::Hardlink => {
                files += 1;
                let kind = if node.kind == EntryKind::Symlink {
                    tar::EntryType::Symlink
                } else {
                    tar::EntryType::Link
                };
                header.set_entry_type(kind);
                header.set_size(0);
                let target = node.link.clone().unwrap_or_default();
                let target = if node.kind == EntryKind::Hardlink {
                    target.trim_start_matches('/').to_owned()
                } else {
                    target
                };
                builder.append_link(&mut header, name, target)
            }
            EntryKind::Fifo => {
                header.set_entry_type(tar::EntryType::Fifo);
                header.set_size(0);
                builder.append_data(&mut header, name, std::io::empty())
            }
            // Device nodes come from the runtime, never from a slim image; whiteouts
            // have no meaning in a single layer.
            _ => continue,
        };
        result.map_err(io(path))?;
    }
    let tar = builder.into_inner().map_err(io("slim layer"))?;
    let diff_id = Digest::of(&tar);
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
    encoder.write_all(&tar).map_err(io("slim layer"))?;
    let gzip = encoder.finish().map_err(io("slim layer"))?;
    let blob_digest = Digest::of(&gzip);
    Ok(SlimLayer {
        tar,
        diff_id,
        gzip,
        blob_digest,
        files,
        directories,
        content_bytes,
    })
}

/// The slim image's config: everything about how the original runs, one layer, a
/// history entry that says pare made it, and the original's digest as base.
pub fn slim_config(
    original: &ImageConfig,
    layer: &SlimLayer,
    source: &str,
    base_digest: &str,
    created: &str,
) -> ImageConfig {
    let mut config = original.clone();
    config.rootfs.kind = "layers".into();
    config.rootfs.diff_ids = vec![layer.diff_id.to_string()];
    config.created = Some(created.to_owned());
    config.history = vec![History {
        created: Some(created.to_owned()),
        created_by: Some(format!("pare build {source}")),
        comment: Some("minified by pare: only the files the app used, in one layer".into()),
        ..Default::default()
    }];
    let mut run = config.config.clone().unwrap_or_default();
    let mut labels = run.labels.clone().unwrap_or_default();
    labels.insert(
        "org.opencontainers.image.base.digest".into(),
        base_digest.to_owned(),
    );
    labels.insert(
        "org.opencontainers.image.base.name".into(),
        source.to_owned(),
    );
    run.labels = Some(labels);
    config.config = Some(run);
    config
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
