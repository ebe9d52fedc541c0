//! Writing an image's [`Parts`] to a destination: a registry (pushed), an OCI layout
//! directory, an OCI archive, a `docker save` archive, the Docker engine (`docker
//! load`) or Podman's store (`podman load`). Every image pare writes goes through
//! here, `pare build`'s slim image included; manifests and indexes are oci-spec's
//! types.
//!
//! Files go to an unpredictable staging name beside their destination and are renamed
//! into place when complete (see [`crate::staging`]), so a failure leaves nothing
//! half-written and no planted link is followed. [`stage`] writes them and
//! [`StagedImage::commit`] puts them in place, so `pare build` can verify the image in
//! between; [`write`] does both.
//!
//! An existing OCI layout gets the image added, as skopeo and umoci do: its blobs (named
//! by their digest, staged in a directory beside the layout) are moved in, then
//! `index.json` is replaced with the entry of the same `org.opencontainers.image.ref.name`
//! replaced and every other entry kept. Blobs no entry uses any more stay, as with
//! skopeo; removing the directory starts afresh.

use std::collections::HashMap;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use oci_spec::image::{Descriptor, ImageIndex, ImageIndexBuilder, MediaType};
use serde::Serialize;

use crate::context::ReadContext;
use crate::digest::unwrap_io_error;
use crate::error::{ImageError, Result};
use crate::parts::{Copied, Parts};
use crate::reference::ImageRef;
use crate::staging::{Dir, StagedDir, StagedFile};

/// The annotation an OCI layout's index names an image by.
const REF_NAME: &str = "org.opencontainers.image.ref.name";

/// Writes `parts` to `destination`; a registry is reached as `context` says.
pub fn write(context: &ReadContext, parts: &Parts, destination: &ImageRef) -> Result<Copied> {
    let mut copied = Copied {
        destination: destination.to_string(),
        manifest_digest: Some(parts.manifest_digest.to_string()),
        ..Default::default()
    };
    match destination {
        ImageRef::Registry { reference } => {
            let pushed = crate::push::push(context.registries(), reference, parts)?;
            copied.blobs_written = pushed.uploaded;
            copied.blobs_present = pushed.present;
            copied.blobs_mounted = pushed.mounted;
            copied.bytes_written = pushed.bytes_uploaded;
        }
        ImageRef::OciLayout { .. }
        | ImageRef::OciArchive { .. }
        | ImageRef::DockerArchive { .. } => {
            return stage(parts, destination)?.commit();
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
                docker_archive(out, Some(name), parts)
            })?;
            copied.blobs_written = parts.layers.len() + 1;
            copied.bytes_written = stored_bytes(parts);
        }
    }
    Ok(copied)
}

/// An image written beside its file destination and not yet in place:
/// [`StagedImage::commit`] puts it there; dropped uncommitted, what was staged is
/// removed and the destination is as it was.
pub struct StagedImage {
    copied: Copied,
    place: Staged,
}

enum Staged {
    /// An archive, or a new layout, renamed over the destination.
    File(StagedFile),
    NewLayout(StagedDir),
    /// An image added to an existing layout: the blobs it lacked, staged beside it.
    Addition(Box<Addition>),
}

struct Addition {
    layout: Dir,
    dir: PathBuf,
    blobs: StagedDir,
    /// The staged blobs' names (`blobs/sha256/HEX`), moved into the layout on commit.
    added: Vec<String>,
    entry: Descriptor,
    tag: Option<String>,
}

/// Writes `parts` beside a file destination (`oci:`, `oci-archive:`,
/// `docker-archive:`) under staging names; the other destinations have nothing to
/// stage and are refused.
pub fn stage(parts: &Parts, destination: &ImageRef) -> Result<StagedImage> {
    let mut copied = Copied {
        destination: destination.to_string(),
        manifest_digest: Some(parts.manifest_digest.to_string()),
        ..Default::default()
    };
    let place = match destination {
        ImageRef::OciLayout { dir, tag } => {
            let (place, (written, present, bytes)) = stage_layout(dir, tag.as_deref(), parts)?;
            copied.blobs_written = written;
            copied.blobs_present = present;
            copied.bytes_written = bytes;
            place
        }
        ImageRef::OciArchive { path, tag } => {
            copied.blobs_written = parts.layers.len() + 1;
            Staged::File(staged_file(path, |out| {
                let mut sink = TarSink::new(out);
                write_blobs(&mut sink, parts)?;
                let index = index(None, tag.as_deref(), manifest_entry(parts, tag.as_deref()))?;
                write_index(&mut sink, &index, true)?;
                sink.finish()
            })?)
        }
        ImageRef::DockerArchive { path, name } => {
            copied.manifest_digest = None;
            copied.blobs_written = parts.layers.len() + 1;
            Staged::File(staged_file(path, |out| {
                docker_archive(out, name.as_deref(), parts)
            })?)
        }
        other => {
            return Err(ImageError::BadReference {
                reference: other.to_string(),
                reason: "only a file destination (oci:, oci-archive:, docker-archive:) is staged"
                    .into(),
            });
        }
    };
    Ok(StagedImage { copied, place })
}

impl StagedImage {
    /// Puts the image in place: renames the archive or the new layout over its
    /// destination, or moves the added blobs into the layout and replaces its index.
    pub fn commit(self) -> Result<Copied> {
        let mut copied = self.copied;
        match self.place {
            Staged::File(file) => copied.bytes_written = file.commit()?,
            Staged::NewLayout(dir) => dir.commit()?,
            Staged::Addition(addition) => addition.commit()?,
        }
        Ok(copied)
    }
}

impl Addition {
    fn commit(self) -> Result<()> {
        for name in &self.added {
            self.blobs
                .move_into(name, &self.layout)
                .map_err(|e| unwrap_io_error(e, &self.dir.join(name).display().to_string()))?;
        }
        // Read again: another writer may have added to the index since the image was
        // staged.
        let earlier = read_index(&self.layout, &self.dir)?;
        let index = index(earlier, self.tag.as_deref(), self.entry)?;
        let mut sink = DirSink {
            root: &self.layout,
            path: &self.dir,
        };
        write_index(&mut sink, &index, false)
    }
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

/// The blobs an existing layout lacks, written to a staging directory beside it.
struct AdditionSink<'a> {
    layout: &'a Dir,
    staged: DirSink<'a>,
    added: Vec<String>,
}

impl Sink for AdditionSink<'_> {
    fn has(&self, name: &str) -> bool {
        self.layout.has_file(name) || self.staged.has(name)
    }

    fn put(&mut self, name: &str, size: u64, bytes: &mut dyn Read) -> Result<()> {
        self.staged.put(name, size, bytes)?;
        self.added.push(name.to_owned());
        Ok(())
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

/// Writes the layers, config and manifest blobs the sink lacks. Returns blobs
/// (written, present, bytes).
fn write_blobs(sink: &mut dyn Sink, parts: &Parts) -> Result<(usize, usize, u64)> {
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
    Ok((written, present, bytes))
}

/// The index entry of the image: its manifest, named `tag`.
fn manifest_entry(parts: &Parts, tag: Option<&str>) -> Descriptor {
    let mut entry = Descriptor::new(
        MediaType::from(parts.manifest.media_type.as_str()),
        parts.manifest.bytes.len() as u64,
        parts.manifest_digest.to_oci(),
    );
    if let Some(tag) = tag {
        entry.set_annotations(Some(HashMap::from([(REF_NAME.to_owned(), tag.to_owned())])));
    }
    entry
}

/// The layout's index with `entry` added: an earlier entry of the same name `tag`
/// goes, every other stays (the index's own fields too).
fn index(earlier: Option<ImageIndex>, tag: Option<&str>, entry: Descriptor) -> Result<ImageIndex> {
    let mut manifests: Vec<Descriptor> = earlier
        .as_ref()
        .map(|index| index.manifests().clone())
        .unwrap_or_default();
    if let Some(tag) = tag {
        manifests.retain(|d| {
            d.annotations()
                .as_ref()
                .and_then(|a| a.get(REF_NAME))
                .map(String::as_str)
                != Some(tag)
        });
    }
    manifests.push(entry);
    match earlier {
        Some(mut index) => {
            index.set_media_type(Some(MediaType::ImageIndex));
            index.set_manifests(manifests);
            Ok(index)
        }
        None => ImageIndexBuilder::default()
            .schema_version(2u32)
            .media_type(MediaType::ImageIndex)
            .manifests(manifests)
            .build()
            .map_err(|e| ImageError::manifest("index.json", e.to_string())),
    }
}

/// Writes `index.json` (and, in a new layout, the `oci-layout` marker before it).
fn write_index(sink: &mut dyn Sink, index: &ImageIndex, marker: bool) -> Result<()> {
    if marker {
        let marker = br#"{"imageLayoutVersion":"1.0.0"}"#;
        sink.put("oci-layout", marker.len() as u64, &mut &marker[..])?;
    }
    let bytes = serde_json::to_vec(index)
        .map_err(|e| ImageError::json("index.json", "cannot be written", e))?;
    sink.put("index.json", bytes.len() as u64, &mut bytes.as_slice())
}

/// An existing layout's index (none when it has no `index.json` yet).
fn read_index(root: &Dir, dir: &Path) -> Result<Option<ImageIndex>> {
    let index_path = dir.join("index.json");
    match root.read("index.json", crate::registry::client::MANIFEST_LIMIT) {
        Ok(bytes) => serde_json::from_slice::<ImageIndex>(&bytes)
            .map(Some)
            .map_err(|e| ImageError::json(index_path.display().to_string(), "not an OCI index", e)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(ImageError::io(index_path, e)),
    }
}

/// An OCI layout directory: a new one is made under a staging name, to be renamed into
/// place; an image for an existing layout of ours has its blobs staged beside it.
fn stage_layout(
    dir: &Path,
    tag: Option<&str>,
    parts: &Parts,
) -> Result<(Staged, (usize, usize, u64))> {
    let existing = match std::fs::symlink_metadata(dir) {
        Ok(meta) if meta.is_dir() => Some(crate::staging::open_existing_dir(dir)?),
        _ => None,
    };
    if let Some(layout) = existing.filter(|root| root.has_file("oci-layout")) {
        // A broken index is refused before anything is written.
        read_index(&layout, dir)?;
        let blobs = StagedDir::create_beside(dir)?;
        let mut sink = AdditionSink {
            layout: &layout,
            staged: DirSink {
                root: blobs.root(),
                path: dir,
            },
            added: Vec::new(),
        };
        let counts = write_blobs(&mut sink, parts)?;
        let added = sink.added;
        let addition = Addition {
            layout,
            dir: dir.to_owned(),
            blobs,
            added,
            entry: manifest_entry(parts, tag),
            tag: tag.map(str::to_owned),
        };
        return Ok((Staged::Addition(Box::new(addition)), counts));
    }
    let staged = StagedDir::create(dir)?;
    let mut sink = DirSink {
        root: staged.root(),
        path: dir,
    };
    let counts = write_blobs(&mut sink, parts)?;
    write_index(
        &mut sink,
        &index(None, tag, manifest_entry(parts, tag))?,
        true,
    )?;
    Ok((Staged::NewLayout(staged), counts))
}

/// Writes a file through a staging name beside it, not yet renamed into place.
fn staged_file(path: &Path, fill: impl FnOnce(&mut dyn Write) -> Result<()>) -> Result<StagedFile> {
    let mut staged = StagedFile::create(path)?;
    let mut out = BufWriter::new(staged.file());
    fill(&mut out)?;
    out.flush().map_err(|e| ImageError::io(path, e))?;
    drop(out);
    Ok(staged)
}

/// One image of a `docker save` archive's `manifest.json`.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct DockerArchiveEntry<'a> {
    config: &'a str,
    repo_tags: Vec<&'a str>,
    layers: &'a [String],
}

/// A `docker save` archive: the config as `HEX.json`, each layer as stored (Docker
/// and Podman decompress on load) as `HEX.tar`, and `manifest.json` naming the image
/// `name`.
pub fn docker_archive(out: &mut dyn Write, name: Option<&str>, parts: &Parts) -> Result<()> {
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
    let manifest = [DockerArchiveEntry {
        config: &config_name,
        repo_tags: name.into_iter().collect(),
        layers: &layer_names,
    }];
    let manifest = serde_json::to_vec(&manifest)
        .map_err(|e| ImageError::json("manifest.json", "cannot be written", e))?;
    sink.put(
        "manifest.json",
        manifest.len() as u64,
        &mut manifest.as_slice(),
    )?;
    sink.finish()
}

/// `docker load` of the image as `name`, through a pipe a thread writes the archive
/// into: nothing is written to disk.
fn load_into_engine(name: &str, parts: &Parts) -> Result<()> {
    let (reader, mut writer) =
        std::io::pipe().map_err(|e| ImageError::io("a pipe to the Docker engine", e))?;
    let (written, loaded) = std::thread::scope(|scope| {
        let writer = scope.spawn(move || docker_archive(&mut writer, Some(name), parts));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Digest;

    fn files_under(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = walk(dir)
            .into_iter()
            .map(|p| p.strip_prefix(dir).unwrap().display().to_string())
            .collect();
        names.sort();
        names
    }

    fn walk(dir: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                out.extend(walk(&path));
            } else {
                out.push(path);
            }
        }
        out
    }

    #[test]
    fn an_image_staged_for_an_existing_layout_and_dropped_leaves_it_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let layout = dir.path().join("layout");
        let destination = |tag: &str| ImageRef::OciLayout {
            dir: layout.clone(),
            tag: Some(tag.into()),
        };
        let first = Parts::in_memory(
            b"{\"one\":1}".to_vec(),
            vec![(b"layer one", "x", Digest::of(b"layer one"))],
        );
        write(&ReadContext::default(), &first, &destination("one")).unwrap();
        let before = files_under(dir.path());
        let index_before = std::fs::read(layout.join("index.json")).unwrap();

        let second = Parts::in_memory(
            b"{\"two\":2}".to_vec(),
            vec![(b"layer two", "x", Digest::of(b"layer two"))],
        );
        let staged = stage(&second, &destination("one")).unwrap();
        drop(staged);
        assert_eq!(
            files_under(dir.path()),
            before,
            "no blob, no staging name left"
        );
        assert_eq!(
            std::fs::read(layout.join("index.json")).unwrap(),
            index_before
        );

        // Committed, the new blobs are in and the tag names the new image.
        let copied = stage(&second, &destination("one"))
            .unwrap()
            .commit()
            .unwrap();
        assert_eq!((copied.blobs_written, copied.blobs_present), (2, 0));
        let index: ImageIndex =
            serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
        assert_eq!(index.manifests().len(), 1);
        assert_eq!(
            index.manifests()[0].digest().to_string(),
            second.manifest_digest.to_string()
        );
        assert!(
            layout
                .join(crate::source::blob_name(&second.layers[0].digest))
                .is_file()
        );
        assert!(
            !files_under(dir.path())
                .iter()
                .any(|n| n.contains(".pare-partial-")),
            "{:?}",
            files_under(dir.path())
        );
    }

    #[test]
    fn a_directory_that_is_not_a_layout_is_not_written_into() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("notes.txt"), "mine").unwrap();
        let parts = Parts::in_memory(b"{}".to_vec(), vec![(b"layer", "x", Digest::of(b"layer"))]);
        let refused = stage(
            &parts,
            &ImageRef::OciLayout {
                dir: dir.path().to_owned(),
                tag: None,
            },
        )
        .err()
        .unwrap()
        .to_string();
        assert!(refused.contains("not an OCI layout"), "{refused}");
        assert_eq!(files_under(dir.path()), ["notes.txt"]);
    }
}
