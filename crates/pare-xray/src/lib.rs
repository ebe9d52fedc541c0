//! pare-xray: what is inside an image, from its file index: layers and what each
//! changed, wasted space, duplicate files, setuid and world-writable files, shells,
//! interpreters and package managers, the config, and the Dockerfile from history.
//!
//! The report is plain data ([`XrayReport`]); its JSON form is documented in
//! `docs/xray-json.md` and kept stable. Rendering for a terminal lives in the CLI.

pub mod dockerfile;
pub mod tools;
pub mod tree;

use std::collections::HashMap;

use globset::{Glob, GlobSetBuilder};
use pare_image::{EntryKind, ImageRead, LayerSummary};
use serde::Serialize;

pub use tools::ToolKind;

/// The version of the JSON shape; bumped only when a field changes meaning or goes.
pub const SCHEMA: &str = "pare.xray/v1";

/// What to look for beyond the standard analysis.
#[derive(Clone, Debug, Default)]
pub struct XrayOptions {
    /// Glob patterns (`*mailcap*`, `/usr/lib/**/*.so`) to list matching paths for.
    pub find: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct XrayReport {
    pub schema: &'static str,
    pub image: ImageFacts,
    pub layers: Vec<LayerFacts>,
    pub dockerfile: Vec<String>,
    pub waste: Waste,
    pub duplicates: Duplicates,
    pub setuid: Vec<FileFact>,
    pub world_writable: Vec<FileFact>,
    pub tools: Vec<ToolFact>,
    pub unsafe_entries: Vec<pare_image::index::LayerUnsafeEntry>,
    pub found: Vec<Found>,
}

#[derive(Debug, Serialize)]
pub struct ImageFacts {
    /// How the image was reached; differs between transports.
    pub source: Source,
    pub os: String,
    pub architecture: String,
    pub created: Option<String>,
    pub compressed_bytes: u64,
    pub uncompressed_bytes: u64,
    /// Bytes of the files in the final filesystem.
    pub content_bytes: u64,
    pub files: u64,
    pub directories: u64,
    pub user: String,
    pub runs_as_root: bool,
    pub entrypoint: Option<Vec<String>>,
    pub cmd: Option<Vec<String>>,
    pub env: Vec<String>,
    pub workdir: Option<String>,
    pub exposed_ports: Vec<String>,
    pub volumes: Vec<String>,
    pub labels: std::collections::BTreeMap<String, String>,
    pub stop_signal: Option<String>,
    pub healthcheck: Option<serde_json::Value>,
}

#[derive(Debug, Serialize)]
pub struct Source {
    pub reference: String,
    /// Converting between formats (skopeo to OCI, say) re-serialises the config,
    /// so its digest belongs to the store, not to the image's content.
    pub config_digest: String,
    pub repo_tags: Vec<String>,
    pub manifest_digest: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct LayerFacts {
    pub index: usize,
    pub instruction: String,
    pub created_by: Option<String>,
    pub diff_id: String,
    pub uncompressed_bytes: u64,
    pub entries: usize,
    pub added: pare_image::index::Tally,
    pub modified: pare_image::index::Tally,
    pub deleted: pare_image::index::Tally,
    /// The blob as stored; differs between transports (compression).
    pub blob: BlobFacts,
}

#[derive(Debug, Serialize)]
pub struct BlobFacts {
    pub digest: String,
    pub media_type: Option<String>,
    pub compression: pare_image::Compression,
    pub bytes: u64,
}

#[derive(Debug, Serialize)]
pub struct Waste {
    /// Bytes of file versions a later layer overwrote or deleted.
    pub wasted_bytes: u64,
    /// dive's score: 1.0 means no path was ever shipped twice.
    pub efficiency: f64,
    /// dive's "wasted" figure (it also counts the surviving version of each path).
    pub dive_wasted_bytes: u64,
    /// Largest hidden versions first.
    pub hidden: Vec<pare_image::index::HiddenFile>,
}

#[derive(Debug, Serialize)]
pub struct Duplicates {
    /// Bytes that would be saved by keeping one copy of each group.
    pub wasted_bytes: u64,
    pub groups: Vec<DuplicateGroup>,
}

#[derive(Debug, Serialize)]
pub struct DuplicateGroup {
    pub size: u64,
    pub paths: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct FileFact {
    pub path: String,
    pub kind: EntryKind,
    /// Octal, four digits (`4755`).
    pub mode: String,
    pub uid: u64,
    pub gid: u64,
    pub layer: usize,
    pub setuid: bool,
    pub setgid: bool,
    pub sticky: bool,
}

#[derive(Debug, Serialize)]
pub struct ToolFact {
    pub path: String,
    pub kind: ToolKind,
    /// Where a symlink leads, for links.
    pub target: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Found {
    pub pattern: String,
    pub path: String,
    pub kind: EntryKind,
    pub layer: usize,
    pub size: u64,
    pub mode: String,
}

/// Error from a bad `--find` pattern.
#[derive(Debug, thiserror::Error)]
#[error("bad --find pattern {pattern:?}: {reason}")]
pub struct PatternError {
    pub pattern: String,
    pub reason: String,
}

impl pare_hint::Hint for PatternError {
    fn hint(&self) -> Option<String> {
        Some(
            "--find takes a glob: a name (`libssl*`) matches anywhere, a path with `/` \
             (`/usr/lib/**/*.so`) from the root"
                .into(),
        )
    }
}

/// Analyses an image that has been read.
pub fn analyse(image: &ImageRead, options: &XrayOptions) -> Result<XrayReport, PatternError> {
    let found = find(image, &options.find)?;
    Ok(XrayReport {
        schema: SCHEMA,
        image: image_facts(image),
        layers: layer_facts(image),
        dockerfile: dockerfile_lines(image),
        waste: waste(image),
        duplicates: duplicates(image),
        setuid: file_facts(
            image,
            |mode| mode & 0o6000 != 0,
            &[EntryKind::File, EntryKind::Hardlink],
        ),
        world_writable: file_facts(
            image,
            |mode| mode & 0o002 != 0,
            &[EntryKind::File, EntryKind::Dir],
        ),
        tools: tools(image),
        unsafe_entries: image.index.unsafe_entries.clone(),
        found,
    })
}

fn image_facts(image: &ImageRead) -> ImageFacts {
    let config = &image.resolved.config;
    let run = config.run();
    let user = run.user.clone().unwrap_or_default();
    let (mut files, mut directories, mut content_bytes) = (0, 0, 0);
    for node in image.index.nodes.values() {
        if node.kind == EntryKind::Dir {
            directories += 1;
        } else {
            files += 1;
            content_bytes += node.size;
        }
    }
    ImageFacts {
        source: Source {
            reference: image.reference.to_string(),
            repo_tags: image.resolved.repo_tags.clone(),
            manifest_digest: image
                .resolved
                .manifest_digest
                .as_ref()
                .map(|d| d.to_string()),
            config_digest: image.resolved.config_digest.to_string(),
        },
        os: config.os.clone(),
        architecture: config.architecture.clone(),
        created: config.created.clone(),
        compressed_bytes: image.layers.iter().map(|l| l.blob_size).sum(),
        uncompressed_bytes: image.layers.iter().map(|l| l.tar_size).sum(),
        content_bytes,
        files,
        directories,
        runs_as_root: runs_as_root(&user),
        user,
        entrypoint: run.entrypoint.clone(),
        cmd: run.cmd.clone(),
        env: run.env.clone().unwrap_or_default(),
        workdir: run.working_dir.clone().filter(|w| !w.is_empty()),
        exposed_ports: run
            .exposed_ports
            .iter()
            .flatten()
            .map(|(k, _)| k.clone())
            .collect(),
        volumes: run
            .volumes
            .iter()
            .flatten()
            .map(|(k, _)| k.clone())
            .collect(),
        labels: run.labels.clone().unwrap_or_default(),
        stop_signal: run.stop_signal.clone(),
        healthcheck: run.healthcheck.clone(),
    }
}

/// No user, `root`, uid 0, with or without a group, all mean root.
pub fn runs_as_root(user: &str) -> bool {
    let name = user.split(':').next().unwrap_or("");
    name.is_empty() || name == "root" || name == "0"
}

fn layer_facts(image: &ImageRead) -> Vec<LayerFacts> {
    let history = image.resolved.config.layer_history();
    image
        .layers
        .iter()
        .enumerate()
        .map(|(i, layer): (usize, &LayerSummary)| {
            let step = history.get(i).copied().flatten();
            let created_by = step.and_then(|h| h.created_by.clone());
            let changes = image.index.changes.get(i).cloned().unwrap_or_default();
            LayerFacts {
                index: i,
                instruction: dockerfile::instruction(
                    created_by.as_deref().unwrap_or(""),
                    step.and_then(|h| h.comment.as_deref()),
                ),
                created_by,
                diff_id: layer.diff_id.to_string(),
                uncompressed_bytes: layer.tar_size,
                entries: layer.entries,
                added: changes.added,
                modified: changes.modified,
                deleted: changes.deleted,
                blob: BlobFacts {
                    digest: layer.blob_digest.to_string(),
                    media_type: layer.media_type.clone(),
                    compression: layer.compression,
                    bytes: layer.blob_size,
                },
            }
        })
        .collect()
}

fn dockerfile_lines(image: &ImageRead) -> Vec<String> {
    image
        .resolved
        .config
        .history
        .iter()
        .map(|h| {
            dockerfile::instruction(h.created_by.as_deref().unwrap_or(""), h.comment.as_deref())
        })
        .collect()
}

fn waste(image: &ImageRead) -> Waste {
    let efficiency = image.index.efficiency();
    let mut hidden = image.index.hidden.clone();
    hidden.sort_by(|a, b| b.size.cmp(&a.size).then_with(|| a.path.cmp(&b.path)));
    Waste {
        wasted_bytes: image.index.wasted_bytes(),
        efficiency: efficiency.score,
        dive_wasted_bytes: efficiency.dive_wasted_bytes,
        hidden,
    }
}

fn duplicates(image: &ImageRead) -> Duplicates {
    let mut by_content: HashMap<(u64, u128), Vec<&str>> = HashMap::new();
    for (path, node) in &image.index.nodes {
        if let (EntryKind::File, Some(hash)) = (node.kind, node.content_hash) {
            by_content.entry((node.size, hash)).or_default().push(path);
        }
    }
    let mut groups: Vec<DuplicateGroup> = by_content
        .into_iter()
        .filter(|(_, paths)| paths.len() > 1)
        .map(|((size, _), paths)| DuplicateGroup {
            size,
            paths: paths.into_iter().map(str::to_owned).collect(),
        })
        .collect();
    let saving = |g: &DuplicateGroup| g.size * (g.paths.len() as u64 - 1);
    groups.sort_by(|a, b| {
        saving(b)
            .cmp(&saving(a))
            .then_with(|| a.paths.cmp(&b.paths))
    });
    Duplicates {
        wasted_bytes: groups.iter().map(saving).sum(),
        groups,
    }
}

fn file_facts(
    image: &ImageRead,
    wanted: impl Fn(u32) -> bool,
    kinds: &[EntryKind],
) -> Vec<FileFact> {
    image
        .index
        .nodes
        .iter()
        .filter(|(_, n)| kinds.contains(&n.kind) && wanted(n.mode))
        .map(|(path, n)| FileFact {
            path: path.clone(),
            kind: n.kind,
            mode: format!("{:04o}", n.mode),
            uid: n.uid,
            gid: n.gid,
            layer: n.layer,
            setuid: n.mode & 0o4000 != 0,
            setgid: n.mode & 0o2000 != 0,
            sticky: n.mode & 0o1000 != 0,
        })
        .collect()
}

fn tools(image: &ImageRead) -> Vec<ToolFact> {
    image
        .index
        .nodes
        .iter()
        .filter(|(_, n)| n.kind != EntryKind::Dir)
        .filter_map(|(path, n)| {
            let kind = tools::classify(path)?;
            if n.kind == EntryKind::Symlink {
                // A dangling link is not a usable tool.
                let (target, _) = image.index.resolve(path)?;
                return Some(ToolFact {
                    path: path.clone(),
                    kind,
                    target: Some(target),
                });
            }
            Some(ToolFact {
                path: path.clone(),
                kind,
                target: None,
            })
        })
        .collect()
}

fn find(image: &ImageRead, patterns: &[String]) -> Result<Vec<Found>, PatternError> {
    if patterns.is_empty() {
        return Ok(Vec::new());
    }
    let mut builder = GlobSetBuilder::new();
    for pattern in patterns {
        // A pattern without a slash matches the file name anywhere, as `find -name` does.
        let full = if pattern.contains('/') {
            pattern.clone()
        } else {
            format!("**/{pattern}")
        };
        let glob = Glob::new(&full).map_err(|e| PatternError {
            pattern: pattern.clone(),
            reason: e.kind().to_string(),
        })?;
        builder.add(glob);
    }
    let set = builder.build().map_err(|e| PatternError {
        pattern: patterns.join(" "),
        reason: e.to_string(),
    })?;
    let mut found = Vec::new();
    for (path, node) in &image.index.nodes {
        for i in set.matches(path) {
            found.push(Found {
                pattern: patterns[i].clone(),
                path: path.clone(),
                kind: node.kind,
                layer: node.layer,
                size: node.size,
                mode: format!("{:04o}", node.mode),
            });
        }
    }
    Ok(found)
}
