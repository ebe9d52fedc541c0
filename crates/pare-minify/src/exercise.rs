//! Exercising the running app: waiting until it is ready, the HTTP probes, the crawl,
//! the exec probes, and when tracing ends. The same code sends the slim image the
//! same requests for verification.

use std::sync::atomic::{AtomicBool, Ordering};
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

/// What exercising the app gave.
pub struct Exercised {
    /// The HTTP probes' answers, then the crawl's, then the exec probes'.
    pub results: Vec<ProbeResult>,
    /// The app's last log lines.
    pub app_log: String,
    /// The GETs the crawl sent, in order.
    pub crawled: Vec<Probe>,
}

/// The HTTP probes to send: the user's, or `GET /`.
pub(crate) fn http_probes(options: &BuildOptions) -> Vec<Probe> {
    if options.probes.is_empty() {
        vec![Probe::Http {
            method: "GET".into(),
            path: "/".into(),
            headers: Vec::new(),
            body: None,
            expect_status: None,
        }]
    } else {
        options.probes.clone()
    }
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

/// Waits until the app is ready (its port accepts, or a CLI image has exited), and
/// within its limits.
pub(crate) fn wait_ready(
    container: &dyn Running,
    readiness: Readiness,
    timeout: Duration,
) -> Result<Ready, BuildError> {
    let ready = wait_ready_unchecked(container, readiness, timeout);
    limit_first(container, ready)
}

fn wait_ready_unchecked(
    container: &dyn Running,
    readiness: Readiness,
    timeout: Duration,
) -> Result<Ready, BuildError> {
    match readiness {
        Readiness::Exit => {
            let started = Instant::now();
            let code = container.wait(timeout)?;
            let logs = container.logs_tail(200);
            let code = code.ok_or_else(|| BuildError::DidNotFinish {
                seconds: timeout.as_secs(),
                log_tail: container.logs_tail(20),
            })?;
            Ok(Ready::Finished(ProbeResult {
                probe: "run to completion".into(),
                status: Some(code.clamp(0, u16::MAX as i64) as u16),
                body: logs,
                error: (code != 0).then(|| format!("exited with {code}")),
                millis: started.elapsed().as_millis(),
            }))
        }
        Readiness::Port(port) => {
            let mut exit_code = None;
            let alive = || match container.state() {
                Ok((running, code)) => {
                    exit_code = code;
                    running
                }
                Err(_) => false,
            };
            match probe::wait_for_port(container.reach(), port, timeout, alive) {
                Ok(_) => Ok(Ready::Listening(port)),
                Err(probe::NotReady::Exited) => Err(BuildError::AppExited {
                    port,
                    code: exit_code,
                    log_tail: container.logs_tail(20),
                }),
                Err(probe::NotReady::TimedOut) => Err(BuildError::PortNeverOpened {
                    port,
                    seconds: timeout.as_secs(),
                    log_tail: container.logs_tail(20),
                }),
            }
        }
    }
}

/// Exercises the ready app: HTTP probes, crawl, exec probes (as `user`), then waits
/// for the chosen end of tracing. A probe the user asked for that fails is an error,
/// and so is a limit the app ran into meanwhile.
pub(crate) fn exercise(
    container: &dyn Running,
    ready: Ready,
    options: &BuildOptions,
    user: &str,
    reporter: &dyn Reporter,
) -> Result<Exercised, BuildError> {
    let exercised = exercise_unchecked(container, ready, options, user, reporter);
    limit_first(container, exercised)
}

fn exercise_unchecked(
    container: &dyn Running,
    ready: Ready,
    options: &BuildOptions,
    user: &str,
    reporter: &dyn Reporter,
) -> Result<Exercised, BuildError> {
    let port = match ready {
        Ready::Finished(result) => {
            return Ok(Exercised {
                app_log: result.body.clone(),
                results: vec![result],
                crawled: Vec::new(),
            });
        }
        Ready::Listening(port) => port,
    };
    let mut results = Vec::new();
    let probes = http_probes(options);
    for p in &probes {
        results.push(probe::http(
            container.reach(),
            port,
            p,
            Duration::from_secs(10),
        ));
    }
    let mut crawled = Vec::new();
    if let Some(limit) = options.crawl {
        let seeds: Vec<(String, &ProbeResult)> = probes
            .iter()
            .zip(&results)
            .filter_map(|(p, r)| match p {
                Probe::Http { method, path, .. } if method == "GET" => Some((path.clone(), r)),
                _ => None,
            })
            .collect();
        let found = probe::crawl(
            container.reach(),
            port,
            &seeds,
            limit,
            Duration::from_secs(10),
        );
        let (sent, answers): (Vec<Probe>, Vec<ProbeResult>) = found.into_iter().unzip();
        crawled = sent;
        results.extend(answers);
    }
    let user_results = probes.len();
    for command in &options.exec_probes {
        results.push(exec_probe(container, command, user)?);
    }
    wait_for_the_end(container, options.continue_after, port, reporter)?;
    // Answers from an app that then died prove nothing about the image: a service
    // must still run when the probes are done.
    if let Ok((false, code)) = container.state() {
        return Err(BuildError::AppDied {
            code,
            log_tail: container.logs_tail(20),
        });
    }
    // A page the crawl found may fail (its answer is still compared); a probe the
    // user asked for may not.
    let mut asked = results[..user_results]
        .iter()
        .chain(&results[user_results + crawled.len()..]);
    if let Some(failed) = asked.find(|r| !r.ok()) {
        return Err(BuildError::ProbeFailed {
            probe: failed.probe.clone(),
            reason: failed.error.clone().unwrap_or_default(),
            answer: last_chars(&failed.body, 2000).to_owned(),
            log_tail: container.logs_tail(20),
        });
    }
    Ok(Exercised {
        results,
        app_log: container.logs_tail(20),
        crawled,
    })
}

/// Runs one exec probe in the container.
fn exec_probe(
    container: &dyn Running,
    command: &[String],
    user: &str,
) -> Result<ProbeResult, BuildError> {
    let started = Instant::now();
    let out = container.exec(command, Some(user))?;
    Ok(ProbeResult {
        probe: format!("exec {}", command.join(" ")),
        status: out.exit_code.map(|c| c.clamp(0, u16::MAX as i64) as u16),
        body: out.output,
        error: (out.exit_code != Some(0)).then(|| format!("exited with {:?}", out.exit_code)),
        millis: started.elapsed().as_millis(),
    })
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
