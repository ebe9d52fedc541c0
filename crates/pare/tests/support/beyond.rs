//! Checks beyond the probes: what a user does with a slim image on the day after the
//! build (error pages, other templates, static files, form posts, second commands),
//! sent to the original and to the slim image run under the seccomp profile pare
//! wrote, and compared. "Verified" promises these answer alike, not only the probes.

use std::io::{Read, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{Run, docker, pare_env, temp_dir};

/// One thing a user does to the running app.
#[derive(Clone, Debug)]
pub enum Check {
    /// An HTTP request (sent as HTTP/1.0, so no chunked answers to reassemble).
    Http {
        method: String,
        path: String,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// A command run in the app's container (`docker exec`).
    Exec(Vec<String>),
}

impl Check {
    pub fn get(path: &str) -> Check {
        Check::Http {
            method: "GET".into(),
            path: path.into(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// A request with a body of `content_type`.
    pub fn send(method: &str, path: &str, content_type: &str, body: &[u8]) -> Check {
        Check::Http {
            method: method.into(),
            path: path.into(),
            headers: vec![("Content-Type".into(), content_type.into())],
            body: body.to_vec(),
        }
    }

    /// The same request with one more header (a session cookie, an `Accept`); a
    /// command is left as it is.
    pub fn with_header(mut self, name: &str, value: &str) -> Check {
        if let Check::Http { headers, .. } = &mut self {
            headers.push((name.into(), value.into()));
        }
        self
    }

    /// A request with any method, headers and body.
    pub fn request(method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Check {
        Check::Http {
            method: method.into(),
            path: path.into(),
            headers: headers
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            body: body.to_vec(),
        }
    }

    pub fn exec(command: &[&str]) -> Check {
        Check::Exec(command.iter().map(|s| (*s).to_owned()).collect())
    }

    pub fn label(&self) -> String {
        match self {
            Check::Http { method, path, .. } => format!("{method} {path}"),
            Check::Exec(c) => format!("exec {}", c.join(" ")),
        }
    }
}

/// How the slim image answered the checks.
#[derive(Debug, Default)]
pub struct Outcome {
    pub total: usize,
    pub same: usize,
    /// Each check answered differently: label, original's answer, slim's answer.
    pub different: Vec<(String, String, String)>,
}

impl Outcome {
    /// The share of checks answered alike.
    pub fn share(&self) -> f64 {
        if self.total == 0 {
            return 1.0;
        }
        self.same as f64 / self.total as f64
    }

    /// Asserts that at least `share` of the checks answered alike, listing every
    /// difference when not.
    pub fn assert_at_least(&self, share: f64, what: &str) {
        let listed: Vec<String> = self
            .different
            .iter()
            .map(|(label, a, b)| format!("  {label}\n    original: {a}\n    slim:     {b}"))
            .collect();
        assert!(
            self.share() >= share,
            "{what}: {} of {} checks beyond the probes answered alike ({:.0}%, wanted {:.0}%):\n{}",
            self.same,
            self.total,
            self.share() * 100.0,
            share * 100.0,
            listed.join("\n")
        );
    }
}

/// A normalised answer: the status line, the content type and the body, with
/// `noise` applied to the body (what varies between two runs of the same image).
fn http(port: u16, check: &Check, noise: &dyn Fn(&str) -> String) -> String {
    let Check::Http {
        method,
        path,
        headers,
        body,
    } = check
    else {
        unreachable!()
    };
    let answer = (|| -> std::io::Result<Vec<u8>> {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", port))?;
        s.set_read_timeout(Some(Duration::from_secs(20)))?;
        let mut request = format!("{method} {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n");
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        if !body.is_empty() || method == "POST" || method == "PUT" {
            request.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        request.push_str("\r\n");
        // One write: a server that answers from the head alone (a 405) and closes
        // with the body unread resets the connection, and the reset can overtake
        // its answer.
        let mut bytes = request.into_bytes();
        bytes.extend_from_slice(body);
        s.write_all(&bytes)?;
        let mut out = Vec::new();
        match s.read_to_end(&mut out) {
            // A reset after the whole answer came (the server closed with bytes
            // unread): the answer stands.
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset && !out.is_empty() => {}
            other => {
                other?;
            }
        }
        Ok(out)
    })();
    let raw = match answer {
        Ok(raw) => raw,
        Err(e) => return format!("no answer: {e}"),
    };
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(raw.len());
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let body = raw.get(split + 4..).unwrap_or_default();
    let status = head.lines().next().unwrap_or("").to_owned();
    let status = status.split_whitespace().nth(1).unwrap_or("?").to_owned();
    let content_type = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-type")
                .then(|| v.trim().to_owned())
        })
        .unwrap_or_default();
    let body = match std::str::from_utf8(body) {
        Ok(text) => noise(text),
        Err(_) => format!("{} bytes, xxh {:x}", body.len(), fnv(body)),
    };
    format!("{status} [{content_type}] {body}")
}

/// FNV-1a: enough to tell two binary bodies apart in a message.
fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf29ce484222325u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x100000001b3)
    })
}

fn exec(container: &str, command: &[String], noise: &dyn Fn(&str) -> String) -> String {
    let mut args = vec!["exec", container];
    args.extend(command.iter().map(String::as_str));
    let run = docker(&args);
    format!(
        "exit {:?}: {}{}",
        run.code(),
        noise(&run.stdout()),
        noise(&run.stderr())
    )
}

/// Runs `image` as a service on the host network under `seccomp` (a profile file, or
/// none for the original's default), waits for `port`, and answers every check.
fn answers(
    image: &str,
    port: u16,
    seccomp: Option<&Path>,
    checks: &[Check],
    noise: &dyn Fn(&str) -> String,
) -> Vec<String> {
    let name = format!(
        "pare-beyond-{}-{}",
        std::process::id(),
        image.replace(['/', ':'], "-")
    );
    let _ = docker(&["rm", "-f", &name]);
    let security = seccomp.map(|p| format!("seccomp={}", p.display()));
    let mut args = vec!["run", "-d", "--name", &name, "--network", "host"];
    if let Some(s) = &security {
        args.extend(["--security-opt", s.as_str()]);
    }
    args.push(image);
    docker(&args).success();
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            let logs = docker(&["logs", &name]);
            let _ = docker(&["rm", "-f", &name]);
            panic!("{image} never opened port {port}\n{}", logs.explain());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    // A server may accept before its workers are ready.
    std::thread::sleep(Duration::from_millis(500));
    let out = checks
        .iter()
        .map(|check| match check {
            Check::Http { .. } => http(port, check, noise),
            Check::Exec(command) => exec(&name, command, noise),
        })
        .collect();
    let _ = docker(&["rm", "-f", &name]);
    out
}

/// Sends `checks` to the original and to the slim image (under the profile pare
/// wrote) and compares the answers.
pub fn compare_service(
    original: &str,
    slim: &str,
    port: u16,
    seccomp: &Path,
    checks: &[Check],
    noise: &dyn Fn(&str) -> String,
) -> Outcome {
    let before = answers(original, port, None, checks, noise);
    let after = answers(slim, port, Some(seccomp), checks, noise);
    outcome(checks.iter().map(Check::label), before, after)
}

/// Runs each argument list as a run of its own of the original and of the slim image
/// (under the profile pare wrote; `mounts` bind-mounted in both) and compares exit
/// code, stdout and stderr.
pub fn compare_cli(
    original: &str,
    slim: &str,
    seccomp: &Path,
    mounts: &[&str],
    runs: &[Vec<String>],
    noise: &dyn Fn(&str) -> String,
) -> Outcome {
    let run = |image: &str, profile: Option<&Path>, args: &[String]| {
        let security = profile.map(|p| format!("seccomp={}", p.display()));
        let mut all = vec!["run", "--rm", "--network", "none"];
        if let Some(s) = &security {
            all.extend(["--security-opt", s.as_str()]);
        }
        for m in mounts {
            all.extend(["-v", m]);
        }
        all.push(image);
        all.extend(args.iter().map(String::as_str));
        let r = docker(&all);
        let stdout = &r.output.stdout;
        let shown = match std::str::from_utf8(stdout) {
            Ok(text) => noise(text),
            Err(_) => format!("{} bytes, fnv {:x}", stdout.len(), fnv(stdout)),
        };
        format!("exit {:?}: {shown} {}", r.code(), noise(&r.stderr()))
    };
    let before: Vec<String> = runs.iter().map(|a| run(original, None, a)).collect();
    let after: Vec<String> = runs.iter().map(|a| run(slim, Some(seccomp), a)).collect();
    outcome(
        runs.iter().map(|a| format!("run {}", a.join(" "))),
        before,
        after,
    )
}

fn outcome(
    labels: impl Iterator<Item = String>,
    before: Vec<String>,
    after: Vec<String>,
) -> Outcome {
    let mut out = Outcome::default();
    for ((label, a), b) in labels.zip(before).zip(after) {
        out.total += 1;
        if a == b {
            out.same += 1;
        } else {
            let cut = |s: &str| s.chars().take(400).collect::<String>();
            out.different.push((label, cut(&a), cut(&b)));
        }
    }
    out
}

/// `pare build IMAGE --tag TAG --report-dir DIR ARGS` with no advisory database; the
/// slim image is removed when this is dropped.
pub struct Build {
    pub tag: String,
    pub run: Run,
    pub out: tempfile::TempDir,
}

impl Build {
    pub fn new(image: &str, tag: &str, args: &[&str]) -> Build {
        let out = temp_dir();
        let reports = out.path().join("report").display().to_string();
        let cache = out.path().join("cache").display().to_string();
        let mut all = vec!["build", image, "--tag", tag, "--report-dir", &reports];
        all.extend_from_slice(args);
        let run = pare_env(&all, &[("PARE_CACHE_DIR", &cache)]);
        Build {
            tag: tag.to_owned(),
            run,
            out,
        }
    }

    pub fn report(&self) -> Value {
        let path = self.out.path().join("report/report.json");
        let bytes = std::fs::read(&path).unwrap_or_else(|e| {
            panic!("{}: {e}\n{}", path.display(), self.run.explain());
        });
        serde_json::from_slice(&bytes).expect("report.json is JSON")
    }

    pub fn seccomp(&self) -> std::path::PathBuf {
        self.out.path().join("report/seccomp.json")
    }

    /// Asserts the build said "Verified".
    pub fn verified(self) -> Build {
        assert_eq!(
            self.report()["verification"]["passed"],
            true,
            "{}",
            self.run.explain()
        );
        self
    }

    /// Uncompressed size of the image `side` (`original` or `slim`), in MB.
    pub fn mb(&self, side: &str) -> f64 {
        self.report()[side]["uncompressed_bytes"]
            .as_f64()
            .unwrap_or(0.0)
            / 1e6
    }
}

impl Drop for Build {
    fn drop(&mut self) {
        let _ = docker(&["rmi", &self.tag]);
    }
}

/// The checks answered differently are exactly `known` (each listed with why it
/// differs), and at least 95% of all answered alike: a regression and a fix both show.
pub fn assert_only_known(outcome: &Outcome, known: &[(&str, &str)], what: &str) {
    let mut got: Vec<&str> = outcome
        .different
        .iter()
        .map(|(l, _, _)| l.as_str())
        .collect();
    let mut want: Vec<&str> = known.iter().map(|(l, _)| *l).collect();
    got.sort_unstable();
    want.sort_unstable();
    assert_eq!(
        got, want,
        "{what}: the checks answered differently changed: {:#?}",
        outcome.different
    );
    outcome.assert_at_least(0.95, what);
}

/// Prints the sizes and how many checks each behaviour answered alike: the issue's
/// before/after evidence, in the test's output.
pub fn print_evidence(name: &str, now: &Build, old: &Build, after: &Outcome, before: &Outcome) {
    eprintln!(
        "{name}: original {:.1} MB, --keep reachable {:.1} MB, --keep traced {:.1} MB; \
         checks beyond the probes answered alike: default {}/{}, --keep traced --seccomp learned {}/{}",
        now.mb("original"),
        now.mb("slim"),
        old.mb("slim"),
        after.same,
        after.total,
        before.same,
        before.total
    );
    for (label, a, b) in &before.different {
        eprintln!("  old behaviour differs on {label}\n    original: {a}\n    slim:     {b}");
    }
}
