//! `pare db update|import|status`: the advisory database `pare scan` reads.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::SystemTime;

use anyhow::{Context, bail};
use pare_vuln::db::Database;

use crate::advisories::{database_path, open_database};
use crate::output::{emit, pretty};
use crate::render;

#[derive(clap::Args)]
pub struct DbArgs {
    #[command(subcommand)]
    pub command: DbCommand,
}

#[derive(clap::Subcommand)]
pub enum DbCommand {
    /// Download the advisory exports (BASE/ECOSYSTEM/all.zip) and replace the data
    /// they bring; the previous database stays as it was if anything fails.
    Update(UpdateArgs),
    /// Import osv.dev-style all.zip files or folders of OSV JSON (offline), or a
    /// whole database written by `pare db export`, which replaces this one.
    Import(ImportArgs),
    /// Write the whole database to one file, for machines without network
    /// (`pare db import FILE` there).
    Export(ExportArgs),
    /// Show the sources, record counts and age of the database.
    Status(StatusArgs),
}

/// Where the database is.
#[derive(clap::Args)]
pub struct DbLocation {
    /// The database file [default: $PARE_CACHE_DIR, else $XDG_CACHE_HOME/pare, else
    /// ~/.cache/pare; file advisories.sqlite].
    #[arg(long, value_name = "FILE")]
    pub db: Option<PathBuf>,
}

#[derive(clap::Args)]
pub struct UpdateArgs {
    /// An OSV ecosystem to fetch (repeatable): Debian, Ubuntu, Alpine, Wolfi,
    /// openSUSE, PyPI, npm, Go, crates.io, Maven, … [default: those already in the
    /// database, else Debian, Ubuntu, Alpine, PyPI, npm, Go, crates.io and Maven].
    #[arg(long = "ecosystem", value_name = "NAME")]
    pub ecosystems: Vec<String>,
    /// Where the exports are: BASE/ECOSYSTEM/all.zip.
    #[arg(
        long,
        value_name = "URL",
        env = "PARE_OSV_BASE",
        default_value = pare_vuln::update::DEFAULT_BASE
    )]
    pub base_url: String,
    #[command(flatten)]
    pub location: DbLocation,
}

#[derive(clap::Args)]
pub struct ImportArgs {
    /// all.zip files, folders of OSV JSON records, or single records.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub location: DbLocation,
}

#[derive(clap::Args)]
pub struct ExportArgs {
    /// The file to write (replaced if it exists, only once complete).
    pub file: PathBuf,
    #[command(flatten)]
    pub location: DbLocation,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum StatusFormat {
    Table,
    Json,
}

#[derive(clap::Args)]
pub struct StatusArgs {
    #[arg(long, value_enum, default_value_t = StatusFormat::Table)]
    pub format: StatusFormat,
    #[command(flatten)]
    pub location: DbLocation,
}

pub fn run(args: DbArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        DbCommand::Update(a) => {
            let path = database_path(a.location.db)?;
            let ecosystems = if a.ecosystems.is_empty() {
                default_ecosystems(&path)
            } else {
                a.ecosystems
            };
            let mut on_interrupt = Vec::new();
            let report =
                pare_vuln::update::update_with(&path, &a.base_url, &ecosystems, &mut |temp| {
                    on_interrupt.push(remove_on_interrupt(temp));
                })
                .context("updating the advisory database (left unchanged)")?;
            say!("{}", render::db::import(&report, 10).trim_end());
        }
        DbCommand::Import(a) if a.paths.iter().any(|p| pare_vuln::import::is_export(p)) => {
            let [export] = a.paths.as_slice() else {
                bail!(
                    "a database written by `pare db export` replaces the whole database, \
                     so it is imported alone (not with other paths)"
                );
            };
            let path = database_path(a.location.db)?;
            let mut on_interrupt = Vec::new();
            let status = pare_vuln::import::import_export(&path, export, &mut |temp| {
                on_interrupt.push(remove_on_interrupt(temp));
            })
            .with_context(|| {
                format!(
                    "importing the exported database {} (the database is left unchanged)",
                    export.display()
                )
            })?;
            say!(
                "Replaced {} with the export {}: {} advisories from {} source(s)",
                path.display(),
                export.display(),
                status.advisories,
                status.sources.len()
            );
        }
        DbCommand::Export(a) => {
            let db = open_database(&database_path(a.location.db)?)?;
            let mut on_interrupt = Vec::new();
            db.export(&a.file, &mut |temp| {
                on_interrupt.push(remove_on_interrupt(temp));
            })
            .with_context(|| format!("exporting the advisory database to {}", a.file.display()))?;
            let size = std::fs::metadata(&a.file).map(|m| m.len()).unwrap_or(0);
            say!(
                "Wrote {} ({} bytes): `pare db import {}` on a machine without network",
                a.file.display(),
                size,
                a.file.display()
            );
        }
        DbCommand::Import(a) => {
            let path = database_path(a.location.db)?;
            let sources = a
                .paths
                .iter()
                .map(|p| pare_vuln::import::Source::local(p))
                .collect::<Result<Vec<_>, _>>()?;
            let mut on_interrupt = Vec::new();
            let report = pare_vuln::import::import_with(&path, &sources, &mut |temp| {
                on_interrupt.push(remove_on_interrupt(temp));
            })
            .context("importing into the advisory database (left unchanged)")?;
            say!("{}", render::db::import(&report, 10).trim_end());
        }
        DbCommand::Status(a) => {
            let db = open_database(&database_path(a.location.db)?)?;
            let status = db.status()?;
            let text = match a.format {
                StatusFormat::Table => render::db::status(&status, SystemTime::now()),
                StatusFormat::Json => pretty(&status)?,
            };
            emit(&text, None)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Removes the temporary file or folder of an import or update if Ctrl-C ends pare (no
/// destructor runs then): a half-built database can be as large as the real one.
fn remove_on_interrupt(temp: &Path) -> pare_runtime::cleanup::Registration {
    let temp = temp.to_owned();
    pare_runtime::cleanup::register(move || {
        match std::fs::symlink_metadata(&temp) {
            Ok(m) if m.is_dir() => std::fs::remove_dir_all(&temp),
            _ => std::fs::remove_file(&temp),
        }
        .ok();
    })
}

/// The ecosystems an update fetches when none are named: those downloaded before.
fn default_ecosystems(path: &Path) -> Vec<String> {
    let downloaded: Vec<String> = Database::open(path)
        .and_then(|db| db.status())
        .map(|s| {
            s.sources
                .iter()
                .filter_map(|src| src.name.strip_prefix("osv:").map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    if downloaded.is_empty() {
        pare_vuln::ecosystem::DEFAULT_SOURCES
            .iter()
            .map(|s| (*s).to_owned())
            .collect()
    } else {
        downloaded
    }
}
