//! Test an environment natively with `cargo test`, through the same JSON
//! decoding and state round-trips the host uses.
//!
//! ```ignore
//! use assay_sdk::testing::Harness;
//! let env = Harness::<MyEnv>::new(serde_json::json!({"shuffle_answers": true})).unwrap();
//! let prepared = env.prepare(serde_json::json!({"question": "...", "answer": "B"}), 7).unwrap();
//! assert_eq!(env.grade(&prepared, "The answer is B").unwrap().reward, 1.0);
//! assert_eq!(env.oracle(serde_json::json!({...}), 7).unwrap().reward, 1.0);
//! ```
//!
//! Multi-step environments (code execution, dialogues) are driven with
//! [`Harness::advance`], the test standing in for the model and the sandbox.

use crate::__private::assay::env::types::Sample;
use crate::adapter::{advance_json, configure_json, grade_json, prepare_json, reference_json};
use crate::{Action, Environment, Error, Event, Prompt, Reply, Result, Score, Step};
use serde_json::Value;

/// A configured environment driven like the host drives a plugin.
pub struct Harness<E: Environment> {
    env: E,
}

/// A prepared record: the prompt the model would see and the encoded state.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The first prompt.
    pub prompt: Prompt,
    /// The state as the host stores it (JSON).
    pub state: String,
}

impl Prepared {
    /// All message texts joined by newlines, for `contains` assertions.
    pub fn text(&self) -> String {
        let parts: Vec<&str> = self.prompt.messages.iter().map(|m| m.content.as_str()).collect();
        parts.join("\n")
    }
}

impl<E: Environment> Harness<E> {
    /// Configure with `env_args` (a JSON object).
    pub fn new(args: Value) -> Result<Self> {
        Ok(Harness { env: configure_json::<E>(&args.to_string())? })
    }

    /// Prepare a record (a JSON object) with a seed.
    pub fn prepare(&self, record: Value, seed: u64) -> Result<Prepared> {
        self.prepare_fewshot(record, &[], false, seed)
    }

    /// Prepare a record with few-shot exemplars (records of the same
    /// shape), as the host does when a job asks for them.
    pub fn prepare_fewshot(
        &self,
        record: Value,
        exemplars: &[Value],
        as_multiturn: bool,
        seed: u64,
    ) -> Result<Prepared> {
        let step = self.begin(record, exemplars, as_multiturn, seed)?;
        match step.action {
            Action::AskModel(prompt) => Ok(Prepared { prompt, state: step.state }),
            other => Err(Error::internal(format!("prepare returned {other:?}, not ask-model"))),
        }
    }

    /// The first step for a record, whatever its action (a prompt for the
    /// model, continuations to score...), as the host gets it.
    pub fn begin(&self, record: Value, exemplars: &[Value], as_multiturn: bool, seed: u64) -> Result<Step<String>> {
        let sample = Sample {
            record_json: record.to_string(),
            seed,
            fewshot: exemplars.iter().map(Value::to_string).collect(),
            fewshot_as_multiturn: as_multiturn,
        };
        prepare_json(&self.env, &sample)
    }

    /// Grade a completion for a prepared record.
    pub fn grade(&self, prepared: &Prepared, completion: &str) -> Result<Score> {
        grade_json(&self.env, &prepared.state, completion)
    }

    /// Score a model reply for a prepared record as the host does when the
    /// model answers: through `advance`, which sees the finish reason.
    pub fn reply(&self, prepared: &Prepared, reply: Reply) -> Result<Score> {
        match self.advance(&prepared.state, Event::ModelReply(reply))?.action {
            Action::Finish(score) => Ok(score),
            other => Err(Error::internal(format!("a reply led to {other:?}, not finish"))),
        }
    }

    /// Report an event for a state (e.g. [`Prepared::state`] or the state
    /// of the previous step) and get the next step, as the host does after
    /// a model reply or a `run-code` action.
    pub fn advance(&self, state: &str, event: Event) -> Result<Step<String>> {
        advance_json(&self.env, state, event)
    }

    /// The reference completion for a prepared record.
    pub fn reference(&self, prepared: &Prepared) -> Result<Option<String>> {
        reference_json(&self.env, &prepared.state)
    }

    /// Prepare, take the reference completion and grade it: what the
    /// `oracle` model does. Errors if there is no reference.
    pub fn oracle(&self, record: Value, seed: u64) -> Result<Score> {
        let prepared = self.prepare(record, seed)?;
        let reference = self.reference(&prepared)?.ok_or_else(|| Error::internal("environment gave no reference"))?;
        self.grade(&prepared, &reference)
    }
}
