//! Content digests (`sha256:<hex>`) and a reader that checks one while streaming.

use std::fmt;
use std::io::{self, Read};

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
