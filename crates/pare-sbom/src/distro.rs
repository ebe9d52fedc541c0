//! The operating system release from `/etc/os-release` (or `/usr/lib/os-release`).

use crate::context::Context;
use crate::package::Distro;

const PATHS: [&str; 2] = ["/etc/os-release", "/usr/lib/os-release"];

pub(crate) fn wants(path: &str) -> bool {
    PATHS.contains(&path)
}

/// Reads the first os-release present; `/etc/os-release` is often a link to the other.
pub(crate) fn read(cx: &mut Context) -> Option<Distro> {
    let text = PATHS.iter().find_map(|p| {
        let (real, _) = cx.index.resolve(p)?;
        cx.text(&real)
    })?;
    let distro = parse(&text);
    if distro.is_none() {
        cx.warn(PATHS[0], "os-release has no ID");
    }
    distro
}

/// Parses `KEY=value` lines; values may be quoted.
pub(crate) fn parse(text: &str) -> Option<Distro> {
    let mut distro = Distro::default();
    for line in text.lines() {
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let value = value.trim().trim_matches('"').trim_matches('\'').to_owned();
        match key.trim() {
            "ID" => distro.id = value,
            "VERSION_ID" => distro.version_id = value,
            "PRETTY_NAME" => distro.pretty_name = Some(value),
            "VERSION_CODENAME" => distro.codename = Some(value),
            _ => {}
        }
    }
    (!distro.id.is_empty()).then_some(distro)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debian_12() {
        let d = parse(
            "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nVERSION_ID=\"12\"\n\
             VERSION_CODENAME=bookworm\nID=debian\n",
        )
        .unwrap();
        assert_eq!(d.qualifier(), "debian-12");
        assert_eq!(d.codename.as_deref(), Some("bookworm"));
        assert!(parse("NAME=x\n").is_none());
    }
}
