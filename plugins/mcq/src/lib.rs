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
mod loglikelihood;
mod shuffle;
mod template;

pub use args::{Args, Continuations, DEFAULT_TEMPLATE, LOGLIKELIHOOD_TEMPLATE, Mode};
pub use extract::{Extraction, Method, extract};

use assay_sdk::{Description, Environment, Error, Event, ParseStatus, Prompt, Reply, Result, Rng, Role, Score, Step};
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
    /// In `mode: loglikelihood`, the continuations scored (in option order).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub continuations: Vec<String>,
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
        let (question, state) = self.shown(&record, rng)?;
        let user = template::render(&self.args.prompt_template, &question, &state.options);
        let prompt = match &self.args.system_prompt {
            Some(system) => Prompt::new().system(system.as_str()).user(user),
            None => Prompt::new().user(user),
        };
        Ok((prompt, state))
    }

    /// In `mode: loglikelihood`, score the options' continuations after
    /// the description, the exemplars and the question; otherwise ask the
    /// model, the description starting the first user message.
    fn begin(
        &self,
        record: Self::Record,
        exemplars: Vec<Self::Record>,
        as_multiturn: bool,
        rng: &mut Rng,
    ) -> Result<Step<State>> {
        let description = match &self.args.description {
            Some(description) => template::description(description, &record, &self.args.subject_field)?,
            None => String::new(),
        };
        if self.args.mode == Mode::Generate {
            let (mut prompt, state) = match exemplars.is_empty() {
                true => self.prepare(record, rng)?,
                false => self.prepare_fewshot(record, exemplars, as_multiturn, rng)?,
            };
            if let Some(first) = prompt.messages.iter_mut().find(|m| m.role == Role::User) {
                first.content.insert_str(0, &description);
            }
            return Ok(Step::ask(prompt, state));
        }
        let (question, mut state) = self.shown(&record, rng)?;
        let mut shots = Vec::with_capacity(exemplars.len());
        for exemplar in exemplars {
            let (question, shown) = self.shown(&exemplar, &mut Rng::new(rng.next_u64()))?;
            let gold = letters::index_of(shown.gold).expect("a shown gold is a letter");
            shots.push(loglikelihood::exemplar(&self.args, &question, &shown.options, gold));
        }
        let request = loglikelihood::request(&self.args, &description, &question, &state.options, &shots);
        state.continuations = request.continuations.clone();
        Ok(Step::score_continuations(request, state))
    }

    fn advance(&self, state: State, event: Event) -> Result<Step<State>> {
        let score = match event {
            Event::ModelReply(reply) => self.grade_reply(&state, &reply)?,
            Event::ContinuationScores(scores) => loglikelihood::score(&state, &scores),
            _ => return Err(Error::internal("received an event this environment never asks for")),
        };
        Ok(Step::finish(score, state))
    }

    /// A completion graded directly (produced elsewhere): whether it was
    /// cut off is unknown. In `mode: loglikelihood` it is one of the
    /// continuations (what the oracle and `plugin check` give).
    fn grade(&self, state: &State, completion: &str) -> Result<Score> {
        match self.args.mode {
            Mode::Generate => Ok(self.judge(state, completion, None)),
            Mode::Loglikelihood => Ok(loglikelihood::grade_text(state, completion)),
        }
    }

    fn grade_reply(&self, state: &State, reply: &Reply) -> Result<Score> {
        Ok(self.judge(state, &reply.content, reply.known_truncation()))
    }

    fn reference(&self, state: &State) -> Option<String> {
        match self.args.mode {
            Mode::Generate => Some(format!("The answer is ({}).", state.gold)),
            Mode::Loglikelihood => letters::index_of(state.gold).and_then(|i| state.continuations.get(i).cloned()),
        }
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

    /// A record's question and the state of its options as shown
    /// (shuffled when asked for), gold letter included.
    fn shown(&self, record: &Map<String, Value>, rng: &mut Rng) -> Result<(String, State)> {
        let item = self.fields.read(record)?;
        let permutation = self.permutation(&item, rng);
        let (options, gold) = shuffle::apply(&item.options, item.gold, &permutation);
        let state = State {
            gold: letters::letter(gold),
            n_options: options.len(),
            options,
            permutation,
            continuations: Vec::new(),
        };
        Ok((item.question, state))
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
