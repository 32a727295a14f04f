//! `{{name}}`: questions with a numeric answer, in the style of GSM8K. Records look like
//! `{"id": "q1", "question": "...", "answer": 42}`; `answer` may also be a string ("1,200").

use assay_sdk::{Description, Environment, Error, Prompt, Result, Rng, Score};
use serde::Deserialize;
use serde_json::Value;

const INSTRUCTION: &str = "Solve it step by step, then give the final answer as \"#### <number>\".";

/// The environment: its settings, decoded from the job's `env_args` (unknown keys are errors).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NumericAnswer {
    system_prompt: Option<String>,
}

/// One dataset record. Other fields (such as `id`) are ignored.
#[derive(Deserialize)]
pub struct Record {
    question: String,
    answer: Value,
}

impl Environment for NumericAnswer {
    type Args = Self;
    type Record = Record;
    /// What grading a record needs, kept by the host between calls: the gold number.
    type State = String;

    fn describe() -> Description {
        let system_prompt = "A system message sent before the question.";
        let description = Description::new("Numeric answers, compared as numbers.");
        description.arg("system_prompt", "string", Some("null"), system_prompt)
    }

    fn new(args: Self) -> Result<Self> {
        Ok(args)
    }

    /// The prompt for one record (`rng` is unused: nothing here is random).
    fn prepare(&self, record: Record, _rng: &mut Rng) -> Result<(Prompt, String)> {
        let gold = match record.answer {
            Value::Number(number) => number.to_string(),
            Value::String(text) => text.trim().replace(',', ""),
            _ => String::new(),
        };
        if number(&gold).is_none() {
            return Err(Error::bad_record("field `answer`: not a number"));
        }
        let mut prompt = Prompt::new();
        if let Some(system) = &self.system_prompt {
            prompt = prompt.system(system.as_str());
        }
        let user = format!("{}\n\n{INSTRUCTION}", record.question);
        Ok((prompt.user(user), gold))
    }

    fn grade(&self, gold: &String, completion: &str) -> Result<Score> {
        let Some(answer) = extract(completion) else {
            return Ok(Score::no_answer());
        };
        let correct = match (number(&answer), number(gold)) {
            (Some(x), Some(y)) => (x - y).abs() <= 1e-6 * y.abs().max(1.0),
            _ => false,
        };
        let score = Score::correct_if(correct).answer(answer);
        Ok(score.info("gold", gold.as_str()))
    }

    /// A perfect reply, used by the `oracle` model and `assay plugin check`.
    fn reference(&self, gold: &String) -> Option<String> {
        Some(format!("#### {gold}"))
    }
}

/// The number after the last "####", else after the last "answer is", else the
/// last number of the reply; commas are removed ("1,200" is 1200).
pub fn extract(reply: &str) -> Option<String> {
    let lower = reply.to_lowercase();
    let after = |marker: &str| numbers(&lower[lower.rfind(marker)?..]).next();
    let marked = after("####").or_else(|| after("answer is"));
    marked.or_else(|| numbers(&lower).last())
}

/// The numbers in a text, in order: digits with a sign, a decimal point or commas.
fn numbers(text: &str) -> impl Iterator<Item = String> + '_ {
    let tokens = text.split(|c: char| !(c.is_ascii_digit() || matches!(c, '-' | '.' | ',')));
    // A full stop after a number ends the sentence, not the number.
    let tokens = tokens.map(|token| token.replace(',', "").trim_end_matches('.').to_string());
    tokens.filter(|token| number(token).is_some())
}

fn number(text: &str) -> Option<f64> {
    text.parse().ok()
}

assay_sdk::register_environment!(NumericAnswer);
