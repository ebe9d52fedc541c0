//! What the verbs print for people (and tools): pure functions from the libraries'
//! report types to text, so that they are tested on fixtures (snapshots) without
//! images or engines.

pub mod build;
pub mod compare;
pub mod copy;
pub mod db;
pub mod diff;
pub mod html;
pub mod lint;
pub mod sbom;
pub mod scan;
pub mod xray;

use std::fmt::Write as _;

/// `s` cut to `max` characters, with an ellipsis when cut.
pub fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let cut: String = s.chars().take(max.saturating_sub(1)).collect();
        format!("{cut}…")
    }
}

/// The first `n` items, then how many more.
pub fn short_list(items: &[String], n: usize) -> String {
    let mut s = items.iter().take(n).cloned().collect::<Vec<_>>().join(", ");
    if items.len() > n {
        let _ = write!(s, " +{} more", items.len() - n);
    }
    s
}

/// A column as wide as its widest cell, within `min..=max`.
pub fn column_width(lengths: impl Iterator<Item = usize>, min: usize, max: usize) -> usize {
    lengths.max().unwrap_or(0).clamp(min, max)
}
