//! Base64 as package managers write checksums: wheel RECORDs use the URL-safe
//! alphabet without padding, apk the standard one with padding.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};

/// Decodes either alphabet, padding optional; `None` when it is not base64.
pub(crate) fn decode(s: &str) -> Option<Vec<u8>> {
    let s = s.trim_end_matches('=');
    let engine = if s.contains(['+', '/']) {
        &STANDARD_NO_PAD
    } else {
        &URL_SAFE_NO_PAD
    };
    engine.decode(s).ok()
}

#[cfg(test)]
mod tests {
    use super::decode;

    #[test]
    fn both_alphabets() {
        assert_eq!(decode("aGVsbG8=").unwrap(), b"hello");
        assert_eq!(decode("aGVsbG8").unwrap(), b"hello");
        assert_eq!(decode("-_8").unwrap(), [0xfb, 0xff]);
        assert_eq!(decode("+/8=").unwrap(), [0xfb, 0xff]);
        assert_eq!(decode("not base64!"), None);
    }
}
