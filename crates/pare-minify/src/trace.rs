//! Phases `trace` and `probe`: start the original image with the sensor as its PID 1
//! until the app is ready, then exercise it, stop it, and read what the sensor saw.

use std::path::{Path, PathBuf};
use std::time::Duration;

use pare_image::ImageRef;
use pare_runtime::Running;
use pare_sensor::SensorReport;

use crate::backend::{Backend, Launch};
use crate::error::BuildError;
use crate::exercise::{self, Exec, Exercised, HttpPlan, Readiness, Ready, Run, SensorExec, Which};
use crate::keep_set::Trace;
use crate::load::LoadedImage;
use crate::options::{BuildOptions, ContinueAfter};
use crate::progress::{Phase, Reporter};
use crate::read::Original;

/// Where the original image runs from: its name in the engine (an image from an
/// archive or layout loaded under a temporary tag, removed when this drops), or its
/// root filesystem unpacked for the OCI runtime (only ever read: every container
/// writes to an overlay of its own). The traced run and the reference runs start from
/// it.
pub(crate) enum Source<'b> {
    Engine {
        name: String,
        _loaded: Option<LoadedImage<'b>>,
    },
    Bundle {
        rootfs: PathBuf,
    },
}

impl<'b> Source<'b> {
    /// Makes the original runnable: loads it into the engine, or unpacks it.
    pub fn prepare(
        backend: &'b Backend,
        original: &Original,
        options: &BuildOptions,
    ) -> Result<Source<'b>, BuildError> {
        Ok(match backend {
            Backend::Engine(engine) => match &options.image {
                ImageRef::DockerDaemon { name } => Source::Engine {
                    name: name.clone(),
                    _loaded: None,
                },
                _ => {
                    let image = crate::load::load(engine, &original.opened)?;
                    Source::Engine {
                        name: image.tag.clone(),
                        _loaded: Some(image),
                    }
                }
            },
            Backend::Oci(_) => Source::Bundle {
                rootfs: crate::backend::unpack_original(&original.opened, &options.work_dir)?,
            },
        })
    }

    /// Starts a container of the original.
    pub fn start(
        &self,
        backend: &'b Backend,
        original: &Original,
        launch: &Launch,
    ) -> Result<Box<dyn Running + 'b>, BuildError> {
        match (backend, self) {
            (Backend::Engine(engine), Source::Engine { name, .. }) => {
                Backend::start_in_engine(engine, name, launch)
            }
            (Backend::Oci(oci), Source::Bundle { rootfs }) => {
                Backend::start_in_bundle(oci, rootfs, &original.run, launch)
            }
            _ => unreachable!("a source is prepared for its backend"),
        }
    }
}

/// The traced app, started and ready to be exercised.
pub struct TracedApp<'b> {
    container: Box<dyn Running + 'b>,
    ready: Ready,
    out_dir: PathBuf,
    /// Exec probes run under a sensor of their own.
    exec: SensorExec,
    /// Whether the app is a service, stopped by pare (a CLI image stops by itself).
    service: bool,
}

/// What tracing found: the paths and syscalls the keep-set and the seccomp profile
/// are made from, and the answers verification compares against.
pub struct Traced {
    pub trace: Trace,
    pub sensor: SensorReport,
    pub exercised: Exercised,
}

/// Starts the original image under the sensor and waits until the app is ready.
pub(crate) fn start<'b>(
    backend: &'b Backend,
    source: &Source<'b>,
    original: &Original,
    options: &BuildOptions,
    reporter: &dyn Reporter,
) -> Result<TracedApp<'b>, BuildError> {
    if options.continue_after == ContinueAfter::Signal {
        exercise::continue_signal()?;
    }
    let service_port = original.service_port(options);
    check_port_free(options, service_port)?;
    write_executable(&sensor_path(options), options.sensor)?;
    let out_dir = options.work_dir.join("out");
    crate::error::create_dir(&out_dir)?;
    let deny = crate::seccomp::containment().deny_for_app.join(",");
    let launch = traced_launch(original, options, &original.argv, &out_dir, "trace");
    reporter.status(Phase::Trace, "starting the app under the sensor");
    let container = source.start(backend, original, &launch)?;
    reporter.status(
        Phase::Trace,
        &match service_port {
            Some(port) => format!("waiting for the app's port {port} to accept"),
            None => "waiting for the app to finish (a CLI image)".to_owned(),
        },
    );
    let readiness = service_port.map_or(Readiness::Exit, Readiness::Port);
    let exec = SensorExec::new(out_dir.clone(), original.user.clone(), deny);
    let run = Run {
        container: container.as_ref(),
        user: &original.user,
        exec: Exec::Traced(&exec),
        which: Which::Original,
    };
    let ready = exercise::wait_ready(&run, readiness, options)?;
    Ok(TracedApp {
        container,
        ready,
        out_dir,
        exec,
        service: service_port.is_some(),
    })
}

fn sensor_path(options: &BuildOptions) -> PathBuf {
    options.work_dir.join("pare-sensor")
}

/// How the original runs `argv` under the sensor, which reports to `out_dir`.
fn traced_launch(
    original: &Original,
    options: &BuildOptions,
    argv: &[String],
    out_dir: &Path,
    role: &str,
) -> Launch {
    let containment = crate::seccomp::containment();
    let mut sensor_argv = vec![
        "/.pare/sensor".to_owned(),
        "--out".into(),
        "/.pare/out".into(),
        "--user".into(),
        original.user.clone(),
        // The app must neither read nor write what the sensor reports to pare.
        "--hide".into(),
        "/.pare".into(),
        "--deny-syscalls".into(),
        containment.deny_for_app.join(","),
        // Before pare's own stop grace (15 s) runs out, so the report is complete.
        "--kill-after".into(),
        "10".into(),
        "--".into(),
    ];
    sensor_argv.extend(argv.iter().cloned());
    Launch {
        argv: sensor_argv,
        user: Some("0".into()),
        binds: vec![
            (sensor_path(options), "/.pare/sensor".into(), true),
            (out_dir.to_owned(), "/.pare/out".into(), false),
        ],
        cap_add: vec!["SYS_PTRACE".into(), "SYS_ADMIN".into()],
        seccomp: containment.container,
        network: options.network,
        limits: options.limits,
        role: role.into(),
    }
}

/// Exercises the traced app, ends it, and reads the sensor's report; then a CLI
/// image's further runs ([`Original::more_runs`]), each traced the same.
pub(crate) fn probe<'b>(
    app: TracedApp<'b>,
    backend: &'b Backend,
    source: &Source<'b>,
    original: &Original,
    options: &BuildOptions,
    reporter: &dyn Reporter,
) -> Result<Traced, BuildError> {
    let container = app.container.as_ref();
    let run = Run {
        container,
        user: &original.user,
        exec: Exec::Traced(&app.exec),
        which: Which::Original,
    };
    let exercised = exercise::exercise(&run, app.ready, options, HttpPlan::Decide, reporter)?;
    if app.service {
        container.stop(original.run.stop_signal.as_deref(), Duration::from_secs(15))?;
    }
    container.wait(Duration::from_secs(20))?;
    let read = |dir: &Path| read_sensor_report(dir, container);
    let (mut trace, sensor) = read(&app.out_dir)?;
    // What the exec probes (and --ready-exec) used, traced by their own sensors.
    for dir in app.exec.report_dirs() {
        let (exec_trace, _) = read(&dir)?;
        trace.merge(exec_trace);
    }
    let mut exercised = exercised;
    for (n, more) in original.more_runs(options).iter().enumerate() {
        reporter.status(Phase::Probe, &format!("tracing {}", more.label));
        let out_dir = options.work_dir.join(format!("out-run-{}", n + 1));
        crate::error::create_dir(&out_dir)?;
        let launch = traced_launch(original, options, &more.argv, &out_dir, "trace");
        let container = source.start(backend, original, &launch)?;
        let run = Run {
            container: container.as_ref(),
            user: &original.user,
            exec: Exec::Plain,
            which: Which::Original,
        };
        exercised
            .results
            .push(exercise::run_to_end(&run, &more.label, options)?);
        let (run_trace, _) = read_sensor_report(&out_dir, container.as_ref())?;
        trace.merge(run_trace);
    }
    Ok(Traced {
        trace,
        sensor,
        exercised,
    })
}

/// What the sensor that reported to `dir` saw, in `container`.
fn read_sensor_report(
    dir: &Path,
    container: &dyn Running,
) -> Result<(Trace, SensorReport), BuildError> {
    let path = dir.join(pare_sensor::REPORT_FILE);
    crate::sensor_report::read_report(&path).map_err(|reason| BuildError::SensorReport {
        path,
        reason,
        log_tail: container.logs_tail(20),
    })
}

/// On the host's network, the port the app will listen on must be free: a process
/// already listening there would answer the probes in the app's place.
pub(crate) fn check_port_free(options: &BuildOptions, port: Option<u16>) -> Result<(), BuildError> {
    match port {
        Some(port) if options.network == pare_runtime::Network::Host => {
            match pare_runtime::network::port_holder(port) {
                Some(holder) => Err(BuildError::PortBusy { port, holder }),
                None => Ok(()),
            }
        }
        _ => Ok(()),
    }
}

fn write_executable(path: &Path, bytes: &[u8]) -> Result<(), BuildError> {
    use std::os::unix::fs::PermissionsExt;
    let io = |source| BuildError::Io {
        action: "writing",
        path: path.to_owned(),
        source,
    };
    std::fs::write(path, bytes).map_err(io)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).map_err(io)
}
