//! The reference runs: the original image started again without the sensor (the
//! tracer changes pids and timing) and sent exactly the requests the traced run sent.
//! What their answers disagree on is noise ([`crate::noise`]); the slim image is
//! compared with the first of them. They run while the slim layer is assembled.

use std::time::{Duration, Instant};

use crate::backend::{Backend, Launch};
use crate::error::BuildError;
use crate::exercise::{self, Exec, Exercised, HttpPlan, Readiness, Run, Which};
use crate::options::{BuildOptions, ContinueAfter};
use crate::progress::{Phase, Reporter, Silent};
use crate::read::Original;
use crate::same_process::RunAnswers;
use crate::trace::Source;

/// Reference answers are taken at least this far apart, so that a time with
/// second resolution varies between them and is learned as noise.
const SPACING: Duration = Duration::from_millis(1100);

/// Runs the original `runs` times without the tracer; each run's answers, in the order
/// the traced run's were, and its processes when they were in.
pub(crate) fn run<'b>(
    backend: &'b Backend,
    source: &Source<'b>,
    original: &Original,
    options: &BuildOptions,
    traced: &Exercised,
    runs: usize,
    reporter: &dyn Reporter,
) -> Result<Vec<RunAnswers>, BuildError> {
    let options = BuildOptions {
        continue_after: ContinueAfter::Probes,
        crawl: None,
        ..options.clone()
    };
    let readiness = original
        .service_port(&options)
        .map_or(Readiness::Exit, Readiness::Port);
    let mut answers = Vec::with_capacity(runs);
    let mut last_start: Option<Instant> = None;
    for i in 1..=runs {
        if let Some(at) = last_start {
            std::thread::sleep(SPACING.saturating_sub(at.elapsed()));
        }
        last_start = Some(Instant::now());
        reporter.status(
            Phase::Reference,
            &format!("untraced run {i} of {runs} of the original"),
        );
        // The image as it runs without pare: its own user and command, Docker's
        // default profile, the same network and limits as every other run.
        let start = |argv: &[String]| {
            let role = format!("reference-{i}");
            let launch = Launch::plain(argv, crate::seccomp::app_profile(), &options, role);
            source.start(backend, original, &launch)
        };
        let container = start(&original.argv)?;
        let run = Run {
            container: container.as_ref(),
            user: &original.user,
            exec: Exec::Plain,
            which: Which::Reference,
        };
        let ready = exercise::wait_ready(&run, readiness, &options)?;
        let exercised = exercise::exercise(
            &run,
            ready,
            &options,
            HttpPlan::Exactly(&traced.http_sent),
            &Silent,
        )?;
        // What ran when its answers were in ([`crate::same_process`]).
        let processes = container.processes();
        // Its answers are in: it need not be stopped gracefully.
        container.kill();
        let mut results = exercised.results;
        results.extend(exercise::more_runs(
            original,
            &options,
            Which::Reference,
            start,
        )?);
        answers.push(RunAnswers { results, processes });
    }
    Ok(answers)
}
