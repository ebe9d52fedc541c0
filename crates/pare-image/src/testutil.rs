//! Tar, gzip and image-layout builders for tests, here and in the crates that
//! depend on pare-image. Hostile names are written into headers byte for byte,
//! because the `tar` builder (rightly) refuses to write them.

use std::io::Write;

/// One entry to put in a test tar.
pub struct TarItem {
    name: String,
    kind: tar::EntryType,
    data: Vec<u8>,
    mode: u32,
    link: Option<String>,
}

impl TarItem {
    pub fn file(name: &str, data: &[u8], mode: u32) -> Self {
        TarItem {
            name: name.into(),
            kind: tar::EntryType::Regular,
            data: data.to_vec(),
            mode,
            link: None,
        }
    }
    pub fn dir(name: &str) -> Self {
        TarItem {
            name: name.into(),
            kind: tar::EntryType::Directory,
            data: Vec::new(),
            mode: 0o755,
            link: None,
        }
    }
    pub fn dir_mode(name: &str, mode: u32) -> Self {
        TarItem {
            mode,
            ..Self::dir(name)
        }
    }
    pub fn symlink(name: &str, target: &str) -> Self {
        TarItem {
            name: name.into(),
            kind: tar::EntryType::Symlink,
            data: Vec::new(),
            mode: 0o777,
            link: Some(target.into()),
        }
    }
    pub fn hardlink(name: &str, target: &str) -> Self {
        TarItem {
            name: name.into(),
            kind: tar::EntryType::Link,
            data: Vec::new(),
            mode: 0o644,
            link: Some(target.into()),
        }
    }
    pub fn fifo(name: &str) -> Self {
        TarItem {
            name: name.into(),
            kind: tar::EntryType::Fifo,
            data: Vec::new(),
            mode: 0o644,
            link: None,
        }
    }
    pub fn char_device(name: &str) -> Self {
        TarItem {
            name: name.into(),
            kind: tar::EntryType::Char,
            data: Vec::new(),
            mode: 0o666,
            link: None,
        }
    }
}

/// A GNU header of root's, with the mtime every test tar has.
fn header_of(kind: tar::EntryType, mode: u32, size: usize) -> tar::Header {
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(kind);
    header.set_mode(mode);
    header.set_size(size as u64);
    header.set_mtime(1_700_000_000);
    header.set_uid(0);
    header.set_gid(0);
    header
}

/// A tar with the given entries, in order.
pub fn tar_of(items: &[TarItem]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for item in items {
        let mut header = header_of(item.kind, item.mode, item.data.len());
        let short = item.name.len() < 100 && item.link.as_ref().is_none_or(|l| l.len() < 100);
        if short {
            let gnu = header.as_gnu_mut().expect("gnu header");
            gnu.name[..item.name.len()].copy_from_slice(item.name.as_bytes());
            if let Some(link) = &item.link {
                gnu.linkname[..link.len()].copy_from_slice(link.as_bytes());
            }
            header.set_cksum();
            builder.append(&header, &item.data[..]).expect("append");
        } else if let Some(link) = &item.link {
            builder
                .append_link(&mut header, &item.name, link)
                .expect("append link");
        } else {
            builder
                .append_data(&mut header, &item.name, &item.data[..])
                .expect("append data");
        }
    }
    builder.into_inner().expect("finish tar")
}

/// A tar entry named by raw bytes (invalid UTF-8, say), as a hostile layer spells it:
/// the name and link target go into the header as they are (each under 100 bytes).
pub struct RawItem<'a> {
    pub name: &'a [u8],
    pub kind: tar::EntryType,
    pub mode: u32,
    pub data: &'a [u8],
    pub link: Option<&'a [u8]>,
}

impl<'a> RawItem<'a> {
    pub fn dir(name: &'a [u8]) -> Self {
        Self::new(name, tar::EntryType::Directory, 0o755, b"", None)
    }
    pub fn file(name: &'a [u8], data: &'a [u8], mode: u32) -> Self {
        Self::new(name, tar::EntryType::Regular, mode, data, None)
    }
    pub fn symlink(name: &'a [u8], target: &'a [u8]) -> Self {
        Self::new(name, tar::EntryType::Symlink, 0o777, b"", Some(target))
    }
    pub fn hardlink(name: &'a [u8], target: &'a [u8]) -> Self {
        Self::new(name, tar::EntryType::Link, 0o644, b"", Some(target))
    }
    fn new(
        name: &'a [u8],
        kind: tar::EntryType,
        mode: u32,
        data: &'a [u8],
        link: Option<&'a [u8]>,
    ) -> Self {
        RawItem {
            name,
            kind,
            mode,
            data,
            link,
        }
    }
}

/// A tar with the given raw-named entries, in order.
pub fn tar_of_raw(items: &[RawItem]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for item in items {
        let mut header = header_of(item.kind, item.mode, item.data.len());
        let gnu = header.as_gnu_mut().expect("gnu header");
        gnu.name[..item.name.len()].copy_from_slice(item.name);
        if let Some(link) = item.link {
            gnu.linkname[..link.len()].copy_from_slice(link);
        }
        header.set_cksum();
        builder.append(&header, item.data).expect("append");
    }
    builder.into_inner().expect("finish tar")
}

/// A layer of `items`, read as pare reads any layer (no digests expected).
pub fn parsed_layer(items: &[TarItem]) -> crate::layer::ParsedLayer {
    crate::layer::read_layer(
        &tar_of(items)[..],
        "t",
        &crate::layer::Expected::default(),
        &crate::layer::ReadOptions::default(),
    )
    .expect("a test tar reads")
}

/// gzip-compresses bytes.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).expect("gzip");
    encoder.finish().expect("gzip")
}

/// Writes an OCI image layout with the given layer blobs. `diff_ids` are the digests
/// of the uncompressed tars. Returns the blob names of (manifest, config, layers).
pub fn write_layout(
    dir: &std::path::Path,
    layers: &[(Vec<u8>, Vec<u8>)],
) -> (String, String, Vec<String>) {
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).expect("test layout");
    std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#)
        .expect("test layout");
    let put = |bytes: &[u8]| {
        let d = crate::Digest::of(bytes);
        std::fs::write(blobs.join(d.hex()), bytes).expect("test layout");
        d
    };
    let mut descriptors = Vec::new();
    let mut diff_ids = Vec::new();
    let mut names = Vec::new();
    for (blob, tar) in layers {
        let d = put(blob);
        names.push(format!("blobs/sha256/{}", d.hex()));
        descriptors.push(serde_json::json!({
            "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
            "digest": d.to_string(), "size": blob.len()
        }));
        diff_ids.push(crate::Digest::of(tar).to_string());
    }
    let config = serde_json::to_vec(&serde_json::json!({
        "architecture": "amd64", "os": "linux",
        "config": {"User": "1000", "Cmd": ["/app"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": [{"created_by": "COPY app / # buildkit"}]
    }))
    .expect("test layout");
    let config_digest = put(&config);
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest.to_string(), "size": config.len()},
        "layers": descriptors
    }))
    .expect("test layout");
    let manifest_digest = put(&manifest);
    let index = serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": manifest_digest.to_string(), "size": manifest.len(),
            "annotations": {"org.opencontainers.image.ref.name": "latest"}
        }]
    });
    std::fs::write(
        dir.join("index.json"),
        serde_json::to_vec(&index).expect("test layout"),
    )
    .expect("test layout");
    (
        format!("blobs/sha256/{}", manifest_digest.hex()),
        format!("blobs/sha256/{}", config_digest.hex()),
        names,
    )
}
