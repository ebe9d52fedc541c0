//! Exercising the running app: waiting until it is ready, the HTTP probes, the crawl,
//! the exec probes, and when tracing ends. The same code sends the slim image the
//! same requests for verification.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use pare_runtime::Running;

use crate::error::BuildError;
use crate::options::{BuildOptions, ContinueAfter};
use crate::probe::{self, Probe, ProbeResult};
use crate::progress::Reporter;

/// The flag SIGUSR1 raises, registered once per process before the traced container
/// starts, so an early signal is never taken for the default action (which kills).
pub(crate) fn continue_signal() -> Result<Arc<AtomicBool>, BuildError> {
    static FLAG: OnceLock<Arc<AtomicBool>> = OnceLock::new();
    if let Some(flag) = FLAG.get() {
        return Ok(Arc::clone(flag));
    }
    let flag = Arc::new(AtomicBool::new(false));
    signal_hook::flag::register(signal_hook::consts::SIGUSR1, Arc::clone(&flag))
        .map_err(BuildError::Signal)?;
    Ok(Arc::clone(FLAG.get_or_init(|| flag)))
}

/// How the app shows it is ready: a service opens its port, a CLI image runs to its
/// end (which is its probe).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Readiness {
    Port(u16),
    Exit,
}

/// The app, ready to be exercised.
pub(crate) enum Ready {
    /// A service whose port accepts connections.
    Listening(u16),
    /// A CLI image that ran to its end: its exit code and output.
    Finished(ProbeResult),
}

/// Which image a run is of, for what the messages say.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Which {
    /// The original, traced.
    Original,
    /// The original without the tracer (a reference run).
    Reference,
    Slim,
}

impl Which {
    pub fn name(self) -> &'static str {
        match self {
            Which::Original => "the original image",
            Which::Reference => "the original image without the tracer",
            Which::Slim => "the slim image",
        }
    }
}

/// How commands run in the container (exec probes, `--ready-exec`): plainly (the
/// slim image), or each under a sensor of its own (the original), so that what they
/// use is traced like the app itself: a `docker exec` runs outside the app's ptrace
/// tree, and fanotify alone sees opens but not the stats that CPython, for one, makes
/// to validate a `.pyc` against its source.
pub(crate) enum Exec<'a> {
    Plain,
    Traced(&'a SensorExec),
}

/// What tracing a command with the sensor needs, and where its reports go.
pub(crate) struct SensorExec {
    /// The traced container's output directory, on the host (`/.pare/out` inside).
    pub host_out: PathBuf,
    /// The app's user, which the command runs as.
    pub user: String,
    /// The sensor's `--deny-syscalls`.
    pub deny: String,
    next: AtomicUsize,
}

impl SensorExec {
    pub fn new(host_out: PathBuf, user: String, deny: String) -> SensorExec {
        SensorExec {
            host_out,
            user,
            deny,
            next: AtomicUsize::new(0),
        }
    }

    /// The command line that runs `command` under a sensor reporting to a directory
    /// of its own (made here).
    fn wrap(&self, command: &[String]) -> Result<Vec<String>, BuildError> {
        let n = self.next.fetch_add(1, Ordering::SeqCst);
        let name = format!("exec-{n}");
        crate::error::create_dir(&self.host_out.join(&name))?;
        let mut argv: Vec<String> = [
            "/.pare/sensor",
            "--out",
            &format!("/.pare/out/{name}"),
            "--no-fanotify",
            "--user",
            &self.user,
            "--hide",
            "/.pare",
            "--deny-syscalls",
            &self.deny,
            "--",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        argv.extend(command.iter().cloned());
        Ok(argv)
    }

    /// The directories the traced commands reported to, in order.
    pub fn report_dirs(&self) -> Vec<PathBuf> {
        (0..self.next.load(Ordering::SeqCst))
            .map(|n| self.host_out.join(format!("exec-{n}")))
            .collect()
    }
}

/// One run of an image being exercised.
pub(crate) struct Run<'a> {
    pub container: &'a dyn Running,
    /// The user exec probes run as (the image's USER).
    pub user: &'a str,
    pub exec: Exec<'a>,
    pub which: Which,
}

impl Run<'_> {
    /// Runs `command` in the container; its answer as a probe result.
    fn exec(&self, command: &[String]) -> Result<ProbeResult, BuildError> {
        let started = Instant::now();
        let out = match self.exec {
            Exec::Plain => self.container.exec(command, Some(self.user))?,
            Exec::Traced(sensor) => self.container.exec(&sensor.wrap(command)?, Some("0"))?,
        };
        Ok(ProbeResult {
            probe: crate::probe::exec_label(command),
            origin: crate::probe::Origin::User,
            headers: Vec::new(),
            status: out.exit_code.map(|c| c.clamp(0, u16::MAX as i64) as u16),
            body: out.output,
            error: match out.exit_code {
                Some(0) => None,
                Some(code) => Some(format!("exited with {code}")),
                None => Some("did not report an exit code".into()),
            },
            millis: started.elapsed().as_millis(),
        })
    }

    fn log_tail(&self) -> String {
        self.container.logs_tail(20)
    }
}

/// Which HTTP requests a run sends.
#[derive(Clone, Copy)]
pub(crate) enum HttpPlan<'a> {
    /// The traced run decides: the user's probes, or, when the user gave no probe of
    /// any kind, `GET /` if the port answers in HTTP; then the crawl, then pare's own
    /// probes ([`crate::own_probes`]).
    Decide,
    /// Verification sends exactly what the traced run sent.
    Exactly(&'a [Probe]),
}

/// What exercising the app gave.
pub struct Exercised {
    /// The HTTP requests' answers (probes, the crawl's, pare's own), then the exec
    /// probes'.
    pub results: Vec<ProbeResult>,
    /// The app's last log lines.
    pub app_log: String,
    /// The HTTP requests sent, in order (the probes, the pages the crawl found,
    /// pare's own probes): what the reference runs and verification send.
    pub http_sent: Vec<Probe>,
    /// What the user should know about how the app was exercised.
    pub notes: Vec<String>,
}

fn get_root() -> Probe {
    Probe::http("GET", "/")
}

/// How many HTTP requests the traced run will send, for the progress bar: the
/// user's probes (or `GET /`), and pare's own as if every probe answered (the
/// crawl's pages are not known before).
fn planned_http(options: &BuildOptions) -> usize {
    let asked = if options.probes.is_empty() {
        vec![get_root()]
    } else {
        options.probes.clone()
    };
    let own = if options.pare_probes && !options.no_http {
        let statuses: Vec<(&Probe, Option<u16>)> = asked.iter().map(|p| (p, Some(200))).collect();
        crate::own_probes::own_probes(&statuses).len()
    } else {
        0
    };
    asked.len() + own
}

/// A limit the container ran into explains a failure better than the failure itself
/// (a fork bomb's app dies, a disk filler's container is killed).
fn limit_first<T>(container: &dyn Running, result: Result<T, BuildError>) -> Result<T, BuildError> {
    match container.limit_hits().first() {
        Some(hit) => Err(BuildError::LimitHit {
            hit: *hit,
            log_tail: container.logs_tail(20),
        }),
        None => result,
    }
}

/// Waits until the app is ready (its port accepts and `--ready-exec` succeeds, or a
/// CLI image has exited), and within its limits.
pub(crate) fn wait_ready(
    run: &Run<'_>,
    readiness: Readiness,
    options: &BuildOptions,
) -> Result<Ready, BuildError> {
    let ready = wait_ready_unchecked(run, readiness, options);
    limit_first(run.container, ready)
}

fn wait_ready_unchecked(
    run: &Run<'_>,
    readiness: Readiness,
    options: &BuildOptions,
) -> Result<Ready, BuildError> {
    let container = run.container;
    let timeout = options.start_timeout;
    let started = Instant::now();
    let port = match readiness {
        Readiness::Exit => {
            return Ok(Ready::Finished(run_to_end_unchecked(
                run,
                "run to completion",
                timeout,
            )?));
        }
        Readiness::Port(port) => port,
    };
    let mut exit_code = None;
    let alive = || match container.state() {
        Ok((running, code)) => {
            exit_code = code;
            running
        }
        Err(_) => false,
    };
    match probe::wait_for_port(container.reach(), port, timeout, alive) {
        Ok(_) => {}
        Err(probe::NotReady::Exited) => {
            return Err(BuildError::AppExited {
                port,
                code: exit_code,
                log_tail: run.log_tail(),
            });
        }
        Err(probe::NotReady::TimedOut) => {
            return Err(BuildError::PortNeverOpened {
                port,
                seconds: timeout.as_secs(),
                log_tail: run.log_tail(),
            });
        }
    }
    // A port may accept before the service answers (a database still recovering):
    // `--ready-exec` says when it really is ready.
    if let Some(command) = &options.ready_exec {
        let mut pause = Duration::from_millis(50);
        loop {
            let answer = run.exec(command)?;
            if answer.ok() {
                break;
            }
            if !container
                .state()
                .map(|(running, _)| running)
                .unwrap_or(false)
            {
                return Err(BuildError::AppExited {
                    port,
                    code: container.state().ok().and_then(|(_, c)| c),
                    log_tail: run.log_tail(),
                });
            }
            if started.elapsed() > timeout {
                return Err(BuildError::NotReady {
                    command: answer.probe,
                    seconds: timeout.as_secs(),
                    answer: last_chars(&answer.body, 2000).to_owned(),
                });
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(500));
        }
    }
    Ok(Ready::Listening(port))
}

/// Waits for a run of a CLI image to end, within its limits: its exit code and
/// output as the answer of a probe labelled `label`.
pub(crate) fn run_to_end(
    run: &Run<'_>,
    label: &str,
    options: &BuildOptions,
) -> Result<ProbeResult, BuildError> {
    let answer = run_to_end_unchecked(run, label, options.start_timeout);
    limit_first(run.container, answer)
}

fn run_to_end_unchecked(
    run: &Run<'_>,
    label: &str,
    timeout: Duration,
) -> Result<ProbeResult, BuildError> {
    let started = Instant::now();
    let code = run.container.wait(timeout)?;
    let logs = run.container.logs_tail(200);
    let code = code.ok_or_else(|| BuildError::DidNotFinish {
        seconds: timeout.as_secs(),
        log_tail: run.log_tail(),
    })?;
    Ok(ProbeResult {
        probe: label.to_owned(),
        origin: crate::probe::Origin::User,
        headers: Vec::new(),
        status: Some(code.clamp(0, u16::MAX as i64) as u16),
        body: logs,
        error: (code != 0).then(|| format!("exited with {code}")),
        millis: started.elapsed().as_millis(),
    })
}

/// A CLI image's further runs ([`crate::read::Original::more_runs`]), each in a
/// container `start` makes for its command line, plainly (untraced): their answers.
pub(crate) fn more_runs<'c>(
    original: &crate::read::Original,
    options: &BuildOptions,
    which: Which,
    start: impl Fn(&[String]) -> Result<Box<dyn Running + 'c>, BuildError>,
) -> Result<Vec<ProbeResult>, BuildError> {
    let mut answers = Vec::new();
    for more in original.more_runs(options) {
        let container = start(&more.argv)?;
        let run = Run {
            container: container.as_ref(),
            user: &original.user,
            exec: Exec::Plain,
            which,
        };
        answers.push(run_to_end(&run, &more.label, options)?);
    }
    Ok(answers)
}

/// Exercises the ready app: HTTP requests, crawl, exec probes, then waits for the
/// chosen end of tracing. A probe the user asked for that fails is an error, and so
/// is a limit the app ran into meanwhile, or an app that died.
pub(crate) fn exercise(
    run: &Run<'_>,
    ready: Ready,
    options: &BuildOptions,
    plan: HttpPlan<'_>,
    reporter: &dyn Reporter,
) -> Result<Exercised, BuildError> {
    let exercised = exercise_unchecked(run, ready, options, plan, reporter);
    limit_first(run.container, exercised)
}

fn exercise_unchecked(
    run: &Run<'_>,
    ready: Ready,
    options: &BuildOptions,
    plan: HttpPlan<'_>,
    reporter: &dyn Reporter,
) -> Result<Exercised, BuildError> {
    let container = run.container;
    let port = match ready {
        Ready::Finished(result) => {
            return Ok(Exercised {
                app_log: result.body.clone(),
                results: vec![result],
                http_sent: Vec::new(),
                notes: Vec::new(),
            });
        }
        Ready::Listening(port) => port,
    };
    let planned = match &plan {
        HttpPlan::Exactly(p) => p.len(),
        HttpPlan::Decide => planned_http(options),
    } + options.exec_probes.len();
    let sent_so_far = std::sync::atomic::AtomicU64::new(0);
    let send = |p: &Probe| {
        let answer = probe::http(container.reach(), port, p, Duration::from_secs(10));
        let n = sent_so_far.fetch_add(1, Ordering::Relaxed) + 1;
        reporter.advance(crate::progress::Phase::Probe, n, planned as u64);
        answer
    };
    let mut notes = Vec::new();
    let mut results = Vec::new();
    // The requests whose failure fails the build (a crawled page may fail, and so may
    // pare's own probes: their answers are still compared).
    let mut asked = Vec::new();
    let mut sent = Vec::new();
    match plan {
        HttpPlan::Exactly(probes) => {
            for p in probes {
                results.push(send(p));
                if p.origin() == crate::probe::Origin::User {
                    asked.push(results.len() - 1);
                }
            }
            sent = probes.to_vec();
        }
        HttpPlan::Decide if !options.probes.is_empty() => {
            for p in &options.probes {
                results.push(send(p));
                asked.push(results.len() - 1);
            }
            sent = options.probes.clone();
        }
        HttpPlan::Decide if options.no_http || !options.exec_probes.is_empty() => {}
        HttpPlan::Decide => {
            // No probe at all: `GET /` if the port speaks HTTP.
            let answer = send(&get_root());
            if answer.status.is_some() {
                results.push(answer);
                asked.push(0);
                sent.push(get_root());
            } else {
                notes.push(format!(
                    "port {port} accepts connections but does not answer in HTTP ({}): no HTTP probe was sent; give --exec probes to exercise the app",
                    answer.error.unwrap_or_default()
                ));
            }
        }
    }
    if let HttpPlan::Decide = plan
        && !sent.is_empty()
    {
        let user_sent = sent.len();
        if let Some(limit) = options.crawl {
            let (pages, answers) = crawl(run, port, &sent, &results, limit);
            sent.extend(pages);
            results.extend(answers);
        }
        if options.pare_probes && !options.no_http {
            let statuses: Vec<(&Probe, Option<u16>)> = sent[..user_sent]
                .iter()
                .zip(&results)
                .map(|(p, r)| (p, r.status))
                .collect();
            let own = crate::own_probes::own_probes(&statuses);
            for p in &own {
                results.push(send(p));
            }
            sent.extend(own);
        }
    }
    for command in &options.exec_probes {
        results.push(run.exec(command)?);
        asked.push(results.len() - 1);
    }
    wait_for_the_end(container, options.continue_after, port, reporter)?;
    // Answers from an app that then died prove nothing about the image: a service
    // must still run when the probes are done.
    if let Ok((false, code)) = container.state() {
        return Err(BuildError::AppDied {
            image: run.which.name(),
            code,
            log_tail: run.log_tail(),
        });
    }
    // A probe that fails against the original makes the trace worthless; against the
    // slim image it is an answer, compared with the original's.
    let failed = asked.iter().map(|&i| &results[i]).find(|r| !r.ok());
    if let Some(failed) = failed.filter(|_| run.which == Which::Original) {
        return Err(BuildError::ProbeFailed {
            image: run.which.name(),
            probe: failed.probe.clone(),
            reason: failed.error.clone().unwrap_or_default(),
            answer: last_chars(&failed.body, 2000).to_owned(),
            log_tail: run.log_tail(),
        });
    }
    Ok(Exercised {
        results,
        app_log: run.log_tail(),
        http_sent: sent,
        notes,
    })
}

/// Follows the same-origin links of the GET probes' pages; the requests it sent and
/// their answers.
fn crawl(
    run: &Run<'_>,
    port: u16,
    probes: &[Probe],
    results: &[ProbeResult],
    limit: usize,
) -> (Vec<Probe>, Vec<ProbeResult>) {
    let seeds: Vec<(String, &ProbeResult)> = probes
        .iter()
        .zip(results)
        .filter_map(|(p, r)| match p {
            Probe::Http { method, path, .. } if method == "GET" => Some((path.clone(), r)),
            _ => None,
        })
        .collect();
    probe::crawl(
        run.container.reach(),
        port,
        &seeds,
        limit,
        Duration::from_secs(10),
    )
    .into_iter()
    .unzip()
}

/// Waits for the end of tracing the user chose (after the probes).
fn wait_for_the_end(
    container: &dyn Running,
    continue_after: ContinueAfter,
    port: u16,
    reporter: &dyn Reporter,
) -> Result<(), BuildError> {
    if continue_after == ContinueAfter::Probes {
        return Ok(());
    }
    // The user (or their script) exercises the app from the host: in a network of its
    // own, its port is forwarded from the host's for as long as they may.
    let _forward = match container.reach() {
        reach @ pare_runtime::Reach::Namespace(_) => Some(
            pare_runtime::network::Forward::start(reach.clone(), port, port).map_err(|_| {
                BuildError::PortBusy {
                    port,
                    holder: pare_runtime::network::port_holder(port).unwrap_or(
                        pare_runtime::network::PortHolder {
                            pid: None,
                            command: String::new(),
                        },
                    ),
                }
            })?,
        ),
        pare_runtime::Reach::Host => None,
    };
    match continue_after {
        ContinueAfter::Probes => {}
        ContinueAfter::Timeout(d) => std::thread::sleep(d),
        ContinueAfter::Enter => reporter.wait_for_user(&format!(
            "the app is running on 127.0.0.1:{port}; press Enter to finish tracing"
        )),
        ContinueAfter::Signal => {
            let flag = continue_signal()?;
            reporter.note(&format!(
                "the app is running on 127.0.0.1:{port}; exercise it, then `kill -USR1 {}` to finish tracing",
                std::process::id()
            ));
            let alive = || {
                container
                    .state()
                    .map(|(running, _)| running)
                    .unwrap_or(false)
            };
            while !flag.swap(false, Ordering::SeqCst) && alive() {
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
    Ok(())
}

/// The last `n` characters of `text`, without its trailing whitespace.
fn last_chars(text: &str, n: usize) -> &str {
    let text = text.trim_end();
    let start = text
        .char_indices()
        .rev()
        .nth(n.saturating_sub(1))
        .map_or(0, |(i, _)| i);
    &text[start..]
}

#[cfg(test)]
mod tests {
    #[test]
    fn last_chars_cuts_on_character_boundaries() {
        assert_eq!(super::last_chars("héllo wörld\n", 5), "wörld");
        assert_eq!(super::last_chars("ab", 5), "ab");
        assert_eq!(super::last_chars("", 5), "");
    }
}
