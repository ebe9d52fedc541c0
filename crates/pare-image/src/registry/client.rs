//! One registry, connected: the scheme chosen (HTTPS; plain HTTP only for a loopback
//! registry or with `--tls-verify=false`), credentials found, tokens fetched per scope
//! and reused, transient failures retried, redirects followed as registries use them
//! (blob downloads handed to storage elsewhere), and every answer's size bounded
//! before it is read, because a registry can send anything.
//!
//! Authentication is per host, as containerd does it: each challenge is kept under the
//! host that sent it, and answered with that host's own login (the user's for the
//! registry, Docker's config for any other host) or anonymously. A host a blob is
//! redirected to can name any token realm it likes; the registry's credentials and
//! refresh token never go there.

use std::collections::HashMap;
use std::io::{self, Read};
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use ureq::http::{self, Response};
use ureq::{Body, SendBody};

use super::auth::{self, Challenge, Credentials};
use super::name::{RegistryRef, is_loopback_host};
use super::pace::PacedUpload;
use super::{Access, Timeouts};
use crate::digest::Digest;
use crate::error::{ImageError, Result};

/// Manifests and indexes larger than this are refused: containers/image and the
/// distribution registry itself stop at 4 MiB.
pub const MANIFEST_LIMIT: u64 = 4 << 20;
/// Token answers and error bodies are small.
const SMALL_ANSWER_LIMIT: u64 = 1 << 20;
/// Attempts for a request that failed in a way worth retrying.
const ATTEMPTS: u32 = 4;
/// Redirects followed for one blob (storage backends use one, CDNs two).
const MAX_REDIRECTS: usize = 5;

/// The media types pare reads, in the order it prefers them.
pub const MANIFEST_ACCEPT: &[&str] = &[
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
];

/// A connected registry.
pub struct Client {
    /// As the user wrote it, for messages and for matching logins.
    registry: String,
    /// `https://HOST[:PORT]` or `http://…`.
    base: String,
    agent: ureq::Agent,
    /// The login for the registry's own host.
    credentials: Option<Credentials>,
    /// Challenges by the host (`host[:port]`) that sent them.
    challenges: Mutex<HashMap<String, Challenge>>,
    /// Logins for other hosts (where blobs are redirected), from Docker's config only,
    /// looked up once each.
    other_logins: Mutex<HashMap<String, Option<Credentials>>>,
    /// Bearer tokens by host and by the scopes they were granted for.
    tokens: Mutex<HashMap<(String, String), String>>,
    timeouts: Timeouts,
}

/// What a request sends.
pub(crate) enum Payload<'a> {
    None,
    Bytes(&'a [u8]),
    /// `len` bytes streamed from a reader, once: a call carrying one is not retried
    /// here (the bytes are gone); the caller starts the upload over.
    Stream {
        len: u64,
        reader: std::cell::RefCell<&'a mut dyn Read>,
    },
}

/// One request to the registry.
pub(crate) struct Call<'a> {
    pub method: http::Method,
    /// A path below the registry (`/v2/…`) or a full URL the registry gave.
    pub url: String,
    pub repository: &'a str,
    /// What the token must allow: `pull`, or `pull,push`.
    pub actions: &'static str,
    /// Other repositories the token must be able to read (a cross-repository mount).
    pub also_pull: Option<&'a str>,
    pub headers: Vec<(&'static str, String)>,
    pub payload: Payload<'a>,
    /// What is being done, for messages: `fetching manifest 1`.
    pub action: String,
    /// A blob's body goes with this call (the answer's, or the upload's): it is held to
    /// the minimum rate rather than to the deadline, which only bounds the rest.
    pub blob_body: bool,
}

impl<'a> Call<'a> {
    pub fn new(method: http::Method, url: String, repository: &'a str, action: String) -> Self {
        Call {
            method,
            url,
            repository,
            actions: "pull",
            also_pull: None,
            headers: Vec::new(),
            payload: Payload::None,
            action,
            blob_body: false,
        }
    }
}

impl Client {
    /// Connects to `reference`'s registry: finds the login, picks HTTPS or (only where
    /// allowed) plain HTTP by asking `/v2/`, and learns how the registry wants to be
    /// authenticated. Every request keeps to `timeouts`.
    pub fn connect(reference: &RegistryRef, access: &Access, timeouts: Timeouts) -> Result<Self> {
        let credentials = match &access.credentials {
            Some(c) => Some(c.clone()),
            None => auth::stored_credentials(&reference.registry)?,
        };
        let host = reference.api_host();
        let insecure = access.tls_verify == Some(false);
        let agent = agent(host, access, insecure, &timeouts)?;
        let mut client = Client {
            registry: reference.registry.clone(),
            base: format!("https://{host}"),
            agent,
            credentials,
            challenges: Mutex::new(HashMap::new()),
            other_logins: Mutex::new(HashMap::new()),
            tokens: Mutex::new(HashMap::new()),
            timeouts,
        };
        let secure = client.ping();
        let challenge = match secure {
            Ok(challenge) => challenge,
            // Plain HTTP as Docker allows it: for loopback, unless TLS was demanded.
            Err(e) if insecure || (reference.is_loopback() && access.tls_verify.is_none()) => {
                client.base = format!("http://{host}");
                // A TLS registry answers plain HTTP with 400: its TLS error is the news.
                client.ping().map_err(|_| e)?
            }
            Err(e) => return Err(e),
        };
        if let Some(challenge) = challenge {
            let host = authority(&client.base).to_owned();
            lock(&client.challenges).insert(host, challenge);
        }
        Ok(client)
    }

    /// The registry as the user wrote it.
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// How long its requests may take.
    pub fn timeouts(&self) -> &Timeouts {
        &self.timeouts
    }

    /// `GET /v2/`: 200 for an open registry, 401 with a challenge for one that wants
    /// a login; anything else is not a registry.
    fn ping(&self) -> Result<Option<Challenge>> {
        let call = Call::new(
            http::Method::GET,
            "/v2/".into(),
            "",
            format!("connecting to {}", self.base),
        );
        let response = self.send_unauthorized(&call, None)?;
        match response.status().as_u16() {
            200..=299 => Ok(None),
            401 => Ok(response
                .headers()
                .get(http::header::WWW_AUTHENTICATE)
                .and_then(|v| v.to_str().ok())
                .and_then(auth::parse_challenge)),
            status => Err(self.status_error(&call, status, response)),
        }
    }

    /// Sends `call` with the authorization its scope needs, retrying transient
    /// failures, and once more with a fresh token after a 401. The answer's status is
    /// the caller's to judge, except 401, which is an error naming the registry.
    pub(crate) fn send(&self, call: &Call) -> Result<Response<Body>> {
        let url = self.url(&call.url);
        let host = authority(&url);
        let mut renewed = false;
        loop {
            let authorization = self.authorization(call, host)?;
            let response = self.send_unauthorized(call, authorization.as_deref())?;
            if response.status() != http::StatusCode::UNAUTHORIZED {
                return Ok(response);
            }
            if renewed || matches!(call.payload, Payload::Stream { .. }) {
                self.forget_token(call, host);
                return Err(self.unauthorized(call, host));
            }
            renewed = true;
            if let Some(challenge) = response
                .headers()
                .get(http::header::WWW_AUTHENTICATE)
                .and_then(|v| v.to_str().ok())
                .and_then(auth::parse_challenge)
            {
                lock(&self.challenges).insert(host.to_owned(), challenge);
            }
            self.forget_token(call, host);
        }
    }

    fn forget_token(&self, call: &Call, host: &str) {
        lock(&self.tokens).remove(&(host.to_owned(), scope_key(call)));
    }

    /// The login for `host`: the user's for the registry itself; for any other host
    /// only what Docker's config holds for that very host.
    fn login_for(&self, host: &str) -> Option<Credentials> {
        if host == authority(&self.base) {
            return self.credentials.clone();
        }
        lock(&self.other_logins)
            .entry(host.to_owned())
            .or_insert_with(|| auth::stored_credentials(host).ok().flatten())
            .clone()
    }

    /// Sends `call` and requires one of the `expected` statuses.
    pub(crate) fn send_expecting(&self, call: &Call, expected: &[u16]) -> Result<Response<Body>> {
        let response = self.send(call)?;
        let status = response.status().as_u16();
        if expected.contains(&status) {
            Ok(response)
        } else {
            Err(self.status_error(call, status, response))
        }
    }

    /// Sends `call` with the given authorization, retrying what is worth retrying
    /// while the deadline allows.
    fn send_unauthorized(
        &self,
        call: &Call,
        authorization: Option<&str>,
    ) -> Result<Response<Body>> {
        let url = self.url(&call.url);
        let deadline = Instant::now() + self.timeouts.deadline;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let left = deadline.saturating_duration_since(Instant::now());
            let result = self.send_once(call, &url, authorization, left);
            let retry = !matches!(call.payload, Payload::Stream { .. })
                && match &result {
                    Ok(r) => matches!(r.status().as_u16(), 429 | 502 | 503 | 504),
                    Err(e) => transient(e),
                };
            let backoff = Duration::from_millis(200 * 3u64.pow(attempt - 1));
            if !retry || attempt >= ATTEMPTS || Instant::now() + backoff >= deadline {
                return result.map_err(|source| match source {
                    // The body being sent failed its own digest check: that is the news.
                    ureq::Error::Io(e) if e.get_ref().is_some_and(|i| i.is::<ImageError>()) => {
                        crate::digest::unwrap_io_error(e, &call.action)
                    }
                    source => ImageError::Registry {
                        registry: self.registry.clone(),
                        action: call.action.clone(),
                        source: Box::new(source),
                    },
                });
            }
            std::thread::sleep(backoff);
        }
    }

    /// One attempt, with `left` of the deadline: for the whole exchange, or, when a
    /// blob's body goes with it, until the answer's headers (the body is paced).
    fn send_once(
        &self,
        call: &Call,
        url: &str,
        authorization: Option<&str>,
        left: Duration,
    ) -> std::result::Result<Response<Body>, ureq::Error> {
        let mut builder = http::Request::builder()
            .method(call.method.clone())
            .uri(url);
        for (name, value) in &call.headers {
            builder = builder.header(*name, value);
        }
        if let Some(a) = authorization {
            builder = builder.header(http::header::AUTHORIZATION, a);
        }
        match &call.payload {
            Payload::None => {
                let builder = if matches!(
                    call.method,
                    http::Method::PUT | http::Method::POST | http::Method::PATCH
                ) {
                    builder.header(http::header::CONTENT_LENGTH, "0")
                } else {
                    builder
                };
                self.run(builder.body(SendBody::none())?, call, left)
            }
            Payload::Bytes(bytes) if call.blob_body => {
                let mut reader = *bytes;
                let mut paced =
                    PacedUpload::new(&mut reader, &self.timeouts, &self.registry, &call.action);
                let body = SendBody::from_reader(&mut paced);
                self.run(
                    builder
                        .header(http::header::CONTENT_LENGTH, bytes.len().to_string())
                        .body(body)?,
                    call,
                    left,
                )
            }
            Payload::Bytes(bytes) => self.run(
                builder
                    .header(http::header::CONTENT_LENGTH, bytes.len().to_string())
                    .body(*bytes)?,
                call,
                left,
            ),
            Payload::Stream { len, reader } => {
                let mut reader = reader.borrow_mut();
                let mut paced =
                    PacedUpload::new(&mut **reader, &self.timeouts, &self.registry, &call.action);
                let body = SendBody::from_reader(&mut paced);
                self.run(
                    builder
                        .header(http::header::CONTENT_LENGTH, len.to_string())
                        .body(body)?,
                    call,
                    left,
                )
            }
        }
    }

    /// Runs a request under what is `left` of its deadline.
    fn run<S: ureq::AsSendBody>(
        &self,
        request: http::Request<S>,
        call: &Call,
        left: Duration,
    ) -> std::result::Result<Response<Body>, ureq::Error> {
        let left = Some(left.max(Duration::from_millis(1)));
        let config = self.agent.configure_request(request);
        let request = if call.blob_body {
            config.timeout_per_call(None).timeout_recv_response(left)
        } else {
            config.timeout_per_call(left)
        }
        .build();
        self.agent.run(request)
    }

    /// The `Authorization` header `call` needs at `host`, answering the challenge
    /// that host sent with its own login, fetching a token when it wants bearer
    /// tokens and none is held for this scope.
    fn authorization(&self, call: &Call, host: &str) -> Result<Option<String>> {
        let challenge = lock(&self.challenges).get(host).cloned();
        match challenge {
            None => Ok(None),
            Some(Challenge::Basic) => Ok(self.login_for(host).and_then(|c| c.basic_header())),
            Some(Challenge::Bearer { realm, service, .. }) => {
                let key = (host.to_owned(), scope_key(call));
                if let Some(token) = lock(&self.tokens).get(&key) {
                    return Ok(Some(format!("Bearer {token}")));
                }
                let login = self.login_for(host);
                let token =
                    self.fetch_token(call, host, login.as_ref(), &realm, service.as_deref())?;
                lock(&self.tokens).insert(key, token.clone());
                Ok(Some(format!("Bearer {token}")))
            }
        }
    }

    /// Asks the token service `realm` (named by `host`) for a token for the call's
    /// scopes, with `host`'s login when there is one (anonymous otherwise, as for
    /// public images).
    fn fetch_token(
        &self,
        call: &Call,
        host: &str,
        login: Option<&Credentials>,
        realm: &str,
        service: Option<&str>,
    ) -> Result<String> {
        let scopes = scope_key(call);
        let mut query: Vec<(&str, &str)> = Vec::new();
        if let Some(s) = service {
            query.push(("service", s));
        }
        for scope in scopes.split(' ').filter(|s| !s.is_empty()) {
            query.push(("scope", scope));
        }
        let action = format!("getting a token from {realm}");
        let failed = |source: ureq::Error| ImageError::Registry {
            registry: self.registry.clone(),
            action: action.clone(),
            source: Box::new(source),
        };
        let response = match login {
            Some(Credentials::IdentityToken(refresh)) => {
                let mut form = query.clone();
                form.extend([
                    ("grant_type", "refresh_token"),
                    ("client_id", "pare"),
                    ("refresh_token", refresh.as_str()),
                ]);
                self.agent.post(realm).send_form(form)
            }
            other => {
                let mut request = self.agent.get(realm).query_pairs(query);
                if let Some(basic) = other.and_then(|c| c.basic_header()) {
                    request = request.header(http::header::AUTHORIZATION, basic);
                }
                request.call()
            }
        }
        .map_err(failed)?;
        if response.status() == http::StatusCode::UNAUTHORIZED {
            return Err(self.unauthorized(call, host));
        }
        if !response.status().is_success() {
            let status = response.status().as_u16();
            return Err(ImageError::RegistryStatus {
                registry: self.registry.clone(),
                action,
                status,
                detail: String::new(),
            });
        }
        #[derive(serde::Deserialize)]
        struct TokenAnswer {
            token: Option<String>,
            access_token: Option<String>,
        }
        let bytes = response
            .into_body()
            .into_with_config()
            .limit(SMALL_ANSWER_LIMIT)
            .read_to_vec()
            .map_err(failed)?;
        let answer: TokenAnswer = serde_json::from_slice(&bytes)
            .map_err(|e| ImageError::json(realm, "the token service's answer is not JSON", e))?;
        answer
            .token
            .or(answer.access_token)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| ImageError::manifest(realm, "the token service sent no token"))
    }

    fn unauthorized(&self, call: &Call, host: &str) -> ImageError {
        let mut detail = match self.login_for(host) {
            Some(Credentials::Basic { user, .. }) => format!(", logged in as {user}"),
            Some(Credentials::IdentityToken(_)) => ", with the stored identity token".into(),
            None => ", anonymously: no login found".into(),
        };
        if host != authority(&self.base) {
            detail = format!(" from {host}, where the registry sent pare{detail}");
        }
        ImageError::Unauthorized {
            registry: self.registry.clone(),
            repository: call.repository.to_owned(),
            action: if call.actions.contains("push") {
                "pushing to".into()
            } else {
                "pulling".into()
            },
            detail,
        }
    }

    /// An answer with an unexpected status, with the registry's own error code and
    /// message when it sent the distribution spec's error JSON.
    pub(crate) fn status_error(
        &self,
        call: &Call,
        status: u16,
        response: Response<Body>,
    ) -> ImageError {
        ImageError::RegistryStatus {
            registry: self.registry.clone(),
            action: call.action.clone(),
            status,
            detail: error_detail(response),
        }
    }

    /// A path below the registry, or a URL it gave, made absolute.
    pub(crate) fn url(&self, path_or_url: &str) -> String {
        if path_or_url.starts_with("https://") || path_or_url.starts_with("http://") {
            path_or_url.to_owned()
        } else if path_or_url.starts_with('/') {
            format!("{}{path_or_url}", self.base)
        } else {
            format!("{}/{path_or_url}", self.base)
        }
    }

    /// Reads a small answer whole, refusing one over `limit` before reading it.
    pub(crate) fn read_small(
        &self,
        call: &Call,
        response: Response<Body>,
        limit: u64,
    ) -> Result<Vec<u8>> {
        let too_large = |size: String| {
            ImageError::manifest(
                format!("{}/{}", self.registry, call.repository),
                format!(
                    "{} is {size} bytes, more than the {limit} pare accepts; refusing it",
                    call.action.trim_start_matches("fetching ")
                ),
            )
        };
        if let Some(len) = content_length(&response).filter(|l| *l > limit) {
            return Err(too_large(len.to_string()));
        }
        response
            .into_body()
            .into_with_config()
            .limit(limit)
            .read_to_vec()
            .map_err(|e| match e {
                ureq::Error::BodyExceedsLimit(_) => too_large(format!("over {limit}")),
                other => ImageError::Registry {
                    registry: self.registry.clone(),
                    action: call.action.clone(),
                    source: Box::new(other),
                },
            })
    }

    /// Fetches a blob, following the redirects registries use to hand downloads to
    /// their storage (without the registry's credentials on another host, never from
    /// HTTPS down to plain HTTP), from byte `offset` on. A `streamed` body (a layer,
    /// read as it is processed) is the caller's to pace; any other is read within the
    /// deadline.
    pub(crate) fn get_blob(
        &self,
        repository: &str,
        digest: &Digest,
        offset: u64,
        streamed: bool,
    ) -> Result<Response<Body>> {
        let mut call = Call::new(
            http::Method::GET,
            format!("/v2/{repository}/blobs/{digest}"),
            repository,
            format!("fetching blob {digest}"),
        );
        call.blob_body = streamed;
        if offset > 0 {
            call.headers.push(("Range", format!("bytes={offset}-")));
        }
        let mut response = self.send(&call)?;
        for _ in 0..MAX_REDIRECTS {
            if !response.status().is_redirection() {
                return Ok(response);
            }
            let from = self.url(&call.url);
            let location = response
                .headers()
                .get(http::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let Some(location) = location else {
                let status = response.status().as_u16();
                return Err(self.status_error(&call, status, response));
            };
            let to = resolve_location(&from, &location);
            if from.starts_with("https://")
                && to.starts_with("http://")
                && !is_loopback_host(authority(&to))
            {
                return Err(ImageError::manifest(
                    format!("{}/{repository}", self.registry),
                    format!("blob {digest} redirects from HTTPS to plain HTTP ({to}); refusing it"),
                ));
            }
            call.url = to;
            response = self.send(&call)?;
        }
        Err(ImageError::manifest(
            format!("{}/{repository}", self.registry),
            format!("blob {digest} redirects more than {MAX_REDIRECTS} times"),
        ))
    }
}

/// A lock, used as it is when poisoned: the maps stay valid whatever panicked.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

/// The scopes a call's token needs, as the token service's `scope` values joined by
/// spaces (also the key tokens are kept under).
fn scope_key(call: &Call) -> String {
    let mut key = format!("repository:{}:{}", call.repository, call.actions);
    if let Some(other) = call.also_pull {
        key.push_str(&format!(" repository:{other}:pull"));
    }
    key
}

/// Failures worth another try: the connection dropped or timed out, or the
/// registry is briefly overloaded. A name that does not resolve is not one.
pub(crate) fn transient(e: &ureq::Error) -> bool {
    match e {
        ureq::Error::Io(io) => transient_io(io),
        ureq::Error::Timeout(_) | ureq::Error::ConnectionFailed => true,
        _ => false,
    }
}

/// A connection that broke or stalled, as opposed to bytes that were wrong.
pub(crate) fn transient_io(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::UnexpectedEof
            | io::ErrorKind::TimedOut
            | io::ErrorKind::Interrupted
    )
}

/// The agent for one registry host: TLS roots from the system plus the registry's
/// certificate directories, no automatic redirects (blob redirects are followed by
/// hand), no transparent decompression (it would change what is hashed), the
/// deadline for each exchange (token requests included) and the rate window for each
/// read and write, so a stalled or trickling registry fails instead of hanging.
fn agent(host: &str, access: &Access, insecure: bool, timeouts: &Timeouts) -> Result<ureq::Agent> {
    let mut tls = ureq::tls::TlsConfig::builder().disable_verification(insecure);
    let dirs: Vec<std::path::PathBuf> = access
        .cert_dir
        .iter()
        .cloned()
        .chain(
            ["/etc/containers/certs.d", "/etc/docker/certs.d"]
                .iter()
                .map(|root| Path::new(root).join(host))
                .filter(|d| d.is_dir()),
        )
        .collect();
    let (cas, client_cert) = read_cert_dirs(&dirs)?;
    if !cas.is_empty() {
        let mut roots: Vec<ureq::tls::Certificate<'static>> =
            rustls_native_certs::load_native_certs()
                .certs
                .iter()
                .map(|der| ureq::tls::Certificate::from_der(der.as_ref()).to_owned())
                .collect();
        roots.extend(cas);
        tls = tls.root_certs(ureq::tls::RootCerts::new_with_certs(&roots));
    } else {
        tls = tls.root_certs(ureq::tls::RootCerts::PlatformVerifier);
    }
    if let Some(cert) = client_cert {
        tls = tls.client_cert(Some(cert));
    }
    let mut config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .max_redirects_will_error(false)
        .accept_encoding(ureq::config::AutoHeaderValue::None)
        .user_agent(format!("pare/{}", env!("CARGO_PKG_VERSION")))
        .timeout_connect(Some(timeouts.deadline.min(Duration::from_secs(15))))
        .timeout_per_call(Some(timeouts.deadline))
        .timeout_per_read(Some(timeouts.window()))
        .timeout_per_write(Some(timeouts.window()))
        .tls_config(tls.build());
    if is_loopback_host(host) {
        // As Go's HTTP client (and so Docker) never proxies loopback.
        config = config.proxy(None);
    }
    Ok(config.build().into())
}

/// `*.crt` files are CAs; a `NAME.cert` with its `NAME.key` is a client certificate
/// (the layout of Docker's and containers' `certs.d`).
fn read_cert_dirs(
    dirs: &[std::path::PathBuf],
) -> Result<(
    Vec<ureq::tls::Certificate<'static>>,
    Option<ureq::tls::ClientCert>,
)> {
    let mut cas = Vec::new();
    let mut client = None;
    for dir in dirs {
        let entries = std::fs::read_dir(dir).map_err(|e| ImageError::io(dir, e))?;
        let mut names: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        names.sort();
        for path in names {
            let ext = path
                .extension()
                .and_then(|e| e.to_str())
                .unwrap_or_default();
            let bad = |reason: String| ImageError::manifest(path.display().to_string(), reason);
            match ext {
                "crt" => {
                    let pem = std::fs::read(&path).map_err(|e| ImageError::io(&path, e))?;
                    for item in ureq::tls::parse_pem(&pem) {
                        match item.map_err(|e| bad(format!("not PEM: {e}")))? {
                            ureq::tls::PemItem::Certificate(c) => cas.push(c),
                            _ => continue,
                        }
                    }
                }
                "cert" if client.is_none() => {
                    let key_path = path.with_extension("key");
                    let cert_pem = std::fs::read(&path).map_err(|e| ImageError::io(&path, e))?;
                    let key_pem =
                        std::fs::read(&key_path).map_err(|e| ImageError::io(&key_path, e))?;
                    let chain: Vec<_> = ureq::tls::parse_pem(&cert_pem)
                        .filter_map(|i| match i {
                            Ok(ureq::tls::PemItem::Certificate(c)) => Some(c),
                            _ => None,
                        })
                        .collect();
                    let key = ureq::tls::PrivateKey::from_pem(&key_pem)
                        .map_err(|e| bad(format!("{}: not a PEM key: {e}", key_path.display())))?;
                    client = Some(ureq::tls::ClientCert::new_with_certs(&chain, key));
                }
                _ => {}
            }
        }
    }
    Ok((cas, client))
}

pub(crate) fn content_length(response: &Response<Body>) -> Option<u64> {
    response
        .headers()
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
}

/// `: CODE message` from the distribution spec's error JSON, when the body is one.
fn error_detail(response: Response<Body>) -> String {
    #[derive(serde::Deserialize)]
    struct Errors {
        errors: Vec<ErrorEntry>,
    }
    #[derive(serde::Deserialize)]
    struct ErrorEntry {
        code: Option<String>,
        message: Option<String>,
    }
    let bytes = response
        .into_body()
        .into_with_config()
        .limit(64 << 10)
        .read_to_vec()
        .unwrap_or_default();
    let Ok(parsed) = serde_json::from_slice::<Errors>(&bytes) else {
        return String::new();
    };
    let text: Vec<String> = parsed
        .errors
        .iter()
        .map(|e| {
            [e.code.as_deref(), e.message.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    if text.is_empty() {
        String::new()
    } else {
        format!(" ({})", text.join("; "))
    }
}

/// `host[:port]` of a URL.
pub(crate) fn authority(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    &rest[..end]
}

/// A `Location` made absolute against the URL it answered.
pub(crate) fn resolve_location(from: &str, location: &str) -> String {
    if location.starts_with("https://") || location.starts_with("http://") {
        return location.to_owned();
    }
    let scheme_end = from.find("://").map_or(0, |i| i + 3);
    let origin_end = from[scheme_end..]
        .find('/')
        .map_or(from.len(), |i| scheme_end + i);
    if location.starts_with('/') {
        format!("{}{location}", &from[..origin_end])
    } else {
        let dir_end = from
            .rfind('/')
            .filter(|i| *i >= origin_end)
            .unwrap_or(origin_end);
        format!("{}/{location}", &from[..dir_end])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_and_authorities() {
        let from = "https://r.example:5000/v2/app/blobs/sha256:ab";
        assert_eq!(authority(from), "r.example:5000");
        assert_eq!(
            resolve_location(from, "/v2/app/blobs/uploads/x?a=1"),
            "https://r.example:5000/v2/app/blobs/uploads/x?a=1"
        );
        assert_eq!(
            resolve_location(from, "https://cdn.example/x"),
            "https://cdn.example/x"
        );
        assert_eq!(
            resolve_location(from, "y"),
            "https://r.example:5000/v2/app/blobs/y"
        );
    }

    #[test]
    fn scopes() {
        let mut call = Call::new(http::Method::GET, "/".into(), "team/app", String::new());
        assert_eq!(scope_key(&call), "repository:team/app:pull");
        call.actions = "pull,push";
        call.also_pull = Some("team/base");
        assert_eq!(
            scope_key(&call),
            "repository:team/app:pull,push repository:team/base:pull"
        );
    }
}
