//! A model as the plan describes it: which kind it is and how to reach it.
//! Serialisable (it goes into `metadata.json`), and it holds the name of
//! the key variable, never a key. [`super::Models::resolve`] turns it into
//! the [`super::Model`] a run asks.

use super::{Api, RateLimits};
use serde::Serialize;
use std::path::PathBuf;

/// A model of a job: its config id and what answers.
#[derive(Debug, Clone, Serialize)]
pub struct ModelSpec {
    /// The config id (the key under `models`), or `oracle`.
    pub id: String,
    /// What answers the environment's requests.
    pub source: ModelSource,
    /// How assay serves the model itself (an endpoint model with `serve:`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub serve: Option<super::server::ServeSpec>,
    /// What its tokens cost, when the config says.
    pub price: Option<super::Price>,
}

/// What answers a model's requests.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelSource {
    /// The built-in offline model: the environment's reference completion.
    Oracle,
    /// An OpenAI-compatible endpoint.
    Endpoint(EndpointSpec),
    /// Completions generated elsewhere, read from files.
    Replay(ReplaySpec),
}

/// Where an endpoint model lives and how it may be asked.
#[derive(Debug, Clone, Serialize)]
pub struct EndpointSpec {
    /// The model name the server knows.
    pub model: String,
    /// The base URL, e.g. `https://api.openai.com/v1`.
    pub api_base_url: String,
    /// The environment variable holding the key; `None`: no auth header.
    pub api_key_var: Option<String>,
    /// Requests in flight at once, shared by every job using the model.
    pub max_concurrent: usize,
    /// Seconds per request attempt.
    pub timeout_secs: f64,
    /// Retries per request (429s excepted).
    pub max_retries: u32,
    /// Seconds a request keeps waiting on 429s, in all.
    pub rate_limit_wait_secs: f64,
    /// Request and token rate caps, and adaptive concurrency.
    pub rate: RateLimits,
    /// Chat or text completions (with its prompt template).
    pub api: Api,
    /// Where continuations are scored by log-likelihood.
    pub scoring_api: super::ScoringApi,
    /// Whether replies go through the response cache.
    pub cache: bool,
}

/// A replay model's completions (see [`super::replay`]).
#[derive(Debug, Clone, Serialize)]
pub struct ReplaySpec {
    /// The files, resolved (they exist).
    pub files: Vec<PathBuf>,
    /// The field naming the dataset record.
    pub id_field: String,
    /// The field holding the completion.
    pub completion_field: String,
}

impl ModelSpec {
    /// The built-in oracle.
    pub fn oracle() -> Self {
        ModelSpec { id: crate::config::ORACLE.into(), source: ModelSource::Oracle, serve: None, price: None }
    }

    /// The API as job identity records it: the endpoint's, and `chat` for
    /// models that send no requests (what identities always said for them).
    pub fn api_identity(&self) -> serde_json::Value {
        let api = match &self.source {
            ModelSource::Endpoint(endpoint) => &endpoint.api,
            ModelSource::Oracle | ModelSource::Replay(_) => &Api::Chat,
        };
        serde_json::to_value(api).expect("the API choice serialises")
    }

    /// The endpoint, if the model is one.
    pub fn endpoint_mut(&mut self) -> Option<&mut EndpointSpec> {
        match &mut self.source {
            ModelSource::Endpoint(endpoint) => Some(endpoint),
            ModelSource::Oracle | ModelSource::Replay(_) => None,
        }
    }
}
