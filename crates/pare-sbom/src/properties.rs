//! Property tests of the parsers that read what an image holds (issue 24): the files
//! are the image author's, so any bytes must give packages, warnings or nothing — never
//! a panic — and a purl pare prints must read back as itself.

use proptest::prelude::*;

use crate::catalog::testing::{evidence, run_cataloger};
use crate::context::Context;
use crate::purl::Parsed;
use crate::{apk, dpkg, ndb, rfc822, rpm};
use pare_image::testutil::TarItem;

/// `original` with bytes put at up to eight places (offsets taken modulo its length).
fn mutated(original: &[u8], changes: &[(usize, u8)]) -> Vec<u8> {
    let mut bytes = original.to_vec();
    for &(at, byte) in changes {
        if !bytes.is_empty() {
            let at = at % bytes.len();
            bytes[at] = byte;
        }
    }
    bytes
}

/// The rpm packages an image whose database at `path` holds `bytes` gives.
fn rpm_packages(path: &str, bytes: &[u8]) -> usize {
    let items = [
        TarItem::file("etc/os-release", b"ID=rhel\nVERSION_ID=9.4\n", 0o644),
        TarItem::file(path, bytes, 0o644),
    ];
    run_cataloger(&items, rpm::catalog).0.len()
}

/// Lines shaped like a control file's (fields, continuations, blank lines) and junk.
fn control_text(field: &'static str) -> impl Strategy<Value = String> {
    let line = prop_oneof![
        (field, "\\PC{0,40}").prop_map(|(k, v)| format!("{k}: {v}")),
        "[A-Za-z-]{1,16}:[ \t]?\\PC{0,40}",
        "[ \t]\\PC{0,40}",
        Just(" .".to_owned()),
        Just(String::new()),
        "\\PC{0,60}",
        any::<String>(),
    ];
    (prop::collection::vec(line, 0..40), any::<bool>()).prop_map(|(lines, newline)| {
        let mut text = lines.join("\n");
        if newline {
            text.push('\n');
        }
        text
    })
}

proptest! {
    #[test]
    fn dpkg_status_never_panics(
        text in control_text(
            "Package|Status|Version|Architecture|Source|Conffiles|Installed-Size|Depends"
        )
    ) {
        let index = pare_image::FileIndex::default();
        let mut cx = Context::new(&index);
        let entries = dpkg::parse_status(&mut cx, "/var/lib/dpkg/status", &text);
        // No more packages than paragraphs (blank-line separated) can name.
        prop_assert!(entries.len() <= text.split("\n\n").count());
    }

    #[test]
    fn rfc822_paragraphs_never_panic(text in any::<String>(), only_first in any::<bool>()) {
        let (paragraphs, _bad) = rfc822::paragraphs(&text, only_first);
        prop_assert!(!only_first || paragraphs.len() <= 1);
    }

    #[test]
    fn dpkg_md5sums_and_diversions_never_panic(
        text in "([0-9a-f]{0,34}[ \t]{0,3}\\PC{0,30}\n){0,20}",
        junk in any::<String>(),
    ) {
        let _ = dpkg::parse_md5sums(&text);
        let _ = dpkg::parse_md5sums(&junk);
        let _ = dpkg::parse_diversions(&text);
        let _ = dpkg::parse_diversions(&junk);
    }

    #[test]
    fn apk_installed_never_panics(text in control_text("P|V|A|L|F|R|Z|a|M|o|C|T|U")) {
        let records = apk::parse(&text);
        prop_assert!(records.len() <= text.lines().count());
    }

    #[test]
    fn purl_parse_never_panics(text in any::<String>(), tail in "\\PC{0,40}") {
        let _ = Parsed::parse(&text);
        let _ = Parsed::parse(&format!("pkg:{tail}"));
    }

    /// A purl that parses prints in the canonical form, which parses to the same parts.
    #[test]
    fn purls_round_trip(
        kind in "[a-zA-Z][a-zA-Z0-9.+-]{0,8}",
        namespace in prop::option::of("[a-zA-Z0-9._%~+-]{1,10}(/[a-zA-Z0-9._%~+-]{1,10}){0,2}"),
        name in "[a-zA-Z0-9._%~+: -]{1,16}",
        version in prop::option::of("[a-zA-Z0-9._%~+:@-]{1,16}"),
        qualifiers in prop::collection::btree_map("[a-z]{1,6}", "[a-zA-Z0-9._%~+:/ -]{1,12}", 0..3),
        subpath in prop::option::of("[a-zA-Z0-9._%~+-]{1,8}(/[a-zA-Z0-9._%~+-]{1,8}){0,2}"),
    ) {
        let mut text = format!("pkg:{kind}/");
        if let Some(ns) = &namespace {
            text.push_str(ns);
            text.push('/');
        }
        text.push_str(&name);
        if let Some(v) = &version {
            text.push('@');
            text.push_str(v);
        }
        if !qualifiers.is_empty() {
            let q: Vec<String> = qualifiers.iter().map(|(k, v)| format!("{k}={v}")).collect();
            text.push('?');
            text.push_str(&q.join("&"));
        }
        if let Some(s) = &subpath {
            text.push('#');
            text.push_str(s);
        }
        if let Ok(parsed) = Parsed::parse(&text) {
            let printed = parsed.to_string();
            let again = Parsed::parse(&printed)
                .map_err(|e| TestCaseError::fail(format!("{text} printed as {printed}: {e}")))?;
            prop_assert_eq!(&again, &parsed, "{} printed as {}", text, printed);
        }
    }

    /// rpm's databases are the image's: a real SQLite rpmdb and a real SUSE ndb
    /// database changed at up to eight bytes, or any bytes at all, give at most as
    /// many packages as the real one holds, with warnings, never a panic.
    #[test]
    fn rpm_databases_never_panic(
        changes in prop::collection::vec((any::<usize>(), any::<u8>()), 1..8),
        junk in prop::collection::vec(any::<u8>(), 0..5000),
    ) {
        let sqlite = evidence("rpm/rpmdb.sqlite");
        let path = "var/lib/rpm/rpmdb.sqlite";
        prop_assert!(rpm_packages(path, &mutated(&sqlite, &changes)) <= 2);
        let _ = rpm_packages(path, &junk);
        let sle = evidence("../../images/base-sles/Packages.db");
        let path = "usr/lib/sysimage/rpm/Packages.db";
        prop_assert!(rpm_packages(path, &mutated(&sle, &changes)) <= 35);
        let _ = rpm_packages(path, &junk);
        if let Ok(blobs) = ndb::blobs(&junk) {
            prop_assert!(blobs.len() <= junk.len() / 16);
        }
    }
}
