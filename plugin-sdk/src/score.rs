//! The result of grading a completion.

use crate::ParseStatus;
use serde_json::{Map, Value};

/// The outcome of grading one completion: a reward, the parsed answer and
/// whether one could be read (kept apart, so "wrong" and "unreadable" are
/// never conflated), named metrics and free-form details.
#[derive(Debug, Clone, PartialEq)]
pub struct Score {
    /// The reward, usually in [0, 1].
    pub reward: f64,
    /// The answer read from the completion.
    pub parsed_answer: Option<String>,
    /// Whether an answer could be read.
    pub parse_status: ParseStatus,
    /// Named numbers reported next to the reward.
    pub metrics: Vec<(String, f64)>,
    /// Details kept with the sample (gold answer, extraction method...).
    pub info: Map<String, Value>,
}

impl Score {
    /// A score with this reward and parse status `ok`.
    pub fn new(reward: f64) -> Self {
        Score { reward, parsed_answer: None, parse_status: ParseStatus::Ok, metrics: Vec::new(), info: Map::new() }
    }
    /// Reward 1 if `correct`, else 0.
    pub fn correct_if(correct: bool) -> Self {
        Score::new(if correct { 1.0 } else { 0.0 })
    }
    /// Reward 0 with parse status `no-answer`: nothing answer-like was found.
    pub fn no_answer() -> Self {
        Score { parse_status: ParseStatus::NoAnswer, ..Score::new(0.0) }
    }
    /// Reward 0 with parse status `malformed`: an answer was there but unreadable.
    pub fn malformed() -> Self {
        Score { parse_status: ParseStatus::Malformed, ..Score::new(0.0) }
    }
    /// Reward 0, parse status `ungraded`: the judge's reply held no grade.
    pub fn ungraded() -> Self {
        Score { parse_status: ParseStatus::Ungraded, ..Score::new(0.0) }
    }
    /// Record the parsed answer.
    pub fn answer(mut self, answer: impl Into<String>) -> Self {
        self.parsed_answer = Some(answer.into());
        self
    }
    /// Add a named metric.
    pub fn metric(mut self, name: impl Into<String>, value: f64) -> Self {
        self.metrics.push((name.into(), value));
        self
    }
    /// Add a detail to the sample's `info` object.
    pub fn info(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.info.insert(key.into(), value.into());
        self
    }
}
