//! What `pare copy` prints.

use pare_image::Copied;

use super::escape;
use crate::units::bytes;

/// One line for what was copied, one for the blobs.
pub fn copied(c: &Copied) -> String {
    let (from, to) = (escape(&c.source), escape(&c.destination));
    let mut text = format!("copied {from} to {to}\n");
    if let Some(digest) = &c.manifest_digest {
        text.push_str(&format!("  manifest {}\n", escape(digest)));
    }
    let mut blobs = vec![format!(
        "{} written ({})",
        c.blobs_written,
        bytes(c.bytes_written)
    )];
    if c.blobs_present > 0 {
        blobs.push(format!("{} already there", c.blobs_present));
    }
    if c.blobs_mounted > 0 {
        blobs.push(format!(
            "{} mounted from another repository",
            c.blobs_mounted
        ));
    }
    text.push_str(&format!("  blobs: {}\n", blobs.join(", ")));
    if let Some(n) = c.referrers {
        text.push_str(&format!("  referrers: {n} copied\n"));
    }
    text
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_push_that_skipped_and_mounted() {
        let c = pare_image::Copied {
            source: "oci:/x:latest".into(),
            destination: "docker://127.0.0.1:5000/app:1".into(),
            manifest_digest: Some("sha256:ab".into()),
            blobs_written: 2,
            blobs_present: 3,
            blobs_mounted: 1,
            bytes_written: 3 << 20,
            referrers: None,
        };
        assert_eq!(
            super::copied(&c),
            "copied oci:/x:latest to docker://127.0.0.1:5000/app:1\n  manifest sha256:ab\n  blobs: 2 written (3.1 MB), 3 already there, 1 mounted from another repository\n"
        );
    }
}
