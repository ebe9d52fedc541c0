//! The Docker engine's own layer store, read in place instead of through `docker save`.
//!
//! With the overlay2 storage driver, each layer of an image in the engine is a
//! directory (`<root>/overlay2/<cache-id>/diff`), and beside it the engine keeps the
//! layer's tar headers and padding as they were (`layerdb/…/tar-split.json.gz`): that
//! is how the engine itself reassembles the byte-exact tar that `docker save` sends.
//! pare reassembles the same stream here, straight from those files, and reads it
//! with the same parser and the same digest checks as an exported archive (every
//! layer is checked against its diff_id, the config against the image id). What is
//! saved is the engine writing a tar and sending it over its socket, and pare
//! spooling it to disk to read it again: on the 1.4 GB test image that export alone
//! takes longer than pare's whole read of the same bytes.
//!
//! Only an engine on this machine whose layer files pare may read qualifies: pare as
//! root, a local socket, the overlay2 driver, no user-namespace remapping and not rootless (both
//! store files under shifted owners, which `docker save` shifts back), every layer
//! with its tar-split file. Anything else falls back to the export, with the reason
//! kept for the caller to tell. `PARE_ENGINE_EXPORT=1` forces the export.
//!
//! The reassembly is written here: no crate reads tar-split's format (Go's
//! `github.com/vbatts/tar-split`), which is small: one JSON object per line, either
//! raw tar bytes (`type` 2, base64 `payload`) or a file whose bytes come from the
//! layer directory (`type` 1, `name` or base64 `name_raw`, `size`).

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde::Deserialize;

use super::{BlobPlace, LayerPlan, LayerStore, Resolved, Store};
use crate::digest::Digest;
use crate::error::{ImageError, Result};
use crate::layer::{Expected, ParsedLayer, ReadOptions, read_layer};

/// The layers of one image in the engine's overlay2 store.
pub(crate) struct EngineStorage {
    image: String,
    layers: HashMap<String, LayerFiles>,
}

/// Where one layer's files and its tar headers are.
#[derive(Clone, Debug)]
struct LayerFiles {
    diff: PathBuf,
    tar_split: PathBuf,
    tar_size: u64,
}

/// Opens `name`'s layers in the engine's store, or says why they cannot be read in
/// place (the caller then exports the image).
pub(crate) fn open(name: &str) -> std::result::Result<(Resolved, EngineStorage), String> {
    if std::env::var_os("PARE_ENGINE_EXPORT").is_some_and(|v| v == "1") {
        return Err("PARE_ENGINE_EXPORT=1".into());
    }
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Err("reading the engine's files needs root".into());
    }
    if let Some(host) = std::env::var_os("DOCKER_HOST")
        && !host.to_string_lossy().starts_with("unix://")
    {
        return Err("the engine is not on this machine's socket".into());
    }
    let docker = super::daemon::connect().map_err(|e| e.to_string())?;
    let rt = super::daemon::runtime().map_err(|e| e.to_string())?;
    let info = rt.block_on(docker.info()).map_err(|e| e.to_string())?;
    if info.driver.as_deref() != Some("overlay2") {
        return Err(format!(
            "the engine's storage driver is {}",
            info.driver.as_deref().unwrap_or("not told")
        ));
    }
    let shifted = info
        .security_options
        .iter()
        .flatten()
        .any(|o| o.contains("name=rootless") || o.contains("name=userns"));
    if shifted {
        return Err(
            "the engine stores files under remapped owners (rootless or userns-remap)".into(),
        );
    }
    let root = PathBuf::from(info.docker_root_dir.ok_or("the engine told no root dir")?);
    let inspected = rt
        .block_on(docker.inspect_image(name))
        .map_err(|e| e.to_string())?;
    let driver = inspected.graph_driver.as_ref().map(|g| g.name.as_str());
    if driver != Some("overlay2") {
        return Err(format!("the image is stored by {driver:?}, not overlay2"));
    }
    let id = inspected.id.ok_or("the engine told no image id")?;
    let id = Digest::parse(&id).map_err(|e| format!("image id {id}: {e}"))?;
    // The engine's image configs, named by their digest's hex.
    let images =
        super::files::FileStore::blob_dir(&root.join("image/overlay2/imagedb/content/sha256"));
    let (config, config_digest, config_bytes) =
        super::read_config(&images, id.hex(), Some(&id)).map_err(|e| e.to_string())?;
    let diff_ids =
        super::parse_diff_ids(&config, &images.place(id.hex())).map_err(|e| e.to_string())?;
    let layer_db = root.join("image/overlay2/layerdb/sha256");
    let mut layers = HashMap::new();
    let mut plans = Vec::new();
    let mut chain: Option<Digest> = None;
    for diff_id in &diff_ids {
        let chain_id = match &chain {
            None => diff_id.clone(),
            Some(below) => Digest::of(format!("{below} {diff_id}").as_bytes()),
        };
        let dir = layer_db.join(chain_id.hex());
        let told = |file: &str| {
            std::fs::read_to_string(dir.join(file))
                .map(|s| s.trim().to_owned())
                .map_err(|e| format!("{}: {e}", dir.join(file).display()))
        };
        if told("diff")? != diff_id.to_string() {
            return Err(format!("{} names another layer", dir.display()));
        }
        let diff = root.join("overlay2").join(told("cache-id")?).join("diff");
        let tar_split = dir.join("tar-split.json.gz");
        if !diff.is_dir() {
            return Err(format!("no layer directory {}", diff.display()));
        }
        let tar_size = tar_size(&tar_split).map_err(|e| format!("{}: {e}", tar_split.display()))?;
        layers.insert(
            diff_id.to_string(),
            LayerFiles {
                diff,
                tar_split,
                tar_size,
            },
        );
        plans.push(LayerPlan {
            name: diff_id.to_string(),
            expected: Expected {
                blob_digest: Some(diff_id.clone()),
                diff_id: Some(diff_id.clone()),
                blob_size: Some(tar_size),
            },
            media_type: None,
        });
        chain = Some(chain_id);
    }
    let resolved = Resolved {
        config,
        config_digest,
        config_bytes,
        manifest_digest: None,
        manifest: None,
        repo_tags: inspected.repo_tags.unwrap_or_default(),
        layers: plans,
    };
    let storage = EngineStorage {
        image: name.to_owned(),
        layers,
    };
    Ok((resolved, storage))
}

impl EngineStorage {
    fn files(&self, plan: &LayerPlan) -> Result<&LayerFiles> {
        self.layers
            .get(&plan.name)
            .ok_or_else(|| ImageError::MissingBlob {
                place: format!("docker-daemon:{}", self.image),
                digest: plan.name.clone(),
            })
    }

    fn place(&self, plan: &LayerPlan) -> String {
        // The caller's context names the image already.
        match self.layers.get(&plan.name) {
            Some(files) => format!(
                "layer {} (read in place from {})",
                plan.name,
                files.diff.display()
            ),
            None => format!("layer {}", plan.name),
        }
    }

    fn read_one(&self, plan: &LayerPlan, options: &ReadOptions) -> Result<ParsedLayer> {
        let files = self.files(plan)?;
        let stream = Reassembled::open(files)?;
        let stream = crate::layer::Counted::new(stream, options.progress.clone());
        read_layer(stream, &self.place(plan), &plan.expected, options)
    }
}

impl LayerStore for EngineStorage {
    fn read_layers(&self, plans: &[LayerPlan], options: &ReadOptions) -> Result<Vec<ParsedLayer>> {
        super::read_distinct(
            plans,
            super::cores(),
            |plan| BlobPlace {
                key: plan.name.clone(),
                size: plan.expected.blob_size.unwrap_or(0),
            },
            |plan| self.place(plan),
            |plan| self.read_one(plan, options),
        )
    }

    fn read_file(&self, plan: &LayerPlan, path: &str) -> Option<Result<Vec<u8>>> {
        let read = || {
            let files = self.files(plan)?;
            let root: OwnedFd = File::open(&files.diff)
                .map_err(|e| ImageError::io(&files.diff, e))?
                .into();
            let mut bytes = Vec::new();
            // The bytes the layer names the file by, not the escaped text of the index.
            let name = crate::path::name_to_bytes(path);
            open_beneath(&root, &name)
                .and_then(|mut file| file.read_to_end(&mut bytes))
                .map_err(|e| ImageError::io(files.diff.join(path.trim_start_matches('/')), e))?;
            Ok(bytes)
        };
        Some(read())
    }

    fn open_blob(&self, plan: &LayerPlan) -> Result<(Box<dyn Read + Send>, u64)> {
        let files = self.files(plan)?;
        Ok((Box::new(Reassembled::open(files)?), files.tar_size))
    }
}

/// One line of a tar-split file.
#[derive(Deserialize)]
struct SplitEntry {
    #[serde(rename = "type")]
    kind: u8,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    name_raw: Option<String>,
    #[serde(default)]
    size: u64,
    #[serde(default)]
    payload: Option<String>,
}

/// tar-split's entry types.
const FILE_ENTRY: u8 = 1;
const SEGMENT_ENTRY: u8 = 2;

fn entries(
    tar_split: &Path,
) -> std::io::Result<impl Iterator<Item = std::io::Result<SplitEntry>> + Send + use<>> {
    let file = File::open(tar_split)?;
    let lines = BufReader::new(flate2::read::GzDecoder::new(BufReader::new(file))).lines();
    Ok(lines.filter_map(|line| match line {
        Ok(l) if l.trim().is_empty() => None,
        Ok(l) => Some(serde_json::from_str::<SplitEntry>(&l).map_err(std::io::Error::other)),
        Err(e) => Some(Err(e)),
    }))
}

fn segment_bytes(entry: &SplitEntry) -> std::io::Result<Vec<u8>> {
    base64::engine::general_purpose::STANDARD
        .decode(entry.payload.as_deref().unwrap_or(""))
        .map_err(std::io::Error::other)
}

/// The size of the tar a tar-split file reassembles to.
fn tar_size(tar_split: &Path) -> std::io::Result<u64> {
    let mut size = 0;
    for entry in entries(tar_split)? {
        let entry = entry?;
        size += match entry.kind {
            SEGMENT_ENTRY => segment_bytes(&entry)?.len() as u64,
            _ => entry.size,
        };
    }
    Ok(size)
}

/// A layer's tar, reassembled from its tar-split file and its directory.
struct Reassembled {
    root: OwnedFd,
    entries: Box<dyn Iterator<Item = std::io::Result<SplitEntry>> + Send>,
    current: Part,
}

enum Part {
    Bytes(Vec<u8>, usize),
    File { file: File, left: u64, name: String },
    Between,
}

impl Reassembled {
    fn open(files: &LayerFiles) -> Result<Self> {
        let root = File::open(&files.diff).map_err(|e| ImageError::io(&files.diff, e))?;
        let entries = entries(&files.tar_split).map_err(|e| ImageError::io(&files.tar_split, e))?;
        Ok(Reassembled {
            root: root.into(),
            entries: Box::new(entries),
            current: Part::Between,
        })
    }

    /// The next part, or `None` at the end of the tar.
    fn next_part(&mut self) -> std::io::Result<Option<Part>> {
        loop {
            let Some(entry) = self.entries.next().transpose()? else {
                return Ok(None);
            };
            match entry.kind {
                SEGMENT_ENTRY => return Ok(Some(Part::Bytes(segment_bytes(&entry)?, 0))),
                FILE_ENTRY if entry.size == 0 => continue,
                FILE_ENTRY => {
                    let name = match (&entry.name_raw, &entry.name) {
                        (Some(raw), _) => base64::engine::general_purpose::STANDARD
                            .decode(raw)
                            .map_err(std::io::Error::other)?,
                        (None, Some(name)) => name.clone().into_bytes(),
                        (None, None) => {
                            return Err(std::io::Error::other("a file entry without a name"));
                        }
                    };
                    let file = open_beneath(&self.root, &name)?;
                    return Ok(Some(Part::File {
                        file,
                        left: entry.size,
                        name: crate::path::name_from_bytes(&name).into_owned(),
                    }));
                }
                other => {
                    return Err(std::io::Error::other(format!(
                        "unknown tar-split entry type {other}"
                    )));
                }
            }
        }
    }
}

impl Read for Reassembled {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            match &mut self.current {
                Part::Bytes(bytes, at) if *at < bytes.len() => {
                    let n = buf.len().min(bytes.len() - *at);
                    buf[..n].copy_from_slice(&bytes[*at..*at + n]);
                    *at += n;
                    return Ok(n);
                }
                Part::File { file, left, name } if *left > 0 => {
                    let want = buf.len().min(usize::try_from(*left).unwrap_or(usize::MAX));
                    let n = file.read(&mut buf[..want])?;
                    if n == 0 {
                        return Err(std::io::Error::new(
                            std::io::ErrorKind::UnexpectedEof,
                            format!("{name} is {left} bytes shorter than its tar header says"),
                        ));
                    }
                    *left -= n as u64;
                    return Ok(n);
                }
                _ => match self.next_part()? {
                    Some(part) => self.current = part,
                    None => return Ok(0),
                },
            }
        }
    }
}

/// Opens a regular file of the layer directory by its tar name, never outside it:
/// the names come from the image, so `..` and symlinks may only resolve inside the
/// directory (openat2's `RESOLVE_BENEATH`), and only a regular file is read (a FIFO
/// or device would block or read something else).
fn open_beneath(root: &OwnedFd, name: &[u8]) -> std::io::Result<File> {
    let mut relative: &[u8] = name;
    while let Some(rest) = relative
        .strip_prefix(b"./")
        .or_else(|| relative.strip_prefix(b"/"))
    {
        relative = rest;
    }
    let path = std::ffi::CString::new(relative).map_err(std::io::Error::other)?;
    // SAFETY: open_how is plain integers, for which zero is valid (and means "none").
    let mut how: libc::open_how = unsafe { std::mem::zeroed() };
    how.flags = (libc::O_RDONLY | libc::O_CLOEXEC | libc::O_NONBLOCK | libc::O_NOCTTY) as u64;
    how.resolve = libc::RESOLVE_BENEATH | libc::RESOLVE_NO_MAGICLINKS;
    // SAFETY: `path` is a NUL-terminated string and `how` a valid open_how of the
    // size passed; the returned descriptor, if any, is owned by nobody else.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_openat2,
            root.as_raw_fd(),
            path.as_ptr(),
            &how as *const libc::open_how,
            std::mem::size_of::<libc::open_how>(),
        )
    };
    if fd < 0 {
        let e = std::io::Error::last_os_error();
        return Err(std::io::Error::new(
            e.kind(),
            format!("{}: {e}", String::from_utf8_lossy(relative)),
        ));
    }
    // SAFETY: a descriptor openat2 just returned, owned by nobody else.
    let file = unsafe { File::from_raw_fd(fd as i32) };
    if !file.metadata()?.is_file() {
        return Err(std::io::Error::other(format!(
            "{} is not a regular file in the layer directory",
            String::from_utf8_lossy(relative)
        )));
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn tar_split(dir: &Path, lines: &[serde_json::Value]) -> PathBuf {
        let path = dir.join("tar-split.json.gz");
        let mut gz = flate2::write::GzEncoder::new(
            File::create(&path).unwrap(),
            flate2::Compression::fast(),
        );
        for line in lines {
            writeln!(gz, "{line}").unwrap();
        }
        gz.finish().unwrap();
        path
    }

    fn b64(bytes: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    #[test]
    fn reassembles_segments_and_files_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let diff = dir.path().join("diff");
        std::fs::create_dir_all(diff.join("etc")).unwrap();
        std::fs::write(diff.join("etc/hostname"), b"box\n").unwrap();
        let split = tar_split(
            dir.path(),
            &[
                serde_json::json!({"type": 2, "payload": b64(b"HEADER"), "position": 0}),
                serde_json::json!({"type": 1, "name": "etc/hostname", "size": 4, "position": 1}),
                serde_json::json!({"type": 2, "payload": b64(b"PAD"), "position": 2}),
                serde_json::json!({"type": 1, "name": "etc/", "size": 0, "position": 3}),
            ],
        );
        let files = LayerFiles {
            diff,
            tar_size: tar_size(&split).unwrap(),
            tar_split: split,
        };
        let mut out = Vec::new();
        Reassembled::open(&files)
            .unwrap()
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, b"HEADERbox\nPAD");
        assert_eq!(files.tar_size, out.len() as u64);
    }

    #[test]
    fn names_never_reach_outside_the_layer_directory() {
        let dir = tempfile::tempdir().unwrap();
        let diff = dir.path().join("diff");
        std::fs::create_dir_all(&diff).unwrap();
        std::fs::write(dir.path().join("secret"), b"host file").unwrap();
        std::os::unix::fs::symlink("/etc/passwd", diff.join("abs")).unwrap();
        std::os::unix::fs::symlink("../secret", diff.join("up")).unwrap();
        let root: OwnedFd = File::open(&diff).unwrap().into();
        for name in ["../secret", "abs", "up", "/../secret"] {
            let refused = open_beneath(&root, name.as_bytes());
            assert!(refused.is_err(), "{name} was opened");
        }
        std::fs::write(diff.join("inside"), b"ok").unwrap();
        let mut text = String::new();
        open_beneath(&root, b"./inside")
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(text, "ok");
    }

    #[test]
    fn a_file_shorter_than_its_header_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let diff = dir.path().join("diff");
        std::fs::create_dir_all(&diff).unwrap();
        std::fs::write(diff.join("f"), b"12").unwrap();
        let split = tar_split(
            dir.path(),
            &[serde_json::json!({"type": 1, "name": "f", "size": 5})],
        );
        let files = LayerFiles {
            diff,
            tar_size: 5,
            tar_split: split,
        };
        let mut out = Vec::new();
        let err = Reassembled::open(&files)
            .unwrap()
            .read_to_end(&mut out)
            .unwrap_err();
        assert!(err.to_string().contains("shorter"), "{err}");
    }
}
