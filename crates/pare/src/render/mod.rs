//! Rendering reports for people and tools: pure functions from the libraries' report
//! types to text, tested on fixtures without images or engines.

pub mod db;
pub mod scan;

use std::fmt::Write as _;

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
