//! The Docker Engine API calls pare makes, behind a small synchronous surface (the rest
//! of pare is synchronous; one current-thread runtime drives bollard).

use std::collections::HashMap;
use std::time::Duration;

use bollard::Docker;
use bollard::exec::{CreateExecOptions, StartExecResults};
use bollard::models::{ContainerCreateBody, HostConfig};
use bollard::query_parameters::{
    CreateContainerOptions, KillContainerOptions, LogsOptions, RemoveContainerOptions,
    StopContainerOptions,
};
use futures_util::StreamExt;

use crate::limits::{DiskUse, Limits, Watch};
use crate::{LimitHit, Network, Reach, Result, RuntimeError, cleanup, engine_error};

/// `seccomp={json}` options rewritten as `seccomp=PATH` of a temporary file holding
/// the profile (removed when the returned files drop), for Podman.
fn profiles_as_files(options: &[String]) -> Result<(Vec<String>, Vec<tempfile::NamedTempFile>)> {
    let mut files = Vec::new();
    let mut rewritten = Vec::with_capacity(options.len());
    for option in options {
        match option.strip_prefix("seccomp=") {
            Some(profile) if profile.starts_with('{') => {
                let io = |source| RuntimeError::Io {
                    what: "writing the seccomp profile for Podman".into(),
                    source,
                };
                let mut file = tempfile::Builder::new()
                    .prefix("pare-seccomp-")
                    .suffix(".json")
                    .tempfile()
                    .map_err(io)?;
                std::io::Write::write_all(&mut file, profile.as_bytes()).map_err(io)?;
                rewritten.push(format!("seccomp={}", file.path().display()));
                files.push(file);
            }
            _ => rewritten.push(option.clone()),
        }
    }
    Ok((rewritten, files))
}

/// A connection to the engine.
pub struct Engine {
    docker: Docker,
    rt: tokio::runtime::Runtime,
    /// Podman's Docker-compatible API: it reads `seccomp=` as a path to a profile
    /// file where Docker takes the profile itself (podman issue #27710), so pare hands
    /// Podman a file.
    podman: bool,
}

/// How to start a container.
#[derive(Clone, Debug, Default)]
pub struct ContainerSpec {
    pub image: String,
    pub entrypoint: Option<Vec<String>>,
    pub cmd: Option<Vec<String>>,
    pub user: Option<String>,
    pub env: Vec<String>,
    pub working_dir: Option<String>,
    /// `host:container[:ro]`
    pub binds: Vec<String>,
    pub cap_add: Vec<String>,
    pub cap_drop: Vec<String>,
    /// A namespace of its own with loopback only (`none`), or the host's: pare never
    /// gives a container an address of its own.
    pub network: Network,
    pub security_opt: Vec<String>,
    pub labels: HashMap<String, String>,
    /// Processes, memory and disk the container may use.
    pub limits: Option<Limits>,
}

/// What an exec probe printed and how it ended.
#[derive(Clone, Debug)]
pub struct ExecOutput {
    pub exit_code: Option<i64>,
    pub output: String,
}

impl Engine {
    /// Connects as the docker CLI does (`DOCKER_HOST`, else the local socket) and checks
    /// that the engine answers.
    pub fn connect() -> Result<Self> {
        let docker = Docker::connect_with_defaults().map_err(|e| engine_error("connect", e))?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| RuntimeError::NoEngine(Box::new(e)))?;
        rt.block_on(docker.ping())
            .map_err(|e| engine_error("ping", e))?;
        let podman = rt
            .block_on(docker.version())
            .ok()
            .and_then(|v| v.components)
            .is_some_and(|components| components.iter().any(|c| c.name.contains("Podman")));
        Ok(Engine { docker, rt, podman })
    }

    /// Whether the engine has this image.
    pub fn has_image(&self, name: &str) -> Result<bool> {
        match self.rt.block_on(self.docker.inspect_image(name)) {
            Ok(_) => Ok(true),
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => Ok(false),
            Err(e) => Err(engine_error("inspect image", e)),
        }
    }

    /// Creates and starts a container. The handle removes it when dropped.
    pub fn start(&self, spec: &ContainerSpec) -> Result<Container<'_>> {
        // Podman reads the profile at create; the file can go once it has.
        let (security_opt, _profile_file) = if self.podman {
            profiles_as_files(&spec.security_opt)?
        } else {
            (spec.security_opt.clone(), Vec::new())
        };
        let body = ContainerCreateBody {
            image: Some(spec.image.clone()),
            entrypoint: spec.entrypoint.clone(),
            cmd: spec.cmd.clone(),
            user: spec.user.clone(),
            env: Some(spec.env.clone()),
            working_dir: spec.working_dir.clone(),
            labels: Some(spec.labels.clone()),
            host_config: Some(HostConfig {
                binds: Some(spec.binds.clone()),
                cap_add: Some(spec.cap_add.clone()),
                cap_drop: Some(spec.cap_drop.clone()),
                network_mode: Some(
                    match spec.network {
                        Network::Private => "none",
                        Network::Host => "host",
                    }
                    .into(),
                ),
                security_opt: Some(security_opt),
                pids_limit: spec.limits.map(|l| i64::from(l.pids)),
                memory: spec.limits.map(|l| l.memory as i64),
                memory_swap: spec.limits.map(|l| l.memory as i64),
                ..Default::default()
            }),
            ..Default::default()
        };
        let created = self
            .rt
            .block_on(
                self.docker
                    .create_container(None::<CreateContainerOptions>, body),
            )
            .map_err(|e| match e {
                bollard::errors::Error::DockerResponseServerError {
                    status_code: 404, ..
                } => RuntimeError::ImageNotFound(spec.image.clone()),
                other => engine_error("create container", other),
            })?;
        let id = created.id;
        let registration = cleanup::register({
            let id = id.clone();
            move || {
                if let Ok(engine) = Engine::connect() {
                    engine.force_remove(&id);
                }
            }
        });
        let mut container = Container {
            engine: self,
            id,
            reach: Reach::Host,
            watch: None,
            host_pid: None,
            _registration: registration,
        };
        self.rt
            .block_on(self.docker.start_container(
                &container.id,
                None::<bollard::query_parameters::StartContainerOptions>,
            ))
            .map_err(|e| engine_error("start container", e))?;
        let info = container.inspect()?;
        if spec.network == Network::Private {
            container.reach = namespace(&info)?;
        }
        container.host_pid = info
            .state
            .as_ref()
            .and_then(|s| s.pid)
            .filter(|&pid| pid > 0)
            .and_then(|pid| i32::try_from(pid).ok());
        if let (Some(limits), Some(pid)) = (spec.limits, info.state.as_ref().and_then(|s| s.pid))
            && pid > 0
        {
            container.watch = Some(watch_limits(pid as i32, limits, &info));
        }
        Ok(container)
    }

    /// Loads a `docker save` style archive (`POST /images/load`).
    pub fn load(&self, archive: bytes::Bytes) -> Result<()> {
        self.import(futures_util::stream::iter([Ok(archive)]))
    }

    /// Loads a `docker save` style archive read from `archive` (a pipe another thread
    /// writes, say), streaming it to the engine in chunks: an image can be far bigger
    /// than pare should hold in memory or write to disk once more.
    pub fn load_stream(&self, archive: impl std::io::Read + Send + 'static) -> Result<()> {
        self.import(futures_util::stream::iter(Chunks {
            reader: archive,
            done: false,
        }))
    }

    fn import(
        &self,
        chunks: impl futures_util::Stream<Item = std::io::Result<bytes::Bytes>> + Send + 'static,
    ) -> Result<()> {
        self.rt.block_on(async {
            let mut stream = self.docker.import_image(
                bollard::query_parameters::ImportImageOptions::default(),
                bollard::body_try_stream(chunks),
                None,
            );
            while let Some(item) = stream.next().await {
                let info = item.map_err(|e| engine_error("load image", e))?;
                if let Some(err) = info.error_detail.and_then(|d| d.message).or(info.error) {
                    return Err(RuntimeError::Engine {
                        what: "load image".into(),
                        message: err,
                    });
                }
            }
            Ok(())
        })
    }

    /// Registers the removal of an image pare put into the engine for its own use (the
    /// original loaded from an archive, the slim image under a verification tag), in
    /// case the process is interrupted before it removes it itself.
    pub fn remove_on_interrupt(&self, name: &str) -> cleanup::Registration {
        let name = name.to_owned();
        cleanup::register(move || {
            if let Ok(engine) = Engine::connect() {
                let _ = engine.remove_image(&name);
            }
        })
    }

    /// Gives the image `source` the name `target` (`repo:tag`; a registry host with a
    /// port, `host:5000/app:1`, splits at the last colon after the last slash).
    pub fn tag_image(&self, source: &str, target: &str) -> Result<()> {
        let (repo, tag) = match target.rsplit_once(':') {
            Some((repo, tag)) if !tag.contains('/') => (repo, tag),
            _ => (target, "latest"),
        };
        let options = bollard::query_parameters::TagImageOptions {
            repo: Some(repo.to_owned()),
            tag: Some(tag.to_owned()),
        };
        self.rt
            .block_on(self.docker.tag_image(source, Some(options)))
            .map_err(|e| engine_error("tag image", e))
    }

    /// Removes an image by name (used to drop the slim image when the user asked
    /// for an archive only). Missing images are not an error.
    pub fn remove_image(&self, name: &str) -> Result<()> {
        match self.rt.block_on(self.docker.remove_image(
            name,
            None::<bollard::query_parameters::RemoveImageOptions>,
            None,
        )) {
            Ok(_)
            | Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => Ok(()),
            Err(e) => Err(engine_error("remove image", e)),
        }
    }

    fn force_remove(&self, id: &str) {
        let options = RemoveContainerOptions {
            force: true,
            v: true,
            ..Default::default()
        };
        let _ = self
            .rt
            .block_on(self.docker.remove_container(id, Some(options)));
    }
}

/// A reader read in chunks of up to 1 MiB, for a request body. The engine's runtime
/// blocks in each read; the reads are local (a file, a pipe fed by another thread).
struct Chunks<R> {
    reader: R,
    done: bool,
}

impl<R: std::io::Read> Iterator for Chunks<R> {
    type Item = std::io::Result<bytes::Bytes>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let mut buf = vec![0u8; 1 << 20];
        match self.reader.read(&mut buf) {
            Ok(0) => {
                self.done = true;
                None
            }
            Ok(n) => {
                buf.truncate(n);
                Some(Ok(bytes::Bytes::from(buf)))
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

/// A running (or exited) container. Dropping it removes it.
pub struct Container<'e> {
    engine: &'e Engine,
    id: String,
    reach: Reach,
    watch: Option<Watch>,
    /// Its init's pid on the engine's host, as the engine reported it at start.
    host_pid: Option<i32>,
    _registration: cleanup::Registration,
}

impl Container<'_> {
    pub fn id(&self) -> &str {
        &self.id
    }

    fn inspect(&self) -> Result<bollard::models::ContainerInspectResponse> {
        self.engine
            .rt
            .block_on(self.engine.docker.inspect_container(
                &self.id,
                None::<bollard::query_parameters::InspectContainerOptions>,
            ))
            .map_err(|e| engine_error("inspect container", e))
    }
}

/// The container's network namespace, by the engine's sandbox key (it outlives a
/// restart of the app, unlike `/proc/PID/ns/net`). Needs pare on the engine's host
/// with the rights to open it.
fn namespace(info: &bollard::models::ContainerInspectResponse) -> Result<Reach> {
    let key = info
        .network_settings
        .as_ref()
        .and_then(|n| n.sandbox_key.clone())
        .filter(|k| !k.is_empty())
        .ok_or_else(|| RuntimeError::Engine {
            what: "network namespace".into(),
            message: "the engine gave no sandbox key for the container".into(),
        })?;
    Reach::namespace(std::path::Path::new(&key))
        .map_err(|source| RuntimeError::Namespace { key, source })
}

/// Watches the container's cgroup and its writable layer (overlay2's upper
/// directory, when this host can read it); past the disk limit its init is killed.
fn watch_limits(
    pid: i32,
    limits: Limits,
    info: &bollard::models::ContainerInspectResponse,
) -> Watch {
    let upper = info
        .graph_driver
        .as_ref()
        .and_then(|g| g.data.get("UpperDir").cloned())
        .map(std::path::PathBuf::from)
        .filter(|p| p.is_dir());
    let disk = upper.map_or(DiskUse::Unknown, DiskUse::Tree);
    Watch::start(pid, limits, disk, move || {
        // SAFETY: kill with a pid the engine reported for the container's init.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    })
}

impl crate::Running for Container<'_> {
    fn reach(&self) -> &Reach {
        &self.reach
    }

    fn limit_hits(&self) -> Vec<LimitHit> {
        self.watch.as_ref().map(Watch::hits).unwrap_or_default()
    }

    /// Read from this host's `/proc`: with a remote engine (or one in a VM) that pid
    /// is not a container's here, and the list is empty.
    fn processes(&self) -> Vec<crate::Process> {
        let Some(pid) = self.host_pid else {
            return Vec::new();
        };
        crate::processes::of_container(pid)
    }

    fn state(&self) -> Result<(bool, Option<i64>)> {
        let info = self
            .engine
            .rt
            .block_on(self.engine.docker.inspect_container(
                &self.id,
                None::<bollard::query_parameters::InspectContainerOptions>,
            ))
            .map_err(|e| engine_error("inspect container", e))?;
        let state = info.state.unwrap_or_default();
        Ok((state.running.unwrap_or(false), state.exit_code))
    }

    fn wait(&self, timeout: Duration) -> Result<Option<i64>> {
        let deadline = std::time::Instant::now() + timeout;
        let mut pause = Duration::from_millis(20);
        loop {
            let (running, code) = self.state()?;
            if !running {
                return Ok(code);
            }
            if std::time::Instant::now() >= deadline {
                return Ok(None);
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(250));
        }
    }

    fn signal(&self, signal: &str) -> Result<()> {
        let options = KillContainerOptions {
            signal: signal.to_owned(),
        };
        self.engine
            .rt
            .block_on(self.engine.docker.kill_container(&self.id, Some(options)))
            .map_err(|e| engine_error("signal container", e))
    }

    fn stop(&self, signal: Option<&str>, grace: Duration) -> Result<()> {
        let options = StopContainerOptions {
            signal: signal.map(str::to_owned),
            t: Some(grace.as_secs().max(1) as i32),
        };
        match self
            .engine
            .rt
            .block_on(self.engine.docker.stop_container(&self.id, Some(options)))
        {
            Ok(())
            | Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 304, ..
            }) => Ok(()),
            Err(e) => Err(engine_error("stop container", e)),
        }
    }

    fn logs_tail(&self, lines: usize) -> String {
        let options = LogsOptions {
            stdout: true,
            stderr: true,
            tail: lines.to_string(),
            ..Default::default()
        };
        self.engine.rt.block_on(async {
            let mut out = String::new();
            let mut stream = self.engine.docker.logs(&self.id, Some(options));
            while let Some(Ok(chunk)) = stream.next().await {
                out.push_str(&String::from_utf8_lossy(&chunk.into_bytes()));
            }
            out
        })
    }

    fn exec(&self, cmd: &[String], user: Option<&str>) -> Result<ExecOutput> {
        let rt = &self.engine.rt;
        let docker = &self.engine.docker;
        let options = CreateExecOptions {
            cmd: Some(cmd.to_vec()),
            attach_stdout: Some(true),
            attach_stderr: Some(true),
            user: user.map(str::to_owned),
            ..Default::default()
        };
        rt.block_on(async {
            let exec = docker
                .create_exec(&self.id, options)
                .await
                .map_err(|e| engine_error("exec", e))?;
            let mut output = String::new();
            if let StartExecResults::Attached {
                output: mut stream, ..
            } = docker
                .start_exec(&exec.id, None)
                .await
                .map_err(|e| engine_error("exec", e))?
            {
                while let Some(Ok(chunk)) = stream.next().await {
                    output.push_str(&String::from_utf8_lossy(&chunk.into_bytes()));
                }
            }
            let info = docker
                .inspect_exec(&exec.id)
                .await
                .map_err(|e| engine_error("exec", e))?;
            Ok(ExecOutput {
                exit_code: info.exit_code,
                output,
            })
        })
    }
}

impl Drop for Container<'_> {
    fn drop(&mut self) {
        self.engine.force_remove(&self.id);
    }
}
