//! Where an installed package is found in OSV: which ecosystem, under which name,
//! at which version. Debian and Alpine advisories name the *source* package (dpkg's
//! `Source:`, apk's origin), so a binary package is looked up by its source.

use pare_sbom::purl::Parsed;
use pare_sbom::{Distro, Ecosystem, Package};

use crate::version::Scheme;

/// The OSV ecosystems `pare db update` fetches by default, by their folder names in
/// osv.dev's bucket.
pub const DEFAULT_SOURCES: [&str; 8] = [
    "Debian",
    "Ubuntu",
    "Alpine",
    "PyPI",
    "npm",
    "Go",
    "crates.io",
    "Maven",
];

/// A package as an advisory database names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Coordinates {
    /// `Debian:12`, `Alpine:v3.19`, `PyPI`, `Go`, …
    pub ecosystem: String,
    /// Normalised as the database indexes it ([`normalize_name`]).
    pub name: String,
    /// The version advisories compare against (the source version for Debian).
    pub version: String,
    pub scheme: Scheme,
    /// The ecosystems whose records apply: `ecosystem` itself, or for Red Hat and
    /// SUSE the repositories and modules the release is filed under ([`look_in`]).
    pub look_in: Vec<String>,
}

/// Where to look `package` up, or `None` when no OSV ecosystem covers it (an rpm of an
/// unknown distribution, a Debian image without a release number, a Go main module
/// built from a checkout, `(devel)`).
pub fn coordinates(package: &Package, distro: Option<&Distro>) -> Option<Coordinates> {
    let source = package.source.as_ref();
    let (ecosystem, name, version) = match package.ecosystem {
        Ecosystem::Deb => {
            let distro = distro?;
            let release = distro.version_id.split('.').next().unwrap_or("");
            let ecosystem = match distro.id.as_str() {
                "debian" if !release.is_empty() => format!("Debian:{release}"),
                "ubuntu" => ubuntu_ecosystem(distro)?,
                _ => return None,
            };
            match source {
                Some(s) => (ecosystem, s.name.clone(), s.version.clone()),
                None => (ecosystem, package.name.clone(), package.version.clone()),
            }
        }
        Ecosystem::Apk => {
            let distro = distro?;
            let mut parts = distro.version_id.split('.');
            let ecosystem = match (distro.id.as_str(), parts.next(), parts.next()) {
                ("alpine", Some(major), Some(minor)) => format!("Alpine:v{major}.{minor}"),
                // Rolling distributions: one ecosystem without a release (osv.dev's
                // `Wolfi` and `Chainguard`, both apk, both named by the origin).
                ("wolfi", ..) => "Wolfi".to_owned(),
                ("chainguard", ..) => "Chainguard".to_owned(),
                _ => return None,
            };
            let name = source.map_or(&package.name, |s| &s.name);
            (ecosystem, name.clone(), package.version.clone())
        }
        Ecosystem::Rpm => {
            let distro = distro?;
            let major = distro.version_id.split('.').next().unwrap_or("");
            let ecosystem = match distro.id.as_str() {
                "rocky" => format!("Rocky Linux:{major}"),
                "almalinux" => format!("AlmaLinux:{major}"),
                "mageia" if !major.is_empty() => format!("Mageia:{major}"),
                "opensuse-leap" if !distro.version_id.is_empty() => {
                    format!("openSUSE:Leap {}", distro.version_id)
                }
                "opensuse-tumbleweed" => "openSUSE:Tumbleweed".to_owned(),
                // UBI and RHEL; CentOS Stream is where the next RHEL minor is made and
                // has no feed of its own, so its major release's records are used.
                "rhel" | "centos" if !major.is_empty() => {
                    format!("Red Hat:enterprise_linux:{major}")
                }
                // VERSION_ID `15.3` is SUSE's "15 SP3"; `15` the first release.
                "sles" if !major.is_empty() => {
                    let sp = distro.version_id.split('.').nth(1).filter(|m| *m != "0");
                    match sp {
                        Some(sp) => format!("SUSE:Linux Enterprise Server {major} SP{sp}"),
                        None => format!("SUSE:Linux Enterprise Server {major}"),
                    }
                }
                "sle-micro" if !distro.version_id.is_empty() => {
                    format!("SUSE:Linux Enterprise Micro {}", distro.version_id)
                }
                _ => return None,
            };
            (ecosystem, package.name.clone(), package.version.clone())
        }
        Ecosystem::Python => ("PyPI".into(), package.name.clone(), package.version.clone()),
        Ecosystem::Npm => ("npm".into(), package.name.clone(), package.version.clone()),
        Ecosystem::Go => ("Go".into(), package.name.clone(), package.version.clone()),
        Ecosystem::Cargo => (
            "crates.io".into(),
            package.name.clone(),
            package.version.clone(),
        ),
        Ecosystem::Maven => {
            let purl = Parsed::parse(&package.purl).ok()?;
            let group = purl.namespace?;
            (
                "Maven".into(),
                format!("{group}:{}", purl.name),
                package.version.clone(),
            )
        }
    };
    let scheme = Scheme::for_ecosystem(&ecosystem)?;
    Some(Coordinates {
        look_in: look_in(&ecosystem),
        name: normalize_name(&ecosystem, &name),
        ecosystem,
        version,
        scheme,
    })
}

/// The OSV ecosystems whose records apply to a package of `ecosystem`: itself, and
/// for the distributions that file records by repository or module, those.
pub fn look_in(ecosystem: &str) -> Vec<String> {
    if ecosystem.starts_with("Red Hat:") {
        red_hat_repositories(ecosystem)
    } else if let Some(release) = ecosystem.strip_prefix("SUSE:Linux Enterprise Server ") {
        suse_modules(release)
    } else {
        vec![ecosystem.to_owned()]
    }
}

/// SUSE files each record under the products that ship the package: the server
/// (`SUSE:Linux Enterprise Server 15 SP3`) and the modules it is made of, most base
/// packages under `SUSE:Linux Enterprise Module for Basesystem 15 SP3`, others under
/// Server Applications. An SLES or BCI image has the base system and may have
/// Server Applications; the other modules (Development Tools, Desktop, …) and the
/// support phases sold apart (`-LTSS`, `-ESPOS`) are not looked in.
fn suse_modules(release: &str) -> Vec<String> {
    vec![
        format!("SUSE:Linux Enterprise Server {release}"),
        format!("SUSE:Linux Enterprise Module for Basesystem {release}"),
        format!("SUSE:Linux Enterprise Module for Server Applications {release}"),
    ]
}

/// Red Hat files each record under the repository (CPE) that ships the package:
/// `Red Hat:enterprise_linux:9::baseos`, `…::appstream`, `…::crb` (CodeReady
/// Builder), and the bare `Red Hat:enterprise_linux:9` for older ones. An image does
/// not say which repository each package came from (UBI's content manifests name the
/// repositories of the whole image, not of a package), and a binary package's name is
/// in one repository only, so the records of all three are looked in, as Grype does
/// with its single `rhel:9` namespace. The extended-support streams
/// (`Red Hat:rhel_eus:9.2::…`, `rhel_e4s`, `rhel_aus`) are for subscriptions an image
/// does not use, like Ubuntu Pro, and are not looked in.
fn red_hat_repositories(release: &str) -> Vec<String> {
    let mut all = vec![release.to_owned()];
    all.extend(["baseos", "appstream", "crb"].map(|r| format!("{release}::{r}")));
    all
}

/// Ubuntu's ecosystem as osv.dev names it: `Ubuntu:22.04:LTS` for a long-term
/// release, `Ubuntu:24.10` for an interim one. os-release says "LTS" in `VERSION`
/// (kept in `pretty_name`); where it does not, the rule Canonical follows decides:
/// every April release of an even year is LTS. `Ubuntu:Pro:…` records cover the
/// packages of Ubuntu Pro's ESM archives, which an ordinary image does not use, so
/// they are not looked in.
fn ubuntu_ecosystem(distro: &Distro) -> Option<String> {
    let version = distro.version_id.trim();
    let (year, month) = version.split_once('.')?;
    let year: u32 = year.parse().ok()?;
    let says_lts = distro
        .pretty_name
        .as_deref()
        .is_some_and(|p| p.contains("LTS"));
    let lts = says_lts || (month == "04" && year.is_multiple_of(2));
    Some(if lts {
        format!("Ubuntu:{version}:LTS")
    } else {
        format!("Ubuntu:{version}")
    })
}

/// Why a package of `distro` has no OSV ecosystem, when pare knows the distribution
/// but osv.dev has no feed it could be matched against: said in the scan's output,
/// so an image is not taken for clean because nothing could be looked up.
pub fn uncovered_reason(package: &Package, distro: Option<&Distro>) -> Option<&'static str> {
    let id = distro?.id.as_str();
    Some(match (package.ecosystem, id) {
        (Ecosystem::Rpm, "rhel" | "centos") => "Red Hat: no release number in os-release",
        (Ecosystem::Rpm, "sles" | "sle-micro") => "SUSE: no release number in os-release",
        (Ecosystem::Rpm, "ol" | "amzn" | "fedora") => match id {
            "ol" => "Oracle Linux: osv.dev has no feed",
            "amzn" => "Amazon Linux: osv.dev has no feed",
            _ => "Fedora: osv.dev has no feed",
        },
        (Ecosystem::Deb, "ubuntu") => "Ubuntu: no release number in os-release",
        (Ecosystem::Deb, "debian") => "Debian: no release number in os-release (testing or sid)",
        (Ecosystem::Apk, "alpine") => "Alpine: no release number in os-release (edge)",
        _ => return None,
    })
}

/// The name under which the database indexes a package: PyPI names as PEP 503 says
/// (`PyYAML` = `pyyaml`, `zope.interface` = `zope-interface`), others as written.
pub fn normalize_name(ecosystem: &str, name: &str) -> String {
    if ecosystem == "PyPI" {
        pare_sbom::normalize_pypi_name(name.trim())
    } else {
        name.to_owned()
    }
}

/// The folder of osv.dev's bucket an ecosystem's records come from: `Debian:12` →
/// `Debian`.
pub fn base(ecosystem: &str) -> &str {
    ecosystem.split(':').next().unwrap_or(ecosystem)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::testing::bookworm;
    use pare_sbom::SourcePackage;

    pub fn package(ecosystem: Ecosystem, name: &str, version: &str) -> Package {
        Package {
            name: name.into(),
            version: version.into(),
            ecosystem,
            purl: pare_sbom::purl::Purl::new(ecosystem.purl_type(), name, version).to_string(),
            arch: None,
            source: None,
            licenses: Vec::new(),
            found_in: "/test".into(),
            files: Vec::new(),
        }
    }

    #[test]
    fn debian_binary_packages_are_looked_up_by_source() {
        let mut stdlib = package(Ecosystem::Deb, "libpython3.11-stdlib", "3.11.2-6+deb12u6");
        stdlib.source = Some(SourcePackage {
            name: "python3.11".into(),
            version: "3.11.2-6+deb12u6".into(),
        });
        let c = coordinates(&stdlib, Some(&bookworm())).unwrap();
        assert_eq!(
            (c.ecosystem.as_str(), c.name.as_str(), c.version.as_str()),
            ("Debian:12", "python3.11", "3.11.2-6+deb12u6")
        );
        // A binNMU: the binary's version differs from the source's.
        let mut binnmu = package(Ecosystem::Deb, "libfoo1", "1.0-1+b2");
        binnmu.source = Some(SourcePackage {
            name: "foo".into(),
            version: "1.0-1".into(),
        });
        assert_eq!(
            coordinates(&binnmu, Some(&bookworm())).unwrap().version,
            "1.0-1"
        );
        // No Source: field: the binary is its own source.
        let perl = package(Ecosystem::Deb, "perl", "5.36.0-7+deb12u2");
        assert_eq!(coordinates(&perl, Some(&bookworm())).unwrap().name, "perl");
        // Without a release there is no OSV ecosystem to look in.
        let sid = Distro {
            id: "debian".into(),
            ..Default::default()
        };
        assert_eq!(coordinates(&perl, Some(&sid)), None);
        assert_eq!(coordinates(&perl, None), None);
    }

    #[test]
    fn distributions_as_osv_dev_names_them() {
        let os = |id: &str, version_id: &str, pretty: Option<&str>| Distro {
            id: id.into(),
            version_id: version_id.into(),
            pretty_name: pretty.map(str::to_owned),
            ..Default::default()
        };
        let deb = package(Ecosystem::Deb, "openssl", "3.0.2-0ubuntu1.10");
        let eco = |p: &Package, d: &Distro| coordinates(p, Some(d)).map(|c| c.ecosystem);
        let apk = package(Ecosystem::Apk, "openssl", "3.3.2-r0");
        let rpm = package(Ecosystem::Rpm, "openssl", "3.1.4-150600.5.7.1");
        // Without a pretty name, April of an even year is LTS and the rest are not.
        let cases = [
            (
                &deb,
                os("ubuntu", "22.04", Some("Ubuntu 22.04.4 LTS")),
                Some("Ubuntu:22.04:LTS"),
            ),
            (&deb, os("ubuntu", "24.04", None), Some("Ubuntu:24.04:LTS")),
            (
                &deb,
                os("ubuntu", "24.10", Some("Ubuntu 24.10")),
                Some("Ubuntu:24.10"),
            ),
            (&deb, os("ubuntu", "", None), None),
            (&apk, os("wolfi", "20230201", None), Some("Wolfi")),
            (&apk, os("chainguard", "20230214", None), Some("Chainguard")),
            (
                &rpm,
                os("opensuse-leap", "15.6", None),
                Some("openSUSE:Leap 15.6"),
            ),
            (
                &rpm,
                os("opensuse-tumbleweed", "20240801", None),
                Some("openSUSE:Tumbleweed"),
            ),
            (
                &rpm,
                os("rhel", "9.4", None),
                Some("Red Hat:enterprise_linux:9"),
            ),
            (
                &rpm,
                os("centos", "9", None),
                Some("Red Hat:enterprise_linux:9"),
            ),
            (&rpm, os("rhel", "", None), None),
        ];
        for (p, d, want) in &cases {
            assert_eq!(eco(p, d).as_deref(), *want, "{} {}", d.id, d.version_id);
        }
        // Known, but not matchable from os-release: said, never silently clean.
        let ubi = coordinates(&rpm, Some(&os("rhel", "9.4", None))).unwrap();
        assert_eq!(
            ubi.look_in,
            [
                "Red Hat:enterprise_linux:9",
                "Red Hat:enterprise_linux:9::baseos",
                "Red Hat:enterprise_linux:9::appstream",
                "Red Hat:enterprise_linux:9::crb"
            ]
        );
        assert_eq!(
            coordinates(&deb, Some(&os("ubuntu", "24.04", None)))
                .unwrap()
                .look_in,
            ["Ubuntu:24.04:LTS"]
        );
        assert!(uncovered_reason(&rpm, Some(&os("rhel", "", None))).is_some());
        let bci = coordinates(&rpm, Some(&os("sles", "15.3", None))).unwrap();
        assert_eq!(bci.ecosystem, "SUSE:Linux Enterprise Server 15 SP3");
        assert_eq!(
            bci.look_in[1],
            "SUSE:Linux Enterprise Module for Basesystem 15 SP3"
        );
        assert_eq!(
            eco(&rpm, &os("sles", "15", None)).as_deref(),
            Some("SUSE:Linux Enterprise Server 15")
        );
        assert_eq!(
            eco(&rpm, &os("sle-micro", "5.5", None)).as_deref(),
            Some("SUSE:Linux Enterprise Micro 5.5")
        );
        for id in ["ol", "amzn"] {
            let d = os(id, "9", None);
            assert_eq!(eco(&rpm, &d), None, "{id}");
            assert!(uncovered_reason(&rpm, Some(&d)).is_some(), "{id}");
        }
        assert_eq!(
            uncovered_reason(&rpm, Some(&os("rocky", "9.3", None))),
            None
        );
    }

    #[test]
    fn language_packages() {
        let yaml = package(Ecosystem::Python, "PyYAML", "5.3.1");
        assert_eq!(coordinates(&yaml, None).unwrap().name, "pyyaml");
        assert_eq!(normalize_name("PyPI", "zope.interface"), "zope-interface");
        assert_eq!(normalize_name("npm", "@Babel/Core"), "@Babel/Core");
        let stdlib = package(Ecosystem::Go, "stdlib", "go1.19.8");
        let c = coordinates(&stdlib, None).unwrap();
        assert_eq!((c.ecosystem.as_str(), c.scheme), ("Go", Scheme::Go));
        let mut jar = package(Ecosystem::Maven, "commons-cli", "1.5.0");
        jar.purl = "pkg:maven/commons-cli/commons-cli@1.5.0".into();
        // Maven ordering is not implemented: no scheme, no lookup.
        assert_eq!(coordinates(&jar, None), None);
        let alpine = Distro {
            id: "alpine".into(),
            version_id: "3.19.1".into(),
            ..Default::default()
        };
        let mut zlib = package(Ecosystem::Apk, "zlib", "1.3.1-r0");
        zlib.source = Some(SourcePackage {
            name: "zlib".into(),
            version: "1.3.1-r0".into(),
        });
        assert_eq!(
            coordinates(&zlib, Some(&alpine)).unwrap().ecosystem,
            "Alpine:v3.19"
        );
    }
}
