//! The OpenAI-compatible chat client against the in-process mock server:
//! request bodies, reply parsing, retries and backoff, timeouts, the
//! concurrency limit, and keeping the API key out of errors.

use crate::support;

use assay::models::{
    Api, ApiKey, Backoff, ChatClient, ChatReply, ChatRequest, Endpoint, Message, ModelError, PromptTemplate,
    RateLimits, Role, Tool, ToolCall, Usage,
};
use serde_json::{Map, Value, json};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::openai_mock::{MockOpenAi, MockReply, MockRequest, fail_first};

/// An endpoint for `base_url` with fast backoff (but room for a 1 s
/// `Retry-After`), two retries, 5 s of waiting on 429s and a 5 s timeout.
fn endpoint(base_url: &str) -> Endpoint {
    Endpoint {
        model: "test-model".into(),
        base_url: base_url.into(),
        api_key: None,
        timeout: Duration::from_secs(5),
        max_retries: 2,
        rate_limit_wait: Duration::from_secs(5),
        max_concurrent: 4,
        rate: Default::default(),
        api: Api::Chat,
        scoring_api: Default::default(),
        backoff: Backoff { base: Duration::from_millis(5), max: Duration::from_secs(5) },
    }
}

fn client(endpoint: Endpoint) -> ChatClient {
    ChatClient::new(endpoint).expect("client")
}

fn message(role: Role, content: &str) -> Message {
    Message::new(role, content)
}

/// A request with one user message and nothing else.
fn ask(text: &str) -> ChatRequest {
    ChatRequest {
        messages: vec![message(Role::User, text)],
        max_tokens: None,
        stop: Vec::new(),
        tools: Vec::new(),
        sampling_args: Map::new(),
    }
}

fn status(code: u16, body: &str) -> MockReply {
    MockReply::Status { code, retry_after: None, body: body.into() }
}

fn text(content: &str) -> MockReply {
    MockReply::Text(content.into())
}

/// The error's `Display`, checked to be one line.
fn one_line(error: &ModelError) -> String {
    let shown = error.to_string();
    assert!(!shown.contains('\n'), "multi-line error: {shown:?}");
    shown
}

#[tokio::test]
async fn replies_are_parsed_with_content_reasoning_and_usage() {
    let server = MockOpenAi::start(|request: &MockRequest| match request.last_user_message() {
        "Which letter fits?" => {
            MockReply::TextWithReasoning { content: "The answer is (B).".into(), reasoning: "B fits best".into() }
        }
        _ => text("plain reply"),
    });
    let client = client(endpoint(server.base_url()));
    let mut request = ask("Which letter fits?");
    request.messages.insert(0, message(Role::System, "Answer briefly."));

    let reply = client.chat(&request).await.expect("reply");
    // The mock counts words: 2 + 3 prompt, 4 content + 3 reasoning.
    let expected = ChatReply {
        content: "The answer is (B).".into(),
        tool_calls: Vec::new(),
        reasoning: Some("B fits best".into()),
        finish_reason: Some("stop".into()),
        usage: Usage { prompt_tokens: Some(5), completion_tokens: Some(7), reasoning_tokens: Some(3) },
        latency_ms: reply.latency_ms,
        attempts: 1,
    };
    assert_eq!(reply, expected);
    assert!(reply.latency_ms < 5_000, "{}", reply.latency_ms);

    let plain = client.chat(&ask("Hi there")).await.expect("reply");
    assert_eq!((plain.content.as_str(), plain.reasoning), ("plain reply", None));
    assert_eq!(plain.usage, Usage { prompt_tokens: Some(2), completion_tokens: Some(2), reasoning_tokens: None });
    assert_eq!(server.auth_headers(), Vec::<String>::new(), "no key, no Authorization header");
}

#[tokio::test]
async fn tools_go_out_as_openai_tools_and_calls_and_results_round_trip() {
    let server = MockOpenAi::start(|request: &MockRequest| match request.index {
        0 => MockReply::ToolCalls { content: String::new(), calls: vec![("bash".into(), json!({"command": "ls"}))] },
        _ => text("done"),
    });
    let chat = client(endpoint(server.base_url()));
    let bash = Tool {
        name: "bash".into(),
        description: "Run a command.".into(),
        parameters: json!({"type": "object", "properties": {"command": {"type": "string"}}}),
    };
    let mut request = ChatRequest { tools: vec![bash], ..ask("List the files.") };
    let reply = chat.chat(&request).await.expect("reply");
    let call = ToolCall { id: "call_0_0".into(), name: "bash".into(), arguments: r#"{"command":"ls"}"#.into() };
    assert_eq!((reply.tool_calls.clone(), reply.finish_reason.as_deref()), (vec![call.clone()], Some("tool_calls")));
    request.messages.push(Message { tool_calls: reply.tool_calls, ..message(Role::Assistant, "") });
    request.messages.push(Message { tool_call_id: Some(call.id.clone()), ..message(Role::Tool, "a.txt") });
    assert_eq!(chat.chat(&request).await.expect("reply").content, "done");

    let bodies: Vec<Value> = server.requests().into_iter().map(|r| r.body).collect();
    let tools = json!([{"type": "function", "function": {"name": "bash", "description": "Run a command.",
        "parameters": {"type": "object", "properties": {"command": {"type": "string"}}}}}]);
    assert_eq!(bodies[0]["tools"], tools);
    assert_eq!(
        bodies[1]["messages"],
        json!([
            {"role": "user", "content": "List the files."},
            {"role": "assistant", "content": "", "tool_calls": [
                {"id": "call_0_0", "type": "function", "function": {"name": "bash", "arguments": "{\"command\":\"ls\"}"}}]},
            {"role": "tool", "content": "a.txt", "tool_call_id": "call_0_0"},
        ])
    );
    // A base model has no tools to be offered: the text-completions body carries none.
    let base = client(Endpoint { api: Api::Completions(PromptTemplate::default()), ..endpoint(server.base_url()) });
    base.chat(&request).await.expect("reply");
    assert!(server.requests()[2].body.get("tools").is_none(), "{}", server.requests()[2].body);
}

#[tokio::test]
async fn request_bodies_carry_messages_limits_and_sampling_args_verbatim() {
    let server = MockOpenAi::start(|_: &MockRequest| text("ok"));
    // A trailing slash on the base URL is dropped.
    let client = client(endpoint(&format!("{}/", server.base_url())));
    let sampling_args = json!({"temperature": 0.25, "top_k": 7, "reasoning_effort": "high", "max_tokens": 64});
    let request = ChatRequest {
        messages: vec![message(Role::System, "Be terse."), message(Role::User, "2+2?")],
        max_tokens: Some(16),
        stop: vec!["\n\n".into()],
        tools: Vec::new(),
        sampling_args: sampling_args.as_object().unwrap().clone(),
    };
    client.chat(&request).await.expect("reply");
    client.chat(&ChatRequest { max_tokens: Some(16), ..ask("again") }).await.expect("reply");

    let bodies: Vec<Value> = server.requests().into_iter().map(|r| r.body).collect();
    assert_eq!(
        bodies,
        [
            json!({
                "model": "test-model",
                "messages": [{"role": "system", "content": "Be terse."}, {"role": "user", "content": "2+2?"}],
                "max_tokens": 64,
                "stop": ["\n\n"],
                "temperature": 0.25,
                "top_k": 7,
                "reasoning_effort": "high",
            }),
            json!({"model": "test-model", "messages": [{"role": "user", "content": "again"}], "max_tokens": 16}),
        ]
    );
}

#[tokio::test]
async fn a_429_is_retried_after_the_servers_retry_after() {
    let rate_limited = MockReply::Status { code: 429, retry_after: Some("1".into()), body: "slow down".into() };
    let server = MockOpenAi::start(fail_first(1, rate_limited, text("ok")));
    let client = client(endpoint(server.base_url()));
    let started = Instant::now();
    let reply = client.chat(&ask("hi")).await.expect("reply after the rate limit");
    let waited = started.elapsed();
    assert_eq!((reply.content.as_str(), reply.attempts), ("ok", 2));
    assert!(waited >= Duration::from_secs(1), "Retry-After: 1 was not honoured: {waited:?}");
    assert!(waited < Duration::from_secs(3), "{waited:?}");
    assert!(reply.latency_ms < 1_000, "latency counts only the successful attempt: {}", reply.latency_ms);
    assert_eq!(server.request_count(), 2);
}

/// A 429 whose only hint is `header: value`.
fn limited(header: &'static str, value: &str, body: &str) -> MockReply {
    let status = MockReply::Status { code: 429, retry_after: None, body: body.into() };
    MockReply::WithHeaders(vec![(header, value.into())], Box::new(status))
}

#[tokio::test]
async fn litellms_own_retry_hint_is_honoured() {
    // LiteLLM's limiter sends no Retry-After, only its provider-prefixed copy.
    let server = MockOpenAi::start(fail_first(1, limited("llm_provider-retry-after", "1", "limit"), text("ok")));
    let client = client(endpoint(server.base_url()));
    let started = Instant::now();
    let reply = client.chat(&ask("hi")).await.expect("reply after the rate limit");
    let waited = started.elapsed();
    assert_eq!(reply.attempts, 2);
    assert!(waited >= Duration::from_secs(1), "llm_provider-retry-after: 1 was not honoured: {waited:?}");
    assert!(waited < Duration::from_secs(3), "{waited:?}");
}

#[tokio::test]
async fn rate_limits_spend_wait_time_not_retries() {
    let server = MockOpenAi::start(fail_first(6, limited("retry-after-ms", "30", "slow down"), text("ok")));
    let client = client(Endpoint { max_retries: 0, ..endpoint(server.base_url()) });
    let started = Instant::now();
    let reply = client.chat(&ask("hi")).await.expect("six 429s fit in rate_limit_wait, whatever max_retries says");
    assert_eq!((reply.content.as_str(), reply.attempts), ("ok", 7));
    assert!(started.elapsed() >= Duration::from_millis(180), "retry-after-ms: 30, six times: {:?}", started.elapsed());
}

#[tokio::test]
async fn a_request_still_rate_limited_when_rate_limit_wait_runs_out_fails_saying_so() {
    // LiteLLM's key limiter puts the figures at the end of a long message.
    let body = format!(
        "{{\"error\":{{\"message\":\"LiteLLM Rate Limit Handler for rate limit type = key. {} current rpm: 61, \
         rpm limit: 60, current tpm: 0, tpm limit: 100000\",\"code\":\"429\"}}}}",
        "Crossed TPM / RPM / Max Parallel Request Limit. ".repeat(8)
    );
    let server = MockOpenAi::start(move |_: &MockRequest| limited("llm_provider-retry-after", "1", &body));
    let rate_limit_wait = Duration::from_millis(1500);
    let client = client(Endpoint { rate_limit_wait, max_retries: 6, ..endpoint(server.base_url()) });
    let started = Instant::now();
    let error = client.chat(&ask("hi")).await.unwrap_err();
    let took = started.elapsed();
    // 429, a 1 s wait, 429 again: the next 1 s would pass the 1.5 s budget.
    let ModelError::RateLimited { attempts: 2, waited_secs: 1.0, budget_secs: 1.5, last } = &error else {
        panic!("{error:?}")
    };
    assert!(matches!(**last, ModelError::Status { status: 429, .. }), "{last:?}");
    assert!(took < rate_limit_wait, "no wait it could not finish: {took:?}");
    let shown = one_line(&error);
    let start =
        "still rate limited after waiting 1 s of rate_limit_wait 1.5 s, 2 attempts: HTTP 429 (retry after 1 s): ";
    assert!(shown.starts_with(start), "{shown}");
    assert!(shown.contains("{\"error\":{\"message\":\"LiteLLM Rate Limit Handler"), "the start is kept: {shown}");
    assert!(
        shown.ends_with("current rpm: 61, rpm limit: 60, current tpm: 0, tpm limit: 100000\",\"code\":\"429\"}}"),
        "{shown}"
    );
    assert_eq!(server.request_count(), 2);
}

#[tokio::test]
async fn a_wait_longer_than_rate_limit_wait_fails_at_once() {
    let server = MockOpenAi::start(|_: &MockRequest| limited("x-ratelimit-reset-tokens", "6m0s", "tokens per day"));
    let started = Instant::now();
    let error = client(endpoint(server.base_url())).chat(&ask("hi")).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(1), "{:?}", started.elapsed());
    assert!(matches!(error, ModelError::RateLimited { attempts: 1, .. }), "{error:?}");
    let shown = one_line(&error);
    let expected = "still rate limited after waiting 0 s of rate_limit_wait 5 s, 1 attempt: \
                    HTTP 429 (retry after 360 s): tokens per day";
    assert_eq!(shown, expected);
}

#[tokio::test]
async fn server_errors_are_retried_until_success() {
    let server = MockOpenAi::start(|request: &MockRequest| match request.index {
        0 => status(500, "boom"),
        1 => status(503, "overloaded"),
        _ => text("finally"),
    });
    let reply = client(endpoint(server.base_url())).chat(&ask("hi")).await.expect("reply");
    assert_eq!((reply.content.as_str(), reply.attempts), ("finally", 3));
    assert_eq!(server.request_count(), 3);
}

#[tokio::test]
async fn when_retries_run_out_the_last_error_is_reported() {
    let server = MockOpenAi::start(|_: &MockRequest| status(502, "bad gateway"));
    let error = client(endpoint(server.base_url())).chat(&ask("hi")).await.unwrap_err();
    assert_eq!(one_line(&error), "gave up after 3 attempts: HTTP 502: bad gateway");
    assert_eq!(server.request_count(), 3);
}

#[tokio::test]
async fn client_errors_fail_at_once() {
    for code in [400, 401, 403, 404, 422] {
        let server = MockOpenAi::start(move |_: &MockRequest| status(code, "request\nrejected"));
        let error = client(endpoint(server.base_url())).chat(&ask("hi")).await.unwrap_err();
        assert_eq!(error, ModelError::Status { status: code, body: "request rejected".into(), retry_after: None });
        assert_eq!(one_line(&error), format!("HTTP {code}: request rejected"));
        assert_eq!(server.request_count(), 1, "{code} must not be retried");
    }
}

#[tokio::test]
async fn malformed_replies_are_retried_then_reported() {
    for (reply, needle) in [(MockReply::Garbage, "not JSON: <html>"), (MockReply::MissingChoices, "no `choices`: {}")] {
        let server = MockOpenAi::start(move |_: &MockRequest| reply.clone());
        let error = client(endpoint(server.base_url())).chat(&ask("hi")).await.unwrap_err();
        let ModelError::GaveUp { attempts: 3, last } = &error else { panic!("{error:?}") };
        assert!(matches!(**last, ModelError::Malformed(_)), "{error:?}");
        let shown = one_line(&error);
        assert!(
            shown.starts_with("gave up after 3 attempts: malformed response: ") && shown.contains(needle),
            "{shown}"
        );
        assert_eq!(server.request_count(), 3);
    }
}

#[tokio::test]
async fn a_stalled_server_times_out_within_the_timeout() {
    let server = MockOpenAi::start(|_: &MockRequest| MockReply::Stall);
    let timeout = Duration::from_millis(300);
    let client = client(Endpoint { timeout, max_retries: 0, ..endpoint(server.base_url()) });
    let started = Instant::now();
    let error = client.chat(&ask("hi")).await.unwrap_err();
    let waited = started.elapsed();
    assert_eq!(error, ModelError::Timeout(0.3));
    assert_eq!(one_line(&error), "timed out after 0.3 s");
    assert!(waited >= timeout && waited < Duration::from_secs(2), "{waited:?}");
}

#[tokio::test]
async fn a_body_that_stalls_midway_times_out_and_is_retried() {
    let server = MockOpenAi::start(|_: &MockRequest| MockReply::StallMidBody);
    let timeout = Duration::from_millis(300);
    let client = client(Endpoint { timeout, max_retries: 1, ..endpoint(server.base_url()) });
    let started = Instant::now();
    let error = client.chat(&ask("hi")).await.unwrap_err();
    let waited = started.elapsed();
    assert_eq!(error, ModelError::GaveUp { attempts: 2, last: Box::new(ModelError::Timeout(0.3)) });
    assert!(waited >= timeout * 2 && waited < Duration::from_secs(3), "{waited:?}");
    assert_eq!(server.request_count(), 2);
}

#[tokio::test]
async fn connection_failures_are_retried_then_reported() {
    // A port that was just free: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let client = client(endpoint(&format!("http://127.0.0.1:{port}/v1")));
    let error = client.chat(&ask("hi")).await.unwrap_err();
    let ModelError::GaveUp { attempts: 3, last } = &error else { panic!("{error:?}") };
    assert!(matches!(**last, ModelError::Connection(_)), "{error:?}");
    assert!(one_line(&error).starts_with("gave up after 3 attempts: connection failed: "), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_concurrent_bounds_the_requests_in_flight() {
    let server =
        MockOpenAi::start(|_: &MockRequest| MockReply::Delay(Duration::from_millis(100), Box::new(text("ok"))));
    let client = client(Endpoint { max_concurrent: 3, ..endpoint(server.base_url()) });
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..20 {
        let client = client.clone();
        tasks.spawn(async move { client.chat(&ask(&format!("question {i}"))).await });
    }
    while let Some(outcome) = tasks.join_next().await {
        assert_eq!(outcome.unwrap().expect("reply").content, "ok");
    }
    assert_eq!(server.request_count(), 20);
    assert_eq!(server.max_in_flight(), 3);
    // Twenty requests three at a time take at least seven rounds.
    assert!(started.elapsed() >= Duration::from_millis(700), "{:?}", started.elapsed());
}

#[tokio::test]
async fn a_request_waiting_to_retry_does_not_hold_its_slot() {
    let server = MockOpenAi::start(|request: &MockRequest| match request.index {
        0 => MockReply::Status { code: 503, retry_after: Some("1".into()), body: "busy".into() },
        _ => text("ok"),
    });
    let client = client(Endpoint { max_concurrent: 1, ..endpoint(server.base_url()) });
    let backing_off = tokio::spawn({
        let client = client.clone();
        async move { client.chat(&ask("first")).await }
    });
    while server.request_count() == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let started = Instant::now();
    let quick = client.chat(&ask("second")).await.expect("reply");
    assert_eq!(quick.attempts, 1);
    assert!(started.elapsed() < Duration::from_millis(700), "blocked by a sleeping retry: {:?}", started.elapsed());
    assert_eq!(backing_off.await.unwrap().expect("reply after the 503").attempts, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_pauses_the_whole_endpoint_not_just_its_request() {
    let arrivals = Arc::new(Mutex::new(Vec::new()));
    let server = MockOpenAi::start({
        let arrivals = arrivals.clone();
        move |request: &MockRequest| {
            arrivals.lock().unwrap().push((request.index, Instant::now()));
            match request.index {
                0 => MockReply::Status { code: 429, retry_after: Some("1".into()), body: "slow down".into() },
                _ => MockReply::Delay(Duration::from_millis(20), Box::new(text("ok"))),
            }
        }
    });
    let client = client(Endpoint { max_concurrent: 4, ..endpoint(server.base_url()) });
    let mut tasks = Vec::new();
    for i in 0..8 {
        let client = client.clone();
        tasks.push(tokio::spawn(async move { client.chat(&ask(&format!("q{i}"))).await }));
        if i == 0 {
            while server.request_count() == 0 {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
    }
    for task in tasks {
        task.await.unwrap().expect("every request succeeds in the end");
    }
    let arrivals = arrivals.lock().unwrap().clone();
    let first = arrivals.iter().find(|(i, _)| *i == 0).unwrap().1;
    // The first four went out together; every later one (including the
    // retry of the rate-limited request) waited for the pause.
    let later: Vec<Duration> =
        arrivals.iter().filter(|(i, _)| *i >= 4).map(|(_, at)| at.duration_since(first)).collect();
    assert_eq!(later.len(), 5);
    assert!(later.iter().all(|d| *d >= Duration::from_millis(950)), "sent during the pause: {later:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_per_minute_spaces_requests_out() {
    let arrivals = Arc::new(Mutex::new(Vec::new()));
    let server = MockOpenAi::start({
        let arrivals = arrivals.clone();
        move |_: &MockRequest| {
            arrivals.lock().unwrap().push(Instant::now());
            text("ok")
        }
    });
    let rate = RateLimits { requests_per_minute: Some(1200.0), ..RateLimits::default() }; // 20 a second
    let client = client(Endpoint { max_concurrent: 16, rate, ..endpoint(server.base_url()) });
    let tasks: Vec<_> = (0..30)
        .map(|i| {
            let client = client.clone();
            tokio::spawn(async move { client.chat(&ask(&format!("q{i}"))).await })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().expect("reply");
    }
    let mut arrivals = arrivals.lock().unwrap().clone();
    arrivals.sort();
    let spread = arrivals[29].duration_since(arrivals[0]);
    // 20 at once (one second of burst), then 20 a second: 10 more take 0.5 s.
    assert!(spread >= Duration::from_millis(450), "30 requests in {spread:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_per_minute_counts_the_tokens_servers_report() {
    // The mock counts prompt words as tokens: 40 + 1 for the reply = 41 a
    // request. At 50 tokens a second (a bucket of 50), each request after
    // the first waits about 41/50 s for the bucket to refill.
    let server = MockOpenAi::start(|_: &MockRequest| text("ok"));
    let rate = RateLimits { tokens_per_minute: Some(3000.0), ..RateLimits::default() };
    let client = client(Endpoint { max_concurrent: 8, rate, ..endpoint(server.base_url()) });
    let prompt = vec!["word"; 40].join(" ");
    let started = Instant::now();
    for _ in 0..3 {
        let reply = client.chat(&ask(&prompt)).await.expect("reply");
        assert_eq!(reply.usage.prompt_tokens, Some(40));
    }
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(1400), "3 requests of 41 tokens in {elapsed:?}");
}

#[tokio::test]
async fn base_models_get_the_rendered_prompt_on_the_completions_api() {
    let server = MockOpenAi::start(|request: &MockRequest| {
        assert!(request.is_text_completion(), "not a text completion: {}", request.body);
        text(" Paris.")
    });
    let template = PromptTemplate {
        system: "{content}".into(),
        user: "Q: {content}".into(),
        assistant: "A: {content}".into(),
        separator: "\n".into(),
        generation_prefix: "\nA:".into(),
    };
    let client = client(Endpoint { api: Api::Completions(template), ..endpoint(server.base_url()) });
    let mut request = ask("Capital of France?");
    request.messages.insert(0, message(Role::System, "Answer briefly."));
    request.sampling_args =
        serde_json::from_value(json!({"max_tokens": 8, "stop": ["\n"], "logprobs": 1, "n": 1, "seed": 3})).unwrap();
    let reply = client.chat(&request).await.expect("reply");
    assert_eq!(reply.content, " Paris.");
    assert_eq!(reply.usage.prompt_tokens, Some(7), "the mock counts the words of the rendered prompt");
    let body = &server.requests()[0].body;
    assert_eq!(body["prompt"], "Answer briefly.\nQ: Capital of France?\nA:");
    assert!(body.get("messages").is_none());
    for (key, value) in
        [("max_tokens", json!(8)), ("stop", json!(["\n"])), ("logprobs", json!(1)), ("n", json!(1)), ("seed", json!(3))]
    {
        assert_eq!(body[key], value, "{key} passes through");
    }
}

#[tokio::test]
async fn the_api_key_is_sent_as_bearer_and_never_shown_in_errors() {
    const KEY: &str = "sk-mock-4f1d2c9b7a3e";
    // Some servers echo the rejected credentials; the client must not.
    let server = MockOpenAi::start(|request: &MockRequest| {
        let auth = request.authorization.clone().unwrap_or_default();
        match request.last_user_message() {
            "unauthorised" => status(401, &format!("invalid credentials: {auth}")),
            _ => status(500, &format!("upstream refused {auth}")),
        }
    });
    let endpoint = Endpoint { api_key: Some(ApiKey::new(KEY)), max_retries: 1, ..endpoint(server.base_url()) };
    assert!(!format!("{endpoint:?}").contains(KEY), "{endpoint:?}");
    let client = client(endpoint);
    for prompt in ["unauthorised", "broken"] {
        let error = client.chat(&ask(prompt)).await.unwrap_err();
        let (shown, debug) = (one_line(&error), format!("{error:?}"));
        assert!(!shown.contains(KEY) && !debug.contains(KEY), "key leaked: {shown} / {debug}");
        assert!(shown.contains("***"), "the echoed key is scrubbed, not dropped: {shown}");
    }
    assert_eq!(server.auth_headers(), vec![format!("Bearer {KEY}"); 3], "one 401, a 500 and its retry");
}

#[test]
fn api_keys_come_from_named_variables_and_are_never_printed() {
    const VAR: &str = "ASSAY_MODEL_CLIENT_TEST_UNSET_KEY";
    let error = ApiKey::from_env(VAR).unwrap_err().to_string();
    assert!(error.contains(VAR), "{error}");
    assert_eq!(format!("{:?}", ApiKey::new("sk-visible")), "ApiKey(***)");
}
