//! RFC 3339 timestamps for SBOM documents, honouring `SOURCE_DATE_EPOCH` so that a
//! build can produce the same document twice.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Now (or `SOURCE_DATE_EPOCH`) as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn now_rfc3339() -> String {
    stamp(std::env::var("SOURCE_DATE_EPOCH").ok().as_deref())
}

/// The time `source_date_epoch` names (seconds since the epoch), else now.
fn stamp(source_date_epoch: Option<&str>) -> String {
    let when = source_date_epoch
        .and_then(|s| s.trim().parse::<u64>().ok())
        .map_or_else(SystemTime::now, |secs| {
            UNIX_EPOCH + Duration::from_secs(secs)
        });
    humantime::format_rfc3339_seconds(when).to_string()
}

#[cfg(test)]
mod tests {
    use super::stamp;

    #[test]
    fn source_date_epoch_is_honoured() {
        assert_eq!(stamp(Some("951782400")), "2000-02-29T00:00:00Z");
        assert_eq!(stamp(Some(" 0\n")), "1970-01-01T00:00:00Z");
        // Not a number: the current time, as if it were unset.
        assert!(stamp(Some("yesterday")).starts_with("20"));
        assert!(stamp(None).ends_with('Z'));
    }
}
