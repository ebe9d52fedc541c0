//! The app's own files the slim image leaves out: what a user most wants to know
//! after a build ("what did it remove?"), because a file of the app that no probe
//! made it load (a module `require`d lazily, a template) is the usual reason a slim
//! image fails where the original works.
//!
//! The app's files are those below its directories (the WORKDIR, and the directories
//! of the files its command line names, system directories aside) that no installed
//! package owns; a package found in the app's own directory (the project's
//! `package.json`) is the app itself and does not count as an owner.

use std::collections::{BTreeMap, BTreeSet};

use pare_image::EntryKind;
use pare_image::path::is_within;

use crate::keep_set::KeepSet;
use crate::read::Original;

/// Directories that hold the system's programs, never only the app's.
const SYSTEM_DIRS: [&str; 9] = [
    "/",
    "/bin",
    "/sbin",
    "/usr",
    "/usr/bin",
    "/usr/sbin",
    "/lib",
    "/usr/lib",
    "/etc",
];

use crate::keep_set::DEPENDENCY_DIRS;

/// Python virtual environments (a directory with `pyvenv.cfg`): installed
/// dependencies, however close to the entrypoint (`/opt/venv/bin/gunicorn`).
fn venvs(original: &Original) -> Vec<String> {
    original
        .first
        .index
        .nodes
        .keys()
        .filter_map(|p| p.strip_suffix("/pyvenv.cfg"))
        .map(str::to_owned)
        .collect()
}

/// The directories the app lives in.
pub fn app_dirs(original: &Original) -> Vec<String> {
    let index = &original.first.index;
    let venvs = venvs(original);
    let mut dirs: BTreeSet<String> = BTreeSet::new();
    if let Some(workdir) = original
        .run
        .working_dir
        .as_deref()
        .filter(|d| !d.is_empty())
    {
        dirs.insert(workdir.trim_end_matches('/').to_owned());
    }
    for word in &original.argv {
        if word.starts_with('/')
            && let Some((path, node)) = index.resolve(word)
            && node.kind != EntryKind::Dir
        {
            dirs.insert(pare_image::path::parent(&path).to_owned());
        }
    }
    dirs.into_iter()
        .filter(|d| !d.is_empty() && !SYSTEM_DIRS.contains(&d.as_str()))
        .filter(|d| !venvs.iter().any(|v| is_within(d, v)))
        .collect()
}

/// The app's own files (no directories) that the keep-set leaves out, sorted.
pub fn removed(original: &Original, keep: &KeepSet) -> Vec<String> {
    let dirs = app_dirs(original);
    if dirs.is_empty() {
        return Vec::new();
    }
    let venvs = venvs(original);
    let in_app = |path: &str| {
        dirs.iter().any(|d| is_within(path, d)) && !venvs.iter().any(|v| is_within(path, v))
    };
    // Files owned by a dependency: any package not found in the app's own directory.
    let owned: BTreeSet<&str> = original
        .sbom
        .packages
        .iter()
        .filter(|p| !in_app(&p.found_in) || DEPENDENCY_DIRS.iter().any(|d| p.found_in.contains(d)))
        .flat_map(|p| p.file_paths())
        .collect();
    original
        .first
        .index
        .nodes
        .iter()
        .filter(|(path, node)| {
            node.kind != EntryKind::Dir
                && in_app(path)
                && !DEPENDENCY_DIRS.iter().any(|d| path.contains(d))
                && !owned.contains(path.as_str())
                && !keep.paths.contains_key(*path)
        })
        .map(|(path, _)| path.clone())
        .collect()
}

/// A dependency the app declares that the slim image holds nothing of: the app lists
/// it because it uses it, so a route the probes did not reach may need it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct UnusedDependency {
    pub name: String,
    /// Where it is installed.
    pub path: String,
}

/// The dependencies the app declares of which the keep-set holds nothing: npm
/// `dependencies` of its own `package.json` (installed in its `node_modules`, or as
/// Debian packages them in node's global folders), and the Python packages its
/// `requirements*.txt` names (installed in a venv or the system's site-packages).
pub fn unused_dependencies(original: &Original, keep: &KeepSet) -> Vec<UnusedDependency> {
    let mut unused = npm_unused(original, keep);
    unused.extend(python_unused(original, keep));
    unused.sort_by(|a, b| a.name.cmp(&b.name));
    unused.dedup();
    unused
}

fn kept_below(keep: &KeepSet, dir: &str) -> bool {
    let prefix = format!("{dir}/");
    keep.paths
        .range(prefix.clone()..)
        .next()
        .is_some_and(|(p, _)| p.starts_with(&prefix))
}

fn npm_unused(original: &Original, keep: &KeepSet) -> Vec<UnusedDependency> {
    let index = &original.first.index;
    let mut unused = Vec::new();
    for dir in app_dirs(original) {
        let Some(manifest) = index
            .nodes
            .get(&format!("{dir}/package.json"))
            .and_then(|n| n.content.as_deref())
            .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(bytes).ok())
        else {
            continue;
        };
        let names = manifest["dependencies"]
            .as_object()
            .map(|deps| deps.keys().cloned().collect::<Vec<_>>())
            .unwrap_or_default();
        for name in names {
            let installed = std::iter::once(format!("{dir}/node_modules/{name}"))
                .chain(
                    crate::reach::node::GLOBAL_FOLDERS
                        .iter()
                        .map(|g| format!("{g}/{name}")),
                )
                .find(|p| {
                    index
                        .resolve(p)
                        .is_some_and(|(_, n)| n.kind == EntryKind::Dir)
                });
            if let Some(path) = installed
                && !kept_below(keep, &path)
            {
                unused.push(UnusedDependency { name, path });
            }
        }
    }
    unused
}

/// The distribution names a requirements file lists (options, URLs and includes
/// aside).
pub(crate) fn requirement_names(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty() && !l.starts_with('-') && !l.contains("://"))
        .filter_map(|l| {
            let end = l
                .find(|c: char| !(c.is_ascii_alphanumeric() || "-_.".contains(c)))
                .unwrap_or(l.len());
            (end > 0).then(|| pare_sbom::normalize_pypi_name(&l[..end]))
        })
        .collect()
}

fn python_unused(original: &Original, keep: &KeepSet) -> Vec<UnusedDependency> {
    let index = &original.first.index;
    let dirs = app_dirs(original);
    let copy_layers = crate::reach::copy_layers(&original.config.layer_history());
    let mut declared: BTreeSet<String> = BTreeSet::new();
    for (path, node) in &index.nodes {
        let name = pare_image::path::file_name(path);
        let ours = dirs.iter().any(|d| is_within(path, d)) || copy_layers.contains(&node.layer);
        if ours
            && name.starts_with("requirements")
            && name.ends_with(".txt")
            && let Some(bytes) = node.content.as_deref()
        {
            declared.extend(requirement_names(&String::from_utf8_lossy(bytes)));
        }
    }
    original
        .sbom
        .packages
        .iter()
        .filter(|p| {
            p.ecosystem == pare_sbom::Ecosystem::Python
                && declared.contains(&pare_sbom::normalize_pypi_name(&p.name))
        })
        .filter(|p| {
            !p.file_paths()
                .any(|f| keep.paths.contains_key(f) && !f.contains(".dist-info/"))
        })
        .filter_map(|p| {
            // Where its code is: the first directory below site-packages that is
            // not its metadata.
            let file = p
                .file_paths()
                .find(|f| !f.contains(".dist-info/") && !f.contains("/bin/"))?;
            let (root, rest) = file.split_once("-packages/")?;
            let top = rest.split('/').next()?;
            let path = if rest.contains('/') {
                format!("{root}-packages/{top}")
            } else {
                file.to_owned()
            };
            Some(UnusedDependency {
                name: p.name.clone(),
                path,
            })
        })
        .collect()
}

/// Removed files by directory, most first, for a summary: `(dir, count)`.
pub fn by_directory(removed: &[String]) -> Vec<(String, usize)> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for path in removed {
        *counts.entry(pare_image::path::parent(path)).or_default() += 1;
    }
    let mut dirs: Vec<(String, usize)> =
        counts.into_iter().map(|(d, n)| (d.to_owned(), n)).collect();
    dirs.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    dirs
}

#[cfg(test)]
mod tests {
    #[test]
    fn requirements_name_distributions_in_their_normal_form() {
        let text = "Flask==3.0.0\n# a comment\nPyYAML>=6 ; python_version > '3'\n\
                    -r other.txt\nzope.interface[extra]~=5\ngit+https://x/y\nrequests\n";
        assert_eq!(
            super::requirement_names(text),
            ["flask", "pyyaml", "zope-interface", "requests"]
        );
    }

    #[test]
    fn groups_by_directory_most_first() {
        let removed: Vec<String> = [
            "/app/lib/render.js",
            "/app/content/a.md",
            "/app/content/b.md",
        ]
        .map(str::to_owned)
        .into();
        assert_eq!(
            super::by_directory(&removed),
            [("/app/content".to_owned(), 2), ("/app/lib".to_owned(), 1)]
        );
    }
}
