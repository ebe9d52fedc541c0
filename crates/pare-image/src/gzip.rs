//! gzip of a whole layer on every core, as pigz does it: the bytes are cut into
//! chunks, each compressed on its own into raw deflate ending on a byte boundary (a
//! sync flush; the last one finishes the stream), and the pieces joined under one
//! gzip header and trailer. The result is one ordinary gzip member that any
//! decompressor reads; it only loses back-references across chunk boundaries (a few
//! hundred bytes per 4 MiB chunk). The output depends on the level and the bytes,
//! never on the number of threads, so a layer's digest is the same on any machine.
//!
//! Written here because flate2 (with zlib-rs) compresses on one thread, which made
//! gzip most of `pare build`'s assemble phase (2.3 s for the node image's 99 MB
//! layer); the crates that do this (gzp) bring a thread pool, channels and their own
//! flate2 features for what is forty lines over flate2's raw deflate.

use std::sync::atomic::{AtomicUsize, Ordering};

use flate2::{Compress, Compression, FlushCompress, Status};

/// Bytes per independently compressed chunk.
const CHUNK: usize = 4 << 20;

/// `data` gzip-compressed at `level` (0–9) on up to `threads` threads.
pub fn compress(data: &[u8], level: u32, threads: usize) -> std::io::Result<Vec<u8>> {
    let chunks: Vec<&[u8]> = if data.is_empty() {
        vec![data]
    } else {
        data.chunks(CHUNK).collect()
    };
    let last = chunks.len() - 1;
    let next = AtomicUsize::new(0);
    let mut pieces: Vec<std::io::Result<Vec<u8>>> = Vec::new();
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads.clamp(1, chunks.len()))
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(chunk) = chunks.get(i) else {
                            return done;
                        };
                        done.push((i, deflate(chunk, level, i == last)));
                    }
                })
            })
            .collect();
        let mut numbered: Vec<(usize, std::io::Result<Vec<u8>>)> = Vec::new();
        for worker in workers {
            match worker.join() {
                Ok(done) => numbered.extend(done),
                Err(_) => numbered.push((0, Err(std::io::Error::other("a gzip thread panicked")))),
            }
        }
        numbered.sort_by_key(|(i, _)| *i);
        pieces = numbered.into_iter().map(|(_, piece)| piece).collect();
    });
    let pieces = pieces.into_iter().collect::<std::io::Result<Vec<_>>>()?;
    let mut out = Vec::with_capacity(pieces.iter().map(Vec::len).sum::<usize>() + 18);
    // Header: magic, deflate, no flags, no mtime, no extra flags, OS unknown (as
    // flate2's GzEncoder writes it).
    out.extend_from_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255]);
    for piece in &pieces {
        out.extend_from_slice(piece);
    }
    out.extend_from_slice(&crc32fast::hash(data).to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    Ok(out)
}

/// One chunk as raw deflate: ended by a sync flush (byte-aligned, stream open), or
/// finished when it is the last.
fn deflate(chunk: &[u8], level: u32, last: bool) -> std::io::Result<Vec<u8>> {
    let mut compressor = Compress::new(Compression::new(level), false);
    let flush = if last {
        FlushCompress::Finish
    } else {
        FlushCompress::Sync
    };
    let mut out = Vec::with_capacity(chunk.len() / 2 + 1024);
    loop {
        if out.capacity() - out.len() < 1024 {
            out.reserve(out.capacity().max(64 * 1024));
        }
        let consumed = compressor.total_in() as usize;
        let status = compressor
            .compress_vec(&chunk[consumed..], &mut out, flush)
            .map_err(std::io::Error::other)?;
        let all_in = compressor.total_in() as usize == chunk.len();
        // zlib's rule: a flush is complete once a call leaves output space unused.
        let flushed = all_in && out.len() < out.capacity();
        match (last, status) {
            (true, Status::StreamEnd) => return Ok(out),
            (false, _) if flushed => return Ok(out),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    /// Bytes that compress somewhat, like a layer: text runs and noise.
    fn layer_like(len: usize) -> Vec<u8> {
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        (0..len)
            .map(|i| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                if (i / 4096) % 3 == 0 {
                    b"usr/lib/python3/dist-packages/"[i % 30]
                } else {
                    state as u8
                }
            })
            .collect()
    }

    fn gunzip(gz: &[u8]) -> Vec<u8> {
        // GzDecoder reads one member only: the output must be exactly one.
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(gz)
            .read_to_end(&mut out)
            .unwrap();
        out
    }

    #[test]
    fn one_member_that_decompresses_to_the_input_whatever_the_threads() {
        for len in [0, 1, CHUNK - 1, CHUNK, 2 * CHUNK + 12345] {
            let data = layer_like(len);
            let one = compress(&data, 6, 1).unwrap();
            let two = compress(&data, 6, 2).unwrap();
            assert_eq!(one, two, "{len}: the output depends on the threads");
            assert_eq!(gunzip(&two), data, "{len}");
        }
    }

    #[test]
    fn gzip_itself_reads_it() {
        let data = layer_like(3 * CHUNK + 7);
        let gz = compress(&data, 6, 2).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("layer.tar.gz");
        std::fs::write(&path, &gz).unwrap();
        let out = std::process::Command::new("gzip")
            .arg("-dc")
            .arg(&path)
            .output()
            .expect("gzip is installed");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.stdout == data, "gzip -dc gives other bytes");
    }
}
