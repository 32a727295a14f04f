//! `medcalc`: MedCalc-Bench for the assay harness.
//!
//! A record is a patient note, a question asking for a clinical value, the
//! calculator's id and the gold answer with its limits (MedCalc-Bench's
//! columns by default, see [`Args`]). The model is prompted as in the
//! benchmark's zero-shot setup; its answer is read with
//! [`extract::answer_text`] and graded by the benchmark's rules for the
//! calculator's kind ([`answer`]).

pub mod answer;
mod args;
pub mod extract;

pub use answer::{Gold, Kind};
pub use args::{Args, PROMPT_TEMPLATE, SYSTEM_PROMPT};

use assay_sdk::{Description, Environment, Error, Prompt, Result, Rng, Score, template};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// The environment: its arguments, checked.
pub struct MedCalc {
    args: Args,
}

/// What grading a record needs, kept by the host between calls.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct State {
    /// The gold answer, parsed for comparison.
    pub gold: Gold,
    /// The gold answer as the dataset writes it.
    pub answer: String,
}

impl Environment for MedCalc {
    type Args = Args;
    type Record = Map<String, Value>;
    type State = State;

    fn describe() -> Description {
        args::describe()
    }

    fn new(args: Args) -> Result<Self> {
        args.validate()?;
        Ok(MedCalc { args })
    }

    fn prepare(&self, record: Self::Record, _rng: &mut Rng) -> Result<(Prompt, State)> {
        let (note, question) = (text(&record, &self.args.note_field)?, text(&record, &self.args.question_field)?);
        let user = template::render(&self.args.prompt_template, &[("note", &note), ("question", &question)]);
        let prompt = match &self.args.system_prompt {
            Some(system) => Prompt::new().system(system.as_str()).user(user),
            None => Prompt::new().user(user),
        };
        let answer = text(&record, &self.args.answer_field)?;
        Ok((prompt, State { gold: self.gold(&record, &answer)?, answer }))
    }

    fn grade(&self, state: &State, completion: &str) -> Result<Score> {
        let Some((text, method)) = extract::answer_text(completion) else {
            return Ok(Score::no_answer().info("gold", state.answer.clone()));
        };
        let score = match state.gold.check(&text) {
            Some(correct) => Score::correct_if(correct),
            None => Score::malformed(),
        };
        Ok(score.answer(text).info("method", method.as_str()).info("gold", state.answer.clone()))
    }

    /// The official output format with the gold answer.
    fn reference(&self, state: &State) -> Option<String> {
        let answer = match state.gold {
            Gold::WeeksDays { duration: (weeks, days) } => format!("({weeks} weeks, {days} days)"),
            _ => state.answer.clone(),
        };
        Some(json!({"step_by_step_thinking": "The reference answer of the dataset.", "answer": answer}).to_string())
    }
}

impl MedCalc {
    /// The record's gold answer, by the kind of its calculator.
    fn gold(&self, record: &Map<String, Value>, answer: &str) -> Result<Gold> {
        let calculator = record.get(&self.args.calculator_field).and_then(as_integer);
        let output_type = record.get(&self.args.output_type_field).and_then(Value::as_str);
        let kind = answer::kind(calculator, output_type).ok_or_else(|| {
            let field = &self.args.calculator_field;
            Error::bad_record(format!(
                "field `{field}`: unknown calculator, and no known `{}`",
                self.args.output_type_field
            ))
        })?;
        let unreadable = || {
            Error::bad_record(format!(
                "field `{}`: `{answer}` cannot be read as a {} answer",
                self.args.answer_field,
                kind.as_str()
            ))
        };
        Ok(match kind {
            Kind::Decimal => Gold::Decimal {
                lower: self.limit(record, &self.args.lower_field)?,
                upper: self.limit(record, &self.args.upper_field)?,
            },
            Kind::Integer => Gold::Integer {
                value: answer.trim().parse::<f64>().ok().filter(|v| v.fract() == 0.0).ok_or_else(unreadable)? as i64,
            },
            Kind::Date => Gold::Date { date: answer::date_in(answer).ok_or_else(unreadable)? },
            Kind::WeeksDays => Gold::WeeksDays { duration: answer::weeks_days(answer).ok_or_else(unreadable)? },
        })
    }

    fn limit(&self, record: &Map<String, Value>, field: &str) -> Result<f64> {
        let value = text(record, field)?;
        value.trim().parse().map_err(|_| Error::bad_record(format!("field `{field}`: `{value}` is not a number")))
    }
}

/// A string field (numbers are accepted as their text).
fn text(record: &Map<String, Value>, field: &str) -> Result<String> {
    match record.get(field) {
        Some(Value::String(text)) => Ok(text.clone()),
        Some(Value::Number(number)) => Ok(number.to_string()),
        None | Some(Value::Null) => Err(Error::bad_record(format!("field `{field}`: missing"))),
        Some(other) => {
            let shown: String = other.to_string().chars().take(60).collect();
            Err(Error::bad_record(format!("field `{field}`: expected a string, got {shown}")))
        }
    }
}

/// An integer, or a string of digits (CSV values are strings).
fn as_integer(value: &Value) -> Option<i64> {
    match value {
        Value::Number(number) => number.as_i64(),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }
}

assay_sdk::register_environment!(MedCalc);
