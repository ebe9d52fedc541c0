//! The sensor as PID 1: prepare the app, start it traced, then split in two threads.
//! This one (the tracer: ptrace requests must all come from the thread that attached)
//! blocks in waitpid and handles each stop; the control thread (`control.rs`) handles
//! signals, fanotify and report requests. A blocking waitpid costs the fewest syscalls
//! per stop, which matters: on this VM one stop costs tens of microseconds.

use std::ffi::CString;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, bail};

use crate::cli::{Mode, Options};
use crate::flush::FlushWatch;
use crate::privileges::{self, CAP_SETPCAP, CAP_SYS_ADMIN, Plan};
use crate::session::{Session, lock};
use crate::spawn::{self, Launch};
use crate::tracer::Tracer;
use crate::{affinity, control, environment, fanotify, path, program, ptrace, seccomp, signals};
use pare_users as user;

/// Exit status when the sensor itself cannot start the app (Docker uses 125 for its own
/// failures, 126/127 for a program that cannot run or is missing).
const SENSOR_FAILED: i32 = 125;
const NOT_FOUND: i32 = 127;

/// Runs the app to its end; returns the status to exit with.
pub fn run(options: Options) -> anyhow::Result<i32> {
    let inbox = signals::Inbox::install().context("blocking signals to forward them")?;
    if !writable_dir(&options.out) {
        bail!(
            "--out {}: not a writable directory (bind-mount one there)",
            options.out.display()
        );
    }
    let session = Arc::new(Session::new(options));
    let options = &session.options;
    let launch = match prepare(&session) {
        Ok(launch) => launch,
        Err((status, message)) => return Ok(session.fail(status, message)),
    };
    if options.fanotify {
        let (watch, status) = fanotify::start();
        *lock(&session.fanotify) = watch;
        *lock(&session.fanotify_status) = status;
    }
    let flush = FlushWatch::new(&options.out)
        .map_err(|e| {
            session.warn(format!(
                "flush-request watch on {}: {e}",
                options.out.display()
            ))
        })
        .ok();
    // Fork while still single-threaded: the child runs ordinary Rust code before exec.
    let child = match spawn::start(&launch, ptrace::options(options.mode == Mode::Seccomp)) {
        Ok(child) => child,
        Err(e) => return Ok(session.fail(SENSOR_FAILED, format!("{e:#}"))),
    };
    let program = launch.program.to_string_lossy().into_owned();
    *lock(&session.tracer) = Some(Tracer::new(options.mode, child.pid, program.clone()));
    let control_session = Arc::clone(&session);
    std::thread::Builder::new()
        .name("control".into())
        .spawn(move || control::run(control_session, inbox, flush, child.pid))
        .context("starting the control thread")?;
    let status = trace(&session)?;
    if let Some(failure) = child.launch_failure(&program) {
        eprintln!("pare-sensor: {failure}");
        lock(&session.errors).push(failure);
    }
    session.write(true);
    Ok(status)
}

/// Handles stops until the app's first process ends; returns its exit status.
fn trace(session: &Session) -> anyhow::Result<i32> {
    loop {
        let stop = ptrace::wait_any().context("waiting for the traced processes")?;
        let mut tracer = lock(&session.tracer);
        let tracer = tracer.as_mut().context("the tracer is not set up")?;
        tracer.handle(stop);
        if let Some(exit) = &tracer.app_exit {
            return Ok(exit.status());
        }
    }
}

/// Resolves the program and the user and builds what the child needs.
fn prepare(session: &Session) -> Result<Launch, (i32, String)> {
    let options = &session.options;
    let name = &options.command[0];
    let found = program::find(name, std::env::var("PATH").ok().as_deref()).ok_or_else(|| {
        (
            NOT_FOUND,
            format!("{name}: executable file not found in $PATH"),
        )
    })?;
    let cwd = std::env::current_dir()
        .map(|d| d.to_string_lossy().into_owned())
        .unwrap_or_else(|_| "/".into());
    let absolute = path::resolve(&cwd, &found.to_string_lossy(), |_| None).path;
    let identity = match &options.user {
        Some(spec) => Some(
            user::resolve(
                spec,
                &read_or_empty("/etc/passwd"),
                &read_or_empty("/etc/group"),
            )
            .map_err(|e| (SENSOR_FAILED, format!("--user {spec}: {e}")))?,
        ),
        None => None,
    };
    let no_new_privs = options.mode == Mode::Seccomp && !privileges::has_effective(CAP_SYS_ADMIN);
    if no_new_privs {
        session.warn(
            "the sensor lacks CAP_SYS_ADMIN, so the app runs with no_new_privs (needed for the seccomp filter); setuid programs will not gain privileges".into(),
        );
    }
    let cpus = affinity::apply(options.pin).unwrap_or_else(|e| {
        session.warn(format!("--pin {}: {e}", options.pin.name()));
        None
    });
    let (deny, unknown) = seccomp::deny_program(&options.deny_syscalls);
    if !unknown.is_empty() {
        session.warn(format!(
            "--deny-syscalls: unknown syscalls left out: {}",
            unknown.join(", ")
        ));
    }
    let cstring = |s: &str| {
        CString::new(s).map_err(|_| {
            (
                SENSOR_FAILED,
                format!("argument contains a NUL byte: {s:?}"),
            )
        })
    };
    Ok(Launch {
        program: cstring(&absolute)?,
        argv: options
            .command
            .iter()
            .map(|a| cstring(a))
            .collect::<Result<_, _>>()?,
        env: environment::app_env(std::env::vars_os(), identity.as_ref()),
        plan: Plan {
            drop_bounding: privileges::has_effective(CAP_SETPCAP),
            // As root, always switch (also root to root: it sets the groups). An
            // unprivileged sensor (in tests) can only "switch" to itself.
            switch_to: identity.filter(|i| {
                nix::unistd::geteuid().is_root() || i.uid != nix::unistd::getuid().as_raw()
            }),
            no_new_privs,
        },
        hide: mounts_below(&options.hide, &read_or_empty("/proc/self/mountinfo"))
            .iter()
            .map(|m| cstring(m))
            .collect::<Result<_, _>>()?,
        cover: options
            .hide
            .iter()
            .filter(|d| d.is_dir())
            .map(|d| cstring(&d.to_string_lossy()))
            .collect::<Result<_, _>>()?,
        deny: (!options.deny_syscalls.is_empty()).then_some(deny),
        filter: (options.mode == Mode::Seccomp).then(|| seccomp::program(session.untraced())),
        cpus,
    })
}

/// The mount points at or below each of `roots`, from `/proc/self/mountinfo`, deepest
/// first (so each can be unmounted before its parent).
fn mounts_below(roots: &[std::path::PathBuf], mountinfo: &str) -> Vec<String> {
    let mut found: Vec<String> = mountinfo
        .lines()
        .filter_map(|line| line.split(' ').nth(4))
        .map(unescape_mount_point)
        .filter(|point| {
            roots.iter().any(|root| {
                let root = root.to_string_lossy();
                let root = root.trim_end_matches('/');
                point == root || point.starts_with(&format!("{root}/"))
            })
        })
        .collect();
    found.sort_by_key(|p| std::cmp::Reverse(p.matches('/').count()));
    found.dedup();
    found
}

/// mountinfo writes space, tab, newline and backslash as `\ooo` octal escapes.
fn unescape_mount_point(field: &str) -> String {
    let mut out = String::new();
    let mut chars = field.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' {
            let digits: String = chars.by_ref().take(3).collect();
            match u8::from_str_radix(&digits, 8) {
                Ok(b) => out.push(b as char),
                Err(_) => {
                    out.push('\\');
                    out.push_str(&digits);
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn read_or_empty(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// Whether `p` is a directory the sensor can write to (checked up front so a bad mount
/// fails before the app starts, not when the report is due).
fn writable_dir(p: &Path) -> bool {
    p.is_dir() && nix::unistd::access(p, nix::unistd::AccessFlags::W_OK).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_pares_mounts_deepest_first() {
        let mountinfo = "\
1 0 0:40 / / rw - overlay overlay rw
2 1 0:41 / /proc rw - proc proc rw
3 1 254:0 /tmp/w/pare-sensor /.pare/sensor ro - ext4 /dev/vda rw
4 1 254:0 /tmp/w/out /.pare/out rw - ext4 /dev/vda rw
5 1 254:0 /x /.pare-other rw - ext4 /dev/vda rw
6 4 0:50 / /.pare/out/deeper rw - tmpfs tmpfs rw
7 1 254:0 /y /my\\040dir rw - ext4 /dev/vda rw
";
        let found = mounts_below(&["/.pare".into()], mountinfo);
        assert_eq!(found, ["/.pare/out/deeper", "/.pare/sensor", "/.pare/out"]);
        assert_eq!(mounts_below(&["/my dir".into()], mountinfo), ["/my dir"]);
        assert!(mounts_below(&[], mountinfo).is_empty());
    }
}
