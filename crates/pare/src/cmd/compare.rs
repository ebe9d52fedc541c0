//! `pare compare IMAGE…`: several images side by side, sorted by a stated score. An
//! image that cannot be read gets a row with the error; the others are still
//! compared, and the exit code is then 2.

use std::path::PathBuf;
use std::process::ExitCode;

use pare_compare::summary::{Comparison, Outcome, Row, Summary};
use pare_compare::updates::PackageIndex;
use pare_image::ImageRef;

use crate::advisories::AdvisoryArgs;
use crate::globals::Globals;
use crate::output::{emit, pretty};
use crate::read::inspect;
use crate::render;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned columns for people.
    Table,
    /// Every figure (shape: docs/compare.md).
    Json,
    /// Comma-separated, one row per image, plain numbers.
    Csv,
    /// A GitHub-flavoured Markdown table to paste.
    Markdown,
    /// The size and vulnerability charts as one SVG picture.
    Svg,
}

#[derive(clap::Args)]
pub struct CompareArgs {
    /// The images, in any transports: NAME[:TAG], docker-daemon:NAME,
    /// docker-archive:PATH, oci:DIR[:TAG], oci-archive:PATH,
    /// docker://REGISTRY/NAME[:TAG|@DIGEST], containers-storage:NAME (Podman).
    #[arg(required = true, value_name = "IMAGE")]
    pub images: Vec<String>,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Write to FILE (atomically: nothing is left half-written on error).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Also write a self-contained HTML page (no network needed) to FILE.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// A Debian or Ubuntu `Packages` index of the security archive, plain or gzip
    /// (repeatable), e.g. dists/bookworm-security/main/binary-amd64/Packages.gz:
    /// count the installed packages it has newer versions of.
    #[arg(long = "updates", value_name = "FILE")]
    pub updates: Vec<PathBuf>,
    #[command(flatten)]
    pub advisories: AdvisoryArgs,
}

pub fn run(args: CompareArgs, globals: &Globals) -> anyhow::Result<ExitCode> {
    let advisories = args.advisories.resolve()?;
    let updates = if args.updates.is_empty() {
        None
    } else {
        let mut index = PackageIndex::default();
        for path in &args.updates {
            index.read(path)?;
        }
        Some(index)
    };
    let inspector = advisories.inspector();
    let today = pare_vuln::ignore::today();
    // One image at a time: its index is dropped before the next is read.
    let rows = args
        .images
        .iter()
        .map(|reference| {
            let outcome = ImageRef::parse(reference)
                .map_err(anyhow::Error::from)
                .and_then(|r| inspect(globals, &inspector, &r))
                .map(|inspected| {
                    Outcome::Summary(Box::new(Summary::of(&inspected, &today, updates.as_ref())))
                })
                .unwrap_or_else(|e| {
                    say!("pare: error: {e:#}");
                    Outcome::Failed {
                        error: format!("{e:#}"),
                    }
                });
            Row {
                reference: reference.clone(),
                outcome,
            }
        })
        .collect();
    let comparison = Comparison::new(rows, today, advisories.database_path());
    let note = advisories.skipped.as_deref();
    let text = match args.format {
        Format::Table => render::compare::table(&comparison, note),
        Format::Markdown => render::compare::markdown(&comparison, note),
        Format::Csv => render::compare::csv(&comparison)?,
        Format::Json => pretty(&comparison)?,
        Format::Svg => render::html::compare::picture(&comparison),
    };
    if let Some(path) = &args.html {
        let page = render::html::compare::compare(&comparison, note.unwrap_or_default())?;
        emit(&page, Some(path))?;
    }
    emit(&text, args.output.as_deref())?;
    Ok(if comparison.has_failures() {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}
