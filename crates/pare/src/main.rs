//! pare: make container images small, understood and safe.
//!
//! The binary only parses arguments, calls the library crates and renders what they
//! return. Exit codes: 0 ok, 1 findings at or above `--fail-on` (or a failed check),
//! 2 error.

/// `eprintln!` that never panics: a closed standard error (`pare … 2>&1 | head`) is
/// no reason to stop half-way, which `eprintln!` would make it.
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::output::say(format_args!($($arg)*))
    };
}

mod advisories;
mod cmd;
mod evidence;
mod globals;
mod output;
mod progress;
mod read;
mod registry_args;
mod render;
mod units;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "pare",
    version,
    about = "Make container images small, understood and safe"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Refuse a layer that expands past RATIO times its stored size (at least 1 GiB):
    /// a decompression bomb stops there. Raise it for a genuine, very compressible layer.
    #[arg(
        long,
        global = true,
        value_name = "RATIO",
        default_value_t = 100,
        help_heading = "Global options"
    )]
    max_layer_expansion: u64,
    /// Show no progress (bars on a terminal, phase lines otherwise).
    #[arg(long, short = 'q', global = true, help_heading = "Global options")]
    quiet: bool,
    /// Registry flags: every verb that reads or writes images takes them.
    #[command(flatten, next_help_heading = "Registries (global options)")]
    registry: registry_args::RegistryArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Show what is inside an image: layers, waste, duplicates, risky files, config.
    Xray(cmd::xray::XrayArgs),
    /// Check Dockerfiles and images against best practices (hadolint's and more).
    Lint(cmd::lint::LintArgs),
    /// Minify an image to what its app uses, and verify the slim image answers the same.
    Build(Box<cmd::build::BuildArgs>),
    /// List every package in an image with the files it owns (CycloneDX, SPDX, table).
    Sbom(cmd::sbom::SbomArgs),
    /// The known vulnerabilities of an image's packages, by severity (offline, from
    /// the advisory database of `pare db`).
    Scan(cmd::scan::ScanArgs),
    /// Update, import or inspect the advisory database `pare scan` reads.
    Db(cmd::db::DbArgs),
    /// Copy an image between registries, the engine, Podman, archives and OCI layouts,
    /// blobs as stored (digests kept), like `skopeo copy`.
    Copy(cmd::copy::CopyArgs),
    /// What changed between two images: files, packages, vulnerabilities, config,
    /// size per directory. Exit 0: no difference, 1: differences, 2: error.
    Diff(Box<cmd::diff::DiffArgs>),
    /// Several images side by side (size, packages, vulnerabilities, root, shells,
    /// base OS support), sorted by a stated score.
    Compare(cmd::compare::CompareArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // How every image of the command is read and every registry reached: made once
    // from the flags and handed to each reader.
    let read = match cli.registry.read_context(cli.max_layer_expansion) {
        Ok(read) => read,
        Err(e) => {
            say!("{}", error_text(&e).trim_end());
            return ExitCode::from(2);
        }
    };
    let globals = globals::Globals {
        read,
        quiet: cli.quiet,
    };
    // Destructors do not run when a signal ends the process: remove what pare made
    // (containers, work directories) on SIGINT/SIGTERM/SIGHUP, then exit 130.
    if let Err(e) = pare_runtime::cleanup::on_interrupt(interrupted_notice) {
        say!("pare: warning: cannot catch Ctrl-C ({e}): an interrupt would leave what pare made");
    }
    let result = match cli.command {
        Command::Xray(args) => cmd::xray::run(args, &globals),
        Command::Lint(args) => cmd::lint::run(args, &globals.read),
        Command::Build(args) => cmd::build::run(*args, &globals),
        Command::Sbom(args) => cmd::sbom::run(args, &globals),
        Command::Scan(args) => cmd::scan::run(args, &globals),
        Command::Db(args) => cmd::db::run(args),
        Command::Copy(args) => cmd::copy::run(args, &globals.read),
        Command::Diff(args) => cmd::diff::run(*args, &globals),
        Command::Compare(args) => cmd::compare::run(args, &globals),
    };
    // Interrupted meanwhile: what pare made is removed and the process ends (130)
    // here or in the interrupt's thread, never printing the error the interrupt
    // itself caused.
    pare_runtime::cleanup::end(interrupted_notice);
    match result {
        Ok(code) => code,
        Err(e) => {
            say!("{}", error_text(&e).trim_end());
            ExitCode::from(2)
        }
    }
}

/// What pare says when a signal interrupts it.
fn interrupted_notice() {
    say!("pare: interrupted; removing the containers and files pare made");
}

/// An error as the user reads it: what failed and each cause once, on one line (the
/// libraries' messages leave their cause to the chain), then what they can do about
/// it, a `hint:` line each.
fn error_text(e: &anyhow::Error) -> String {
    let mut text = format!("pare: error: {e:#}\n");
    for hint in hints(e) {
        text.push_str(&format!("hint: {hint}\n"));
    }
    text
}

/// Every error type of pare's crates, each asked for its [`pare_hint::Hint`] in turn.
const HINTED: [fn(&(dyn std::error::Error + 'static)) -> Option<String>; 11] = [
    pare_hint::of::<pare_minify::BuildError>,
    pare_hint::of::<pare_minify::AssembleError>,
    pare_hint::of::<pare_image::ImageError>,
    pare_hint::of::<pare_runtime::RuntimeError>,
    pare_hint::of::<pare_vuln::Error>,
    pare_hint::of::<pare_compare::CompareError>,
    pare_hint::of::<pare_lint::config::ConfigError>,
    pare_hint::of::<pare_lint::shellcheck::ShellcheckError>,
    pare_hint::of::<pare_lint::finding::BadSeverity>,
    pare_hint::of::<pare_lint::SyntaxError>,
    pare_hint::of::<pare_xray::PatternError>,
];

/// The hints of every error in the chain that has one.
fn hints(e: &anyhow::Error) -> Vec<String> {
    let mut hints: Vec<String> = Vec::new();
    for cause in e.chain() {
        let hint = HINTED.iter().find_map(|hint_of| hint_of(cause));
        if let Some(hint) = hint.filter(|h| !hints.contains(h)) {
            hints.push(hint);
        }
    }
    hints
}
