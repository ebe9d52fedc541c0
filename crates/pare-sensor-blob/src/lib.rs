//! The `pare-sensor` binary, built fully static by this crate's build script and
//! embedded, so `pare build` can copy it into any container (Debian, Alpine,
//! distroless) without the user installing anything beside pare.
//!
//! Empty on platforms the sensor does not support (it traces x86_64 Linux only).

/// The static `pare-sensor` executable (ELF, x86_64).
pub static SENSOR: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/pare-sensor"));

/// The static `pare-sensor` executable; empty where the sensor is not supported.
pub fn sensor_bytes() -> &'static [u8] {
    SENSOR
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_sensor_is_a_static_elf_executable() {
        if cfg!(all(target_os = "linux", target_arch = "x86_64")) {
            assert_eq!(&SENSOR[..4], b"\x7fELF");
            assert!(
                SENSOR.len() > 100_000,
                "suspiciously small: {} bytes",
                SENSOR.len()
            );
        }
        assert_eq!(sensor_bytes().len(), SENSOR.len());
    }
}
