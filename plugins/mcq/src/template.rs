//! Filling the prompt template: `{question}`, `{choices}` (lettered
//! lines) and `{letters}` ("A, B, C or D"), with the SDK's renderer.

use crate::letters;
use assay_sdk::{Error, Result, template};
use serde_json::{Map, Value};

/// The placeholders a template may use.
pub const PLACEHOLDERS: [&str; 3] = ["question", "choices", "letters"];

/// The placeholders a `description` may use.
pub const DESCRIPTION_PLACEHOLDERS: [&str; 1] = ["subject"];

/// The options as lettered lines: `A. text`, one per line.
pub fn choices_block(options: &[String]) -> String {
    let lines: Vec<String> =
        options.iter().enumerate().map(|(i, text)| format!("{}. {text}", letters::letter(i))).collect();
    lines.join("\n")
}

/// Fill `template` for one question. Replacement is a single pass over the
/// template, so braces inside the question or options are never treated as
/// placeholders.
pub fn render(template: &str, question: &str, options: &[String]) -> String {
    let choices = choices_block(options);
    let letters = letters::phrase(options.len());
    template::render(template, &[("question", question), ("choices", &choices), ("letters", &letters)])
}

/// Fill a `description` for `record`: `{subject}` is its `subject_field`
/// with `_` as spaces ("abstract_algebra" reads "abstract algebra", as in
/// lm-evaluation-harness's MMLU descriptions). The field is needed only
/// when the description names it.
pub fn description(description: &str, record: &Map<String, Value>, subject_field: &str) -> Result<String> {
    if template::unknown_placeholder(description, &[]).is_none() {
        return Ok(description.to_string());
    }
    let subject = match record.get(subject_field) {
        Some(Value::String(subject)) => subject.replace('_', " "),
        _ => {
            let message =
                format!("field `{subject_field}`: missing or not a string, and `description` uses {{subject}}");
            return Err(Error::BadRecord(message));
        }
    };
    Ok(template::render(description, &[("subject", &subject)]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options() -> Vec<String> {
        vec!["red".into(), "green".into(), "blue".into()]
    }

    #[test]
    fn fills_every_placeholder() {
        let text = render("Q: {question}\n{choices}\nPick {letters}.", "Sky colour?", &options());
        assert_eq!(text, "Q: Sky colour?\nA. red\nB. green\nC. blue\nPick A, B or C.");
    }

    #[test]
    fn descriptions_name_the_subject_with_spaces() {
        let record = serde_json::json!({"subject": "abstract_algebra", "topic": 3});
        let record = record.as_object().unwrap();
        let text = description("About {subject}.\n\n", record, "subject").unwrap();
        assert_eq!(text, "About abstract algebra.\n\n");
        assert_eq!(description("No subject.", record, "missing").unwrap(), "No subject.");
        assert!(description("{subject}", record, "topic").unwrap_err().to_string().contains("field `topic`"));
    }

    #[test]
    fn braces_in_the_question_are_left_alone() {
        let text = render("{question} {letters}", "Is {choices} literal? \\frac{1}{2}", &options());
        assert_eq!(text, "Is {choices} literal? \\frac{1}{2} A, B or C");
    }
}
