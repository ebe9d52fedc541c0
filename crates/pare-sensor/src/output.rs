//! Writing the report atomically: a temporary file in the same directory, flushed to
//! disk, then renamed over `report.json`, so a reader never sees half a report.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use anyhow::Context;
use pare_sensor::{REPORT_FILE, SensorReport};

/// Writes `report` to `out/report.json`.
pub fn write_report(out: &Path, report: &SensorReport) -> anyhow::Result<()> {
    let tmp = out.join(format!(".{REPORT_FILE}.tmp"));
    let target = out.join(REPORT_FILE);
    let json = serde_json::to_vec_pretty(report).context("serialising the report")?;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o644)
        .open(&tmp)
        .with_context(|| format!("creating {}", tmp.display()))?;
    file.write_all(&json)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, &target)
        .with_context(|| format!("renaming {} to {}", tmp.display(), target.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_and_replaces_without_leaving_the_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut report = SensorReport {
            version: 1,
            ..Default::default()
        };
        write_report(dir.path(), &report).unwrap();
        report.syscalls.push("openat".into());
        write_report(dir.path(), &report).unwrap();
        let back: SensorReport =
            serde_json::from_slice(&std::fs::read(dir.path().join(REPORT_FILE)).unwrap()).unwrap();
        assert_eq!(back, report);
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, [REPORT_FILE]);
    }

    #[test]
    fn a_missing_directory_is_named_in_the_error() {
        let err =
            write_report(Path::new("/nonexistent/out"), &SensorReport::default()).unwrap_err();
        assert!(format!("{err:#}").contains("/nonexistent/out"));
    }
}
