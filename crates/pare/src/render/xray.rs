//! `pare xray`'s human output: one function per section of the report, each a pure
//! function of the report.

use std::fmt::Write as _;

use pare_xray::XrayReport;

use super::{escape, truncate, truncate_line};
use crate::units::{bytes, count};

/// What the user asked to see beside the report itself.
pub struct XrayView {
    /// Rows of the longer lists (wasted files, duplicates).
    pub top: usize,
    /// The `--find` patterns, when any.
    pub find: Vec<String>,
}

/// The whole human report.
pub fn xray(r: &XrayReport, view: &XrayView) -> String {
    let mut out = String::new();
    header(&mut out, r);
    layers(&mut out, r);
    waste(&mut out, r, view.top);
    duplicates(&mut out, r, view.top);
    risky_files(&mut out, r);
    tools(&mut out, r);
    unsafe_entries(&mut out, r);
    if !view.find.is_empty() {
        found(&mut out, r, &view.find);
    }
    dockerfile(&mut out, r);
    out
}

/// Where the image is from and how it runs.
fn header(out: &mut String, r: &XrayReport) {
    let img = &r.image;
    let _ = writeln!(out, "Image        {}", escape(&img.source.reference));
    if !img.source.repo_tags.is_empty() {
        let tags = escape(&img.source.repo_tags.join(", ")).into_owned();
        let _ = writeln!(out, "Tags         {tags}");
    }
    let _ = writeln!(out, "Config       {}", img.source.config_digest);
    let _ = writeln!(
        out,
        "Platform     {}/{}{}",
        escape(&img.os),
        escape(&img.architecture),
        img.created
            .as_ref()
            .map(|c| format!("   created {}", escape(c)))
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
        "root (no USER set)".into()
    } else {
        escape(&img.user)
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
            .map(|v| escape(&format!("{v:?}")).into_owned())
            .unwrap_or_else(|| "-".into())
    };
    let _ = writeln!(out, "Entrypoint   {}", json(&img.entrypoint));
    let _ = writeln!(out, "Cmd          {}", json(&img.cmd));
    if let Some(w) = &img.workdir {
        let _ = writeln!(out, "Workdir      {}", escape(w));
    }
    if !img.exposed_ports.is_empty() {
        let ports = img.exposed_ports.join(", ");
        let _ = writeln!(out, "Ports        {}", escape(&ports));
    }
    for e in &img.env {
        let _ = writeln!(out, "Env          {}", escape(e));
    }
    for (k, v) in &img.labels {
        let _ = writeln!(out, "Label        {}={}", escape(k), escape(v));
    }
}

/// Each layer: size, what it added, modified, deleted, the instruction.
fn layers(out: &mut String, r: &XrayReport) {
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
            truncate_line(&l.instruction, 70)
        );
    }
}

/// Bytes hidden by later layers, and the efficiency score.
fn waste(out: &mut String, r: &XrayReport, top: usize) {
    let w = &r.waste;
    let _ = writeln!(
        out,
        "\nWasted space {} in files a later layer overwrote or deleted; efficiency {:.1}%",
        bytes(w.wasted_bytes),
        w.efficiency * 100.0
    );
    for h in w.hidden.iter().take(top) {
        let how = match h.how {
            pare_image::index::HiddenBy::Overwritten => "overwritten",
            pare_image::index::HiddenBy::Deleted => "deleted",
        };
        let _ = writeln!(
            out,
            "  {:>9}  {}  (layer {}, {how} in layer {})",
            bytes(h.size),
            escape(&h.path),
            h.added_in,
            h.hidden_in
        );
    }
}

/// Groups of identical files.
fn duplicates(out: &mut String, r: &XrayReport, top: usize) {
    let d = &r.duplicates;
    let _ = writeln!(
        out,
        "\nDuplicates   {} groups of identical files; {} to save",
        d.groups.len(),
        bytes(d.wasted_bytes)
    );
    for g in d.groups.iter().take(top) {
        let _ = writeln!(
            out,
            "  {:>9} x{}  {}",
            bytes(g.size),
            g.paths.len(),
            escape(&g.paths.join("  "))
        );
    }
}

/// Setuid/setgid and world-writable files.
fn risky_files(out: &mut String, r: &XrayReport) {
    let _ = writeln!(out, "\nSetuid/setgid   {}", r.setuid.len());
    for f in &r.setuid {
        let _ = writeln!(
            out,
            "  {}  {}:{}  {}  (layer {})",
            f.mode,
            f.uid,
            f.gid,
            escape(&f.path),
            f.layer
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
            escape(&f.path),
            f.layer,
            if f.sticky { "  sticky" } else { "" }
        );
    }
}

/// Shells, interpreters and package managers an attacker could use.
fn tools(out: &mut String, r: &XrayReport) {
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
                escape(&paths.join(" ")).into_owned()
            }
        );
    }
}

/// Layer entries that were never followed (escapes, devices).
fn unsafe_entries(out: &mut String, r: &XrayReport) {
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
                .map(|l| format!(" -> {}", escape(l)))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "  layer {}: {}{link}  ({problem})",
                u.layer,
                escape(&u.entry.name)
            );
        }
    }
}

/// The paths matching `--find`.
fn found(out: &mut String, r: &XrayReport, find: &[String]) {
    let _ = writeln!(
        out,
        "\nFound        {} paths matching {}",
        r.found.len(),
        escape(&find.join(", "))
    );
    for f in &r.found {
        let _ = writeln!(
            out,
            "  {}  {:>9}  layer {}  {}",
            f.mode,
            bytes(f.size),
            f.layer,
            escape(&f.path)
        );
    }
}

/// The Dockerfile rebuilt from the history.
fn dockerfile(out: &mut String, r: &XrayReport) {
    let _ = writeln!(out, "\nDockerfile (rebuilt from history)");
    for line in &r.dockerfile {
        let _ = writeln!(out, "  {}", truncate(line, 160));
    }
}
