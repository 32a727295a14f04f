//! An in-process OpenAI-compatible chat-completions server for tests.
//!
//! [`MockOpenAi::start`] binds `127.0.0.1:0` and serves
//! `POST /v1/chat/completions`, `POST /v1/completions` (text
//! completions, for base models), `POST /generate` (Text Generation
//! Inference's own API, at the root) and `GET /v1/models` (not recorded) on its own thread and tokio runtime, so both
//! async tests and sync tests that run the `assay` binary can use it. A
//! responder closure decides each reply; the server records every request
//! and the peak number of requests in flight. Dropping the server stops it.
//!
//! Token counts in replies are whitespace-separated words, so tests can
//! predict them exactly.

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use axum::routing::{get, post};
use serde_json::{Value, json};
use std::future::IntoFuture;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;
use tokio::sync::oneshot;

/// One request as the server received it.
#[derive(Debug, Clone)]
pub struct MockRequest {
    /// The JSON body (`Value::Null` when it was not JSON).
    pub body: Value,
    /// The `Authorization` header, if sent.
    pub authorization: Option<String>,
    /// 0-based arrival order.
    pub index: usize,
}

impl MockRequest {
    /// Whether this is a text completion (`/v1/completions`).
    pub fn is_text_completion(&self) -> bool {
        self.body["prompt"].is_string()
    }

    /// The content of the last `user` message (for a text completion, the
    /// whole prompt), or `""`.
    pub fn last_user_message(&self) -> &str {
        if let Some(prompt) = self.body["prompt"].as_str() {
            return prompt;
        }
        let messages = self.body["messages"].as_array().map(Vec::as_slice).unwrap_or_default();
        messages.iter().rev().find(|m| m["role"] == "user").and_then(|m| m["content"].as_str()).unwrap_or("")
    }

    /// The requested model, or `""`.
    pub fn model(&self) -> &str {
        self.body["model"].as_str().unwrap_or("")
    }
}

/// What the server does with one request.
#[derive(Debug, Clone)]
pub enum MockReply {
    /// 200 with a chat completion (finish reason `stop`, with `usage`).
    Text(String),
    /// 200 with a chat completion carrying `reasoning_content` and
    /// `usage.completion_tokens_details.reasoning_tokens`.
    TextWithReasoning {
        /// The message content.
        content: String,
        /// The reasoning text.
        reasoning: String,
    },
    /// 200 with a chat completion calling tools (finish reason
    /// `tool_calls`): each call's name and arguments object; call ids are
    /// `call_<request index>_<n>`.
    ToolCalls {
        /// The message content beside the calls.
        content: String,
        /// `(tool name, arguments)` per call.
        calls: Vec<(String, Value)>,
    },
    /// An error status with a plain-text body.
    Status {
        /// The status code.
        code: u16,
        /// The `Retry-After` header value, if any.
        retry_after: Option<String>,
        /// The body.
        body: String,
    },
    /// 200 with a body that is not JSON.
    Garbage,
    /// 200 with `{}`.
    MissingChoices,
    /// 200 with this JSON body (a reply of another shape: log-probabilities...).
    Json(Value),
    /// Never answers.
    Stall,
    /// Sends 200, its headers and the start of a body, then never finishes.
    StallMidBody,
    /// Sends 200, its headers and the start of a body, then aborts the
    /// connection (as a server that crashes or resets mid-reply does).
    ResetMidBody,
    /// Waits, then replies.
    Delay(Duration, Box<MockReply>),
    /// The reply (not a `Delay` or `Stall`) with these headers added,
    /// names in lower case: e.g. a 429 with a gateway's own wait hint.
    WithHeaders(Vec<(&'static str, String)>, Box<MockReply>),
}

/// A responder that answers the first `n` calls with `failure` and every
/// later one with `success`.
pub fn fail_first(
    n: usize,
    failure: MockReply,
    success: MockReply,
) -> impl Fn(&MockRequest) -> MockReply + Send + Sync + 'static {
    let calls = AtomicUsize::new(0);
    move |_: &MockRequest| if calls.fetch_add(1, Ordering::SeqCst) < n { failure.clone() } else { success.clone() }
}

/// A reply that depends only on the prompt ("The answer is (X)." with X
/// chosen by its length), after `delay_ms`: every run of the same samples
/// scores the same, whatever order they are asked in.
pub fn prompt_letter_reply(request: &MockRequest, delay_ms: u64) -> MockReply {
    let letter = ["A", "B", "C", "D"][request.last_user_message().len() % 4];
    let reply = MockReply::Text(format!("Let me see. The answer is ({letter})."));
    MockReply::Delay(Duration::from_millis(delay_ms), Box::new(reply))
}

type Responder = Box<dyn Fn(&MockRequest) -> MockReply + Send + Sync>;

/// State shared by the handlers and the test.
struct Shared {
    responder: Responder,
    requests: Mutex<Vec<MockRequest>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    /// The first responder panic, re-raised when the server is dropped so a
    /// failed assertion inside a responder fails the test.
    panic: Mutex<Option<String>>,
}

/// A running mock server; stops when dropped.
pub struct MockOpenAi {
    base_url: String,
    shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl MockOpenAi {
    /// Start a server answering with `responder`.
    pub fn start(responder: impl Fn(&MockRequest) -> MockReply + Send + Sync + 'static) -> MockOpenAi {
        let shared = Arc::new(Shared {
            responder: Box::new(responder),
            requests: Mutex::new(Vec::new()),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
            panic: Mutex::new(None),
        });
        // Bound here, not on the server thread, so the port is known at once.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind the mock server");
        listener.set_nonblocking(true).expect("non-blocking listener");
        let base_url = format!("http://{}/v1", listener.local_addr().expect("local address"));
        let app = Router::new()
            .route("/v1/chat/completions", post(chat_completions))
            .route("/v1/completions", post(chat_completions))
            .route("/generate", post(chat_completions))
            .route("/v1/models", get(list_models))
            .with_state(shared.clone());
        let (shutdown, stop) = oneshot::channel();
        let thread = std::thread::spawn(move || serve(listener, app, stop));
        MockOpenAi { base_url, shared, shutdown: Some(shutdown), thread: Some(thread) }
    }

    /// The base URL clients use, e.g. `http://127.0.0.1:PORT/v1`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Requests received so far.
    pub fn request_count(&self) -> usize {
        self.shared.requests.lock().unwrap().len()
    }

    /// Every request received so far, in arrival order.
    pub fn requests(&self) -> Vec<MockRequest> {
        self.shared.requests.lock().unwrap().clone()
    }

    /// The most requests that were in flight at once.
    pub fn max_in_flight(&self) -> usize {
        self.shared.max_in_flight.load(Ordering::SeqCst)
    }

    /// Every `Authorization` header value received, in arrival order.
    pub fn auth_headers(&self) -> Vec<String> {
        self.shared.requests.lock().unwrap().iter().filter_map(|r| r.authorization.clone()).collect()
    }
}

impl Drop for MockOpenAi {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        let finished = self.thread.take().map(JoinHandle::join);
        if std::thread::panicking() {
            return;
        }
        if let Some(message) = self.shared.panic.lock().unwrap().take() {
            panic!("the mock server's responder panicked: {message}");
        }
        if let Some(Err(_)) = finished {
            panic!("the mock server thread panicked");
        }
    }
}

/// The server thread: serve until told to stop, then drop the runtime,
/// which also drops connections still open (a stalled reply never ends on
/// its own, so a graceful shutdown would wait forever).
fn serve(listener: std::net::TcpListener, app: Router, stop: oneshot::Receiver<()>) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("mock server runtime");
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
        tokio::select! {
            result = axum::serve(listener, app).into_future() => result.expect("mock server failed"),
            _ = stop => {}
        }
    });
}

/// Counts a request as in flight until dropped, even when the client gives
/// up and the handler is cancelled.
struct InFlight<'a>(&'a Shared);

impl<'a> InFlight<'a> {
    fn enter(shared: &'a Shared) -> Self {
        let now = shared.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        shared.max_in_flight.fetch_max(now, Ordering::SeqCst);
        InFlight(shared)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// An empty model list: enough for a reachability check.
async fn list_models() -> Response {
    response(StatusCode::OK, "application/json", Body::from(json!({"object": "list", "data": []}).to_string()))
}

async fn chat_completions(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let _in_flight = InFlight::enter(&shared);
    let request = shared.record(&headers, &body);
    let mut reply = shared.respond(&request);
    while let MockReply::Delay(delay, next) = reply {
        tokio::time::sleep(delay).await;
        reply = *next;
    }
    if let MockReply::Stall = reply {
        std::future::pending::<()>().await;
    }
    render(reply, &request)
}

impl Shared {
    /// Record a request and number it.
    fn record(&self, headers: &HeaderMap, body: &[u8]) -> MockRequest {
        let mut requests = self.requests.lock().unwrap();
        let request = MockRequest {
            body: serde_json::from_slice(body).unwrap_or(Value::Null),
            authorization: headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).map(String::from),
            index: requests.len(),
        };
        requests.push(request.clone());
        request
    }

    /// Ask the responder; a panic becomes a 500 and is kept for `Drop`.
    fn respond(&self, request: &MockRequest) -> MockReply {
        match catch_unwind(AssertUnwindSafe(|| (self.responder)(request))) {
            Ok(reply) => reply,
            Err(payload) => {
                let message = payload
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "(non-string panic)".into());
                self.panic.lock().unwrap().get_or_insert_with(|| message.clone());
                MockReply::Status { code: 500, retry_after: None, body: format!("mock responder panicked: {message}") }
            }
        }
    }
}

/// The HTTP response for a reply other than `Delay` and `Stall`.
fn render(reply: MockReply, request: &MockRequest) -> Response {
    if let MockReply::WithHeaders(headers, reply) = reply {
        let mut response = render(*reply, request);
        for (name, value) in headers {
            response.headers_mut().insert(name, value.parse().expect("a valid header value"));
        }
        return response;
    }
    let json_response = |value: Value| response(StatusCode::OK, "application/json", Body::from(value.to_string()));
    match reply {
        MockReply::Text(content) => json_response(completion(request, &content, None)),
        MockReply::ToolCalls { content, calls } => {
            let mut body = completion(request, &content, None);
            let calls: Vec<Value> = calls
                .iter()
                .enumerate()
                .map(|(n, (name, arguments))| {
                    json!({"id": format!("call_{}_{n}", request.index), "type": "function",
                           "function": {"name": name, "arguments": arguments.to_string()}})
                })
                .collect();
            body["choices"][0]["message"]["tool_calls"] = json!(calls);
            body["choices"][0]["finish_reason"] = json!("tool_calls");
            json_response(body)
        }
        MockReply::TextWithReasoning { content, reasoning } => {
            json_response(completion(request, &content, Some(&reasoning)))
        }
        MockReply::Status { code, retry_after, body } => {
            let status = StatusCode::from_u16(code).expect("a valid status code");
            let mut response = response(status, "text/plain", Body::from(body));
            if let Some(value) = retry_after {
                response.headers_mut().insert(header::RETRY_AFTER, value.parse().expect("a valid header value"));
            }
            response
        }
        MockReply::Garbage => response(StatusCode::OK, "text/html", Body::from("<html>this is not JSON</html>")),
        MockReply::MissingChoices => json_response(json!({})),
        MockReply::Json(body) => json_response(body),
        MockReply::StallMidBody => {
            let start = futures_util::stream::iter([Ok::<_, std::convert::Infallible>(r#"{"choices":["#)]);
            let body = futures_util::StreamExt::chain(start, futures_util::stream::pending());
            response(StatusCode::OK, "application/json", Body::from_stream(body))
        }
        MockReply::ResetMidBody => {
            let start = futures_util::stream::iter([Ok(Bytes::from_static(br#"{"choices":["#))]);
            // A body stream that fails makes hyper abort the connection
            // instead of finishing the chunked body. The pause lets the
            // headers and first chunk go out first, so the client sees a
            // reply that breaks off rather than no reply at all.
            let abort = futures_util::stream::once(async {
                tokio::time::sleep(Duration::from_millis(20)).await;
                Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "mock reset mid-body"))
            });
            let body = futures_util::StreamExt::chain(start, abort);
            response(StatusCode::OK, "application/json", Body::from_stream(body))
        }
        MockReply::Delay(..) | MockReply::Stall | MockReply::WithHeaders(..) => {
            unreachable!("handled before rendering")
        }
    }
}

fn response(status: StatusCode, content_type: &str, body: Body) -> Response {
    Response::builder().status(status).header(header::CONTENT_TYPE, content_type).body(body).expect("a valid response")
}

/// A chat completion in OpenAI's shape, or a text completion when the
/// request was one.
fn completion(request: &MockRequest, content: &str, reasoning: Option<&str>) -> Value {
    let prompt_tokens: u64 = match request.body["prompt"].as_str() {
        Some(prompt) => words(prompt),
        None => request.body["messages"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|m| words(m["content"].as_str().unwrap_or("")))
            .sum(),
    };
    let reasoning_tokens = reasoning.map(words);
    let completion_tokens = words(content) + reasoning_tokens.unwrap_or(0);
    let mut message = json!({ "role": "assistant", "content": content });
    let mut usage = json!({
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    });
    if let (Some(text), Some(tokens)) = (reasoning, reasoning_tokens) {
        message["reasoning_content"] = json!(text);
        usage["completion_tokens_details"] = json!({ "reasoning_tokens": tokens });
    }
    let (object, choice) = match request.is_text_completion() {
        true => ("text_completion", json!({ "index": 0, "text": content, "finish_reason": "stop" })),
        false => ("chat.completion", json!({ "index": 0, "message": message, "finish_reason": "stop" })),
    };
    json!({
        "id": format!("cmpl-mock-{}", request.index),
        "object": object,
        "created": 0,
        "model": request.model(),
        "choices": [choice],
        "usage": usage,
    })
}

fn words(text: &str) -> u64 {
    text.split_whitespace().count() as u64
}
