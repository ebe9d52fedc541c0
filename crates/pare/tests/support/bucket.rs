//! A loopback HTTP server laid out like osv.dev's bucket (`/ECOSYSTEM/all.zip`), for
//! `pare db update`: whole files, a transfer that stops half-way, a damaged zip.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// What the server answers for a path.
#[derive(Clone)]
pub enum Answer {
    /// 200 with the bytes.
    File(Vec<u8>),
    /// 200 announcing the whole length, then the connection closes after `sent` bytes.
    CutAfter { bytes: Vec<u8>, sent: usize },
}

/// The server; it stops when dropped.
pub struct Bucket {
    pub base: String,
    stop: Arc<AtomicBool>,
    pub requests: Arc<Mutex<Vec<String>>>,
    thread: Option<JoinHandle<()>>,
    port: u16,
}

impl Bucket {
    /// Serves `answers` (path → answer) on 127.0.0.1 at a free port; other paths 404.
    pub fn serve(answers: HashMap<String, Answer>) -> Bucket {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let thread = {
            let (stop, requests) = (Arc::clone(&stop), Arc::clone(&requests));
            std::thread::spawn(move || {
                for conn in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        return;
                    }
                    if let Ok(conn) = conn {
                        answer(conn, &answers, &requests);
                    }
                }
            })
        };
        Bucket {
            base: format!("http://127.0.0.1:{port}"),
            stop,
            requests,
            thread: Some(thread),
            port,
        }
    }
}

fn answer(mut conn: TcpStream, answers: &HashMap<String, Answer>, requests: &Mutex<Vec<String>>) {
    let mut reader = BufReader::new(conn.try_clone().expect("clone stream"));
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    // Read the headers to the blank line.
    let mut line = String::new();
    while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line.trim() != "" {
        line.clear();
    }
    let path = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .to_owned();
    requests.lock().unwrap().push(path.clone());
    let _ = match answers.get(&path) {
        Some(Answer::File(bytes)) => send(&mut conn, bytes, bytes.len()),
        Some(Answer::CutAfter { bytes, sent }) => send(&mut conn, bytes, *sent),
        None => conn.write_all(
            b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot found",
        ),
    };
}

/// Announces all of `bytes`, sends the first `sent`, then closes.
fn send(conn: &mut TcpStream, bytes: &[u8], sent: usize) -> std::io::Result<()> {
    write!(
        conn,
        "HTTP/1.1 200 OK\r\nContent-Type: application/zip\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        bytes.len()
    )?;
    conn.write_all(&bytes[..sent])?;
    conn.flush()?;
    conn.shutdown(std::net::Shutdown::Both)
}

impl Drop for Bucket {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
