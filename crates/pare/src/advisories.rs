//! The advisory settings `pare diff` and `pare compare` share with `pare scan`
//! (`--db`, `--vex`, `--ignore`): without a database they still run, and say that
//! vulnerabilities were not checked.

use std::path::{Path, PathBuf};

use anyhow::anyhow;

use pare_vuln::db::Database;
use pare_vuln::policy::Policy;

#[derive(clap::Args)]
pub struct AdvisoryArgs {
    /// The advisory database [default: as `pare db`]. Without one, vulnerabilities
    /// are left out (and the output says so); a --db that cannot be opened is an error.
    #[arg(long, value_name = "FILE")]
    pub db: Option<PathBuf>,
    /// A VEX document, OpenVEX or CycloneDX (repeatable): `not_affected` and `fixed`
    /// statements suppress their findings, as in `pare scan`.
    #[arg(long, value_name = "FILE")]
    pub vex: Vec<PathBuf>,
    /// An ignore file (repeatable), as in `pare scan`.
    #[arg(long, value_name = "FILE")]
    pub ignore: Vec<PathBuf>,
}

/// The database (if any) and the user's policy, read before any image is.
pub struct Advisories {
    pub database: Option<Database>,
    pub policy: Policy,
    /// Why vulnerabilities are not checked, when they are not.
    pub skipped: Option<String>,
}

impl AdvisoryArgs {
    pub fn resolve(&self) -> anyhow::Result<Advisories> {
        let policy = policy(&self.ignore, &self.vex, false)?;
        if self.db.is_some() {
            let database = open_database(&database_path(self.db.clone())?)?;
            return Ok(Advisories {
                database: Some(database),
                policy,
                skipped: None,
            });
        }
        let skipped = |why: String| Advisories {
            database: None,
            policy: Policy::default(),
            skipped: Some(why),
        };
        let Some(path) = pare_vuln::db::default_path() else {
            return Ok(skipped("no advisory database location (no HOME)".into()));
        };
        if !path.is_file() {
            return Ok(skipped(format!(
                "no advisory database at {} (`pare db update`, or `pare db import` offline, makes one)",
                path.display()
            )));
        }
        Ok(Advisories {
            database: Some(open_database(&path)?),
            policy,
            skipped: None,
        })
    }
}

impl Advisories {
    /// No vulnerabilities: for pages whose figures come from elsewhere.
    pub fn none() -> Advisories {
        Advisories {
            database: None,
            policy: Policy::default(),
            skipped: Some("not checked".into()),
        }
    }

    /// The inspector that reads images with these settings.
    pub fn inspector(&self) -> pare_compare::Inspector<'_> {
        pare_compare::Inspector {
            database: self.database.as_ref(),
            policy: self.policy.clone(),
        }
    }

    /// The database's path, for the report.
    pub fn database_path(&self) -> Option<String> {
        self.database
            .as_ref()
            .map(|d| d.path().display().to_string())
    }
}

/// The policy of ignore files, VEX documents and `--only-fixed` (shared with `pare
/// diff` and `pare compare`).
pub fn policy(ignore: &[PathBuf], vex: &[PathBuf], only_fixed: bool) -> anyhow::Result<Policy> {
    let mut policy = Policy {
        only_fixed,
        today: pare_vuln::ignore::today(),
        ..Default::default()
    };
    for path in ignore {
        policy.ignore.extend(pare_vuln::ignore::read(path)?);
    }
    for path in vex {
        policy.vex.extend(pare_vuln::vex::read(path)?);
    }
    Ok(policy)
}

/// The database file: `--db`, else the default under the user's cache folder.
pub fn database_path(flag: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    flag.or_else(pare_vuln::db::default_path).ok_or_else(|| {
        anyhow!("no cache folder: set HOME, XDG_CACHE_HOME or PARE_CACHE_DIR, or give --db FILE")
    })
}

/// Opens the database; when there is none, the error's hint says how to get one.
pub fn open_database(path: &Path) -> anyhow::Result<Database> {
    Ok(Database::open(path)?)
}
