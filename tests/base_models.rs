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

/// The user message(s) the server got for each question, by question text.
fn user_messages(server: &MockOpenAi) -> Vec<Vec<String>> {
    let requests = server.requests();
    requests
        .iter()
        .map(|r| {
            r.body["messages"].as_array().unwrap().iter().map(|m| m["content"].as_str().unwrap().to_string()).collect()
        })
        .collect()
}

#[test]
fn few_shot_exemplars_come_before_each_record_never_the_record_itself() {
    let server = MockOpenAi::start(|_: &MockRequest| MockReply::Text("The answer is (A).".into()));
    let project = mcq_project(&server, "", "    fewshot: {n: 2, sampler: first_n}\n");
    project.assay_ok(&["bench", "--config", "run.yaml", "-q"]);
    for messages in user_messages(&server) {
        assert_eq!(messages.len(), 1, "in one prompt: {messages:?}");
        let text = &messages[0];
        let asked = ["One?", "Two?", "Three?", "Four?"].iter().filter(|q| text.contains(*q)).count();
        assert_eq!(asked, 3, "two exemplars and the question: {text}");
        let answers =
            ["A", "B", "C", "D"].iter().map(|l| text.matches(&format!("The answer is ({l}).")).count()).sum::<usize>();
        assert_eq!(answers, 2, "each exemplar answered: {text}");
        assert!(text.trim_end().ends_with("D. d"), "the record's own question comes last: {text}");
    }
    // The first record gets the next two; the others the first two but themselves.
    let own = |text: &str| text.rsplit("Question: ").next().unwrap().starts_with("One?");
    let first = &user_messages(&server).into_iter().find(|m| own(&m[0])).unwrap()[0];
    assert!(first.contains("Two?") && first.contains("Three?") && !first.contains("Four?"), "{first}");

    // As turns: user, assistant, user, assistant, then the question.
    let turns = MockOpenAi::start(|_: &MockRequest| MockReply::Text("The answer is (A).".into()));
    let project = mcq_project(&turns, "", "    fewshot: {n: 2, sampler: random, seed: 3, as_multiturn: true}\n");
    project.assay_ok(&["bench", "--config", "run.yaml", "-q"]);
    let requests = turns.requests();
    for request in &requests {
        let roles: Vec<&str> =
            request.body["messages"].as_array().unwrap().iter().map(|m| m["role"].as_str().unwrap()).collect();
        assert_eq!(roles, ["user", "assistant", "user", "assistant", "user"]);
    }
    // Random exemplars reproduce: the same config asks the same prompts again.
    let again = MockOpenAi::start(|_: &MockRequest| MockReply::Text("The answer is (A).".into()));
    let project = mcq_project(&again, "", "    fewshot: {n: 2, sampler: random, seed: 3, as_multiturn: true}\n");
    project.assay_ok(&["bench", "--config", "run.yaml", "-q"]);
    let mut first: Vec<String> = requests.iter().map(|r| r.body["messages"].to_string()).collect();
    let mut second: Vec<String> = again.requests().iter().map(|r| r.body["messages"].to_string()).collect();
    first.sort();
    second.sort();
    assert_eq!(first, second);
}

#[test]
fn few_shot_mistakes_are_one_line_before_anything_runs() {
    let server = MockOpenAi::start(|_: &MockRequest| MockReply::Text("(A)".into()));
    let cases = [
        ("    fewshot: {n: 4, sampler: first_n}\n", "has only 3 possible exemplars, fewer than n = 4"),
        ("    fewshot: {n: 1, sampler: ids, ids: [q9]}\n", "no record `q9` in the few-shot pool"),
        ("    fewshot: {n: 1, split: dev}\n", "a split needs a Hub dataset"),
        ("    fewshot: {n: 2, sampler: ids, ids: [q1]}\n", "needs n ids (1 given, n is 2)"),
    ];
    for (extra, expected) in cases {
        let project = mcq_project(&server, "", extra);
        let output = project.assay(&["bench", "--config", "run.yaml"]);
        assert_eq!(output.status.code(), Some(2), "{}", output_text(&output));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.trim().lines().count() == 1 && stderr.contains(expected), "{extra}: {stderr}");
    }
    assert_eq!(server.request_count(), 0);
}

/// A base model answering `/completions` with `echo` and `logprobs`
/// (OpenAI's legacy shape, as vLLM and SGLang send it): each prompt split
/// into tokens at spaces (a token starts with its space), every token -0.5
/// but the last, which is -1.0 for ` A` and -2.0 otherwise: the model always
/// prefers option A. Several prompts come in one request.
fn logprob_reply(request: &MockRequest) -> MockReply {
    let Some(prompts) = request.body["prompt"].as_array() else {
        return MockReply::Status { code: 400, retry_after: None, body: "expected a list of prompts".into() };
    };
    assert_eq!((request.body["echo"].clone(), request.body["logprobs"].clone()), (json!(true), json!(1)));
    let choices: Vec<Value> = prompts
        .iter()
        .enumerate()
        .map(|(index, prompt)| {
            let tokens = space_tokens(prompt.as_str().unwrap());
            let last = tokens.len() - 1;
            let values: Vec<f64> = tokens.iter().enumerate().map(|(i, t)| token_logprob(i == last, t)).collect();
            let tops: Vec<Value> = tokens.iter().map(|t| json!({ t.clone(): -0.5 })).collect();
            json!({"index": index, "text": prompt, "logprobs": {"tokens": tokens, "token_logprobs": values, "top_logprobs": tops}})
        })
        .collect();
    MockReply::Json(json!({"choices": choices, "usage": {"prompt_tokens": 10, "completion_tokens": 1}}))
}

/// The mock base model's log-probability of a prompt token: -0.5 but for
/// the last, -1.0 for ` A` and -2.0 otherwise (it always prefers option A).
fn token_logprob(last: bool, token: &str) -> f64 {
    match (last, token == " A") {
        (false, _) => -0.5,
        (true, true) => -1.0,
        (true, false) => -2.0,
    }
}

/// `text` cut before every space.
fn space_tokens(text: &str) -> Vec<String> {
    let mut tokens: Vec<String> = Vec::new();
    for (i, c) in text.char_indices() {
        if i == 0 || c == ' ' {
            tokens.push(String::new());
        }
        tokens.last_mut().unwrap().push(c);
    }
    tokens
}

#[test]
fn loglikelihood_choices_score_acc_and_acc_norm_through_a_base_model() {
    let server = MockOpenAi::start(logprob_reply);
    let env = "    capabilities: [loglikelihood]\n    env_args: {mode: loglikelihood}\n";
    let project = mcq_project(&server, "    use_chat_template: false\n", env);
    project.assay_ok(&["bench", "--config", "run.yaml", "-q"]);
    let lines = results(&project);
    assert_eq!(lines.len(), 4);
    for line in &lines {
        assert_eq!(line["parsed_answer"], "A", "{line}");
        let right = line["example_id"] == "q1";
        assert_eq!(line["reward"], if right { 1.0 } else { 0.0 }, "{line}");
        assert_eq!(line["metrics"]["acc_norm"], line["metrics"]["acc"], "letters are one character each");
        assert_eq!(line["continuations"].as_array().unwrap().len(), 4, "{line}");
        assert_eq!(line["continuations"][0], json!({"text": " A", "logprob": -1.0, "tokens": 1, "greedy": true}));
        assert!(line["prompt_text"].as_str().unwrap().ends_with("D. d\nAnswer:"), "{line}");
    }
    // One probe, then one request per question with its four prompts.
    assert_eq!(server.request_count(), 1 + 4);
    let summary = support::fixtures::read_json(&project.only_run_dir().join("m-e/summary.json"));
    assert_eq!((summary["mean_reward"].clone(), summary["metrics"]["acc"].clone()), (json!(0.25), json!(0.25)));

    // The oracle chooses the gold continuation everywhere.
    let config = std::fs::read_to_string(project.path().join("run.yaml")).unwrap();
    project.write("oracle.yaml", &config.replace("{model: m, env: e}", "{model: oracle, env: e}"));
    project.assay_ok(&["bench", "--config", "oracle.yaml", "-q", "--run-id", "oracle"]);
    let lines = read_jsonl(&project.path().join("runs/raw/oracle/oracle-e/results.jsonl"));
    assert!(lines.iter().all(|l| l["reward"] == 1.0 && l["metrics"]["acc_norm"] == 1.0), "{lines:?}");
}

/// Text Generation Inference's `POST /generate`: with
/// `decoder_input_details`, the prompt's tokens as `details.prefill` (a
/// `<s>` first, then the prompt split at spaces, scored as in
/// [`logprob_reply`]); without, greedy decoding, which gives ` A` (the
/// model prefers option A).
fn tgi_reply(request: &MockRequest) -> MockReply {
    let (inputs, parameters) = (request.body["inputs"].as_str().unwrap(), &request.body["parameters"]);
    if parameters["decoder_input_details"] != json!(true) {
        assert_eq!((parameters["max_new_tokens"].clone(), parameters["do_sample"].clone()), (json!(1), json!(false)));
        return MockReply::Json(json!({"generated_text": " A"}));
    }
    let tokens = space_tokens(inputs);
    let last = tokens.len() - 1;
    let mut prefill = vec![json!({"id": 1, "text": "<s>", "logprob": null})];
    prefill.extend(
        tokens
            .iter()
            .enumerate()
            .map(|(i, token)| json!({"id": i + 2, "text": token, "logprob": token_logprob(i == last, token)})),
    );
    MockReply::Json(json!({"generated_text": ".", "details": {"finish_reason": "length", "prefill": prefill}}))
}

#[test]
fn loglikelihood_on_text_generation_inference_reads_the_prefill_and_asks_greedy_decoding() {
    let server = MockOpenAi::start(tgi_reply);
    let env = "    capabilities: [loglikelihood]\n    env_args: {mode: loglikelihood}\n";
    let project = mcq_project(&server, "    use_chat_template: false\n    loglikelihood_api: tgi\n", env);
    project.assay_ok(&["bench", "--config", "run.yaml", "-q"]);
    let lines = results(&project);
    assert_eq!(lines.len(), 4);
    for line in &lines {
        assert_eq!(line["parsed_answer"], "A", "{line}");
        assert_eq!(line["reward"], if line["example_id"] == "q1" { 1.0 } else { 0.0 }, "{line}");
        assert_eq!(line["continuations"][0], json!({"text": " A", "logprob": -1.0, "tokens": 1, "greedy": true}));
        assert_eq!(line["continuations"][1], json!({"text": " B", "logprob": -2.0, "tokens": 1, "greedy": false}));
    }
    // The probe, then per question four continuations: each a prefill and a greedy request.
    assert_eq!(server.request_count(), 2 + 4 * 4 * 2);
    assert!(server.requests().iter().all(|r| r.body["inputs"].is_string()), "every request went to /generate");
}

/// TGI takes one prompt per request: a question's continuations are
/// asked at once, not one after another.
#[test]
fn tgi_continuations_of_a_question_are_asked_at_once() {
    let server = MockOpenAi::start(|request: &MockRequest| {
        MockReply::Delay(std::time::Duration::from_millis(100), Box::new(tgi_reply(request)))
    });
    let env = "    capabilities: [loglikelihood]\n    env_args: {mode: loglikelihood}\n";
    let project = mcq_project(&server, "    use_chat_template: false\n    loglikelihood_api: tgi\n", env);
    project.assay_ok(&["bench", "--config", "run.yaml", "-q", "--max-examples", "1"]);
    assert_eq!(results(&project)[0]["parsed_answer"], "A");
    assert_eq!(server.request_count(), 2 + 4 * 2);
    assert_eq!(server.max_in_flight(), 4, "one question's four continuations in flight together");
}

#[test]
fn a_server_without_prompt_logprobs_is_refused_before_the_run_naming_the_model() {
    // A chat-only server: every request gets a chat completion, no log-probabilities.
    let server = MockOpenAi::start(|_: &MockRequest| MockReply::Text("Paris".into()));
    let env = "    capabilities: [loglikelihood]\n    env_args: {mode: loglikelihood}\n";
    let project = mcq_project(&server, "    use_chat_template: false\n    max_retries: 0\n", env);
    let output = project.assay(&["bench", "--config", "run.yaml"]);
    assert_eq!(output.status.code(), Some(2), "{}", output_text(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.trim().lines().count() == 1 && stderr.contains("model `m`") && stderr.contains("no log-probabilities"),
        "{stderr}"
    );
    assert!(!project.path().join("runs").exists());
    // Without the capability granted, a sample that asks fails saying so.
    let project = mcq_project(&server, "", "    env_args: {mode: loglikelihood}\n");
    let output = project.assay(&["bench", "--config", "run.yaml"]);
    assert_eq!(output.status.code(), Some(1));
    let line = &results(&project)[0];
    assert!(
        line["error"]["message"].as_str().unwrap().contains("does not grant the `loglikelihood` capability"),
        "{line}"
    );
}

/// A chat completion with `n` choices (`n` from the request, or 1 when
/// `honour_n` is false): choice i answers option A, B, C… in turn.
fn n_choices(request: &MockRequest, honour_n: bool) -> MockReply {
    let n = if honour_n { request.body["n"].as_u64().unwrap_or(1) } else { 1 };
    let choices: Vec<Value> = (0..n)
        .map(|i| {
            let letter = ["A", "B", "C", "D"][i as usize % 4];
            json!({"index": i, "message": {"role": "assistant", "content": format!("The answer is ({letter}).")}, "finish_reason": "stop"})
        })
        .collect();
    MockReply::Json(json!({"choices": choices, "usage": {"prompt_tokens": 50, "completion_tokens": 6 * n}}))
}

#[test]
fn a_records_rollouts_are_asked_in_one_request_and_recorded_each() {
    let server = MockOpenAi::start(|r: &MockRequest| n_choices(r, true));
    let job = "    rollouts: 3\n    rollouts_in_one_request: true\n";
    let project = mcq_project(&server, "", "    rollouts_per_example: 3\n");
    let config = std::fs::read_to_string(project.path().join("run.yaml")).unwrap();
    project.write("run.yaml", &config.replace("  - {model: m, env: e}\n", &format!("  - model: m\n    env: e\n{job}")));
    project.assay_ok(&["bench", "--config", "run.yaml", "-q"]);
    assert_eq!(server.request_count(), 4, "one request per record");
    assert!(server.requests().iter().all(|r| r.body["n"] == 3));
    let lines = results(&project);
    assert_eq!(lines.len(), 12);
    for line in &lines {
        let letter = ["A", "B", "C"][line["rollout"].as_u64().unwrap() as usize];
        assert_eq!(line["parsed_answer"], letter, "rollout i gets choice i: {line}");
    }
    let tokens: u64 = lines.iter().map(|l| l["tokens"]["completion"].as_u64().unwrap()).sum();
    assert_eq!(tokens, 4 * 18, "each request's tokens counted once");

    // A server ignoring `n` answers once: the other rollouts ask alone.
    let ignoring = MockOpenAi::start(|r: &MockRequest| n_choices(r, false));
    let project = mcq_project(&ignoring, "", "    rollouts_per_example: 3\n");
    let config = std::fs::read_to_string(project.path().join("run.yaml")).unwrap();
    project.write("run.yaml", &config.replace("  - {model: m, env: e}\n", &format!("  - model: m\n    env: e\n{job}")));
    let (_, stderr) = project.assay_ok(&["bench", "--config", "run.yaml"]);
    assert!(stderr.contains("it ignores `n`"), "{stderr}");
    assert_eq!(ignoring.request_count(), 4 + 8);
    assert_eq!(results(&project).len(), 12);
}
