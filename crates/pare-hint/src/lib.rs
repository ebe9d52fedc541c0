//! The one way every pare error says what the user can do about it.
//!
//! An error's message says what failed and where; what to do next (a flag to raise,
//! a command to run) is a different thing, shown on its own `hint:` line, and only
//! by the program that talks to the user: a library never pastes advice into its
//! messages, where a caller of the library could not leave it out or say it its own
//! way. Every error type of pare's crates implements [`Hint`]; the CLI walks an
//! error's cause chain and asks each cause through [`of`].

use std::error::Error;

/// What the user can do about an error, when there is something.
pub trait Hint: Error {
    /// One sentence naming the flag or command that helps; `None` when nothing does
    /// beyond fixing what the message names.
    fn hint(&self) -> Option<String> {
        None
    }
}

/// The hint of `cause` if it is an `E`: for walking a chain of `dyn Error` causes,
/// one [`Hint`] type at a time.
pub fn of<E: Hint + 'static>(cause: &(dyn Error + 'static)) -> Option<String> {
    cause.downcast_ref::<E>().and_then(Hint::hint)
}

/// An error's message followed by each of its causes, joined by `: ` (what anyhow's
/// `{:#}` prints): for an error kept as text in a report or a warning, where the causes
/// would otherwise be lost with the type.
pub fn with_causes(e: &dyn Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Full;

    impl std::fmt::Display for Full {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("the disk is full")
        }
    }

    impl Error for Full {}

    impl Hint for Full {
        fn hint(&self) -> Option<String> {
            Some("free some space".into())
        }
    }

    #[test]
    fn a_cause_of_the_asked_type_gives_its_hint_and_others_none() {
        let full: Box<dyn Error> = Box::new(Full);
        assert_eq!(of::<Full>(full.as_ref()), Some("free some space".into()));
        let io: Box<dyn Error> = Box::new(std::io::Error::other("x"));
        assert_eq!(of::<Full>(io.as_ref()), None);
    }

    #[derive(Debug)]
    struct Saving(std::io::Error);

    impl std::fmt::Display for Saving {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("saving the report")
        }
    }

    impl Error for Saving {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn an_error_as_text_keeps_its_causes() {
        let e = Saving(std::io::Error::other("the disk is full"));
        assert_eq!(with_causes(&e), "saving the report: the disk is full");
    }
}
