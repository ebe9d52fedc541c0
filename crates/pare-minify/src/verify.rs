//! Phase `verify`: run the slim image under the seccomp profile pare wrote, send it
//! exactly what the traced original was sent, and compare the answers.

use std::path::PathBuf;
use std::time::Duration;

use pare_runtime::{Engine, OciRuntime};

use crate::backend::{Backend, Launch};
use crate::error::BuildError;
use crate::exercise::{self, Exec, Exercised, HttpPlan, Readiness, Run, Which};
use crate::options::{BuildOptions, ContinueAfter};
use crate::probe::{self, ProbeResult};
use crate::progress::Silent;
use crate::read::Original;
use crate::report::Verification;

/// Where the slim image runs for verification.
pub(crate) enum SlimRun<'b> {
    /// In the engine, under this tag.
    Engine(&'b Engine, &'b str),
    /// With the OCI runtime, on this root filesystem (the original's settings).
    Bundle(&'b OciRuntime, PathBuf),
}

/// Runs the slim image (with `profile`) and the same probes, and compares.
pub(crate) fn verify(
    slim: SlimRun<'_>,
    original: &Original,
    options: &BuildOptions,
    profile: &pare_runtime::seccomp::Profile,
    traced: &Exercised,
) -> Result<Verification, BuildError> {
    // The image's own user and command (CMD replaced by --run-args, as when traced).
    let launch = Launch {
        argv: original.argv.clone(),
        user: None,
        binds: Vec::new(),
        cap_add: Vec::new(),
        seccomp: profile.clone(),
        network: options.network,
        limits: options.limits,
        role: "verify",
    };
    crate::trace::check_port_free(options, original.service_port(options))?;
    let container = match &slim {
        SlimRun::Engine(engine, tag) => Backend::start_in_engine(engine, tag, &launch)?,
        SlimRun::Bundle(oci, rootfs) => {
            Backend::start_in_bundle(oci, rootfs, &original.run, &launch)?
        }
    };
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
    let slim_results = match answered {
        Ok(exercised) => exercised.results,
        Err(e @ (BuildError::Runtime(_) | BuildError::Io { .. })) => return Err(e),
        // The slim image did not start, or its app died: that is the answer.
        Err(failure) => vec![ProbeResult {
            probe: "start".into(),
            status: None,
            body: String::new(),
            error: Some(match failure {
                BuildError::AppDied { .. } => failure.to_string(),
                _ => format!("{} did not start: {failure}", Which::Slim.name()),
            }),
            millis: 0,
        }],
    };
    let _ = container.stop(None, Duration::from_secs(5));
    drop(container);
    let original_results = &traced.results;
    let differences = if slim_results.len() == original_results.len() {
        probe::compare(original_results, &slim_results, &options.verify_ignore)
    } else {
        vec![probe::Difference {
            probe: slim_results
                .first()
                .map(|r| r.probe.clone())
                .unwrap_or_default(),
            original: format!("answered all {} probes", original_results.len()),
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
