//! Content digests (`sha256:<hex>`) and a reader that checks one while streaming.

use std::fmt;
use std::io::{self, Read};
use std::sync::{Arc, mpsc};

use sha2::{Digest as _, Sha256};

/// A parsed `sha256:` digest. Other algorithms are refused at the edge: every image
/// format pare reads uses sha256, and a digest we cannot check is one we must not trust.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest {
    hex: String,
}

impl Digest {
    /// Parses `sha256:` followed by 64 lowercase hex digits.
    pub fn parse(text: &str) -> Result<Self, String> {
        let hex = text
            .strip_prefix("sha256:")
            .ok_or_else(|| format!("digest {text:?} is not sha256"))?;
        if hex.len() != 64
            || !hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(format!("digest {text:?} is not 64 lowercase hex digits"));
        }
        Ok(Digest {
            hex: hex.to_owned(),
        })
    }

    /// The digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        Digest {
            hex: hex::encode(Sha256::digest(bytes)),
        }
    }

    pub(crate) fn from_hasher(hasher: Sha256) -> Self {
        Digest {
            hex: hex::encode(hasher.finalize()),
        }
    }

    /// As oci-spec's digest, for the manifests and indexes pare writes.
    pub fn to_oci(&self) -> oci_spec::image::Digest {
        oci_spec::image::Digest::try_from(self.to_string())
            .expect("sha256: and 64 lowercase hex digits is a valid OCI digest")
    }

    /// The hex part, as used for blob file names.
    pub fn hex(&self) -> &str {
        &self.hex
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{}", self.hex)
    }
}

impl serde::Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Passes bytes through while hashing them and counting them.
pub struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
    count: u64,
}

impl<R: Read> HashingReader<R> {
    pub fn new(inner: R) -> Self {
        HashingReader {
            inner,
            hasher: Sha256::new(),
            count: 0,
        }
    }

    /// Reads what is left (a tar reader stops at its end marker, a blob may go on),
    /// then returns the digest and the byte count of everything that passed.
    pub fn finish(mut self) -> io::Result<(Digest, u64)> {
        io::copy(&mut self, &mut io::sink())?;
        Ok((Digest::from_hasher(self.hasher), self.count))
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }
}

/// A stream hashed by a [`HashingReader`] on the reading thread, or by an
/// [`AsideHashingReader`] on a thread of its own: the same digest either way.
pub enum Hashing<R> {
    Inline(HashingReader<io::BufReader<R>>),
    Aside(AsideHashingReader<R>),
}

impl<R: Read> Hashing<R> {
    /// Hashes beside the reader when `aside`, else inline (behind a buffer, since the
    /// tar reader asks for 512 bytes at a time).
    pub fn new(inner: R, aside: bool) -> io::Result<Self> {
        Ok(if aside {
            Hashing::Aside(AsideHashingReader::new(inner)?)
        } else {
            Hashing::Inline(HashingReader::new(io::BufReader::with_capacity(
                256 * 1024,
                inner,
            )))
        })
    }

    /// Reads what is left, then returns the digest and the byte count of everything
    /// that passed.
    pub fn finish(self) -> io::Result<(Digest, u64)> {
        match self {
            Hashing::Inline(r) => r.finish(),
            Hashing::Aside(r) => r.finish(),
        }
    }
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Hashing::Inline(r) => r.read(buf),
            Hashing::Aside(r) => r.read(buf),
        }
    }
}

/// How much of the stream the hashing thread takes at a time: small enough to still
/// be in the shared cache when the parser reads it.
const ASIDE_CHUNK: usize = 256 * 1024;
/// Chunks in flight: how far the reader may run ahead of the hasher (2 MiB), which
/// bounds the memory a layer read takes whatever its size.
const ASIDE_CHUNKS: usize = 8;

/// Passes bytes through while a thread of its own hashes them, so that SHA-256 (the
/// costliest step of reading an uncompressed layer) runs on another core than the
/// tar parser. Chunks are shared with the hasher, not copied, and reused once it is
/// done with them.
pub struct AsideHashingReader<R> {
    inner: R,
    /// Every chunk this reader owns; one the hasher still holds is not refilled.
    chunks: Vec<Arc<Vec<u8>>>,
    /// The chunk being served, and how far.
    current: usize,
    pos: usize,
    len: usize,
    to_hasher: Option<mpsc::SyncSender<(Arc<Vec<u8>>, usize)>>,
    /// One message each time the hasher lets go of a chunk.
    released: mpsc::Receiver<()>,
    hasher: Option<std::thread::JoinHandle<Sha256>>,
    count: u64,
}

impl<R: Read> AsideHashingReader<R> {
    /// Starts the hashing thread.
    pub fn new(inner: R) -> io::Result<Self> {
        let (to_hasher, work) = mpsc::sync_channel::<(Arc<Vec<u8>>, usize)>(ASIDE_CHUNKS);
        let (release, released) = mpsc::channel();
        let hasher = std::thread::Builder::new()
            .name("pare-sha256".into())
            .spawn(move || {
                let mut hasher = Sha256::new();
                for (chunk, len) in work {
                    hasher.update(&chunk[..len]);
                    drop(chunk);
                    // The reader may be gone (it failed); then nobody waits.
                    let _ = release.send(());
                }
                hasher
            })?;
        Ok(AsideHashingReader {
            inner,
            chunks: Vec::with_capacity(ASIDE_CHUNKS),
            current: 0,
            pos: 0,
            len: 0,
            to_hasher: Some(to_hasher),
            released,
            hasher: Some(hasher),
            count: 0,
        })
    }

    /// Fills a chunk the hasher is done with from the inner reader and hands it to
    /// the hasher; returns how much was read (0 at the end of the stream).
    fn refill(&mut self) -> io::Result<usize> {
        let hasher_gone = || io::Error::other("the hashing thread stopped");
        loop {
            let free = self
                .chunks
                .iter_mut()
                .position(|c| Arc::get_mut(c).is_some());
            let Some(i) = free else {
                if self.chunks.len() < ASIDE_CHUNKS {
                    self.chunks.push(Arc::new(vec![0; ASIDE_CHUNK]));
                } else {
                    self.released.recv().map_err(|_| hasher_gone())?;
                }
                continue;
            };
            let Some(buf) = Arc::get_mut(&mut self.chunks[i]) else {
                continue;
            };
            let n = read_up_to(&mut self.inner, buf)?;
            (self.current, self.pos, self.len) = (i, 0, n);
            if n > 0 {
                self.count += n as u64;
                let to_hasher = self.to_hasher.as_ref().ok_or_else(hasher_gone)?;
                to_hasher
                    .send((self.chunks[i].clone(), n))
                    .map_err(|_| hasher_gone())?;
            }
            return Ok(n);
        }
    }

    /// Reads what is left, waits for the hasher, and returns the digest and the byte
    /// count of everything that passed.
    pub fn finish(mut self) -> io::Result<(Digest, u64)> {
        while self.refill()? > 0 {}
        drop(self.to_hasher.take());
        let hasher = self
            .hasher
            .take()
            .ok_or_else(|| io::Error::other("the hashing thread stopped"))?
            .join()
            .map_err(|_| io::Error::other("the hashing thread panicked"))?;
        Ok((Digest::from_hasher(hasher), self.count))
    }
}

impl<R: Read> Read for AsideHashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if self.pos == self.len && self.refill()? == 0 {
            return Ok(0);
        }
        let n = buf.len().min(self.len - self.pos);
        buf[..n].copy_from_slice(&self.chunks[self.current][self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// Passes a blob through and fails its last read when the bytes do not hash to the
/// digest (or run past the size) promised for them, so whatever consumes the stream
/// (an upload, a file being written) ends in an error instead of taking wrong bytes.
pub struct CheckedReader<R> {
    inner: HashingReader<R>,
    expected: Digest,
    size: Option<u64>,
    /// Names the blob in the error.
    place: String,
}

impl<R: Read> CheckedReader<R> {
    pub fn new(inner: R, expected: Digest, size: Option<u64>, place: String) -> Self {
        CheckedReader {
            inner: HashingReader::new(inner),
            expected,
            size,
            place,
        }
    }

    fn mismatch(&self, actual: String) -> io::Error {
        io::Error::new(
            io::ErrorKind::InvalidData,
            crate::error::ImageError::DigestMismatch {
                place: self.place.clone(),
                expected: self.expected.to_string(),
                actual,
            },
        )
    }
}

impl<R: Read> Read for CheckedReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let count = self.inner.count;
        if let Some(size) = self.size.filter(|s| count > *s) {
            return Err(self.mismatch(format!("more than the {size} bytes promised")));
        }
        if n == 0 && !buf.is_empty() {
            let actual = Digest::from_hasher(self.inner.hasher.clone());
            if actual != self.expected {
                return Err(self.mismatch(actual.to_string()));
            }
            if let Some(size) = self.size.filter(|s| count != *s) {
                return Err(self.mismatch(format!("{count} bytes, not the {size} promised")));
            }
        }
        Ok(n)
    }
}

/// The image error a reader carried inside an I/O error (a [`CheckedReader`]'s
/// mismatch), else the I/O error as one about `place`.
pub fn unwrap_io_error(e: io::Error, place: &str) -> crate::error::ImageError {
    if !e
        .get_ref()
        .is_some_and(|inner| inner.is::<crate::error::ImageError>())
    {
        return crate::error::ImageError::io(place, e);
    }
    let kind = e.kind();
    match e
        .into_inner()
        .map(|inner| inner.downcast::<crate::error::ImageError>())
    {
        Some(Ok(image_error)) => *image_error,
        _ => crate::error::ImageError::io(place, io::Error::from(kind)),
    }
}

/// Reads until `buf` is full or the stream ends; returns how much was read (the
/// hashing reader fills whole chunks; layers sniff their first bytes with it).
pub(crate) fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match r.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_refuses() {
        let d = Digest::of(b"abc");
        assert_eq!(
            d.to_string(),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(Digest::parse(&d.to_string()).unwrap(), d);
        assert!(Digest::parse("sha512:ab").is_err());
        assert!(Digest::parse("sha256:ABC").is_err());
        assert!(Digest::parse("sha256:../../etc/passwd").is_err());
    }

    #[test]
    fn hashing_reader_hashes_whole_stream() {
        let mut r = HashingReader::new(&b"abcdef"[..]);
        let mut first = [0u8; 3];
        r.read_exact(&mut first).unwrap();
        let (d, n) = r.finish().unwrap();
        assert_eq!(n, 6);
        assert_eq!(d, Digest::of(b"abcdef"));
    }

    #[test]
    fn hashing_aside_gives_the_digest_of_hashing_inline() {
        // Several chunks and a ragged end, read in odd-sized pieces.
        let bytes: Vec<u8> = (0..ASIDE_CHUNK * ASIDE_CHUNKS * 2 + 12_345)
            .map(|i| (i * 7 % 251) as u8)
            .collect();
        for aside in [false, true] {
            let mut r = Hashing::new(&bytes[..], aside).unwrap();
            let mut head = vec![0u8; 1000];
            r.read_exact(&mut head).unwrap();
            let mut piece = vec![0u8; 70_001];
            r.read_exact(&mut piece).unwrap();
            assert_eq!(head, bytes[..1000]);
            assert_eq!(piece, bytes[1000..71_001]);
            let (d, n) = r.finish().unwrap();
            assert_eq!(
                (d, n),
                (Digest::of(&bytes), bytes.len() as u64),
                "aside: {aside}"
            );
        }
    }

    #[test]
    fn checked_reader_fails_on_wrong_bytes() {
        let read = |bytes: &[u8], size| {
            let mut out = Vec::new();
            CheckedReader::new(bytes, Digest::of(b"abc"), size, "blob".into())
                .read_to_end(&mut out)
                .map_err(|e| unwrap_io_error(e, "blob").to_string())
        };
        assert_eq!(read(b"abc", Some(3)), Ok(3));
        assert!(
            read(b"abd", Some(3))
                .unwrap_err()
                .contains("digest mismatch")
        );
        assert!(read(b"abcd", Some(3)).unwrap_err().contains("more than"));
        assert!(read(b"abc", Some(4)).unwrap_err().contains("not the 4"));
    }
}
