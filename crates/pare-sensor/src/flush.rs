//! Report requests by file: the host creates `OUT/flush-request` (the out directory is
//! a bind mount, so no Docker API call is needed) and the sensor answers by writing the
//! report and deleting the request. inotify wakes the main loop when the file appears.

use std::os::fd::{AsFd, BorrowedFd};
use std::path::{Path, PathBuf};

use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify};
use pare_sensor::FLUSH_REQUEST_FILE;

/// An inotify watch on the out directory.
pub struct FlushWatch {
    inotify: Inotify,
    request: PathBuf,
}

impl FlushWatch {
    /// Watches `out` for the request file being created or moved in.
    pub fn new(out: &Path) -> nix::Result<FlushWatch> {
        let inotify = Inotify::init(InitFlags::IN_NONBLOCK | InitFlags::IN_CLOEXEC)?;
        inotify.add_watch(
            out,
            AddWatchFlags::IN_CREATE | AddWatchFlags::IN_MOVED_TO | AddWatchFlags::IN_CLOSE_WRITE,
        )?;
        Ok(FlushWatch {
            inotify,
            request: out.join(FLUSH_REQUEST_FILE),
        })
    }

    /// Consumes pending inotify events; true when a request file is present.
    pub fn requested(&self) -> bool {
        while let Ok(events) = self.inotify.read_events() {
            if events.is_empty() {
                break;
            }
        }
        self.request.exists()
    }

    /// Marks the request as answered.
    pub fn answered(&self) {
        let _ = std::fs::remove_file(&self.request);
    }
}

impl AsFd for FlushWatch {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.inotify.as_fd()
    }
}
