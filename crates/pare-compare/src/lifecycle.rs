//! Whether an image's base OS still gets security updates: release and end-of-life
//! dates from Debian's `distro-info-data` CSVs (Debian and Ubuntu), embedded so that
//! the answer needs no network. See `data/README.md` for where they come from.

use pare_sbom::Distro;
use serde::{Deserialize, Serialize};

const DEBIAN: &str = include_str!("../data/debian.csv");
const UBUNTU: &str = include_str!("../data/ubuntu.csv");

/// Where a release stands on a given day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SupportStatus {
    /// Not released yet (testing, a development series).
    Development,
    /// Security updates from the distribution itself.
    Supported,
    /// Past its regular end of life; security updates from the extended programme
    /// (Debian LTS, Ubuntu ESM).
    Extended,
    /// No more security updates.
    EndOfLife,
}

impl SupportStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SupportStatus::Development => "development",
            SupportStatus::Supported => "supported",
            SupportStatus::Extended => "extended",
            SupportStatus::EndOfLife => "end-of-life",
        }
    }
}

/// A release's dates (ISO `YYYY-MM-DD`) and where it stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Support {
    /// As distro-info names it: `12 (Bookworm)`, `22.04 LTS (Jammy Jellyfish)`.
    pub release_name: String,
    pub released: Option<String>,
    /// End of the distribution's own security support.
    pub end_of_life: Option<String>,
    /// The extended programme and when it ends (`Debian LTS`, `Ubuntu ESM`).
    pub extended: Option<String>,
    pub extended_until: Option<String>,
    pub status: SupportStatus,
}

/// The support status of `distro` on `today` (`YYYY-MM-DD`); `None` for a
/// distribution the data does not cover (Alpine, RHEL…) or a release it does not list.
pub fn support(distro: &Distro, today: &str) -> Option<Support> {
    let (data, extended_column, extended_name) = match distro.id.as_str() {
        "debian" => (DEBIAN, "eol-lts", "Debian LTS"),
        "ubuntu" => (UBUNTU, "eol-esm", "Ubuntu ESM"),
        _ => return None,
    };
    let release = releases(data).into_iter().find(|r| matches(r, distro))?;
    let date = |column: &str| release.get(column).filter(|d| !d.is_empty());
    // Ubuntu's older LTS releases had a longer server support than desktop.
    let end_of_life = [date("eol"), date("eol-server")]
        .into_iter()
        .flatten()
        .max()
        .cloned();
    let extended_until = date(extended_column).cloned();
    let released = date("release").cloned();
    let status = match (&released, &end_of_life, &extended_until) {
        (None, _, _) => SupportStatus::Development,
        (Some(r), _, _) if r.as_str() > today => SupportStatus::Development,
        (_, None, _) => SupportStatus::Supported,
        (_, Some(eol), _) if eol.as_str() > today => SupportStatus::Supported,
        (_, _, Some(ext)) if ext.as_str() > today => SupportStatus::Extended,
        _ => SupportStatus::EndOfLife,
    };
    Some(Support {
        release_name: format!(
            "{} ({})",
            release.get("version").map(String::as_str).unwrap_or("-"),
            release.get("codename").map(String::as_str).unwrap_or("-")
        ),
        released,
        end_of_life,
        extended: extended_until.as_ref().map(|_| extended_name.to_owned()),
        extended_until,
        status,
    })
}

/// A CSV row by column name.
type Release = std::collections::HashMap<String, String>;

fn releases(data: &str) -> Vec<Release> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(data.as_bytes());
    let Ok(headers) = reader.headers().cloned() else {
        return Vec::new();
    };
    reader
        .records()
        .filter_map(Result::ok)
        .map(|row| {
            headers
                .iter()
                .zip(row.iter())
                .map(|(h, v)| (h.to_owned(), v.to_owned()))
                .collect()
        })
        .collect()
}

/// os-release names a release by codename (`VERSION_CODENAME=bookworm`) and number
/// (`VERSION_ID="12"`, `"22.04"`); distro-info's `version` adds ` LTS` on Ubuntu.
fn matches(release: &Release, distro: &Distro) -> bool {
    let series = release.get("series").map(String::as_str).unwrap_or("");
    if let Some(codename) = distro.codename.as_deref().filter(|c| !c.is_empty()) {
        return series == codename;
    }
    let version = release.get("version").map(String::as_str).unwrap_or("");
    !distro.version_id.is_empty() && version.split(' ').next() == Some(distro.version_id.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn distro(id: &str, version_id: &str, codename: Option<&str>) -> Distro {
        Distro {
            id: id.into(),
            version_id: version_id.into(),
            pretty_name: None,
            codename: codename.map(str::to_owned),
        }
    }

    #[test]
    fn debian_12_through_its_life() {
        let bookworm = distro("debian", "12", Some("bookworm"));
        let on = |day| support(&bookworm, day).unwrap();
        let s = on("2025-01-01");
        assert_eq!(s.release_name, "12 (Bookworm)");
        assert_eq!(s.released.as_deref(), Some("2023-06-10"));
        assert_eq!(s.end_of_life.as_deref(), Some("2026-07-11"));
        assert_eq!(s.extended.as_deref(), Some("Debian LTS"));
        assert_eq!(s.extended_until.as_deref(), Some("2028-06-30"));
        assert_eq!(s.status, SupportStatus::Supported);
        assert_eq!(on("2026-11-30").status, SupportStatus::Extended);
        assert_eq!(on("2028-07-01").status, SupportStatus::EndOfLife);
        assert_eq!(on("2023-01-01").status, SupportStatus::Development);
    }

    #[test]
    fn by_version_alone_and_ubuntu_lts() {
        let buster = support(&distro("debian", "10", None), "2026-01-01").unwrap();
        assert_eq!(buster.status, SupportStatus::EndOfLife);
        let jammy = support(&distro("ubuntu", "22.04", Some("jammy")), "2026-01-01").unwrap();
        assert_eq!(jammy.release_name, "22.04 LTS (Jammy Jellyfish)");
        assert_eq!(jammy.end_of_life.as_deref(), Some("2027-06-01"));
        assert_eq!(jammy.extended.as_deref(), Some("Ubuntu ESM"));
        assert_eq!(jammy.status, SupportStatus::Supported);
        let jammy = support(&distro("ubuntu", "22.04", None), "2026-01-01").unwrap();
        assert_eq!(jammy.release_name, "22.04 LTS (Jammy Jellyfish)");
        // Lucid's server support outlived the desktop's.
        let lucid = support(&distro("ubuntu", "10.04", Some("lucid")), "2014-01-01").unwrap();
        assert_eq!(lucid.end_of_life.as_deref(), Some("2015-04-30"));
        assert_eq!(lucid.status, SupportStatus::Supported);
    }

    #[test]
    fn sid_and_unknown_distributions() {
        let sid = support(&distro("debian", "", Some("sid")), "2026-01-01").unwrap();
        assert_eq!(sid.status, SupportStatus::Development);
        assert!(support(&distro("alpine", "3.19.1", None), "2026-01-01").is_none());
        assert!(support(&distro("debian", "99", None), "2026-01-01").is_none());
    }
}
