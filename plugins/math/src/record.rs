//! Reading a record: the problem, the gold answer and how to grade it,
//! and the worked solution if the record has one.

use crate::args::{AnswerFormat, Args};
use crate::number;
use assay_sdk::{Error, Result};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// How a record's answers are read and compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Style {
    /// One number (GSM8K).
    Number,
    /// A LaTeX answer (MATH).
    Latex,
}

impl Style {
    /// The name stored in results.
    pub fn as_str(self) -> &'static str {
        match self {
            Style::Number => "number",
            Style::Latex => "latex",
        }
    }
}

/// One problem read from a record.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// The problem text.
    pub question: String,
    /// The answer field as written (GSM8K: the whole worked solution).
    pub answer: String,
    /// The gold final answer: the number after `####`, or the LaTeX answer.
    pub gold: String,
    /// How to grade against it.
    pub style: Style,
    /// A worked solution, if the record has one.
    pub solution: Option<String>,
}

/// Fields tried, in order, for the problem when `question_field` is unset.
const QUESTION_FIELDS: [&str; 2] = ["question", "problem"];

/// Read one record; errors name the field at fault.
pub fn read(args: &Args, record: &Map<String, Value>) -> Result<Item> {
    let question = match &args.question_field {
        Some(field) => text(record, field)?,
        None => {
            let field = QUESTION_FIELDS
                .iter()
                .find(|f| record.contains_key(**f))
                .ok_or_else(|| Error::bad_record("field `question`: missing (also looked for `problem`)"))?;
            text(record, field)?
        }
    };
    let field = &args.answer_field;
    let answer = match record.get(field) {
        Some(Value::Number(n)) => n.to_string(),
        _ => text(record, field)?,
    };
    let style = match args.answer_format {
        AnswerFormat::Number => Style::Number,
        AnswerFormat::Latex => Style::Latex,
        AnswerFormat::Auto if answer.contains("####") || number::is_plain_number(&answer) => Style::Number,
        AnswerFormat::Auto => Style::Latex,
    };
    let gold = number::gold(&answer);
    if gold.is_empty() {
        return Err(Error::bad_record(format!("field `{field}`: no gold answer")));
    }
    if style == Style::Number && number::value(&gold).is_none() {
        let message = format!(
            "field `{field}`: gold answer `{gold}` is not a number (for LaTeX answers use answer_format \"latex\" or \"auto\")"
        );
        return Err(Error::bad_record(message));
    }
    let solution = match record.get(&args.solution_field) {
        None | Some(Value::Null) => None,
        Some(_) => Some(text(record, &args.solution_field)?),
    };
    Ok(Item { question, answer, gold, style, solution })
}

/// A string field, or an error naming it.
fn text(record: &Map<String, Value>, field: &str) -> Result<String> {
    match record.get(field) {
        Some(Value::String(text)) => Ok(text.clone()),
        None => Err(Error::bad_record(format!("field `{field}`: missing"))),
        Some(other) => {
            let shown: String = other.to_string().chars().take(60).collect();
            Err(Error::bad_record(format!("field `{field}`: expected a string, got {shown}")))
        }
    }
}
