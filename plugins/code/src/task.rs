//! Reading a task from a record. Three shapes exist: HumanEval's (a prompt
//! to complete, test code defining `check(candidate)` and the entry
//! point's name), MBPP's (a description, `assert` lines and optional setup
//! code) and stdin/stdout tests (a description, and inputs with their
//! expected outputs: APPS's `input_output`, CodeContests' public, private
//! and generated tests). A record with an entry point is HumanEval-style;
//! one with stdin/stdout tests is tested by them; any other is MBPP-style.

use crate::args::Args;
use crate::stdio::IoTest;
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
    /// A program reading stdin and printing its answer (APPS, CodeContests).
    Stdio {
        /// The description shown to the model.
        prompt: String,
        /// The tests, in order.
        tests: Vec<IoTest>,
        /// A known-good program, if the record has one as a string.
        solution: Option<String>,
    },
}

impl Task {
    /// The task prompt (HumanEval: code; MBPP: a description).
    pub fn prompt(&self) -> &str {
        match self {
            Task::Function { prompt, .. } | Task::Asserts { prompt, .. } | Task::Stdio { prompt, .. } => prompt,
        }
    }

    /// The function under test, when the record names it.
    pub fn entry_point(&self) -> Option<&str> {
        match self {
            Task::Function { entry_point, .. } => Some(entry_point),
            Task::Asserts { .. } | Task::Stdio { .. } => None,
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
    if let Some(tests) = io_tests(args, record)? {
        return Ok(Task::Stdio { prompt, tests, solution });
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

/// The record's stdin/stdout tests: APPS's `io_tests_field` (a JSON
/// object, or a string holding one, with `inputs` and `outputs`), else
/// CodeContests' `io_test_sets` (each `{input: [...], output: [...]}`),
/// with at most `max_generated_tests` from `generated_tests`. `None` when
/// the record has neither.
fn io_tests(args: &Args, record: &Map<String, Value>) -> Result<Option<Vec<IoTest>>> {
    let field = &args.io_tests_field;
    let tests = match record.get(field) {
        Some(Value::Null) | None => codecontests_tests(args, record)?,
        Some(Value::String(text)) => {
            let value = serde_json::from_str(text)
                .map_err(|e| Error::bad_record(format!("field `{field}`: not JSON ({e})")))?;
            Some(apps_tests(field, &value)?)
        }
        Some(value) => Some(apps_tests(field, value)?),
    };
    match tests {
        Some(tests) if tests.is_empty() => Err(Error::bad_record(format!("field `{field}`: no tests"))),
        tests => Ok(tests),
    }
}

fn apps_tests(field: &str, value: &Value) -> Result<Vec<IoTest>> {
    if value.get("fn_name").is_some_and(|name| !name.is_null()) {
        let message = format!("field `{field}`: call-based tests (`fn_name`) are not supported, only stdin/stdout");
        return Err(Error::bad_record(message));
    }
    paired(field, value, ["inputs", "outputs"])
}

fn codecontests_tests(args: &Args, record: &Map<String, Value>) -> Result<Option<Vec<IoTest>>> {
    let mut found = None;
    for set in &args.io_test_sets {
        let Some(value) = record.get(set).filter(|v| !v.is_null()) else { continue };
        let mut tests = paired(set, value, ["input", "output"])?;
        if set == "generated_tests" {
            tests.truncate(args.max_generated_tests.unwrap_or(usize::MAX));
        }
        found.get_or_insert_with(Vec::new).extend(tests);
    }
    Ok(found)
}

/// `value`'s inputs and outputs (the two `names`), lists of strings of one
/// length, as tests.
fn paired(field: &str, value: &Value, names: [&str; 2]) -> Result<Vec<IoTest>> {
    let strings = |name: &str| -> Result<Vec<String>> {
        let path = format!("{field}.{name}");
        match value.get(name) {
            Some(Value::Array(items)) => strings(&path, items),
            Some(other) => Err(field_error(&path, "a list of strings", other)),
            None => Err(Error::bad_record(format!("field `{path}`: missing"))),
        }
    };
    let (inputs, outputs) = (strings(names[0])?, strings(names[1])?);
    if inputs.len() != outputs.len() {
        let message = format!("field `{field}`: {} inputs but {} outputs", inputs.len(), outputs.len());
        return Err(Error::bad_record(message));
    }
    Ok(inputs.into_iter().zip(outputs).map(|(input, output)| IoTest { input, output }).collect())
}

fn assert_lines(field: &str, list: &Value) -> Result<Vec<String>> {
    match list {
        Value::Array(items) if !items.is_empty() => strings(field, items),
        other => Err(field_error(field, "a non-empty list of strings", other)),
    }
}

/// `items`, the list at `field`, as strings; an error names the item.
fn strings(field: &str, items: &[Value]) -> Result<Vec<String>> {
    let string = |(i, item): (usize, &Value)| match item {
        Value::String(text) => Ok(text.clone()),
        other => Err(field_error(&format!("{field}[{i}]"), "a string", other)),
    };
    items.iter().enumerate().map(string).collect()
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
