//! Credentials as Docker and skopeo users already have them, and the registry's
//! `WWW-Authenticate` challenges.
//!
//! Hand-written: the crates that read Docker's config either pull in an async HTTP
//! stack or skip credential helpers; the format is small (`auths` with a base64
//! `user:password` or an identity token, `credsStore`, `credHelpers`) and the helper
//! protocol is one process call (`docker-credential-NAME get`, the server on stdin,
//! JSON on stdout).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use base64::Engine as _;
use serde::Deserialize;

use super::name::HUB;
use crate::error::{ImageError, Result};

/// What pare logs in with.
#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    /// A user name and a password (or a personal access token).
    Basic { user: String, password: String },
    /// An OAuth2 refresh token `docker login` stored (`identitytoken`).
    IdentityToken(String),
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::Basic { user, .. } => write!(f, "Basic({user}, …)"),
            Credentials::IdentityToken(_) => write!(f, "IdentityToken(…)"),
        }
    }
}

impl Credentials {
    /// `USER:PASSWORD`, as `--creds` takes it (skopeo's syntax).
    pub fn parse_creds(text: &str) -> std::result::Result<Self, String> {
        match text.split_once(':') {
            Some((user, password)) if !user.is_empty() => Ok(Credentials::Basic {
                user: user.to_owned(),
                password: password.to_owned(),
            }),
            _ => Err("--creds takes USER:PASSWORD".into()),
        }
    }

    /// The `Authorization` value for basic auth, when these are a user and password.
    pub(crate) fn basic_header(&self) -> Option<String> {
        match self {
            Credentials::Basic { user, password } => Some(format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
            )),
            Credentials::IdentityToken(_) => None,
        }
    }
}

/// `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`: where `docker login`
/// (and `skopeo login --authfile`, with `REGISTRY_AUTH_FILE`) keep logins.
pub fn docker_config_path() -> Option<PathBuf> {
    if let Some(file) = std::env::var_os("REGISTRY_AUTH_FILE") {
        return Some(PathBuf::from(file));
    }
    match std::env::var_os("DOCKER_CONFIG") {
        Some(dir) => Some(PathBuf::from(dir).join("config.json")),
        None => std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".docker/config.json")),
    }
}

#[derive(Deserialize, Default)]
struct DockerConfig {
    #[serde(default)]
    auths: BTreeMap<String, AuthEntry>,
    #[serde(default, rename = "credsStore")]
    creds_store: Option<String>,
    #[serde(default, rename = "credHelpers")]
    cred_helpers: BTreeMap<String, String>,
}

#[derive(Deserialize, Default)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    identitytoken: Option<String>,
}

/// The login stored for `registry` (as the user writes it: `docker.io`,
/// `127.0.0.1:5000`), if any. A config file that is not valid is an error naming it:
/// silently going anonymous would turn into a confusing 401 later.
pub fn stored_credentials(registry: &str) -> Result<Option<Credentials>> {
    let Some(path) = docker_config_path() else {
        return Ok(None);
    };
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(ImageError::io(path, e)),
    };
    let config: DockerConfig = serde_json::from_slice(&bytes)
        .map_err(|e| ImageError::json(path.display().to_string(), "not a Docker config", e))?;
    lookup(&config, registry, &path)
}

/// The key Docker files Docker Hub's login under.
const HUB_CONFIG_KEY: &str = "https://index.docker.io/v1/";

fn lookup(config: &DockerConfig, registry: &str, path: &Path) -> Result<Option<Credentials>> {
    let server = if registry == HUB {
        HUB_CONFIG_KEY
    } else {
        registry
    };
    let helper = config
        .cred_helpers
        .iter()
        .find(|(key, _)| same_server(key, registry))
        .map(|(_, helper)| helper)
        .or(config.creds_store.as_ref());
    if let Some(helper) = helper
        && let Some(found) = from_helper(helper, server)?
    {
        return Ok(Some(found));
    }
    let Some(entry) = config
        .auths
        .iter()
        .find(|(key, _)| same_server(key, registry))
        .map(|(_, e)| e)
    else {
        return Ok(None);
    };
    if let Some(token) = entry.identitytoken.as_ref().filter(|t| !t.is_empty()) {
        return Ok(Some(Credentials::IdentityToken(token.clone())));
    }
    if let (Some(user), Some(password)) = (&entry.username, &entry.password) {
        return Ok(Some(Credentials::Basic {
            user: user.clone(),
            password: password.clone(),
        }));
    }
    let Some(auth) = entry.auth.as_ref().filter(|a| !a.is_empty()) else {
        return Ok(None);
    };
    let bad = || {
        ImageError::manifest(
            path.display().to_string(),
            format!("auths.{registry}.auth is not base64 of USER:PASSWORD"),
        )
    };
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(auth.trim())
        .map_err(|_| bad())?;
    let text = String::from_utf8(decoded).map_err(|_| bad())?;
    Credentials::parse_creds(&text).map(Some).map_err(|_| bad())
}

/// Whether a config key (`https://index.docker.io/v1/`, `127.0.0.1:5000`,
/// `http://host/`) names `registry`, comparing hosts as Docker does.
fn same_server(key: &str, registry: &str) -> bool {
    let host = key
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap_or(key);
    let normal = |h: &str| match h {
        "index.docker.io" | "registry-1.docker.io" | "docker.io" => HUB.to_owned(),
        other => other.to_ascii_lowercase(),
    };
    normal(host) == normal(registry)
}

#[derive(Deserialize)]
struct HelperAnswer {
    #[serde(rename = "Username")]
    username: String,
    #[serde(rename = "Secret")]
    secret: String,
}

/// Asks `docker-credential-HELPER get` for `server`'s login. A helper that has none
/// says so on stdout and exits 1; that is no login, not an error.
fn from_helper(helper: &str, server: &str) -> Result<Option<Credentials>> {
    let program = format!("docker-credential-{helper}");
    let failed = |reason: String| ImageError::CredentialHelper {
        helper: program.clone(),
        reason,
    };
    let mut child = Command::new(&program)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| ImageError::CredentialHelperIo {
            helper: program.clone(),
            what: "cannot run it",
            source: Box::new(e),
        })?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(server.as_bytes());
    }
    let out = child
        .wait_with_output()
        .map_err(|e| ImageError::CredentialHelperIo {
            helper: program.clone(),
            what: "cannot read its answer",
            source: Box::new(e),
        })?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        if stdout.contains("credentials not found") || stdout.trim().is_empty() {
            return Ok(None);
        }
        return Err(failed(format!("{}: {}", out.status, stdout.trim())));
    }
    let answer: HelperAnswer =
        serde_json::from_slice(&out.stdout).map_err(|e| ImageError::CredentialHelperIo {
            helper: program.clone(),
            what: "answered something that is not its JSON",
            source: Box::new(e),
        })?;
    Ok(Some(if answer.username == "<token>" {
        Credentials::IdentityToken(answer.secret)
    } else {
        Credentials::Basic {
            user: answer.username,
            password: answer.secret,
        }
    }))
}

/// A parsed `WWW-Authenticate` header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Challenge {
    Basic,
    Bearer {
        realm: String,
        service: Option<String>,
        scope: Option<String>,
    },
}

/// Reads `Bearer realm="…",service="…",scope="…"` or `Basic realm="…"`; quoted
/// values may hold commas and `\"`.
pub(crate) fn parse_challenge(header: &str) -> Option<Challenge> {
    let header = header.trim();
    let (scheme, rest) = header.split_once(' ').unwrap_or((header, ""));
    let params = parse_params(rest);
    let get = |k: &str| {
        params
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(k))
            .map(|(_, v)| v.clone())
    };
    if scheme.eq_ignore_ascii_case("basic") {
        Some(Challenge::Basic)
    } else if scheme.eq_ignore_ascii_case("bearer") {
        Some(Challenge::Bearer {
            realm: get("realm")?,
            service: get("service"),
            scope: get("scope"),
        })
    } else {
        None
    }
}

fn parse_params(text: &str) -> Vec<(String, String)> {
    let mut params = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let key: String = std::iter::from_fn(|| chars.next_if(|c| *c != '=' && *c != ','))
            .collect::<String>()
            .trim()
            .to_owned();
        if key.is_empty() || chars.next() != Some('=') {
            break;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => value.extend(chars.next()),
                    '"' => break,
                    c => value.push(c),
                }
            }
        } else {
            value = std::iter::from_fn(|| chars.next_if(|c| *c != ','))
                .collect::<String>()
                .trim()
                .to_owned();
        }
        params.push((key, value));
    }
    params
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges() {
        assert_eq!(
            parse_challenge(
                r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/debian:pull,push""#
            ),
            Some(Challenge::Bearer {
                realm: "https://auth.docker.io/token".into(),
                service: Some("registry.docker.io".into()),
                scope: Some("repository:library/debian:pull,push".into()),
            })
        );
        assert_eq!(
            parse_challenge(r#"Basic realm="basic-realm""#),
            Some(Challenge::Basic)
        );
        assert_eq!(
            parse_challenge(r#"Bearer realm="a\"b", service=x"#),
            Some(Challenge::Bearer {
                realm: "a\"b".into(),
                service: Some("x".into()),
                scope: None
            })
        );
        assert_eq!(parse_challenge("Bearer service=x"), None);
        assert_eq!(parse_challenge("Negotiate"), None);
        assert_eq!(parse_challenge(""), None);
    }

    fn config(json: &str) -> DockerConfig {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn config_auths_as_docker_login_writes_them() {
        let path = Path::new("config.json");
        let c = config(
            r#"{"auths":{"https://index.docker.io/v1/":{"auth":"dXNlcjpwYTpzcw=="},
                "127.0.0.1:5000":{"identitytoken":"tok"},
                "http://quay.io/v2/":{"username":"u","password":"p"}}}"#,
        );
        assert_eq!(
            lookup(&c, "docker.io", path).unwrap(),
            Some(Credentials::Basic {
                user: "user".into(),
                password: "pa:ss".into()
            })
        );
        assert_eq!(
            lookup(&c, "127.0.0.1:5000", path).unwrap(),
            Some(Credentials::IdentityToken("tok".into()))
        );
        assert!(lookup(&c, "quay.io", path).unwrap().is_some());
        assert_eq!(lookup(&c, "ghcr.io", path).unwrap(), None);
        let broken = config(r#"{"auths":{"ghcr.io":{"auth":"!!"}}}"#);
        assert!(lookup(&broken, "ghcr.io", path).is_err());
    }

    #[test]
    fn creds_flag() {
        assert!(Credentials::parse_creds("u:p:q").is_ok());
        assert!(Credentials::parse_creds(":p").is_err());
        assert!(Credentials::parse_creds("nocolon").is_err());
    }
}
