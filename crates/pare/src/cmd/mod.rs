//! One module per verb: argument struct, call into the library, render.

pub mod build;
pub mod copy;
pub mod db;
pub mod lint;
pub mod registry;
pub mod sbom;
pub mod scan;
pub mod xray;
