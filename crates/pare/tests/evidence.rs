//! The slim image travels with its evidence: `pare build --output docker://…` attaches
//! the SBOM, OpenVEX, seccomp profile, report and SLSA provenance as OCI 1.1
//! referrers, and `scan`, `sbom --attached`, `xray` and `copy --all-referrers` find
//! them again. Against Debian's docker-registry (distribution 2.8.2) on 127.0.0.1,
//! which has no referrers API: the fallback tag `sha256-<hex>` is what holds them, and
//! skopeo and the registry's own storage are the independent readers.

mod support;

use std::collections::BTreeSet;

use serde_json::Value;
use support::advisories::Db;
use support::registry::{Mode, Registry};
use support::schema::validate;
use support::{pare, test_image};

/// Removes the engine tag the build makes, whatever the test's outcome.
struct RemoveImage(String);

impl Drop for RemoveImage {
    fn drop(&mut self) {
        support::docker(&["rmi", "-f", &self.0]);
    }
}

/// The artifact types pare attaches, in the order it attaches them.
const TYPES: [&str; 6] = [
    "application/spdx+json",
    "application/vnd.cyclonedx+json",
    "application/openvex+json",
    "application/vnd.pare.seccomp-profile.v1+json",
    "application/vnd.pare.build-report.v2+json",
    "application/vnd.in-toto+json",
];

fn raw_json(registry: &Registry, name: &str) -> Value {
    let run = registry.skopeo_inspect(name, true).success();
    serde_json::from_str(&run.stdout()).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The manifest digest skopeo reports for `name`.
fn digest_of(registry: &Registry, name: &str) -> String {
    registry.skopeo_inspect(name, false).success().json()["Digest"]
        .as_str()
        .expect("a digest")
        .to_owned()
}

/// (id, package, version) of every finding of a `pare scan --format json`.
fn findings(scan: &Value) -> BTreeSet<(String, String, String)> {
    scan["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            let s = |v: &Value| v.as_str().unwrap_or_default().to_owned();
            (
                s(&f["id"]),
                s(&f["package"]["name"]),
                s(&f["package"]["version"]),
            )
        })
        .collect()
}

#[test]
fn a_pushed_slim_image_carries_its_evidence_and_every_verb_finds_it() {
    if support::skip_without_engine() {
        return;
    }
    let vulnapp = test_image("vulnapp");
    let registry = Registry::start(Mode::Plain);
    registry.push_with_skopeo(&vulnapp.archive_ref(), "team/vulnapp:1");
    let db = Db::new();
    let reports = support::temp_dir();
    let report_dir = reports.path().join("report");
    let tag = format!("pare-test-evidence/vulnapp:{}", std::process::id());
    let _remove = RemoveImage(tag.clone());
    let build = {
        let _lock = support::port_lock();
        pare(&[
            "build",
            &registry.image("team/vulnapp:1"),
            "--output",
            &registry.image("team/vulnapp:1-slim"),
            "--db",
            db.arg(),
            "--tag",
            &tag,
            "--report-dir",
            report_dir.to_str().unwrap(),
        ])
    };
    assert_eq!(build.code(), Some(0), "{}", build.explain());

    // skopeo lists the referrers under the fallback tag: an OCI index of six artifact
    // manifests, one of each type.
    let slim = digest_of(&registry, "team/vulnapp:1-slim");
    let hex = slim.trim_start_matches("sha256:");
    let fallback = format!("team/vulnapp:sha256-{hex}");
    assert!(
        build
            .stderr()
            .contains(&format!("fallback tag sha256-{hex}")),
        "{}",
        build.explain()
    );
    let index = raw_json(&registry, &fallback);
    assert_eq!(
        index["mediaType"],
        "application/vnd.oci.image.index.v1+json"
    );
    let listed = index["manifests"].as_array().expect("manifests");
    let types: Vec<&str> = listed
        .iter()
        .map(|m| m["artifactType"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(types, TYPES);

    // Each is an artifact manifest on the slim image; its one layer, read from the
    // registry's storage, is the document, valid against its schema.
    let mut documents = Vec::new();
    for entry in listed {
        let digest = entry["digest"].as_str().unwrap();
        let manifest = raw_json(&registry, &format!("team/vulnapp@{digest}"));
        assert_eq!(manifest["artifactType"], entry["artifactType"]);
        assert_eq!(
            manifest["config"]["mediaType"],
            "application/vnd.oci.empty.v1+json"
        );
        assert_eq!(manifest["config"]["size"], 2);
        assert_eq!(manifest["subject"]["digest"], slim.as_str());
        let layers = manifest["layers"].as_array().expect("layers");
        assert_eq!(layers.len(), 1, "{manifest}");
        let bytes = std::fs::read(registry.blob_file(layers[0]["digest"].as_str().unwrap()))
            .expect("the layer blob is in the registry");
        documents.push((
            bytes.clone(),
            serde_json::from_slice::<Value>(&bytes).unwrap(),
        ));
    }
    validate("spdx-2.3-schema.json", &documents[0].1);
    validate("cyclonedx/bom-1.6.schema.json", &documents[1].1);
    let vex = &documents[2].1;
    validate("openvex_json_schema.json", vex);
    // The VEX names the pushed image by its digest purl, its packages as subcomponents.
    let image_purl = format!(
        "pkg:oci/vulnapp@sha256%3A{hex}?repository_url={}/team/vulnapp",
        registry.host
    );
    for statement in vex["statements"].as_array().unwrap() {
        assert!(
            statement["products"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["@id"] == image_purl.as_str() && p["subcomponents"].is_array()),
            "{statement}"
        );
    }
    assert_eq!(
        documents[3].0,
        std::fs::read(report_dir.join("seccomp.json")).unwrap()
    );
    assert_eq!(
        documents[4].0,
        std::fs::read(report_dir.join("report.json")).unwrap()
    );
    // No JSON schema of in-toto statements or SLSA provenance is published (both are
    // protobuf definitions): the fields the specs require, checked by hand.
    assert_eq!(
        listed[5]["annotations"]["in-toto.io/predicate-type"],
        "https://slsa.dev/provenance/v1"
    );
    let provenance = &documents[5].1;
    assert_eq!(provenance["_type"], "https://in-toto.io/Statement/v1");
    assert_eq!(
        provenance["predicateType"],
        "https://slsa.dev/provenance/v1"
    );
    assert_eq!(provenance["subject"][0]["digest"]["sha256"], hex);
    let predicate = &provenance["predicate"];
    assert!(
        predicate["buildDefinition"]["buildType"]
            .as_str()
            .unwrap()
            .contains(':')
    );
    assert!(predicate["buildDefinition"]["externalParameters"]["probes"].is_array());
    let original = digest_of(&registry, "team/vulnapp:1");
    let dependency = &predicate["buildDefinition"]["resolvedDependencies"][0];
    assert_eq!(
        dependency["digest"]["sha256"],
        original.trim_start_matches("sha256:")
    );
    assert_eq!(
        predicate["runDetails"]["builder"]["id"],
        "urn:pare:builder:pare"
    );
    assert_eq!(
        predicate["runDetails"]["builder"]["version"]["pare"],
        env!("CARGO_PKG_VERSION")
    );

    // A scan of the pushed slim image applies the attached VEX, says so, and reports
    // exactly what a scan of the original with the build's VEX reports.
    let vex_file = report_dir.join("vex.openvex.json");
    let scan_slim = db.scan(
        &registry.image("team/vulnapp:1-slim"),
        &["--format", "json"],
    );
    assert!(
        scan_slim
            .stderr()
            .contains("applying the OpenVEX document attached to the image"),
        "{}",
        scan_slim.explain()
    );
    let scan_original = db.scan(
        &registry.image("team/vulnapp:1"),
        &["--format", "json", "--vex", vex_file.to_str().unwrap()],
    );
    let (slim_findings, original_findings) =
        (findings(&scan_slim.json()), findings(&scan_original.json()));
    assert!(!original_findings.is_empty());
    assert_eq!(slim_findings, original_findings);
    let suppressed = scan_original.json()["summary"]["suppressed"]
        .as_u64()
        .unwrap();
    assert!(suppressed > 0);

    // The attached VEX is what suppresses: attached to the original too (as `oras
    // attach` would), a plain scan of it suppresses what --vex did.
    let original_ref =
        pare_image::registry::RegistryRef::parse(&format!("{}/team/vulnapp:1", registry.host))
            .unwrap();
    let registries = pare_image::registry::Registries::default();
    let subject = pare_image::referrers::subject(&registries, &original_ref).unwrap();
    pare_image::referrers::attach(
        &registries,
        &original_ref,
        &subject,
        &[pare_image::referrers::Artifact {
            artifact_type: "application/openvex+json".into(),
            media_type: "application/openvex+json".into(),
            title: "vex.openvex.json".into(),
            annotations: Default::default(),
            bytes: std::fs::read(&vex_file).unwrap(),
        }],
    )
    .unwrap();
    let plain = db.scan(&registry.image("team/vulnapp:1"), &["--format", "json"]);
    assert_eq!(findings(&plain.json()), original_findings);
    assert_eq!(plain.json()["summary"]["suppressed"], suppressed);
    let unapplied = db.scan(
        &registry.image("team/vulnapp:1"),
        &["--format", "json", "--no-attached-vex"],
    );
    assert_eq!(unapplied.json()["summary"]["suppressed"], 0);
    assert!(findings(&unapplied.json()).len() > original_findings.len());

    // `pare copy --all-referrers` carries them to a second registry; skopeo sees the
    // same index there. Without the flag, none go.
    let second = Registry::start(Mode::Plain);
    let copied = pare(&[
        "copy",
        "--all-referrers",
        &registry.image("team/vulnapp:1-slim"),
        &second.image("prod/vulnapp:1"),
    ])
    .success();
    assert!(
        copied.stdout().contains("referrers: 6 copied"),
        "{}",
        copied.explain()
    );
    let there = raw_json(&second, &format!("prod/vulnapp:sha256-{hex}"));
    let digests = |index: &Value| -> Vec<String> {
        index["manifests"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["digest"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(digests(&there), digests(&index));
    pare(&[
        "copy",
        &registry.image("team/vulnapp:1-slim"),
        &second.image("bare/vulnapp:1"),
    ])
    .success();
    second
        .skopeo_inspect(&format!("bare/vulnapp:sha256-{hex}"), true)
        .exits(1);

    // pare diff compares what is attached, by type: the copy has the same documents
    // (nothing changed: exit 0); against the original (which now has only the VEX
    // attached, unscoped) five are added and the VEX changed (exit 1).
    let same = pare(&[
        "diff",
        "--format",
        "json",
        &registry.image("team/vulnapp:1-slim"),
        &second.image("prod/vulnapp:1"),
    ]);
    assert_eq!(same.code(), Some(0), "{}", same.explain());
    assert_eq!(same.json()["attached"]["same"].as_array().unwrap().len(), 6);
    let changed = pare(&[
        "diff",
        "--format",
        "json",
        &registry.image("team/vulnapp:1"),
        &registry.image("team/vulnapp:1-slim"),
    ])
    .exits(1)
    .json();
    assert_eq!(changed["attached"]["added"].as_array().unwrap().len(), 5);
    assert_eq!(
        changed["attached"]["changed"],
        serde_json::json!(["application/openvex+json"])
    );

    // xray lists them; sbom --attached prints the SBOM byte for byte.
    let xray = pare(&["xray", "--json", &second.image("prod/vulnapp:1")])
        .success()
        .json();
    let attached: Vec<&str> = xray["attached"]["referrers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["artifactType"].as_str().unwrap())
        .collect();
    assert_eq!(attached, TYPES);
    assert_eq!(xray["attached"]["listing"], "fallback-tag");
    let spdx = pare(&[
        "sbom",
        "--attached",
        "--format",
        "spdx",
        &second.image("prod/vulnapp:1"),
    ])
    .success();
    assert_eq!(
        spdx.stdout().trim_end().as_bytes(),
        documents[0].0.trim_ascii_end()
    );
    pare(&["sbom", "--attached", &second.image("bare/vulnapp:1")]).exits(2);
}

/// A registry with the referrers API, for the path Debian's docker-registry 2.8.2 does
/// not take: no registry that has it (zot, distribution 3, Harbor) can be installed
/// here, so this puts the API in front of a real docker-registry. Every request is
/// passed on; a manifest put with a `subject` is remembered and answered with
/// `OCI-Subject`, as spec 1.1 has registries do, and `GET /v2/NAME/referrers/DIGEST`
/// answers the index of what was remembered.
fn with_referrers_api(behind: &Registry) -> support::fake_registry::Server {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};
    use support::fake_registry::{Reply, Server};
    let behind = behind.host.clone();
    let known: Arc<Mutex<HashMap<String, Vec<Value>>>> = Arc::default();
    Server::start(move |request| {
        if let Some((_, subject)) = request.path().rsplit_once("/referrers/") {
            let manifests = known
                .lock()
                .unwrap()
                .get(subject)
                .cloned()
                .unwrap_or_default();
            let index = serde_json::json!({
                "schemaVersion": 2,
                "mediaType": "application/vnd.oci.image.index.v1+json",
                "manifests": manifests,
            });
            return Reply::ok(
                index.to_string().as_bytes(),
                "application/vnd.oci.image.index.v1+json",
            );
        }
        let mut reply = forward(&behind, request);
        let manifest: Option<Value> = (request.method == "PUT" && reply.status == 201)
            .then(|| serde_json::from_slice(&request.body).ok())
            .flatten();
        if let Some(subject) = manifest
            .as_ref()
            .and_then(|m| m["subject"]["digest"].as_str())
        {
            let m = manifest.as_ref().unwrap();
            known
                .lock()
                .unwrap()
                .entry(subject.to_owned())
                .or_default()
                .push(serde_json::json!({
                    "mediaType": m["mediaType"],
                    "digest": format!("sha256:{}", sha256_hex(&request.body)),
                    "size": request.body.len(),
                    "artifactType": m["artifactType"],
                    "annotations": m["annotations"],
                }));
            reply = reply.header("OCI-Subject", subject);
        }
        reply
    })
}

fn sha256_hex(bytes: &[u8]) -> String {
    pare_image::Digest::of(bytes).hex().to_owned()
}

/// Passes `request` on to `host` and brings its answer back.
fn forward(host: &str, request: &support::fake_registry::Request) -> support::fake_registry::Reply {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(host).expect("the registry behind");
    let mut head = format!("{} {} HTTP/1.1\r\n", request.method, request.target);
    for (k, v) in &request.headers {
        if !["connection", "content-length"].contains(&k.to_ascii_lowercase().as_str()) {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        request.body.len()
    ));
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(&request.body).unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).unwrap();
    let end = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("an HTTP answer");
    let head = String::from_utf8_lossy(&answer[..end]).into_owned();
    let mut body = answer[end + 4..].to_vec();
    let mut lines = head.lines();
    let status: u16 = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .expect("a status");
    let mut reply = support::fake_registry::Reply::status(status);
    let mut chunked = false;
    for line in lines {
        let Some((k, v)) = line.split_once(':') else {
            continue;
        };
        let (k, v) = (k.trim(), v.trim());
        match k.to_ascii_lowercase().as_str() {
            "transfer-encoding" => chunked = v.eq_ignore_ascii_case("chunked"),
            "content-length" | "connection" => {}
            _ => reply = reply.header(k, v),
        }
    }
    if chunked {
        let mut plain = Vec::new();
        let mut rest = &body[..];
        while let Some(line_end) = rest.windows(2).position(|w| w == b"\r\n") {
            let size = usize::from_str_radix(
                String::from_utf8_lossy(&rest[..line_end])
                    .split(';')
                    .next()
                    .unwrap()
                    .trim(),
                16,
            )
            .unwrap();
            if size == 0 {
                break;
            }
            plain.extend_from_slice(&rest[line_end + 2..line_end + 2 + size]);
            rest = &rest[line_end + 2 + size + 2..];
        }
        body = plain;
    }
    reply.body(&body)
}

/// Where the registry has the referrers API, pare uses it and writes no fallback tag:
/// `pare copy --all-referrers` from docker-registry (fallback tag) to a registry with
/// the API, then `pare xray` reads them from the API.
#[test]
fn a_registry_with_the_referrers_api_is_used_and_gets_no_fallback_tag() {
    use pare_image::referrers::{self, Artifact, Listing};
    let cli = test_image("cli");
    let plain = Registry::start(Mode::Plain);
    plain.push_with_skopeo(&cli.archive_ref(), "app:1");
    let behind = Registry::start(Mode::Plain);
    let api = with_referrers_api(&behind);
    let source =
        pare_image::registry::RegistryRef::parse(&format!("{}/app:1", plain.host)).unwrap();
    let registries = pare_image::registry::Registries::default();
    let subject = referrers::subject(&registries, &source).unwrap();
    let artifacts: Vec<Artifact> = ["application/spdx+json", "application/openvex+json"]
        .iter()
        .map(|t| Artifact {
            artifact_type: (*t).into(),
            media_type: (*t).into(),
            title: format!("doc-{}", t.len()),
            annotations: Default::default(),
            bytes: format!("{{\"type\": \"{t}\"}}").into_bytes(),
        })
        .collect();
    let (_, listing) = referrers::attach(&registries, &source, &subject, &artifacts).unwrap();
    assert_eq!(listing, Listing::FallbackTag);

    let destination = format!("docker://{}/team/app:1", api.host);
    let copied = pare(&[
        "copy",
        "--all-referrers",
        &plain.image("app:1"),
        &destination,
    ])
    .success();
    assert!(
        copied.stdout().contains("referrers: 2 copied"),
        "{}",
        copied.explain()
    );
    let tag = format!("sha256-{}", subject.digest.hex());
    assert!(
        !api.requests()
            .iter()
            .any(|r| r.method == "PUT" && r.path().ends_with(&tag)),
        "a fallback tag was written to a registry with the referrers API"
    );
    behind
        .skopeo_inspect(&format!("team/app:{tag}"), true)
        .exits(1);
    let xray = pare(&["xray", "--json", &destination]).success().json();
    assert_eq!(xray["attached"]["listing"], "referrers-api");
    let types: Vec<&str> = xray["attached"]["referrers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["artifactType"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["application/spdx+json", "application/openvex+json"]);
    assert!(
        api.requests()
            .iter()
            .any(|r| r.method == "GET" && r.path().contains("/referrers/sha256:")),
    );
}

/// A registry whose fallback tag holds a broken index (a descriptor without a digest):
/// `pare sbom --attached` fails naming where, exit 2; `pare xray` and `pare scan`,
/// which read the image anyway, warn and go on.
#[test]
fn a_broken_referrers_index_is_named_and_does_not_stop_xray() {
    use support::fake_registry::{Reply, Server, TinyImage};
    let image = TinyImage::new();
    let fallback = format!("/manifests/{}", image.manifest_digest.replace(':', "-"));
    let registry = Server::start(move |r| {
        if r.path().contains("/referrers/") {
            return Reply::status(404);
        }
        if r.path().ends_with(&fallback) {
            return Reply::ok(
                br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":10,"artifactType":"application/vnd.cyclonedx+json"}]}"#,
                "application/vnd.oci.image.index.v1+json",
            );
        }
        image.answer(r).unwrap_or(Reply::status(404))
    });
    let reference = format!("docker://{}/app:1", registry.host);
    let refused = pare(&["sbom", "--attached", &reference]).exits(2);
    assert!(
        refused.stderr().contains(":sha256-") && refused.stderr().contains("without a digest"),
        "{}",
        refused.explain()
    );
    let xray = pare(&["xray", &reference]).success();
    assert!(
        xray.stderr().contains("warning") && xray.stderr().contains("without a digest"),
        "{}",
        xray.explain()
    );
    assert!(!xray.stdout().contains("Attached"), "{}", xray.explain());
}

/// An attached SBOM is printed as attached only when it is JSON without control
/// characters a terminal could act on: one holding U+009B (a C1 CSI) is refused.
#[test]
fn an_attached_sbom_with_terminal_controls_is_not_printed() {
    use support::fake_registry::{Reply, Server, TinyImage};
    let image = TinyImage::new();
    let layer = "{\"bomFormat\": \"CycloneDX\", \"x\": \"\u{9b}31m\"}"
        .as_bytes()
        .to_vec();
    let layer_digest = format!("sha256:{}", sha256_hex(&layer));
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "artifactType": "application/vnd.cyclonedx+json",
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": format!("sha256:{}", sha256_hex(b"{}")), "size": 2},
        "layers": [{"mediaType": "application/vnd.cyclonedx+json", "digest": layer_digest, "size": layer.len()}],
        "subject": {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": image.manifest_digest, "size": image.manifest.len()},
    })
    .to_string()
    .into_bytes();
    let manifest_digest = format!("sha256:{}", sha256_hex(&manifest));
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": manifest_digest, "size": manifest.len(), "artifactType": "application/vnd.cyclonedx+json"}],
    })
    .to_string()
    .into_bytes();
    let fallback = format!("/manifests/{}", image.manifest_digest.replace(':', "-"));
    let registry = Server::start(move |r| {
        let path = r.path();
        if path.contains("/referrers/") {
            Reply::status(404)
        } else if path.ends_with(&fallback) {
            Reply::ok(&index, "application/vnd.oci.image.index.v1+json")
        } else if path.ends_with(&format!("/manifests/{manifest_digest}")) {
            Reply::ok(&manifest, "application/vnd.oci.image.manifest.v1+json")
        } else if path.ends_with(&format!("/blobs/{layer_digest}")) {
            Reply::ok(&layer, "application/octet-stream")
        } else {
            image.answer(r).unwrap_or(Reply::status(404))
        }
    });
    let reference = format!("docker://{}/app:1", registry.host);
    let refused = pare(&["sbom", "--attached", &reference]).exits(2);
    assert!(refused.stdout().is_empty());
    assert!(
        refused.stderr().contains("control characters"),
        "{}",
        refused.explain()
    );
    // xray lists it, its type escaped like any text from the image.
    let xray = pare(&["xray", &reference]).success();
    assert!(
        xray.stdout().contains("application/vnd.cyclonedx+json"),
        "{}",
        xray.explain()
    );
}
