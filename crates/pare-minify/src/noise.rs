//! Telling noise from change, as Twitter's Diffy does: the original image answers the
//! same requests twice (or more) without the tracer, and whatever differs between
//! those reference answers (a timestamp, a request id, a `Date` header) is noise. The
//! slim image's answer is then compared with the first reference: a difference that
//! falls inside the noise is ignored (and listed as such); anything else is a change.
//!
//! Statuses, the set of header names and the structure of a JSON body (its keys and
//! the types of its values) are always compared; header values, JSON values (by path,
//! `$.items[0].id`) and the tokens of any other body are compared unless they are noise
//! or the user accepts them with `--verify-ignore`.

use std::collections::{BTreeMap, BTreeSet};

use regex::Regex;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::probe::ProbeResult;

/// Headers whose values change from one answer to the next in any server, whether or
/// not the two references happened to agree (two requests within the same second
/// carry the same `Date`).
const VOLATILE_HEADERS: [&str; 9] = [
    "date",
    "expires",
    "age",
    "set-cookie",
    "x-request-id",
    "x-correlation-id",
    "traceparent",
    "server-timing",
    "x-runtime",
];

/// What the user accepts as differing (`--verify-ignore`): a JSON path (`$.pid`,
/// `$.items[*].id`: everything below it too), a header (`header:etag`), or a regex
/// whose matches are removed from both bodies before they are compared.
#[derive(Clone, Debug, Default)]
pub struct Ignore {
    json: Vec<Regex>,
    headers: BTreeSet<String>,
    text: Vec<Regex>,
}

impl Ignore {
    /// Parses `--verify-ignore` values.
    pub fn parse(patterns: &[String]) -> Result<Ignore, String> {
        let mut ignore = Ignore::default();
        for p in patterns {
            if let Some(header) = p.strip_prefix("header:") {
                ignore.headers.insert(header.trim().to_ascii_lowercase());
            } else if p.starts_with('$') {
                ignore.json.push(json_path_pattern(p)?);
            } else {
                ignore
                    .text
                    .push(Regex::new(p).map_err(|e| format!("--verify-ignore {p:?}: {e}"))?);
            }
        }
        Ok(ignore)
    }

    fn json_path(&self, path: &str) -> bool {
        self.json.iter().any(|re| re.is_match(path))
    }

    fn header(&self, name: &str) -> bool {
        self.headers.contains(name)
    }

    fn clean(&self, body: &str) -> String {
        self.text.iter().fold(body.to_owned(), |acc, re| {
            re.replace_all(&acc, "").into_owned()
        })
    }
}

/// `$.items[*].id` as a regex over concrete paths (`$.items[3].id`, and below it).
fn json_path_pattern(path: &str) -> Result<Regex, String> {
    let escaped = regex::escape(path)
        .replace(r"\[\*\]", r"\[\d+\]")
        .replace(r"\*", r"[^.\[]+");
    Regex::new(&format!(r"^{escaped}(?:[.\[].*)?$"))
        .map_err(|e| format!("--verify-ignore {path:?}: {e}"))
}

/// What varies between the reference answers to one probe.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Noise {
    /// Headers whose values vary.
    pub headers: BTreeSet<String>,
    /// JSON paths whose values vary; a path whose structure varies covers everything
    /// below it.
    pub json: BTreeSet<String>,
    /// Token positions of the first reference's body that vary, and the positions
    /// before which the other references had extra tokens.
    pub tokens: BTreeSet<usize>,
    pub gaps: BTreeSet<usize>,
    /// The whole answer varies (the references failed differently, say).
    pub everything: bool,
}

impl Noise {
    fn covers_json(&self, path: &str) -> bool {
        self.everything
            || self.json.iter().any(|noisy| {
                path == noisy
                    || path
                        .strip_prefix(noisy.as_str())
                        .is_some_and(|rest| rest.starts_with('.') || rest.starts_with('['))
            })
    }
}

/// Learns what varies across `references` (answers to the same probe; the first is
/// the one the slim image is compared with).
pub fn learn(references: &[&ProbeResult]) -> Noise {
    let mut noise = Noise::default();
    let Some((first, others)) = references.split_first() else {
        return noise;
    };
    for other in others {
        if first.status != other.status || first.error.is_some() != other.error.is_some() {
            noise.everything = true;
        }
        let (a, b) = (headers_of(first), headers_of(other));
        for (name, value) in &a {
            if b.get(name) != Some(value) {
                noise.headers.insert(name.clone());
            }
        }
        match (parse_json(&first.body), parse_json(&other.body)) {
            (Some(x), Some(y)) => json_noise("$", &x, &y, &mut noise.json),
            _ => text_noise(&first.body, &other.body, &mut noise),
        }
    }
    noise
}

/// One difference between the slim image's answer and the reference's.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldDiff {
    /// `status`, `headers`, `header etag`, `$.pid`, or `body`.
    pub place: String,
    pub reference: String,
    pub slim: String,
    /// The `--verify-ignore` that would accept it, where one can.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accept_with: Option<String>,
}

/// The outcome of comparing one answer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Comparison {
    pub differences: Vec<FieldDiff>,
    /// Differences inside the learned noise (or accepted by `--verify-ignore`).
    pub ignored: Vec<FieldDiff>,
}

/// Compares the slim image's answer with the first reference's.
pub fn compare(
    reference: &ProbeResult,
    slim: &ProbeResult,
    noise: &Noise,
    ignore: &Ignore,
) -> Comparison {
    let mut out = Comparison::default();
    let show_status = |r: &ProbeResult| match (&r.status, &r.error) {
        (Some(s), _) => s.to_string(),
        (None, Some(e)) => format!("error: {e}"),
        (None, None) => "-".into(),
    };
    if reference.status != slim.status || reference.error.is_some() != slim.error.is_some() {
        out.differences.push(FieldDiff {
            place: "status".into(),
            reference: show_status(reference),
            slim: show_status(slim),
            accept_with: None,
        });
        // An answer against none: nothing more to say about headers or body.
        if reference.status.is_none() || slim.status.is_none() {
            return out;
        }
    } else {
        compare_headers(reference, slim, noise, ignore, &mut out);
    }
    let (ref_body, slim_body) = (ignore.clean(&reference.body), ignore.clean(&slim.body));
    match (parse_json(&ref_body), parse_json(&slim_body)) {
        (Some(a), Some(b)) => compare_json("$", &a, &b, noise, ignore, &mut out),
        (Some(_), None) => out.differences.push(FieldDiff {
            place: "body".into(),
            reference: reference.body.clone(),
            slim: slim.body.clone(),
            accept_with: None,
        }),
        _ => compare_text(&ref_body, &slim_body, noise, &mut out),
    }
    // Content-Length follows the body: when every body difference is noise, so is it.
    let body_differs = out
        .differences
        .iter()
        .any(|d| d.place == "body" || d.place.starts_with('$'));
    if !body_differs {
        let (moved, kept): (Vec<FieldDiff>, Vec<FieldDiff>) = out
            .differences
            .drain(..)
            .partition(|d| d.place == "header content-length");
        out.differences = kept;
        out.ignored.extend(moved);
    }
    out
}

/// Headers whose value is a set: the order of its comma-separated members means
/// nothing, and some servers make it from a hash set (Flask's `Allow` on a 405 varies
/// from one process to the next).
const SET_HEADERS: [&str; 5] = [
    "allow",
    "vary",
    "access-control-allow-methods",
    "access-control-allow-headers",
    "access-control-expose-headers",
];

/// An answer's headers by name, the value of a set-valued one in a fixed order.
fn headers_of(r: &ProbeResult) -> BTreeMap<String, String> {
    r.headers
        .iter()
        .map(|(name, value)| {
            if SET_HEADERS.contains(&name.as_str()) {
                let mut members: Vec<&str> = value.split(',').map(str::trim).collect();
                members.sort_unstable();
                (name.clone(), members.join(", "))
            } else {
                (name.clone(), value.clone())
            }
        })
        .collect()
}

fn compare_headers(
    reference: &ProbeResult,
    slim: &ProbeResult,
    noise: &Noise,
    ignore: &Ignore,
    out: &mut Comparison,
) {
    let (a, b) = (headers_of(reference), headers_of(slim));
    let names = |h: &BTreeMap<String, String>| -> BTreeSet<String> {
        h.keys().filter(|n| !ignore.header(n)).cloned().collect()
    };
    let (an, bn) = (names(&a), names(&b));
    if an != bn {
        let only = |x: &BTreeSet<String>, y: &BTreeSet<String>| {
            x.difference(y).cloned().collect::<Vec<_>>().join(", ")
        };
        out.differences.push(FieldDiff {
            place: "headers".into(),
            reference: format!("only here: {}", only(&an, &bn)),
            slim: format!("only here: {}", only(&bn, &an)),
            accept_with: None,
        });
    }
    for name in an.intersection(&bn) {
        let (x, y) = (&a[name], &b[name]);
        if x == y {
            continue;
        }
        let diff = FieldDiff {
            place: format!("header {name}"),
            reference: x.clone(),
            slim: y.clone(),
            accept_with: Some(format!("header:{name}")),
        };
        if noise.everything
            || noise.headers.contains(name)
            || VOLATILE_HEADERS.contains(&name.as_str())
        {
            out.ignored.push(diff);
        } else {
            out.differences.push(diff);
        }
    }
}

/// A body as JSON, when it is an object or an array.
fn parse_json(body: &str) -> Option<Value> {
    serde_json::from_str::<Value>(body)
        .ok()
        .filter(|v| v.is_object() || v.is_array())
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// The paths where two reference values differ: a leaf whose value differs, or a
/// subtree whose structure does.
fn json_noise(path: &str, a: &Value, b: &Value, noisy: &mut BTreeSet<String>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            if x.keys().collect::<BTreeSet<_>>() != y.keys().collect::<BTreeSet<_>>() {
                noisy.insert(path.to_owned());
                return;
            }
            for (k, v) in x {
                json_noise(&format!("{path}.{k}"), v, &y[k], noisy);
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            if x.len() != y.len() {
                noisy.insert(path.to_owned());
                return;
            }
            for (i, (v, w)) in x.iter().zip(y).enumerate() {
                json_noise(&format!("{path}[{i}]"), v, w, noisy);
            }
        }
        _ if a != b => {
            noisy.insert(path.to_owned());
        }
        _ => {}
    }
}

fn compare_json(
    path: &str,
    a: &Value,
    b: &Value,
    noise: &Noise,
    ignore: &Ignore,
    out: &mut Comparison,
) {
    let structural = |what: String, reference: String, slim: String, out: &mut Comparison| {
        let diff = FieldDiff {
            place: what.clone(),
            reference,
            slim,
            accept_with: Some(what.clone()),
        };
        if noise.covers_json(&what) || ignore.json_path(&what) {
            out.ignored.push(diff);
        } else {
            out.differences.push(diff);
        }
    };
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let (xk, yk): (BTreeSet<&String>, BTreeSet<&String>) =
                (x.keys().collect(), y.keys().collect());
            for k in xk.difference(&yk) {
                structural(
                    format!("{path}.{k}"),
                    compact(&x[*k]),
                    "(missing)".into(),
                    out,
                );
            }
            for k in yk.difference(&xk) {
                structural(
                    format!("{path}.{k}"),
                    "(missing)".into(),
                    compact(&y[*k]),
                    out,
                );
            }
            for k in xk.intersection(&yk) {
                compare_json(&format!("{path}.{k}"), &x[*k], &y[*k], noise, ignore, out);
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            if x.len() != y.len() {
                structural(
                    path.to_owned(),
                    format!("{} items", x.len()),
                    format!("{} items", y.len()),
                    out,
                );
            }
            for (i, (v, w)) in x.iter().zip(y).enumerate() {
                compare_json(&format!("{path}[{i}]"), v, w, noise, ignore, out);
            }
        }
        _ if type_name(a) != type_name(b) => {
            // A type change is a change of structure: never noise by value alone.
            let diff = FieldDiff {
                place: path.to_owned(),
                reference: compact(a),
                slim: compact(b),
                accept_with: Some(path.to_owned()),
            };
            if ignore.json_path(path) {
                out.ignored.push(diff);
            } else {
                out.differences.push(diff);
            }
        }
        _ if a != b => structural(path.to_owned(), compact(a), compact(b), out),
        _ => {}
    }
}

fn compact(v: &Value) -> String {
    let text = v.to_string();
    if text.chars().count() > 120 {
        format!("{}…", text.chars().take(119).collect::<String>())
    } else {
        text
    }
}

/// A body as tokens: runs of letters and digits, and every other character alone, so
/// that `at 12:03:04` varies in its numbers only.
fn tokens(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        if c.is_alphanumeric() {
            start.get_or_insert(i);
        } else {
            if let Some(s) = start.take() {
                out.push(&text[s..i]);
            }
            out.push(&text[i..i + c.len_utf8()]);
        }
    }
    if let Some(s) = start {
        out.push(&text[s..]);
    }
    out
}

fn text_noise(first: &str, other: &str, noise: &mut Noise) {
    let (a, b) = (tokens(first), tokens(other));
    for op in similar::capture_diff_slices(similar::Algorithm::Myers, &a, &b) {
        let (old, old_len) = (op.old_range().start, op.old_range().len());
        match op.tag() {
            similar::DiffTag::Equal => {}
            similar::DiffTag::Insert => {
                noise.gaps.insert(old);
            }
            similar::DiffTag::Delete | similar::DiffTag::Replace => {
                noise.tokens.extend(old..old + old_len);
            }
        }
    }
    widen_numbers(&a, &mut noise.tokens);
}

/// Two references taken seconds apart show only the seconds of a time varying; the
/// slim image, answering a minute later, varies in its minutes too. So a varying
/// number stands for the whole run of numbers and separators it is part of (a time, a
/// date, a version, an address). In a binary body (an image a CLI wrote to stdout) a
/// number is raw bytes, each a token of its own: a varying byte stands for the run of
/// lone bytes around it (PNG's `tIME` chunk varies in its seconds between references,
/// in its minutes too a minute later, and in the checksum after it).
fn widen_numbers(tokens: &[&str], noisy: &mut BTreeSet<usize>) {
    let binary = tokens.iter().any(|t| {
        t.chars()
            .any(|c| c == '\u{FFFD}' || c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    });
    let numeric = |t: &str| {
        t.chars().all(|c| c.is_ascii_digit())
            || matches!(t, ":" | "-" | "." | "/" | "+" | "T" | "Z")
            || binary && t.chars().count() == 1
    };
    let seeds: Vec<usize> = noisy.iter().copied().collect();
    for seed in seeds {
        if !tokens.get(seed).is_some_and(|t| numeric(t)) {
            continue;
        }
        let mut left = seed;
        while left > 0 && numeric(tokens[left - 1]) {
            left -= 1;
        }
        let mut right = seed;
        while right + 1 < tokens.len() && numeric(tokens[right + 1]) {
            right += 1;
        }
        noisy.extend(left..=right);
    }
}

fn compare_text(reference: &str, slim: &str, noise: &Noise, out: &mut Comparison) {
    if reference == slim {
        return;
    }
    let (a, b) = (tokens(reference), tokens(slim));
    let mut real = false;
    let mut noisy_spans: Vec<(String, String)> = Vec::new();
    for op in similar::capture_diff_slices(similar::Algorithm::Myers, &a, &b) {
        let (old, new) = (op.old_range(), op.new_range());
        let inside = match op.tag() {
            similar::DiffTag::Equal => continue,
            similar::DiffTag::Insert => {
                noise.everything
                    || noise.gaps.contains(&old.start)
                    || noise.tokens.contains(&old.start)
                    || old.start > 0 && noise.tokens.contains(&(old.start - 1))
            }
            _ => noise.everything || old.clone().all(|i| noise.tokens.contains(&i)),
        };
        if inside {
            noisy_spans.push((a[old].concat(), b[new].concat()));
        } else {
            real = true;
        }
    }
    if real {
        out.differences.push(FieldDiff {
            place: "body".into(),
            reference: reference.to_owned(),
            slim: slim.to_owned(),
            accept_with: None,
        });
    } else {
        for (r, s) in noisy_spans {
            out.ignored.push(FieldDiff {
                place: "body".into(),
                reference: r,
                slim: s,
                accept_with: None,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, headers: &[(&str, &str)], body: &str) -> ProbeResult {
        ProbeResult {
            probe: "GET /health".into(),
            status: Some(status),
            headers: headers
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            body: body.into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_timestamp_a_uuid_and_a_date_header_are_learned_as_noise() {
        let r1 = answer(
            200,
            &[("date", "Mon, 30 Nov 2026 04:51:41 GMT"), ("etag", "\"1\"")],
            r#"{"status":"ok","time":"2026-11-30T04:51:41Z","id":"5f0c","pid":7,"count":1}"#,
        );
        let r2 = answer(
            200,
            &[("date", "Mon, 30 Nov 2026 04:51:43 GMT"), ("etag", "\"2\"")],
            r#"{"status":"ok","time":"2026-11-30T04:51:43Z","id":"a9e1","pid":7,"count":1}"#,
        );
        let noise = learn(&[&r1, &r2]);
        assert_eq!(noise.json, ["$.id", "$.time"].map(str::to_owned).into());
        assert_eq!(noise.headers, ["date", "etag"].map(str::to_owned).into());
        let slim = answer(
            200,
            &[("date", "Mon, 30 Nov 2026 04:51:48 GMT"), ("etag", "\"3\"")],
            r#"{"status":"ok","time":"2026-11-30T04:51:48Z","id":"77aa","pid":7,"count":1}"#,
        );
        let c = compare(&r1, &slim, &noise, &Ignore::default());
        assert!(c.differences.is_empty(), "{c:?}");
        assert_eq!(c.ignored.len(), 4, "{c:?}");
    }

    #[test]
    fn a_changed_value_is_named_by_its_path_with_the_ignore_that_accepts_it() {
        let r = answer(200, &[], r#"{"status":"ok","pid":9,"items":[{"id":1}]}"#);
        let noise = learn(&[&r, &r]);
        let slim = answer(200, &[], r#"{"status":"ok","pid":6,"items":[{"id":1}]}"#);
        let c = compare(&r, &slim, &noise, &Ignore::default());
        assert_eq!(
            c.differences,
            [FieldDiff {
                place: "$.pid".into(),
                reference: "9".into(),
                slim: "6".into(),
                accept_with: Some("$.pid".into()),
            }]
        );
        let accepted = Ignore::parse(&["$.pid".into()]).unwrap();
        assert!(compare(&r, &slim, &noise, &accepted).differences.is_empty());
    }

    #[test]
    fn structure_and_status_are_always_compared() {
        let r = answer(200, &[("a", "1")], r#"{"time":"x","n":1}"#);
        let r2 = answer(200, &[("a", "1")], r#"{"time":"y","n":1}"#);
        let noise = learn(&[&r, &r2]);
        // The noisy value turned into a number: a change of type.
        let typed = answer(200, &[("a", "1")], r#"{"time":5,"n":1}"#);
        assert_eq!(
            compare(&r, &typed, &noise, &Ignore::default()).differences[0].place,
            "$.time"
        );
        // Another status and a key gone (headers are not compared across statuses).
        let gone = answer(500, &[], r#"{"time":"z"}"#);
        let places = |slim: &ProbeResult| -> Vec<String> {
            compare(&r, slim, &noise, &Ignore::default())
                .differences
                .into_iter()
                .map(|d| d.place)
                .collect()
        };
        assert_eq!(places(&gone), ["status", "$.n"]);
        // Same status, a header gone.
        assert_eq!(
            places(&answer(200, &[], r#"{"time":"z","n":1}"#)),
            ["headers"]
        );
    }

    #[test]
    fn text_bodies_vary_in_their_tokens_only() {
        let r1 = answer(200, &[], "<p>served at 04:51:41 by worker 3</p>");
        let r2 = answer(200, &[], "<p>served at 04:51:43 by worker 3</p>");
        let noise = learn(&[&r1, &r2]);
        let slim = answer(200, &[], "<p>served at 04:52:07 by worker 3</p>");
        assert!(
            compare(&r1, &slim, &noise, &Ignore::default())
                .differences
                .is_empty()
        );
        let changed = answer(200, &[], "<p>served at 04:52:07 by worker 4</p>");
        let c = compare(&r1, &changed, &noise, &Ignore::default());
        assert_eq!(c.differences.len(), 1);
        assert_eq!(c.differences[0].place, "body");
    }

    #[test]
    fn a_time_in_binary_output_varies_in_all_its_bytes() {
        // A PNG's tIME chunk (year, month, day, hour, minute, second) and its CRC, as
        // the lossy text of stdout: the references a second apart, the slim image's a
        // minute later.
        let png = |minute: u8, second: u8, crc: &[u8]| {
            let mut bytes = b"\x89PNG\x00\x00\x00\x07tIME\x07\xea\x0c\x04\x16".to_vec();
            bytes.extend([minute, second]);
            bytes.extend(crc);
            bytes.extend(b"\x00\x00\x01\x10IDATx\x9c\x01\x02IEND");
            answer(0, &[], &String::from_utf8_lossy(&bytes))
        };
        let r1 = png(3, 41, b"\xa1\x02)v");
        let r2 = png(3, 42, b"\x13\xc4G[");
        let noise = learn(&[&r1, &r2]);
        let slim = png(5, 18, b"\x7f\x01\xee!");
        let c = compare(&r1, &slim, &noise, &Ignore::default());
        assert!(c.differences.is_empty(), "{c:?}");
        let other = png(3, 41, b"\xa1\x02)v");
        let mut changed = other.clone();
        changed.body = changed.body.replace("IDAT", "IDAx");
        assert!(
            !compare(&r1, &changed, &noise, &Ignore::default())
                .differences
                .is_empty()
        );
    }

    #[test]
    fn json_path_ignores_take_wildcards_and_subtrees() {
        let ignore = Ignore::parse(&[
            "$.items[*].id".into(),
            "$.meta".into(),
            "header:ETag".into(),
        ])
        .unwrap();
        assert!(ignore.json_path("$.items[3].id"));
        assert!(ignore.json_path("$.meta.build.time"));
        assert!(!ignore.json_path("$.items[3].name"));
        assert!(!ignore.json_path("$.metadata"));
        assert!(ignore.header("etag"));
    }

    #[test]
    fn the_members_of_a_set_valued_header_may_come_in_any_order() {
        let a = answer(405, &[("allow", "OPTIONS, HEAD, GET")], "no");
        let b = answer(405, &[("allow", "GET,OPTIONS, HEAD")], "no");
        let noise = learn(&[&a, &a]);
        let compared = compare(&a, &b, &noise, &Ignore::default());
        assert!(compared.differences.is_empty(), "{compared:?}");
        let c = answer(405, &[("allow", "GET, HEAD")], "no");
        assert_eq!(
            compare(&a, &c, &noise, &Ignore::default()).differences[0].place,
            "header allow",
            "a member fewer is a difference"
        );
    }
}
