//! Machine-readable outputs: SARIF 2.1.0, Checkstyle XML, GitHub annotations.

pub mod checkstyle;
pub mod github;
pub mod sarif;
