//! The evidence a build leaves beside the slim image in its registry, and finding it
//! again: `pare build --output docker://…` attaches the slim image's SBOM (SPDX and
//! CycloneDX), the OpenVEX document (scoped to the pushed digest), the seccomp profile,
//! the build report and an in-toto SLSA provenance statement as OCI referrers
//! ([`pare_image::referrers`]); `scan`, `sbom --attached`, `xray` and `copy
//! --all-referrers` read them back. Pushed images lose nothing the build proved.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::Context;
use pare_image::referrers::{self, Artifact, Descriptor, Listing};
use pare_image::registry::RegistryRef;
use pare_image::{ImageRef, ReadContext};
use pare_minify::report::BuildReport;
use serde_json::{Value, json};

use crate::globals::Globals;

pub const SPDX: &str = "application/spdx+json";
pub const CYCLONEDX: &str = "application/vnd.cyclonedx+json";
pub const OPENVEX: &str = "application/openvex+json";
pub const IN_TOTO: &str = "application/vnd.in-toto+json";
/// No registered type exists for these two: pare's own, vendor tree.
pub const SECCOMP: &str = "application/vnd.pare.seccomp-profile.v1+json";
pub const BUILD_REPORT: &str = "application/vnd.pare.build-report.v2+json";
/// The SLSA provenance predicate and the in-toto statement it goes in.
const SLSA_PROVENANCE: &str = "https://slsa.dev/provenance/v1";
const IN_TOTO_STATEMENT: &str = "https://in-toto.io/Statement/v1";
/// What `buildType` names: how a pare build is described (the probes and options in
/// `external_parameters`). URNs: pare has no web address to name them by.
const BUILD_TYPE: &str = "urn:pare:build-type:build:v1";
const BUILDER_ID: &str = "urn:pare:builder:pare";

/// Attaches the build's evidence to every registry the slim image was pushed to.
/// `options` are the build's options as the provenance records them
/// (`BuildArgs::provenance_options`): taken as a value, so this module needs nothing
/// of `pare build`'s and `build` can call it without a cycle.
pub fn attach_build_evidence(
    globals: &Globals,
    options: &Value,
    report: &BuildReport,
    report_path: &Path,
) -> anyhow::Result<()> {
    for output in &report.outputs {
        let Ok(ImageRef::Registry { reference }) = ImageRef::parse(output) else {
            continue;
        };
        let registries = globals.read.registries();
        let subject = referrers::subject(registries, &reference)
            .with_context(|| format!("finding the pushed image {output}"))?;
        let artifacts =
            build_artifacts(globals, options, report, report_path, &reference, &subject)?;
        let (attached, listing) =
            referrers::attach(registries, &reference, &subject, &artifacts)
                .with_context(|| format!("attaching the build's evidence to {output}"))?;
        let place = match listing {
            Listing::ReferrersApi => "listed by the registry's referrers API".to_owned(),
            Listing::FallbackTag => format!(
                "listed under the fallback tag {} (the registry has no referrers API)",
                referrers::fallback_tag(&subject.digest)
            ),
        };
        say!(
            "Attached     {} to docker://{}/{}@{}, {place}: {}",
            attached.len(),
            reference.registry,
            reference.repository,
            subject.digest,
            artifacts
                .iter()
                .map(|a| a.title.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(())
}

/// The documents to attach to the slim image `pushed` (manifest `subject`).
fn build_artifacts(
    globals: &Globals,
    options: &Value,
    report: &BuildReport,
    report_path: &Path,
    pushed: &RegistryRef,
    subject: &Descriptor,
) -> anyhow::Result<Vec<Artifact>> {
    let by_digest = format!(
        "docker://{}/{}@{}",
        pushed.registry, pushed.repository, subject.digest
    );
    let sbom = crate::read::read_sbom(globals, &by_digest)?;
    let now = pare_sbom::now_rfc3339();
    let json = |v: &Value| serde_json::to_vec_pretty(v).unwrap_or_default();
    let artifact = |artifact_type: &str, title: &str, bytes: Vec<u8>| Artifact {
        artifact_type: artifact_type.into(),
        media_type: artifact_type.into(),
        title: title.into(),
        annotations: Default::default(),
        bytes,
    };
    let mut artifacts = vec![
        artifact(
            SPDX,
            "sbom.spdx.json",
            json(&pare_sbom::spdx::document(&sbom, &now)),
        ),
        artifact(
            CYCLONEDX,
            "sbom.cdx.json",
            json(&pare_sbom::cyclonedx::document(&sbom, &now)),
        ),
    ];
    if let Some(path) = &report.vex {
        let text = std::fs::read(path).with_context(|| format!("reading {path}"))?;
        let mut document: Value =
            serde_json::from_slice(&text).with_context(|| format!("reading {path}"))?;
        scope_vex_to_image(&mut document, &oci_purl(pushed, &subject.digest));
        artifacts.push(artifact(OPENVEX, "vex.openvex.json", json(&document)));
    }
    if let Some(path) = &report.seccomp_profile {
        let bytes = std::fs::read(path).with_context(|| format!("reading {path}"))?;
        artifacts.push(artifact(SECCOMP, "seccomp.json", bytes));
    }
    let bytes =
        std::fs::read(report_path).with_context(|| format!("reading {}", report_path.display()))?;
    artifacts.push(artifact(BUILD_REPORT, "report.json", bytes));
    let statement = provenance(&globals.read, options, report, pushed, subject, &now)?;
    let mut provenance = artifact(IN_TOTO, "provenance.intoto.json", json(&statement));
    // Attestation readers (Trivy) pick one by its predicate type without reading it.
    provenance
        .annotations
        .insert("in-toto.io/predicate-type".into(), SLSA_PROVENANCE.into());
    artifacts.push(provenance);
    Ok(artifacts)
}

/// The package URL of an image by digest, as the purl spec's `oci` type writes it:
/// the repository's last segment as the name, the digest as the version, where it is
/// as `repository_url`.
pub fn oci_purl(image: &RegistryRef, digest: &pare_image::Digest) -> String {
    let name = image
        .repository
        .rsplit('/')
        .next()
        .unwrap_or(&image.repository)
        .to_lowercase();
    format!(
        "pkg:oci/{name}@{}?repository_url={}/{}",
        digest.to_string().replace(':', "%3A"),
        image.registry,
        image.repository
    )
}

/// Adds the image as a product of every statement, its packages as subcomponents
/// (the shape Trivy and Grype match an image's VEX by); the package products stay.
fn scope_vex_to_image(document: &mut Value, image_purl: &str) {
    let Some(statements) = document.get_mut("statements").and_then(Value::as_array_mut) else {
        return;
    };
    for statement in statements {
        let Some(products) = statement.get_mut("products").and_then(Value::as_array_mut) else {
            continue;
        };
        let subcomponents: Vec<Value> = products
            .iter()
            .filter_map(|p| p.get("@id").cloned())
            .map(|id| json!({"@id": id}))
            .collect();
        products.push(json!({"@id": image_purl, "subcomponents": subcomponents}));
    }
}

/// An in-toto statement with a SLSA provenance v1 predicate: the slim image as the
/// subject, the original by digest as the resolved dependency, the probes and options
/// that decided what was kept as external parameters, pare and its version as builder.
fn provenance(
    context: &ReadContext,
    options: &Value,
    report: &BuildReport,
    pushed: &RegistryRef,
    subject: &Descriptor,
    finished: &str,
) -> anyhow::Result<Value> {
    let original = original_digest(context, &report.source)?;
    let mut dependency = json!({"uri": report.source});
    if let Some((digest, of)) = &original {
        dependency["digest"] = json!({"sha256": digest.hex()});
        dependency["annotations"] = json!({"digestOf": of});
    }
    let probes: Vec<&str> = report.probes.iter().map(|p| p.probe.as_str()).collect();
    Ok(json!({
        "_type": IN_TOTO_STATEMENT,
        "subject": [{
            "name": format!("{}/{}", pushed.registry, pushed.repository),
            "digest": {"sha256": subject.digest.hex()},
        }],
        "predicateType": SLSA_PROVENANCE,
        "predicate": {
            "buildDefinition": {
                "buildType": BUILD_TYPE,
                "externalParameters": {
                    "image": report.source,
                    "probes": probes,
                    "options": options,
                },
                "internalParameters": {
                    "runtime": report.runtime,
                    "seccompMode": report.seccomp_mode,
                },
                "resolvedDependencies": [dependency],
            },
            "runDetails": {
                "builder": {
                    "id": BUILDER_ID,
                    "version": {"pare": env!("CARGO_PKG_VERSION")},
                },
                "metadata": {"finishedOn": finished},
            },
        },
    }))
}

/// The original image's digest: its manifest's when it has one (a registry, an OCI
/// layout), else its config's (the engine's image id); and which it is.
fn original_digest(
    context: &ReadContext,
    source: &str,
) -> anyhow::Result<Option<(pare_image::Digest, &'static str)>> {
    let reference = ImageRef::parse(source)?;
    let image = pare_image::open_image(context, &reference, None)
        .with_context(|| format!("reading {source} for its digest"))?;
    Ok(Some(match image.resolved.manifest_digest.clone() {
        Some(d) => (d, "manifest"),
        None => (image.resolved.config_digest.clone(), "config"),
    }))
}

/// What is attached to a `docker://` image: its manifest digest and the referrers,
/// or `None` for any other transport.
pub fn attached(context: &ReadContext, reference: &ImageRef) -> anyhow::Result<Option<Attached>> {
    let ImageRef::Registry { reference } = reference else {
        return Ok(None);
    };
    let registries = context.registries();
    let subject = referrers::subject(registries, reference)
        .with_context(|| format!("reading docker://{reference}"))?;
    let (referrers, listing) = referrers::list(registries, reference, &subject.digest)
        .with_context(|| format!("listing what is attached to docker://{reference}"))?;
    Ok(Some(Attached {
        context: context.clone(),
        image: reference.clone(),
        subject: subject.digest,
        referrers,
        listing,
    }))
}

/// [`attached`] for verbs that read an image anyway (`scan`, `xray`): a registry that
/// cannot list referrers is a warning, not a failure of the verb.
pub fn attached_or_warn(context: &ReadContext, reference: &ImageRef) -> Option<Attached> {
    match attached(context, reference) {
        Ok(found) => found,
        Err(e) => {
            say!("pare: warning: {e:#}; what is attached to the image was not read");
            None
        }
    }
}

/// The referrers of one image, and how its registry is reached (to fetch them).
pub struct Attached {
    context: ReadContext,
    pub image: RegistryRef,
    pub subject: pare_image::Digest,
    pub referrers: Vec<Descriptor>,
    pub listing: Listing,
}

impl Attached {
    /// The first layer of each referrer of `artifact_type`.
    pub fn documents(&self, artifact_type: &str) -> anyhow::Result<Vec<(Descriptor, Vec<u8>)>> {
        let mut documents = Vec::new();
        for referrer in self
            .referrers
            .iter()
            .filter(|r| r.artifact_type.as_deref() == Some(artifact_type))
        {
            let fetched = referrers::fetch(self.context.registries(), &self.image, referrer)
                .with_context(|| {
                    format!(
                        "fetching {} attached to docker://{}",
                        referrer.digest, self.image
                    )
                })?;
            if let Some(layer) = fetched.layers.into_iter().next() {
                documents.push((referrer.clone(), layer.1));
            }
        }
        Ok(documents)
    }

    /// Where a referrer is, by digest.
    pub fn place(&self, referrer: &Descriptor) -> String {
        format!(
            "docker://{}/{}@{}",
            self.image.registry, self.image.repository, referrer.digest
        )
    }

    /// The referrers as JSON for `xray --json`.
    pub fn to_json(&self) -> Value {
        json!({
            "subject": self.subject.to_string(),
            "listing": self.listing,
            "referrers": self.referrers.iter().map(|r| json!({
                "digest": r.digest.to_string(),
                "artifactType": r.artifact_type,
                "title": r.title(),
                "size": r.size,
            })).collect::<Vec<_>>(),
        })
    }

    /// The `Attached` lines of `pare xray`: one a referrer, its type, title and size.
    pub fn lines(&self) -> String {
        use crate::render::escape;
        let mut out = format!(
            "Attached     {} referrer(s) of {}, from {}\n",
            self.referrers.len(),
            self.subject,
            self.listing
        );
        for r in &self.referrers {
            out.push_str(&format!(
                "  {:<44} {:<28} {} ({} B manifest)\n",
                escape(r.artifact_type.as_deref().unwrap_or("(no artifactType)")),
                escape(r.title().unwrap_or("")),
                r.digest,
                r.size
            ));
        }
        out
    }
}

/// `pare diff`'s comparison of what is attached to two `docker://` images, by artifact
/// type: types only one side has, and for types both have, whether their documents
/// (the first layer of each, by digest) are the same. `None` when neither side has
/// referrers.
pub fn compare(
    before: Option<&Attached>,
    after: Option<&Attached>,
) -> anyhow::Result<Option<AttachedDiff>> {
    let documents =
        |side: Option<&Attached>| -> anyhow::Result<BTreeMap<String, BTreeSet<String>>> {
            let mut by_type: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
            for found in side.into_iter() {
                for referrer in &found.referrers {
                    let fetched =
                        referrers::fetch(found.context.registries(), &found.image, referrer)
                            .with_context(|| format!("fetching {}", found.place(referrer)))?;
                    let kind = referrer.artifact_type.clone().unwrap_or_default();
                    let entry = by_type.entry(kind).or_default();
                    for (layer, _) in &fetched.layers {
                        entry.insert(layer.digest.to_string());
                    }
                }
            }
            Ok(by_type)
        };
    let (a, b) = (documents(before)?, documents(after)?);
    if a.is_empty() && b.is_empty() {
        return Ok(None);
    }
    let mut diff = AttachedDiff {
        before: before.map_or(0, |f| f.referrers.len()),
        after: after.map_or(0, |f| f.referrers.len()),
        ..Default::default()
    };
    for kind in a.keys().chain(b.keys()).collect::<BTreeSet<_>>() {
        match (a.get(kind), b.get(kind)) {
            (Some(_), None) => diff.removed.push(kind.clone()),
            (None, Some(_)) => diff.added.push(kind.clone()),
            (Some(x), Some(y)) if x == y => diff.same.push(kind.clone()),
            _ => diff.changed.push(kind.clone()),
        }
    }
    Ok(Some(diff))
}

/// What [`compare`] found.
#[derive(Debug, Default, serde::Serialize)]
pub struct AttachedDiff {
    /// Referrers of each image.
    pub before: usize,
    pub after: usize,
    /// Artifact types only the image after has, only the image before has, both have
    /// with different documents, both have with the same.
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub changed: Vec<String>,
    pub same: Vec<String>,
}

impl AttachedDiff {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }

    /// The table's lines.
    pub fn lines(&self) -> String {
        use crate::render::escape;
        let mut out = format!(
            "Attached     {} -> {} referrer(s)\n",
            self.before, self.after
        );
        for (sign, kinds) in [
            ("+", &self.added),
            ("-", &self.removed),
            ("~", &self.changed),
            ("=", &self.same),
        ] {
            for kind in kinds {
                out.push_str(&format!("  {sign} {}\n", escape(kind)));
            }
        }
        out
    }
}
