//! Licences: Debian's machine-readable `copyright` files, Python licence classifiers,
//! and the SPDX licence list (to tell an SPDX id from a free-form name).

use crate::context::Context;
use crate::package::{Ecosystem, Package};
use crate::rfc822;

const DOC: &str = "/usr/share/doc/";

/// The SPDX licence ids CycloneDX 1.6 accepts, one a line (from its spdx.schema.json).
const SPDX_IDS: &str = include_str!("spdx_license_ids.txt");

pub(crate) fn wants(path: &str) -> bool {
    path.strip_prefix(DOC)
        .and_then(|rest| rest.strip_suffix("/copyright"))
        .is_some_and(|pkg| !pkg.contains('/'))
}

/// The SPDX id `name` spells (case-insensitively), in its canonical spelling.
pub fn spdx_id(name: &str) -> Option<&'static str> {
    SPDX_IDS
        .lines()
        .find(|id| id.eq_ignore_ascii_case(name.trim()))
}

/// Whether `text` is an SPDX expression made only of known ids (`MIT OR Apache-2.0`).
pub fn is_spdx_expression(text: &str) -> bool {
    let tokens: Vec<&str> = text
        .split(|c: char| c.is_whitespace() || c == '(' || c == ')')
        .filter(|t| !t.is_empty())
        .collect();
    !tokens.is_empty()
        && tokens.iter().all(|t| {
            matches!(*t, "AND" | "OR" | "WITH")
                || spdx_id(t.trim_end_matches('+')).is_some()
                || t.starts_with("LicenseRef-")
                || is_exception(t)
        })
}

fn is_exception(token: &str) -> bool {
    token.ends_with("-exception") || token.contains("-exception-")
}

/// The licence a Python `License ::` classifier names, where it names one exactly.
pub(crate) fn from_classifier(last: &str) -> Option<&'static str> {
    Some(match last {
        "MIT License" => "MIT",
        "Apache Software License" => "Apache-2.0",
        "ISC License (ISCL)" => "ISC",
        "Mozilla Public License 2.0 (MPL 2.0)" => "MPL-2.0",
        "Python Software Foundation License" => "PSF-2.0",
        "The Unlicense (Unlicense)" => "Unlicense",
        "GNU General Public License v3 (GPLv3)" => "GPL-3.0-only",
        "GNU Lesser General Public License v3 (LGPLv3)" => "LGPL-3.0-only",
        _ => return None,
    })
}

/// Fills the licences of Debian packages from `/usr/share/doc/NAME/copyright` when it
/// is in the machine-readable (DEP-5) format: every `License:` short name, once.
pub(crate) fn fill_deb_licenses(cx: &Context, packages: &mut [Package]) {
    for p in packages
        .iter_mut()
        .filter(|p| p.ecosystem == Ecosystem::Deb)
    {
        let path = format!("{DOC}{}/copyright", p.name);
        let Some(text) = cx.index.resolve(&path).and_then(|(real, _)| cx.text(&real)) else {
            continue;
        };
        p.licenses = dep5_licenses(&text);
    }
}

fn dep5_licenses(text: &str) -> Vec<String> {
    let (paragraphs, _) = rfc822::paragraphs(text, false);
    // Free-form copyright files have `License:` lines too, followed by prose.
    let machine_readable = paragraphs
        .first()
        .and_then(|p| p.get("Format"))
        .is_some_and(|f| f.contains("copyright-format"));
    if !machine_readable {
        return Vec::new();
    }
    let mut out: Vec<String> = Vec::new();
    for p in &paragraphs {
        for value in p.all("License") {
            let short = value.lines().next().unwrap_or_default().trim();
            if short.is_empty() || out.iter().any(|o| o == short) {
                continue;
            }
            out.push(short.to_owned());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_expressions() {
        assert_eq!(spdx_id("mit"), Some("MIT"));
        assert_eq!(spdx_id("Expat"), None);
        assert!(is_spdx_expression(
            "MIT OR (Apache-2.0 WITH LLVM-exception)"
        ));
        assert!(is_spdx_expression("GPL-2.0+"));
        assert!(!is_spdx_expression("BSD License"));
    }

    #[test]
    fn dep5_short_names_once_each() {
        let text = "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\n\
                    Files: *\nCopyright: 1995 Jean-loup Gailly\nLicense: Zlib\n\n\
                    Files: debian/*\nLicense: Zlib\n\n\
                    License: Zlib\n This software is provided 'as-is'\n";
        assert_eq!(dep5_licenses(text), ["Zlib"]);
        assert!(dep5_licenses("License: Permission is hereby granted, free of\n").is_empty());
    }
}
