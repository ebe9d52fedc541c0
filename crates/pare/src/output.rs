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

/// Writes to a staging file beside `path`, then renames it into place.
fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    // An unpredictable staging name, 0666 less the umask (a report is for sharing),
    // never written through a link.
    let mut staged = pare_image::staging::StagedFile::create(path)?;
    let file = staged.file();
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing {}", path.display()))?;
    staged.commit()?;
    Ok(())
}
