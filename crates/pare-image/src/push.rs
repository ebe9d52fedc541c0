//! Pushing an image: every blob first (one the registry already has is skipped after
//! a `HEAD`; one in another repository of the same registry is mounted instead of
//! uploaded), the manifest last, so the tag appears only once everything it names is
//! there. A push that was cut off is simply run again: what arrived is skipped.

use std::cell::RefCell;
use std::io::Read;

use ureq::http;

use crate::digest::Digest;
use crate::error::{ImageError, Result};
use crate::parts::{BlobInfo, Parts};
use crate::registry::client::{Call, Client, Payload};
use crate::registry::{Registries, RegistryRef};

/// Blobs up to this size are read (and checked) whole and go in one `PUT`; larger
/// ones are streamed in `PATCH` chunks of this size, so neither memory nor any one
/// request grows with the layer.
const CHUNK: u64 = 32 << 20;
/// Attempts at one blob's upload (each starts the upload over).
const ATTEMPTS: u32 = 3;

/// What a push did.
#[derive(Clone, Debug, Default)]
pub struct Pushed {
    pub manifest_digest: Option<Digest>,
    pub uploaded: usize,
    pub present: usize,
    pub mounted: usize,
    pub bytes_uploaded: u64,
}

/// Pushes `parts` to `target` (its tag, or its digest when it names only one),
/// reached through `registries`.
pub fn push(registries: &Registries, target: &RegistryRef, parts: &Parts) -> Result<Pushed> {
    let client = registries.client_for(target)?;
    let repository = target.repository.as_str();
    let mount_from = parts
        .origin
        .as_ref()
        .filter(|o| o.registry == target.registry && o.repository != target.repository)
        .map(|o| o.repository.as_str());
    let mut pushed = Pushed::default();
    let blobs = parts
        .layers
        .iter()
        .enumerate()
        .map(|(i, info)| (Some(i), info))
        .chain([(None, &parts.config_info)]);
    for (layer, info) in blobs {
        if exists(&client, repository, &info.digest)? {
            pushed.present += 1;
            continue;
        }
        if let Some(from) = mount_from
            && mount(&client, repository, &info.digest, from)?
        {
            pushed.mounted += 1;
            continue;
        }
        let open = || -> Result<Box<dyn Read + Send + '_>> {
            match layer {
                Some(i) => parts.open_layer(i),
                None => Ok(Box::new(parts.config.as_slice())),
            }
        };
        upload(&client, repository, info, &open)?;
        pushed.uploaded += 1;
        pushed.bytes_uploaded += info.size;
    }
    pushed.manifest_digest = Some(put_manifest(&client, target, parts)?);
    Ok(pushed)
}

pub(crate) fn blob_call<'a>(
    method: http::Method,
    url: String,
    repository: &'a str,
    action: String,
) -> Call<'a> {
    let mut call = Call::new(method, url, repository, action);
    call.actions = "pull,push";
    call
}

/// `HEAD` of the blob: whether the repository has it.
pub(crate) fn exists(client: &Client, repository: &str, digest: &Digest) -> Result<bool> {
    let call = blob_call(
        http::Method::HEAD,
        format!("/v2/{repository}/blobs/{digest}"),
        repository,
        format!("checking for blob {digest}"),
    );
    let response = client.send(&call)?;
    match response.status().as_u16() {
        200 => Ok(true),
        404 => Ok(false),
        status => Err(client.status_error(&call, status, response)),
    }
}

/// Asks the registry to link the blob from repository `from`; `false` when it would
/// rather have it uploaded (it then opened an upload, which is left to expire).
fn mount(client: &Client, repository: &str, digest: &Digest, from: &str) -> Result<bool> {
    let mut call = blob_call(
        http::Method::POST,
        format!("/v2/{repository}/blobs/uploads/?mount={digest}&from={from}"),
        repository,
        format!("mounting blob {digest} from {from}"),
    );
    call.also_pull = Some(from);
    let response = client.send(&call)?;
    match response.status().as_u16() {
        201 => Ok(true),
        202 => Ok(false),
        status => Err(client.status_error(&call, status, response)),
    }
}

/// Uploads one blob, starting over (a new upload) when the connection breaks.
pub(crate) fn upload<'a>(
    client: &Client,
    repository: &str,
    info: &BlobInfo,
    open: &dyn Fn() -> Result<Box<dyn Read + Send + 'a>>,
) -> Result<()> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let result = upload_once(client, repository, info, open()?);
        match result {
            Err(e) if attempt < ATTEMPTS && retryable(&e) => {
                std::thread::sleep(std::time::Duration::from_millis(500 * u64::from(attempt)));
            }
            other => return other,
        }
    }
}

fn upload_once(
    client: &Client,
    repository: &str,
    info: &BlobInfo,
    mut source: Box<dyn Read + Send + '_>,
) -> Result<()> {
    let digest = &info.digest;
    let start = blob_call(
        http::Method::POST,
        format!("/v2/{repository}/blobs/uploads/"),
        repository,
        format!("starting the upload of blob {digest}"),
    );
    let response = client.send_expecting(&start, &[202])?;
    let mut location = location(client, &start, &response)?;
    let mut offset = 0;
    while info.size > CHUNK && offset < info.size {
        let len = CHUNK.min(info.size - offset);
        let mut chunk = (&mut source).take(len);
        let mut call = blob_call(
            http::Method::PATCH,
            location.clone(),
            repository,
            format!(
                "uploading blob {digest} (bytes {offset}-{})",
                offset + len - 1
            ),
        );
        call.headers
            .push(("Content-Type", "application/octet-stream".into()));
        call.headers
            .push(("Content-Range", format!("{offset}-{}", offset + len - 1)));
        call.payload = Payload::Stream {
            len,
            reader: RefCell::new(&mut chunk),
        };
        call.blob_body = true;
        let response = client.send_expecting(&call, &[202])?;
        location = self::location(client, &call, &response)?;
        offset += len;
    }
    // Reading on to the end lets the digest check see it: a blob whose bytes are
    // wrong fails here, before the registry is asked to keep it. A small blob is
    // read (and so checked) whole first, and sent in one PUT.
    let mut rest = Vec::new();
    source
        .read_to_end(&mut rest)
        .map_err(|e| crate::digest::unwrap_io_error(e, &format!("blob {digest}")))?;
    let separator = if location.contains('?') { '&' } else { '?' };
    let mut finish = blob_call(
        http::Method::PUT,
        format!("{location}{separator}digest={digest}"),
        repository,
        format!("uploading blob {digest}"),
    );
    if offset == 0 {
        finish
            .headers
            .push(("Content-Type", "application/octet-stream".into()));
        finish.payload = Payload::Bytes(&rest);
        finish.blob_body = true;
    }
    client.send_expecting(&finish, &[201]).map(|_| ())
}

/// The upload URL an answer gives for the next step.
fn location(client: &Client, call: &Call, response: &http::Response<ureq::Body>) -> Result<String> {
    response
        .headers()
        .get(http::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(|l| crate::registry::client::resolve_location(&client.url(&call.url), l))
        .ok_or_else(|| {
            ImageError::manifest(
                format!("{}/{}", client.registry(), call.repository),
                format!("{}: the registry gave no upload location", call.action),
            )
        })
}

/// Upload failures worth starting over: a connection that broke, a token that expired.
fn retryable(e: &ImageError) -> bool {
    match e {
        ImageError::Registry { source, .. } => crate::registry::client::transient(source),
        ImageError::Unauthorized { .. } => true,
        ImageError::RegistryStatus { status, .. } => matches!(status, 429 | 500 | 502 | 503 | 504),
        _ => false,
    }
}

/// Puts the manifest under the target's tag (or digest) and checks the digest the
/// registry reports for it.
fn put_manifest(client: &Client, target: &RegistryRef, parts: &Parts) -> Result<Digest> {
    let repository = target.repository.as_str();
    let reference = match (&target.tag, &target.digest) {
        (Some(tag), _) => tag.clone(),
        (None, Some(d)) if *d == parts.manifest_digest => d.to_string(),
        (None, Some(d)) => {
            return Err(ImageError::BadReference {
                reference: format!("docker://{target}"),
                reason: format!(
                    "the image's manifest is {}, not {d}: push it under a tag",
                    parts.manifest_digest
                ),
            });
        }
        (None, None) => "latest".into(),
    };
    let mut call = blob_call(
        http::Method::PUT,
        format!("/v2/{repository}/manifests/{reference}"),
        repository,
        format!("putting manifest {reference}"),
    );
    call.headers
        .push(("Content-Type", parts.manifest.media_type.clone()));
    call.payload = Payload::Bytes(&parts.manifest.bytes);
    let response = client.send_expecting(&call, &[201])?;
    let reported = response
        .headers()
        .get("Docker-Content-Digest")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| Digest::parse(v).ok());
    if let Some(reported) = reported.filter(|r| *r != parts.manifest_digest) {
        return Err(ImageError::DigestMismatch {
            place: format!("docker://{target} (the registry's digest of the manifest pushed)"),
            expected: parts.manifest_digest.to_string(),
            actual: reported.to_string(),
        });
    }
    Ok(parts.manifest_digest.clone())
}
