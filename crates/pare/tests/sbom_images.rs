//! `pare sbom` on the real test images, checked against what the package managers
//! themselves report inside a container of the same image, and its CycloneDX and SPDX
//! documents against the official schemas.

mod support;

use std::collections::BTreeSet;

use serde_json::Value;
use support::schema::validate;
use support::{in_container, pare, temp_dir, test_image};

fn sbom_json(reference: &str) -> Value {
    pare(&["sbom", "--format", "json", reference])
        .success()
        .json()
}

/// (name, version) of the packages of one ecosystem.
fn packages(sbom: &Value, ecosystem: &str) -> BTreeSet<(String, String)> {
    sbom["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .filter(|p| p["ecosystem"] == ecosystem)
        .map(|p| {
            (
                p["name"].as_str().unwrap_or_default().to_owned(),
                p["version"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

fn package<'a>(sbom: &'a Value, ecosystem: &str, name: &str) -> &'a Value {
    sbom["packages"]
        .as_array()
        .and_then(|ps| {
            ps.iter()
                .find(|p| p["ecosystem"] == ecosystem && p["name"] == name)
        })
        .unwrap_or_else(|| panic!("no {ecosystem} package {name}"))
}

fn files(p: &Value) -> BTreeSet<String> {
    p["files"]
        .as_array()
        .expect("files")
        .iter()
        .map(|f| f["path"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// Lines of `NAME VERSION` printed by a command in a throwaway container.
fn pairs_from_container(
    image: &str,
    entrypoint: &str,
    args: &[&str],
) -> BTreeSet<(String, String)> {
    in_container(image, entrypoint, args)
        .stdout()
        .lines()
        .filter_map(|l| {
            let (n, v) = l.split_once(' ')?;
            Some((n.to_owned(), v.to_owned()))
        })
        .collect()
}

#[test]
fn flask_dpkg_packages_equal_dpkg_query_in_the_container() {
    if support::skip_without_engine() {
        return;
    }
    let flask = test_image("flask");
    let expected = pairs_from_container(
        &flask.image,
        "dpkg-query",
        &["-W", "-f", "${Package} ${Version}\n"],
    );
    assert!(expected.len() > 100, "{expected:?}");
    let sbom = sbom_json(&flask.archive_ref());
    assert_eq!(packages(&sbom, "deb"), expected);
    assert_eq!(sbom["distro"]["id"], "debian");
    assert_eq!(sbom["distro"]["version_id"], "12");
}

#[test]
fn flask_pip_packages_equal_pip_list_in_the_venv() {
    if support::skip_without_engine() {
        return;
    }
    let flask = test_image("flask");
    let run = in_container(
        &flask.image,
        "/opt/venv/bin/pip",
        &["list", "--format", "json", "--disable-pip-version-check"],
    );
    let listed: Value = serde_json::from_str(&run.stdout()).expect("pip list JSON");
    let expected: BTreeSet<(String, String)> = listed
        .as_array()
        .expect("array")
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap_or_default().to_owned(),
                p["version"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert!(expected.len() >= 10, "{expected:?}");
    let sbom = sbom_json(&flask.archive_ref());
    assert_eq!(packages(&sbom, "python"), expected);
    let flask_pkg = package(&sbom, "python", "Flask");
    assert_eq!(
        flask_pkg["purl"],
        format!("pkg:pypi/flask@{}", flask_pkg["version"].as_str().unwrap())
    );
    let owned = files(flask_pkg);
    assert!(owned.contains("/opt/venv/bin/flask"), "{owned:?}");
    assert!(
        owned.contains("/opt/venv/lib/python3.11/site-packages/flask/app.py"),
        "{owned:?}"
    );
}

#[test]
fn flask_ownership_through_usr_merge() {
    if support::skip_without_engine() {
        return;
    }
    let flask = test_image("flask");
    let sbom = sbom_json(&flask.archive_ref());
    let stdlib = package(&sbom, "deb", "libpython3.11-stdlib");
    assert!(files(stdlib).contains("/usr/lib/python3.11/mailcap.py"));
    assert_eq!(stdlib["source"]["name"], "python3.11");
    // dpkg lists /lib/x86_64-linux-gnu/libz.so.1.2.13; /lib is a link to /usr/lib.
    let zlib = package(&sbom, "deb", "zlib1g");
    let zlib_files = files(zlib);
    assert!(
        zlib_files.contains("/usr/lib/x86_64-linux-gnu/libz.so.1.2.13"),
        "{zlib_files:?}"
    );
    assert!(!zlib_files.contains("/lib"), "{zlib_files:?}");
    assert!(
        zlib["purl"]
            .as_str()
            .unwrap()
            .starts_with("pkg:deb/debian/zlib1g@1%3A1.2.13"),
        "{}",
        zlib["purl"]
    );
    // Every ELF file of the image belongs to some package.
    assert_eq!(sbom["unowned"], Value::Array(vec![]));
    assert_eq!(sbom["warnings"], Value::Array(vec![]));
}

#[test]
fn node_npm_packages_equal_what_node_finds_in_the_container() {
    if support::skip_without_engine() {
        return;
    }
    let node = test_image("node");
    // The app itself, its node_modules (nested and scoped), Debian's /usr/share/nodejs.
    let script = r#"
const fs = require('fs'), path = require('path');
function pkg(dir) {
  try {
    const j = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
    if (j.name && j.version) console.log(j.name + ' ' + j.version);
  } catch (e) {}
}
function modules(dir) {
  let names = [];
  try { names = fs.readdirSync(dir); } catch (e) { return; }
  for (const n of names) {
    if (n.startsWith('.')) continue;
    if (n.startsWith('@')) { for (const s of fs.readdirSync(path.join(dir, n))) one(path.join(dir, n, s)); }
    else one(path.join(dir, n));
  }
}
function one(dir) { pkg(dir); modules(path.join(dir, 'node_modules')); }
pkg('/app');
modules('/app/node_modules');
modules('/usr/share/nodejs');
"#;
    let expected = pairs_from_container(&node.image, "/usr/bin/node", &["-e", script]);
    assert!(expected.len() > 50, "{expected:?}");
    let sbom = sbom_json(&node.archive_ref());
    assert_eq!(packages(&sbom, "npm"), expected);
    let express = package(&sbom, "npm", "express");
    assert!(files(express).contains("/app/node_modules/express/index.js"));
    assert_eq!(express["licenses"][0], "MIT");
}

#[test]
fn transports_agree() {
    if support::skip_without_engine() {
        return;
    }
    let cli = test_image("cli");
    let from_archive = sbom_json(&cli.archive_ref());
    let from_oci = sbom_json(&cli.oci_ref());
    let from_engine = sbom_json(&format!("docker-daemon:{}", cli.image));
    assert_eq!(from_archive["packages"], from_oci["packages"]);
    assert_eq!(from_archive["packages"], from_engine["packages"]);
    assert!(
        packages(&from_archive, "deb")
            .iter()
            .any(|(n, _)| n == "jq")
    );
}

#[test]
fn copied_in_binaries_are_listed_as_unowned() {
    if support::skip_without_engine() {
        return;
    }
    let layers = test_image("layers");
    let sbom = sbom_json(&layers.archive_ref());
    let unowned: BTreeSet<&str> = sbom["unowned"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        unowned,
        BTreeSet::from(["/usr/local/bin/sgidtool", "/usr/local/bin/suidtool"])
    );
}

#[test]
fn every_test_image_documents_validate_too() {
    if support::skip_without_engine() {
        return;
    }
    for name in ["flask", "layers", "nginx", "cli"] {
        let image = test_image(name);
        for (format, schema) in [
            ("cyclonedx", "cyclonedx/bom-1.6.schema.json"),
            ("spdx", "spdx-2.3-schema.json"),
        ] {
            let doc = pare(&["sbom", "--format", format, &image.archive_ref()])
                .success()
                .json();
            validate(schema, &doc);
        }
    }
}

#[test]
fn cyclonedx_and_spdx_validate_against_the_official_schemas() {
    if support::skip_without_engine() {
        return;
    }
    let node = test_image("node");
    let dir = temp_dir();
    for (format, schema, file) in [
        ("cyclonedx", "cyclonedx/bom-1.6.schema.json", "bom.cdx.json"),
        ("spdx", "spdx-2.3-schema.json", "bom.spdx.json"),
    ] {
        let out = dir.path().join(file);
        pare(&[
            "sbom",
            "--format",
            format,
            "--output",
            out.to_str().unwrap(),
            &node.archive_ref(),
        ])
        .success();
        let doc: Value =
            serde_json::from_str(&std::fs::read_to_string(&out).expect("output")).expect("JSON");
        validate(schema, &doc);
        if format == "cyclonedx" {
            let express = doc["components"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["name"] == "express")
                .expect("express component");
            assert_eq!(express["licenses"][0]["license"]["id"], "MIT");
            let locations: Vec<&str> = express["evidence"]["occurrences"]
                .as_array()
                .unwrap()
                .iter()
                .map(|o| o["location"].as_str().unwrap())
                .collect();
            assert!(locations.contains(&"/app/node_modules/express/index.js"));
        } else {
            let contains = doc["relationships"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|r| r["relationshipType"] == "CONTAINS")
                .count();
            let files = doc["files"].as_array().unwrap().len();
            assert!(
                files > 1000 && contains > files,
                "{files} files, {contains}"
            );
        }
    }
    // Only the two documents: no temporary files left beside them.
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(left.len(), 2);
}
