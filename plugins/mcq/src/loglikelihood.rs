//! `mode: loglikelihood`: the options' continuations scored by their
//! log-probability after the prompt, as lm-evaluation-harness scores
//! multiple choice for base models. `acc` takes the most likely
//! continuation; `acc_norm` divides each log-probability by the length of
//! the choice in characters first (without the space before it), as
//! lm-eval's `acc_norm` does (`len(choice)` in Python; its byte-length
//! variant is `acc_bytes`). Ties go to the first option, as numpy's
//! `argmax` gives them.

use crate::args::{Args, Continuations};
use crate::{State, letters, template};
use assay_sdk::{ContinuationRequest, ContinuationScore, Score};

/// What separates the prompt from a choice (lm-eval's `target_delimiter`).
const TARGET_DELIMITER: &str = " ";

/// The continuations of a question: ` A`, ` B`, … or ` <option text>`.
pub fn continuations(args: &Args, options: &[String]) -> Vec<String> {
    match args.continuations {
        Continuations::Letters => {
            (0..options.len()).map(|i| format!("{TARGET_DELIMITER}{}", letters::letter(i))).collect()
        }
        Continuations::Options => options.iter().map(|text| format!("{TARGET_DELIMITER}{text}")).collect(),
    }
}

/// The length `acc_norm` divides by: the choice's characters, without the
/// delimiter (at least 1).
fn choice_length(continuation: &str) -> usize {
    continuation.strip_prefix(TARGET_DELIMITER).unwrap_or(continuation).chars().count().max(1)
}

/// The first index with the largest `key`.
fn argmax(n: usize, key: impl Fn(usize) -> f64) -> Option<usize> {
    (0..n).reduce(|best, i| if key(i) > key(best) { i } else { best })
}

/// The request for a question: the description, the few-shot exemplars
/// (each a prompt followed by its gold continuation, a blank line after
/// each), then the question's prompt.
pub fn request(
    args: &Args,
    description: &str,
    question: &str,
    options: &[String],
    exemplars: &[String],
) -> ContinuationRequest {
    let mut context = description.to_string();
    context.extend(exemplars.iter().map(|e| format!("{e}\n\n")));
    context.push_str(&prompt(args, question, options));
    ContinuationRequest { context, continuations: continuations(args, options) }
}

/// An exemplar: its prompt and its gold continuation.
pub fn exemplar(args: &Args, question: &str, options: &[String], gold: usize) -> String {
    let continuation = &continuations(args, options)[gold];
    format!("{}{continuation}", prompt(args, question, options))
}

/// A question's prompt.
fn prompt(args: &Args, question: &str, options: &[String]) -> String {
    template::render(args.template(), question, options)
}

/// The score of a question from its continuations' log-probabilities.
pub fn score(state: &State, scores: &[ContinuationScore]) -> Score {
    let acc = argmax(scores.len(), |i| scores[i].logprob);
    let acc_norm = argmax(scores.len(), |i| scores[i].logprob / choice_length(&state.continuations[i]) as f64);
    let gold = letters::index_of(state.gold);
    let hit = |choice: Option<usize>| f64::from(u8::from(choice == gold));
    let Some(chosen) = acc else { return Score::no_answer() };
    let logprobs: Vec<f64> = scores.iter().map(|s| s.logprob).collect();
    Score::correct_if(Some(chosen) == gold)
        .answer(letters::letter(chosen))
        .metric("acc", hit(acc))
        .metric("acc_norm", hit(acc_norm))
        .metric("greedy", f64::from(u8::from(scores[chosen].greedy)))
        .info("method", "loglikelihood")
        .info("gold", state.gold.to_string())
        .info("logprobs", logprobs)
}

/// A continuation given as a completion (the oracle's reference, `plugin
/// check`): full reward when it is the gold one.
pub fn grade_text(state: &State, completion: &str) -> Score {
    let chosen = state.continuations.iter().position(|c| c.trim() == completion.trim());
    match chosen {
        Some(index) => Score::correct_if(Some(index) == letters::index_of(state.gold))
            .answer(letters::letter(index))
            .info("method", "continuation")
            .info("gold", state.gold.to_string()),
        None => Score::no_answer().info("gold", state.gold.to_string()),
    }
}
