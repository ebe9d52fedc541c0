//! `pare sbom IMAGE`: every package in an image with the files it owns, as CycloneDX
//! 1.6, SPDX 2.3, pare's own JSON (docs/sbom.md) or a table.

use std::io::{IsTerminal, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use pare_image::ImageRef;

use crate::render::sbom::table;

/// The output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// CycloneDX 1.6 JSON (the default when writing to a file or a pipe).
    Cyclonedx,
    /// SPDX 2.3 JSON.
    Spdx,
    /// pare's own JSON (shape: docs/sbom.md).
    Json,
    /// A table for people (the default on a terminal).
    Table,
}

#[derive(clap::Args)]
pub struct SbomArgs {
    /// The image: NAME[:TAG] (Docker engine), docker-daemon:NAME, docker-archive:PATH,
    /// oci:DIR[:TAG], oci-archive:PATH.
    pub image: String,
    /// Output format [default: table on a terminal, else cyclonedx].
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Write to FILE (atomically: nothing is left half-written on error).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// In the table, list the files each package owns.
    #[arg(long)]
    pub files: bool,
}

pub fn run(args: SbomArgs) -> anyhow::Result<ExitCode> {
    let reference = ImageRef::parse(&args.image)?;
    let image = pare_image::read_image(&reference, &pare_sbom::read_options())
        .with_context(|| format!("reading {reference}"))?;
    let sbom = pare_sbom::catalog(&image);
    drop(image);
    for w in &sbom.warnings {
        eprintln!("pare: warning: {}: {}", w.path, w.message);
    }
    let format = args.format.unwrap_or(
        if args.output.is_none() && std::io::stdout().is_terminal() {
            Format::Table
        } else {
            Format::Cyclonedx
        },
    );
    let text = match format {
        Format::Cyclonedx => pretty(&pare_sbom::cyclonedx::document(
            &sbom,
            &pare_sbom::now_rfc3339(),
        ))?,
        Format::Spdx => pretty(&pare_sbom::spdx::document(&sbom, &pare_sbom::now_rfc3339()))?,
        Format::Json => pretty(&serde_json::to_value(&sbom)?)?,
        Format::Table => table(&sbom, args.files),
    };
    match &args.output {
        Some(path) => write_atomically(path, text.as_bytes())?,
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())?;
            out.flush()?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn pretty(v: &serde_json::Value) -> anyhow::Result<String> {
    Ok(serde_json::to_string_pretty(v)? + "\n")
}

/// Writes to a temporary file beside `path`, then renames it into place.
fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".pare-sbom-")
        .tempfile_in(dir)
        .with_context(|| format!("{}: cannot create a file there", dir.display()))?;
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .with_context(|| format!("writing {}", path.display()))?;
    tmp.persist(path)
        .map_err(|e| e.error)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}
