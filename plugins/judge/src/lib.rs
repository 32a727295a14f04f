//! `judge`: open-ended answers graded by a judge model, for the assay
//! harness.
//!
//! An episode asks the model under test the question, then asks the judge
//! (an `ask-judge` action, so the env needs the `judge` capability):
//! - graded alone, once, with the reference and/or rubric; the reply's
//!   last `GRADE: C|P|I` or `Rating: [[N]]` is the reward ([`verdict`]);
//! - pairwise (`baseline_field`), twice: the model's answer as response A
//!   against the baseline's as B, then the other way round, so a judge
//!   that favours a position cannot favour the model. The reward is the
//!   mean of the two outcomes (win 1, tie 0.5, loss 0), so an env's mean
//!   reward is the win rate against the baseline, ties counted half.
//!
//! A judge reply without a readable decision ends the episode with parse
//! status `ungraded` (reward 0, counted apart), never a silent 0.
//! Nothing is random: the rng the host passes is unused.

mod args;
pub mod verdict;

pub use args::{Args, GRADE_TEMPLATE, PAIRWISE_TEMPLATE, RATE_TEMPLATE, Scale};

use assay_sdk::{
    Description, Environment, Error, Event, JudgeRequest, Prompt, Reply, Result, Rng, Score, Step, template,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use verdict::Preference;

/// The environment: its arguments, checked.
pub struct Judge {
    args: Args,
}

/// A record's texts, and the episode so far.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct State {
    /// The question.
    pub question: String,
    /// The reference answer, if the record has one.
    pub reference: Option<String>,
    /// The rubric, if any.
    pub rubric: Option<String>,
    /// The baseline's answer, pairwise.
    pub baseline: Option<String>,
    /// The model's answer, once given.
    pub answer: Option<String>,
    /// Pairwise: the model's points from the judge's verdicts so far.
    pub points: Vec<f64>,
}

impl Environment for Judge {
    type Args = Args;
    type Record = Map<String, Value>;
    type State = State;

    fn describe() -> Description {
        args::describe()
    }

    fn new(args: Args) -> Result<Self> {
        args.validate()?;
        Ok(Judge { args })
    }

    fn prepare(&self, record: Self::Record, _rng: &mut Rng) -> Result<(Prompt, State)> {
        let args = &self.args;
        let field = |name: &Option<String>| name.as_deref().map(|name| text(&record, name)).transpose();
        let state = State {
            question: text(&record, &args.question_field)?,
            reference: field(&args.reference_field)?,
            rubric: field(&args.rubric_field)?.or_else(|| args.rubric.clone()),
            baseline: field(&args.baseline_field)?,
            answer: None,
            points: Vec::new(),
        };
        let user = template::render(&args.prompt_template, &[("question", &state.question)]);
        let prompt = match &args.system_prompt {
            Some(system) => Prompt::new().system(system.as_str()).user(user),
            None => Prompt::new().user(user),
        };
        Ok((prompt, state))
    }

    /// Only the judge grades: a completion alone cannot be scored.
    fn grade(&self, _state: &State, _completion: &str) -> Result<Score> {
        Err(Error::internal("the judge environment grades through its judge (advance), not grade"))
    }

    fn advance(&self, mut state: State, event: Event) -> Result<Step<State>> {
        match event {
            Event::ModelReply(reply) => {
                state.answer = Some(reply.content);
                Ok(Step::ask_judge(self.judge_request(&state), state))
            }
            Event::JudgeReply(reply) if self.args.pairwise() => self.pairwise_verdict(state, &reply),
            Event::JudgeReply(reply) => Ok(Step::finish(self.graded(&reply), state)),
            _ => Err(Error::internal("unexpected event: the judge environment asks only the model and its judge")),
        }
    }

    /// The reference answer, when the record has one.
    fn reference(&self, state: &State) -> Option<String> {
        state.reference.clone()
    }
}

impl Judge {
    /// The judge's next question: the answer graded alone, or pairwise in
    /// the order of the verdicts so far (the model first as A, then as B).
    fn judge_request(&self, state: &State) -> JudgeRequest {
        let answer = state.answer.as_deref().unwrap_or_default();
        let (reference, rubric) = (state.reference.as_deref(), state.rubric.as_deref());
        let criteria = criteria(reference, rubric);
        let mut values = vec![
            ("question", state.question.as_str()),
            ("reference", reference.unwrap_or_default()),
            ("rubric", rubric.unwrap_or_default()),
            ("criteria", criteria.as_str()),
        ];
        let baseline = state.baseline.as_deref().unwrap_or_default();
        if !self.args.pairwise() {
            values.push(("answer", answer));
        } else if state.points.is_empty() {
            values.extend([("answer_a", answer), ("answer_b", baseline)]);
        } else {
            values.extend([("answer_a", baseline), ("answer_b", answer)]);
        }
        let user = template::render(self.args.judge_template(), &values);
        let mut prompt = Prompt::new();
        if let Some(system) = &self.args.judge_system_prompt {
            prompt = prompt.system(system.as_str());
        }
        JudgeRequest { messages: prompt.user(user).messages, max_tokens: Some(self.args.judge_max_tokens) }
    }

    /// The score of a judge's grade or rating.
    fn graded(&self, reply: &Reply) -> Score {
        match self.args.scale {
            Scale::Cpi => match verdict::grade(&reply.content) {
                Some(grade) => {
                    let reward = match grade {
                        verdict::Grade::Correct => 1.0,
                        verdict::Grade::Partial => self.args.partial_credit,
                        verdict::Grade::Incorrect => 0.0,
                    };
                    Score::new(reward).answer(grade.letter())
                }
                None => Score::ungraded(),
            },
            Scale::OneToTen => match verdict::rating(&reply.content) {
                Some(rating) => Score::new((rating - 1.0) / 9.0).answer(rating.to_string()).metric("rating", rating),
                None => Score::ungraded(),
            },
        }
    }

    /// Pairwise: after the first verdict, ask again with the answers
    /// swapped; after the second, finish with their mean.
    fn pairwise_verdict(&self, mut state: State, reply: &Reply) -> Result<Step<State>> {
        let model_is_a = state.points.is_empty();
        let Some(preference) = verdict::preference(&reply.content) else {
            let order = if model_is_a { "model-first" } else { "baseline-first" };
            return Ok(Step::finish(Score::ungraded().info("unreadable_order", order), state));
        };
        let points = match (preference, model_is_a) {
            (Preference::Tie, _) => 0.5,
            (Preference::A, true) | (Preference::B, false) => 1.0,
            (Preference::A, false) | (Preference::B, true) => 0.0,
        };
        state.points.push(points);
        if model_is_a {
            return Ok(Step::ask_judge(self.judge_request(&state), state));
        }
        let reward = state.points.iter().sum::<f64>() / 2.0;
        let outcome = if reward > 0.5 {
            "win"
        } else if reward < 0.5 {
            "loss"
        } else {
            "tie"
        };
        let score = Score::new(reward)
            .answer(outcome)
            .metric("win", f64::from(u8::from(outcome == "win")))
            .metric("tie", f64::from(u8::from(outcome == "tie")))
            .metric("loss", f64::from(u8::from(outcome == "loss")))
            .metric("consistent", f64::from(u8::from(state.points[0] == state.points[1])))
            .info("points", state.points.clone());
        Ok(Step::finish(score, state))
    }
}

/// The reference and rubric as labelled blocks, for `{criteria}`.
fn criteria(reference: Option<&str>, rubric: Option<&str>) -> String {
    let mut text = String::new();
    if let Some(reference) = reference {
        text.push_str(&format!("[Reference answer]\n{reference}\n\n"));
    }
    if let Some(rubric) = rubric {
        text.push_str(&format!("[Rubric]\n{rubric}\n\n"));
    }
    text
}

/// The text of field `path` (a key, else a dotted path through objects):
/// a string, or a number written out.
fn text(record: &Map<String, Value>, path: &str) -> Result<String> {
    let value = record.get(path).or_else(|| {
        let mut parts = path.split('.');
        let first = record.get(parts.next()?)?;
        parts.try_fold(first, |value, key| value.as_object()?.get(key))
    });
    match value {
        Some(Value::String(text)) if !text.trim().is_empty() => Ok(text.clone()),
        Some(Value::Number(number)) => Ok(number.to_string()),
        Some(Value::String(_)) => Err(Error::bad_record(format!("field `{path}`: empty"))),
        None => Err(Error::bad_record(format!("field `{path}`: missing"))),
        Some(other) => Err(Error::bad_record(format!("field `{path}`: expected a string, got {other}"))),
    }
}

assay_sdk::register_environment!(Judge);
