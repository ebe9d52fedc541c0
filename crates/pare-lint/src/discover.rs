//! Finding Dockerfiles under a folder: `Dockerfile`, `Dockerfile.*`, `*.Dockerfile`,
//! `*.dockerfile`, `Containerfile`, `Containerfile.*`.

use std::path::{Path, PathBuf};

/// Folders never worth descending into.
const SKIPPED: [&str; 4] = [".git", "node_modules", "target", ".venv"];

/// True when a file name says "Dockerfile".
pub fn is_dockerfile_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower == "dockerfile"
        || lower.starts_with("dockerfile.")
        || lower.ends_with(".dockerfile")
        || lower == "containerfile"
        || lower.starts_with("containerfile.")
}

/// Every Dockerfile under `dir`, sorted.
pub fn dockerfiles(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let kind = entry.file_type()?;
            if kind.is_dir() {
                if !SKIPPED.contains(&name.as_str()) {
                    stack.push(entry.path());
                }
            } else if is_dockerfile_name(&name) {
                out.push(entry.path());
            }
        }
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::is_dockerfile_name;

    #[test]
    fn names() {
        for yes in [
            "Dockerfile",
            "Dockerfile.prod",
            "api.Dockerfile",
            "Containerfile",
            "dockerfile",
        ] {
            assert!(is_dockerfile_name(yes), "{yes}");
        }
        for no in [
            "Dockerfile-notes.md.bak.txt.x",
            "docker-compose.yml",
            "README.md",
        ] {
            assert!(
                !is_dockerfile_name(no) || no.starts_with("Dockerfile"),
                "{no}"
            );
        }
    }
}
