//! Every rule: a Dockerfile that makes it fire (at the right line) and one where it
//! stays quiet. shellcheck is off here; tests/shellcheck.rs covers it.

use pare_lint::{Config, Options, Source, lint};

fn findings_with(text: &str, config: Config) -> Vec<(String, usize)> {
    let report = lint(
        &[Source {
            path: "Dockerfile".into(),
            text: text.into(),
        }],
        &Options {
            config,
            shellcheck: None,
            shellcheck_cache: None,
        },
    );
    let file = &report.files[0];
    assert!(file.error.is_none(), "{:?}", file.error);
    file.findings
        .iter()
        .map(|f| (f.rule.clone(), f.line().unwrap_or(0)))
        .collect()
}

fn findings(text: &str) -> Vec<(String, usize)> {
    findings_with(text, Config::default())
}

#[track_caller]
fn fires(rule: &str, line: usize, text: &str) {
    let all = findings(text);
    assert!(
        all.iter().any(|(r, l)| r == rule && *l == line),
        "{rule} should fire at line {line}; found {all:?}"
    );
}

#[track_caller]
fn quiet(rule: &str, text: &str) {
    let all = findings(text);
    assert!(
        !all.iter().any(|(r, _)| r == rule),
        "{rule} should stay quiet; found {all:?}"
    );
}

#[test]
fn pl101_base_latest() {
    fires("PL101", 1, "FROM python:latest\nUSER nobody\n");
    fires("PL101", 2, "ARG TAG=latest\nFROM debian:${TAG}\n");
    quiet("PL101", "FROM python:3.12-slim\nUSER nobody\n");
}

#[test]
fn pl102_base_untagged() {
    fires("PL102", 1, "FROM ubuntu\nUSER nobody\n");
    quiet("PL102", "FROM ubuntu:24.04\nUSER nobody\n");
    // Unknown until build time, a stage, or scratch: nothing to say.
    quiet(
        "PL102",
        "ARG BASE\nFROM $BASE\nFROM scratch\nFROM golang:1.22 AS b\nFROM b\n",
    );
}

#[test]
fn pl103_base_not_digest_pinned() {
    fires("PL103", 1, "FROM debian:12\nUSER nobody\n");
    quiet(
        "PL103",
        "FROM debian:12@sha256:2bac43769ace90ebd3ad83e5392295e25dfc58e58543d3ab326c3330b505283d\nUSER nobody\n",
    );
}

#[test]
fn pl104_untrusted_registry() {
    let config = Config {
        trusted_registries: vec!["docker.io".into(), "ghcr.io/acme".into()],
        ..Config::default()
    };
    let all = findings_with(
        "FROM quay.io/x/y:1\nFROM ghcr.io/acme/base:1\nFROM ghcr.io/other/base:1\nFROM debian:12\n",
        config,
    );
    let lines: Vec<usize> = all
        .iter()
        .filter(|(r, _)| r == "PL104")
        .map(|(_, l)| *l)
        .collect();
    assert_eq!(lines, [1, 3]);
    quiet("PL104", "FROM quay.io/x/y:1\n");
}

#[test]
fn pl105_copy_from_unknown_stage() {
    fires(
        "PL105",
        3,
        "FROM golang:1.22 AS build\nFROM debian:12\nCOPY --from=biuld /a /a\n",
    );
    fires(
        "PL105",
        2,
        "FROM debian:12\nCOPY --from=later /a /a\nFROM debian:12 AS later\n",
    );
    fires("PL105", 2, "FROM debian:12\nCOPY --from=3 /a /a\n");
    quiet(
        "PL105",
        "FROM golang:1.22 AS build\nFROM debian:12\nCOPY --from=build /a /a\nCOPY --from=0 /b /b\nCOPY --from=nginx:1.27 /c /c\n",
    );
}

#[test]
fn pl106_copy_from_own_stage() {
    fires("PL106", 2, "FROM debian:12 AS app\nCOPY --from=app /a /b\n");
    quiet(
        "PL106",
        "FROM debian:12 AS base\nFROM debian:12 AS app\nCOPY --from=base /a /b\n",
    );
}

#[test]
fn pl107_duplicate_stage_name() {
    fires("PL107", 2, "FROM debian:12 AS x\nFROM debian:12 AS X\n");
    quiet("PL107", "FROM debian:12 AS x\nFROM debian:12 AS y\n");
}

#[test]
fn pl201_apt_no_install_recommends() {
    fires(
        "PL201",
        2,
        "FROM debian:12\nRUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*\n",
    );
    quiet(
        "PL201",
        "FROM debian:12\nRUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*\n",
    );
    quiet(
        "PL201",
        "FROM debian:12\nRUN apt-get update && apt-get -o APT::Install-Recommends=false install -y curl\n",
    );
}

#[test]
fn pl202_apt_missing_yes() {
    fires(
        "PL202",
        3,
        "FROM debian:12\nRUN apt-get update \\\n && apt-get install --no-install-recommends curl\n",
    );
    for yes in ["-y", "--yes", "-qq", "-qy", "--assume-yes"] {
        quiet(
            "PL202",
            &format!("FROM debian:12\nRUN apt-get update && apt-get install {yes} curl\n"),
        );
    }
}

#[test]
fn pl203_apt_update_alone() {
    let split = "FROM debian:12\nRUN apt-get update\nRUN apt-get install -y curl\n";
    fires("PL203", 2, split);
    fires("PL203", 3, split);
    quiet(
        "PL203",
        "FROM debian:12\nRUN apt-get update && apt-get install -y curl\nRUN apt-get update && apt-get upgrade -y\n",
    );
}

#[test]
fn pl204_apt_lists_not_removed() {
    fires(
        "PL204",
        2,
        "FROM debian:12\nRUN apt-get update && apt-get install -y curl\n",
    );
    quiet(
        "PL204",
        "FROM debian:12\nRUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*\n",
    );
    quiet(
        "PL204",
        "FROM debian:12\nRUN --mount=type=cache,target=/var/lib/apt/lists apt-get update && apt-get install -y curl\n",
    );
    // A build stage that does not end up in the final image.
    quiet(
        "PL204",
        "FROM debian:12 AS build\nRUN apt-get update && apt-get install -y gcc\nFROM debian:12\nCOPY --from=build /a /a\n",
    );
}

#[test]
fn pl205_apt_unpinned() {
    fires(
        "PL205",
        2,
        "FROM debian:12\nRUN apt-get install -y curl=7.88.1-10 jq\n",
    );
    quiet(
        "PL205",
        "FROM debian:12\nRUN apt-get install -y curl=7.88.1-10 ./local.deb\n",
    );
}

#[test]
fn pl206_no_security_updates() {
    fires(
        "PL206",
        1,
        "FROM debian:12\nRUN apt-get update && apt-get install -y curl\n",
    );
    fires(
        "PL206",
        3,
        "FROM debian:12 AS build\nRUN apt-get update && apt-get upgrade -y\nFROM alpine:3.20\nRUN apk add --no-cache curl\n",
    );
    quiet(
        "PL206",
        "FROM debian:12\nRUN apt-get update && apt-get upgrade -y && apt-get install -y curl\n",
    );
    quiet(
        "PL206",
        "FROM alpine:3.20\nRUN apk upgrade --no-cache && apk add --no-cache curl\n",
    );
    quiet("PL206", "FROM debian:12\nCOPY app /app\n");
}

#[test]
fn pl207_pip_cache() {
    fires(
        "PL207",
        2,
        "FROM python:3.12\nRUN pip install -r requirements.txt\n",
    );
    fires(
        "PL207",
        2,
        "FROM python:3.12\nRUN python3 -m pip install flask==3.0.3\n",
    );
    quiet(
        "PL207",
        "FROM python:3.12\nRUN pip install --no-cache-dir -r requirements.txt\n",
    );
    quiet(
        "PL207",
        "FROM python:3.12\nENV PIP_NO_CACHE_DIR=1\nRUN pip install -r requirements.txt\n",
    );
    quiet(
        "PL207",
        "FROM python:3.12\nRUN --mount=type=cache,target=/root/.cache/pip pip install -r requirements.txt\n",
    );
}

#[test]
fn pl208_pip_unpinned() {
    fires(
        "PL208",
        2,
        "FROM python:3.12\nRUN pip install --no-cache-dir flask gunicorn==22.0.0\n",
    );
    quiet(
        "PL208",
        "FROM python:3.12\nRUN pip install --no-cache-dir flask==3.0.3 'urllib3>=2' -r requirements.txt -c constraints.txt . ./dist/app.whl\n",
    );
}

#[test]
fn pl209_apk_no_cache() {
    fires("PL209", 2, "FROM alpine:3.20\nRUN apk add curl=8.9.0-r0\n");
    quiet(
        "PL209",
        "FROM alpine:3.20\nRUN apk add --no-cache curl=8.9.0-r0\n",
    );
}

#[test]
fn pl210_apk_unpinned() {
    fires(
        "PL210",
        2,
        "FROM alpine:3.20\nRUN apk add --no-cache --virtual .build-deps gcc\n",
    );
    quiet(
        "PL210",
        "FROM alpine:3.20\nRUN apk add --no-cache --virtual .build-deps gcc=13.2.1-r0\n",
    );
}

#[test]
fn pl211_yum_dnf_no_clean() {
    fires("PL211", 2, "FROM fedora:40\nRUN dnf install -y nginx\n");
    fires("PL211", 2, "FROM centos:7\nRUN yum install -y nginx\n");
    quiet(
        "PL211",
        "FROM fedora:40\nRUN dnf install -y nginx && dnf clean all\n",
    );
    quiet(
        "PL211",
        "FROM centos:7\nRUN yum install -y nginx && rm -rf /var/cache/yum\n",
    );
}

#[test]
fn pl212_yum_dnf_missing_yes() {
    fires(
        "PL212",
        2,
        "FROM fedora:40\nRUN dnf install nginx && dnf clean all\n",
    );
    quiet(
        "PL212",
        "FROM fedora:40\nRUN dnf install -y nginx && dnf clean all\n",
    );
    quiet(
        "PL212",
        "FROM registry.access.redhat.com/ubi9/ubi-minimal:9.4\nRUN microdnf install nginx && microdnf clean all\n",
    );
}

#[test]
fn pl213_context_copied_before_install() {
    fires(
        "PL213",
        3,
        "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci\n",
    );
    quiet(
        "PL213",
        "FROM node:20\nWORKDIR /app\nCOPY package.json package-lock.json ./\nRUN npm ci\nCOPY . .\nRUN npm run build\n",
    );
}

#[test]
fn pl214_apt_not_apt_get() {
    fires(
        "PL214",
        2,
        "FROM debian:12\nRUN apt update && apt install -y curl\n",
    );
    quiet(
        "PL214",
        "FROM debian:12\nRUN apt-get update && apt-get install -y curl\n",
    );
}

#[test]
fn pl301_root_user() {
    fires("PL301", 1, "FROM debian:12\nCMD [\"sleep\", \"1\"]\n");
    fires(
        "PL301",
        4,
        "FROM debian:12\nUSER app\nRUN make\nUSER root\n",
    );
    fires("PL301", 3, "FROM debian:12\nARG U=0\nUSER $U\n");
    quiet(
        "PL301",
        "FROM debian:12\nUSER root\nRUN make\nUSER 10001:10001\n",
    );
    // The final stage inherits the USER of the stage it builds on.
    quiet(
        "PL301",
        "FROM debian:12 AS base\nUSER app\nFROM base\nCMD [\"x\"]\n",
    );
    quiet("PL301", "FROM gcr.io/distroless/static-debian12:nonroot\n");
}

#[test]
fn pl302_secret_in_env() {
    fires("PL302", 2, "FROM debian:12\nENV DB_PASSWORD=hunter2\n");
    fires("PL302", 2, "FROM debian:12\nARG GITHUB_TOKEN\n");
    fires(
        "PL302",
        2,
        "FROM debian:12\nENV UPSTREAM=https://bob:hunter2@example.org/x\n",
    );
    quiet(
        "PL302",
        "FROM debian:12\nENV GPG_KEY=A035C8C19219BA821ECEA86B64E628F8D684696D PASSWORD_FILE=/run/secrets/db\n",
    );
}

#[test]
fn pl303_sudo() {
    fires("PL303", 2, "FROM debian:12\nRUN sudo make install\n");
    quiet("PL303", "FROM debian:12\nRUN make install\n");
}

#[test]
fn pl304_curl_pipe_shell() {
    fires(
        "PL304",
        2,
        "FROM debian:12\nRUN curl -fsSL https://example.org/install.sh | bash -s -- -y\n",
    );
    fires(
        "PL304",
        2,
        "FROM debian:12\nRUN sh -c \"$(wget -qO- https://example.org/install.sh)\"\n",
    );
    quiet(
        "PL304",
        "FROM debian:12\nRUN curl -fsSLo /tmp/i.sh https://example.org/install.sh && echo 'abc  /tmp/i.sh' | sha256sum -c && sh /tmp/i.sh\n",
    );
    quiet(
        "PL304",
        "FROM debian:12\nRUN curl -fsSL https://example.org/x.tgz | tar -xz\n",
    );
}

#[test]
fn pl305_add_url() {
    fires(
        "PL305",
        2,
        "FROM debian:12\nADD https://example.org/tool /usr/bin/tool\n",
    );
    quiet(
        "PL305",
        "FROM debian:12\nADD --checksum=sha256:24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2945d1036d1dc68d https://example.org/tool /usr/bin/tool\n",
    );
}

#[test]
fn pl306_add_local_file() {
    fires("PL306", 2, "FROM debian:12\nADD app.py /app/\n");
    quiet(
        "PL306",
        "FROM debian:12\nADD rootfs.tar.xz /\nCOPY app.py /app/\n",
    );
}

#[test]
fn pl401_shell_form_command() {
    fires("PL401", 2, "FROM debian:12\nCMD python app.py\n");
    fires(
        "PL401",
        2,
        "FROM debian:12\nENTRYPOINT exec python app.py\n",
    );
    quiet(
        "PL401",
        "FROM debian:12\nCMD [\"python\", \"app.py\"]\nENTRYPOINT [\"tini\", \"--\"]\n",
    );
}

#[test]
fn pl402_missing_expose() {
    fires(
        "PL402",
        2,
        "FROM python:3.12\nCMD [\"gunicorn\", \"app:app\"]\n",
    );
    quiet(
        "PL402",
        "FROM python:3.12\nEXPOSE 8000\nCMD [\"gunicorn\", \"app:app\"]\n",
    );
    quiet("PL402", "FROM debian:12\nENTRYPOINT [\"/usr/bin/jq\"]\n");
}

#[test]
fn pl403_relative_workdir() {
    fires("PL403", 2, "FROM debian:12\nWORKDIR app\n");
    quiet(
        "PL403",
        "FROM debian:12\nENV APP=/srv/app\nWORKDIR $APP\nWORKDIR /data\nWORKDIR ${UNKNOWN}/x\n",
    );
}

#[test]
fn pl404_cd_in_run() {
    fires("PL404", 2, "FROM debian:12\nRUN cd /src && make\n");
    quiet("PL404", "FROM debian:12\nWORKDIR /src\nRUN make\n");
}

#[test]
fn pl405_repeated_instruction() {
    let text = "FROM debian:12\nCMD [\"a\"]\nENTRYPOINT [\"b\"]\nHEALTHCHECK CMD [\"c\"]\nCMD [\"d\"]\nENTRYPOINT [\"e\"]\nHEALTHCHECK NONE\n";
    for line in [5, 6, 7] {
        fires("PL405", line, text);
    }
    quiet(
        "PL405",
        "FROM debian:12 AS a\nCMD [\"a\"]\nFROM debian:12\nCMD [\"b\"]\n",
    );
}

#[test]
fn pl406_maintainer() {
    fires("PL406", 2, "FROM debian:12\nMAINTAINER me@example.org\n");
    quiet(
        "PL406",
        "FROM debian:12\nLABEL org.opencontainers.image.authors=me@example.org\n",
    );
}

#[test]
fn pl407_missing_healthcheck() {
    fires("PL407", 1, "FROM nginx:1.27\nEXPOSE 80\n");
    quiet(
        "PL407",
        "FROM nginx:1.27\nEXPOSE 80\nHEALTHCHECK CMD [\"curl\", \"-f\", \"http://127.0.0.1/\"]\n",
    );
    quiet("PL407", "FROM debian:12\nENTRYPOINT [\"/usr/bin/jq\"]\n");
}

#[test]
fn pl408_env_self_reference() {
    fires("PL408", 2, "FROM debian:12\nENV A=/opt B=$A/bin\n");
    quiet(
        "PL408",
        "FROM debian:12\nENV A=/opt\nENV B=$A/bin PATH=/opt/bin:$PATH\n",
    );
}

#[test]
fn pl409_missing_pipefail() {
    fires(
        "PL409",
        2,
        "FROM debian:12\nRUN wget -qO- https://example.org/x.tgz | tar -xz\n",
    );
    quiet(
        "PL409",
        "FROM debian:12\nSHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]\nRUN wget -qO- https://example.org/x.tgz | tar -xz\n",
    );
    quiet(
        "PL409",
        "FROM debian:12\nRUN set -euo pipefail; wget -qO- https://example.org/x.tgz | tar -xz\n",
    );
    quiet(
        "PL409",
        "FROM mcr.microsoft.com/windows/servercore:ltsc2022\nSHELL [\"powershell\", \"-Command\"]\nRUN Get-Item x | Out-Null\n",
    );
    quiet("PL409", "FROM debian:12\nRUN a || b\n");
}

#[test]
fn run_rules_see_heredocs_and_onbuild() {
    fires(
        "PL201",
        4,
        "FROM debian:12\nRUN <<EOF\napt-get update\napt-get install -y curl\nEOF\n",
    );
    fires(
        "PL207",
        2,
        "FROM python:3.12\nONBUILD RUN pip install -r requirements.txt\n",
    );
    // A heredoc fed to python is not shell.
    quiet(
        "PL404",
        "FROM python:3.12\nRUN python3 <<EOF\ncd = 1\nEOF\n",
    );
}

#[test]
fn inline_ignores() {
    let text = "FROM debian:12\n# pare-ignore=PL404\nRUN cd /tmp && ls\n# hadolint ignore=DL3015,DL3008\nRUN apt-get update \\\n && apt-get install -y curl\n";
    let all = findings(text);
    for gone in ["PL404", "PL201", "PL205"] {
        assert!(!all.iter().any(|(r, _)| r == gone), "{gone} in {all:?}");
    }
    assert!(all.iter().any(|(r, _)| r == "PL204"), "{all:?}");
    let global = "# hadolint global ignore=DL3006\nFROM ubuntu\n# pare-ignore-file=root-user\n";
    let all = findings(global);
    assert!(
        !all.iter().any(|(r, _)| r == "PL102" || r == "PL301"),
        "{all:?}"
    );
    // An ignore covers the instruction below it only.
    fires(
        "PL404",
        4,
        "FROM debian:12\n# pare-ignore=PL404\nRUN cd /a\nRUN cd /b\n",
    );
}

#[test]
fn config_ignores_and_changes_severity() {
    let config = Config::parse(
        "[lint]\nignore = [\"PL103\", \"DL3006\"]\n[lint.severity]\napt-unpinned = \"error\"\n",
        ".pare.toml",
    )
    .unwrap();
    let report = lint(
        &[Source {
            path: "Dockerfile".into(),
            text: "FROM debian\nFROM debian:12\nRUN apt-get install -y curl\n".into(),
        }],
        &Options {
            config,
            shellcheck: None,
            shellcheck_cache: None,
        },
    );
    let f = &report.files[0].findings;
    assert!(
        !f.iter().any(|x| x.rule == "PL103" || x.rule == "PL102"),
        "{f:?}"
    );
    let pin = f.iter().find(|x| x.rule == "PL205").unwrap();
    assert_eq!(pin.severity, pare_lint::Severity::Error);
}

#[test]
fn config_rejects_unknown_rules_and_keys() {
    let e = Config::parse("[lint]\nignore = [\"PL999\"]\n", "x.toml").unwrap_err();
    assert!(e.to_string().contains("PL999"), "{e}");
    let e = Config::parse("[lint]\nignored = []\n", "x.toml").unwrap_err();
    assert!(e.to_string().starts_with("x.toml:"), "{e}");
    assert!(Config::parse("[lint]\nfail-on = \"loud\"\n", "x.toml").is_err());
    assert!(Config::parse("[xray]\ntop = 3\n", "x.toml").is_ok());
}

#[test]
fn a_good_dockerfile_is_quiet() {
    let text = "# syntax=docker/dockerfile:1\nFROM python:3.12-slim@sha256:2bac43769ace90ebd3ad83e5392295e25dfc58e58543d3ab326c3330b505283d\nRUN apt-get update \\\n && apt-get upgrade -y \\\n && apt-get install -y --no-install-recommends libpq5=15.8-0+deb12u1 \\\n && rm -rf /var/lib/apt/lists/*\nWORKDIR /app\nCOPY requirements.txt .\nRUN pip install --no-cache-dir -r requirements.txt\nCOPY . .\nUSER 10001\nEXPOSE 8000\nHEALTHCHECK CMD [\"python\", \"-c\", \"print(1)\"]\nENTRYPOINT [\"gunicorn\", \"app:app\"]\n";
    assert_eq!(findings(text), Vec::<(String, usize)>::new());
}
