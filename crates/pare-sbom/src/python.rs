//! Python packages: `*.dist-info` (METADATA, RECORD) and `*.egg-info` (PKG-INFO,
//! installed-files.txt, or a single PKG-INFO-format file) anywhere in the image, so
//! virtual environments and Debian's dist-packages are both found.

use crate::context::Context;
use crate::package::{Checksum, Ecosystem, Package};
use crate::purl::Purl;
use crate::rfc822;

pub(crate) fn wants(path: &str) -> bool {
    let Some((dir, name)) = path.rsplit_once('/') else {
        return false;
    };
    (dir.ends_with(".dist-info") && (name == "METADATA" || name == "RECORD"))
        || (dir.ends_with(".egg-info") && (name == "PKG-INFO" || name == "installed-files.txt"))
        || name.ends_with(".egg-info")
}

pub(crate) fn catalog(cx: &mut Context) -> Vec<Package> {
    let metadata: Vec<(String, Form)> = cx
        .kept_files()
        .filter_map(|(path, _)| Some((path.to_owned(), Form::of(path)?)))
        .collect();
    metadata
        .into_iter()
        .filter_map(|(path, form)| package(cx, &path, form))
        .collect()
}

/// Where the metadata of a distribution lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Form {
    /// `X.dist-info/METADATA`
    DistInfo,
    /// `X.egg-info/PKG-INFO`
    EggInfoDir,
    /// `X.egg-info` as one file (distutils)
    EggInfoFile,
}

impl Form {
    fn of(path: &str) -> Option<Form> {
        let (dir, name) = path.rsplit_once('/')?;
        match name {
            "METADATA" if dir.ends_with(".dist-info") => Some(Form::DistInfo),
            "PKG-INFO" if dir.ends_with(".egg-info") => Some(Form::EggInfoDir),
            _ if name.ends_with(".egg-info") => Some(Form::EggInfoFile),
            _ => None,
        }
    }
}

fn package(cx: &mut Context, path: &str, form: Form) -> Option<Package> {
    let text = cx.text(path)?;
    let (paragraphs, _) = rfc822::paragraphs(&text, true);
    let headers = paragraphs.into_iter().next().unwrap_or_default();
    let (Some(name), Some(version)) = (headers.get("Name"), headers.get("Version")) else {
        cx.warn(path, "Python metadata without Name or Version: skipped");
        return None;
    };
    let (name, version) = (name.to_owned(), version.to_owned());
    let meta_dir = parent(path);
    let listed: Vec<(String, Option<Checksum>)> = match form {
        Form::DistInfo => {
            let record = format!("{meta_dir}/RECORD");
            match cx.text(&record) {
                Some(text) => parse_record(cx, &record, &text, parent(meta_dir)),
                None => vec![(path.to_owned(), None)],
            }
        }
        Form::EggInfoDir => {
            let installed = format!("{meta_dir}/installed-files.txt");
            let mut files = vec![(path.to_owned(), None)];
            if let Some(text) = cx.text(&installed) {
                files.push((installed.clone(), None));
                files.extend(
                    text.lines()
                        .filter_map(|l| join(meta_dir, l.trim()))
                        .map(|p| (p, None)),
                );
            }
            files
        }
        Form::EggInfoFile => vec![(path.to_owned(), None)],
    };
    Some(Package {
        purl: Purl::new("pypi", &normalize_name(&name), &version).to_string(),
        licenses: licenses(&headers),
        name,
        version,
        ecosystem: Ecosystem::Python,
        arch: None,
        source: None,
        found_in: path.to_owned(),
        files: cx.owned_files(listed),
    })
}

/// PEP 503 normalisation, as purl's pypi type wants it: lower case, runs of `-_.` → `-`.
pub fn normalize_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !out.ends_with('-') {
                out.push('-');
            }
        } else {
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// `License-Expression` (PEP 639), else a one-line `License`, else the licence
/// classifiers.
fn licenses(h: &rfc822::Paragraph) -> Vec<String> {
    if let Some(expr) = h.get("License-Expression").filter(|e| !e.is_empty()) {
        return vec![expr.to_owned()];
    }
    if let Some(l) = h
        .get("License")
        .filter(|l| !l.is_empty() && !l.contains('\n') && l.len() <= 80 && *l != "UNKNOWN")
    {
        return vec![l.to_owned()];
    }
    h.all("Classifier")
        .filter_map(|c| c.strip_prefix("License :: "))
        .map(|c| {
            let last = c.rsplit(" :: ").next().unwrap_or(c);
            crate::license::from_classifier(last)
                .unwrap_or(last)
                .to_owned()
        })
        .collect()
}

/// RECORD is CSV: `path,sha256=<urlsafe base64>,size`. Paths are relative to the
/// directory holding the dist-info (`../../../bin/flask` for scripts). Lines that do not
/// parse are counted in one warning naming the first.
fn parse_record(
    cx: &mut Context,
    record: &str,
    text: &str,
    site: &str,
) -> Vec<(String, Option<Checksum>)> {
    let mut files = Vec::new();
    let mut bad: Vec<usize> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match record_line(line) {
            Some((rel, hash)) => match join(site, &rel) {
                Some(path) => files.push((path, hash)),
                None => bad.push(i + 1),
            },
            None => bad.push(i + 1),
        }
    }
    if let Some(first) = bad.first() {
        cx.warn(
            record,
            format!(
                "{} RECORD line(s) do not parse (first: line {first}); they are left out",
                bad.len()
            ),
        );
    }
    files
}

/// One RECORD row: the path, and the checksum when there is a valid one.
fn record_line(line: &str) -> Option<(String, Option<Checksum>)> {
    let fields = csv_fields(line)?;
    let [path, hash, size] = fields.as_slice() else {
        return None;
    };
    if path.is_empty() || !(size.is_empty() || size.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    let checksum = if hash.is_empty() {
        None
    } else {
        let (algorithm, digest) = hash.split_once('=')?;
        let bytes = crate::base64::decode(digest)?;
        let algorithm = match (algorithm, bytes.len()) {
            ("sha256", 32) => "SHA256",
            ("sha384", 48) => "SHA384",
            ("sha512", 64) => "SHA512",
            _ => return None,
        };
        Some(Checksum {
            algorithm,
            hex: hex::encode(bytes),
        })
    };
    Some((path.clone(), checksum))
}

/// Splits one CSV line (RFC 4180 quoting); `None` on an unterminated quote.
fn csv_fields(line: &str) -> Option<Vec<String>> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        let field = fields.last_mut()?;
        match (c, quoted) {
            ('"', false) if field.is_empty() => quoted = true,
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', true) => quoted = false,
            (',', false) => fields.push(String::new()),
            (c, _) => field.push(c),
        }
    }
    (!quoted).then_some(fields)
}

fn parent(path: &str) -> &str {
    match path.rsplit_once('/') {
        Some(("", _)) | None => "/",
        Some((dir, _)) => dir,
    }
}

/// `base` joined with a relative (or absolute) path, `.` and `..` resolved; `None` when
/// it climbs above the root.
pub(crate) fn join(base: &str, rel: &str) -> Option<String> {
    if rel.is_empty() {
        return None;
    }
    let full = if rel.starts_with('/') {
        rel.to_owned()
    } else {
        format!("{base}/{rel}")
    };
    let mut parts: Vec<&str> = Vec::new();
    for part in full.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    Some(parts.iter().map(|p| format!("/{p}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::testing::evidence_text;
    use pare_image::testutil::TarItem;

    const SITE: &str = "opt/venv/lib/python3.11/site-packages";

    /// A venv holding Flask 2.2.2 with its real RECORD; every listed file present.
    fn flask_venv(record: &str) -> Vec<TarItem> {
        let mut items = vec![TarItem::file(
            &format!("{SITE}/Flask-2.2.2.dist-info/METADATA"),
            b"Metadata-Version: 2.1\nName: Flask\nVersion: 2.2.2\nLicense: BSD-3-Clause\n\
              Classifier: License :: OSI Approved :: BSD License\n\nDescription body\nName: no\n",
            0o644,
        )];
        for line in record.lines() {
            let rel = line.split(',').next().unwrap();
            if rel.ends_with("METADATA") || rel.ends_with("RECORD") {
                continue;
            }
            let path = join(&format!("/{SITE}"), rel).unwrap();
            items.push(TarItem::file(&path[1..], b"x", 0o644));
        }
        items.push(TarItem::file(
            &format!("{SITE}/Flask-2.2.2.dist-info/RECORD"),
            record.as_bytes(),
            0o644,
        ));
        items
    }

    fn run(items: &[TarItem]) -> (Vec<Package>, Vec<crate::Warning>) {
        crate::catalog::testing::run_cataloger(items, catalog)
    }

    #[test]
    fn real_flask_record() {
        // pip adds the console scripts it writes; the wheel's RECORD has none.
        let record = evidence_text("python/Flask-2.2.2.dist-info.RECORD")
            + "../../../bin/flask,sha256=Y4mEWqAMxj_Oxq9eYv3tWyN-0nU9yVKBGK_t6BxqvvM,229\n";
        let (packages, warnings) = run(&flask_venv(&record));
        assert!(warnings.is_empty(), "{warnings:?}");
        let [flask] = packages.as_slice() else {
            panic!("{packages:?}")
        };
        assert_eq!(
            (flask.name.as_str(), flask.version.as_str()),
            ("Flask", "2.2.2")
        );
        assert_eq!(flask.purl, "pkg:pypi/flask@2.2.2");
        assert_eq!(flask.licenses, ["BSD-3-Clause"]);
        let listed = record.lines().filter(|l| !l.trim().is_empty()).count();
        assert_eq!(flask.files.len(), listed);
        let script = flask
            .files
            .iter()
            .find(|f| f.path == "/opt/venv/bin/flask")
            .expect("../../../bin/flask resolved against the site directory");
        assert_eq!(script.checksum.as_ref().unwrap().algorithm, "SHA256");
        let init = flask
            .files
            .iter()
            .find(|f| f.path.ends_with("/site-packages/flask/__init__.py"))
            .unwrap();
        // sha256=Y4mEWqAMxj_Oxq9eYv3tWyN-0nU9yVKBGK_t6BxqvvM in the RECORD
        assert_eq!(
            init.checksum.as_ref().unwrap().hex,
            "6389845aa00cc63fcec6af5e62fded5b237ed2753dc9528118afede81c6abef3"
        );
    }

    #[test]
    fn garbage_record_lines_are_warned_about_and_skipped() {
        let mut record = evidence_text("python/Werkzeug-2.2.2.dist-info.RECORD");
        record = record.replace("Werkzeug-2.2.2", "Flask-2.2.2");
        let good = record.lines().filter(|l| !l.trim().is_empty()).count();
        record.push_str("\u{0}\u{1}garbage\n\"unterminated,sha256=x,1\nx,md5=abc,12\na,b\n");
        let (packages, warnings) = run(&flask_venv(&record));
        assert_eq!(packages[0].files.len(), good);
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].path.ends_with("Flask-2.2.2.dist-info/RECORD"));
        assert!(
            warnings[0].message.starts_with("4 RECORD line(s)"),
            "{warnings:?}"
        );
    }

    #[test]
    fn egg_info_forms_and_name_normalisation() {
        let (packages, _) = run(&[
            TarItem::file(
                "usr/lib/python3/dist-packages/PyYAML.egg-info/PKG-INFO",
                b"Name: PyYAML\nVersion: 6.0\n",
                0o644,
            ),
            TarItem::file(
                "usr/lib/python3/dist-packages/PyYAML.egg-info/installed-files.txt",
                b"../yaml/__init__.py\n",
                0o644,
            ),
            TarItem::file("usr/lib/python3/dist-packages/yaml/__init__.py", b"", 0o644),
            TarItem::file(
                "usr/lib/python3/dist-packages/zope.interface-5.5.egg-info",
                b"Name: zope.interface\nVersion: 5.5\nLicense: ZPL 2.1\n",
                0o644,
            ),
        ]);
        assert_eq!(packages[0].purl, "pkg:pypi/pyyaml@6.0");
        let files: Vec<&str> = packages[0].file_paths().collect();
        assert!(files.contains(&"/usr/lib/python3/dist-packages/yaml/__init__.py"));
        assert_eq!(packages[1].purl, "pkg:pypi/zope-interface@5.5");
        assert_eq!(packages[1].licenses, ["ZPL 2.1"]);
    }
}
