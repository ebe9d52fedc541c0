//! Base64 as package managers write checksums: wheel RECORDs use the URL-safe
//! alphabet without padding, apk the standard one.

/// Decodes either alphabet, padding optional; `None` on any other character.
pub(crate) fn decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.trim_end_matches('=').bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' | b'+' => 62,
            b'_' | b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn both_alphabets() {
        assert_eq!(super::decode("-_8="), Some(vec![0xfb, 0xff]));
        assert_eq!(super::decode("+/8"), Some(vec![0xfb, 0xff]));
        assert_eq!(super::decode("a*b"), None);
    }
}
