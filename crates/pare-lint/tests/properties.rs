//! Property tests of the Dockerfile reader (issue 24): `pare lint` reads every
//! Dockerfile of a repository, whoever wrote it, so any text must give a Dockerfile or
//! a syntax error with a place — never a panic — and the place must be in the file.

use proptest::prelude::*;

/// Lines shaped like a Dockerfile's (every instruction, flags, JSON and shell forms,
/// continuations, heredocs, directives, comments) and junk.
fn dockerfile() -> impl Strategy<Value = String> {
    let keyword = prop_oneof![
        Just("FROM"),
        Just("RUN"),
        Just("CMD"),
        Just("LABEL"),
        Just("EXPOSE"),
        Just("ENV"),
        Just("ADD"),
        Just("COPY"),
        Just("ENTRYPOINT"),
        Just("VOLUME"),
        Just("USER"),
        Just("WORKDIR"),
        Just("ARG"),
        Just("ONBUILD"),
        Just("STOPSIGNAL"),
        Just("HEALTHCHECK"),
        Just("SHELL"),
        Just("MAINTAINER"),
        Just("from"),
        Just("BOGUS"),
    ];
    let argument = prop_oneof![
        "\\PC{0,30}",
        "--[a-z-]{1,8}(=[a-z0-9/:]{0,8})? \\PC{0,20}",
        "\\[(\"[^\"\\\\]{0,8}\"(, ?)?){0,3}\\]?",
        "[A-Za-z_]{1,6}=\\$\\{?[A-Za-z_]{0,6}(:-[a-z]{0,4})?\\}? [a-z]{0,4}",
        "<<-?[\"']?EOF[\"']? \\PC{0,10}",
        "[a-z]{1,8}( AS [a-z]{0,6})?",
    ];
    let line = prop_oneof![
        6 => (keyword, argument, prop::bool::ANY).prop_map(|(k, a, cont)| {
            format!("{k} {a}{}", if cont { " \\" } else { "" })
        }),
        1 => "# (escape|syntax|check)=\\PC{0,6}",
        1 => "#\\PC{0,30}",
        1 => Just("EOF".to_owned()),
        1 => Just("`".to_owned()),
        1 => "[ \t]{0,4}\\\\?",
        1 => any::<String>(),
    ];
    prop::collection::vec(line, 0..30).prop_map(|lines| lines.join("\n"))
}

proptest! {
    #[test]
    fn any_text_gives_a_dockerfile_or_an_error_inside_it(text in dockerfile()) {
        if let Err(e) = pare_lint::parse(&text) {
            let lines = text.lines().count().max(1);
            prop_assert!(
                e.pos.line <= lines + 1,
                "error at line {} of {} lines: {}", e.pos.line, lines, e
            );
        }
    }

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        let _ = pare_lint::parse(&text);
    }
}
