//! Reading a task from a record. Two shapes exist: HumanEval's (a prompt
//! to complete, test code defining `check(candidate)` and the entry
//! point's name) and MBPP's (a description, `assert` lines and optional
//! setup code). A record with an entry point is HumanEval-style.

use crate::args::Args;
use assay_sdk::{Error, Result};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// One task, as kept in the state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Task {
    /// HumanEval-style: the model completes `prompt`, a function's
    /// signature and docstring; `test` defines `check(candidate)`.
    Function {
        /// The code the model completes.
        prompt: String,
        /// The function's name, passed to `check`.
        entry_point: String,
        /// Python source defining `check(candidate)`.
        test: String,
        /// The body completing `prompt`, if the record has one.
        solution: Option<String>,
    },
    /// MBPP-style: the model writes code from a description; the asserts
    /// name the function.
    Asserts {
        /// The description shown to the model.
        prompt: String,
        /// `assert` lines, run in order after the code.
        tests: Vec<String>,
        /// Code run between the solution and the asserts (may be empty).
        setup: String,
        /// The whole known-good code, if the record has it.
        solution: Option<String>,
    },
}

impl Task {
    /// The task prompt (HumanEval: code; MBPP: a description).
    pub fn prompt(&self) -> &str {
        match self {
            Task::Function { prompt, .. } | Task::Asserts { prompt, .. } => prompt,
        }
    }

    /// The function under test, when the record names it.
    pub fn entry_point(&self) -> Option<&str> {
        match self {
            Task::Function { entry_point, .. } => Some(entry_point),
            Task::Asserts { .. } => None,
        }
    }
}

/// Read one record with the field names of `args`; errors name the field.
pub fn read(args: &Args, record: &Map<String, Value>) -> Result<Task> {
    let prompt = string(record, &args.prompt_field)?;
    let solution = optional_string(record, &args.solution_field)?;
    if record.contains_key(&args.entry_point_field) {
        let entry_point = string(record, &args.entry_point_field)?;
        let test = string(record, &args.test_field)?;
        return Ok(Task::Function { prompt, entry_point, test, solution });
    }
    let Some(list) = record.get(&args.tests_list_field) else {
        let (entry_point, tests) = (&args.entry_point_field, &args.tests_list_field);
        let message = format!("field `{entry_point}`: missing (nor is there an MBPP-style `{tests}`)");
        return Err(Error::bad_record(message));
    };
    let tests = assert_lines(&args.tests_list_field, list)?;
    let setup = optional_string(record, &args.setup_field)?.unwrap_or_default();
    Ok(Task::Asserts { prompt, tests, setup, solution })
}

fn assert_lines(field: &str, list: &Value) -> Result<Vec<String>> {
    match list {
        Value::Array(items) if !items.is_empty() => items
            .iter()
            .enumerate()
            .map(|(i, item)| match item {
                Value::String(line) => Ok(line.clone()),
                other => Err(field_error(&format!("{field}[{i}]"), "a string", other)),
            })
            .collect(),
        other => Err(field_error(field, "a non-empty list of strings", other)),
    }
}

fn string(record: &Map<String, Value>, field: &str) -> Result<String> {
    match record.get(field) {
        Some(Value::String(text)) => Ok(text.clone()),
        Some(other) => Err(field_error(field, "a string", other)),
        None => Err(Error::bad_record(format!("field `{field}`: missing"))),
    }
}

fn optional_string(record: &Map<String, Value>, field: &str) -> Result<Option<String>> {
    match record.get(field) {
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(Value::Null) | None => Ok(None),
        Some(other) => Err(field_error(field, "a string", other)),
    }
}

/// "field `x`: expected ..., got ..." with the value shortened.
fn field_error(field: &str, expected: &str, got: &Value) -> Error {
    let mut shown = got.to_string();
    if shown.len() > 60 {
        let cut = (0..=60).rev().find(|&i| shown.is_char_boundary(i)).unwrap_or(0);
        shown.truncate(cut);
        shown.push('…');
    }
    Error::bad_record(format!("field `{field}`: expected {expected}, got {shown}"))
}
