//! Exercising the running app: waiting for its port, the HTTP probes, the crawl, the
//! exec probes, and when tracing ends. The same code sends the slim image the same
//! requests for verification.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use pare_runtime::Running;

use crate::pipeline::{BuildError, BuildOptions};
use crate::probe::{self, Probe, ProbeResult};

/// When the traced run ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContinueAfter {
    /// When the probes are done (the default).
    Probes,
    /// After the probes, when the user presses Enter.
    Enter,
    /// After the probes, after this long (the app keeps running meanwhile).
    Timeout(Duration),
    /// After the probes, when pare gets SIGUSR1 (`kill -USR1 PID`), for scripts that
    /// exercise the app themselves; also ends when the app exits.
    Signal,
}

/// The flag SIGUSR1 raises, registered once per process before the traced container
/// starts, so an early signal is never taken for the default action (which kills).
pub(crate) fn continue_signal() -> std::io::Result<Arc<AtomicBool>> {
    static FLAG: OnceLock<Arc<AtomicBool>> = OnceLock::new();
    if let Some(flag) = FLAG.get() {
        return Ok(Arc::clone(flag));
    }
    let flag = Arc::new(AtomicBool::new(false));
    signal_hook::flag::register(signal_hook::consts::SIGUSR1, Arc::clone(&flag))?;
    Ok(Arc::clone(FLAG.get_or_init(|| flag)))
}

/// What exercising the app gave.
pub(crate) struct Exercised {
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
        vec![Probe::parse_http("GET /").expect("a valid probe")]
    } else {
        options.probes.clone()
    }
}

/// Starts, waits for and probes the traced app.
pub(crate) fn exercise(
    container: &dyn Running,
    options: &BuildOptions,
    port: Option<u16>,
    user: &str,
    phases: &mut BTreeMap<String, u128>,
    lap: &mut dyn FnMut(&str, &mut BTreeMap<String, u128>),
) -> Result<Exercised, BuildError> {
    let mut results = Vec::new();
    let Some(port) = port else {
        // A CLI image: running to completion is the probe.
        let started = Instant::now();
        let code = container.wait(options.start_timeout)?;
        lap("trace", phases);
        let logs = container.logs_tail(200);
        let code = code.ok_or_else(|| {
            BuildError::Input(format!(
                "the app did not finish within {}s; use --timeout, or probes for a service",
                options.start_timeout.as_secs()
            ))
        })?;
        results.push(ProbeResult {
            probe: "run to completion".into(),
            status: Some(code.clamp(0, u16::MAX as i64) as u16),
            body: logs.clone(),
            error: (code != 0).then(|| format!("exited with {code}")),
            millis: started.elapsed().as_millis(),
        });
        return Ok(Exercised {
            results,
            app_log: logs,
            crawled: Vec::new(),
        });
    };
    let alive = || {
        container
            .state()
            .map(|(running, _)| running)
            .unwrap_or(false)
    };
    probe::wait_for_port(port, options.start_timeout, alive).map_err(|e| {
        BuildError::Input(format!(
            "{e}\nlast lines the app printed:\n{}",
            container.logs_tail(20)
        ))
    })?;
    lap("trace", phases);
    let probes = http_probes(options);
    for p in &probes {
        results.push(probe::http(port, p, Duration::from_secs(10)));
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
        let found = probe::crawl(port, &seeds, limit, Duration::from_secs(10));
        let (sent, answers): (Vec<Probe>, Vec<ProbeResult>) = found.into_iter().unzip();
        crawled = sent;
        results.extend(answers);
    }
    let user_results = probes.len();
    for command in &options.exec_probes {
        let started = Instant::now();
        let out = container.exec(command, Some(user))?;
        results.push(ProbeResult {
            probe: format!("exec {}", command.join(" ")),
            status: out.exit_code.map(|c| c.clamp(0, u16::MAX as i64) as u16),
            body: out.output,
            error: (out.exit_code != Some(0)).then(|| format!("exited with {:?}", out.exit_code)),
            millis: started.elapsed().as_millis(),
        });
    }
    match options.continue_after {
        ContinueAfter::Probes => {}
        ContinueAfter::Timeout(d) => std::thread::sleep(d),
        ContinueAfter::Enter => {
            eprintln!(
                "pare: the app is running on 127.0.0.1:{port}; press Enter to finish tracing"
            );
            let mut line = String::new();
            let _ = std::io::stdin().read_line(&mut line);
        }
        ContinueAfter::Signal => {
            let flag = continue_signal()
                .map_err(|e| BuildError::Input(format!("cannot catch SIGUSR1: {e}")))?;
            eprintln!(
                "pare: the app is running on 127.0.0.1:{port}; exercise it, then `kill -USR1 {}` to finish tracing",
                std::process::id()
            );
            while !flag.swap(false, Ordering::SeqCst) && alive() {
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
    // A page the crawl found may fail (its answer is still compared); a probe the
    // user asked for may not.
    let mut asked = results[..user_results]
        .iter()
        .chain(&results[user_results + crawled.len()..]);
    if let Some(failed) = asked.find(|r| !r.ok()) {
        // What the probe got back (an exec probe's output, an error page) says why.
        let body = failed.body.trim_end();
        // Its last 2000 characters.
        let start = body.char_indices().rev().nth(1999).map_or(0, |(i, _)| i);
        let answer = if body.is_empty() {
            String::new()
        } else {
            format!("\nit answered:\n{}", &body[start..])
        };
        return Err(BuildError::Input(format!(
            "probe {} failed against the original image: {}{answer}\nlast lines the app printed:\n{}",
            failed.probe,
            failed.error.clone().unwrap_or_default(),
            container.logs_tail(20)
        )));
    }
    Ok(Exercised {
        results,
        app_log: container.logs_tail(20),
        crawled,
    })
}
