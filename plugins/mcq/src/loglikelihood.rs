//! `mode: loglikelihood`: the options' continuations scored by their
//! log-probability after the prompt, as lm-evaluation-harness scores
//! multiple choice for base models. `acc` takes the most likely
//! continuation; `acc_norm` divides each log-probability by the
//! continuation's length in bytes first.

use crate::args::{Args, Continuations};
use crate::{State, letters, template};
use assay_sdk::{ContinuationRequest, ContinuationScore, Score};

/// The continuations of a question: ` A`, ` B`, … or ` <option text>`.
pub fn continuations(args: &Args, options: &[String]) -> Vec<String> {
    match args.continuations {
        Continuations::Letters => (0..options.len()).map(|i| format!(" {}", letters::letter(i))).collect(),
        Continuations::Options => options.iter().map(|text| format!(" {text}")).collect(),
    }
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
    let argmax = |key: &dyn Fn(usize) -> f64| (0..scores.len()).max_by(|a, b| key(*a).total_cmp(&key(*b)));
    let acc = argmax(&|i| scores[i].logprob);
    let acc_norm = argmax(&|i| scores[i].logprob / state.continuations[i].len().max(1) as f64);
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
