//! `assay rescore`: a run's completions graded again by a new judge into a
//! new run, with no request to the model under test; a sample whose model
//! call failed stays that error; the new run says what it re-scored,
//! resumes, and is processed like any run.

use crate::support;

use serde_json::json;
use std::path::PathBuf;
use support::fixtures::{Project, output_text, plugin, read_json, read_jsonl};
use support::openai_mock::{MockOpenAi, MockReply, MockRequest};

const DATA: &str = concat!(
    r#"{"id": "right", "question": "Q right?", "answer": "gold"}"#,
    "\n",
    r#"{"id": "wrong", "question": "Q wrong?", "answer": "gold"}"#,
    "\n",
    r#"{"id": "refused", "question": "Q refused?", "answer": "gold"}"#,
    "\n",
);

/// The model under test answers "Q right?" with "answer: right", and
/// refuses "Q refused?" with a 400 (not retried).
fn model_server() -> MockOpenAi {
    MockOpenAi::start(|request: &MockRequest| {
        let word = request.last_user_message().trim_start_matches("Q ").trim_end_matches('?').to_string();
        match word.as_str() {
            "refused" => MockReply::Status { code: 400, retry_after: None, body: "bad request".into() },
            _ => MockReply::Text(format!("answer: {word}")),
        }
    })
}

/// A strict judge: only "answer: right" is correct.
fn strict(request: &MockRequest) -> MockReply {
    let right = request.last_user_message().contains("[Submitted answer]\nanswer: right");
    MockReply::Text(if right { "GRADE: C" } else { "GRADE: I" }.into())
}

fn write_config(project: &Project, model: &MockOpenAi, judge: &MockOpenAi) {
    project.write(
        "run.yaml",
        &format!(
            "name: judged\nmodels:\n  tested: {{model: tested-model, api_base_url: {}, max_retries: 0}}\n  grader: {{model: judge-model, api_base_url: {}}}\nenvs:\n  - {{id: open, module: {}, dataset: data.jsonl, env_args: {{reference_field: answer}}, capabilities: [judge], judge: {{model: grader}}}}\njobs:\n  - {{model: tested, env: open}}\n",
            model.base_url(),
            judge.base_url(),
            plugin("judge").display()
        ),
    );
}

/// The run directories under `runs/raw`, sorted.
fn run_dirs(project: &Project) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> =
        std::fs::read_dir(project.path().join("runs/raw")).unwrap().map(|e| e.unwrap().path()).collect();
    dirs.sort();
    dirs
}

#[test]
fn rescore_grades_again_with_a_new_judge_and_asks_the_model_nothing() {
    let (model, first_judge) = (model_server(), MockOpenAi::start(strict));
    let project = Project::new();
    project.write("data.jsonl", DATA);
    write_config(&project, &model, &first_judge);
    project.assay(&["bench", "--config", "run.yaml", "-q"]);
    let source = project.only_run_dir();
    let source_id = source.file_name().unwrap().to_str().unwrap().to_string();
    let before = read_json(&source.join("tested-open/summary.json"));
    assert_eq!((before["mean_reward"].as_f64(), &before["errors"]), (Some(0.5), &json!({"client-error": 1})));
    let asked = model.request_count();

    // A lenient judge now grades every answer correct.
    let judge = MockOpenAi::start(|_: &MockRequest| MockReply::Text("GRADE: C".into()));
    write_config(&project, &model, &judge);
    let output = project.assay(&["rescore", &source_id, "-q"]);
    assert_eq!(output.status.code(), Some(1), "the refused sample fails the job: {}", output_text(&output));
    assert_eq!(model.request_count(), asked, "rescore makes no request to the model under test");
    assert_eq!(judge.request_count(), 2, "the new judge grades both answered samples");

    let runs = run_dirs(&project);
    assert_eq!(runs.len(), 2, "{runs:?}");
    let rescored = runs.iter().find(|dir| **dir != source).unwrap();
    let name = rescored.file_name().unwrap().to_str().unwrap();
    assert!(name.starts_with(&format!("{source_id}-rescore-")), "{name}");
    let summary = read_json(&rescored.join("tested-open/summary.json"));
    assert_eq!(summary["mean_reward"], 1.0, "{summary}");
    assert_eq!((&summary["n"], &summary["errors"]), (&json!(3), &json!({"client-error": 1})), "{summary}");
    assert_eq!(summary["tokens"], before["tokens"], "the completions' tokens are counted as recorded");

    let results = read_jsonl(&rescored.join("tested-open/results.jsonl"));
    let wrong = results.iter().find(|r| r["example_id"] == "wrong").unwrap();
    assert_eq!((&wrong["completion"], &wrong["reward"]), (&json!("answer: wrong"), &json!(1.0)), "{wrong}");
    assert_eq!(wrong["judge_calls"][0]["reply"], "GRADE: C");
    let refused = results.iter().find(|r| r["example_id"] == "refused").unwrap();
    assert_eq!(refused["error"]["kind"], "client-error", "{refused}");

    let manifest = read_json(&rescored.join("run_manifest.json"));
    assert_eq!(manifest["rescore_source"], json!({"run_id": source_id, "jobs": ["tested-open"]}), "{manifest}");
    let metadata = read_json(&rescored.join("tested-open/metadata.json"));
    assert_eq!(metadata["rescored_from"]["run_id"], source_id.as_str());
    assert_eq!(metadata["rescored_from"]["job_id"], "tested-open");

    // A rerun resumes the new run (only the errored sample runs again,
    // and stays an error); still no model request.
    project.assay(&["rescore", &source_id, "-q"]);
    assert_eq!(run_dirs(&project).len(), 2);
    assert_eq!(model.request_count(), asked);
    assert_eq!(judge.request_count(), 2, "graded samples are not graded again");
    assert_eq!(read_jsonl(&rescored.join("tested-open/results.jsonl")).len(), 3);

    project.assay_ok(&["process"]);
}

#[test]
fn rescore_names_unknown_runs_and_jobs_and_a_dry_run_writes_nothing() {
    let (model, judge) = (model_server(), MockOpenAi::start(strict));
    let project = Project::new();
    project.write("data.jsonl", DATA);
    write_config(&project, &model, &judge);
    let text = output_text(&project.assay(&["rescore", "nope"]));
    assert!(text.contains("no run nope in runs/raw"), "{text}");

    project.assay(&["bench", "--config", "run.yaml", "-q"]);
    let source = project.only_run_dir();
    let source_id = source.file_name().unwrap().to_str().unwrap();
    let text = output_text(&project.assay(&["rescore", source_id, "--job-id", "other"]));
    assert!(text.contains(&format!("--job-id other: run {source_id} has no such job (jobs: tested-open)")), "{text}");

    let (stdout, _) =
        project.assay_ok(&["rescore", source_id, "--dry-run", "--env-args", r#"{"partial_credit": 0.25}"#]);
    assert!(stdout.contains("tested-open") && stdout.contains("dry run: nothing written"), "{stdout}");
    assert_eq!(run_dirs(&project).len(), 1);
}
