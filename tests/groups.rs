//! `group_by`: results per group (an MMLU subject, a medical specialty)
//! from the run's summary through the parquet column to `analyze`,
//! `winrate --by-group` and the report, with macro and micro averages, on
//! numbers worked out by hand.

use crate::support;

use serde_json::{Value, json};
use support::fixtures::{Project, output_text, plugin, read_json};
use support::openai_mock::{MockOpenAi, MockReply, MockRequest};

/// Anatomy: three questions with gold A; genetics: one with gold B. A model
/// answering (A) always is right on anatomy only: micro 3/4 = 0.75, macro
/// (1.0 + 0.0) / 2 = 0.5.
fn project(server: &MockOpenAi) -> Project {
    let project = Project::new();
    let rows: String = [("q1", "anatomy", "A"), ("q2", "anatomy", "A"), ("q3", "anatomy", "A"), ("q4", "genetics", "B")]
        .iter()
        .map(|(id, subject, answer)| {
            json!({"id": id, "subject": subject, "question": format!("Question {id}?"), "choices": ["w", "x", "y", "z"], "answer": answer})
                .to_string()
                + "\n"
        })
        .collect();
    project.write("data.jsonl", &rows);
    project.write(
        "run.yaml",
        &format!(
            "name: groups\nmodels:\n  always-a: {{model: m, api_base_url: {}}}\nenvs:\n  - {{id: med, module: {}, dataset: data.jsonl, group_by: subject}}\njobs:\n  - {{model: always-a, env: med}}\n  - {{model: oracle, env: med}}\n",
            server.base_url(),
            plugin("mcq").display()
        ),
    );
    project
}

#[test]
fn groups_reach_summaries_parquet_analysis_winrates_and_the_report() {
    let server = MockOpenAi::start(|_: &MockRequest| MockReply::Text("The answer is (A).".into()));
    let project = project(&server);
    project.assay_ok(&["bench", "--config", "run.yaml", "-q"]);
    let summary = read_json(&project.only_run_dir().join("always-a-med/summary.json"));
    assert_eq!(summary["mean_reward"], 0.75);
    assert_eq!(summary["macro_mean_reward"], 0.5);
    assert_eq!(
        summary["groups"],
        json!({"anatomy": {"n_examples": 3, "mean_reward": 1.0}, "genetics": {"n_examples": 1, "mean_reward": 0.0}})
    );
    let line: Value = serde_json::from_str(
        std::fs::read_to_string(project.only_run_dir().join("always-a-med/results.jsonl"))
            .unwrap()
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    assert!(line["group"].is_string(), "{line}");

    project.assay_ok(&["process"]);
    let (stdout, _) = project.assay_ok(&["analyze"]);
    assert!(stdout.contains("(macro average)") && stdout.contains("genetics"), "{stdout}");
    let groups = std::fs::read_to_string(project.path().join("runs/analysis/group_analysis.csv")).unwrap();
    assert!(
        groups.starts_with("model_id,env_id,variant,config_id,group,n_examples,mean,stderr,ci_low,ci_high\n"),
        "{groups}"
    );
    assert!(groups.contains("always-a,med,med,default,anatomy,3,1.0,0.0,1.0,1.0"), "{groups}");
    assert!(groups.contains("always-a,med,med,default,genetics,1,0.0,,"), "{groups}");
    let configs = std::fs::read_to_string(project.path().join("runs/analysis/config_analysis.csv")).unwrap();
    let row = configs.lines().find(|l| l.starts_with("always-a,med,med,")).unwrap();
    let header: Vec<&str> = configs.lines().next().unwrap().split(',').collect();
    let value = |name: &str| row.split(',').nth(header.iter().position(|h| *h == name).unwrap()).unwrap();
    assert_eq!((value("mean"), value("macro_mean")), ("0.75", "0.5"), "{configs}");

    // Win rates per group: a tie on anatomy, a loss on genetics.
    let (stdout, _) = project.assay_ok(&["winrate", "--by-group", "--resamples", "0"]);
    let winrates = read_json(&project.path().join("runs/winrate/winrates.json"));
    let envs: Vec<&String> = winrates["envs"].as_object().unwrap().keys().collect();
    assert_eq!(envs, ["med/anatomy", "med/genetics"], "{stdout}");
    assert_eq!(winrates["models"]["always-a"]["per_env"]["med/anatomy"], 0.5);
    assert_eq!(winrates["models"]["always-a"]["per_env"]["med/genetics"], 0.0);

    let report = project.assay(&["report", "--output", "report.md", "--format", "md"]);
    assert!(report.status.success(), "{}", output_text(&report));
    let markdown = std::fs::read_to_string(project.path().join("report.md")).unwrap();
    assert!(markdown.contains("| always-a | med | genetics | 1 | 0.000 |"), "{markdown}");
}
