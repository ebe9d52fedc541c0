//! Probes: what pare does to the running app so that it uses the files it needs, and
//! what it compares between the original and the slim image.
//!
//! The HTTP client is a few lines over `TcpStream` on purpose: one request per
//! connection to 127.0.0.1 with `Connection: close`; a client crate would bring TLS,
//! proxies from the environment and pooling, none of which a probe may use.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use pare_runtime::Reach;

use serde::{Deserialize, Serialize};

/// Who asked for a probe: the user (`--probe`, `--probe-file`, `--exec`, or the run of
/// a CLI image), the crawl (a page a probed page links to), or pare itself (a missing
/// path, a wrong method, a malformed body, `HEAD`: [`crate::own_probes`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    #[default]
    User,
    Crawl,
    Pare,
}

/// One thing to do to the app.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Probe {
    Http {
        method: String,
        path: String,
        /// `[["Name", "value"], …]` or `{"Name": "value", …}`.
        #[serde(default, deserialize_with = "crate::probe_file::headers")]
        headers: Vec<(String, String)>,
        /// Text, or a JSON value (sent as its JSON text).
        #[serde(default, deserialize_with = "crate::probe_file::body")]
        body: Option<String>,
        /// When set, any other status fails the probe.
        #[serde(default)]
        expect_status: Option<u16>,
        /// Who asked for it (never read from a probe file: it is the user's).
        #[serde(skip)]
        origin: Origin,
    },
    Exec {
        command: Vec<String>,
    },
}

impl Probe {
    /// Parses `GET /path`, `POST /api/items {"name":"x"}` (a body after the path). A
    /// body says what it is: JSON (`{…}`, `[…]`), a form (`k=v&k2=v2`) or text, and
    /// gets the `Content-Type` of its kind.
    pub fn parse_http(text: &str) -> Result<Probe, String> {
        let text = text.trim();
        let (method, rest) = text
            .split_once(char::is_whitespace)
            .ok_or_else(|| format!("probe {text:?}: expected METHOD PATH [BODY]"))?;
        let rest = rest.trim_start();
        let (path, body) = match rest.split_once(char::is_whitespace) {
            Some((p, b)) => (p, Some(b.trim().to_owned())),
            None => (rest, None),
        };
        let method = method.to_ascii_uppercase();
        if !method.chars().all(|c| c.is_ascii_alphabetic()) || !path.starts_with('/') {
            return Err(format!("probe {text:?}: expected METHOD /PATH [BODY]"));
        }
        let mut probe = Probe::http(&method, path);
        if let Probe::Http { body: b, .. } = &mut probe {
            *b = body;
        }
        probe.add_content_type();
        Ok(probe)
    }

    /// A bodiless request of the user's.
    pub fn http(method: &str, path: &str) -> Probe {
        Probe::Http {
            method: method.to_owned(),
            path: path.to_owned(),
            headers: Vec::new(),
            body: None,
            expect_status: None,
            origin: Origin::User,
        }
    }

    /// The same probe, asked for by `origin`.
    pub fn from(mut self, by: Origin) -> Probe {
        if let Probe::Http { origin, .. } = &mut self {
            *origin = by;
        }
        self
    }

    /// Gives an HTTP probe with a body and no `Content-Type` the one its body's kind
    /// calls for ([`content_type_of`]).
    pub fn add_content_type(&mut self) {
        if let Probe::Http {
            headers,
            body: Some(body),
            ..
        } = self
            && !body.is_empty()
            && !headers
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        {
            headers.push(("Content-Type".into(), content_type_of(body).into()));
        }
    }

    /// Who asked for it ([`Origin::User`] for exec probes).
    pub fn origin(&self) -> Origin {
        match self {
            Probe::Http { origin, .. } => *origin,
            Probe::Exec { .. } => Origin::User,
        }
    }

    /// A short label for reports. pare's own probe with a body says that its body is
    /// malformed, so that it is not taken for the user's probe of the same path.
    pub fn label(&self) -> String {
        match self {
            Probe::Http {
                method,
                path,
                body: Some(_),
                origin: Origin::Pare,
                ..
            } => format!("{method} {path} (malformed body)"),
            Probe::Http { method, path, .. } => format!("{method} {path}"),
            Probe::Exec { command } => format!("exec {}", command.join(" ")),
        }
    }
}

/// The `Content-Type` a body says it has: JSON when it starts as JSON does, a form
/// when it reads `name=value&name2=value2`, else plain text.
pub fn content_type_of(body: &str) -> &'static str {
    let body = body.trim();
    if body.starts_with('{') || body.starts_with('[') {
        "application/json"
    } else if is_form(body) {
        "application/x-www-form-urlencoded"
    } else {
        "text/plain; charset=utf-8"
    }
}

/// `name=value&…`: every part has a name without spaces before its `=`.
fn is_form(body: &str) -> bool {
    !body.is_empty()
        && body.split('&').all(|part| {
            part.split_once('=').is_some_and(|(name, value)| {
                !name.is_empty()
                    && !name.contains(char::is_whitespace)
                    && !value.contains(char::is_whitespace)
            })
        })
}

/// What a probe got back.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ProbeResult {
    pub probe: String,
    /// Who asked for the probe.
    #[serde(default)]
    pub origin: Origin,
    pub status: Option<u16>,
    /// An HTTP answer's headers, names in lower case, in the order they came.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub error: Option<String>,
    pub millis: u128,
}

impl ProbeResult {
    pub fn ok(&self) -> bool {
        self.error.is_none()
    }
}

/// Why the app's port never accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotReady {
    /// The app exited first.
    Exited,
    /// The time ran out.
    TimedOut,
}

/// Waits until something accepts on 127.0.0.1:`port` as `reach` sees it, polling
/// with back-off. `alive` is asked between attempts so an app that died is reported
/// at once.
pub fn wait_for_port(
    reach: &Reach,
    port: u16,
    timeout: Duration,
    mut alive: impl FnMut() -> bool,
) -> Result<Duration, NotReady> {
    let start = Instant::now();
    let mut pause = Duration::from_millis(5);
    loop {
        if reach.connect(port, Duration::from_millis(200)).is_ok() {
            return Ok(start.elapsed());
        }
        if !alive() {
            return Err(NotReady::Exited);
        }
        if start.elapsed() > timeout {
            return Err(NotReady::TimedOut);
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(200));
    }
}

/// Sends one HTTP probe to 127.0.0.1:`port` as `reach` sees it.
pub fn http(reach: &Reach, port: u16, probe: &Probe, timeout: Duration) -> ProbeResult {
    let start = Instant::now();
    let mut result = ProbeResult {
        probe: probe.label(),
        origin: probe.origin(),
        ..Default::default()
    };
    let Probe::Http {
        method,
        path,
        headers,
        body,
        expect_status,
        ..
    } = probe
    else {
        result.error = Some("not an HTTP probe".into());
        return result;
    };
    match request(reach, port, method, path, headers, body.as_deref(), timeout) {
        Ok(answer) => {
            if let Some(want) = expect_status.filter(|w| *w != answer.status) {
                result.error = Some(format!("status {}, expected {want}", answer.status));
            }
            result.status = Some(answer.status);
            result.headers = answer.headers;
            result.body = answer.body;
        }
        Err(e) => result.error = Some(e),
    }
    result.millis = start.elapsed().as_millis();
    result
}

/// An HTTP answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    /// Names in lower case, in order.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

fn request(
    reach: &Reach,
    port: u16,
    method: &str,
    path: &str,
    headers: &[(String, String)],
    body: Option<&str>,
    timeout: Duration,
) -> Result<Answer, String> {
    let fail = |e: std::io::Error| e.to_string();
    let mut stream = reach.connect(port, timeout).map_err(fail)?;
    stream.set_read_timeout(Some(timeout)).map_err(fail)?;
    stream.set_write_timeout(Some(timeout)).map_err(fail)?;
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nUser-Agent: pare-probe\r\n"
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    let body = body.unwrap_or("");
    if !body.is_empty() || matches!(method, "POST" | "PUT" | "PATCH") {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).map_err(fail)?;
    stream.write_all(body.as_bytes()).map_err(fail)?;
    let mut raw = Vec::new();
    stream.take(16 << 20).read_to_end(&mut raw).map_err(fail)?;
    parse_response(&raw)
}

/// Splits a raw HTTP/1.1 response into status, headers and body (de-chunked).
pub fn parse_response(raw: &[u8]) -> Result<Answer, String> {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("no complete HTTP response (the connection closed early)")?;
    let head = String::from_utf8_lossy(&raw[..split]);
    let mut lines = head.lines();
    let status: u16 = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or("malformed HTTP status line")?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let chunked = headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.to_ascii_lowercase().contains("chunked"));
    let body = &raw[split + 4..];
    // A HEAD answer (or a 204) says `chunked` and has no body at all.
    let body = if chunked && !body.is_empty() {
        dechunk(body)?
    } else {
        body.to_vec()
    };
    Ok(Answer {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

fn dechunk(mut data: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    loop {
        let line_end = data
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or("bad chunked body")?;
        let size_text = String::from_utf8_lossy(&data[..line_end]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|_| "bad chunk size")?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Ok(out);
        }
        if data.len() < size {
            return Err("truncated chunk".into());
        }
        out.extend_from_slice(&data[..size]);
        data = data.get(size + 2..).unwrap_or(&[]);
    }
}

/// Same-origin links of an HTML page at `page` (a path) served on `port`: the values
/// of `href` and `src` attributes that are paths on this server (absolute URLs of
/// `127.0.0.1:port` or `localhost:port` included), resolved against the page, without
/// fragments, in order of appearance and without repeats. Links to other hosts and
/// schemes (`http://x/`, `//x/`, `mailto:`, `javascript:`, `data:`) are left out: a
/// crawl must never leave 127.0.0.1. A scan for attributes, not an HTML parser: a
/// probe needs the links a browser would follow first, not a DOM.
pub fn same_origin_links(page: &str, body: &str, port: u16) -> Vec<String> {
    let mut links: Vec<String> = Vec::new();
    let lower = body.to_ascii_lowercase();
    for attr in ["href=", "src="] {
        let mut from = 0;
        while let Some(at) = lower[from..].find(attr) {
            let start = from + at + attr.len();
            from = start;
            // The attribute name must stand alone (`data-href=` is not a link).
            let before = lower[..start - attr.len()].chars().next_back();
            if before.is_some_and(|c| !c.is_ascii_whitespace()) {
                continue;
            }
            let rest = &body[start..];
            let value = match rest.chars().next() {
                Some(q @ ('"' | '\'')) => rest[1..].split(q).next().unwrap_or(""),
                _ => rest
                    .split(|c: char| c.is_ascii_whitespace() || c == '>')
                    .next()
                    .unwrap_or(""),
            };
            let value = value.trim().replace("&amp;", "&");
            if let Some(link) = resolve_link(page, &value, port)
                && !links.contains(&link)
            {
                links.push(link);
            }
        }
    }
    links
}

/// `value` (a path, relative or absolute, or a URL of this server) as an absolute
/// path on the server listening on `port`, relative to the page at `page`.
pub fn resolve_link(page: &str, value: &str, port: u16) -> Option<String> {
    let value = value.split('#').next().unwrap_or("");
    let value = own_url_path(value, port).unwrap_or(value);
    let has_scheme = value
        .split_once(':')
        .is_some_and(|(scheme, _)| !scheme.contains('/') && !scheme.contains('?'));
    if value.is_empty() || value.starts_with("//") || has_scheme {
        return None;
    }
    let (path, query) = match value.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (value, None),
    };
    let joined = if path.starts_with('/') {
        path.to_owned()
    } else {
        let page = page.split('?').next().unwrap_or("/");
        let dir = &page[..page.rfind('/').map_or(0, |i| i + 1)];
        format!("{dir}{path}")
    };
    let mut parts: Vec<&str> = Vec::new();
    for part in joined.split('/').skip(1) {
        match part {
            "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    let mut resolved = format!("/{}", parts.join("/"));
    if (joined.ends_with("/.") || joined.ends_with("/..")) && !resolved.ends_with('/') {
        resolved.push('/');
    }
    if let Some(q) = query {
        resolved.push('?');
        resolved.push_str(q);
    }
    Some(resolved)
}

/// The path of `url` when it is a URL of this server (`http://127.0.0.1:PORT/x`,
/// `http://localhost:PORT/x`): `/x`.
fn own_url_path(url: &str, port: u16) -> Option<&str> {
    ["127.0.0.1", "localhost"].iter().find_map(|host| {
        let rest = url
            .strip_prefix("http://")?
            .strip_prefix(host)?
            .strip_prefix(&format!(":{port}"))?;
        match rest.chars().next() {
            None => Some("/"),
            Some('/') => Some(rest),
            _ => None,
        }
    })
}

/// Where a crawled page leads: the same-origin links of a successful answer's body,
/// or the `Location` of a redirect.
fn leads_to(page: &str, result: &ProbeResult, port: u16) -> Vec<String> {
    match result.status {
        Some(200..=299) if result.ok() => same_origin_links(page, &result.body, port),
        Some(300..=399) => result
            .headers
            .iter()
            .filter(|(name, _)| name == "location")
            .filter_map(|(_, location)| resolve_link(page, location, port))
            .collect(),
        _ => Vec::new(),
    }
}

/// Crawls same-origin links breadth-first from the pages already probed (`seeds`,
/// path and answer), and the `Location` of redirects, sending `GET` for at most
/// `limit` new paths. Returns the probes
/// it sent (so the slim image can be sent exactly the same) and what they got.
pub fn crawl(
    reach: &Reach,
    port: u16,
    seeds: &[(String, &ProbeResult)],
    limit: usize,
    timeout: Duration,
) -> Vec<(Probe, ProbeResult)> {
    let mut seen: std::collections::HashSet<String> =
        seeds.iter().map(|(path, _)| path.clone()).collect();
    let mut queue: std::collections::VecDeque<String> = std::collections::VecDeque::new();
    let mut enqueue =
        |page: &str, result: &ProbeResult, queue: &mut std::collections::VecDeque<String>| {
            for link in leads_to(page, result, port) {
                if seen.insert(link.clone()) {
                    queue.push_back(link);
                }
            }
        };
    for (path, result) in seeds {
        enqueue(path, result, &mut queue);
    }
    let mut sent = Vec::new();
    while sent.len() < limit {
        let Some(path) = queue.pop_front() else { break };
        let probe = Probe::http("GET", &path).from(Origin::Crawl);
        let result = http(reach, port, &probe, timeout);
        enqueue(&path, &result, &mut queue);
        sent.push((probe, result));
    }
    sent
}

/// `exec psql -c 'select 1'`: the command as a shell would read it back.
pub(crate) fn exec_label(command: &[String]) -> String {
    let words = command.iter().map(String::as_str);
    format!(
        "exec {}",
        shlex::try_join(words).unwrap_or_else(|_| command.join(" "))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_same_origin_links_only() {
        let body = r##"<a href="about.html">About</a> <a HREF='docs/guide.html#top'>G</a>
            <img src="/img/logo.png"> <a href="https://example.org/">out</a>
            <a href="//cdn.example.org/x.js">cdn</a> <a href="mailto:a@b">m</a>
            <a href="javascript:void(0)">j</a> <a href="#frag">f</a>
            <div data-href="/not-a-link"></div> <a href=../up.html>up</a>
            <a href="about.html">again</a> <a href="/api/items?page=2">next</a>"##;
        assert_eq!(
            same_origin_links("/site/index.html", body, 8080),
            [
                "/site/about.html",
                "/site/docs/guide.html",
                "/up.html",
                "/api/items?page=2",
                "/img/logo.png",
            ]
        );
        assert_eq!(
            same_origin_links("/", r#"<a href="./">self</a>"#, 80),
            ["/"]
        );
        assert_eq!(
            same_origin_links("/a/b", r#"<a href="../../../x">x</a>"#, 80),
            ["/x"],
            "never above the root"
        );
        let absolute = r#"<a href="http://127.0.0.1:8080/in">a</a> <a href="http://localhost:8080">b</a>
            <a href="http://127.0.0.1:9090/other-port">c</a> <a href="http://127.0.0.1:80800/x">d</a>"#;
        assert_eq!(
            same_origin_links("/", absolute, 8080),
            ["/in", "/"],
            "this server's own URLs are same-origin, another port's are not"
        );
    }

    #[test]
    fn the_crawl_follows_redirects_on_this_server_only() {
        let redirect = |location: &str| ProbeResult {
            status: Some(302),
            headers: vec![("location".into(), location.into())],
            ..Default::default()
        };
        assert_eq!(
            leads_to("/a/", &redirect("login?next=%2F"), 80),
            ["/a/login?next=%2F"]
        );
        assert_eq!(
            leads_to("/", &redirect("http://127.0.0.1:80/b"), 80),
            ["/b"]
        );
        assert!(leads_to("/", &redirect("https://example.org/"), 80).is_empty());
        let page = ProbeResult {
            status: Some(404),
            body: r#"<a href="/x">x</a>"#.into(),
            ..Default::default()
        };
        assert!(
            leads_to("/", &page, 80).is_empty(),
            "an error page is no page"
        );
    }

    #[test]
    fn parses_probes() {
        assert_eq!(
            Probe::parse_http("GET /api/items").unwrap(),
            Probe::Http {
                method: "GET".into(),
                path: "/api/items".into(),
                headers: vec![],
                body: None,
                expect_status: None,
                origin: Origin::User,
            }
        );
        let p = Probe::parse_http(r#"post /api/items {"name":"x"}"#).unwrap();
        let Probe::Http {
            method,
            body,
            headers,
            ..
        } = p
        else {
            panic!()
        };
        assert_eq!(method, "POST");
        assert_eq!(body.as_deref(), Some(r#"{"name":"x"}"#));
        assert_eq!(headers[0].1, "application/json");
        let content_type = |text: &str| match Probe::parse_http(text).unwrap() {
            Probe::Http { headers, .. } => headers.first().map(|(_, v)| v.clone()),
            Probe::Exec { .. } => unreachable!(),
        };
        assert_eq!(
            content_type("POST /note/ text=hello").as_deref(),
            Some("application/x-www-form-urlencoded")
        );
        assert_eq!(
            content_type("POST /note/ text=hello%20you&tag=a&empty=").as_deref(),
            Some("application/x-www-form-urlencoded")
        );
        assert_eq!(
            content_type("POST /note/ hello there").as_deref(),
            Some("text/plain; charset=utf-8")
        );
        assert_eq!(
            content_type("POST /note/ a=1&b").as_deref(),
            Some("text/plain; charset=utf-8"),
            "a part without = is no form"
        );
        assert_eq!(content_type("DELETE /note/1"), None);
        assert!(Probe::parse_http("GET").is_err());
        assert!(Probe::parse_http("GET nopath").is_err());
    }

    #[test]
    fn parses_plain_and_chunked_responses() {
        let head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
        assert_eq!(
            parse_response(head).unwrap().body,
            "",
            "a HEAD answer has no body"
        );
        let plain = b"HTTP/1.1 201 Created\r\nContent-Length: 2\r\nETag: \"x\"\r\n\r\nok";
        let answer = parse_response(plain).unwrap();
        assert_eq!((answer.status, answer.body.as_str()), (201, "ok"));
        assert_eq!(
            answer.headers,
            [
                ("content-length".to_owned(), "2".to_owned()),
                ("etag".to_owned(), "\"x\"".to_owned())
            ]
        );
        let chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
        assert_eq!(parse_response(chunked).unwrap().body, "abcde");
        assert!(parse_response(b"HTTP/1.1 200").is_err());
    }

    #[test]
    fn talks_to_a_real_socket() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = std::thread::spawn(move || {
            // The first connection is wait_for_port's, which sends nothing.
            for _ in 0..2 {
                let (mut s, _) = listener.accept().unwrap();
                let mut buf = [0u8; 1024];
                let n = s.read(&mut buf).unwrap_or(0);
                if n > 0 {
                    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("GET /y HTTP/1.1"));
                    s.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 4\r\n\r\nnope")
                        .unwrap();
                }
            }
        });
        wait_for_port(&Reach::Host, port, Duration::from_secs(5), || true).unwrap();
        let result = http(
            &Reach::Host,
            port,
            &Probe::parse_http("GET /y").unwrap(),
            Duration::from_secs(5),
        );
        server.join().unwrap();
        assert_eq!(result.status, Some(404));
        assert_eq!(result.body, "nope");
    }
}
