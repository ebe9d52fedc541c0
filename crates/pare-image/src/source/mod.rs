//! Finding an image's config and layers in a store (an OCI layout, a `docker save`
//! archive or the Docker engine's export stream) and checking every digest on the way.
//!
//! The three stores share this resolver: they differ only in how a named blob is
//! reached, which is what [`Store`] abstracts.

pub mod daemon;
pub(crate) mod engine_storage;
pub mod files;
pub mod podman;
pub mod registry;

use oci_spec::image::{Descriptor, ImageIndex, ImageManifest};
use serde::Deserialize;

use crate::config::ImageConfig;
use crate::digest::Digest;
use crate::error::{ImageError, Result};
use crate::layer::{self, Expected, ParsedLayer, ReadOptions};
use crate::platform::Platform;

/// Config, manifest and index files are small; anything claiming more is refused.
pub(crate) const SMALL_BLOB_LIMIT: u64 = 16 << 20;

/// Access to the named blobs of one store: `blobs/sha256/<hex>`, `manifest.json` …
pub(crate) trait Store {
    /// The bytes of a small blob, or `None` when the store has no such name.
    fn read_small(&self, name: &str) -> Result<Option<Vec<u8>>>;
    /// How to call `name` in an error message (archive path and member, or file path).
    fn place(&self, name: &str) -> String;
    /// The bytes of the manifest or index stored as `name` (a registry serves these
    /// apart from other blobs).
    fn read_manifest(&self, name: &str) -> Result<Option<Vec<u8>>> {
        self.read_small(name)
    }
}

/// Where an opened image's layer blobs are read from, as often as needed.
pub(crate) trait LayerStore: Send + Sync {
    /// Reads every planned layer (several at once) in plan order.
    fn read_layers(&self, plans: &[LayerPlan], options: &ReadOptions) -> Result<Vec<ParsedLayer>>;
    /// The stored bytes of a layer, still compressed, and their size.
    fn open_blob(&self, plan: &LayerPlan) -> Result<(Box<dyn std::io::Read + Send>, u64)>;
    /// The bytes of the regular file `path` as layer `plan` holds it, for a store that
    /// can open one file of a layer without reading the layer (`None`: it cannot).
    fn read_file(&self, _plan: &LayerPlan, _path: &str) -> Option<Result<Vec<u8>>> {
        None
    }
    /// The stored bytes of every planned layer (what reading them reads), as far as
    /// the plans know them.
    fn layers_size(&self, plans: &[LayerPlan]) -> u64 {
        plans.iter().filter_map(|p| p.expected.blob_size).sum()
    }
}

/// Runs `job` for `0..count` on up to `workers` threads and returns the results in
/// order; the first error stops the others from taking new work.
pub(crate) fn in_parallel<T: Send>(
    count: usize,
    workers: usize,
    job: impl Fn(usize) -> Result<T> + Sync,
) -> Result<Vec<T>> {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    let workers = workers.min(count).max(1);
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let results: Mutex<Vec<Option<Result<T>>>> = Mutex::new((0..count).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= count || failed.load(Ordering::SeqCst) {
                        break;
                    }
                    let result = job(i);
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
    let mut done = Vec::with_capacity(count);
    let mut first_error = None;
    for slot in slots {
        match slot {
            Some(Ok(value)) => done.push(value),
            Some(Err(e)) => {
                first_error.get_or_insert(e);
            }
            None => {}
        }
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(done),
    }
}

/// Where a blob lives in its store and how many bytes it has: plans with the same
/// place read the same bytes.
pub(crate) struct BlobPlace {
    pub key: String,
    pub size: u64,
}

/// Reads each distinct blob of `plans` once, the largest first (so that a big layer
/// does not start last and run alone), on up to `workers` threads, and returns a
/// layer per plan in plan order. A blob named twice (`docker save` links a layer
/// identical to an earlier one to it; a manifest may list a blob twice) is hashed
/// once, and the digests that read gave are checked against every plan naming it.
pub(crate) fn read_distinct(
    plans: &[LayerPlan],
    workers: usize,
    blob: impl Fn(&LayerPlan) -> BlobPlace,
    place: impl Fn(&LayerPlan) -> String,
    read: impl Fn(&LayerPlan) -> Result<ParsedLayer> + Sync,
) -> Result<Vec<ParsedLayer>> {
    let mut first_of: std::collections::HashMap<String, usize> = Default::default();
    let mut distinct: Vec<(usize, u64)> = Vec::new();
    let slot_of: Vec<usize> = plans
        .iter()
        .enumerate()
        .map(|(i, plan)| {
            let BlobPlace { key, size } = blob(plan);
            *first_of.entry(key).or_insert_with(|| {
                distinct.push((i, size));
                distinct.len() - 1
            })
        })
        .collect();
    let mut order: Vec<usize> = (0..distinct.len()).collect();
    order.sort_by_key(|&slot| std::cmp::Reverse(distinct[slot].1));
    let read_in_order = in_parallel(order.len(), workers, |j| read(&plans[distinct[order[j]].0]))?;
    let mut by_slot: Vec<Option<ParsedLayer>> = (0..distinct.len()).map(|_| None).collect();
    for (j, layer) in read_in_order.into_iter().enumerate() {
        by_slot[order[j]] = Some(layer);
    }
    // The last plan naming a blob takes its layer; only earlier ones copy it.
    let mut last_of = vec![0; distinct.len()];
    for (i, &slot) in slot_of.iter().enumerate() {
        last_of[slot] = i;
    }
    let mut layers = Vec::with_capacity(plans.len());
    for (i, (plan, &slot)) in plans.iter().zip(&slot_of).enumerate() {
        let missing = || ImageError::MissingBlob {
            place: place(plan),
            digest: plan.name.clone(),
        };
        if distinct[slot].0 != i {
            let layer = by_slot[slot].as_ref().ok_or_else(missing)?;
            layer::verify(layer, &plan.expected, &place(plan))?;
        }
        let layer = match last_of[slot] == i {
            true => by_slot[slot].take(),
            false => by_slot[slot].clone(),
        };
        layers.push(layer.ok_or_else(missing)?);
    }
    Ok(layers)
}

/// One worker per core: decompression is what layers cost.
pub(crate) fn cores() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// An archive member's name as the manifest names it (no leading `./` or `/`).
pub(crate) fn member_name(raw: &[u8]) -> String {
    let name = String::from_utf8_lossy(raw);
    crate::path::normalize(&name)
        .unwrap_or_default()
        .trim_start_matches('/')
        .to_owned()
}

/// The member a symlink or hardlink member of an archive points to: `docker save`
/// writes a layer identical to an earlier one as a symlink to the earlier
/// `layer.tar`. A symlink's target is relative to its member's directory; one that
/// climbs out of the archive leads nowhere.
pub(crate) fn member_link<R: std::io::Read>(
    name: &str,
    entry: &tar::Entry<'_, R>,
) -> Option<String> {
    let target = entry.link_name_bytes()?;
    let target = String::from_utf8_lossy(&target).into_owned();
    let resolved = if entry.header().entry_type().is_symlink() && !target.starts_with('/') {
        crate::path::normalize(&crate::path::join(
            crate::path::parent(&format!("/{name}")),
            &target,
        ))
        .ok()?
    } else {
        member_name(target.as_bytes())
    };
    Some(resolved.trim_start_matches('/').to_owned())
}

/// Gives each link member the value of the member it points to (a link to a link is
/// followed a few hops at most); one that leads nowhere stays missing and is
/// reported as a missing blob when a manifest names it.
pub(crate) fn follow_member_links<V: Clone>(
    members: &mut std::collections::HashMap<String, V>,
    links: &[(String, String)],
) {
    for _hop in 0..8 {
        let mut progressed = false;
        for (name, target) in links {
            if !members.contains_key(name)
                && let Some(value) = members.get(target.as_str()).cloned()
            {
                members.insert(name.clone(), value);
                progressed = true;
            }
        }
        if !progressed {
            break;
        }
    }
}

/// A layer to read: where it is in the store and what it must hash to.
#[derive(Clone, Debug)]
pub struct LayerPlan {
    pub name: String,
    pub expected: Expected,
    pub media_type: Option<String>,
}

/// What a store says the image is.
#[derive(Clone, Debug)]
pub struct Resolved {
    pub config: ImageConfig,
    pub config_digest: Digest,
    /// The config exactly as stored (its digest is the image ID), for copying the
    /// image on unchanged.
    pub config_bytes: Vec<u8>,
    pub manifest_digest: Option<Digest>,
    /// The image manifest exactly as stored, when the store has one (a `docker save`
    /// archive has none).
    pub manifest: Option<RawManifest>,
    pub repo_tags: Vec<String>,
    pub layers: Vec<LayerPlan>,
}

/// A manifest's bytes and media type.
#[derive(Clone, Debug)]
pub struct RawManifest {
    pub bytes: Vec<u8>,
    pub media_type: String,
}

/// `manifest.json` of a `docker save` archive.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ArchiveManifestEntry {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    layers: Vec<String>,
}

/// Resolves the image in a store. `wanted` is a tag or name the user gave (`oci:DIR:TAG`,
/// `docker-archive:PATH:NAME`); an index of platforms leads on to `platform`'s image.
pub(crate) fn resolve(
    store: &dyn Store,
    wanted: Option<&str>,
    prefer_docker_manifest: bool,
    platform: &Platform,
) -> Result<Resolved> {
    let docker_manifest = store.read_small("manifest.json")?;
    match docker_manifest {
        Some(bytes) if prefer_docker_manifest => resolve_docker_manifest(store, &bytes, wanted),
        _ => match store.read_small("index.json")? {
            Some(bytes) => resolve_oci_index(store, &bytes, wanted, platform),
            None => Err(ImageError::manifest(
                store.place(""),
                "neither manifest.json nor index.json found: not a docker-archive or OCI layout",
            )),
        },
    }
}

fn resolve_docker_manifest(
    store: &dyn Store,
    bytes: &[u8],
    wanted: Option<&str>,
) -> Result<Resolved> {
    let place = store.place("manifest.json");
    let entries: Vec<ArchiveManifestEntry> = serde_json::from_slice(bytes)
        .map_err(|e| ImageError::json(&place, "not a valid docker-archive manifest", e))?;
    let entry = pick_archive_entry(&entries, wanted, &place)?;
    let (config, config_digest, config_bytes) = read_config(store, &entry.config, None)?;
    let diff_ids = parse_diff_ids(&config, &store.place(&entry.config))?;
    if diff_ids.len() != entry.layers.len() {
        return Err(ImageError::manifest(
            &place,
            format!(
                "{} layers listed but the config has {} diff_ids",
                entry.layers.len(),
                diff_ids.len()
            ),
        ));
    }
    let layers = entry
        .layers
        .iter()
        .zip(diff_ids)
        .map(|(name, diff_id)| LayerPlan {
            expected: Expected {
                blob_digest: digest_from_blob_name(name),
                diff_id: Some(diff_id),
                blob_size: None,
            },
            name: name.clone(),
            media_type: None,
        })
        .collect();
    Ok(Resolved {
        config,
        config_digest,
        config_bytes,
        manifest_digest: None,
        manifest: None,
        repo_tags: entry.repo_tags.clone().unwrap_or_default(),
        layers,
    })
}

fn pick_archive_entry<'a>(
    entries: &'a [ArchiveManifestEntry],
    wanted: Option<&str>,
    place: &str,
) -> Result<&'a ArchiveManifestEntry> {
    match wanted {
        Some(name) => entries
            .iter()
            .find(|e| {
                e.repo_tags
                    .iter()
                    .flatten()
                    .any(|t| t == name || t.strip_suffix(":latest") == Some(name))
            })
            .ok_or_else(|| {
                ImageError::manifest(place, format!("no image named {name:?} in the archive"))
            }),
        None => match entries {
            [one] => Ok(one),
            [] => Err(ImageError::manifest(place, "the archive holds no image")),
            many => Err(ImageError::manifest(
                place,
                format!(
                    "the archive holds {} images; name one: {}",
                    many.len(),
                    many.iter()
                        .flat_map(|e| e.repo_tags.iter().flatten())
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )),
        },
    }
}

fn resolve_oci_index(
    store: &dyn Store,
    bytes: &[u8],
    wanted: Option<&str>,
    platform: &Platform,
) -> Result<Resolved> {
    let place = store.place("index.json");
    let index: ImageIndex = serde_json::from_slice(bytes)
        .map_err(|e| ImageError::json(&place, "not a valid OCI index", e))?;
    let descriptor = pick_manifest(&index, wanted, &place)?;
    let tag = descriptor
        .annotations()
        .as_ref()
        .and_then(|a| {
            a.get("org.opencontainers.image.ref.name")
                .or(a.get("io.containerd.image.name"))
        })
        .cloned();
    let (manifest, raw, manifest_digest) = read_manifest(store, descriptor, platform, 0)?;
    let mut resolved = resolve_manifest(store, &manifest, raw, manifest_digest)?;
    resolved.repo_tags = tag.into_iter().collect();
    Ok(resolved)
}

/// The config and layer plans of an image manifest.
pub(crate) fn resolve_manifest(
    store: &dyn Store,
    manifest: &ImageManifest,
    raw: RawManifest,
    manifest_digest: Digest,
) -> Result<Resolved> {
    let place = store.place(&blob_name(&manifest_digest));
    let config_digest = descriptor_digest(manifest.config(), &place)?;
    let (config, _, config_bytes) =
        read_config(store, &blob_name(&config_digest), Some(&config_digest))?;
    let diff_ids = parse_diff_ids(&config, &store.place(&blob_name(&config_digest)))?;
    if diff_ids.len() != manifest.layers().len() {
        return Err(ImageError::manifest(
            &place,
            format!(
                "{} layers in the manifest but {} diff_ids in the config",
                manifest.layers().len(),
                diff_ids.len()
            ),
        ));
    }
    let mut layers = Vec::new();
    for (desc, diff_id) in manifest.layers().iter().zip(diff_ids) {
        let media_type = desc.media_type().to_string();
        let digest = descriptor_digest(desc, &place)?;
        if !layer::check_layer_media_type(&media_type) {
            return Err(ImageError::UnknownMediaType {
                place: store.place(&blob_name(&digest)),
                media_type,
            });
        }
        layers.push(LayerPlan {
            name: blob_name(&digest),
            expected: Expected {
                blob_digest: Some(digest),
                diff_id: Some(diff_id),
                blob_size: Some(desc.size()),
            },
            media_type: Some(media_type),
        });
    }
    Ok(Resolved {
        config,
        config_digest,
        config_bytes,
        manifest_digest: Some(manifest_digest),
        manifest: Some(raw),
        repo_tags: Vec::new(),
        layers,
    })
}

fn pick_manifest<'a>(
    index: &'a ImageIndex,
    wanted: Option<&str>,
    place: &str,
) -> Result<&'a Descriptor> {
    let tag_of = |d: &Descriptor| {
        d.annotations()
            .as_ref()
            .and_then(|a| {
                a.get("org.opencontainers.image.ref.name")
                    .or(a.get("io.containerd.image.name"))
            })
            .cloned()
    };
    let manifests = index.manifests();
    match wanted {
        Some(want) => manifests
            .iter()
            .find(|d| tag_of(d).is_some_and(|t| t == want || t.ends_with(&format!(":{want}"))))
            .ok_or_else(|| ImageError::manifest(place, format!("no manifest tagged {want:?}"))),
        None => match manifests.as_slice() {
            [one] => Ok(one),
            [] => Err(ImageError::manifest(place, "the index lists no manifest")),
            many => Err(ImageError::manifest(
                place,
                format!(
                    "the index lists {} manifests; name one with :TAG ({})",
                    many.len(),
                    many.iter()
                        .filter_map(tag_of)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )),
        },
    }
}

/// Reads a manifest, descending through nested indexes to `platform`'s.
fn read_manifest(
    store: &dyn Store,
    descriptor: &Descriptor,
    platform: &Platform,
    depth: u8,
) -> Result<(ImageManifest, RawManifest, Digest)> {
    let place = store.place("index.json");
    let digest = descriptor_digest(descriptor, &place)?;
    let name = blob_name(&digest);
    let bytes = match store.read_manifest(&name)? {
        Some(bytes) => check_digest(store, &name, &digest, bytes)?,
        None => return Err(missing(store, &name)),
    };
    parse_manifest(
        store,
        bytes,
        descriptor.media_type().to_string(),
        digest,
        platform,
        depth,
    )
}

/// Parses a manifest or index read from the store (checked against `digest`); an
/// index leads on to the manifest for `platform`.
pub(crate) fn parse_manifest(
    store: &dyn Store,
    bytes: Vec<u8>,
    media_type: String,
    digest: Digest,
    platform: &Platform,
    depth: u8,
) -> Result<(ImageManifest, RawManifest, Digest)> {
    let name = blob_name(&digest);
    if is_index_media_type(&media_type) {
        if depth > 2 {
            return Err(ImageError::manifest(
                store.place(&name),
                "indexes nested too deep",
            ));
        }
        let nested: ImageIndex = serde_json::from_slice(&bytes)
            .map_err(|e| ImageError::json(store.place(&name), "not a valid OCI index", e))?;
        let chosen = pick_platform(&nested, &store.place(&name), platform)?;
        return read_manifest(store, chosen, platform, depth + 1);
    }
    if !is_manifest_media_type(&media_type) {
        return Err(ImageError::UnknownMediaType {
            place: store.place(&name),
            media_type,
        });
    }
    let manifest: ImageManifest = serde_json::from_slice(&bytes)
        .map_err(|e| ImageError::json(store.place(&name), "not a valid image manifest", e))?;
    Ok((manifest, RawManifest { bytes, media_type }, digest))
}

pub(crate) fn is_index_media_type(media_type: &str) -> bool {
    media_type.ends_with("image.index.v1+json") || media_type.ends_with("manifest.list.v2+json")
}

pub(crate) fn is_manifest_media_type(media_type: &str) -> bool {
    media_type.ends_with("image.manifest.v1+json") || media_type.ends_with("manifest.v2+json")
}

/// The index entry for the `wanted` platform, or an error listing what there is.
fn pick_platform<'a>(
    index: &'a ImageIndex,
    place: &str,
    wanted: &Platform,
) -> Result<&'a Descriptor> {
    let offered = |d: &Descriptor| {
        d.platform().as_ref().map(|p| Platform {
            os: p.os().to_string(),
            architecture: p.architecture().to_string(),
            variant: p.variant().clone(),
        })
    };
    index
        .manifests()
        .iter()
        .find(|d| offered(d).is_some_and(|p| wanted.accepts(&p)))
        .ok_or_else(|| ImageError::NoPlatform {
            place: place.to_owned(),
            wanted: wanted.to_string(),
            available: {
                let all: Vec<String> = index
                    .manifests()
                    .iter()
                    .filter_map(|d| offered(d).map(|p| p.to_string()))
                    .collect();
                if all.is_empty() {
                    "no platforms listed".into()
                } else {
                    all.join(", ")
                }
            },
        })
}

fn read_config(
    store: &dyn Store,
    name: &str,
    digest: Option<&Digest>,
) -> Result<(ImageConfig, Digest, Vec<u8>)> {
    let expected = digest.cloned().or_else(|| digest_from_blob_name(name));
    let bytes = store
        .read_small(name)?
        .ok_or_else(|| missing(store, name))?;
    let bytes = match &expected {
        Some(d) => check_digest(store, name, d, bytes)?,
        None => bytes,
    };
    let config = ImageConfig::parse(&bytes, &store.place(name))?;
    let digest = expected.unwrap_or_else(|| Digest::of(&bytes));
    Ok((config, digest, bytes))
}

fn missing(store: &dyn Store, name: &str) -> ImageError {
    ImageError::MissingBlob {
        place: store.place(""),
        digest: name.to_owned(),
    }
}

fn check_digest(store: &dyn Store, name: &str, digest: &Digest, bytes: Vec<u8>) -> Result<Vec<u8>> {
    let actual = Digest::of(&bytes);
    if actual != *digest {
        return Err(ImageError::DigestMismatch {
            place: store.place(name),
            expected: digest.to_string(),
            actual: actual.to_string(),
        });
    }
    Ok(bytes)
}

fn parse_diff_ids(config: &ImageConfig, place: &str) -> Result<Vec<Digest>> {
    config
        .rootfs
        .diff_ids
        .iter()
        .map(|d| {
            Digest::parse(d)
                .map_err(|e| ImageError::manifest(place, format!("rootfs.diff_ids: {e}")))
        })
        .collect()
}

pub(crate) fn descriptor_digest(desc: &Descriptor, place: &str) -> Result<Digest> {
    Digest::parse(desc.digest().as_ref()).map_err(|e| ImageError::manifest(place, e))
}

/// `blobs/sha256/<hex>` for a digest.
pub fn blob_name(digest: &Digest) -> String {
    format!("blobs/sha256/{}", digest.hex())
}

/// The digest a blob's name promises: `blobs/sha256/<hex>` or docker's `<hex>.json`.
pub(crate) fn digest_from_blob_name(name: &str) -> Option<Digest> {
    let hex = name
        .strip_prefix("blobs/sha256/")
        .or_else(|| name.strip_suffix(".json").filter(|h| !h.contains('/')))?;
    Digest::parse(&format!("sha256:{hex}")).ok()
}
