//! A real registry for a test: Debian's `docker-registry` (distribution 2.8) on
//! 127.0.0.1 and a free port, plain, with htpasswd basic auth, or with TLS from a
//! throwaway CA; its storage in a temp dir; stopped and removed when dropped.
//! `skopeo` (Debian's) is the independent client that fills it and checks it.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{Run, run};

/// How the registry wants to be spoken to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Plain,
    /// htpasswd (bcrypt) basic auth for [`USER`] / [`PASSWORD`].
    Htpasswd,
    /// HTTPS with a certificate for 127.0.0.1 from a CA of its own ([`Registry::ca_dir`]).
    Tls,
}

pub const USER: &str = "pare";
pub const PASSWORD: &str = "s3cret-pare";

pub struct Registry {
    /// `127.0.0.1:PORT`.
    pub host: String,
    pub mode: Mode,
    pub dir: tempfile::TempDir,
    child: Child,
}

impl Registry {
    pub fn start(mode: Mode) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let port = free_port();
        let host = format!("127.0.0.1:{port}");
        let mut config = format!(
            "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: {host}\n",
            dir.path().join("data").display()
        );
        match mode {
            Mode::Plain => {}
            Mode::Htpasswd => {
                let file = dir.path().join("htpasswd");
                let made = run("htpasswd", &["-Bbn", USER, PASSWORD], &[]).success();
                std::fs::write(&file, made.stdout()).unwrap();
                config.push_str(&format!(
                    "auth:\n  htpasswd:\n    realm: pare-test\n    path: {}\n",
                    file.display()
                ));
            }
            Mode::Tls => {
                let certs = make_certs(dir.path());
                config.push_str(&format!(
                    "  tls:\n    certificate: {}\n    key: {}\n",
                    certs.join("server.crt").display(),
                    certs.join("server.key").display()
                ));
            }
        }
        let config_path = dir.path().join("config.yml");
        std::fs::write(&config_path, config).unwrap();
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config_path)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.path().join("registry.log")).unwrap())
            .spawn()
            .unwrap_or_else(|e| super::cannot_run("docker-registry", &e));
        let registry = Registry {
            host,
            mode,
            dir,
            child,
        };
        registry.wait_until_up();
        registry
    }

    fn wait_until_up(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if std::net::TcpStream::connect(&self.host).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "docker-registry did not start on {}: {}",
            self.host,
            std::fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
        );
    }

    /// The directory holding the throwaway CA's certificate (`ca.crt`).
    pub fn ca_dir(&self) -> PathBuf {
        self.dir.path().join("ca")
    }

    /// `docker://127.0.0.1:PORT/NAME`.
    pub fn image(&self, name: &str) -> String {
        format!("docker://{}/{name}", self.host)
    }

    /// skopeo's flags to reach this registry as source (`src`) or destination (`dest`).
    pub fn skopeo_flags(&self, side: &str) -> Vec<String> {
        let mut flags = Vec::new();
        match self.mode {
            Mode::Tls => flags.push(format!("--{side}-cert-dir={}", self.ca_dir().display())),
            _ => flags.push(format!("--{side}-tls-verify=false")),
        }
        if self.mode == Mode::Htpasswd {
            flags.push(format!("--{side}-creds={USER}:{PASSWORD}"));
        }
        flags
    }

    /// `skopeo copy SRC docker://HOST/NAME`, the independent way in.
    pub fn push_with_skopeo(&self, source: &str, name: &str) {
        let dest = self.image(name);
        let mut args = vec!["copy".to_owned(), "-q".to_owned()];
        args.extend(self.skopeo_flags("dest"));
        args.push(source.to_owned());
        args.push(dest);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run("skopeo", &args, &[]).success();
    }

    /// `skopeo inspect` of `NAME` (`--raw` for the manifest as stored).
    pub fn skopeo_inspect(&self, name: &str, raw: bool) -> Run {
        let mut args = vec!["inspect".to_owned()];
        if raw {
            args.push("--raw".into());
        }
        for flag in self.skopeo_flags("src") {
            args.push(flag.replace("--src-", "--"));
        }
        args.push(self.image(name));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run("skopeo", &args, &[])
    }

    /// Where the registry keeps a blob's bytes on disk.
    pub fn blob_file(&self, digest: &str) -> PathBuf {
        let hex = digest.trim_start_matches("sha256:");
        self.dir
            .path()
            .join("data/docker/registry/v2/blobs/sha256")
            .join(&hex[..2])
            .join(hex)
            .join("data")
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port nothing listens on now (the kernel's pick).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A CA and a server certificate for 127.0.0.1 signed by it, with openssl.
fn make_certs(dir: &Path) -> PathBuf {
    let ca = dir.join("ca");
    let certs = dir.join("certs");
    std::fs::create_dir_all(&ca).unwrap();
    std::fs::create_dir_all(&certs).unwrap();
    let p = |path: PathBuf| path.display().to_string();
    let ext = certs.join("server.ext");
    std::fs::write(
        &ext,
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    let ca_key = p(dir.join("ca.key"));
    let (ca_crt, key, csr, crt) = (
        p(ca.join("ca.crt")),
        p(certs.join("server.key")),
        p(certs.join("server.csr")),
        p(certs.join("server.crt")),
    );
    // Paths from tempfile have no spaces, so each command splits on whitespace.
    for command in [
        format!(
            "req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=pare-test-CA -keyout {ca_key} -out {ca_crt}"
        ),
        format!("req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout {key} -out {csr}"),
        format!(
            "x509 -req -days 2 -in {csr} -CA {ca_crt} -CAkey {ca_key} -CAcreateserial -out {crt} -extfile {}",
            p(ext)
        ),
    ] {
        let args: Vec<&str> = command.split_whitespace().collect();
        run("openssl", &args, &[]).success();
    }
    certs
}

/// A TCP proxy in front of a registry that cuts every connection once `budget` bytes
/// have gone from the client to the registry, and refuses new ones from then on: a
/// network that fails in the middle of a push, at a place the test chooses.
pub struct CuttingProxy {
    pub host: String,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl CuttingProxy {
    pub fn start(target: &str, budget: u64) -> Self {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let host = listener.local_addr().unwrap().to_string();
        let stop = Arc::new(AtomicBool::new(false));
        let sent = Arc::new(AtomicU64::new(0));
        let target = target.to_owned();
        let stopping = stop.clone();
        listener.set_nonblocking(true).unwrap();
        std::thread::spawn(move || {
            while !stopping.load(Ordering::SeqCst) {
                let Ok((client, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(5));
                    continue;
                };
                if sent.load(Ordering::SeqCst) >= budget {
                    continue; // dropped: connection refused from now on
                }
                client.set_nonblocking(false).unwrap();
                let Ok(server) = std::net::TcpStream::connect(&target) else {
                    continue;
                };
                let (c2, s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
                let counter = sent.clone();
                std::thread::spawn(move || pump(client, server, Some((counter, budget))));
                std::thread::spawn(move || pump(s2, c2, None));
            }
        });
        CuttingProxy { host, stop }
    }
}

fn pump(
    mut from: std::net::TcpStream,
    mut to: std::net::TcpStream,
    budget: Option<(std::sync::Arc<std::sync::atomic::AtomicU64>, u64)>,
) {
    use std::io::{Read, Write};
    use std::sync::atomic::Ordering;
    let mut buf = [0u8; 16384];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if let Some((sent, limit)) = &budget {
            let before = sent.fetch_add(n as u64, Ordering::SeqCst);
            if before + n as u64 >= *limit {
                let _ = to.write_all(&buf[..(*limit).saturating_sub(before) as usize]);
                break;
            }
        }
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = from.shutdown(std::net::Shutdown::Both);
    let _ = to.shutdown(std::net::Shutdown::Both);
}

impl Drop for CuttingProxy {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

/// A registry that is not one: answers `/v2/` like a registry, then every request
/// with `body` bytes of JSON-ish padding, with or without a Content-Length. Only for
/// what no real registry sends (distribution refuses to serve a manifest over 4 MiB
/// itself), to see that pare refuses it too.
pub struct HostileRegistry {
    pub host: String,
}

impl HostileRegistry {
    pub fn start(body: usize, with_length: bool) -> Self {
        use std::io::{BufRead, BufReader, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let host = listener.local_addr().unwrap().to_string();
        std::thread::spawn(move || {
            for stream in listener.incoming().take(50) {
                let Ok(mut stream) = stream else { continue };
                let mut request_line = String::new();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let _ = reader.read_line(&mut request_line);
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) <= 2 {
                        break;
                    }
                }
                if request_line.starts_with("GET /v2/ ") {
                    let _ = stream.write_all(
                        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}",
                    );
                    continue;
                }
                let mut head = "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.oci.image.manifest.v1+json\r\nConnection: close\r\n".to_owned();
                if with_length {
                    head.push_str(&format!("Content-Length: {body}\r\n"));
                }
                head.push_str("\r\n");
                let _ = stream.write_all(head.as_bytes());
                let chunk = vec![b' '; 65536];
                let mut sent = 0;
                while sent < body {
                    let n = chunk.len().min(body - sent);
                    if stream.write_all(&chunk[..n]).is_err() {
                        break;
                    }
                    sent += n;
                }
            }
        });
        HostileRegistry { host }
    }
}
