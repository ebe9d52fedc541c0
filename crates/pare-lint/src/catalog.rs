//! Every rule pare knows: ID, name, default severity, the hadolint codes it answers
//! to, and the explanation `pare lint --explain RULE` prints.

use crate::finding::Severity;

/// What a rule looks at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    Dockerfile,
    Image,
}

/// A rule's description.
#[derive(Clone, Copy, Debug, serde::Serialize)]
pub struct Rule {
    pub id: &'static str,
    pub name: &'static str,
    pub severity: Severity,
    pub scope: Scope,
    /// One line: what is wrong.
    pub summary: &'static str,
    /// Why it matters and what to do instead.
    pub explanation: &'static str,
    /// hadolint codes that check the same thing (also accepted in `# hadolint ignore=`).
    pub hadolint: &'static [&'static str],
}

use Scope::{Dockerfile as D, Image as I};
use Severity::{Error, Info, Warning};

macro_rules! rules {
    ($( $id:literal $name:literal $sev:ident $scope:ident [$($h:literal),*] $summary:literal $expl:literal; )*) => {
        /// All rules, in ID order.
        pub static RULES: &[Rule] = &[$(Rule {
            id: $id,
            name: $name,
            severity: $sev,
            scope: $scope,
            summary: $summary,
            explanation: $expl,
            hadolint: &[$($h),*],
        }),*];
    };
}

rules! {
    "PL101" "base-latest" Warning D ["DL3007"]
    "The base image is tagged `latest`."
    "`latest` moves: the same Dockerfile builds on a different base next week, and a rebuild can break or pull in changes nobody reviewed. Name a release tag (`debian:bookworm-20240812`, `python:3.12-slim`).";

    "PL102" "base-untagged" Warning D ["DL3006"]
    "The base image has no tag."
    "Without a tag Docker uses `latest`, which moves (see PL101). Name a release tag.";

    "PL103" "base-not-digest-pinned" Info D []
    "The base image is not pinned by digest."
    "A tag can be pushed again; only a digest (`image:tag@sha256:…`) names exactly one image. Pinning by digest makes builds reproducible and tells you when the base changed (let a bot such as Renovate bump it). Keep the tag too, for the reader.";

    "PL104" "untrusted-registry" Warning D ["DL3026"]
    "The base image comes from a registry that is not trusted."
    "The config file lists the registries base images may come from (`trusted-registries`); this one is not among them.";

    "PL105" "copy-from-unknown-stage" Warning D ["DL3022"]
    "`COPY --from` names no earlier stage."
    "BuildKit takes a `--from` that is not the name or number of an earlier stage as an image to pull. That is rarely what was meant: usually the stage is misspelt or defined later. Name an earlier stage, or write a full image reference with a tag (`--from=nginx:1.27`).";

    "PL106" "copy-from-own-stage" Error D ["DL3023"]
    "`COPY --from` names the stage it is in."
    "A stage cannot copy from itself; BuildKit fails. Copy from an earlier stage.";

    "PL107" "duplicate-stage-name" Error D ["DL3024"]
    "Two stages have the same name."
    "`FROM … AS name` must be unique; `--from=name` and `--target name` would be ambiguous.";

    "PL201" "apt-no-install-recommends" Warning D ["DL3015"]
    "`apt-get install` without `--no-install-recommends`."
    "Debian installs recommended packages by default: often tens of megabytes of documentation tools, compilers or X libraries the image never uses, each one more thing to patch. Add `--no-install-recommends` and name what you need.";

    "PL202" "apt-missing-yes" Warning D ["DL3014"]
    "`apt-get install` without `-y`."
    "A build has no one to answer apt's question; without `-y` (or `--yes`, `-qq`) the install stops and the build fails as soon as apt wants to confirm.";

    "PL203" "apt-update-alone" Warning D []
    "`apt-get update` and `apt-get install` are in different RUN instructions."
    "Docker caches each RUN. An `apt-get update` layer from last month is reused, so a later `apt-get install` works from stale package lists and installs outdated (or no longer downloadable) versions. Run `apt-get update && apt-get install …` in one RUN.";

    "PL204" "apt-lists-not-removed" Warning D ["DL3009"]
    "The apt lists are not removed in the RUN that downloaded them."
    "`apt-get update` leaves tens of megabytes in /var/lib/apt/lists. Deleting them in a later RUN does not shrink the image: the earlier layer keeps them. End the same RUN with `rm -rf /var/lib/apt/lists/*` (or use a cache mount for /var/lib/apt/lists). Checked in the stages that make up the final image.";

    "PL205" "apt-unpinned" Info D ["DL3008"]
    "`apt-get install` of packages without a version."
    "Without `package=version` a rebuild can install a different version. Pinning makes builds reproducible but needs upkeep (Debian removes old versions from its archive), so pare reports it as info.";

    "PL206" "no-security-updates" Info D []
    "The final image installs packages but never applies security updates."
    "Base images lag the security archive by days to weeks: the tag you build on was made before the latest fixes. Run `apt-get upgrade -y` (or `apk upgrade`, `dnf upgrade -y`) in the final stage, in the same RUN as your install, and rebuild often; or rebuild on a base that is refreshed daily.";

    "PL207" "pip-cache" Warning D ["DL3042"]
    "`pip install` without `--no-cache-dir`."
    "pip keeps a copy of every downloaded wheel in ~/.cache/pip; in an image that is dead weight. Add `--no-cache-dir`, set `PIP_NO_CACHE_DIR=1`, or use a cache mount.";

    "PL208" "pip-unpinned" Warning D ["DL3013"]
    "`pip install` of packages without a version."
    "Unpinned packages make each build a different image. Pin (`flask==3.0.3`) or install from a requirements or constraints file with pinned versions.";

    "PL209" "apk-no-cache" Warning D ["DL3019"]
    "`apk add` without `--no-cache`."
    "Without `--no-cache` apk keeps its index in /var/cache/apk, and removing it later does not shrink the layer. `apk add --no-cache` fetches the index, installs and keeps nothing.";

    "PL210" "apk-unpinned" Info D ["DL3018"]
    "`apk add` of packages without a version."
    "Pin `package=version` for reproducible builds; Alpine drops old versions from its mirrors, so this needs upkeep (info).";

    "PL211" "yum-dnf-no-clean" Warning D ["DL3032", "DL3040"]
    "`yum`/`dnf` installs without cleaning its cache in the same RUN."
    "yum and dnf keep metadata and packages in /var/cache; end the same RUN with `yum clean all` / `dnf clean all` (and `rm -rf /var/cache/yum`), or the layer keeps them.";

    "PL212" "yum-dnf-missing-yes" Warning D ["DL3030", "DL3038"]
    "`yum`/`dnf` install without `-y`."
    "A build cannot answer the confirmation prompt; add `-y`.";

    "PL213" "context-copied-before-install" Warning D []
    "The whole build context is copied before dependencies are installed."
    "Docker reuses a cached layer only while everything before it is unchanged. `COPY . …` before `pip install`/`npm ci`/`apt-get install` means every code change reinstalls every dependency. Copy the dependency manifests first (requirements.txt, package.json and lock file, go.mod), install, then copy the rest.";

    "PL214" "apt-not-apt-get" Warning D ["DL3027"]
    "`apt` is used in a build script."
    "`apt` is the interactive front end; its output and behaviour may change between releases and it warns that it has no stable CLI. Use `apt-get` (or `apt-cache`) in scripts.";

    "PL301" "root-user" Warning D ["DL3002"]
    "The final image runs as root."
    "A process running as root in a container is root on the host's kernel: one escape or one writable host mount away from the host. The final stage should set `USER` to an unprivileged user (create one, or use `nobody`/a numeric UID) and not switch back to root at the end. Without any `USER` the image runs as whatever the base chose, which is root for almost every distribution image.";

    "PL302" "secret-in-env" Error D []
    "A secret is passed through ENV or ARG."
    "ENV values are stored in the image config and ARG values in the build history: anyone who can pull the image can read them (`docker history`, `docker inspect`). Use a build secret (`RUN --mount=type=secret,id=…`) for build-time secrets and inject runtime secrets when the container starts.";

    "PL303" "sudo" Warning D ["DL3004"]
    "`sudo` in a RUN."
    "RUN already runs as the current USER; `sudo` needs a TTY and a sudoers file, behaves unpredictably, and its presence in the image is one more setuid binary. Switch with `USER root` … `USER app`, or use `gosu`/`setpriv` at run time.";

    "PL304" "curl-pipe-shell" Warning D []
    "A downloaded script is piped into a shell."
    "`curl … | sh` runs whatever the server sends, unverified, as the build user; a compromised or changed script goes straight into the image. Download to a file, check its SHA-256, then run it — or install from a package.";

    "PL305" "add-url" Warning D []
    "`ADD` downloads a URL without a checksum."
    "ADD fetches the URL at build time with no verification; the file can change under you. Add `--checksum=sha256:…`, or use `curl` and `sha256sum -c` in a RUN.";

    "PL306" "add-local-file" Warning D ["DL3020"]
    "`ADD` copies local files; use `COPY`."
    "ADD also unpacks archives and fetches URLs, so readers cannot tell what it does. Use COPY for plain files and folders; keep ADD for the archive it must unpack.";

    "PL401" "shell-form-command" Warning D ["DL3025"]
    "CMD or ENTRYPOINT in shell form."
    "The shell form runs `/bin/sh -c \"…\"`: the shell is PID 1, and `docker stop`'s SIGTERM goes to the shell, not to the app, which is killed after the timeout instead of shutting down cleanly. Write the JSON form: `CMD [\"gunicorn\", \"app:app\"]`.";

    "PL402" "missing-expose" Info D []
    "A service runs but no port is exposed."
    "The final stage starts a server but has no EXPOSE. EXPOSE documents which port the service listens on; `docker run -P`, orchestrators and pare's own probes read it.";

    "PL403" "relative-workdir" Warning D ["DL3000"]
    "WORKDIR is a relative path."
    "A relative WORKDIR depends on every WORKDIR before it (and on the base image's). Use an absolute path.";

    "PL404" "cd-in-run" Warning D ["DL3003"]
    "`cd` in a RUN instead of WORKDIR."
    "A `cd` lasts for one RUN; the next instruction is back where it was, which is easy to misread. Use WORKDIR to change directory.";

    "PL405" "repeated-instruction" Warning D ["DL4003", "DL4004", "DL3012"]
    "More than one CMD, ENTRYPOINT or HEALTHCHECK in a stage."
    "Only the last CMD, ENTRYPOINT and HEALTHCHECK of a stage take effect; earlier ones are dead code that misleads readers.";

    "PL406" "maintainer" Info D ["DL4000"]
    "MAINTAINER is deprecated."
    "Use `LABEL org.opencontainers.image.authors=\"…\"` instead.";

    "PL407" "missing-healthcheck" Info D ["DL3057"]
    "A service image has no HEALTHCHECK."
    "Without a HEALTHCHECK, Docker and Compose only know the process is alive, not that it answers. Add `HEALTHCHECK CMD …` that probes the service (checked when the final stage exposes a port or starts a server).";

    "PL408" "env-self-reference" Error D ["DL3044"]
    "ENV refers to a variable defined in the same instruction."
    "Within one ENV instruction, values see the variables as they were before it: `ENV A=1 B=$A` sets B to the old A (usually empty). Split it into two ENV instructions.";

    "PL409" "missing-pipefail" Warning D ["DL4006"]
    "A RUN with a pipe, and the shell does not use `pipefail`."
    "`/bin/sh -c \"curl … | tar x\"` succeeds when the last command does, even if curl failed: the build goes on with a broken download. Set `SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]` before piped RUNs (or start the RUN with `set -o pipefail &&` on a shell that has it).";

    "PL410" "shellcheck" Info D []
    "Findings of shellcheck in RUN scripts (reported under their SC codes)."
    "When `shellcheck` is on PATH, every shell-form RUN (and RUN heredoc) is checked with it, with the ARG and ENV names of the stage declared, and its findings are reported with the Dockerfile's line and column under shellcheck's own code (SC2086 …). Ignore one with `# pare-ignore=SC2086` or `# hadolint ignore=SC2086`.";

    "PI001" "image-runs-as-root" Warning I []
    "The image runs as root."
    "The image config has no USER or names root (0). A compromised process then has root's power over everything in the container and, through kernel bugs or mounts, the host. Rebuild with a non-root USER.";

    "PI002" "image-secret-in-env" Error I []
    "A secret is in the image's environment."
    "The config's Env holds a variable named or looking like a password, token or key. Everyone who can pull the image can read it. Inject secrets at run time instead.";

    "PI003" "image-setuid-file" Warning I []
    "A setuid or setgid file is in the image."
    "Setuid/setgid programs run with their owner's rights; in a container they are a way to regain root for an attacker who got in as a user. Remove them (`chmod u-s,g-s`) unless the app needs them.";

    "PI004" "image-world-writable" Warning I []
    "A world-writable file or directory without the sticky bit."
    "Any user in the container can change it, or replace files in the directory: a way to tamper with what another user runs. Make it writable by its owner only, or set the sticky bit on shared directories.";

    "PI005" "image-tools-in-service" Info I []
    "A service image ships shells or package managers."
    "A service that listens on a port rarely needs a shell or a package manager at run time, but an attacker who gets code execution does. Ship them in a build stage only, or make the image minimal (`pare build`).";

    "PI006" "image-latest-tag" Warning I []
    "The image is tagged only `latest`."
    "A `latest` tag names whatever was pushed last; deployments cannot tell versions apart or roll back. Tag each build with a version (and the digest).";

    "PI007" "image-exposes-ssh" Warning I []
    "The image exposes port 22."
    "Running an SSH server in a container widens the attack surface and bypasses the engine's access control; use `docker exec` to get in.";

    "PI008" "image-no-healthcheck" Info I []
    "A service image has no HEALTHCHECK."
    "The image exposes a port but its config has no healthcheck, so the engine cannot tell whether the service answers.";
}

/// A rule by ID or name (`PL101`, `base-latest`), without regard to case.
pub fn find(key: &str) -> Option<&'static Rule> {
    RULES
        .iter()
        .find(|r| r.id.eq_ignore_ascii_case(key) || r.name.eq_ignore_ascii_case(key))
}

/// The rules a hadolint code stands for.
pub fn for_hadolint(code: &str) -> impl Iterator<Item = &'static Rule> + '_ {
    RULES
        .iter()
        .filter(move |r| r.hadolint.iter().any(|h| h.eq_ignore_ascii_case(code)))
}

/// Every rule ID and name must be unique.
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_names_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for r in RULES {
            assert!(seen.insert(r.id), "{}", r.id);
            assert!(seen.insert(r.name), "{}", r.name);
        }
        assert_eq!(find("base-latest").map(|r| r.id), Some("PL101"));
        assert_eq!(for_hadolint("DL4004").next().map(|r| r.id), Some("PL405"));
    }
}
