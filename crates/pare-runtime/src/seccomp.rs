//! Docker's default seccomp profile, resolved for the container pare really starts.
//!
//! Docker's profile (`data/docker-default-seccomp.json`, see the README there) holds
//! rules with conditions: some syscalls are allowed only when the container has a
//! capability (`mount`, `unshare`, `setns` with CAP_SYS_ADMIN), only on some
//! architectures or kernels. Docker resolves them against the container's capability
//! set, so adding CAP_SYS_ADMIN for pare's sensor would relax the profile for the
//! whole container. pare resolves them itself, for the capabilities the *app* gets,
//! and hands the engine or the OCI runtime a profile with no conditions left; what the
//! sensor needs beyond that is added by name and taken away from the app again by the
//! sensor's own filter (see `pare-sensor`'s `--deny-syscalls`).

use std::collections::BTreeSet;

use serde_json::{Value, json};

/// Docker's default profile, as published (Apache-2.0).
const DOCKER_DEFAULT: &str = include_str!("../data/docker-default-seccomp.json");

/// Docker's default capability set (`docker run` without `--cap-add`/`--cap-drop`).
pub const DOCKER_DEFAULT_CAPS: [&str; 14] = [
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

/// The capabilities pare gives every app it runs: Docker's default set without
/// CAP_NET_RAW (raw and packet sockets would let an untrusted app sniff the loopback
/// traffic of the host network, or forge it).
pub fn app_caps() -> Vec<String> {
    DOCKER_DEFAULT_CAPS
        .iter()
        .filter(|c| **c != "CAP_NET_RAW")
        .map(|c| (*c).to_owned())
        .collect()
}

/// What the conditions of Docker's profile are evaluated against.
#[derive(Clone, Debug)]
pub struct Host {
    /// Go's name of the architecture (`amd64`, `arm64`), as the profile uses.
    pub arch: &'static str,
    /// The running kernel's major and minor version.
    pub kernel: (u32, u32),
}

impl Host {
    /// This machine.
    pub fn current() -> Host {
        let arch = match std::env::consts::ARCH {
            "x86_64" => "amd64",
            "aarch64" => "arm64",
            "x86" => "386",
            other => other,
        };
        Host {
            arch,
            kernel: kernel_version().unwrap_or((0, 0)),
        }
    }
}

fn kernel_version() -> Option<(u32, u32)> {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").ok()?;
    parse_version(release.trim())
}

fn parse_version(text: &str) -> Option<(u32, u32)> {
    let mut parts = text.split(|c: char| !c.is_ascii_digit());
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next().and_then(|m| m.parse().ok()).unwrap_or(0);
    Some((major, minor))
}

/// A seccomp profile in Docker's JSON format with every condition resolved.
#[derive(Clone, Debug, PartialEq)]
pub struct Profile {
    default_action: Value,
    default_errno: Option<Value>,
    arch_map: Value,
    /// Rules: `names`, `action`, and where present `args` and `errnoRet`.
    rules: Vec<Value>,
}

impl Profile {
    /// Docker's default profile as Docker would apply it to a container holding
    /// exactly `caps` on `host`.
    pub fn docker_default(caps: &[String], host: &Host) -> Profile {
        let docker: Value = serde_json::from_str(DOCKER_DEFAULT).unwrap_or_else(|_| json!({}));
        let rules = docker["syscalls"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|rule| applies(rule, caps, host))
            .map(|rule| {
                let mut kept = json!({"names": rule["names"], "action": rule["action"]});
                for field in ["args", "errnoRet"] {
                    if let Some(v) = rule.get(field).filter(|v| !v.is_null()) {
                        kept[field] = v.clone();
                    }
                }
                kept
            })
            .collect();
        // Only this machine's architecture (and the ABIs it runs besides, i386 and
        // x32 on x86_64), as Docker keeps it: an OCI runtime refuses names of
        // architectures its libseccomp does not know.
        let native = seccomp_arch(host.arch);
        let arch_map: Vec<Value> = docker["archMap"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|a| a["architecture"].as_str() == Some(native))
            .cloned()
            .collect();
        Profile {
            default_action: docker["defaultAction"].clone(),
            default_errno: docker.get("defaultErrnoRet").cloned(),
            arch_map: Value::Array(arch_map),
            rules,
        }
    }

    /// Allows `names` unconditionally (what pare's sensor needs beyond the app).
    pub fn allow(&mut self, names: &[&str]) {
        if !names.is_empty() {
            self.rules
                .push(json!({"names": names, "action": "SCMP_ACT_ALLOW"}));
        }
    }

    /// Every syscall some rule allows (with or without conditions on its arguments).
    pub fn allowed_names(&self) -> BTreeSet<String> {
        self.rules
            .iter()
            .filter(|r| r["action"] == "SCMP_ACT_ALLOW")
            .flat_map(|r| r["names"].as_array().into_iter().flatten())
            .filter_map(|n| n.as_str().map(str::to_owned))
            .collect()
    }

    /// This profile allowing only `names`: each allow rule keeps the names in the set
    /// (and its conditions on arguments); rules that refuse stay as they are (Docker
    /// answers `clone3` with ENOSYS so that libc falls back to `clone`). A list of
    /// names can therefore never widen the profile.
    pub fn restricted_to(&self, names: &BTreeSet<String>) -> Profile {
        let rules = self
            .rules
            .iter()
            .filter_map(|rule| {
                if rule["action"] != "SCMP_ACT_ALLOW" {
                    return Some(rule.clone());
                }
                let kept: Vec<&Value> = rule["names"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|n| n.as_str().is_some_and(|n| names.contains(n)))
                    .collect();
                (!kept.is_empty()).then(|| {
                    let mut r = rule.clone();
                    r["names"] = json!(kept);
                    r
                })
            })
            .collect();
        Profile {
            rules,
            ..self.clone()
        }
    }

    /// The profile as Docker reads it (`--security-opt seccomp=...`).
    pub fn to_docker(&self) -> Value {
        let mut out = json!({
            "defaultAction": self.default_action,
            "archMap": self.arch_map,
            "syscalls": self.rules,
        });
        if let Some(errno) = &self.default_errno {
            out["defaultErrnoRet"] = errno.clone();
        }
        out
    }

    /// The profile as an OCI runtime config's `linux.seccomp` (Docker's `archMap`
    /// becomes the flat `architectures` list; rules keep their actions and arguments).
    pub fn to_oci(&self) -> Value {
        let mut architectures: Vec<Value> = Vec::new();
        for arch in self.arch_map.as_array().into_iter().flatten() {
            architectures.push(arch["architecture"].clone());
            architectures.extend(
                arch["subArchitectures"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .cloned(),
            );
        }
        let mut out = json!({
            "defaultAction": self.default_action,
            "architectures": architectures,
            "syscalls": self.rules,
        });
        if let Some(errno) = &self.default_errno {
            out["defaultErrnoRet"] = errno.clone();
        }
        out
    }
}

/// libseccomp's name of a Go architecture name.
fn seccomp_arch(go_arch: &str) -> &'static str {
    match go_arch {
        "amd64" => "SCMP_ARCH_X86_64",
        "arm64" => "SCMP_ARCH_AARCH64",
        "386" => "SCMP_ARCH_X86",
        "arm" => "SCMP_ARCH_ARM",
        "s390x" => "SCMP_ARCH_S390X",
        "riscv64" => "SCMP_ARCH_RISCV64",
        _ => "SCMP_ARCH_NATIVE",
    }
}

/// Whether a rule of Docker's profile applies, as Docker decides it: every
/// `includes` condition holds (all its capabilities held, the architecture listed,
/// the kernel at least as new) and no `excludes` condition does (none of its
/// capabilities held, the architecture not listed).
fn applies(rule: &Value, caps: &[String], host: &Host) -> bool {
    let has = |c: &Value| c.as_str().is_some_and(|c| caps.iter().any(|h| h == c));
    let listed = |v: &Value| v.as_str() == Some(host.arch);
    let includes = &rule["includes"];
    let excludes = &rule["excludes"];
    let all_caps = includes["caps"]
        .as_array()
        .is_none_or(|c| c.iter().all(has));
    let arch_in = includes["arches"]
        .as_array()
        .is_none_or(|a| a.is_empty() || a.iter().any(listed));
    let kernel_ok = includes["minKernel"]
        .as_str()
        .and_then(parse_version)
        .is_none_or(|min| host.kernel >= min);
    let no_cap = excludes["caps"]
        .as_array()
        .is_none_or(|c| !c.iter().any(has));
    let arch_out = excludes["arches"]
        .as_array()
        .is_none_or(|a| !a.iter().any(listed));
    all_caps && arch_in && kernel_ok && no_cap && arch_out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host() -> Host {
        Host {
            arch: "amd64",
            kernel: (6, 1),
        }
    }

    fn caps(extra: &[&str]) -> Vec<String> {
        let mut c = app_caps();
        c.extend(extra.iter().map(|e| (*e).to_owned()));
        c
    }

    #[test]
    fn the_app_gets_no_namespace_mount_keyring_bpf_or_io_uring_syscalls() {
        let names = Profile::docker_default(&caps(&[]), &host()).allowed_names();
        for refused in [
            "unshare",
            "setns",
            "mount",
            "umount2",
            "keyctl",
            "add_key",
            "request_key",
            "bpf",
            "io_uring_setup",
            "io_uring_enter",
            "perf_event_open",
            "fanotify_init",
            "kcmp",
        ] {
            assert!(!names.contains(refused), "{refused} is allowed");
        }
        for allowed in ["read", "openat", "clone", "socket", "ptrace", "arch_prctl"] {
            assert!(names.contains(allowed), "{allowed} is refused");
        }
    }

    #[test]
    fn sys_admin_relaxes_the_profile_as_docker_does() {
        let names = Profile::docker_default(&caps(&["CAP_SYS_ADMIN"]), &host()).allowed_names();
        assert!(names.contains("unshare") && names.contains("mount"));
        let ptrace = Profile::docker_default(&caps(&["CAP_SYS_PTRACE"]), &host()).allowed_names();
        assert!(ptrace.contains("kcmp") && !ptrace.contains("unshare"));
    }

    #[test]
    fn clone_keeps_its_argument_condition_and_clone3_its_enosys() {
        let profile = Profile::docker_default(&caps(&[]), &host()).to_docker();
        let rules = profile["syscalls"].as_array().unwrap();
        let clone = rules
            .iter()
            .find(|r| r["names"] == json!(["clone"]))
            .expect("a clone rule");
        assert_eq!(clone["args"][0]["op"], "SCMP_CMP_MASKED_EQ");
        let clone3 = rules
            .iter()
            .find(|r| r["names"] == json!(["clone3"]))
            .expect("a clone3 rule");
        assert_eq!(clone3["action"], "SCMP_ACT_ERRNO");
        assert_eq!(clone3["errnoRet"], 38);
        assert!(rules.iter().all(|r| r.get("includes").is_none()));
    }

    #[test]
    fn a_list_of_names_can_only_narrow_the_profile() {
        let docker = Profile::docker_default(&caps(&[]), &host());
        // A forged trace that claims mount and keyctl were used.
        let traced: BTreeSet<String> = ["read", "write", "mount", "keyctl", "clone", "socket"]
            .map(str::to_owned)
            .into();
        let slim = docker.restricted_to(&traced);
        let names = slim.allowed_names();
        assert_eq!(
            names,
            ["clone", "read", "socket", "write"]
                .map(str::to_owned)
                .into()
        );
        let json = slim.to_docker();
        let clone3 = json["syscalls"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["names"] == json!(["clone3"]) && r["errnoRet"] == 38);
        assert!(clone3, "clone3 must still answer ENOSYS");
    }

    #[test]
    fn oci_form_flattens_the_architectures() {
        let oci = Profile::docker_default(&caps(&[]), &host()).to_oci();
        assert_eq!(
            oci["architectures"],
            json!(["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]),
            "this machine's ABIs only"
        );
        assert_eq!(oci["defaultErrnoRet"], 1);
    }

    #[test]
    fn old_kernels_lose_the_rules_that_need_a_newer_one() {
        let old = Host {
            arch: "amd64",
            kernel: (4, 4),
        };
        assert!(
            !Profile::docker_default(&caps(&[]), &old)
                .allowed_names()
                .contains("ptrace")
        );
        assert_eq!(parse_version("6.18.3-arch1"), Some((6, 18)));
    }
}
