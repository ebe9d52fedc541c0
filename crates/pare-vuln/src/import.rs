//! Importing OSV records into the database, atomically: a new file is built beside the
//! database (from a copy of the current one, `VACUUM INTO`), the sources are
//! (re)imported into it in one transaction, and only a complete file is renamed over
//! the old one. A damaged zip, a failed read or a killed process leaves the previous
//! database untouched (and at most a temporary file, removed by the next import).
//!
//! Records are parsed and validated on worker threads while the main thread inserts.

use std::collections::HashSet;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, OpenFlags, Transaction, params};
use serde::Serialize;

use crate::db::{self, CREATE, Database, SCHEMA_VERSION, schema_version, sql};
use crate::ecosystem::normalize_name;
use crate::error::{Error, Result};
use crate::osv::{self, Advisory, Record};
use crate::source::{Flow, Input};

/// One source to import: its records replace whatever the source brought before.
#[derive(Clone, Debug)]
pub struct Source {
    /// The key a later import of the same source replaces (`osv:PyPI`, a path).
    pub name: String,
    /// Where the records came from, for `pare db status` (a URL or a path).
    pub origin: String,
    pub input: Input,
    /// When the data was fetched; now for local imports.
    pub fetched_at: SystemTime,
}

impl Source {
    /// A local file or folder, named by its absolute path.
    pub fn local(path: &Path) -> Result<Source> {
        let absolute = std::path::absolute(path).map_err(|source| Error::Io {
            step: "resolving",
            path: path.to_owned(),
            source,
        })?;
        let input = Input::detect(&absolute)?;
        let name = absolute.display().to_string();
        Ok(Source {
            origin: name.clone(),
            name,
            input,
            fetched_at: SystemTime::now(),
        })
    }
}

/// What an import did.
#[derive(Clone, Debug, Serialize)]
pub struct ImportReport {
    pub database: PathBuf,
    pub sources: Vec<SourceReport>,
    /// Why the previous file was not carried over (another schema, not a database).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rebuilt: Option<String>,
}

/// What one source brought.
#[derive(Clone, Debug, Serialize)]
pub struct SourceReport {
    pub name: String,
    pub records: u64,
    pub withdrawn: u64,
    /// The first [`SKIPPED_KEPT`] records left out, by entry; the database keeps all.
    pub skipped: Vec<Skipped>,
    /// How many records were left out in all.
    pub skipped_count: u64,
}

/// How many skipped records a report lists: enough to show, and bounded whatever a
/// hostile file holds (each is stored in the database as it comes).
pub const SKIPPED_KEPT: usize = 1000;

/// A record left out, and why.
#[derive(Clone, Debug, Serialize)]
pub struct Skipped {
    /// The zip entry or file.
    pub entry: String,
    /// The record's id, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record: Option<String>,
    pub reason: String,
}

/// Imports `sources` into the database at `database`, creating it if needed.
pub fn import(database: &Path, sources: &[Source]) -> Result<ImportReport> {
    import_with(database, sources, &mut |_| {})
}

/// [`import`], telling `on_temp` the path of each temporary file or folder it makes
/// (a caller that can be interrupted by a signal, where no destructor runs, registers
/// their removal). They are removed when the import ends, whatever the outcome; those
/// a killed process left are recognised by their names and removed by the next import.
pub fn import_with(
    database: &Path,
    sources: &[Source],
    on_temp: &mut dyn FnMut(&Path),
) -> Result<ImportReport> {
    let dir = database_dir(database)?;
    let _lock = WriterLock::take(&dir, database)?;
    import_locked(database, &dir, sources, on_temp)
}

/// Whether `path` is a file `pare db export` wrote (an SQLite database file), not
/// records to import.
pub fn is_export(path: &Path) -> bool {
    let mut magic = [0u8; 16];
    File::open(path)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut magic))
        .is_ok()
        && &magic == b"SQLite format 3\0"
}

/// Puts the database `export` (written by [`Database::export`] on another machine)
/// in the place of `database`: copied beside it, checked (pare's schema version,
/// SQLite's integrity check), then renamed over it under the writer lock, so a
/// damaged or foreign file changes nothing. The export is the whole database of the
/// machine it came from, so sources imported here before are replaced too.
pub fn import_export(
    database: &Path,
    export: &Path,
    on_temp: &mut dyn FnMut(&Path),
) -> Result<db::Status> {
    let io = |step, path: &Path| {
        let path = path.to_owned();
        move |source| Error::Io { step, path, source }
    };
    let (dir, _lock) = lock(database)?;
    let tmp = tempfile::Builder::new()
        .prefix(&temp_prefix(database))
        .tempfile_in(&dir)
        .map_err(io("creating a file in", &dir))?;
    on_temp(tmp.path());
    std::fs::copy(export, tmp.path()).map_err(io("reading", export))?;
    let status = {
        let copy = Database::open(tmp.path()).map_err(|e| match e {
            Error::Schema {
                expected, found, ..
            } => Error::Schema {
                path: export.to_owned(),
                expected,
                found,
            },
            other => other,
        })?;
        copy.check_integrity().map_err(|_| Error::Schema {
            path: export.to_owned(),
            expected: SCHEMA_VERSION,
            found: "a damaged file (SQLite's integrity check failed)".into(),
        })?;
        copy.status()?
    };
    db::put_in_place(tmp, database, &dir)?;
    Ok(db::Status {
        path: database.to_owned(),
        ..status
    })
}

/// A temporary folder beside `database`, named so that the next import removes it if
/// this process is killed; for [`crate::update`]'s downloads.
pub(crate) fn temp_dir(database: &Path, dir: &Path) -> Result<tempfile::TempDir> {
    tempfile::Builder::new()
        .prefix(&temp_prefix(database))
        .tempdir_in(dir)
        .map_err(|source| Error::Io {
            step: "creating a folder in",
            path: dir.to_owned(),
            source,
        })
}

/// Takes the writer lock of `database` (see [`import_with`]).
pub(crate) fn lock(database: &Path) -> Result<(PathBuf, impl Sized)> {
    let dir = database_dir(database)?;
    let lock = WriterLock::take(&dir, database)?;
    Ok((dir, lock))
}

/// [`import_with`] with the writer lock held.
pub(crate) fn import_locked(
    database: &Path,
    dir: &Path,
    sources: &[Source],
    on_temp: &mut dyn FnMut(&Path),
) -> Result<ImportReport> {
    let dir = dir.to_owned();
    let tmp = tempfile::Builder::new()
        .prefix(&temp_prefix(database))
        .tempfile_in(&dir)
        .map_err(|source| Error::Io {
            step: "creating a file in",
            path: dir.clone(),
            source,
        })?;
    on_temp(tmp.path());
    let rebuilt = copy_current(database, tmp.path())?;
    let mut conn = Connection::open(tmp.path()).map_err(|e| sql("creating", tmp.path(), e))?;
    // The file is thrown away unless complete: no journal, no syncs until the end.
    conn.execute_batch(
        "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA foreign_keys = OFF;",
    )
    .map_err(|e| sql("preparing", tmp.path(), e))?;
    conn.execute_batch(CREATE)
        .map_err(|e| sql("creating the tables", tmp.path(), e))?;
    conn.execute(
        "INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?1)",
        [SCHEMA_VERSION.to_string()],
    )
    .map_err(|e| sql("writing the schema version", tmp.path(), e))?;

    let tx = conn
        .transaction()
        .map_err(|e| sql("starting the import", tmp.path(), e))?;
    let mut reports = Vec::new();
    for source in sources {
        reports.push(import_source(&tx, tmp.path(), source)?);
    }
    tx.commit()
        .map_err(|e| sql("committing the import", tmp.path(), e))?;
    conn.close()
        .map_err(|(_, e)| sql("closing", tmp.path(), e))?;

    db::put_in_place(tmp, database, &dir)?;
    Ok(ImportReport {
        database: database.to_owned(),
        sources: reports,
        rebuilt,
    })
}

/// The folder of `database`, created if missing.
pub(crate) fn database_dir(database: &Path) -> Result<PathBuf> {
    let dir = match database.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).map_err(|source| Error::Io {
        step: "creating",
        path: dir.clone(),
        source,
    })?;
    Ok(dir)
}

/// The temporary files of imports into `database` start with this.
fn temp_prefix(database: &Path) -> String {
    let name = database
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| db::FILE_NAME.into());
    format!(".{name}.tmp")
}

/// Copies the current database into `tmp`; says why not when it cannot be carried
/// over (then the new file starts empty).
fn copy_current(database: &Path, tmp: &Path) -> Result<Option<String>> {
    if !database.exists() {
        return Ok(None);
    }
    let old = match Connection::open_with_flags(database, OpenFlags::SQLITE_OPEN_READ_ONLY) {
        Ok(c) => c,
        Err(e) => return Ok(Some(format!("the previous file could not be opened ({e})"))),
    };
    match schema_version(&old) {
        Some(SCHEMA_VERSION) => {}
        Some(v) => return Ok(Some(format!("the previous file has schema {v}"))),
        None => {
            return Ok(Some(
                "the previous file is not a pare advisory database".into(),
            ));
        }
    }
    let target = tmp.to_string_lossy();
    old.execute("VACUUM INTO ?1", [target.as_ref()])
        .map_err(|e| sql("copying the current database", database, e))?;
    Ok(None)
}

/// Only one writer at a time per database; readers never wait. Released on drop.
struct WriterLock {
    _held: File,
}

impl WriterLock {
    fn take(dir: &Path, database: &Path) -> Result<WriterLock> {
        let path = dir.join(format!("{}.lock", temp_prefix(database)));
        let io = |source| Error::Io {
            step: "locking",
            path: path.clone(),
            source,
        };
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io)?;
        file.lock().map_err(io)?;
        // With the lock held no other import or update is running: what temporary
        // files and download folders remain were left by a killed one.
        if let Ok(entries) = std::fs::read_dir(dir) {
            let prefix = temp_prefix(database);
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if name.starts_with(&prefix) && !name.ends_with(".lock") {
                    // Never followed: a symlink is removed, not what it names.
                    match e.file_type() {
                        Ok(t) if t.is_dir() => std::fs::remove_dir_all(e.path()),
                        _ => std::fs::remove_file(e.path()),
                    }
                    .ok();
                }
            }
        }
        Ok(WriterLock { _held: file })
    }
}

/// A parsed record on its way from a worker to the writer.
struct Parsed {
    seq: usize,
    entry: String,
    record: Record,
}

fn import_source(tx: &Transaction, path: &Path, source: &Source) -> Result<SourceReport> {
    let err = |step| move |e| sql(step, path, e);
    tx.execute(
        "DELETE FROM affected WHERE advisory IN
           (SELECT a.id FROM advisory a JOIN source s ON s.id = a.source WHERE s.name = ?1)",
        [&source.name],
    )
    .map_err(err("removing the source's old records"))?;
    tx.execute(
        "DELETE FROM advisory WHERE source IN (SELECT id FROM source WHERE name = ?1)",
        [&source.name],
    )
    .map_err(err("removing the source's old records"))?;
    tx.execute(
        "DELETE FROM skipped WHERE source IN (SELECT id FROM source WHERE name = ?1)",
        [&source.name],
    )
    .map_err(err("removing the source's old records"))?;
    let fetched = source
        .fetched_at
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let source_id: i64 = tx
        .query_row(
            "INSERT INTO source (name, origin, fetched_at, records, withdrawn, skipped)
             VALUES (?1, ?2, ?3, 0, 0, 0)
             ON CONFLICT (name) DO UPDATE SET origin = ?2, fetched_at = ?3
             RETURNING id",
            params![source.name, source.origin, fetched],
            |r| r.get(0),
        )
        .map_err(err("recording the source"))?;

    let mut writer = Writer::new(tx, path, source_id)?;
    let mut report = SourceReport {
        name: source.name.clone(),
        records: 0,
        withdrawn: 0,
        skipped: Vec::new(),
        skipped_count: 0,
    };
    let mut record_skipped = tx
        .prepare("INSERT INTO skipped (source, entry, record, reason) VALUES (?1, ?2, ?3, ?4)")
        .map_err(err("recording skipped records"))?;
    let read = parse_in_parallel(&source.input, MAX_RECORDS, |parsed| {
        match parsed.record {
            Record::Valid(advisory) => {
                writer.insert(&advisory, parsed.seq)?;
            }
            Record::Withdrawn(_) => report.withdrawn += 1,
            Record::Invalid { id, reason } => {
                record_skipped
                    .execute(params![source_id, parsed.entry, id, reason])
                    .map_err(err("recording skipped records"))?;
                report.skipped_count += 1;
                report.skipped.push(Skipped {
                    entry: parsed.entry,
                    record: id,
                    reason,
                });
                if report.skipped.len() >= 2 * SKIPPED_KEPT {
                    keep_first(&mut report.skipped);
                }
            }
        }
        Ok(())
    });
    read?;
    report.records = writer.inserted.len() as u64;
    keep_first(&mut report.skipped);
    tx.execute(
        "UPDATE source SET records = ?2, withdrawn = ?3, skipped = ?4, newest_modified = ?5
         WHERE id = ?1",
        params![
            source_id,
            report.records as i64,
            report.withdrawn as i64,
            report.skipped_count as i64,
            writer.newest_modified
        ],
    )
    .map_err(err("recording the source"))?;
    Ok(report)
}

/// The [`SKIPPED_KEPT`] first skipped records by entry (whatever order the parsers
/// finished in).
fn keep_first(skipped: &mut Vec<Skipped>) {
    skipped.sort_by(|a, b| (&a.entry, &a.record, &a.reason).cmp(&(&b.entry, &b.record, &b.reason)));
    skipped.truncate(SKIPPED_KEPT);
}

/// The most records one source may hold: several times the largest real one (osv.dev's
/// biggest ecosystems hold a few hundred thousand). Past it the import stops with
/// [`Error::TooManyRecords`] before the bookkeeping per record grows further.
pub const MAX_RECORDS: u64 = 2_000_000;

/// The bytes of records read but not yet stored, at most (one record alone may be
/// larger, up to [`crate::source::ENTRY_LIMIT`]). Parsed records cost a few times
/// their text, so memory stays a small multiple of this or of the largest record,
/// however far the parsers run ahead of the database.
const IN_FLIGHT: u64 = 4 << 20;

/// Record bytes between the reader and the writer, counted: the reader waits while
/// what is in flight would pass [`IN_FLIGHT`].
#[derive(Default)]
struct InFlight {
    state: Mutex<InFlightState>,
    changed: std::sync::Condvar,
}

#[derive(Default)]
struct InFlightState {
    bytes: u64,
    closed: bool,
    /// Whether the reader waits: the writer wakes it only then (a wake-up per record
    /// cost `pare db import` a few percent).
    waiting: bool,
}

impl InFlight {
    fn lock(&self) -> std::sync::MutexGuard<'_, InFlightState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits until `size` more bytes fit (or nothing is in flight), then counts them;
    /// `false` once the writer has given up.
    fn take(&self, size: u64) -> bool {
        let mut state = self.lock();
        while !state.closed && state.bytes > 0 && state.bytes + size > IN_FLIGHT {
            state.waiting = true;
            state = self.changed.wait(state).unwrap_or_else(|p| p.into_inner());
        }
        state.waiting = false;
        state.bytes += size;
        !state.closed
    }

    /// `size` bytes are stored (or dropped).
    fn give(&self, size: u64) {
        let mut state = self.lock();
        state.bytes = state.bytes.saturating_sub(size);
        if state.waiting {
            self.changed.notify_all();
        }
    }

    /// The writer stopped: nobody waits any more.
    fn close(&self) {
        self.lock().closed = true;
        self.changed.notify_all();
    }
}

/// Reads `input` on one thread, parses and validates on workers, and hands each
/// parsed record to `sink` on the calling thread. The first error (from reading or
/// from `sink`) ends the import. Memory is bounded by [`IN_FLIGHT`] (or the largest
/// record), not by how many records wait.
fn parse_in_parallel(
    input: &Input,
    max_records: u64,
    mut sink: impl FnMut(Parsed) -> Result<()>,
) -> Result<()> {
    // A zip that says it holds more is refused before its directory is loaded.
    if input.entries_claimed().is_some_and(|n| n > max_records) {
        return Err(Error::TooManyRecords {
            path: input.path().to_owned(),
            limit: max_records,
        });
    }
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get().clamp(1, 4));
    let (raw_tx, raw_rx) = mpsc::sync_channel::<(usize, String, Option<Vec<u8>>)>(256);
    let raw_rx = Arc::new(Mutex::new(raw_rx));
    let (parsed_tx, parsed_rx) = mpsc::sync_channel::<(u64, Parsed)>(256);
    let in_flight = InFlight::default();
    std::thread::scope(|scope| {
        let in_flight = &in_flight;
        let reader = scope.spawn(move || {
            let mut seq = 0;
            let mut too_many = false;
            let read = input.read_records(&mut |entry, bytes| {
                if seq as u64 >= max_records {
                    too_many = true;
                    return Flow::Break(());
                }
                let size = bytes.as_ref().map_or(0, |b| b.len() as u64);
                // A closed channel means the writer gave up; it reports why.
                if !in_flight.take(size) || raw_tx.send((seq, entry, bytes)).is_err() {
                    return Flow::Break(());
                }
                seq += 1;
                Flow::Continue(())
            });
            match read {
                Ok(()) if too_many => Err(Error::TooManyRecords {
                    path: input.path().to_owned(),
                    limit: max_records,
                }),
                other => other,
            }
        });
        for _ in 0..workers {
            let raw_rx = Arc::clone(&raw_rx);
            let parsed_tx = parsed_tx.clone();
            scope.spawn(move || {
                loop {
                    let next = raw_rx.lock().map(|rx| rx.recv());
                    let Ok(Ok((seq, entry, bytes))) = next else {
                        return;
                    };
                    let size = bytes.as_ref().map_or(0, |b| b.len() as u64);
                    let record = match bytes {
                        Some(b) => osv::read_record(&b),
                        None => Record::Invalid {
                            id: None,
                            reason: format!("larger than {} MiB", crate::source::ENTRY_LIMIT >> 20),
                        },
                    };
                    if parsed_tx
                        .send((size, Parsed { seq, entry, record }))
                        .is_err()
                    {
                        return;
                    }
                }
            });
        }
        drop(parsed_tx);
        let mut outcome = Ok(());
        for (size, parsed) in parsed_rx.iter() {
            let stored = sink(parsed);
            in_flight.give(size);
            if let Err(e) = stored {
                outcome = Err(e);
                break;
            }
        }
        // Closing stops the reader; dropping the receiver stops the workers.
        in_flight.close();
        drop(parsed_rx);
        let read = reader
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p));
        outcome.and(read)
    })
}

/// Inserts one source's advisories with prepared statements.
struct Writer<'t> {
    find: rusqlite::Statement<'t>,
    remove_affected: rusqlite::Statement<'t>,
    remove: rusqlite::Statement<'t>,
    insert: rusqlite::Statement<'t>,
    index: rusqlite::Statement<'t>,
    path: &'t Path,
    source_id: i64,
    /// Ids inserted from this source, with the order they were read in.
    inserted: std::collections::HashMap<String, (usize, String)>,
    newest_modified: Option<String>,
}

impl<'t> Writer<'t> {
    fn new(tx: &'t Transaction, path: &'t Path, source_id: i64) -> Result<Self> {
        let prepare = |q: &str| {
            tx.prepare(q)
                .map_err(|e| sql("preparing the import", path, e))
        };
        Ok(Writer {
            find: prepare("SELECT id FROM advisory WHERE name = ?1")?,
            remove_affected: prepare("DELETE FROM affected WHERE advisory = ?1")?,
            remove: prepare("DELETE FROM advisory WHERE id = ?1")?,
            insert: prepare("INSERT INTO advisory (name, source, record) VALUES (?1, ?2, ?3)")?,
            index: prepare(
                "INSERT OR IGNORE INTO affected (ecosystem, name, advisory) VALUES (?1, ?2, ?3)",
            )?,
            path,
            source_id,
            inserted: Default::default(),
            newest_modified: None,
        })
    }

    fn insert(&mut self, advisory: &Advisory, seq: usize) -> Result<()> {
        let err = |e| sql("storing an advisory", self.path, e);
        // The same id twice in one source (a dump with a stale copy): the newer
        // `modified` wins, then the one read later, so the result does not depend on
        // thread timing. From another source: this import replaces it.
        if let Some((prev_seq, prev_modified)) = self.inserted.get(&advisory.id) {
            let newer = (advisory.modified.as_str(), seq) > (prev_modified.as_str(), *prev_seq);
            if !newer {
                return Ok(());
            }
        }
        let existing: Option<i64> = self.find.query_row([&advisory.id], |r| r.get(0)).ok();
        if let Some(id) = existing {
            self.remove_affected.execute([id]).map_err(err)?;
            self.remove.execute([id]).map_err(err)?;
        }
        let record = serde_json::to_string(advisory).map_err(|source| Error::StoredRecord {
            id: advisory.id.clone(),
            path: self.path.to_owned(),
            source,
        })?;
        let rowid = self
            .insert
            .insert(params![advisory.id, self.source_id, record])
            .map_err(err)?;
        let mut seen = HashSet::new();
        for a in &advisory.affected {
            let name = normalize_name(&a.ecosystem, &a.name);
            if seen.insert((a.ecosystem.as_str(), name.clone())) {
                self.index
                    .execute(params![a.ecosystem, name, rowid])
                    .map_err(err)?;
            }
        }
        if self
            .newest_modified
            .as_deref()
            .is_none_or(|n| advisory.modified.as_str() > n)
        {
            self.newest_modified = Some(advisory.modified.clone());
        }
        self.inserted
            .insert(advisory.id.clone(), (seq, advisory.modified.clone()));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Database;
    use crate::testing::data;

    fn local(rel: &str) -> Source {
        Source::local(&data(rel)).unwrap()
    }

    #[test]
    fn both_real_dumps_with_the_schema_failures_counted() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("cache/advisories.sqlite");
        let report = import(
            &db,
            &[
                local("dumps/PyPI-pypa-advisory-database-2024-10-10.zip"),
                local("dumps/Go-vulndb-2026-08-21.zip"),
            ],
        )
        .unwrap();
        let [pypi, go] = &report.sources[..] else {
            panic!("{report:?}")
        };
        // 2,661 PYSEC records: 7 fail the schema, 10 are withdrawn.
        assert_eq!(
            (pypi.records, pypi.withdrawn, pypi.skipped.len()),
            (2644, 10, 7)
        );
        let skipped: Vec<&str> = pypi
            .skipped
            .iter()
            .filter_map(|s| s.record.as_deref())
            .collect();
        assert_eq!(
            skipped,
            [
                "PYSEC-2017-27",
                "PYSEC-2019-155",
                "PYSEC-2021-371",
                "PYSEC-2021-424",
                "PYSEC-2021-425",
                "PYSEC-2021-436",
                "PYSEC-2023-80"
            ]
        );
        // 4,291 Go records, all valid, 17 withdrawn.
        assert_eq!((go.records, go.withdrawn, go.skipped.len()), (4274, 17, 0));
        let status = Database::open(&db).unwrap().status().unwrap();
        assert_eq!(status.advisories, 2644 + 4274);
        assert_eq!(status.sources.len(), 2);
        let stdlib = Database::open(&db)
            .unwrap()
            .advisories_for("Go", "stdlib")
            .unwrap();
        assert!(stdlib.len() > 150, "{}", stdlib.len());
        // No temporary file or half-written database is left beside it.
        let names: Vec<String> = std::fs::read_dir(db.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| !n.ends_with(".lock"))
            .collect();
        assert_eq!(names, ["advisories.sqlite"]);
    }

    #[test]
    fn reimporting_a_source_replaces_its_records_and_keeps_the_others() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("advisories.sqlite");
        import(&db, &[local("osv/PyPI"), local("debian-osv-derived")]).unwrap();
        let before = Database::open(&db).unwrap().status().unwrap();
        assert_eq!(before.advisories, 27 + 14);
        // The same folder again: nothing doubles.
        let report = import(&db, &[local("osv/PyPI")]).unwrap();
        assert_eq!(report.sources[0].records, 27);
        let after = Database::open(&db).unwrap();
        assert_eq!(after.status().unwrap().advisories, 27 + 14);
        let flask = after.advisories_for("PyPI", "flask").unwrap();
        let ids: Vec<&str> = flask.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "GHSA-m2qf-hxjv-5gpq",
                "PYSEC-2018-66",
                "PYSEC-2019-179",
                "PYSEC-2023-62"
            ]
        );
        // Debian records are indexed by release and source package.
        let perl = after.advisories_for("Debian:12", "perl").unwrap();
        assert_eq!(perl.len(), 3);
    }

    #[test]
    fn allzip_samples_with_entries_in_subfolders() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("advisories.sqlite");
        let report = import(
            &db,
            &[
                local("osv-allzip-samples/python-all.zip"),
                local("osv-allzip-samples/go-all.zip"),
                local("osv-allzip-samples/rust-all.zip"),
            ],
        )
        .unwrap();
        let counts: Vec<u64> = report.sources.iter().map(|s| s.records).collect();
        assert_eq!(counts, [4, 3, 3]);
        let db = Database::open(&db).unwrap();
        assert!(
            db.advisory("PYSEC-2023-120").unwrap().is_some(),
            "entry in a sub-folder"
        );
        let smallvec = db.advisories_for("crates.io", "smallvec").unwrap();
        assert_eq!(smallvec[0].id, "RUSTSEC-2019-0009");
    }

    #[test]
    fn a_damaged_zip_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("advisories.sqlite");
        import(&db, &[local("osv/PyPI")]).unwrap();
        let before = std::fs::read(&db).unwrap();
        // Flip one byte inside the compressed data of the first entry: its CRC fails.
        let mut zip = std::fs::read(data("dumps/Go-vulndb-2026-08-21.zip")).unwrap();
        zip[200] ^= 0xff;
        let damaged = dir.path().join("all.zip");
        std::fs::write(&damaged, &zip).unwrap();
        let err = import(&db, &[Source::local(&damaged).unwrap()]).unwrap_err();
        assert!(
            matches!(err, Error::ZipEntry { .. } | Error::Zip { .. }),
            "{err:?}"
        );
        // Cut short, as an interrupted download would leave it.
        let truncated = dir.path().join("short.zip");
        std::fs::write(&truncated, &zip[..zip.len() / 2]).unwrap();
        let err = import(&db, &[Source::local(&truncated).unwrap()]).unwrap_err();
        assert!(matches!(err, Error::Zip { .. }), "{err:?}");
        assert_eq!(std::fs::read(&db).unwrap(), before);
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            4,
            "db, lock, 2 inputs"
        );
    }

    #[test]
    fn past_the_record_limit_a_source_is_a_clear_error() {
        let input = local("osv/PyPI").input;
        let mut seen = 0;
        let err = parse_in_parallel(&input, 5, |_| {
            seen += 1;
            Ok(())
        })
        .unwrap_err();
        assert!(
            matches!(err, Error::TooManyRecords { limit: 5, .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains("more than 5 records"), "{err}");
        assert_eq!(seen, 5);
        // At the limit exactly, all is well.
        let all = std::fs::read_dir(data("osv/PyPI")).unwrap().count() as u64;
        parse_in_parallel(&input, all, |_| Ok(())).unwrap();
    }

    #[test]
    fn a_report_lists_a_bounded_number_of_skipped_records() {
        let dir = tempfile::tempdir().unwrap();
        let records = dir.path().join("records");
        std::fs::create_dir(&records).unwrap();
        let n = SKIPPED_KEPT * 2 + 7;
        for i in 0..n {
            std::fs::write(records.join(format!("{i:05}.json")), b"not json").unwrap();
        }
        let db = dir.path().join("advisories.sqlite");
        let report = import(&db, &[Source::local(&records).unwrap()]).unwrap();
        let source = &report.sources[0];
        assert_eq!(source.skipped_count, n as u64);
        assert_eq!(source.skipped.len(), SKIPPED_KEPT);
        assert!(source.skipped[0].entry.ends_with("00000.json"));
        let status = Database::open(&db).unwrap().status().unwrap();
        assert_eq!(status.sources[0].skipped, n as u64);
    }

    #[test]
    fn a_zip_claiming_too_many_entries_is_refused_before_it_is_opened() {
        let zip = local("dumps/Go-vulndb-2026-08-21.zip").input;
        let entries = zip.entries_claimed().expect("an end of central directory");
        let opened = ::zip::ZipArchive::new(File::open(zip.path()).unwrap()).unwrap();
        assert_eq!(entries, opened.len() as u64);
        let mut seen = 0;
        let err = parse_in_parallel(&zip, entries - 1, |_| {
            seen += 1;
            Ok(())
        })
        .unwrap_err();
        assert!(matches!(err, Error::TooManyRecords { .. }), "{err:?}");
        assert_eq!(seen, 0, "refused before any record was read");
        assert_eq!(local("osv/PyPI").input.entries_claimed(), None);
        // Past 65,535 entries the count is in the zip64 record.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("many.zip");
        let mut many = ::zip::ZipWriter::new(File::create(&path).unwrap());
        let stored = ::zip::write::SimpleFileOptions::default()
            .compression_method(::zip::CompressionMethod::Stored);
        for i in 0..70_000 {
            many.start_file(format!("{i}.json"), stored).unwrap();
        }
        many.finish().unwrap();
        assert_eq!(Input::Zip(path).entries_claimed(), Some(70_000));
    }

    #[test]
    fn records_in_flight_stay_within_the_budget() {
        let flight = Arc::new(InFlight::default());
        assert!(flight.take(IN_FLIGHT - 10));
        // A record that does not fit waits until the writer has stored enough.
        let waiting = {
            let flight = Arc::clone(&flight);
            std::thread::spawn(move || flight.take(20))
        };
        std::thread::sleep(std::time::Duration::from_millis(100));
        assert!(!waiting.is_finished(), "over the budget");
        flight.give(IN_FLIGHT - 10);
        assert!(waiting.join().unwrap());
        // One record larger than the budget alone still goes.
        flight.give(20);
        assert!(flight.take(IN_FLIGHT * 4));
        // Once the writer gives up, nobody waits.
        flight.close();
        assert!(!flight.take(1));
    }

    #[test]
    fn what_a_killed_import_left_is_removed_by_the_next() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("advisories.sqlite");
        let left_file = dir.path().join(".advisories.sqlite.tmpAbC123");
        let left_dir = dir.path().join(".advisories.sqlite.tmpdownload");
        std::fs::write(&left_file, vec![0u8; 1 << 20]).unwrap();
        std::fs::create_dir(&left_dir).unwrap();
        std::fs::write(left_dir.join("0.zip"), b"partial").unwrap();
        let mine = dir.path().join("keep-me.sqlite");
        std::fs::write(&mine, b"not ours").unwrap();
        let mut temps = Vec::new();
        import_with(&db, &[local("osv/npm")], &mut |t| temps.push(t.to_owned())).unwrap();
        assert!(!left_file.exists() && !left_dir.exists());
        assert!(mine.exists());
        // The import's own temporary file was named for the next run to find.
        assert_eq!(temps.len(), 1);
        let name = temps[0].file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.starts_with(".advisories.sqlite.tmp"), "{name}");
        assert!(!temps[0].exists());
    }

    #[test]
    fn not_a_database_is_rebuilt_not_trusted() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("advisories.sqlite");
        std::fs::write(&db, b"not sqlite").unwrap();
        assert!(matches!(
            Database::open(&db),
            Err(Error::Schema { .. }) | Err(Error::Sql { .. })
        ));
        let report = import(&db, &[local("osv/npm")]).unwrap();
        assert!(report.rebuilt.is_some());
        assert_eq!(Database::open(&db).unwrap().status().unwrap().advisories, 1);
    }
}
