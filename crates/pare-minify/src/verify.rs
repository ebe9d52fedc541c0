//! Phase `verify`: run the slim image under the seccomp profile pare wrote, send it
//! exactly what the traced original was sent, and compare its answers with the
//! untraced reference runs of the original ([`crate::reference`]): what varied
//! between those is noise ([`crate::noise`]), anything else a difference.

use std::path::PathBuf;

use pare_runtime::{Engine, OciRuntime};

use crate::backend::{Backend, Launch};
use crate::error::BuildError;
use crate::exercise::{self, Exec, Exercised, HttpPlan, Readiness, Run, Which};
use crate::noise;
use crate::options::{BuildOptions, ContinueAfter};
use crate::probe::ProbeResult;
use crate::progress::Silent;
use crate::read::Original;
use crate::report::{Difference, Verification};
use crate::same_process::{self, RunAnswers};

/// How long the slim run's processes may take to become those every reference run
/// had, once its answers are in.
const PROCESS_SETTLE: std::time::Duration = std::time::Duration::from_secs(5);

/// Where the slim image runs for verification.
pub(crate) enum SlimRun<'b> {
    /// In the engine, under this tag.
    Engine(&'b Engine, &'b str),
    /// With the OCI runtime, on this root filesystem (the original's settings).
    Bundle(&'b OciRuntime, PathBuf),
}

/// Runs the slim image (with `profile`), sends it what the traced run sent, and
/// compares its answers with the `references` (at least one run of answers; with the
/// traced run's answers standing in when there is none).
pub(crate) fn verify(
    slim: SlimRun<'_>,
    original: &Original,
    options: &BuildOptions,
    profile: &pare_runtime::seccomp::Profile,
    traced: &Exercised,
    references: &[RunAnswers],
) -> Result<Verification, BuildError> {
    let always_running = same_process::always_running(references);
    let RunAnswers {
        results: answers,
        processes,
    } = run_slim(slim, original, options, profile, traced, &always_running)?;
    // The traced run's processes include the sensor's: not a reference for them.
    let standing_in = [RunAnswers {
        results: traced.results.clone(),
        processes: Vec::new(),
    }];
    let references = if references.is_empty() {
        &standing_in[..]
    } else {
        references
    };
    let reference = &references[0].results;
    let mut verification = Verification {
        references: references.len(),
        reference_probes: reference.clone(),
        reference_processes: references[0].processes.clone(),
        seccomp_applied: true,
        ..Default::default()
    };
    if answers.len() != reference.len() {
        // It did not start, or its app died: one difference says so, at the first
        // probe (`GET /health status: 200 -> error: the slim image did not start …`).
        let why = answers
            .first()
            .and_then(|r| r.error.clone())
            .unwrap_or_else(|| "the slim image did not answer".into());
        verification.differences.push(match reference.first() {
            Some(first) => Difference {
                probe: first.probe.clone(),
                place: "status".into(),
                original: first
                    .status
                    .map_or_else(|| "-".to_owned(), |s| s.to_string()),
                slim: format!("error: {why}"),
                accept_with: None,
            },
            None => Difference {
                probe: "start".into(),
                place: "start".into(),
                original: "started".into(),
                slim: why,
                accept_with: None,
            },
        });
    } else {
        for (i, (expected, got)) in reference.iter().zip(&answers).enumerate() {
            let runs: Vec<&ProbeResult> =
                references.iter().filter_map(|r| r.results.get(i)).collect();
            let learned = noise::learn(&runs);
            let mut compared = noise::compare(expected, got, &learned, &options.verify_ignore);
            same_process::accept_same_process_pids(
                &mut compared,
                &references[0].processes,
                &processes,
            );
            let named = |d: noise::FieldDiff| Difference {
                probe: expected.probe.clone(),
                place: d.place,
                original: d.reference,
                slim: d.slim,
                accept_with: d.accept_with,
            };
            verification
                .differences
                .extend(compared.differences.into_iter().map(named));
            verification
                .ignored
                .extend(compared.ignored.into_iter().map(named));
        }
    }
    // A process the original always ran and the slim image does not: the slim image
    // could not start it (a helper exec'd from a removed shell, say), whether or not
    // an answer shows it.
    for command in same_process::not_started(&always_running, &processes) {
        verification.differences.push(Difference {
            probe: "processes".into(),
            place: "process".into(),
            original: command,
            slim: "(not running)".into(),
            accept_with: None,
        });
    }
    verification.passed = verification.differences.is_empty();
    verification.probes = answers;
    verification.processes = processes;
    Ok(verification)
}

/// The slim image's answers (and its processes when they were in), or one failed
/// "start" when it never got to answer.
fn run_slim(
    slim: SlimRun<'_>,
    original: &Original,
    options: &BuildOptions,
    profile: &pare_runtime::seccomp::Profile,
    traced: &Exercised,
    always_running: &same_process::Places,
) -> Result<RunAnswers, BuildError> {
    // The image's own user and command (CMD replaced by --run-args, as when traced).
    let start = |argv: &[String]| {
        let launch = Launch::plain(argv, profile.clone(), options, "verify".into());
        match &slim {
            SlimRun::Engine(engine, tag) => Backend::start_in_engine(engine, tag, &launch),
            SlimRun::Bundle(oci, rootfs) => {
                Backend::start_in_bundle(oci, rootfs, &original.run, &launch)
            }
        }
    };
    crate::trace::check_port_free(options, original.service_port(options))?;
    let container = start(&original.argv)?;
    // The same requests the original got: the probes, then exactly the pages the
    // crawl found (not a crawl of its own, which could differ).
    let verify_options = BuildOptions {
        continue_after: ContinueAfter::Probes,
        crawl: None,
        ..options.clone()
    };
    let readiness = original
        .service_port(options)
        .map_or(Readiness::Exit, Readiness::Port);
    let run = Run {
        container: container.as_ref(),
        user: &original.user,
        exec: Exec::Plain,
        which: Which::Slim,
    };
    let answered = exercise::wait_ready(&run, readiness, &verify_options).and_then(|ready| {
        exercise::exercise(
            &run,
            ready,
            &verify_options,
            HttpPlan::Exactly(&traced.http_sent),
            &Silent,
        )
    });
    // A process the references ran may just not have started yet (gunicorn forks its
    // second worker while the first answers): it gets a moment before it counts as
    // one the slim image could not start.
    let answered = answered.map(|exercised| {
        let deadline = std::time::Instant::now() + PROCESS_SETTLE;
        let mut processes = container.processes();
        while !same_process::not_started(always_running, &processes).is_empty()
            && std::time::Instant::now() < deadline
        {
            std::thread::sleep(std::time::Duration::from_millis(100));
            processes = container.processes();
        }
        (exercised, processes)
    });
    // Its answers are in: it need not be stopped gracefully.
    container.kill();
    drop(container);
    // A CLI image's further runs, each in a slim container of its own.
    let answered = answered.and_then(|(exercised, processes)| {
        let mut results = exercised.results;
        results.extend(exercise::more_runs(
            original,
            &verify_options,
            Which::Slim,
            start,
        )?);
        Ok(RunAnswers { results, processes })
    });
    match answered {
        Ok(answers) => Ok(answers),
        Err(e @ (BuildError::Runtime(_) | BuildError::Io { .. })) => Err(e),
        // The slim image did not start, or its app died: that is the answer.
        Err(failure) => Ok(RunAnswers {
            processes: Vec::new(),
            results: vec![ProbeResult {
                probe: "start".into(),
                error: Some(match failure {
                    BuildError::AppDied { .. } => failure.to_string(),
                    _ => format!("{} did not start: {failure}", Which::Slim.name()),
                }),
                ..Default::default()
            }],
        }),
    }
}
