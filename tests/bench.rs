//! End-to-end tests of `assay bench` through the binary: the quickstart
//! config, a run against an in-process OpenAI-compatible server (including
//! its failure modes), the run directory layout, and secrets.

use crate::support;

use serde_json::Value;
use std::collections::HashSet;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use support::fixtures::{Project, files_under, mcq_jsonl, output_text, plugin, read_json, read_jsonl, repo_root};
use support::openai_mock::{MockOpenAi, MockReply, MockRequest};

/// Every file a finished job must have, consistent with each other.
fn assert_job_files(run_dir: &Path, job_id: &str, expected_samples: usize) -> (Vec<Value>, Value) {
    let job_dir = run_dir.join(job_id);
    let results = read_jsonl(&job_dir.join("results.jsonl"));
    assert_eq!(results.len(), expected_samples, "{job_id}: result lines");
    let summary = read_json(&job_dir.join("summary.json"));
    assert_eq!(summary["n"], expected_samples, "{job_id}: summary n");
    let errors = results.iter().filter(|r| !r["error"].is_null()).count();
    assert_eq!(summary["n_errors"], errors, "{job_id}: summary n_errors");
    let metadata = read_json(&job_dir.join("metadata.json"));
    assert_eq!(metadata["job_id"], job_id);
    assert_eq!(metadata["plugin"]["sha256"].as_str().map(str::len), Some(64));
    assert_eq!(metadata["dataset"]["sha256"].as_str().map(str::len), Some(64));
    let manifest = read_json(&run_dir.join("run_manifest.json"));
    let entry = manifest["jobs"].as_array().unwrap().iter().find(|j| j["job_id"] == job_id).expect("job in manifest");
    assert_eq!(entry["samples_done"], expected_samples);
    assert_eq!(entry["samples_failed"], errors);
    (results, summary)
}

#[test]
fn quickstart_config_scores_full_marks_with_the_oracle() {
    let project = Project::new();
    let config = repo_root().join("configs/quickstart.yaml");
    let output = project.assay(&["bench", "--config", config.to_str().unwrap(), "--output-dir", "runs/raw"]);
    assert!(output.status.success(), "{}", output_text(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("Results: runs/raw/quickstart-"), "{stdout}");
    let run_dir = project.only_run_dir();
    let manifest = read_json(&run_dir.join("run_manifest.json"));
    assert_eq!(manifest["summary"]["completed"], 3, "{manifest}");
    for job in ["oracle-sample-mcq", "oracle-sample-mcq-shuffled-1618", "oracle-sample-mcq-shuffled-9331"] {
        let (results, summary) = assert_job_files(&run_dir, job, 20);
        assert_eq!(summary["mean_reward"], 1.0, "{job}");
        assert!(results.iter().all(|r| r["parse_status"] == "ok"));
    }
    // Shuffling moves answers: the same question shows different letters.
    let gold = |job: &str| -> Vec<Value> {
        read_jsonl(&run_dir.join(job).join("results.jsonl")).iter().map(|r| r["info"]["gold"].clone()).collect()
    };
    assert_ne!(gold("oracle-sample-mcq-shuffled-1618"), gold("oracle-sample-mcq"));
}

/// A project with the mcq plugin, a dataset and a config for `model`.
fn mcq_project(rows: &[(&str, &str, [&str; 4], &str)], model_yaml: &str, env_extra: &str) -> Project {
    let project = Project::new();
    project.write("data.jsonl", &mcq_jsonl(rows));
    let config = format!(
        "name: e2e\nmodels:\n{model_yaml}\nenvs:\n  - id: mcq\n    module: {}\n    dataset: data.jsonl\n{env_extra}jobs:\n  - model: served\n    env: mcq\n",
        plugin("mcq").display()
    );
    project.write("run.yaml", &config);
    project
}

fn served_model(base_url: &str, extra: &str) -> String {
    format!("  served:\n    model: test-model\n    api_base_url: {base_url}\n    max_concurrent: 4\n{extra}")
}

const QUESTIONS: [(&str, &str, [&str; 4], &str); 4] = [
    ("a", "First?", ["w", "x", "y", "z"], "B"),
    ("b", "Second?", ["w", "x", "y", "z"], "A"),
    ("c", "Third?", ["w", "x", "y", "z"], "B"),
    ("d", "Fourth?", ["w", "x", "y", "z"], "D"),
];

#[test]
fn run_against_an_openai_compatible_server_writes_consistent_files() {
    let server = MockOpenAi::start(|request: &MockRequest| {
        assert_eq!(request.model(), "test-model");
        MockReply::TextWithReasoning { content: "Let me think. The answer is (B).".into(), reasoning: "hmm".into() }
    });
    let extra = "    sampling_args:\n      temperature: 0.5\n      top_k: 7\n";
    let project = mcq_project(&QUESTIONS, &served_model(server.base_url(), extra), "    rollouts_per_example: 2\n");
    let output = project.assay(&["bench", "--config", "run.yaml"]);
    assert!(output.status.success(), "{}", output_text(&output));
    assert_eq!(server.request_count(), 8);
    let run_dir = project.only_run_dir();
    let (results, summary) = assert_job_files(&run_dir, "served-mcq", 8);
    // Gold is B for two of four questions; both rollouts answer B.
    assert_eq!(summary["mean_reward"], 0.5);
    let mut seen = HashSet::new();
    for result in &results {
        assert!(seen.insert((result["example_id"].to_string(), result["rollout"].to_string())), "duplicate sample");
        assert_eq!(result["parsed_answer"], "B");
        assert_eq!(result["reasoning"], "hmm");
        assert!(result["tokens"]["completion"].as_u64().unwrap() > 0);
        assert_eq!(result["prompt"][0]["role"], "user");
        let expected = if result["info"]["gold"] == "B" { 1.0 } else { 0.0 };
        assert_eq!(result["reward"], expected);
    }
    let metadata = read_json(&run_dir.join("served-mcq/metadata.json"));
    assert_eq!(metadata["sampling_args"]["top_k"], 7);
}

#[test]
fn server_faults_fail_only_their_samples_with_the_right_error() {
    let rate_limited_once = Arc::new(Mutex::new(HashSet::new()));
    let server = MockOpenAi::start(move |request: &MockRequest| {
        let prompt = request.last_user_message().to_string();
        if prompt.contains("RATE") && rate_limited_once.lock().unwrap().insert(prompt.clone()) {
            return MockReply::Status { code: 429, retry_after: Some("1".into()), body: "slow down".into() };
        }
        match () {
            _ if prompt.contains("FAIL") => MockReply::Status { code: 500, retry_after: None, body: "boom".into() },
            _ if prompt.contains("BADREQ") => MockReply::Status { code: 400, retry_after: None, body: "bad".into() },
            _ if prompt.contains("GARBAGE") => MockReply::Garbage,
            _ if prompt.contains("STALL") => MockReply::Stall,
            _ => MockReply::Text("The answer is (A).".into()),
        }
    });
    let rows = [
        ("ok", "Plain?", ["w", "x", "y", "z"], "A"),
        ("rate", "RATE limited?", ["w", "x", "y", "z"], "A"),
        ("fail", "FAIL always?", ["w", "x", "y", "z"], "A"),
        ("badreq", "BADREQ?", ["w", "x", "y", "z"], "A"),
        ("garbage", "GARBAGE?", ["w", "x", "y", "z"], "A"),
        ("stall", "STALL?", ["w", "x", "y", "z"], "A"),
    ];
    let model = served_model(server.base_url(), "    max_retries: 1\n    timeout: 2\n");
    let project = mcq_project(&rows, &model, "");
    let output = project.assay(&["bench", "--config", "run.yaml"]);
    assert_eq!(output.status.code(), Some(1), "a job with failed samples fails the run: {}", output_text(&output));
    let run_dir = project.only_run_dir();
    let (results, summary) = assert_job_files(&run_dir, "served-mcq", 6);
    let by_id = |id: &str| results.iter().find(|r| r["example_id"] == id).unwrap().clone();
    assert_eq!(by_id("ok")["reward"], 1.0);
    assert_eq!(by_id("rate")["reward"], 1.0, "a 429 with Retry-After is retried");
    for (id, needle, kind) in [
        ("fail", "500", "server-error"),
        ("badreq", "400", "client-error"),
        ("garbage", "malformed", "malformed-reply"),
        ("stall", "timed out", "model-timeout"),
    ] {
        let error = &by_id(id)["error"];
        assert_eq!(error["kind"], kind, "{id}: {error}");
        let message = error["message"].as_str().unwrap();
        assert!(message.to_lowercase().contains(needle), "{id}: {message}");
        assert!(!message.contains('\n'), "one-line error");
    }
    assert_eq!(summary["n_errors"], 4);
    assert_eq!(summary["n_scored"], 2);
    let manifest = read_json(&run_dir.join("run_manifest.json"));
    assert_eq!(manifest["jobs"][0]["status"], "failed");
}

#[test]
fn a_job_whose_model_keeps_failing_stops_and_a_rerun_asks_the_rest() {
    let down = Arc::new(AtomicBool::new(true));
    let server = MockOpenAi::start({
        let down = down.clone();
        move |_: &MockRequest| match down.load(Ordering::SeqCst) {
            true => MockReply::Status { code: 503, retry_after: None, body: "overloaded".into() },
            false => MockReply::Text("The answer is (A).".into()),
        }
    });
    let ids: Vec<String> = (0..40).map(|i| format!("q{i}")).collect();
    let rows: Vec<_> = ids.iter().map(|id| (id.as_str(), "Which?", ["w", "x", "y", "z"], "A")).collect();
    let model = format!(
        "  served:\n    model: test-model\n    api_base_url: {}\n    max_concurrent: 1\n    max_retries: 0\n",
        server.base_url()
    );
    let project = mcq_project(&rows, &model, "");
    let output = project.assay(&["bench", "--config", "run.yaml", "--max-failures-in-a-row", "5"]);
    assert_eq!(output.status.code(), Some(1), "{}", output_text(&output));
    let run_dir = project.only_run_dir();
    assert_eq!(read_jsonl(&run_dir.join("served-mcq/results.jsonl")).len(), 5, "stopped at the fifth failure");
    assert_eq!(server.request_count(), 5, "no request after the stop");
    let job = &read_json(&run_dir.join("run_manifest.json"))["jobs"][0];
    assert_eq!(job["status"], "failed");
    let reason = job["reason"].as_str().unwrap();
    assert!(reason.starts_with("stopped after 5 samples in a row got no reply (last: server-error: "), "{reason}");
    assert!(output_text(&output).contains("stopped after 5 samples in a row"), "{}", output_text(&output));

    // The endpoint is back: a rerun asks the failed samples and the rest.
    down.store(false, Ordering::SeqCst);
    let output = project.assay(&["bench", "--config", "run.yaml"]);
    assert!(output.status.success(), "{}", output_text(&output));
    let (results, summary) = assert_job_files(&run_dir, "served-mcq", 40);
    assert!(results.iter().all(|r| r["reward"] == 1.0));
    assert_eq!(summary["n_errors"], 0);
}

#[test]
fn the_api_key_never_reaches_files_or_output() {
    const KEY: &str = "sk-test-7f3a9c1e5b2d4f6a8c0e";
    let server = MockOpenAi::start(|request: &MockRequest| {
        if request.last_user_message().contains("FAIL") {
            MockReply::Status { code: 401, retry_after: None, body: "invalid key".into() }
        } else {
            MockReply::Text("The answer is (A).".into())
        }
    });
    let model = served_model(server.base_url(), "    api_key_var: ASSAY_TEST_KEY\n");
    let rows = [("a", "Fine?", ["w", "x", "y", "z"], "A"), ("b", "FAIL?", ["w", "x", "y", "z"], "A")];
    let project = mcq_project(&rows, &model, "");
    let output = project.assay_with_env(&["bench", "--config", "run.yaml", "-vv"], &[("ASSAY_TEST_KEY", KEY)]);
    assert_eq!(output.status.code(), Some(1), "{}", output_text(&output));
    assert!(server.auth_headers().iter().any(|h| h == &format!("Bearer {KEY}")), "the key is sent");
    assert!(!output_text(&output).contains(KEY), "key in stdout/stderr");
    for entry in files_under(project.path()) {
        let bytes = std::fs::read(&entry).unwrap();
        assert!(!String::from_utf8_lossy(&bytes).contains(KEY), "key in {}", entry.display());
    }
}

#[test]
fn a_missing_api_key_variable_is_named() {
    let model = served_model("http://127.0.0.1:9/v1", "    api_key_var: ASSAY_TEST_UNSET_KEY\n");
    let project = mcq_project(&QUESTIONS, &model, "");
    let output = project.assay(&["bench", "--config", "run.yaml"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("ASSAY_TEST_UNSET_KEY"), "{stderr}");
    assert!(!project.path().join("runs").exists(), "nothing is created before the preflight passes");
}

#[test]
fn dry_run_prints_the_plan_and_writes_nothing() {
    let project = mcq_project(&QUESTIONS, &served_model("http://127.0.0.1:9/v1", ""), "    rollouts_per_example: 3\n");
    let output = project.assay(&["bench", "--config", "run.yaml", "--dry-run"]);
    assert!(output.status.success(), "{}", output_text(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("served-mcq") && stdout.contains("12"), "{stdout}");
    assert!(!project.path().join("runs").exists());
}

#[test]
fn config_errors_are_one_line_and_name_the_field() {
    let project = Project::new();
    project.write("run.yaml", "name: x\nmodels:\n  m:\n    model: y\n    max_concurent: 3\njobs: []\n");
    let output = project.assay(&["bench", "--config", "run.yaml"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("run.yaml") && stderr.contains("max_concurent"), "{stderr}");
}
