//! Unpacking an image into a root filesystem on disk, for running it without a
//! container engine (an OCI runtime runs a bundle: a `rootfs` directory and a config).
//!
//! The layers go through the same hostile-input reader as every other command (`..`
//! and hardlinks out of the root dropped, limits on names, entries and expansion),
//! and each file's bytes are spooled to their own file in the work directory while
//! they stream. Whiteouts are applied by the fold, so only the final version of each
//! path is put in place (by a rename from the spool). Writing never follows anything
//! from the image: every parent directory of a path written is one this function
//! created itself as a real directory, so a symlink in the image (`/a -> /etc`, then
//! `/a/passwd`) can never redirect a write to the host.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{ImageError, Result};
use crate::layer::{ContentReducer, EntryKind, ReadOptions};
use crate::{FileIndex, OpenImage};

/// What unpacking did.
#[derive(Debug, Default)]
pub struct Unpacked {
    /// Regular files, symlinks and hardlinks put in place.
    pub entries: u64,
    /// Paths left out, and why (device files, links to nowhere, paths below a
    /// non-directory).
    pub skipped: Vec<(String, &'static str)>,
}

/// Unpacks `image` into `rootfs` (which must not exist yet), spooling file bytes in
/// `spool` (on the same filesystem, so they can be renamed into place). Owners are set
/// when running as root; modes are the image's, setuid bits included.
pub fn unpack(image: &OpenImage, rootfs: &Path, spool: &Path) -> Result<Unpacked> {
    std::fs::create_dir_all(spool).map_err(|e| ImageError::io(spool, e))?;
    let counter = Arc::new(AtomicU64::new(0));
    let spool_dir = spool.to_owned();
    let options = ReadOptions {
        reduce_content: Some(Arc::new(move |_: &str, _: u64, _: u32| {
            let n = counter.fetch_add(1, Ordering::Relaxed);
            SpoolFile::create(spool_dir.join(format!("{n:08}")))
                .map(|s| Box::new(s) as Box<dyn ContentReducer>)
        })),
        ..Default::default()
    };
    let read = image.read(&options)?;
    std::fs::create_dir(rootfs).map_err(|e| ImageError::io(rootfs, e))?;
    materialize(&read.index, rootfs)
}

/// A file's bytes written to a spool file as they stream; its path is what the index
/// keeps as the file's content.
struct SpoolFile {
    path: PathBuf,
    out: Option<BufWriter<File>>,
}

impl SpoolFile {
    fn create(path: PathBuf) -> Option<Self> {
        let out = File::create(&path).ok().map(BufWriter::new);
        Some(SpoolFile { path, out })
    }
}

impl ContentReducer for SpoolFile {
    fn update(&mut self, chunk: &[u8]) -> bool {
        if let Some(out) = self.out.as_mut()
            && out.write_all(chunk).is_err()
        {
            self.out = None;
        }
        self.out.is_some()
    }

    fn finish(self: Box<Self>) -> Option<Vec<u8>> {
        let mut out = self.out?;
        out.flush().ok()?;
        Some(self.path.into_os_string().into_encoded_bytes())
    }
}

/// Why an index entry may not be put on disk (or into a slim layer), if it may not:
/// the rules unpacking and `pare build`'s assembly share, so that a slim image never
/// holds what the unpacker would refuse. A device file is the runtime's business; an
/// entry below a symlink or a file would be written through it; a hardlink must name
/// a regular file the image has at exactly that path (never one reached through a
/// symlink, which could lead out of the root).
pub fn refusal(index: &FileIndex, path: &str) -> Option<&'static str> {
    let node = index.nodes.get(path)?;
    if !ancestors_are_directories(index, path) {
        return Some("below a path that is not a directory");
    }
    match node.kind {
        EntryKind::CharDevice | EntryKind::BlockDevice => {
            Some("device file (the runtime provides /dev)")
        }
        EntryKind::Whiteout | EntryKind::OpaqueWhiteout => Some("whiteout"),
        EntryKind::Hardlink => {
            let target = node.link.as_deref().unwrap_or_default();
            let is_file = index
                .nodes
                .get(target)
                .is_some_and(|t| t.kind == EntryKind::File);
            (!is_file || !ancestors_are_directories(index, target))
                .then_some("hardlink to no regular file at that path (through a symlink?)")
        }
        _ => None,
    }
}

/// Whether every ancestor of `path` the index lists is a directory (unlisted ones are
/// implied directories).
fn ancestors_are_directories(index: &FileIndex, path: &str) -> bool {
    let mut at = crate::path::parent(path);
    while at != "/" {
        if index
            .nodes
            .get(at)
            .is_some_and(|n| n.kind != EntryKind::Dir)
        {
            return false;
        }
        at = crate::path::parent(at);
    }
    true
}

fn materialize(index: &FileIndex, rootfs: &Path) -> Result<Unpacked> {
    let mut done = Unpacked::default();
    // Index paths this function created as real directories, and regular files.
    let mut dirs: HashSet<String> = HashSet::from(["/".to_owned()]);
    let mut files: HashSet<&str> = HashSet::new();
    let non_dirs: HashMap<&str, EntryKind> = index
        .nodes
        .iter()
        .filter(|(_, n)| n.kind != EntryKind::Dir)
        .map(|(p, n)| (p.as_str(), n.kind))
        .collect();
    // The bytes the layer named each path by, not the escaped text of the index.
    let host = |path: &str| rootfs.join(crate::path::name_to_path(path.trim_start_matches('/')));
    // Hardlinks last, so that their targets are in place whatever their names.
    let (links, others): (Vec<_>, Vec<_>) = index
        .nodes
        .iter()
        .partition(|(_, n)| n.kind == EntryKind::Hardlink);
    for (path, node) in others.into_iter().chain(links) {
        if path == "/" {
            continue;
        }
        if let Some(why) = refusal(index, path) {
            if why != "whiteout" {
                done.skipped.push((path.clone(), why));
            }
            continue;
        }
        let parent = match path.rsplit_once('/') {
            Some(("", _)) | None => "/",
            Some((p, _)) => p,
        };
        if !ensure_dir(parent, &mut dirs, &non_dirs, &host)? {
            done.skipped
                .push((path.clone(), "below a path that is not a directory"));
            continue;
        }
        let target = host(path);
        let io = |e| ImageError::io(&target, e);
        match node.kind {
            EntryKind::Dir => {
                std::fs::create_dir(&target).map_err(io)?;
                dirs.insert(path.clone());
            }
            EntryKind::File => {
                match node.content.as_deref() {
                    Some(spooled) => {
                        let from = spooled_path(spooled);
                        std::fs::rename(&from, &target).map_err(io)?;
                    }
                    None if node.size == 0 => {
                        File::create(&target).map_err(io)?;
                    }
                    None => {
                        return Err(ImageError::io(
                            &target,
                            std::io::Error::other("its bytes could not be spooled"),
                        ));
                    }
                }
                files.insert(path);
            }
            EntryKind::Symlink => {
                let link = node.link.as_deref().unwrap_or_default();
                std::os::unix::fs::symlink(crate::path::name_to_path(link), &target).map_err(io)?;
            }
            EntryKind::Hardlink => {
                let source = node.link.as_deref().unwrap_or_default();
                if !files.contains(source) {
                    done.skipped
                        .push((path.clone(), "hardlink to a file not unpacked"));
                    continue;
                }
                std::fs::hard_link(host(source), &target).map_err(io)?;
                done.entries += 1;
                continue;
            }
            EntryKind::Fifo => {
                let c = std::ffi::CString::new(target.as_os_str().as_encoded_bytes())
                    .map_err(|_| io(std::io::Error::other("a NUL byte in the path")))?;
                // SAFETY: mkfifo with a NUL-terminated path; it creates, never follows.
                if unsafe { libc::mkfifo(c.as_ptr(), 0o600) } != 0 {
                    return Err(io(std::io::Error::last_os_error()));
                }
            }
            // Refused above.
            EntryKind::CharDevice
            | EntryKind::BlockDevice
            | EntryKind::Whiteout
            | EntryKind::OpaqueWhiteout => continue,
        }
        done.entries += 1;
        // Owner first: chown clears setuid/setgid bits, so the mode comes after it.
        if is_root() {
            std::os::unix::fs::lchown(&target, Some(node.uid as u32), Some(node.gid as u32))
                .map_err(io)?;
        }
        if node.kind != EntryKind::Symlink {
            std::fs::set_permissions(&target, std::fs::Permissions::from_mode(node.mode & 0o7777))
                .map_err(io)?;
        }
    }
    // Modification times last: creating an entry changes its directory's. Apps read
    // them (a web server's Last-Modified and ETag), so the bundle must have the
    // image's, as the slim image does.
    for (path, node) in &index.nodes {
        if path != "/" && !done.skipped.iter().any(|(p, _)| p == path) {
            set_mtime(&host(path), node.mtime);
        }
    }
    Ok(done)
}

/// Sets a path's access and modification times to `mtime` (seconds), without following
/// a symlink; a path that is not there is left alone.
fn set_mtime(path: &Path, mtime: u64) {
    let Ok(c) = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()) else {
        return;
    };
    let time = libc::timespec {
        tv_sec: mtime.min(i64::MAX as u64) as libc::time_t,
        tv_nsec: 0,
    };
    let times = [time, time];
    // SAFETY: utimensat with a NUL-terminated path and two timespecs; it never follows
    // the final symlink (AT_SYMLINK_NOFOLLOW).
    unsafe {
        libc::utimensat(
            libc::AT_FDCWD,
            c.as_ptr(),
            times.as_ptr(),
            libc::AT_SYMLINK_NOFOLLOW,
        )
    };
}

/// Makes sure the index directory `dir` exists under the root as a directory this
/// function created, creating missing ancestors (0755, root) that the image implies
/// without listing. False when the image has something else than a directory there.
fn ensure_dir(
    dir: &str,
    dirs: &mut HashSet<String>,
    non_dirs: &HashMap<&str, EntryKind>,
    host: &dyn Fn(&str) -> PathBuf,
) -> Result<bool> {
    if dirs.contains(dir) {
        return Ok(true);
    }
    let mut at = String::new();
    for part in dir.split('/').filter(|p| !p.is_empty()) {
        at.push('/');
        at.push_str(part);
        if dirs.contains(&at) {
            continue;
        }
        if non_dirs.contains_key(at.as_str()) {
            return Ok(false);
        }
        let target = host(&at);
        std::fs::create_dir(&target).map_err(|e| ImageError::io(&target, e))?;
        dirs.insert(at.clone());
    }
    Ok(true)
}

/// The spool file a [`SpoolFile`] named in the index.
fn spooled_path(bytes: &[u8]) -> PathBuf {
    // SAFETY: these bytes come from `into_encoded_bytes` in `SpoolFile::finish`.
    PathBuf::from(unsafe { std::ffi::OsString::from_encoded_bytes_unchecked(bytes.to_vec()) })
}

/// Owners can only be given by root; anyone else unpacks as themselves.
fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ImageRef;
    use crate::testutil::{TarItem, gzip, tar_of, write_layout};
    use std::os::unix::fs::MetadataExt;

    fn layer(items: &[TarItem]) -> (Vec<u8>, Vec<u8>) {
        let tar = tar_of(items);
        (gzip(&tar), tar)
    }

    #[test]
    fn unpacks_the_final_files_and_never_writes_outside() {
        let dir = tempfile::tempdir().expect("temp dir");
        let outside = dir.path().join("outside");
        std::fs::create_dir(&outside).expect("outside dir");
        let layout = dir.path().join("layout");
        let escape = format!("{}", outside.display());
        write_layout(
            &layout,
            &[
                layer(&[
                    TarItem::dir("etc/"),
                    TarItem::file("etc/config", b"old", 0o644),
                    TarItem::file("etc/gone", b"x", 0o644),
                    TarItem::dir("opq/"),
                    TarItem::file("opq/lower", b"l", 0o644),
                    TarItem::file("usr/bin/tool", b"#!/bin/true\n", 0o4755),
                    TarItem::hardlink("usr/bin/tool-again", "usr/bin/tool"),
                    // An absolute symlink to a host directory, then a file "below" it.
                    TarItem::symlink("evil", &escape),
                    TarItem::file("evil/planted", b"pwned", 0o644),
                    TarItem::file("../escaped", b"pwned", 0o644),
                    TarItem::char_device("dev/null"),
                ]),
                layer(&[
                    TarItem::file("etc/config", b"new", 0o600),
                    TarItem::file("etc/.wh.gone", b"", 0o644),
                    TarItem::file("opq/.wh..wh..opq", b"", 0o644),
                    TarItem::file("opq/upper", b"u", 0o644),
                    TarItem::file("empty", b"", 0o644),
                ]),
            ],
        );
        let image = crate::open_image(
            &crate::ReadContext::default(),
            &ImageRef::parse(&format!("oci:{}", layout.display())).expect("reference"),
            None,
        )
        .expect("open");
        let rootfs = dir.path().join("rootfs");
        let done = unpack(&image, &rootfs, &dir.path().join("spool")).expect("unpack");

        let read = |p: &str| std::fs::read_to_string(rootfs.join(p)).ok();
        assert_eq!(read("etc/config").as_deref(), Some("new"));
        let config = std::fs::metadata(rootfs.join("etc/config")).expect("meta");
        assert_eq!(config.mode() & 0o7777, 0o600);
        // The image's modification times, directories' too (a web server's ETag).
        assert_eq!(config.mtime(), 1_700_000_000);
        let etc = std::fs::metadata(rootfs.join("etc")).expect("meta");
        assert_eq!(etc.mtime(), 1_700_000_000);
        assert_eq!(read("etc/gone"), None, "whiteout applied");
        assert_eq!(read("opq/lower"), None, "opaque directory applied");
        assert_eq!(read("opq/upper").as_deref(), Some("u"));
        assert_eq!(read("empty").as_deref(), Some(""));
        let tool = std::fs::metadata(rootfs.join("usr/bin/tool")).expect("tool");
        assert_eq!(tool.mode() & 0o7777, 0o4755, "setuid kept");
        let again = std::fs::metadata(rootfs.join("usr/bin/tool-again")).expect("link");
        assert_eq!(again.ino(), tool.ino(), "a hardlink, not a copy");
        assert_eq!(
            std::fs::read_link(rootfs.join("evil")).expect("symlink"),
            outside,
            "the symlink itself is kept as the image has it"
        );
        assert!(
            std::fs::read_dir(&outside)
                .expect("outside")
                .next()
                .is_none(),
            "something was written through the symlink"
        );
        assert!(!dir.path().join("escaped").exists());
        assert!(!rootfs.join("dev/null").exists());
        let skipped: Vec<&str> = done.skipped.iter().map(|(p, _)| p.as_str()).collect();
        assert!(skipped.contains(&"/evil/planted"), "{skipped:?}");
        assert!(skipped.contains(&"/dev/null"), "{skipped:?}");
    }

    /// The bundle the original image runs from holds the bytes the layer named each
    /// file by: two names that differ only in invalid UTF-8 are two files, and a link
    /// target in invalid UTF-8 points where the image points it.
    #[test]
    fn names_in_invalid_utf8_are_unpacked_as_their_bytes() {
        use crate::testutil::{RawItem, tar_of_raw};
        use std::os::unix::ffi::OsStrExt;
        let dir = tempfile::tempdir().expect("temp dir");
        let layout = dir.path().join("layout");
        let tar = tar_of_raw(&[
            RawItem::dir(b"bin/"),
            RawItem::file(b"bin/x\xff", b"ff", 0o4755),
            RawItem::file(b"bin/x\xfe", b"fe", 0o644),
            RawItem::symlink(b"bin/y", b"x\xfe"),
        ]);
        write_layout(&layout, &[(gzip(&tar), tar)]);
        let image = crate::open_image(
            &crate::ReadContext::default(),
            &ImageRef::parse(&format!("oci:{}", layout.display())).expect("reference"),
            None,
        )
        .expect("open");
        let rootfs = dir.path().join("rootfs");
        unpack(&image, &rootfs, &dir.path().join("spool")).expect("unpack");
        let raw = |name: &[u8]| rootfs.join("bin").join(std::ffi::OsStr::from_bytes(name));
        assert_eq!(std::fs::read(raw(b"x\xff")).expect("x\\xff"), b"ff");
        assert_eq!(std::fs::read(raw(b"x\xfe")).expect("x\\xfe"), b"fe");
        let mode = std::fs::metadata(raw(b"x\xff")).expect("meta").mode();
        assert_eq!(mode & 0o7777, 0o4755);
        assert_eq!(
            std::fs::read_link(raw(b"y"))
                .expect("symlink")
                .as_os_str()
                .as_bytes(),
            b"x\xfe"
        );
    }
}
