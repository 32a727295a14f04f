//! The whole MMLU test set (57 subjects, 14,042 questions) through
//! `assay bench` with the `mcq` plugin and the `oracle` model: every answer
//! must score, with answer shuffling off and on. Skipped (with a printed
//! notice) when `../shared/data/mmlu` is absent.

use crate::support;

use support::fixtures::{Project, output_text, plugin, read_json, read_jsonl, shared_data};

/// All subjects as one CSV with an `id` column (`<subject>-<row>`).
fn combined_csv(test_dir: &std::path::Path) -> (String, usize) {
    let mut files: Vec<_> = std::fs::read_dir(test_dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    assert_eq!(files.len(), 57, "57 MMLU subjects");
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(["id", "question", "choice0", "choice1", "choice2", "choice3", "answer"]).unwrap();
    let mut rows = 0;
    for file in files {
        let subject = file.file_stem().unwrap().to_string_lossy().trim_end_matches("_test").to_string();
        let mut reader = csv::Reader::from_path(&file).unwrap();
        for (i, record) in reader.records().enumerate() {
            let record = record.unwrap();
            let mut fields = vec![format!("{subject}-{i}")];
            fields.extend(record.iter().map(String::from));
            writer.write_record(&fields).unwrap();
            rows += 1;
        }
    }
    (String::from_utf8(writer.into_inner().unwrap()).unwrap(), rows)
}

#[test]
fn oracle_scores_every_mmlu_question_with_and_without_shuffling() {
    let Some(mmlu) = shared_data("mmlu/test") else { return };
    let project = Project::new();
    let (csv, rows) = combined_csv(&mmlu);
    assert_eq!(rows, 14_042);
    project.write("mmlu.csv", &csv);
    let config = format!(
        "name: mmlu
envs:
  - id: mmlu
    module: {mcq}
    dataset: mmlu.csv
  - id: mmlu-shuffled
    module: {mcq}
    dataset: mmlu.csv
    env_args: {{shuffle_answers: true, shuffle_seed: 1618}}
jobs:
  - model: oracle
    env: [mmlu, mmlu-shuffled]
",
        mcq = plugin("mcq").display()
    );
    project.write("run.yaml", &config);
    let output = project.assay(&["bench", "--config", "run.yaml", "--quiet"]);
    assert!(output.status.success(), "{}", output_text(&output));
    let run_dir = project.only_run_dir();
    for job in ["oracle-mmlu", "oracle-mmlu-shuffled"] {
        let summary = read_json(&run_dir.join(job).join("summary.json"));
        assert_eq!(summary["n"], 14_042, "{job}");
        assert_eq!(summary["n_errors"], 0, "{job}");
        assert_eq!(summary["mean_reward"], 1.0, "{job}: {summary}");
    }
    // Shuffling really moved answers: gold letters differ for many questions.
    let gold = |job: &str| -> Vec<serde_json::Value> {
        let mut rows = read_jsonl(&run_dir.join(job).join("results.jsonl"));
        rows.sort_by_key(|r| r["example_index"].as_u64());
        rows.iter().map(|r| r["info"]["gold"].clone()).collect()
    };
    let moved = gold("oracle-mmlu").iter().zip(gold("oracle-mmlu-shuffled")).filter(|(a, b)| *a != b).count();
    assert!(moved > 14_042 / 2, "only {moved} gold letters moved");
    println!("MMLU oracle: 14042/14042 with and without shuffling; {moved} gold letters moved by the shuffle");
}
