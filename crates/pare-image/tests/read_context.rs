//! Two reads in one process with different settings: what the process-wide statics
//! (`set_default_max_expansion_ratio`, `Platform::set_wanted`) could not do, since
//! the last one set won for every read after it. Each read here keeps to its own
//! `ReadContext`, in whatever order the reads come.

use pare_image::testutil::{TarItem, gzip, tar_of, write_layout};
use pare_image::{Digest, ImageError, ImageRef, Platform, ReadContext, ReadOptions};

fn layout_ref(dir: &std::path::Path) -> ImageRef {
    ImageRef::parse(&format!("oci:{}", dir.display())).expect("a layout reference")
}

#[test]
fn two_contexts_read_one_layer_with_different_expansion_limits() {
    // 8 MiB of zeros gzip to a few KiB: past 2 times its stored size (and past the
    // 1 MiB floor these options set), well within 10 000 times.
    let zeros = vec![0u8; 8 << 20];
    let tar = tar_of(&[TarItem::file("zeros", &zeros, 0o644)]);
    let blob = gzip(&tar);
    assert!(blob.len() * 10_000 > tar.len() && blob.len() * 2 < 1 << 20);
    let dir = tempfile::tempdir().expect("a temp dir");
    write_layout(dir.path(), &[(blob, tar)]);
    let reference = layout_ref(dir.path());
    let options = ReadOptions {
        min_expand_limit: 1 << 20,
        ..Default::default()
    };
    let strict = ReadContext::default().with_max_expansion_ratio(2);
    let lenient = ReadContext::default().with_max_expansion_ratio(10_000);

    let refused =
        |context: &ReadContext| match pare_image::read_image(context, &reference, &options) {
            Err(ImageError::LayerTooLarge { limit, .. }) => limit,
            other => panic!("expected the layer refused as too large, got {other:?}"),
        };
    let read = |context: &ReadContext| {
        let image = pare_image::read_image(context, &reference, &options)
            .expect("the layer reads under a lenient limit");
        image.index.nodes["/zeros"].size
    };
    // Interleaved, each read keeps to its own context.
    assert_eq!(read(&lenient), 8 << 20);
    assert_eq!(refused(&strict), 1 << 20);
    assert_eq!(read(&lenient), 8 << 20);
    // An opened image keeps the limit it was opened with, whatever the options say.
    let opened = pare_image::open_image(&strict, &reference, None).expect("opens");
    let generous = ReadOptions {
        max_expansion_ratio: 10_000,
        ..options.clone()
    };
    assert!(matches!(
        opened.read(&generous),
        Err(ImageError::LayerTooLarge { .. })
    ));
}

/// An OCI layout whose one entry is an index of two platforms, each image holding
/// `/arch` with its architecture's name.
fn two_platform_layout(dir: &std::path::Path) {
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).expect("test layout");
    std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#)
        .expect("test layout");
    let put = |bytes: &[u8]| {
        let digest = Digest::of(bytes);
        std::fs::write(blobs.join(digest.hex()), bytes).expect("test layout");
        serde_json::json!({"digest": digest.to_string(), "size": bytes.len()})
    };
    let image = |arch: &str| {
        let tar = tar_of(&[TarItem::file("arch", arch.as_bytes(), 0o644)]);
        let mut layer = put(&gzip(&tar));
        layer["mediaType"] = "application/vnd.oci.image.layer.v1.tar+gzip".into();
        let config = serde_json::json!({
            "architecture": arch, "os": "linux",
            "rootfs": {"type": "layers", "diff_ids": [Digest::of(&tar).to_string()]},
        });
        let mut config = put(config.to_string().as_bytes());
        config["mediaType"] = "application/vnd.oci.image.config.v1+json".into();
        let manifest = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": config,
            "layers": [layer],
        });
        let mut entry = put(manifest.to_string().as_bytes());
        entry["mediaType"] = "application/vnd.oci.image.manifest.v1+json".into();
        entry["platform"] = serde_json::json!({"os": "linux", "architecture": arch});
        entry
    };
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [image("amd64"), image("arm64")],
    });
    let mut entry = put(index.to_string().as_bytes());
    entry["mediaType"] = "application/vnd.oci.image.index.v1+json".into();
    entry["annotations"] = serde_json::json!({"org.opencontainers.image.ref.name": "latest"});
    let top = serde_json::json!({"schemaVersion": 2, "manifests": [entry]});
    std::fs::write(dir.join("index.json"), top.to_string()).expect("test layout");
}

#[test]
fn two_contexts_pick_two_platforms_from_one_index() {
    let dir = tempfile::tempdir().expect("a temp dir");
    two_platform_layout(dir.path());
    let reference = layout_ref(dir.path());
    let arch_of = |context: &ReadContext| {
        let options = ReadOptions {
            keep_content: Some(std::sync::Arc::new(|p: &str, _| p == "/arch")),
            ..Default::default()
        };
        let image = pare_image::read_image(context, &reference, &options).expect("reads");
        let content = image.index.nodes["/arch"]
            .content
            .clone()
            .expect("kept /arch");
        String::from_utf8(content.to_vec()).expect("text")
    };
    let platform =
        |text: &str| ReadContext::default().with_platform(Some(Platform::parse(text).unwrap()));
    let arm = platform("linux/arm64");
    let amd = platform("linux/amd64");
    assert_eq!(arch_of(&arm), "arm64");
    assert_eq!(arch_of(&amd), "amd64");
    assert_eq!(arch_of(&arm), "arm64");
    let missing = pare_image::read_image(
        &platform("linux/s390x"),
        &reference,
        &ReadOptions::default(),
    )
    .unwrap_err();
    assert!(
        matches!(missing, ImageError::NoPlatform { .. }),
        "{missing:?}"
    );
}
