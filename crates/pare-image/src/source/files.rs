//! Stores on disk: an OCI image layout directory, and a tar archive (`docker save`
//! output in classic or OCI layout, or an `oci-archive`). Archive members are read in
//! place by offset, so several layers can be decompressed at once.

use super::{BlobPlace, LayerPlan, LayerStore, SMALL_BLOB_LIMIT, Store};
use crate::error::{ImageError, Result};
use crate::layer::{ParsedLayer, ReadOptions, read_layer};
use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

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
        let bytes = std::fs::read(&marker).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => ImageError::NotAnOciLayout {
                dir: dir.to_owned(),
            },
            _ => ImageError::io(&marker, e),
        })?;
        let parsed: serde_json::Value = serde_json::from_slice(&bytes)
            .map_err(|e| ImageError::json(marker.display().to_string(), "not JSON", e))?;
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

    /// A directory whose files are blobs named by their names, with no `oci-layout`
    /// marker: the Docker engine's store of image configs (`imagedb/content/sha256`).
    pub(crate) fn blob_dir(dir: &Path) -> Self {
        FileStore::Layout {
            dir: dir.to_owned(),
        }
    }

    /// Indexes the members of a tar archive (one pass over its headers, no data read).
    /// `kind` names what the archive should be (`docker save` archive, OCI archive),
    /// for the error when it is not a tar file at all. A member that is a symlink or
    /// hardlink to another member (`docker save` writes a layer identical to an
    /// earlier one as a symlink to the earlier `layer.tar`) reads as its target.
    pub fn archive(path: &Path, kind: &str) -> Result<Self> {
        let file = File::open(path).map_err(|e| ImageError::io(path, e))?;
        let not_archive = |reason: String| ImageError::NotAnArchive {
            path: path.to_owned(),
            kind: kind.to_owned(),
            reason,
        };
        let mut archive = tar::Archive::new(std::io::BufReader::new(file));
        let mut members = HashMap::new();
        let mut links: Vec<(String, String)> = Vec::new();
        // Seeking past each member's bytes, not reading them: the index costs one
        // read of the headers, however large the layers.
        let entries = archive
            .entries_with_seek()
            .map_err(|_| not_archive("not a tar file".into()))?;
        let mut last = None::<String>;
        for entry in entries.raw(true) {
            // The tar crate's message quotes the header bytes (the first line of a
            // text file given by mistake): say where it broke instead.
            let entry = entry.map_err(|_| match &last {
                None => not_archive("not a tar file".into()),
                Some(after) => ImageError::BadManifest {
                    place: path.display().to_string(),
                    reason: format!("corrupt tar archive after member {after}"),
                },
            })?;
            let name = super::member_name(&entry.path_bytes());
            let kind = entry.header().entry_type();
            if kind.is_symlink() || kind.is_hard_link() {
                if let Some(target) = super::member_link(&name, &entry) {
                    links.push((name.clone(), target));
                }
            } else if kind == tar::EntryType::Regular {
                let len = entry.header().size().map_err(|_| ImageError::BadManifest {
                    place: format!("{}:{name}", path.display()),
                    reason: "bad size field".into(),
                })?;
                members.insert(name.clone(), (entry.raw_file_position(), len));
            }
            last = Some(name);
        }
        if members.is_empty() {
            return Err(not_archive("no files in it".into()));
        }
        super::follow_member_links(&mut members, &links);
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
        let reader = crate::layer::Counted::new(reader, options.progress.clone());
        read_layer(reader, &place, &expected, options)
    }
}

impl LayerStore for FileStore {
    fn layers_size(&self, plans: &[LayerPlan]) -> u64 {
        plans
            .iter()
            .filter_map(|p| self.extent(&p.name).ok().flatten())
            .map(|e| e.len)
            .sum()
    }
    fn read_layers(&self, plans: &[LayerPlan], options: &ReadOptions) -> Result<Vec<ParsedLayer>> {
        super::read_distinct(
            plans,
            super::cores(),
            |plan| match self.extent(&plan.name).ok().flatten() {
                Some(e) => BlobPlace {
                    key: format!("{}@{}", e.file.display(), e.offset),
                    size: e.len,
                },
                None => BlobPlace {
                    key: plan.name.clone(),
                    size: 0,
                },
            },
            |plan| self.place(&plan.name),
            |plan| self.read_one(plan, options),
        )
    }

    fn open_blob(&self, plan: &LayerPlan) -> Result<(Box<dyn Read + Send>, u64)> {
        let extent = self
            .extent(&plan.name)?
            .ok_or_else(|| ImageError::MissingBlob {
                place: self.place(""),
                digest: plan.name.clone(),
            })?;
        let reader = extent.open().map_err(|e| ImageError::io(&extent.file, e))?;
        Ok((Box::new(reader), extent.len))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layer::ParsedLayer;
    use crate::testutil::{TarItem, gzip, tar_of, write_layout};

    fn layers_of(dir: &Path, options: &ReadOptions) -> Result<Vec<ParsedLayer>> {
        let store = FileStore::layout(dir)?;
        let resolved = super::super::resolve(&store, None, false, &crate::Platform::host())?;
        store.read_layers(&resolved.layers, options)
    }

    /// Everything a read tells, as text (entries hold no `PartialEq`).
    fn told(layers: &[ParsedLayer]) -> String {
        format!("{layers:#?}")
    }

    fn tars() -> [Vec<u8>; 2] {
        [
            tar_of(&[
                TarItem::dir("etc/"),
                TarItem::file("etc/big", &[9u8; 3 << 20], 0o644),
                TarItem::file("etc/os-release", b"ID=debian\n", 0o644),
            ]),
            tar_of(&[TarItem::file("app", &[1u8; 100_000], 0o755)]),
        ]
    }

    #[test]
    fn the_same_layers_whichever_thread_hashed_them() {
        let [big, small] = tars();
        let dir = tempfile::tempdir().unwrap();
        write_layout(
            dir.path(),
            &[
                (big.clone(), big.clone()),
                (gzip(&small), small.clone()),
                (gzip(&big), big),
                (small.clone(), small),
            ],
        );
        let read = |hash_aside_from| {
            let options = ReadOptions {
                hash_aside_from,
                ..Default::default()
            };
            told(&layers_of(dir.path(), &options).unwrap())
        };
        let inline = read(u64::MAX);
        assert_eq!(read(0), inline);
        assert_eq!(read(1 << 20), inline);
    }

    #[test]
    fn a_blob_named_twice_is_read_once_and_checked_for_each() {
        let [big, small] = tars();
        let dir = tempfile::tempdir().unwrap();
        let blob = gzip(&big);
        write_layout(
            dir.path(),
            &[
                (blob.clone(), big.clone()),
                (small.clone(), small.clone()),
                (blob.clone(), big.clone()),
            ],
        );
        let layers = layers_of(dir.path(), &ReadOptions::default()).unwrap();
        assert_eq!(told(&layers[..1]), told(&layers[2..]));
        assert_eq!(layers[1].blob_digest, crate::Digest::of(&small));

        // The second mention promises another diff_id: the digest already
        // computed is checked against it, and does not match.
        let other = tempfile::tempdir().unwrap();
        write_layout(other.path(), &[(blob.clone(), big), (blob, small)]);
        let err = layers_of(other.path(), &ReadOptions::default()).unwrap_err();
        assert!(
            matches!(&err, ImageError::DigestMismatch { place, .. } if place.ends_with("(uncompressed, diff_id)")),
            "{err}"
        );
    }
}
