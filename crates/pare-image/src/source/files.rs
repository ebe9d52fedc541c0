//! Stores on disk: an OCI image layout directory, and a tar archive (`docker save`
//! output in classic or OCI layout, or an `oci-archive`). Archive members are read in
//! place by offset, so several layers can be decompressed at once.

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use super::{LayerPlan, SMALL_BLOB_LIMIT, Store};
use crate::error::{ImageError, Result};
use crate::layer::{ParsedLayer, ReadOptions, read_layer};

/// A blob as a byte range of a file.
#[derive(Clone, Debug)]
struct Extent {
    file: PathBuf,
    offset: u64,
    len: u64,
}

impl Extent {
    fn open(&self) -> std::io::Result<impl Read + Send + use<>> {
        let mut f = File::open(&self.file)?;
        f.seek(SeekFrom::Start(self.offset))?;
        Ok(f.take(self.len))
    }
}

/// An OCI layout directory or a tar archive, with the places of its members.
pub(crate) enum FileStore {
    Layout {
        dir: PathBuf,
    },
    Archive {
        path: PathBuf,
        members: HashMap<String, (u64, u64)>,
    },
}

impl FileStore {
    /// Opens an OCI image layout, checking its `oci-layout` marker.
    pub fn layout(dir: &Path) -> Result<Self> {
        let marker = dir.join("oci-layout");
        let bytes = std::fs::read(&marker).map_err(|e| ImageError::io(&marker, e))?;
        let parsed: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| {
            ImageError::manifest(marker.display().to_string(), format!("not JSON: {e}"))
        })?;
        if parsed.get("imageLayoutVersion").is_none() {
            return Err(ImageError::manifest(
                marker.display().to_string(),
                "no imageLayoutVersion: not an OCI image layout",
            ));
        }
        Ok(FileStore::Layout {
            dir: dir.to_owned(),
        })
    }

    /// Indexes the members of a tar archive (one pass over its headers, no data read).
    pub fn archive(path: &Path) -> Result<Self> {
        let file = File::open(path).map_err(|e| ImageError::io(path, e))?;
        let bad = |reason: String| ImageError::BadManifest {
            place: path.display().to_string(),
            reason,
        };
        let mut archive = tar::Archive::new(std::io::BufReader::new(file));
        let mut members = HashMap::new();
        let entries = archive
            .entries()
            .map_err(|e| bad(format!("not a tar archive: {e}")))?;
        for entry in entries.raw(true) {
            let entry = entry.map_err(|e| bad(format!("corrupt tar archive: {e}")))?;
            if entry.header().entry_type() != tar::EntryType::Regular {
                continue;
            }
            let name = String::from_utf8_lossy(&entry.path_bytes())
                .trim_start_matches("./")
                .to_owned();
            let len = entry
                .header()
                .size()
                .map_err(|e| bad(format!("member {name}: {e}")))?;
            members.insert(name, (entry.raw_file_position(), len));
        }
        if members.is_empty() {
            return Err(bad("empty or not a tar archive".into()));
        }
        Ok(FileStore::Archive {
            path: path.to_owned(),
            members,
        })
    }

    fn extent(&self, name: &str) -> Result<Option<Extent>> {
        match self {
            FileStore::Layout { dir } => {
                let file = dir.join(name);
                match std::fs::metadata(&file) {
                    Ok(meta) => Ok(Some(Extent {
                        file,
                        offset: 0,
                        len: meta.len(),
                    })),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                    Err(e) => Err(ImageError::io(file, e)),
                }
            }
            FileStore::Archive { path, members } => {
                Ok(members.get(name).map(|&(offset, len)| Extent {
                    file: path.clone(),
                    offset,
                    len,
                }))
            }
        }
    }

    /// The stored bytes of a layer as they are (still compressed), and their size.
    pub fn open_blob(&self, plan: &LayerPlan) -> Result<(Box<dyn Read + Send>, u64)> {
        let extent = self
            .extent(&plan.name)?
            .ok_or_else(|| ImageError::MissingBlob {
                place: self.place(""),
                digest: plan.name.clone(),
            })?;
        let reader = extent.open().map_err(|e| ImageError::io(&extent.file, e))?;
        Ok((Box::new(reader), extent.len))
    }

    /// Reads every planned layer, up to one per core at a time, in plan order.
    pub fn read_layers(
        &self,
        plans: &[LayerPlan],
        options: &ReadOptions,
    ) -> Result<Vec<ParsedLayer>> {
        let workers = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .min(plans.len())
            .max(1);
        let next = AtomicUsize::new(0);
        let failed = AtomicBool::new(false);
        let results: Mutex<Vec<Option<Result<ParsedLayer>>>> =
            Mutex::new((0..plans.len()).map(|_| None).collect());
        std::thread::scope(|scope| {
            for _ in 0..workers {
                scope.spawn(|| {
                    loop {
                        let i = next.fetch_add(1, Ordering::SeqCst);
                        if i >= plans.len() || failed.load(Ordering::SeqCst) {
                            break;
                        }
                        let result = self.read_one(&plans[i], options);
                        if result.is_err() {
                            failed.store(true, Ordering::SeqCst);
                        }
                        if let Ok(mut slots) = results.lock() {
                            slots[i] = Some(result);
                        }
                    }
                });
            }
        });
        let slots = results
            .into_inner()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut layers = Vec::with_capacity(plans.len());
        let mut first_error = None;
        for slot in slots {
            match slot {
                Some(Ok(layer)) => layers.push(layer),
                Some(Err(e)) => {
                    first_error.get_or_insert(e);
                }
                None => {}
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(layers),
        }
    }

    fn read_one(&self, plan: &LayerPlan, options: &ReadOptions) -> Result<ParsedLayer> {
        let place = self.place(&plan.name);
        let extent = self
            .extent(&plan.name)?
            .ok_or_else(|| ImageError::MissingBlob {
                place: self.place(""),
                digest: plan
                    .expected
                    .blob_digest
                    .as_ref()
                    .map(|d| d.to_string())
                    .unwrap_or_else(|| plan.name.clone()),
            })?;
        let mut expected = plan.expected.clone();
        if let Some(want) = expected.blob_size.filter(|w| *w != extent.len) {
            return Err(ImageError::BadLayer {
                place,
                reason: format!("size is {} bytes but the manifest says {want}", extent.len),
            });
        }
        expected.blob_size = Some(extent.len);
        let reader = extent.open().map_err(|e| ImageError::io(&extent.file, e))?;
        read_layer(reader, &place, &expected, options)
    }
}

impl Store for FileStore {
    fn read_small(&self, name: &str) -> Result<Option<Vec<u8>>> {
        let Some(extent) = self.extent(name)? else {
            return Ok(None);
        };
        if extent.len > SMALL_BLOB_LIMIT {
            return Err(ImageError::manifest(
                self.place(name),
                format!("{} bytes is too large for a manifest or config", extent.len),
            ));
        }
        let mut bytes = Vec::with_capacity(extent.len as usize);
        extent
            .open()
            .and_then(|mut r| r.read_to_end(&mut bytes))
            .map_err(|e| ImageError::io(&extent.file, e))?;
        Ok(Some(bytes))
    }

    fn place(&self, name: &str) -> String {
        match self {
            FileStore::Layout { dir } if name.is_empty() => dir.display().to_string(),
            FileStore::Layout { dir } => dir.join(name).display().to_string(),
            FileStore::Archive { path, .. } if name.is_empty() => path.display().to_string(),
            FileStore::Archive { path, .. } => format!("{}:{name}", path.display()),
        }
    }
}
