//! What the global flags decide for the whole command, resolved once in `main` and
//! handed to the command: nothing of it is kept in a static.

use pare_image::ReadContext;

/// The global flags, checked.
pub struct Globals {
    /// How images are read and registries reached (`--max-layer-expansion`,
    /// `--platform`, the registry flags).
    pub read: ReadContext,
    /// `--quiet`: no progress bars or phase lines.
    pub quiet: bool,
}
