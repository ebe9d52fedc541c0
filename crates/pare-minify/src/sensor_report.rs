//! Reading the sensor's report into a [`Trace`]: every path the app named (found or
//! not: the keep-set keeps only what exists), what it executed and created, what
//! fanotify saw, and the syscalls for the seccomp profile.
//!
//! The report comes out of a container running an untrusted image. The sensor keeps
//! the output directory out of the app's reach, and pare trusts the file no further
//! than it must: it opens it without following a symlink and without blocking on a
//! FIFO, reads it only if it is a regular file of bounded size, never quotes it in an
//! error, and takes only a report the sensor marked complete.

use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use pare_sensor::SensorReport;

use crate::keep_set::Trace;

/// Larger than any report a real app gives (the node image's is a few MB), small
/// enough to read at once.
const MAX_REPORT_BYTES: u64 = 256 << 20;

/// Reads `report.json` written by the sensor; the error says what is wrong with it.
pub fn read_report(path: &Path) -> Result<(Trace, SensorReport), String> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| match e.raw_os_error() {
            Some(libc::ELOOP) => "is a symlink, not the sensor's file".to_owned(),
            _ => format!("cannot be read ({e})"),
        })?;
    let meta = file
        .metadata()
        .map_err(|e| format!("cannot be read ({e})"))?;
    if !meta.file_type().is_file() {
        return Err("is not a regular file".into());
    }
    if meta.len() > MAX_REPORT_BYTES {
        return Err(format!(
            "is {} bytes, more than the {MAX_REPORT_BYTES} a report may have",
            meta.len()
        ));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(MAX_REPORT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot be read ({e})"))?;
    if bytes.len() as u64 > MAX_REPORT_BYTES {
        return Err("grew past the size a report may have while it was read".into());
    }
    // serde_json's messages give a line and column, never the content.
    let report: SensorReport =
        serde_json::from_slice(&bytes).map_err(|e| format!("is not a sensor report ({e})"))?;
    if report.version != pare_sensor::REPORT_VERSION {
        return Err(format!(
            "has format version {}, this pare reads {}",
            report.version,
            pare_sensor::REPORT_VERSION
        ));
    }
    if !report.complete {
        return Err("is not complete: the sensor did not see the app exit".into());
    }
    Ok((to_trace(&report), report))
}

/// The parts of a report the keep-set needs.
pub fn to_trace(report: &SensorReport) -> Trace {
    let mut trace = Trace::default();
    for access in &report.files {
        trace.accessed.insert(access.path.clone());
        if access.executed() {
            trace.executed.insert(access.path.clone());
        }
        if access.created() {
            trace.created.insert(access.path.clone());
        }
    }
    for seen in &report.fanotify {
        trace.accessed.insert(seen.path.clone());
    }
    trace.syscalls = report.syscalls.iter().cloned().collect();
    trace
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    fn good() -> SensorReport {
        SensorReport {
            version: pare_sensor::REPORT_VERSION,
            complete: true,
            syscalls: vec!["openat".into()],
            ..Default::default()
        }
    }

    fn dir_with(report: Option<&SensorReport>) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("report.json");
        if let Some(r) = report {
            std::fs::write(&path, serde_json::to_vec(r).expect("json")).expect("write");
        }
        (dir, path)
    }

    #[test]
    fn a_complete_report_is_read() {
        let (_dir, path) = dir_with(Some(&good()));
        let (trace, _) = read_report(&path).expect("read");
        assert!(trace.syscalls.contains("openat"));
    }

    #[test]
    fn an_incomplete_or_other_version_report_is_refused() {
        let (_dir, path) = dir_with(Some(&SensorReport {
            complete: false,
            ..good()
        }));
        assert!(read_report(&path).unwrap_err().contains("not complete"));
        let (_dir, path) = dir_with(Some(&SensorReport {
            version: 999,
            ..good()
        }));
        assert!(read_report(&path).unwrap_err().contains("version 999"));
    }

    #[test]
    fn a_symlink_to_a_host_file_is_never_followed_nor_quoted() {
        let (dir, path) = dir_with(None);
        let secret = dir.path().join("host-secret");
        std::fs::write(&secret, "root:$6$secret-hash:19000::::::\n").expect("write");
        std::os::unix::fs::symlink(&secret, &path).expect("symlink");
        let err = read_report(&path).unwrap_err();
        assert!(err.contains("symlink"), "{err}");
        assert!(!err.contains("secret-hash"), "{err}");
    }

    #[test]
    fn a_fifo_is_refused_at_once() {
        let (_dir, path) = dir_with(None);
        let c = std::ffi::CString::new(path.to_string_lossy().as_bytes()).expect("path");
        // SAFETY: mkfifo with a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
        let started = Instant::now();
        let err = read_report(&path).unwrap_err();
        assert!(err.contains("not a regular file"), "{err}");
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn a_directory_or_a_huge_file_is_refused_without_reading_it() {
        let (_dir, path) = dir_with(None);
        std::fs::create_dir(&path).expect("dir");
        assert!(
            read_report(&path)
                .unwrap_err()
                .contains("not a regular file")
        );
        let (_dir, path) = dir_with(None);
        // Sparse: 1 TiB claimed, nothing stored.
        let file = std::fs::File::create(&path).expect("create");
        file.set_len(1 << 40).expect("set_len");
        let started = Instant::now();
        let err = read_report(&path).unwrap_err();
        assert!(err.contains("more than"), "{err}");
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn garbage_is_refused_without_quoting_it() {
        let (_dir, path) = dir_with(None);
        std::fs::write(&path, "PLANTED-BY-THE-APP {not json").expect("write");
        let err = read_report(&path).unwrap_err();
        assert!(err.contains("not a sensor report"), "{err}");
        assert!(!err.contains("PLANTED"), "{err}");
    }
}
