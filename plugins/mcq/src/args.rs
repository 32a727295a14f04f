//! The environment's arguments (`env_args`): which record fields hold the
//! question, options and answer, the prompt, and answer shuffling. Every
//! argument is optional; [`describe`] documents each with its default.

use crate::letters::MAX_OPTIONS;
use crate::template;
use assay_sdk::{Description, Error, Result};
use serde::Deserialize;

/// The prompt used when `prompt_template` is not set. It asks for the
/// final line the extractor reads most reliably.
pub const DEFAULT_TEMPLATE: &str = "Answer the following multiple-choice question. You may think step by step \
first. Finish with the line \"The answer is (X)\", where X is the letter of the correct option ({letters}).\n\n\
Question: {question}\n\n{choices}";

/// The prompt of `mode: loglikelihood` when `prompt_template` is not set:
/// lm-evaluation-harness's MMLU format, the continuation following `Answer:`.
pub const LOGLIKELIHOOD_TEMPLATE: &str = "{question}\n{choices}\nAnswer:";

/// How the model answers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// It writes a reply; the letter is read from it.
    #[default]
    Generate,
    /// Each option's continuation is scored by its log-probability (base
    /// models, as lm-evaluation-harness does); needs the `loglikelihood`
    /// capability.
    Loglikelihood,
}

/// What follows the prompt in `mode: loglikelihood`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Continuations {
    /// The letters: ` A`, ` B`, … (MMLU).
    #[default]
    Letters,
    /// The option texts: ` Paris`, … (ARC, HellaSwag).
    Options,
}

/// `env_args` of the `mcq` environment.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Args {
    /// Record field holding the question text.
    pub question_field: String,
    /// Record field holding the options as a list; `None` auto-detects
    /// `choices`, then `options`.
    pub choices_field: Option<String>,
    /// Record fields holding one option each, in letter order; `None`
    /// auto-detects columns `A`, `B`, … or `choice0`, `choice1`, ….
    pub choice_fields: Option<Vec<String>>,
    /// Record field holding the gold answer: a letter, an index or a
    /// string of digits.
    pub answer_field: String,
    /// What index the first option has when the answer is a number.
    pub answer_index_base: u32,
    /// One of `choice_fields` that always holds the correct option (GPQA's
    /// `Correct Answer`); then `answer_field` is not read.
    pub gold_choice_field: Option<String>,
    /// The user message, with `{question}`, `{choices}` and `{letters}`.
    pub prompt_template: String,
    /// An optional system message sent before the user message, verbatim.
    pub system_prompt: Option<String>,
    /// Text shown once at the start of the prompt, before any few-shot
    /// exemplars, with `{subject}` (lm-evaluation-harness's task
    /// `description`).
    pub description: Option<String>,
    /// Record field whose value fills `{subject}` in `description`.
    pub subject_field: String,
    /// Shuffle each record's options (the gold answer moves with them).
    pub shuffle_answers: bool,
    /// Seed of the shuffle; `None` uses the host's per-sample seed.
    pub shuffle_seed: Option<u64>,
    /// Generate a reply, or score continuations by log-likelihood.
    pub mode: Mode,
    /// The continuations scored in `mode: loglikelihood`.
    pub continuations: Continuations,
}

impl Default for Args {
    fn default() -> Self {
        Args {
            question_field: "question".into(),
            choices_field: None,
            choice_fields: None,
            answer_field: "answer".into(),
            answer_index_base: 0,
            gold_choice_field: None,
            prompt_template: DEFAULT_TEMPLATE.into(),
            system_prompt: None,
            description: None,
            subject_field: "subject".into(),
            shuffle_answers: false,
            shuffle_seed: None,
            mode: Mode::Generate,
            continuations: Continuations::Letters,
        }
    }
}

impl Args {
    /// The prompt template in use: a log-likelihood run without its own
    /// template gets [`LOGLIKELIHOOD_TEMPLATE`].
    pub fn template(&self) -> &str {
        match self.mode {
            Mode::Loglikelihood if self.prompt_template == DEFAULT_TEMPLATE => LOGLIKELIHOOD_TEMPLATE,
            _ => &self.prompt_template,
        }
    }

    /// Reject argument combinations that cannot work, naming the field.
    pub fn validate(&self) -> Result<()> {
        let fields = [
            ("question_field", &self.question_field),
            ("answer_field", &self.answer_field),
            ("subject_field", &self.subject_field),
        ];
        for (name, value) in fields {
            non_empty(name, value)?;
        }
        if let Some(field) = &self.choices_field {
            non_empty("choices_field", field)?;
        }
        self.validate_choice_fields()?;
        self.validate_gold_choice_field()?;
        self.validate_template()?;
        if self.shuffle_seed.is_some() && !self.shuffle_answers {
            // A seed that shuffles nothing is almost surely a forgotten
            // `shuffle_answers: true` (e.g. a seed sweep giving identical runs).
            return Err(Error::bad_args("field `shuffle_seed`: set, but `shuffle_answers` is false"));
        }
        Ok(())
    }

    fn validate_choice_fields(&self) -> Result<()> {
        let Some(fields) = &self.choice_fields else { return Ok(()) };
        if self.choices_field.is_some() {
            return Err(Error::bad_args("field `choice_fields`: set only one of `choices_field` and `choice_fields`"));
        }
        if fields.is_empty() || fields.len() > MAX_OPTIONS {
            let message = format!("field `choice_fields`: needs 1 to {MAX_OPTIONS} names, got {}", fields.len());
            return Err(Error::bad_args(message));
        }
        fields.iter().try_for_each(|f| non_empty("choice_fields", f))
    }

    fn validate_gold_choice_field(&self) -> Result<()> {
        let Some(gold) = &self.gold_choice_field else { return Ok(()) };
        if !self.choice_fields.as_ref().is_some_and(|fields| fields.contains(gold)) {
            let message = format!("field `gold_choice_field`: `{gold}` must be one of `choice_fields`");
            return Err(Error::bad_args(message));
        }
        if !self.shuffle_answers {
            // Unshuffled, the gold option would sit at the same letter in
            // every question, and a model always answering it would score 1.
            return Err(Error::bad_args("field `gold_choice_field`: needs `shuffle_answers: true`"));
        }
        Ok(())
    }

    fn validate_template(&self) -> Result<()> {
        if !self.prompt_template.contains("{question}") {
            return Err(Error::bad_args("field `prompt_template`: must contain `{question}`"));
        }
        known_placeholders("prompt_template", &self.prompt_template, &template::PLACEHOLDERS)?;
        match &self.description {
            Some(description) => known_placeholders("description", description, &template::DESCRIPTION_PLACEHOLDERS),
            None => Ok(()),
        }
    }
}

/// Refuse a placeholder of `template` (the argument `name`) not in `known`.
fn known_placeholders(name: &str, template: &str, known: &[&str]) -> Result<()> {
    match assay_sdk::template::unknown_placeholder(template, known) {
        Some(unknown) => {
            let known = known.join("`, `");
            Err(Error::bad_args(format!("field `{name}`: unknown placeholder `{{{unknown}}}` (known: `{known}`)")))
        }
        None => Ok(()),
    }
}

fn non_empty(name: &str, value: &str) -> Result<()> {
    if value.trim().is_empty() {
        return Err(Error::bad_args(format!("field `{name}`: must not be empty")));
    }
    Ok(())
}

/// What `assay plugin info` shows: the environment and every argument
/// with its default as JSON.
pub fn describe() -> Description {
    let template_default = serde_json::Value::from(DEFAULT_TEMPLATE).to_string();
    Description::new(
        "Multiple-choice question answering. Shows the question with lettered options, reads the chosen letter \
         from the reply (answer tags, \\boxed{}, \"the answer is (X)\", a bare letter, or the text of one option) \
         and scores 1 for the gold letter. Options can be shuffled per record with a seed, keeping \"none of the \
         above\"-style options in place.",
    )
    .arg("question_field", "string", Some("\"question\""), "Record field holding the question text.")
    .arg(
        "choices_field",
        "string",
        Some("null"),
        "Record field holding the options as a list. Default: `choices`, else `options`, else the columns below.",
    )
    .arg(
        "choice_fields",
        "list<string>",
        Some("null"),
        "Record fields holding one option each, in letter order, e.g. [\"A\",\"B\",\"C\",\"D\"]. Default: \
         auto-detect columns `A`, `B`, … or `choice0`, `choice1`, …. Trailing empty options are dropped.",
    )
    .arg(
        "answer_field",
        "string",
        Some("\"answer\""),
        "Record field with the gold answer: a letter (\"B\"), an integer index, or a string of digits (\"1\").",
    )
    .arg("answer_index_base", "int", Some("0"), "Index of the first option when the answer is a number (0 or 1).")
    .arg(
        "gold_choice_field",
        "string",
        Some("null"),
        "One of `choice_fields` that always holds the correct option (GPQA's `Correct Answer`), for datasets with \
         no answer column; `answer_field` is then not read. Needs `shuffle_answers: true`.",
    )
    .arg(
        "prompt_template",
        "string",
        Some(&template_default),
        "The user message. Placeholders: {question}, {choices} (lines \"A. text\"), {letters} (\"A, B, C or D\"). \
         Must contain {question}; leave out {choices} only if the question text lists the options itself.",
    )
    .arg("system_prompt", "string", Some("null"), "A system message sent first, verbatim.")
    .arg(
        "description",
        "string",
        Some("null"),
        "Text shown once at the start of the prompt (of the user message), before any few-shot exemplars, as \
         lm-evaluation-harness's task `description`. Placeholder: {subject}, the record's `subject_field` with `_` \
         as spaces. lm-eval's MMLU: \"The following are multiple choice questions (with answers) about \
         {subject}.\\n\\n\".",
    )
    .arg("subject_field", "string", Some("\"subject\""), "Record field whose value fills {subject} in `description`.")
    .arg(
        "shuffle_answers",
        "bool",
        Some("false"),
        "Shuffle each record's options; the gold answer follows. Options such as \"None of the above\" stay in \
         place, and records whose options name other letters (\"A and B\") are not shuffled.",
    )
    .arg(
        "shuffle_seed",
        "int",
        Some("null"),
        "Seed of the shuffle, combined with the record's `id` (else its question), so every run and rollout \
         sees the same order. Default: the host's per-sample seed (job seed, record id and rollout).",
    )
    .arg(
        "mode",
        "string",
        Some("\"generate\""),
        "`generate`: the model replies and the letter is read. `loglikelihood`: each option's continuation is \
         scored by its log-probability after the prompt (base models, as lm-evaluation-harness does; grant the \
         `loglikelihood` capability); reports `acc` and `acc_norm` (normalised by the choice's length in characters, as lm-eval's `acc_norm`).",
    )
    .arg(
        "continuations",
        "string",
        Some("\"letters\""),
        "In `mode: loglikelihood`, what is scored after the prompt: `letters` (\" A\", \" B\", …) or `options` \
         (\" \" + each option's text). The prompt defaults to \"{question}\\n{choices}\\nAnswer:\".",
    )
}
