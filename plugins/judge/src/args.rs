//! The environment's arguments (`env_args`): which record fields hold the
//! question, reference, rubric and baseline answer, how grades are read,
//! and the prompts. Every argument is optional; [`describe`] documents each.

use assay_sdk::{Description, Error, Result, template};
use serde::Deserialize;

/// The judge prompt for grading against a reference or rubric (C/P/I).
pub const GRADE_TEMPLATE: &str = include_str!("../prompts/grade.txt");
/// The judge prompt for a 1-10 rating.
pub const RATE_TEMPLATE: &str = include_str!("../prompts/rate.txt");
/// The judge prompt comparing two responses.
pub const PAIRWISE_TEMPLATE: &str = include_str!("../prompts/pairwise.txt");

/// Placeholders of the grading and rating judge templates.
pub const GRADE_PLACEHOLDERS: [&str; 5] = ["question", "answer", "reference", "rubric", "criteria"];
/// Placeholders of the pairwise judge template.
pub const PAIRWISE_PLACEHOLDERS: [&str; 6] = ["question", "answer_a", "answer_b", "reference", "rubric", "criteria"];

/// How the judge's reply becomes a reward.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Scale {
    /// `GRADE: C` (1), `GRADE: P` (`partial_credit`), `GRADE: I` (0).
    #[serde(rename = "cpi")]
    Cpi,
    /// `Rating: [[N]]`, N from 1 to 10, mapped to (N - 1) / 9.
    #[serde(rename = "1-10")]
    OneToTen,
}

/// `env_args` of the `judge` environment.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Args {
    /// Record field with the question (a dotted path reaches into objects).
    pub question_field: String,
    /// Record field with a reference answer.
    pub reference_field: Option<String>,
    /// Record field with a grading rubric for that record.
    pub rubric_field: Option<String>,
    /// One rubric for every record.
    pub rubric: Option<String>,
    /// Record field with a baseline's answer: set, the model's answer is
    /// compared with it (pairwise) instead of graded alone.
    pub baseline_field: Option<String>,
    /// How a grade is read (not used pairwise).
    pub scale: Scale,
    /// The reward of a `P` grade.
    pub partial_credit: f64,
    /// The user message to the model under test.
    pub prompt_template: String,
    /// A system message to the model under test.
    pub system_prompt: Option<String>,
    /// The judge's user message; `None` is the shipped prompt of the mode.
    pub judge_template: Option<String>,
    /// A system message to the judge.
    pub judge_system_prompt: Option<String>,
    /// Upper bound on each judge reply.
    pub judge_max_tokens: u32,
}

impl Default for Args {
    fn default() -> Self {
        Args {
            question_field: "question".into(),
            reference_field: None,
            rubric_field: None,
            rubric: None,
            baseline_field: None,
            scale: Scale::Cpi,
            partial_credit: 0.5,
            prompt_template: "{question}".into(),
            system_prompt: None,
            judge_template: None,
            judge_system_prompt: None,
            judge_max_tokens: 1024,
        }
    }
}

impl Args {
    /// Reject argument combinations that cannot work, naming the field.
    pub fn validate(&self) -> Result<()> {
        if !(0.0..=1.0).contains(&self.partial_credit) {
            return Err(Error::bad_args("field `partial_credit`: must be between 0 and 1"));
        }
        if self.rubric.is_some() && self.rubric_field.is_some() {
            return Err(Error::bad_args("field `rubric`: set only one of `rubric` and `rubric_field`"));
        }
        let has_criteria = self.reference_field.is_some() || self.rubric_field.is_some() || self.rubric.is_some();
        if !self.pairwise() && self.scale == Scale::Cpi && !has_criteria {
            return Err(Error::bad_args(
                "field `reference_field`: C/P/I grading needs a reference or a rubric (set `reference_field`, \
                 `rubric_field` or `rubric`), or use `scale: 1-10`",
            ));
        }
        check_template("prompt_template", &self.prompt_template, &["question"])?;
        let known: &[&str] = if self.pairwise() { &PAIRWISE_PLACEHOLDERS } else { &GRADE_PLACEHOLDERS };
        match &self.judge_template {
            Some(text) => check_template("judge_template", text, known),
            None => Ok(()),
        }
    }

    /// Whether answers are compared with a baseline's.
    pub fn pairwise(&self) -> bool {
        self.baseline_field.is_some()
    }

    /// The judge's user template.
    pub fn judge_template(&self) -> &str {
        match (&self.judge_template, self.pairwise(), self.scale) {
            (Some(text), _, _) => text,
            (None, true, _) => PAIRWISE_TEMPLATE,
            (None, false, Scale::Cpi) => GRADE_TEMPLATE,
            (None, false, Scale::OneToTen) => RATE_TEMPLATE,
        }
    }
}

/// A template must use only `known` placeholders and contain the first.
fn check_template(field: &str, text: &str, known: &[&str]) -> Result<()> {
    if let Some(name) = template::unknown_placeholder(text, known) {
        let known = known.join("`, `");
        return Err(Error::bad_args(format!("field `{field}`: unknown placeholder `{{{name}}}` (known: `{known}`)")));
    }
    if !text.contains(&format!("{{{}}}", known[0])) {
        return Err(Error::bad_args(format!("field `{field}`: must contain `{{{}}}`", known[0])));
    }
    Ok(())
}

/// What `assay plugin info` shows: the environment and every argument.
pub fn describe() -> Description {
    Description::new(
        "Open-ended answers graded by a judge model (grant `judge` and name one with `judge: {model: ID}`). \
         Graded alone, the judge sees the question, the answer and the record's reference and/or rubric, and \
         ends with `GRADE: C|P|I` (reward 1, `partial_credit`, 0) or, with `scale: 1-10`, `Rating: [[N]]` \
         (reward (N-1)/9). Pairwise (`baseline_field`), the judge compares the answer with the baseline's twice, \
         in both orders, to cancel position bias; each verdict `[[A]]`, `[[B]]` or `[[C]]` (tie) gives the model \
         1, 0 or 0.5, and the reward is their mean (metrics `win`, `tie`, `loss`, `consistent`). A judge reply \
         without a grade is parse status `ungraded`, never a silent 0.",
    )
    .capability("judge")
    .arg(
        "question_field",
        "string",
        Some("\"question\""),
        "Record field with the question; `a.b` reaches into objects.",
    )
    .arg("reference_field", "string", Some("null"), "Record field with a reference answer shown to the judge.")
    .arg("rubric_field", "string", Some("null"), "Record field with the record's grading rubric.")
    .arg("rubric", "string", Some("null"), "One grading rubric for every record.")
    .arg(
        "baseline_field",
        "string",
        Some("null"),
        "Record field with a baseline model's answer; set, grading is pairwise against it.",
    )
    .arg("scale", "string", Some("\"cpi\""), "`cpi` (GRADE: C/P/I) or `1-10` (Rating: [[N]]); not used pairwise.")
    .arg("partial_credit", "number", Some("0.5"), "The reward of a `P` grade.")
    .arg("prompt_template", "string", Some("\"{question}\""), "The user message to the model under test.")
    .arg("system_prompt", "string", Some("null"), "A system message to the model under test.")
    .arg(
        "judge_template",
        "string",
        Some("null"),
        "The judge's user message. Placeholders: {question}, {answer} (pairwise: {answer_a}, {answer_b}), \
         {reference}, {rubric}, {criteria} (the reference and rubric as labelled blocks). Default: the shipped \
         prompts/grade.txt, rate.txt or pairwise.txt.",
    )
    .arg("judge_system_prompt", "string", Some("null"), "A system message to the judge.")
    .arg("judge_max_tokens", "integer", Some("1024"), "Upper bound on each judge reply.")
}
