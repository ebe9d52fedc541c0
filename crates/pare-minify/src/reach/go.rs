//! The time zone database for Go programs that load zones by name. A Go server that
//! calls `time.LoadLocation` on a request (`/tz?zone=Europe/Paris`, a user's saved
//! zone) reads `/usr/share/zoneinfo/<name>` only then; unless the program embeds the
//! database (`import _ "time/tzdata"`, `-tags timetzdata`), a slim image without
//! those files answers "unknown time zone". The trace shows the zones the probes
//! asked for, or none; the binary shows the call. Go keeps every function's name in
//! its pclntab (a stripped binary too), NUL-terminated: `time.LoadLocation\0` is
//! there exactly when the linker kept the function, and `time/tzdata.` when the
//! embedded database was linked in. This needs the kept files' bytes, so it runs
//! once the keep-set has settled.

use std::collections::BTreeMap;

use goblin::container::Ctx;
use goblin::elf::{Elf, SectionHeader};
use goblin::strtab::Strtab;
use pare_image::FileIndex;

use super::resources::Set;
use crate::keep_set::Reason;

/// Where Go's `time` package looks for zone files on Unix (`platformZoneSources`).
const ZONE_DIRS: [&str; 4] = [
    "/usr/share/zoneinfo",
    "/usr/share/lib/zoneinfo",
    "/usr/lib/locale/TZ",
    "/etc/zoneinfo",
];

/// The zone database's files, when a Go program among `programs` (their bytes in
/// `index`) loads zones by name from files. `tz_env`: the image sets `TZ` (then
/// `right/` zones may be named too).
pub fn reachable<'a>(
    index: &FileIndex,
    programs: impl IntoIterator<Item = &'a String>,
    tz_env: bool,
) -> BTreeMap<String, Reason> {
    if !super::any_bytes(index, programs, loads_zones_from_files) {
        return BTreeMap::new();
    }
    ZONE_DIRS
        .iter()
        .filter(|dir| super::is_dir(index, dir))
        .flat_map(|dir| {
            let set = Set {
                dir: (*dir).to_owned(),
                why: "the time zone database, for a Go program that loads zones by name",
                shallow: false,
            };
            super::members(index, &set, tz_env)
        })
        .map(|path| (path, Reason::ResourceSet))
        .collect()
}

/// Whether these bytes are a Go program that calls `time.LoadLocation` and does not
/// embed the zone database.
pub fn loads_zones_from_files(bytes: &[u8]) -> bool {
    is_go(bytes)
        && memchr::memmem::find(bytes, b"time.LoadLocation\0").is_some()
        && memchr::memmem::find(bytes, b"time/tzdata.").is_none()
}

/// Whether these bytes are an ELF object the Go toolchain linked: it has a
/// `.go.buildinfo` or `.note.go.buildid` section. Only the section headers are read.
fn is_go(bytes: &[u8]) -> bool {
    if !bytes.starts_with(b"\x7fELF") {
        return false;
    }
    let Ok(header) = Elf::parse_header(bytes) else {
        return false;
    };
    let (Ok(container), Ok(endian)) = (header.container(), header.endianness()) else {
        return false;
    };
    let ctx = Ctx::new(container, endian);
    let Ok(sections) =
        SectionHeader::parse(bytes, header.e_shoff as usize, header.e_shnum as usize, ctx)
    else {
        return false;
    };
    let Some(names) = sections.get(usize::from(header.e_shstrndx)) else {
        return false;
    };
    let Ok(names) = Strtab::parse(bytes, names.sh_offset as usize, names.sh_size as usize, 0)
    else {
        return false;
    };
    sections.iter().any(|s| {
        matches!(
            names.get_at(s.sh_name),
            Some(".go.buildinfo" | ".note.go.buildid")
        )
    })
}

#[cfg(test)]
mod tests {
    /// Builds the Go program `source` with the machine's Go toolchain (Debian's
    /// golang-go, tests/setup installs it) and `args` for `go build`; `None` when
    /// there is no `go` outside CI, where its absence fails the test instead.
    fn go_build(dir: &std::path::Path, name: &str, source: &str, args: &[&str]) -> Option<Vec<u8>> {
        let go_found = std::process::Command::new("go")
            .arg("version")
            .output()
            .is_ok();
        if !go_found {
            assert!(
                std::env::var_os("CI").is_none(),
                "no Go toolchain: run tests/setup"
            );
            eprintln!("skipped: no `go` on PATH (tests/setup installs golang-go)");
            return None;
        }
        let file = dir.join(format!("{name}.go"));
        std::fs::write(&file, source).expect("write the program");
        let out = dir.join(name);
        let run = std::process::Command::new("go")
            .arg("build")
            .args(args)
            .arg("-o")
            .arg(&out)
            .arg(&file)
            .env("GOCACHE", dir.join("cache"))
            .env("GOPATH", dir.join("gopath"))
            .env("GOPROXY", "off")
            .output()
            .expect("run go build");
        assert!(
            run.status.success(),
            "go build {name}: {}",
            String::from_utf8_lossy(&run.stderr)
        );
        Some(std::fs::read(out).expect("read the program"))
    }

    /// Real Go programs: one that loads a zone by name (stripped or not), one that
    /// only formats local time and serves HTTP, one that embeds the database by
    /// import and one by build tag.
    #[test]
    fn a_go_program_loads_zones_from_files_when_it_calls_load_location_without_tzdata() {
        let dir = tempfile::tempdir().expect("temp dir");
        let by_name = "package main\nimport (\"fmt\"\n\"os\"\n\"time\")\nfunc main() { fmt.Println(time.LoadLocation(os.Args[1])) }\n";
        let local = "package main\nimport (\"fmt\"\n\"net/http\"\n\"time\")\nfunc main() { fmt.Println(time.Now().Local()); _ = http.ListenAndServe }\n";
        let embedded = "package main\nimport (\"fmt\"\n\"os\"\n\"time\"\n_ \"time/tzdata\")\nfunc main() { fmt.Println(time.LoadLocation(os.Args[1])) }\n";
        let Some(plain) = go_build(dir.path(), "byname", by_name, &[]) else {
            return;
        };
        assert!(super::is_go(&plain));
        assert!(super::loads_zones_from_files(&plain));
        let stripped = go_build(dir.path(), "stripped", by_name, &["-ldflags=-s -w"]).unwrap();
        assert!(super::loads_zones_from_files(&stripped), "stripped");
        let local = go_build(dir.path(), "local", local, &[]).unwrap();
        assert!(super::is_go(&local));
        assert!(!super::loads_zones_from_files(&local), "no LoadLocation");
        let embedded = go_build(dir.path(), "embedded", embedded, &[]).unwrap();
        assert!(
            !super::loads_zones_from_files(&embedded),
            "import time/tzdata"
        );
        let tagged = go_build(dir.path(), "tagged", by_name, &["-tags", "timetzdata"]).unwrap();
        assert!(!super::loads_zones_from_files(&tagged), "-tags timetzdata");
    }

    #[test]
    fn what_is_not_a_go_program_never_loads_zones() {
        // This test binary's own bytes: an ELF with no Go sections, though the
        // strings below are in it.
        let me = std::fs::read(std::env::current_exe().expect("exe")).expect("read");
        assert!(!super::is_go(&me));
        assert!(!super::loads_zones_from_files(&me));
        assert!(!super::loads_zones_from_files(
            b"#!/bin/sh\n# time.LoadLocation\0\n"
        ));
        assert!(!super::is_go(b"\x7fELF"));
    }
}
