//! Matching installed packages against the database: one indexed lookup per (OSV
//! ecosystem, name), shared by the binary packages of one source, then OSV range
//! evaluation in Rust. Records that describe the same vulnerability for the same
//! package (a GHSA and the PYSEC that aliases it) become one [`Finding`], so counts
//! are vulnerabilities, not database rows.

use std::collections::{BTreeMap, HashMap};

use pare_sbom::{Distro, Package};
use serde::{Deserialize, Serialize};

use crate::db::Database;
use crate::ecosystem::{Coordinates, coordinates, uncovered_reason};
use crate::error::Result;
use crate::osv::{Advisory, Affected};
use crate::range::{Hit, evaluate};
use crate::severity::{Rating, RatingSource, Severity, rate};

/// One vulnerability affecting one installed package.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// The advisory id reports lead with (a GHSA id when there is one).
    pub id: String,
    /// Every other id it is known by: CVE, GHSA, PYSEC, the ids of merged records.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    pub url: String,
    pub severity: Severity,
    pub rating: Rating,
    pub package: FoundPackage,
    /// The package as the advisory names it (for Debian: release and source package).
    pub advisory_package: AdvisoryPackage,
    /// The first version that fixes it; `None`: no fix yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed: Option<String>,
    /// Why the distribution will not fix it (Debian's `ignored`, `postponed`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_fix_reason: Option<String>,
    /// The database records merged into this finding, `id` first.
    pub records: Vec<String>,
    /// Go packages holding the vulnerable code, from the Go vulnerability database.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vulnerable_imports: Vec<String>,
}

impl Finding {
    /// The id and every alias.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.id.as_str()).chain(self.aliases.iter().map(String::as_str))
    }

    /// The CVE id among the ids, if any (what Trivy and Grype key Debian findings by).
    pub fn cve(&self) -> Option<&str> {
        self.ids().find(|i| i.starts_with("CVE-"))
    }
}

/// The installed package a finding is about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FoundPackage {
    pub name: String,
    pub version: String,
    /// pare's ecosystem name (`deb`, `python`, `npm`, `go`, …).
    pub ecosystem: String,
    pub purl: String,
    /// The metadata file (or binary) it was read from.
    pub found_in: String,
    /// The files it owns that are present in the image.
    pub files: Vec<String>,
}

impl FoundPackage {
    pub fn from_package(p: &Package) -> Self {
        FoundPackage {
            name: p.name.clone(),
            version: p.version.clone(),
            ecosystem: p.ecosystem.name().to_owned(),
            purl: p.purl.clone(),
            found_in: p.found_in.clone(),
            files: p.file_paths().map(str::to_owned).collect(),
        }
    }
}

/// The package as the advisory database names it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdvisoryPackage {
    pub ecosystem: String,
    pub name: String,
    pub version: String,
}

/// All findings for a set of packages, and what could not be checked.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Matches {
    /// Sorted by severity (worst first), then package, then id.
    pub findings: Vec<Finding>,
    /// Packages looked up.
    pub packages_checked: usize,
    /// How many packages were looked up in each OSV ecosystem (`Debian:12`, `PyPI`),
    /// to tell a clean package from one the database has no data for.
    #[serde(default)]
    pub looked_up: BTreeMap<String, usize>,
    /// Packages no OSV ecosystem covers, by pare ecosystem (`rpm` of an unknown
    /// distribution, `maven`, a Go main module without a version).
    pub not_covered: BTreeMap<String, usize>,
    /// Things the user should know: versions that could not be ordered.
    pub warnings: Vec<String>,
}

/// Matches `packages` (of an image whose os-release is `distro`) against `db`.
pub fn match_packages(
    db: &Database,
    packages: &[Package],
    distro: Option<&Distro>,
) -> Result<Matches> {
    let mut matches = Matches::default();
    let mut cache: HashMap<(String, String), Vec<Advisory>> = HashMap::new();
    for package in packages {
        let Some(coords) = coordinates(package, distro) else {
            let label = match uncovered_reason(package, distro) {
                Some(why) => format!("{} ({why})", package.ecosystem.name()),
                None => package.ecosystem.name().to_owned(),
            };
            *matches.not_covered.entry(label).or_default() += 1;
            continue;
        };
        matches.packages_checked += 1;
        *matches
            .looked_up
            .entry(coords.ecosystem.clone())
            .or_default() += 1;
        let key = (coords.ecosystem.clone(), coords.name.clone());
        if !cache.contains_key(&key) {
            let mut found = Vec::new();
            for ecosystem in &coords.look_in {
                for advisory in db.advisories_for(ecosystem, &coords.name)? {
                    // A record filed under two repositories is one record.
                    if !found.iter().any(|a: &Advisory| a.id == advisory.id) {
                        found.push(advisory);
                    }
                }
            }
            cache.insert(key.clone(), found);
        }
        let candidates = &cache[&key];
        if candidates.is_empty() {
            continue;
        }
        let installed = coords.scheme.parse(&coords.version);
        if installed.is_none() {
            matches.warnings.push(format!(
                "{} {} ({}): the version cannot be ordered, so of its {} advisories only \
                 those listing it word for word were checked",
                package.name,
                package.version,
                package.ecosystem,
                candidates.len()
            ));
        }
        let mut hits = Vec::new();
        for advisory in candidates {
            for affected in advisory
                .affected
                .iter()
                .filter(|a| names(a, &coords) && same_build_kind(a, &coords))
            {
                let hit = evaluate(affected, coords.scheme, installed.as_ref(), &coords.version);
                if let Some(hit) = hit {
                    hits.push(RecordHit {
                        advisory,
                        affected,
                        hit,
                    });
                    break;
                }
            }
        }
        matches.findings.extend(group(hits, package, &coords));
    }
    borrow_unrated_scores(db, &mut matches.findings)?;
    // Worst first; then by package the way people read names (`Flask` among `f`).
    matches.findings.sort_by_cached_key(|f| {
        (
            std::cmp::Reverse(f.severity),
            f.package.name.to_lowercase(),
            f.package.version.clone(),
            f.package.found_in.clone(),
            f.id.clone(),
        )
    });
    Ok(matches)
}

/// A finding that none of its matched records rates (most of Debian's records carry
/// no CVSS, and no urgency until the tracker assigns one) takes the highest CVSS
/// among the database's other records of the same vulnerability, looked up by its
/// ids and aliases: osv.dev's `CVE-…` records carry NVD's vectors. Trivy and Grype
/// fall back on NVD the same way; without it most findings of a Debian image would
/// show as unknown. Still `unknown` when no record has a score.
fn borrow_unrated_scores(db: &Database, findings: &mut [Finding]) -> Result<()> {
    let mut cache: HashMap<String, Option<Rating>> = HashMap::new();
    for finding in findings
        .iter_mut()
        .filter(|f| f.rating.source == RatingSource::None)
    {
        let others: Vec<String> = finding
            .ids()
            .filter(|id| !finding.records.iter().any(|r| r == id))
            .map(str::to_owned)
            .collect();
        let mut best: Option<Rating> = None;
        for id in others {
            let rating = match cache.get(&id) {
                Some(r) => r.clone(),
                None => {
                    let r = db.advisory(&id)?.and_then(|a| crate::severity::cvss_of(&a));
                    cache.insert(id.clone(), r.clone());
                    r
                }
            };
            let Some(rating) = rating else { continue };
            if best.as_ref().is_none_or(|b| rating.score > b.score) {
                best = Some(Rating {
                    via: Some(id),
                    ..rating
                });
            }
        }
        if let Some(rating) = best {
            finding.severity = rating.severity;
            finding.rating = rating;
        }
    }
    Ok(())
}

/// Whether an `affected` entry is about the looked-up package (a record may list
/// several packages, and other releases of a distribution).
fn names(affected: &Affected, coords: &Coordinates) -> bool {
    coords.look_in.contains(&affected.ecosystem)
        && crate::ecosystem::normalize_name(&affected.ecosystem, &affected.name) == coords.name
}

/// Red Hat ships some packages twice: as ordinary builds and, for each module stream
/// (nodejs:18, nodejs:22, …), as module builds whose release says so
/// (`1:22.23.2-2.module+el9.8.0+24958+80b2ac6e`). A fix in one kind says nothing of
/// the other: rpm's ordering would call an installed nodejs 18 module build "older"
/// than nodejs 22's fix. So a module fix is compared only with a module build of the
/// same major version (Red Hat names the streams of nodejs, php, ruby, postgresql …
/// by it; the stream itself, in the rpm's MODULARITYLABEL, is not read yet), and an
/// ordinary fix only with an ordinary build. Other ecosystems are not concerned.
fn same_build_kind(affected: &Affected, coords: &Coordinates) -> bool {
    if !coords.ecosystem.starts_with("Red Hat:") {
        return true;
    }
    let module = |v: &str| v.contains(".module+") || v.contains(".module_");
    let major = |v: &str| {
        let v = v.split_once(':').map_or(v, |(_, rest)| rest);
        v.split(['.', '-']).next().unwrap_or("").to_owned()
    };
    let installed = coords.version.as_str();
    affected
        .ranges
        .iter()
        .flat_map(|r| r.events.iter())
        .filter_map(|e| match e {
            crate::osv::Event::Fixed(v) | crate::osv::Event::LastAffected(v) => Some(v),
            _ => None,
        })
        .all(|fix| {
            module(fix) == module(installed) && (!module(fix) || major(fix) == major(installed))
        })
}

/// One record that matched, with the entry that matched.
struct RecordHit<'a> {
    advisory: &'a Advisory,
    affected: &'a Affected,
    hit: Hit,
}

impl RecordHit<'_> {
    fn ids(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.advisory.id.as_str())
            .chain(self.advisory.aliases.iter().map(String::as_str))
    }
}

/// Merges the records that share an id or alias into one finding each.
fn group(hits: Vec<RecordHit>, package: &Package, coords: &Coordinates) -> Vec<Finding> {
    let mut groups: Vec<Vec<RecordHit>> = Vec::new();
    for hit in hits {
        let joins: Vec<usize> = groups
            .iter()
            .enumerate()
            .filter(|(_, g)| {
                g.iter()
                    .any(|h| h.ids().any(|id| hit.ids().any(|x| x == id)))
            })
            .map(|(i, _)| i)
            .collect();
        let mut merged = vec![hit];
        for i in joins.into_iter().rev() {
            merged.extend(groups.remove(i));
        }
        groups.push(merged);
    }
    groups
        .into_iter()
        .map(|g| finding(g, package, coords))
        .collect()
}

/// Which id leads: GitHub's (what most users search for), then the ecosystem's own
/// database, then anything else.
fn id_rank(id: &str) -> u8 {
    if id.starts_with("GHSA-") {
        0
    } else if id.starts_with("CVE-") {
        2
    } else {
        1
    }
}

fn finding(mut hits: Vec<RecordHit>, package: &Package, coords: &Coordinates) -> Finding {
    hits.sort_by(|a, b| {
        (id_rank(&a.advisory.id), &a.advisory.id).cmp(&(id_rank(&b.advisory.id), &b.advisory.id))
    });
    let primary = &hits[0];
    let mut aliases: Vec<String> = Vec::new();
    for h in &hits {
        for id in h.ids() {
            if id != primary.advisory.id && !aliases.iter().any(|a| a == id) {
                aliases.push(id.to_owned());
            }
        }
    }
    aliases.sort();
    let rating = best_rating(hits.iter().map(|h| rate(h.advisory, h.affected)));
    let mut vulnerable_imports: Vec<String> = hits
        .iter()
        .flat_map(|h| h.affected.imports.iter().cloned())
        .collect();
    vulnerable_imports.sort();
    vulnerable_imports.dedup();
    Finding {
        id: primary.advisory.id.clone(),
        aliases,
        summary: hits.iter().find_map(|h| h.advisory.summary.clone()),
        url: primary.advisory.url.clone(),
        severity: rating.severity,
        rating,
        package: FoundPackage::from_package(package),
        advisory_package: AdvisoryPackage {
            ecosystem: coords.ecosystem.clone(),
            name: coords.name.clone(),
            version: coords.version.clone(),
        },
        fixed: hits.iter().find_map(|h| h.hit.fixed.clone()),
        no_fix_reason: hits.iter().find_map(|h| h.affected.no_fix_reason.clone()),
        records: hits.iter().map(|h| h.advisory.id.clone()).collect(),
        vulnerable_imports,
    }
}

/// The most trusted source wins; among equally trusted ratings, the most severe.
fn best_rating(ratings: impl Iterator<Item = Rating>) -> Rating {
    ratings
        .min_by(|a, b| {
            (a.source, std::cmp::Reverse(a.severity))
                .cmp(&(b.source, std::cmp::Reverse(b.severity)))
        })
        .filter(|r| r.source != RatingSource::None)
        .unwrap_or(Rating::UNKNOWN)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ecosystem::tests::package;
    use crate::import::Source;
    use pare_sbom::Ecosystem;

    /// A database of the real GHSA, PYSEC, Go, npm and Debian records.
    fn records_db() -> (tempfile::TempDir, Database) {
        crate::testing::database(&["osv", "debian-osv-derived"])
    }

    #[test]
    fn records_of_one_vulnerability_become_one_finding() {
        let (_dir, db) = records_db();
        let m = match_packages(&db, &[package(Ecosystem::Python, "Flask", "2.2.2")], None).unwrap();
        assert_eq!(m.findings.len(), 1, "{:#?}", m.findings);
        let f = &m.findings[0];
        assert_eq!(f.id, "GHSA-m2qf-hxjv-5gpq");
        assert_eq!(f.aliases, ["CVE-2023-30861", "PYSEC-2023-62"]);
        assert_eq!(f.records, ["GHSA-m2qf-hxjv-5gpq", "PYSEC-2023-62"]);
        assert_eq!(f.fixed.as_deref(), Some("2.2.5"));
        assert_eq!(
            (f.severity, f.rating.source),
            (Severity::High, RatingSource::Database)
        );
        assert_eq!(f.cve(), Some("CVE-2023-30861"));
    }

    /// Ubuntu's real record of CVE-2024-0727 (tests/data/vuln/ubuntu-osv): a 22.04
    /// image is looked up in `Ubuntu:22.04:LTS` by source package, rated by Ubuntu's
    /// priority (`low`, though the CVSS vector says medium), and the fixed build is
    /// clean; the Pro entries are not looked in.
    #[test]
    fn ubuntu_images_are_matched_in_their_release_with_ubuntus_priority() {
        let (_dir, db) = crate::testing::database(&["ubuntu-osv"]);
        let jammy = Distro {
            id: "ubuntu".into(),
            version_id: "22.04".into(),
            pretty_name: Some("Ubuntu 22.04.4 LTS".into()),
            ..Default::default()
        };
        let libssl = |version: &str| {
            let mut p = package(Ecosystem::Deb, "libssl3", version);
            p.source = Some(pare_sbom::SourcePackage {
                name: "openssl".into(),
                version: version.into(),
            });
            p
        };
        let m = match_packages(&db, &[libssl("3.0.2-0ubuntu1.10")], Some(&jammy)).unwrap();
        assert_eq!(
            m.looked_up,
            BTreeMap::from([("Ubuntu:22.04:LTS".to_owned(), 1)])
        );
        assert_eq!(m.findings.len(), 1, "{:#?}", m.findings);
        let f = &m.findings[0];
        assert_eq!(f.id, "CVE-2024-0727");
        assert_eq!(f.fixed.as_deref(), Some("3.0.2-0ubuntu1.14"));
        assert_eq!(
            (f.severity, f.rating.source),
            (Severity::Low, RatingSource::Distribution)
        );
        let fixed = match_packages(&db, &[libssl("3.0.2-0ubuntu1.14")], Some(&jammy)).unwrap();
        assert!(fixed.findings.is_empty(), "{:#?}", fixed.findings);
        // 18.04 is only in the record under Ubuntu Pro: an ordinary 18.04 image has
        // nothing to match there.
        let bionic = Distro {
            id: "ubuntu".into(),
            version_id: "18.04".into(),
            ..Default::default()
        };
        let old =
            match_packages(&db, &[libssl("1.1.1-1ubuntu2.1~18.04.23")], Some(&bionic)).unwrap();
        assert_eq!(
            old.looked_up,
            BTreeMap::from([("Ubuntu:18.04:LTS".to_owned(), 1)])
        );
        assert!(old.findings.is_empty(), "{:#?}", old.findings);
    }

    /// Red Hat records in osv.dev's shape (tests/data/vuln/redhat-osv): a UBI 9 image's
    /// rpms are looked up in every repository of RHEL 9 (a record filed under baseos
    /// and appstream is one finding), with rpm's ordering (epochs, `el9` below
    /// `el9_4.1`); RHEL 8's and the EUS stream's entries, another module stream's fix,
    /// and a withdrawn record do not match.
    #[test]
    fn red_hat_images_are_matched_in_every_repository_of_their_release() {
        let (_dir, db) = crate::testing::database(&["redhat-osv"]);
        let ubi = Distro {
            id: "rhel".into(),
            version_id: "9.4".into(),
            ..Default::default()
        };
        let rpms = [
            package(Ecosystem::Rpm, "openssh-clients", "8.7p1-38.el9"),
            package(Ecosystem::Rpm, "openssl-libs", "1:3.0.7-24.el9"),
            package(
                Ecosystem::Rpm,
                "nodejs",
                "1:18.19.0-1.module+el9.3.0+21065+a4b9f57b",
            ),
            package(Ecosystem::Rpm, "sudo", "1.9.5p2-9.el9"),
            package(Ecosystem::Rpm, "bash", "5.1.8-6.el9_1"),
            package(Ecosystem::Rpm, "openssl", "1:3.0.7-27.el9"),
        ];
        let m = match_packages(&db, &rpms, Some(&ubi)).unwrap();
        let got: BTreeMap<&str, (Vec<String>, Option<&str>)> = m
            .findings
            .iter()
            .map(|f| {
                (
                    f.package.name.as_str(),
                    (f.records.clone(), f.fixed.as_deref()),
                )
            })
            .collect();
        let want = |ids: &[&str], fixed: &'static str| {
            (
                ids.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
                Some(fixed),
            )
        };
        assert_eq!(
            got,
            BTreeMap::from([
                (
                    "openssh-clients",
                    want(&["RHSA-2024:4312"], "0:8.7p1-38.el9_4.1")
                ),
                ("openssl-libs", want(&["RHSA-2024:2447"], "1:3.0.7-27.el9")),
                (
                    "nodejs",
                    want(
                        &["RHSA-2026:76751"],
                        "1:18.20.8-1.module+el9.8.0+24960+aa13f0d1"
                    )
                ),
                ("sudo", want(&["RHSA-2026:76800"], "0:1.9.5p2-10.el9_6.1")),
            ]),
            "{:#?}",
            m.findings
        );
        assert_eq!(
            m.looked_up,
            BTreeMap::from([("Red Hat:enterprise_linux:9".to_owned(), 6)])
        );
        // A non-module nodejs is not compared with either stream's module fix.
        let plain = package(Ecosystem::Rpm, "nodejs", "1:16.20.2-8.el9_4");
        let m = match_packages(&db, &[plain], Some(&ubi)).unwrap();
        assert!(m.findings.is_empty(), "{:#?}", m.findings);
    }

    /// Debian's record of CVE-2023-45853 (zlib's MiniZip) has no urgency and no
    /// CVSS: alone it is `unknown`. With a record of the CVE itself in the database
    /// (the shape of osv.dev's `CVE-…` records: the id, NVD's vector, no package
    /// ecosystem; written here, its vector is the one NVD publishes), the finding
    /// takes that score and says where it came from.
    #[test]
    fn unrated_findings_borrow_the_score_of_the_cves_own_record() {
        let zlib = || {
            let mut p = package(Ecosystem::Deb, "zlib1g", "1:1.2.13.dfsg-1");
            p.source = Some(pare_sbom::SourcePackage {
                name: "zlib".into(),
                version: "1:1.2.13.dfsg-1".into(),
            });
            p
        };
        let bookworm = crate::testing::bookworm();
        let dir = tempfile::tempdir().unwrap();
        let debian = crate::testing::data("debian-osv-derived/DEBIAN-CVE-2023-45853.json");
        let alone = dir.path().join("alone.sqlite");
        crate::import::import(&alone, &[Source::local(&debian).unwrap()]).unwrap();
        let db = Database::open(&alone).unwrap();
        let m = match_packages(&db, &[zlib()], Some(&bookworm)).unwrap();
        assert_eq!(m.findings.len(), 1);
        assert_eq!(m.findings[0].severity, Severity::Unknown);

        let cve = dir.path().join("CVE-2023-45853.json");
        std::fs::write(
            &cve,
            r#"{"schema_version": "1.6.0", "id": "CVE-2023-45853",
                "modified": "2024-08-01T00:00:00Z",
                "severity": [{"type": "CVSS_V3",
                              "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
                "affected": [{"ranges": [{"type": "GIT", "repo": "https://github.com/madler/zlib",
                              "events": [{"introduced": "0"}]}]}]}"#,
        )
        .unwrap();
        let both = dir.path().join("both.sqlite");
        let sources = [
            Source::local(&debian).unwrap(),
            Source::local(&cve).unwrap(),
        ];
        crate::import::import(&both, &sources).unwrap();
        let db = Database::open(&both).unwrap();
        let m = match_packages(&db, &[zlib()], Some(&bookworm)).unwrap();
        assert_eq!(m.findings.len(), 1);
        let f = &m.findings[0];
        assert_eq!(f.records, ["DEBIAN-CVE-2023-45853"]);
        assert_eq!(
            (
                f.severity,
                f.rating.source,
                f.rating.score,
                f.rating.via.as_deref()
            ),
            (
                Severity::Critical,
                RatingSource::CvssV3,
                Some(9.8),
                Some("CVE-2023-45853")
            )
        );
    }

    #[test]
    fn distributions_without_a_matchable_feed_are_named() {
        let (_dir, db) = records_db();
        let oracle = Distro {
            id: "ol".into(),
            version_id: "9.4".into(),
            ..Default::default()
        };
        let m = match_packages(
            &db,
            &[package(Ecosystem::Rpm, "openssl", "3.0.7-27.el9")],
            Some(&oracle),
        )
        .unwrap();
        assert_eq!(m.packages_checked, 0);
        let (label, n) = m.not_covered.iter().next().unwrap();
        assert_eq!(*n, 1);
        assert!(label.starts_with("rpm (Oracle Linux: "), "{label}");
    }

    #[test]
    fn what_cannot_be_checked_is_said() {
        let (_dir, db) = records_db();
        let packages = [
            package(Ecosystem::Python, "werkzeug", "not-a-version"),
            package(Ecosystem::Maven, "commons-cli", "1.5.0"),
            package(Ecosystem::Npm, "left-pad", "1.3.0"),
        ];
        let m = match_packages(&db, &packages, None).unwrap();
        assert!(m.findings.is_empty());
        assert_eq!(m.packages_checked, 2);
        assert_eq!(m.not_covered, BTreeMap::from([("maven".to_owned(), 1)]));
        assert_eq!(m.warnings.len(), 1);
        assert!(
            m.warnings[0].starts_with(
                "werkzeug not-a-version (python): the version cannot be ordered, so of its"
            ),
            "{:?}",
            m.warnings
        );
    }
}
