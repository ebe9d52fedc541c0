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

use oci_spec::runtime as oci;
use serde_json::Value;

use crate::limits::{DiskUse, Limits, Watch};
use crate::{ExecOutput, LimitHit, Network, Reach, Result, Running, RuntimeError, cleanup};

/// An OCI runtime binary, with pare's own state directory (so `runc list` of other
/// tools never shows pare's containers, and pare never touches theirs).
pub struct OciRuntime {
    binary: PathBuf,
    state_root: PathBuf,
    /// Removes a rootless state root (in the user's runtime dir) once it is empty.
    _state_root_removal: Option<cleanup::Registration>,
}

impl Drop for OciRuntime {
    fn drop(&mut self) {
        if self._state_root_removal.is_some() {
            let _ = std::fs::remove_dir(&self.state_root);
        }
    }
}

/// How to run one container from a root filesystem.
#[derive(Clone, Debug, Default)]
pub struct BundleSpec {
    /// The unpacked root filesystem. With limits it is only read (the container writes
    /// to an overlay), so several containers can run from one.
    pub rootfs: PathBuf,
    /// The bundle directory (config.json, the log, the writable layer); its name also
    /// names the container.
    pub bundle: PathBuf,
    pub args: Vec<String>,
    pub env: Vec<String>,
    pub cwd: String,
    /// `USER` as the image gives it (`name`, `uid`, `name:group`, `uid:gid`), resolved
    /// against the rootfs's passwd and group files; empty is root.
    pub user: String,
    /// (host path, container path, read-only)
    pub binds: Vec<(PathBuf, String, bool)>,
    /// Capabilities beyond [`crate::seccomp::app_caps`], without the `CAP_` prefix (as
    /// Docker's `--cap-add`).
    pub cap_add: Vec<String>,
    /// The OCI config's `linux.seccomp` (see [`crate::seccomp::Profile::to_oci`]).
    pub seccomp: Option<Value>,
    pub network: Network,
    /// Processes and memory (the container's cgroup) and disk: with limits, the
    /// container writes to an overlay of `rootfs` whose upper layer is a tmpfs of
    /// `disk` bytes, so `rootfs` itself is never changed.
    pub limits: Option<Limits>,
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
            .find_map(|n| crate::program::which(n))
            .ok_or_else(|| RuntimeError::NoRuntime(names.join(" or ")))?;
        // SAFETY: prctl with PR_SET_CHILD_SUBREAPER only sets a flag of this process.
        if unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) } != 0 {
            return Err(RuntimeError::Io {
                what: "becoming a child subreaper".into(),
                source: std::io::Error::last_os_error(),
            });
        }
        let state_root = crate::userns::state_root();
        // root's /run/pare-oci stays, as runc's own /run/runc does; the user's runtime
        // dir gets back what it had.
        let removal = crate::userns::rootless().then(|| {
            let dir = state_root.clone();
            cleanup::register(move || {
                let _ = std::fs::remove_dir(&dir);
            })
        });
        Ok(OciRuntime {
            binary,
            state_root,
            _state_root_removal: removal,
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
        let bundle = spec.bundle.clone();
        std::fs::create_dir_all(&bundle)
            .map_err(|e| oci_io(format!("create the bundle: {}", bundle.display()), e))?;
        let (uid, gid, groups) = resolve_user(&spec.rootfs, &spec.user)?;
        let writable = match spec.limits {
            Some(limits) => Some(WritableRoot::mount(&spec.rootfs, &bundle, limits.disk)?),
            None => None,
        };
        let root = writable
            .as_ref()
            .map_or_else(|| spec.rootfs.clone(), |w| w.merged.clone());
        let config = bundle_config(spec, &root, uid, gid, &groups)?;
        let config_path = bundle.join("config.json");
        std::fs::write(
            &config_path,
            serde_json::to_vec_pretty(&config).unwrap_or_default(),
        )
        .map_err(|e| oci_io(format!("write config.json: {}", config_path.display()), e))?;
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
            .map_err(|e| oci_io(format!("create the log: {}", log.display()), e))?;
        let err = out
            .try_clone()
            .map_err(|e| oci_io("create the log".into(), e))?;
        let registration = cleanup::register({
            let (binary, root, id) = (self.binary.clone(), self.state_root.clone(), id.clone());
            move || force_delete(&binary, &root, &id)
        });
        let status = self
            .command()
            // runc gives the container a session keyring of its own (not the host's,
            // which --no-new-keyring would share).
            .args(["run", "--detach", "--bundle"])
            .arg(&bundle)
            .arg("--pid-file")
            .arg(&pid_file)
            .arg(&id)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .status()
            .map_err(|e| oci_io("run".into(), e))?;
        let mut container = OciContainer {
            runtime: self,
            id,
            log,
            rootfs: spec.rootfs.clone(),
            pid: 0,
            exit: Mutex::new(None),
            reach: Reach::Host,
            watch: None,
            _registration: registration,
            writable,
        };
        if !status.success() {
            return Err(oci_error("run", &container.logs_tail(10)));
        }
        let pid = std::fs::read_to_string(&pid_file)
            .ok()
            .and_then(|s| s.trim().parse::<i32>().ok())
            .ok_or_else(|| oci_error("run", "no pid file was written"))?;
        container.pid = pid;
        if let (Some(limits), Some(writable)) = (spec.limits, &container.writable) {
            let disk = DiskUse::Filesystem(writable.tmpfs.clone());
            // The tmpfs stops the writes itself; nothing to kill.
            container.watch = Some(Watch::start(pid, limits, disk, || {}));
        }
        if spec.network == Network::Private {
            // Held open, so the namespace stays reachable however the app's
            // processes come and go.
            let path = PathBuf::from(format!("/proc/{pid}/ns/net"));
            match Reach::namespace(&path) {
                Ok(reach) => container.reach = reach,
                // A CLI app can be done before pare gets here: there is nothing to
                // connect to then, and its exit code is what counts.
                Err(_) if container.reap().is_some() => {}
                Err(e) => {
                    return Err(oci_error(
                        "network namespace",
                        &format!("cannot open {}: {e}", path.display()),
                    ));
                }
            }
        }
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
    reach: Reach,
    watch: Option<Watch>,
    _registration: cleanup::Registration,
    /// Unmounted when the container is gone (fields drop after `drop` ran).
    writable: Option<WritableRoot>,
}

/// The root a container writes to: an overlay of the unpacked image (its lower layer,
/// never written) and a tmpfs of the disk limit's size (the upper layer), mounted in
/// the bundle and unmounted when dropped (or, on Ctrl-C, by the cleanup registry).
struct WritableRoot {
    merged: PathBuf,
    tmpfs: PathBuf,
    _registration: cleanup::Registration,
}

impl WritableRoot {
    fn mount(lower: &Path, bundle: &Path, disk: u64) -> Result<WritableRoot> {
        let tmpfs = bundle.join("writable");
        let merged = bundle.join("merged");
        let fail =
            |what: &str, e: std::io::Error| oci_io(format!("mount the writable root: {what}"), e);
        for dir in [&tmpfs, &merged] {
            std::fs::create_dir_all(dir).map_err(|e| fail(&dir.display().to_string(), e))?;
        }
        let registration = cleanup::register({
            let (merged, tmpfs) = (merged.clone(), tmpfs.clone());
            move || {
                unmount(&merged);
                unmount(&tmpfs);
            }
        });
        mount(
            Some("tmpfs"),
            &tmpfs,
            Some("tmpfs"),
            0,
            &format!("size={disk},mode=0755"),
        )
        .map_err(|e| fail("tmpfs", e))?;
        let root = WritableRoot {
            merged,
            tmpfs,
            _registration: registration,
        };
        for dir in ["upper", "work"] {
            std::fs::create_dir(root.tmpfs.join(dir)).map_err(|e| fail(dir, e))?;
        }
        let options = format!(
            "lowerdir={},upperdir={},workdir={}",
            lower.display(),
            root.tmpfs.join("upper").display(),
            root.tmpfs.join("work").display()
        );
        mount(Some("overlay"), &root.merged, Some("overlay"), 0, &options)
            .map_err(|e| fail("overlay", e))?;
        Ok(root)
    }
}

impl Drop for WritableRoot {
    fn drop(&mut self) {
        unmount(&self.merged);
        unmount(&self.tmpfs);
    }
}

fn mount(
    source: Option<&str>,
    target: &Path,
    fstype: Option<&str>,
    flags: libc::c_ulong,
    data: &str,
) -> std::io::Result<()> {
    let c = |s: &str| std::ffi::CString::new(s).map_err(std::io::Error::other);
    let target = std::ffi::CString::new(target.as_os_str().as_encoded_bytes())
        .map_err(std::io::Error::other)?;
    let (source, fstype, data) = (c(source.unwrap_or(""))?, c(fstype.unwrap_or(""))?, c(data)?);
    // SAFETY: mount(2) with NUL-terminated strings that outlive the call.
    let rc = unsafe {
        libc::mount(
            source.as_ptr(),
            target.as_ptr(),
            fstype.as_ptr(),
            flags,
            data.as_ptr().cast(),
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

fn unmount(target: &Path) {
    if let Ok(c) = std::ffi::CString::new(target.as_os_str().as_encoded_bytes()) {
        // SAFETY: umount2 with a NUL-terminated path; a path not mounted just fails.
        unsafe { libc::umount2(c.as_ptr(), libc::MNT_DETACH) };
    }
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
    fn reach(&self) -> &Reach {
        &self.reach
    }

    fn limit_hits(&self) -> Vec<LimitHit> {
        self.watch.as_ref().map(Watch::hits).unwrap_or_default()
    }

    fn processes(&self) -> Vec<crate::Process> {
        if self.reap().is_some() {
            return Vec::new();
        }
        crate::processes::of_container(self.pid)
    }

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
            .map_err(|e| oci_io("kill".into(), e))?;
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
            .map_err(|e| oci_io("exec".into(), e))?;
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

fn oci_io(what: String, source: std::io::Error) -> RuntimeError {
    RuntimeError::OciIo { what, source }
}

fn oci_error(what: &str, message: &str) -> RuntimeError {
    RuntimeError::Oci {
        what: what.to_owned(),
        message: message.trim().to_owned(),
    }
}

/// The OCI runtime config (runtime-spec 1.0) for one container: runc's own `runc spec`
/// defaults, with Docker's capabilities (less CAP_NET_RAW), a network namespace of its
/// own unless the host's is asked for, and pare's mounts. Built from oci-spec's types,
/// with every optional part oci-spec's defaults would add (rlimits, an inheritable and
/// ambient set, annotations) left out, as `runc spec` leaves them out.
fn bundle_config(
    spec: &BundleSpec,
    root: &Path,
    uid: u32,
    gid: u32,
    groups: &[u32],
) -> Result<oci::Spec> {
    let invalid =
        |what: &str, e: &dyn std::fmt::Display| oci_error("config.json", &format!("{what}: {e}"));
    let mut caps: Vec<String> = crate::seccomp::app_caps();
    for extra in &spec.cap_add {
        let name = format!("CAP_{}", extra.trim_start_matches("CAP_"));
        if !caps.contains(&name) {
            caps.push(name);
        }
    }
    let caps: oci::Capabilities = caps
        .iter()
        .map(|name| {
            serde_json::from_value::<oci::Capability>(Value::String(name.clone()))
                .map_err(|_| invalid("capability", &format!("{name} is not one Linux has")))
        })
        .collect::<Result<_>>()?;
    let mount = |destination: &str, typ: &str, source: &str, options: &[&str]| {
        let mut m = oci::Mount::default();
        m.set_destination(destination.into());
        m.set_typ(Some(typ.into()));
        m.set_source(Some(source.into()));
        m.set_options(
            (!options.is_empty()).then(|| options.iter().map(|o| (*o).to_owned()).collect()),
        );
        m
    };
    let mut mounts = vec![
        mount("/proc", "proc", "proc", &[]),
        mount(
            "/dev",
            "tmpfs",
            "tmpfs",
            &["nosuid", "strictatime", "mode=755", "size=65536k"],
        ),
        mount(
            "/dev/pts",
            "devpts",
            "devpts",
            &[
                "nosuid",
                "noexec",
                "newinstance",
                "ptmxmode=0666",
                "mode=0620",
            ],
        ),
        mount(
            "/dev/shm",
            "tmpfs",
            "shm",
            &["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"],
        ),
        mount(
            "/dev/mqueue",
            "mqueue",
            "mqueue",
            &["nosuid", "noexec", "nodev"],
        ),
        mount(
            "/sys",
            "sysfs",
            "sysfs",
            &["nosuid", "noexec", "nodev", "ro"],
        ),
    ];
    for (host, inside, readonly) in &spec.binds {
        let mut options = vec!["rbind", "nosuid", "nodev"];
        if *readonly {
            options.push("ro");
        }
        let mut bind = mount(inside, "bind", "", &options);
        bind.set_source(Some(host.clone()));
        mounts.push(bind);
    }
    let mut env = spec.env.clone();
    if !env.iter().any(|e| e.starts_with("PATH=")) {
        env.push("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into());
    }
    let mut namespaces = vec![
        oci::LinuxNamespaceType::Pid,
        oci::LinuxNamespaceType::Ipc,
        oci::LinuxNamespaceType::Uts,
        oci::LinuxNamespaceType::Mount,
    ];
    if spec.network == Network::Private {
        namespaces.push(oci::LinuxNamespaceType::Network);
    }
    let namespaces = namespaces
        .into_iter()
        .map(|typ| {
            let mut ns = oci::LinuxNamespace::default();
            ns.set_typ(typ);
            ns
        })
        .collect::<Vec<_>>();
    let mut deny_devices = oci::LinuxDeviceCgroup::default();
    deny_devices.set_allow(false);
    deny_devices.set_access(Some("rwm".into()));
    let mut resources = oci::LinuxResources::default();
    resources.set_devices(Some(vec![deny_devices]));
    // Without root there are no cgroups to limit with (pare says so in its report);
    // the disk limit, a tmpfs, holds all the same.
    if let Some(limits) = spec.limits.filter(|_| !crate::userns::rootless()) {
        let mut pids = oci::LinuxPids::default();
        pids.set_limit(i64::from(limits.pids));
        resources.set_pids(Some(pids));
        let memory = i64::try_from(limits.memory).unwrap_or(i64::MAX);
        let mut mem = oci::LinuxMemory::default();
        mem.set_limit(Some(memory));
        mem.set_swap(Some(memory));
        resources.set_memory(Some(mem));
    }
    let strings = |list: &[&str]| list.iter().map(|p| (*p).to_owned()).collect::<Vec<_>>();
    let mut linux = oci::Linux::default();
    linux.set_namespaces(Some(namespaces));
    linux.set_resources(Some(resources));
    linux.set_masked_paths(Some(strings(&[
        "/proc/acpi",
        "/proc/asound",
        "/proc/kcore",
        "/proc/keys",
        "/proc/latency_stats",
        "/proc/timer_list",
        "/proc/timer_stats",
        "/proc/sched_debug",
        "/sys/firmware",
        "/proc/scsi",
    ])));
    linux.set_readonly_paths(Some(strings(&[
        "/proc/bus",
        "/proc/fs",
        "/proc/irq",
        "/proc/sys",
        "/proc/sysrq-trigger",
    ])));
    if let Some(profile) = &spec.seccomp {
        let seccomp: oci::LinuxSeccomp = serde_json::from_value(profile.clone())
            .map_err(|e| invalid("the seccomp profile", &e))?;
        linux.set_seccomp(Some(seccomp));
    }
    let mut user = oci::User::default();
    user.set_uid(uid);
    user.set_gid(gid);
    user.set_additional_gids(Some(groups.to_vec()));
    let mut capabilities = oci::LinuxCapabilities::default();
    capabilities.set_bounding(Some(caps.clone()));
    capabilities.set_effective(Some(caps.clone()));
    capabilities.set_permitted(Some(caps));
    capabilities.set_inheritable(None);
    capabilities.set_ambient(None);
    let mut process = oci::Process::default();
    process.set_terminal(Some(false));
    process.set_user(user);
    process.set_args(Some(spec.args.clone()));
    process.set_env(Some(env));
    process.set_cwd(if spec.cwd.is_empty() {
        "/".into()
    } else {
        spec.cwd.clone().into()
    });
    process.set_capabilities(Some(capabilities));
    process.set_no_new_privileges(Some(false));
    process.set_rlimits(None);
    let mut root_fs = oci::Root::default();
    root_fs.set_path(root.to_owned());
    root_fs.set_readonly(Some(false));
    let mut config = oci::Spec::default();
    config.set_version("1.0.2".into());
    config.set_process(Some(process));
    config.set_root(Some(root_fs));
    config.set_hostname(Some("pare".into()));
    config.set_mounts(Some(mounts));
    config.set_linux(Some(linux));
    config.set_annotations(None);
    Ok(config)
}

/// `USER` resolved like Docker does (see [`pare_users`], which the sensor inside the
/// container uses too), against the rootfs's /etc/passwd and /etc/group: numeric ids
/// need no entry (an unknown uid runs with gid 0); a name must be in the file.
/// Returns uid, gid and the supplementary groups the user is listed in.
pub fn resolve_user(rootfs: &Path, user: &str) -> Result<(u32, u32, Vec<u32>)> {
    let passwd = read_in_root(rootfs, "etc/passwd");
    let group = read_in_root(rootfs, "etc/group");
    let identity = pare_users::resolve(user, &passwd, &group).map_err(|e| {
        oci_error(
            "resolve USER",
            &format!("{e} (the image's /etc/passwd and /etc/group)"),
        )
    })?;
    Ok((identity.uid, identity.gid, identity.groups))
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
        assert!(
            r("ghost")
                .unwrap_err()
                .contains("unable to find user ghost")
        );
        // Docker runs an unknown uid with gid 0 (this resolver gave it gid = uid).
        assert_eq!(r("4242"), Ok((4242, 0, vec![])));
    }

    #[test]
    fn the_config_carries_the_namespaces_capabilities_and_profile_asked_for() {
        let profile = crate::seccomp::Profile::docker_default(
            &crate::seccomp::app_caps(),
            &crate::seccomp::Host {
                arch: "amd64",
                kernel: (6, 1),
            },
        )
        .to_oci();
        let spec = BundleSpec {
            args: vec!["app".into()],
            binds: vec![("/host/out".into(), "/out".into(), true)],
            cap_add: vec!["SYS_PTRACE".into()],
            seccomp: Some(profile.clone()),
            network: Network::Private,
            ..Default::default()
        };
        let config = bundle_config(&spec, Path::new("/bundle/rootfs"), 33, 33, &[4]).unwrap();
        let json = serde_json::to_value(&config).unwrap();
        assert_eq!(json["linux"]["seccomp"], profile, "the profile, whole");
        let namespaces = json["linux"]["namespaces"].to_string();
        assert!(namespaces.contains("network"), "{namespaces}");
        for set in ["bounding", "effective", "permitted"] {
            let caps = json["process"]["capabilities"][set].to_string();
            assert!(
                caps.contains("CAP_SYS_PTRACE") && !caps.contains("CAP_NET_RAW"),
                "{caps}"
            );
        }
        assert!(
            json["process"].get("rlimits").is_none(),
            "no limits runc spec would not set"
        );
        assert_eq!(
            config.process().as_ref().unwrap().user().additional_gids(),
            &Some(vec![4])
        );
        assert_eq!(
            json["mounts"][6]["options"].to_string(),
            r#"["rbind","nosuid","nodev","ro"]"#
        );

        let host = BundleSpec {
            network: Network::Host,
            cap_add: vec!["NOT_A_CAPABILITY".into()],
            ..spec
        };
        let refused = bundle_config(&host, Path::new("/r"), 0, 0, &[])
            .unwrap_err()
            .to_string();
        assert!(refused.contains("CAP_NOT_A_CAPABILITY"), "{refused}");
        let host = BundleSpec {
            cap_add: Vec::new(),
            ..host
        };
        let json = serde_json::to_value(bundle_config(&host, Path::new("/r"), 0, 0, &[]).unwrap())
            .unwrap();
        assert!(!json["linux"]["namespaces"].to_string().contains("network"));
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
}
