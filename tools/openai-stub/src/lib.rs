//! A local OpenAI-compatible server for benchmarks: every request gets the
//! same reply, at once or after a fixed latency.
//!
//! [`StubServer::start`] listens on a free port of 127.0.0.1 and serves on
//! its own tokio runtime (one worker thread), so a benchmark can run it in
//! its own process without lending it a runtime. Routes:
//!
//! - `POST /v1/chat/completions`: a chat completion whose content is [`REPLY`].
//! - `POST /v1/completions`: a text completion (base-model style) with the
//!   same text; with `echo` and `logprobs`, each prompt (a string or a list)
//!   echoed with deterministic log-probabilities for its tokens instead, as
//!   harnesses ask to score continuations (see [`logprobs`]).
//! - `GET /v1/models`: one model, [`MODEL`].
//! - `GET /stats`: `{"requests": N, "first_request_unix_ms": T,
//!   "last_request_unix_ms": T}`, the times `null` before any request. Only
//!   the two completion routes count as requests.
//! - `POST /stats/reset`: zero those counters, e.g. between two clients
//!   (204 No Content).
//!
//! [`StubServer::bind_held`] stands for a model server that answers nothing
//! before it is ready: its completion requests wait until `GET /v1/models`
//! has been asked once (a supervisor's readiness check).
//!
//! Otherwise the request body is not parsed: any model name and any
//! prompt get the same reply, with a fixed `usage`.
//!
//! [`REPLY`] is graded correct for gold answer "A" by assay's `mcq` plugin
//! ("The answer is (A)."), by Inspect's `choice()` scorer ("ANSWER: A") and by
//! a regex filter reading the letter after "ANSWER:".

pub mod logprobs;

use axum::Router;
use axum::body::Bytes;
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use std::future::{IntoFuture, ready};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::Notify;

/// The content of every reply.
pub const REPLY: &str = "ANSWER: A\n\nThe answer is (A).";

/// The model named in replies and listed by `GET /v1/models`.
pub const MODEL: &str = "m";

/// A running server; dropping it stops it.
pub struct StubServer {
    url: String,
    stats: Arc<Stats>,
    _runtime: tokio::runtime::Runtime,
}

impl StubServer {
    /// Start a server on a free port of 127.0.0.1 that waits `latency`
    /// before each reply.
    ///
    /// # Panics
    ///
    /// If no port can be bound or no runtime started.
    pub fn start(latency: Duration) -> StubServer {
        StubServer::bind(SocketAddr::from(([127, 0, 0, 1], 0)), latency).expect("start the stub server")
    }

    /// Start a server on `addr` (port 0 picks a free one) that waits
    /// `latency` before each reply.
    pub fn bind(addr: SocketAddr, latency: Duration) -> std::io::Result<StubServer> {
        StubServer::serve(addr, latency, false)
    }

    /// As [`StubServer::bind`], but completion requests wait until
    /// `GET /v1/models` has been asked once, as a model server's requests
    /// wait until it is ready.
    pub fn bind_held(addr: SocketAddr, latency: Duration) -> std::io::Result<StubServer> {
        StubServer::serve(addr, latency, true)
    }

    fn serve(addr: SocketAddr, latency: Duration, held: bool) -> std::io::Result<StubServer> {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build()?;
        let listener = runtime.block_on(tokio::net::TcpListener::bind(addr))?;
        let url = format!("http://{}/v1", listener.local_addr()?);
        let stats = Arc::new(Stats::default());
        runtime.spawn(axum::serve(listener, router(latency, held, stats.clone())).into_future());
        Ok(StubServer { url, stats, _runtime: runtime })
    }

    /// The base URL clients use, e.g. `http://127.0.0.1:PORT/v1`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Completion requests received since the start or the last reset.
    pub fn requests(&self) -> u64 {
        self.stats.requests.load(Ordering::Relaxed)
    }

    /// When the first completion request since the start or the last reset
    /// arrived, in milliseconds since the Unix epoch.
    pub fn first_request_unix_ms(&self) -> Option<u64> {
        nonzero(self.stats.first_ms.load(Ordering::Relaxed))
    }

    /// Zero the request count and times, as `POST /stats/reset` does.
    pub fn reset(&self) {
        self.stats.reset();
    }
}

/// Counters behind `GET /stats`; a time of 0 means none yet. And whether
/// `GET /v1/models` was asked, for held completions.
#[derive(Default)]
struct Stats {
    requests: AtomicU64,
    first_ms: AtomicU64,
    last_ms: AtomicU64,
    listed: AtomicBool,
    listing: Notify,
}

impl Stats {
    fn list(&self) {
        self.listed.store(true, Ordering::SeqCst);
        self.listing.notify_waiters();
    }

    async fn listed(&self) {
        loop {
            let listing = self.listing.notified();
            if self.listed.load(Ordering::SeqCst) {
                return;
            }
            listing.await;
        }
    }

    fn record(&self) {
        let now = unix_ms();
        self.requests.fetch_add(1, Ordering::Relaxed);
        let _ = self.first_ms.compare_exchange(0, now, Ordering::Relaxed, Ordering::Relaxed);
        self.last_ms.fetch_max(now, Ordering::Relaxed);
    }

    fn reset(&self) {
        self.requests.store(0, Ordering::Relaxed);
        self.first_ms.store(0, Ordering::Relaxed);
        self.last_ms.store(0, Ordering::Relaxed);
    }

    fn to_json(&self) -> String {
        serde_json::json!({
            "requests": self.requests.load(Ordering::Relaxed),
            "first_request_unix_ms": nonzero(self.first_ms.load(Ordering::Relaxed)),
            "last_request_unix_ms": nonzero(self.last_ms.load(Ordering::Relaxed)),
        })
        .to_string()
    }
}

fn router(latency: Duration, held: bool, stats: Arc<Stats>) -> Router {
    let usage = serde_json::json!({"prompt_tokens": 40, "completion_tokens": 8, "total_tokens": 48});
    let chat = Bytes::from(
        serde_json::json!({
            "id": "chatcmpl-stub", "object": "chat.completion", "created": 0, "model": MODEL,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": REPLY}, "finish_reason": "stop"}],
            "usage": usage,
        })
        .to_string(),
    );
    let text = Bytes::from(
        serde_json::json!({
            "id": "cmpl-stub", "object": "text_completion", "created": 0, "model": MODEL,
            "choices": [{"index": 0, "text": REPLY, "logprobs": null, "finish_reason": "stop"}],
            "usage": usage,
        })
        .to_string(),
    );
    let models = Bytes::from(
        serde_json::json!({
            "object": "list",
            "data": [{"id": MODEL, "object": "model", "created": 0, "owned_by": "openai-stub"}],
        })
        .to_string(),
    );
    // Counted on arrival (once let through, if held), answered after the latency.
    let served = move |stats: Arc<Stats>| async move {
        if held {
            stats.listed().await;
        }
        stats.record();
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
    };
    let json = |status: StatusCode, body: Bytes| (status, [(CONTENT_TYPE, "application/json")], body).into_response();
    let chat_reply = move |stats: Arc<Stats>| {
        let chat = chat.clone();
        async move {
            served(stats).await;
            json(StatusCode::OK, chat)
        }
    };
    let text_reply = move |request: Bytes, stats: Arc<Stats>| {
        let text = text.clone();
        async move {
            served(stats).await;
            match logprobs::reply(&request, MODEL) {
                None => json(StatusCode::OK, text),
                Some(Ok(scored)) => json(StatusCode::OK, scored.into()),
                Some(Err(message)) => {
                    let error = serde_json::json!({"error": {"message": message, "type": "invalid_request_error"}});
                    json(StatusCode::BAD_REQUEST, error.to_string().into())
                }
            }
        }
    };
    let (chat_stats, text_stats, get_stats, list_stats) = (stats.clone(), stats.clone(), stats.clone(), stats.clone());
    let list = move || {
        list_stats.list();
        ready(([(CONTENT_TYPE, "application/json")], models.clone()))
    };
    let reset_stats = stats;
    Router::new()
        .route("/v1/chat/completions", post(move |_request: Bytes| chat_reply(chat_stats.clone())))
        .route("/v1/completions", post(move |request: Bytes| text_reply(request, text_stats.clone())))
        .route("/v1/models", get(list))
        .route("/stats", get(move || ready(([(CONTENT_TYPE, "application/json")], get_stats.to_json()))))
        .route(
            "/stats/reset",
            post(move || {
                reset_stats.reset();
                ready(StatusCode::NO_CONTENT)
            }),
        )
}

fn unix_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

fn nonzero(ms: u64) -> Option<u64> {
    (ms != 0).then_some(ms)
}
