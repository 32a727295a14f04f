//! `math`: math problems with one final answer, for the assay harness.
//!
//! Two kinds of records, told apart per record by the gold answer (or
//! fixed with `answer_format`):
//! - GSM8K-style: the gold is a number (GSM8K's `answer` is a worked
//!   solution ending in `#### 72`). The reply's final number is read with
//!   [`number::extract`] and compared numerically.
//! - MATH-style: the gold is LaTeX (`\frac{\pi}{2}`, `(-\infty, 3]`). The
//!   reply's last `\boxed{}` is read with [`latex::extract`] and compared
//!   with [`latex::equivalent`].
//!
//! Scores are 1 or 0; whether an answer was found at all (`ok`,
//! `no-answer`, `malformed`) is reported apart from correctness, and
//! `info` names the extraction rule (`method`) and the comparison that
//! decided (`comparison`: `text`, `exact`, `high_precision`,
//! `decimal_tolerance`, `random_points`, `shape`).

mod args;
mod arith;
mod extract;
pub mod latex;
pub mod number;
mod record;
mod verdict;

pub use args::{AnswerFormat, Args, LATEX_TEMPLATE, NUMBER_TEMPLATE, Prompts};
pub use extract::{Extraction, Method};
pub use record::Style;
pub use verdict::{Comparison, Outcome, Verdict};

use assay_sdk::{Description, Environment, Prompt, Reply, Result, Rng, Score, template};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The math environment: its arguments, checked.
pub struct Math {
    args: Args,
}

/// What grading a record needs, kept by the host between calls.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct State {
    /// How the answer is read and compared.
    pub style: Style,
    /// The gold final answer.
    pub gold: String,
    /// The completion the `oracle` model gives.
    pub reference: String,
}

impl Environment for Math {
    type Args = Args;
    type Record = Map<String, Value>;
    type State = State;

    fn describe() -> Description {
        args::describe()
    }

    fn new(args: Args) -> Result<Self> {
        args.validate()?;
        Ok(Math { args })
    }

    fn prepare(&self, record: Self::Record, _rng: &mut Rng) -> Result<(Prompt, State)> {
        let item = record::read(&self.args, &record)?;
        let user = template::render(self.args.template(item.style), &[("question", &item.question)]);
        let prompt = match self.args.system() {
            Some(system) => Prompt::new().system(system).user(user),
            None => Prompt::new().user(user),
        };
        let reference = self.reference_for(&item);
        Ok((prompt, State { style: item.style, gold: item.gold, reference }))
    }

    /// A completion graded directly (produced elsewhere): whether it was
    /// cut off is unknown.
    fn grade(&self, state: &State, completion: &str) -> Result<Score> {
        Ok(self.judge(state.style, &state.gold, completion, None))
    }

    fn grade_reply(&self, state: &State, reply: &Reply) -> Result<Score> {
        Ok(self.judge(state.style, &state.gold, &reply.content, reply.known_truncation()))
    }

    fn reference(&self, state: &State) -> Option<String> {
        Some(state.reference.clone())
    }
}

impl Math {
    /// Grade `completion` against `gold`. `truncated` is whether the reply
    /// was cut off by the token limit (`finish_reason: length`), when the
    /// host says so: a cut-off reply gets no fallback extraction.
    pub fn judge(&self, style: Style, gold: &str, completion: &str, truncated: Option<bool>) -> Score {
        let extraction = match style {
            Style::Number => number::extract(completion, truncated),
            Style::Latex => latex::extract(completion, truncated),
        };
        let fallback = matches!(&extraction, Extraction::Answer { method, .. } if method.is_fallback());
        let score = match extraction {
            Extraction::Answer { text, method } => {
                self.compare(style, gold, &text).answer(text).info("method", method.as_str())
            }
            Extraction::Malformed { method, content } => {
                Score::malformed().info("method", method.as_str()).info("unreadable", content)
            }
            Extraction::NoAnswer => Score::no_answer().info("method", Value::Null),
        };
        score.info("gold", gold).info("format", style.as_str()).metric("fallback", f64::from(u8::from(fallback)))
    }

    /// Score a found answer: the verdict, the comparison that decided it,
    /// and both sides' normalised forms. An undecidable comparison (the
    /// work budget ran out) is `malformed`.
    fn compare(&self, style: Style, gold: &str, answer: &str) -> Score {
        let tolerance = self.args.tolerance;
        let (verdict, normalized_answer, normalized_gold, shape) = match style {
            Style::Number => {
                let (Some(value), Some(gold_value)) = (number::value(answer), number::value(gold)) else {
                    return Score::malformed().info("reason", "not a number");
                };
                let verdict = latex::compare_constants(&value, &gold_value, tolerance);
                let shown = |e: &latex::Expr, text: &str| latex::rational_text(e).unwrap_or_else(|| text.trim().into());
                (verdict, shown(&value, answer), shown(&gold_value, gold), "number")
            }
            Style::Latex => {
                let verdict = latex::compare(answer, gold, tolerance);
                (verdict, latex::normalize(answer), latex::normalize(gold), latex::shape_kind(gold))
            }
        };
        let score = match verdict.outcome {
            Outcome::Equal => Score::correct_if(true),
            Outcome::Different => Score::correct_if(false),
            Outcome::Undecided => Score::malformed().info("reason", "too costly to compare"),
        };
        let score = match verdict.comparison {
            Comparison::Points { count, .. } => score.info("points", count),
            _ => score,
        };
        score
            .info("comparison", verdict.comparison.as_str())
            .info("shape", shape)
            .info("normalized_answer", normalized_answer)
            .info("normalized_gold", normalized_gold)
    }

    /// The oracle's completion: GSM8K's own worked solution; else the
    /// record's solution when it grades correct; else a bare statement of
    /// the gold answer.
    fn reference_for(&self, item: &record::Item) -> String {
        if item.style == Style::Number && item.answer.contains("####") {
            return item.answer.clone();
        }
        if let Some(solution) = &item.solution
            && self.judge(item.style, &item.gold, solution, Some(false)).reward == 1.0
        {
            return solution.clone();
        }
        match item.style {
            Style::Number => format!("#### {}", item.gold),
            Style::Latex => format!("The answer is \\boxed{{{}}}.", item.gold),
        }
    }
}

assay_sdk::register_environment!(Math);
