//! Where OSV records are read from: osv.dev's `all.zip` exports (entries anywhere in
//! the archive, `ID.json`), folders of `*.json` files, or one file. Zip entries are
//! hostile input: their names are only labels in messages (nothing is ever written
//! under them) and each is read to at most [`ENTRY_LIMIT`] bytes, whatever its header
//! claims.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Whether [`Input::read_records`] goes on to the next record.
pub type Flow = std::ops::ControlFlow<()>;

/// The largest record read; the biggest real OSV records are a few hundred kB.
pub const ENTRY_LIMIT: u64 = 16 << 20;

/// One place records come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    Zip(PathBuf),
    Folder(PathBuf),
    File(PathBuf),
}

impl Input {
    /// A folder, a zip file (by its magic number or `.zip` name), or a JSON file.
    pub fn detect(path: &Path) -> Result<Input> {
        let io = |source| Error::Io {
            step: "reading",
            path: path.to_owned(),
            source,
        };
        let meta = std::fs::metadata(path).map_err(io)?;
        if meta.is_dir() {
            return Ok(Input::Folder(path.to_owned()));
        }
        let mut magic = [0u8; 4];
        let n = File::open(path)
            .and_then(|mut f| f.read(&mut magic))
            .map_err(io)?;
        let named = |ext: &str| {
            path.extension()
                .is_some_and(|e| e.eq_ignore_ascii_case(ext))
        };
        if (n == 4 && magic[..2] == *b"PK") || named("zip") {
            Ok(Input::Zip(path.to_owned()))
        } else if named("json") {
            Ok(Input::File(path.to_owned()))
        } else {
            Err(Error::NothingToImport {
                path: path.to_owned(),
            })
        }
    }

    /// How many entries a zip's central directory says it holds, read from its end
    /// before the directory itself is loaded (which costs memory per entry); `None`
    /// for folders and files, or a zip whose end is not found (opening it then fails).
    pub fn entries_claimed(&self) -> Option<u64> {
        match self {
            Input::Zip(path) => zip_entries_claimed(path),
            _ => None,
        }
    }

    pub fn path(&self) -> &Path {
        match self {
            Input::Zip(p) | Input::Folder(p) | Input::File(p) => p,
        }
    }

    /// Hands every candidate record to `each` as (a label for messages, its bytes, or
    /// `None` for a record above [`ENTRY_LIMIT`]), until `each` says to stop.
    /// A zip that is damaged, or an entry whose data does not check out, is an error:
    /// the whole input is refused, never imported in part.
    pub fn read_records(
        &self,
        each: &mut dyn FnMut(String, Option<Vec<u8>>) -> Flow,
    ) -> Result<()> {
        match self {
            Input::Zip(path) => read_zip(path, each),
            Input::Folder(path) => {
                let mut files = Vec::new();
                json_files(path, &mut files)?;
                if files.is_empty() {
                    return Err(Error::NothingToImport { path: path.clone() });
                }
                files.sort();
                for file in files {
                    let bytes = read_limited(&file)?;
                    if each(file.display().to_string(), bytes).is_break() {
                        break;
                    }
                }
                Ok(())
            }
            Input::File(path) => {
                let _ = each(path.display().to_string(), read_limited(path)?);
                Ok(())
            }
        }
    }
}

fn read_zip(path: &Path, each: &mut dyn FnMut(String, Option<Vec<u8>>) -> Flow) -> Result<()> {
    let zip_err = |source| Error::Zip {
        path: path.to_owned(),
        source,
    };
    let file = File::open(path).map_err(|source| Error::Io {
        step: "reading",
        path: path.to_owned(),
        source,
    })?;
    let mut archive = zip::ZipArchive::new(BufReader::new(file)).map_err(zip_err)?;
    let mut found = 0usize;
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).map_err(zip_err)?;
        // Only a label for messages: never a path to write to.
        let name = String::from_utf8_lossy(entry.name_raw()).into_owned();
        if !entry.is_file() || !name.to_ascii_lowercase().ends_with(".json") {
            continue;
        }
        let entry_err = |source| Error::ZipEntry {
            path: path.to_owned(),
            entry: name.clone(),
            source,
        };
        let mut bytes = Vec::with_capacity(entry.size().min(ENTRY_LIMIT) as usize);
        // Reading to the end is what makes the zip crate check the entry's CRC.
        (&mut entry)
            .take(ENTRY_LIMIT + 1)
            .read_to_end(&mut bytes)
            .map_err(entry_err)?;
        found += 1;
        if each(name, (bytes.len() as u64 <= ENTRY_LIMIT).then_some(bytes)).is_break() {
            break;
        }
    }
    if found == 0 {
        return Err(Error::NothingToImport {
            path: path.to_owned(),
        });
    }
    Ok(())
}

/// The entry count of the zip's end of central directory record (or of its zip64
/// record when that says 0xFFFF).
fn zip_entries_claimed(path: &Path) -> Option<u64> {
    use std::io::{Seek, SeekFrom};
    const EOCD: [u8; 4] = [0x50, 0x4b, 0x05, 0x06];
    const ZIP64_LOCATOR: [u8; 4] = [0x50, 0x4b, 0x06, 0x07];
    const ZIP64_EOCD: [u8; 4] = [0x50, 0x4b, 0x06, 0x06];
    let mut file = File::open(path).ok()?;
    let len = file.metadata().ok()?.len();
    // The record is 22 bytes and a comment of at most 64 KiB, with a zip64 locator of
    // 20 bytes before it.
    let tail_len = len.min(22 + 0xFFFF + 20);
    file.seek(SeekFrom::Start(len - tail_len)).ok()?;
    let mut tail = vec![0u8; tail_len as usize];
    file.read_exact(&mut tail).ok()?;
    let at = (0..tail.len().saturating_sub(21))
        .rev()
        .find(|&i| tail[i..i + 4] == EOCD)?;
    let u16_at = |b: &[u8], i: usize| u16::from_le_bytes([b[i], b[i + 1]]);
    let entries = u16_at(&tail, at + 10);
    if entries != 0xFFFF {
        return Some(u64::from(entries));
    }
    let locator = at.checked_sub(20)?;
    if tail[locator..locator + 4] != ZIP64_LOCATOR {
        return None;
    }
    let offset = u64::from_le_bytes(tail[locator + 8..locator + 16].try_into().ok()?);
    let mut record = [0u8; 40];
    file.seek(SeekFrom::Start(offset)).ok()?;
    file.read_exact(&mut record).ok()?;
    (record[..4] == ZIP64_EOCD)
        .then(|| u64::from_le_bytes(record[32..40].try_into().unwrap_or_default()))
}

/// `*.json` files below `dir`; symlinked folders are not followed (no loops).
fn json_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let io = |source| Error::Io {
        step: "listing",
        path: dir.to_owned(),
        source,
    };
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        let path = entry.path();
        let kind = entry.file_type().map_err(io)?;
        if kind.is_dir() {
            json_files(&path, out)?;
        } else if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"))
        {
            out.push(path);
        }
    }
    Ok(())
}

/// A file's bytes, or `None` for a file above the limit (skipped as a record).
fn read_limited(path: &Path) -> Result<Option<Vec<u8>>> {
    let mut bytes = Vec::new();
    File::open(path)
        .and_then(|f| f.take(ENTRY_LIMIT + 1).read_to_end(&mut bytes))
        .map_err(|source| Error::Io {
            step: "reading",
            path: path.to_owned(),
            source,
        })?;
    Ok((bytes.len() as u64 <= ENTRY_LIMIT).then_some(bytes))
}
