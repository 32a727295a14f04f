//! Base models and checkpoints the way lm-evaluation-harness evaluates
//! them: seeded sampling (each rollout's own seed, recorded), few-shot
//! prompts, log-likelihood choices and rollouts asked in one request.

use crate::support;

use serde_json::{Value, json};
use support::fixtures::{Project, mcq_jsonl, output_text, plugin, read_jsonl};
use support::openai_mock::{MockOpenAi, MockReply, MockRequest};

/// A project with four MCQ questions and `extra` YAML appended to the one
/// model (`m`, at `server`) and the env (`e`).
fn mcq_project(server: &MockOpenAi, model_extra: &str, env_extra: &str) -> Project {
    let project = Project::new();
    let rows = [
        ("q1", "One?", ["a", "b", "c", "d"], "A"),
        ("q2", "Two?", ["a", "b", "c", "d"], "B"),
        ("q3", "Three?", ["a", "b", "c", "d"], "C"),
        ("q4", "Four?", ["a", "b", "c", "d"], "D"),
    ];
    project.write("data.jsonl", &mcq_jsonl(&rows));
    project.write(
        "run.yaml",
        &format!(
            "models:\n  m:\n    model: test-model\n    api_base_url: {url}\n{model_extra}envs:\n  - id: e\n    module: {mcq}\n    dataset: data.jsonl\n{env_extra}jobs:\n  - {{model: m, env: e}}\n",
            url = server.base_url(),
            mcq = plugin("mcq").display()
        ),
    );
    project
}

fn results(project: &Project) -> Vec<Value> {
    read_jsonl(&project.only_run_dir().join("m-e/results.jsonl"))
}

#[test]
fn each_rollout_sends_its_own_seed_unless_the_config_sets_one() {
    let server = MockOpenAi::start(|_: &MockRequest| MockReply::Text("The answer is (A).".into()));
    let project = mcq_project(&server, "", "    rollouts_per_example: 3\n");
    project.assay_ok(&["bench", "--config", "run.yaml", "-q"]);
    let lines = results(&project);
    assert_eq!(lines.len(), 12);
    let sent: Vec<u64> = server.requests().iter().map(|r| r.body["seed"].as_u64().expect("a seed is sent")).collect();
    let recorded: Vec<u64> = lines.iter().map(|l| l["sampling_seed"].as_u64().unwrap()).collect();
    let mut distinct = recorded.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 12, "every rollout has its own seed: {recorded:?}");
    for line in &lines {
        let seed = line["sampling_seed"].as_u64().unwrap();
        assert_eq!(seed, line["seed"].as_u64().unwrap() & 0x7fff_ffff, "the sample seed, cut to 31 bits");
        assert!(sent.contains(&seed), "{seed} was sent");
    }

    // A seed in the sampling args is sent as it is, and nothing is recorded.
    let fixed = MockOpenAi::start(|_: &MockRequest| MockReply::Text("The answer is (A).".into()));
    let project = mcq_project(&fixed, "    sampling_args: {seed: 7}\n", "");
    project.assay_ok(&["bench", "--config", "run.yaml", "-q"]);
    assert!(fixed.requests().iter().all(|r| r.body["seed"] == json!(7)));
    assert!(
        results(&project).iter().all(|l| l.get("sampling_seed").is_none()),
        "{}",
        output_text(&project.assay(&["summarize"]))
    );
}
