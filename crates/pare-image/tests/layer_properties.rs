//! Property tests of the layer reader (issue 24 point 6): a layer is the image
//! author's, so whatever bytes it holds must give a layer or a clear error, never a
//! panic; a name that climbs out of the root never reaches the index; and names, in
//! whatever bytes they are spelt (invalid UTF-8, longer than a tar header holds), come
//! back one for one, none merged with another (issue 23 case 3).

use std::collections::BTreeSet;

use pare_image::layer::{Expected, ParsedLayer, ReadOptions, read_layer};
use pare_image::path::name_from_bytes;
use pare_image::testutil::{RawItem, TarItem, gzip, tar_of, tar_of_raw};
use proptest::prelude::*;

fn read(bytes: &[u8]) -> Result<ParsedLayer, pare_image::ImageError> {
    read_layer(bytes, "prop", &Expected::default(), &ReadOptions::default())
}

/// `original` with bytes put at the given places (offsets taken modulo its length).
fn mutated(original: &[u8], changes: &[(usize, u8)]) -> Vec<u8> {
    let mut bytes = original.to_vec();
    for &(at, byte) in changes {
        let at = at % bytes.len();
        bytes[at] = byte;
    }
    bytes
}

/// A well-formed layer of every kind of entry the reader handles: files, a directory,
/// links, a whiteout, a long name (GNU), a fifo.
fn sample_layer() -> Vec<u8> {
    let long = format!("usr/share/{}/file", "d".repeat(120));
    tar_of(&[
        TarItem::dir("etc"),
        TarItem::file("etc/passwd", b"root:x:0:0::/root:/bin/sh\n", 0o644),
        TarItem::symlink("bin", "usr/bin"),
        TarItem::hardlink("etc/passwd-", "etc/passwd"),
        TarItem::file("usr/bin/.wh.gone", b"", 0o644),
        TarItem::file(&long, b"long", 0o644),
        TarItem::fifo("run/fifo"),
    ])
}

/// A name component: bytes other than `/` and NUL, not `.` or `..`, no whiteout.
fn component() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(1u8..=255, 1..40)
        .prop_map(|bytes| {
            bytes
                .into_iter()
                .filter(|b| *b != b'/')
                .collect::<Vec<u8>>()
        })
        .prop_filter("a real component", |c| {
            !c.is_empty() && c != b"." && c != b".." && !c.starts_with(b".wh.")
        })
}

/// A tar of regular files named by `names`, as GNU tar writes them: a name longer
/// than the header's 100 bytes goes in a long-name entry (`././@LongLink`) before it.
/// (The tar crate's builder refuses some such names when it shortens them for the
/// header, so the headers are made here.)
fn tar_of_names(names: &[Vec<u8>]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for name in names {
        if name.len() >= 100 {
            let mut long = name.clone();
            long.push(0);
            let mut header = tar::Header::new_gnu();
            header.set_entry_type(tar::EntryType::GNULongName);
            header.set_size(long.len() as u64);
            let gnu = header.as_gnu_mut().expect("gnu header");
            gnu.name[..13].copy_from_slice(b"././@LongLink");
            header.set_cksum();
            builder
                .append(&header, &long[..])
                .expect("append long name");
        }
        let mut header = tar::Header::new_gnu();
        header.set_size(1);
        header.set_mode(0o644);
        header.set_entry_type(tar::EntryType::Regular);
        let short = &name[..name.len().min(99)];
        header.as_gnu_mut().expect("gnu header").name[..short.len()].copy_from_slice(short);
        header.set_cksum();
        builder.append(&header, &b"x"[..]).expect("append");
    }
    builder.into_inner().expect("finish")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Any bytes, raw or behind a gzip header, read as a layer or fail cleanly.
    #[test]
    fn any_bytes_give_a_layer_or_an_error(bytes in prop::collection::vec(any::<u8>(), 0..3000)) {
        let _ = read(&bytes);
        let mut behind_gzip = vec![0x1f, 0x8b, 0x08, 0x00];
        behind_gzip.extend(&bytes);
        let _ = read(&behind_gzip);
        let _ = read(&gzip(&bytes));
    }

    /// A real layer with bytes changed anywhere (headers, checksums, sizes, long
    /// names), raw or gzipped, never panics.
    #[test]
    fn a_damaged_layer_gives_a_layer_or_an_error(
        changes in prop::collection::vec((any::<usize>(), any::<u8>()), 1..12),
    ) {
        let layer = sample_layer();
        let damaged = mutated(&layer, &changes);
        let _ = read(&damaged);
        let _ = read(&mutated(&gzip(&layer), &changes));
        let _ = read(&gzip(&damaged));
    }

    /// Names with `..`, `.` and empty components, absolute or not: every entry that
    /// reaches the index is a clean absolute path, and one that climbs out of the root
    /// is not among them but listed as unsafe.
    #[test]
    fn no_name_reaches_the_index_outside_the_root(
        parts in prop::collection::vec(prop_oneof![
            Just(b"..".to_vec()), Just(b".".to_vec()), Just(Vec::new()), component(),
        ], 1..6),
        absolute in any::<bool>(),
    ) {
        let mut name = if absolute { b"/".to_vec() } else { Vec::new() };
        name.extend(parts.join(&b'/'));
        prop_assume!(!name.is_empty() && name.len() < 100);
        let layer = read(&tar_of_raw(&[RawItem::file(&name, b"x", 0o644)]))
            .expect("a well-formed tar reads");
        let mut depth: i32 = 0;
        let mut climbs = false;
        for part in &parts {
            match part.as_slice() {
                b".." => {
                    depth -= 1;
                    climbs |= depth < 0;
                }
                b"." | b"" => {}
                _ => depth += 1,
            }
        }
        for entry in &layer.entries {
            // `/` itself is clean (a file named `.` lands there).
            prop_assert!(entry.path.starts_with('/'), "{:?}", entry.path);
            if entry.path == "/" {
                continue;
            }
            prop_assert!(
                !entry.path.split('/').skip(1).any(|c| c.is_empty() || c == "." || c == ".."),
                "{:?}", entry.path
            );
        }
        if climbs {
            prop_assert!(layer.entries.is_empty(), "{:?}", layer.entries);
            prop_assert!(!layer.unsafe_entries.is_empty());
        }
        // And the index takes whatever the reader let through.
        let _ = pare_image::index::FileIndex::build([layer]);
    }

    /// Names in any bytes, short or long, come back one for one: each as the index
    /// spells its bytes, and no two merged.
    #[test]
    fn names_in_any_bytes_come_back_one_for_one(
        names in prop::collection::btree_set(prop::collection::vec(component(), 1..5), 1..8),
    ) {
        let names: Vec<Vec<u8>> = names.into_iter().map(|parts| parts.join(&b'/')).collect();
        // A name that is another's directory would be both a file and a directory.
        prop_assume!(!names.iter().any(|a| names.iter().any(|b| {
            b.len() > a.len() && b.starts_with(a) && b[a.len()] == b'/'
        })));
        let layer = read(&tar_of_names(&names)).expect("a well-formed tar reads");
        let read_back: BTreeSet<String> = layer.entries.iter().map(|e| e.path.clone()).collect();
        let expected: BTreeSet<String> = names
            .iter()
            .map(|n| format!("/{}", name_from_bytes(n)))
            .collect();
        prop_assert_eq!(read_back, expected);
        let index = pare_image::index::FileIndex::build([layer]);
        for name in &names {
            let path = format!("/{}", name_from_bytes(name));
            prop_assert!(index.resolve(&path).is_some(), "{path:?} not in the index");
        }
    }
}
