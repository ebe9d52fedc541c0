//! Containers without an engine: an OCI runtime (runc or crun, same command line) runs
//! a bundle pare writes (an unpacked `rootfs` and a `config.json`).
//!
//! The runtime is driven through its command line, as containerd's shim does: no crate
//! wraps it, and its CLI is the interface both runtimes promise. `run --detach` leaves
//! the container's init orphaned; pare makes itself a child subreaper first, so the
//! init becomes pare's child and its exit status can be waited for like any child's.
//! The container gets no network namespace (it shares the host's, so probes reach it
//! on 127.0.0.1 exactly as with `--network host`).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::{ExecOutput, Result, Running, RuntimeError, cleanup};

/// Docker's default capability set: the daemonless container gets what the engine
/// would give it.
const DEFAULT_CAPS: [&str; 14] = [
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
];

/// An OCI runtime binary, with pare's own state directory (so `runc list` of other
/// tools never shows pare's containers, and pare never touches theirs).
pub struct OciRuntime {
    binary: PathBuf,
    state_root: PathBuf,
}

/// How to run one container from a root filesystem.
#[derive(Clone, Debug, Default)]
pub struct BundleSpec {
    /// The unpacked root filesystem; the bundle's config.json goes beside it.
    pub rootfs: PathBuf,
    pub args: Vec<String>,
    pub env: Vec<String>,
    pub cwd: String,
    /// `USER` as the image gives it (`name`, `uid`, `name:group`, `uid:gid`), resolved
    /// against the rootfs's passwd and group files; empty is root.
    pub user: String,
    /// (host path, container path, read-only)
    pub binds: Vec<(PathBuf, String, bool)>,
    /// Extra capabilities, without the `CAP_` prefix (as Docker's `--cap-add`).
    pub cap_add: Vec<String>,
    /// A seccomp profile in Docker's JSON format, applied as the OCI config's.
    pub seccomp: Option<Value>,
}

impl OciRuntime {
    /// Finds `runc` or `crun` on PATH (PARE_OCI_RUNTIME names another), and makes pare
    /// a child subreaper so containers' init processes can be waited for.
    pub fn find() -> Result<Self> {
        let wanted = std::env::var("PARE_OCI_RUNTIME").ok();
        let names: Vec<String> = match wanted {
            Some(name) => vec![name],
            None => vec!["runc".into(), "crun".into()],
        };
        let binary = names
            .iter()
            .find_map(|n| which(n))
            .ok_or_else(|| RuntimeError::NoRuntime(names.join(" or ")))?;
        // SAFETY: prctl with PR_SET_CHILD_SUBREAPER only sets a flag of this process.
        if unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) } != 0 {
            return Err(RuntimeError::Oci {
                what: "become a child subreaper".into(),
                message: std::io::Error::last_os_error().to_string(),
            });
        }
        Ok(OciRuntime {
            binary,
            state_root: PathBuf::from("/run/pare-oci"),
        })
    }

    /// The runtime binary in use.
    pub fn binary(&self) -> &Path {
        &self.binary
    }

    fn command(&self) -> Command {
        let mut c = Command::new(&self.binary);
        c.arg("--root").arg(&self.state_root);
        c
    }

    /// Writes the bundle's config.json and starts the container detached; its output
    /// goes to `console.log` beside the rootfs.
    pub fn start(&self, spec: &BundleSpec) -> Result<OciContainer<'_>> {
        let bundle = spec
            .rootfs
            .parent()
            .ok_or_else(|| oci_error("start", "the rootfs has no parent directory"))?
            .to_owned();
        let (uid, gid, groups) = resolve_user(&spec.rootfs, &spec.user)?;
        let config = bundle_config(spec, uid, gid, &groups);
        let config_path = bundle.join("config.json");
        std::fs::write(
            &config_path,
            serde_json::to_vec_pretty(&config).unwrap_or_default(),
        )
        .map_err(|e| {
            oci_error(
                "write config.json",
                &format!("{}: {e}", config_path.display()),
            )
        })?;
        let id = format!(
            "pare-{}-{}",
            std::process::id(),
            bundle
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        );
        let log = bundle.join("console.log");
        let pid_file = bundle.join("init.pid");
        let out = std::fs::File::create(&log)
            .map_err(|e| oci_error("create the log", &format!("{}: {e}", log.display())))?;
        let err = out
            .try_clone()
            .map_err(|e| oci_error("create the log", &e.to_string()))?;
        let registration = cleanup::register({
            let (binary, root, id) = (self.binary.clone(), self.state_root.clone(), id.clone());
            move || force_delete(&binary, &root, &id)
        });
        let status = self
            .command()
            .args(["run", "--detach", "--no-new-keyring", "--bundle"])
            .arg(&bundle)
            .arg("--pid-file")
            .arg(&pid_file)
            .arg(&id)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .status()
            .map_err(|e| oci_error("run", &e.to_string()))?;
        let mut container = OciContainer {
            runtime: self,
            id,
            log,
            rootfs: spec.rootfs.clone(),
            pid: 0,
            exit: Mutex::new(None),
            _registration: registration,
        };
        if !status.success() {
            return Err(oci_error("run", &container.logs_tail(10)));
        }
        let pid = std::fs::read_to_string(&pid_file)
            .ok()
            .and_then(|s| s.trim().parse::<i32>().ok())
            .ok_or_else(|| oci_error("run", "no pid file was written"))?;
        container.pid = pid;
        Ok(container)
    }
}

/// A container run by the OCI runtime. Dropping it kills and deletes it.
pub struct OciContainer<'r> {
    runtime: &'r OciRuntime,
    id: String,
    log: PathBuf,
    rootfs: PathBuf,
    pid: i32,
    exit: Mutex<Option<i64>>,
    _registration: cleanup::Registration,
}

impl OciContainer<'_> {
    /// Reaps the init process if it has exited; its exit code then.
    fn reap(&self) -> Option<i64> {
        let mut exit = self.exit.lock().unwrap_or_else(|p| p.into_inner());
        if exit.is_none() && self.pid > 0 {
            let mut status = 0;
            // SAFETY: waitpid on our own child (we are its subreaper), without blocking.
            let got = unsafe { libc::waitpid(self.pid, &mut status, libc::WNOHANG) };
            if got == self.pid {
                *exit = Some(if libc::WIFEXITED(status) {
                    i64::from(libc::WEXITSTATUS(status))
                } else {
                    128 + i64::from(libc::WTERMSIG(status))
                });
            } else if got < 0 {
                // Not our child (no subreaper in between): ask the kernel whether it lives.
                // SAFETY: signal 0 only checks that the process exists.
                if unsafe { libc::kill(self.pid, 0) } != 0 {
                    *exit = Some(-1);
                }
            }
        }
        *exit
    }
}

impl Running for OciContainer<'_> {
    fn state(&self) -> Result<(bool, Option<i64>)> {
        let code = self.reap();
        Ok((code.is_none(), code))
    }

    fn wait(&self, timeout: Duration) -> Result<Option<i64>> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(code) = self.reap() {
                return Ok(Some(code));
            }
            if Instant::now() >= deadline {
                return Ok(None);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn signal(&self, signal: &str) -> Result<()> {
        let status = self
            .runtime
            .command()
            .args(["kill", &self.id, signal.trim_start_matches("SIG")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map_err(|e| oci_error("kill", &e.to_string()))?;
        if status.success() || self.reap().is_some() {
            Ok(())
        } else {
            Err(oci_error("kill", &format!("{signal} was not delivered")))
        }
    }

    fn stop(&self, signal: Option<&str>, grace: Duration) -> Result<()> {
        if self.reap().is_some() {
            return Ok(());
        }
        let _ = self.signal(signal.unwrap_or("TERM"));
        if self.wait(grace)?.is_none() {
            let _ = self.signal("KILL");
            self.wait(Duration::from_secs(5))?;
        }
        Ok(())
    }

    fn logs_tail(&self, lines: usize) -> String {
        let text = std::fs::read(&self.log)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        let mut tail = all[all.len().saturating_sub(lines)..].join("\n");
        if !tail.is_empty() {
            tail.push('\n');
        }
        tail
    }

    fn exec(&self, cmd: &[String], user: Option<&str>) -> Result<ExecOutput> {
        let (uid, gid, _) = resolve_user(&self.rootfs, user.unwrap_or(""))?;
        let output = self
            .runtime
            .command()
            .args(["exec", "--user", &format!("{uid}:{gid}"), &self.id])
            .args(cmd)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| oci_error("exec", &e.to_string()))?;
        let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
        text.push_str(&String::from_utf8_lossy(&output.stderr));
        Ok(ExecOutput {
            exit_code: output.status.code().map(i64::from),
            output: text,
        })
    }
}

impl Drop for OciContainer<'_> {
    fn drop(&mut self) {
        force_delete(&self.runtime.binary, &self.runtime.state_root, &self.id);
        // The init is our child: reap it so no zombie is left.
        let _ = self.wait(Duration::from_secs(5));
    }
}

/// Kills and deletes a container (missing ones are fine). Also used on Ctrl-C.
fn force_delete(binary: &Path, state_root: &Path, id: &str) {
    let _ = Command::new(binary)
        .arg("--root")
        .arg(state_root)
        .args(["delete", "--force", id])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

fn oci_error(what: &str, message: &str) -> RuntimeError {
    RuntimeError::Oci {
        what: what.to_owned(),
        message: message.trim().to_owned(),
    }
}

fn which(name: &str) -> Option<PathBuf> {
    if name.contains('/') {
        return Some(PathBuf::from(name)).filter(|p| p.is_file());
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/usr/bin", "/sbin"].map(PathBuf::from))
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// The OCI runtime config (runtime-spec 1.0) for one container: runc's own `runc spec`
/// defaults, with Docker's capabilities, the host network, and pare's mounts.
fn bundle_config(spec: &BundleSpec, uid: u32, gid: u32, groups: &[u32]) -> Value {
    let mut caps: Vec<String> = DEFAULT_CAPS.iter().map(|c| (*c).to_owned()).collect();
    for extra in &spec.cap_add {
        let name = format!("CAP_{}", extra.trim_start_matches("CAP_"));
        if !caps.contains(&name) {
            caps.push(name);
        }
    }
    let mut mounts = vec![
        json!({"destination": "/proc", "type": "proc", "source": "proc"}),
        json!({"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
               "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]}),
        json!({"destination": "/dev/pts", "type": "devpts", "source": "devpts",
               "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]}),
        json!({"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
               "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]}),
        json!({"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
               "options": ["nosuid", "noexec", "nodev"]}),
        json!({"destination": "/sys", "type": "sysfs", "source": "sysfs",
               "options": ["nosuid", "noexec", "nodev", "ro"]}),
    ];
    for (host, inside, readonly) in &spec.binds {
        let mut options = vec!["rbind", "nosuid", "nodev"];
        if *readonly {
            options.push("ro");
        }
        mounts.push(json!({"destination": inside, "type": "bind",
                           "source": host, "options": options}));
    }
    let mut env = spec.env.clone();
    if !env.iter().any(|e| e.starts_with("PATH=")) {
        env.push("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into());
    }
    let mut linux = json!({
        "namespaces": [{"type": "pid"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}],
        "resources": {"devices": [{"allow": false, "access": "rwm"}]},
        "maskedPaths": ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
                        "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
                        "/proc/sched_debug", "/sys/firmware", "/proc/scsi"],
        "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                          "/proc/sysrq-trigger"],
    });
    if let Some(profile) = &spec.seccomp {
        linux["seccomp"] = seccomp_for_oci(profile);
    }
    json!({
        "ociVersion": "1.0.2",
        "process": {
            "terminal": false,
            "user": {"uid": uid, "gid": gid, "additionalGids": groups},
            "args": spec.args,
            "env": env,
            "cwd": if spec.cwd.is_empty() { "/" } else { spec.cwd.as_str() },
            "capabilities": {"bounding": caps, "effective": caps, "permitted": caps},
            "noNewPrivileges": false
        },
        "root": {"path": "rootfs", "readonly": false},
        "hostname": "pare",
        "mounts": mounts,
        "linux": linux,
    })
}

/// Docker's seccomp JSON as the OCI config's `linux.seccomp` (the same actions and
/// names; Docker's `archMap` becomes the flat `architectures` list).
pub fn seccomp_for_oci(profile: &Value) -> Value {
    let mut architectures: Vec<Value> = Vec::new();
    for arch in profile["archMap"].as_array().into_iter().flatten() {
        architectures.push(arch["architecture"].clone());
        architectures.extend(
            arch["subArchitectures"]
                .as_array()
                .into_iter()
                .flatten()
                .cloned(),
        );
    }
    let syscalls: Vec<Value> = profile["syscalls"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| {
            let mut rule = json!({"names": s["names"], "action": s["action"]});
            if let Some(args) = s.get("args").filter(|a| !a.is_null()) {
                rule["args"] = args.clone();
            }
            rule
        })
        .collect();
    let mut out = json!({
        "defaultAction": profile["defaultAction"],
        "architectures": architectures,
        "syscalls": syscalls,
    });
    if let Some(errno) = profile.get("defaultErrnoRet") {
        out["defaultErrnoRet"] = errno.clone();
    }
    out
}

/// `USER` resolved like Docker does, against the rootfs's /etc/passwd and /etc/group:
/// numeric ids stay as they are; a name must be in the file. Returns uid, gid and the
/// supplementary groups the user is listed in.
pub fn resolve_user(rootfs: &Path, user: &str) -> Result<(u32, u32, Vec<u32>)> {
    let (name, group) = match user.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (user, None),
    };
    let passwd = read_in_root(rootfs, "etc/passwd");
    let groups_file = read_in_root(rootfs, "etc/group");
    let unknown = |what: &str| {
        oci_error(
            "resolve USER",
            &format!("{what} is not in the image's /etc/passwd or /etc/group"),
        )
    };
    let (uid, mut gid, user_name) = if name.is_empty() {
        (0, 0, "root".to_owned())
    } else if let Ok(uid) = name.parse::<u32>() {
        let entry = passwd
            .lines()
            .map(|l| l.split(':').collect::<Vec<_>>())
            .find(|f| f.len() > 3 && f[2] == name);
        let gid = entry
            .as_ref()
            .and_then(|f| f[3].parse().ok())
            .unwrap_or(uid);
        let user_name = entry.map(|f| f[0].to_owned()).unwrap_or_default();
        (uid, gid, user_name)
    } else {
        let f: Vec<&str> = passwd
            .lines()
            .map(|l| l.split(':').collect::<Vec<_>>())
            .find(|f| f.len() > 3 && f[0] == name)
            .ok_or_else(|| unknown(&format!("user {name:?}")))?;
        let uid = f[2]
            .parse()
            .map_err(|_| unknown(&format!("user {name:?}")))?;
        (uid, f[3].parse().unwrap_or(uid), name.to_owned())
    };
    if let Some(group) = group.filter(|g| !g.is_empty()) {
        gid = match group.parse::<u32>() {
            Ok(g) => g,
            Err(_) => groups_file
                .lines()
                .map(|l| l.split(':').collect::<Vec<_>>())
                .find(|f| f.len() > 2 && f[0] == group)
                .and_then(|f| f[2].parse().ok())
                .ok_or_else(|| unknown(&format!("group {group:?}")))?,
        };
    }
    let supplementary = groups_file
        .lines()
        .map(|l| l.split(':').collect::<Vec<_>>())
        .filter(|f| f.len() > 3 && f[3].split(',').any(|m| !m.is_empty() && m == user_name))
        .filter_map(|f| f[2].parse().ok())
        .collect();
    Ok((uid, gid, supplementary))
}

/// A small file of the rootfs, read only when it really is inside it (the image may
/// make /etc a symlink to anywhere; that must not read the host's files).
fn read_in_root(rootfs: &Path, rel: &str) -> String {
    let (Ok(root), Ok(real)) = (
        std::fs::canonicalize(rootfs),
        std::fs::canonicalize(rootfs.join(rel)),
    ) else {
        return String::new();
    };
    if !real.starts_with(&root) {
        return String::new();
    }
    std::fs::read(&real)
        .map(|b| String::from_utf8_lossy(&b[..b.len().min(1 << 20)]).into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_resolve_like_docker() {
        let dir = tempfile::tempdir().expect("temp dir");
        let etc = dir.path().join("etc");
        std::fs::create_dir(&etc).expect("etc");
        std::fs::write(
            etc.join("passwd"),
            "root:x:0:0::/root:/bin/sh\nnobody:x:65534:65534::/:/usr/sbin/nologin\nwww-data:x:33:33::/var/www:/usr/sbin/nologin\n",
        )
        .expect("passwd");
        std::fs::write(
            etc.join("group"),
            "root:x:0:\nwww-data:x:33:\nadm:x:4:www-data\nnogroup:x:65534:\n",
        )
        .expect("group");
        let r = |u: &str| resolve_user(dir.path(), u).map_err(|e| e.to_string());
        assert_eq!(r(""), Ok((0, 0, vec![])));
        assert_eq!(r("nobody"), Ok((65534, 65534, vec![])));
        assert_eq!(r("www-data"), Ok((33, 33, vec![4])));
        assert_eq!(r("33"), Ok((33, 33, vec![4])));
        assert_eq!(r("1000:1000"), Ok((1000, 1000, vec![])));
        assert_eq!(r("nobody:adm"), Ok((65534, 4, vec![])));
        assert!(r("ghost").unwrap_err().contains("\"ghost\""));
    }

    #[test]
    fn a_symlinked_etc_is_not_read() {
        let dir = tempfile::tempdir().expect("temp dir");
        let rootfs = dir.path().join("rootfs");
        std::fs::create_dir(&rootfs).expect("rootfs");
        std::os::unix::fs::symlink("/etc", rootfs.join("etc")).expect("symlink");
        // The host's root user must not be found through the link.
        assert!(resolve_user(&rootfs, "root").is_err());
    }

    #[test]
    fn docker_seccomp_becomes_oci_seccomp() {
        let docker = json!({
            "defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1,
            "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86"]}],
            "syscalls": [{"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"}]
        });
        let oci = seccomp_for_oci(&docker);
        assert_eq!(
            oci["architectures"],
            json!(["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"])
        );
        assert_eq!(oci["syscalls"][0]["names"], json!(["read", "write"]));
        assert_eq!(oci["defaultErrnoRet"], 1);
    }
}
