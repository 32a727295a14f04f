//! LLM-as-judge: the `judge` plugin asks a judge model (a second local
//! server giving deterministic grades) after the model under test, and the
//! judge's grades become exact rewards, with its calls accounted apart.

use crate::support;

use serde_json::json;
use support::fixtures::{Project, output_text, plugin, read_json, read_jsonl};
use support::openai_mock::{MockOpenAi, MockReply, MockRequest, fail_first};

/// Four questions; the model under test answers each with its id's word.
const DATA: &str = concat!(
    r#"{"id": "right", "question": "Q right?", "answer": "gold"}"#,
    "\n",
    r#"{"id": "partly", "question": "Q partly?", "answer": "gold"}"#,
    "\n",
    r#"{"id": "wrong", "question": "Q wrong?", "answer": "gold"}"#,
    "\n",
    r#"{"id": "mumble", "question": "Q mumble?", "answer": "gold", "baseline": "base"}"#,
    "\n",
);

/// The model under test: "Q right?" is answered "answer: right".
fn model_server() -> MockOpenAi {
    MockOpenAi::start(|request: &MockRequest| {
        let word = request.last_user_message().trim_start_matches("Q ").trim_end_matches('?').to_string();
        MockReply::Text(format!("answer: {word}"))
    })
}

/// A judge grading the submitted answer by its word: right C, partly P,
/// wrong I, and no grade at all for mumble.
fn grade(request: &MockRequest) -> MockReply {
    let prompt = request.last_user_message();
    let answer = prompt.split("[Submitted answer]\n").nth(1).expect("the answer is in the judge prompt");
    let reply = match answer.lines().next().unwrap() {
        "answer: right" => "It matches the reference.\nGRADE: C",
        "answer: partly" => "Half of it.\nGRADE: P",
        "answer: wrong" => "It contradicts the reference.\nGRADE: I",
        _ => "I cannot tell what this answer means.",
    };
    MockReply::Text(reply.into())
}

fn project(model: &MockOpenAi, judge_url: &str, env_extra: &str) -> Project {
    let project = Project::new();
    project.write("data.jsonl", DATA);
    project.write(
        "run.yaml",
        &format!(
            "name: judged\nmodels:\n  tested: {{model: tested-model, api_base_url: {}}}\n  grader: {{model: judge-model, api_base_url: {judge_url}, max_retries: 5, sampling_args: {{temperature: 0.5}}}}\nenvs:\n  - {{id: open, module: {}, dataset: data.jsonl, env_args: {{reference_field: answer}}, capabilities: [judge], judge: {{model: grader, sampling_args: {{temperature: 0}}}}{env_extra}}}\njobs:\n  - {{model: tested, env: open}}\n",
            model.base_url(),
            plugin("judge").display()
        ),
    );
    project
}

#[test]
fn judge_grades_become_exact_rewards_and_its_calls_are_kept_apart() {
    let (model, judge) = (model_server(), MockOpenAi::start(grade));
    let project = project(&model, judge.base_url(), "");
    let (table, _) = project.assay_ok(&["bench", "--config", "run.yaml", "-q"]);
    // The job table and a judged line, for the README (`-- --nocapture`).
    println!("$ assay bench --config run.yaml -q\n{table}");
    let job = project.only_run_dir().join("tested-open");
    let summary = read_json(&job.join("summary.json"));
    // 1 + 0.5 + 0 + 0 over four questions.
    assert_eq!(summary["mean_reward"], 0.375, "{summary}");
    assert_eq!(summary["parse_status"], json!({"ok": 3, "ungraded": 1}), "{summary}");
    assert_eq!(summary["judge_calls"], 4, "{summary}");
    assert!(summary["judge_tokens"]["completion"].as_u64().unwrap() > 0, "{summary}");

    let results = read_jsonl(&job.join("results.jsonl"));
    let right = results.iter().find(|r| r["example_id"] == "right").unwrap();
    assert_eq!(right["parsed_answer"], "C");
    let call = &right["judge_calls"][0];
    println!("{}", serde_json::to_string(&json!({"example_id": "right", "reward": right["reward"], "parsed_answer": "C", "judge_calls": right["judge_calls"]})).unwrap());
    assert_eq!(call["reply"], "It matches the reference.\nGRADE: C");
    assert!(call["messages"][0]["content"].as_str().unwrap().contains("[Reference answer]\ngold"), "{call}");
    // The model under test's tokens leave the judge's out.
    assert_eq!(right["tokens"]["completion"], 2, "{right}");

    // The judge request carries the judge's sampling args, over its model's.
    let judge_requests = judge.requests();
    assert_eq!(judge_requests.len(), 4);
    assert!(judge_requests.iter().all(|r| r.body["model"] == "judge-model" && r.body["temperature"] == 0));
    assert_eq!(model.request_count(), 4, "the model under test is asked once per question");

    // The judge is part of the job's identity.
    let manifest = read_json(&project.only_run_dir().join("run_manifest.json"));
    let identity = &manifest["jobs"][0]["identity"]["judge"];
    assert_eq!(identity["model"], "judge-model", "{manifest}");

    project.assay_ok(&["process"]);
}

#[test]
fn a_judge_rate_limit_storm_is_survived_like_a_models() {
    let model = model_server();
    let too_many = MockReply::Status { code: 429, retry_after: Some("0".into()), body: "slow down".into() };
    let judge = MockOpenAi::start(fail_first(3, too_many, MockReply::Text("GRADE: C".into())));
    let project = project(&model, judge.base_url(), "");
    project.assay_ok(&["bench", "--config", "run.yaml", "-q"]);
    let summary = read_json(&project.only_run_dir().join("tested-open/summary.json"));
    assert_eq!((summary["mean_reward"].as_f64(), &summary["errors"]), (Some(1.0), &json!({})), "{summary}");
    assert_eq!(judge.request_count(), 7, "3 refusals, then 4 grades");
}

#[test]
fn an_unreachable_judge_stops_the_run_before_anything_is_written() {
    let model = model_server();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/v1", closed.local_addr().unwrap());
    drop(closed);
    let project = project(&model, &url, "");
    let output = project.assay(&["bench", "--config", "run.yaml", "-q"]);
    let text = output_text(&output);
    assert!(!output.status.success(), "{text}");
    assert!(text.contains("judge `grader`") && text.contains("not reachable"), "{text}");
    assert!(
        !project.path().join("runs/raw").exists() || project.path().join("runs/raw").read_dir().unwrap().count() == 0
    );
    assert_eq!(model.request_count(), 0);
}

#[test]
fn a_judge_capability_without_a_judge_is_refused_by_name() {
    let model = model_server();
    let project = Project::new();
    project.write("data.jsonl", DATA);
    project.write(
        "run.yaml",
        &format!(
            "models:\n  tested: {{model: m, api_base_url: {}}}\nenvs:\n  - {{id: open, module: {}, dataset: data.jsonl, env_args: {{reference_field: answer}}, capabilities: [judge]}}\njobs:\n  - {{model: tested, env: open}}\n",
            model.base_url(),
            plugin("judge").display()
        ),
    );
    let text = output_text(&project.assay(&["bench", "--config", "run.yaml", "--dry-run"]));
    assert!(text.contains("env `open` grants `judge` but names no judge"), "{text}");
}

#[test]
fn pairwise_asks_the_judge_in_both_orders() {
    let model = model_server();
    // A judge that always prefers the first response: position bias.
    let judge = MockOpenAi::start(|_: &MockRequest| MockReply::Text("Response A is better. [[A]]".into()));
    let project = Project::new();
    project.write("data.jsonl", DATA.lines().last().unwrap());
    project.write(
        "run.yaml",
        &format!(
            "models:\n  tested: {{model: m, api_base_url: {}}}\n  grader: {{model: j, api_base_url: {}}}\nenvs:\n  - {{id: arena, module: {}, dataset: data.jsonl, env_args: {{baseline_field: baseline}}, capabilities: [judge], judge: {{model: grader}}}}\njobs:\n  - {{model: tested, env: arena}}\n",
            model.base_url(),
            judge.base_url(),
            plugin("judge").display()
        ),
    );
    project.assay_ok(&["bench", "--config", "run.yaml", "-q"]);
    let summary = read_json(&project.only_run_dir().join("tested-arena/summary.json"));
    assert_eq!(summary["mean_reward"], 0.5, "one win and one loss make a tie: {summary}");
    assert_eq!(summary["metrics"]["consistent"], 0.0, "{summary}");
    let prompts: Vec<String> = judge.requests().iter().map(|r| r.last_user_message().to_string()).collect();
    assert!(prompts[0].contains("[Response A]\nanswer: mumble") && prompts[1].contains("[Response A]\nbase"));
}
