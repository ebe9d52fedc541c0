//! `pare scan IMAGE`: the published advisories that affect the image's packages,
//! counted by severity, from the local advisory database (`pare db`).

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::SystemTime;

use anyhow::Context;
use pare_image::ReadContext;
use pare_vuln::policy::Policy;
use pare_vuln::report::{self, Report};
use pare_vuln::severity::Severity;

use crate::advisories::policy;
use crate::advisories::{database_path, open_database};
use crate::globals::Globals;
use crate::output::{emit, pretty};
use crate::read::read_sbom;
use crate::render::scan::table;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A table for people (the default on a terminal).
    Table,
    /// pare's JSON (shape: docs/scan.md; the default when writing to a file or pipe).
    Json,
    /// SARIF 2.1.0 (GitHub code scanning).
    Sarif,
    /// A CycloneDX 1.6 BOM with vulnerabilities (VEX analyses included).
    Cyclonedx,
}

#[derive(clap::Args)]
pub struct ScanArgs {
    /// The image: NAME[:TAG] (Docker engine), docker-daemon:NAME, docker-archive:PATH,
    /// oci:DIR[:TAG], oci-archive:PATH, docker://REGISTRY/NAME[:TAG|@DIGEST],
    /// containers-storage:NAME (Podman).
    pub image: String,
    /// Output format [default: table on a terminal, else json].
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Write to FILE (atomically: nothing is left half-written on error).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Exit 1 when a vulnerability is at or above SEVERITY: critical, high, medium,
    /// low, negligible or unknown (any).
    #[arg(long, value_name = "SEVERITY", value_parser = parse_severity)]
    pub fail_on: Option<Severity>,
    /// Leave out vulnerabilities no fixed version is known for.
    #[arg(long)]
    pub only_fixed: bool,
    /// An ignore file (repeatable): one advisory id a line, `#` comments, optional
    /// `exp:YYYY-MM-DD` after which the line no longer applies (like .trivyignore).
    #[arg(long, value_name = "FILE")]
    pub ignore: Vec<PathBuf>,
    /// A VEX document, OpenVEX or CycloneDX (repeatable): `not_affected` and `fixed`
    /// statements suppress their findings.
    #[arg(long, value_name = "FILE")]
    pub vex: Vec<PathBuf>,
    /// Do not apply the OpenVEX documents attached to a docker:// image as OCI
    /// referrers (by `pare build --output docker://…`, `oras attach`, …).
    #[arg(long)]
    pub no_attached_vex: bool,
    /// The advisory database [default: as `pare db`].
    #[arg(long, value_name = "FILE")]
    pub db: Option<PathBuf>,
    /// In the table, list the files of each vulnerable package.
    #[arg(long)]
    pub files: bool,
}

fn parse_severity(s: &str) -> Result<Severity, String> {
    s.parse()
}

/// The scan's settings, checked and read before the image is.
struct Settings {
    db: PathBuf,
    policy: Policy,
    format: Format,
}

/// Turns the arguments into settings: the ignore files and VEX documents are read
/// here, so a mistake in one is reported before any image is read.
fn resolve(args: &ScanArgs) -> anyhow::Result<Settings> {
    let policy = policy(&args.ignore, &args.vex, args.only_fixed)?;
    let format = args.format.unwrap_or(
        if args.output.is_none() && std::io::stdout().is_terminal() {
            Format::Table
        } else {
            Format::Json
        },
    );
    Ok(Settings {
        db: database_path(args.db.clone())?,
        policy,
        format,
    })
}

pub fn run(args: ScanArgs, globals: &Globals) -> anyhow::Result<ExitCode> {
    let settings = resolve(&args)?;
    let mut policy = settings.policy;
    if !args.no_attached_vex {
        policy.vex.extend(attached_vex(&globals.read, &args.image)?);
    }
    let db = open_database(&settings.db)?;
    let sbom = read_sbom(globals, &args.image)?;
    let now = SystemTime::now();
    let report = Report::generate(&db, &sbom, &report::Settings { policy, now })
        .with_context(|| format!("matching the packages of {}", args.image))?;
    if report.database.stale {
        say!(
            "pare: warning: the advisory data is {} days old; run `pare db update` for current data",
            report.database.age_days
        );
    }
    for w in &report.warnings {
        say!("pare: warning: {w}");
    }
    let text = match settings.format {
        Format::Table => table(&report, args.files, now),
        Format::Json => pretty(&report)?,
        Format::Sarif => pretty(&report::sarif::document(&report))?,
        Format::Cyclonedx => pretty(&report::cyclonedx::document(
            &sbom,
            &report,
            &pare_sbom::now_rfc3339(),
        ))?,
    };
    emit(&text, args.output.as_deref())?;
    Ok(match args.fail_on {
        Some(threshold) if report.fails(threshold) => ExitCode::from(1),
        _ => ExitCode::SUCCESS,
    })
}

/// The statements of the OpenVEX documents attached to a `docker://` image, each
/// applied as `--vex` would apply it, and said so on standard error.
fn attached_vex(
    context: &ReadContext,
    image: &str,
) -> anyhow::Result<Vec<pare_vuln::vex::Statement>> {
    let reference = pare_image::ImageRef::parse(image)?;
    let Some(attached) = crate::evidence::attached_or_warn(context, &reference) else {
        return Ok(Vec::new());
    };
    let mut statements = Vec::new();
    let documents = match attached.documents(crate::evidence::OPENVEX) {
        Ok(d) => d,
        Err(e) => {
            say!("pare: warning: {e:#}; the attached VEX was not applied");
            return Ok(Vec::new());
        }
    };
    for (referrer, bytes) in documents {
        let place = attached.place(&referrer);
        let read = pare_vuln::vex::parse(&bytes, std::path::Path::new(&place))?;
        say!(
            "pare: applying the OpenVEX document attached to the image ({} statements, {place})",
            read.len()
        );
        statements.extend(read);
    }
    Ok(statements)
}
