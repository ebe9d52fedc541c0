//! Phase `assemble`, second half: the slim image in memory. One layer built from the
//! original image's index filtered by the keep-set (modes, owners, xattrs and
//! hardlinks as they were), a config carried over from the original, and the seccomp
//! profile of the syscalls the app made. Writing it anywhere is `outputs.rs`.

use std::path::Path;

use pare_image::{Digest, EntryKind, FileIndex, History, ImageConfig};

use crate::error::AssembleError;
use crate::keep::KeepPlan;
use crate::keep_set::KeepSet;
use crate::read::Original;

pub(crate) fn io(path: impl AsRef<Path>) -> impl FnOnce(std::io::Error) -> AssembleError {
    let path = path.as_ref().to_owned();
    move |source| AssembleError::Io { path, source }
}

/// The slim image, ready to be written and run.
pub struct Slim {
    pub layer: SlimLayer,
    pub config: ImageConfig,
    /// The seccomp profile the slim image is verified with (and shipped as).
    pub profile: pare_runtime::seccomp::Profile,
}

/// Builds the slim image from the plan.
pub fn assemble(
    original: &Original,
    plan: &KeepPlan,
    syscalls: &std::collections::BTreeSet<String>,
    seccomp: crate::seccomp::SeccompMode,
    source: &str,
) -> Result<Slim, AssembleError> {
    let layer = build_layer(&plan.index, &plan.keep)?;
    let created = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    let resolved = &original.opened.resolved;
    let base_digest = resolved
        .manifest_digest
        .as_ref()
        .unwrap_or(&resolved.config_digest)
        .to_string();
    let config = slim_config(&original.config, &layer, source, &base_digest, &created);
    Ok(Slim {
        layer,
        config,
        profile: crate::seccomp::profile(syscalls, seccomp),
    })
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
    /// Kept paths the layer leaves out, and why: what unpacking an image refuses
    /// (device files, hardlinks through symlinks, paths below non-directories).
    pub left_out: Vec<(String, &'static str)>,
}

/// Builds the layer tar from the kept paths, parents first (they sort first), and
/// hardlinks after every file so that their targets precede them.
pub fn build_layer(index: &FileIndex, keep: &KeepSet) -> Result<SlimLayer, AssembleError> {
    let mut builder = tar::Builder::new(Vec::new());
    let (mut files, mut directories, mut content_bytes) = (0, 0, 0);
    let mut left_out = Vec::new();
    let ordered = keep
        .paths
        .keys()
        .filter(|p| p.as_str() != "/")
        .filter_map(|p| index.nodes.get(p).map(|n| (p, n)))
        .filter(|(p, _)| match pare_image::unpack::refusal(index, p) {
            Some(why) => {
                left_out.push(((*p).clone(), why));
                false
            }
            None => true,
        });
    let (links, others): (Vec<_>, Vec<_>) =
        ordered.partition(|(_, n)| n.kind == EntryKind::Hardlink);
    for (path, node) in others.into_iter().chain(links) {
        // The bytes the original layer named it by, not the escaped text of the index.
        let name = pare_image::path::name_to_path(&path[1..]);
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
                builder.append_data(&mut header, &name, std::io::empty())
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
                builder.append_data(&mut header, &name, bytes)
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
                builder.append_link(&mut header, &name, pare_image::path::name_to_path(&target))
            }
            EntryKind::Fifo => {
                header.set_entry_type(tar::EntryType::Fifo);
                header.set_size(0);
                builder.append_data(&mut header, &name, std::io::empty())
            }
            // Refused above: device nodes come from the runtime, never from a slim
            // image; whiteouts have no meaning in a single layer.
            _ => continue,
        };
        result.map_err(io(path))?;
    }
    let tar = builder.into_inner().map_err(io("slim layer"))?;
    let diff_id = Digest::of(&tar);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let gzip = pare_image::gzip::compress(&tar, 6, cores).map_err(io("slim layer"))?;
    let blob_digest = Digest::of(&gzip);
    Ok(SlimLayer {
        tar,
        diff_id,
        gzip,
        blob_digest,
        files,
        directories,
        content_bytes,
        left_out,
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::io::Read;

    use pare_image::testutil::{RawItem, tar_of_raw};

    use super::*;
    use crate::keep_set::Reason;

    /// An entry of a tar as it is written: mode, raw link target, bytes.
    type Written = (u32, Option<Vec<u8>>, Vec<u8>);

    /// Each entry of a tar, by its raw name.
    fn entries(tar: &[u8]) -> BTreeMap<Vec<u8>, Written> {
        let mut archive = tar::Archive::new(tar);
        let mut out = BTreeMap::new();
        for entry in archive.entries().unwrap() {
            let mut entry = entry.unwrap();
            // A directory's trailing `/` is the writer's spelling, not its name.
            let mut name = entry.path_bytes().into_owned();
            if name.len() > 1 && name.ends_with(b"/") {
                name.pop();
            }
            let mode = entry.header().mode().unwrap();
            let link = entry.link_name_bytes().map(|l| l.into_owned());
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes).unwrap();
            out.insert(name, (mode, link, bytes));
        }
        out
    }

    /// Names that differ only in invalid UTF-8 are two entries in the index and two in
    /// the slim layer, each under the bytes the original named it by (links too).
    #[test]
    fn names_in_invalid_utf8_reach_the_slim_layer_as_their_bytes() {
        let original = tar_of_raw(&[
            RawItem::dir(b"usr/"),
            RawItem::dir(b"usr/bin/"),
            RawItem::file(b"usr/bin/backdoor\xff", b"setuid", 0o4755),
            RawItem::file(b"usr/bin/backdoor\xfe", b"plain", 0o644),
            RawItem::file(b"usr/bin/a\\x41", b"backslash", 0o644),
            RawItem::hardlink(b"usr/bin/hard\xfd", b"usr/bin/backdoor\xff"),
            RawItem::symlink(b"usr/bin/soft", b"backdoor\xfe"),
        ]);
        let options = pare_image::layer::ReadOptions {
            keep_content: Some(std::sync::Arc::new(|_: &str, _| true)),
            ..Default::default()
        };
        let parsed = pare_image::layer::read_layer(
            &original[..],
            "t",
            &pare_image::layer::Expected::default(),
            &options,
        )
        .unwrap();
        let index = FileIndex::build([parsed]);
        let keep = KeepSet {
            paths: index
                .nodes
                .keys()
                .map(|p| (p.clone(), Reason::Included))
                .collect(),
            ..Default::default()
        };
        assert!(index.nodes.contains_key("/usr/bin/backdoor\\xff"));
        assert!(index.nodes.contains_key("/usr/bin/backdoor\\xfe"));

        let slim = entries(&build_layer(&index, &keep).unwrap().tar);
        let want = entries(&original);
        assert_eq!(
            slim.keys().collect::<Vec<_>>(),
            want.keys().collect::<Vec<_>>()
        );
        assert_eq!(slim, want);
    }
}
