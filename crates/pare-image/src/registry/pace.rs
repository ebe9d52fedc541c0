//! The minimum rate of a blob's body. A per-read timeout alone lets a registry that
//! sends one byte a minute hold a command forever; a deadline alone cannot tell a big
//! layer on a slow link from a trickle. So a blob's body must bring at least
//! `min_rate` bytes per second over each window of network time (the time spent
//! waiting on the network, not on pare's own work between reads).

use std::io::{self, Read};
use std::time::{Duration, Instant};

use super::Timeouts;
use crate::error::ImageError;

/// Bytes and network time of the current window.
pub(crate) struct Pace {
    min_rate: u64,
    window: Duration,
    waited: Duration,
    bytes: u64,
}

impl Pace {
    pub fn new(timeouts: &Timeouts) -> Self {
        Pace {
            min_rate: timeouts.min_rate,
            window: timeouts.window(),
            waited: Duration::ZERO,
            bytes: 0,
        }
    }

    /// Counts `bytes` that took `took` of network time. Once a window is full, it
    /// must have brought `min_rate` per second; then the next one starts.
    pub fn record(&mut self, bytes: usize, took: Duration) -> Result<(), Slow> {
        if self.min_rate == 0 {
            return Ok(());
        }
        self.waited += took;
        self.bytes += bytes as u64;
        if self.waited < self.window {
            return Ok(());
        }
        let wanted = self.min_rate as f64 * self.waited.as_secs_f64();
        let slow = (self.bytes as f64) < wanted;
        let seen = Slow {
            bytes: self.bytes,
            waited: self.waited,
            min_rate: self.min_rate,
        };
        self.waited = Duration::ZERO;
        self.bytes = 0;
        if slow { Err(seen) } else { Ok(()) }
    }
}

/// A window that brought too little.
#[derive(Debug)]
pub(crate) struct Slow {
    pub bytes: u64,
    pub waited: Duration,
    pub min_rate: u64,
}

impl Slow {
    /// The error a command ends with.
    pub fn error(&self, registry: &str, action: &str) -> ImageError {
        ImageError::TooSlow {
            registry: registry.to_owned(),
            action: action.to_owned(),
            bytes: self.bytes,
            seconds: self.waited.as_secs(),
            min_rate: self.min_rate,
        }
    }

    /// As an I/O error carrying that error (readers report through `io::Error`; it is
    /// not one worth retrying or resuming).
    pub fn io_error(&self, registry: &str, action: &str) -> io::Error {
        io::Error::other(self.error(registry, action))
    }
}

/// A body pare uploads, read by the HTTP client as fast as the registry takes it:
/// the time between two reads is the network's.
pub(crate) struct PacedUpload<'a, R: ?Sized> {
    inner: &'a mut R,
    pace: Pace,
    /// When the last read returned, and how many bytes it gave.
    last: Option<(Instant, usize)>,
    registry: &'a str,
    action: &'a str,
}

impl<'a, R: Read + ?Sized> PacedUpload<'a, R> {
    pub fn new(inner: &'a mut R, timeouts: &Timeouts, registry: &'a str, action: &'a str) -> Self {
        PacedUpload {
            inner,
            pace: Pace::new(timeouts),
            last: None,
            registry,
            action,
        }
    }
}

impl<R: Read + ?Sized> Read for PacedUpload<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some((at, bytes)) = self.last.take() {
            // The last read's bytes have gone out in the time since.
            self.pace
                .record(bytes, at.elapsed())
                .map_err(|slow| slow.io_error(self.registry, self.action))?;
        }
        let n = self.inner.read(buf)?;
        self.last = Some((Instant::now(), n));
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pace(min_rate: u64, window_secs: u64) -> Pace {
        Pace::new(&Timeouts {
            deadline: Duration::from_secs(window_secs),
            min_rate,
        })
    }

    #[test]
    fn a_trickle_fails_once_a_window_is_full_and_a_steady_flow_does_not() {
        let mut trickle = pace(1024, 2);
        assert!(trickle.record(1, Duration::from_secs(1)).is_ok());
        let slow = trickle.record(1, Duration::from_secs(1)).unwrap_err();
        assert_eq!((slow.bytes, slow.waited.as_secs()), (2, 2));

        let mut steady = pace(1024, 2);
        for _ in 0..100 {
            assert!(steady.record(4096, Duration::from_secs(1)).is_ok());
        }
        let mut off = pace(0, 2);
        assert!(off.record(0, Duration::from_secs(3600)).is_ok());
    }
}
