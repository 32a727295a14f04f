//! `assay process` through the binary: parquet files that pyarrow reads with
//! the declared types and the right row counts, incremental rewrites, job
//! status selection and the newest run winning per (env, model).
//!
//! The pyarrow checks need `python3` with pyarrow (scripts/test.sh installs
//! it); they fail, not skip, without it.

use crate::support;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use support::fixtures::{Project, files_under, mcq_jsonl, plugin, read_json, read_jsonl};
use support::openai_mock::{MockOpenAi, MockReply, MockRequest};

const ROWS: [(&str, &str, [&str; 4], &str); 4] = [
    ("a", "First?", ["w", "x", "y", "z"], "B"),
    ("b", "Second?", ["w", "x", "y", "z"], "A"),
    ("c", "Third?", ["w", "x", "y", "z"], "B"),
    ("d", "Fourth?", ["w", "x", "y", "z"], "D"),
];

/// Two models (`served` and the oracle) on `plain` and a two-variant
/// `shuffled` env, two rollouts each.
fn project(server: &MockOpenAi) -> Project {
    let project = Project::new();
    project.write("data.jsonl", &mcq_jsonl(&ROWS));
    project.write(
        "run.yaml",
        &format!(
            "name: proc
models:
  served: {{model: m, api_base_url: {url}}}
envs:
  - id: plain
    module: {mcq}
    dataset: data.jsonl
    rollouts_per_example: 2
  - id: shuffled
    module: {mcq}
    dataset: data.jsonl
    rollouts_per_example: 2
    env_args: {{shuffle_answers: true}}
    matrix: {{shuffle_seed: [1, 2]}}
jobs:
  - model: served
    env: [plain, shuffled]
  - model: oracle
    env: [plain, shuffled]
",
            url = server.base_url(),
            mcq = plugin("mcq").display()
        ),
    );
    project
}

fn server() -> MockOpenAi {
    MockOpenAi::start(|request: &MockRequest| {
        if request.last_user_message().contains("Fourth") {
            MockReply::Status { code: 400, retry_after: None, body: "no".into() }
        } else {
            MockReply::Text("Thinking... The answer is (B).".into())
        }
    })
}

fn processed_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for env in std::fs::read_dir(dir).unwrap() {
        let env = env.unwrap().path();
        if env.is_dir() {
            files.extend(std::fs::read_dir(&env).unwrap().map(|e| e.unwrap().path()));
        }
    }
    files.sort();
    files
}

/// Run a Python script with pyarrow; its stdout.
fn python(script: &str) -> String {
    let output = Command::new("python3").args(["-c", script]).output().expect(
        "python3 is needed for the parquet checks (scripts/test.sh installs pyarrow: python3 -m pip install pyarrow)",
    );
    assert!(
        output.status.success(),
        "python failed (is pyarrow installed?): {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn pyarrow_reads_every_column_with_the_declared_types_and_all_rows() {
    let server = server();
    let project = project(&server);
    let bench = project.assay(&["bench", "--config", "run.yaml", "-q"]);
    assert_eq!(bench.status.code(), Some(1), "served jobs have failed samples");
    let (stdout, _) = project.assay_ok(&["process", "--process-incomplete"]);
    assert!(stdout.contains("4 of 4 files written"), "{stdout}");
    let files = processed_files(&project.path().join("runs/processed"));
    let names: Vec<String> =
        files.iter().map(|f| f.strip_prefix(project.path()).unwrap().display().to_string()).collect();
    assert_eq!(
        names,
        [
            "runs/processed/plain/oracle.parquet",
            "runs/processed/plain/served.parquet",
            "runs/processed/shuffled/oracle.parquet",
            "runs/processed/shuffled/served.parquet"
        ]
    );
    let script = format!(
        r#"
import json, pyarrow.parquet as pq
def compression(path, name):
    group = pq.read_metadata(path).row_group(0)
    return next(group.column(i).compression for i in range(group.num_columns) if group.column(i).path_in_schema == name)
for path in {files:?}:
    t = pq.read_table(path)
    md = json.loads(pq.read_metadata(path).metadata[b"assay"])
    print(path.split("processed/")[1], t.num_rows, md["schema_version"], sorted(set(t.column("variant_id").to_pylist())),
          sum(1 for e in t.column("error_kind").to_pylist() if e), compression(path, "run_id"), compression(path, "prompt"))
print(json.dumps({{f.name: str(f.type) for f in pq.read_schema({first:?})}}))
served = pq.read_table({served:?})
present = lambda name: sum(1 for v in served.column(name).to_pylist() if v is not None)
print(json.dumps({{"error_attempts": [v for v in served.column("error_attempts").to_pylist() if v is not None],
                  "sampling_seed": present("sampling_seed"), "cache_hits": sum(served.column("cache_hits").to_pylist()),
                  "prompt_text": present("prompt_text"), "continuations": present("continuations")}}))
"#,
        files = files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>(),
        first = files[3].display().to_string(),
        served = files[1].display().to_string(),
    );
    let out = python(&script);
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some("plain/oracle.parquet 8 6 ['plain'] 0 LZ4 ZSTD"));
    assert_eq!(lines.next(), Some("plain/served.parquet 8 6 ['plain'] 2 LZ4 ZSTD"), "errored samples are rows too");
    assert_eq!(
        lines.next(),
        Some("shuffled/oracle.parquet 16 6 ['shuffled-shuffle_seed-1', 'shuffled-shuffle_seed-2'] 0 LZ4 ZSTD")
    );
    assert_eq!(
        lines.next(),
        Some("shuffled/served.parquet 16 6 ['shuffled-shuffle_seed-1', 'shuffled-shuffle_seed-2'] 4 LZ4 ZSTD")
    );
    let types: Value = serde_json::from_str(lines.next().unwrap()).unwrap();
    let expected = [
        ("run_id", "string"),
        ("example_id", "string"),
        ("example_index", "int64"),
        ("config_id", "string"),
        ("sampling_args", "string"),
        ("rollout", "int32"),
        ("job_seed", "uint64"),
        ("seed", "uint64"),
        ("group", "string"),
        ("reward", "double"),
        ("parse_status", "string"),
        ("error_kind", "string"),
        ("prompt", "string"),
        ("completion", "string"),
        ("transcript", "string"),
        ("info", "string"),
        ("code_runs", "string"),
        ("judge_calls", "string"),
        ("tokens_completion", "int64"),
        ("latency_ms", "int64"),
        ("cost_usd", "double"),
        ("finished_at", "timestamp[us, tz=UTC]"),
        ("sampling_seed", "uint64"),
        ("error_attempts", "int32"),
        ("prompt_text", "string"),
        ("continuations", "string"),
        ("cache_hits", "int32"),
    ];
    for (column, ty) in expected {
        assert_eq!(types[column], ty, "{column}: {types}");
    }
    // The served plain job: its 400s made one attempt each, every chat
    // request carried a sampling seed, nothing was cached or scored.
    let served: Value = serde_json::from_str(lines.next().unwrap()).unwrap();
    let expected = serde_json::json!({"error_attempts": [1, 1], "sampling_seed": 8, "cache_hits": 0, "prompt_text": 0, "continuations": 0});
    assert_eq!(served, expected);
    // Row counts match the results files.
    let run = std::fs::read_dir(project.path().join("runs/raw")).unwrap().next().unwrap().unwrap().path();
    let lines_of = |job: &str| read_jsonl(&run.join(job).join("results.jsonl")).len();
    assert_eq!(lines_of("served-plain"), 8);
    assert_eq!(lines_of("served-shuffled-shuffle_seed-1") + lines_of("served-shuffled-shuffle_seed-2"), 16);
}

#[test]
fn process_is_incremental_and_the_newest_run_wins_per_pair() {
    let server = server();
    let project = project(&server);
    let _ = project.assay(&["bench", "--config", "run.yaml", "-q", "--run-id", "first"]);
    // Default: completed jobs only (the oracle's); the served jobs failed.
    let (stdout, _) = project.assay_ok(&["process"]);
    assert!(stdout.contains("2 of 2 files written"), "{stdout}");
    let processed = project.path().join("runs/processed");
    let stamp = |file: &str| std::fs::metadata(processed.join(file)).unwrap().modified().unwrap();
    let before = (stamp("plain/oracle.parquet"), stamp("shuffled/oracle.parquet"), stamp("env_index.json"));

    let (stdout, _) = project.assay_ok(&["process"]);
    assert!(stdout.contains("0 of 2 files written"), "{stdout}");
    assert_eq!((stamp("plain/oracle.parquet"), stamp("shuffled/oracle.parquet"), stamp("env_index.json")), before);

    // A new run of one (env, model) rewrites that file only.
    std::thread::sleep(std::time::Duration::from_millis(20));
    let _ = project.assay(&["bench", "--config", "run.yaml", "-q", "--run-id", "second", "--job-id", "oracle-plain"]);
    let (stdout, _) = project.assay_ok(&["process", "--dry-run"]);
    assert!(stdout.contains("1 of 2 files would be written"), "{stdout}");
    let (stdout, _) = project.assay_ok(&["process"]);
    assert!(stdout.contains("1 of 2 files written"), "{stdout}");
    assert_ne!(stamp("plain/oracle.parquet"), before.0);
    assert_eq!(stamp("shuffled/oracle.parquet"), before.1);
    let index = read_json(&processed.join("env_index.json"));
    assert_eq!(index["files"]["plain/oracle.parquet"]["source_runs"][0], "second");
    assert_eq!(index["files"]["shuffled/oracle.parquet"]["source_runs"][0], "first");

    // --status picks jobs by status; --clean starts over (and needs --yes off a terminal).
    let output = project.assay(&["process", "--status", "failed", "--clean"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("add --yes to confirm"));
    let (stdout, _) = project.assay_ok(&["process", "--status", "failed", "--clean", "--yes"]);
    assert!(stdout.contains("2 of 2 files written"), "{stdout}");
    assert!(!processed.join("plain/oracle.parquet").exists(), "cleaned");
    assert!(processed.join("plain/served.parquet").exists());
}

#[test]
fn a_config_file_sets_options_and_flags_win() {
    let server = server();
    let project = project(&server);
    let _ = project.assay(&["bench", "--config", "run.yaml", "-q"]);
    project.write("process.yaml", "output_dir: out\nstatus: [failed]\ndrop_text: true\n");
    let (stdout, _) = project.assay_ok(&["process", "--config", "process.yaml", "--status", "completed"]);
    assert!(stdout.contains("2 of 2 files written; output in out"), "{stdout}");
    let out = python(&format!(
        "import pyarrow.parquet as pq; print('prompt' in pq.read_schema({:?}).names)",
        project.path().join("out/plain/oracle.parquet").display().to_string()
    ));
    assert_eq!(out.trim(), "False", "drop_text from the config file");
    project.write("bad.yaml", "output_dri: out\n");
    let output = project.assay(&["process", "--config", "bad.yaml"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("bad.yaml:1:1: output_dri: unknown field `output_dri`"));
}

#[test]
fn export_writes_csv_and_json_lines_with_every_row() {
    let server = server();
    let project = project(&server);
    let _ = project.assay(&["bench", "--config", "run.yaml", "-q"]);
    project.assay_ok(&["process"]);
    let (stdout, _) = project.assay_ok(&["export", "runs/processed"]);
    assert!(stdout.contains("runs/processed/plain/oracle.csv (8 rows)"), "{stdout}");
    let csv = std::fs::read_to_string(project.path().join("runs/processed/shuffled/oracle.csv")).unwrap();
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let headers = reader.headers().unwrap().clone();
    assert_eq!(&headers[0], "run_id");
    let reward = headers.iter().position(|h| h == "reward").unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 16);
    assert!(rows.iter().all(|r| &r[reward] == "1.0"), "the oracle scores every sample");
    let (stdout, _) = project.assay_ok(&[
        "export",
        "runs/processed/plain/oracle.parquet",
        "--format",
        "jsonl",
        "--output-dir",
        "out",
    ]);
    assert!(stdout.contains("out/oracle.jsonl (8 rows)"), "{stdout}");
    let lines = read_jsonl(&project.path().join("out/oracle.jsonl"));
    assert_eq!(lines.len(), 8);
    assert_eq!(lines[0]["env_id"], "plain");
    let output = project.assay(&["export", "nowhere"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("nowhere not found"));
}

#[test]
fn process_can_chain_win_rates_from_a_config_file() {
    let server = server();
    let project = project(&server);
    let _ = project.assay(&["bench", "--config", "run.yaml", "-q"]);
    project.write("winrate.yaml", "method: helm\noutput_dir: wr\nresamples: 10\n");
    let (stdout, _) = project.assay_ok(&["process", "--process-incomplete", "--winrate", "winrate.yaml"]);
    assert!(stdout.contains("Win rates of 2 models over 2 envs written to wr"), "{stdout}");
    let winrates = read_json(&project.path().join("wr/winrates.json"));
    assert_eq!(winrates["options"]["method"], "helm");
    assert_eq!(winrates["models"]["oracle"]["mean_win_rate"], 1.0);
    // Flags win over the file.
    let (stdout, _) = project.assay_ok(&["winrate", "--config", "winrate.yaml", "--method", "pairwise"]);
    assert!(stdout.contains("written to wr"), "{stdout}");
    assert_eq!(read_json(&project.path().join("wr/winrates.json"))["options"]["method"], "pairwise");
}

#[test]
fn processed_results_sync_with_a_hugging_face_dataset_repo() {
    const TOKEN: &str = "hf_test_5e1c9a7b3d";
    let hub = support::hub_mock::MockHub::start(TOKEN);
    let env = [("HF_TOKEN", TOKEN), ("HF_ENDPOINT", hub.endpoint())];
    let server = server();
    let project = project(&server);
    let _ = project.assay(&["bench", "--config", "run.yaml", "-q"]);
    let sync = ["process", "--hf-repo", "team/evals", "--hf-pull-policy", "pull"];
    let output = project.assay_with_env(&sync, &env);
    assert!(output.status.success(), "{}", support::fixtures::output_text(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("does not exist yet") && stderr.contains("Pushed 2 files and the index"), "{stderr}");
    let remote = hub.files("team/evals");
    let names: Vec<&str> = remote.keys().map(String::as_str).collect();
    assert_eq!(names, ["env_index.json", "plain/oracle.parquet", "shuffled/oracle.parquet"]);
    assert_eq!(
        remote["plain/oracle.parquet"],
        std::fs::read(project.path().join("runs/processed/plain/oracle.parquet")).unwrap()
    );
    assert_eq!(hub.commits().len(), 1, "one commit");

    // Nothing new: nothing pushed.
    let output = project.assay_with_env(&sync, &env);
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("nothing to push"),
        "{}",
        support::fixtures::output_text(&output)
    );
    assert_eq!(hub.commits().len(), 1);

    // A teammate with no runs pulls everything and can analyse it.
    let teammate = Project::new();
    teammate.write("runs/raw/.keep", "");
    let output = teammate.assay_with_env(&sync, &env);
    assert!(output.status.success(), "{}", support::fixtures::output_text(&output));
    assert!(teammate.path().join("runs/processed/shuffled/oracle.parquet").is_file());
    let (stdout, _) = teammate.assay_ok(&["analyze"]);
    assert!(stdout.contains("Analysis of 4 configs"), "{stdout}");

    // The token is never written or printed.
    for dir in [project.path(), teammate.path()] {
        for file in files_under(dir) {
            assert!(
                !String::from_utf8_lossy(&std::fs::read(&file).unwrap()).contains(TOKEN),
                "token in {}",
                file.display()
            );
        }
    }
    let bad = project.assay_with_env(&sync, &[("HF_TOKEN", "hf_wrong"), ("HF_ENDPOINT", hub.endpoint())]);
    assert_eq!(bad.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(stderr.contains("HTTP 401") && stderr.contains("is HF_TOKEN set, with write access?"), "{stderr}");
    assert!(!stderr.contains("hf_wrong"));
}

#[test]
fn a_process_config_hf_block_reads_its_token_from_the_environment_and_clean_starts_fresh() {
    const TOKEN: &str = "hf_team_7a3f01c9";
    let hub = support::hub_mock::MockHub::start(TOKEN);
    // `HF_TOKEN` is wrong: the config's token wins.
    let env = [("TEAM_HF_TOKEN", TOKEN), ("HF_TOKEN", "hf_wrong"), ("HF_ENDPOINT", hub.endpoint())];
    let server = server();
    let project = project(&server);
    let _ = project.assay(&["bench", "--config", "run.yaml", "-q"]);
    project.write(
        "process.yaml",
        "process_incomplete: true\nhf:\n  repo: team/evals\n  branch: main\n  private: false\n  \
         pull_policy: pull\n  token: ${TEAM_HF_TOKEN}\n",
    );
    let output = project.assay_with_env(&["process", "--config", "process.yaml"], &env);
    assert!(output.status.success(), "{}", support::fixtures::output_text(&output));
    assert_eq!(hub.created_private("team/evals"), Some(false), "private: false creates a public repo");
    assert_eq!(hub.files("team/evals").len(), 5, "four files and the index");

    // `clean` ignores the remote: nothing pulled, the output rebuilt from
    // the runs (completed jobs only now), and the repo made this output.
    let local_only = project.write("runs/processed/stale/oracle.parquet", "not pulled, not kept");
    project.write("fresh.yaml", "hf: {repo: team/evals, token: '${TEAM_HF_TOKEN}'}\n");
    let fresh = ["process", "--config", "fresh.yaml", "--hf-pull-policy", "clean"];
    let output = project.assay_with_env(&fresh, &env);
    assert!(output.status.success(), "{}", support::fixtures::output_text(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("Starting fresh: nothing pulled from the Hub"), "{stderr}");
    assert!(stderr.contains("deleting 2 files not in this output"), "{stderr}");
    assert!(!local_only.exists(), "the output started fresh");
    let names: Vec<String> = hub.files("team/evals").into_keys().collect();
    assert_eq!(names, ["env_index.json", "plain/oracle.parquet", "shuffled/oracle.parquet"]);
    let index = read_json(&project.path().join("runs/processed/env_index.json"));
    assert_eq!(index["files"].as_object().unwrap().len(), 2);

    for file in files_under(project.path()) {
        let text = String::from_utf8_lossy(&std::fs::read(&file).unwrap()).into_owned();
        assert!(!text.contains(TOKEN), "the token is in {}", file.display());
    }

    // An unset variable, and a secret where it could be written, are
    // one-line errors naming the value.
    project.write("unset.yaml", "hf:\n  repo: team/evals\n  token: ${ASSAY_TEST_NO_SUCH_TOKEN}\n");
    let output = project.assay_with_env(&["process", "--config", "unset.yaml"], &env);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&output.stderr).trim(),
        "error: unset.yaml:3:10: hf.token: ${ASSAY_TEST_NO_SUCH_TOKEN}: environment variable \
         ASSAY_TEST_NO_SUCH_TOKEN is not set"
    );
    project.write("leak.yaml", "output_dir: out-${TEAM_HF_TOKEN}\n");
    let output = project.assay_with_env(&["process", "--config", "leak.yaml"], &env);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("leak.yaml:1:13: output_dir: ${TEAM_HF_TOKEN} looks like a secret"), "{stderr}");
    assert!(!stderr.contains(TOKEN));
}

#[test]
fn run_configs_read_the_environment_and_keep_its_secrets_out_of_run_files() {
    const SECRET: &str = "sk-team-52d0e8";
    let server = server();
    let project = project(&server);
    project.write(
        "env-run.yaml",
        &format!(
            "name: envvars
models:
  served: {{model: '${{SERVED_MODEL}}', api_base_url: '${{SERVED_URL}}'}}
envs:
  - {{id: plain, module: {mcq}, dataset: data.jsonl}}
jobs:
  - model: served
    env: plain
    environment_variables: {{API_TOKEN: '${{TEAM_API_TOKEN}}'}}
",
            mcq = plugin("mcq").display()
        ),
    );
    let env = [("SERVED_MODEL", "org/served-7b"), ("SERVED_URL", server.base_url()), ("TEAM_API_TOKEN", SECRET)];
    let output = project.assay_with_env(&["bench", "--config", "env-run.yaml", "-q"], &env);
    assert!(
        output.status.code() == Some(0) || output.status.code() == Some(1),
        "{}",
        support::fixtures::output_text(&output)
    );
    assert!(server.requests().iter().all(|r| r.model() == "org/served-7b"), "the model name came from the environment");
    let run = project.only_run_dir();
    let manifest = std::fs::read_to_string(run.join("run_manifest.json")).unwrap();
    assert!(manifest.contains("org/served-7b"), "settings from the environment are recorded");
    for file in files_under(project.path()) {
        let text = String::from_utf8_lossy(&std::fs::read(&file).unwrap()).into_owned();
        assert!(!text.contains(SECRET), "the secret is in {}", file.display());
    }
    project.write(
        "leak.yaml",
        &std::fs::read_to_string(project.path().join("env-run.yaml"))
            .unwrap()
            .replace("model: '${SERVED_MODEL}'", "model: '${TEAM_API_TOKEN}'"),
    );
    let output = project.assay_with_env(&["bench", "--config", "leak.yaml"], &env);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("leak.yaml:3:19: models.served.model: ${TEAM_API_TOKEN} looks like a secret"), "{stderr}");
}

/// A prompts file with the seed's upper-case keys sets the system prompt
/// of a plugin other than `math` (here `mcq`).
#[test]
fn a_prompts_file_with_upper_case_keys_reaches_any_plugin() {
    let server = server();
    let project = project(&server);
    project.write("prompts/mcq.yaml", "SYSTEM_PROMPT: Answer like a careful clinician.\n");
    project.write(
        "prompted.yaml",
        &format!(
            "models:\n  served: {{model: m, api_base_url: {url}}}\nenvs:\n  - {{id: plain, module: {mcq}, dataset: data.jsonl, \
             env_args: {{prompts: prompts/mcq.yaml}}}}\njobs:\n  - {{model: served, env: plain}}\n",
            url = server.base_url(),
            mcq = plugin("mcq").display()
        ),
    );
    let _ = project.assay(&["bench", "--config", "prompted.yaml", "-q"]);
    let requests = server.requests();
    assert!(!requests.is_empty());
    for request in requests {
        assert_eq!(request.body["messages"][0]["role"], "system");
        assert_eq!(request.body["messages"][0]["content"], "Answer like a careful clinician.");
    }
}

#[test]
fn nothing_to_process_says_so_and_how_to_include_unfinished_jobs() {
    let project = Project::new();
    std::fs::create_dir_all(project.path().join("runs/raw")).unwrap();
    let (stdout, _) = project.assay_ok(&["process"]);
    assert_eq!(
        stdout.trim(),
        "No jobs with status completed in runs/raw; nothing written (--process-incomplete adds failed, running and interrupted jobs with the samples they have)"
    );
    assert!(!project.path().join("runs/processed/env_index.json").exists());
}
