//! `pare build --help` groups its many options under headings a user scans for
//! (issue 24): the build's own first, in the order a build runs, the options every
//! verb takes last, apart.

mod support;

use support::pare;

/// The section headings of a help text, in order (lines like `Probes:`).
fn headings(help: &str) -> Vec<&str> {
    help.lines()
        .filter(|l| !l.starts_with(' ') && l.ends_with(':'))
        .map(|l| l.trim_end_matches(':'))
        .collect()
}

#[test]
fn build_help_groups_options_under_headings_with_global_ones_last() {
    let help = pare(&["build", "--help"]).success().stdout();
    assert_eq!(
        headings(&help),
        [
            "Arguments",
            "Options",
            "Probes",
            "What to keep",
            "Verification",
            "Running and limits",
            "Outputs",
            "Global options",
            "Registries (global options)",
        ],
        "{help}"
    );
    // Nothing but --help is left under the catch-all heading.
    let options = help
        .split("\nOptions:\n")
        .nth(1)
        .and_then(|rest| rest.split("\n\n").next())
        .expect("an Options section");
    assert_eq!(options.trim(), "-h, --help  Print help", "{help}");
    // A few options under the heading a user would look for them in.
    for (heading, option) in [
        ("Probes", "--probe <PROBE>"),
        ("Probes", "--exec-entrypoint <PROGRAM>"),
        ("What to keep", "--keep <KEEP>"),
        ("Verification", "--verify-ignore <PATTERN>"),
        ("Running and limits", "--max-memory <SIZE>"),
        ("Outputs", "--output <REF>"),
        ("Registries (global options)", "--creds <USER:PASSWORD>"),
    ] {
        let section = help
            .split(&format!("\n{heading}:\n"))
            .nth(1)
            .and_then(|rest| rest.split("\n\n").next())
            .unwrap_or_else(|| panic!("no {heading} section\n{help}"));
        assert!(
            section.contains(option),
            "{option} not under {heading}\n{help}"
        );
    }
}

#[test]
fn other_verbs_show_the_global_options_apart_too() {
    let help = pare(&["xray", "--help"]).success().stdout();
    let h = headings(&help);
    assert_eq!(
        h[h.len() - 2..],
        ["Global options", "Registries (global options)"],
        "{help}"
    );
}
