//! `--probe-file`: a JSON list of probes, read so that every mistake in it is named by
//! the file, the line and the column where it is, and the probe it is in.
//!
//! ```json
//! [
//!   {"kind": "http", "method": "GET", "path": "/health", "expect_status": 200},
//!   {"kind": "http", "method": "POST", "path": "/api/items",
//!    "headers": {"Authorization": "Bearer test"}, "body": {"name": "x"}},
//!   {"kind": "http", "method": "POST", "path": "/note/",
//!    "headers": [["X-Trace", "1"]], "body": "text=hello"},
//!   {"kind": "exec", "command": ["psql", "-c", "select 1"]}
//! ]
//! ```
//!
//! Headers are a `{"Name": "value"}` map or a list of `["Name", "value"]` pairs (for
//! a name given twice); a body is text or any JSON value (sent as its JSON text). A
//! body without a `Content-Type` header gets the one its kind calls for, as with
//! `--probe` ([`crate::probe::content_type_of`]).

use std::fmt;
use std::path::Path;

use serde::Deserializer;
use serde::de::{MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use crate::error::BuildError;
use crate::probe::Probe;

/// The probes of a probe file, HTTP and exec apart, each in the file's order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProbeFile {
    pub http: Vec<Probe>,
    pub exec: Vec<Vec<String>>,
}

/// Reads and parses the probe file at `path`.
pub fn read(path: &Path) -> Result<ProbeFile, BuildError> {
    let text = std::fs::read_to_string(path).map_err(|source| BuildError::Io {
        action: "reading",
        path: path.to_owned(),
        source,
    })?;
    parse(path, &text)
}

/// Reads the probe file at `path` whose text is `text`.
pub fn parse(path: &Path, text: &str) -> Result<ProbeFile, BuildError> {
    // Where `line` and `column` of the text at `offset` are in the file. serde_json
    // counts from 1, and says 0 when it knows no place: a probe's fields are read
    // from a buffer (its `kind` first), so a mistake in them is placed at the
    // probe's start.
    let at = |offset: usize, line: usize, column: usize, message: String| {
        let (start_line, start_column) = line_and_column(text, offset);
        let (line, column) = match line {
            0 => (start_line, start_column),
            1 => (start_line, start_column + column.saturating_sub(1)),
            _ => (start_line + line - 1, column),
        };
        BuildError::ProbeFile {
            path: path.to_owned(),
            line,
            column,
            message,
        }
    };
    let listed: Vec<&RawValue> = serde_json::from_str(text).map_err(|e| {
        at(
            0,
            e.line(),
            e.column(),
            format!("not a JSON list of probes: {}", without_position(&e)),
        )
    })?;
    let mut file = ProbeFile::default();
    for (i, raw) in listed.into_iter().enumerate() {
        let offset = raw.get().as_ptr() as usize - text.as_ptr() as usize;
        let n = i + 1;
        let probe: Probe = serde_json::from_str(raw.get()).map_err(|e| {
            at(
                offset,
                e.line(),
                e.column(),
                format!("probe {n}: {}", without_position(&e)),
            )
        })?;
        match probe {
            Probe::Exec { command } if command.is_empty() => {
                return Err(at(
                    offset,
                    1,
                    1,
                    format!("probe {n}: an exec probe needs a command"),
                ));
            }
            Probe::Exec { command } => file.exec.push(command),
            mut http => {
                http.add_content_type();
                file.http.push(http);
            }
        }
    }
    Ok(file)
}

/// The 1-based line and column of byte `offset` of `text`.
fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rfind('\n').map_or(offset, |nl| offset - nl - 1) + 1;
    (line, column)
}

/// A serde_json message without its ` at line L column C`, which pare says itself.
fn without_position(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    text.strip_suffix(&suffix).unwrap_or(&text).to_owned()
}

/// Deserializes headers given as `[["Name", "value"], …]` or `{"Name": "value", …}`,
/// in the order written.
pub(crate) fn headers<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<(String, String)>, D::Error> {
    struct Headers;
    impl<'de> Visitor<'de> for Headers {
        type Value = Vec<(String, String)>;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str(r#"headers as {"Name": "value"} or [["Name", "value"], …]"#)
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some(pair) = seq.next_element::<(String, String)>()? {
                out.push(pair);
            }
            Ok(out)
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some(pair) = map.next_entry::<String, String>()? {
                out.push(pair);
            }
            Ok(out)
        }
    }
    d.deserialize_any(Headers)
}

/// Deserializes a body given as text, or as a JSON value sent as its JSON text.
pub(crate) fn body<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(
        match <serde_json::Value as serde::Deserialize>::deserialize(d)? {
            serde_json::Value::Null => None,
            serde_json::Value::String(text) => Some(text),
            value => Some(value.to_string()),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<ProbeFile, String> {
        parse(Path::new("probes.json"), text).map_err(|e| e.to_string())
    }

    fn headers_of(p: &Probe) -> Vec<(String, String)> {
        match p {
            Probe::Http { headers, .. } => headers.clone(),
            Probe::Exec { .. } => unreachable!(),
        }
    }

    fn pair(k: &str, v: &str) -> (String, String) {
        (k.to_owned(), v.to_owned())
    }

    #[test]
    fn reads_headers_as_pairs_or_as_a_map_and_bodies_as_text_or_json() {
        let file = read(
            r#"[
  {"kind": "http", "method": "GET", "path": "/a", "headers": [["X-One", "1"], ["X-One", "2"]]},
  {"kind": "http", "method": "POST", "path": "/b", "headers": {"Authorization": "Bearer t", "Accept": "*/*"},
   "body": {"name": "x"}, "expect_status": 201},
  {"kind": "http", "method": "POST", "path": "/note/", "body": "text=hello"},
  {"kind": "http", "method": "PUT", "path": "/c", "body": "x", "headers": {"content-type": "text/csv"}},
  {"kind": "exec", "command": ["true"]}
]"#,
        )
        .unwrap();
        assert_eq!(file.exec, [vec!["true".to_owned()]]);
        assert_eq!(
            headers_of(&file.http[0]),
            [pair("X-One", "1"), pair("X-One", "2")]
        );
        assert_eq!(
            headers_of(&file.http[1]),
            [
                pair("Authorization", "Bearer t"),
                pair("Accept", "*/*"),
                pair("Content-Type", "application/json")
            ],
            "in the order written, then the body's type"
        );
        let Probe::Http {
            body,
            expect_status,
            ..
        } = &file.http[1]
        else {
            unreachable!()
        };
        assert_eq!(body.as_deref(), Some(r#"{"name":"x"}"#));
        assert_eq!(*expect_status, Some(201));
        assert_eq!(
            headers_of(&file.http[2]),
            [pair("Content-Type", "application/x-www-form-urlencoded")]
        );
        assert_eq!(
            headers_of(&file.http[3]),
            [pair("content-type", "text/csv")],
            "the user's type stays"
        );
    }

    #[test]
    fn names_the_file_line_and_column_of_a_mistake() {
        // A mistake in a probe's fields is placed at the probe's start.
        assert_eq!(
            read("[\n  {\"kind\": \"http\", \"path\": \"/\"},\n  {\"kind\": \"http\", \"method\": \"GET\",\n   \"path\": 3}\n]")
                .unwrap_err(),
            "probes.json:2:3: probe 1: missing field `method`"
        );
        assert_eq!(
            read("[\n  {\"kind\": \"http\", \"method\": \"GET\", \"path\": \"/\"},\n  {\"kind\": \"http\", \"method\": \"GET\",\n   \"path\": 3}\n]")
                .unwrap_err(),
            "probes.json:3:3: probe 2: invalid type: integer `3`, expected a string"
        );
        assert_eq!(
            read("[\n {\"kind\": \"http\", \"method\": \"GET\", \"path\": \"/\", \"expected_status\": 200}]")
                .unwrap_err(),
            "probes.json:2:2: probe 1: unknown field `expected_status`, expected one of `method`, `path`, `headers`, `body`, `expect_status`",
            "a misspelt field is no silent default"
        );
        // A mistake in the JSON itself is placed where it is.
        assert_eq!(
            read(
                "[\n  {\"kind\": \"http\", \"method\": \"GET\",\n   \"path\": \"/\" \"body\": 1}\n]"
            )
            .unwrap_err(),
            "probes.json:3:16: not a JSON list of probes: expected `,` or `}`"
        );
        assert_eq!(
            read("[\n  {\"kind\": \"exec\", \"command\": []}\n]").unwrap_err(),
            "probes.json:2:3: probe 1: an exec probe needs a command"
        );
        assert_eq!(
            read("[\n  {\"kind\": \"http\",\n").unwrap_err(),
            "probes.json:3:0: not a JSON list of probes: EOF while parsing an object"
        );
        assert!(
            read(r#"{"kind": "exec"}"#)
                .unwrap_err()
                .starts_with("probes.json:1:1: not a JSON list of probes: invalid type: map")
        );
        assert!(
            read(r#"[{"kind": "http", "method": "GET", "path": "/", "headers": {"A": 1}}]"#)
                .unwrap_err()
                .contains("probe 1: invalid type: integer `1`, expected a string")
        );
    }
}
