//! Real model outputs from `../shared/data` (next to the project; absent in
//! a fresh clone, in which case each test prints that it was skipped):
//! code-davinci-002's chain-of-thought answers to three BIG-Bench Hard
//! tasks, graded as the `bbh-<task>` envs grade them, against the accuracy
//! the BBH paper published for the same outputs.

use assay_sdk::ParseStatus;
use assay_sdk::testing::Harness;
use qa::Qa;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// `../shared/data/<sub>`, or `None` after printing a skip notice.
fn shared_data(sub: &str) -> Option<PathBuf> {
    let path = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data")).join(sub);
    if path.is_dir() {
        Some(path)
    } else {
        println!("skipped: ../shared/data/{sub} not found");
        None
    }
}

/// (correct, no answer, total) for one task's outputs.
fn grade_task(dir: &Path, task: &str) -> (usize, usize, usize) {
    let file = dir.join(format!("{task}_few_shot_template_0-255000.json"));
    let outputs: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    let env = Harness::<Qa>::new(json!({"question_field": "input", "answer_field": "target"})).unwrap();
    let (mut correct, mut none) = (0, 0);
    let outputs = outputs["outputs"].as_array().unwrap();
    for output in outputs {
        let record = json!({"input": output["input"], "target": output["target"]});
        let prepared = env.prepare(record, 0).unwrap();
        let score = env.grade(&prepared, output["prediction"].as_str().unwrap()).unwrap();
        correct += usize::from(score.reward == 1.0);
        none += usize::from(score.parse_status == ParseStatus::NoAnswer);
    }
    (correct, none, outputs.len())
}

#[test]
fn codex_bbh_outputs_score_exactly_the_published_accuracy() {
    let Some(dir) = shared_data("bbh_codex_outputs") else { return };
    // Published accuracies of these very outputs (BBH paper; the folder's
    // *_eval_metrics.jsonl), in answers out of 250.
    for (task, published) in
        [("date_understanding", 218), ("logical_deduction_five_objects", 137), ("reasoning_about_colored_objects", 229)]
    {
        let (correct, none, total) = grade_task(&dir, task);
        println!("{task}: {correct}/{total} correct, {none} without an answer; published {published}/250");
        assert_eq!(total, 250);
        assert_eq!(correct, published, "{task}");
    }
}
