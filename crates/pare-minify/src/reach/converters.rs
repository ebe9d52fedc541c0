//! glibc's character set converters (`gconv/`), for programs that call `iconv_open`.
//! glibc converts UTF-8, ASCII and UCS in itself and loads every other charset's
//! module on the first conversion that asks for it: a CSV export for Excel
//! (`iconv('UTF-8', 'WINDOWS-1252//TRANSLIT', …)` in PHP), an XML document declaring
//! `encoding="ISO-8859-1"`). The probes rarely make such a conversion, so the trace
//! shows no converter; what the kept machine code imports does. Not any importer: the
//! system's programs and libraries (bash, coreutils' printf, libstdc++'s codecvt,
//! libidn2) import `iconv_open` for corners nearly no app reaches, and the set is
//! 8 MB. An importer of the app's own, or a module an interpreter loads to give app
//! code the call (PHP's `iconv.so`, a Python or Node extension), means app code can
//! convert. This needs the kept files' bytes, so it runs once the keep-set has
//! settled.

use std::collections::{BTreeMap, BTreeSet};

use goblin::elf::Elf;
use pare_image::{EntryKind, FileIndex};

use crate::keep_set::Reason;

/// The converter modules and their configuration, when an ELF object the app loaded
/// (`loaded`, their bytes in `index`) outside the system's program and library
/// directories imports `iconv_open`.
pub fn reachable<'a>(
    index: &FileIndex,
    loaded: impl IntoIterator<Item = &'a String>,
) -> BTreeMap<String, Reason> {
    let kept: BTreeSet<&String> = loaded.into_iter().collect();
    let apps = kept.iter().copied().filter(|p| !in_system_dir(p));
    let converts = super::any_bytes(index, apps, imports_iconv);
    if !converts {
        return BTreeMap::new();
    }
    let mut reached = BTreeMap::new();
    for dir in gconv_dirs(index) {
        for (path, node) in index.descendants(&dir) {
            if node.kind != EntryKind::Dir && !kept.contains(path) {
                reached.insert(path.clone(), Reason::ResourceSet);
            }
        }
    }
    reached
}

/// Whether `path` is in a directory of the system's programs or shared libraries.
fn in_system_dir(path: &str) -> bool {
    let dir = pare_image::path::parent(path);
    super::resources::LIBRARY_DIRS.contains(&dir)
        || ["/bin", "/sbin", "/usr/bin", "/usr/sbin"].contains(&dir)
}

/// Whether these bytes are an ELF object that calls `iconv_open` from a library.
fn imports_iconv(bytes: &[u8]) -> bool {
    if !bytes.starts_with(b"\x7fELF") {
        return false;
    }
    let Ok(elf) = Elf::parse(bytes) else {
        return false;
    };
    elf.dynsyms
        .iter()
        .any(|sym| sym.is_import() && elf.dynstrtab.get_at(sym.st_name) == Some("iconv_open"))
}

/// glibc's converter directories: a `gconv` directory of a library directory with
/// its `gconv-modules` configuration beside the modules.
fn gconv_dirs(index: &FileIndex) -> Vec<String> {
    index
        .nodes
        .iter()
        .filter(|(path, node)| {
            node.kind == EntryKind::Dir
                && pare_image::path::file_name(path) == "gconv"
                && ["gconv-modules", "gconv-modules.cache"]
                    .iter()
                    .any(|f| index.nodes.contains_key(&pare_image::path::join(path, f)))
        })
        .map(|(path, _)| path.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_systems_programs_and_libraries_are_not_the_apps_converters() {
        assert!(super::in_system_dir("/usr/bin/printf"));
        assert!(super::in_system_dir(
            "/usr/lib/x86_64-linux-gnu/libstdc++.so.6"
        ));
        assert!(!super::in_system_dir("/usr/lib/php/20220829/iconv.so"));
        assert!(!super::in_system_dir("/app/server"));
    }

    #[test]
    fn an_import_of_iconv_open_is_told_from_anything_else() {
        // This test binary's own bytes: Rust's std does not call iconv.
        let me = std::fs::read(std::env::current_exe().expect("exe")).expect("read");
        assert!(!super::imports_iconv(&me));
        assert!(!super::imports_iconv(b"#!/bin/sh\n"));
        // A program of this machine that converts character sets, if there is one.
        for candidate in ["/usr/bin/iconv", "/usr/bin/php8.2"] {
            if let Ok(bytes) = std::fs::read(candidate) {
                assert!(super::imports_iconv(&bytes), "{candidate}");
            }
        }
    }
}
