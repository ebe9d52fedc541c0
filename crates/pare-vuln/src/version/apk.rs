//! Alpine's apk version ordering (`1.2.3a_rc1_p2-r4`), a port of apk-tools'
//! `version.c`: digit components (a leading zero makes a component compare as a
//! fraction), one optional letter, suffixes (`_alpha` `_beta` `_pre` `_rc` sort
//! before the release, `_cvs` `_svn` `_git` `_hg` `_p` after), then `-rN`.
//! Hand-written: no crate implements apk's ordering.

use std::cmp::Ordering;

/// A validated apk version; compares as apk does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Version(String);

impl Version {
    /// `None` when apk would call the version invalid.
    pub fn parse(text: &str) -> Option<Version> {
        let text = text.trim();
        let mut tokens = Tokens::new(text);
        loop {
            match tokens.next_value() {
                (Token::End, _) => return Some(Version(text.to_owned())),
                (Token::Invalid, _) => return None,
                _ => {}
            }
        }
    }
}

/// Token kinds, in apk's order: the order decides which of two versions of equal
/// leading parts is newer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Token {
    Invalid,
    DigitOrZero,
    Digit,
    Letter,
    Suffix,
    SuffixNo,
    RevisionNo,
    End,
}

const PRE_SUFFIXES: [&str; 4] = ["alpha", "beta", "pre", "rc"];
const POST_SUFFIXES: [&str; 5] = ["cvs", "svn", "git", "hg", "p"];

struct Tokens<'a> {
    rest: &'a [u8],
    kind: Token,
}

impl<'a> Tokens<'a> {
    fn new(text: &'a str) -> Self {
        let rest = text.as_bytes();
        Tokens {
            rest,
            kind: if rest.is_empty() {
                Token::Invalid
            } else {
                Token::Digit
            },
        }
    }

    fn digits(&self, from: usize) -> (i64, usize) {
        let mut v: i64 = 0;
        let mut i = from;
        while let Some(d) = self.rest.get(i).filter(|c| c.is_ascii_digit()) {
            v = v.saturating_mul(10).saturating_add(i64::from(d - b'0'));
            i += 1;
        }
        (v, i)
    }

    /// The current token's kind and value; moves on to the next token (`get_token`).
    fn next_value(&mut self) -> (Token, i64) {
        let kind = self.kind;
        if matches!(kind, Token::End | Token::Invalid) {
            return (kind, 0);
        }
        let mut forced_next = None;
        let (value, used) = match kind {
            Token::DigitOrZero if self.rest.first() == Some(&b'0') => {
                let zeros = self.rest.iter().take_while(|&&c| c == b'0').count();
                // Digits after the zeros are the rest of this fraction; a lone `0`
                // component is followed by whatever separator comes next, so that
                // `1.0_rc1` sorts before `1.0` as Alpine's releases need.
                if self.rest.get(zeros).is_some_and(u8::is_ascii_digit) {
                    forced_next = Some(Token::Digit);
                }
                (-(zeros as i64), zeros)
            }
            Token::DigitOrZero | Token::Digit | Token::SuffixNo | Token::RevisionNo => {
                self.digits(0)
            }
            Token::Letter => (i64::from(self.rest[0]), 1),
            Token::Suffix => match suffix(self.rest) {
                Some(found) => found,
                None => {
                    self.kind = Token::Invalid;
                    return (kind, -1);
                }
            },
            Token::Invalid | Token::End => unreachable!("handled above"),
        };
        self.rest = &self.rest[used..];
        self.kind = if self.rest.is_empty() {
            Token::End
        } else if let Some(next) = forced_next {
            next
        } else {
            self.next_kind(kind)
        };
        (kind, value)
    }

    /// What the next token is, from the separator ahead (`next_token`).
    fn next_kind(&mut self, current: Token) -> Token {
        let c = self.rest[0];
        let next = if matches!(current, Token::Digit | Token::DigitOrZero) && c.is_ascii_lowercase()
        {
            Token::Letter
        } else if current == Token::Letter && c.is_ascii_digit() {
            Token::Digit
        } else if current == Token::Suffix && c.is_ascii_digit() {
            Token::SuffixNo
        } else {
            let n = match c {
                b'.' => Token::DigitOrZero,
                b'_' => Token::Suffix,
                b'-' if self.rest.get(1) == Some(&b'r') => {
                    self.rest = &self.rest[1..];
                    Token::RevisionNo
                }
                _ => Token::Invalid,
            };
            self.rest = &self.rest[1..];
            n
        };
        let allowed_backwards = matches!(
            (next, current),
            (Token::DigitOrZero, Token::Digit)
                | (Token::Suffix, Token::SuffixNo)
                | (Token::Digit, Token::Letter)
        );
        if next < current && !allowed_backwards {
            Token::Invalid
        } else {
            next
        }
    }
}

/// A suffix's value (negative for pre-release ones) and its length.
fn suffix(rest: &[u8]) -> Option<(i64, usize)> {
    if let Some(i) = PRE_SUFFIXES
        .iter()
        .position(|s| rest.starts_with(s.as_bytes()))
    {
        return Some((i as i64 - PRE_SUFFIXES.len() as i64, PRE_SUFFIXES[i].len()));
    }
    POST_SUFFIXES
        .iter()
        .position(|s| rest.starts_with(s.as_bytes()))
        .map(|i| (i as i64, POST_SUFFIXES[i].len()))
}

fn compare(a: &str, b: &str) -> Ordering {
    let (mut ta, mut tb) = (Tokens::new(a), Tokens::new(b));
    let (mut av, mut bv) = (0, 0);
    while ta.kind == tb.kind && !matches!(ta.kind, Token::End | Token::Invalid) && av == bv {
        av = ta.next_value().1;
        bv = tb.next_value().1;
    }
    if av != bv {
        return av.cmp(&bv);
    }
    if ta.kind == tb.kind {
        return Ordering::Equal;
    }
    // Equal so far: the longer one is newer, unless what follows is a pre-release.
    if ta.kind == Token::Suffix && ta.next_value().1 < 0 {
        return Ordering::Less;
    }
    if tb.kind == Token::Suffix && tb.next_value().1 < 0 {
        return Ordering::Greater;
    }
    tb.kind.cmp(&ta.kind)
}

ord_by!(Version, |a: &Version, b: &Version| compare(&a.0, &b.0));

#[cfg(test)]
mod tests {
    use super::*;
    use crate::version::Scheme;
    use crate::version::testing::assert_orders;

    /// Pairs from Alpine's secdb fix versions and apk-tools' own test list
    /// (`test/version.data`).
    #[test]
    fn alpine_versions() {
        use Ordering::*;
        let cases = [
            ("1.2.13-r0", "1.2.12-r3", Greater),
            ("1.2.13-r1", "1.2.13-r0", Greater),
            ("3.0.8-r0", "3.0.10-r0", Less),
            ("1.36.1-r2", "1.36.1-r15", Less),
            ("2.4.57-r0", "2.4.57-r0", Equal),
            ("1.0_rc1", "1.0", Less),
            ("1.0_alpha", "1.0_beta", Less),
            ("1.0_p1", "1.0", Greater),
            ("1.0_git20230101", "1.0", Greater),
            ("1.0a", "1.0", Greater),
            ("1.0a", "1.0b", Less),
            ("1.0.1", "1.0a", Greater),
            ("1.01", "1.1", Less),
            ("1.001", "1.01", Less),
            ("2.0", "2.0-r1", Less),
            ("7.88.1-r1", "8.0.0-r0", Less),
            ("1.1.1t-r0", "1.1.1u-r0", Less),
            ("1.1.1t-r2", "1.1.1t-r0", Greater),
            ("3.1.4_p20", "3.1.4_p3", Greater),
            ("1.0", "1.01", Less),
            ("1.0_rc1", "1.0_rc2", Less),
            ("2.0_p1-r0", "2.0-r5", Greater),
        ];
        assert_orders(Scheme::Apk, &cases);
    }

    #[test]
    fn invalid_versions() {
        for bad in ["", "1.0-x", "1.0_foo", "1..0_", "1.0-r2a", "1.0_rc1.2"] {
            assert!(Version::parse(bad).is_none(), "{bad:?}");
        }
    }
}
