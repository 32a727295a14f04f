//! Write benchmark environments for [assay](https://github.com/assay-eval/assay).
//!
//! An environment turns dataset records into prompts and model replies into
//! scores. You implement one trait, [`Environment`], register it with
//! [`register_environment!`], and build the crate for `wasm32-wasip2`. The
//! result is a sandboxed WebAssembly component the `assay` host loads by
//! name or path; no host rebuild is needed.
//!
//! Arguments, records and per-record state are your own serde types: the SDK
//! decodes and encodes the JSON, and reports decoding errors with the field
//! path (`bad-args: field `choices`: invalid type...`).
//!
//! ```ignore
//! use assay_sdk::{Environment, Prompt, Result, Rng, Score};
//! use serde::{Deserialize, Serialize};
//!
//! struct Echo;
//! #[derive(Deserialize)] struct Record { question: String, answer: String }
//! #[derive(Serialize, Deserialize)] struct State { answer: String }
//!
//! impl Environment for Echo {
//!     type Args = assay_sdk::NoArgs;
//!     type Record = Record;
//!     type State = State;
//!     fn new(_: Self::Args) -> Result<Self> { Ok(Echo) }
//!     fn prepare(&self, r: Record, _rng: &mut Rng) -> Result<(Prompt, State)> {
//!         Ok((Prompt::new().user(r.question), State { answer: r.answer }))
//!     }
//!     fn grade(&self, s: &State, completion: &str) -> Result<Score> {
//!         Ok(Score::correct_if(completion.trim() == s.answer).answer(completion.trim()))
//!     }
//! }
//! assay_sdk::register_environment!(Echo);
//! ```
//!
//! Fill user-supplied prompt templates with [`template::render`]. Test it
//! natively with [`testing::Harness`]; see the crate README.

mod adapter;
mod error;
pub mod fewshot;
pub mod log;
mod rng;
mod score;
pub mod template;
pub mod testing;
mod types;

pub use error::{Error, Result};
pub use rng::{Rng, stable_hash};
pub use score::Score;
pub use types::{
    ArgDoc, CodeRequest, CodeResult, ContinuationRequest, ContinuationScore, Description, ExecRequest, FileWrite,
    JudgeRequest, Message, ParseStatus, Prompt, Reply, Role, Tool, ToolCall, WorkspaceRequest, WorkspaceResult,
};

pub use serde;
pub use serde_json;

/// The version of the WIT interface (`assay:env`) this SDK builds against.
pub const API_VERSION: &str = "0.2.0";

/// Arguments type for environments that take none. Any key is rejected.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoArgs {}

/// Something that happened during an episode, reported to
/// [`Environment::advance`].
#[derive(Debug, Clone)]
pub enum Event {
    /// The model under test replied.
    ModelReply(Reply),
    /// A [`Step::run_code`] request finished.
    CodeOutput(CodeResult),
    /// The judge replied to a [`Step::ask_judge`] request.
    JudgeReply(Reply),
    /// The scores of a [`Step::score_continuations`] request, in its order.
    ContinuationScores(Vec<ContinuationScore>),
    /// A [`Step::workspace`] request finished.
    WorkspaceOutput(WorkspaceResult),
}

/// What the host should do next, with the state to hand back afterwards.
#[derive(Debug, Clone)]
pub struct Step<S> {
    /// The next action.
    pub action: Action,
    /// Your state for the next call.
    pub state: S,
}

/// The action part of a [`Step`].
#[derive(Debug, Clone)]
pub enum Action {
    /// Send this conversation to the model.
    AskModel(Prompt),
    /// Run this program in the host's code sandbox.
    RunCode(CodeRequest),
    /// Ask the judge model the job names.
    AskJudge(JudgeRequest),
    /// Score continuations by their log-probability under the model.
    ScoreContinuations(ContinuationRequest),
    /// Act in the sample's workspace.
    Workspace(WorkspaceRequest),
    /// The episode is over.
    Finish(Score),
}

impl<S> Step<S> {
    /// Ask the model with this (complete) conversation.
    pub fn ask(prompt: Prompt, state: S) -> Self {
        Step { action: Action::AskModel(prompt), state }
    }
    /// Ask the host to run a program (needs a `run-code:<language>` capability).
    pub fn run_code(request: CodeRequest, state: S) -> Self {
        Step { action: Action::RunCode(request), state }
    }
    /// Ask the judge (needs the `judge` capability).
    pub fn ask_judge(request: JudgeRequest, state: S) -> Self {
        Step { action: Action::AskJudge(request), state }
    }
    /// Score continuations by log-likelihood (needs the `loglikelihood` capability).
    pub fn score_continuations(request: ContinuationRequest, state: S) -> Self {
        Step { action: Action::ScoreContinuations(request), state }
    }
    /// Act in the sample's workspace (needs the `workspace` capability).
    pub fn workspace(request: WorkspaceRequest, state: S) -> Self {
        Step { action: Action::Workspace(request), state }
    }
    /// End the episode with a score.
    pub fn finish(score: Score, state: S) -> Self {
        Step { action: Action::Finish(score), state }
    }
}

/// A benchmark environment.
///
/// Methods take `&self`: the instance holds configuration only, and anything
/// that changes during an episode belongs in [`Environment::State`], which the
/// host stores between calls. Calls for different records may reach
/// different instances in any order.
pub trait Environment: Sized + 'static {
    /// The `env_args` of a job, decoded from JSON. Use `#[serde(default)]`
    /// for optional fields and `#[serde(deny_unknown_fields)]` to catch typos.
    type Args: serde::de::DeserializeOwned;
    /// One dataset record, decoded from JSON.
    type Record: serde::de::DeserializeOwned;
    /// Per-record state kept by the host between calls.
    type State: serde::Serialize + serde::de::DeserializeOwned;

    /// Description, argument docs and capabilities for `assay plugin info`.
    /// Name and version come from your crate's `Cargo.toml`.
    fn describe() -> Description {
        Description::default()
    }

    /// Build the environment from its arguments. Validate them here and
    /// return [`Error::bad_args`] naming the field when one is unusable.
    fn new(args: Self::Args) -> Result<Self>;

    /// Turn a record into the first prompt and the state to grade against.
    /// `rng` is seeded by the host from the job seed, record id and rollout.
    fn prepare(&self, record: Self::Record, rng: &mut Rng) -> Result<(Prompt, Self::State)>;

    /// Turn a record and its few-shot exemplars into the first prompt. The
    /// default ([`fewshot::render`]) shows each exemplar's question (from
    /// `prepare`) answered by its reference; override it for another format.
    fn prepare_fewshot(
        &self,
        record: Self::Record,
        exemplars: Vec<Self::Record>,
        as_multiturn: bool,
        rng: &mut Rng,
    ) -> Result<(Prompt, Self::State)> {
        fewshot::render(self, record, exemplars, as_multiturn, rng)
    }

    /// The first step for a record and its few-shot exemplars. The default
    /// asks the model with [`Environment::prepare`]'s prompt (or
    /// [`Environment::prepare_fewshot`]'s, given exemplars); override it to
    /// start otherwise, e.g. by scoring continuations.
    fn begin(
        &self,
        record: Self::Record,
        exemplars: Vec<Self::Record>,
        as_multiturn: bool,
        rng: &mut Rng,
    ) -> Result<Step<Self::State>> {
        let (prompt, state) = match exemplars.is_empty() {
            true => self.prepare(record, rng)?,
            false => self.prepare_fewshot(record, exemplars, as_multiturn, rng)?,
        };
        Ok(Step::ask(prompt, state))
    }

    /// Score a final completion.
    fn grade(&self, state: &Self::State, completion: &str) -> Result<Score>;

    /// Score a model's reply. The default grades its text; override it to
    /// use the rest (`finish_reason` says whether it was cut off).
    fn grade_reply(&self, state: &Self::State, reply: &Reply) -> Result<Score> {
        self.grade(state, &reply.content)
    }

    /// Next step after an event. The default grades the first model reply,
    /// which is right for single-turn environments; override it for
    /// multi-turn dialogues, code execution, judges or workspaces.
    fn advance(&self, state: Self::State, event: Event) -> Result<Step<Self::State>> {
        match event {
            Event::ModelReply(reply) => {
                let score = self.grade_reply(&state, &reply)?;
                Ok(Step::finish(score, state))
            }
            _ => Err(Error::internal(
                "received an event other than a model reply, but this environment does not override `advance`",
            )),
        }
    }

    /// The completion a perfect model would give, if known. The built-in
    /// `oracle` model answers with it and `assay plugin check` requires it to
    /// score full reward.
    fn reference(&self, _state: &Self::State) -> Option<String> {
        None
    }
}

/// Export an [`Environment`] as the plugin's implementation of `assay:env`.
/// Use it once, at the root of your `cdylib` crate.
#[macro_export]
macro_rules! register_environment {
    ($env:ty) => {
        // Private, so the environment type may be private too. Natively it is
        // never constructed (only the wasm export glue uses it).
        #[doc(hidden)]
        #[allow(dead_code)]
        struct __AssayPlugin;

        impl $crate::__private::Registered for __AssayPlugin {
            type Env = $env;
            const NAME: &'static str = env!("CARGO_PKG_NAME");
            const VERSION: &'static str = env!("CARGO_PKG_VERSION");
        }

        #[cfg(target_arch = "wasm32")]
        $crate::__private::__export_plugin!(__AssayPlugin with_types_in $crate::__private);

        // Natively there are no exports, so without this a plugin whose
        // types are private would be all dead code to the compiler.
        #[cfg(not(target_arch = "wasm32"))]
        const _: () = {
            let _ = $crate::__private::native_entry::<__AssayPlugin>;
        };
    };
}

#[doc(hidden)]
pub mod __private {
    wit_bindgen::generate!({
        path: "wit/v0.2",
        world: "plugin",
        pub_export_macro: true,
        export_macro_name: "__export_plugin",
        default_bindings_module: "assay_sdk::__private",
        additional_derives: [PartialEq],
    });

    pub use crate::adapter::Registered;

    /// What the wasm exports would call first, named by the registration
    /// macro on native targets so the environment counts as used.
    pub fn native_entry<R: Registered>(args_json: &str) -> crate::Result<R::Env> {
        crate::adapter::configure_json::<R::Env>(args_json)
    }
}
