//! npm packages: every `node_modules/[@scope/]NAME/package.json`, Debian's
//! `/usr/share/nodejs/[@scope/]NAME` (and `/usr/lib/nodejs`), and what lock files
//! (`package-lock.json`, npm's hidden `node_modules/.package-lock.json`, `yarn.lock`)
//! declare but is not installed. A package owns every file below its directory except
//! its own nested `node_modules`.

use std::collections::HashSet;

use pare_image::EntryKind;
use serde_json::Value;

use crate::context::Context;
use crate::package::{Ecosystem, Package};
use crate::purl::Purl;

const DEBIAN_ROOTS: [&str; 2] = ["/usr/share/nodejs/", "/usr/lib/nodejs/"];
const LOCK_FILES: [&str; 3] = ["package-lock.json", ".package-lock.json", "yarn.lock"];

pub(crate) fn wants(path: &str) -> bool {
    path.ends_with("/package.json")
        || path
            .rsplit_once('/')
            .is_some_and(|(_, name)| LOCK_FILES.contains(&name))
}

/// The package directory of a `package.json` that makes an installed package.
fn package_dir(path: &str) -> Option<&str> {
    let dir = path.strip_suffix("/package.json")?;
    let (parent, name) = dir.rsplit_once('/')?;
    if name.starts_with('.') || name.is_empty() {
        return None;
    }
    let container = match parent.rsplit_once('/') {
        Some((above, scope)) if scope.starts_with('@') => above,
        _ => parent,
    };
    let installed = container.ends_with("/node_modules")
        || DEBIAN_ROOTS
            .iter()
            .any(|root| format!("{container}/") == *root);
    installed.then_some(dir)
}

/// The directory of a project's own `package.json` (outside any `node_modules`): one
/// that has its dependencies installed beside it or a lock file. The application in
/// an image is a component of it too.
fn project_dir<'p>(cx: &Context, path: &'p str) -> Option<&'p str> {
    let dir = path.strip_suffix("/package.json")?;
    if dir.contains("/node_modules/") || DEBIAN_ROOTS.iter().any(|r| path.starts_with(r)) {
        return None;
    }
    let has = |name: &str| cx.index.nodes.contains_key(&format!("{dir}/{name}"));
    (has("node_modules") || has("package-lock.json") || has("yarn.lock")).then_some(dir)
}

pub(crate) fn catalog(cx: &mut Context) -> Vec<Package> {
    let manifests: Vec<(String, String)> = cx
        .kept_files()
        .filter_map(|(path, _)| {
            let dir = package_dir(path).or_else(|| project_dir(cx, path))?;
            Some((path.to_owned(), dir.to_owned()))
        })
        .collect();
    let mut packages = Vec::new();
    let mut installed_dirs = HashSet::new();
    for (path, dir) in manifests {
        installed_dirs.insert(dir.clone());
        let Some(json) = read_json(cx, &path) else {
            continue;
        };
        let (Some(name), Some(version)) = (str_field(&json, "name"), str_field(&json, "version"))
        else {
            cx.warn(&path, "package.json without name or version: skipped");
            continue;
        };
        packages.push(Package {
            purl: purl(name, version),
            name: name.to_owned(),
            version: version.to_owned(),
            ecosystem: Ecosystem::Npm,
            arch: None,
            source: None,
            licenses: licenses(&json),
            found_in: path.clone(),
            files: cx.owned_files(files_below(cx, &dir).map(|p| (p, None))),
        });
    }
    let locks: Vec<String> = cx
        .kept_files()
        .filter(|(path, _)| {
            path.rsplit_once('/')
                .is_some_and(|(_, name)| LOCK_FILES.contains(&name))
        })
        .map(|(path, _)| path.to_owned())
        .collect();
    for lock in locks {
        packages.extend(declared_not_installed(cx, &lock, &installed_dirs));
    }
    packages
}

fn read_json(cx: &mut Context, path: &str) -> Option<Value> {
    let bytes = cx.content(path)?;
    match serde_json::from_slice::<Value>(bytes) {
        Ok(v) if v.is_object() => Some(v),
        Ok(_) => {
            cx.warn(path, "not a JSON object: skipped");
            None
        }
        Err(e) => {
            cx.warn(path, format!("not valid JSON ({e}): skipped"));
            None
        }
    }
}

fn str_field<'a>(json: &'a Value, key: &str) -> Option<&'a str> {
    json.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// `pkg:npm/%40scope/name@version`.
fn purl(name: &str, version: &str) -> String {
    match name.split_once('/') {
        Some((scope, bare)) if scope.starts_with('@') => {
            Purl::new("npm", bare, version).namespace(scope).to_string()
        }
        _ => Purl::new("npm", name, version).to_string(),
    }
}

/// `"license": "MIT"`, `{"type": "MIT"}`, or the old `"licenses": [{"type": …}]`.
fn licenses(json: &Value) -> Vec<String> {
    let one = |v: &Value| -> Option<String> {
        v.as_str()
            .or_else(|| v.get("type").and_then(Value::as_str))
            .map(str::to_owned)
    };
    if let Some(l) = json.get("license").and_then(one) {
        return vec![l];
    }
    json.get("licenses")
        .and_then(Value::as_array)
        .map(|ls| ls.iter().filter_map(one).collect())
        .unwrap_or_default()
}

/// Every non-directory path below `dir`, leaving out nested `node_modules`.
fn files_below<'a>(cx: &Context<'a>, dir: &str) -> impl Iterator<Item = String> + 'a {
    let nested = format!("{dir}/node_modules/");
    cx.index
        .descendants(dir)
        .filter(move |(p, n)| n.kind != EntryKind::Dir && !p.starts_with(&nested))
        .map(|(p, _)| p.clone())
}

/// Packages a lock file declares whose install directory holds no package.
fn declared_not_installed(
    cx: &mut Context,
    lock: &str,
    installed: &HashSet<String>,
) -> Vec<Package> {
    let (dir, name) = lock.rsplit_once('/').unwrap_or(("", lock));
    // The hidden lock file sits in node_modules; its paths are relative to the project.
    let root = if name == ".package-lock.json" {
        dir.strip_suffix("/node_modules").unwrap_or(dir)
    } else {
        dir
    };
    let declared = if name == "yarn.lock" {
        cx.text(lock)
            .map(|t| parse_yarn_lock(&t))
            .unwrap_or_default()
    } else {
        match read_json(cx, lock) {
            Some(json) => parse_package_lock(&json),
            None => return Vec::new(),
        }
    };
    let mut seen = HashSet::new();
    declared
        .into_iter()
        .filter(|d| {
            let at = d
                .install_path
                .clone()
                .unwrap_or_else(|| format!("node_modules/{}", d.name));
            !installed.contains(&format!("{root}/{at}"))
                && seen.insert((d.name.clone(), d.version.clone()))
        })
        .map(|d| Package {
            purl: purl(&d.name, &d.version),
            name: d.name,
            version: d.version,
            ecosystem: Ecosystem::Npm,
            arch: None,
            source: None,
            licenses: d.license.into_iter().collect(),
            found_in: lock.to_owned(),
            files: Vec::new(),
        })
        .collect()
}

/// A package a lock file names.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Declared {
    name: String,
    version: String,
    /// Relative to the project root (`node_modules/a/node_modules/b`).
    install_path: Option<String>,
    license: Option<String>,
}

/// lockfileVersion 2/3 (`packages`) or 1 (nested `dependencies`).
fn parse_package_lock(json: &Value) -> Vec<Declared> {
    let mut out = Vec::new();
    if let Some(packages) = json.get("packages").and_then(Value::as_object) {
        for (path, entry) in packages {
            let Some(tail) = path
                .rsplit("node_modules/")
                .next()
                .filter(|_| !path.is_empty())
            else {
                continue;
            };
            if entry.get("link").and_then(Value::as_bool) == Some(true) {
                continue;
            }
            let name = str_field(entry, "name").unwrap_or(tail);
            if let Some(version) = str_field(entry, "version") {
                out.push(Declared {
                    name: name.to_owned(),
                    version: version.to_owned(),
                    install_path: Some(path.clone()),
                    license: str_field(entry, "license").map(str::to_owned),
                });
            }
        }
        return out;
    }
    fn walk(deps: &Value, prefix: &str, out: &mut Vec<Declared>) {
        let Some(deps) = deps.as_object() else { return };
        for (name, entry) in deps {
            let path = format!("{prefix}node_modules/{name}");
            if let Some(version) = str_field(entry, "version") {
                out.push(Declared {
                    name: name.clone(),
                    version: version.to_owned(),
                    install_path: Some(path.clone()),
                    license: None,
                });
            }
            if let Some(nested) = entry.get("dependencies") {
                walk(nested, &format!("{path}/"), out);
            }
        }
    }
    if let Some(deps) = json.get("dependencies") {
        walk(deps, "", &mut out);
    }
    out
}

/// yarn v1: `"a@^1.0.0", a@^1.1.0:` headers, then an indented `version "1.2.3"`.
fn parse_yarn_lock(text: &str) -> Vec<Declared> {
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        if !line.starts_with([' ', '#']) && line.ends_with(':') {
            let first = line.trim_end_matches(':').split(", ").next().unwrap_or("");
            let spec = first.trim_matches('"');
            // `@scope/name@range`: the name ends at the last `@` past the first character.
            current = spec
                .get(1..)
                .and_then(|rest| rest.rfind('@'))
                .map(|at| spec[..at + 1].to_owned());
        } else if let (Some(name), Some(v)) = (&current, line.trim().strip_prefix("version ")) {
            out.push(Declared {
                name: name.clone(),
                version: v.trim().trim_matches('"').to_owned(),
                install_path: None,
                license: None,
            });
            current = None;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::testing::{evidence_text, identities};
    use pare_image::testutil::TarItem;

    fn run(items: &[TarItem]) -> (Vec<Package>, Vec<crate::Warning>) {
        crate::catalog::testing::run_cataloger(items, catalog)
    }

    #[test]
    fn package_dirs() {
        assert_eq!(
            package_dir("/app/node_modules/minimist/package.json"),
            Some("/app/node_modules/minimist")
        );
        assert_eq!(
            package_dir("/app/node_modules/@types/node/package.json"),
            Some("/app/node_modules/@types/node")
        );
        assert_eq!(
            package_dir("/usr/share/nodejs/acorn/package.json"),
            Some("/usr/share/nodejs/acorn")
        );
        assert_eq!(package_dir("/app/node_modules/x/lib/package.json"), None);
        assert_eq!(
            package_dir("/app/package.json"),
            None,
            "a project, not installed"
        );
        assert_eq!(package_dir("/app/node_modules/.bin/package.json"), None);
    }

    #[test]
    fn real_minimist_owns_its_tarball_files_not_nested_modules() {
        let mut items = Vec::new();
        let listed: Vec<String> = evidence_text("npm/minimist-1.2.5.tarball-files.txt")
            .lines()
            .filter_map(|l| l.split_once(' ').map(|(_, p)| p.to_owned()))
            .collect();
        for rel in &listed {
            let path = rel.replacen("package/", "app/node_modules/minimist/", 1);
            let content = if rel == "package/package.json" {
                evidence_text("npm/minimist-1.2.5.package.json")
            } else {
                "x".into()
            };
            items.push(TarItem::file(&path, content.as_bytes(), 0o644));
        }
        items.push(TarItem::file(
            "app/node_modules/minimist/node_modules/inner/package.json",
            br#"{"name":"inner","version":"0.1.0","license":{"type":"ISC"}}"#,
            0o644,
        ));
        let (packages, warnings) = run(&items);
        assert!(warnings.is_empty(), "{warnings:?}");
        let minimist = packages.iter().find(|p| p.name == "minimist").unwrap();
        assert_eq!(minimist.purl, "pkg:npm/minimist@1.2.5");
        assert_eq!(minimist.licenses, ["MIT"]);
        assert_eq!(minimist.files.len(), listed.len());
        let inner = packages.iter().find(|p| p.name == "inner").unwrap();
        assert_eq!(inner.licenses, ["ISC"]);
        assert_eq!(inner.files.len(), 1);
    }

    #[test]
    fn non_json_package_json_is_a_warning_and_lock_files_fill_gaps() {
        let (packages, warnings) = run(&[
            TarItem::file(
                "app/node_modules/broken/package.json",
                b"{ this is not json",
                0o644,
            ),
            TarItem::file(
                "app/node_modules/@scope/ok/package.json",
                br#"{"name":"@scope/ok","version":"2.0.0"}"#,
                0o644,
            ),
            TarItem::file(
                "app/package-lock.json",
                br#"{"lockfileVersion":3,"packages":{"":{"name":"app"},
                    "node_modules/@scope/ok":{"version":"2.0.0"},
                    "node_modules/missing":{"version":"1.0.0","license":"MIT"},
                    "node_modules/missing/node_modules/deep":{"version":"3.0.0"}}}"#,
                0o644,
            ),
            TarItem::file(
                "app/package.json",
                br#"{"name":"app","version":"0.1.0"}"#,
                0o644,
            ),
            TarItem::file("app/server.js", b"", 0o644),
            // Not a project: no dependencies installed beside it, no lock file.
            TarItem::file(
                "srv/package.json",
                br#"{"name":"srv","version":"1.0.0"}"#,
                0o644,
            ),
            TarItem::file(
                "web/yarn.lock",
                b"# yarn lockfile v1\n\n\"@babel/core@^7.0.0\", \"@babel/core@^7.1.0\":\n  \
                  version \"7.2.0\"\n  resolved \"x\"\n\nleft-pad@^1.3.0:\n  version \"1.3.0\"\n",
                0o644,
            ),
        ]);
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert_eq!(warnings[0].path, "/app/node_modules/broken/package.json");

        assert_eq!(
            identities(&packages),
            [
                ("@scope/ok", "2.0.0", "pkg:npm/%40scope/ok@2.0.0"),
                ("app", "0.1.0", "pkg:npm/app@0.1.0"),
                ("missing", "1.0.0", "pkg:npm/missing@1.0.0"),
                ("deep", "3.0.0", "pkg:npm/deep@3.0.0"),
                ("@babel/core", "7.2.0", "pkg:npm/%40babel/core@7.2.0"),
                ("left-pad", "1.3.0", "pkg:npm/left-pad@1.3.0"),
            ]
        );
    }
}
