//! Where a command's document goes: a file, written atomically, or standard output.

use std::io::Write as _;
use std::path::Path;

use anyhow::Context;

/// Writes `text` to `path` (atomically: nothing is left half-written on error) or,
/// without a path, to standard output.
pub fn emit(text: &str, path: Option<&Path>) -> anyhow::Result<()> {
    match path {
        Some(path) => write_atomically(path, text.as_bytes()),
        None => {
            let mut out = std::io::stdout().lock();
            match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
                // The reader stopped reading (`pare … | head`): what it wanted it
                // has, and nothing is wrong with the command.
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                done => Ok(done?),
            }
        }
    }
}

/// A line to standard error, ignoring a closed one (see the `say!` macro). What it
/// quotes (a file of the image, a registry's error message) can hold control
/// characters: they are shown escaped, never sent to the terminal.
pub fn say(line: std::fmt::Arguments<'_>) {
    let line = line.to_string();
    let _ = writeln!(std::io::stderr(), "{}", crate::render::escape_text(&line));
}

/// Pretty JSON with a final newline.
pub fn pretty(v: &impl serde::Serialize) -> anyhow::Result<String> {
    Ok(serde_json::to_string_pretty(v)? + "\n")
}

/// Writes to a temporary file beside `path`, then renames it into place.
fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".pare-")
        .tempfile_in(dir)
        .with_context(|| format!("{}: cannot create a file there", dir.display()))?;
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .with_context(|| format!("writing {}", path.display()))?;
    tmp.persist(path)
        .map_err(|e| e.error)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}
