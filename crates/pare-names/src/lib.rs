//! File names as pare keeps them. Linux names are bytes; pare's index, reports and
//! the sensor's trace are text. A name that is not UTF-8 is escaped reversibly, so two
//! names that differ only in invalid bytes stay two names everywhere (an image's
//! layers, the traced app's opens, the slim layer written back) and the bytes can be
//! had again. One small crate, because both pare-image and the static sensor binary
//! need exactly the same spelling.

/// A name as the filesystem or a layer spells it (tar path, PAX `path`, GNU long name,
/// link target, a path the traced app opened), turned into text, reversibly: valid UTF-8 is kept as it is,
/// each byte of invalid UTF-8 becomes `\xNN` (two lowercase hex digits), and a
/// literal backslash followed by `x` becomes `\x5c`, so that every `\x` in the
/// text is an escape. Two names that differ only in invalid bytes stay two names
/// (`from_utf8_lossy` made both `\u{fffd}`), and [`name_to_bytes`] gives back the
/// bytes exactly, for the layers pare writes and the files it unpacks.
pub fn name_from_bytes(raw: &[u8]) -> std::borrow::Cow<'_, str> {
    if let Ok(text) = std::str::from_utf8(raw)
        && !text.contains("\\x")
    {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(raw.len() + 8);
    for chunk in raw.utf8_chunks() {
        let mut valid = chunk.valid();
        while let Some(at) = valid.find("\\x") {
            out.push_str(&valid[..at]);
            out.push_str("\\x5c");
            valid = &valid[at + 1..];
        }
        out.push_str(valid);
        for byte in chunk.invalid() {
            out.push_str(&format!("\\x{byte:02x}"));
        }
    }
    std::borrow::Cow::Owned(out)
}

/// The bytes a name from [`name_from_bytes`] was made from.
pub fn name_to_bytes(name: &str) -> std::borrow::Cow<'_, [u8]> {
    if !name.contains("\\x") {
        return std::borrow::Cow::Borrowed(name.as_bytes());
    }
    let bytes = name.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = bytes[i] == b'\\' && bytes.get(i + 1) == Some(&b'x');
        let hex = |at: usize| bytes.get(at).and_then(|&b| (b as char).to_digit(16));
        let value = hex(i + 2)
            .zip(hex(i + 3))
            .map(|(hi, lo)| (hi * 16 + lo) as u8);
        match value {
            Some(byte) if escaped => {
                out.push(byte);
                i += 4;
            }
            _ => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    std::borrow::Cow::Owned(out)
}

/// A name from [`name_from_bytes`] as a host path of the same bytes, for the layers
/// pare writes and the files it unpacks.
pub fn name_to_path(name: &str) -> std::borrow::Cow<'_, std::path::Path> {
    use std::os::unix::ffi::{OsStrExt, OsStringExt};
    match name_to_bytes(name) {
        std::borrow::Cow::Borrowed(b) => {
            std::borrow::Cow::Borrowed(std::path::Path::new(std::ffi::OsStr::from_bytes(b)))
        }
        std::borrow::Cow::Owned(b) => {
            std::borrow::Cow::Owned(std::path::PathBuf::from(std::ffi::OsString::from_vec(b)))
        }
    }
}
