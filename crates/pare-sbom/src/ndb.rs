//! rpm's own "ndb" package database (`Packages.db`), which SUSE Linux Enterprise and
//! openSUSE use instead of SQLite (`/usr/lib/sysimage/rpm/Packages.db`). Written by
//! hand: no crate reads it, and the format is small (rpm's `lib/backend/ndb/rpmpkg.c`
//! describes it; nothing of it is copied here).
//!
//! All numbers are 32-bit little-endian. The file starts with a 32-byte header
//! (`RpmP`, format version 0, a generation, the number of 4 KiB pages of slots, the
//! next package index). Then come the slots, 16 bytes each, after the header on the
//! first page: `Slot`, the package index, the offset and the length of its blob in
//! 16-byte blocks (offset 0: a free slot). A blob is `BlbS`, the package index, a
//! generation and the length of the data, the data (the package's rpm header, as
//! the SQLite database stores it), and at the end of its blocks a trailer: the
//! Adler-32 of everything before it, the length again, `BlbE`. The file is untrusted
//! image content: every offset is checked against its length, and a slot whose blob
//! does not check out is reported and skipped, never followed outside the file.

const HEADER_SIZE: usize = 32;
const PAGE_SIZE: usize = 4096;
const SLOT_SIZE: usize = 16;
const BLOCK: usize = 16;
const BLOB_HEAD: usize = 16;
const BLOB_TAIL: usize = 12;

const fn magic(m: &[u8; 4]) -> u32 {
    u32::from_le_bytes(*m)
}

const DB_MAGIC: u32 = magic(b"RpmP");
const SLOT_MAGIC: u32 = magic(b"Slot");
const BLOB_HEAD_MAGIC: u32 = magic(b"BlbS");
const BLOB_TAIL_MAGIC: u32 = magic(b"BlbE");

/// One package's rpm header, or why its slot could not be read.
pub(crate) type Blob<'a> = Result<&'a [u8], String>;

/// The package blobs of an ndb database, in slot order; an error when the file is not
/// one (wrong magic or version, slots beyond its end).
pub(crate) fn blobs(file: &[u8]) -> Result<Vec<(u32, Blob<'_>)>, String> {
    if file.len() < HEADER_SIZE || le(file, 0) != Some(DB_MAGIC) {
        return Err("not an rpm ndb database (no RpmP header)".into());
    }
    let version = le(file, 4).unwrap_or(u32::MAX);
    if version != 0 {
        return Err(format!("ndb format version {version}, only 0 is known"));
    }
    let pages = le(file, 12).unwrap_or(0) as usize;
    let slots_end = pages
        .checked_mul(PAGE_SIZE)
        .filter(|&end| end >= HEADER_SIZE && end <= file.len())
        .ok_or_else(|| {
            format!(
                "{pages} pages of slots do not fit in the file's {} bytes",
                file.len()
            )
        })?;
    let mut out = Vec::new();
    for offset in (HEADER_SIZE..slots_end).step_by(SLOT_SIZE) {
        if le(file, offset) != Some(SLOT_MAGIC) {
            return Err(format!("no slot at byte {offset}"));
        }
        let field = |i: usize| le(file, offset + 4 * i).unwrap_or(0) as usize;
        let (index, block, blocks) = (field(1), field(2), field(3));
        if block == 0 {
            continue; // a free slot
        }
        out.push((index as u32, blob(file, index, block, blocks, slots_end)));
    }
    Ok(out)
}

/// The data of the blob a slot points at, checked as rpm checks it.
fn blob(file: &[u8], index: usize, block: usize, blocks: usize, slots_end: usize) -> Blob<'_> {
    let start = block.checked_mul(BLOCK).ok_or("blob offset overflows")?;
    let end = blocks
        .checked_mul(BLOCK)
        .and_then(|len| start.checked_add(len))
        .ok_or("blob length overflows")?;
    if start < slots_end || end > file.len() || end - start < BLOB_HEAD + BLOB_TAIL {
        return Err(format!(
            "package {index}: blob at bytes {start}..{end} is outside the file's blob area"
        ));
    }
    let region = &file[start..end];
    if le(region, 0) != Some(BLOB_HEAD_MAGIC) || le(region, 4) != Some(index as u32) {
        return Err(format!("package {index}: no blob header at byte {start}"));
    }
    let len = le(region, 12).unwrap_or(0) as usize;
    if BLOB_HEAD + len + BLOB_TAIL > region.len()
        || region.len() != (BLOB_HEAD + len + BLOB_TAIL).div_ceil(BLOCK) * BLOCK
    {
        return Err(format!(
            "package {index}: blob of {len} bytes does not fill its {blocks} blocks"
        ));
    }
    let tail = region.len() - BLOB_TAIL;
    if le(region, tail + 8) != Some(BLOB_TAIL_MAGIC) || le(region, tail + 4) != Some(len as u32) {
        return Err(format!("package {index}: blob trailer missing"));
    }
    if le(region, tail) != Some(adler32(&region[..tail])) {
        return Err(format!("package {index}: blob checksum does not match"));
    }
    Ok(&region[BLOB_HEAD..BLOB_HEAD + len])
}

fn le(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// Adler-32 (RFC 1950), as rpm checksums each blob.
fn adler32(data: &[u8]) -> u32 {
    const MOD: u32 = 65521;
    let (mut a, mut b) = (1u32, 0u32);
    // 5552 bytes is the most that can be summed before `b` may overflow.
    for chunk in data.chunks(5552) {
        for &byte in chunk {
            a += u32::from(byte);
            b += a;
        }
        a %= MOD;
        b %= MOD;
    }
    (b << 16) | a
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An ndb file with one page of slots and the given blobs, laid out as rpm does.
    fn database(blobs: &[&[u8]]) -> Vec<u8> {
        let mut file = vec![0u8; PAGE_SIZE];
        file[..4].copy_from_slice(b"RpmP");
        file[12..16].copy_from_slice(&1u32.to_le_bytes());
        for offset in (HEADER_SIZE..PAGE_SIZE).step_by(SLOT_SIZE) {
            file[offset..offset + 4].copy_from_slice(b"Slot");
        }
        for (i, data) in blobs.iter().enumerate() {
            let index = i as u32 + 1;
            let start = file.len();
            let blocks = (BLOB_HEAD + data.len() + BLOB_TAIL).div_ceil(BLOCK);
            let mut region = Vec::new();
            region.extend_from_slice(b"BlbS");
            region.extend_from_slice(&index.to_le_bytes());
            region.extend_from_slice(&0u32.to_le_bytes());
            region.extend_from_slice(&(data.len() as u32).to_le_bytes());
            region.extend_from_slice(data);
            region.resize(blocks * BLOCK - BLOB_TAIL, 0);
            let sum = adler32(&region);
            region.extend_from_slice(&sum.to_le_bytes());
            region.extend_from_slice(&(data.len() as u32).to_le_bytes());
            region.extend_from_slice(b"BlbE");
            file.extend_from_slice(&region);
            let slot = HEADER_SIZE + i * SLOT_SIZE;
            file[slot + 4..slot + 8].copy_from_slice(&index.to_le_bytes());
            file[slot + 8..slot + 12].copy_from_slice(&((start / BLOCK) as u32).to_le_bytes());
            file[slot + 12..slot + 16].copy_from_slice(&(blocks as u32).to_le_bytes());
        }
        file
    }

    #[test]
    fn adler32_of_rfc_1950s_example() {
        assert_eq!(adler32(b"Wikipedia"), 0x11E6_0398);
        assert_eq!(adler32(&[]), 1);
        assert_eq!(adler32(&vec![0xff; 100_000]), {
            let (mut a, mut b) = (1u64, 0u64);
            for _ in 0..100_000 {
                a = (a + 0xff) % 65521;
                b = (b + a) % 65521;
            }
            ((b << 16) | a) as u32
        });
    }

    #[test]
    fn blobs_come_back_in_slot_order() {
        let file = database(&[b"first header", b"second, longer header blob"]);
        let got = blobs(&file).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0], (1, Ok(&b"first header"[..])));
        assert_eq!(got[1], (2, Ok(&b"second, longer header blob"[..])));
    }

    #[test]
    fn damaged_and_hostile_files_are_errors_not_panics() {
        let good = database(&[b"a header"]);
        // Not ndb at all, or a version from the future.
        assert!(blobs(b"SQLite format 3\0").is_err());
        let mut future = good.clone();
        future[4] = 1;
        assert!(blobs(&future).unwrap_err().contains("version 1"));
        // More pages of slots than the file holds.
        let mut pages = good.clone();
        pages[12..16].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(blobs(&pages).is_err());
        // A slot pointing past the end, into the slots, or at an overflowing offset.
        for (block, blocks) in [(1_000_000, 2), (1, 2), (u32::MAX, u32::MAX)] {
            let mut bad = good.clone();
            bad[HEADER_SIZE + 8..HEADER_SIZE + 12].copy_from_slice(&block.to_le_bytes());
            bad[HEADER_SIZE + 12..HEADER_SIZE + 16].copy_from_slice(&blocks.to_le_bytes());
            let got = blobs(&bad).unwrap();
            assert!(got[0].1.is_err(), "{block} {blocks}: {:?}", got[0]);
        }
        // One changed byte of the data: the checksum says so.
        let mut flipped = good.clone();
        flipped[PAGE_SIZE + BLOB_HEAD] ^= 1;
        assert!(
            blobs(&flipped).unwrap()[0]
                .1
                .as_ref()
                .unwrap_err()
                .contains("checksum")
        );
        // Every prefix of a good file: an error or fewer blobs, never a panic.
        for len in 0..good.len() {
            let _ = blobs(&good[..len]);
        }
    }
}
