//! Registries in and out, against Debian's docker-registry (distribution 2.8) started
//! per test on 127.0.0.1, with Debian's skopeo as the independent client: reading
//! `docker://` (plain, basic auth, TLS, an image index), `pare copy` between
//! transports with digests kept, the bad inputs a registry can give, an interrupted
//! push, and the whole `pare build` with no engine, registry to registry.

mod support;

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::fake_registry::{Reply, Server, TinyImage};
use support::registry::{CuttingProxy, HostileRegistry, Mode, PASSWORD, Registry, USER};
use support::{pare, pare_env, run, test_image};

/// xray's JSON without what names where the image was read from.
fn xray_json(reference: &str, extra: &[&str]) -> Value {
    let mut args = vec!["xray", "--json", reference];
    args.extend_from_slice(extra);
    let mut v = pare(&args).success().json();
    if let Some(source) = v
        .pointer_mut("/image/source")
        .and_then(Value::as_object_mut)
    {
        source.remove("reference");
        source.remove("repo_tags");
    }
    v
}

fn manifest_digest(registry: &Registry, name: &str) -> String {
    registry.skopeo_inspect(name, false).success().json()["Digest"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn reads_a_pushed_image_as_from_its_oci_layout() {
    if support::skip_without_engine() {
        return;
    }
    let cli = test_image("cli");
    let registry = Registry::start(Mode::Plain);
    registry.push_with_skopeo(&cli.oci_ref(), "cli:1");
    let from_registry = xray_json(&registry.image("cli:1"), &[]);
    let from_layout = xray_json(&cli.oci_ref(), &[]);
    assert_eq!(from_registry, from_layout);

    let sbom = |r: &str| {
        let v = pare(&["sbom", "--format", "cyclonedx", r]).success().json();
        let mut names: Vec<String> = v["components"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["purl"].as_str().unwrap_or_default().to_owned())
            .collect();
        names.sort();
        names
    };
    let packages = sbom(&registry.image("cli:1"));
    assert!(packages.iter().any(|p| p.starts_with("pkg:deb/debian/jq@")));
    assert_eq!(packages, sbom(&cli.oci_ref()));
    pare(&["lint", "--image", &registry.image("cli:1")]);
}

#[test]
fn copy_keeps_digests_both_ways_and_mounts_within_a_registry() {
    if support::skip_without_engine() {
        return;
    }
    let cli = test_image("cli");
    let registry = Registry::start(Mode::Plain);
    registry.push_with_skopeo(&cli.oci_ref(), "by-skopeo:1");

    // pare pushes what skopeo pushed: the same manifest digest.
    let copied = pare(&[
        "copy",
        "--json",
        &cli.oci_ref(),
        &registry.image("by-pare:1"),
    ])
    .success()
    .json();
    let expected = manifest_digest(&registry, "by-skopeo:1");
    assert_eq!(copied["manifest_digest"], expected.as_str());
    assert_eq!(manifest_digest(&registry, "by-pare:1"), expected);

    // Within the registry, blobs are mounted, not uploaded.
    let copied = pare(&[
        "copy",
        "--json",
        &registry.image("by-pare:1"),
        &registry.image("mounted:1"),
    ])
    .success()
    .json();
    assert_eq!(copied["blobs_mounted"], 5, "{copied}");
    assert_eq!(copied["blobs_written"], 0);

    // Pulled back to an OCI layout by pare, then read by skopeo: same manifest bytes.
    let dir = support::temp_dir();
    let layout = dir.path().join("pulled");
    let layout_ref = format!("oci:{}:v1", layout.display());
    pare(&["copy", &registry.image("by-pare:1"), &layout_ref]).success();
    let raw = |args: &[&str]| run("skopeo", args, &[]).success().output.stdout;
    let from_registry = raw(&[
        "inspect",
        "--raw",
        "--tls-verify=false",
        &registry.image("by-pare:1"),
    ]);
    assert_eq!(raw(&["inspect", "--raw", &layout_ref]), from_registry);
    // skopeo copies what pare pushed into a layout of its own; the same image.
    let by_skopeo = format!("oci:{}:v1", dir.path().join("skopeo").display());
    run(
        "skopeo",
        &[
            "copy",
            "-q",
            "--src-tls-verify=false",
            &registry.image("by-pare:1"),
            &by_skopeo,
        ],
        &[],
    )
    .success();
    assert_eq!(xray_json(&by_skopeo, &[]), xray_json(&cli.oci_ref(), &[]));

    // A docker-archive (no manifest of its own) pushes and runs in the engine.
    pare(&[
        "copy",
        &cli.archive_ref(),
        &registry.image("from-archive:1"),
    ])
    .success();
    let engine_name = format!("pare-registry-test/{}:cli", std::process::id());
    run(
        "skopeo",
        &[
            "copy",
            "-q",
            "--src-tls-verify=false",
            &registry.image("from-archive:1"),
            &format!("docker-daemon:{engine_name}"),
        ],
        &[],
    )
    .success();
    let out = support::docker(&["run", "--rm", "--network", "none", &engine_name]).success();
    support::docker(&["rmi", "-f", &engine_name]);
    let original = support::docker(&["run", "--rm", "--network", "none", &cli.image]).success();
    assert_eq!(out.stdout(), original.stdout());
}

#[test]
fn basic_auth_from_flags_docker_config_and_credential_helpers() {
    if support::skip_without_engine() {
        return;
    }
    let cli = test_image("cli");
    let registry = Registry::start(Mode::Htpasswd);
    registry.push_with_skopeo(&cli.oci_ref(), "private:1");
    let image = registry.image("private:1");
    let home = support::temp_dir();
    let home_env = home.path().display().to_string();
    let env = [
        ("HOME", home_env.as_str()),
        ("DOCKER_CONFIG", home_env.as_str()),
    ];

    let anonymous = pare_env(&["xray", &image], &env).exits(2);
    let said = anonymous.stderr();
    assert!(
        said.contains(&format!(
            "registry {} refused pulling private",
            registry.host
        )),
        "{said}"
    );
    assert!(said.contains("anonymously"), "{said}");
    assert!(
        said.contains(&format!(
            "hint: log in with `docker login {}`",
            registry.host
        )),
        "{said}"
    );

    let wrong = pare_env(&["xray", "--creds", &format!("{USER}:wrong"), &image], &env).exits(2);
    assert!(
        wrong.stderr().contains(&format!("logged in as {USER}")),
        "{}",
        wrong.stderr()
    );

    let creds = format!("{USER}:{PASSWORD}");
    pare_env(&["xray", "--creds", &creds, &image], &env).success();

    // What `docker login` writes.
    use base64::Engine as _;
    let auth = base64::engine::general_purpose::STANDARD.encode(&creds);
    std::fs::write(
        home.path().join("config.json"),
        format!(r#"{{"auths":{{"{}":{{"auth":"{auth}"}}}}}}"#, registry.host),
    )
    .unwrap();
    pare_env(&["xray", &image], &env).success();

    // A credential helper, as `credsStore` names it.
    let bin = home.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let helper = bin.join("docker-credential-pare-test");
    std::fs::write(
        &helper,
        format!(
            "#!/bin/sh\nread server\n[ \"$server\" = \"{}\" ] || {{ echo 'credentials not found in native keychain'; exit 1; }}\necho '{{\"ServerURL\":\"'$server'\",\"Username\":\"{USER}\",\"Secret\":\"{PASSWORD}\"}}'\n",
            registry.host
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(
        home.path().join("config.json"),
        r#"{"credsStore":"pare-test"}"#,
    )
    .unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let env_helper = [env[0], env[1], ("PATH", path.as_str())];
    pare_env(&["xray", &image], &env_helper).success();
    // Pushing with the helper's login; skopeo sees the image.
    pare_env(
        &["copy", &cli.oci_ref(), &registry.image("pushed:1")],
        &env_helper,
    )
    .success();
    registry.skopeo_inspect("pushed:1", false).success();
}

#[test]
fn tls_with_the_registrys_ca_in_cert_dir() {
    if support::skip_without_engine() {
        return;
    }
    let cli = test_image("cli");
    let registry = Registry::start(Mode::Tls);
    registry.push_with_skopeo(&cli.oci_ref(), "secure:1");
    let image = registry.image("secure:1");
    let untrusted = pare(&["xray", &image]).exits(2);
    assert!(
        untrusted
            .stderr()
            .contains("hint: if the registry's certificate comes from your own CA"),
        "{}",
        untrusted.stderr()
    );
    let ca = registry.ca_dir().display().to_string();
    pare(&["xray", "--cert-dir", &ca, &image]).success();
    pare(&["xray", "--tls-verify=false", &image]).success();
    pare(&[
        "copy",
        "--dest-cert-dir",
        &ca,
        &cli.oci_ref(),
        &registry.image("pushed:1"),
    ])
    .success();
    assert_eq!(
        manifest_digest(&registry, "pushed:1"),
        manifest_digest(&registry, "secure:1")
    );
}

#[test]
fn an_index_gives_the_wanted_platform_or_names_those_it_has() {
    if support::skip_without_engine() {
        return;
    }
    let cli = test_image("cli");
    let base = test_image("base");
    let registry = Registry::start(Mode::Plain);
    registry.push_with_skopeo(&cli.oci_ref(), "multi:amd64");
    registry.push_with_skopeo(&base.oci_ref(), "multi:arm64");
    let entry = |tag: &str, arch: &str, variant: Option<&str>| {
        let raw = registry
            .skopeo_inspect(&format!("multi:{tag}"), true)
            .success()
            .output
            .stdout;
        let mut platform = serde_json::json!({"os": "linux", "architecture": arch});
        if let Some(v) = variant {
            platform["variant"] = v.into();
        }
        serde_json::json!({
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": format!("sha256:{}", sha256_hex(&raw)),
            "size": raw.len(),
            "platform": platform,
        })
    };
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [entry("arm64", "arm64", Some("v8")), entry("amd64", "amd64", None)],
    });
    let file = support::temp_dir();
    let index_path = file.path().join("index.json");
    std::fs::write(&index_path, index.to_string()).unwrap();
    run(
        "curl",
        &[
            "-sSf",
            "-X",
            "PUT",
            "-H",
            "Content-Type: application/vnd.oci.image.index.v1+json",
            "--data-binary",
            &format!("@{}", index_path.display()),
            &format!("http://{}/v2/multi/manifests/1", registry.host),
        ],
        &[],
    )
    .success();
    let image = registry.image("multi:1");
    let config =
        |extra: &[&str]| xray_json(&image, extra)["image"]["source"]["config_digest"].clone();
    assert_eq!(
        config(&[]),
        xray_json(&cli.oci_ref(), &[])["image"]["source"]["config_digest"]
    );
    assert_eq!(
        config(&["--platform", "linux/arm64"]),
        xray_json(&base.oci_ref(), &[])["image"]["source"]["config_digest"]
    );
    let none = pare(&["xray", "--platform", "linux/s390x", &image]).exits(2);
    assert!(
        none.stderr()
            .contains("no image for linux/s390x (the index has linux/arm64/v8, linux/amd64)"),
        "{}",
        none.stderr()
    );
    assert!(none.stderr().contains("hint: choose one with --platform"));
}

fn sha256_hex(bytes: &[u8]) -> String {
    let out = std::process::Command::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(bytes)?;
            c.wait_with_output()
        })
        .unwrap();
    String::from_utf8_lossy(&out.stdout)[..64].to_owned()
}

#[test]
fn bad_registries_and_images_fail_clearly_with_nothing_written() {
    if support::skip_without_engine() {
        return;
    }
    let cli = test_image("cli");
    let registry = Registry::start(Mode::Plain);
    registry.push_with_skopeo(&cli.oci_ref(), "cli:1");

    // An unknown host fails at once, naming it.
    let started = Instant::now();
    let unknown = pare(&["xray", "docker://no-such-registry.invalid/app:1"]).exits(2);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    assert!(
        unknown
            .stderr()
            .contains("registry no-such-registry.invalid"),
        "{}",
        unknown.stderr()
    );
    assert!(
        unknown.stderr().contains("hint: check the registry's name"),
        "{}",
        unknown.stderr()
    );

    // A registry that is not there (refused connections are retried, briefly).
    let started = Instant::now();
    let port = support::registry::free_port();
    pare(&["xray", &format!("docker://127.0.0.1:{port}/app:1")]).exits(2);
    assert!(started.elapsed() < Duration::from_secs(20));

    let missing = pare(&["xray", &registry.image("cli:nope")]).exits(2);
    assert!(
        missing.stderr().contains(&format!(
            "image \"cli:nope\" not found in registry {}",
            registry.host
        )),
        "{}",
        missing.stderr()
    );

    // A layer blob whose bytes were changed in the registry's storage.
    let manifest: Value = serde_json::from_slice(
        &registry
            .skopeo_inspect("cli:1", true)
            .success()
            .output
            .stdout,
    )
    .unwrap();
    let layer = manifest["layers"][1]["digest"].as_str().unwrap().to_owned();
    let file = registry.blob_file(&layer);
    let mut bytes = std::fs::read(&file).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&file, &bytes).unwrap();
    let damaged = pare(&["xray", &registry.image("cli:1")]).exits(2);
    assert!(
        damaged.stderr().contains("digest mismatch") && damaged.stderr().contains(&layer),
        "{}",
        damaged.stderr()
    );
    let dir = support::temp_dir();
    let out = dir.path().join("out");
    let copy = pare(&[
        "copy",
        &registry.image("cli:1"),
        &format!("oci:{}", out.display()),
    ])
    .exits(2);
    assert!(copy.stderr().contains(&layer), "{}", copy.stderr());
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "something was written"
    );

    // A manifest past the size limit, announced or not (no real registry serves one).
    for with_length in [true, false] {
        let hostile = HostileRegistry::start(64 << 20, with_length);
        let big = pare(&["xray", &format!("docker://{}/big:1", hostile.host)]).exits(2);
        assert!(
            big.stderr().contains("pare accepts; refusing it"),
            "{}",
            big.stderr()
        );
    }
}

#[test]
fn an_interrupted_push_completes_when_run_again() {
    if support::skip_without_engine() {
        return;
    }
    let cli = test_image("cli");
    let registry = Registry::start(Mode::Plain);
    let layout: Value = {
        let raw = run("skopeo", &["inspect", "--raw", &cli.oci_ref()], &[])
            .success()
            .output
            .stdout;
        serde_json::from_slice(&raw).unwrap()
    };
    let first_layer = layout["layers"][0]["size"].as_u64().unwrap();
    // The network fails in the second layer's upload, for good.
    let proxy = CuttingProxy::start(&registry.host, first_layer + 400_000);
    let target = format!("docker://{}/cut:1", proxy.host);
    let cut = pare(&["copy", &cli.oci_ref(), &target]).exits(2);
    assert!(
        cut.stderr().contains("uploading blob") || cut.stderr().contains("starting the upload"),
        "{}",
        cut.stderr()
    );
    // No tag: the manifest goes last.
    registry.skopeo_inspect("cut:1", false).exits(1);
    drop(proxy);
    let again = pare(&["copy", "--json", &cli.oci_ref(), &registry.image("cut:1")])
        .success()
        .json();
    assert_eq!(again["blobs_present"], 1, "{again}");
    assert_eq!(again["blobs_written"], 4, "{again}");
    let by_skopeo = run("skopeo", &["inspect", "--raw", &cli.oci_ref()], &[])
        .success()
        .output
        .stdout;
    assert_eq!(
        registry
            .skopeo_inspect("cut:1", true)
            .success()
            .output
            .stdout,
        by_skopeo
    );
}

/// With no engine answering: pare pulls the original from the registry, traces and
/// verifies it under runc, pushes the slim image; skopeo then puts the slim image
/// into the engine, where it answers as the original does.
#[test]
fn the_whole_build_from_registry_to_registry_with_no_engine() {
    if support::skip_without_engine() {
        return;
    }
    let nginx = test_image("nginx");
    let port = nginx.port.expect("nginx has a port");
    let registry = Registry::start(Mode::Plain);
    registry.push_with_skopeo(&nginx.oci_ref(), "app:1");
    let _lock = support::port_lock();
    let reports = support::temp_dir();
    let report_dir = reports.path().display().to_string();
    let build = pare_env(
        &[
            "build",
            &registry.image("app:1"),
            "--output",
            &registry.image("app:1-slim"),
            "--runtime",
            "oci",
            "--report-dir",
            &report_dir,
            "--json",
            "--no-attach",
        ],
        &[("DOCKER_HOST", "unix:///nonexistent/docker.sock")],
    );
    let report = build.json();
    assert_eq!(
        build.code(),
        Some(0),
        "{}\nverification: {:#}",
        build.explain(),
        report["verification"]["differences"]
    );
    assert_eq!(report["verification"]["passed"], true);
    // --no-attach: the image alone, no referrers (no fallback tag; tests/evidence.rs
    // has the build that attaches).
    let slim_digest = manifest_digest(&registry, "app:1-slim");
    registry
        .skopeo_inspect(&format!("app:{}", slim_digest.replace(':', "-")), true)
        .exits(1);
    assert!(
        report["outputs"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o.as_str() == Some(format!("docker://{}/app:1-slim", registry.host).as_str())),
        "{report}"
    );
    let slim = format!("pare-registry-test/{}:slim", std::process::id());
    run(
        "skopeo",
        &[
            "copy",
            "-q",
            "--src-tls-verify=false",
            &registry.image("app:1-slim"),
            &format!("docker-daemon:{slim}"),
        ],
        &[],
    )
    .success();
    let answers = |image: &str| {
        let name = format!("pare-registry-test-{}", std::process::id());
        support::docker(&[
            "run",
            "-d",
            "--rm",
            "--name",
            &name,
            "--network",
            "host",
            image,
        ])
        .success();
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut got = None;
        while Instant::now() < deadline && got.is_none() {
            got = support::http_get(port, "/");
            std::thread::sleep(Duration::from_millis(200));
        }
        support::docker(&["rm", "-f", &name]);
        got.expect("the image answers on its port")
    };
    let body = |response: String| {
        response
            .split("\r\n\r\n")
            .nth(1)
            .unwrap_or_default()
            .to_owned()
    };
    let slim_answer = answers(&slim);
    let original_answer = answers(&nginx.image);
    support::docker(&["rmi", "-f", &slim]);
    assert!(slim_answer.starts_with("HTTP/1.1 200"), "{slim_answer}");
    assert_eq!(body(slim_answer), body(original_answer));
}

/// A host blobs are redirected to, which asks for a token from a realm of its own:
/// what it hands out works, so a client that answers it anonymously gets the blob.
fn redirect_target(image: &Arc<TinyImage>) -> Server {
    let own_host = Arc::new(OnceLock::<String>::new());
    let (image, me) = (image.clone(), own_host.clone());
    let server = Server::start(move |r| {
        if r.path() == "/token" {
            return Reply::ok(br#"{"token":"storage-token"}"#, "application/json");
        }
        if r.header("Authorization") != Some("Bearer storage-token") {
            let realm = format!("http://{}/token", me.get().unwrap());
            return Reply::challenge(&format!(r#"Bearer realm="{realm}",service="storage""#));
        }
        image.answer(r).unwrap_or(Reply::status(404))
    });
    own_host.set(server.host.clone()).unwrap();
    server
}

/// Every byte a server received: request lines, headers and bodies.
fn everything_received(server: &Server) -> String {
    server
        .requests()
        .iter()
        .map(|r| {
            let headers: Vec<String> = r.headers.iter().map(|(k, v)| format!("{k}: {v}")).collect();
            format!(
                "{} {}\n{}\n{}\n",
                r.method,
                r.target,
                headers.join("\n"),
                String::from_utf8_lossy(&r.body)
            )
        })
        .collect()
}

fn basic(user: &str, password: &str) -> String {
    use base64::Engine as _;
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {encoded}")
}

#[test]
fn credentials_go_only_to_the_registry_not_to_the_host_a_blob_is_redirected_to() {
    let image = Arc::new(TinyImage::new());
    let storage = redirect_target(&image);
    let login = basic("alice", "alice-password");
    let storage_url = storage.url();
    let served = image.clone();
    let registry = Server::start(move |r| {
        if r.header("Authorization") != Some(login.as_str()) {
            return Reply::challenge(r#"Basic realm="registry""#);
        }
        if r.path().contains("/blobs/") {
            return Reply::redirect(&format!("{storage_url}{}", r.target));
        }
        served.answer(r).unwrap()
    });
    let reference = format!("docker://{}/app:1", registry.host);
    let run = pare(&[
        "xray",
        "--json",
        "--creds",
        "alice:alice-password",
        &reference,
    ]);
    let seen = everything_received(&storage);
    assert!(
        !seen.contains("alice") && !seen.contains(&basic("alice", "alice-password")),
        "the registry's login reached the redirect host:\n{seen}"
    );
    run.success();
    assert!(seen.contains("GET /token"), "answered anonymously:\n{seen}");
}

#[test]
fn a_refresh_token_goes_only_to_its_registry_and_another_host_gets_its_own_login() {
    let image = Arc::new(TinyImage::new());
    let storage = redirect_target(&image);
    let registry_host = Arc::new(OnceLock::<String>::new());
    let (me, served, storage_url) = (registry_host.clone(), image.clone(), storage.url());
    let registry = Server::start(move |r| {
        if r.path() == "/token" {
            let body = String::from_utf8_lossy(&r.body);
            return if body.contains("refresh_token=registry-refresh-token") {
                Reply::ok(br#"{"access_token":"registry-token"}"#, "application/json")
            } else {
                Reply::status(401)
            };
        }
        if r.header("Authorization") != Some("Bearer registry-token") {
            let realm = format!("http://{}/token", me.get().unwrap());
            return Reply::challenge(&format!(r#"Bearer realm="{realm}",service="registry""#));
        }
        if r.path().contains("/blobs/") {
            return Reply::redirect(&format!("{storage_url}{}", r.target));
        }
        served.answer(r).unwrap()
    });
    registry_host.set(registry.host.clone()).unwrap();

    // Docker's config: the registry's refresh token, and a login of the storage host's own.
    let config = support::temp_dir();
    std::fs::write(
        config.path().join("config.json"),
        serde_json::json!({"auths": {
            registry.host.clone(): {"identitytoken": "registry-refresh-token"},
            storage.host.clone(): {"auth": "Ym9iOmJvYi1wYXNzd29yZA=="},
        }})
        .to_string(),
    )
    .unwrap();
    let docker_config = config.path().display().to_string();
    let reference = format!("docker://{}/app:1", registry.host);
    let run = pare_env(
        &["xray", "--json", &reference],
        &[("DOCKER_CONFIG", &docker_config)],
    );
    let seen = everything_received(&storage);
    assert!(
        !seen.contains("registry-refresh-token") && !seen.contains("registry-token"),
        "the registry's token reached the redirect host:\n{seen}"
    );
    run.success();
    assert!(
        seen.contains(&basic("bob", "bob-password")),
        "the storage host's own login answered its challenge:\n{seen}"
    );
}

/// A registry that sends the manifest, or the layer, one byte every 20 ms: each read
/// gets a byte long before any per-read timeout.
fn trickling(what: &'static str) -> Server {
    let image = TinyImage::new();
    let layer = image.layer_digest.clone();
    Server::start(move |r| {
        let reply = image.answer(r).unwrap_or(Reply::status(404));
        let trickled = match what {
            "manifest" => r.path().contains("/manifests/"),
            _ => r.path().ends_with(&layer),
        };
        if trickled {
            reply.trickle(Duration::from_millis(20))
        } else {
            reply
        }
    })
}

/// `pare xray --registry-timeout 2s` of `server`'s image fails within 6 s, saying
/// each of `says`.
#[track_caller]
fn gives_up_quickly(server: &Server, says: &[&str]) {
    let reference = format!("docker://{}/app:1", server.host);
    let started = Instant::now();
    let run = pare(&["xray", "--registry-timeout", "2s", &reference]).exits(2);
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(6),
        "took {took:?}\n{}",
        run.explain()
    );
    for text in says {
        assert!(run.stderr().contains(text), "{}", run.explain());
    }
}

#[test]
fn a_trickling_registry_is_timed_out() {
    // The manifest (about 400 bytes, 8 s at this pace) within a 2 s deadline.
    let manifest = trickling("manifest");
    gives_up_quickly(&manifest, &["--registry-timeout"]);
    // A deadline it fits in.
    let reference = format!("docker://{}/app:1", manifest.host);
    pare(&["xray", "--registry-timeout", "60s", &reference]).success();

    // The layer, at 50 bytes/s: under the default minimum of 1 KiB/s, over 2 s windows.
    let layer = trickling("layer");
    gives_up_quickly(
        &layer,
        &[
            "slower than the minimum of 1024 bytes/s",
            "--registry-min-rate",
        ],
    );
    // No minimum: the layer arrives, however slowly.
    let reference = format!("docker://{}/app:1", layer.host);
    let no_minimum = ["--registry-timeout", "2s", "--registry-min-rate", "0"];
    pare(&[&["xray"][..], &no_minimum, &[&reference]].concat()).success();
}
