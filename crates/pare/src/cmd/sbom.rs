//! `pare sbom IMAGE`: every package in an image with the files it owns, as CycloneDX
//! 1.6, SPDX 2.3, pare's own JSON (docs/sbom.md) or a table.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use pare_image::{ImageRef, ReadContext};

use crate::globals::Globals;
use crate::output::{emit, pretty};
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
    /// oci:DIR[:TAG], oci-archive:PATH, docker://REGISTRY/NAME[:TAG|@DIGEST],
    /// containers-storage:NAME (Podman).
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
    /// Print the SBOM attached to a docker:// image as an OCI referrer (by `pare build
    /// --output docker://…`), as it was attached, instead of cataloguing the image:
    /// SPDX for --format spdx, else CycloneDX.
    #[arg(long)]
    pub attached: bool,
}

pub fn run(args: SbomArgs, globals: &Globals) -> anyhow::Result<ExitCode> {
    if args.attached {
        return print_attached(&globals.read, &args);
    }
    let sbom = crate::read::read_sbom(globals, &args.image)?;
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
    emit(&text, args.output.as_deref())?;
    Ok(ExitCode::SUCCESS)
}

/// `--attached`: the newest attached SBOM of the format asked for, byte for byte.
fn print_attached(context: &ReadContext, args: &SbomArgs) -> anyhow::Result<ExitCode> {
    use crate::evidence::{CYCLONEDX, SPDX, attached};
    let (artifact_type, name) = match args.format {
        Some(Format::Spdx) => (SPDX, "SPDX"),
        Some(Format::Cyclonedx) | None => (CYCLONEDX, "CycloneDX"),
        Some(other) => anyhow::bail!(
            "--attached prints an attached SBOM as it is: --format spdx or cyclonedx, not {}",
            format!("{other:?}").to_lowercase()
        ),
    };
    let reference = ImageRef::parse(&args.image)?;
    let Some(found) = attached(context, &reference)? else {
        anyhow::bail!(
            "--attached: {reference} is not in a registry (docker://…): nothing is attached to it"
        );
    };
    let documents = found.documents(artifact_type)?;
    let Some((referrer, bytes)) = documents.last() else {
        anyhow::bail!(
            "{reference}: no {name} SBOM is attached ({} referrer(s), none of type {artifact_type})",
            found.referrers.len()
        );
    };
    // Printed as attached, so it must be what it claims: JSON (which has no raw control
    // characters but whitespace), and no C1 controls a terminal could take for escapes.
    let place = found.place(referrer);
    let text = String::from_utf8(bytes.clone()).with_context(|| format!("{place}: not UTF-8"))?;
    serde_json::from_str::<serde_json::Value>(&text)
        .with_context(|| format!("{place}: the attached {name} SBOM is not JSON"))?;
    if text.chars().any(|c| ('\u{80}'..='\u{9f}').contains(&c)) {
        anyhow::bail!("{place}: the attached {name} SBOM holds control characters; not printed");
    }
    emit(&text, args.output.as_deref())?;
    Ok(ExitCode::SUCCESS)
}
