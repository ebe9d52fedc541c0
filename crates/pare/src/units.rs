//! Human-readable numbers for terminal output (decimal units, as docker prints them),
//! and sizes as users write them in flags (binary units, as Docker's `--memory`).

use anyhow::Context;

/// `1234567` → `1.2 MB`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// `12345` → `12,345`.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `512m`, `4g`, `100k`, or bytes (binary units, as Docker's `--memory`).
pub fn parse_size(flag: &str, text: &str) -> anyhow::Result<u64> {
    let lower = text.trim().to_ascii_lowercase();
    let (number, shift) = match lower.trim_end_matches('b').chars().last() {
        Some('k') => (&lower[..lower.find('k').unwrap_or(0)], 10),
        Some('m') => (&lower[..lower.find('m').unwrap_or(0)], 20),
        Some('g') => (&lower[..lower.find('g').unwrap_or(0)], 30),
        Some('t') => (&lower[..lower.find('t').unwrap_or(0)], 40),
        _ => (lower.trim_end_matches('b'), 0),
    };
    let value: u64 = number
        .parse()
        .ok()
        .filter(|v| *v > 0)
        .with_context(|| format!("{flag} {text:?}: expected a size such as 512m or 4g"))?;
    value
        .checked_shl(shift)
        .filter(|v| v >> shift == value)
        .with_context(|| format!("{flag} {text:?}: too large"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats() {
        assert_eq!(super::bytes(999), "999 B");
        assert_eq!(super::bytes(20_971_520), "21.0 MB");
        assert_eq!(super::count(1234567), "1,234,567");
        assert_eq!(super::count(12), "12");
    }
}
