//! The build, phase by phase: read, trace (with probes), keep-set, assemble, verify.
//! Every container is removed when its handle drops, and every file written goes to
//! the work directory or through a staging path, so an error leaves nothing behind.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use pare_image::{EntryKind, ImageRef, OpenImage, ReadOptions};
use pare_runtime::{Engine, OciRuntime};

use crate::assemble::{self, SlimLayer};
use crate::backend::{Backend, Launch, RuntimeChoice};
use crate::exercise::{ContinueAfter, Exercised, continue_signal, exercise, http_probes};
use crate::keep_set::{KeepRules, KeepSet, Reason, Trace};
use crate::probe::{self, Probe, ProbeResult};
use crate::report::{BuildReport, ImageSize, Verification};

/// Where the slim image goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    Engine { tag: String },
    DockerArchive { path: PathBuf, tag: String },
    Oci { dir: PathBuf, tag: String },
}

impl std::fmt::Display for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Output::Engine { tag } => write!(f, "docker-daemon:{tag}"),
            Output::DockerArchive { path, .. } => write!(f, "docker-archive:{}", path.display()),
            Output::Oci { dir, tag } => write!(f, "oci:{}:{tag}", dir.display()),
        }
    }
}

/// Everything `pare build` was asked to do.
#[derive(Clone)]
pub struct BuildOptions {
    pub image: ImageRef,
    pub probes: Vec<Probe>,
    pub exec_probes: Vec<Vec<String>>,
    /// For CLI images: arguments replacing CMD; the run to completion is the probe.
    pub run_args: Option<Vec<String>>,
    /// The port to probe (default: the first exposed TCP port).
    pub port: Option<u16>,
    pub start_timeout: Duration,
    pub continue_after: ContinueAfter,
    pub rules: KeepRules,
    pub verify: bool,
    pub verify_ignore: Vec<regex::Regex>,
    pub outputs: Vec<Output>,
    pub report_dir: PathBuf,
    pub work_dir: PathBuf,
    pub sensor: &'static [u8],
    /// Where the containers run.
    pub runtime: RuntimeChoice,
    /// Follow same-origin links from the probed pages, sending at most this many GETs.
    pub crawl: Option<usize>,
}

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// Bad input or an app that cannot be traced: exit 2.
    #[error("{0}")]
    Input(String),
    #[error(transparent)]
    Image(#[from] pare_image::ImageError),
    #[error(transparent)]
    Runtime(#[from] pare_runtime::RuntimeError),
    #[error(transparent)]
    Assemble(#[from] assemble::AssembleError),
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BuildError + '_ {
    move |source| BuildError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Phase names as reported, in order.
pub const PHASES: [&str; 5] = ["read", "trace", "probe", "assemble", "verify"];

/// Runs the whole build. `progress` is told when each phase starts.
pub fn build(
    options: &BuildOptions,
    progress: &mut dyn FnMut(&str),
) -> Result<BuildReport, BuildError> {
    let mut phases: BTreeMap<String, u128> = BTreeMap::new();
    let mut clock = Instant::now();
    let mut lap = |name: &str, phases: &mut BTreeMap<String, u128>| {
        phases.insert(name.to_owned(), clock.elapsed().as_millis());
        clock = Instant::now();
    };

    progress("read");
    if options.continue_after == ContinueAfter::Signal {
        continue_signal().map_err(|e| BuildError::Input(format!("cannot catch SIGUSR1: {e}")))?;
    }
    let backend = Backend::choose(options.runtime, &options.image)?;
    let spool = options.work_dir.join("spool");
    std::fs::create_dir_all(&spool).map_err(io(&spool))?;
    let opened = pare_image::open_image(&options.image, Some(&spool))?;
    let config = opened.resolved.config.clone();
    let run = config.run();
    let argv = command_line(&run, options.run_args.as_deref()).ok_or_else(|| {
        BuildError::Input(format!(
            "{}: the image has no ENTRYPOINT or CMD: nothing to run",
            options.image
        ))
    })?;
    // One pass serves the keep-set (ld.so's configuration) and the catalogers that
    // tell which packages the slim image keeps.
    let sbom_options = pare_sbom::read_options();
    let first = opened.read(&ReadOptions {
        keep_content: Some(Arc::new(|p: &str, size: u64| {
            (p.starts_with("/etc/ld.so.conf") && size < 65536) || pare_sbom::wanted(p, size)
        })),
        ..sbom_options
    })?;
    let sbom = pare_sbom::catalog(&first);
    let original_size = ImageSize {
        uncompressed_bytes: first.layers.iter().map(|l| l.tar_size).sum(),
        compressed_bytes: first.layers.iter().map(|l| l.blob_size).sum(),
        files: first
            .index
            .nodes
            .values()
            .filter(|n| n.kind != EntryKind::Dir)
            .count() as u64,
        layers: first.layers.len(),
    };
    lap("read", &mut phases);

    progress("trace");
    let port = options.port.or_else(|| first_tcp_port(&run));
    let is_service = options.run_args.is_none() && port.is_some();
    let sensor_path = options.work_dir.join("pare-sensor");
    write_executable(&sensor_path, options.sensor)?;
    let out_dir = options.work_dir.join("out");
    std::fs::create_dir_all(&out_dir).map_err(io(&out_dir))?;
    let user = run
        .user
        .clone()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "root".into());
    let mut sensor_args: Vec<String> = vec![
        "--out".into(),
        "/.pare/out".into(),
        "--user".into(),
        user.clone(),
        "--".into(),
    ];
    sensor_args.extend(argv.iter().cloned());
    let mut argv_traced = vec!["/.pare/sensor".to_owned()];
    argv_traced.extend(sensor_args);
    let launch = Launch {
        argv: argv_traced,
        user: Some("0".into()),
        binds: vec![
            (sensor_path.clone(), "/.pare/sensor".into(), true),
            (out_dir.clone(), "/.pare/out".into(), false),
        ],
        cap_add: vec!["SYS_PTRACE".into(), "SYS_ADMIN".into()],
        seccomp: None,
        role: "trace",
    };
    // In the engine, an image from an archive or layout goes in under a temporary tag,
    // removed when `_loaded` drops (after the container: it is declared first).
    let mut _loaded = None;
    let container = match &backend {
        Backend::Engine(engine) => {
            let name = match &options.image {
                ImageRef::DockerDaemon { name } => name.clone(),
                _ => {
                    let loaded = crate::load::load(engine, &opened)?;
                    let tag = loaded.tag.clone();
                    _loaded = Some(loaded);
                    tag
                }
            };
            Backend::start_in_engine(engine, &name, &launch)?
        }
        Backend::Oci(oci) => {
            let rootfs = crate::backend::unpack_original(&opened, &options.work_dir)?;
            Backend::start_in_bundle(oci, &rootfs, &run, &launch)?
        }
    };
    let traced = exercise(
        container.as_ref(),
        options,
        port.filter(|_| is_service),
        &user,
        &mut phases,
        &mut lap,
    )?;
    let stop_signal = run.stop_signal.clone();
    if is_service {
        container.stop(stop_signal.as_deref(), Duration::from_secs(15))?;
    }
    container.wait(Duration::from_secs(20))?;
    let (trace, sensor_report) = crate::trace::read_report(&out_dir.join(pare_sensor::REPORT_FILE))
        .map_err(|e| {
            BuildError::Input(format!(
                "{e}\nlast lines the app printed:\n{}",
                container.logs_tail(20)
            ))
        })?;
    drop(container);
    lap("probe", &mut phases);

    progress("assemble");
    let mut rules = options.rules.clone();
    let path_dirs = env_list(&run, "PATH");
    rules.path_dirs = if path_dirs.is_empty() {
        default_path()
    } else {
        path_dirs
    };
    rules.ld_library_path = env_list(&run, "LD_LIBRARY_PATH");
    if let Some(program) = argv.first()
        && let Some(found) = crate::keep_set::find_on_path(&first.index, program, &rules.path_dirs)
    {
        rules.always.push(found);
    }
    if let Some(dir) = run.working_dir.clone().filter(|d| !d.is_empty()) {
        rules.always.push(dir);
    }
    let (mut index, mut keep) = settle_keep_set(&opened, &first.index, &trace, &rules)?;
    let packages = crate::packages::sort_out(&sbom, &keep);
    // The kept packages' metadata goes along (a cut-down dpkg status among it), so
    // the slim image's SBOM and scanners see what it really holds.
    for (path, content) in crate::packages::metadata_to_keep(&sbom, &packages, &first.index) {
        if let Some(node) = index.nodes.get_mut(&path) {
            node.size = content.len() as u64;
            node.content = Some(content);
            keep.add(&index, &path, Reason::PackageMetadata);
        }
    }
    keep.exclude(&rules.exclude);
    let layer = assemble::build_layer(&index, &keep)?;
    let created = rfc3339_now();
    let base_digest = opened
        .resolved
        .manifest_digest
        .as_ref()
        .unwrap_or(&opened.resolved.config_digest)
        .to_string();
    let slim_config = assemble::slim_config(
        &config,
        &layer,
        &options.image.to_string(),
        &base_digest,
        &created,
    );
    let outputs = outputs_for(&backend, options);
    let verify_tag = write_outputs(backend.engine(), &outputs, &slim_config, &layer)?;
    std::fs::create_dir_all(&options.report_dir).map_err(io(&options.report_dir))?;
    let profile = crate::seccomp::profile(&trace.syscalls);
    let profile_path = options.report_dir.join("seccomp.json");
    let profile_text = serde_json::to_string_pretty(&profile).expect("json");
    std::fs::write(&profile_path, &profile_text).map_err(io(&profile_path))?;
    lap("assemble", &mut phases);

    let verification = if options.verify {
        progress("verify");
        let slim = match (&backend, &verify_tag) {
            (Backend::Engine(engine), Some(tag)) => SlimRun::Engine(engine, tag),
            (Backend::Oci(oci), _) => SlimRun::Bundle(
                oci,
                crate::backend::unpack_slim(&layer.tar, &options.work_dir)?,
                &run,
            ),
            (Backend::Engine(_), None) => unreachable!("the engine always gets the slim image"),
        };
        let result = verify(
            slim,
            options,
            &argv,
            &user,
            port.filter(|_| is_service),
            &profile,
            &traced,
        );
        lap("verify", &mut phases);
        Some(result?)
    } else {
        None
    };
    if let (Some(engine), Some(tag)) = (backend.engine(), &verify_tag)
        && !outputs
            .iter()
            .any(|o| matches!(o, Output::Engine { tag: t } if t == tag))
    {
        engine.remove_image(tag)?;
    }

    let slim_files = layer.files as u64;
    Ok(BuildReport {
        schema: "pare.build/v1",
        source: options.image.to_string(),
        outputs: outputs.iter().map(|o| o.to_string()).collect(),
        runtime: backend.name(),
        ratio: original_size.uncompressed_bytes as f64 / layer.tar.len().max(1) as f64,
        files_removed: original_size.files.saturating_sub(slim_files),
        slim: ImageSize {
            uncompressed_bytes: layer.tar.len() as u64,
            compressed_bytes: layer.gzip.len() as u64,
            files: slim_files,
            layers: 1,
        },
        original: original_size,
        kept_by_reason: keep.counts(),
        packages,
        syscalls: trace.syscalls.iter().cloned().collect(),
        traced_paths: sensor_report.files.len(),
        fanotify_paths: sensor_report.fanotify.len(),
        sensor_warnings: sensor_report
            .warnings
            .iter()
            .chain(&sensor_report.errors)
            .cloned()
            .collect(),
        probes: traced.results,
        verification,
        seccomp_profile: Some(profile_path.display().to_string()),
        phases_ms: phases,
        app_log_tail: traced.app_log,
    })
}

/// ENTRYPOINT + CMD as Docker combines them (run args replace CMD).
fn command_line(run: &pare_image::RunConfig, run_args: Option<&[String]>) -> Option<Vec<String>> {
    let mut argv: Vec<String> = run.entrypoint.clone().unwrap_or_default();
    match run_args {
        Some(args) => argv.extend(args.iter().cloned()),
        None => argv.extend(run.cmd.clone().unwrap_or_default()),
    }
    (!argv.is_empty()).then_some(argv)
}

fn first_tcp_port(run: &pare_image::RunConfig) -> Option<u16> {
    run.exposed_ports
        .iter()
        .flatten()
        .filter_map(|(k, _)| {
            k.strip_suffix("/tcp")
                .or(Some(k.as_str()))
                .and_then(|p| p.parse().ok())
        })
        .next()
}

fn env_list(run: &pare_image::RunConfig, key: &str) -> Vec<String> {
    run.env
        .iter()
        .flatten()
        .find_map(|e| e.strip_prefix(&format!("{key}=")))
        .map(|v| {
            v.split(':')
                .filter(|d| !d.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

fn default_path() -> Vec<String> {
    [
        "/usr/local/sbin",
        "/usr/local/bin",
        "/usr/sbin",
        "/usr/bin",
        "/sbin",
        "/bin",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect()
}

fn write_executable(path: &Path, bytes: &[u8]) -> Result<(), BuildError> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, bytes).map_err(io(path))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).map_err(io(path))
}

/// Loads the bytes the keep-set needs and recomputes it until nothing new is needed
/// (each round may find libraries the previous one's files need).
fn settle_keep_set(
    opened: &OpenImage,
    first: &pare_image::FileIndex,
    trace: &Trace,
    rules: &KeepRules,
) -> Result<(pare_image::FileIndex, KeepSet), BuildError> {
    let mut keep = KeepSet::compute(first, trace, rules);
    let mut wanted: BTreeSet<String> = keep.paths.keys().cloned().collect();
    wanted.extend(keep.needs_content.iter().cloned());
    wanted.extend(
        first
            .descendants("/etc/ld.so.conf.d")
            .map(|(p, _)| p.clone()),
    );
    for _round in 0..6 {
        let want = Arc::new(wanted.clone());
        let filter = Arc::clone(&want);
        let read = opened.read(&ReadOptions {
            keep_content: Some(Arc::new(move |p: &str, _| filter.contains(p))),
            ..Default::default()
        })?;
        keep = KeepSet::compute(&read.index, trace, rules);
        let missing: Vec<String> = keep
            .paths
            .keys()
            .chain(&keep.needs_content)
            .filter(|p| !want.contains(*p))
            .cloned()
            .collect();
        if missing.is_empty() {
            return Ok((read.index, keep));
        }
        wanted.extend(missing);
    }
    Err(BuildError::Input(
        "the keep-set did not settle after 6 rounds of library closure".into(),
    ))
}

/// Where the slim image goes: as asked, except that with no engine an engine tag
/// becomes an OCI layout in the report directory under the same tag.
fn outputs_for(backend: &Backend, options: &BuildOptions) -> Vec<Output> {
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

/// Writes the slim image to every output; returns the engine tag to verify with
/// (none without an engine).
fn write_outputs(
    engine: Option<&Engine>,
    outputs: &[Output],
    config: &pare_image::ImageConfig,
    layer: &SlimLayer,
) -> Result<Option<String>, BuildError> {
    let engine_tag = match engine {
        Some(engine) => {
            let tag = outputs
                .iter()
                .find_map(|o| match o {
                    Output::Engine { tag } => Some(tag.clone()),
                    _ => None,
                })
                .unwrap_or_else(|| format!("pare-verify/{}:slim", std::process::id()));
            if !outputs
                .iter()
                .any(|o| matches!(o, Output::Engine { tag: t } if *t == tag))
            {
                pare_runtime::cleanup::register_image(&tag);
            }
            let archive = assemble::docker_archive(&tag, config, layer)?;
            engine.load(bytes::Bytes::from(archive))?;
            Some(tag)
        }
        None => None,
    };
    for output in outputs {
        let result = match output {
            Output::Engine { .. } => Ok(()),
            Output::DockerArchive { path, tag } => assemble::docker_archive(tag, config, layer)
                .and_then(|bytes| assemble::write_docker_archive(path, &bytes)),
            Output::Oci { dir, tag } => assemble::write_oci_layout(dir, tag, config, layer),
        };
        if let Err(e) = result {
            if let Output::DockerArchive { path, .. } | Output::Oci { dir: path, .. } = output {
                assemble::discard_partial(path);
            }
            return Err(e.into());
        }
    }
    Ok(engine_tag)
}

/// Where the slim image runs for verification.
enum SlimRun<'b> {
    /// In the engine, under this tag.
    Engine(&'b Engine, &'b str),
    /// With the OCI runtime, on this root filesystem, with the original's settings.
    Bundle(&'b OciRuntime, PathBuf, &'b pare_image::RunConfig),
}

/// Runs the slim image (with the seccomp profile pare wrote) and the same probes.
fn verify(
    slim: SlimRun<'_>,
    options: &BuildOptions,
    argv: &[String],
    user: &str,
    port: Option<u16>,
    profile: &serde_json::Value,
    traced: &Exercised,
) -> Result<Verification, BuildError> {
    let original = &traced.results;
    // The image's own user and command (CMD replaced by --run-args, as when traced).
    let launch = Launch {
        argv: argv.to_vec(),
        user: None,
        binds: Vec::new(),
        cap_add: Vec::new(),
        seccomp: Some(profile.clone()),
        role: "verify",
    };
    let container = match &slim {
        SlimRun::Engine(engine, tag) => Backend::start_in_engine(engine, tag, &launch)?,
        SlimRun::Bundle(oci, rootfs, run) => Backend::start_in_bundle(oci, rootfs, run, &launch)?,
    };
    // The same requests the original got: the probes, then exactly the pages the
    // crawl found (not a crawl of its own, which could differ).
    let mut probes = http_probes(options);
    probes.extend(traced.crawled.iter().cloned());
    let verify_options = BuildOptions {
        continue_after: ContinueAfter::Probes,
        crawl: None,
        probes,
        ..options.clone()
    };
    let mut ignore_phases = BTreeMap::new();
    let mut no_lap = |_: &str, _: &mut BTreeMap<String, u128>| {};
    let slim_results = match exercise(
        container.as_ref(),
        &verify_options,
        port,
        user,
        &mut ignore_phases,
        &mut no_lap,
    ) {
        Ok(exercised) => exercised.results,
        Err(BuildError::Input(message)) => vec![ProbeResult {
            probe: "start".into(),
            status: None,
            body: String::new(),
            error: Some(message),
            millis: 0,
        }],
        Err(other) => return Err(other),
    };
    let stop_signal = None;
    let _ = container.stop(stop_signal, Duration::from_secs(5));
    drop(container);
    let differences = if slim_results.len() == original.len() {
        probe::compare(original, &slim_results, &options.verify_ignore)
    } else {
        vec![probe::Difference {
            probe: slim_results
                .first()
                .map(|r| r.probe.clone())
                .unwrap_or_default(),
            original: format!("{} probes answered", original.len()),
            slim: slim_results
                .first()
                .and_then(|r| r.error.clone())
                .unwrap_or_else(|| "the slim image did not answer".into()),
        }]
    };
    Ok(Verification {
        passed: differences.is_empty(),
        probes: slim_results,
        differences,
        seccomp_applied: true,
    })
}

/// The current time as RFC 3339 (UTC, whole seconds), as image configs record it.
fn rfc3339_now() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn dates() {
        let now = super::rfc3339_now();
        assert_eq!(now.len(), 20, "{now}");
        assert!(now.starts_with("20"), "{now}");
    }
}
