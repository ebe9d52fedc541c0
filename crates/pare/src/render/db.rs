//! `pare db status` and what `pare db import`/`update` say when they are done.

use std::fmt::Write as _;
use std::time::SystemTime;

use pare_vuln::db::Status;
use pare_vuln::import::ImportReport;

use super::scan::{STALE_AFTER, age};
use super::{column_width, escape};
use crate::units::count;

/// The database's sources, ages and record counts.
pub fn status(s: &Status, now: SystemTime) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Database    {}", s.path.display());
    let _ = writeln!(
        out,
        "Advisories  {} (schema {})",
        count(s.advisories),
        s.schema_version
    );
    if let Some(oldest) = s.age(now) {
        let stale = if oldest > STALE_AFTER {
            " (older than a week: run `pare db update`)"
        } else {
            ""
        };
        let _ = writeln!(out, "Age         {}{stale}", age(oldest));
    }
    let _ = writeln!(out, "\nSources");
    for src in &s.sources {
        let _ = writeln!(out, "  {}", escape(&src.name));
        if src.origin != src.name {
            let _ = writeln!(out, "      from {}", escape(&src.origin));
        }
        let _ = writeln!(
            out,
            "      {} advisories, {} withdrawn, {} not valid OSV; fetched {} ({} ago)",
            count(src.records),
            count(src.withdrawn),
            count(src.skipped),
            humantime::format_rfc3339_seconds(src.fetched_at),
            age(now.duration_since(src.fetched_at).unwrap_or_default())
        );
    }
    let _ = writeln!(out, "\nEcosystems");
    let eco_w = column_width(
        s.ecosystems
            .iter()
            .map(|e| escape(&e.ecosystem).chars().count()),
        6,
        40,
    );
    for e in &s.ecosystems {
        let name = escape(&e.ecosystem);
        let _ = writeln!(out, "  {name:<eco_w$}  {:>8}", count(e.advisories));
    }
    out
}

/// One line per source imported, then the records skipped and why (at most `limit`
/// per source).
pub fn import(r: &ImportReport, limit: usize) -> String {
    let mut out = String::new();
    if let Some(why) = &r.rebuilt {
        let _ = writeln!(out, "Rebuilt {}: {why}", r.database.display());
    }
    for s in &r.sources {
        let _ = writeln!(
            out,
            "{}: {} advisories, {} withdrawn, {} skipped (not valid OSV)",
            escape(&s.name),
            count(s.records),
            count(s.withdrawn),
            count(s.skipped_count)
        );
        for k in s.skipped.iter().take(limit) {
            let _ = writeln!(
                out,
                "  skipped {}{}: {}",
                escape(&k.entry),
                k.record
                    .as_ref()
                    .map(|id| format!(" ({})", escape(id)))
                    .unwrap_or_default(),
                escape(&k.reason)
            );
        }
        let shown = s.skipped.len().min(limit) as u64;
        if s.skipped_count > shown {
            let _ = writeln!(out, "  … and {} more", s.skipped_count - shown);
        }
    }
    let _ = writeln!(out, "Database {} updated", r.database.display());
    out
}
