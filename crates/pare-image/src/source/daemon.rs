//! The Docker engine as a store: `GET /images/{name}/get` (what `docker save` uses)
//! streamed once. Layers are parsed as they pass and small JSON members kept, so
//! nothing is written to disk; the manifest is resolved when the stream ends,
//! because the engine may send `manifest.json` after the layers.

use std::collections::HashMap;
use std::io::Read;
use std::sync::mpsc;

use bollard::Docker;
use futures_util::StreamExt;

use super::{Resolved, SMALL_BLOB_LIMIT, Store, resolve};
use crate::error::{ImageError, Result};
use crate::layer::{Expected, ParsedLayer, ReadOptions, read_layer, verify};
use crate::platform::Platform;

/// Connects as the docker CLI does (`DOCKER_HOST`, else the local socket).
pub fn connect() -> Result<Docker> {
    Docker::connect_with_defaults().map_err(|e| engine_error("", e))
}

/// Explains a failed engine call: missing image, engine not running, or other.
pub fn engine_error(name: &str, e: bollard::errors::Error) -> ImageError {
    use bollard::errors::Error as E;
    match e {
        E::DockerResponseServerError {
            status_code: 404, ..
        } => ImageError::NotFound {
            name: name.to_owned(),
            looked_in: " in the Docker engine".into(),
        },
        E::SocketNotFoundError(path) => ImageError::NoEngine {
            at: Some(path),
            source: None,
        },
        E::HyperLegacyError { .. } | E::IOError { .. } => ImageError::NoEngine {
            at: None,
            source: Some(Box::new(e)),
        },
        other => ImageError::EngineCall(other),
    }
}

/// A runtime for the few async engine calls pare makes from its synchronous code.
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| ImageError::NoEngine {
            at: None,
            source: Some(Box::new(e)),
        })
}

/// Reads an image from the engine: resolves it (to `platform`'s image should the
/// export hold an index), and parses its layers on the way.
pub fn read(
    name: &str,
    options: &ReadOptions,
    platform: &Platform,
) -> Result<(Resolved, Vec<ParsedLayer>)> {
    read_spooling(name, None, options, platform)
}

/// Reads an image from the engine as [`read`] does and, with `spool`, writes the
/// export stream to that file at the same time (on the thread that receives it, while
/// this one parses): one pass gives the index and an archive to read again, instead
/// of writing the export first and reading it back.
pub fn read_spooling(
    name: &str,
    spool: Option<&std::path::Path>,
    options: &ReadOptions,
    platform: &Platform,
) -> Result<(Resolved, Vec<ParsedLayer>)> {
    let docker = connect()?;
    let rt = runtime()?;
    rt.block_on(docker.inspect_image(name))
        .map_err(|e| engine_error(name, e))?;
    let mut file = match spool {
        Some(path) => Some(std::io::BufWriter::with_capacity(
            1 << 20,
            std::fs::File::create(path).map_err(|e| ImageError::io(path, e))?,
        )),
        None => None,
    };

    let (tx, rx) = mpsc::sync_channel::<std::result::Result<bytes::Bytes, ExportFailure>>(32);
    let owned = name.to_owned();
    let spool_name = spool.map(|p| p.display().to_string()).unwrap_or_default();
    let pump = std::thread::spawn(move || {
        use std::io::Write;
        rt.block_on(async move {
            let mut stream = docker.export_image(&owned);
            while let Some(chunk) = stream.next().await {
                let mut item = chunk.map_err(ExportFailure::Engine);
                if let (Ok(bytes), Some(out)) = (&item, file.as_mut())
                    && let Err(e) = out.write_all(bytes)
                {
                    item = Err(ExportFailure::Spool {
                        spool: spool_name.clone(),
                        source: e,
                    });
                }
                let stop = item.is_err();
                if tx.send(item).is_err() || stop {
                    break;
                }
            }
            if let Some(mut out) = file {
                let flushed = out.flush();
                if let Err(e) = flushed {
                    let _ = tx.send(Err(ExportFailure::Spool {
                        spool: spool_name,
                        source: e,
                    }));
                }
            }
        })
    });
    let place = format!("docker-daemon:{name}");
    let result = read_exported(
        crate::layer::Counted::new(
            ChannelReader {
                rx,
                current: bytes::Bytes::new(),
            },
            options.progress.clone(),
        ),
        &place,
        options,
        platform,
    );
    // Dropping the receiver (inside read_exported's reader) ends the pump.
    let _ = pump.join();
    result
}

/// Reads what `docker save` (or `podman image save`) streams: parses the layers as
/// they pass, then resolves the manifest and checks every layer against it.
pub(crate) fn read_exported(
    stream: impl Read,
    place: &str,
    options: &ReadOptions,
    platform: &Platform,
) -> Result<(Resolved, Vec<ParsedLayer>)> {
    let (store, layers) = read_stream(stream, place, options)?;
    let resolved = resolve(&store, None, true, platform)?;
    let mut ordered = Vec::with_capacity(resolved.layers.len());
    for plan in &resolved.layers {
        let layer = layers
            .get(&plan.name)
            .ok_or_else(|| ImageError::MissingBlob {
                place: place.to_owned(),
                digest: plan.name.clone(),
            })?;
        verify(layer, &plan.expected, &store.place(&plan.name))?;
        ordered.push(layer.clone());
    }
    Ok((resolved, ordered))
}

/// The size of the image's layers as the engine stores them (about what its export
/// streams), for a progress display.
pub fn image_size(name: &str) -> Option<u64> {
    let docker = connect().ok()?;
    let rt = runtime().ok()?;
    let info = rt.block_on(docker.inspect_image(name)).ok()?;
    info.size.and_then(|s| u64::try_from(s).ok())
}

/// Exports an image from the engine into a `docker save` archive at `path`.
pub fn export_to(name: &str, path: &std::path::Path) -> Result<()> {
    let docker = connect()?;
    let rt = runtime()?;
    rt.block_on(docker.inspect_image(name))
        .map_err(|e| engine_error(name, e))?;
    let mut file = std::fs::File::create(path).map_err(|e| ImageError::io(path, e))?;
    rt.block_on(async {
        use std::io::Write;
        let mut stream = docker.export_image(name);
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| engine_error(name, e))?;
            file.write_all(&chunk)
                .map_err(|e| ImageError::io(path, e))?;
        }
        file.flush().map_err(|e| ImageError::io(path, e))
    })
}

/// Loads a `docker save` archive read from `archive` (a pipe another thread writes)
/// into the engine, as `docker load` does, streaming it in chunks.
pub fn load(archive: impl Read + Send + 'static) -> Result<()> {
    let docker = connect()?;
    let rt = runtime()?;
    let chunks = futures_util::stream::iter(std::iter::from_fn({
        let mut reader = archive;
        let mut done = false;
        move || {
            if done {
                return None;
            }
            let mut buf = vec![0u8; 1 << 20];
            match reader.read(&mut buf) {
                Ok(0) => None,
                Ok(n) => {
                    buf.truncate(n);
                    Some(Ok(bytes::Bytes::from(buf)))
                }
                Err(e) => {
                    done = true;
                    Some(Err(e))
                }
            }
        }
    }));
    rt.block_on(async {
        let mut stream = docker.import_image(
            bollard::query_parameters::ImportImageOptions::default(),
            bollard::body_try_stream(chunks),
            None,
        );
        while let Some(item) = stream.next().await {
            let info = item.map_err(|e| engine_error("", e))?;
            if let Some(message) = info.error_detail.and_then(|d| d.message).or(info.error) {
                return Err(ImageError::Engine(format!("loading the image: {message}")));
            }
        }
        Ok(())
    })
}

/// Why the engine's export stream stopped, carried from the pump thread to the reader.
#[derive(Debug, thiserror::Error)]
enum ExportFailure {
    #[error("export stream failed")]
    Engine(#[source] bollard::errors::Error),
    #[error("export stream failed: writing {spool}")]
    Spool {
        spool: String,
        #[source]
        source: std::io::Error,
    },
}

struct ChannelReader {
    rx: mpsc::Receiver<std::result::Result<bytes::Bytes, ExportFailure>>,
    current: bytes::Bytes,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.current.is_empty() {
            match self.rx.recv() {
                Ok(Ok(chunk)) => self.current = chunk,
                Ok(Err(e)) => return Err(std::io::Error::other(e)),
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current[..n]);
        let _ = self.current.split_to(n);
        Ok(n)
    }
}

/// Small members kept in memory, by name.
pub(crate) struct MemoryStore {
    origin: String,
    small: HashMap<String, Vec<u8>>,
}

impl Store for MemoryStore {
    fn read_small(&self, name: &str) -> Result<Option<Vec<u8>>> {
        Ok(self.small.get(name).cloned())
    }
    fn place(&self, name: &str) -> String {
        if name.is_empty() {
            self.origin.clone()
        } else {
            format!("{}:{name}", self.origin)
        }
    }
}

fn looks_like_metadata(name: &str) -> bool {
    name.ends_with(".json")
        || name.ends_with("/json")
        || name.ends_with("/VERSION")
        || matches!(name, "oci-layout" | "repositories")
}

/// Walks an archive stream once: small JSON members are kept, layer members parsed.
pub(crate) fn read_stream(
    stream: impl Read,
    origin: &str,
    options: &ReadOptions,
) -> Result<(MemoryStore, HashMap<String, ParsedLayer>)> {
    let mut archive = tar::Archive::new(stream);
    let mut small = HashMap::new();
    let mut layers = HashMap::new();
    let mut links = Vec::new();
    let unreadable = |what, source| ImageError::ReadFailed {
        place: origin.to_owned(),
        what,
        source,
    };
    let entries = archive
        .entries()
        .map_err(|e| unreadable("not an archive stream", e))?;
    for entry in entries.raw(true) {
        let mut entry = entry.map_err(|e| unreadable("corrupt archive stream", e))?;
        let name = super::member_name(&entry.path_bytes());
        let kind = entry.header().entry_type();
        if kind.is_symlink() || kind.is_hard_link() {
            if let Some(target) = super::member_link(&name, &entry) {
                links.push((name, target));
            }
            continue;
        }
        if kind != tar::EntryType::Regular {
            continue;
        }
        let size = entry
            .header()
            .size()
            .map_err(|e| unreadable("a member's size is unreadable", e))?;
        let place = format!("{origin}:{name}");
        if looks_like_metadata(&name) {
            if size <= SMALL_BLOB_LIMIT {
                let mut bytes = Vec::new();
                entry
                    .read_to_end(&mut bytes)
                    .map_err(|e| ImageError::io(&place, e))?;
                small.insert(name, bytes);
            }
            continue;
        }
        // Docker names layers `ID/layer.tar` or `blobs/sha256/HEX`; Podman and skopeo
        // `HEX.tar` at the top.
        let top_level_tar = name.ends_with(".tar") && !name.contains('/');
        if !(name.ends_with("/layer.tar") || name.starts_with("blobs/sha256/") || top_level_tar) {
            continue;
        }
        let mut first = [0u8; 1];
        let got = entry
            .read(&mut first)
            .map_err(|e| ImageError::io(&place, e))?;
        if got == 1 && first[0] == b'{' && size <= SMALL_BLOB_LIMIT {
            let mut bytes = first.to_vec();
            entry
                .read_to_end(&mut bytes)
                .map_err(|e| ImageError::io(&place, e))?;
            small.insert(name, bytes);
            continue;
        }
        let expected = Expected {
            blob_size: Some(size),
            ..Default::default()
        };
        let layer = read_layer(
            (&first[..got]).chain(&mut entry),
            &place,
            &expected,
            options,
        )?;
        layers.insert(name, layer);
    }
    // A layer identical to an earlier one comes as a link to it.
    super::follow_member_links(&mut layers, &links);
    Ok((
        MemoryStore {
            origin: origin.to_owned(),
            small,
        },
        layers,
    ))
}
