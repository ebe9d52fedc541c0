//! A registry written in the test: a little HTTP/1.1 on 127.0.0.1 serving one tiny
//! image, for what no honest registry does (send blobs to another host that then asks
//! for credentials, trickle its answers). Each test gives the handler that decides
//! every answer; every request is recorded for the test to inspect.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A request as it arrived.
#[derive(Clone, Debug)]
pub struct Request {
    pub method: String,
    /// The path with its query.
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or_default()
    }
}

/// An answer.
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Send the body one byte at a time, this long apart.
    pub trickle: Option<Duration>,
}

impl Reply {
    pub fn status(status: u16) -> Self {
        Reply {
            status,
            headers: Vec::new(),
            body: Vec::new(),
            trickle: None,
        }
    }

    pub fn ok(body: &[u8], content_type: &str) -> Self {
        Reply::status(200)
            .header("Content-Type", content_type)
            .body(body)
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn body(mut self, body: &[u8]) -> Self {
        self.body = body.to_vec();
        self
    }

    /// 401 with this `WWW-Authenticate`.
    pub fn challenge(value: &str) -> Self {
        Reply::status(401).header("WWW-Authenticate", value)
    }

    /// 307 to `location`.
    pub fn redirect(location: &str) -> Self {
        Reply::status(307).header("Location", location)
    }

    pub fn trickle(mut self, every: Duration) -> Self {
        self.trickle = Some(every);
        self
    }
}

type Handler = dyn Fn(&Request) -> Reply + Send + Sync;

/// A server on 127.0.0.1 and a port of its own; stops accepting when dropped.
pub struct Server {
    /// `127.0.0.1:PORT`.
    pub host: String,
    requests: Arc<Mutex<Vec<Request>>>,
    stop: Arc<AtomicBool>,
}

impl Server {
    pub fn start(handler: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let host = listener.local_addr().unwrap().to_string();
        listener.set_nonblocking(true).unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let handler: Arc<Handler> = Arc::new(handler);
        let (recorded, stopping) = (requests.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stopping.load(Ordering::SeqCst) {
                let Ok((stream, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(5));
                    continue;
                };
                let (handler, recorded, stopping) =
                    (handler.clone(), recorded.clone(), stopping.clone());
                std::thread::spawn(move || serve(stream, &*handler, &recorded, &stopping));
            }
        });
        Server {
            host,
            requests,
            stop,
        }
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.host)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// Answers the requests of one connection (kept alive as HTTP/1.1 allows).
fn serve(stream: TcpStream, handler: &Handler, recorded: &Mutex<Vec<Request>>, stop: &AtomicBool) {
    stream.set_nonblocking(false).unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut out = stream;
    while let Some(request) = read_request(&mut reader) {
        recorded.lock().unwrap().push(request.clone());
        let reply = handler(&request);
        let mut head = format!("HTTP/1.1 {} X\r\n", reply.status);
        for (k, v) in &reply.headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        let body = if request.method == "HEAD" {
            &[][..]
        } else {
            &reply.body[..]
        };
        head.push_str(&format!("Content-Length: {}\r\n\r\n", reply.body.len()));
        if out.write_all(head.as_bytes()).is_err() {
            return;
        }
        let sent = match reply.trickle {
            None => out.write_all(body).is_ok(),
            Some(every) => body.iter().all(|b| {
                std::thread::sleep(every);
                !stop.load(Ordering::SeqCst) && out.write_all(&[*b]).is_ok()
            }),
        };
        if !sent {
            return;
        }
    }
}

fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Request> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let (method, target) = (parts.next()?.to_owned(), parts.next()?.to_owned());
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).ok()?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (k, v) = line.split_once(':')?;
        headers.push((k.trim().to_owned(), v.trim().to_owned()));
    }
    let mut request = Request {
        method,
        target,
        headers,
        body: Vec::new(),
    };
    let length: usize = request
        .header("Content-Length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    request.body.resize(length, 0);
    reader.read_exact(&mut request.body).ok()?;
    Some(request)
}

/// One small image: a layer with one file, its config and its manifest.
pub struct TinyImage {
    pub manifest: Vec<u8>,
    pub manifest_digest: String,
    pub config_digest: String,
    pub layer_digest: String,
    pub blobs: HashMap<String, Vec<u8>>,
}

impl TinyImage {
    pub fn new() -> Self {
        let mut tar = tar::Builder::new(Vec::new());
        let mut header = tar::Header::new_ustar();
        let content = b"hello from the tiny image\n";
        header.set_size(content.len() as u64);
        header.set_mode(0o644);
        header.set_entry_type(tar::EntryType::Regular);
        tar.append_data(&mut header, "etc/tiny", &content[..])
            .unwrap();
        let tar = tar.into_inner().unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&tar).unwrap();
        let layer = gz.finish().unwrap();
        let digest = |b: &[u8]| pare_image::Digest::of(b).to_string();
        let config = serde_json::to_vec(&serde_json::json!({
            "architecture": "amd64",
            "os": "linux",
            "config": {"Cmd": ["/bin/true"]},
            "rootfs": {"type": "layers", "diff_ids": [digest(&tar)]},
        }))
        .unwrap();
        let manifest = serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                       "digest": digest(&config), "size": config.len()},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                        "digest": digest(&layer), "size": layer.len()}],
        }))
        .unwrap();
        TinyImage {
            manifest_digest: digest(&manifest),
            config_digest: digest(&config),
            layer_digest: digest(&layer),
            blobs: HashMap::from([(digest(&config), config), (digest(&layer), layer)]),
            manifest,
        }
    }

    /// The registry API's answer to `request` for this image as `NAME:1` (any name),
    /// when it asks for `/v2/`, the manifest or a blob.
    pub fn answer(&self, request: &Request) -> Option<Reply> {
        let path = request.path();
        if path == "/v2/" {
            return Some(Reply::ok(b"{}", "application/json"));
        }
        if path.contains("/manifests/") {
            return Some(Reply::ok(
                &self.manifest,
                "application/vnd.oci.image.manifest.v1+json",
            ));
        }
        let digest = path.rsplit_once("/blobs/")?.1;
        Some(match self.blobs.get(digest) {
            Some(blob) => Reply::ok(blob, "application/octet-stream"),
            None => Reply::status(404),
        })
    }
}
