//! The model a run asks: one type, whatever answers. The episode calls
//! [`Model::reply`] for every `ask-model` action; what each kind does lives
//! here: an endpoint is asked over HTTP (with retries, rate limits, token
//! counts), the oracle answers with the environment's reference, replay
//! answers the first turn with a completion read from files, and a
//! recorded run (`assay rescore`) answers every turn as it did before.
//!
//! [`Models::resolve`] is the one step from a [`ModelSpec`] to a [`Model`]:
//! it reads API keys and replay files, and shares one client per model id,
//! so every job using a model shares its concurrency and rate limits. A
//! model with `serve:` is an endpoint on its own [`Server`], whose requests
//! that found the server gone wait for its restart and are asked again.

use super::cache::ResponseCache;
use super::recorded::RecordedRun;
use super::replay::ReplayBook;
use super::server::{self, Server};
use super::spec::{EndpointSpec, ModelSource, ModelSpec, ReplaySpec};
use super::{
    Api, ApiKey, ChatClient, ChatReply, ChatRequest, ContinuationScore, Endpoint, Message, ModelError,
    ScoredContinuations, Tool, Usage,
};
use anyhow::{Context, Result};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Samples in flight per job when the model is offline (oracle, replay, recorded):
/// they cost only plugin calls.
const OFFLINE_CONCURRENCY: usize = 64;

/// A model, ready to be asked. Cheap to clone.
#[derive(Clone)]
pub struct Model {
    kind: Kind,
    /// The response cache, for an endpoint with `cache: true`.
    cache: Option<ResponseCache>,
    /// The server assay runs for the model (`serve:`).
    server: Option<Arc<Server>>,
}

#[derive(Clone)]
enum Kind {
    Oracle,
    Endpoint(ChatClient),
    Replay(Arc<ReplayBook>),
    Recorded(Arc<RecordedRun>),
}

/// One request of an episode.
pub struct Turn<'a> {
    /// The whole conversation.
    pub messages: &'a [Message],
    /// Reply length cap from the environment (`max_tokens` in sampling args wins).
    pub max_tokens: Option<u32>,
    /// Stop sequences from the environment.
    pub stop: &'a [String],
    /// Tools the model may call.
    pub tools: &'a [Tool],
    /// The job's sampling args, sent verbatim.
    pub sampling_args: &'a Map<String, Value>,
    /// The example asked about (replay and recorded runs look its reply up by it).
    pub example_id: &'a str,
    /// The rollout (replay's n-th completion of the example).
    pub rollout: u32,
    /// 1 for the first request of the episode.
    pub number: u32,
    /// The `seed` sent with the request when the sampling args set none
    /// (see [`Model::request_seed`]).
    pub seed: Option<u64>,
    /// The sample's seed: part of the response cache's key, so rollouts of
    /// one prompt are cached apart.
    pub sample_seed: u64,
}

impl Turn<'_> {
    /// The request an endpoint is sent: the seed added when one is to be sent.
    fn request(&self) -> ChatRequest {
        let mut sampling_args = self.sampling_args.clone();
        if let Some(seed) = self.seed {
            sampling_args.entry("seed").or_insert(seed.into());
        }
        ChatRequest {
            messages: self.messages.to_vec(),
            max_tokens: self.max_tokens,
            stop: self.stop.to_vec(),
            tools: self.tools.to_vec(),
            sampling_args,
        }
    }
}

/// Why a model gave no reply. `E` is the error of asking the environment
/// for its reference (the oracle's answer).
#[derive(Debug)]
pub enum ReplyError<E> {
    /// The endpoint failed after its retries.
    Endpoint {
        /// Why.
        error: ModelError,
        /// The time spent on the request, every attempt and wait included.
        latency_ms: u64,
    },
    /// A replayed or recorded reply is missing, or a later turn was asked for.
    Replay(String),
    /// The environment knows no reference completion for the oracle.
    NoReference,
    /// Asking the environment for its reference failed.
    Reference(E),
}

impl Model {
    /// The model answering from `run`, the samples of an earlier run.
    pub fn recorded(run: RecordedRun) -> Model {
        Model { kind: Kind::Recorded(Arc::new(run)), cache: None, server: None }
    }

    /// Answer one turn. `reference` is called only by the oracle.
    pub async fn reply<E>(
        &self,
        turn: &Turn<'_>,
        reference: impl AsyncFnOnce() -> Result<Option<String>, E>,
    ) -> Result<ChatReply, ReplyError<E>> {
        match &self.kind {
            Kind::Oracle => match reference().await.map_err(ReplyError::Reference)? {
                Some(text) => Ok(offline_reply(text, Some("stop"))),
                None => Err(ReplyError::NoReference),
            },
            Kind::Endpoint(client) => self.ask_endpoint(client, turn).await,
            // Completions made elsewhere answer the first turn only.
            Kind::Replay(_) if turn.number > 1 => {
                Err(ReplyError::Replay("a replayed completion answers one turn".into()))
            }
            Kind::Replay(book) => match book.completion(turn.example_id, turn.rollout) {
                // How the completion ended was not recorded.
                Ok(text) => Ok(offline_reply(text.to_string(), None)),
                Err(error) => Err(ReplyError::Replay(error)),
            },
            Kind::Recorded(run) => run.reply(turn.example_id, turn.rollout, turn.number).map_err(ReplyError::Replay),
        }
    }

    /// Ask the endpoint, through the response cache when the model has one.
    async fn ask_endpoint<E>(&self, client: &ChatClient, turn: &Turn<'_>) -> Result<ChatReply, ReplyError<E>> {
        let request = turn.request();
        // A served model's name stays the same from one checkpoint to the
        // next: what it serves as is part of the key.
        let cached = self.cache.as_ref().map(|cache| {
            let served_as = self.server.as_ref().map(|server| server.spec().served());
            (cache, client.cache_key(&request, turn.sample_seed, served_as.as_deref()))
        });
        if let Some((cache, key)) = &cached
            && let Some(reply) = cache.get(key).await
        {
            return Ok(reply);
        }
        let started = Instant::now();
        let mut result = client.chat(&request).await;
        for _ in 0..self.restarts_allowed() {
            if !self.server_came_back(&result).await {
                break;
            }
            result = client.chat(&request).await;
        }
        let reply = result.map_err(|error| {
            let latency_ms = started.elapsed().as_millis() as u64;
            ReplyError::Endpoint { error, latency_ms }
        })?;
        if let Some((cache, key)) = &cached {
            cache.put(key, client.model_name(), &reply).await;
        }
        Ok(reply)
    }

    /// `n` replies to one turn in one request (the server reads the prompt
    /// once), for an endpoint; `None` for models that answer each rollout
    /// on their own (offline ones, and a cached endpoint, whose rollouts
    /// are each cached under their own seed).
    pub async fn reply_n(&self, turn: &Turn<'_>, n: usize) -> Option<Result<Vec<ChatReply>, ModelError>> {
        match &self.kind {
            Kind::Endpoint(_) if self.cache.is_some() => None,
            Kind::Endpoint(client) => {
                let request = turn.request();
                let mut result = client.chat_n(&request, n).await;
                for _ in 0..self.restarts_allowed() {
                    if !self.server_came_back(&result).await {
                        break;
                    }
                    result = client.chat_n(&request, n).await;
                }
                Some(result)
            }
            Kind::Oracle | Kind::Replay(_) | Kind::Recorded(_) => None,
        }
    }

    /// The log-probability of each continuation after `context`. The
    /// oracle gives the environment's reference continuation the highest
    /// score (0, greedy) and every other a very low one; a recorded run
    /// gives the scores it recorded for the sample (`example_id`, `rollout`);
    /// replayed completions cannot score anything.
    pub async fn score_continuations<E>(
        &self,
        sample: (&str, u32),
        context: &str,
        continuations: &[String],
        sampling_args: &Map<String, Value>,
        reference: impl AsyncFnOnce() -> Result<Option<String>, E>,
    ) -> Result<ScoredContinuations, ReplyError<E>> {
        match &self.kind {
            Kind::Endpoint(client) => {
                let started = Instant::now();
                let mut result = client.score_continuations(context, continuations, sampling_args).await;
                for _ in 0..self.restarts_allowed() {
                    if !self.server_came_back(&result).await {
                        break;
                    }
                    result = client.score_continuations(context, continuations, sampling_args).await;
                }
                result.map_err(|error| ReplyError::Endpoint { error, latency_ms: started.elapsed().as_millis() as u64 })
            }
            Kind::Oracle => {
                let reference = reference().await.map_err(ReplyError::Reference)?.ok_or(ReplyError::NoReference)?;
                let right =
                    continuations.iter().position(|c| c.trim() == reference.trim()).ok_or(ReplyError::NoReference)?;
                let scores = (0..continuations.len())
                    .map(|i| match i == right {
                        true => ContinuationScore { logprob: 0.0, tokens: 1, greedy: true },
                        false => ContinuationScore { logprob: -1e9, tokens: 1, greedy: false },
                    })
                    .collect();
                Ok(ScoredContinuations { scores, usage: Usage::default(), latency_ms: 0, attempts: 1 })
            }
            Kind::Replay(_) => Err(ReplyError::Replay("replayed completions cannot score continuations".into())),
            Kind::Recorded(run) => run.scores(sample.0, sample.1, continuations).map_err(ReplyError::Replay),
        }
    }

    /// The server assay runs for the model, if it has `serve:`.
    pub fn server(&self) -> Option<&Arc<Server>> {
        self.server.as_ref()
    }

    /// How often a request may be asked again after its server restarted:
    /// once per restart allowed (0 for a model without a server).
    fn restarts_allowed(&self) -> u32 {
        self.server.as_ref().map_or(0, |server| server.spec().max_restarts + 1)
    }

    /// Whether a request that ended in `result` should be asked again: it
    /// found the model's server gone (a connection error) and the server
    /// answers again after a restart. A server that failed for good never
    /// comes back: this waits forever, and the runner, which watches the
    /// server, fails the job and drops the sample unrecorded so a rerun
    /// asks it again.
    async fn server_came_back<T>(&self, result: &Result<T, ModelError>) -> bool {
        let gone = matches!(result, Err(error) if matches!(error.last(), ModelError::Connection(_)));
        let Some(server) = self.server.as_ref().filter(|_| gone) else { return false };
        if server.wait_ready().await.is_err() {
            std::future::pending::<()>().await;
        }
        true
    }

    /// Check, once before a run, that the model can score continuations:
    /// an endpoint must return prompt log-probabilities for a short probe.
    pub async fn check_scoring(&self) -> Result<()> {
        match &self.kind {
            // A recorded run's samples say one by one whether they were scored.
            Kind::Oracle | Kind::Recorded(_) => Ok(()),
            // A served model is not up before its first job starts: not probed.
            Kind::Endpoint(_) if self.server.is_some() => Ok(()),
            Kind::Replay(_) => anyhow::bail!("replayed completions cannot score continuations by log-likelihood"),
            Kind::Endpoint(client) => {
                let probe = [" Paris".to_string()];
                match client.score_continuations("The capital of France is", &probe, &Map::new()).await {
                    Ok(_) => Ok(()),
                    Err(error) => anyhow::bail!(
                        "returns no log-probabilities for prompts ({error}); serve it with a server that returns them and set the model's `loglikelihood_api` to its kind: `completions` (default: `/completions` with `echo`, as vLLM, SGLang and llama.cpp serve it) or `tgi` (Text Generation Inference)"
                    ),
                }
            }
        }
    }

    /// Check, once before a run, that a model asked by others (a judge)
    /// is up: its endpoint answers `GET /models`. Offline models always are.
    pub async fn check_reachable(&self) -> Result<()> {
        match &self.kind {
            Kind::Oracle | Kind::Replay(_) | Kind::Recorded(_) => Ok(()),
            Kind::Endpoint(client) => {
                client.check_reachable().await.map_err(|error| anyhow::anyhow!("is not reachable: {error}"))
            }
        }
    }

    /// The prompt text a base model is sent for `messages` (rendered by its
    /// prompt template); `None` for chat models and offline ones.
    pub fn prompt_text(&self, messages: &[Message]) -> Option<String> {
        match &self.kind {
            Kind::Endpoint(client) => client.prompt_text(messages),
            Kind::Oracle | Kind::Replay(_) | Kind::Recorded(_) => None,
        }
    }

    /// The `seed` an endpoint request carries when the sampling args set
    /// none: the sample seed, cut to 31 bits (servers parse it as a signed
    /// integer). Rollouts of a prompt then differ from each other, and each
    /// reproduces on servers that honour `seed` (vLLM, SGLang, OpenAI).
    /// `None` for models that send no request, or when the config sets one.
    pub fn request_seed(&self, sampling_args: &Map<String, Value>, sample_seed: u64) -> Option<u64> {
        let sends = matches!(self.kind, Kind::Endpoint(_)) && !sampling_args.contains_key("seed");
        sends.then_some(sample_seed & 0x7fff_ffff)
    }

    /// Whether the model can be offered tools and call them: chat
    /// endpoints can, base models (text completions) and replayed
    /// completions cannot. The oracle can (its reference may hold text
    /// tool calls for an env with a text fallback), and so can a recorded
    /// run (its replies hold the tool calls it made).
    pub fn supports_tools(&self) -> bool {
        match &self.kind {
            Kind::Oracle | Kind::Recorded(_) => true,
            Kind::Endpoint(client) => client.api() == &Api::Chat,
            Kind::Replay(_) => false,
        }
    }

    /// Samples of one job in flight at once.
    pub fn concurrency(&self) -> usize {
        match &self.kind {
            Kind::Oracle | Kind::Replay(_) | Kind::Recorded(_) => OFFLINE_CONCURRENCY,
            Kind::Endpoint(client) => client.max_concurrent(),
        }
    }

    /// What stands for the model in a job's identity: the name at the
    /// endpoint, `oracle`, `replay:<fingerprint>` or `recorded:<fingerprint>`
    /// (changed files make a new job). A served model's name is the one it
    /// is given, so what it serves as (weights, engine, the arguments that
    /// change replies) is named too: two sweeps' checkpoint folders of the
    /// same name are different models.
    pub fn identity_name(&self, spec: &ModelSpec) -> String {
        match (&self.kind, &spec.source) {
            (Kind::Replay(book), _) => format!("replay:{}", book.fingerprint),
            (Kind::Recorded(run), _) => format!("recorded:{}", run.fingerprint),
            (_, ModelSource::Endpoint(endpoint)) => match &spec.serve {
                Some(serve) => format!("{} served from {}", endpoint.model, serve.served()),
                None => endpoint.model.clone(),
            },
            _ => crate::config::ORACLE.to_string(),
        }
    }
}

/// A reply made without a server: no tokens, no latency.
fn offline_reply(content: String, finish_reason: Option<&str>) -> ChatReply {
    ChatReply {
        content,
        tool_calls: Vec::new(),
        reasoning: None,
        finish_reason: finish_reason.map(String::from),
        usage: Usage::default(),
        latency_ms: 0,
        attempts: 1,
    }
}

/// The models of a run, resolved once per model id.
#[derive(Default)]
pub struct Models {
    resolved: HashMap<String, Model>,
    /// The response cache, opened for the first model that uses it.
    cache: Option<ResponseCache>,
}

impl Models {
    /// The model `spec` describes, shared with earlier jobs of the same id.
    pub fn resolve(&mut self, spec: &ModelSpec) -> Result<Model> {
        if let Some(model) = self.resolved.get(&spec.id) {
            return Ok(model.clone());
        }
        let (kind, server) = served_or_kind(spec).with_context(|| format!("model `{}`", spec.id))?;
        let cached = matches!(&spec.source, ModelSource::Endpoint(endpoint) if endpoint.cache);
        let cache = if cached { Some(self.cache()?) } else { None };
        let model = Model { kind, cache, server };
        self.resolved.insert(spec.id.clone(), model.clone());
        Ok(model)
    }
}

impl Models {
    /// The response cache, opened on first use. A damaged cache file is
    /// rebuilt with a warning: the run goes on.
    fn cache(&mut self) -> Result<ResponseCache> {
        if let Some(cache) = &self.cache {
            return Ok(cache.clone());
        }
        let cache = ResponseCache::open_default()?;
        self.cache = Some(cache.clone());
        Ok(cache)
    }
}

/// A served model is an endpoint on its server's port (a free one for
/// `port: auto`), with that server; the others are their source's kind.
fn served_or_kind(spec: &ModelSpec) -> Result<(Kind, Option<Arc<Server>>)> {
    let (ModelSource::Endpoint(endpoint), Some(serve)) = (&spec.source, &spec.serve) else {
        return Ok((kind(&spec.source)?, None));
    };
    let port = match serve.port {
        Some(port) => port,
        None => server::free_port().context("cannot pick a free port for its server")?,
    };
    let server = Arc::new(Server::new(&spec.id, serve.clone(), port));
    let endpoint = EndpointSpec { api_base_url: server.base_url(), ..endpoint.clone() };
    Ok((Kind::Endpoint(client(&endpoint)?), Some(server)))
}

fn kind(source: &ModelSource) -> Result<Kind> {
    Ok(match source {
        ModelSource::Oracle => Kind::Oracle,
        ModelSource::Endpoint(endpoint) => Kind::Endpoint(client(endpoint)?),
        ModelSource::Replay(replay) => Kind::Replay(Arc::new(book(replay)?)),
    })
}

fn client(endpoint: &EndpointSpec) -> Result<ChatClient> {
    let api_key = endpoint.api_key_var.as_deref().map(ApiKey::from_env).transpose()?;
    ChatClient::new(Endpoint {
        model: endpoint.model.clone(),
        base_url: endpoint.api_base_url.clone(),
        api_key,
        timeout: Duration::from_secs_f64(endpoint.timeout_secs),
        max_retries: endpoint.max_retries,
        rate_limit_wait: Duration::from_secs_f64(endpoint.rate_limit_wait_secs),
        max_concurrent: endpoint.max_concurrent,
        rate: endpoint.rate,
        api: endpoint.api.clone(),
        scoring_api: endpoint.scoring_api,
        backoff: Default::default(),
    })
}

fn book(replay: &ReplaySpec) -> Result<ReplayBook> {
    ReplayBook::load(&replay.files, &replay.id_field, &replay.completion_field).context("replay")
}
