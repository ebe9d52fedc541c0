//! `pare xray IMAGE`: what is inside an image.

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::Context;
use pare_image::{ImageRef, ReadOptions};
use pare_xray::{XrayOptions, XrayReport};

use crate::units::{bytes, count};

#[derive(clap::Args)]
pub struct XrayArgs {
    /// The image: NAME[:TAG] (Docker engine), docker-daemon:NAME, docker-archive:PATH,
    /// oci:DIR[:TAG], oci-archive:PATH.
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
}

pub fn run(args: XrayArgs) -> anyhow::Result<ExitCode> {
    let reference = ImageRef::parse(&args.image)?;
    let image = pare_image::read_image(&reference, &ReadOptions::default())
        .with_context(|| format!("reading {reference}"))?;
    let report = pare_xray::analyse(
        &image,
        &XrayOptions {
            find: args.find.clone(),
        },
    )?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", render(&report, &args));
    }
    Ok(ExitCode::SUCCESS)
}

fn render(r: &XrayReport, args: &XrayArgs) -> String {
    let mut out = String::new();
    let img = &r.image;
    let _ = writeln!(out, "Image        {}", img.source.reference);
    if !img.source.repo_tags.is_empty() {
        let _ = writeln!(out, "Tags         {}", img.source.repo_tags.join(", "));
    }
    let _ = writeln!(out, "Config       {}", img.source.config_digest);
    let _ = writeln!(
        out,
        "Platform     {}/{}{}",
        img.os,
        img.architecture,
        img.created
            .as_ref()
            .map(|c| format!("   created {c}"))
            .unwrap_or_default()
    );
    let _ = writeln!(
        out,
        "Size         {} uncompressed, {} as stored, {} files in {} layers",
        bytes(img.uncompressed_bytes),
        bytes(img.compressed_bytes),
        count(img.files),
        r.layers.len()
    );
    let user = if img.user.is_empty() {
        "root (no USER set)"
    } else {
        &img.user
    };
    let _ = writeln!(
        out,
        "User         {user}{}",
        if img.runs_as_root {
            "   ! runs as root"
        } else {
            ""
        }
    );
    let json = |v: &Option<Vec<String>>| {
        v.as_ref()
            .map(|v| format!("{v:?}"))
            .unwrap_or_else(|| "-".into())
    };
    let _ = writeln!(out, "Entrypoint   {}", json(&img.entrypoint));
    let _ = writeln!(out, "Cmd          {}", json(&img.cmd));
    if let Some(w) = &img.workdir {
        let _ = writeln!(out, "Workdir      {w}");
    }
    if !img.exposed_ports.is_empty() {
        let _ = writeln!(out, "Ports        {}", img.exposed_ports.join(", "));
    }
    for e in &img.env {
        let _ = writeln!(out, "Env          {e}");
    }
    for (k, v) in &img.labels {
        let _ = writeln!(out, "Label        {k}={v}");
    }

    let _ = writeln!(out, "\nLayers");
    let _ = writeln!(
        out,
        "  {:>2}  {:>9}  {:>16}  {:>16}  {:>16}  instruction",
        "#", "size", "added", "modified", "deleted"
    );
    for l in &r.layers {
        let tally = |t: &pare_image::index::Tally| {
            if t.files == 0 {
                "-".to_owned()
            } else {
                format!("{} ({})", count(t.files), bytes(t.bytes))
            }
        };
        let _ = writeln!(
            out,
            "  {:>2}  {:>9}  {:>16}  {:>16}  {:>16}  {}",
            l.index,
            bytes(l.uncompressed_bytes),
            tally(&l.added),
            tally(&l.modified),
            tally(&l.deleted),
            truncate(&l.instruction, 70)
        );
    }

    let w = &r.waste;
    let _ = writeln!(
        out,
        "\nWasted space {} in files a later layer overwrote or deleted; efficiency {:.1}%",
        bytes(w.wasted_bytes),
        w.efficiency * 100.0
    );
    for h in w.hidden.iter().take(args.top) {
        let how = match h.how {
            pare_image::index::HiddenBy::Overwritten => "overwritten",
            pare_image::index::HiddenBy::Deleted => "deleted",
        };
        let _ = writeln!(
            out,
            "  {:>9}  {}  (layer {}, {how} in layer {})",
            bytes(h.size),
            h.path,
            h.added_in,
            h.hidden_in
        );
    }

    let d = &r.duplicates;
    let _ = writeln!(
        out,
        "\nDuplicates   {} groups of identical files; {} to save",
        d.groups.len(),
        bytes(d.wasted_bytes)
    );
    for g in d.groups.iter().take(args.top) {
        let _ = writeln!(
            out,
            "  {:>9} x{}  {}",
            bytes(g.size),
            g.paths.len(),
            g.paths.join("  ")
        );
    }

    let _ = writeln!(out, "\nSetuid/setgid   {}", r.setuid.len());
    for f in &r.setuid {
        let _ = writeln!(
            out,
            "  {}  {}:{}  {}  (layer {})",
            f.mode, f.uid, f.gid, f.path, f.layer
        );
    }
    let open: Vec<_> = r.world_writable.iter().filter(|f| !f.sticky).collect();
    let _ = writeln!(
        out,
        "World-writable  {} ({} without the sticky bit)",
        r.world_writable.len(),
        open.len()
    );
    for f in &r.world_writable {
        let _ = writeln!(
            out,
            "  {}  {}  (layer {}){}",
            f.mode,
            f.path,
            f.layer,
            if f.sticky { "  sticky" } else { "" }
        );
    }
    for (kind, title) in [
        (pare_xray::ToolKind::Shell, "Shells"),
        (pare_xray::ToolKind::Interpreter, "Interpreters"),
        (pare_xray::ToolKind::PackageManager, "Package managers"),
    ] {
        let paths: Vec<&str> = r
            .tools
            .iter()
            .filter(|t| t.kind == kind)
            .map(|t| t.path.as_str())
            .collect();
        let _ = writeln!(
            out,
            "{title:<16} {}",
            if paths.is_empty() {
                "none".into()
            } else {
                paths.join(" ")
            }
        );
    }
    if !r.unsafe_entries.is_empty() {
        let _ = writeln!(
            out,
            "\nUnsafe entries {} (never followed)",
            r.unsafe_entries.len()
        );
        for u in &r.unsafe_entries {
            let problem = serde_json::to_value(&u.entry.problem)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            let link = u
                .entry
                .link
                .as_ref()
                .map(|l| format!(" -> {l}"))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "  layer {}: {}{link}  ({problem})",
                u.layer, u.entry.name
            );
        }
    }
    if !args.find.is_empty() {
        let _ = writeln!(
            out,
            "\nFound        {} paths matching {}",
            r.found.len(),
            args.find.join(", ")
        );
        for f in &r.found {
            let _ = writeln!(
                out,
                "  {}  {:>9}  layer {}  {}",
                f.mode,
                bytes(f.size),
                f.layer,
                f.path
            );
        }
    }
    let _ = writeln!(out, "\nDockerfile (rebuilt from history)");
    for line in &r.dockerfile {
        let _ = writeln!(out, "  {}", truncate(line, 160));
    }
    out
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let cut: String = s.chars().take(max - 1).collect();
        format!("{cut}…")
    }
}
