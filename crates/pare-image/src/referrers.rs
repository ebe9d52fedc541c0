//! Evidence beside an image in its registry: OCI 1.1 referrers.
//!
//! A referrer is an artifact manifest (an image manifest with an `artifactType`, the
//! empty config `application/vnd.oci.empty.v1+json` and one layer holding the
//! document) whose `subject` is the image's manifest. Registries list them two ways,
//! and the distribution spec 1.1 says which a client uses:
//!
//! - the referrers API, `GET /v2/<name>/referrers/<digest>`, an image index kept by
//!   the registry itself; a registry that has it says so when a manifest with a
//!   `subject` is pushed (the `OCI-Subject` header) and answers the API with 200;
//! - otherwise the fallback tag `<alg>-<hex>` (`sha256-…`), an image index the
//!   clients keep: read it (404: none yet), add the new descriptor, put it back.
//!
//! This is what `oras attach`, cosign and notation do, so what pare attaches is found
//! by them and by Trivy, and what they attach is found by pare. The documents are
//! small (an SBOM, a VEX document, a profile), so each is held whole in memory, up to
//! [`ARTIFACT_LIMIT`].

use std::collections::BTreeMap;

use serde_json::{Value, json};
use ureq::http;

use crate::digest::Digest;
use crate::error::{ImageError, Result};
use crate::push::{blob_call, exists, upload};
use crate::registry::client::{Call, MANIFEST_ACCEPT, MANIFEST_LIMIT, Payload};
use crate::registry::{Client, Registries, RegistryRef};

/// The empty descriptor's media type and content: an artifact has no config.
pub const EMPTY_MEDIA_TYPE: &str = "application/vnd.oci.empty.v1+json";
const EMPTY: &[u8] = b"{}";
const IMAGE_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const IMAGE_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// The annotation naming an artifact's file (as `oras attach` sets it).
pub const TITLE: &str = "org.opencontainers.image.title";
/// The largest artifact blob pare reads or copies: evidence documents, not layers.
pub const ARTIFACT_LIMIT: u64 = 64 << 20;

/// A document to attach.
#[derive(Clone, Debug)]
pub struct Artifact {
    /// `application/spdx+json`, `application/openvex+json`, …: what scanners look for.
    pub artifact_type: String,
    /// The layer's media type (usually the artifact type).
    pub media_type: String,
    /// A file name for it, as the title annotation.
    pub title: String,
    /// More annotations for the manifest and its descriptor (e.g.
    /// `in-toto.io/predicate-type`, by which Trivy picks an attestation unread).
    pub annotations: BTreeMap<String, String>,
    pub bytes: Vec<u8>,
}

/// A manifest as a descriptor: the subject of referrers, or one of them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Descriptor {
    pub media_type: String,
    pub digest: Digest,
    pub size: u64,
    pub artifact_type: Option<String>,
    pub annotations: BTreeMap<String, String>,
}

impl Descriptor {
    fn to_json(&self) -> Value {
        let mut d = json!({
            "mediaType": self.media_type,
            "digest": self.digest.to_string(),
            "size": self.size,
        });
        if let Some(t) = &self.artifact_type {
            d["artifactType"] = json!(t);
        }
        if !self.annotations.is_empty() {
            d["annotations"] = json!(self.annotations);
        }
        d
    }

    fn from_json(value: &Value, place: &str) -> Result<Self> {
        let bad =
            |what: &str| ImageError::manifest(place.to_owned(), format!("a descriptor {what}"));
        let digest = value
            .get("digest")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("without a digest"))
            .and_then(|d| Digest::parse(d).map_err(|e| bad(&format!("with a bad digest: {e}"))))?;
        Ok(Descriptor {
            media_type: value
                .get("mediaType")
                .and_then(Value::as_str)
                .unwrap_or(IMAGE_MANIFEST)
                .to_owned(),
            digest,
            size: value
                .get("size")
                .and_then(Value::as_u64)
                .ok_or_else(|| bad("without a size"))?,
            artifact_type: value
                .get("artifactType")
                .and_then(Value::as_str)
                .map(str::to_owned),
            annotations: value
                .get("annotations")
                .and_then(Value::as_object)
                .map(|a| {
                    a.iter()
                        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                        .collect()
                })
                .unwrap_or_default(),
        })
    }

    /// The title annotation, if any.
    pub fn title(&self) -> Option<&str> {
        self.annotations.get(TITLE).map(String::as_str)
    }
}

/// How a registry lists referrers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Listing {
    /// `GET /v2/<name>/referrers/<digest>`.
    ReferrersApi,
    /// The `sha256-<hex>` tag of an index clients keep.
    FallbackTag,
}

impl std::fmt::Display for Listing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Listing::ReferrersApi => "the referrers API",
            Listing::FallbackTag => "the fallback tag",
        })
    }
}

/// The fallback tag of `subject`: its digest with `-` for `:` (the spec's referrers
/// tag schema, truncated to a tag's 128 characters).
pub fn fallback_tag(subject: &Digest) -> String {
    subject
        .to_string()
        .replace(':', "-")
        .chars()
        .take(128)
        .collect()
}

/// The manifest `image` names (by tag or digest) as a descriptor: the subject to
/// attach to.
pub fn subject(registries: &Registries, image: &RegistryRef) -> Result<Descriptor> {
    let client = registries.client_for(image)?;
    let wanted = image.reference();
    let (bytes, media_type) =
        get_manifest(&client, &image.repository, &wanted)?.ok_or_else(|| ImageError::NotFound {
            name: format!("{}:{wanted}", image.repository),
            looked_in: format!(" in registry {}", image.registry),
        })?;
    Ok(Descriptor {
        media_type,
        digest: Digest::of(&bytes),
        size: bytes.len() as u64,
        artifact_type: None,
        annotations: BTreeMap::new(),
    })
}

/// Attaches each artifact to `subject` in `image`'s repository; returns the
/// referrers' descriptors and how the registry lists them.
pub fn attach(
    registries: &Registries,
    image: &RegistryRef,
    subject: &Descriptor,
    artifacts: &[Artifact],
) -> Result<(Vec<Descriptor>, Listing)> {
    let client = registries.client_for(image)?;
    let repository = image.repository.as_str();
    let mut attached = Vec::new();
    let mut api = false;
    for artifact in artifacts {
        put_blob(&client, repository, EMPTY, EMPTY_MEDIA_TYPE)?;
        let layer = put_blob(&client, repository, &artifact.bytes, &artifact.media_type)?;
        let mut annotations = artifact.annotations.clone();
        annotations.insert(TITLE.to_owned(), artifact.title.clone());
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": IMAGE_MANIFEST,
            "artifactType": artifact.artifact_type,
            "config": {"mediaType": EMPTY_MEDIA_TYPE, "digest": Digest::of(EMPTY).to_string(), "size": EMPTY.len(), "data": "e30="},
            "layers": [{
                "mediaType": artifact.media_type,
                "digest": layer.to_string(),
                "size": artifact.bytes.len(),
                "annotations": {TITLE: artifact.title},
            }],
            "subject": subject.to_json(),
            "annotations": annotations,
        });
        let bytes = serde_json::to_vec(&manifest)
            .map_err(|e| ImageError::manifest(format!("docker://{image}"), e.to_string()))?;
        let digest = Digest::of(&bytes);
        api |= put_manifest(
            &client,
            repository,
            &digest.to_string(),
            &bytes,
            IMAGE_MANIFEST,
        )?;
        attached.push(Descriptor {
            media_type: IMAGE_MANIFEST.into(),
            digest,
            size: bytes.len() as u64,
            artifact_type: Some(artifact.artifact_type.clone()),
            annotations,
        });
    }
    if api {
        return Ok((attached, Listing::ReferrersApi));
    }
    add_to_fallback(&client, repository, &subject.digest, &attached)?;
    Ok((attached, Listing::FallbackTag))
}

/// The referrers of `subject` in `image`'s repository: from the referrers API when
/// the registry answers it (200 with an index), else from the fallback tag (none
/// when the tag does not exist).
pub fn list(
    registries: &Registries,
    image: &RegistryRef,
    subject: &Digest,
) -> Result<(Vec<Descriptor>, Listing)> {
    let client = registries.client_for(image)?;
    let repository = image.repository.as_str();
    let mut call = Call::new(
        http::Method::GET,
        format!("/v2/{repository}/referrers/{subject}"),
        repository,
        format!("listing the referrers of {subject}"),
    );
    call.headers.push(("Accept", IMAGE_INDEX.into()));
    // Anything but 200 with an index (404, 401 or 405 for an endpoint the registry
    // does not know, a refused connection) means no API: the fallback tag says.
    let answer = client.send(&call).ok().filter(|response| {
        response.status().as_u16() == 200
            && response
                .headers()
                .get(http::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|t| t.starts_with(IMAGE_INDEX))
    });
    if let Some(response) = answer {
        let bytes = client.read_small(&call, response, MANIFEST_LIMIT)?;
        let place = format!(
            "docker://{}/{repository} referrers of {subject}",
            image.registry
        );
        return Ok((index_entries(&bytes, &place)?, Listing::ReferrersApi));
    }
    let tag = fallback_tag(subject);
    let entries = match get_manifest(&client, repository, &tag)? {
        Some((bytes, _)) => index_entries(
            &bytes,
            &format!("docker://{}/{repository}:{tag}", image.registry),
        )?,
        None => Vec::new(),
    };
    Ok((entries, Listing::FallbackTag))
}

/// An attached artifact fetched: its manifest and its layers' bytes, each checked
/// against its digest.
#[derive(Clone, Debug)]
pub struct Fetched {
    pub manifest: Vec<u8>,
    pub layers: Vec<(Descriptor, Vec<u8>)>,
}

/// Fetches the referrer `referrer` of `image`'s repository.
pub fn fetch(
    registries: &Registries,
    image: &RegistryRef,
    referrer: &Descriptor,
) -> Result<Fetched> {
    let client = registries.client_for(image)?;
    let repository = image.repository.as_str();
    let (manifest, parsed, place, _) = referrer_manifest(&client, image, referrer)?;
    let mut layers = Vec::new();
    for layer in parsed
        .get("layers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let descriptor = Descriptor::from_json(layer, &place)?;
        let bytes = get_blob(&client, repository, &descriptor)?;
        layers.push((descriptor, bytes));
    }
    Ok(Fetched { manifest, layers })
}

/// A referrer's manifest, checked against its digest: the bytes, parsed, where it is
/// (for messages) and its media type.
fn referrer_manifest(
    client: &Client,
    image: &RegistryRef,
    referrer: &Descriptor,
) -> Result<(Vec<u8>, Value, String, String)> {
    let repository = image.repository.as_str();
    let place = format!(
        "docker://{}/{repository}@{}",
        image.registry, referrer.digest
    );
    let (manifest, media_type) = get_manifest(client, repository, &referrer.digest.to_string())?
        .ok_or_else(|| ImageError::NotFound {
            name: format!("{repository}@{}", referrer.digest),
            looked_in: format!(" in registry {}", image.registry),
        })?;
    if Digest::of(&manifest) != referrer.digest {
        return Err(ImageError::DigestMismatch {
            place,
            expected: referrer.digest.to_string(),
            actual: Digest::of(&manifest).to_string(),
        });
    }
    let parsed: Value = serde_json::from_slice(&manifest)
        .map_err(|e| ImageError::manifest(place.clone(), e.to_string()))?;
    Ok((manifest, parsed, place, media_type))
}

/// Copies every referrer of `subject` from `source`'s repository to
/// `destination`'s (blobs, then the manifest by digest, then the destination's
/// listing); returns how many. Referrers of referrers (a signature on an SBOM) are
/// not followed. Both registries are reached through `registries`.
pub fn copy(
    registries: &Registries,
    source: &RegistryRef,
    destination: &RegistryRef,
    subject: &Digest,
) -> Result<usize> {
    let (referrers, _) = list(registries, source, subject)?;
    let from = registries.client_for(source)?;
    let to = registries.client_for(destination)?;
    let repository = destination.repository.as_str();
    let mut copied = Vec::new();
    let mut api = false;
    for referrer in &referrers {
        let (manifest, parsed, place, media_type) = referrer_manifest(&from, source, referrer)?;
        let blobs = parsed.get("config").into_iter().chain(
            parsed
                .get("layers")
                .and_then(Value::as_array)
                .into_iter()
                .flatten(),
        );
        for blob in blobs {
            let descriptor = Descriptor::from_json(blob, &place)?;
            if exists(&to, repository, &descriptor.digest)? {
                continue;
            }
            let bytes = get_blob(&from, &source.repository, &descriptor)?;
            put_blob(&to, repository, &bytes, &descriptor.media_type)?;
        }
        api |= put_manifest(
            &to,
            repository,
            &referrer.digest.to_string(),
            &manifest,
            &media_type,
        )?;
        copied.push(referrer.clone());
    }
    if !api && !copied.is_empty() {
        add_to_fallback(&to, repository, subject, &copied)?;
    }
    Ok(copied.len())
}

/// Adds `referrers` to the fallback tag's index of `subject` (read, modified, put
/// back; an entry of the same digest is replaced, others stay).
fn add_to_fallback(
    client: &Client,
    repository: &str,
    subject: &Digest,
    referrers: &[Descriptor],
) -> Result<()> {
    let tag = fallback_tag(subject);
    let place = format!("docker://{}/{repository}:{tag}", client.registry());
    let mut entries = match get_manifest(client, repository, &tag)? {
        Some((bytes, _)) => index_entries(&bytes, &place)?,
        None => Vec::new(),
    };
    entries.retain(|e| !referrers.iter().any(|r| r.digest == e.digest));
    entries.extend(referrers.iter().cloned());
    let index = json!({
        "schemaVersion": 2,
        "mediaType": IMAGE_INDEX,
        "manifests": entries.iter().map(Descriptor::to_json).collect::<Vec<_>>(),
    });
    let bytes =
        serde_json::to_vec(&index).map_err(|e| ImageError::json(place, "cannot be written", e))?;
    put_manifest(client, repository, &tag, &bytes, IMAGE_INDEX).map(|_| ())
}

/// The descriptors of an image index.
fn index_entries(bytes: &[u8], place: &str) -> Result<Vec<Descriptor>> {
    let index: Value = serde_json::from_slice(bytes)
        .map_err(|e| ImageError::json(place, "not an image index", e))?;
    index
        .get("manifests")
        .and_then(Value::as_array)
        .ok_or_else(|| ImageError::manifest(place.to_owned(), "an image index without manifests"))?
        .iter()
        .map(|m| Descriptor::from_json(m, place))
        .collect()
}

/// `GET` of a manifest by tag or digest: its bytes and media type, or `None` on 404.
fn get_manifest(
    client: &Client,
    repository: &str,
    reference: &str,
) -> Result<Option<(Vec<u8>, String)>> {
    let mut call = Call::new(
        http::Method::GET,
        format!("/v2/{repository}/manifests/{reference}"),
        repository,
        format!("fetching manifest {reference}"),
    );
    call.headers.push(("Accept", MANIFEST_ACCEPT.join(", ")));
    let response = client.send(&call)?;
    match response.status().as_u16() {
        200 => {}
        404 => return Ok(None),
        status => return Err(client.status_error(&call, status, response)),
    }
    let media_type = response
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or(v).trim().to_owned());
    let bytes = client.read_small(&call, response, MANIFEST_LIMIT)?;
    let media_type = serde_json::from_slice::<Value>(&bytes)
        .ok()
        .and_then(|v| {
            v.get("mediaType")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .or(media_type)
        .unwrap_or_else(|| IMAGE_MANIFEST.to_owned());
    Ok(Some((bytes, media_type)))
}

/// A blob read whole (up to [`ARTIFACT_LIMIT`]) and checked against its descriptor.
fn get_blob(client: &Client, repository: &str, descriptor: &Descriptor) -> Result<Vec<u8>> {
    let digest = &descriptor.digest;
    let place = format!("docker://{}/{repository}@{digest}", client.registry());
    if descriptor.size > ARTIFACT_LIMIT {
        return Err(ImageError::manifest(
            place,
            format!(
                "an artifact blob of {} bytes, more than the {ARTIFACT_LIMIT} pare reads",
                descriptor.size
            ),
        ));
    }
    let call = Call::new(
        http::Method::GET,
        format!("/v2/{repository}/blobs/{digest}"),
        repository,
        format!("fetching blob {digest}"),
    );
    let response = client.get_blob(repository, digest, 0, false)?;
    let status = response.status().as_u16();
    if status != 200 {
        return Err(client.status_error(&call, status, response));
    }
    let bytes = client.read_small(&call, response, ARTIFACT_LIMIT)?;
    if Digest::of(&bytes) != *digest {
        return Err(ImageError::DigestMismatch {
            place,
            expected: digest.to_string(),
            actual: Digest::of(&bytes).to_string(),
        });
    }
    Ok(bytes)
}

/// Uploads `bytes` unless the repository has them; returns their digest.
fn put_blob(client: &Client, repository: &str, bytes: &[u8], media_type: &str) -> Result<Digest> {
    let info = crate::parts::BlobInfo {
        digest: Digest::of(bytes),
        size: bytes.len() as u64,
        media_type: media_type.to_owned(),
    };
    if !exists(client, repository, &info.digest)? {
        let open = || -> Result<Box<dyn std::io::Read + Send + '_>> { Ok(Box::new(bytes)) };
        upload(client, repository, &info, &open)?;
    }
    Ok(info.digest)
}

/// Puts a manifest under `reference`; returns whether the registry answered with
/// `OCI-Subject`, i.e. keeps the referrers list itself (spec 1.1).
fn put_manifest(
    client: &Client,
    repository: &str,
    reference: &str,
    bytes: &[u8],
    media_type: &str,
) -> Result<bool> {
    let mut call = blob_call(
        http::Method::PUT,
        format!("/v2/{repository}/manifests/{reference}"),
        repository,
        format!("putting manifest {reference}"),
    );
    call.headers.push(("Content-Type", media_type.to_owned()));
    call.payload = Payload::Bytes(bytes);
    let response = client.send_expecting(&call, &[201])?;
    Ok(response.headers().contains_key("OCI-Subject"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fallback_tag_is_the_digest_with_a_dash() {
        let d = Digest::of(b"x");
        assert_eq!(fallback_tag(&d), format!("sha256-{}", d.hex()));
    }

    #[test]
    fn descriptors_round_trip_and_bad_ones_are_named() {
        let d = Descriptor {
            media_type: IMAGE_MANIFEST.into(),
            digest: Digest::of(b"x"),
            size: 1,
            artifact_type: Some("application/spdx+json".into()),
            annotations: [(TITLE.to_owned(), "sbom.spdx.json".to_owned())].into(),
        };
        assert_eq!(Descriptor::from_json(&d.to_json(), "here").unwrap(), d);
        let e = Descriptor::from_json(&json!({"digest": "sha256:zz", "size": 1}), "here/index")
            .unwrap_err()
            .to_string();
        assert!(e.contains("here/index"), "{e}");
    }
}
