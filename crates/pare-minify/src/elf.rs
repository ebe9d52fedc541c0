//! What an ELF file needs in order to run: its interpreter (`PT_INTERP`, opened by the
//! kernel, so no traced syscall names it) and its shared libraries (`DT_NEEDED`),
//! found the way ld.so finds them.

use goblin::elf::Elf;

/// The loading facts of one ELF file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ElfNeeds {
    pub interpreter: Option<String>,
    pub needed: Vec<String>,
    /// DT_RPATH, used only when there is no DT_RUNPATH (as ld.so does).
    pub rpath: Vec<String>,
    pub runpath: Vec<String>,
}

/// Parses the bytes of a file; `None` when it is not ELF (or not parseable).
pub fn needs(bytes: &[u8]) -> Option<ElfNeeds> {
    if !bytes.starts_with(b"\x7fELF") {
        return None;
    }
    let elf = Elf::parse(bytes).ok()?;
    let split = |list: &[&str]| -> Vec<String> {
        list.iter()
            .flat_map(|s| s.split(':'))
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    };
    Some(ElfNeeds {
        interpreter: elf.interpreter.map(str::to_owned),
        needed: elf.libraries.iter().map(|s| (*s).to_owned()).collect(),
        rpath: split(&elf.rpaths),
        runpath: split(&elf.runpaths),
    })
}

/// The directories ld.so searches for a library needed by the object at `origin_dir`:
/// RPATH (without RUNPATH), LD_LIBRARY_PATH, RUNPATH, the ld.so.conf directories
/// (what ld.so.cache is built from), then the defaults.
pub fn search_dirs(
    needs: &ElfNeeds,
    origin_dir: &str,
    ld_library_path: &[String],
    conf_dirs: &[String],
) -> Vec<String> {
    let expand = |d: &String| {
        d.replace("$ORIGIN", origin_dir)
            .replace("${ORIGIN}", origin_dir)
    };
    let mut dirs: Vec<String> = Vec::new();
    if needs.runpath.is_empty() {
        dirs.extend(needs.rpath.iter().map(expand));
    }
    dirs.extend(ld_library_path.iter().cloned());
    dirs.extend(needs.runpath.iter().map(expand));
    dirs.extend(conf_dirs.iter().cloned());
    for default in [
        "/lib/x86_64-linux-gnu",
        "/usr/lib/x86_64-linux-gnu",
        "/lib/aarch64-linux-gnu",
        "/usr/lib/aarch64-linux-gnu",
        "/lib64",
        "/usr/lib64",
        "/lib",
        "/usr/lib",
    ] {
        dirs.push(default.to_owned());
    }
    dirs
}

/// The `#!` interpreter of a script and its first argument (`/usr/bin/env python3`).
pub fn shebang(bytes: &[u8]) -> Option<(String, Option<String>)> {
    let rest = bytes.strip_prefix(b"#!")?;
    let line_end = rest
        .iter()
        .position(|&b| b == b'\n')
        .unwrap_or(rest.len().min(256));
    let line = std::str::from_utf8(&rest[..line_end]).ok()?.trim();
    let mut parts = line.splitn(2, char::is_whitespace);
    let interpreter = parts.next().filter(|s| s.starts_with('/'))?.to_owned();
    let arg = parts
        .next()
        .map(|a| a.trim().to_owned())
        .filter(|a| !a.is_empty());
    Some((interpreter, arg))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_test_binary() {
        let exe = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        let n = needs(&exe).expect("the test binary is ELF");
        assert!(
            n.interpreter
                .as_deref()
                .is_some_and(|i| i.contains("ld-linux")),
            "{n:?}"
        );
        assert!(n.needed.iter().any(|l| l.starts_with("libc.so")), "{n:?}");
        assert_eq!(needs(b"#!/bin/sh\n"), None);
    }

    #[test]
    fn shebangs() {
        assert_eq!(shebang(b"#!/bin/sh\necho"), Some(("/bin/sh".into(), None)));
        assert_eq!(
            shebang(b"#!/usr/bin/env python3\n"),
            Some(("/usr/bin/env".into(), Some("python3".into())))
        );
        assert_eq!(
            shebang(b"#! /opt/venv/bin/python3 -u\n"),
            Some(("/opt/venv/bin/python3".into(), Some("-u".into())))
        );
        assert_eq!(shebang(b"\x7fELF"), None);
    }

    #[test]
    fn origin_and_order() {
        let n = ElfNeeds {
            rpath: vec!["$ORIGIN/../lib".into()],
            ..Default::default()
        };
        let dirs = search_dirs(&n, "/opt/app/bin", &[], &["/usr/local/lib".into()]);
        assert_eq!(dirs[0], "/opt/app/bin/../lib");
        assert_eq!(dirs[1], "/usr/local/lib");
    }
}
