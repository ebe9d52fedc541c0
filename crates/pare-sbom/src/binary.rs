//! Summaries of executables, shared libraries and jars, made while their bytes stream
//! past (see [`pare_image::ContentReducer`]): whether a file is ELF, its Go build info,
//! its `cargo auditable` dependency list, and what a jar's manifests and
//! `pom.properties` say. Only the summary is kept, so memory stays bounded.
//!
//! Go (1.18 and later) writes its build info at the start of the data segment behind
//! the 16-byte-aligned magic `\xff Go buildinf:`; `cargo auditable` stores a
//! zlib-compressed JSON document (`{"packages":[…`). Both are found by scanning the
//! stream, without the section table (which comes last in the file).

use std::collections::BTreeMap;
use std::io::Read;

use flate2::{Decompress, FlushDecompress};
use pare_image::ContentReducer;

use crate::context::Context;
use crate::java;
use crate::summary::{MAGIC, Summary, encode};

const ELF_MAGIC: &[u8] = b"\x7fELF";
const GO_MAGIC: &[u8] = b"\xff Go buildinf:";
const AUDIT_PREFIX: &[u8] = b"{\"packages\":[";
/// How much of the Go build info blob to capture (module lists are a few KB).
const GO_CAPTURE: usize = 512 << 10;
/// How much compressed `cargo auditable` data to capture.
const AUDIT_CAPTURE: usize = 1 << 20;
/// Bytes of look-ahead needed to test a zlib candidate.
const AUDIT_LOOKAHEAD: usize = 2048;
/// The largest decompressed `cargo auditable` document accepted.
const AUDIT_MAX_JSON: u64 = 16 << 20;

/// Chooses what to summarise: jars by name, and files with an execute bit or a shared
/// library's name.
pub(crate) fn reducer_for(path: &str, size: u64, mode: u32) -> Option<Box<dyn ContentReducer>> {
    if java::is_archive(path) {
        return Some(Box::new(java::JarReducer::new(path, size)));
    }
    (size >= 64 && (mode & 0o111 != 0 || is_library_name(path)))
        .then(|| Box::new(ElfReducer::new(size)) as Box<dyn ContentReducer>)
}

/// `libz.so`, `libz.so.1.2.13`, `_yaml.cpython-311-x86_64-linux-gnu.so`.
pub(crate) fn is_library_name(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.ends_with(".so")
        || name
            .split_once(".so.")
            .is_some_and(|(_, v)| v.starts_with(|c: char| c.is_ascii_digit()))
}

/// Every summary in the index, by path.
pub(crate) fn summaries(cx: &mut Context) -> BTreeMap<String, Summary> {
    cx.kept_files()
        .filter_map(|(path, node)| {
            let bytes = node.content.as_deref()?.strip_prefix(MAGIC)?;
            Some((path.to_owned(), serde_json::from_slice(bytes).ok()?))
        })
        .collect()
}

/// Streams an executable or library: ELF check, Go build info, `cargo auditable` data.
struct ElfReducer {
    size: u64,
    head: Vec<u8>,
    /// Absolute offset of `window[0]`.
    window_start: u64,
    /// The last bytes seen, so that a pattern cut by a chunk boundary is still found.
    window: Vec<u8>,
    /// Where in the window zlib candidates have been tested up to.
    audit_checked: u64,
    /// Offset of the Go magic being captured.
    go_at: Option<u64>,
    go: Option<Vec<u8>>,
    audit: Option<Vec<u8>>,
    summary: Summary,
}

impl ElfReducer {
    fn new(size: u64) -> Self {
        ElfReducer {
            size,
            head: Vec::new(),
            window_start: 0,
            window: Vec::new(),
            audit_checked: 0,
            go_at: None,
            go: None,
            audit: None,
            summary: Summary::default(),
        }
    }

    /// Looks for both markers in the window; `at_end` tests every zlib candidate left.
    fn scan(&mut self, at_end: bool) {
        let start = self.window_start;
        // Go: the last 16-byte-aligned magic with a sane header wins (the first ones can
        // be the literal in programs that read build info themselves).
        for i in memchr::memmem::find_iter(&self.window, GO_MAGIC) {
            let at = start + i as u64;
            let header_ok = self
                .window
                .get(i + 14..i + 16)
                .is_some_and(|h| matches!(h[0], 4 | 8) && h[1] & !0x3 == 0);
            let newer = self.go_at.is_none_or(|seen| at > seen);
            if at.is_multiple_of(16) && newer && (header_ok || self.window.len() - i < 16) {
                self.go_at = Some(at);
                self.go = Some(self.window[i..].to_vec());
            }
        }
        if self.audit.is_none() {
            let checked_to = (self.audit_checked.max(start) - start) as usize;
            let limit = if at_end {
                self.window.len()
            } else {
                self.window.len().saturating_sub(AUDIT_LOOKAHEAD)
            };
            let mut i = checked_to;
            while i < limit {
                let Some(found) = memchr::memchr(0x78, &self.window[i..limit]) else {
                    break;
                };
                let at = i + found;
                if is_audit_stream(&self.window[at..]) {
                    self.audit = Some(self.window[at..].to_vec());
                    break;
                }
                i = at + 1;
            }
            self.audit_checked = start + limit as u64;
        }
    }

    /// Keeps the window short: only what a cut pattern or a pending candidate needs.
    fn trim_window(&mut self) {
        let keep = AUDIT_LOOKAHEAD.max(GO_MAGIC.len());
        if self.window.len() > keep {
            let cut = self.window.len() - keep;
            self.window.drain(..cut);
            self.window_start += cut as u64;
        }
    }
}

impl ContentReducer for ElfReducer {
    fn update(&mut self, chunk: &[u8]) -> bool {
        if self.head.len() < 64 {
            let take = (64 - self.head.len()).min(chunk.len());
            self.head.extend_from_slice(&chunk[..take]);
            if self.head.len() >= 4 && !self.head.starts_with(ELF_MAGIC) {
                return false;
            }
        }
        // Captures in progress take the new bytes first.
        for (capture, cap) in [(&mut self.go, GO_CAPTURE), (&mut self.audit, AUDIT_CAPTURE)] {
            if let Some(c) = capture.as_mut().filter(|c| c.len() < cap) {
                let room = cap - c.len();
                c.extend_from_slice(&chunk[..room.min(chunk.len())]);
            }
        }
        self.window.extend_from_slice(chunk);
        self.scan(false);
        self.trim_window();
        true
    }

    fn finish(mut self: Box<Self>) -> Option<Vec<u8>> {
        if !self.head.starts_with(ELF_MAGIC) {
            return (self.head.len() >= 4).then(|| encode(&Summary::default()));
        }
        self.scan(true);
        self.summary.elf = true;
        self.summary.problem = elf_header_problem(&self.head, self.size);
        self.summary.go_buildinfo = self.go.take();
        self.summary.cargo_audit = self.audit.take().and_then(|z| inflate_audit(&z));
        Some(encode(&self.summary))
    }
}

/// Whether `bytes` start a zlib stream that inflates to `{"packages":[`.
fn is_audit_stream(bytes: &[u8]) -> bool {
    if bytes.len() < 2 || bytes[0] != 0x78 || !matches!(bytes[1], 0x01 | 0x5e | 0x9c | 0xda) {
        return false;
    }
    let mut out = [0u8; AUDIT_PREFIX.len()];
    let mut inflater = Decompress::new(true);
    let input = &bytes[..bytes.len().min(AUDIT_LOOKAHEAD)];
    match inflater.decompress(input, &mut out, FlushDecompress::None) {
        Ok(_) => inflater.total_out() as usize == out.len() && out == AUDIT_PREFIX,
        Err(_) => false,
    }
}

fn inflate_audit(compressed: &[u8]) -> Option<String> {
    let mut json = String::new();
    flate2::read::ZlibDecoder::new(compressed)
        .take(AUDIT_MAX_JSON)
        .read_to_string(&mut json)
        .ok()?;
    Some(json)
}

/// Checks the ELF header fields that every real object has; a file that only starts
/// with the magic (or is cut short) fails here.
fn elf_header_problem(head: &[u8], size: u64) -> Option<String> {
    if head.len() < 52 {
        return Some(format!("ELF header cut short ({} bytes)", head.len()));
    }
    let (class, data, version) = (head[4], head[5], head[6]);
    if !matches!(class, 1 | 2) || !matches!(data, 1 | 2) || version != 1 {
        return Some(format!(
            "invalid ELF identification (class {class}, data {data}, version {version})"
        ));
    }
    let u16_at = |o: usize| {
        let b = [head[o], head[o + 1]];
        u64::from(if data == 1 {
            u16::from_le_bytes(b)
        } else {
            u16::from_be_bytes(b)
        })
    };
    let word_at = |o: usize, wide: bool| -> u64 {
        let n = if wide { 8 } else { 4 };
        let mut v = 0u64;
        for k in 0..n {
            let byte = u64::from(head[o + if data == 1 { n - 1 - k } else { k }]);
            v = (v << 8) | byte;
        }
        v
    };
    let wide = class == 2;
    if wide && head.len() < 64 {
        return Some("ELF header cut short".into());
    }
    let (phoff, shoff, rest) = if wide {
        (word_at(32, true), word_at(40, true), 52)
    } else {
        (word_at(28, false), word_at(32, false), 40)
    };
    let (phentsize, phnum) = (u16_at(rest + 2), u16_at(rest + 4));
    let (shentsize, shnum) = (u16_at(rest + 6), u16_at(rest + 8));
    let e_type = u16_at(16);
    if !(1..=4).contains(&e_type) {
        return Some(format!("unknown ELF object type {e_type}"));
    }
    let ends = [
        phoff.saturating_add(phentsize.saturating_mul(phnum)),
        shoff.saturating_add(shentsize.saturating_mul(shnum)),
    ];
    if ends.iter().any(|&end| end > size) {
        return Some(format!(
            "ELF tables point past the end of the file ({size} bytes): truncated or not ELF"
        ));
    }
    None
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::io::Write;

    /// A minimal 64-bit little-endian ELF header for a file of `size` bytes.
    pub fn elf_header(size: u64) -> Vec<u8> {
        let mut h = vec![0u8; 64];
        h[..4].copy_from_slice(ELF_MAGIC);
        h[4] = 2;
        h[5] = 1;
        h[6] = 1;
        h[16] = 2; // ET_EXEC
        h[32..40].copy_from_slice(&64u64.to_le_bytes()); // phoff
        h[40..48].copy_from_slice(&(size - 64 * 3).to_le_bytes()); // shoff
        h[54..56].copy_from_slice(&56u16.to_le_bytes());
        h[56..58].copy_from_slice(&1u16.to_le_bytes());
        h[58..60].copy_from_slice(&64u16.to_le_bytes());
        h[60..62].copy_from_slice(&3u16.to_le_bytes());
        h
    }

    /// Feeds `bytes` in `chunk`-sized pieces, as the layer reader does.
    pub fn reduce(bytes: &[u8], chunk: usize) -> Summary {
        let mut r: Box<dyn ContentReducer> = Box::new(ElfReducer::new(bytes.len() as u64));
        for piece in bytes.chunks(chunk) {
            if !r.update(piece) {
                break;
            }
        }
        let out = r.finish().unwrap();
        serde_json::from_slice(out.strip_prefix(MAGIC).unwrap()).unwrap()
    }

    /// Deterministic filler that contains many 0x78 bytes (zlib-candidate noise).
    pub fn noise(len: usize, seed: u32) -> Vec<u8> {
        let mut x = seed | 1;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                if x.is_multiple_of(7) { 0x78 } else { x as u8 }
            })
            .collect()
    }

    #[test]
    fn finds_cargo_audit_data_across_chunk_boundaries() {
        let json =
            br#"{"packages":[{"name":"hello","version":"0.1.0","source":"local","root":true}]}"#;
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::new(7));
        z.write_all(json).unwrap();
        let compressed = z.finish().unwrap();
        let size = 300_000u64;
        let mut file = elf_header(size);
        file.extend(noise(100_000 - 64 - 1, 7));
        file.extend(&compressed);
        file.extend(noise(size as usize - file.len(), 9));
        for chunk in [65_536, 4096, 1000] {
            let s = reduce(&file, chunk);
            assert!(s.elf);
            assert_eq!(s.problem, None);
            assert_eq!(
                s.cargo_audit.as_deref(),
                Some(std::str::from_utf8(json).unwrap())
            );
        }
    }

    #[test]
    fn not_elf_and_fake_elf() {
        let script = b"#!/bin/sh\necho hello, this is a shell script and not ELF at all\n";
        assert_eq!(reduce(script, 10), Summary::default());
        // The magic and a header whose tables lie far past the end of the file.
        let mut fake = elf_header(1 << 40);
        fake.extend(noise(200_000, 3));
        let s = reduce(&fake, 65_536);
        assert!(s.elf);
        assert!(s.problem.unwrap().contains("past the end"));
    }
}
