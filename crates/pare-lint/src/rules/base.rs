//! Base images and stages: tags, digests, trusted registries, `COPY --from` targets,
//! stage names.

use super::Check;
use crate::dockerfile::Base;
use crate::instruction::Kind;

pub fn check(c: &mut Check) {
    base_images(c);
    copy_from(c);
    stage_names(c);
}

fn base_images(c: &mut Check) {
    let file = c.file;
    for stage in &file.stages {
        let Base::Image(name) = &stage.base else {
            continue;
        };
        let ins = &file.instructions[stage.from];
        let Kind::From(from) = &ins.kind else {
            continue;
        };
        let pos = ins.pos_of(from.image.offset);
        let shown = file.expand_at(stage.from, &from.image.raw).value;
        if name.digest.is_none() {
            match name.tag.as_deref() {
                None => c.report(
                    "PL102",
                    stage.from,
                    pos,
                    format!("`{shown}` has no tag, so Docker takes `latest`; name a release tag"),
                ),
                Some("latest") => c.report(
                    "PL101",
                    stage.from,
                    pos,
                    format!("`{shown}` uses the moving `latest` tag; name a release tag"),
                ),
                Some(_) => c.report(
                    "PL103",
                    stage.from,
                    pos,
                    format!(
                        "`{shown}` is not pinned by digest; add `@sha256:…` for reproducible builds"
                    ),
                ),
            }
        }
        if !c.trusted_registries.is_empty() && !trusted(c.trusted_registries, name) {
            c.report(
                "PL104",
                stage.from,
                pos,
                format!(
                    "`{shown}` comes from `{}`, which is not a trusted registry",
                    name.registry_or_default()
                ),
            );
        }
    }
}

fn trusted(list: &[String], name: &crate::image_name::ImageName) -> bool {
    let registry = name.registry_or_default();
    let full = format!("{registry}/{}", name.repository);
    list.iter().any(|t| {
        let t = t.trim_end_matches('/');
        t == registry || full.starts_with(&format!("{t}/")) || full == t
    })
}

fn copy_from(c: &mut Check) {
    let file = c.file;
    for (i, ins) in file.instructions.iter().enumerate() {
        let Kind::Copy(_) = &ins.kind else { continue };
        let Some(flag) = ins.flag("from") else {
            continue;
        };
        let Some(stage) = file.stage_of(i) else {
            continue;
        };
        let raw = flag.value.clone().unwrap_or_default();
        let expanded = file.expand_at(i, &raw);
        if !expanded.is_resolved() {
            continue;
        }
        let target = expanded.value.to_ascii_lowercase();
        let pos = ins.pos_of(flag.offset);
        let own = stage.index;
        let by_index = target.parse::<usize>().ok();
        let by_name = file
            .stages
            .iter()
            .find(|s| s.name.as_deref() == Some(target.as_str()))
            .map(|s| s.index);
        let finding = match by_index.or(by_name) {
            Some(n) if n == own => Some((
                "PL106",
                format!("`COPY --from={raw}` names the stage it is in"),
            )),
            Some(n) if n >= file.stages.len() => Some((
                "PL105",
                format!("`COPY --from={raw}`: there is no stage {n} (stages count from 0)"),
            )),
            Some(n) if n > own => Some((
                "PL105",
                format!(
                    "`COPY --from={raw}` names a stage defined later; only earlier stages can be copied from"
                ),
            )),
            Some(_) => None,
            None if looks_like_image(&target) => None,
            None => Some((
                "PL105",
                format!(
                    "`COPY --from={raw}` names no earlier stage; BuildKit would pull an image called `{target}`"
                ),
            )),
        };
        if let Some((id, message)) = finding {
            c.report(id, i, pos, message);
        }
    }
}

/// A `--from` value that can only be an image reference (it has a tag, digest or path).
fn looks_like_image(target: &str) -> bool {
    target.contains([':', '/', '@'])
}

fn stage_names(c: &mut Check) {
    let file = c.file;
    let mut seen: Vec<&str> = Vec::new();
    let mut dups = Vec::new();
    for stage in &file.stages {
        let Some(name) = stage.name.as_deref() else {
            continue;
        };
        if seen.contains(&name) {
            dups.push((stage.from, name.to_owned()));
        } else {
            seen.push(name);
        }
    }
    for (from, name) in dups {
        let ins = &file.instructions[from];
        let pos = match &ins.kind {
            Kind::From(f) => f.alias.as_ref().map_or(ins.pos, |a| ins.pos_of(a.offset)),
            _ => ins.pos,
        };
        c.report(
            "PL107",
            from,
            pos,
            format!("a stage named `{name}` is already defined"),
        );
    }
}
