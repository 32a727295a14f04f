//! `mcq`: multiple-choice question answering for the assay harness.
//!
//! A record holds a question, its options and the gold answer (field
//! names are configurable, see [`Args`]). The model sees the question with
//! lettered options, optionally shuffled with a seed; its reply is read
//! with [`extract`] and scores 1 when it names the gold letter.

mod args;
mod extract;
mod fields;
mod letters;
mod shuffle;
mod template;

pub use args::{Args, DEFAULT_TEMPLATE};
pub use extract::{Extraction, Method, extract};

use assay_sdk::{Description, Environment, ParseStatus, Prompt, Reply, Result, Rng, Score};
use fields::FieldMap;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The multiple-choice environment: its arguments, checked.
pub struct Mcq {
    args: Args,
    fields: FieldMap,
}

/// What grading a record needs, kept by the host between calls.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct State {
    /// The correct letter as shown to the model (after any shuffle).
    pub gold: char,
    /// How many options the question has.
    pub n_options: usize,
    /// The option texts in the order shown.
    pub options: Vec<String>,
    /// For provenance: `permutation[i]` is the dataset index of the option
    /// shown with letter `i` (the identity when not shuffled).
    pub permutation: Vec<usize>,
}

impl Environment for Mcq {
    type Args = Args;
    type Record = Map<String, Value>;
    type State = State;

    fn describe() -> Description {
        args::describe()
    }

    fn new(args: Args) -> Result<Self> {
        args.validate()?;
        Ok(Mcq { fields: FieldMap::from_args(&args), args })
    }

    fn prepare(&self, record: Self::Record, rng: &mut Rng) -> Result<(Prompt, State)> {
        let item = self.fields.read(&record)?;
        let permutation = self.permutation(&item, rng);
        let (options, gold) = shuffle::apply(&item.options, item.gold, &permutation);
        let user = template::render(&self.args.prompt_template, &item.question, &options);
        let prompt = match &self.args.system_prompt {
            Some(system) => Prompt::new().system(system.as_str()).user(user),
            None => Prompt::new().user(user),
        };
        let state = State { gold: letters::letter(gold), n_options: options.len(), options, permutation };
        Ok((prompt, state))
    }

    /// A completion graded directly (produced elsewhere): whether it was
    /// cut off is unknown.
    fn grade(&self, state: &State, completion: &str) -> Result<Score> {
        Ok(self.judge(state, completion, None))
    }

    fn grade_reply(&self, state: &State, reply: &Reply) -> Result<Score> {
        Ok(self.judge(state, &reply.content, reply.known_truncation()))
    }

    fn reference(&self, state: &State) -> Option<String> {
        Some(format!("The answer is ({}).", state.gold))
    }
}

impl Mcq {
    /// Grade `completion`. `truncated` is whether the reply was cut off by
    /// the token limit (`finish_reason: length`), when the host says: a
    /// cut-off reply gets no text fallback. Every score carries the metric
    /// `hedged` (1 for a hedge), so its mean is the model's hedging rate.
    pub fn judge(&self, state: &State, completion: &str, truncated: Option<bool>) -> Score {
        let extraction = extract(completion, &state.options, truncated);
        let hedged = matches!(extraction, Extraction::Hedged { .. });
        let score = match extraction {
            Extraction::Answer { index, method } => {
                let letter = letters::letter(index);
                Score::correct_if(letter == state.gold).answer(letter).info("method", method.as_str())
            }
            Extraction::Hedged { method, content } => Score { parse_status: ParseStatus::Hedged, ..Score::malformed() }
                .info("method", method.as_str())
                .info("reason", "hedge")
                .info("unreadable", content),
            Extraction::Malformed { method, content } => {
                Score::malformed().info("method", method.as_str()).info("unreadable", content)
            }
            Extraction::NoAnswer => Score::no_answer().info("method", Value::Null),
        };
        let score = score.info("gold", state.gold.to_string()).metric("hedged", f64::from(u8::from(hedged)));
        let shuffled = state.permutation.iter().enumerate().any(|(new, &old)| new != old);
        if shuffled { score.info("permutation", state.permutation.clone()) } else { score }
    }

    /// The display order for a record: shuffled with the record's own seed
    /// (`shuffle_seed` keyed by its id or question, so it does not depend
    /// on position or rollout), or with the host's per-sample `rng` when
    /// no seed is set.
    fn permutation(&self, item: &fields::Item, rng: &mut Rng) -> Vec<usize> {
        match (self.args.shuffle_answers, self.args.shuffle_seed) {
            (false, _) => (0..item.options.len()).collect(),
            (true, Some(seed)) => shuffle::permutation(&item.options, &mut Rng::keyed(seed, &item.key)),
            (true, None) => shuffle::permutation(&item.options, rng),
        }
    }
}

assay_sdk::register_environment!(Mcq);
