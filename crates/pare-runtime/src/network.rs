//! How pare reaches the app in a container, and who holds a port on the host.
//!
//! By default a container gets a network namespace of its own with only a loopback
//! interface (Docker's `--network none`): the app cannot reach the host's services on
//! 127.0.0.1, nothing else on the host can answer in its place, and two containers can
//! listen on the same port. pare reaches it by creating each connection's socket from
//! a thread that has entered the container's namespace (`setns`): a socket belongs to
//! the namespace it was created in, so the connection goes to the container's own
//! 127.0.0.1 and nowhere else. That needs CAP_SYS_ADMIN on the host (pare as root);
//! without it, containers share the host's network (`--network host`) and pare checks
//! that the ports it probes are free before it starts one.

use std::fs::File;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// The network a container gets.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Network {
    /// A namespace of its own, loopback only.
    #[default]
    Private,
    /// The host's network namespace.
    Host,
}

impl Network {
    /// Private when pare can enter another network namespace (it runs as root).
    pub fn best_available() -> Network {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } == 0 {
            Network::Private
        } else {
            Network::Host
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Network::Private => "private",
            Network::Host => "host",
        }
    }
}

/// Where connections to the container's ports are made from.
#[derive(Clone, Debug)]
pub enum Reach {
    /// The host's own loopback (the container shares the host's network).
    Host,
    /// The container's network namespace, entered through this handle.
    Namespace(Arc<File>),
}

impl Reach {
    /// Opens the network namespace at `path` (`/proc/PID/ns/net`, or the engine's
    /// sandbox key).
    pub fn namespace(path: &std::path::Path) -> std::io::Result<Reach> {
        Ok(Reach::Namespace(Arc::new(File::open(path)?)))
    }

    /// Connects to 127.0.0.1:`port` as the container sees it.
    pub fn connect(&self, port: u16, timeout: Duration) -> std::io::Result<TcpStream> {
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        match self {
            Reach::Host => TcpStream::connect_timeout(&addr, timeout),
            Reach::Namespace(ns) => std::thread::scope(|scope| {
                scope
                    .spawn(|| {
                        // SAFETY: setns on a descriptor we hold, for this thread only
                        // (a network namespace can be entered by one thread of a
                        // multi-threaded process); the thread ends after the connect.
                        let rc = unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) };
                        if rc != 0 {
                            return Err(std::io::Error::last_os_error());
                        }
                        TcpStream::connect_timeout(&addr, timeout)
                    })
                    .join()
                    .unwrap_or_else(|_| Err(std::io::Error::other("the connecting thread failed")))
            }),
        }
    }
}

/// A port of the host's 127.0.0.1 forwarded into a container's own network, for
/// people and scripts that exercise the app themselves (`--continue-after enter`):
/// each connection accepted on the host is joined to a new one made inside the
/// container. Forwarding stops when this is dropped.
pub struct Forward {
    stop: Arc<AtomicBool>,
}

impl Forward {
    /// Listens on the host's 127.0.0.1:`host_port` and forwards to `port` as `reach`
    /// sees it. Fails when the host port is taken.
    pub fn start(reach: Reach, host_port: u16, port: u16) -> std::io::Result<Forward> {
        let listener = TcpListener::bind(("127.0.0.1", host_port))?;
        listener.set_nonblocking(true)?;
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        std::thread::spawn(move || {
            while !stopped.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((client, _)) => {
                        let reach = reach.clone();
                        std::thread::spawn(move || join(client, &reach, port));
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(20));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(20)),
                }
            }
        });
        Ok(Forward { stop })
    }
}

impl Drop for Forward {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Copies both ways between a host client and a new connection to the app, until
/// either side closes.
fn join(client: TcpStream, reach: &Reach, port: u16) {
    let Ok(app) = reach.connect(port, Duration::from_secs(10)) else {
        return;
    };
    let _ = client.set_nonblocking(false);
    let (Ok(mut client_in), Ok(mut app_in)) = (client.try_clone(), app.try_clone()) else {
        return;
    };
    let (mut client_out, mut app_out) = (client, app);
    let upstream = std::thread::spawn(move || {
        let _ = std::io::copy(&mut client_in, &mut app_out);
        let _ = app_out.shutdown(std::net::Shutdown::Write);
    });
    let _ = std::io::copy(&mut app_in, &mut client_out);
    let _ = client_out.shutdown(std::net::Shutdown::Write);
    let _ = upstream.join();
}

/// A process that listens on a port of the host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortHolder {
    pub pid: Option<u32>,
    /// Its command line (or name), when it can be read.
    pub command: String,
}

impl std::fmt::Display for PortHolder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.pid {
            Some(pid) => write!(f, "pid {pid} ({})", self.command),
            None => {
                f.write_str("a process pare cannot see (another user's or another namespace's)")
            }
        }
    }
}

/// Who holds `port` on the host's 127.0.0.1, if anyone: the port cannot be bound, and
/// the holder is looked up among the listening sockets of `/proc/net/tcp{,6}`.
pub fn port_holder(port: u16) -> Option<PortHolder> {
    match TcpListener::bind(("127.0.0.1", port)) {
        Ok(_) => None,
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => Some(
            listening_inode(port)
                .and_then(process_with_socket)
                .unwrap_or(PortHolder {
                    pid: None,
                    command: String::new(),
                }),
        ),
        // Another error (no loopback?) is not a holder; the app's own start will say.
        Err(_) => None,
    }
}

/// The inode of the socket listening on `port` (any local address).
fn listening_inode(port: u16) -> Option<u64> {
    ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .find_map(|table| {
            let text = std::fs::read_to_string(table).ok()?;
            listening_inode_in(&text, port)
        })
}

/// Parses a `/proc/net/tcp` table: `sl local_address rem_address st ... inode`, the
/// address as hex `IP:PORT`, state `0A` for LISTEN.
fn listening_inode_in(table: &str, port: u16) -> Option<u64> {
    table.lines().skip(1).find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let local_port = fields.get(1)?.rsplit(':').next()?;
        let listening = *fields.get(3)? == "0A";
        let inode = fields.get(9)?.parse().ok()?;
        (listening && u16::from_str_radix(local_port, 16).ok()? == port && inode != 0)
            .then_some(inode)
    })
}

/// The process that has `socket:[inode]` open.
fn process_with_socket(inode: u64) -> Option<PortHolder> {
    let wanted = format!("socket:[{inode}]");
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(fds) = std::fs::read_dir(entry.path().join("fd")) else {
            continue;
        };
        let holds = fds.flatten().any(|fd| {
            std::fs::read_link(fd.path()).is_ok_and(|l| l.as_os_str() == wanted.as_str())
        });
        if holds {
            let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
            let command = String::from_utf8_lossy(&cmdline)
                .split('\0')
                .filter(|a| !a.is_empty())
                .collect::<Vec<_>>()
                .join(" ");
            return Some(PortHolder {
                pid: Some(pid),
                command,
            });
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_listening_sockets_from_the_proc_table() {
        let table = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 123456 1 0000000000000000 100 0 0 10 0
   1: 0100007F:1F91 0100007F:9C40 01 00000000:00000000 00:00000000 00000000     0        0 654321 1 0000000000000000 100 0 0 10 0
";
        assert_eq!(listening_inode_in(table, 8080), Some(123456));
        // Established, not listening.
        assert_eq!(listening_inode_in(table, 8081), None);
        assert_eq!(listening_inode_in(table, 9999), None);
    }

    #[test]
    fn a_held_port_names_its_process() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let holder = port_holder(port).expect("the port is held");
        assert_eq!(holder.pid, Some(std::process::id()), "{holder}");
        drop(listener);
        assert_eq!(port_holder(port), None);
    }

    #[test]
    fn a_forward_joins_host_clients_to_the_app() {
        use std::io::{Read, Write};
        let app = TcpListener::bind("127.0.0.1:0").expect("bind");
        let app_port = app.local_addr().expect("addr").port();
        let server = std::thread::spawn(move || {
            let (mut s, _) = app.accept().expect("accept");
            let mut buf = [0u8; 5];
            s.read_exact(&mut buf).expect("read");
            s.write_all(&buf.map(|b| b.to_ascii_uppercase()))
                .expect("write");
        });
        // A free host port to forward from.
        let free = TcpListener::bind("127.0.0.1:0").expect("bind");
        let host_port = free.local_addr().expect("addr").port();
        drop(free);
        // Reach::Host stands in for a namespace: forward host_port -> app_port.
        let _forward = Forward::start(Reach::Host, host_port, app_port).expect("forward");
        let mut client = TcpStream::connect(("127.0.0.1", host_port)).expect("connect");
        client.write_all(b"hello").expect("write");
        let mut answer = String::new();
        client.read_to_string(&mut answer).expect("read");
        assert_eq!(answer, "HELLO");
        server.join().expect("server");
    }

    #[test]
    fn the_host_reach_connects_to_the_host_loopback() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        assert!(Reach::Host.connect(port, Duration::from_secs(2)).is_ok());
    }
}
