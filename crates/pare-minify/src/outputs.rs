//! Writing the slim image where the user asked: the Docker engine, a `docker save`
//! archive, an OCI layout. Files are written under unpredictable staging names beside
//! their destination, never through a link, and renamed into place
//! ([`pare_image::staging`]), so a failure leaves no half-written image.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use pare_image::staging::{Dir, Leftovers, StagedDir, StagedFile};
use pare_image::{Digest, ImageConfig};
use pare_runtime::Engine;
use serde_json::json;

use crate::assemble::{Slim, SlimLayer, io};
use crate::backend::Backend;
use crate::error::{AssembleError, BuildError};
use crate::options::{BuildOptions, Output};

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
    files: Vec<StagedOutput>,
    /// Directories that did not exist before staging made them (the report dir an
    /// OCI layout output goes in), deepest first: removed, when empty, with the rest.
    made_dirs: Vec<PathBuf>,
    /// The user's tags in the engine.
    engine_tags: Vec<String>,
    /// Registries to push to, and the config and compressed layer pushed.
    pushes: Vec<pare_image::registry::RegistryRef>,
    slim_blobs: Option<(Vec<u8>, Vec<u8>)>,
    committed: bool,
    _on_interrupt: Vec<pare_runtime::cleanup::Registration>,
}

/// Writes the slim image to the staging path of every output and, with an engine,
/// loads it under a temporary tag.
pub(crate) fn stage<'e>(
    engine: Option<&'e Engine>,
    outputs: &[Output],
    slim: &Slim,
) -> Result<Staged<'e>, BuildError> {
    let (config, layer) = (&slim.config, &slim.layer);
    let mut staged = Staged {
        engine,
        verify_tag: None,
        files: Vec::new(),
        made_dirs: Vec::new(),
        engine_tags: Vec::new(),
        pushes: Vec::new(),
        slim_blobs: None,
        committed: false,
        _on_interrupt: Vec::new(),
    };
    for output in outputs {
        match output {
            Output::Engine { tag } => staged.engine_tags.push(tag.clone()),
            Output::DockerArchive { path, tag } => {
                staged.track(path)?;
                let bytes = docker_archive(tag, config, layer)?;
                let mut file = StagedFile::create(path)?;
                file.file().write_all(&bytes).map_err(io(path))?;
                staged.files.push(StagedOutput::File(file));
            }
            Output::Oci { dir, tag } => {
                staged.track(dir)?;
                let layout = StagedDir::create_replacing(dir)?;
                write_oci_layout(layout.root(), dir, tag, config, layer)?;
                staged.files.push(StagedOutput::Dir(layout));
            }
            Output::Registry { reference } => {
                staged.pushes.push(reference.clone());
                let config = serde_json::to_vec(config).expect("a config always serialises");
                staged.slim_blobs = Some((config, layer.gzip.clone()));
            }
        }
    }
    if let Some(engine) = engine {
        let tag = format!("pare-verify/{}:slim", std::process::id());
        staged._on_interrupt.push(engine.remove_on_interrupt(&tag));
        staged.verify_tag = Some(tag.clone());
        engine.load(bytes::Bytes::from(docker_archive(&tag, config, layer)?))?;
    }
    Ok(staged)
}

/// A file output staged beside its destination.
enum StagedOutput {
    File(StagedFile),
    Dir(StagedDir),
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
            create_dir(parent)?;
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
        if let Some((config, layer)) = &self.slim_blobs {
            let parts = pare_image::Parts::in_memory(
                config.clone(),
                vec![(
                    layer.as_slice(),
                    "application/vnd.oci.image.layer.v1.tar+gzip",
                )],
            );
            for reference in &self.pushes {
                pare_image::write::write(
                    &parts,
                    &pare_image::ImageRef::Registry {
                        reference: reference.clone(),
                    },
                )?;
            }
        }
        for output in std::mem::take(&mut self.files) {
            match output {
                StagedOutput::File(file) => {
                    file.commit()?;
                }
                StagedOutput::Dir(dir) => dir.commit()?,
            }
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

/// Creates a directory of pare's own (and its parents).
pub(crate) fn create_dir(dir: &Path) -> Result<(), BuildError> {
    std::fs::create_dir_all(dir).map_err(|source| BuildError::Io {
        action: "creating",
        path: dir.to_owned(),
        source,
    })
}

/// Writes `bytes` to `path` (pare's own report files), through a staging name.
pub(crate) fn write_file(path: &Path, bytes: &[u8]) -> Result<(), BuildError> {
    if let Some(dir) = path.parent() {
        create_dir(dir)?;
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

/// Writes an OCI image layout into `root` (a new directory, to become `dest`) with
/// the image tagged `tag`.
fn write_oci_layout(
    root: &Dir,
    dest: &Path,
    tag: &str,
    config: &ImageConfig,
    layer: &SlimLayer,
) -> Result<(), AssembleError> {
    let write = |name: &str, bytes: &[u8]| -> Result<(), AssembleError> {
        root.write(name, &mut &bytes[..])
            .map(|_| ())
            .map_err(io(dest.join(name)))
    };
    let put = |bytes: &[u8]| -> Result<Digest, AssembleError> {
        let digest = Digest::of(bytes);
        write(&format!("blobs/sha256/{}", digest.hex()), bytes)?;
        Ok(digest)
    };
    let config_bytes = serde_json::to_vec(config).expect("a config always serialises");
    let config_digest = put(&config_bytes)?;
    put(&layer.gzip)?;
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest.to_string(), "size": config_bytes.len()},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": layer.blob_digest.to_string(), "size": layer.gzip.len()}]
    });
    let manifest_bytes = serde_json::to_vec(&manifest).expect("json");
    let manifest_digest = put(&manifest_bytes)?;
    let index = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": manifest_digest.to_string(), "size": manifest_bytes.len(),
            "annotations": {"org.opencontainers.image.ref.name": tag}
        }]
    });
    write("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#)?;
    write("index.json", &serde_json::to_vec(&index).expect("json"))
}

/// A `docker save` style archive holding the image as `repo_tag`.
pub fn docker_archive(
    repo_tag: &str,
    config: &ImageConfig,
    layer: &SlimLayer,
) -> Result<Vec<u8>, AssembleError> {
    let config_bytes = serde_json::to_vec(config).expect("a config always serialises");
    let config_name = format!("{}.json", Digest::of(&config_bytes).hex());
    let layer_name = format!("{}/layer.tar", layer.diff_id.hex());
    let manifest = json!([{"Config": config_name, "RepoTags": [repo_tag], "Layers": [layer_name]}]);
    let mut builder = tar::Builder::new(Vec::new());
    let mut add = |name: &str, bytes: &[u8]| -> Result<(), AssembleError> {
        let mut header = tar::Header::new_gnu();
        header.set_mode(0o644);
        header.set_size(bytes.len() as u64);
        header.set_entry_type(tar::EntryType::Regular);
        builder
            .append_data(&mut header, name, bytes)
            .map_err(io(name))
    };
    add(&config_name, &config_bytes)?;
    add(&layer_name, &layer.tar)?;
    add(
        "manifest.json",
        &serde_json::to_vec(&manifest).expect("json"),
    )?;
    builder.into_inner().map_err(io("docker archive"))
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let staged = stage(None, &outputs, &slim).unwrap();
        assert!(report.is_dir(), "staged beside its destination");
        drop(staged);
        assert!(
            !dir.path().join("report").exists(),
            "the report dirs the staging made are gone"
        );

        let staged = stage(None, &outputs, &slim).unwrap();
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
        stage(None, &outputs, &slim).unwrap().commit().unwrap();
        assert_eq!(std::fs::read_to_string(&victim_file).unwrap(), "secret");
        assert_eq!(std::fs::read_dir(&victim_dir).unwrap().count(), 0);
        assert!(out.join("slim.tar").symlink_metadata().unwrap().is_file());
        assert!(out.join("layout/index.json").is_file());

        // A destination that is a link is refused, and nothing is written through it.
        std::fs::remove_file(out.join("slim.tar")).unwrap();
        std::os::unix::fs::symlink(&victim_file, out.join("slim.tar")).unwrap();
        let refused = stage(None, &outputs[..1], &slim).err().unwrap().to_string();
        assert!(refused.contains("symbolic link"), "{refused}");
        assert_eq!(std::fs::read_to_string(&victim_file).unwrap(), "secret");
    }
}
