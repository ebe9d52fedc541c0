//! One read of an image serves everything diff and compare need: the file index
//! (pare-image), the xray analysis, the SBOM, and, with an advisory database, the
//! vulnerabilities after the user's ignore files and VEX documents.

use pare_image::{ImageRead, ImageRef, ReadContext, ReadOptions};
use pare_sbom::Sbom;
use pare_vuln::db::Database;
use pare_vuln::matcher::Finding;
use pare_vuln::policy::Policy;
use pare_vuln::report::{Report, Settings};
use pare_xray::{XrayOptions, XrayReport};

use crate::error::{CompareError, Result};

/// What pare knows about one image after reading it once.
pub struct Inspected {
    pub image: ImageRead,
    pub xray: XrayReport,
    pub sbom: Sbom,
    /// Findings kept by the policy; `None` when no advisory database was given.
    pub vulnerabilities: Option<Vec<Finding>>,
    /// Metadata that could not be read, versions that could not be ordered, expired
    /// ignore rules, ecosystems the database has no records for: what `pare sbom`
    /// and `pare scan` would warn about.
    pub warnings: Vec<String>,
}

/// How images are inspected: with or without vulnerabilities.
#[derive(Default)]
pub struct Inspector<'a> {
    pub database: Option<&'a Database>,
    pub policy: Policy,
}

impl Inspector<'_> {
    /// The options an inspection reads with: the catalogers' files kept while the
    /// layers stream past. A caller may add a progress callback before passing them
    /// to [`Inspector::inspect`].
    pub fn read_options() -> ReadOptions {
        pare_sbom::read_options()
    }

    /// Reads `reference` once under `context`, with `options` (from
    /// [`Inspector::read_options`]), and analyses it.
    pub fn inspect(
        &self,
        context: &ReadContext,
        reference: &ImageRef,
        options: &ReadOptions,
    ) -> Result<Inspected> {
        let image = pare_image::read_image(context, reference, options)
            .and_then(|image| pare_sbom::follow_links(context, image, options))
            .map_err(|source| CompareError::Read {
                reference: reference.to_string(),
                source,
            })?;
        // Without --find patterns there is no pattern to be wrong.
        let xray = pare_xray::analyse(&image, &XrayOptions::default()).unwrap_or_else(|e| {
            unreachable!("xray without patterns cannot fail: {e}");
        });
        let sbom = pare_sbom::catalog(&image);
        let mut warnings: Vec<String> = sbom
            .warnings
            .iter()
            .map(|w| format!("{}: {}", w.path, w.message))
            .collect();
        let vulnerabilities = match self.database {
            None => None,
            Some(db) => {
                let settings = Settings {
                    policy: self.policy.clone(),
                    now: std::time::SystemTime::now(),
                };
                let report = Report::generate(db, &sbom, &settings).map_err(|source| {
                    CompareError::Match {
                        reference: reference.to_string(),
                        source: Box::new(source),
                    }
                })?;
                warnings.extend(report.warnings);
                Some(report.findings)
            }
        };
        Ok(Inspected {
            image,
            xray,
            sbom,
            vulnerabilities,
            warnings,
        })
    }
}

impl Inspected {
    /// What to call the image: its first tag, else the reference as given. An OCI
    /// layout's `ref.name` is a bare tag (`latest`) that does not tell two layouts
    /// apart, so such an image goes by its reference.
    pub fn name(&self) -> &str {
        let info = &self.sbom.image;
        match info.repo_tags.first() {
            Some(tag) if tag.contains(':') => tag,
            _ => &info.reference,
        }
    }
}
