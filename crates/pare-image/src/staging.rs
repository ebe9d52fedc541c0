//! Writing an output where someone else may write too (`pare copy … DIR/out.tar` run
//! by root into a directory a user can write): the bytes go to a name nobody can
//! predict, created with `O_EXCL` beside the destination, and are renamed over it when
//! complete. Inside a directory output every file is opened relative to a directory
//! handle with `O_NOFOLLOW`, so no link planted on the way is ever followed. A
//! destination that is a symbolic link, or that belongs to another user, is refused.
//!
//! Staging names are `.NAME.pare-partial-PID-RANDOM`: one that a killed run left (its
//! PID gone) is recognisable, and the next run writing the same destination removes it.

use std::ffi::{CString, OsStr, OsString};
use std::fs::File;
use std::io::{self, Read, Seek, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::error::{ImageError, Result};

/// What every staging name holds after the destination's own name.
const MARK: &str = ".pare-partial-";

/// A file being written under a staging name beside its destination; or, when the
/// destination is a device or a FIFO of ours (`-o /dev/null`), straight into it: a
/// stream has nothing to replace, and renaming over it would put a file in its place.
pub struct StagedFile {
    target: Target,
    dest: PathBuf,
}

enum Target {
    Staged(tempfile::NamedTempFile),
    Direct(File),
}

impl StagedFile {
    /// Creates the staging file for `dest` (`0666` less the umask, as `File::create`
    /// would), after checking `dest` and removing what killed runs left beside it.
    pub fn create(dest: &Path) -> Result<Self> {
        use std::os::unix::fs::FileTypeExt;
        let kind = std::fs::symlink_metadata(dest).map(|m| m.file_type());
        let device = kind.as_ref().is_ok_and(|k| k.is_char_device());
        let fifo = kind.as_ref().is_ok_and(|k| k.is_fifo());
        let target = if device || fifo {
            // Devices are root's and nobody plants one; a FIFO must be ours.
            if fifo {
                check_destination(dest, Kind::File)?;
            }
            let file = std::fs::OpenOptions::new()
                .write(true)
                .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
                .open(dest)
                .map_err(|e| ImageError::io(dest, e))?;
            Target::Direct(file)
        } else {
            Target::Staged(prepare(dest, Kind::File, 0o666, |b, dir| {
                b.tempfile_in(dir)
            })?)
        };
        Ok(StagedFile {
            target,
            dest: dest.to_owned(),
        })
    }

    /// Where the bytes go.
    pub fn file(&mut self) -> &mut File {
        match &mut self.target {
            Target::Staged(file) => file.as_file_mut(),
            Target::Direct(file) => file,
        }
    }

    /// The staging file's path (for messages).
    pub fn path(&self) -> &Path {
        match &self.target {
            Target::Staged(file) => file.path(),
            Target::Direct(_) => &self.dest,
        }
    }

    /// Renames the finished file over the destination; returns its size.
    pub fn commit(self) -> Result<u64> {
        let file = match self.target {
            Target::Direct(mut file) => {
                let written = file.stream_position().unwrap_or(0);
                return Ok(written);
            }
            Target::Staged(file) => file,
        };
        let size = file
            .as_file()
            .metadata()
            .map_err(|e| ImageError::io(file.path(), e))?
            .len();
        check_destination(&self.dest, Kind::File)?;
        let dest = self.dest;
        file.persist(&dest)
            .map_err(|e| ImageError::io(&dest, e.error))?;
        Ok(size)
    }
}

/// A new directory (an OCI layout) being filled under a staging name beside its
/// destination; dropped uncommitted, it is removed.
pub struct StagedDir {
    path: PathBuf,
    root: Dir,
    dest: PathBuf,
    kind: Kind,
    committed: bool,
}

impl StagedDir {
    /// Makes the staging directory for `dest` (which must not exist, or be an empty
    /// directory of ours), `0777` less the umask.
    pub fn create(dest: &Path) -> Result<Self> {
        StagedDir::make(dest, Kind::Dir)
    }

    /// A staging directory beside `dest`, an existing directory of ours (an OCI
    /// layout an image is added to): what is staged is moved in with
    /// [`StagedDir::move_into`], and the staging directory goes when dropped.
    pub fn create_beside(dest: &Path) -> Result<Self> {
        StagedDir::make(dest, Kind::ExistingDir)
    }

    fn make(dest: &Path, kind: Kind) -> Result<Self> {
        let path = prepare(dest, kind, 0o777, |b, dir| b.tempdir_in(dir))?.keep();
        let root = match Dir::open_ours(&path) {
            Ok(root) => root,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&path);
                return Err(ImageError::io(&path, e));
            }
        };
        Ok(StagedDir {
            path,
            root,
            dest: dest.to_owned(),
            kind,
            committed: false,
        })
    }

    /// The directory to fill.
    pub fn root(&self) -> &Dir {
        &self.root
    }

    /// The staging directory's path (for messages).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Moves `rel` (a file) from the staging directory to the same place in `into`,
    /// its directories made as needed; neither side is walked through a link.
    pub fn move_into(&self, rel: &str, into: &Dir) -> io::Result<()> {
        self.root.move_into(rel, into)
    }

    /// Renames the finished directory over the destination (an empty directory there
    /// is replaced in the same step). A staging directory beside an existing one
    /// ([`StagedDir::create_beside`]) has nothing to rename: it is removed.
    pub fn commit(mut self) -> Result<()> {
        if self.kind == Kind::ExistingDir {
            return Ok(());
        }
        check_destination(&self.dest, self.kind)?;
        std::fs::rename(&self.path, &self.dest).map_err(|e| ImageError::io(&self.dest, e))?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for StagedDir {
    fn drop(&mut self) {
        if !self.committed {
            // Not through a link: std's remove_dir_all removes a link, not its target.
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

/// Checks `dest`, removes what killed runs left beside it, and makes its staging
/// file or directory (`make`) with a random name and `mode` less the umask.
fn prepare<T>(
    dest: &Path,
    kind: Kind,
    mode: u32,
    make: impl FnOnce(&tempfile::Builder, &Path) -> io::Result<T>,
) -> Result<T> {
    check_destination(dest, kind)?;
    remove_leftovers(dest, Leftovers::OfDeadRuns);
    let dir = parent(dest);
    let prefix = staging_prefix(dest);
    let mut builder = tempfile::Builder::new();
    builder
        .prefix(&prefix)
        .rand_bytes(16)
        .permissions(std::fs::Permissions::from_mode(mode));
    make(&builder, dir).map_err(|e| ImageError::io(dir, e))
}

/// An open directory: files are created, read and renamed relative to it, each path
/// component opened with `O_NOFOLLOW`.
pub struct Dir {
    fd: File,
}

impl Dir {
    /// Opens `path` (not through a link at its end), requiring that it belongs to the
    /// user pare runs as.
    pub fn open_ours(path: &Path) -> io::Result<Self> {
        let fd = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(path)
            .map_err(|e| refine_nofollow(e, path))?;
        Dir::checked(fd)
    }

    fn checked(fd: File) -> io::Result<Self> {
        let uid = fd.metadata()?.uid();
        if uid != euid() {
            return Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                format!(
                    "it belongs to uid {uid}, not to the user pare runs as; pare does not write into another user's directory"
                ),
            ));
        }
        Ok(Dir { fd })
    }

    /// Whether `rel` is a regular file (not a link to one).
    pub fn has_file(&self, rel: &str) -> bool {
        let Ok((dir, name)) = self.walk(rel, false) else {
            return false;
        };
        let Ok(name) = cstring(name) else {
            return false;
        };
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: a valid fd, a NUL-terminated name and a stat buffer of the right type.
        let r = unsafe {
            libc::fstatat(
                dir.fd.as_raw_fd(),
                name.as_ptr(),
                &mut st,
                libc::AT_SYMLINK_NOFOLLOW,
            )
        };
        r == 0 && (st.st_mode & libc::S_IFMT) == libc::S_IFREG
    }

    /// Whether the directory has no entries.
    pub fn is_empty(&self) -> io::Result<bool> {
        Ok(std::fs::read_dir(self.proc_path())?.next().is_none())
    }

    /// Reads `rel` whole, up to `limit` bytes (more is an error).
    pub fn read(&self, rel: &str, limit: u64) -> io::Result<Vec<u8>> {
        let (dir, name) = self.walk(rel, false)?;
        let file = dir.open_at(name, libc::O_RDONLY, 0)?;
        let mut bytes = Vec::new();
        file.take(limit + 1).read_to_end(&mut bytes)?;
        if bytes.len() as u64 > limit {
            return Err(io::Error::other(format!(
                "{rel} is larger than {limit} bytes"
            )));
        }
        Ok(bytes)
    }

    /// Writes `bytes` to `rel` (its directories made as needed): under a staging name
    /// created with `O_EXCL`, renamed into place when complete. Returns bytes written.
    pub fn write(&self, rel: &str, bytes: &mut dyn Read) -> io::Result<u64> {
        let (dir, name) = self.walk(rel, true)?;
        let (mut file, staging) = dir.create_staging(name)?;
        let result = (|| {
            let mut out = io::BufWriter::with_capacity(1 << 16, &mut file);
            let n = io::copy(bytes, &mut out)?;
            out.flush()?;
            drop(out);
            dir.rename_at(&staging, name)?;
            Ok(n)
        })();
        if result.is_err() {
            let _ = dir.unlink_at(&staging);
        }
        result
    }

    /// Removes the staging files killed runs (or, with [`Leftovers::OfThisRun`], this
    /// run) left in this directory and its subdirectories, `depth` levels down.
    pub fn remove_leftovers(&self, which: Leftovers, depth: usize) {
        let Ok(entries) = std::fs::read_dir(self.proc_path()) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Ok(meta) = entry.metadata() else { continue };
            if meta.is_dir() && depth > 0 {
                if let Some(sub) = name.to_str().and_then(|n| self.open_dir(n, false).ok()) {
                    sub.remove_leftovers(which, depth - 1);
                }
                continue;
            }
            if meta.is_file()
                && meta.uid() == euid()
                && leftover_pid(&name).is_some_and(|pid| which.matches(pid))
            {
                let _ = self.unlink_at(&name);
            }
        }
    }

    /// This directory as a path through `/proc/self/fd` (for listing it).
    fn proc_path(&self) -> PathBuf {
        PathBuf::from(format!("/proc/self/fd/{}", self.fd.as_raw_fd()))
    }

    /// The directory holding `rel`'s last component (made when `create`), and that
    /// component.
    fn walk<'r>(&self, rel: &'r str, create: bool) -> io::Result<(DirRef<'_>, &'r str)> {
        let mut parts: Vec<&str> = rel.split('/').collect();
        let name = parts.pop().unwrap_or_default();
        if name.is_empty()
            || parts
                .iter()
                .chain([&name])
                .any(|p| matches!(*p, "" | "." | ".."))
        {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{rel:?} is not a plain relative path"),
            ));
        }
        let mut dir = DirRef::Borrowed(self);
        for part in parts {
            dir = DirRef::Owned(dir.get().open_dir(part, create)?);
        }
        Ok((dir, name))
    }

    /// Opens the subdirectory `name` (made first when `create`), never through a link,
    /// and only if it is ours.
    fn open_dir(&self, name: &str, create: bool) -> io::Result<Dir> {
        let c = cstring(name)?;
        if create {
            // SAFETY: a valid fd and a NUL-terminated name.
            let r = unsafe { libc::mkdirat(self.fd.as_raw_fd(), c.as_ptr(), 0o777) };
            if r != 0 {
                let e = io::Error::last_os_error();
                if e.kind() != io::ErrorKind::AlreadyExists {
                    return Err(e);
                }
            }
        }
        let fd = self
            .open_at(name, libc::O_RDONLY | libc::O_DIRECTORY, 0)
            .map_err(|e| refine_nofollow(e, Path::new(name)))?;
        Dir::checked(fd)
    }

    /// `openat` with `O_NOFOLLOW | O_CLOEXEC` added.
    fn open_at(&self, name: impl AsRef<OsStr>, flags: i32, mode: libc::c_uint) -> io::Result<File> {
        let c = cstring(name)?;
        // SAFETY: a valid fd and a NUL-terminated name; the fd returned is owned here.
        let fd = unsafe {
            libc::openat(
                self.fd.as_raw_fd(),
                c.as_ptr(),
                flags | libc::O_NOFOLLOW | libc::O_CLOEXEC,
                mode,
            )
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: fd was just returned by openat and is owned by nobody else.
        Ok(File::from(unsafe { OwnedFd::from_raw_fd(fd) }))
    }

    /// A new file under a random staging name for `name`.
    fn create_staging(&self, name: &str) -> io::Result<(File, OsString)> {
        loop {
            let staging = OsString::from(format!(
                ".{name}{MARK}{}-{:016x}",
                std::process::id(),
                random()
            ));
            match self.open_at(
                &staging,
                libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL,
                0o666,
            ) {
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                other => return other.map(|file| (file, staging)),
            }
        }
    }

    /// Moves the file `rel` to the same place under `into` (its directories made as
    /// needed), by `renameat` between the two directories' handles.
    pub fn move_into(&self, rel: &str, into: &Dir) -> io::Result<()> {
        let (from, name) = self.walk(rel, false)?;
        let (to, _) = into.walk(rel, true)?;
        let c = cstring(name)?;
        // SAFETY: valid fds and a NUL-terminated name.
        let r = unsafe {
            libc::renameat(
                from.fd.as_raw_fd(),
                c.as_ptr(),
                to.fd.as_raw_fd(),
                c.as_ptr(),
            )
        };
        if r != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    fn rename_at(&self, from: impl AsRef<OsStr>, to: impl AsRef<OsStr>) -> io::Result<()> {
        let (from, to) = (cstring(from)?, cstring(to)?);
        let fd = self.fd.as_raw_fd();
        // SAFETY: valid fds and NUL-terminated names.
        if unsafe { libc::renameat(fd, from.as_ptr(), fd, to.as_ptr()) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    fn unlink_at(&self, name: impl AsRef<OsStr>) -> io::Result<()> {
        let c = cstring(name)?;
        // SAFETY: a valid fd and a NUL-terminated name.
        if unsafe { libc::unlinkat(self.fd.as_raw_fd(), c.as_ptr(), 0) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
}

/// A directory handle met on the way down: the first is borrowed, the rest opened.
enum DirRef<'a> {
    Borrowed(&'a Dir),
    Owned(Dir),
}

impl DirRef<'_> {
    fn get(&self) -> &Dir {
        match self {
            DirRef::Borrowed(d) => d,
            DirRef::Owned(d) => d,
        }
    }
}

impl std::ops::Deref for DirRef<'_> {
    type Target = Dir;
    fn deref(&self) -> &Dir {
        self.get()
    }
}

/// Which staging names to remove.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Leftovers {
    /// Those of runs no longer running (killed: nothing of theirs could clean up).
    OfDeadRuns,
    /// This process's own (what an interrupt cuts short).
    OfThisRun,
}

impl Leftovers {
    fn matches(self, pid: u32) -> bool {
        match self {
            Leftovers::OfThisRun => pid == std::process::id(),
            Leftovers::OfDeadRuns => pid != std::process::id() && !alive(pid),
        }
    }
}

/// What a destination is to be.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    File,
    /// A new directory, or an empty one of ours.
    Dir,
    /// An existing directory of ours (a layout added to).
    ExistingDir,
}

/// Refuses a destination that is a symbolic link or belongs to another user, and a
/// directory destination that is something other than an empty directory.
fn check_destination(dest: &Path, kind: Kind) -> Result<()> {
    let refuse = |reason: String| {
        Err(ImageError::UnsafeDestination {
            path: dest.to_owned(),
            reason,
        })
    };
    if dest.file_name().is_none() {
        return refuse("it names no file".into());
    }
    let meta = match std::fs::symlink_metadata(dest) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(ImageError::io(dest, e)),
    };
    if meta.file_type().is_symlink() {
        return refuse("it is a symbolic link; pare does not write through links".into());
    }
    if meta.uid() != euid() {
        return refuse(format!(
            "it belongs to uid {}, not to the user pare runs as; pare does not replace another user's files",
            meta.uid()
        ));
    }
    match kind {
        Kind::File if meta.is_dir() => refuse("it is a directory".into()),
        Kind::Dir | Kind::ExistingDir if !meta.is_dir() => {
            refuse("it exists and is not a directory".into())
        }
        Kind::Dir
            if std::fs::read_dir(dest)
                .map(|mut d| d.next().is_some())
                .unwrap_or(true) =>
        {
            refuse(
                "the directory exists and is not an OCI layout; pare does not write into it".into(),
            )
        }
        _ => Ok(()),
    }
}

/// Opens an existing directory destination (an OCI layout images are added to),
/// refusing a link or another user's directory.
pub fn open_existing_dir(dest: &Path) -> Result<Dir> {
    Dir::open_ours(dest).map_err(|e| match e.kind() {
        io::ErrorKind::PermissionDenied | io::ErrorKind::InvalidInput => {
            ImageError::UnsafeDestination {
                path: dest.to_owned(),
                reason: e.to_string(),
            }
        }
        _ => ImageError::io(dest, e),
    })
}

/// Removes the staging files and directories beside `dest` (and, when `dest` is a
/// directory of ours, inside it) that `which` names. Only entries of the user pare
/// runs as are touched, and no link is followed.
pub fn remove_leftovers(dest: &Path, which: Leftovers) {
    let prefix = name_prefix(dest);
    if let Ok(entries) = std::fs::read_dir(parent(dest)) {
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(rest) = name.as_bytes().strip_prefix(prefix.as_bytes()) else {
                continue;
            };
            let pid = leftover_pid_after_mark(rest);
            let Ok(meta) = std::fs::symlink_metadata(entry.path()) else {
                continue;
            };
            if meta.uid() != euid() || !pid.is_some_and(|pid| which.matches(pid)) {
                continue;
            }
            if meta.is_dir() {
                let _ = std::fs::remove_dir_all(entry.path());
            } else {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
    if let Ok(dir) = Dir::open_ours(dest) {
        dir.remove_leftovers(which, 3);
    }
}

/// The PID in a staging name (`.NAME.pare-partial-PID[-RANDOM]`), if it is one.
fn leftover_pid(name: &OsStr) -> Option<u32> {
    let bytes = name.as_bytes();
    let at = bytes
        .windows(MARK.len())
        .rposition(|w| w == MARK.as_bytes())?;
    bytes
        .starts_with(b".")
        .then(|| leftover_pid_after_mark(&bytes[at + MARK.len()..]))
        .flatten()
}

fn leftover_pid_after_mark(rest: &[u8]) -> Option<u32> {
    let pid = rest.split(|b| *b == b'-').next()?;
    std::str::from_utf8(pid).ok()?.parse().ok()
}

/// `.NAME.pare-partial-`: what every staging name for `dest` starts with.
fn name_prefix(dest: &Path) -> OsString {
    let mut prefix = OsString::from(".");
    prefix.push(dest.file_name().unwrap_or_default());
    prefix.push(MARK);
    prefix
}

/// `.NAME.pare-partial-PID-`: this run's staging names for `dest` (a random part follows).
fn staging_prefix(dest: &Path) -> OsString {
    let mut prefix = name_prefix(dest);
    prefix.push(format!("{}-", std::process::id()));
    prefix
}

/// The directory `dest` is in (`.` for a bare name).
fn parent(dest: &Path) -> &Path {
    match dest.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

/// A link where `O_NOFOLLOW` met one reads as "too many levels of symbolic links";
/// the user is told what it is.
fn refine_nofollow(e: io::Error, path: &Path) -> io::Error {
    match e.raw_os_error() {
        Some(libc::ELOOP) | Some(libc::ENOTDIR) => io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "{} is a symbolic link or not a directory; pare does not write through links",
                path.display()
            ),
        ),
        _ => e,
    }
}

fn cstring(name: impl AsRef<OsStr>) -> io::Result<CString> {
    CString::new(name.as_ref().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a name with a NUL byte"))
}

fn euid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// Whether process `pid` exists (one of another user counts).
fn alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    if pid <= 0 {
        return false;
    }
    // SAFETY: signal 0 only checks that the process exists.
    unsafe {
        libc::kill(pid, 0) == 0 || io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
    }
}

/// 64 bits from the kernel's random source.
fn random() -> u64 {
    let mut buf = [0u8; 8];
    // SAFETY: the buffer is 8 writable bytes.
    let n = unsafe { libc::getrandom(buf.as_mut_ptr().cast(), buf.len(), 0) };
    if n != buf.len() as isize {
        // Unpredictable enough for a name that O_EXCL already protects.
        use std::hash::{BuildHasher, RandomState};
        return RandomState::new().hash_one(std::time::SystemTime::now());
    }
    u64::from_ne_bytes(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staging_names_are_recognised() {
        assert_eq!(
            leftover_pid(OsStr::new(".out.tar.pare-partial-123-00ff")),
            Some(123)
        );
        assert_eq!(
            leftover_pid(OsStr::new(".out.tar.pare-partial-77")),
            Some(77)
        );
        assert_eq!(leftover_pid(OsStr::new("out.tar.pare-partial-77")), None);
        assert_eq!(leftover_pid(OsStr::new(".out.tar")), None);
    }

    #[test]
    fn a_planted_link_is_never_followed() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "secret").unwrap();
        let dest = dir.path().join("out.tar");
        std::os::unix::fs::symlink(&victim, &dest).unwrap();
        let err = StagedFile::create(&dest).err().unwrap();
        assert!(err.to_string().contains("symbolic link"), "{err}");

        std::fs::remove_file(&dest).unwrap();
        let layout = dir.path().join("layout");
        std::fs::create_dir(&layout).unwrap();
        std::os::unix::fs::symlink(&victim, layout.join("index.json")).unwrap();
        std::os::unix::fs::symlink(dir.path(), layout.join("blobs")).unwrap();
        let root = Dir::open_ours(&layout).unwrap();
        assert!(!root.has_file("index.json"));
        assert!(root.read("index.json", 10).is_err());
        root.write("index.json", &mut &b"{}"[..]).unwrap();
        assert!(root.write("blobs/sha256/ab", &mut &b"x"[..]).is_err());
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "secret");
        assert!(
            !std::fs::symlink_metadata(layout.join("index.json"))
                .unwrap()
                .is_symlink()
        );
    }

    #[test]
    fn a_device_is_written_into_not_replaced() {
        let dest = Path::new("/dev/null");
        let mut staged = StagedFile::create(dest).unwrap();
        staged.file().write_all(b"discarded").unwrap();
        staged.commit().unwrap();
        use std::os::unix::fs::FileTypeExt;
        assert!(
            dest.symlink_metadata()
                .unwrap()
                .file_type()
                .is_char_device()
        );
    }

    #[test]
    fn leftovers_of_dead_runs_go_and_a_live_ones_stay() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("out.tar");
        // 4194305 is above the largest PID Linux hands out.
        let dead = dir.path().join(".out.tar.pare-partial-4194305-0123");
        let dead_dir = dir.path().join(".out.tar.pare-partial-4194305-4567");
        let live = dir.path().join(".out.tar.pare-partial-1-89ab");
        std::fs::write(&dead, "x").unwrap();
        std::fs::create_dir_all(dead_dir.join("blobs")).unwrap();
        std::fs::write(&live, "x").unwrap();
        let mut staged = StagedFile::create(&dest).unwrap();
        assert!(!dead.exists() && !dead_dir.exists());
        assert!(live.exists(), "PID 1 is running");
        staged.file().write_all(b"done").unwrap();
        assert_eq!(staged.commit().unwrap(), 4);
        assert_eq!(std::fs::read(&dest).unwrap(), b"done");
    }
}
