//! Running every cataloger over one image index and putting the results together.

use std::collections::HashSet;

use pare_image::ImageRead;

use crate::context::Context;
use crate::package::{ImageInfo, Package, Sbom};
use crate::{apk, binary, distro, dpkg, java, license, npm, python, rpm, rust_audit, unowned};

/// Catalogs an image read with [`crate::read_options`] (or with a `keep_content` that
/// includes [`crate::wanted`]).
pub fn catalog(image: &ImageRead) -> Sbom {
    let mut cx = Context::new(&image.index);
    cx.distro = distro::read(&mut cx);
    let mut packages = Vec::new();
    packages.extend(dpkg::catalog(&mut cx));
    packages.extend(apk::catalog(&mut cx));
    packages.extend(rpm::catalog(&mut cx));
    let binaries = binary::summaries(&mut cx);
    for (path, summary) in &binaries {
        if let (true, Some(problem)) = (summary.elf, &summary.problem) {
            cx.warn(path, format!("not a readable ELF object: {problem}"));
        }
    }
    packages.extend(python::catalog(&mut cx));
    packages.extend(npm::catalog(&mut cx));
    packages.extend(crate::golang::catalog(&mut cx, &binaries));
    packages.extend(rust_audit::catalog(&mut cx, &binaries));
    packages.extend(java::catalog(&mut cx, &binaries));
    license::fill_deb_licenses(&cx, &mut packages);
    sort_packages(&mut packages);

    let owned: HashSet<&str> = packages.iter().flat_map(Package::file_paths).collect();
    let unowned = unowned::find(&cx, &owned, &binaries);
    let mut warnings = std::mem::take(&mut cx.warnings);
    warnings.sort_by(|a, b| (&a.path, &a.message).cmp(&(&b.path, &b.message)));
    warnings.dedup();
    let config = &image.resolved.config;
    Sbom {
        image: ImageInfo {
            reference: image.reference.to_string(),
            repo_tags: image.resolved.repo_tags.clone(),
            config_digest: image.resolved.config_digest.to_string(),
            manifest_digest: image
                .resolved
                .manifest_digest
                .as_ref()
                .map(ToString::to_string),
            os: config.os.clone(),
            architecture: config.architecture.clone(),
        },
        distro: cx.distro,
        packages,
        unowned,
        warnings,
    }
}

fn sort_packages(packages: &mut [Package]) {
    packages.sort_by(|a, b| {
        (a.ecosystem, &a.name, &a.version, &a.found_in).cmp(&(
            b.ecosystem,
            &b.name,
            &b.version,
            &b.found_in,
        ))
    });
}

#[cfg(test)]
pub(crate) mod testing {
    //! Building small indexes in code for the catalogers' unit tests.
    use pare_image::FileIndex;
    use pare_image::layer::{Expected, read_layer};
    use pare_image::testutil::{TarItem, tar_of};

    /// A file of the repository's tests/data/sbom (real package-manager files).
    pub fn evidence(rel: &str) -> Vec<u8> {
        let path = format!("{}/../../tests/data/sbom/{rel}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    /// The same, as text.
    pub fn evidence_text(rel: &str) -> String {
        String::from_utf8(evidence(rel)).expect("UTF-8 test data")
    }

    /// Name, version and purl of each package, in order: what most tests compare.
    pub fn identities(packages: &[crate::Package]) -> Vec<(&str, &str, &str)> {
        packages
            .iter()
            .map(|p| (p.name.as_str(), p.version.as_str(), p.purl.as_str()))
            .collect()
    }

    /// Runs one cataloger on an image of one layer made of `items`.
    pub fn run_cataloger(
        items: &[TarItem],
        cataloger: fn(&mut super::Context) -> Vec<crate::Package>,
    ) -> (Vec<crate::Package>, Vec<crate::Warning>) {
        let index = index_of(items);
        let mut cx = super::Context::new(&index);
        cx.distro = crate::distro::read(&mut cx);
        let packages = cataloger(&mut cx);
        (packages, cx.warnings)
    }

    /// An index of one layer made of `items`, read with pare-sbom's options.
    pub fn index_of(items: &[TarItem]) -> FileIndex {
        let layer = read_layer(
            &tar_of(items)[..],
            "test",
            &Expected::default(),
            &crate::read_options(),
        )
        .expect("test layer");
        FileIndex::build([layer])
    }
}
