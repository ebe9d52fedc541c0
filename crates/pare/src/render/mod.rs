//! What the verbs print for people: pure functions from the libraries' report types to
//! text, so that they are tested on fixtures (snapshots) without running anything.

pub mod build;
pub mod lint;
pub mod sbom;
pub mod xray;

/// `s` cut to `max` characters, with an ellipsis when cut.
pub fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let cut: String = s.chars().take(max.saturating_sub(1)).collect();
        format!("{cut}…")
    }
}
