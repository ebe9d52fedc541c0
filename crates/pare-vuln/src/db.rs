//! The advisory database: one SQLite file. Records are stored as pare's reduced
//! [`Advisory`] JSON, indexed by (OSV ecosystem, normalised package name) so that a
//! scan is one indexed lookup per package; ranges are then evaluated in Rust.
//!
//! Readers open the file read-only. Writers never change it in place: [`crate::import`]
//! builds a complete new file beside it and renames it over the old one, so a failed or
//! interrupted import leaves the previous database as it was.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::osv::Advisory;

/// The layout of the tables; a file of another version is rebuilt by the next import.
pub const SCHEMA_VERSION: u32 = 1;

/// The database file's name inside the cache directory.
pub const FILE_NAME: &str = "advisories.sqlite";

pub(crate) const CREATE: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS source (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    origin TEXT NOT NULL,
    fetched_at INTEGER NOT NULL,
    records INTEGER NOT NULL,
    withdrawn INTEGER NOT NULL,
    skipped INTEGER NOT NULL,
    newest_modified TEXT
);
CREATE TABLE IF NOT EXISTS advisory (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    source INTEGER NOT NULL,
    record TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS advisory_source ON advisory (source);
CREATE TABLE IF NOT EXISTS affected (
    ecosystem TEXT NOT NULL,
    name TEXT NOT NULL,
    advisory INTEGER NOT NULL,
    PRIMARY KEY (ecosystem, name, advisory)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS affected_advisory ON affected (advisory);
CREATE TABLE IF NOT EXISTS skipped (
    source INTEGER NOT NULL,
    entry TEXT NOT NULL,
    record TEXT,
    reason TEXT NOT NULL
);
";

/// Where the database lives when no path is given: in [`cache_dir`].
pub fn default_path() -> Option<PathBuf> {
    Some(cache_dir()?.join(FILE_NAME))
}

/// pare's cache folder, for the advisory database and whatever else pare keeps
/// between runs (shellcheck's results): `$PARE_CACHE_DIR`, else
/// `$XDG_CACHE_HOME/pare`, else `~/.cache/pare`; `None` without a home directory.
pub fn cache_dir() -> Option<PathBuf> {
    let var = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    var("PARE_CACHE_DIR")
        .or_else(|| var("XDG_CACHE_HOME").map(|d| d.join("pare")))
        .or_else(|| var("HOME").map(|h| h.join(".cache").join("pare")))
}

/// An open, read-only advisory database.
pub struct Database {
    conn: Connection,
    path: PathBuf,
}

impl Database {
    /// Opens the database at `path` for reading. [`Error::NoDatabase`] when there is
    /// none, [`Error::Schema`] when it is not one pare can read.
    pub fn open(path: &Path) -> Result<Database> {
        if !path.is_file() {
            return Err(Error::NoDatabase {
                path: path.to_owned(),
            });
        }
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|source| sql("opening the advisory database", path, source))?;
        let found = schema_version(&conn);
        if found != Some(SCHEMA_VERSION) {
            return Err(Error::Schema {
                path: path.to_owned(),
                expected: SCHEMA_VERSION,
                found: found.map_or_else(|| "no pare schema".into(), |v| v.to_string()),
            });
        }
        Ok(Database {
            conn,
            path: path.to_owned(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes the whole database to `to` as one self-contained file, for machines
    /// without network (`pare db export`; `pare db import` reads it back). SQLite's
    /// `VACUUM INTO` writes a compact, consistent copy even while others read; it
    /// goes to a temporary file beside `to` that is renamed over it only when
    /// complete, so a failed or interrupted export leaves no half-written file.
    pub fn export(&self, to: &Path, on_temp: &mut dyn FnMut(&Path)) -> Result<()> {
        let io = |step, path: &Path| {
            let path = path.to_owned();
            move |source| Error::Io { step, path, source }
        };
        if std::path::absolute(to).ok() == std::path::absolute(&self.path).ok() {
            return Err(Error::Io {
                step: "exporting the database onto itself:",
                path: to.to_owned(),
                source: std::io::Error::from(std::io::ErrorKind::AlreadyExists),
            });
        }
        let dir = match to.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
            _ => PathBuf::from("."),
        };
        let tmp = tempfile::Builder::new()
            .prefix(".pare-export.tmp")
            .tempfile_in(&dir)
            .map_err(io("creating a file in", &dir))?;
        on_temp(tmp.path());
        let target = tmp.path().to_str().ok_or_else(|| Error::Io {
            step: "exporting to a path that is not UTF-8:",
            path: tmp.path().to_owned(),
            source: std::io::Error::from(std::io::ErrorKind::InvalidInput),
        })?;
        self.conn
            .execute("VACUUM INTO ?1", [target])
            .map_err(|e| sql("exporting the database", to, e))?;
        put_in_place(tmp, to, &dir)
    }

    /// SQLite's own check of the file's structure (`PRAGMA quick_check`): an export
    /// carried on a USB stick is checked before it replaces a database.
    pub fn check_integrity(&self) -> Result<()> {
        let verdict: String = self
            .conn
            .query_row("PRAGMA quick_check", [], |r| r.get(0))
            .map_err(|e| self.sql("checking the file", e))?;
        if verdict == "ok" {
            return Ok(());
        }
        Err(Error::Schema {
            path: self.path.clone(),
            expected: SCHEMA_VERSION,
            found: format!("a damaged file: {verdict}"),
        })
    }

    /// Every stored advisory naming the package `name` (normalised) in `ecosystem`.
    pub fn advisories_for(&self, ecosystem: &str, name: &str) -> Result<Vec<Advisory>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT a.name, a.record FROM affected f JOIN advisory a ON a.id = f.advisory
                 WHERE f.ecosystem = ?1 AND f.name = ?2 ORDER BY a.name",
            )
            .map_err(|e| self.sql("looking up advisories", e))?;
        let rows = stmt
            .query_map(params![ecosystem, name], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })
            .map_err(|e| self.sql("looking up advisories", e))?;
        let mut out = Vec::new();
        for row in rows {
            let (id, record) = row.map_err(|e| self.sql("looking up advisories", e))?;
            let advisory = serde_json::from_str(&record).map_err(|source| Error::StoredRecord {
                id,
                path: self.path.clone(),
                source,
            })?;
            out.push(advisory);
        }
        Ok(out)
    }

    /// One advisory by its id.
    pub fn advisory(&self, id: &str) -> Result<Option<Advisory>> {
        let record: Option<String> = self
            .conn
            .query_row("SELECT record FROM advisory WHERE name = ?1", [id], |r| {
                r.get(0)
            })
            .optional()
            .map_err(|e| self.sql("looking up an advisory", e))?;
        record
            .map(|r| {
                serde_json::from_str(&r).map_err(|source| Error::StoredRecord {
                    id: id.to_owned(),
                    path: self.path.clone(),
                    source,
                })
            })
            .transpose()
    }

    /// What the database holds: its sources, how many records of each ecosystem, and
    /// how old the data is.
    pub fn status(&self) -> Result<Status> {
        let err = |e| self.sql("reading the database status", e);
        let mut stmt = self
            .conn
            .prepare(
                "SELECT name, origin, fetched_at, records, withdrawn, skipped, newest_modified
                 FROM source ORDER BY name",
            )
            .map_err(err)?;
        let sources = stmt
            .query_map([], |r| {
                Ok(SourceStatus {
                    name: r.get(0)?,
                    origin: r.get(1)?,
                    fetched_at: UNIX_EPOCH + Duration::from_secs(r.get::<_, i64>(2)?.max(0) as u64),
                    records: count(r.get(3)?),
                    withdrawn: count(r.get(4)?),
                    skipped: count(r.get(5)?),
                    newest_modified: r.get(6)?,
                })
            })
            .map_err(err)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(err)?;
        let mut stmt = self
            .conn
            .prepare(
                "SELECT ecosystem, COUNT(DISTINCT advisory) FROM affected
                 GROUP BY ecosystem ORDER BY ecosystem",
            )
            .map_err(err)?;
        let ecosystems = stmt
            .query_map([], |r| {
                Ok(EcosystemCount {
                    ecosystem: r.get(0)?,
                    advisories: count(r.get(1)?),
                })
            })
            .map_err(err)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(err)?;
        let advisories = self
            .conn
            .query_row("SELECT COUNT(*) FROM advisory", [], |r| r.get(0))
            .map(count)
            .map_err(err)?;
        Ok(Status {
            path: self.path.clone(),
            schema_version: SCHEMA_VERSION,
            advisories,
            sources,
            ecosystems,
        })
    }

    fn sql(&self, step: &'static str, source: rusqlite::Error) -> Error {
        sql(step, &self.path, source)
    }
}

/// Renames the complete temporary file `tmp` over `to` (in `dir`): its data reaches
/// the disk first, and the rename itself before the old file is forgotten, so a
/// crash leaves the old file or the new one, never a part.
pub(crate) fn put_in_place(tmp: tempfile::NamedTempFile, to: &Path, dir: &Path) -> Result<()> {
    let io = |step, path: &Path| {
        let path = path.to_owned();
        move |source| Error::Io { step, path, source }
    };
    File::open(tmp.path())
        .and_then(|f| f.sync_all())
        .map_err(io("writing", tmp.path()))?;
    tmp.persist(to)
        .map_err(|e| e.error)
        .map_err(io("replacing", to))?;
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io("syncing", dir))
}

/// SQLite integers are signed; counts never are.
fn count(n: i64) -> u64 {
    n.max(0) as u64
}

pub(crate) fn sql(step: &'static str, path: &Path, source: rusqlite::Error) -> Error {
    Error::Sql {
        step,
        path: path.to_owned(),
        source,
    }
}

/// The schema version a connection's file says it has, if it is a pare database.
pub(crate) fn schema_version(conn: &Connection) -> Option<u32> {
    conn.query_row(
        "SELECT value FROM meta WHERE key = 'schema_version'",
        [],
        |r| r.get::<_, String>(0),
    )
    .ok()?
    .parse()
    .ok()
}

/// What `pare db status` shows.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Status {
    pub path: PathBuf,
    pub schema_version: u32,
    /// Stored advisories (withdrawn and invalid records are not stored).
    pub advisories: u64,
    pub sources: Vec<SourceStatus>,
    /// Advisories naming at least one package of each ecosystem (`Debian:12`, `PyPI`).
    pub ecosystems: Vec<EcosystemCount>,
}

impl Status {
    /// When the oldest source was fetched or imported: how fresh the data is, taken
    /// at its weakest.
    pub fn oldest_fetch(&self) -> Option<SystemTime> {
        self.sources.iter().map(|s| s.fetched_at).min()
    }

    /// How long ago the oldest source was fetched, measured at `now`.
    pub fn age(&self, now: SystemTime) -> Option<Duration> {
        self.oldest_fetch()
            .map(|t| now.duration_since(t).unwrap_or_default())
    }
}

/// One source of records: an osv.dev ecosystem export or an imported file or folder.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SourceStatus {
    /// `osv:PyPI` for downloads, the absolute path for imports.
    pub name: String,
    /// The URL or path the records were read from.
    pub origin: String,
    #[serde(with = "humantime_serde_secs")]
    pub fetched_at: SystemTime,
    pub records: u64,
    pub withdrawn: u64,
    /// Records that failed the OSV schema (or were not JSON).
    pub skipped: u64,
    /// The newest `modified` time among the records, as written.
    pub newest_modified: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EcosystemCount {
    pub ecosystem: String,
    pub advisories: u64,
}

/// RFC 3339 on the wire, `SystemTime` in Rust.
mod humantime_serde_secs {
    use std::time::SystemTime;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&humantime::format_rfc3339_seconds(*t))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<SystemTime, D::Error> {
        let text = String::deserialize(d)?;
        humantime::parse_rfc3339_weak(&text).map_err(serde::de::Error::custom)
    }
}
