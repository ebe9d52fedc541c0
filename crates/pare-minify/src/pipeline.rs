//! The build as a sequence of typed phases: read → [`Original`], trace → ready app,
//! probe → [`Traced`], keep → [`KeepPlan`], assemble → [`Slim`], verify →
//! [`Verification`], vex. Each phase is a function of what the earlier ones returned;
//! the untraced reference runs of the original run beside keep and assemble.
//! Every container is removed when its handle drops, and every file written goes to
//! the work directory or through a staging path, so an error leaves nothing behind.

use crate::assemble::Slim;
use crate::backend::Backend;
use crate::error::BuildError;
use crate::keep::KeepPlan;
use crate::options::{BuildOptions, Output};
use crate::progress::{Phase, Reporter, Timings};
use crate::read::Original;
use crate::report::{BuildReport, ImageSize, Verification};
use crate::trace::{Source, Traced};
use crate::verify::SlimRun;

/// Runs the whole build; `reporter` hears of each phase and is asked for input.
pub fn build(options: &BuildOptions, reporter: &dyn Reporter) -> Result<BuildReport, BuildError> {
    let mut timings = Timings::default();
    let backend = Backend::choose(options.runtime, &options.image)?;
    let original = timings.run(Phase::Read, reporter, || {
        crate::read::read(options, reporter)
    })?;
    let under_entrypoint = original.exec_probes_under_entrypoint(options)?;
    let options = under_entrypoint.as_ref().unwrap_or(options);
    let source = timings.run(Phase::Trace, reporter, || {
        Source::prepare(&backend, &original, options)
    })?;
    let app = timings.run(Phase::Trace, reporter, || {
        crate::trace::start(&backend, &source, &original, options, reporter)
    })?;
    let traced = timings.run(Phase::Probe, reporter, || {
        crate::trace::probe(app, &backend, &source, &original, options, reporter)
    })?;
    let outputs = crate::outputs::outputs_for(&backend, options);
    // The reference runs wait on the app most of the time, so they run while this
    // thread assembles the slim image.
    let (assembled, references) = std::thread::scope(|scope| {
        let references = options.verify.then(|| {
            scope.spawn(|| {
                let started = std::time::Instant::now();
                reporter.phase(Phase::Reference);
                let runs = crate::reference::run(
                    &backend,
                    &source,
                    &original,
                    options,
                    &traced.exercised,
                    options.verify_runs.max(1),
                    reporter,
                );
                (runs, started.elapsed())
            })
        });
        let assembled = timings.run(Phase::Assemble, reporter, || {
            let plan = crate::keep::plan(&original, &traced.trace, options)?;
            let image = options.image.to_string();
            let slim = crate::assemble::assemble(
                &original,
                &plan,
                &traced.trace.syscalls,
                options.seccomp,
                &image,
            )?;
            let staged =
                crate::outputs::stage(&options.context, backend.engine(), &outputs, &slim)?;
            Ok::<_, BuildError>((plan, slim, staged))
        });
        // A panic there is pare's bug: an error, not a verification with no reference.
        let references = references.map(|h| {
            h.join().unwrap_or_else(|panic| {
                let what = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                    .unwrap_or_default();
                (
                    Err(BuildError::ReferencePanicked(what)),
                    std::time::Duration::ZERO,
                )
            })
        });
        (assembled, references)
    });
    let (plan, slim, staged) = assembled?;
    let references = match references {
        Some((runs, took)) => {
            timings.add(Phase::Reference, took);
            runs?
        }
        None => Vec::new(),
    };
    let verification = if options.verify {
        let verified = timings.run(Phase::Verify, reporter, || {
            verify(
                &backend,
                staged.verify_tag.as_deref(),
                &slim,
                &original,
                &traced,
                options,
                &references,
            )
        })?;
        Some(verified)
    } else {
        None
    };
    let vex = timings.run(Phase::Vex, reporter, || {
        crate::vex::prove(&original, &plan, options.advisory_db.as_ref())
    });
    // Verified, or answering differently (exit 1: the slim image stays for the user to
    // look at): either way it goes where the user asked. An error above removed it.
    let profile_path = options.report_dir.join("seccomp.json");
    let vex_path = options.report_dir.join("vex.openvex.json");
    timings.run(Phase::Assemble, reporter, || {
        let text = serde_json::to_vec_pretty(&slim.profile.to_docker()).unwrap_or_default();
        crate::outputs::write_file(&profile_path, &text)?;
        if let crate::vex::Outcome::Proven { document, .. } = &vex {
            let text = serde_json::to_vec_pretty(document).unwrap_or_default();
            crate::outputs::write_file(&vex_path, &text)?;
        }
        staged.commit()
    })?;
    let mut report = report(
        options,
        &backend,
        &outputs,
        Findings {
            original: &original,
            traced,
            plan,
            slim: &slim,
            verification,
        },
        profile_path.display().to_string(),
        &timings,
    );
    match vex {
        crate::vex::Outcome::Proven { figures, .. } => {
            report.vulnerabilities = Some(figures);
            report.vex = Some(vex_path.display().to_string());
        }
        crate::vex::Outcome::Skipped(why) => report.notes.push(why),
    }
    Ok(report)
}

fn verify(
    backend: &Backend,
    verify_tag: Option<&str>,
    slim: &Slim,
    original: &Original,
    traced: &Traced,
    options: &BuildOptions,
    references: &[crate::same_process::RunAnswers],
) -> Result<Verification, BuildError> {
    let run = match (backend, verify_tag) {
        (Backend::Engine(engine), Some(tag)) => SlimRun::Engine(engine, tag),
        (Backend::Oci(oci), _) => SlimRun::Bundle(
            oci,
            crate::backend::unpack_slim(&slim.layer.tar, &options.work_dir)?,
        ),
        (Backend::Engine(_), None) => unreachable!("the engine always gets the slim image"),
    };
    crate::verify::verify(
        run,
        original,
        options,
        &slim.profile,
        &traced.exercised,
        references,
    )
}

/// What the phases found, for the report.
struct Findings<'a> {
    original: &'a Original,
    traced: Traced,
    plan: KeepPlan,
    slim: &'a Slim,
    verification: Option<Verification>,
}

fn report(
    options: &BuildOptions,
    backend: &Backend,
    outputs: &[Output],
    found: Findings<'_>,
    profile_path: String,
    timings: &Timings,
) -> BuildReport {
    let layer = &found.slim.layer;
    let original_size = &found.original.size;
    let slim_files = layer.files as u64;
    let sensor = &found.traced.sensor;
    BuildReport {
        schema: "pare.build/v2".into(),
        source: options.image.to_string(),
        outputs: outputs.iter().map(|o| o.to_string()).collect(),
        runtime: backend.name(),
        ratio: original_size.uncompressed_bytes as f64 / layer.tar.len().max(1) as f64,
        files_removed: original_size.files.saturating_sub(slim_files),
        left_out: layer
            .left_out
            .iter()
            .map(|(path, why)| crate::report::LeftOut {
                path: path.clone(),
                reason: (*why).to_owned(),
            })
            .collect(),
        slim: ImageSize {
            uncompressed_bytes: layer.tar.len() as u64,
            compressed_bytes: layer.gzip.len() as u64,
            files: slim_files,
            layers: 1,
        },
        original: original_size.clone(),
        kept_by_reason: found.plan.keep.by_reason(),
        app_files_removed: found.plan.app_files_removed,
        reach: found.plan.reach,
        seccomp_mode: options.seccomp,
        unused_dependencies: found.plan.unused_dependencies,
        packages: found.plan.packages,
        syscalls: found.traced.trace.syscalls.iter().cloned().collect(),
        traced_paths: sensor.files.iter().map(|f| f.path.clone()).collect(),
        fanotify_paths: sensor.fanotify.iter().map(|f| f.path.clone()).collect(),
        notes: found
            .traced
            .exercised
            .notes
            .iter()
            .cloned()
            .chain(fanotify_note(&sensor.fanotify_status))
            .chain(found.original.opened.exported.as_ref().map(|why| {
                format!("the image was exported from the engine (`docker save`), not read in place from its storage: {why}")
            }))
            .chain(
                (matches!(backend, Backend::Oci(_)) && pare_runtime::userns::rootless()).then(|| {
                    "built without root, in a user namespace: the app's processes and memory were not limited (no cgroups without root); its disk writes were".to_owned()
                }),
            )
            .collect(),
        sensor_warnings: sensor
            .warnings
            .iter()
            .chain(&sensor.errors)
            .cloned()
            .collect(),
        suspect_probes: crate::report::SuspectProbe::find(
            &found.traced.exercised.http_sent,
            &found.traced.exercised.results,
        ),
        probes: found.traced.exercised.results,
        verification: found.verification,
        seccomp_profile: Some(profile_path),
        phases_ms: timings.millis(),
        vulnerabilities: None,
        vex: None,
        app_log_tail: found.traced.exercised.app_log,
    }
}

/// Said when the sensor could not watch the filesystem (fanotify needs CAP_SYS_ADMIN
/// in the host's user namespace, which a rootless engine never gives): the files then
/// come from ptrace alone, which found every file fanotify found on the test images.
fn fanotify_note(status: &pare_sensor::FanotifyStatus) -> Option<String> {
    match status {
        pare_sensor::FanotifyStatus::Unavailable { reason } => Some(format!(
            "fanotify was unavailable ({reason}): the files kept are those ptrace saw the app name"
        )),
        _ => None,
    }
}
