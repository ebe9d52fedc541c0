//! The Dockerfile parser.
//!
//! Written here rather than taken from a crate: `dockerfile-parser` (pest grammar) has
//! no heredocs, ignores the `# escape=` directive and skips several instructions;
//! `parse-dockerfile` reads the syntax well but drops comments (the ignore pragmas
//! live in them) and keeps no column for words inside continued lines. A linter needs
//! every comment, the exact line and column of every word (also on continuation
//! lines, so shellcheck's findings land on the right line), and errors that never
//! stop other files being linted — so the line reader ([`lines`]), the word splitter
//! ([`words`]) and the typed instructions ([`crate::reader`]) are ours, following
//! BuildKit's rules. This module is the syntax the instruction types are made of; the
//! reader, which builds them, is a module of its own, so that neither imports the other.

pub mod lines;
pub mod words;

use crate::position::Pos;

/// A Dockerfile BuildKit would refuse, with the place it goes wrong.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{pos}: {message}")]
pub struct SyntaxError {
    pub pos: Pos,
    pub message: String,
}

impl pare_hint::Hint for SyntaxError {}

impl SyntaxError {
    pub fn new(pos: Pos, message: impl Into<String>) -> Self {
        SyntaxError {
            pos,
            message: message.into(),
        }
    }
}

const KEYWORDS: [&str; 18] = [
    "ADD",
    "ARG",
    "CMD",
    "COPY",
    "ENTRYPOINT",
    "ENV",
    "EXPOSE",
    "FROM",
    "HEALTHCHECK",
    "LABEL",
    "MAINTAINER",
    "ONBUILD",
    "RUN",
    "SHELL",
    "STOPSIGNAL",
    "USER",
    "VOLUME",
    "WORKDIR",
];

/// True for an instruction keyword (upper case).
pub fn is_keyword(word: &str) -> bool {
    KEYWORDS.contains(&word)
}
