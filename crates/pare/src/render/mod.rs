//! What the verbs print for people (and tools): pure functions from the libraries'
//! report types to text, so that they are tested on fixtures (snapshots) without
//! images or engines.

pub mod build;
pub mod compare;
pub mod copy;
pub mod db;
pub mod diff;
pub mod escape;
pub mod html;
pub mod lint;
pub mod sbom;
pub mod scan;
pub mod xray;

use std::fmt::Write as _;

pub use escape::{escape, escape_text, truncate, truncate_line};

/// The first `n` items (escaped), then how many more.
pub fn short_list(items: &[String], n: usize) -> String {
    let shown: Vec<String> = items
        .iter()
        .take(n)
        .map(|i| escape(i).into_owned())
        .collect();
    let mut s = shown.join(", ");
    if items.len() > n {
        let _ = write!(s, " +{} more", items.len() - n);
    }
    s
}

/// A column as wide as its widest cell, within `min..=max`.
pub fn column_width(lengths: impl Iterator<Item = usize>, min: usize, max: usize) -> usize {
    lengths.max().unwrap_or(0).clamp(min, max)
}
