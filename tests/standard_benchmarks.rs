//! The shipped env configs (`configs/envs/{gsm8k,math,humaneval,mmlu}.yaml`
//! and `configs/prompts/`) on the real benchmark data in `../shared/data`,
//! through `assay bench`: the oracle scores every GSM8K, MATH-500 and
//! HumanEval record (HumanEval's canonical solutions really run, in both
//! completion modes), wrong answers from a model score nothing, and
//! HumanEval with `pass` bodies fails. Each test is skipped, with a printed
//! notice, when its data is absent.

use crate::support;

use serde_json::{Value, json};
use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::path::Path;
use support::fixtures::{Project, output_text, plugin, read_json, read_jsonl, repo_root, shared_data};
use support::openai_mock::{MockOpenAi, MockReply};

/// The Hub datasets of the shipped env files, by file, and where the
/// tests put the same records from `../shared/data` instead (the Hub copies
/// are the same files: `openai/gsm8k` is GSM8K's test split, and so on).
const LOCAL_DATA: [(&str, &str); 4] = [
    ("gsm8k.yaml", "gsm8k/test.jsonl"),
    ("math.yaml", "math500/test.jsonl"),
    ("humaneval.yaml", "humaneval/HumanEval.jsonl.gz"),
    ("mmlu.yaml", "mmlu/test.jsonl"),
];

/// A project holding a copy of the repository's `configs/envs` and
/// `configs/prompts`, the four standard env files reading `data/<name>`
/// (set up by each test) instead of their Hub datasets.
fn project_with_configs() -> Project {
    let project = Project::new();
    for dir in ["envs", "prompts"] {
        for entry in std::fs::read_dir(repo_root().join("configs").join(dir)).unwrap() {
            let path = entry.unwrap().path();
            if !path.is_file() {
                continue;
            }
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let mut text = std::fs::read_to_string(&path).unwrap();
            if let Some((_, data)) = LOCAL_DATA.iter().find(|(file, _)| *file == name) {
                let lines = text.lines().map(|line| match line.trim_start().starts_with("dataset: {hub:") {
                    true => format!("  dataset: ../../data/{data}"),
                    false => line.to_string(),
                });
                text = lines.collect::<Vec<_>>().join("\n") + "\n";
            }
            project.write(&format!("configs/{dir}/{name}"), &text);
        }
    }
    project
}

/// Link `data/<relative>` in the project to a file of the shared data.
fn link_data(project: &Project, relative: &str, source: &Path) {
    let target = project.path().join("data").join(relative);
    std::fs::create_dir_all(target.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(source, target).unwrap();
}

/// Write `configs/run.yaml` running `jobs` (YAML list items) with `models`.
fn write_run(project: &Project, models: &str, jobs: &str) {
    let plugins = plugin("math").parent().unwrap().display().to_string();
    project.write("configs/run.yaml", &format!("name: std\nplugin_dirs: ['{plugins}']\n{models}jobs:\n{jobs}"));
}

/// The summary of `job` in the only run.
fn summary(project: &Project, job: &str) -> Value {
    read_json(&project.only_run_dir().join(job).join("summary.json"))
}

fn bench(project: &Project) {
    let output = project.assay(&["bench", "--config", "configs/run.yaml", "--quiet"]);
    assert!(output.status.success(), "{}", output_text(&output));
}

fn read_lines(path: &Path) -> Vec<Value> {
    let file = std::io::BufReader::new(std::fs::File::open(path).unwrap());
    file.lines().map(|line| serde_json::from_str(&line.unwrap()).unwrap()).collect()
}

#[test]
fn gsm8k_oracle_scores_every_problem_with_the_prompts_file() {
    let Some(gsm8k) = shared_data("gsm8k/test.jsonl") else { return };
    let project = project_with_configs();
    link_data(&project, "gsm8k/test.jsonl", &gsm8k);
    write_run(&project, "", "  - {model: oracle, env: gsm8k}\n");
    bench(&project);
    let summary = summary(&project, "oracle-gsm8k");
    assert_eq!((summary["n"].clone(), summary["mean_reward"].clone()), (json!(1319), json!(1.0)), "{summary}");
    let first = &read_jsonl(&project.only_run_dir().join("oracle-gsm8k/results.jsonl"))[0];
    let prompts: Value =
        serde_yaml_ng::from_str(&std::fs::read_to_string(repo_root().join("configs/prompts/gsm8k.yaml")).unwrap())
            .unwrap();
    assert_eq!(first["prompt"][0]["role"], "system");
    assert_eq!(first["prompt"][0]["content"], prompts["system_prompt"], "the prompts file's system prompt");
    assert!(first["prompt"][1]["content"].as_str().unwrap().contains("#### <number>"));
}

#[test]
fn gsm8k_wrong_numbers_from_a_model_score_nothing() {
    let Some(gsm8k) = shared_data("gsm8k/test.jsonl") else { return };
    let project = project_with_configs();
    link_data(&project, "gsm8k/test.jsonl", &gsm8k);
    // The server answers each question with its gold number plus one.
    let wrong: HashMap<String, i64> = read_lines(&gsm8k)
        .iter()
        .map(|r| {
            let gold = r["answer"].as_str().unwrap().rsplit("#### ").next().unwrap().replace(',', "");
            (r["question"].as_str().unwrap().to_string(), gold.trim().parse::<i64>().unwrap() + 1)
        })
        .collect();
    let server = MockOpenAi::start(move |request| {
        let user = request.last_user_message();
        let answer = wrong.iter().find(|(question, _)| user.contains(question.as_str())).map(|(_, n)| *n);
        MockReply::Text(format!("Let me think.\n#### {}", answer.expect("a known question")))
    });
    let models = format!("models:\n  m: {{model: m, api_base_url: '{}', max_concurrent: 16}}\n", server.base_url());
    write_run(&project, &models, "  - {model: m, env: gsm8k}\n");
    bench(&project);
    let summary = summary(&project, "m-gsm8k");
    assert_eq!((summary["n"].clone(), summary["mean_reward"].clone()), (json!(1319), json!(0.0)), "{summary}");
    let results = read_jsonl(&project.only_run_dir().join("m-gsm8k/results.jsonl"));
    assert!(results.iter().all(|r| r["parse_status"] == "ok"), "a wrong number is still a parsed answer");
}

#[test]
fn math500_oracle_scores_every_problem() {
    let Some(math) = shared_data("math500/test.jsonl") else { return };
    let project = project_with_configs();
    link_data(&project, "math500/test.jsonl", &math);
    write_run(&project, "", "  - {model: oracle, env: math500}\n");
    bench(&project);
    let summary = summary(&project, "oracle-math500");
    assert_eq!((summary["n"].clone(), summary["mean_reward"].clone()), (json!(500), json!(1.0)), "{summary}");
}

#[test]
fn humaneval_canonical_solutions_pass_in_both_modes() {
    let Some(humaneval) = shared_data("humaneval/HumanEval.jsonl.gz") else { return };
    let project = project_with_configs();
    link_data(&project, "humaneval/HumanEval.jsonl.gz", &humaneval);
    write_run(&project, "", "  - {model: oracle, env: humaneval}\n");
    bench(&project);
    for job in ["oracle-humaneval-chat", "oracle-humaneval-base"] {
        let summary = summary(&project, job);
        assert_eq!(
            (summary["n"].clone(), summary["mean_reward"].clone()),
            (json!(164), json!(1.0)),
            "{job}: {summary}"
        );
        let results = read_jsonl(&project.only_run_dir().join(job).join("results.jsonl"));
        let failed: Vec<&Value> = results.iter().filter(|r| r["reward"] != 1.0).collect();
        assert!(failed.is_empty(), "{job}: {failed:?}");
        assert!(results.iter().all(|r| r["code_runs"][0]["exit_code"] == 0), "{job}: every program ran");
    }
}

#[test]
fn humaneval_with_pass_bodies_fails() {
    let Some(humaneval) = shared_data("humaneval/HumanEval.jsonl.gz") else { return };
    let project = project_with_configs();
    let gzipped = std::fs::read(&humaneval).unwrap();
    let text = std::io::read_to_string(flate2::read::GzDecoder::new(gzipped.as_slice())).unwrap();
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    for line in text.lines() {
        let mut task: Value = serde_json::from_str(line).unwrap();
        task["canonical_solution"] = json!("    pass\n");
        writeln!(encoder, "{task}").unwrap();
    }
    let path = project.path().join("data/humaneval/HumanEval.jsonl.gz");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, encoder.finish().unwrap()).unwrap();
    write_run(&project, "", "  - {model: oracle, env: humaneval-chat}\n");
    bench(&project);
    let summary = summary(&project, "oracle-humaneval-chat");
    assert_eq!(summary["n"], 164);
    assert_eq!(summary["mean_reward"], 0.0, "no task accepts a function returning None: {summary}");
}

#[test]
fn mmlu_example_config_reads_the_hugging_face_export() {
    let Some(mmlu) = shared_data("mmlu/test") else { return };
    let project = project_with_configs();
    // The first three subjects, written as `cais/mmlu` exports them.
    let mut rows = String::new();
    for subject in ["abstract_algebra", "anatomy", "astronomy"] {
        let mut reader = csv::Reader::from_path(mmlu.join(format!("{subject}_test.csv"))).unwrap();
        for record in reader.records() {
            let record = record.unwrap();
            let choices: Vec<&str> = (1..5).map(|i| &record[i]).collect();
            let answer: u32 = record[5].parse().unwrap();
            rows.push_str(&format!(
                "{}\n",
                json!({"question": &record[0], "subject": subject, "choices": choices, "answer": answer})
            ));
        }
    }
    project.write("data/mmlu/test.jsonl", &rows);
    write_run(&project, "", "  - {model: oracle, env: [mmlu, mmlu-shuffled]}\n");
    bench(&project);
    for job in ["oracle-mmlu", "oracle-mmlu-shuffled"] {
        let summary = summary(&project, job);
        assert_eq!(
            (summary["n"].clone(), summary["mean_reward"].clone()),
            (json!(387), json!(1.0)),
            "{job}: {summary}"
        );
    }
}
