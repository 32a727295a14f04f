//! Every `assay bench` flag through the binary (resume and identity have
//! their own tests in `resume.rs`).

use crate::support;

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use support::fixtures::{Project, mcq_jsonl, output_text, plugin, read_json, read_jsonl};
use support::openai_mock::{MockOpenAi, MockReply, MockRequest};

const ROWS: [(&str, &str, [&str; 4], &str); 5] = [
    ("a", "First?", ["w", "x", "y", "z"], "B"),
    ("b", "Second?", ["w", "x", "y", "z"], "A"),
    ("c", "Third?", ["w", "x", "y", "z"], "B"),
    ("d", "Fourth?", ["w", "x", "y", "z"], "D"),
    ("e", "Fifth?", ["w", "x", "y", "z"], "C"),
];

fn server() -> MockOpenAi {
    MockOpenAi::start(|_: &MockRequest| MockReply::Text("The answer is (B).".into()))
}

/// Two envs (`one`, `two`) on one model, and the oracle on `one`.
fn project(server: &MockOpenAi) -> Project {
    let project = Project::new();
    project.write("data.jsonl", &mcq_jsonl(&ROWS));
    project.write(
        "run.yaml",
        &format!(
            "name: flags
models:
  served:
    model: test-model
    api_base_url: {url}
    max_concurrent: 8
    timeout: 60
    sampling_args: {{temperature: 0.5}}
envs:
  - id: one
    module: {mcq}
    dataset: data.jsonl
  - id: two
    module: {mcq}
    dataset: data.jsonl
    matrix: {{shuffle_seed: [1, 2]}}
    env_args: {{shuffle_answers: true}}
jobs:
  - model: served
    env: [one, two]
  - model: oracle
    env: one
",
            url = server.base_url(),
            mcq = plugin("mcq").display()
        ),
    );
    project
}

fn bench(project: &Project, args: &[&str]) -> std::process::Output {
    let mut all = vec!["bench", "--config", "run.yaml"];
    all.extend_from_slice(args);
    project.assay(&all)
}

fn bench_ok(project: &Project, args: &[&str]) -> String {
    let (stdout, stderr) = project.assay_ok(&[&["bench", "--config", "run.yaml"], args].concat());
    stdout + &stderr
}

fn bench_error(project: &Project, args: &[&str]) -> String {
    let output = bench(project, args);
    assert_eq!(output.status.code(), Some(2), "{}", output_text(&output));
    let stderr = String::from_utf8_lossy(&output.stderr).trim().to_string();
    assert_eq!(stderr.lines().count(), 1, "one-line error: {stderr}");
    stderr
}

fn run_dirs(dir: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    dirs.sort();
    dirs
}

/// Every file under `dir` with its bytes, to prove a command changed nothing.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(snapshot(&path));
        } else {
            files.insert(path.clone(), std::fs::read(&path).unwrap());
        }
    }
    files
}

fn job_status(run: &Path, job: &str) -> Value {
    let manifest = read_json(&run.join("run_manifest.json"));
    manifest["jobs"].as_array().unwrap().iter().find(|j| j["job_id"] == job).unwrap()["status"].clone()
}

#[test]
fn dry_run_on_an_existing_run_shows_statuses_and_touches_nothing() {
    let server = server();
    let project = project(&server);
    bench_ok(&project, &["-q", "--job-id", "served-one", "--max-examples", "5"]);
    let before = snapshot(&project.path().join("runs"));
    let out = bench_ok(&project, &["--dry-run"]);
    assert_eq!(snapshot(&project.path().join("runs")), before, "dry run wrote something");
    for (job, status) in [("served-one", "done"), ("served-two-shuffle_seed-1", "next"), ("oracle-one", "next")] {
        let line = out.lines().find(|l| l.contains(&format!(" {job} "))).unwrap_or_else(|| panic!("{out}"));
        assert!(line.contains(&format!(" {status} ")), "{job}: {line}");
    }
    assert!(out.contains("4 jobs, 20 samples, 15 to run; resumes run runs/raw/flags-"), "{out}");
}

#[test]
fn force_reruns_every_selected_job_and_keeps_the_old_results() {
    let server = server();
    let project = project(&server);
    bench_ok(&project, &["-q"]);
    let requests = server.request_count();
    let out = bench_ok(&project, &["--force", "--job-id", "served-one"]);
    assert!(out.contains("job served-one: forced; starting it fresh"), "{out}");
    assert_eq!(server.request_count() - requests, 5);
    let run = run_dirs(&project.path().join("runs/raw")).remove(0);
    assert_eq!(run_dirs(&run.join("superseded")).len(), 1);
}

#[test]
fn forced_names_envs_by_variant_or_matrix_base_id() {
    let server = server();
    let project = project(&server);
    bench_ok(&project, &["-q"]);
    let requests = server.request_count();
    bench_ok(&project, &["--forced", "TWO"]);
    assert_eq!(server.request_count() - requests, 10, "both variants of `two` reran");
    bench_ok(&project, &["--forced", "two-shuffle_seed-1,one"]);
    assert_eq!(
        server.request_count() - requests,
        20,
        "one variant of `two` and `one` (served; the oracle asks nothing)"
    );
    let e = bench_error(&project, &["--forced", "nope"]);
    assert_eq!(e, "error: --forced nope: no job of this config uses that env");
}

#[test]
fn no_auto_resume_starts_a_new_run() {
    let server = server();
    let project = project(&server);
    bench_ok(&project, &["-q", "--run-id", "first"]);
    bench_ok(&project, &["-q", "--no-auto-resume", "--run-id", "second"]);
    let names: Vec<String> = run_dirs(&project.path().join("runs/raw"))
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["first", "second"]);
    let e = bench_error(&project, &["--no-auto-resume", "--run-id", "first"]);
    assert!(e.contains("--run-id first: that run exists; drop --no-auto-resume"), "{e}");
}

#[test]
fn run_id_resumes_that_run_or_creates_it() {
    let server = server();
    let project = project(&server);
    bench_ok(&project, &["-q", "--run-id", "mine", "--job-id", "oracle-one"]);
    let out = bench_ok(&project, &["--run-id", "mine"]);
    assert!(out.contains("Resuming run mine"), "{out}");
    assert_eq!(job_status(&project.path().join("runs/raw/mine"), "served-one"), "completed");
}

#[test]
fn name_sets_the_run_id_prefix_and_which_runs_resume() {
    let server = server();
    let project = project(&server);
    bench_ok(&project, &["-q", "--name", "other name", "--job-id", "oracle-one"]);
    let runs = run_dirs(&project.path().join("runs/raw"));
    assert!(runs[0].file_name().unwrap().to_string_lossy().starts_with("other-name-"), "{runs:?}");
    let out = bench_ok(&project, &["--dry-run"]);
    assert!(out.contains("would create run runs/raw/flags-"), "a different name does not resume: {out}");
}

#[test]
fn output_dir_overrides_the_config() {
    let server = server();
    let project = project(&server);
    bench_ok(&project, &["-q", "--output-dir", "elsewhere/raw", "--job-id", "oracle-one"]);
    assert_eq!(run_dirs(&project.path().join("elsewhere/raw")).len(), 1);
    assert!(!project.path().join("runs").exists());
}

#[test]
fn job_id_runs_only_those_jobs_and_rejects_unknown_ones() {
    let server = server();
    let project = project(&server);
    bench_ok(&project, &["-q", "--job-id", "served-one", "--job-id", "oracle-one"]);
    let run = run_dirs(&project.path().join("runs/raw")).remove(0);
    assert_eq!(job_status(&run, "served-one"), "completed");
    assert_eq!(job_status(&run, "served-two-shuffle_seed-1"), "pending", "listed, not run");
    let e = bench_error(&project, &["--job-id", "nope"]);
    assert!(e.starts_with("error: --job-id nope: no such job in this config (jobs: served-one, "), "{e}");
}

#[test]
fn env_args_and_sampling_args_reach_plugin_and_server_and_are_recorded() {
    let server = server();
    let project = project(&server);
    let args = ["-q", "--job-id", "served-one", "--env-args", r#"{"shuffle_answers": true, "shuffle_seed": 9}"#];
    bench_ok(&project, &[&args[..], &["--sampling-args", r#"{"temperature": 0, "top_k": 3}"#]].concat());
    let body = &server.requests()[0].body;
    assert_eq!((body["temperature"].clone(), body["top_k"].clone()), (0.into(), 3.into()));
    let run = run_dirs(&project.path().join("runs/raw")).remove(0);
    let metadata = read_json(&run.join("served-one/metadata.json"));
    assert_eq!(metadata["env"]["env_args"]["shuffle_seed"], 9);
    assert_eq!(metadata["identity"]["sampling_args"]["top_k"], 3);
    let results = read_jsonl(&run.join("served-one/results.jsonl"));
    assert!(results.iter().any(|r| !r["info"]["permutation"].is_null()), "answers were shuffled");
    let e = bench(&project, &["--env-args", "[1]"]);
    assert_eq!(e.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&e.stderr).contains("expected a JSON object"));
}

#[test]
fn max_concurrent_caps_requests_in_flight() {
    let server = MockOpenAi::start(|_: &MockRequest| {
        MockReply::Delay(std::time::Duration::from_millis(30), Box::new(MockReply::Text("(B)".into())))
    });
    let project = project(&server);
    bench_ok(
        &project,
        &["-q", "--max-concurrent", "2", "--job-id", "served-one", "--job-id", "served-two-shuffle_seed-1"],
    );
    assert_eq!(server.max_in_flight(), 2, "two jobs share the model's limit");
}

#[test]
fn timeout_limits_each_request() {
    let server = MockOpenAi::start(|_: &MockRequest| MockReply::Stall);
    let project = project(&server);
    let config = std::fs::read_to_string(project.path().join("run.yaml")).unwrap();
    project.write("run.yaml", &config.replace("timeout: 60", "timeout: 60\n    max_retries: 0"));
    let output = bench(&project, &["-q", "--timeout", "0.3", "--job-id", "served-one"]);
    assert_eq!(output.status.code(), Some(1), "{}", output_text(&output));
    let run = run_dirs(&project.path().join("runs/raw")).remove(0);
    let results = read_jsonl(&run.join("served-one/results.jsonl"));
    assert!(results.iter().all(|r| r["error"]["message"] == "timed out after 0.3 s"), "{results:?}");
    assert!(bench(&project, &["--timeout", "0"]).status.code() == Some(2));
}

#[test]
fn max_examples_makes_a_smoke_run() {
    let server = server();
    let project = project(&server);
    let out = bench_ok(&project, &["--max-examples", "2", "--dry-run"]);
    assert!(out.contains("4 jobs, 8 samples, 8 to run"), "{out}");
    bench_ok(&project, &["-q", "--max-examples", "2"]);
    let run = run_dirs(&project.path().join("runs/raw")).remove(0);
    assert_eq!(read_jsonl(&run.join("served-one/results.jsonl")).len(), 2);
    // The full run is a different job: it starts fresh and says so.
    let out = bench_ok(&project, &[]);
    assert!(out.contains("num_examples: 2 → 5"), "{out}");
    assert_eq!(read_jsonl(&run.join("served-one/results.jsonl")).len(), 5);
}

#[test]
fn every_shipped_config_plans() {
    // The shipped configs name Hub datasets: the in-process Hub serves them.
    let hub = support::hub_datasets::DatasetHub::start("hf_unused");
    let project = Project::new();
    let configs = support::fixtures::repo_root().join("configs");
    let hf_home = project.path().join("hf");
    // GPQA-Diamond is gated: the Hub stand-in wants its token for it.
    let env = [
        ("OPENAI_API_KEY", "sk-dummy"),
        ("HF_TOKEN", "hf_unused"),
        ("HF_ENDPOINT", hub.endpoint()),
        ("HF_HOME", hf_home.to_str().unwrap()),
    ];
    let mut checked = 0;
    for entry in std::fs::read_dir(&configs).unwrap() {
        let path = entry.unwrap().path();
        if !path.extension().is_some_and(|e| e == "yaml" || e == "toml") {
            continue;
        }
        let config = path.to_str().unwrap();
        let output = project.assay_with_env(&["bench", "--config", config, "--dry-run"], &env);
        assert!(output.status.success(), "{config}: {}", output_text(&output));
        assert!(String::from_utf8_lossy(&output.stdout).contains("dry run: nothing written"), "{config}");
        checked += 1;
    }
    assert!(checked >= 7, "found only {checked} configs");
    assert!(!project.path().join("runs").exists());
}

#[test]
fn progress_is_plain_lines_off_a_terminal_and_quiet_prints_nothing() {
    let server = MockOpenAi::start(|_: &MockRequest| {
        MockReply::Delay(std::time::Duration::from_millis(60), Box::new(MockReply::Text("(B)".into())))
    });
    let project = project(&server);
    let args = ["bench", "--config", "run.yaml", "--job-id", "served-one", "--max-concurrent", "1"];
    let output = project.assay_with_env(&args, &[("ASSAY_PROGRESS_SECS", "0.1")]);
    assert!(output.status.success(), "{}", output_text(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let progress = stderr.lines().find(|l| l.starts_with("served-one: ") && l.contains("/s, eta "));
    let line = progress.unwrap_or_else(|| panic!("no progress line: {stderr}"));
    assert!(line.contains("/5 (") && line.contains("errors 0, reward "), "{line}");
    assert!(stderr.contains("served-one: completed, 5/5 samples, errors 0, reward 0.400, in "), "{stderr}");

    let output = project.assay(&["bench", "--config", "run.yaml", "-q", "--force", "--job-id", "served-one"]);
    assert!(output.status.success(), "{}", output_text(&output));
    assert_eq!(String::from_utf8_lossy(&output.stderr), "", "-q: nothing on stderr");
}

#[test]
fn every_invocation_keeps_a_full_log_in_the_run_directory() {
    let server = MockOpenAi::start(|request: &MockRequest| {
        if request.last_user_message().contains("Third") {
            MockReply::Status { code: 400, retry_after: None, body: "context too long".into() }
        } else {
            MockReply::Text("(B)".into())
        }
    });
    let project = project(&server);
    let output = bench(&project, &["-q", "--job-id", "served-one"]);
    assert_eq!(output.status.code(), Some(1), "{}", output_text(&output));
    let run = run_dirs(&project.path().join("runs/raw")).remove(0);
    let logs = run_dirs(&run.join("logs"));
    assert_eq!(logs.len(), 1);
    let log = std::fs::read_to_string(&logs[0]).unwrap();
    assert!(log.contains("run opened") && log.contains("job started job=served-one"), "{log}");
    assert!(log.contains("example=c") && log.contains("HTTP 400: context too long"), "sample errors are logged: {log}");
    assert!(log.contains("job ended job=\"served-one\" n=5 errors=1"), "{log}");
}

#[test]
fn base_models_run_through_the_completions_api_with_a_prompt_template() {
    let server = MockOpenAi::start(|request: &MockRequest| {
        assert!(request.is_text_completion(), "{}", request.body);
        MockReply::Text(" B".into())
    });
    let project = project(&server);
    let config = std::fs::read_to_string(project.path().join("run.yaml")).unwrap();
    let base = "    use_chat_template: false\n    prompt_template: {user: \"{content}\", generation_prefix: \"\\nAnswer:\"}\n    sampling_args: {temperature: 0.5, max_tokens: 1, stop: [\"\\n\"]}\n";
    project.write("run.yaml", &config.replace("    sampling_args: {temperature: 0.5}\n", base));
    bench_ok(&project, &["-q", "--job-id", "served-one"]);
    let body = &server.requests()[0].body;
    let prompt = body["prompt"].as_str().unwrap();
    assert!(prompt.contains("Question: ") && prompt.ends_with("\nAnswer:"), "{prompt}");
    assert_eq!((body["max_tokens"].clone(), body["stop"][0].clone()), (1.into(), "\n".into()));
    let run = run_dirs(&project.path().join("runs/raw")).remove(0);
    let summary = read_json(&run.join("served-one/summary.json"));
    assert_eq!(summary["mean_reward"], 0.4, "B is right for two of five");
    let identity = &read_json(&run.join("run_manifest.json"))["jobs"][0]["identity"];
    assert_eq!(identity["api"]["completions"]["generation_prefix"], "\nAnswer:");
    // The template is part of what the model sees, so changing it is a new job.
    let edited = std::fs::read_to_string(project.path().join("run.yaml")).unwrap().replace("Answer:", "A:");
    project.write("run.yaml", &edited);
    let out = bench_ok(&project, &["--dry-run", "--job-id", "served-one"]);
    assert!(out.contains("changed: api.completions.generation_prefix"), "{out}");
}
