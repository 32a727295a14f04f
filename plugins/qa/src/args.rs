//! The environment's arguments (`env_args`): which record fields hold the
//! question, context, options and gold answer, the label set, and the
//! prompt. Every argument is optional; [`describe`] documents each.

use assay_sdk::{Description, Error, Result, template};
use serde::Deserialize;

/// The placeholders a `prompt_template` may use.
pub const PLACEHOLDERS: [&str; 4] = ["question", "context", "choices", "labels"];

/// The instruction ending the default prompt when answers come from a
/// label set or lettered options.
pub const LABEL_INSTRUCTION: &str =
    "Think it through if you need to, then finish your reply with a line \"Answer: X\", where X is {labels}.";

/// The instruction ending the default prompt for free short answers.
pub const FREE_INSTRUCTION: &str = "Think it through if you need to, then finish your reply with \"The answer is \
X.\", where X is your final answer, written as the question asks for it.";

/// `env_args` of the `qa` environment.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Args {
    /// Record field with the question (a dotted path reaches into objects).
    pub question_field: String,
    /// Record field with a context passage (a string, or a list of strings
    /// joined by blank lines), e.g. `context.contexts`.
    pub context_field: Option<String>,
    /// Record field with lettered options: a list, an object `{"A": text}`
    /// or `{"label": [...], "text": [...]}`. The answer is then a label.
    pub choices_field: Option<String>,
    /// Record field with the gold answer.
    pub answer_field: String,
    /// The answers allowed, e.g. `["yes", "no", "maybe"]`.
    pub labels: Option<Vec<String>>,
    /// The user message; `None` builds one from the fields in use.
    pub prompt_template: Option<String>,
    /// A system message sent first, verbatim.
    pub system_prompt: Option<String>,
}

impl Default for Args {
    fn default() -> Self {
        Args {
            question_field: "question".into(),
            context_field: None,
            choices_field: None,
            answer_field: "answer".into(),
            labels: None,
            prompt_template: None,
            system_prompt: None,
        }
    }
}

impl Args {
    /// Reject argument combinations that cannot work, naming the field.
    pub fn validate(&self) -> Result<()> {
        let fields = [("question_field", Some(&self.question_field)), ("answer_field", Some(&self.answer_field))];
        let optional = [("context_field", self.context_field.as_ref()), ("choices_field", self.choices_field.as_ref())];
        for (name, value) in fields.into_iter().chain(optional) {
            if value.is_some_and(|v| v.trim().is_empty()) {
                return Err(Error::bad_args(format!("field `{name}`: must not be empty")));
            }
        }
        if let Some(labels) = &self.labels {
            validate_labels(labels)?;
            if self.choices_field.is_some() {
                return Err(Error::bad_args("field `labels`: set only one of `labels` and `choices_field`"));
            }
        }
        self.validate_template()
    }

    fn validate_template(&self) -> Result<()> {
        let Some(text) = &self.prompt_template else { return Ok(()) };
        if !text.contains("{question}") {
            return Err(Error::bad_args("field `prompt_template`: must contain `{question}`"));
        }
        if let Some(name) = template::unknown_placeholder(text, &PLACEHOLDERS) {
            let known = PLACEHOLDERS.join("`, `");
            let message = format!("field `prompt_template`: unknown placeholder `{{{name}}}` (known: `{known}`)");
            return Err(Error::bad_args(message));
        }
        let unset = [("context", self.context_field.is_none()), ("choices", self.choices_field.is_none())];
        if let Some((name, _)) = unset.into_iter().find(|(name, unset)| *unset && text.contains(&format!("{{{name}}}")))
        {
            let message = format!("field `prompt_template`: uses `{{{name}}}` but `{name}_field` is not set");
            return Err(Error::bad_args(message));
        }
        Ok(())
    }

    /// Whether answers are read against a set of labels (a fixed `labels`
    /// list, or the option labels of each record).
    pub fn labelled(&self) -> bool {
        self.labels.is_some() || self.choices_field.is_some()
    }

    /// The user template: `prompt_template`, else one built from the fields
    /// in use (context, question, options) and the instruction.
    pub fn template(&self) -> String {
        if let Some(text) = &self.prompt_template {
            return text.clone();
        }
        let mut text = String::new();
        if self.context_field.is_some() {
            text.push_str("Context:\n{context}\n\n");
        }
        text.push_str("Question: {question}\n\n");
        if self.choices_field.is_some() {
            text.push_str("{choices}\n\n");
        }
        text.push_str(if self.labelled() { LABEL_INSTRUCTION } else { FREE_INSTRUCTION });
        text
    }
}

/// Labels must be distinct single words (letters or digits), so a reply's
/// words can be matched against them.
fn validate_labels(labels: &[String]) -> Result<()> {
    if labels.is_empty() {
        return Err(Error::bad_args("field `labels`: needs at least one label"));
    }
    for (i, label) in labels.iter().enumerate() {
        if label.is_empty() || !label.chars().all(char::is_alphanumeric) {
            return Err(Error::bad_args(format!("field `labels[{i}]`: `{label}` is not a single word")));
        }
        if labels[..i].iter().any(|other| other.eq_ignore_ascii_case(label)) {
            return Err(Error::bad_args(format!("field `labels[{i}]`: `{label}` is listed twice")));
        }
    }
    Ok(())
}

/// What `assay plugin info` shows: the environment and every argument.
pub fn describe() -> Description {
    Description::new(
        "Closed-form short answers. With `labels` (e.g. yes/no/maybe for PubMedQA) or `choices_field` (lettered \
         options), the final label is read from what models write (\"Answer: yes\", \"**Final answer: maybe**\", \
         a bold label, \\boxed{}, a label alone on the last line); two labels where one is expected (\"yes or \
         maybe\") are malformed. Without either, the final short answer (\"The answer is X\", \\boxed{}, else the \
         last line) must equal the gold after normalisation (case, spacing, quotes, a final period, \"(A)\" = \
         \"A\", numbers by value).",
    )
    .arg(
        "question_field",
        "string",
        Some("\"question\""),
        "Record field with the question; `a.b` reaches into objects.",
    )
    .arg("context_field", "string", Some("null"), "Record field with a context passage (string or list of strings).")
    .arg(
        "choices_field",
        "string",
        Some("null"),
        "Record field with options: a list (lettered A, B, …), an object {\"A\": text, …} (empty texts dropped) \
         or {\"label\": [...], \"text\": [...]}. The gold answer is then one of the labels.",
    )
    .arg("answer_field", "string", Some("\"answer\""), "Record field with the gold answer.")
    .arg("labels", "list<string>", Some("null"), "The answers allowed, single words, e.g. [\"yes\",\"no\",\"maybe\"].")
    .arg(
        "prompt_template",
        "string",
        Some("null"),
        "The user message. Placeholders: {question}, {context}, {choices} (lines \"A. text\"), {labels} (\"yes, no \
         or maybe\"). Default: the context, question and options present, then an instruction to finish with \
         \"Answer: X\" (labels) or \"The answer is X.\" (free answers).",
    )
    .arg("system_prompt", "string", Some("null"), "A system message sent first, verbatim.")
}
