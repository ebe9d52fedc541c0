//! Property tests of image references (issue 24): a reference comes from the user or
//! from a file (`--output`, compare lists, a registry's redirect), so any text must
//! parse or be refused with an error — never panic — and a parsed reference must print
//! as text that parses back to itself (pare prints references in reports and hints).

use pare_image::ImageRef;
use proptest::prelude::*;

/// Text shaped like references of every transport, and junk.
fn reference() -> impl Strategy<Value = String> {
    let transport = prop_oneof![
        Just(""),
        Just("docker-daemon:"),
        Just("docker-archive:"),
        Just("oci:"),
        Just("oci-archive:"),
        Just("docker://"),
        Just("containers-storage:"),
        Just("containers-storage:[overlay@/var/lib/containers+/run/containers]"),
    ];
    let host = prop_oneof![
        Just(String::new()),
        "[a-z0-9.-]{1,12}(:[0-9]{1,5})?/",
        "\\[[0-9a-f:]{2,12}\\](:[0-9]{1,5})?/",
    ];
    let name = "[a-zA-Z0-9._/-]{1,24}";
    let suffix = prop_oneof![
        Just(String::new()),
        ":[a-zA-Z0-9._:-]{0,12}",
        "@sha256:[0-9a-f]{0,64}",
        "@[a-z0-9]{0,8}:[0-9a-zA-Z]{0,20}",
    ];
    prop_oneof![
        4 => (transport, host, name, suffix).prop_map(|(t, h, n, s)| format!("{t}{h}{n}{s}")),
        1 => any::<String>(),
    ]
}

proptest! {
    #[test]
    fn any_text_parses_or_is_refused_and_a_reference_round_trips(text in reference()) {
        if let Ok(parsed) = ImageRef::parse(&text) {
            let printed = parsed.to_string();
            let again = ImageRef::parse(&printed).map_err(|e| {
                TestCaseError::fail(format!("{text:?} printed as {printed:?}, which fails: {e}"))
            })?;
            prop_assert_eq!(again, parsed, "{:?} printed as {:?}", text, printed);
        }
    }
}
