//! pare's own probes: the requests beside the user's that reach the code an app only
//! runs when something goes wrong (its error handlers, their templates, the modules
//! they import). A slim image that answers the user's probes can still turn every 404
//! into a 500 because nothing loaded the 404 handler while it was traced; these
//! probes load it, and verification compares their answers like the user's.
//!
//! They are chosen from the user's HTTP probes (or the default `GET /`) and their
//! answers in the traced run, then sent exactly the same to the reference runs and the
//! slim image:
//! - `GET` [`MISSING_PATH`]: a path no app serves (a 404);
//! - `DELETE` on a probed `GET` path that answered 2xx (`/` first): a route that exists
//!   with a method it does not take (a 405). `DELETE`, because every HTTP parser
//!   knows it (an invented method is refused by some before the app sees it), and it
//!   only ever reaches a throwaway container;
//! - each probed `POST`/`PUT`/`PATCH` again with a body its content type cannot parse
//!   (`{` for JSON, `<` for XML, no fields for a form): the app's 400;
//! - `HEAD` of each probed `GET` path.
//!
//! They come last, after the user's probes and the crawl, so nothing they change in
//! the app changes what the user's probes get.

use std::collections::BTreeSet;

use crate::probe::{Origin, Probe};

/// A path no app serves: fixed, so that every run is sent the same request.
pub const MISSING_PATH: &str = "/pare-probe-missing-7f3c9a1e";

/// At most this many malformed bodies and this many `HEAD`s.
const MAX_BODIES: usize = 5;
const MAX_HEADS: usize = 10;

/// pare's own probes for the user's HTTP probes `asked`, each with the status the
/// traced original answered it with (`None`: no answer).
pub fn own_probes(asked: &[(&Probe, Option<u16>)]) -> Vec<Probe> {
    let mut probes = vec![Probe::http("GET", MISSING_PATH)];
    let taken: BTreeSet<(&str, &str)> = asked
        .iter()
        .filter_map(|(p, _)| match p {
            Probe::Http { method, path, .. } => Some((method.as_str(), path.as_str())),
            Probe::Exec { .. } => None,
        })
        .collect();
    let gets: Vec<(&str, Option<u16>)> = asked
        .iter()
        .filter_map(|(p, status)| match p {
            Probe::Http { method, path, .. } if method == "GET" => Some((path.as_str(), *status)),
            _ => None,
        })
        .collect();
    let answered = |path: &&str| gets.iter().any(|(p, s)| p == path && is_success(*s));
    let wrong_method_on = gets
        .iter()
        .map(|(path, _)| *path)
        .filter(answered)
        .min_by_key(|path| *path != "/");
    if let Some(path) = wrong_method_on.filter(|path| !taken.contains(&("DELETE", path))) {
        probes.push(Probe::http("DELETE", path));
    }
    let mut seen = BTreeSet::new();
    for (probe, _) in asked {
        if let Some(malformed) = malformed(probe)
            && seen.insert(malformed.label())
            && seen.len() <= MAX_BODIES
        {
            probes.push(malformed);
        }
    }
    let mut heads = BTreeSet::new();
    for (path, _) in &gets {
        if heads.len() < MAX_HEADS && !taken.contains(&("HEAD", path)) && heads.insert(*path) {
            probes.push(Probe::http("HEAD", path));
        }
    }
    probes.into_iter().map(|p| p.from(Origin::Pare)).collect()
}

fn is_success(status: Option<u16>) -> bool {
    status.is_some_and(|s| (200..300).contains(&s))
}

/// `probe` again with a body its content type cannot parse, if it sends one of a
/// type pare knows how to break.
fn malformed(probe: &Probe) -> Option<Probe> {
    let Probe::Http {
        method,
        path,
        headers,
        body: Some(_),
        ..
    } = probe
    else {
        return None;
    };
    if !matches!(method.as_str(), "POST" | "PUT" | "PATCH") {
        return None;
    }
    let content_type = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        .map(|(_, v)| v.to_ascii_lowercase())?;
    let essence = content_type.split(';').next().unwrap_or("").trim();
    let broken = if essence == "application/json" || essence.ends_with("+json") {
        "{"
    } else if essence.ends_with("/xml") || essence.ends_with("+xml") {
        "<"
    } else if essence == "application/x-www-form-urlencoded" {
        ""
    } else {
        return None;
    };
    Some(Probe::Http {
        method: method.clone(),
        path: path.clone(),
        headers: vec![("Content-Type".into(), content_type)],
        body: Some(broken.into()),
        expect_status: None,
        origin: Origin::Pare,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(probes: &[Probe]) -> Vec<String> {
        probes.iter().map(Probe::label).collect()
    }

    fn probe(text: &str) -> Probe {
        Probe::parse_http(text).unwrap()
    }

    #[test]
    fn a_missing_path_a_wrong_method_a_malformed_body_and_heads() {
        let asked = [
            probe("GET /api/items"),
            probe("GET /"),
            probe(r#"POST /api/items {"name":"x"}"#),
            probe("POST /note/ text=hello"),
            probe("GET /api/items"),
            probe("DELETE /api/items/1"),
        ];
        let statuses = [
            Some(200),
            Some(200),
            Some(201),
            Some(302),
            Some(200),
            Some(204),
        ];
        let with: Vec<(&Probe, Option<u16>)> = asked.iter().zip(statuses).collect();
        let own = own_probes(&with);
        assert_eq!(
            labels(&own),
            [
                "GET /pare-probe-missing-7f3c9a1e",
                "DELETE /",
                "POST /api/items (malformed body)",
                "POST /note/ (malformed body)",
                "HEAD /api/items",
                "HEAD /",
            ]
        );
        assert!(own.iter().all(|p| p.origin() == Origin::Pare));
        let Probe::Http { headers, body, .. } = &own[2] else {
            unreachable!()
        };
        assert_eq!(body.as_deref(), Some("{"));
        assert_eq!(headers[0].1, "application/json", "the same content type");
        let Probe::Http { body, .. } = &own[3] else {
            unreachable!()
        };
        assert_eq!(body.as_deref(), Some(""), "a form with no fields");
    }

    #[test]
    fn the_wrong_method_goes_to_a_path_that_answered() {
        let asked = [probe("GET /broken"), probe("GET /api/items")];
        let with: Vec<(&Probe, Option<u16>)> = asked.iter().zip([Some(500), Some(200)]).collect();
        assert!(labels(&own_probes(&with)).contains(&"DELETE /api/items".to_owned()));
        let with: Vec<(&Probe, Option<u16>)> = asked.iter().zip([Some(500), None]).collect();
        assert!(
            !labels(&own_probes(&with))
                .iter()
                .any(|l| l.starts_with("DELETE")),
            "no route known to exist"
        );
    }

    #[test]
    fn without_probes_only_the_missing_path() {
        assert_eq!(
            labels(&own_probes(&[])),
            ["GET /pare-probe-missing-7f3c9a1e"]
        );
        let text = probe("PUT /blob some text");
        assert_eq!(
            labels(&own_probes(&[(&text, Some(200))])),
            ["GET /pare-probe-missing-7f3c9a1e"],
            "plain text cannot be malformed"
        );
    }
}
