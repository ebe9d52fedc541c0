//! `pare db update`: downloads each ecosystem's export from an osv.dev-style bucket
//! (`BASE/ECOSYSTEM/all.zip`) and imports them together. Everything is downloaded
//! (and every length checked) before the database is touched, and the import itself is
//! atomic: a failed, interrupted or damaged download leaves the previous database as it
//! was.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::{Duration, SystemTime};

use crate::error::{Error, Result};
use crate::import::{ImportReport, Source};
use crate::source::Input;

/// osv.dev's public bucket.
pub const DEFAULT_BASE: &str = "https://osv-vulnerabilities.storage.googleapis.com";

/// The name under which a downloaded ecosystem is stored (re-downloading replaces it).
pub fn source_name(ecosystem: &str) -> String {
    format!("osv:{ecosystem}")
}

/// The export URL of one ecosystem: `BASE/ECOSYSTEM/all.zip`, the ecosystem's name
/// percent-encoded as a path segment (`crates.io` stays, `Rocky Linux` gets `%20`).
pub fn url(base: &str, ecosystem: &str) -> String {
    let mut segment = String::new();
    for b in ecosystem.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            segment.push(b as char);
        } else {
            segment.push_str(&format!("%{b:02X}"));
        }
    }
    format!("{}/{segment}/all.zip", base.trim_end_matches('/'))
}

/// Downloads `ecosystems` from `base` and imports them into `database`.
pub fn update(database: &Path, base: &str, ecosystems: &[String]) -> Result<ImportReport> {
    update_with(database, base, ecosystems, &mut |_| {})
}

/// [`update`], telling `on_temp` each temporary file or folder it makes, as
/// [`crate::import::import_with`] does.
pub fn update_with(
    database: &Path,
    base: &str,
    ecosystems: &[String],
    on_temp: &mut dyn FnMut(&Path),
) -> Result<ImportReport> {
    // Held from the first download: the folder below is named as the import's
    // temporary files are, so that the next run removes what a killed one left.
    let (dir, _lock) = crate::import::lock(database)?;
    // Downloads go beside the database (not /tmp, often a small tmpfs) and are
    // removed with this folder whatever happens.
    let downloads = crate::import::temp_dir(database, &dir)?;
    on_temp(downloads.path());
    let agent = agent();
    let mut sources = Vec::new();
    for (i, ecosystem) in ecosystems.iter().enumerate() {
        let url = url(base, ecosystem);
        let file = downloads.path().join(format!("{i}.zip"));
        let fetched_at = SystemTime::now();
        download(&agent, &url, &file)?;
        sources.push(Source {
            name: source_name(ecosystem),
            origin: url,
            input: Input::Zip(file),
            fetched_at,
        });
    }
    crate::import::import_locked(database, &dir, &sources, on_temp)
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_connect(Some(Duration::from_secs(30)))
        // Per read, not for the whole body: a large export on a slow line is fine,
        // a stalled one is not.
        .timeout_recv_body(None)
        .timeout_recv_response(Some(Duration::from_secs(60)))
        .tls_config(
            ureq::tls::TlsConfig::builder()
                .root_certs(ureq::tls::RootCerts::PlatformVerifier)
                .build(),
        )
        .build()
        .into()
}

/// Streams `url` into `file`; the whole announced length must arrive.
fn download(agent: &ureq::Agent, url: &str, file: &Path) -> Result<()> {
    let failed = |source| Error::Download {
        url: url.to_owned(),
        source,
    };
    let mut response = match agent.get(url).call() {
        Ok(r) => r,
        Err(ureq::Error::StatusCode(status)) => {
            return Err(Error::HttpStatus {
                url: url.to_owned(),
                status,
            });
        }
        Err(e) => return Err(failed(e)),
    };
    let expected: Option<u64> = response
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok());
    let io = |source| Error::Io {
        step: "writing",
        path: file.to_owned(),
        source,
    };
    let mut out = BufWriter::new(File::create(file).map_err(io)?);
    let mut reader = response.body_mut().as_reader();
    let got = match std::io::copy(&mut reader, &mut out) {
        Ok(n) => n,
        Err(e) => {
            return Err(match expected {
                // ureq notices the connection closing early; say it in bytes.
                Some(expected) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                    Error::Truncated {
                        url: url.to_owned(),
                        got: file_len(file),
                        expected,
                    }
                }
                _ => failed(ureq::Error::Io(e)),
            });
        }
    };
    out.flush().map_err(io)?;
    if let Some(expected) = expected.filter(|e| *e != got) {
        return Err(Error::Truncated {
            url: url.to_owned(),
            got,
            expected,
        });
    }
    Ok(())
}

fn file_len(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

#[cfg(test)]
mod tests {
    use super::url;

    #[test]
    fn bucket_urls() {
        assert_eq!(
            url("http://127.0.0.1:9/", "PyPI"),
            "http://127.0.0.1:9/PyPI/all.zip"
        );
        assert_eq!(
            url(
                "https://osv-vulnerabilities.storage.googleapis.com",
                "crates.io"
            ),
            "https://osv-vulnerabilities.storage.googleapis.com/crates.io/all.zip"
        );
        assert_eq!(
            url("http://h", "Rocky Linux"),
            "http://h/Rocky%20Linux/all.zip"
        );
    }
}
