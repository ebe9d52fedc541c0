//! Reading one layer blob: decompress (gzip, zstd or none), check its digests, and
//! turn its tar entries into [`LayerEntry`] records without unpacking anything.
//!
//! The tar reader runs in raw mode and GNU long names and PAX headers are handled
//! here, because the `tar` crate reads those into memory unbounded; a hostile layer
//! could otherwise declare a gigabyte-long file name.

use std::io::{self, Read};
use std::sync::Arc;

use serde::Serialize;
use xxhash_rust::xxh3::Xxh3;

use crate::digest::{Digest, Hashing, read_up_to};
use crate::error::{ImageError, Result};
use crate::path::{self, ImagePath, PathProblem};

/// How a layer blob is compressed, told by its first bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

impl Compression {
    pub(crate) fn sniff(head: &[u8]) -> Self {
        if head.starts_with(&[0x1f, 0x8b]) {
            Compression::Gzip
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Compression::Zstd
        } else {
            Compression::None
        }
    }
}

/// The media types of layers pare reads; anything else is refused, not guessed at.
pub fn check_layer_media_type(media_type: &str) -> bool {
    matches!(
        media_type,
        "application/vnd.docker.image.rootfs.diff.tar.gzip"
            | "application/vnd.docker.image.rootfs.diff.tar"
            | "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
            | "application/vnd.oci.image.layer.v1.tar"
            | "application/vnd.oci.image.layer.v1.tar+gzip"
            | "application/vnd.oci.image.layer.v1.tar+zstd"
            | "application/vnd.oci.image.layer.nondistributable.v1.tar"
            | "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
            | "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd"
    )
}

/// What kind of filesystem object a tar entry makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    File,
    Dir,
    Symlink,
    Hardlink,
    CharDevice,
    BlockDevice,
    Fifo,
    /// `.wh.NAME`: deletes NAME (and what is below it) from lower layers.
    Whiteout,
    /// `.wh..wh..opq`: hides everything lower layers put in this directory.
    OpaqueWhiteout,
}

/// One entry of a layer, as the index needs it.
#[derive(Clone, Debug)]
pub struct LayerEntry {
    /// For whiteouts: the path being deleted (or the opaque directory), not the
    /// `.wh.` marker itself.
    pub path: ImagePath,
    pub kind: EntryKind,
    /// Permission bits with setuid/setgid/sticky (`0o7777`).
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    pub size: u64,
    pub mtime: u64,
    /// Symlink target as written, or the normalised hardlink target path.
    pub link: Option<String>,
    /// xxh3-128 of the content of regular files, for finding duplicates.
    pub content_hash: Option<u128>,
    /// Extended attributes from PAX `SCHILY.xattr.*` (capabilities live here).
    pub xattrs: Vec<(String, Vec<u8>)>,
    /// The bytes of files the caller asked to keep (see [`ReadOptions::keep_content`]).
    pub content: Option<Arc<[u8]>>,
}

/// An entry that was refused or flagged while reading.
#[derive(Clone, Debug, Serialize)]
pub struct UnsafeEntry {
    /// The name exactly as it stood in the tar.
    pub name: String,
    pub problem: PathProblem,
    pub link: Option<String>,
}

/// A layer, read.
#[derive(Clone, Debug)]
pub struct ParsedLayer {
    pub entries: Vec<LayerEntry>,
    pub unsafe_entries: Vec<UnsafeEntry>,
    pub compression: Compression,
    /// Digest and size of the blob as stored.
    pub blob_digest: Digest,
    pub blob_size: u64,
    /// Digest and size of the uncompressed tar (the config's `diff_id`).
    pub diff_id: Digest,
    pub tar_size: u64,
}

/// Which file contents to keep in memory while streaming.
pub type ContentFilter = dyn Fn(&str, u64) -> bool + Send + Sync;

/// Reads a file's bytes as they stream past and keeps only what it makes of them (a
/// cataloger's summary of a binary, say), so memory stays bounded whatever the file size.
pub trait ContentReducer: Send {
    /// Sees the next chunk of the file; returns `false` once it needs no more.
    fn update(&mut self, chunk: &[u8]) -> bool;
    /// What to keep in [`LayerEntry::content`] in place of the bytes.
    fn finish(self: Box<Self>) -> Option<Vec<u8>>;
}

/// Chooses a reducer for a regular file from its path, size and mode bits.
pub type ReducerChooser = dyn Fn(&str, u64, u32) -> Option<Box<dyn ContentReducer>> + Send + Sync;

/// Limits and wishes for reading layers.
#[derive(Clone)]
pub struct ReadOptions {
    /// Keep the bytes of files for which this says yes (catalogers use it).
    pub keep_content: Option<Arc<ContentFilter>>,
    /// For files `keep_content` does not keep: keep what a reducer makes of their bytes.
    pub reduce_content: Option<Arc<ReducerChooser>>,
    /// A layer may expand to at most `max(min_expand_limit, ratio × blob size)`. Set
    /// here for [`read_layer`] alone; an image read uses its `ReadContext`'s ratio.
    pub max_expansion_ratio: u64,
    pub min_expand_limit: u64,
    /// At most this many entries in one layer.
    pub max_entries: usize,
    /// Blobs of at least this many bytes (or of unknown size) are hashed on threads
    /// beside the parser, so SHA-256 and parsing use two cores; a smaller blob is
    /// done before a thread would have started. The digests are the same either way.
    pub hash_aside_from: u64,
    /// Told how many stored bytes were read since it was last told (every MiB or so),
    /// for a progress display.
    pub progress: Option<Arc<Progress>>,
}

/// A progress callback: bytes read since the previous call.
pub type Progress = dyn Fn(u64) + Send + Sync;

/// A reader that tells a [`Progress`] how much passed through it.
pub(crate) struct Counted<R> {
    inner: R,
    progress: Option<Arc<Progress>>,
    pending: u64,
}

impl<R> Counted<R> {
    pub(crate) fn new(inner: R, progress: Option<Arc<Progress>>) -> Self {
        Counted {
            inner,
            progress,
            pending: 0,
        }
    }
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(progress) = &self.progress {
            self.pending += n as u64;
            if self.pending >= 1 << 20 || (n == 0 && self.pending > 0) {
                progress(std::mem::take(&mut self.pending));
            }
        }
        Ok(n)
    }
}

/// How far a layer may expand by default, as a multiple of its stored size (the CLI's
/// `--max-layer-expansion` default).
pub const DEFAULT_MAX_EXPANSION_RATIO: u64 = 100;

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            keep_content: None,
            reduce_content: None,
            max_expansion_ratio: DEFAULT_MAX_EXPANSION_RATIO,
            min_expand_limit: 1 << 30,
            max_entries: 2_000_000,
            hash_aside_from: 1 << 20,
            progress: None,
        }
    }
}

impl std::fmt::Debug for ReadOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadOptions")
            .field("keep_content", &self.keep_content.is_some())
            .field("max_expansion_ratio", &self.max_expansion_ratio)
            .finish()
    }
}

/// What the caller expects of a blob, to be checked after reading.
#[derive(Clone, Debug, Default)]
pub struct Expected {
    pub blob_digest: Option<Digest>,
    pub diff_id: Option<Digest>,
    pub blob_size: Option<u64>,
}

const LONG_NAME_LIMIT: u64 = 64 * 1024;
const PAX_LIMIT: u64 = 1 << 20;

/// Streams one layer blob. `place` names it in errors (archive path and entry, or blob file).
///
/// Every byte is hashed once: an uncompressed blob is its own tar, so one SHA-256
/// gives both its digest and its diff_id. Blobs of [`ReadOptions::hash_aside_from`]
/// bytes or more are hashed on threads beside the parser.
pub fn read_layer(
    mut blob: impl Read,
    place: &str,
    expected: &Expected,
    options: &ReadOptions,
) -> Result<ParsedLayer> {
    let mut head = [0u8; 4];
    let head_len =
        read_up_to(&mut blob, &mut head).map_err(|e| layer_io(place, "cannot read", e))?;
    let compression = Compression::sniff(&head[..head_len]);
    let limit = match (compression, expected.blob_size) {
        (Compression::None, Some(size)) => size,
        (_, size) => options.min_expand_limit.max(
            size.unwrap_or(0)
                .saturating_mul(options.max_expansion_ratio),
        ),
    };
    let aside = expected
        .blob_size
        .is_none_or(|size| size >= options.hash_aside_from);
    let stream = (&head[..head_len]).chain(blob);

    let (parsed, tar, blob) = if compression == Compression::None {
        let mut tar = hashing(Bounded::new(stream, limit), aside, place)?;
        let parsed = walk_entries(&mut tar, options).map_err(|e| io_to_layer(e, place, limit));
        let parsed = match parsed {
            Ok(parsed) => parsed,
            Err(e) => return Err(blame_digest_first(e, tar, expected, place)),
        };
        let tar = tar.finish().map_err(|e| io_to_layer(e, place, limit))?;
        (parsed, tar.clone(), tar)
    } else {
        let mut hashed_blob = hashing(stream, aside, place)?;
        let outcome = match compression {
            Compression::Gzip => parse_tar(
                flate2::read::MultiGzDecoder::new(&mut hashed_blob),
                place,
                limit,
                aside,
                options,
            ),
            _ => zstd::stream::read::Decoder::new(&mut hashed_blob)
                .map_err(|e| layer_io(place, "zstd", e))
                .and_then(|decoder| parse_tar(decoder, place, limit, aside, options)),
        };
        let (parsed, tar) = match outcome {
            Ok(done) => done,
            Err(e) => return Err(blame_digest_first(e, hashed_blob, expected, place)),
        };
        let blob = hashed_blob
            .finish()
            .map_err(|e| layer_io(place, "cannot read to the end", e))?;
        (parsed, tar, blob)
    };

    let (entries, unsafe_entries) = parsed;
    let layer = ParsedLayer {
        entries,
        unsafe_entries,
        compression,
        blob_digest: blob.0,
        blob_size: blob.1,
        diff_id: tar.0,
        tar_size: tar.1,
    };
    verify(&layer, expected, place)?;
    Ok(layer)
}

fn hashing<R: Read>(inner: R, aside: bool, place: &str) -> Result<Hashing<R>> {
    Hashing::new(inner, aside).map_err(|e| layer_io(place, "cannot start hashing", e))
}

/// A blob that does not parse may simply be the wrong blob: when the manifest gives
/// its digest, finish hashing it and report a mismatch, the real cause, first.
/// Only blobs of known size are drained, so a bomb cannot make this step long.
fn blame_digest_first<R: Read>(
    parse_error: ImageError,
    hashed_blob: Hashing<R>,
    expected: &Expected,
    place: &str,
) -> ImageError {
    let (Some(want), Some(_)) = (&expected.blob_digest, expected.blob_size) else {
        return parse_error;
    };
    match hashed_blob.finish() {
        Ok((actual, _)) if actual != *want => ImageError::DigestMismatch {
            place: place.to_owned(),
            expected: want.to_string(),
            actual: actual.to_string(),
        },
        _ => parse_error,
    }
}

/// Checks a read layer against the digests its manifest and config promise.
pub fn verify(layer: &ParsedLayer, expected: &Expected, place: &str) -> Result<()> {
    if let Some(want) = expected
        .blob_digest
        .as_ref()
        .filter(|w| **w != layer.blob_digest)
    {
        return Err(ImageError::DigestMismatch {
            place: place.to_owned(),
            expected: want.to_string(),
            actual: layer.blob_digest.to_string(),
        });
    }
    if let Some(want) = expected.diff_id.as_ref().filter(|w| **w != layer.diff_id) {
        return Err(ImageError::DigestMismatch {
            place: format!("{place} (uncompressed, diff_id)"),
            expected: want.to_string(),
            actual: layer.diff_id.to_string(),
        });
    }
    Ok(())
}

fn layer_io(place: &str, what: &'static str, source: std::io::Error) -> ImageError {
    ImageError::ReadFailed {
        place: place.to_owned(),
        what,
        source,
    }
}

fn bad_layer(place: &str, reason: impl Into<String>) -> ImageError {
    ImageError::BadLayer {
        place: place.to_owned(),
        reason: reason.into(),
    }
}

/// Counts uncompressed bytes and stops the stream at the limit (gzip bombs).
struct Bounded<R> {
    inner: R,
    read: u64,
    limit: u64,
}

impl<R> Bounded<R> {
    fn new(inner: R, limit: u64) -> Self {
        Bounded {
            inner,
            read: 0,
            limit,
        }
    }
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        if self.read > self.limit {
            return Err(io::Error::other(ExpansionLimit(self.limit)));
        }
        Ok(n)
    }
}

#[derive(Debug)]
struct ExpansionLimit(u64);
impl std::fmt::Display for ExpansionLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "expansion limit of {} bytes reached", self.0)
    }
}
impl std::error::Error for ExpansionLimit {}

type Parsed = (Vec<LayerEntry>, Vec<UnsafeEntry>);

/// Parses a decompressed tar while hashing it; returns the entries and the tar's
/// digest and size (the diff_id).
fn parse_tar(
    decompressed: impl Read,
    place: &str,
    limit: u64,
    aside: bool,
    options: &ReadOptions,
) -> Result<(Parsed, (Digest, u64))> {
    let mut hashed_tar = hashing(Bounded::new(decompressed, limit), aside, place)?;
    let parsed =
        walk_entries(&mut hashed_tar, options).map_err(|e| io_to_layer(e, place, limit))?;
    let tar = hashed_tar
        .finish()
        .map_err(|e| io_to_layer(e, place, limit))?;
    Ok((parsed, tar))
}

fn io_to_layer(e: io::Error, place: &str, limit: u64) -> ImageError {
    if e.get_ref()
        .is_some_and(|inner| inner.is::<ExpansionLimit>())
    {
        return ImageError::LayerTooLarge {
            place: place.to_owned(),
            limit,
            reason: "a compressed layer this small cannot hold that much; a decompression bomb?"
                .into(),
        };
    }
    if e.get_ref().is_some_and(|inner| inner.is::<ImageError>()) {
        // The blob's own reader failed (a registry too slow): its error, as it is.
        return crate::digest::unwrap_io_error(e, place);
    }
    bad_layer(place, e.to_string())
}

/// Long names and PAX records that apply to the next real entry.
#[derive(Default)]
struct Pending {
    long_name: Option<String>,
    long_link: Option<String>,
    pax: Vec<(String, Vec<u8>)>,
}

fn walk_entries(tar_stream: impl Read, options: &ReadOptions) -> io::Result<Parsed> {
    let mut archive = tar::Archive::new(tar_stream);
    let mut entries = Vec::new();
    let mut unsafe_entries = Vec::new();
    let mut pending = Pending::default();
    // One buffer for every file's bytes: a fresh one per file would be zeroed as
    // often as there are files.
    let mut scratch = vec![0u8; 64 * 1024];
    for entry in archive.entries()?.raw(true) {
        let mut entry = entry?;
        let kind = entry.header().entry_type();
        match kind {
            tar::EntryType::GNULongName => {
                pending.long_name =
                    Some(read_meta_string(&mut entry, LONG_NAME_LIMIT, "long name")?);
                continue;
            }
            tar::EntryType::GNULongLink => {
                pending.long_link =
                    Some(read_meta_string(&mut entry, LONG_NAME_LIMIT, "long link")?);
                continue;
            }
            tar::EntryType::XHeader => {
                let bytes = read_meta(&mut entry, PAX_LIMIT, "PAX header")?;
                pending.pax = tar::PaxExtensions::new(&bytes)
                    .filter_map(Result::ok)
                    .filter_map(|ext| {
                        Some((ext.key().ok()?.to_owned(), ext.value_bytes().to_vec()))
                    })
                    .collect();
                continue;
            }
            tar::EntryType::XGlobalHeader => continue,
            _ => {}
        }
        let meta = std::mem::take(&mut pending);
        if entries.len() >= options.max_entries {
            return Err(io::Error::other(format!(
                "more than {} entries in one layer",
                options.max_entries
            )));
        }
        if let Some(record) =
            read_entry(&mut entry, meta, options, &mut unsafe_entries, &mut scratch)?
        {
            entries.push(record);
        }
    }
    Ok((entries, unsafe_entries))
}

fn read_meta(entry: &mut impl Read, limit: u64, what: &str) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    entry.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(io::Error::other(format!(
            "{what} longer than {limit} bytes"
        )));
    }
    Ok(bytes)
}

fn read_meta_string(entry: &mut impl Read, limit: u64, what: &str) -> io::Result<String> {
    let mut bytes = read_meta(entry, limit, what)?;
    while bytes.last() == Some(&0) {
        bytes.pop();
    }
    Ok(crate::path::name_from_bytes(&bytes).into_owned())
}

fn pax_value<'a>(pax: &'a [(String, Vec<u8>)], key: &str) -> Option<&'a [u8]> {
    pax.iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_slice())
}

fn pax_number(pax: &[(String, Vec<u8>)], key: &str) -> Option<u64> {
    let text = std::str::from_utf8(pax_value(pax, key)?).ok()?;
    // mtime may carry a fraction: "1700000000.123"
    text.split('.').next()?.parse().ok()
}

fn read_entry<R: Read>(
    entry: &mut tar::Entry<R>,
    meta: Pending,
    options: &ReadOptions,
    unsafe_entries: &mut Vec<UnsafeEntry>,
    scratch: &mut [u8],
) -> io::Result<Option<LayerEntry>> {
    let header = entry.header();
    let raw_name = match (&meta.long_name, pax_value(&meta.pax, "path")) {
        (_, Some(p)) => crate::path::name_from_bytes(p).into_owned(),
        (Some(n), None) => n.clone(),
        (None, None) => crate::path::name_from_bytes(&header.path_bytes()).into_owned(),
    };
    let raw_link = match (&meta.long_link, pax_value(&meta.pax, "linkpath")) {
        (_, Some(p)) => Some(crate::path::name_from_bytes(p).into_owned()),
        (Some(n), None) => Some(n.clone()),
        (None, None) => header
            .link_name_bytes()
            .map(|b| crate::path::name_from_bytes(&b).into_owned()),
    };
    let flag = |problem: PathProblem, list: &mut Vec<UnsafeEntry>| {
        list.push(UnsafeEntry {
            name: raw_name.clone(),
            problem,
            link: raw_link.clone(),
        })
    };
    let path = match path::normalize(&raw_name) {
        Ok(p) => p,
        Err(problem) => {
            flag(problem, unsafe_entries);
            return Ok(None);
        }
    };
    if raw_name.starts_with('/') {
        flag(PathProblem::Absolute, unsafe_entries);
    }

    let size = pax_number(&meta.pax, "size").unwrap_or(header.size()?);
    let mode = header.mode()? & 0o7777;
    let uid = pax_number(&meta.pax, "uid").unwrap_or(header.uid().unwrap_or(0));
    let gid = pax_number(&meta.pax, "gid").unwrap_or(header.gid().unwrap_or(0));
    let mtime = pax_number(&meta.pax, "mtime").unwrap_or(header.mtime().unwrap_or(0));
    let xattrs: Vec<(String, Vec<u8>)> = meta
        .pax
        .iter()
        .filter_map(|(k, v)| Some((k.strip_prefix("SCHILY.xattr.")?.to_owned(), v.clone())))
        .collect();

    let name = path::file_name(&path);
    if let Some(hidden) = name.strip_prefix(".wh.") {
        let dir = path::parent(&path);
        let (kind, target) = if hidden == ".wh..opq" {
            (EntryKind::OpaqueWhiteout, dir.to_owned())
        } else if hidden.starts_with(".wh.") {
            // Other `.wh..wh.` names are aufs bookkeeping, not whiteouts.
            return Ok(None);
        } else {
            (EntryKind::Whiteout, path::join(dir, hidden))
        };
        return Ok(Some(LayerEntry {
            path: target,
            kind,
            mode,
            uid,
            gid,
            size: 0,
            mtime,
            link: None,
            content_hash: None,
            xattrs: Vec::new(),
            content: None,
        }));
    }

    let entry_type = header.entry_type();
    let kind = match entry_type {
        tar::EntryType::Regular | tar::EntryType::Continuous | tar::EntryType::GNUSparse => {
            EntryKind::File
        }
        tar::EntryType::Directory => EntryKind::Dir,
        tar::EntryType::Symlink => EntryKind::Symlink,
        tar::EntryType::Link => EntryKind::Hardlink,
        tar::EntryType::Char => EntryKind::CharDevice,
        tar::EntryType::Block => EntryKind::BlockDevice,
        tar::EntryType::Fifo => EntryKind::Fifo,
        other => {
            return Err(io::Error::other(format!(
                "entry {raw_name:?} has unsupported tar type {:?}",
                other.as_byte() as char
            )));
        }
    };

    let mut link = None;
    match kind {
        EntryKind::Symlink => {
            let target = raw_link.clone().unwrap_or_default();
            if !path::symlink_stays_inside(&path, &target) {
                flag(PathProblem::SymlinkEscapesRoot, unsafe_entries);
            }
            link = Some(target);
        }
        EntryKind::Hardlink => match path::normalize(raw_link.as_deref().unwrap_or("")) {
            Ok(target) => link = Some(target),
            Err(_) => {
                flag(PathProblem::HardlinkEscapesRoot, unsafe_entries);
                return Ok(None);
            }
        },
        EntryKind::CharDevice | EntryKind::BlockDevice => {
            flag(PathProblem::DeviceFile, unsafe_entries);
        }
        _ => {}
    }

    let (content_hash, content) = if kind == EntryKind::File && size > 0 {
        let keep = options
            .keep_content
            .as_ref()
            .is_some_and(|wants| wants(&path, size));
        let reducer = match &options.reduce_content {
            Some(choose) if !keep => choose(&path, size, mode),
            _ => None,
        };
        hash_content(entry, keep, reducer, scratch)?
    } else {
        (None, None)
    };

    Ok(Some(LayerEntry {
        path,
        kind,
        mode,
        uid,
        gid,
        size: if kind == EntryKind::File { size } else { 0 },
        mtime,
        link,
        content_hash,
        xattrs,
        content,
    }))
}

/// File bytes kept for a cataloger.
pub type KeptBytes = Arc<[u8]>;

fn hash_content(
    entry: &mut impl Read,
    keep: bool,
    mut reducer: Option<Box<dyn ContentReducer>>,
    buf: &mut [u8],
) -> io::Result<(Option<u128>, Option<KeptBytes>)> {
    let mut hasher = Xxh3::new();
    let mut kept = keep.then(Vec::new);
    let mut reducing = reducer.is_some();
    loop {
        let n = entry.read(buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        if let Some(k) = kept.as_mut() {
            k.extend_from_slice(&buf[..n]);
        }
        if let (true, Some(r)) = (reducing, reducer.as_mut()) {
            reducing = r.update(&buf[..n]);
        }
    }
    let reduced = reducer.and_then(|r| r.finish()).map(Arc::from);
    Ok((Some(hasher.digest128()), kept.map(Arc::from).or(reduced)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{TarItem, gzip, tar_of};

    #[test]
    fn reads_plain_gzip_and_zstd_alike() {
        let tar = tar_of(&[
            TarItem::dir("etc/"),
            TarItem::file("etc/hosts", b"127.0.0.1 localhost\n", 0o644),
            TarItem::symlink("lib", "usr/lib"),
        ]);
        let zst = zstd::encode_all(&tar[..], 3).unwrap();
        for (blob, want) in [
            (tar.clone(), Compression::None),
            (gzip(&tar), Compression::Gzip),
            (zst, Compression::Zstd),
        ] {
            let expected = Expected {
                blob_digest: Some(Digest::of(&blob)),
                diff_id: Some(Digest::of(&tar)),
                blob_size: Some(blob.len() as u64),
            };
            let layer = read_layer(&blob[..], "t", &expected, &ReadOptions::default()).unwrap();
            assert_eq!(layer.compression, want);
            let paths: Vec<_> = layer.entries.iter().map(|e| e.path.as_str()).collect();
            assert_eq!(paths, ["/etc", "/etc/hosts", "/lib"]);
            assert_eq!(layer.entries[1].size, 20);
            assert_eq!(layer.entries[2].link.as_deref(), Some("usr/lib"));
        }
    }

    /// Options that hash on the parsing thread (`false`) or on threads beside it.
    fn hashing_aside(aside: bool) -> ReadOptions {
        ReadOptions {
            hash_aside_from: if aside { 0 } else { u64::MAX },
            ..Default::default()
        }
    }

    #[test]
    fn digest_mismatch_is_an_error_whichever_thread_hashes() {
        let tar = tar_of(&[TarItem::file("a", &[7u8; 300_000], 0o644)]);
        let right = Some(Digest::of(&tar));
        let wrong = Some(Digest::of(b"something else"));
        for aside in [false, true] {
            for (blob, expected, what) in [
                (
                    tar.clone(),
                    Expected {
                        blob_digest: wrong.clone(),
                        ..Default::default()
                    },
                    "blobs/sha256/abc: digest mismatch",
                ),
                (
                    tar.clone(),
                    Expected {
                        blob_digest: right.clone(),
                        diff_id: wrong.clone(),
                        blob_size: Some(tar.len() as u64),
                    },
                    "(uncompressed, diff_id)",
                ),
                (
                    gzip(&tar),
                    Expected {
                        blob_digest: wrong.clone(),
                        diff_id: right.clone(),
                        ..Default::default()
                    },
                    "blobs/sha256/abc: digest mismatch",
                ),
                (
                    gzip(&tar),
                    Expected {
                        diff_id: wrong.clone(),
                        ..Default::default()
                    },
                    "(uncompressed, diff_id)",
                ),
            ] {
                let err = read_layer(
                    &blob[..],
                    "blobs/sha256/abc",
                    &expected,
                    &hashing_aside(aside),
                )
                .unwrap_err();
                assert!(
                    matches!(err, ImageError::DigestMismatch { .. })
                        && err.to_string().contains(what),
                    "aside {aside}: {err}"
                );
            }
        }
    }

    #[test]
    fn an_uncompressed_blob_is_its_own_diff_id() {
        let tar = tar_of(&[TarItem::file("a", &[7u8; 300_000], 0o644)]);
        for aside in [false, true] {
            let layer =
                read_layer(&tar[..], "t", &Expected::default(), &hashing_aside(aside)).unwrap();
            assert_eq!(
                (layer.blob_digest.clone(), layer.blob_size),
                (Digest::of(&tar), tar.len() as u64)
            );
            assert_eq!(
                (layer.diff_id, layer.tar_size),
                (Digest::of(&tar), tar.len() as u64)
            );
        }
    }

    #[test]
    fn whiteouts_are_recognised() {
        let tar = tar_of(&[
            TarItem::file("etc/.wh.motd", b"", 0o644),
            TarItem::file("opt/.wh..wh..opq", b"", 0o644),
        ]);
        let layer =
            read_layer(&tar[..], "t", &Expected::default(), &ReadOptions::default()).unwrap();
        assert_eq!(layer.entries[0].kind, EntryKind::Whiteout);
        assert_eq!(layer.entries[0].path, "/etc/motd");
        assert_eq!(layer.entries[1].kind, EntryKind::OpaqueWhiteout);
        assert_eq!(layer.entries[1].path, "/opt");
    }

    #[test]
    fn hostile_names_are_flagged_not_followed() {
        let tar = tar_of(&[
            TarItem::file("../../etc/evil", b"x", 0o644),
            TarItem::file("/abs/file", b"y", 0o644),
            TarItem::symlink("esc", "../../../../etc/passwd"),
            TarItem::hardlink("hl", "../../outside"),
        ]);
        let layer =
            read_layer(&tar[..], "t", &Expected::default(), &ReadOptions::default()).unwrap();
        let problems: Vec<_> = layer
            .unsafe_entries
            .iter()
            .map(|u| u.problem.clone())
            .collect();
        assert_eq!(
            problems,
            [
                PathProblem::EscapesRoot,
                PathProblem::Absolute,
                PathProblem::SymlinkEscapesRoot,
                PathProblem::HardlinkEscapesRoot
            ]
        );
        let paths: Vec<_> = layer.entries.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, ["/abs/file", "/esc"]);
    }

    #[test]
    fn long_names_work_and_huge_ones_are_refused() {
        let long = format!("usr/{}/file", "d".repeat(300));
        let tar = tar_of(&[TarItem::file(&long, b"z", 0o644)]);
        let layer =
            read_layer(&tar[..], "t", &Expected::default(), &ReadOptions::default()).unwrap();
        assert_eq!(layer.entries[0].path, format!("/{long}"));

        let huge = format!("x/{}", "n".repeat(70 * 1024));
        let tar = tar_of(&[TarItem::file(&huge, b"z", 0o644)]);
        let err = read_layer(
            &tar[..],
            "layer.tar",
            &Expected::default(),
            &ReadOptions::default(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("long name longer than"), "{err}");
    }

    #[test]
    fn gzip_bomb_is_stopped() {
        // 64 MiB of zeros in a tar compresses to about 64 KiB: a ratio of ~1000.
        let zeros = vec![0u8; 64 << 20];
        let tar = tar_of(&[TarItem::file("bomb", &zeros, 0o644)]);
        let blob = gzip(&tar);
        let options = ReadOptions {
            min_expand_limit: 8 << 20,
            ..Default::default()
        };
        let expected = Expected {
            blob_size: Some(blob.len() as u64),
            ..Default::default()
        };
        let err = read_layer(&blob[..], "bomb.tar.gz", &expected, &options).unwrap_err();
        assert!(matches!(err, ImageError::LayerTooLarge { .. }), "{err}");
    }

    #[test]
    fn truncated_gzip_is_an_error() {
        let tar = tar_of(&[TarItem::file("a", &[7u8; 100_000], 0o644)]);
        let blob = gzip(&tar);
        let cut = &blob[..blob.len() / 2];
        let err = read_layer(
            cut,
            "blobs/sha256/x",
            &Expected::default(),
            &ReadOptions::default(),
        )
        .unwrap_err();
        assert!(err.to_string().starts_with("blobs/sha256/x:"), "{err}");
    }

    /// Counts the bytes it was shown, stopping after the first chunk when asked to.
    struct Counter {
        seen: usize,
        stop_early: bool,
    }
    impl ContentReducer for Counter {
        fn update(&mut self, chunk: &[u8]) -> bool {
            self.seen += chunk.len();
            !self.stop_early
        }
        fn finish(self: Box<Self>) -> Option<Vec<u8>> {
            Some(self.seen.to_string().into_bytes())
        }
    }

    #[test]
    fn reducers_keep_their_summary_and_keep_content_wins() {
        let tar = tar_of(&[
            TarItem::file("bin/tool", &[1u8; 200_000], 0o755),
            TarItem::file("bin/early", &[2u8; 200_000], 0o755),
            TarItem::file("etc/kept", b"bytes", 0o755),
            TarItem::file("etc/plain", b"data", 0o644),
        ]);
        let options = ReadOptions {
            keep_content: Some(Arc::new(|p: &str, _| p == "/etc/kept")),
            reduce_content: Some(Arc::new(|p: &str, _, mode| {
                (mode & 0o111 != 0).then(|| {
                    Box::new(Counter {
                        seen: 0,
                        stop_early: p.ends_with("early"),
                    }) as Box<dyn ContentReducer>
                })
            })),
            ..Default::default()
        };
        let layer = read_layer(&tar[..], "t", &Expected::default(), &options).unwrap();
        let content: Vec<Option<&[u8]>> =
            layer.entries.iter().map(|e| e.content.as_deref()).collect();
        assert_eq!(content[0], Some(&b"200000"[..]));
        let early: usize = std::str::from_utf8(content[1].unwrap())
            .unwrap()
            .parse()
            .unwrap();
        assert!(early > 0 && early < 200_000, "{early}");
        assert_eq!(content[2..], [Some(&b"bytes"[..]), None]);
    }

    #[test]
    fn setuid_bits_and_content_hash_are_kept() {
        let tar = tar_of(&[
            TarItem::file("a", b"same", 0o4755),
            TarItem::file("b", b"same", 0o644),
        ]);
        let layer =
            read_layer(&tar[..], "t", &Expected::default(), &ReadOptions::default()).unwrap();
        assert_eq!(layer.entries[0].mode, 0o4755);
        assert_eq!(layer.entries[0].content_hash, layer.entries[1].content_hash);
    }
}
