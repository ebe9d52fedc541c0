//! `pare build --html`: the build's figures (size, probes, verification, vulnerabilities)
//! over what the slim image removed, by directory and by package.

use pare_compare::diff::ImageDiff;
use pare_minify::BuildReport;
use serde::Serialize;

use super::diff::Changes;
use super::page;

#[derive(Serialize)]
struct Context<'a> {
    report: &'a BuildReport,
    #[serde(flatten)]
    changes: Changes<'a>,
}

/// The build page: `report`, and the diff of the original and the slim image.
pub fn build(report: &BuildReport, d: &ImageDiff) -> anyhow::Result<String> {
    let note = "not checked here; the build's own figures are above";
    page(
        "build.html",
        Context {
            report,
            changes: Changes::new(d, note)?,
        },
    )
}
