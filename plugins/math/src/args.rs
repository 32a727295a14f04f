//! The environment's arguments (`env_args`): record fields, answer format,
//! prompts and numeric tolerance. Every argument is optional; [`describe`]
//! documents each with its default.

use crate::record::Style;
use assay_sdk::{Description, Error, Result};
use serde::Deserialize;

/// The default prompt for GSM8K-style (number) records: reasoning, then
/// the `#### <number>` line the extractor reads first.
pub const NUMBER_TEMPLATE: &str = "Solve the following math word problem. Reason step by step, then give the \
final answer on its own last line in the form \"#### <number>\", with no units.\n\nQuestion: {question}";

/// The default prompt for MATH-style (LaTeX) records: the final answer in
/// `\boxed{}`, which the extractor reads.
pub const LATEX_TEMPLATE: &str = "Solve the following math problem. Reason step by step, and put your final \
answer in \\boxed{}, in simplest form.\n\nProblem: {question}";

/// How gold answers are read and replies graded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AnswerFormat {
    /// Per record: `number` if the gold answer contains `####` or is a
    /// plain number, else `latex`.
    Auto,
    /// A number (GSM8K), compared numerically.
    Number,
    /// A LaTeX answer (MATH), compared with LaTeX-aware equivalence.
    Latex,
}

/// Prompts loaded by the host from a prompts file named in the config.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Prompts {
    /// A system message.
    pub system_prompt: Option<String>,
    /// The user message template.
    pub prompt_template: Option<String>,
}

/// `env_args` of the `math` environment.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Args {
    /// Record field holding the problem; `None` reads `question`, else
    /// `problem`.
    pub question_field: Option<String>,
    /// Record field holding the gold answer (or GSM8K's worked solution
    /// ending in `#### <n>`).
    pub answer_field: String,
    /// Record field holding a worked solution, if the record has one.
    pub solution_field: String,
    /// How answers are read and compared.
    pub answer_format: AnswerFormat,
    /// The user message, with `{question}`; `None` uses `prompts`, else
    /// the default of the record's format.
    pub prompt_template: Option<String>,
    /// A system message; `None` uses `prompts`, else none.
    pub system_prompt: Option<String>,
    /// Prompts from a prompts file; top-level keys win over these.
    pub prompts: Option<Prompts>,
    /// Relative tolerance, used only when a side is written as a decimal;
    /// exact values (integers, fractions, roots) always compare exactly.
    pub tolerance: f64,
}

impl Default for Args {
    fn default() -> Self {
        Args {
            question_field: None,
            answer_field: "answer".into(),
            solution_field: "solution".into(),
            answer_format: AnswerFormat::Auto,
            prompt_template: None,
            system_prompt: None,
            prompts: None,
            tolerance: 1e-6,
        }
    }
}

/// A template chosen by the arguments, with the field it came from (for
/// error messages).
struct Chosen<'a> {
    template: &'a str,
    field: &'static str,
}

impl Args {
    /// Reject unusable arguments, naming the field.
    pub fn validate(&self) -> Result<()> {
        let fields = [("answer_field", Some(&self.answer_field)), ("solution_field", Some(&self.solution_field))];
        for (name, value) in fields.into_iter().chain([("question_field", self.question_field.as_ref())]) {
            if value.is_some_and(|v| v.trim().is_empty()) {
                return Err(Error::bad_args(format!("field `{name}`: must not be empty")));
            }
        }
        if !(self.tolerance.is_finite() && (0.0..1.0).contains(&self.tolerance)) {
            let message = format!("field `tolerance`: must be at least 0 and below 1, got {}", self.tolerance);
            return Err(Error::bad_args(message));
        }
        match self.chosen_template() {
            Some(chosen) => validate_template(chosen.template, chosen.field),
            None => Ok(()),
        }
    }

    /// The user template for a record of `style`: explicit, else from
    /// `prompts`, else the style's default.
    pub fn template(&self, style: Style) -> &str {
        match (self.chosen_template(), style) {
            (Some(chosen), _) => chosen.template,
            (None, Style::Number) => NUMBER_TEMPLATE,
            (None, Style::Latex) => LATEX_TEMPLATE,
        }
    }

    /// The system message: explicit, else from `prompts`.
    pub fn system(&self) -> Option<&str> {
        let from_prompts = self.prompts.as_ref().and_then(|p| p.system_prompt.as_deref());
        self.system_prompt.as_deref().or(from_prompts)
    }

    fn chosen_template(&self) -> Option<Chosen<'_>> {
        if let Some(template) = &self.prompt_template {
            return Some(Chosen { template, field: "prompt_template" });
        }
        let template = self.prompts.as_ref()?.prompt_template.as_deref()?;
        Some(Chosen { template, field: "prompts.prompt_template" })
    }
}

fn validate_template(template: &str, field: &str) -> Result<()> {
    if !template.contains("{question}") {
        return Err(Error::bad_args(format!("field `{field}`: must contain `{{question}}`")));
    }
    if let Some(name) = assay_sdk::template::unknown_placeholder(template, &["question"]) {
        let message = format!("field `{field}`: unknown placeholder `{{{name}}}` (known: `{{question}}`)");
        return Err(Error::bad_args(message));
    }
    Ok(())
}

/// What `assay plugin info` shows: the environment and every argument
/// with its default as JSON.
pub fn describe() -> Description {
    let json = |text: &str| serde_json::Value::from(text).to_string();
    Description::new(
        "Math problems with a single final answer: GSM8K-style word problems (a number, read from \"#### n\", \
         \"the answer is n\", a last line \"A: n\", \\boxed{} or the last number, compared exactly) and \
         MATH-style competition problems (the last \\boxed{}, then a final-answer phrase, then the math of the \
         last sentence; compared with LaTeX-aware equivalence: exact rationals and square roots, 320-bit values, \
         identities at random points, equations and inequalities, intervals, tuples, sets, matrices, units, \
         percent, thousands separators). info names the extraction rule (method) and the comparison that \
         decided; parse status (ok / no-answer / malformed) is reported apart from correctness.",
    )
    // An env file naming no dataset runs GSM8K's test split.
    .default_dataset(serde_json::json!({"hub": "openai/gsm8k", "config": "main", "split": "test"}))
    .arg(
        "question_field",
        "string",
        Some("\"question\""),
        "Record field holding the problem. Default: `question`, else `problem` (MATH).",
    )
    .arg(
        "answer_field",
        "string",
        Some("\"answer\""),
        "Record field with the gold answer: GSM8K's worked solution ending in \"#### n\" (the number after the \
         last #### is the gold), a number, or a LaTeX answer such as \\frac{\\pi}{2}.",
    )
    .arg(
        "solution_field",
        "string",
        Some("\"solution\""),
        "Record field with a worked solution (optional in records). When its final answer grades correct, it \
         is the reference answer the `oracle` model gives.",
    )
    .arg(
        "answer_format",
        "string",
        Some("\"auto\""),
        "\"number\" (GSM8K: numeric comparison), \"latex\" (MATH: LaTeX equivalence) or \"auto\": per record, \
         number if the gold contains #### or is a plain number, else latex.",
    )
    .arg(
        "prompt_template",
        "string",
        Some("null"),
        &format!(
            "The user message; {{question}} is the problem. Default: `prompts.prompt_template`, else by format: \
             number {}; latex {}.",
            json(NUMBER_TEMPLATE),
            json(LATEX_TEMPLATE)
        ),
    )
    .arg("system_prompt", "string", Some("null"), "A system message sent first. Default: `prompts.system_prompt`.")
    .arg(
        "prompts",
        "object",
        Some("null"),
        "{\"system_prompt\", \"prompt_template\"} from a prompts file named in the config; the top-level keys \
         win over these.",
    )
    .arg(
        "tolerance",
        "float",
        Some("1e-6"),
        "Relative tolerance, used only when a side is written as a decimal (0.333, 3.1416); integers, fractions \
         and roots always compare exactly.",
    )
}
