//! Models: everything that answers an environment's requests.
//!
//! - [`Model`] is what a run asks, whatever the kind (an OpenAI-compatible
//!   endpoint, the built-in `oracle`, the offline [`replay`] model, or a
//!   [`recorded`] run answering as it did before, for `assay rescore`);
//!   [`Models::resolve`] builds it from the plan's [`ModelSpec`].
//! - [`ChatClient`] speaks the OpenAI-compatible API with retries and rate
//!   limits (the servers' wait hints are read in `hints.rs`): the chat API (`/chat/completions`) or, for base models without
//!   a chat template, the text-completions API (`/completions`) with the
//!   conversation rendered by a [`PromptTemplate`].
//! - [`Message`] is the one chat message type of the host, from the plugin's
//!   request to `results.jsonl`.
//! - [`server`] starts, watches and stops the servers of models with
//!   `serve:` (vLLM, SGLang, llama.cpp, a command) on the run's GPUs.

pub mod cache;
mod endpoint;
mod hints;
mod limits;
mod loglikelihood;
mod message;
mod model;
mod openai;
mod price;
pub mod recorded;
pub mod replay;
mod retry;
pub mod server;
mod spec;

pub use endpoint::{
    Api, ApiKey, ChatReply, ChatRequest, Endpoint, ModelError, PromptTemplate, RateLimits, ScoringApi, Usage,
};
pub use loglikelihood::{ContinuationScore, ScoredContinuations};
pub use message::{Message, Role, Tool, ToolCall};
pub use model::{Model, Models, ReplyError, Turn};
pub use openai::ChatClient;
pub use price::{Price, format_usd};
pub use retry::Backoff;
pub use spec::{EndpointSpec, ModelSource, ModelSpec, ReplaySpec};
