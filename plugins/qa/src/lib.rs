//! `qa`: closed-form short answers for the assay harness.
//!
//! Two ways to grade, chosen by the arguments (see [`Args`]):
//! - a label set: fixed `labels` (PubMedQA's yes/no/maybe) or the option
//!   labels of each record (`choices_field`, for question sets whose
//!   options are an object or a label/text pair). The reply's final label
//!   is read with [`extract::label`]; a hedge between labels is malformed;
//! - free short answers (BIG-Bench Hard targets such as `(B)`, `False`,
//!   `] } ]`): the reply's final answer, read with [`extract::free`], must
//!   equal the gold after normalisation ([`extract::same_answer`]).
//!
//! Nothing is random: the rng the host passes is unused.

mod args;
pub mod extract;
mod record;

pub use args::{Args, FREE_INSTRUCTION, LABEL_INSTRUCTION, PLACEHOLDERS};
pub use extract::{Extraction, Method};

use assay_sdk::{Description, Environment, Prompt, Result, Rng, Score, template};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The environment: its arguments, checked, and its user template.
pub struct Qa {
    args: Args,
    template: String,
}

/// What grading a record needs, kept by the host between calls.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct State {
    /// The labels an answer may take; empty for free answers.
    pub labels: Vec<String>,
    /// The gold answer.
    pub gold: String,
}

impl Environment for Qa {
    type Args = Args;
    type Record = Map<String, Value>;
    type State = State;

    fn describe() -> Description {
        args::describe()
    }

    fn new(args: Args) -> Result<Self> {
        args.validate()?;
        Ok(Qa { template: args.template(), args })
    }

    fn prepare(&self, record: Self::Record, _rng: &mut Rng) -> Result<(Prompt, State)> {
        let item = record::read(&self.args, &record)?;
        let (choices, labels) = (record::choices_block(&item.choices), record::phrase(&item.labels));
        let context = item.context.as_deref().unwrap_or("");
        let values =
            [("question", item.question.as_str()), ("context", context), ("choices", &choices), ("labels", &labels)];
        let user = template::render(&self.template, &values);
        let prompt = match &self.args.system_prompt {
            Some(system) => Prompt::new().system(system.as_str()).user(user),
            None => Prompt::new().user(user),
        };
        Ok((prompt, State { labels: item.labels, gold: item.gold }))
    }

    fn grade(&self, state: &State, completion: &str) -> Result<Score> {
        let extraction =
            if state.labels.is_empty() { extract::free(completion) } else { extract::label(completion, &state.labels) };
        let score = match extraction {
            Extraction::Answer { answer, method } => {
                let correct = if state.labels.is_empty() {
                    extract::same_answer(&answer, &state.gold)
                } else {
                    answer == state.gold
                };
                Score::correct_if(correct).answer(answer).info("method", method.as_str())
            }
            Extraction::Malformed { method, found } => {
                Score::malformed().info("method", method.as_str()).info("found", found)
            }
            Extraction::NoAnswer => Score::no_answer().info("method", Value::Null),
        };
        Ok(score.info("gold", state.gold.clone()))
    }

    /// "Answer: <label>", or "The answer is <gold>." for free answers.
    fn reference(&self, state: &State) -> Option<String> {
        Some(if state.labels.is_empty() {
            format!("The answer is {}.", state.gold)
        } else {
            format!("Answer: {}", state.gold)
        })
    }
}

assay_sdk::register_environment!(Qa);
