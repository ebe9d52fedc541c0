//! `pare xray IMAGE`: what is inside an image.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use pare_image::{ImageRef, ReadOptions};
use pare_xray::XrayOptions;

use crate::globals::Globals;
use crate::output::{emit, pretty};
use crate::render::html;
use crate::render::xray::{XrayView, xray};

#[derive(clap::Args)]
pub struct XrayArgs {
    /// The image: NAME[:TAG] (Docker engine), docker-daemon:NAME, docker-archive:PATH,
    /// oci:DIR[:TAG], oci-archive:PATH, docker://REGISTRY/NAME[:TAG|@DIGEST],
    /// containers-storage:NAME (Podman).
    pub image: String,
    /// List every path matching GLOB (repeatable); without a slash it matches file names.
    #[arg(long = "find", value_name = "GLOB")]
    pub find: Vec<String>,
    /// Print the whole report as JSON (shape: docs/xray-json.md).
    #[arg(long)]
    pub json: bool,
    /// How many rows of the longer lists to print.
    #[arg(long, default_value_t = 10)]
    pub top: usize,
    /// Also write a self-contained HTML page (no network needed) to FILE: a zoomable
    /// treemap coloured by layer, the layers, a searchable file tree, the findings.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
}

pub fn run(args: XrayArgs, globals: &Globals) -> anyhow::Result<ExitCode> {
    let context = &globals.read;
    let reference = ImageRef::parse(&args.image)?;
    let (options, bar) = crate::progress::reading(globals, &reference, ReadOptions::default());
    let image = pare_image::read_image(context, &reference, &options)
        .with_context(|| format!("reading {reference}"))?;
    drop(bar);
    let report = pare_xray::analyse(
        &image,
        &XrayOptions {
            find: args.find.clone(),
        },
    )?;
    if let Some(path) = &args.html {
        let tree = pare_xray::tree::size_tree(&image.index, html::xray::TREE_BUDGET);
        emit(&html::xray::xray(&report, &tree)?, Some(path))?;
    }
    // Only an image with referrers gets the section (and the JSON key).
    let attached =
        crate::evidence::attached_or_warn(context, &reference).filter(|a| !a.referrers.is_empty());
    if args.json {
        let mut value = serde_json::to_value(&report)?;
        if let Some(a) = &attached {
            value["attached"] = a.to_json();
        }
        emit(&pretty(&value)?, None)?;
    } else {
        let view = XrayView {
            top: args.top,
            find: args.find,
        };
        let mut text = xray(&report, &view);
        if let Some(a) = &attached {
            text.push_str(&a.lines());
        }
        emit(&text, None)?;
    }
    Ok(ExitCode::SUCCESS)
}
