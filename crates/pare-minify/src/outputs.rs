//! Where the slim image goes: the Docker engine, a `docker save` archive, an OCI
//! layout, a registry. This module decides the places and the order; the writing is
//! [`pare_image::write`]'s, as for `pare copy`: files under unpredictable staging
//! names beside their destination, never through a link, renamed into place once the
//! image is verified, so a failure leaves no half-written image; an existing OCI
//! layout gets the slim image added under its tag.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use pare_image::staging::{Leftovers, StagedFile};
use pare_image::write::StagedImage;
use pare_image::{ImageRef, Parts, ReadContext};
use pare_runtime::Engine;

use crate::assemble::Slim;
use crate::backend::Backend;
use crate::error::BuildError;
use crate::options::{BuildOptions, Output};

/// The media types of the slim layer: compressed for OCI layouts and registries; as
/// the tar it is for a `docker save` archive and the engine, which store layers
/// uncompressed (nothing to decompress on load).
const GZIP_LAYER: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
const TAR_LAYER: &str = "application/vnd.oci.image.layer.v1.tar";

/// Where the slim image goes: as asked, except that with no engine an engine tag
/// becomes an OCI layout in the report directory under the same tag.
pub(crate) fn outputs_for(backend: &Backend, options: &BuildOptions) -> Vec<Output> {
    options
        .outputs
        .iter()
        .map(|o| match (backend, o) {
            (Backend::Oci(_), Output::Engine { tag }) => Output::Oci {
                dir: options.report_dir.join("image"),
                tag: tag.rsplit(':').next().unwrap_or("slim").to_owned(),
            },
            _ => o.clone(),
        })
        .collect()
}

/// The slim image written beside its destinations and loaded into the engine under a
/// temporary tag, where verification runs it: nothing the user sees yet.
/// [`Staged::commit`] puts it in place (renames, tags); dropped uncommitted (a build
/// that failed) it is removed, and on Ctrl-C the cleanup registry removes it.
pub(crate) struct Staged<'e> {
    engine: Option<&'e Engine>,
    /// The temporary tag verification runs, when there is an engine.
    pub verify_tag: Option<String>,
    /// Each file output, staged (removed when dropped uncommitted).
    files: Vec<StagedImage>,
    /// Directories that did not exist before staging made them (the report dir an
    /// OCI layout output goes in), deepest first: removed, when empty, with the rest.
    made_dirs: Vec<PathBuf>,
    /// The user's tags in the engine.
    engine_tags: Vec<String>,
    /// Registries to push to, and the config and compressed layer (with its digest)
    /// pushed.
    pushes: Vec<pare_image::registry::RegistryRef>,
    slim_blobs: Option<(Vec<u8>, Vec<u8>, pare_image::Digest)>,
    /// How those registries are reached.
    context: ReadContext,
    committed: bool,
    _on_interrupt: Vec<pare_runtime::cleanup::Registration>,
}

/// Writes the slim image to the staging path of every output and, with an engine,
/// loads it under a temporary tag; registries are pushed to, on commit, as `context`
/// says.
pub(crate) fn stage<'e>(
    context: &ReadContext,
    engine: Option<&'e Engine>,
    outputs: &[Output],
    slim: &Slim,
) -> Result<Staged<'e>, BuildError> {
    let config = serde_json::to_vec(&slim.config).expect("a config always serialises");
    let layer = &slim.layer;
    let compressed = Parts::in_memory(
        config.clone(),
        vec![(&layer.gzip, GZIP_LAYER, layer.blob_digest.clone())],
    );
    let uncompressed = Parts::in_memory(
        config.clone(),
        vec![(&layer.tar, TAR_LAYER, layer.diff_id.clone())],
    );
    let mut staged = Staged {
        engine,
        verify_tag: None,
        files: Vec::new(),
        made_dirs: Vec::new(),
        engine_tags: Vec::new(),
        pushes: Vec::new(),
        slim_blobs: None,
        context: context.clone(),
        committed: false,
        _on_interrupt: Vec::new(),
    };
    for output in outputs {
        let destination = match output {
            Output::Engine { tag } => {
                staged.engine_tags.push(tag.clone());
                continue;
            }
            Output::Registry { reference } => {
                staged.pushes.push(reference.clone());
                staged.slim_blobs = Some((
                    config.clone(),
                    layer.gzip.clone(),
                    layer.blob_digest.clone(),
                ));
                continue;
            }
            Output::DockerArchive { path, tag } => ImageRef::DockerArchive {
                path: path.clone(),
                name: Some(tag.clone()),
            },
            Output::Oci { dir, tag } => ImageRef::OciLayout {
                dir: dir.clone(),
                tag: Some(tag.clone()),
            },
        };
        let (path, parts) = match &destination {
            ImageRef::DockerArchive { path, .. } => (path, &uncompressed),
            ImageRef::OciLayout { dir, .. } => (dir, &compressed),
            _ => continue,
        };
        staged.track(path)?;
        staged
            .files
            .push(pare_image::write::stage(parts, &destination)?);
    }
    if let Some(engine) = engine {
        let tag = format!("pare-verify/{}:slim", std::process::id());
        staged._on_interrupt.push(engine.remove_on_interrupt(&tag));
        staged.verify_tag = Some(tag.clone());
        let mut archive = Vec::new();
        pare_image::write::docker_archive(&mut archive, Some(&tag), &uncompressed)?;
        engine.load(bytes::Bytes::from(archive))?;
    }
    Ok(staged)
}

impl Staged<'_> {
    /// Makes the directories `dest` goes in (remembering those it made) and has an
    /// interrupt remove this run's staging names for it, and those directories.
    fn track(&mut self, dest: &Path) -> Result<(), BuildError> {
        let made: Vec<PathBuf> = dest
            .ancestors()
            .skip(1)
            .take_while(|dir| !dir.as_os_str().is_empty() && !dir.exists())
            .map(Path::to_owned)
            .collect();
        self.made_dirs.extend(made.iter().cloned());
        if let Some(parent) = made.first() {
            crate::error::create_dir(parent)?;
        }
        let dest = dest.to_owned();
        self._on_interrupt
            .push(pare_runtime::cleanup::register(move || {
                pare_image::staging::remove_leftovers(&dest, Leftovers::OfThisRun);
                remove_empty(&made);
            }));
        Ok(())
    }

    /// Puts the slim image where the user asked: pushed to registries first (the
    /// step most likely to fail, and a push that fails leaves no tag), then files
    /// renamed over their destinations, the engine's copy tagged with the user's tags
    /// (its temporary tag goes).
    pub fn commit(mut self) -> Result<(), BuildError> {
        if let Some((config, layer, digest)) = &self.slim_blobs {
            let parts = Parts::in_memory(
                config.clone(),
                vec![(layer.as_slice(), GZIP_LAYER, digest.clone())],
            );
            for reference in &self.pushes {
                pare_image::write::write(
                    &self.context,
                    &parts,
                    &ImageRef::Registry {
                        reference: reference.clone(),
                    },
                )?;
            }
        }
        for output in std::mem::take(&mut self.files) {
            output.commit()?;
        }
        if let (Some(engine), Some(temporary)) = (self.engine, &self.verify_tag) {
            for tag in &self.engine_tags {
                engine.tag_image(temporary, tag)?;
            }
        }
        self.committed = true;
        Ok(())
    }
}

impl Drop for Staged<'_> {
    fn drop(&mut self) {
        if !self.committed {
            // Staged outputs remove themselves when dropped, before the directories.
            self.files.clear();
            remove_empty(&self.made_dirs);
        }
        if let (Some(engine), Some(tag)) = (self.engine, &self.verify_tag) {
            let _ = engine.remove_image(tag);
        }
    }
}

/// Removes `dirs` (deepest first) that are empty; a directory something else was
/// written into meanwhile stays.
fn remove_empty(dirs: &[PathBuf]) {
    for dir in dirs {
        let _ = std::fs::remove_dir(dir);
    }
}

/// Writes `bytes` to `path` (pare's own report files), through a staging name.
pub(crate) fn write_file(path: &Path, bytes: &[u8]) -> Result<(), BuildError> {
    if let Some(dir) = path.parent() {
        crate::error::create_dir(dir)?;
    }
    let mut file = StagedFile::create(path)?;
    file.file()
        .write_all(bytes)
        .map_err(|source| BuildError::Io {
            action: "writing",
            path: path.to_owned(),
            source,
        })?;
    file.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use pare_image::ImageConfig;

    #[test]
    fn a_failed_build_leaves_no_directory_its_outputs_made_and_a_committed_one_stays() {
        let dir = tempfile::tempdir().unwrap();
        let report = dir.path().join("report").join("flask");
        let layer = crate::assemble::build_layer(
            &pare_image::FileIndex::default(),
            &crate::keep_set::KeepSet::default(),
        )
        .unwrap();
        let slim = Slim {
            layer,
            config: ImageConfig::default(),
            profile: crate::seccomp::profile(&Default::default(), Default::default()),
        };
        let outputs = [Output::Oci {
            dir: report.join("image"),
            tag: "slim".into(),
        }];
        let staged = stage(&ReadContext::default(), None, &outputs, &slim).unwrap();
        assert!(report.is_dir(), "staged beside its destination");
        drop(staged);
        assert!(
            !dir.path().join("report").exists(),
            "the report dirs the staging made are gone"
        );

        let staged = stage(&ReadContext::default(), None, &outputs, &slim).unwrap();
        staged.commit().unwrap();
        assert!(report.join("image/index.json").is_file());
    }

    #[test]
    fn links_planted_at_the_old_staging_names_or_the_destination_are_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let victim_file = dir.path().join("root-only");
        std::fs::write(&victim_file, "secret").unwrap();
        let victim_dir = dir.path().join("elsewhere");
        std::fs::create_dir(&victim_dir).unwrap();
        let out = dir.path().join("out");
        std::fs::create_dir(&out).unwrap();
        let pid = std::process::id();
        let symlink = |target: &Path, name: String| {
            std::os::unix::fs::symlink(target, out.join(name)).unwrap();
        };
        symlink(&victim_file, format!(".slim.tar.pare-partial-{pid}"));
        symlink(&victim_dir, format!(".layout.pare-partial-{pid}"));
        let slim = Slim {
            layer: crate::assemble::build_layer(
                &pare_image::FileIndex::default(),
                &crate::keep_set::KeepSet::default(),
            )
            .unwrap(),
            config: ImageConfig::default(),
            profile: crate::seccomp::profile(&Default::default(), Default::default()),
        };
        let outputs = [
            Output::DockerArchive {
                path: out.join("slim.tar"),
                tag: "slim:1".into(),
            },
            Output::Oci {
                dir: out.join("layout"),
                tag: "slim".into(),
            },
        ];
        stage(&ReadContext::default(), None, &outputs, &slim)
            .unwrap()
            .commit()
            .unwrap();
        assert_eq!(std::fs::read_to_string(&victim_file).unwrap(), "secret");
        assert_eq!(std::fs::read_dir(&victim_dir).unwrap().count(), 0);
        assert!(out.join("slim.tar").symlink_metadata().unwrap().is_file());
        assert!(out.join("layout/index.json").is_file());

        // A destination that is a link is refused, and nothing is written through it.
        std::fs::remove_file(out.join("slim.tar")).unwrap();
        std::os::unix::fs::symlink(&victim_file, out.join("slim.tar")).unwrap();
        let refused = stage(&ReadContext::default(), None, &outputs[..1], &slim)
            .err()
            .unwrap()
            .to_string();
        assert!(refused.contains("symbolic link"), "{refused}");
        assert_eq!(std::fs::read_to_string(&victim_file).unwrap(), "secret");
    }

    #[test]
    fn a_slim_image_is_added_to_an_existing_layout_under_its_tag() {
        let dir = tempfile::tempdir().unwrap();
        let layout = dir.path().join("layout");
        let slim = |user: &str| {
            let layer = crate::assemble::build_layer(
                &pare_image::FileIndex::default(),
                &crate::keep_set::KeepSet::default(),
            )
            .unwrap();
            let mut config = ImageConfig {
                author: Some(user.into()),
                ..ImageConfig::default()
            };
            config.rootfs.kind = "layers".into();
            config.rootfs.diff_ids = vec![layer.diff_id.to_string()];
            Slim {
                layer,
                config,
                profile: crate::seccomp::profile(&Default::default(), Default::default()),
            }
        };
        let output = |tag: &str| Output::Oci {
            dir: layout.clone(),
            tag: tag.into(),
        };
        for (tag, image) in [("base", "a"), ("slim", "b"), ("slim", "c")] {
            let staged =
                stage(&ReadContext::default(), None, &[output(tag)], &slim(image)).unwrap();
            staged.commit().unwrap();
        }
        let index: serde_json::Value =
            serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
        let names: Vec<&str> = index["manifests"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                m["annotations"]["org.opencontainers.image.ref.name"]
                    .as_str()
                    .unwrap()
            })
            .collect();
        assert_eq!(
            names,
            ["base", "slim"],
            "the other tag stays, the same tag is replaced"
        );
        let read = |tag: &str| {
            pare_image::open_image(
                &ReadContext::default(),
                &ImageRef::OciLayout {
                    dir: layout.clone(),
                    tag: Some(tag.into()),
                },
                None,
            )
            .unwrap()
            .resolved
            .config
            .author
        };
        assert_eq!(read("base").as_deref(), Some("a"));
        assert_eq!(read("slim").as_deref(), Some("c"));
    }
}
