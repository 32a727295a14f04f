//! Reading a question, its context, its options and the gold answer from a
//! record, with field names from the arguments.

use crate::args::Args;
use assay_sdk::{Error, Result};
use serde_json::{Map, Value};

/// One question read from a record.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// The question text.
    pub question: String,
    /// The context passage, if the record has one.
    pub context: Option<String>,
    /// The options as (label, text), in the order shown.
    pub choices: Vec<(String, String)>,
    /// The labels an answer may take (empty for free answers).
    pub labels: Vec<String>,
    /// The gold answer (one of `labels` when there are labels).
    pub gold: String,
}

/// Read one record; errors name the field at fault.
pub fn read(args: &Args, record: &Map<String, Value>) -> Result<Item> {
    let question = text(&args.question_field, lookup(record, &args.question_field))?;
    let context = match &args.context_field {
        Some(field) => Some(text(field, lookup(record, field))?),
        None => None,
    };
    let choices = match &args.choices_field {
        Some(field) => choices(field, lookup(record, field))?,
        None => Vec::new(),
    };
    let labels = match &args.labels {
        Some(labels) => labels.clone(),
        None => choices.iter().map(|(label, _)| label.clone()).collect(),
    };
    let answer = text(&args.answer_field, lookup(record, &args.answer_field))?.trim().to_string();
    let gold = if labels.is_empty() { answer } else { gold_label(&args.answer_field, &answer, &labels)? };
    if gold.is_empty() {
        return Err(Error::bad_record(format!("field `{}`: empty", args.answer_field)));
    }
    Ok(Item { question, context, choices, labels, gold })
}

/// The field `path` of the record: the key itself if present, else the
/// dotted path through nested objects (`context.contexts`).
fn lookup<'a>(record: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    if let Some(value) = record.get(path) {
        return Some(value);
    }
    let mut parts = path.split('.');
    let first = record.get(parts.next()?)?;
    parts.try_fold(first, |value, key| value.as_object()?.get(key))
}

/// A string, a number, or a list of strings joined by blank lines.
fn text(field: &str, value: Option<&Value>) -> Result<String> {
    match value {
        Some(Value::String(text)) => Ok(text.clone()),
        Some(Value::Number(number)) => Ok(number.to_string()),
        Some(Value::Array(items)) if items.iter().all(Value::is_string) => {
            let parts: Vec<&str> = items.iter().filter_map(Value::as_str).collect();
            Ok(parts.join("\n\n"))
        }
        None => Err(Error::bad_record(format!("field `{field}`: missing"))),
        Some(other) => Err(field_error(field, "a string", other)),
    }
}

/// Options from a list (lettered A, B, …), a `{"label": [...], "text":
/// [...]}` object, or an object keyed by label; empty texts are dropped.
fn choices(field: &str, value: Option<&Value>) -> Result<Vec<(String, String)>> {
    let pairs: Vec<(String, &Value)> = match value {
        Some(Value::Array(items)) => items.iter().enumerate().map(|(i, v)| (letter(i), v)).collect(),
        Some(Value::Object(map)) => match (map.get("label"), map.get("text")) {
            (Some(Value::Array(labels)), Some(Value::Array(texts))) if labels.len() == texts.len() => {
                let labels: Option<Vec<String>> = labels.iter().map(|l| l.as_str().map(str::to_string)).collect();
                let Some(labels) = labels else {
                    return Err(Error::bad_record(format!("field `{field}.label`: expected strings")));
                };
                labels.into_iter().zip(texts).collect()
            }
            _ => map.iter().map(|(label, v)| (label.clone(), v)).collect(),
        },
        None => return Err(Error::bad_record(format!("field `{field}`: missing"))),
        Some(other) => return Err(field_error(field, "a list or an object of options", other)),
    };
    let mut options = Vec::new();
    for (label, value) in pairs {
        match value {
            Value::String(text) if text.trim().is_empty() => {}
            Value::String(text) => options.push((label, text.clone())),
            Value::Null => {}
            other => return Err(field_error(&format!("{field}.{label}"), "a string", other)),
        }
    }
    if options.is_empty() {
        return Err(Error::bad_record(format!("field `{field}`: no options")));
    }
    Ok(options)
}

fn letter(index: usize) -> String {
    char::from_u32(u32::from('A') + index as u32).map(String::from).unwrap_or_default()
}

/// The label the gold answer names (labels compare case-insensitively).
fn gold_label(field: &str, answer: &str, labels: &[String]) -> Result<String> {
    labels
        .iter()
        .find(|label| label.eq_ignore_ascii_case(answer))
        .cloned()
        .ok_or_else(|| Error::bad_record(format!("field `{field}`: `{answer}` is not one of {}", labels.join(", "))))
}

/// "field `x`: expected ..., got ..." with the value shortened.
fn field_error(field: &str, expected: &str, got: &Value) -> Error {
    let shown: String = got.to_string().chars().take(60).collect();
    Error::bad_record(format!("field `{field}`: expected {expected}, got {shown}"))
}

/// "yes, no or maybe": the labels as a prompt names them.
pub fn phrase(labels: &[String]) -> String {
    match labels.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}

/// The options as lines `A. text`.
pub fn choices_block(choices: &[(String, String)]) -> String {
    let lines: Vec<String> = choices.iter().map(|(label, text)| format!("{label}. {text}")).collect();
    lines.join("\n")
}
