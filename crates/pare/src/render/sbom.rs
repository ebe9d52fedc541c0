//! `pare sbom`'s table for people: a pure function of the SBOM.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use pare_sbom::{Ecosystem, Sbom, UnownedKind};

use super::{column_width, escape, short_list};
use crate::units::{bytes, count};

/// The packages as a table (with each one's files when asked), then the unowned
/// executables and libraries.
pub fn table(sbom: &Sbom, with_files: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Image     {}", escape(sbom.image.display_name()));
    if let Some(d) = &sbom.distro {
        let _ = writeln!(
            out,
            "Distro    {}",
            escape(
                &d.pretty_name
                    .clone()
                    .unwrap_or_else(|| format!("{} {}", d.id, d.version_id))
            )
        );
    }
    let mut per_type: BTreeMap<Ecosystem, usize> = BTreeMap::new();
    for p in &sbom.packages {
        *per_type.entry(p.ecosystem).or_default() += 1;
    }
    let summary: Vec<String> = per_type
        .iter()
        .map(|(e, n)| format!("{} {e}", count(*n as u64)))
        .collect();
    let _ = writeln!(
        out,
        "Packages  {} ({})",
        count(sbom.packages.len() as u64),
        summary.join(", ")
    );
    let width = |s: &str| escape(s).chars().count();
    let name_w = column_width(sbom.packages.iter().map(|p| width(&p.name)), 4, 40);
    let ver_w = column_width(sbom.packages.iter().map(|p| width(&p.version)), 7, 32);
    let _ = writeln!(
        out,
        "\n{:<6}  {:<name_w$}  {:<ver_w$}  {:>6}  LICENSES",
        "TYPE", "NAME", "VERSION", "FILES"
    );
    for p in &sbom.packages {
        let _ = writeln!(
            out,
            "{:<6}  {:<name_w$}  {:<ver_w$}  {:>6}  {}",
            p.ecosystem.name(),
            escape(&p.name),
            escape(&p.version),
            count(p.files.len() as u64),
            short_list(&p.licenses, 3)
        );
        if with_files {
            for f in &p.files {
                let _ = writeln!(out, "        {}", escape(&f.path));
            }
        }
    }
    if !sbom.unowned.is_empty() {
        let _ = writeln!(
            out,
            "\nUnowned executables and libraries ({}): no package claims them",
            count(sbom.unowned.len() as u64)
        );
        for u in &sbom.unowned {
            let kind = match u.kind {
                UnownedKind::Executable => "executable",
                UnownedKind::SharedLibrary => "library",
            };
            let problem = u
                .problem
                .as_ref()
                .map(|p| format!("  ! {}", escape(p)))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "  {:>9}  {kind:<10}  {}{problem}",
                bytes(u.size),
                escape(&u.path)
            );
        }
    }
    if !sbom.warnings.is_empty() {
        let _ = writeln!(
            out,
            "\n{} warning(s) (on stderr)",
            count(sbom.warnings.len() as u64)
        );
    }
    out
}
