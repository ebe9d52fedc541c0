//! `pare diff A B`: what changed between two images. Exit 0 when nothing did, 1 when
//! something did (as `diff` does, for CI), 2 on error.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use pare_image::ImageRef;

use crate::advisories::AdvisoryArgs;
use crate::globals::Globals;
use crate::output::{emit, pretty};
use crate::render;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A summary for people (the default on a terminal).
    Table,
    /// Every change (shape: docs/diff.md; the default when writing to a file or pipe).
    Json,
}

#[derive(clap::Args)]
pub struct DiffArgs {
    /// The image before: NAME[:TAG] (Docker engine), docker-daemon:NAME,
    /// docker-archive:PATH, oci:DIR[:TAG], oci-archive:PATH,
    /// docker://REGISTRY/NAME[:TAG|@DIGEST], containers-storage:NAME (Podman).
    pub before: String,
    /// The image after, in any of the same forms.
    pub after: String,
    /// Output format [default: table on a terminal, else json].
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Write to FILE (atomically: nothing is left half-written on error).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Also write a self-contained HTML page (no network needed) to FILE.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// How many rows of the longer lists the table prints.
    #[arg(long, default_value_t = 20)]
    pub top: usize,
    #[command(flatten)]
    pub advisories: AdvisoryArgs,
}

pub fn run(args: DiffArgs, globals: &Globals) -> anyhow::Result<ExitCode> {
    let before = ImageRef::parse(&args.before)?;
    let after = ImageRef::parse(&args.after)?;
    let advisories = args.advisories.resolve()?;
    let d = crate::read::diff(globals, &advisories, &before, &after)?;
    let format = args.format.unwrap_or(
        if args.output.is_none() && std::io::stdout().is_terminal() {
            Format::Table
        } else {
            Format::Json
        },
    );
    let attached = crate::evidence::compare(
        crate::evidence::attached_or_warn(&globals.read, &before).as_ref(),
        crate::evidence::attached_or_warn(&globals.read, &after).as_ref(),
    )?;
    let note = advisories.skipped.as_deref();
    let text = match (format, &attached) {
        (Format::Table, None) => render::diff::table(&d, args.top, note),
        (Format::Table, Some(a)) => render::diff::table(&d, args.top, note) + &a.lines(),
        (Format::Json, None) => pretty(&d)?,
        (Format::Json, Some(a)) => {
            let mut value = serde_json::to_value(&d)?;
            value["attached"] = serde_json::to_value(a)?;
            pretty(&value)?
        }
    };
    if let Some(path) = &args.html {
        let page = render::html::diff::diff(&d, note.unwrap_or_default())?;
        emit(&page, Some(path))?;
    }
    emit(&text, args.output.as_deref())?;
    Ok(
        if d.is_empty() && attached.as_ref().is_none_or(|a| a.is_empty()) {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        },
    )
}
