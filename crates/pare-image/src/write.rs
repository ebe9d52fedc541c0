//! Writing an image's [`Parts`] to a destination: a registry (pushed), an OCI layout
//! directory, an OCI archive, a `docker save` archive, the Docker engine (`docker
//! load`) or Podman's store (`podman load`). Files go to an unpredictable staging name
//! beside their destination and are renamed into place when complete (see
//! [`crate::staging`]), so a failure leaves nothing half-written and no planted link
//! is followed; into an existing OCI layout, blobs (named by their digest) are added
//! first and `index.json` replaced last.

use std::io::{BufWriter, Read, Write};
use std::path::Path;

use serde_json::json;

use crate::copy::{Copied, Parts};
use crate::digest::unwrap_io_error;
use crate::error::{ImageError, Result};
use crate::reference::ImageRef;
use crate::staging::{Dir, StagedDir, StagedFile};

/// Writes `parts` to `destination`.
pub fn write(parts: &Parts, destination: &ImageRef) -> Result<Copied> {
    let mut copied = Copied {
        destination: destination.to_string(),
        manifest_digest: Some(parts.manifest_digest.to_string()),
        ..Default::default()
    };
    match destination {
        ImageRef::Registry { reference } => {
            let pushed = crate::registry::push::push(reference, parts)?;
            copied.blobs_written = pushed.uploaded;
            copied.blobs_present = pushed.present;
            copied.blobs_mounted = pushed.mounted;
            copied.bytes_written = pushed.bytes_uploaded;
        }
        ImageRef::OciLayout { dir, tag } => {
            let (written, present, bytes) = write_layout_dir(dir, tag.as_deref(), parts)?;
            copied.blobs_written = written;
            copied.blobs_present = present;
            copied.bytes_written = bytes;
        }
        ImageRef::OciArchive { path, tag } => {
            copied.bytes_written = staged_file(path, |out| {
                let mut sink = TarSink::new(out);
                write_layout(&mut sink, tag.as_deref(), parts, None)?;
                sink.finish()
            })?;
            copied.blobs_written = parts.layers.len() + 1;
        }
        ImageRef::DockerArchive { path, name } => {
            copied.manifest_digest = None;
            copied.bytes_written = staged_file(path, |out| {
                write_docker_archive(out, name.as_deref(), parts)
            })?;
            copied.blobs_written = parts.layers.len() + 1;
        }
        ImageRef::DockerDaemon { name } => {
            copied.manifest_digest = None;
            load_into_engine(name, parts)?;
            copied.blobs_written = parts.layers.len() + 1;
            copied.bytes_written = stored_bytes(parts);
        }
        ImageRef::ContainersStorage { name, store } => {
            copied.manifest_digest = None;
            crate::source::podman::load(store.as_ref(), name, |out| {
                write_docker_archive(out, Some(name), parts).map(|_| ())
            })?;
            copied.blobs_written = parts.layers.len() + 1;
            copied.bytes_written = stored_bytes(parts);
        }
    }
    Ok(copied)
}

/// The layers and config, as stored.
fn stored_bytes(parts: &Parts) -> u64 {
    parts.layers.iter().map(|l| l.size).sum::<u64>() + parts.config_info.size
}

/// Where the blobs and files of an OCI layout go.
trait Sink {
    /// Whether the blob (or file) is there already.
    fn has(&self, name: &str) -> bool;
    /// Stores `size` bytes from `bytes` under `name`.
    fn put(&mut self, name: &str, size: u64, bytes: &mut dyn Read) -> Result<()>;
}

/// An OCI layout directory: each file written under a staging name and renamed,
/// relative to the layout's open directory.
struct DirSink<'d> {
    root: &'d Dir,
    /// The layout's path, for messages.
    path: &'d Path,
}

impl Sink for DirSink<'_> {
    fn has(&self, name: &str) -> bool {
        self.root.has_file(name)
    }

    fn put(&mut self, name: &str, _size: u64, bytes: &mut dyn Read) -> Result<()> {
        self.root
            .write(name, bytes)
            .map(|_| ())
            .map_err(|e| unwrap_io_error(e, &self.path.join(name).display().to_string()))
    }
}

/// A tar stream of members.
struct TarSink<W: Write> {
    tar: tar::Builder<W>,
}

impl<W: Write> TarSink<W> {
    fn new(out: W) -> Self {
        TarSink {
            tar: tar::Builder::new(out),
        }
    }

    fn finish(self) -> Result<()> {
        self.tar
            .into_inner()
            .and_then(|mut w| w.flush())
            .map_err(|e| ImageError::io("archive", e))
    }
}

impl<W: Write> Sink for TarSink<W> {
    fn has(&self, _name: &str) -> bool {
        false
    }

    fn put(&mut self, name: &str, size: u64, bytes: &mut dyn Read) -> Result<()> {
        let mut header = tar::Header::new_ustar();
        header.set_size(size);
        header.set_mode(0o644);
        header.set_entry_type(tar::EntryType::Regular);
        self.tar
            .append_data(&mut header, name, bytes)
            .map_err(|e| unwrap_io_error(e, name))
    }
}

/// Writes the blobs, `oci-layout` and `index.json` (the image under `tag`, after
/// `earlier` entries other than that tag's). Returns blobs (written, present, bytes).
fn write_layout(
    sink: &mut dyn Sink,
    tag: Option<&str>,
    parts: &Parts,
    earlier: Option<Vec<serde_json::Value>>,
) -> Result<(usize, usize, u64)> {
    let (mut written, mut present, mut bytes) = (0, 0, 0);
    for (i, layer) in parts.layers.iter().enumerate() {
        let name = crate::source::blob_name(&layer.digest);
        if sink.has(&name) {
            present += 1;
            continue;
        }
        sink.put(&name, layer.size, &mut parts.open_layer(i)?)?;
        written += 1;
        bytes += layer.size;
    }
    let config_name = crate::source::blob_name(&parts.config_info.digest);
    if sink.has(&config_name) {
        present += 1;
    } else {
        sink.put(
            &config_name,
            parts.config.len() as u64,
            &mut parts.config.as_slice(),
        )?;
        written += 1;
        bytes += parts.config.len() as u64;
    }
    let manifest_name = crate::source::blob_name(&parts.manifest_digest);
    if !sink.has(&manifest_name) {
        let m = &parts.manifest.bytes;
        sink.put(&manifest_name, m.len() as u64, &mut m.as_slice())?;
    }
    let mut descriptor = json!({
        "mediaType": parts.manifest.media_type,
        "digest": parts.manifest_digest.to_string(),
        "size": parts.manifest.bytes.len(),
    });
    if let Some(tag) = tag {
        descriptor["annotations"] = json!({"org.opencontainers.image.ref.name": tag});
    }
    let ref_name = |d: &serde_json::Value| {
        d.pointer("/annotations/org.opencontainers.image.ref.name")
            .and_then(|v| v.as_str())
            .map(str::to_owned)
    };
    let mut manifests: Vec<serde_json::Value> = earlier
        .unwrap_or_default()
        .into_iter()
        .filter(|d| tag.is_none() || ref_name(d).as_deref() != tag)
        .collect();
    manifests.push(descriptor);
    let index = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": manifests,
    })
    .to_string();
    let marker = br#"{"imageLayoutVersion":"1.0.0"}"#;
    sink.put("oci-layout", marker.len() as u64, &mut &marker[..])?;
    sink.put("index.json", index.len() as u64, &mut index.as_bytes())?;
    Ok((written, present, bytes))
}

/// An OCI layout directory: a new one is made under a staging name and renamed into
/// place; an existing layout of ours gets the image added (another tag's entries stay).
fn write_layout_dir(dir: &Path, tag: Option<&str>, parts: &Parts) -> Result<(usize, usize, u64)> {
    let existing = match std::fs::symlink_metadata(dir) {
        Ok(meta) if meta.is_dir() => Some(crate::staging::open_existing_dir(dir)?),
        _ => None,
    };
    if let Some(root) = existing.filter(|root| root.has_file("oci-layout")) {
        crate::staging::remove_leftovers(dir, crate::staging::Leftovers::OfDeadRuns);
        let index_path = dir.join("index.json");
        let earlier = match root.read("index.json", crate::registry::client::MANIFEST_LIMIT) {
            Ok(bytes) => serde_json::from_slice::<serde_json::Value>(&bytes)
                .ok()
                .and_then(|v| v.get("manifests").and_then(|m| m.as_array()).cloned())
                .ok_or_else(|| {
                    ImageError::manifest(index_path.display().to_string(), "not an OCI index")
                })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(ImageError::io(index_path, e)),
        };
        let mut sink = DirSink {
            root: &root,
            path: dir,
        };
        return write_layout(&mut sink, tag, parts, Some(earlier));
    }
    let staged = StagedDir::create(dir)?;
    let mut sink = DirSink {
        root: staged.root(),
        path: dir,
    };
    let counts = write_layout(&mut sink, tag, parts, None)?;
    staged.commit()?;
    Ok(counts)
}

/// Writes a file through a staging name beside it; returns its size.
fn staged_file(path: &Path, fill: impl FnOnce(&mut dyn Write) -> Result<()>) -> Result<u64> {
    let mut staged = StagedFile::create(path)?;
    let mut out = BufWriter::new(staged.file());
    fill(&mut out)?;
    out.flush().map_err(|e| ImageError::io(path, e))?;
    drop(out);
    staged.commit()
}

/// A `docker save` archive: the config as `HEX.json`, each layer as stored (Docker
/// and Podman decompress on load), and `manifest.json` naming the image `name`.
fn write_docker_archive(out: &mut dyn Write, name: Option<&str>, parts: &Parts) -> Result<()> {
    let mut sink = TarSink::new(out);
    let config_name = format!("{}.json", parts.config_info.digest.hex());
    sink.put(
        &config_name,
        parts.config.len() as u64,
        &mut parts.config.as_slice(),
    )?;
    let mut layer_names = Vec::new();
    for (i, layer) in parts.layers.iter().enumerate() {
        let member = format!("{}.tar", layer.digest.hex());
        if !layer_names.contains(&member) {
            sink.put(&member, layer.size, &mut parts.open_layer(i)?)?;
        }
        layer_names.push(member);
    }
    let manifest = json!([{
        "Config": config_name,
        "RepoTags": name.map(|n| vec![n.to_owned()]).unwrap_or_default(),
        "Layers": layer_names,
    }])
    .to_string();
    sink.put(
        "manifest.json",
        manifest.len() as u64,
        &mut manifest.as_bytes(),
    )?;
    sink.finish()
}

/// `docker load` of the image as `name`, through a pipe a thread writes the archive
/// into: nothing is written to disk.
fn load_into_engine(name: &str, parts: &Parts) -> Result<()> {
    let (reader, mut writer) =
        std::io::pipe().map_err(|e| ImageError::io("a pipe to the Docker engine", e))?;
    let (written, loaded) = std::thread::scope(|scope| {
        let writer = scope.spawn(move || write_docker_archive(&mut writer, Some(name), parts));
        let loaded = crate::source::daemon::load(reader);
        (writer.join(), loaded)
    });
    let written =
        written.unwrap_or_else(|_| Err(ImageError::Engine("the archive writer panicked".into())));
    match (written, loaded) {
        // A writer that failed cut the archive short: its error is the cause.
        (Err(e), _) if !is_broken_pipe(&e) => Err(e),
        (_, Err(e)) => Err(e),
        (Err(e), Ok(())) => Err(e),
        (Ok(()), Ok(())) => Ok(()),
    }
}

fn is_broken_pipe(e: &ImageError) -> bool {
    matches!(e, ImageError::Io { source, .. } if source.kind() == std::io::ErrorKind::BrokenPipe)
}
