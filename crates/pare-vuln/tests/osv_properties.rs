//! Property tests of the OSV reader (issue 24): advisory records come from downloads
//! and folders the user points `pare db import` at, so any bytes must give a valid
//! advisory, a withdrawn one or a skip with a reason — never a panic. Real records
//! (tests/data/vuln/osv, from osv.dev) are mutated field by field, so the reader's
//! paths past JSON and schema validation are reached too.

use std::path::PathBuf;

use pare_vuln::osv::{Record, read_record};
use proptest::prelude::*;
use serde_json::Value;

fn real_records() -> Vec<Value> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/vuln/osv");
    let mut out = Vec::new();
    for ecosystem in std::fs::read_dir(&root).expect("tests/data/vuln/osv") {
        for file in std::fs::read_dir(ecosystem.unwrap().path()).unwrap() {
            let path = file.unwrap().path();
            if path.extension().is_some_and(|e| e == "json") {
                let bytes = std::fs::read(&path).unwrap();
                out.push(serde_json::from_slice(&bytes).unwrap());
            }
        }
    }
    assert!(!out.is_empty(), "no records under {}", root.display());
    out
}

/// Every place in a JSON tree, as a path of keys and indexes.
fn places(value: &Value, at: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    out.push(at.clone());
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                at.push(k.clone());
                places(v, at, out);
                at.pop();
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                at.push(i.to_string());
                places(v, at, out);
                at.pop();
            }
        }
        _ => {}
    }
}

fn replace(value: &mut Value, path: &[String], with: Value) {
    let Some((first, rest)) = path.split_first() else {
        *value = with;
        return;
    };
    let child = match value {
        Value::Object(map) => map.get_mut(first),
        Value::Array(items) => first.parse::<usize>().ok().and_then(|i| items.get_mut(i)),
        _ => None,
    };
    if let Some(child) = child {
        replace(child, rest, with);
    }
}

/// What a hostile or broken record may hold where a field was.
fn odd_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        "\\PC{0,24}".prop_map(Value::from),
        "[0-9a-z.:~+^-]{0,16}".prop_map(Value::from),
        Just(Value::Array(vec![])),
        Just(serde_json::json!({})),
        Just(serde_json::json!([{"introduced": "0"}, {"fixed": ""}])),
        Just(serde_json::json!({"type": "ECOSYSTEM", "events": [{"limit": "*"}]})),
    ]
}

proptest! {
    #[test]
    fn any_bytes_are_read_or_skipped(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        if let Record::Invalid { reason, .. } = read_record(&bytes) {
            prop_assert!(!reason.is_empty());
        }
    }

    #[test]
    fn mutated_real_records_are_read_or_skipped_with_a_reason(
        pick in any::<prop::sample::Index>(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), odd_value()), 1..6),
    ) {
        thread_local! {
            static RECORDS: Vec<Value> = real_records();
        }
        let mut record = RECORDS.with(|r| pick.get(r).clone());
        for (at, with) in edits {
            let mut all = Vec::new();
            places(&record, &mut Vec::new(), &mut all);
            let path = at.get(&all).clone();
            replace(&mut record, &path, with);
        }
        let bytes = serde_json::to_vec(&record).unwrap();
        match read_record(&bytes) {
            Record::Valid(advisory) => prop_assert!(!advisory.id.is_empty()),
            Record::Withdrawn(id) => prop_assert!(!id.is_empty()),
            Record::Invalid { reason, .. } => prop_assert!(!reason.is_empty()),
        }
    }
}
