//! Builds `pare-sensor` fully static (glibc with `+crt-static`) for the target pare is
//! built for, and leaves it in `OUT_DIR/pare-sensor` for `include_bytes!`.
//!
//! A nested `cargo build` with its own `--target-dir` (`<target>/sensor`): the outer
//! build holds the lock on its own directory, and the static build needs different
//! RUSTFLAGS, which would otherwise invalidate every artefact of the outer build. The
//! nested build inherits the outer jobserver, so it does not oversubscribe the CPUs.

use std::env;
use std::path::{Path, PathBuf};
use std::process::{Command, exit};

fn main() {
    let manifest_dir =
        PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let target = env::var("TARGET").expect("cargo sets TARGET");
    let sensor_crate = manifest_dir.join("../pare-sensor");
    for watched in ["src", "Cargo.toml"] {
        println!(
            "cargo:rerun-if-changed={}",
            sensor_crate.join(watched).display()
        );
    }
    for shared in [
        "../pare-names/src",
        "../pare-names/Cargo.toml",
        "../pare-users/src",
        "../pare-users/Cargo.toml",
    ] {
        println!(
            "cargo:rerun-if-changed={}",
            manifest_dir.join(shared).display()
        );
    }
    println!(
        "cargo:rerun-if-changed={}",
        manifest_dir.join("../../Cargo.lock").display()
    );
    println!("cargo:rerun-if-env-changed=CARGO_TARGET_DIR");
    let dest = out_dir.join("pare-sensor");

    if !(target.starts_with("x86_64-") && target.contains("-linux-")) {
        println!(
            "cargo:warning=pare-sensor traces x86_64 Linux only; `pare build` is unavailable for {target}"
        );
        std::fs::write(&dest, b"")
            .unwrap_or_else(|e| fail(&format!("writing {}: {e}", dest.display())));
        return;
    }

    let target_dir = sensor_target_dir(&out_dir);
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut build = Command::new(cargo);
    build
        .args([
            "build",
            "--release",
            "-p",
            "pare-sensor",
            "--bin",
            "pare-sensor",
            "--target",
            &target,
        ])
        .arg("--manifest-path")
        .arg(sensor_crate.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&target_dir)
        .env("CARGO_ENCODED_RUSTFLAGS", "-Ctarget-feature=+crt-static")
        .env("CARGO_PROFILE_RELEASE_DEBUG", "false")
        .env("CARGO_PROFILE_RELEASE_STRIP", "symbols")
        // Outer settings that must not leak in: clippy's wrapper (it would lint, and
        // rebuild, the sensor on every clippy run), the outer flags and target.
        .env_remove("RUSTFLAGS")
        .env_remove("RUSTC_WORKSPACE_WRAPPER")
        .env_remove("CARGO_BUILD_TARGET")
        .env_remove("CARGO_BUILD_RUSTFLAGS")
        .env_remove("CARGO_TARGET_DIR");
    let status = build
        .status()
        .unwrap_or_else(|e| fail(&format!("running {build:?}: {e}")));
    if !status.success() {
        fail(&format!(
            "building the static sensor failed ({status}): {build:?}"
        ));
    }
    let built = target_dir.join(&target).join("release/pare-sensor");
    check_static(&built);
    std::fs::copy(&built, &dest).unwrap_or_else(|e| {
        fail(&format!(
            "copying {} to {}: {e}",
            built.display(),
            dest.display()
        ))
    });
}

/// `$CARGO_TARGET_DIR/sensor`, else `<target dir>/sensor` found from OUT_DIR, which is
/// `<target dir>[/<triple>]/<profile>/build/<pkg>-<hash>/out`.
fn sensor_target_dir(out_dir: &Path) -> PathBuf {
    if let Some(dir) = env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(dir).join("sensor");
    }
    out_dir.ancestors().nth(4).unwrap_or(out_dir).join("sensor")
}

/// Refuses a sensor with an ELF interpreter: it would not start in images without the
/// same libc (Alpine, distroless), and pare would fail far from the cause.
fn check_static(binary: &Path) {
    let bytes = std::fs::read(binary)
        .unwrap_or_else(|e| fail(&format!("reading {}: {e}", binary.display())));
    let field = |at: usize, len: usize| -> u64 {
        let mut buf = [0u8; 8];
        buf[..len].copy_from_slice(
            bytes
                .get(at..at + len)
                .unwrap_or_else(|| fail("truncated ELF header")),
        );
        u64::from_le_bytes(buf)
    };
    if bytes.get(..5) != Some(b"\x7fELF\x02") {
        fail(&format!("{} is not a 64-bit ELF file", binary.display()));
    }
    let (phoff, phentsize, phnum) = (
        field(0x20, 8) as usize,
        field(0x36, 2) as usize,
        field(0x38, 2) as usize,
    );
    const PT_INTERP: u64 = 3;
    if (0..phnum).any(|i| field(phoff + i * phentsize, 4) == PT_INTERP) {
        fail(&format!(
            "{} is dynamically linked (has PT_INTERP); it must be static",
            binary.display()
        ));
    }
}

fn fail(message: &str) -> ! {
    eprintln!("pare-sensor-blob: {message}");
    exit(1)
}
