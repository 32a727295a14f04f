//! Datasets by name from the Hugging Face Hub, through the in-process Hub
//! serving `tests/fixtures/hub/`: the whole catalogue runs with the oracle
//! and nothing placed by hand (each job scores 1.0), the cache is Python's
//! layout and serves offline runs with no request at all, an updated dataset
//! is a visible identity change, and every bad reference is one line.

use crate::support;

use serde_json::Value;
use std::process::Output;
use support::fixtures::{Project, output_text, read_json, repo_root};
use support::hub_datasets::DatasetHub;

const TOKEN: &str = "hf_test_token_for_gated_sets";

/// Run `assay` with the Hub at `hub` and the Hugging Face cache in the
/// project, plus `env`.
fn assay(project: &Project, hub: &DatasetHub, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = project.command(args);
    command
        .env("HF_ENDPOINT", hub.endpoint())
        .env("HF_HOME", project.path().join("hf"))
        .env_remove("HF_HUB_CACHE")
        .env_remove("HF_TOKEN")
        .env_remove("HF_HUB_OFFLINE");
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().unwrap()
}

/// One-line stderr of a run that could not start (exit 2), nothing written.
fn one_line_error(output: &Output) -> String {
    assert_eq!(output.status.code(), Some(2), "{}", output_text(output));
    let stderr = String::from_utf8_lossy(&output.stderr).trim().to_string();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    stderr
}

/// A run config with one env whose dataset is `dataset` (YAML flow map).
fn one_env(project: &Project, dataset: &str, module: &str) {
    let plugins = support::fixtures::plugin("mcq").parent().unwrap().display().to_string();
    project.write(
        "run.yaml",
        &format!(
            "plugin_dirs: ['{plugins}']\nenvs:\n  - {{id: e, module: {module}, dataset: {dataset}}}\njobs:\n  - {{model: oracle, env: e}}\n"
        ),
    );
}

fn job_rewards(run_dir: &std::path::Path) -> Vec<(String, Value, Value)> {
    let manifest = read_json(&run_dir.join("run_manifest.json"));
    manifest["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|job| (job["job_id"].as_str().unwrap().to_string(), job["status"].clone(), job["mean_reward"].clone()))
        .collect()
}

#[test]
fn the_catalogue_runs_by_name_with_the_oracle_scoring_every_env_fully() {
    let hub = DatasetHub::start(TOKEN);
    let project = Project::new();
    for config in ["standard-oracle.yaml", "medical-oracle.yaml"] {
        let path = repo_root().join("configs").join(config);
        // GPQA-Diamond is gated: the Hub stand-in wants this token for it.
        let output =
            assay(&project, &hub, &["bench", "--config", path.to_str().unwrap(), "-q"], &[("HF_TOKEN", TOKEN)]);
        assert!(output.status.success(), "{config}: {}", output_text(&output));
        // The job table, for the README (`-- --nocapture`).
        println!("$ assay bench --config configs/{config}\n{}", String::from_utf8_lossy(&output.stdout));
    }
    let runs: Vec<_> =
        std::fs::read_dir(project.path().join("runs/raw")).unwrap().flatten().map(|e| e.path()).collect();
    assert_eq!(runs.len(), 2);
    let mut jobs = 0;
    for run in &runs {
        for (job, status, reward) in job_rewards(run) {
            assert_eq!((status.as_str(), reward.as_f64()), (Some("completed"), Some(1.0)), "{job}");
            jobs += 1;
        }
    }
    assert!(jobs >= 45, "the whole catalogue ran ({jobs} jobs)");

    // What was read is recorded: repo, revision, commit, each file's sha256.
    let standard = runs.iter().find(|r| r.file_name().unwrap().to_string_lossy().starts_with("standard")).unwrap();
    let metadata = read_json(&standard.join("oracle-math500/metadata.json"));
    let hub_origin = &metadata["dataset"]["hub"];
    assert_eq!(hub_origin["repo"], "HuggingFaceH4/MATH-500");
    assert_eq!(hub_origin["commit"], "ff5b20257d8185524591543f8ff5993951537bb8", "the pinned revision");
    assert_eq!(hub_origin["files"][0]["path"], "test.jsonl");
    assert_eq!(hub_origin["files"][0]["sha256"].as_str().unwrap().len(), 64);
    let bbh = read_json(&standard.join("oracle-bbh-navigate/metadata.json"));
    assert_eq!(bbh["dataset"]["hub"]["revision"], "refs/convert/parquet", "a script dataset from the parquet branch");
    let manifest = read_json(&standard.join("run_manifest.json"));
    let identity = &manifest["jobs"][0]["identity"];
    assert_eq!(identity["dataset_commit"].as_str().unwrap().len(), 40, "{identity}");

    // The cache is huggingface_hub's: blobs, snapshots by commit, refs.
    let repo_cache = project.path().join("hf/hub/datasets--openai--gsm8k");
    assert!(
        repo_cache.join("refs/main").is_file() && repo_cache.join("snapshots").is_dir(),
        "{}",
        repo_cache.display()
    );
}

#[test]
fn a_pulled_cache_runs_offline_with_no_request_and_lists_its_datasets() {
    let hub = DatasetHub::start(TOKEN);
    let project = Project::new();
    let config = repo_root().join("configs/medical-oracle.yaml");
    let config = config.to_str().unwrap();

    // Offline with nothing cached: one line naming the cache and the command.
    let output = assay(&project, &hub, &["bench", "--config", config], &[("HF_HUB_OFFLINE", "1")]);
    let error = one_line_error(&output);
    assert!(error.contains("HF_HUB_OFFLINE") && error.contains("assay data pull"), "{error}");
    assert!(error.contains(&project.path().join("hf/hub").display().to_string()), "names the cache: {error}");
    assert_eq!(hub.requests(), 0);
    assert!(!project.path().join("runs").exists());

    let pulled = assay(&project, &hub, &["data", "pull", config], &[]);
    assert!(pulled.status.success(), "{}", output_text(&pulled));
    let stdout = String::from_utf8_lossy(&pulled.stdout);
    assert!(stdout.contains("GBaker/MedQA-USMLE-4-options split test") && stdout.contains("datasets in"), "{stdout}");
    let listed = assay(&project, &hub, &["data", "ls"], &[]);
    let listing = String::from_utf8_lossy(&listed.stdout);
    assert!(listing.contains("qiaojin/PubMedQA") && listing.contains("main → "), "{listing}");

    let before = hub.requests();
    let output = assay(&project, &hub, &["bench", "--config", config, "-q"], &[("HF_HUB_OFFLINE", "1")]);
    assert!(output.status.success(), "{}", output_text(&output));
    assert_eq!(hub.requests(), before, "an offline run asks the Hub nothing");
    for (job, status, reward) in job_rewards(&project.only_run_dir()) {
        assert_eq!((status.as_str(), reward.as_f64()), (Some("completed"), Some(1.0)), "{job}");
    }
}

#[test]
fn an_updated_dataset_is_a_visible_identity_change() {
    let hub = DatasetHub::start(TOKEN);
    let project = Project::new();
    one_env(&project, "{hub: openai/gsm8k, config: main, split: test}", "math");
    let run = |project: &Project| assay(project, &hub, &["bench", "--config", "run.yaml"], &[]);
    assert!(run(&project).status.success());
    let again = run(&project);
    assert!(String::from_utf8_lossy(&again.stderr).contains("1 of 1 jobs done, 0 to run"), "{}", output_text(&again));

    // A new commit adds a file the card's `main/test-*` pattern takes in.
    let record = r#"{"question": "What is 2 + 3?", "answer": "2 + 3 = 5\n#### 5"}"#;
    hub.update("openai/gsm8k", "main", "main/test-00001-of-00002.jsonl", format!("{record}\n").as_bytes());
    let changed = run(&project);
    assert!(changed.status.success(), "{}", output_text(&changed));
    let stderr = String::from_utf8_lossy(&changed.stderr);
    assert!(stderr.contains("changed: dataset_commit:") && stderr.contains("starting it fresh"), "{stderr}");
}

#[test]
fn bad_references_are_one_line_each() {
    let hub = DatasetHub::start(TOKEN);
    let project = Project::new();
    let cases = [
        ("{hub: nobody/nothing, split: test}", "mcq", vec!["nobody/nothing", "not found"]),
        ("{hub: cais/mmlu, config: astrology, split: test}", "mcq", vec!["no config `astrology`", "anatomy", "all"]),
        ("{hub: cais/mmlu, config: anatomy, split: train}", "mcq", vec!["no split `train`", "(splits: dev, test)"]),
        ("{hub: cais/mmlu, split: test}", "mcq", vec!["name a config", "anatomy"]),
        ("{hub: Idavidrein/gpqa, config: gpqa_diamond, split: train}", "qa", vec!["needs a token", "HF_TOKEN"]),
    ];
    for (dataset, module, expected) in cases {
        one_env(&project, dataset, module);
        let error = one_line_error(&assay(&project, &hub, &["bench", "--config", "run.yaml", "--dry-run"], &[]));
        for part in expected {
            assert!(error.contains(part), "{dataset}: {part:?} missing in {error}");
        }
    }
    // With the token, the gated set loads (and the token is printed nowhere).
    one_env(&project, "{hub: Idavidrein/gpqa, config: gpqa_diamond, split: train}", "qa");
    let output = assay(&project, &hub, &["bench", "--config", "run.yaml", "--dry-run"], &[("HF_TOKEN", TOKEN)]);
    assert!(output.status.success(), "{}", output_text(&output));
    assert!(!output_text(&output).contains(TOKEN));
    let wrong = assay(&project, &hub, &["bench", "--config", "run.yaml", "--dry-run"], &[("HF_TOKEN", "hf_other")]);
    let error = one_line_error(&wrong);
    assert!(error.contains("has no access") && !error.contains("hf_other"), "{error}");
    // A dataset that is not `OWNER/NAME` is a config error with file and line.
    one_env(&project, "{hub: gsm8k, split: test}", "math");
    let error = one_line_error(&assay(&project, &hub, &["bench", "--config", "run.yaml"], &[]));
    assert!(error.contains("run.yaml:3:") && error.contains("not OWNER/NAME"), "{error}");
}

/// The bench seed's env files name a plugin and no dataset: the plugin's
/// default (a Hub reference in its metadata; `math` declares GSM8K's test
/// split) is used, and `data pull` fetches it for an offline run; a plugin
/// declaring none is a one-line error.
#[test]
fn an_env_without_a_dataset_uses_the_plugins_default() {
    let hub = DatasetHub::start(TOKEN);
    let project = Project::new();
    let plugins = support::fixtures::plugin("math").parent().unwrap().display().to_string();
    project.write("run.yaml", &format!("plugin_dirs: ['{plugins}']\njobs:\n  - {{model: oracle, env: e}}\n"));
    project.write("envs/e.yaml", "id: e\nmodule: math\n");
    let pulled = assay(&project, &hub, &["data", "pull", "run.yaml"], &[]);
    assert!(pulled.status.success(), "{}", output_text(&pulled));
    let stdout = String::from_utf8_lossy(&pulled.stdout);
    assert!(stdout.contains("openai/gsm8k") && stdout.contains("1 of 1 datasets in"), "{stdout}");
    let output = assay(&project, &hub, &["bench", "--config", "run.yaml"], &[("HF_HUB_OFFLINE", "1")]);
    assert!(output.status.success(), "{}", output_text(&output));
    let run = project.only_run_dir();
    let rewards = job_rewards(&run);
    assert_eq!(rewards.len(), 1);
    assert_eq!((rewards[0].1.as_str(), rewards[0].2.as_f64()), (Some("completed"), Some(1.0)), "{rewards:?}");
    let metadata = read_json(&run.join(&rewards[0].0).join("metadata.json"));
    assert!(metadata.to_string().contains("openai/gsm8k"), "the Hub dataset is recorded: {metadata}");

    project.write("envs/e.yaml", "id: e\nmodule: mcq\n");
    let error = one_line_error(&assay(&project, &hub, &["bench", "--config", "run.yaml", "--dry-run"], &[]));
    assert!(
        error.contains("env `e` names no `dataset:` and plugin") && error.contains("declares no default dataset"),
        "{error}"
    );
}
