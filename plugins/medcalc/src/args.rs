//! The environment's arguments (`env_args`): record fields (MedCalc-Bench's
//! column names by default) and the prompt (the authors' zero-shot prompt
//! by default). Every argument is optional; [`describe`] documents each.

use assay_sdk::{Description, Error, Result, template};
use serde::Deserialize;

/// The authors' zero-shot system message (MedCalc-Bench `run.py`,
/// `zero_shot`).
pub const SYSTEM_PROMPT: &str = "You are a helpful assistant for calculating a score for a given patient note. \
Please think step-by-step to solve the question and then generate the required score. Your output should only \
contain a JSON dict formatted as {\"step_by_step_thinking\": str(your_step_by_step_thinking_procress_to_solve_the_\
question), \"answer\": str(short_and_direct_answer_of_the_question)}.";

/// The authors' zero-shot user message, with `{note}` and `{question}`.
pub const PROMPT_TEMPLATE: &str = "Here is the patient note:\n{note}\n\nHere is the task:\n{question}\n\nPlease \
directly output the JSON dict formatted as {\"step_by_step_thinking\": str(your_step_by_step_thinking_procress_\
to_solve_the_question), \"answer\": str(short_and_direct_answer_of_the_question)}:";

/// The placeholders a `prompt_template` may use.
pub const PLACEHOLDERS: [&str; 2] = ["note", "question"];

/// `env_args` of the `medcalc` environment.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Args {
    /// Record field with the patient note.
    pub note_field: String,
    /// Record field with the question.
    pub question_field: String,
    /// Record field with the calculator's id, which decides the answer kind.
    pub calculator_field: String,
    /// Record field with the output type, used for calculator ids the
    /// benchmark's lists do not name.
    pub output_type_field: String,
    /// Record field with the gold answer.
    pub answer_field: String,
    /// Record field with the lowest decimal answer graded correct.
    pub lower_field: String,
    /// Record field with the highest decimal answer graded correct.
    pub upper_field: String,
    /// The user message, with `{note}` and `{question}`.
    pub prompt_template: String,
    /// The system message; `null` sends none.
    pub system_prompt: Option<String>,
}

impl Default for Args {
    fn default() -> Self {
        Args {
            note_field: "Patient Note".into(),
            question_field: "Question".into(),
            calculator_field: "Calculator ID".into(),
            output_type_field: "Output Type".into(),
            answer_field: "Ground Truth Answer".into(),
            lower_field: "Lower Limit".into(),
            upper_field: "Upper Limit".into(),
            prompt_template: PROMPT_TEMPLATE.into(),
            system_prompt: Some(SYSTEM_PROMPT.into()),
        }
    }
}

impl Args {
    /// Reject unusable arguments, naming the field.
    pub fn validate(&self) -> Result<()> {
        let fields = [
            ("note_field", &self.note_field),
            ("question_field", &self.question_field),
            ("calculator_field", &self.calculator_field),
            ("output_type_field", &self.output_type_field),
            ("answer_field", &self.answer_field),
            ("lower_field", &self.lower_field),
            ("upper_field", &self.upper_field),
        ];
        if let Some((name, _)) = fields.iter().find(|(_, value)| value.trim().is_empty()) {
            return Err(Error::bad_args(format!("field `{name}`: must not be empty")));
        }
        if !self.prompt_template.contains("{question}") {
            return Err(Error::bad_args("field `prompt_template`: must contain `{question}`"));
        }
        if let Some(name) = template::unknown_placeholder(&self.prompt_template, &PLACEHOLDERS) {
            let message =
                format!("field `prompt_template`: unknown placeholder `{{{name}}}` (known: `note`, `question`)");
            return Err(Error::bad_args(message));
        }
        Ok(())
    }
}

/// What `assay plugin info` shows: the environment and every argument.
pub fn describe() -> Description {
    let json = |text: &str| serde_json::Value::from(text).to_string();
    Description::new(
        "MedCalc-Bench clinical calculations, graded by the benchmark's rules. The answer is read from the reply's \
         JSON {\"answer\": ...} (the official prompt asks for it), else from \"Answer: ...\" / \"the answer is \
         ...\". By calculator: decimals are correct within the record's lower and upper limits (a percentage \
         counts as a fraction, \"... mL/min/1.73\" as its number); integer scores equal the gold after rounding \
         (\"3 out of 5\" is 3, a list \"1, 2, 3\" counts its items); the estimated due date and date of \
         conception must be the same day (M/D/YYYY, leading zeros optional); gestational age must be the same \
         (weeks, days).",
    )
    .arg("note_field", "string", Some("\"Patient Note\""), "Record field with the patient note.")
    .arg("question_field", "string", Some("\"Question\""), "Record field with the question.")
    .arg("calculator_field", "string", Some("\"Calculator ID\""), "Record field with the calculator id.")
    .arg("output_type_field", "string", Some("\"Output Type\""), "Record field with the output type (fallback).")
    .arg("answer_field", "string", Some("\"Ground Truth Answer\""), "Record field with the gold answer.")
    .arg("lower_field", "string", Some("\"Lower Limit\""), "Record field with the lowest correct decimal.")
    .arg("upper_field", "string", Some("\"Upper Limit\""), "Record field with the highest correct decimal.")
    .arg(
        "prompt_template",
        "string",
        Some(&json(PROMPT_TEMPLATE)),
        "The user message; placeholders {note} and {question}. Default: the authors' zero-shot prompt.",
    )
    .arg(
        "system_prompt",
        "string",
        Some(&json(SYSTEM_PROMPT)),
        "The system message (the authors' zero-shot one by default); null sends none.",
    )
}
