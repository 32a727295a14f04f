//! Reading a question, its options and the gold answer from a record.
//! Datasets name these fields differently (`choices` lists, `A`..`D`
//! columns, MMLU's `choice0`..`choice3` with a 0-based `answer` index), so
//! the mapping comes from the arguments, with auto-detection by default.

use crate::args::Args;
use crate::letters::{self, MAX_OPTIONS};
use assay_sdk::{Error, Result};
use serde_json::{Map, Value};

/// Where a record keeps its options.
#[derive(Debug, Clone)]
pub enum ChoiceSource {
    /// `choices`, else `options`, else columns `A`, `B`, … or `choice0`, ….
    Auto,
    /// One field holding a list.
    List(String),
    /// One field per option, in letter order.
    Columns(Vec<String>),
}

/// Where a record says which option is correct.
#[derive(Debug, Clone)]
enum GoldSource {
    /// A field with a letter, an index or a string of digits.
    Answer { field: String, index_base: u32 },
    /// The option read from `choice_fields[index]` (GPQA's `Correct Answer`).
    Choice { field: String, index: usize },
}

/// Which record fields hold what.
#[derive(Debug, Clone)]
pub struct FieldMap {
    question: String,
    choices: ChoiceSource,
    gold: GoldSource,
}

/// One question read from a record, before any shuffling.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// The question text.
    pub question: String,
    /// The option texts, in dataset order.
    pub options: Vec<String>,
    /// Index of the correct option.
    pub gold: usize,
    /// What identifies the record for a seeded shuffle: its `id` field if
    /// present, else the question text (never its position in the file).
    pub key: String,
}

/// List fields tried, in order, when `choices_field` is not set.
const LIST_FIELDS: [&str; 2] = ["choices", "options"];

impl FieldMap {
    /// The mapping the arguments describe.
    pub fn from_args(args: &Args) -> Self {
        let choices = match (&args.choices_field, &args.choice_fields) {
            (Some(field), _) => ChoiceSource::List(field.clone()),
            (None, Some(columns)) => ChoiceSource::Columns(columns.clone()),
            (None, None) => ChoiceSource::Auto,
        };
        let choice_index = |field: &String| args.choice_fields.as_ref()?.iter().position(|f| f == field);
        let gold = match args.gold_choice_field.as_ref().and_then(|f| Some((f, choice_index(f)?))) {
            Some((field, index)) => GoldSource::Choice { field: field.clone(), index },
            None => GoldSource::Answer { field: args.answer_field.clone(), index_base: args.answer_index_base },
        };
        FieldMap { question: args.question_field.clone(), choices, gold }
    }

    /// Read one record; errors name the field at fault.
    pub fn read(&self, record: &Map<String, Value>) -> Result<Item> {
        let question = match record.get(&self.question) {
            Some(Value::String(text)) => text,
            other => return Err(field_error(&self.question, "a string", other)),
        };
        let options = self.options(record)?;
        let gold = match &self.gold {
            GoldSource::Answer { field, index_base } => {
                let answer = record.get(field).ok_or_else(|| missing(field))?;
                gold_index(field, answer, options.len(), *index_base)?
            }
            GoldSource::Choice { field, index } => match options.get(*index) {
                Some(text) if !text.trim().is_empty() => *index,
                _ => return Err(Error::bad_record(format!("field `{field}`: the gold option is blank"))),
            },
        };
        // Whitespace around a question is an artifact of the dataset's
        // files; lm-evaluation-harness's MMLU drops it too (`question.strip()`).
        Ok(Item { key: record_key(record, question), question: question.trim().to_string(), options, gold })
    }

    fn options(&self, record: &Map<String, Value>) -> Result<Vec<String>> {
        let (field, mut options) = match &self.choices {
            ChoiceSource::List(field) => (field.clone(), list_options(field, record.get(field))?),
            ChoiceSource::Columns(columns) => (columns[0].clone(), column_options(record, columns)?),
            ChoiceSource::Auto => auto_options(record)?,
        };
        // CSV and parquet files with a fixed number of option columns leave
        // the unused ones blank for questions with fewer options.
        while options.last().is_some_and(|o: &Option<String>| o.as_deref().is_none_or(|t| t.trim().is_empty())) {
            options.pop();
        }
        let options: Option<Vec<String>> = options.into_iter().collect();
        let options = options.ok_or_else(|| Error::bad_record(format!("field `{field}`: an option is null")))?;
        if options.is_empty() || options.len() > MAX_OPTIONS {
            let message = format!("field `{field}`: needs 1 to {MAX_OPTIONS} options, got {}", options.len());
            return Err(Error::bad_record(message));
        }
        Ok(options)
    }
}

/// Auto-detection: a list field, else a run of columns. Returns the field
/// name to blame in later errors with the options.
fn auto_options(record: &Map<String, Value>) -> Result<(String, Vec<Option<String>>)> {
    for field in LIST_FIELDS {
        if let Some(value) = record.get(field) {
            return Ok((field.to_string(), list_options(field, Some(value))?));
        }
    }
    let columns = detect_columns(record).ok_or_else(|| {
        Error::bad_record(
            "field `choices`: missing (also looked for `options`, columns `A`, `B`, … and `choice0`, `choice1`, …)",
        )
    })?;
    Ok((columns[0].clone(), column_options(record, &columns)?))
}

/// The longest run `A`, `B`, … or `choice0`, `choice1`, … present in the
/// record, if it has at least two columns (a lone `A` column could be
/// anything).
fn detect_columns(record: &Map<String, Value>) -> Option<Vec<String>> {
    let schemes: [fn(usize) -> String; 2] = [|i| letters::letter(i).to_string(), |i| format!("choice{i}")];
    schemes.iter().find_map(|name| {
        let columns: Vec<String> = (0..MAX_OPTIONS).map(name).take_while(|c| record.contains_key(c)).collect();
        (columns.len() >= 2).then_some(columns)
    })
}

fn list_options(field: &str, value: Option<&Value>) -> Result<Vec<Option<String>>> {
    match value {
        Some(Value::Array(items)) => {
            items.iter().enumerate().map(|(i, item)| option_text(&format!("{field}[{i}]"), item)).collect()
        }
        other => Err(field_error(field, "a list of strings", other)),
    }
}

fn column_options(record: &Map<String, Value>, columns: &[String]) -> Result<Vec<Option<String>>> {
    columns.iter().map(|column| option_text(column, record.get(column).ok_or_else(|| missing(column))?)).collect()
}

/// An option's text; numbers are accepted (JSON datasets with numeric
/// options), null means "no option here".
fn option_text(field: &str, value: &Value) -> Result<Option<String>> {
    match value {
        Value::String(text) => Ok(Some(text.clone())),
        Value::Number(number) => Ok(Some(number.to_string())),
        Value::Null => Ok(None),
        other => Err(field_error(field, "a string", Some(other))),
    }
}

/// The gold index from a letter (`"B"`), an integer, or a digit string
/// (CSV values are always strings).
fn gold_index(field: &str, value: &Value, n: usize, base: u32) -> Result<usize> {
    let number = match value {
        Value::String(text) => {
            let text = text.trim();
            let mut chars = text.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) if c.is_ascii_alphabetic() => {
                    let index = letters::index_of(c.to_ascii_uppercase()).unwrap_or(usize::MAX);
                    return in_range(field, index, n, &format!("letter {c}"));
                }
                _ if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) => text.parse::<u64>().ok(),
                _ => None,
            }
        }
        Value::Number(number) => number.as_u64(),
        _ => None,
    };
    let number = number.ok_or_else(|| field_error(field, "a letter, an index or a string of digits", Some(value)))?;
    let index = number.checked_sub(u64::from(base)).map_or(usize::MAX, |i| usize::try_from(i).unwrap_or(usize::MAX));
    in_range(field, index, n, &format!("index {number} (answer_index_base {base})"))
}

fn in_range(field: &str, index: usize, n: usize, shown: &str) -> Result<usize> {
    if index < n {
        Ok(index)
    } else {
        Err(Error::bad_record(format!("field `{field}`: {shown} is out of range for {n} options")))
    }
}

/// The record's `id` (as text) if present, else the question.
fn record_key(record: &Map<String, Value>, question: &str) -> String {
    match record.get("id") {
        Some(Value::String(id)) => id.clone(),
        Some(Value::Null) | None => question.to_string(),
        Some(other) => other.to_string(),
    }
}

fn missing(field: &str) -> Error {
    Error::bad_record(format!("field `{field}`: missing"))
}

/// "field `x`: missing" or "field `x`: expected ..., got ...".
fn field_error(field: &str, expected: &str, got: Option<&Value>) -> Error {
    match got {
        None => missing(field),
        Some(value) => {
            let mut shown = value.to_string();
            if shown.len() > 60 {
                let cut = (0..=60).rev().find(|&i| shown.is_char_boundary(i)).unwrap_or(0);
                shown.truncate(cut);
                shown.push('…');
            }
            Error::bad_record(format!("field `{field}`: expected {expected}, got {shown}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read(args: serde_json::Value, record: serde_json::Value) -> Result<Item> {
        let args: Args = serde_json::from_value(args).unwrap();
        FieldMap::from_args(&args).read(record.as_object().unwrap())
    }

    #[test]
    fn blank_trailing_columns_are_dropped() {
        let record = json!({"question": "q", "A": "x", "B": "y", "C": "", "D": "", "answer": "B"});
        let item = read(json!({}), record).unwrap();
        assert_eq!(item.options, ["x", "y"]);
        assert_eq!(item.gold, 1);
    }

    #[test]
    fn a_gold_answer_among_dropped_columns_is_out_of_range() {
        let record = json!({"question": "q", "A": "x", "B": "y", "C": "", "answer": "C"});
        let err = read(json!({}), record).unwrap_err();
        assert_eq!(err, Error::bad_record("field `answer`: letter C is out of range for 2 options"));
    }

    #[test]
    fn the_gold_can_be_the_option_of_a_named_column() {
        let args = json!({"choice_fields": ["Wrong 1", "Correct Answer", "Wrong 2"],
                          "gold_choice_field": "Correct Answer", "shuffle_answers": true});
        let record = json!({"question": "q", "Wrong 1": "x", "Correct Answer": "y", "Wrong 2": "z"});
        let item = read(args.clone(), record).unwrap();
        assert_eq!((item.options.join(" "), item.gold), ("x y z".to_string(), 1));
        let blank = json!({"question": "q", "Wrong 1": "x", "Correct Answer": " ", "Wrong 2": "z"});
        let err = read(args, blank).unwrap_err();
        assert_eq!(err, Error::bad_record("field `Correct Answer`: the gold option is blank"));
    }

    #[test]
    fn the_shuffle_key_is_the_id_else_the_question() {
        let with_id = json!({"id": 7, "question": "q", "choices": ["x", "y"], "answer": 0});
        assert_eq!(read(json!({}), with_id).unwrap().key, "7");
        let without = json!({"question": "q", "choices": ["x", "y"], "answer": 0});
        assert_eq!(read(json!({}), without).unwrap().key, "q");
    }
}
