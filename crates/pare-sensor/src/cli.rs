//! The sensor's command line. Hand-parsed: the binary is embedded in pare and copied
//! into every traced container, so it stays small and its flags few.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

/// How the app is stopped at syscalls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// A seccomp filter returns SECCOMP_RET_TRACE: one stop per syscall at entry, and a
    /// second (exit) stop only for calls that name a path, to learn whether they worked.
    Seccomp,
    /// PTRACE_SYSCALL: a stop at every syscall entry and exit (twice the stops; works
    /// where installing a seccomp filter is refused).
    Syscall,
}

/// Which processes are pinned to one CPU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pin {
    /// Nothing is pinned.
    None,
    /// The sensor only; the app keeps every CPU.
    Tracer,
    /// The sensor and the app share one CPU, so a ptrace stop hands over without a
    /// cross-CPU wake-up.
    All,
}

impl Pin {
    pub fn name(self) -> &'static str {
        match self {
            Pin::None => "none",
            Pin::Tracer => "tracer",
            Pin::All => "all",
        }
    }
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::Seccomp => "seccomp",
            Mode::Syscall => "syscall",
        }
    }
}

/// What the sensor was asked to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// Directory the report is written to (a bind mount of the host's work dir).
    pub out: PathBuf,
    /// `NAME|UID[:GROUP|GID]` to run the app as, resolved like Docker's `--user`.
    pub user: Option<String>,
    pub mode: Mode,
    pub pin: Pin,
    /// Watch the root filesystem with fanotify as well.
    pub fanotify: bool,
    /// Stop on every syscall, also those in the untraced hot set, so the syscall list
    /// holds only calls really made (seccomp mode; costs one stop per read/write …).
    pub exact_syscalls: bool,
    /// Mounts the app must not see: unmounted in a mount namespace of the app's own
    /// (pare's `/.pare`, so the app can neither read the sensor's output nor forge
    /// it). The sensor's own view keeps them.
    pub hide: Vec<PathBuf>,
    /// Syscalls the app is refused (EPERM) although the container allows them: what
    /// the container's profile grants only for the sensor's sake.
    pub deny_syscalls: Vec<String>,
    /// After forwarding a stop signal, SIGKILL the app's processes if it has not
    /// exited after this long.
    pub kill_after: Option<Duration>,
    /// PROGRAM and its arguments.
    pub command: Vec<String>,
}

pub const USAGE: &str = "\
usage: pare-sensor --out DIR [--user USER[:GROUP]] [--mode seccomp|syscall]
                   [--pin none|tracer|all] [--no-fanotify] [--exact-syscalls]
                   [--hide PATH]... [--deny-syscalls NAME,...] [--kill-after SECS]
                   -- PROGRAM [ARGS...]

Runs PROGRAM under ptrace as PID 1 of a container and writes DIR/report.json when it
exits, when DIR/flush-request is created, on SIGRTMIN+4, and after forwarding a stop
signal (TERM, INT, QUIT, PWR). Every other catchable signal is forwarded to PROGRAM.";

/// Parses the arguments after the program name.
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Options, String> {
    let mut args = args.into_iter().map(|a| {
        a.into_string()
            .map_err(|a| format!("argument is not UTF-8: {a:?}"))
    });
    let mut out = None;
    let mut user = None;
    let mut mode = Mode::Seccomp;
    // Unpinned by default: pinning everything to one CPU makes each stop a little
    // cheaper (median 14 vs 16 µs here) but leaves a multi-process app (gunicorn's
    // workers) one CPU, and the flask image then answered later (see bench/).
    let mut pin = Pin::None;
    let mut fanotify = true;
    let mut exact_syscalls = false;
    let mut hide = Vec::new();
    let mut deny_syscalls = Vec::new();
    let mut kill_after = None;
    let mut command = Vec::new();
    while let Some(arg) = args.next() {
        let arg = arg?;
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_owned(), Some(v.to_owned())),
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| -> Result<String, String> {
            match inline.clone() {
                Some(v) => Ok(v),
                None => args
                    .next()
                    .transpose()?
                    .ok_or_else(|| format!("{name} needs a value")),
            }
        };
        match flag.as_str() {
            "--out" => out = Some(PathBuf::from(value("--out")?)),
            "--user" => user = Some(value("--user")?).filter(|u| !u.is_empty()),
            "--mode" => mode = parse_mode(&value("--mode")?)?,
            "--pin" => pin = parse_pin(&value("--pin")?)?,
            "--pin-cpu" => pin = Pin::All,
            "--no-fanotify" => fanotify = false,
            "--exact-syscalls" => exact_syscalls = true,
            "--hide" => hide.push(PathBuf::from(value("--hide")?)),
            "--deny-syscalls" => deny_syscalls.extend(
                value("--deny-syscalls")?
                    .split(',')
                    .filter(|n| !n.is_empty())
                    .map(str::to_owned),
            ),
            "--kill-after" => {
                let secs = value("--kill-after")?;
                let secs: u64 = secs
                    .parse()
                    .map_err(|_| format!("--kill-after takes seconds, not {secs:?}"))?;
                kill_after = Some(Duration::from_secs(secs));
            }
            "-h" | "--help" => return Err("help".into()),
            "--" => {
                command = args.by_ref().collect::<Result<_, _>>()?;
                break;
            }
            other if other.starts_with('-') => return Err(format!("unknown option {other}")),
            _ => {
                command.push(arg);
                command.extend(args.by_ref().collect::<Result<Vec<_>, _>>()?);
                break;
            }
        }
    }
    let out = out.ok_or("--out DIR is required")?;
    if command.is_empty() {
        return Err("no PROGRAM to run".into());
    }
    Ok(Options {
        out,
        user,
        mode,
        pin,
        fanotify,
        exact_syscalls,
        hide,
        deny_syscalls,
        kill_after,
        command,
    })
}

fn parse_mode(s: &str) -> Result<Mode, String> {
    match s {
        "seccomp" => Ok(Mode::Seccomp),
        "syscall" => Ok(Mode::Syscall),
        _ => Err(format!("--mode must be seccomp or syscall, not {s:?}")),
    }
}

fn parse_pin(s: &str) -> Result<Pin, String> {
    match s {
        "none" => Ok(Pin::None),
        "tracer" => Ok(Pin::Tracer),
        "all" => Ok(Pin::All),
        _ => Err(format!("--pin must be none, tracer or all, not {s:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_strs(args: &[&str]) -> Result<Options, String> {
        parse(args.iter().map(OsString::from))
    }

    #[test]
    fn full_command_line() {
        let o = parse_strs(&[
            "--out",
            "/o",
            "--user=nobody",
            "--mode",
            "syscall",
            "--pin",
            "tracer",
            "--no-fanotify",
            "--exact-syscalls",
            "--hide",
            "/.pare",
            "--deny-syscalls",
            "mount,unshare",
            "--kill-after=10",
            "--",
            "/bin/app",
            "--flag",
            "x",
        ])
        .unwrap();
        assert_eq!(o.out, PathBuf::from("/o"));
        assert_eq!(o.user.as_deref(), Some("nobody"));
        assert_eq!(o.mode, Mode::Syscall);
        assert_eq!(o.pin, Pin::Tracer);
        assert!(!o.fanotify);
        assert!(o.exact_syscalls);
        assert_eq!(o.hide, [PathBuf::from("/.pare")]);
        assert_eq!(o.deny_syscalls, ["mount", "unshare"]);
        assert_eq!(o.kill_after, Some(Duration::from_secs(10)));
        assert_eq!(o.command, ["/bin/app", "--flag", "x"]);
    }

    #[test]
    fn defaults_and_command_without_separator() {
        let o = parse_strs(&["--out", "/o", "jq", "-c", "."]).unwrap();
        assert_eq!(o.mode, Mode::Seccomp);
        assert_eq!(o.pin, Pin::None);
        assert!(o.fanotify);
        assert_eq!(o.user, None);
        assert_eq!(o.command, ["jq", "-c", "."]);
    }

    #[test]
    fn app_flags_after_separator_are_not_ours() {
        let o = parse_strs(&["--out", "/o", "--", "app", "--out", "--user"]).unwrap();
        assert_eq!(o.command, ["app", "--out", "--user"]);
    }

    #[test]
    fn mistakes_are_explained() {
        assert!(parse_strs(&["--", "app"]).unwrap_err().contains("--out"));
        assert!(
            parse_strs(&["--out", "/o"])
                .unwrap_err()
                .contains("PROGRAM")
        );
        assert!(
            parse_strs(&["--out"])
                .unwrap_err()
                .contains("needs a value")
        );
        assert!(
            parse_strs(&["--out", "/o", "--pin", "x", "a"])
                .unwrap_err()
                .contains("--pin")
        );
        assert!(
            parse_strs(&["--out", "/o", "--bogus", "a"])
                .unwrap_err()
                .contains("--bogus")
        );
    }
}
