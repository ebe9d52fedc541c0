//! Executables and shared libraries that no package owns.

use std::collections::{BTreeMap, HashSet};

use pare_image::EntryKind;

use crate::binary::is_library_name;
use crate::context::Context;
use crate::package::{UnownedFile, UnownedKind};
use crate::summary::Summary;

/// ELF objects (executables and shared libraries; scripts and package-manager
/// hooks are left out) that are not in `owned`, in path order.
pub(crate) fn find(
    cx: &Context,
    owned: &HashSet<&str>,
    binaries: &BTreeMap<String, Summary>,
) -> Vec<UnownedFile> {
    cx.index
        .nodes
        .iter()
        .filter(|(path, node)| {
            node.kind == EntryKind::File
                && binaries.get(path.as_str()).is_some_and(|s| s.elf)
                && !owned.contains(path.as_str())
        })
        .map(|(path, node)| UnownedFile {
            path: path.clone(),
            kind: if is_library_name(path) {
                UnownedKind::SharedLibrary
            } else {
                UnownedKind::Executable
            },
            size: node.size,
            problem: binaries.get(path).and_then(|s| s.problem.clone()),
        })
        .collect()
}
