//! `pare xray --html`: the treemap, the layer list, the searchable file tree and the
//! findings of one image.

use pare_xray::XrayReport;
use pare_xray::tree::SizeTree;
use serde::Serialize;

use super::{page, script_json};

/// Entries the page's tree holds at most: the flask image's ~14,000 paths fit whole;
/// beyond this the page would pass 2 MB and open slowly.
pub const TREE_BUDGET: usize = 40_000;

#[derive(Serialize)]
struct Context<'a> {
    name: &'a str,
    report: &'a XrayReport,
    tree: String,
    layer_names: String,
    capped: bool,
    entries: usize,
    shown: usize,
}

/// The page for `report`, with the file tree `tree` (from the same image's index).
pub fn xray(report: &XrayReport, tree: &SizeTree) -> anyhow::Result<String> {
    let name = report
        .image
        .source
        .repo_tags
        .first()
        .unwrap_or(&report.image.source.reference);
    let layer_names: Vec<&str> = report
        .layers
        .iter()
        .map(|l| l.instruction.as_str())
        .collect();
    page(
        "xray.html",
        Context {
            name,
            report,
            tree: script_json(&tree.root)?,
            layer_names: script_json(&layer_names)?,
            capped: tree.capped(),
            entries: tree.entries,
            shown: tree.shown,
        },
    )
}
