//! `pare diff`'s human output: the headline figures of both images, then each kind of
//! change, the longest lists cut to `top` rows. A pure function of the diff.

use std::fmt::Write as _;

use pare_compare::diff::{ImageDiff, Tally};

use super::html::diff::signed_bytes;
use super::truncate;
use crate::units::{bytes, count};

/// The whole report; `vulnerabilities_note` says why vulnerabilities were not
/// compared, when they were not.
pub fn table(d: &ImageDiff, top: usize, vulnerabilities_note: Option<&str>) -> String {
    let mut out = String::new();
    headline(&mut out, d);
    let f = &d.files;
    let _ = writeln!(
        out,
        "Files           {} removed ({}), {} added ({}), {} changed, {} with a new mode or owner, {} unchanged",
        count(f.removed.len() as u64),
        bytes(f.removed.iter().map(|e| e.size).sum()),
        count(f.added.len() as u64),
        bytes(f.added.iter().map(|e| e.size).sum()),
        count(f.changed.len() as u64),
        count(f.metadata_changed.len() as u64),
        count(f.unchanged.files)
    );
    let p = &d.packages;
    let _ = writeln!(
        out,
        "Packages        {} removed, {} added, {} changed version, {} unchanged",
        count(p.removed.len() as u64),
        count(p.added.len() as u64),
        count(p.changed.len() as u64),
        count(p.unchanged as u64)
    );
    match (&d.vulnerabilities, vulnerabilities_note) {
        (Some(v), _) => {
            let _ = writeln!(
                out,
                "Vulnerabilities {} gone, {} new, {} in both",
                count(v.removed.len() as u64),
                count(v.added.len() as u64),
                count(v.unchanged as u64)
            );
        }
        (None, note) => {
            let _ = writeln!(
                out,
                "Vulnerabilities not compared: {}",
                note.unwrap_or("no advisory database")
            );
        }
    }
    if d.is_empty() {
        let _ = writeln!(out, "\nNo differences.");
    } else {
        config(&mut out, d);
        directories(&mut out, d);
        packages(&mut out, d, top);
        vulnerabilities(&mut out, d, top);
        files(&mut out, d, top);
    }
    // Paths, settings, names and history come from the two images.
    super::escape_text(&out).into_owned()
}

fn headline(out: &mut String, d: &ImageDiff) {
    let width = d.before.name.len().max(d.after.name.len());
    for (label, s) in [("Before", &d.before), ("After", &d.after)] {
        let _ = writeln!(
            out,
            "{label:<15} {:<width$}  {} uncompressed, {} stored, {} files, {} layer{}, {} packages{}",
            s.name,
            bytes(s.uncompressed_bytes),
            bytes(s.stored_bytes),
            count(s.files),
            s.layers,
            if s.layers == 1 { "" } else { "s" },
            count(s.packages as u64),
            s.vulnerabilities
                .map(|v| format!(
                    ", {} vulnerabilit{}",
                    count(v as u64),
                    if v == 1 { "y" } else { "ies" }
                ))
                .unwrap_or_default()
        );
    }
}

fn config(out: &mut String, d: &ImageDiff) {
    if !d.config.is_empty() {
        let _ = writeln!(out, "\nConfig");
        let width = super::column_width(d.config.iter().map(|c| c.setting.len()), 12, 48);
        for c in &d.config {
            let _ = writeln!(
                out,
                "  {:<width$} {} -> {}",
                c.setting,
                truncate(c.before.as_deref().unwrap_or("-"), 60),
                truncate(c.after.as_deref().unwrap_or("-"), 60)
            );
        }
    }
    let h = &d.history;
    if !h.removed.is_empty() || !h.added.is_empty() {
        let _ = writeln!(out, "\nHistory ({} steps in common)", h.common);
        for step in &h.removed {
            let _ = writeln!(out, "  - {}", truncate(step, 100));
        }
        for step in &h.added {
            let _ = writeln!(out, "  + {}", truncate(step, 100));
        }
    }
}

fn directories(out: &mut String, d: &ImageDiff) {
    let _ = writeln!(out, "\nSize by top directory");
    let _ = writeln!(
        out,
        "  {:<16} {:>22} {:>22} {:>10}",
        "directory", "before", "after", "change"
    );
    let cell = |t: &Tally| format!("{} ({})", bytes(t.bytes), count(t.files));
    let mut before = Tally::default();
    let mut after = Tally::default();
    for dir in &d.directories {
        let _ = writeln!(
            out,
            "  {:<16} {:>22} {:>22} {:>10}",
            dir.directory,
            cell(&dir.before),
            cell(&dir.after),
            signed_bytes(dir.after.bytes as i128 - dir.before.bytes as i128)
        );
        before.files += dir.before.files;
        before.bytes += dir.before.bytes;
        after.files += dir.after.files;
        after.bytes += dir.after.bytes;
    }
    let _ = writeln!(
        out,
        "  {:<16} {:>22} {:>22} {:>10}",
        "total",
        cell(&before),
        cell(&after),
        signed_bytes(after.bytes as i128 - before.bytes as i128)
    );
}

/// The first `top` lines of a list, then how many more.
fn listed<T>(out: &mut String, title: &str, items: &[T], top: usize, line: impl Fn(&T) -> String) {
    if items.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n{title} ({})", count(items.len() as u64));
    for item in items.iter().take(top) {
        let _ = writeln!(out, "  {}", line(item));
    }
    if items.len() > top {
        let _ = writeln!(
            out,
            "  … {} more (--top N shows more; --format json lists all)",
            count((items.len() - top) as u64)
        );
    }
}

fn packages(out: &mut String, d: &ImageDiff, top: usize) {
    let p = &d.packages;
    let mut removed = p.removed.clone();
    removed.sort_by(|a, b| b.bytes.cmp(&a.bytes).then_with(|| a.name.cmp(&b.name)));
    let line = |e: &pare_compare::diff::PackageEntry| {
        format!(
            "{:<7} {:<36} {:<28} {:>10}",
            e.ecosystem,
            truncate(&e.name, 36),
            truncate(&e.versions.join(", "), 28),
            bytes(e.bytes)
        )
    };
    listed(out, "Removed packages, largest first", &removed, top, line);
    listed(out, "Added packages", &p.added, top, line);
    listed(out, "Changed versions", &p.changed, top, |c| {
        format!(
            "{:<7} {:<36} {} -> {}",
            c.ecosystem,
            truncate(&c.name, 36),
            c.before.join(", "),
            c.after.join(", ")
        )
    });
}

fn vulnerabilities(out: &mut String, d: &ImageDiff, top: usize) {
    let Some(v) = &d.vulnerabilities else {
        return;
    };
    let line = |e: &pare_compare::diff::VulnerabilityEntry| {
        format!(
            "{:<10} {:<22} {} {}",
            e.severity.to_string(),
            e.id,
            e.package,
            e.version
        )
    };
    listed(out, "Vulnerabilities gone", &v.removed, top, line);
    listed(out, "Vulnerabilities new", &v.added, top, line);
}

fn files(out: &mut String, d: &ImageDiff, top: usize) {
    let f = &d.files;
    let by_dir = |(dir, t): &(String, Tally)| {
        format!(
            "{:<40} {:>8} file{:<1} {:>10}",
            dir,
            count(t.files),
            if t.files == 1 { "" } else { "s" },
            bytes(t.bytes)
        )
    };
    let removed = f.removed_by_directory(2);
    listed(out, "Removed files by directory", &removed, top, by_dir);
    listed(
        out,
        "Added files by directory",
        &f.added_by_directory(2),
        top,
        by_dir,
    );
    listed(out, "Changed files", &f.changed, top, |c| {
        format!(
            "{} ({} -> {})",
            c.path,
            bytes(c.size_before),
            bytes(c.size_after)
        )
    });
    listed(out, "New mode or owner", &f.metadata_changed, top, |m| {
        format!(
            "{} {} {} -> {} {}",
            m.path, m.mode_before, m.owner_before, m.mode_after, m.owner_after
        )
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> ImageDiff {
        serde_json::from_str(include_str!("fixtures/diff-flask-slim.json")).unwrap()
    }

    #[test]
    fn flask_and_its_slim_build() {
        insta::assert_snapshot!(table(&fixture(), 8, None));
    }

    #[test]
    fn without_a_database() {
        let mut d = fixture();
        d.vulnerabilities = None;
        let text = table(&d, 3, Some("no advisory database at /x/advisories.sqlite"));
        assert!(text.contains("Vulnerabilities not compared: no advisory database at /x/"));
        assert!(!text.contains("Vulnerabilities gone"));
    }
}
