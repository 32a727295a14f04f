//! What the OpenAI-compatible client is given and gives back: the
//! endpoint's settings, a request, a reply, and why a request failed.

use super::retry::Backoff;
use super::{Message, Role, Tool, ToolCall};
use serde::Serialize;
use std::fmt;
use std::time::Duration;

/// A chat-completions request.
#[derive(Debug, Clone)]
pub struct ChatRequest {
    /// The whole conversation.
    pub messages: Vec<Message>,
    /// Reply length cap from the environment; `max_tokens` in sampling args wins.
    pub max_tokens: Option<u32>,
    /// Stop sequences from the environment; `stop` in sampling args wins.
    pub stop: Vec<String>,
    /// Tools the model may call (sent as `tools` on the chat API; a base
    /// model is sent none).
    pub tools: Vec<Tool>,
    /// Sent verbatim at the top level of the request body (`temperature`,
    /// `top_k`, `reasoning_effort`...).
    pub sampling_args: serde_json::Map<String, serde_json::Value>,
}

/// Token counts reported by the server.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct Usage {
    /// Prompt tokens.
    pub prompt_tokens: Option<u64>,
    /// Completion tokens (including reasoning, as servers count them).
    pub completion_tokens: Option<u64>,
    /// Reasoning tokens, when the server reports them.
    pub reasoning_tokens: Option<u64>,
}

impl Usage {
    /// Both counts added, a count known on either side kept.
    pub fn plus(self, other: Usage) -> Usage {
        let add = |a: Option<u64>, b: Option<u64>| match (a, b) {
            (None, None) => None,
            (a, b) => Some(a.unwrap_or(0) + b.unwrap_or(0)),
        };
        Usage {
            prompt_tokens: add(self.prompt_tokens, other.prompt_tokens),
            completion_tokens: add(self.completion_tokens, other.completion_tokens),
            reasoning_tokens: add(self.reasoning_tokens, other.reasoning_tokens),
        }
    }
}

/// A successful reply.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChatReply {
    /// The message text (empty when the server sent `null`).
    pub content: String,
    /// The tools the model called.
    pub tool_calls: Vec<ToolCall>,
    /// Reasoning text (`reasoning_content` or `reasoning`), when returned.
    pub reasoning: Option<String>,
    /// Why generation stopped (`stop`, `length`...).
    pub finish_reason: Option<String>,
    /// Token counts.
    pub usage: Usage,
    /// Wall time of the successful attempt (not of earlier attempts, nor of
    /// waits between them).
    pub latency_ms: u64,
    /// Attempts made, including the successful one; 0 when the reply came
    /// from the response cache.
    pub attempts: u32,
}

impl ChatReply {
    /// Whether the reply came from the response cache (no request was made).
    pub fn from_cache(&self) -> bool {
        self.attempts == 0
    }
}

/// Where and how to reach a model.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// The model name the server knows.
    pub model: String,
    /// Base URL, e.g. `http://localhost:8000/v1`.
    pub base_url: String,
    /// The API key, if the server needs one.
    pub api_key: Option<ApiKey>,
    /// Limit for one attempt, including reading the whole body.
    pub timeout: Duration,
    /// Retries after the first attempt, spent by every retryable failure
    /// but 429s.
    pub max_retries: u32,
    /// How long a request keeps waiting on 429s, in all, before it fails.
    pub rate_limit_wait: Duration,
    /// Requests in flight at once (at most; fewer after 429s when adaptive).
    pub max_concurrent: usize,
    /// Request and token rates, and whether concurrency adapts to 429s.
    pub rate: RateLimits,
    /// Chat or text completions.
    pub api: Api,
    /// Where continuations are scored by log-likelihood.
    pub scoring_api: ScoringApi,
    /// Delays between attempts.
    pub backoff: Backoff,
}

/// Which API a model is asked through.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Api {
    /// `POST /chat/completions` with the messages; the server applies the
    /// model's chat template.
    Chat,
    /// `POST /completions` with the messages rendered into one prompt.
    Completions(PromptTemplate),
}

/// Where a server scores continuations by log-likelihood (see
/// `loglikelihood.rs`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScoringApi {
    /// `POST /completions` with `echo` and `logprobs`: vLLM, SGLang,
    /// llama.cpp's server, OpenAI.
    #[default]
    Completions,
    /// Text Generation Inference's own `POST /generate` with
    /// `decoder_input_details` (its `/v1/completions` does not echo
    /// prompt log-probabilities).
    Tgi,
}

/// How a conversation becomes one prompt for a base model: each message's
/// text through the template of its role (`{content}` is replaced), joined
/// by `separator`, then `generation_prefix` (where the model's reply starts).
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PromptTemplate {
    /// Template of a system message. Default `{content}`.
    pub system: String,
    /// Template of a user message. Default `{content}`.
    pub user: String,
    /// Template of an assistant message. Default `{content}`.
    pub assistant: String,
    /// Between messages. Default a blank line.
    pub separator: String,
    /// After the last message. Default empty.
    pub generation_prefix: String,
}

impl Default for PromptTemplate {
    fn default() -> Self {
        PromptTemplate {
            system: "{content}".into(),
            user: "{content}".into(),
            assistant: "{content}".into(),
            separator: "\n\n".into(),
            generation_prefix: String::new(),
        }
    }
}

impl PromptTemplate {
    /// The prompt for `messages`.
    pub fn render(&self, messages: &[Message]) -> String {
        let parts: Vec<String> = messages
            .iter()
            .map(|m| {
                let template = match m.role {
                    Role::System => &self.system,
                    Role::Assistant => &self.assistant,
                    Role::User | Role::Tool => &self.user,
                };
                template.replace("{content}", &m.content)
            })
            .collect();
        parts.join(&self.separator) + &self.generation_prefix
    }
}

/// Rate limits of an endpoint beyond `max_concurrent`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RateLimits {
    /// Requests per minute, if the provider caps them.
    pub requests_per_minute: Option<f64>,
    /// Tokens (prompt + completion) per minute, if the provider caps them.
    pub tokens_per_minute: Option<f64>,
    /// Cut concurrency on 429s and grow it back on clean replies.
    pub adaptive: bool,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits { requests_per_minute: None, tokens_per_minute: None, adaptive: true }
    }
}

/// An API key. Its value is only ever put in the `Authorization` header:
/// `Debug` hides it and it has no `Display` or `Serialize`.
#[derive(Clone)]
pub struct ApiKey(String);

impl ApiKey {
    /// A key the caller already holds (from a secret store, or a test).
    pub fn new(value: impl Into<String>) -> ApiKey {
        ApiKey(value.into())
    }

    /// Read the key from environment variable `var`; the error names the
    /// variable, never a value.
    pub fn from_env(var: &str) -> anyhow::Result<ApiKey> {
        match std::env::var(var) {
            Ok(value) if !value.trim().is_empty() => Ok(ApiKey(value.trim().to_string())),
            Ok(_) => anyhow::bail!("environment variable {var} (api_key_var) is empty"),
            Err(_) => anyhow::bail!("environment variable {var} (api_key_var) is not set"),
        }
    }

    pub(super) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(***)")
    }
}

/// Why a request failed. Displays as one line that never contains the key.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ModelError {
    /// The server answered with an error status.
    #[error("HTTP {status}{}: {body}", asked_wait(retry_after))]
    Status {
        /// The status code.
        status: u16,
        /// The response body on one line, cut in the middle when long.
        body: String,
        /// The wait the server asked for (see `hints.rs`), if any.
        retry_after: Option<Duration>,
    },
    /// No complete answer within the timeout.
    #[error("timed out after {0:.1} s")]
    Timeout(f64),
    /// The connection failed.
    #[error("connection failed: {0}")]
    Connection(String),
    /// The body was not a chat completion.
    #[error("malformed response: {0}")]
    Malformed(String),
    /// Retries ran out.
    #[error("gave up after {attempts} attempts: {last}")]
    GaveUp {
        /// Attempts made.
        attempts: u32,
        /// The last attempt's error.
        last: Box<ModelError>,
    },
    /// Still rate limited when `rate_limit_wait` ran out (or the server
    /// asked for a longer wait than was left of it).
    #[error(
        "still rate limited after waiting {} s of rate_limit_wait {} s, {attempts} attempt{}: {last}",
        seconds(*waited_secs),
        seconds(*budget_secs),
        if *attempts == 1 { "" } else { "s" }
    )]
    RateLimited {
        /// Attempts made.
        attempts: u32,
        /// Seconds from the first 429 to giving up.
        waited_secs: f64,
        /// The model's `rate_limit_wait` in seconds.
        budget_secs: f64,
        /// The last attempt's error.
        last: Box<ModelError>,
    },
}

impl ModelError {
    /// Whether another attempt may succeed: rate limits, server errors,
    /// timeouts, connection failures and garbled replies. Other 4xx mean the
    /// request itself is wrong, so retrying would only repeat the failure.
    pub fn is_retryable(&self) -> bool {
        match self {
            ModelError::Status { status, .. } => *status == 429 || *status >= 500,
            ModelError::Timeout(_) | ModelError::Connection(_) | ModelError::Malformed(_) => true,
            ModelError::GaveUp { .. } | ModelError::RateLimited { .. } => false,
        }
    }

    /// The error of the last attempt.
    pub fn last(&self) -> &ModelError {
        match self {
            ModelError::GaveUp { last, .. } | ModelError::RateLimited { last, .. } => last,
            other => other,
        }
    }

    /// Attempts the request made.
    pub fn attempts(&self) -> u32 {
        match self {
            ModelError::GaveUp { attempts, .. } | ModelError::RateLimited { attempts, .. } => *attempts,
            _ => 1,
        }
    }
}

/// ` (retry after 60 s)` when the server asked for a wait, else nothing.
fn asked_wait(retry_after: &Option<Duration>) -> String {
    retry_after.map(|wait| format!(" (retry after {} s)", seconds(wait.as_secs_f64()))).unwrap_or_default()
}

/// Seconds for people: `60`, `1.5`, `0.02`.
fn seconds(secs: f64) -> String {
    let text = format!("{secs:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}
