//! One module per verb: argument struct, call into the library, render.

pub mod build;
pub mod compare;
pub mod copy;
pub mod db;
pub mod diff;
pub mod lint;
pub mod sbom;
pub mod scan;
pub mod xray;
