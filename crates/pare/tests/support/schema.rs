//! Validating documents against the official schemas in tests/data/schemas, offline.

use std::path::{Path, PathBuf};

use serde_json::Value;

pub fn schemas_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/schemas")
}

/// Resolves a schema's references by file name to the copies beside it in
/// tests/data/schemas (CycloneDX's `spdx.schema.json`, Kubernetes' `_definitions.json`).
struct LocalSchemas {
    dir: PathBuf,
}

impl jsonschema::Retrieve for LocalSchemas {
    fn retrieve(
        &self,
        uri: &jsonschema::Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        let name = uri.as_str().rsplit('/').next().unwrap_or_default();
        let name = name.split('#').next().unwrap_or(name);
        let path = self.dir.join(name);
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("{}: {e} (no network here)", path.display()))?;
        Ok(serde_json::from_str(&text)?)
    }
}

/// The schema at `schema_file` (below tests/data/schemas), as a validator.
pub fn validator(schema_file: &str) -> jsonschema::Validator {
    let mut schema: Value = serde_json::from_str(
        &std::fs::read_to_string(schemas_dir().join(schema_file)).expect("schema"),
    )
    .expect("schema JSON");
    if schema_file.starts_with("sarif") {
        // The official SARIF schema's `language` patterns (run, toolComponent) have a
        // stray `]` that strict regex checkers reject when they check the schema
        // itself; put the intended pattern in (pare never writes `language`).
        for owner in ["run", "toolComponent"] {
            let language = &mut schema["definitions"][owner]["properties"]["language"]["pattern"];
            assert_eq!(language, "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$");
            *language = "^[a-zA-Z]{2}(-[a-zA-Z]{2})?$".into();
        }
    }
    let dir = schemas_dir()
        .join(schema_file)
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(schemas_dir);
    jsonschema::options()
        .with_retriever(LocalSchemas { dir })
        .should_validate_formats(true)
        .build(&schema)
        .expect("schema compiles")
}

/// Asserts `document` is valid against the schema at `schema_file`.
pub fn validate(schema_file: &str, document: &Value) {
    let errors: Vec<String> = validator(schema_file)
        .iter_errors(document)
        .take(10)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{schema_file}:\n{}", errors.join("\n"));
}
