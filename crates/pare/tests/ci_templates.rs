//! pare where images are built (issue 25): the GitHub Action (`action.yml`), the GitLab
//! CI template (`ci/pare.gitlab-ci.yml`) and the Kubernetes nightly rescan
//! (`deploy/kubernetes/rescan.yaml`) are valid against their platforms' own schemas
//! (tests/data/schemas/ci, tests/data/schemas/kubernetes; provenance in the README
//! there), and every `pare` command line in them uses flags pare has: a template that
//! a platform rejects, or that calls a flag pare dropped, fails here instead of in a
//! user's pipeline.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;
use support::pare;
use support::schema::validator;

/// `PATH` with the pare under test first, as the templates call it by name.
fn path_with_pare() -> String {
    let pare_dir = Path::new(env!("CARGO_BIN_EXE_pare")).parent().unwrap();
    format!(
        "{}:{}",
        pare_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// An engine image a test makes, removed when the test ends, however it ends.
struct RemoveImage(String);

impl Drop for RemoveImage {
    fn drop(&mut self) {
        let _ = support::docker(&["rmi", "-f", &self.0]);
    }
}

fn repo_file(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path)
}

/// Every YAML document of the file at `path` (from the repository root), as JSON.
fn yaml_documents(path: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(repo_file(path)).expect(path);
    serde_norway::Deserializer::from_str(&text)
        .map(|document| {
            Value::deserialize(document).unwrap_or_else(|e| panic!("{path}: not YAML: {e}"))
        })
        .collect()
}

/// The schema errors of `document`, at most ten, each with where it is.
fn schema_errors(schema_file: &str, document: &Value) -> Vec<String> {
    validator(schema_file)
        .iter_errors(document)
        .take(10)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect()
}

fn assert_valid(schema_file: &str, what: &str, document: &Value) {
    let errors = schema_errors(schema_file, document);
    assert!(
        errors.is_empty(),
        "{what} against {schema_file}:\n{}",
        errors.join("\n")
    );
}

/// The Kubernetes schema of a manifest's kind.
fn kubernetes_schema(manifest: &Value) -> &'static str {
    match (manifest["apiVersion"].as_str(), manifest["kind"].as_str()) {
        (Some("v1"), Some("ConfigMap")) => "kubernetes/configmap-v1.json",
        (Some("batch/v1"), Some("CronJob")) => "kubernetes/cronjob-batch-v1.json",
        other => panic!("deploy/kubernetes/rescan.yaml: no schema here for {other:?}"),
    }
}

#[test]
fn the_github_action_is_valid_against_the_action_metadata_schema() {
    let action = yaml_documents("action.yml");
    assert_eq!(action.len(), 1);
    assert_valid("ci/github-action.json", "action.yml", &action[0]);
    let steps = action[0]["runs"]["steps"]
        .as_array()
        .expect("composite steps");
    let uses: Vec<&str> = steps.iter().filter_map(|s| s["uses"].as_str()).collect();
    assert!(
        uses.iter()
            .any(|u| u.starts_with("github/codeql-action/upload-sarif@")),
        "the action uploads SARIF: {uses:?}"
    );

    // The schema is strict enough to catch a broken action: no `runs.using`, or a
    // composite step without `shell`.
    let mut broken = action[0].clone();
    broken["runs"].as_object_mut().unwrap().remove("using");
    assert!(!schema_errors("ci/github-action.json", &broken).is_empty());
    let mut broken = action[0].clone();
    let step = broken["runs"]["steps"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|s| s.get("run").is_some())
        .unwrap();
    step.as_object_mut().unwrap().remove("shell");
    assert!(!schema_errors("ci/github-action.json", &broken).is_empty());
}

#[test]
fn the_gitlab_template_is_valid_against_gitlabs_ci_schema() {
    let documents = yaml_documents("ci/pare.gitlab-ci.yml");
    assert_eq!(documents.len(), 2, "the spec header, then the jobs");
    assert!(documents[0]["spec"]["inputs"]["image"].is_object());
    for (n, document) in documents.iter().enumerate() {
        assert_valid(
            "ci/gitlab-ci.json",
            &format!("ci/pare.gitlab-ci.yml document {}", n + 1),
            document,
        );
    }
    let reports = &documents[1]["pare-build-scan"]["artifacts"]["reports"];
    assert!(reports["cyclonedx"].is_array(), "{reports}");

    // A job the schema rejects: `when` takes only GitLab's words.
    let mut broken = documents[1].clone();
    broken["pare-lint"]["when"] = "sometimes".into();
    assert!(!schema_errors("ci/gitlab-ci.json", &broken).is_empty());
}

#[test]
fn the_kubernetes_rescan_is_valid_against_the_kubernetes_schemas() {
    let manifests = yaml_documents("deploy/kubernetes/rescan.yaml");
    let kinds: Vec<&str> = manifests
        .iter()
        .map(|m| m["kind"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(kinds, ["ConfigMap", "CronJob"]);
    for manifest in &manifests {
        assert_valid(
            kubernetes_schema(manifest),
            &format!("{} {}", manifest["kind"], manifest["metadata"]["name"]),
            manifest,
        );
    }

    // An Indexed Job, one index per repository of the ConfigMap.
    let repositories = manifests[0]["data"]["repositories"].as_str().unwrap();
    let job = &manifests[1]["spec"]["jobTemplate"]["spec"];
    assert_eq!(job["completionMode"], "Indexed");
    assert_eq!(job["completions"], repositories.lines().count());
    // Every container says what it needs, as measured (docs/ci.md).
    let pod = &job["template"]["spec"];
    for container in pod["initContainers"]
        .as_array()
        .unwrap()
        .iter()
        .chain(pod["containers"].as_array().unwrap())
    {
        let resources = &container["resources"];
        assert!(
            resources["requests"]["cpu"].is_string()
                && resources["requests"]["memory"].is_string()
                && resources["limits"]["memory"].is_string(),
            "{}: {resources}",
            container["name"]
        );
    }

    // The strict schemas catch a misspelt field.
    let mut broken = manifests[1].clone();
    broken["spec"]["jobTemplate"]["spec"]["completion"] = 3.into();
    assert!(!schema_errors("kubernetes/cronjob-batch-v1.json", &broken).is_empty());
}

/// The `pare VERB --flag` uses in `text`: each flag with the verb it was given to.
fn pare_flags(text: &str) -> Vec<(String, String)> {
    let mut uses = Vec::new();
    for line in text.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        for (at, word) in words.iter().enumerate() {
            if *word != "pare" {
                continue;
            }
            let mut verb = match words.get(at + 1) {
                Some(v) if v.chars().all(|c| c.is_ascii_lowercase()) => (*v).to_owned(),
                _ => continue,
            };
            if verb == "db" {
                match words.get(at + 2) {
                    Some(sub) => verb = format!("db {sub}"),
                    None => continue,
                }
            }
            for flag in words[at + 2..]
                .iter()
                .take_while(|w| !matches!(**w, "|" | "||" | "&&" | ";" | ">" | "2>&1"))
                .filter(|w| w.starts_with("--"))
            {
                let flag = flag.split('=').next().unwrap_or(flag);
                let flag = flag.trim_end_matches([',', ']', '"']);
                uses.push((verb.clone(), flag.to_owned()));
            }
        }
    }
    uses
}

/// Every string in `value`, depth first.
fn strings(value: &Value, into: &mut Vec<String>) {
    match value {
        Value::String(s) => into.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|v| strings(v, into)),
        Value::Object(map) => map.values().for_each(|v| strings(v, into)),
        _ => {}
    }
}

#[test]
fn every_pare_command_line_in_the_templates_uses_flags_pare_has() {
    let mut uses = Vec::new();
    for path in [
        "action.yml",
        "ci/pare.gitlab-ci.yml",
        "deploy/kubernetes/rescan.yaml",
    ] {
        let mut texts = Vec::new();
        for document in yaml_documents(path) {
            strings(&document, &mut texts);
        }
        // Kubernetes' `command: [pare, db, update, --db, …]` too, as one line.
        for document in yaml_documents(path) {
            collect_commands(&document, &mut texts);
        }
        for (verb, flag) in pare_flags(&texts.join("\n")) {
            uses.push((path, verb, flag));
        }
    }
    let verbs: BTreeMap<&str, ()> = uses.iter().map(|(_, v, _)| (v.as_str(), ())).collect();
    for verb in ["lint", "build", "scan", "db update"] {
        assert!(verbs.contains_key(verb), "no `pare {verb}` found: {uses:?}");
    }
    assert_flags_exist(&uses);
}

/// Asserts each `(where, verb, flag)` is listed by `pare VERB --help`.
fn assert_flags_exist(uses: &[(&str, String, String)]) {
    let mut help = BTreeMap::new();
    for (path, verb, flag) in uses {
        let text = help.entry(verb.clone()).or_insert_with(|| {
            let mut args: Vec<&str> = verb.split(' ').collect();
            args.push("--help");
            pare(&args).success().stdout()
        });
        let listed = text
            .split(|c: char| c.is_whitespace() || c == ',')
            .any(|w| {
                w == flag
                    || w.strip_prefix(flag.as_str())
                        .is_some_and(|r| r.starts_with('['))
            });
        assert!(
            listed,
            "{path}: `pare {verb} {flag}` is not in `pare {verb} --help`"
        );
    }
}

/// Kubernetes `command`/`args` lists, joined into one command line each.
fn collect_commands(value: &Value, into: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                if let ("command" | "args", Value::Array(words)) = (key.as_str(), v) {
                    let line: Vec<&str> = words.iter().filter_map(Value::as_str).collect();
                    into.push(line.join(" "));
                }
                collect_commands(v, into);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_commands(v, into)),
        _ => {}
    }
}

/// The fenced `yaml` blocks of a Markdown file, in order.
fn yaml_blocks(markdown: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in markdown.lines() {
        match (&mut current, line.trim_end()) {
            (None, "```yaml") => current = Some(String::new()),
            (Some(block), "```") => {
                blocks.push(std::mem::take(block));
                current = None;
            }
            (Some(block), _) => {
                block.push_str(line);
                block.push('\n');
            }
            (None, _) => {}
        }
    }
    blocks
}

/// Asserts `step` (a workflow step using pare's Action) passes only inputs the Action
/// declares, and the required ones.
fn assert_action_inputs(what: &str, step: &Value) {
    let action = &yaml_documents("action.yml")[0];
    let with = step["with"].as_object().expect("with:");
    for input in with.keys() {
        assert!(
            action["inputs"].get(input).is_some(),
            "{what} passes `{input}`, which action.yml does not take"
        );
    }
    for (input, declared) in action["inputs"].as_object().unwrap() {
        if declared["required"] == true {
            assert!(with.contains_key(input), "{what} leaves out `{input}`");
        }
    }
}

/// pare's own image is made by pare's own Action (issue 25 point 4).
#[test]
fn pares_image_workflow_is_valid_and_uses_the_action() {
    let workflow = &yaml_documents(".github/workflows/image.yml")[0];
    assert_valid(
        "ci/github-workflows.json",
        ".github/workflows/image.yml",
        workflow,
    );
    let steps = workflow["jobs"]["image"]["steps"].as_array().unwrap();
    let pare_step = steps
        .iter()
        .find(|s| s["uses"] == "./")
        .expect("the workflow uses this repository's action");
    assert_action_inputs(".github/workflows/image.yml", pare_step);
    assert!(
        pare_step["with"]["push"]
            .as_str()
            .is_some_and(|p| p.starts_with("docker://")),
        "the slim image is pushed with its evidence"
    );
    let args = pare_step["with"]["build-args"].as_str().unwrap();
    let uses: Vec<(&str, String, String)> = pare_flags(&format!("pare build {args}"))
        .into_iter()
        .map(|(verb, flag)| (".github/workflows/image.yml build-args", verb, flag))
        .collect();
    assert!(uses.len() >= 4, "{uses:?}");
    assert_flags_exist(&uses);
}

#[test]
fn the_examples_in_docs_ci_are_valid_workflows_and_pipelines() {
    let text = std::fs::read_to_string(repo_file("docs/ci.md")).expect("docs/ci.md");
    let blocks = yaml_blocks(&text);
    assert_eq!(blocks.len(), 2, "a GitHub workflow, then a .gitlab-ci.yml");
    let parse = |n: usize| -> Value {
        serde_norway::from_str(&blocks[n])
            .unwrap_or_else(|e| panic!("docs/ci.md yaml block {}: {e}", n + 1))
    };
    let workflow = parse(0);
    assert_valid(
        "ci/github-workflows.json",
        "docs/ci.md's workflow",
        &workflow,
    );
    let steps = workflow["jobs"]["image"]["steps"].as_array().unwrap();
    let pare_step = steps
        .iter()
        .find(|s| s["uses"].as_str().is_some_and(|u| u.contains("/pare@")))
        .expect("the workflow uses the action");
    assert_action_inputs("docs/ci.md", pare_step);
    let pipeline = parse(1);
    assert_valid(
        "ci/gitlab-ci.json",
        "docs/ci.md's .gitlab-ci.yml",
        &pipeline,
    );
    let template_inputs = &yaml_documents("ci/pare.gitlab-ci.yml")[0]["spec"]["inputs"];
    for input in pipeline["include"][0]["inputs"].as_object().unwrap().keys() {
        assert!(
            template_inputs.get(input).is_some(),
            "docs/ci.md passes `{input}`, which ci/pare.gitlab-ci.yml does not take"
        );
    }
}

/// The rescan's `scan.sh`, run as index 1 of the Indexed Job would run it, but on this
/// host against a registry on loopback (`CONFIG_DIR`, `WORK_DIR`, `AUTH_FILE` in place
/// of the pod's mounts): every tag of the repository is scanned pinned to its digest,
/// a fallback tag of attached artifacts is not, and the results are valid SARIF and
/// CycloneDX ready for `attach.sh`.
#[test]
fn the_rescan_script_scans_every_tag_of_its_repository_by_digest() {
    let manifests = yaml_documents("deploy/kubernetes/rescan.yaml");
    let script = manifests[0]["data"]["scan.sh"].as_str().unwrap();
    let registry = support::registry::Registry::start(support::registry::Mode::Plain);
    let vulnapp = support::test_image("vulnapp");
    let flask = support::test_image("flask");
    registry.push_with_skopeo(&vulnapp.archive_ref(), "team/app:1.0");
    registry.push_with_skopeo(&flask.archive_ref(), "team/app:2.0");
    let fallback = format!("sha256-{}", "0".repeat(64));
    registry.push_with_skopeo(&flask.archive_ref(), &format!("team/app:{fallback}"));

    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    let work = dir.path().join("work");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::create_dir_all(&work).unwrap();
    std::fs::write(config.join("registry"), &registry.host).unwrap();
    std::fs::write(config.join("namespace"), "team").unwrap();
    std::fs::write(config.join("repositories"), "web\napp\n").unwrap();
    let auth = dir.path().join("config.json");
    std::fs::write(&auth, "{}").unwrap();
    let advisories = repo_file("tests/data/vuln/osv");
    pare(&[
        "db",
        "import",
        "--db",
        work.join("advisories.sqlite").to_str().unwrap(),
        advisories.to_str().unwrap(),
    ])
    .success();

    let path = path_with_pare();
    let ran = support::run(
        "sh",
        &["-c", script],
        &[
            ("PATH", &path),
            ("JOB_COMPLETION_INDEX", "1"),
            ("CONFIG_DIR", config.to_str().unwrap()),
            ("WORK_DIR", work.to_str().unwrap()),
            ("AUTH_FILE", auth.to_str().unwrap()),
            ("PARE_CACHE_DIR", work.to_str().unwrap()),
            // skopeo speaks plain HTTP only when told; pare does on loopback anyway.
            ("REGISTRY_TLS_VERIFY", "false"),
        ],
    )
    .success();
    assert!(
        ran.stdout()
            .contains(&format!("index 1: {}/team/app", registry.host)),
        "{}",
        ran.explain()
    );

    let results = work.join("results/team/app");
    let mut tags: Vec<String> = std::fs::read_dir(&results)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    tags.sort();
    assert_eq!(tags, ["1.0", "2.0"], "the fallback tag is not scanned");
    let sarif_validator = validator("sarif-schema-2.1.0.json");
    let mut findings = Vec::new();
    for tag in &tags {
        let out = results.join(tag);
        let digest = registry
            .skopeo_inspect(&format!("team/app:{tag}"), false)
            .json()["Digest"]
            .as_str()
            .unwrap()
            .to_owned();
        let subject = std::fs::read_to_string(out.join("subject")).unwrap();
        assert_eq!(
            subject.trim(),
            format!("{}/team/app@{digest}", registry.host)
        );
        let sarif: Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("scan.sarif")).unwrap())
                .unwrap();
        let errors: Vec<String> = sarif_validator
            .iter_errors(&sarif)
            .take(5)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{tag}: {errors:?}");
        findings.push(sarif["runs"][0]["results"].as_array().unwrap().len());
        let bom: Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("scan.cdx.json")).unwrap())
                .unwrap();
        assert_valid("cyclonedx/bom-1.6.schema.json", tag, &bom);
    }
    // vulnapp (1.0) has the advisories' findings, flask (2.0) none of them.
    assert!(findings[0] > 0 && findings[1] == 0, "{findings:?}");
}

/// `${{ inputs.X }}` and `${{ steps.S.outputs.K }}` in `text`, as the runner puts them.
fn expand(text: &str, inputs: &Value, outputs: &BTreeMap<String, String>) -> String {
    let mut expanded = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${{") {
        expanded.push_str(&rest[..start]);
        let end = rest[start..].find("}}").expect("a closed expression") + start;
        let expression = rest[start + 3..end].trim();
        let value = if let Some(name) = expression.strip_prefix("inputs.") {
            inputs[name]
                .as_str()
                .map(str::to_owned)
                .or_else(|| {
                    let action = &yaml_documents("action.yml")[0];
                    action["inputs"][name]["default"]
                        .as_str()
                        .map(str::to_owned)
                })
                .unwrap_or_default()
        } else if let Some(path) = expression.strip_prefix("steps.") {
            outputs.get(path).cloned().unwrap_or_default()
        } else {
            panic!("action.yml: expression {expression:?} not known to this test")
        };
        expanded.push_str(&value);
        rest = &rest[end + 2..];
    }
    expanded.push_str(rest);
    expanded
}

/// Runs the action's `run` step with `id` under bash as the runner would (its `env`
/// expanded, `GITHUB_OUTPUT` a file), adding what it wrote to `outputs` as
/// `ID.outputs.KEY`; returns the run.
fn run_action_step(
    id: &str,
    inputs: &Value,
    outputs: &mut BTreeMap<String, String>,
    env: &[(&str, &str)],
) -> support::Run {
    let action = &yaml_documents("action.yml")[0];
    let step = action["runs"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == id)
        .unwrap_or_else(|| panic!("action.yml has no step {id}"));
    assert_eq!(step["shell"], "bash");
    let output_file = tempfile::NamedTempFile::new().unwrap();
    let mut vars: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    vars.push((
        "GITHUB_OUTPUT".into(),
        output_file.path().to_str().unwrap().into(),
    ));
    for (name, value) in step["env"].as_object().into_iter().flatten() {
        vars.push((
            name.clone(),
            expand(value.as_str().unwrap(), inputs, outputs),
        ));
    }
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    // The runner's bash: `bash --noprofile --norc -eo pipefail {0}`.
    let script = step["run"].as_str().unwrap();
    let ran = support::run(
        "bash",
        &["--noprofile", "--norc", "-eo", "pipefail", "-c", script],
        &vars,
    );
    for line in std::fs::read_to_string(output_file.path()).unwrap().lines() {
        let (key, value) = line.split_once('=').expect("KEY=VALUE");
        outputs.insert(format!("{id}.outputs.{key}"), value.to_owned());
    }
    ran
}

/// The Action's lint, build and scan steps, run for real on the vulnapp test image:
/// lint passes its gate and writes SARIF, the build's report gives the slim image and
/// its VEX, and the scan of the slim image writes valid SARIF and keeps a non-zero
/// status for the final gate when vulnerabilities remain at or above `fail-on`.
#[test]
fn the_actions_steps_lint_build_and_scan_a_test_image() {
    if support::skip_without_engine() {
        return;
    }
    let vulnapp = support::test_image("vulnapp");
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    std::fs::create_dir_all(&cache).unwrap();
    pare(&[
        "db",
        "import",
        "--db",
        cache.join("advisories.sqlite").to_str().unwrap(),
        repo_file("tests/data/vuln/osv").to_str().unwrap(),
    ])
    .success();
    let slim_tag = format!("pare-test-action/vulnapp:{}", std::process::id());
    let _remove = RemoveImage(slim_tag.clone());
    let report_dir = dir.path().join("pare-report");
    let inputs = serde_json::json!({
        "image": vulnapp.image,
        "dockerfile": repo_file("tests/images/vulnapp/Dockerfile").to_str().unwrap(),
        "build-args": format!("--tag {slim_tag}"),
        "fail-on": "low",
        "report-dir": report_dir.to_str().unwrap(),
    });
    let path = path_with_pare();
    let env = [
        ("PATH", path.as_str()),
        ("PARE_CACHE_DIR", cache.to_str().unwrap()),
    ];
    let mut outputs = BTreeMap::new();

    run_action_step("lint", &inputs, &mut outputs, &env).success();
    let lint_sarif = &outputs["lint.outputs.sarif"];
    let sarif: Value = serde_json::from_str(&std::fs::read_to_string(lint_sarif).unwrap()).unwrap();
    assert_valid("sarif-schema-2.1.0.json", "lint.sarif", &sarif);

    run_action_step("build", &inputs, &mut outputs, &env).success();
    assert_eq!(
        outputs["build.outputs.slim"],
        format!("docker-daemon:{slim_tag}")
    );
    let vex = &outputs["build.outputs.vex"];
    assert!(Path::new(vex).is_file(), "{outputs:?}");

    // Vulnerabilities the app still uses stay in the slim image (old Flask wheels):
    // the scan step succeeds, keeps status 1 for the gate, and its SARIF is valid.
    run_action_step("scan", &inputs, &mut outputs, &env).success();
    assert_eq!(outputs["scan.outputs.status"], "1", "{outputs:?}");
    let scan_sarif = &outputs["scan.outputs.sarif"];
    let sarif: Value = serde_json::from_str(&std::fs::read_to_string(scan_sarif).unwrap()).unwrap();
    assert_valid("sarif-schema-2.1.0.json", "scan.sarif", &sarif);
    assert!(!sarif["runs"][0]["results"].as_array().unwrap().is_empty());

    // With no gate the same scan leaves status 0.
    let no_gate = serde_json::json!({
        "fail-on": "",
        "report-dir": report_dir.to_str().unwrap(),
    });
    let mut again = outputs.clone();
    run_action_step("scan", &no_gate, &mut again, &env).success();
    assert_eq!(again["scan.outputs.status"], "0");
}

/// The GitLab template's `script` of `job`, its `$[[ inputs.X ]]` filled in from
/// `inputs` or the spec's defaults, as one bash script.
fn gitlab_script(job: &str, inputs: &Value) -> String {
    let documents = yaml_documents("ci/pare.gitlab-ci.yml");
    let spec = &documents[0]["spec"]["inputs"];
    let lines: Vec<&str> = documents[1][job]["script"]
        .as_array()
        .unwrap_or_else(|| panic!("ci/pare.gitlab-ci.yml: no script in {job}"))
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    let mut script = lines.join("\n");
    for (name, declared) in spec.as_object().unwrap() {
        let value = inputs[name.as_str()]
            .as_str()
            .or_else(|| declared["default"].as_str())
            .unwrap_or_default();
        script = script.replace(&format!("$[[ inputs.{name} ]]"), value);
    }
    assert!(!script.contains("$[["), "an input left: {script}");
    script
}

/// The GitLab template's two jobs' scripts, run for real with bash in a project
/// directory as the runner runs them (inputs interpolated, the `.pare` variables set),
/// on the vulnapp test image; `pare db update` reads a loopback bucket holding the
/// real PyPA export. The lint job passes; the build-scan job writes the report, the
/// CycloneDX report GitLab reads and valid SARIF, and fails its gate at `fail-on: low`.
#[test]
fn the_gitlab_jobs_lint_build_and_scan_a_test_image() {
    if support::skip_without_engine() {
        return;
    }
    use support::bucket::{Answer, Bucket};
    let pypa = std::fs::read(repo_file(
        "tests/data/vuln/dumps/PyPI-pypa-advisory-database-2024-10-10.zip",
    ))
    .unwrap();
    let bucket = Bucket::serve(std::collections::HashMap::from([(
        "/PyPI/all.zip".to_owned(),
        Answer::File(pypa),
    )]));
    let vulnapp = support::test_image("vulnapp");
    let project = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let cache = project.path().join(".pare-cache");
    // The database the runner's cache brings back: PyPI, so `pare db update` renews it.
    pare(&[
        "db",
        "update",
        "--db",
        cache.join("advisories.sqlite").to_str().unwrap(),
        "--base-url",
        &bucket.base,
        "--ecosystem",
        "PyPI",
    ])
    .success();
    let slim_tag = format!("pare-test-gitlab/vulnapp:{}", std::process::id());
    let _remove = RemoveImage(slim_tag.clone());
    std::fs::copy(
        repo_file("tests/images/vulnapp/Dockerfile"),
        project.path().join("Dockerfile"),
    )
    .unwrap();
    let inputs = serde_json::json!({
        "image": vulnapp.image,
        "build-args": format!("--tag {slim_tag}"),
        "fail-on": "low",
    });
    let path = path_with_pare();
    let job = |name: &str| {
        let output = std::process::Command::new("bash")
            .args(["--noprofile", "--norc", "-eo", "pipefail", "-c"])
            .arg(gitlab_script(name, &inputs))
            .current_dir(project.path())
            .env("PATH", &path)
            .env("TMPDIR", work.path())
            .env("PARE_CACHE_DIR", &cache)
            .env("PARE_OSV_BASE", &bucket.base)
            .output()
            .expect("bash");
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };

    let (code, stderr) = job("pare-lint");
    assert_eq!(code, Some(0), "{stderr}");
    let read = |file: &str| -> Value {
        let text = std::fs::read_to_string(project.path().join(file))
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        serde_json::from_str(&text).unwrap()
    };
    assert_valid(
        "sarif-schema-2.1.0.json",
        "pare-lint.sarif",
        &read("pare-lint.sarif"),
    );

    let (code, stderr) = job("pare-build-scan");
    assert_eq!(code, Some(1), "the gate at fail-on low: {stderr}");
    assert!(
        stderr.contains("osv:PyPI: 2,644 advisories"),
        "pare db update ran: {stderr}"
    );
    let report = read("pare-report/report.json");
    assert_eq!(report["outputs"][0], format!("docker-daemon:{slim_tag}"));
    let sarif = read("pare-report/scan.sarif");
    assert_valid("sarif-schema-2.1.0.json", "scan.sarif", &sarif);
    assert!(!sarif["runs"][0]["results"].as_array().unwrap().is_empty());
    assert_valid(
        "cyclonedx/bom-1.6.schema.json",
        "scan.cdx.json",
        &read("pare-report/scan.cdx.json"),
    );
}
