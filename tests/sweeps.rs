//! Sampling-config sweeps through the binary: jobs of one run that differ
//! only in job-level sampling args (and name) stay apart in `process`,
//! `analyze` and `winrate`; a job `matrix` over sampling args and seeds
//! makes one job per combination, one `config_id` per sampling config, and
//! `config_analysis.csv` / `seed_analysis.csv` per config and per seed.

use crate::support;

use serde_json::Value;
use std::process::Command;
use support::fixtures::{Project, lettered_questions, plugin, read_json};
use support::openai_mock::{MockOpenAi, MockReply, MockRequest};

/// Eight questions `q0`..`q7` whose gold letters are A, B, C, D in turn.
fn questions(project: &Project) {
    let rows: Vec<(String, String)> = (0..8).map(|i| (format!("q{i}"), format!("Question number {i}?"))).collect();
    project.write("data.jsonl", &lettered_questions(&rows));
}

/// The gold letter of a question (see [`questions`]).
fn gold(prompt: &str) -> usize {
    let digit = prompt.split("number ").nth(1).and_then(|rest| rest.chars().next()).expect("a numbered question");
    digit.to_digit(10).unwrap() as usize % 4
}

/// A server that answers right at temperature 0; at any other temperature,
/// right only when the request's seed is even (so seeds differ).
fn temperature_server() -> MockOpenAi {
    MockOpenAi::start(|request: &MockRequest| {
        let right = gold(request.last_user_message());
        let cold = request.body["temperature"].as_f64() == Some(0.0);
        let lucky = request.body["seed"].as_u64().is_some_and(|seed| seed % 2 == 0);
        let letter = if cold || lucky { right } else { (right + 1) % 4 };
        MockReply::Text(format!("The answer is ({}).", ["A", "B", "C", "D"][letter]))
    })
}

fn run_config(server: &MockOpenAi, jobs: &str) -> String {
    format!(
        "models:\n  m: {{model: x, api_base_url: {}}}\n  other: {{model: y, api_base_url: {}, sampling_args: {{temperature: 0}}}}\nenvs:\n  - {{id: qa, module: {}, dataset: data.jsonl}}\njobs:\n{jobs}",
        server.base_url(),
        server.base_url(),
        plugin("mcq").display()
    )
}

fn configs(project: &Project) -> Vec<Value> {
    read_json(&project.path().join("runs/analysis/analysis_results.json"))["configs"].as_array().unwrap().clone()
}

#[test]
fn jobs_differing_only_in_sampling_args_are_not_pooled() {
    let server = temperature_server();
    let project = Project::new();
    questions(&project);
    let jobs = "  - {model: m, env: qa, name: cold, sampling_args: {temperature: 0}}\n  - {model: m, env: qa, name: hot, sampling_args: {temperature: 1, seed: 1}}\n  - {model: other, env: qa}\n";
    project.write("run.yaml", &run_config(&server, jobs));
    project.assay_ok(&["bench", "--config", "run.yaml", "-q"]);
    project.assay_ok(&["process"]);
    project.assay_ok(&["analyze"]);

    let rows: Vec<(String, String, String, f64)> = configs(&project)
        .iter()
        .map(|c| {
            let text = |field: &str| c[field].as_str().unwrap().to_string();
            (text("model_id"), text("config_id"), text("variant"), c["mean"].as_f64().unwrap())
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("m".into(), "cold".into(), "qa".into(), 1.0),
            ("m".into(), "hot".into(), "qa".into(), 0.0),
            ("other".into(), "default".into(), "qa".into(), 1.0),
        ],
        "one row per sampling config, none pooling cold with hot"
    );
    let csv = std::fs::read_to_string(project.path().join("runs/analysis/config_analysis.csv")).unwrap();
    assert!(csv.starts_with("model_id,env_id,variant,config_id,n_examples,"), "{csv}");
    assert!(csv.contains("\nm,qa,qa,cold,8,1,") && csv.contains("\nm,qa,qa,hot,8,1,"), "{csv}");

    // The parquet rows carry the config and the job's own sampling args.
    let columns = Command::new("python3")
        .args([
            "-c",
            "import sys, json, pyarrow.parquet as pq\nt = pq.read_table(sys.argv[1]).to_pylist()\nprint(json.dumps(sorted({(r['config_id'], r['sampling_args'], r['job_seed']) for r in t})))",
            project.path().join("runs/processed/qa/m.parquet").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(columns.status.success(), "{}", String::from_utf8_lossy(&columns.stderr));
    let columns: Value = serde_json::from_slice(&columns.stdout).unwrap();
    assert_eq!(
        columns,
        serde_json::json!([["cold", "{\"temperature\":0}", 0], ["hot", "{\"seed\":1,\"temperature\":1}", 0]])
    );

    project.assay_ok(&["winrate"]);
    let winrates = read_json(&project.path().join("runs/winrate/winrates.json"));
    let models: Vec<&String> = winrates["models"].as_object().unwrap().keys().collect();
    assert_eq!(models, ["m@cold", "m@hot", "other"], "each sampling config competes on its own");
    assert_eq!(winrates["models"]["m@hot"]["mean_win_rate"], 0.0);
    assert_eq!(winrates["models"]["m@cold"]["mean_win_rate"], 0.75, "ties with other, beats hot");
}

#[test]
fn a_job_matrix_sweeps_sampling_args_and_seeds() {
    let server = temperature_server();
    let project = Project::new();
    questions(&project);
    let jobs = "  - model: m\n    env: qa\n    sampling_args: {max_tokens: 64}\n    matrix: {temperature: [0, 1], seed: [1, 2, 3]}\n    matrix_id_format: t{temperature}\n";
    project.write("run.yaml", &run_config(&server, jobs));
    project.assay_ok(&["bench", "--config", "run.yaml", "-q"]);
    let manifest = read_json(&project.only_run_dir().join("run_manifest.json"));
    let jobs: Vec<(&str, &str)> = manifest["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| (j["job_id"].as_str().unwrap(), j["config_id"].as_str().unwrap()))
        .collect();
    assert_eq!(
        jobs,
        [
            ("m-qa-t0-seed-1", "t0"),
            ("m-qa-t1-seed-1", "t1"),
            ("m-qa-t0-seed-2", "t0"),
            ("m-qa-t1-seed-2", "t1"),
            ("m-qa-t0-seed-3", "t0"),
            ("m-qa-t1-seed-3", "t1"),
        ],
        "combinations in sorted-key order: seed, then temperature"
    );
    let requests = server.requests();
    assert!(requests.iter().all(|r| r.body["max_tokens"] == 64), "the job's own sampling args stay");
    let seeds = |temperature: i64| {
        let sent = requests.iter().filter(|r| r.body["temperature"] == temperature).map(|r| r.body["seed"].to_string());
        sent.collect::<std::collections::BTreeSet<_>>()
    };
    assert_eq!(seeds(1).len(), 24, "every (seed, example) pair sends its own request seed");

    project.assay_ok(&["process"]);
    project.assay_ok(&["analyze"]);
    let configs = configs(&project);
    assert_eq!(configs.len(), 2, "one row per sampling config, seeds pooled: {configs:?}");
    let seeds_csv = std::fs::read_to_string(project.path().join("runs/analysis/seed_analysis.csv")).unwrap();
    let mut lines = seeds_csv.lines();
    assert_eq!(lines.next(), Some("model_id,env_id,variant,config_id,seed,n_examples,mean"));
    let per_seed: Vec<(String, String, f64)> = lines
        .map(|line| {
            let cells: Vec<&str> = line.split(',').collect();
            (cells[3].to_string(), cells[4].to_string(), cells[6].parse().unwrap())
        })
        .collect();
    let seed_names: Vec<(&str, &str)> = per_seed.iter().map(|(c, s, _)| (c.as_str(), s.as_str())).collect();
    assert_eq!(seed_names, [("t0", "1"), ("t0", "2"), ("t0", "3"), ("t1", "1"), ("t1", "2"), ("t1", "3")]);
    let hot: Vec<f64> = per_seed.iter().filter(|(c, ..)| c == "t1").map(|(.., mean)| *mean).collect();
    let mean = hot.iter().sum::<f64>() / 3.0;
    let std = (hot.iter().map(|m| (m - mean).powi(2)).sum::<f64>() / 2.0).sqrt();
    let t1 = configs.iter().find(|c| c["config_id"] == "t1").unwrap();
    assert!((t1["std_across_seeds"].as_f64().unwrap() - std).abs() < 1e-12, "{t1}: the spread of the seed means");
    assert!(std > 0.0, "seeds differ at temperature 1: {hot:?}");
    let t0 = configs.iter().find(|c| c["config_id"] == "t0").unwrap();
    assert_eq!(
        (t0["mean"].as_f64(), t0["std_across_seeds"].as_f64(), t0["samples_per_example"].as_u64()),
        (Some(1.0), Some(0.0), Some(3))
    );
}

#[test]
fn job_matrix_mistakes_name_the_job() {
    let server = temperature_server();
    let project = Project::new();
    questions(&project);
    let error = |jobs: &str| {
        project.write("run.yaml", &run_config(&server, jobs));
        let output = project.assay(&["bench", "--config", "run.yaml", "--dry-run"]);
        assert_eq!(output.status.code(), Some(2));
        String::from_utf8_lossy(&output.stderr).trim().to_string()
    };
    assert!(
        error("  - {model: m, env: qa, matrix: {seed: [-1]}}\n")
            .ends_with("run.yaml: jobs[0]: matrix seed: -1 is not a non-negative integer"),
    );
    assert!(
        error("  - {model: m, env: qa, matrix: {temperature: [0, 1], top_p: [1]}, matrix_id_format: 'p{top_p}'}\n")
            .ends_with("run.yaml: jobs[0]: matrix: two combinations make config id `p1`; put every swept key in matrix_id_format"),
    );
    assert!(
        error("  - {model: m, env: qa, matrix: {temperature: [0]}, matrix_id_format: 's{seed}'}\n")
            .contains("matrix_id_format: `{seed}` is not a swept sampling arg"),
    );
}
