//! The wasm sandbox through `assay bench`: hostile plugins fail only their
//! own samples, with one-line errors naming plugin, version and record,
//! within their limits; broken plugin files are refused at load.

mod support;

use support::fixtures::{Project, mcq_jsonl, output_text, plugin, read_json, read_jsonl};

#[test]
fn hostile_records_fail_alone_and_other_jobs_finish() {
    let project = Project::new();
    let behaviors = ["ok", "loop", "ok", "alloc", "panic", "read_file", "recurse", "ok"];
    let rows: String = behaviors
        .iter()
        .enumerate()
        .map(|(i, b)| serde_json::json!({"id": format!("{i}-{b}"), "behavior": b}).to_string() + "\n")
        .collect();
    project.write("hostile.jsonl", &rows);
    project.write("mcq.jsonl", &mcq_jsonl(&[("q", "Pick B", ["a", "b", "c", "d"], "B")]));
    let config = format!(
        "name: sandbox
envs:
  - id: hostile
    module: {hostile}
    dataset: hostile.jsonl
    limits: {{memory_mb: 64, call_timeout_ms: 3000, fuel: 2000000000}}
  - id: mcq
    module: {mcq}
    dataset: mcq.jsonl
jobs:
  - model: oracle
    env: [hostile, mcq]
",
        hostile = plugin("hostile").display(),
        mcq = plugin("mcq").display()
    );
    project.write("run.yaml", &config);
    let output = project.assay(&["bench", "--config", "run.yaml"]);
    assert_eq!(output.status.code(), Some(1), "{}", output_text(&output));
    let run_dir = project.only_run_dir();

    let results = read_jsonl(&run_dir.join("oracle-hostile/results.jsonl"));
    assert_eq!(results.len(), behaviors.len());
    let error_of = |id: &str| results.iter().find(|r| r["example_id"] == id).unwrap()["error"].clone();
    for ok in ["0-ok", "2-ok", "7-ok"] {
        assert!(error_of(ok).is_null(), "{ok}: {}", error_of(ok));
    }
    let expectations = [
        ("1-loop", "cpu", "exceeded its CPU budget"),
        ("3-alloc", "memory", "exceeded its memory limit of 64 MiB"),
        ("4-panic", "panic", "hostile plugin panics on purpose"),
        ("5-read_file", "plugin", "cannot read /etc/passwd"),
        ("6-recurse", "trap", "trapped"),
    ];
    for (id, kind, needle) in expectations {
        let error = error_of(id);
        assert_eq!(error["kind"], kind, "{id}: {error}");
        let message = error["message"].as_str().unwrap();
        assert!(message.starts_with(&format!("plugin hostile 0.1.0, record {id}: ")), "{message}");
        assert!(message.contains(needle), "{id}: {message}");
        assert!(!message.contains('\n'));
    }
    let summary = read_json(&run_dir.join("oracle-hostile/summary.json"));
    assert_eq!(summary["n_errors"], 5);
    assert_eq!(summary["mean_reward"], 1.0, "the well-behaved records still score");

    let manifest = read_json(&run_dir.join("run_manifest.json"));
    let status =
        |job: &str| manifest["jobs"].as_array().unwrap().iter().find(|j| j["job_id"] == job).unwrap()["status"].clone();
    assert_eq!(status("oracle-hostile"), "failed");
    assert_eq!(status("oracle-mcq"), "completed");
}

#[test]
fn an_infinite_loop_is_stopped_by_the_wall_clock_when_fuel_allows_it() {
    let project = Project::new();
    project.write("hostile.jsonl", "{\"id\": \"spin\", \"behavior\": \"loop\"}\n");
    let config = format!(
        "envs:\n  - id: hostile\n    module: {}\n    dataset: hostile.jsonl\n    limits: {{call_timeout_ms: 300, fuel: 1000000000000000}}\njobs:\n  - model: oracle\n    env: hostile\n",
        plugin("hostile").display()
    );
    project.write("run.yaml", &config);
    let output = project.assay(&["bench", "--config", "run.yaml"]);
    assert_eq!(output.status.code(), Some(1), "{}", output_text(&output));
    let results = read_jsonl(&project.only_run_dir().join("oracle-hostile/results.jsonl"));
    assert_eq!(results[0]["error"]["kind"], "timeout", "{}", results[0]);
    assert!(results[0]["error"]["message"].as_str().unwrap().contains("timed out after 300 ms"));
}

/// Run a one-job config whose env uses `module`, expecting a load error.
fn load_error(module: &str) -> String {
    let project = Project::new();
    project.write("data.jsonl", &mcq_jsonl(&[("q", "Pick B", ["a", "b", "c", "d"], "B")]));
    project.write(
        "run.yaml",
        &format!(
            "envs:\n  - id: e\n    module: {module}\n    dataset: data.jsonl\njobs:\n  - model: oracle\n    env: e\n"
        ),
    );
    let output = project.assay(&["bench", "--config", "run.yaml"]);
    assert_eq!(output.status.code(), Some(2), "{}", output_text(&output));
    assert!(!project.path().join("runs").exists(), "a load error creates no run");
    let stderr = String::from_utf8_lossy(&output.stderr).trim().to_string();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    stderr
}

#[test]
fn a_plugin_for_an_unsupported_api_version_is_refused_with_advice() {
    let stderr = load_error(plugin("future-api").to_str().unwrap());
    assert!(stderr.contains("targets assay:env@0.2.0"), "{stderr}");
    assert!(stderr.contains("this assay supports 0.1.x"), "{stderr}");
    assert!(stderr.contains("rebuild the plugin"), "{stderr}");
}

#[test]
fn files_that_are_not_components_are_refused() {
    let project = Project::new();
    let core = project.write("core.wasm", "\0asm\u{1}\0\0\0");
    let stderr = load_error(core.to_str().unwrap());
    assert!(stderr.contains("core WebAssembly module, not a component"), "{stderr}");
    let junk = project.write("junk.wasm", "hello");
    let stderr = load_error(junk.to_str().unwrap());
    assert!(stderr.contains("not a WebAssembly file"), "{stderr}");
}

#[test]
fn bad_env_args_fail_before_the_run_naming_the_field() {
    let project = Project::new();
    project.write("data.jsonl", &mcq_jsonl(&[("q", "Pick B", ["a", "b", "c", "d"], "B")]));
    let config = format!(
        "envs:\n  - id: e\n    module: {}\n    dataset: data.jsonl\n    env_args: {{shuffle_answers: maybe}}\njobs:\n  - model: oracle\n    env: e\n",
        plugin("mcq").display()
    );
    project.write("run.yaml", &config);
    let output = project.assay(&["bench", "--config", "run.yaml"]);
    assert_eq!(output.status.code(), Some(2), "{}", output_text(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("bad-args") && stderr.contains("shuffle_answers"), "{stderr}");
}
