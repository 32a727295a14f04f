//! The OpenAI-compatible client (`POST {base_url}/chat/completions`, or
//! `/completions` for base models), as served by vLLM, SGLang, llama.cpp,
//! OpenAI and most hosted APIs.

use super::hints::requested_wait;
use super::limits::{AdaptiveConcurrency, Slot, TokenBucket};
use super::loglikelihood::{self, ScoredContinuations};
use super::retry::{Backoff, Retries};
use super::{Api, ApiKey, ChatReply, ChatRequest, Endpoint, ModelError, ScoringApi, Usage};
use bytes::Bytes;
use reqwest::header::{AUTHORIZATION, HeaderValue};
use serde_json::{Map, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Longest part of a response body quoted in errors, in characters.
const BODY_EXCERPT: usize = 400;

/// Of a longer body, the characters kept from its start; the rest of the
/// excerpt is its end, where servers tend to put the figures (LiteLLM's
/// `current_rpm … rpm_limit`, a provider's quota).
const BODY_HEAD: usize = 150;

/// A client for one model. Cheap to clone; clones share the connection
/// pool and the concurrency limit, so every job using a model shares its
/// `max_concurrent`.
#[derive(Clone)]
pub struct ChatClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    /// The configured `max_concurrent` (adaptive concurrency may allow fewer).
    max_concurrent: usize,
    /// Parsed once: parsing it for every request cost more than building the body.
    url: reqwest::Url,
    /// Where continuations are scored, and how (see `loglikelihood.rs`):
    /// `{base_url}/completions`, or TGI's `/generate` at the server's root.
    scoring: (ScoringApi, reqwest::Url),
    /// `{base_url}/models`, asked to check the server is up.
    models_url: reqwest::Url,
    model: String,
    api: Api,
    auth: Option<HeaderValue>,
    /// Kept to scrub from quoted response bodies: some servers echo the
    /// key they rejected.
    key: Option<ApiKey>,
    timeout: Duration,
    max_retries: u32,
    rate_limit_wait: Duration,
    backoff: Backoff,
    concurrency: AdaptiveConcurrency,
    requests: Option<TokenBucket>,
    tokens: Option<TokenBucket>,
}

impl ChatClient {
    /// A client for `endpoint`.
    pub fn new(endpoint: Endpoint) -> anyhow::Result<Self> {
        let auth = match &endpoint.api_key {
            Some(key) => {
                let mut value = HeaderValue::from_str(&format!("Bearer {}", key.expose()))
                    .map_err(|_| anyhow::anyhow!("the API key contains characters not allowed in an HTTP header"))?;
                value.set_sensitive(true);
                Some(value)
            }
            None => None,
        };
        let path = match endpoint.api {
            Api::Chat => "chat/completions",
            Api::Completions(_) => "completions",
        };
        let parse = |path: &str| {
            let url = format!("{}/{path}", endpoint.base_url.trim_end_matches('/'));
            reqwest::Url::parse(&url).map_err(|e| anyhow::anyhow!("api_base_url {url} is not a valid URL: {e}"))
        };
        let (url, models_url) = (parse(path)?, parse("models")?);
        let scoring_url = match endpoint.scoring_api {
            ScoringApi::Completions => parse("completions")?,
            // TGI serves its own API beside the OpenAI one under `/v1`.
            ScoringApi::Tgi => {
                let root = endpoint.base_url.trim_end_matches('/').trim_end_matches("/v1");
                reqwest::Url::parse(&format!("{root}/generate"))
                    .map_err(|e| anyhow::anyhow!("api_base_url {root} is not a valid URL: {e}"))?
            }
        };
        let http = reqwest::Client::builder()
            .connect_timeout(endpoint.timeout.min(Duration::from_secs(30)))
            .build()
            .map_err(|e| anyhow::anyhow!("cannot create the HTTP client: {e}"))?;
        Ok(ChatClient {
            inner: Arc::new(Inner {
                http,
                max_concurrent: endpoint.max_concurrent,
                url,
                scoring: (endpoint.scoring_api, scoring_url),
                models_url,
                model: endpoint.model,
                api: endpoint.api,
                auth,
                key: endpoint.api_key,
                timeout: endpoint.timeout,
                max_retries: endpoint.max_retries,
                rate_limit_wait: endpoint.rate_limit_wait,
                backoff: endpoint.backoff,
                concurrency: AdaptiveConcurrency::new(endpoint.max_concurrent, endpoint.rate.adaptive),
                requests: endpoint.rate.requests_per_minute.map(TokenBucket::per_minute),
                tokens: endpoint.rate.tokens_per_minute.map(TokenBucket::per_minute),
            }),
        })
    }

    /// The response cache's key of `request` for the sample with
    /// `sample_seed`: sha256 of the API, the body sent (model name,
    /// messages or prompt, sampling args, seed), the sample seed and, for
    /// a model assay serves, what it serves as (`ServeSpec::served`). The
    /// key and URL are not in it.
    pub fn cache_key(&self, request: &ChatRequest, sample_seed: u64, served_as: Option<&str>) -> String {
        use sha2::Digest;
        let api = serde_json::to_vec(&self.inner.api).expect("the API serialises");
        let mut hasher = sha2::Sha256::new();
        for part in [&api[..], &self.inner.body(request)[..], &sample_seed.to_le_bytes()[..]] {
            hasher.update((part.len() as u64).to_le_bytes());
            hasher.update(part);
        }
        // Absent for other models, so their keys stay what they were.
        if let Some(served) = served_as {
            hasher.update((served.len() as u64).to_le_bytes());
            hasher.update(served.as_bytes());
        }
        hex::encode(hasher.finalize())
    }

    /// The model name the server knows.
    pub fn model_name(&self) -> &str {
        &self.inner.model
    }

    /// The API the model is asked through.
    pub fn api(&self) -> &Api {
        &self.inner.api
    }

    /// Requests in flight at once, at most.
    pub fn max_concurrent(&self) -> usize {
        self.inner.max_concurrent
    }

    /// Check that the server answers and takes the key: `GET {base}/models`
    /// once, without retries. A server without that route (404) is up.
    pub async fn check_reachable(&self) -> Result<(), ModelError> {
        let inner = &self.inner;
        let mut builder = inner.http.get(inner.models_url.clone());
        if let Some(auth) = &inner.auth {
            builder = builder.header(AUTHORIZATION, auth.clone());
        }
        let exchange = async {
            let response = builder.send().await.map_err(transport_error)?;
            let status = response.status();
            if status.is_success() || status == reqwest::StatusCode::NOT_FOUND {
                return Ok(());
            }
            let bytes = response.bytes().await.map_err(transport_error)?;
            let body = excerpt(&bytes, inner.key.as_ref());
            Err(ModelError::Status { status: status.as_u16(), body, retry_after: None })
        };
        tokio::time::timeout(inner.timeout, exchange)
            .await
            .map_err(|_| ModelError::Timeout(inner.timeout.as_secs_f64()))?
    }

    /// Send a request, retrying what may succeed on another attempt (see
    /// `retry.rs` for how long).
    pub async fn chat(&self, request: &ChatRequest) -> Result<ChatReply, ModelError> {
        let body = self.inner.body(request);
        let text = matches!(self.inner.api, Api::Completions(_));
        let key = self.inner.key.as_ref();
        self.send(&self.inner.url, &body, estimate_tokens(request), |bytes| parse_reply(bytes, text, key)).await
    }

    /// `n` replies to one request (`n` in the body): the server reads the
    /// prompt once for all of them. The first reply carries the request's
    /// token counts, the others none. A server that ignores `n` gives
    /// fewer replies.
    pub async fn chat_n(&self, request: &ChatRequest, n: usize) -> Result<Vec<ChatReply>, ModelError> {
        let mut request = request.clone();
        request.sampling_args.insert("n".into(), n.into());
        let body = self.inner.body(&request);
        let text = matches!(self.inner.api, Api::Completions(_));
        let key = self.inner.key.as_ref();
        let parse = |bytes: &[u8]| parse_replies(bytes, text, key).map(Replies);
        Ok(self.send(&self.inner.url, &body, estimate_tokens(&request), parse).await?.0)
    }

    /// The log-probability of each continuation after `context`, from the
    /// text-completions API with `echo` (see `loglikelihood.rs`). All are
    /// asked in one request (a list of prompts); a server that refuses a
    /// list (400, 422) is asked once per continuation.
    pub async fn score_continuations(
        &self,
        context: &str,
        continuations: &[String],
        sampling_args: &Map<String, Value>,
    ) -> Result<ScoredContinuations, ModelError> {
        if self.inner.scoring.0 == ScoringApi::Tgi {
            return self.score_on_tgi(context, continuations).await;
        }
        let prompts: Vec<String> = continuations.iter().map(|c| format!("{context}{c}")).collect();
        match self.score_prompts(&prompts, context.len(), sampling_args).await {
            Err(ModelError::Status { status: 400 | 422, .. }) if prompts.len() > 1 => {
                let mut all =
                    ScoredContinuations { scores: Vec::new(), usage: Usage::default(), latency_ms: 0, attempts: 0 };
                for prompt in &prompts {
                    let one = self.score_prompts(std::slice::from_ref(prompt), context.len(), sampling_args).await?;
                    all.scores.extend(one.scores);
                    all.usage = all.usage.plus(one.usage);
                    all.latency_ms += one.latency_ms;
                    all.attempts += one.attempts;
                }
                Ok(all)
            }
            outcome => outcome,
        }
    }

    async fn score_prompts(
        &self,
        prompts: &[String],
        context_len: usize,
        sampling_args: &Map<String, Value>,
    ) -> Result<ScoredContinuations, ModelError> {
        let body = loglikelihood::body(&self.inner.model, prompts, sampling_args);
        let body: Bytes = serde_json::to_vec(&body).expect("JSON body serialises").into();
        let estimate = prompts.iter().map(|p| p.len() / 4 + 4).sum::<usize>() as f64;
        let key = self.inner.key.as_ref();
        let parse = |bytes: &[u8]| {
            let malformed = |what: String| ModelError::Malformed(format!("{what}: {}", excerpt(bytes, key)));
            let json: Value = serde_json::from_slice(bytes).map_err(|_| malformed("not JSON".into()))?;
            let scores = loglikelihood::parse(&json, prompts, context_len).map_err(malformed)?;
            Ok(ScoredContinuations { scores, usage: parse_usage(&json), latency_ms: 0, attempts: 1 })
        };
        self.send(&self.inner.scoring.1, &body, estimate, parse).await
    }

    /// Score continuations on TGI: per continuation, its prefill, then
    /// greedy decoding from the context for as many tokens as it took.
    /// TGI takes one prompt per request, so the continuations are asked
    /// at once (within the endpoint's concurrency), not one after another.
    async fn score_on_tgi(&self, context: &str, continuations: &[String]) -> Result<ScoredContinuations, ModelError> {
        let each = continuations.iter().map(|continuation| self.score_one_on_tgi(context, continuation));
        let mut all = ScoredContinuations { scores: Vec::new(), usage: Usage::default(), latency_ms: 0, attempts: 0 };
        for scored in futures_util::future::try_join_all(each).await? {
            all.scores.extend(scored.scores);
            all.usage = all.usage.plus(scored.usage);
            all.latency_ms += scored.latency_ms;
            all.attempts += scored.attempts;
        }
        Ok(all)
    }

    /// One continuation on TGI: its prefill's score, and whether greedy
    /// decoding from the context gives it.
    async fn score_one_on_tgi(&self, context: &str, continuation: &str) -> Result<ScoredContinuations, ModelError> {
        let key = self.inner.key.as_ref();
        let prompt = format!("{context}{continuation}");
        let body: Bytes = serde_json::to_vec(&loglikelihood::tgi_body(&prompt)).expect("JSON body").into();
        let parse = |bytes: &[u8]| {
            let malformed = |what: String| ModelError::Malformed(format!("{what}: {}", excerpt(bytes, key)));
            let json: Value = serde_json::from_slice(bytes).map_err(|_| malformed("not JSON".into()))?;
            let score = loglikelihood::parse_tgi(&json, &prompt, context.len()).map_err(malformed)?;
            Ok(ScoredContinuations { scores: vec![score], usage: tgi_usage(&json), latency_ms: 0, attempts: 1 })
        };
        let mut scored = self.send(&self.inner.scoring.1, &body, prompt.len() as f64 / 4.0, parse).await?;
        let greedy = self.tgi_greedy_text(context, scored.scores[0].tokens).await?;
        scored.scores[0].greedy = greedy.content == continuation;
        scored.usage = scored.usage.plus(greedy.usage);
        scored.latency_ms += greedy.latency_ms;
        scored.attempts += greedy.attempts;
        Ok(scored)
    }

    /// TGI's greedy decoding of `tokens` tokens after `context`.
    async fn tgi_greedy_text(&self, context: &str, tokens: u32) -> Result<ChatReply, ModelError> {
        let body: Bytes = serde_json::to_vec(&loglikelihood::tgi_greedy_body(context, tokens)).expect("JSON").into();
        let key = self.inner.key.as_ref();
        let parse = |bytes: &[u8]| {
            let malformed = |what: String| ModelError::Malformed(format!("{what}: {}", excerpt(bytes, key)));
            let json: Value = serde_json::from_slice(bytes).map_err(|_| malformed("not JSON".into()))?;
            let content = loglikelihood::tgi_generated_text(&json).map_err(malformed)?.to_string();
            let usage = Usage { completion_tokens: Some(u64::from(tokens)), ..Usage::default() };
            Ok(ChatReply { content, usage, attempts: 1, ..ChatReply::default() })
        };
        self.send(&self.inner.scoring.1, &body, context.len() as f64 / 4.0 + f64::from(tokens), parse).await
    }

    /// Send `body` to `url` until it succeeds or the retry budget is spent.
    async fn send<T: Answer>(
        &self,
        url: &reqwest::Url,
        body: &Bytes,
        estimate: f64,
        parse: impl Fn(&[u8]) -> Result<T, ModelError>,
    ) -> Result<T, ModelError> {
        let mut retries = Retries::new(self.inner.backoff, self.inner.max_retries, self.inner.rate_limit_wait);
        loop {
            retries.attempt();
            let (outcome, slot) = self.inner.limited_attempt(url, body, estimate, &parse).await;
            let error = match outcome {
                Ok(mut reply) => {
                    reply.set_attempts(retries.attempts());
                    return Ok(reply);
                }
                Err(error) => error,
            };
            let rate_limited = matches!(error, ModelError::Status { status: 429, .. });
            tracing::debug!(attempt = retries.attempts(), "attempt failed: {error}");
            let delay = retries.after(error)?;
            if rate_limited {
                // Every request to this endpoint waits, not just this one.
                self.inner.concurrency.rate_limited(delay);
            }
            drop(slot);
            tokio::time::sleep(delay).await;
        }
    }

    /// The prompt a base model is sent for `messages` (the text-completions
    /// API renders them through the prompt template); `None` on the chat API.
    pub fn prompt_text(&self, messages: &[super::Message]) -> Option<String> {
        match &self.inner.api {
            Api::Chat => None,
            Api::Completions(template) => Some(template.render(messages)),
        }
    }
}

/// Tokens a request may use, reserved against `tokens_per_minute` before
/// it is sent: about four characters a token for the prompt (tool calls
/// and tool definitions included), plus the reply cap when there is one.
fn estimate_tokens(request: &ChatRequest) -> f64 {
    let calls = |m: &super::Message| m.tool_calls.iter().map(|c| c.name.len() + c.arguments.len()).sum::<usize>();
    let prompt: usize = request.messages.iter().map(|m| (m.content.len() + calls(m)) / 4 + 4).sum();
    let tools: usize = request.tools.iter().map(|t| t.to_openai().to_string().len() / 4).sum();
    let prompt = prompt + tools;
    let cap = request.sampling_args.get("max_tokens").and_then(Value::as_u64).or(request.max_tokens.map(u64::from));
    (prompt as u64 + cap.unwrap_or(0)) as f64
}

impl Inner {
    /// One attempt within the endpoint's limits: a concurrency slot, then a
    /// request and the estimated tokens from the rate buckets. The token
    /// reservation is settled with the reported usage afterwards.
    /// The slot is handed back with the outcome, so that after a 429 the
    /// pause is in force before the slot is free for another request.
    async fn limited_attempt<T: Answer>(
        &self,
        url: &reqwest::Url,
        body: &Bytes,
        estimate: f64,
        parse: impl Fn(&[u8]) -> Result<T, ModelError>,
    ) -> (Result<T, ModelError>, Slot<'_>) {
        let slot = self.concurrency.acquire().await;
        if let Some(requests) = &self.requests {
            requests.take(1.0).await;
        }
        if let Some(tokens) = &self.tokens {
            tokens.take(estimate).await;
        }
        let outcome = self.attempt(url, body, parse).await;
        if let Some(tokens) = &self.tokens {
            let used = outcome.as_ref().map_or(0, |r| {
                let usage = r.usage();
                usage.prompt_tokens.unwrap_or(0) + usage.completion_tokens.unwrap_or(0)
            });
            tokens.settle(estimate, used as f64);
        }
        if outcome.is_ok() {
            self.concurrency.succeeded();
        }
        (outcome, slot)
    }

    /// The JSON body: model, messages (or the rendered prompt), the
    /// environment's limits, then the sampling args verbatim (so they win).
    fn body(&self, request: &ChatRequest) -> Bytes {
        let mut body = Map::new();
        body.insert("model".into(), Value::String(self.model.clone()));
        match &self.api {
            Api::Chat => {
                body.insert("messages".into(), serde_json::to_value(&request.messages).expect("messages serialise"))
            }
            Api::Completions(template) => body.insert("prompt".into(), template.render(&request.messages).into()),
        };
        if let Some(max_tokens) = request.max_tokens {
            body.insert("max_tokens".into(), max_tokens.into());
        }
        if !request.stop.is_empty() {
            body.insert("stop".into(), request.stop.clone().into());
        }
        if matches!(self.api, Api::Chat) && !request.tools.is_empty() {
            body.insert("tools".into(), request.tools.iter().map(|tool| tool.to_openai()).collect());
        }
        body.extend(request.sampling_args.iter().map(|(k, v)| (k.clone(), v.clone())));
        serde_json::to_vec(&Value::Object(body)).expect("JSON body serialises").into()
    }

    /// One attempt, bounded by the timeout from connect to the last byte.
    async fn attempt<T: Answer>(
        &self,
        url: &reqwest::Url,
        body: &Bytes,
        parse: impl Fn(&[u8]) -> Result<T, ModelError>,
    ) -> Result<T, ModelError> {
        let started = Instant::now();
        let exchange = async {
            let mut builder = self.http.post(url.clone()).header("content-type", "application/json").body(body.clone());
            if let Some(auth) = &self.auth {
                builder = builder.header(AUTHORIZATION, auth.clone());
            }
            let response = builder.send().await.map_err(transport_error)?;
            let status = response.status();
            let retry_after = requested_wait(response.headers());
            let bytes = response.bytes().await.map_err(transport_error)?;
            if !status.is_success() {
                let body = excerpt(&bytes, self.key.as_ref());
                return Err(ModelError::Status { status: status.as_u16(), body, retry_after });
            }
            parse(&bytes)
        };
        let mut reply = tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| ModelError::Timeout(self.timeout.as_secs_f64()))??;
        reply.set_latency(started.elapsed().as_millis() as u64);
        Ok(reply)
    }
}

/// A successful reply of any request the client sends.
trait Answer {
    /// Tokens used, to settle the token bucket.
    fn usage(&self) -> Usage;
    /// Record the successful attempt's wall time.
    fn set_latency(&mut self, latency_ms: u64);
    /// Record the attempts made.
    fn set_attempts(&mut self, attempts: u32);
}

impl Answer for ChatReply {
    fn usage(&self) -> Usage {
        self.usage
    }
    fn set_latency(&mut self, latency_ms: u64) {
        self.latency_ms = latency_ms;
    }
    fn set_attempts(&mut self, attempts: u32) {
        self.attempts = attempts;
    }
}

impl Answer for ScoredContinuations {
    fn usage(&self) -> Usage {
        self.usage
    }
    fn set_latency(&mut self, latency_ms: u64) {
        self.latency_ms = latency_ms;
    }
    fn set_attempts(&mut self, attempts: u32) {
        self.attempts = attempts;
    }
}

/// The replies of one request with `n` choices.
struct Replies(Vec<ChatReply>);

impl Answer for Replies {
    fn usage(&self) -> Usage {
        self.0.first().map(|r| r.usage).unwrap_or_default()
    }
    fn set_latency(&mut self, latency_ms: u64) {
        self.0.iter_mut().for_each(|r| r.latency_ms = latency_ms);
    }
    fn set_attempts(&mut self, attempts: u32) {
        self.0.iter_mut().for_each(|r| r.attempts = attempts);
    }
}

/// The `usage` block of a reply.
/// TGI's counts: the prompt's tokens are its prefill's, and one is generated.
fn tgi_usage(json: &Value) -> Usage {
    let prefill = json.pointer("/details/prefill").and_then(Value::as_array).map(|p| p.len() as u64);
    Usage { prompt_tokens: prefill, completion_tokens: Some(1), reasoning_tokens: None }
}

fn parse_usage(json: &Value) -> Usage {
    let usage = json.get("usage");
    let count = |path: &[&str]| path.iter().try_fold(usage?, |value, key| value.get(key)).and_then(Value::as_u64);
    Usage {
        prompt_tokens: count(&["prompt_tokens"]),
        completion_tokens: count(&["completion_tokens"]),
        reasoning_tokens: count(&["completion_tokens_details", "reasoning_tokens"]),
    }
}

/// A transport error without its URL (which is the user's, but long) and
/// never with headers.
fn transport_error(error: reqwest::Error) -> ModelError {
    let error = error.without_url();
    if error.is_timeout() {
        return ModelError::Connection("connecting timed out".into());
    }
    let mut message = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        message = format!("{message}: {cause}");
        source = cause.source();
    }
    ModelError::Connection(one_line(&message))
}

/// Parse a chat completion (or, with `text`, a text completion); `key` is
/// scrubbed from quoted bodies.
fn parse_reply(bytes: &[u8], text: bool, key: Option<&ApiKey>) -> Result<ChatReply, ModelError> {
    let mut replies = parse_replies(bytes, text, key)?;
    Ok(replies.swap_remove(0))
}

/// Every choice of a completion, in `index` order, the first carrying the
/// usage. At least one.
fn parse_replies(bytes: &[u8], text: bool, key: Option<&ApiKey>) -> Result<Vec<ChatReply>, ModelError> {
    let malformed = |what: &str| ModelError::Malformed(format!("{what}: {}", excerpt(bytes, key)));
    let json: Value = serde_json::from_slice(bytes).map_err(|_| malformed("not JSON"))?;
    let choices = json.get("choices").and_then(Value::as_array).filter(|c| !c.is_empty());
    let mut choices: Vec<&Value> = choices.ok_or_else(|| malformed("no `choices`"))?.iter().collect();
    choices.sort_by_key(|c| c.get("index").and_then(Value::as_u64).unwrap_or(0));
    let mut replies = Vec::with_capacity(choices.len());
    for choice in choices {
        let mut reply = parse_choice(choice, text, &malformed)?;
        if replies.is_empty() {
            reply.usage = parse_usage(&json);
        }
        replies.push(reply);
    }
    Ok(replies)
}

/// One choice of a completion, without usage.
fn parse_choice(choice: &Value, text: bool, malformed: &dyn Fn(&str) -> ModelError) -> Result<ChatReply, ModelError> {
    let string = |value: Option<&Value>| value.and_then(Value::as_str).map(String::from);
    let (content, reasoning, tool_calls) = if text {
        (string(Some(choice.get("text").ok_or_else(|| malformed("no `choices[0].text`"))?)), None, Vec::new())
    } else {
        let message = choice.get("message").ok_or_else(|| malformed("no `choices[0].message`"))?;
        let reasoning = string(message.get("reasoning_content")).or_else(|| string(message.get("reasoning")));
        let tool_calls = match message.get("tool_calls") {
            None | Some(Value::Null) => Vec::new(),
            Some(calls) => serde_json::from_value(calls.clone()).map_err(|_| malformed("unreadable `tool_calls`"))?,
        };
        (string(message.get("content")), reasoning, tool_calls)
    };
    Ok(ChatReply {
        content: content.unwrap_or_default(),
        tool_calls,
        reasoning,
        finish_reason: string(choice.get("finish_reason")),
        usage: Usage::default(),
        latency_ms: 0,
        attempts: 1,
    })
}

/// A body on one line, with the key (if any) replaced by `***` before
/// cutting, so no part of it survives. Past [`BODY_EXCERPT`] characters
/// the middle is cut out: the start says what failed, the end often why.
fn excerpt(bytes: &[u8], key: Option<&ApiKey>) -> String {
    let mut line = one_line(&String::from_utf8_lossy(bytes));
    if let Some(key) = key {
        line = line.replace(key.expose(), "***");
    }
    if line.is_empty() {
        return "(empty body)".into();
    }
    let chars = line.chars().count();
    if chars <= BODY_EXCERPT {
        return line;
    }
    let tail = BODY_EXCERPT - BODY_HEAD - 1;
    let head_end = line.char_indices().nth(BODY_HEAD).map_or(line.len(), |(i, _)| i);
    let tail_start = line.char_indices().nth(chars - tail).map_or(line.len(), |(i, _)| i);
    format!("{}…{}", &line[..head_end], &line[tail_start..])
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_content_reasoning_and_usage() {
        let body = br#"{"choices":[{"message":{"content":"B","reasoning_content":"think"},"finish_reason":"stop"}],
            "usage":{"prompt_tokens":10,"completion_tokens":5,"completion_tokens_details":{"reasoning_tokens":3}}}"#;
        let reply = parse_reply(body, false, None).unwrap();
        assert_eq!(reply.content, "B");
        assert_eq!(reply.reasoning.as_deref(), Some("think"));
        assert_eq!(reply.finish_reason.as_deref(), Some("stop"));
        assert_eq!(
            reply.usage,
            Usage { prompt_tokens: Some(10), completion_tokens: Some(5), reasoning_tokens: Some(3) }
        );
    }

    #[test]
    fn reasoning_may_be_named_reasoning_and_usage_may_be_missing() {
        let reply = parse_reply(br#"{"choices":[{"message":{"content":"A","reasoning":"hm"}}]}"#, false, None).unwrap();
        assert_eq!(reply.reasoning.as_deref(), Some("hm"));
        assert_eq!(reply.finish_reason, None);
        assert_eq!(reply.usage, Usage::default());
    }

    #[test]
    fn null_content_is_empty_and_missing_choices_is_malformed() {
        assert_eq!(parse_reply(br#"{"choices":[{"message":{"content":null}}]}"#, false, None).unwrap().content, "");
        for body in [&b"{}"[..], b"<html>", br#"{"choices":[]}"#, br#"{"choices":[{}]}"#] {
            assert!(matches!(parse_reply(body, false, None), Err(ModelError::Malformed(_))));
        }
    }

    #[test]
    fn parses_tool_calls() {
        let body = br#"{"choices":[{"message":{"content":null,"tool_calls":[{"id":"call_1","type":"function",
            "function":{"name":"bash","arguments":"{\"command\": \"ls\"}"}}]},"finish_reason":"tool_calls"}]}"#;
        let reply = parse_reply(body, false, None).unwrap();
        assert_eq!(reply.content, "");
        assert_eq!(reply.finish_reason.as_deref(), Some("tool_calls"));
        assert_eq!(
            reply.tool_calls,
            vec![super::super::ToolCall {
                id: "call_1".into(),
                name: "bash".into(),
                arguments: r#"{"command": "ls"}"#.into()
            }]
        );
        let bad = br#"{"choices":[{"message":{"content":"","tool_calls":"nope"}}]}"#;
        assert!(matches!(parse_reply(bad, false, None), Err(ModelError::Malformed(_))));
    }

    #[test]
    fn excerpts_are_one_line_without_the_key() {
        let key = ApiKey::new("sk-secret");
        assert_eq!(excerpt(b"error\n  for key sk-secret", Some(&key)), "error for key ***");
        assert_eq!(excerpt(b" \n", None), "(empty body)");
        assert_eq!(excerpt(b"short", None), "short");
    }

    #[test]
    fn long_bodies_lose_their_middle_and_keep_their_end() {
        // A LiteLLM key-limit 429: the figures come after a long preamble.
        let body = format!(
            "LiteLLM Rate Limit Handler for rate limit type = key. {} current rpm: 61, rpm limit: 60, \
             current tpm: 1200, tpm limit: 100000",
            "Crossed TPM / RPM / Max Parallel Request Limit. ".repeat(10)
        );
        let text = excerpt(body.as_bytes(), None);
        assert_eq!(text.chars().count(), BODY_EXCERPT);
        assert!(text.starts_with("LiteLLM Rate Limit Handler for rate limit type = key."), "{text}");
        assert!(text.ends_with("current rpm: 61, rpm limit: 60, current tpm: 1200, tpm limit: 100000"), "{text}");
        assert_eq!(text.matches('…').count(), 1, "{text}");
        let wide = "é".repeat(1000);
        let text = excerpt(wide.as_bytes(), None);
        assert_eq!(text.chars().count(), BODY_EXCERPT, "cut on character boundaries");
        // The key is scrubbed before the cut, so no piece of it is kept.
        let key = ApiKey::new("sk-secret-0123456789");
        let around = format!("{}sk-secret-0123456789{}", "a".repeat(140), "b".repeat(500));
        let text = excerpt(around.as_bytes(), Some(&key));
        assert!(!text.contains("sk-secret") && !text.contains("0123456789"), "{text}");
    }
}
