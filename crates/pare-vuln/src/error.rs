//! The one error type of pare-vuln. Every variant names the file, URL or line it is
//! about and the step that failed; the cause is its `#[source]`, never repeated in the
//! message (the CLI prints the chain once). Imports nothing else of the crate.

use std::path::PathBuf;

/// What can go wrong reading advisories, the database, ignore files and VEX documents.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No database file where one was looked for.
    #[error("no advisory database at {}", path.display())]
    NoDatabase { path: PathBuf },

    /// The file is not a database pare wrote, or one of another schema version.
    #[error(
        "{} is not a pare advisory database of schema {expected} (found {found})",
        path.display()
    )]
    Schema {
        path: PathBuf,
        expected: u32,
        found: String,
    },

    /// SQLite refused an operation on the database.
    #[error("{step} ({})", path.display())]
    Sql {
        step: &'static str,
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },

    /// A stored record does not read back (the database was changed by hand).
    #[error("advisory {id} in {} does not read back", path.display())]
    StoredRecord {
        id: String,
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },

    /// Reading or writing a file or directory.
    #[error("{step} {}", path.display())]
    Io {
        step: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A zip file is damaged or not a zip file.
    #[error("reading the zip file {}", path.display())]
    Zip {
        path: PathBuf,
        #[source]
        source: zip::result::ZipError,
    },

    /// One entry of a zip file cannot be read (bad checksum, truncated data).
    #[error("reading {entry} in the zip file {}", path.display())]
    ZipEntry {
        path: PathBuf,
        entry: String,
        #[source]
        source: std::io::Error,
    },

    /// An import path holds more records than any real advisory source (a hostile or
    /// broken file): nothing of it is imported.
    #[error(
        "{} holds more than {limit} records, more than any advisory source; not imported",
        path.display()
    )]
    TooManyRecords { path: PathBuf, limit: u64 },

    /// An import path holds nothing that looks like OSV records.
    #[error("{} holds no OSV records (*.json files or an all.zip)", path.display())]
    NothingToImport { path: PathBuf },

    /// A download failed before or while the body was read.
    #[error("downloading {url}")]
    Download {
        url: String,
        #[source]
        source: ureq::Error,
    },

    /// The server answered, but not with the file.
    #[error("downloading {url}: the server answered {status}")]
    HttpStatus { url: String, status: u16 },

    /// The connection ended before the announced length arrived.
    #[error("downloading {url}: the transfer ended after {got} of {expected} bytes")]
    Truncated {
        url: String,
        got: u64,
        expected: u64,
    },

    /// A line of an ignore file is not `ID [exp:YYYY-MM-DD] [# comment]`.
    #[error("{}, line {line}: {message}", path.display())]
    IgnoreSyntax {
        path: PathBuf,
        line: usize,
        message: String,
    },

    /// A VEX document is not JSON.
    #[error("reading the VEX document {}", path.display())]
    VexJson {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },

    /// A VEX document is JSON but neither OpenVEX nor CycloneDX, or breaks its format.
    #[error("{}: {message}", path.display())]
    VexFormat { path: PathBuf, message: String },
}

impl pare_hint::Hint for Error {
    fn hint(&self) -> Option<String> {
        match self {
            Error::NoDatabase { .. } => Some(
                "`pare db update` downloads the advisories from osv.dev; \
                 `pare db import PATH…` reads all.zip files or folders of OSV JSON offline"
                    .into(),
            ),
            Error::Schema { .. } => Some("`pare db update` or `pare db import` rebuilds it".into()),
            _ => None,
        }
    }
}

/// pare-vuln's results.
pub type Result<T, E = Error> = std::result::Result<T, E>;
