//! `assay bench` against what gateways do, end to end through the CLI:
//!
//! - a 429 storm from a server enforcing its own per-window request limit
//!   (as LiteLLM does per clock minute, hinting only with
//!   `llm_provider-retry-after`) ends with every sample scored, with no
//!   retries allowed for other failures;
//! - failed samples say why (a kind per cause, in the result line, the
//!   summary and the job table), how long they took and after how many
//!   attempts;
//! - base-model result lines record the prompt text sent; chat lines do not.

use crate::support;

use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};
use support::fixtures::{Project, lettered_questions, mcq_jsonl, output_text, plugin, read_json, read_jsonl};
use support::openai_mock::{MockOpenAi, MockReply, MockRequest};

/// A config running the `mcq` env on `data.jsonl` with model `served`
/// (`model_lines` indented under it) and, if given, a second model.
fn config(url: &str, model_lines: &str, jobs: &[&str]) -> String {
    let jobs: String = jobs.iter().map(|model| format!("  - model: {model}\n    env: mcq\n")).collect();
    format!(
        "name: gateway\nmodels:\n  served:\n    model: served-model\n    api_base_url: {url}\n{model_lines}\
         envs:\n  - id: mcq\n    module: {mcq}\n    dataset: data.jsonl\njobs:\n{jobs}",
        mcq = plugin("mcq").display(),
    )
}

/// The question index in a prompt of [`question`].
fn question_index(prompt: &str) -> usize {
    let start = prompt.find("Question #").expect("a generated question") + "Question #".len();
    prompt[start..start + 3].parse().expect("three digits")
}

fn question(i: usize) -> (String, String) {
    (format!("q{i:03}"), format!("Question #{i:03}: which option is right?"))
}

/// Requests a server with a fixed-window limit saw, window by window.
#[derive(Default)]
struct WindowCounts {
    /// Window number → (accepted, turned away with 429).
    windows: BTreeMap<u128, (usize, usize)>,
}

/// Samples in the storm, and the server's limit: at most `LIMIT` requests
/// per `WINDOW_MS` window (aligned to the clock, as LiteLLM's minutes are).
const STORM_SAMPLES: usize = 60;
const LIMIT: usize = 10;
const WINDOW_MS: u128 = 1000;
/// More than the limit, so every window starts with more requests than it
/// takes.
const STORM_CONCURRENCY: usize = 16;

#[test]
fn a_429_storm_at_the_servers_limit_ends_with_every_sample_scored() {
    let counts = Arc::new(Mutex::new(WindowCounts::default()));
    let server = MockOpenAi::start({
        let counts = counts.clone();
        move |request: &MockRequest| {
            let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis();
            let mut counts = counts.lock().unwrap();
            let window = counts.windows.entry(now / WINDOW_MS).or_default();
            if window.0 < LIMIT {
                window.0 += 1;
                let q = question_index(request.last_user_message());
                return MockReply::Text(format!("The answer is ({}).", ["A", "B", "C", "D"][q % 4]));
            }
            window.1 += 1;
            // LiteLLM's answer: no Retry-After, only its provider-prefixed copy.
            let body = format!("Model rate limit exceeded. RPM limit={LIMIT}, current usage={}", window.0 + window.1);
            let status = MockReply::Status { code: 429, retry_after: None, body };
            MockReply::WithHeaders(vec![("llm_provider-retry-after", "1".into())], Box::new(status))
        }
    });
    let project = Project::new();
    let questions: Vec<(String, String)> = (0..STORM_SAMPLES).map(question).collect();
    project.write("data.jsonl", &lettered_questions(&questions));
    // No retries for other failures, and the default rate_limit_wait.
    let model = format!("    max_concurrent: {STORM_CONCURRENCY}\n    max_retries: 0\n");
    project.write("run.yaml", &config(server.base_url(), &model, &["served"]));

    let output = project.assay(&["bench", "--config", "run.yaml", "-q"]);
    assert!(output.status.success(), "every sample is scored: {}", output_text(&output));

    let run_dir = project.only_run_dir();
    let results = read_jsonl(&run_dir.join("served-mcq/results.jsonl"));
    assert_eq!(results.len(), STORM_SAMPLES);
    for result in &results {
        assert!(result["error"].is_null(), "{result}");
        assert_eq!(result["reward"], 1.0, "{result}");
    }
    let summary = read_json(&run_dir.join("served-mcq/summary.json"));
    assert_eq!((summary["n_scored"].as_u64(), summary["errors"].clone()), (Some(STORM_SAMPLES as u64), json!({})));

    let counts = counts.lock().unwrap();
    let accepted: usize = counts.windows.values().map(|w| w.0).sum();
    let turned_away: usize = counts.windows.values().map(|w| w.1).sum();
    println!("{accepted} accepted, {turned_away} turned away, over {} windows", counts.windows.len());
    assert_eq!(accepted, STORM_SAMPLES, "one accepted request per sample");
    assert!(turned_away > 0, "not a storm: no request was turned away");
    // After a 429 the whole endpoint waits out the hint, so a window sees
    // at most the requests already in flight turned away, never a stream
    // of retries.
    for (window, (ok, limited)) in &counts.windows {
        assert!(*ok <= LIMIT, "window {window}: {ok} accepted");
        assert!(*limited <= STORM_CONCURRENCY, "window {window}: {limited} turned away, more than were in flight");
    }
    assert_eq!(server.request_count(), accepted + turned_away);
}

/// A 429 whose body is a LiteLLM key limit, with the figures at its end.
fn litellm_key_limit() -> MockReply {
    let body = format!(
        "LiteLLM Rate Limit Handler for rate limit type = key. {}current rpm: 61, rpm limit: 60, current tpm: 0, \
         tpm limit: 100000",
        "Crossed TPM / RPM / Max Parallel Request Limit. ".repeat(8)
    );
    let status = MockReply::Status { code: 429, retry_after: None, body };
    MockReply::WithHeaders(vec![("llm_provider-retry-after", "1".into())], Box::new(status))
}

#[test]
fn failed_samples_say_why_how_long_and_after_how_many_attempts() {
    let server = MockOpenAi::start(|request: &MockRequest| {
        let prompt = request.last_user_message();
        let status = |code: u16, body: &str| MockReply::Status { code, retry_after: None, body: body.into() };
        match () {
            _ if prompt.contains("LIMITED") => litellm_key_limit(),
            _ if prompt.contains("REFUSED") => status(404, "The model `served-model` does not exist"),
            _ if prompt.contains("BROKEN") => status(502, "bad gateway"),
            _ if prompt.contains("SLOW") => MockReply::Stall,
            _ if prompt.contains("CUT") => MockReply::ResetMidBody,
            _ if prompt.contains("GARBLED") => MockReply::Garbage,
            _ => MockReply::Text("The answer is (A).".into()),
        }
    });
    let project = Project::new();
    let options = ["w", "x", "y", "z"];
    let ids = ["ok", "limited", "refused", "broken", "slow", "cut", "garbled"];
    let rows: Vec<(&str, String)> = ids.iter().map(|id| (*id, format!("{} question?", id.to_uppercase()))).collect();
    let rows: Vec<(&str, &str, [&str; 4], &str)> = rows.iter().map(|(id, q)| (*id, q.as_str(), options, "A")).collect();
    project.write("data.jsonl", &mcq_jsonl(&rows));
    let model = "    max_retries: 1\n    timeout: 1\n    rate_limit_wait: 1.5\n";
    project.write("run.yaml", &config(server.base_url(), model, &["served"]));

    let output = project.assay(&["bench", "--config", "run.yaml", "-q"]);
    assert_eq!(output.status.code(), Some(1), "failed samples fail the run: {}", output_text(&output));
    let run_dir = project.only_run_dir();
    let results = read_jsonl(&run_dir.join("served-mcq/results.jsonl"));
    let by_id = |id: &str| results.iter().find(|r| r["example_id"] == id).unwrap_or_else(|| panic!("{id}")).clone();
    assert_eq!(by_id("ok")["reward"], 1.0);
    assert!(by_id("ok")["error"].is_null());

    // (id, kind, attempts, at least this many ms, start of the message)
    let expected: [(&str, &str, u64, u64, &str); 6] = [
        (
            "limited",
            "rate-limited",
            2,
            1000,
            "still rate limited after waiting 1 s of rate_limit_wait 1.5 s, 2 attempts: ",
        ),
        ("refused", "client-error", 1, 0, "HTTP 404: The model `served-model` does not exist"),
        ("broken", "server-error", 2, 0, "gave up after 2 attempts: HTTP 502: bad gateway"),
        ("slow", "model-timeout", 2, 2000, "gave up after 2 attempts: timed out after 1.0 s"),
        ("cut", "connection", 2, 0, "gave up after 2 attempts: connection failed: "),
        ("garbled", "malformed-reply", 2, 0, "gave up after 2 attempts: malformed response: not JSON"),
    ];
    for (id, kind, attempts, at_least_ms, start) in expected {
        let result = by_id(id);
        let error = &result["error"];
        assert_eq!((error["kind"].as_str(), error["attempts"].as_u64()), (Some(kind), Some(attempts)), "{id}: {error}");
        let message = error["message"].as_str().unwrap();
        assert!(message.starts_with(start), "{id}: {message}");
        let latency_ms = result["latency_ms"].as_u64().unwrap();
        assert!(latency_ms >= at_least_ms, "{id}: latency_ms {latency_ms}, the request took at least {at_least_ms}");
    }
    let limited = by_id("limited")["error"]["message"].as_str().unwrap().to_string();
    assert!(limited.contains("HTTP 429 (retry after 1 s): LiteLLM Rate Limit Handler"), "{limited}");
    assert!(limited.ends_with("current rpm: 61, rpm limit: 60, current tpm: 0, tpm limit: 100000"), "{limited}");

    let summary = read_json(&run_dir.join("served-mcq/summary.json"));
    let kinds: BTreeMap<&str, u64> = expected.iter().map(|e| (e.1, 1)).collect();
    assert_eq!(summary["errors"], json!(kinds));
    // The job table tells the kinds apart too.
    let stdout = String::from_utf8_lossy(&output.stdout);
    let cell = "6 (1 rate-limited, 1 server-error, 1 client-error, 1 model-timeout, 1 connection, 1 malformed-reply)";
    assert!(stdout.contains(cell), "{stdout}");
}

#[test]
fn base_model_lines_record_the_prompt_text_sent_and_chat_lines_do_not() {
    let server = MockOpenAi::start(|_: &MockRequest| MockReply::Text(" A".into()));
    let project = Project::new();
    let questions: Vec<(String, String)> = (0..3).map(question).collect();
    project.write("data.jsonl", &lettered_questions(&questions));
    let base = "    use_chat_template: false\n    \
                prompt_template: {system: \"[sys] {content}\", user: \"Q: {content}\", generation_prefix: \"\\nA:\"}\n  \
                chat:\n    model: chat-model\n    api_base_url: URL\n";
    let yaml = config(server.base_url(), &base.replace("URL", server.base_url()), &["served", "chat"]);
    project.write("run.yaml", &yaml);
    project.assay_ok(&["bench", "--config", "run.yaml", "-q"]);

    let sent: Vec<Value> = server.requests().into_iter().map(|r| r.body).collect();
    let prompts: Vec<&str> = sent.iter().filter_map(|body| body["prompt"].as_str()).collect();
    assert_eq!(prompts.len(), 3, "three text completions: {sent:?}");
    let run_dir = project.only_run_dir();
    for result in read_jsonl(&run_dir.join("served-mcq/results.jsonl")) {
        let text = result["prompt_text"].as_str().unwrap_or_else(|| panic!("no prompt_text: {result}"));
        assert!(prompts.contains(&text), "{text:?} was not sent; sent: {prompts:?}");
        assert!(text.contains("Q: ") && text.ends_with("\nA:"), "{text:?}");
        let id = result["example_id"].as_str().unwrap();
        assert!(text.contains(&format!("Question #{}", &id[1..])), "{id}: {text:?}");
    }
    for result in read_jsonl(&run_dir.join("chat-mcq/results.jsonl")) {
        assert!(result.get("prompt_text").is_none(), "chat lines are unchanged: {result}");
    }
}
