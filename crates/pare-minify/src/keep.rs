//! Phase `assemble`, first half: which files the slim image holds. The traced paths
//! are closed over what loading them needs (re-reading the layers for the bytes of
//! kept executables until nothing new is needed), the packages are sorted into kept
//! and removed, and the kept packages' metadata is cut down to them.

use std::collections::BTreeSet;

use pare_image::FileIndex;

use crate::error::BuildError;
use crate::keep_set::{KeepRules, KeepSet, Reason, Trace};
use crate::options::BuildOptions;
use crate::packages::Packages;
use crate::read::Original;

/// How many times the layers may be re-read for the library closure.
const SETTLE_ROUNDS: usize = 6;

/// What the slim image will hold: the index with the bytes of every kept file, the
/// keep-set, and the fate of each package.
pub struct KeepPlan {
    pub index: FileIndex,
    pub keep: KeepSet,
    pub packages: Packages,
    /// The app's own files left out (see [`crate::app_files`]).
    pub app_files_removed: Vec<String>,
    /// Dependencies the app declares of which nothing is kept.
    pub unused_dependencies: Vec<crate::app_files::UnusedDependency>,
    /// How far the probes reached and what was kept beyond them.
    pub reach: crate::reach::Figures,
}

/// Computes the keep-set for what the sensor saw.
pub fn plan(
    original: &Original,
    trace: &Trace,
    options: &BuildOptions,
) -> Result<KeepPlan, BuildError> {
    let mut rules = rules_for(original, options);
    let first = &original.first.index;
    let traced = KeepSet::compute(first, trace, &rules);
    let kept: BTreeSet<String> = traced.paths.keys().cloned().collect();
    let layout = crate::reach::AppLayout {
        looked_up: trace.accessed.clone(),
        ..layout(original)
    };
    if options.keep == crate::reach::KeepMode::Reachable {
        rules.reached = crate::reach::reachable(first, &layout, &kept);
    }
    let (mut index, mut keep) = settle(original, trace, &rules)?;
    // What the loaded machine code calls shows once its bytes are read; what was
    // only kept unseen (a plugin directory's other members) calls nothing yet.
    if options.keep == crate::reach::KeepMode::Reachable {
        let loaded: Vec<&String> = keep
            .paths
            .iter()
            .filter(|(_, r)| !r.unseen())
            .map(|(p, _)| p)
            .collect();
        let mut more = crate::reach::converters::reachable(&index, loaded.iter().copied());
        more.extend(crate::reach::go::reachable(
            &index,
            loaded.iter().copied(),
            layout.tz_env,
        ));
        // What another rule or the trace kept already needs no second settling.
        more.retain(|p, _| !keep.paths.contains_key(p) && !rules.reached.contains_key(p));
        if !more.is_empty() {
            rules.reached.extend(more);
            (index, keep) = settle(original, trace, &rules)?;
        }
    }
    let reach = crate::reach::Figures::of(first, &layout, &kept, &rules.reached, options.keep);
    let packages = crate::packages::sort_out(&original.sbom, &keep);
    // The kept packages' metadata goes along (a cut-down dpkg status among it), so
    // the slim image's SBOM and scanners see what it really holds.
    for (path, content) in
        crate::packages::metadata_to_keep(&original.sbom, &packages, &original.first.index)
    {
        if let Some(node) = index.nodes.get_mut(&path) {
            node.size = content.len() as u64;
            node.content = Some(content);
            keep.add(&index, &path, Reason::PackageMetadata);
        }
    }
    keep.exclude(&rules.exclude);
    let app_files_removed = crate::app_files::removed(original, &keep);
    let unused_dependencies = crate::app_files::unused_dependencies(original, &keep);
    Ok(KeepPlan {
        index,
        keep,
        packages,
        app_files_removed,
        unused_dependencies,
        reach,
    })
}

/// The user's rules plus what the image says: its PATH and LD_LIBRARY_PATH, its
/// entrypoint program and working directory (kept whatever the trace says).
fn rules_for(original: &Original, options: &BuildOptions) -> KeepRules {
    let mut rules = options.rules.clone();
    let path_dirs = original.env_list("PATH");
    rules.path_dirs = if path_dirs.is_empty() {
        DEFAULT_PATH.iter().map(|d| (*d).to_owned()).collect()
    } else {
        path_dirs
    };
    rules.ld_library_path = original.env_list("LD_LIBRARY_PATH");
    if let Some(program) = original.argv.first()
        && let Some(found) =
            crate::keep_set::find_on_path(&original.first.index, program, &rules.path_dirs)
    {
        rules.always.push(found);
    }
    if let Some(dir) = original.run.working_dir.clone().filter(|d| !d.is_empty()) {
        rules.always.push(dir);
    }
    rules
}

/// Where the app is, as the image tells it, for [`crate::reach`].
fn layout(original: &Original) -> crate::reach::AppLayout {
    crate::reach::AppLayout {
        copy_layers: crate::reach::copy_layers(&original.config.layer_history()),
        system_files: original
            .sbom
            .packages
            .iter()
            .filter(|p| {
                use pare_sbom::Ecosystem::{Apk, Deb, Rpm};
                matches!(p.ecosystem, Deb | Apk | Rpm)
            })
            .flat_map(|p| p.file_paths().map(str::to_owned))
            .collect(),
        app_files: crate::app_files::removed(original, &KeepSet::default()),
        app_dirs: crate::app_files::app_dirs(original),
        python_path: original.env_list("PYTHONPATH"),
        node_path: original.env_list("NODE_PATH"),
        ruby_lib: original.env_list("RUBYLIB"),
        perl_lib: [original.env_list("PERL5LIB"), original.env_list("PERLLIB")].concat(),
        tz_env: !original.env_list("TZ").is_empty(),
        looked_up: BTreeSet::new(),
    }
}

/// Docker's PATH for an image that sets none.
const DEFAULT_PATH: [&str; 6] = [
    "/usr/local/sbin",
    "/usr/local/bin",
    "/usr/sbin",
    "/usr/bin",
    "/sbin",
    "/bin",
];

/// Loads the bytes the keep-set needs and recomputes it until nothing new is needed
/// (each round may find libraries the previous one's files need).
fn settle(
    original: &Original,
    trace: &Trace,
    rules: &KeepRules,
) -> Result<(FileIndex, KeepSet), BuildError> {
    let first = &original.first.index;
    let mut keep = KeepSet::compute(first, trace, rules);
    let mut wanted: BTreeSet<String> = keep.paths.keys().cloned().collect();
    wanted.extend(keep.needs_content.iter().cloned());
    wanted.extend(
        first
            .descendants("/etc/ld.so.conf.d")
            .map(|(p, _)| p.clone()),
    );
    for _round in 0..SETTLE_ROUNDS {
        let index = original.opened.with_contents(first, &wanted)?;
        keep = KeepSet::compute(&index, trace, rules);
        let missing: Vec<String> = keep
            .paths
            .keys()
            .chain(&keep.needs_content)
            .filter(|p| !wanted.contains(*p))
            .cloned()
            .collect();
        if missing.is_empty() {
            return Ok((index, keep));
        }
        wanted.extend(missing);
    }
    Err(BuildError::KeepSetUnsettled {
        rounds: SETTLE_ROUNDS,
    })
}
