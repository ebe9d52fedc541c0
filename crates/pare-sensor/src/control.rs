//! The control thread: everything that must happen while the tracer thread sits in
//! waitpid. It forwards signals, keeps the fanotify queue short, answers report
//! requests (the flush signal, the flush-request file, a stop signal), and ends an app
//! that does not stop when asked: `--kill-after` seconds after a stop signal, every
//! traced process gets SIGKILL, so the app's exit (and with it the final, complete
//! report) comes before the engine's own SIGKILL would end the sensor mid-way.

use std::os::fd::{AsFd, BorrowedFd};
use std::sync::Arc;
use std::time::Instant;

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::unistd::Pid;

use crate::flush::FlushWatch;
use crate::session::{Session, lock};
use crate::signals::{self, Inbox};

/// Runs until the process exits (the tracer thread ends it when the app is done).
pub fn run(session: Arc<Session>, inbox: Inbox, flush: Option<FlushWatch>, app: Pid) {
    let fanotify_fd = lock(&session.fanotify)
        .as_ref()
        .map(|w| w.as_fd().try_clone_to_owned());
    let fanotify_fd = match fanotify_fd {
        Some(Ok(fd)) => Some(fd),
        Some(Err(e)) => {
            session.warn(format!(
                "fanotify events are read only when a report is written: {e}"
            ));
            None
        }
        None => None,
    };
    // When a stop signal was forwarded: the moment the app's processes get SIGKILL.
    let mut kill_at: Option<Instant> = None;
    loop {
        let mut fds = vec![PollFd::new(inbox.as_fd(), PollFlags::POLLIN)];
        let fanotify_slot = add(&mut fds, fanotify_fd.as_ref().map(|fd| fd.as_fd()));
        let flush_slot = add(&mut fds, flush.as_ref().map(|f| f.as_fd()));
        let timeout = match kill_at {
            None => PollTimeout::NONE,
            Some(at) => {
                let ms = at.saturating_duration_since(Instant::now()).as_millis();
                PollTimeout::try_from(ms.min(60_000) as i32).unwrap_or(PollTimeout::ZERO)
            }
        };
        match poll(&mut fds, timeout) {
            Ok(_) => {}
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => {
                session.warn(format!("control thread stopped: poll: {e}"));
                return;
            }
        }
        let ready = |slot: Option<usize>| slot.is_some_and(|i| fds[i].any().unwrap_or(false));
        let (signals_ready, fanotify_ready, flush_ready) =
            (ready(Some(0)), ready(fanotify_slot), ready(flush_slot));
        drop(fds);
        if signals_ready {
            for sig in inbox.drain() {
                if on_signal(&session, sig, app) && kill_at.is_none() {
                    kill_at = session.options.kill_after.map(|d| Instant::now() + d);
                }
            }
        }
        if kill_at.is_some_and(|at| Instant::now() >= at) {
            kill_at = None;
            kill_the_app(&session);
        }
        if fanotify_ready && let Some(watch) = lock(&session.fanotify).as_mut() {
            watch.drain();
        }
        if let Some(flush) = flush.as_ref().filter(|f| flush_ready && f.requested()) {
            session.write(false);
            flush.answered();
        }
    }
}

/// Adds `fd` to the poll set; returns its index.
fn add<'fd>(fds: &mut Vec<PollFd<'fd>>, fd: Option<BorrowedFd<'fd>>) -> Option<usize> {
    fd.map(|fd| {
        fds.push(PollFd::new(fd, PollFlags::POLLIN));
        fds.len() - 1
    })
}

/// Handles one signal; true when it was a stop request forwarded to the app.
fn on_signal(session: &Session, sig: i32, app: Pid) -> bool {
    if sig == signals::flush_signal() {
        session.write(false);
    } else if signals::is_forwarded(sig) {
        if let Err(e) = signals::forward(app, sig) {
            session.warn(format!("forwarding {} to the app: {e}", signals::name(sig)));
        }
        if signals::is_stop_request(sig) {
            session.write(false);
            return true;
        }
    }
    false
}

/// SIGKILL to every process of the app that is still traced.
fn kill_the_app(session: &Session) {
    let pids: Vec<i32> = match lock(&session.tracer).as_ref() {
        Some(tracer) if tracer.app_exit.is_none() => tracer.traced_pids().iter().copied().collect(),
        _ => return,
    };
    session.warn(format!(
        "the app did not stop within {}s of the stop signal; its {} processes were killed",
        session
            .options
            .kill_after
            .map(|d| d.as_secs())
            .unwrap_or_default(),
        pids.len()
    ));
    for pid in pids {
        let _ = nix::sys::signal::kill(Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL);
    }
}
