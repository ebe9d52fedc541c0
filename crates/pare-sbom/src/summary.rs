//! What pare keeps of a binary or an archive that streamed past: the summary the
//! reducers of [`crate::binary`] (ELF: Go build info, `cargo auditable`) and
//! [`crate::java`] (jars) write as a node's content, and the catalogers read back.
//! Its own module so that neither reducer depends on the other.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Marks a node's content as a summary rather than the file's bytes.
pub(crate) const MAGIC: &[u8] = b"pare-sbom:binary:v1\n";

/// What pare learnt about one binary or archive.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct Summary {
    pub elf: bool,
    /// Why the file could not be read as what it looks like.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
    /// Go's build info blob, from the magic on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub go_buildinfo: Option<Vec<u8>>,
    /// `cargo auditable`'s JSON document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cargo_audit: Option<String>,
    /// What a jar (and the jars inside it) declare.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub jar: Vec<Archive>,
}

/// What one archive (the file, or a jar inside it) declares.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct Archive {
    /// `""` for the file itself, else the path inside it (`BOOT-INF/lib/x.jar`, nested
    /// levels joined with `!/`).
    pub inner: String,
    pub manifest: BTreeMap<String, String>,
    pub poms: Vec<Pom>,
}

/// `pom.properties`: the Maven coordinates.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct Pom {
    pub group_id: String,
    pub artifact_id: String,
    pub version: String,
}

/// Encodes a summary as node content.
pub(crate) fn encode(summary: &Summary) -> Vec<u8> {
    let mut out = MAGIC.to_vec();
    out.extend(serde_json::to_vec(summary).unwrap_or_default());
    out
}
