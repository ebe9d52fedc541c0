//! Where the traced and the verifying containers run: in the Docker engine, or, with
//! no engine (or when asked), in an OCI runtime (runc, crun) on bundles pare unpacks
//! into its work directory. Both run with the host network, so every probe goes to
//! 127.0.0.1 the same way.

use std::path::{Path, PathBuf};

use pare_image::{ImageRef, OpenImage};
use pare_runtime::seccomp::Profile;
use pare_runtime::{BundleSpec, ContainerSpec, Engine, Network, OciRuntime, Running};

use crate::error::BuildError;
use crate::options::RuntimeChoice;

pub(crate) enum Backend {
    Engine(Engine),
    Oci(OciRuntime),
}

/// A container to start: the command, and what it needs beside the image's settings.
pub(crate) struct Launch {
    /// The full command line (entrypoint and arguments).
    pub argv: Vec<String>,
    /// `USER` for the container's main process; `None` keeps the image's.
    pub user: Option<String>,
    /// (host path, container path, read-only)
    pub binds: Vec<(PathBuf, String, bool)>,
    /// Capabilities beyond the app's (Docker's default set less CAP_NET_RAW).
    pub cap_add: Vec<String>,
    pub seccomp: Profile,
    pub network: Network,
    pub limits: pare_runtime::Limits,
    /// `pare.build` label value (engine) / bundle directory name (OCI runtime).
    pub role: String,
}

impl Launch {
    /// `argv` run as the image runs without pare (its own user, no binds, no added
    /// capabilities) under `seccomp`, with the build's network and limits.
    pub fn plain(
        argv: &[String],
        seccomp: Profile,
        options: &crate::options::BuildOptions,
        role: String,
    ) -> Launch {
        Launch {
            argv: argv.to_vec(),
            user: None,
            binds: Vec::new(),
            cap_add: Vec::new(),
            seccomp,
            network: options.network,
            limits: options.limits,
            role,
        }
    }
}

/// Whether [`Backend::choose`] would pick the OCI runtime: asked for, or `Auto`
/// with no engine answering and an image that is not in one. Asked before pare
/// re-executes itself in a user namespace to build without root.
pub fn would_be_oci(choice: RuntimeChoice, image: &ImageRef) -> bool {
    match choice {
        RuntimeChoice::Oci => true,
        RuntimeChoice::Docker => false,
        RuntimeChoice::Auto => {
            !matches!(image, ImageRef::DockerDaemon { .. }) && Engine::connect().is_err()
        }
    }
}

impl Backend {
    /// Picks the backend. `Auto` falls back to an OCI runtime only when no engine
    /// answers (an image in the engine then cannot be read at all); with `Oci`, an
    /// image in the engine is exported from it and run with the OCI runtime.
    pub fn choose(choice: RuntimeChoice, image: &ImageRef) -> Result<Self, BuildError> {
        let in_engine = match image {
            ImageRef::DockerDaemon { name } => Some(name),
            _ => None,
        };
        // Unpacking with the image's owners and mounting the container's root need
        // root; without it runc would fail half-way with EPERM.
        // SAFETY: geteuid has no preconditions.
        let uid = unsafe { libc::geteuid() };
        let oci = |engine: &str| {
            if uid == 0 {
                Ok(())
            } else {
                Err(BuildError::OciNeedsRoot {
                    uid,
                    engine: engine.to_owned(),
                })
            }
        };
        match choice {
            RuntimeChoice::Docker => Ok(Backend::Engine(Engine::connect()?)),
            RuntimeChoice::Oci => {
                oci("")?;
                Ok(Backend::Oci(OciRuntime::find()?))
            }
            RuntimeChoice::Auto => match Engine::connect() {
                Ok(engine) => Ok(Backend::Engine(engine)),
                Err(e) if in_engine.is_some() => Err(e.into()),
                Err(engine) => {
                    oci("; no engine answered either")?;
                    OciRuntime::find()
                        .map(Backend::Oci)
                        .map_err(|oci| BuildError::NoBackend {
                            engine: pare_hint::with_causes(&engine),
                            oci: pare_hint::with_causes(&oci),
                        })
                }
            },
        }
    }

    /// `docker`, or the OCI runtime's file name.
    pub fn name(&self) -> String {
        match self {
            Backend::Engine(_) => "docker".into(),
            Backend::Oci(oci) => oci
                .binary()
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "oci".into()),
        }
    }

    pub fn engine(&self) -> Option<&Engine> {
        match self {
            Backend::Engine(engine) => Some(engine),
            Backend::Oci(_) => None,
        }
    }

    /// Starts `launch` in the engine from the image named `engine_image`.
    pub fn start_in_engine<'b>(
        engine: &'b Engine,
        engine_image: &str,
        launch: &Launch,
    ) -> Result<Box<dyn Running + 'b>, BuildError> {
        let spec = ContainerSpec {
            image: engine_image.to_owned(),
            entrypoint: Some(launch.argv[..1].to_vec()),
            cmd: Some(launch.argv[1..].to_vec()),
            user: launch.user.clone(),
            binds: launch
                .binds
                .iter()
                .map(|(host, inside, ro)| {
                    format!(
                        "{}:{inside}{}",
                        host.display(),
                        if *ro { ":ro" } else { "" }
                    )
                })
                .collect(),
            cap_add: launch.cap_add.clone(),
            cap_drop: vec!["NET_RAW".into()],
            network: launch.network,
            security_opt: vec![format!("seccomp={}", launch.seccomp.to_docker())],
            labels: [("pare.build".to_owned(), launch.role.to_owned())].into(),
            limits: Some(launch.limits),
            ..Default::default()
        };
        Ok(Box::new(engine.start(&spec)?))
    }

    /// Starts `launch` with the OCI runtime on the root filesystem at `rootfs`, with
    /// the image's environment and working directory; its bundle is the directory
    /// `launch.role` beside `rootfs`'s.
    pub fn start_in_bundle<'b>(
        oci: &'b OciRuntime,
        rootfs: &Path,
        run: &pare_image::RunConfig,
        launch: &Launch,
    ) -> Result<Box<dyn Running + 'b>, BuildError> {
        let work = rootfs
            .parent()
            .and_then(Path::parent)
            .unwrap_or(Path::new("/"));
        let spec = BundleSpec {
            rootfs: rootfs.to_owned(),
            bundle: work.join(format!("bundle-{}", launch.role)),
            args: launch.argv.clone(),
            env: run.env.clone().unwrap_or_default(),
            cwd: run.working_dir.clone().unwrap_or_default(),
            user: launch
                .user
                .clone()
                .or_else(|| run.user.clone())
                .unwrap_or_default(),
            binds: launch.binds.clone(),
            cap_add: launch.cap_add.clone(),
            seccomp: Some(launch.seccomp.to_oci()),
            network: launch.network,
            limits: Some(launch.limits),
        };
        Ok(Box::new(oci.start(&spec)?))
    }
}

/// Unpacks the original image as the root filesystem of a bundle in `work_dir`.
pub(crate) fn unpack_original(image: &OpenImage, work_dir: &Path) -> Result<PathBuf, BuildError> {
    let bundle = work_dir.join("original");
    crate::error::create_dir(&bundle)?;
    let rootfs = bundle.join("rootfs");
    pare_image::unpack::unpack(image, &rootfs, &work_dir.join("unpack-spool"))?;
    Ok(rootfs)
}

/// Unpacks the slim layer (pare's own tar, made from the checked index) as the root
/// filesystem of a bundle in `work_dir`, with its modes and owners.
pub(crate) fn unpack_slim(layer_tar: &[u8], work_dir: &Path) -> Result<PathBuf, BuildError> {
    let rootfs = work_dir.join("slim").join("rootfs");
    let io = |source| BuildError::Io {
        action: "unpacking the slim layer into",
        path: rootfs.clone(),
        source,
    };
    std::fs::create_dir_all(&rootfs).map_err(io)?;
    let mut archive = tar::Archive::new(layer_tar);
    archive.set_preserve_permissions(true);
    archive.set_preserve_ownerships(true);
    archive.set_unpack_xattrs(true);
    archive.unpack(&rootfs).map_err(io)?;
    Ok(rootfs)
}
