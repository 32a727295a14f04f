//! `assay plugin check`: run a plugin over a dataset and catch the bugs
//! environments are known for before any model time is spent.
//!
//! For every record and each of a few seeds (derived like a run's sample
//! seeds, from seed 0, the record id and the rollout):
//!
//! - **prepare** succeeds, and preparing again with the same seed gives the
//!   same prompt and state (shuffles are reproducible);
//! - the **reference** completion exists and scores full reward (1.0);
//! - an **empty** reply and a **garbage** reply score 0;
//! - when the seeds give different prompts (a shuffle), the reference must
//!   **follow the shuffle**: the lettered option it answers with
//!   (`A. ...`, `(B) ...` lines in the prompt) has the same text under every
//!   seed, so the gold label was carried along.
//!
//! Replies are graded through `advance`, as in a run; a plugin that asks to
//! run code gets the local code sandbox with its default limits for the
//! languages it declares.

use crate::config::{CodeExecutionConfig, run_code_languages};
use crate::dataset::{Dataset, Record};
use crate::execution::CodeExecutor;
use crate::runner::sample_seed;
use crate::runtime::{Action, CallContext, CodeResult, EnvironmentPool, Event, ModelReply, Sample, Score, Step};
use anyhow::Result;
use std::collections::BTreeSet;

/// A reply no environment should give credit for.
pub(crate) const GARBAGE_REPLY: &str = "zzzz qqqq \u{a8}\\_(\u{30c4})_/\u{a8} xkcd";

/// The programs a reply may lead to before the check gives up on it.
const MAX_STEPS: usize = 8;

/// One failed check.
#[derive(Debug, Clone)]
pub(crate) struct Failure {
    /// The record's example id.
    pub record: String,
    /// Which seed (0-based rollout) it failed under.
    pub seed: u32,
    /// The check's name: `prepare`, `reproducible`, `reference`, `empty`,
    /// `garbage`, `follows-shuffle`.
    pub check: &'static str,
    /// What went wrong.
    pub detail: String,
}

/// The outcome of checking a plugin on a dataset.
#[derive(Debug, Default)]
pub(crate) struct Report {
    pub records: usize,
    pub failures: Vec<Failure>,
    /// Records whose prompts differed across seeds (shuffled).
    pub shuffled_records: usize,
}

/// What one seed of one record produced.
struct Seeded {
    prompt: String,
    /// The letter the reference answered with, and that option's text.
    answered_option: Option<(char, Option<String>)>,
}

/// Check every record of `dataset` with `seeds` seeds each.
pub(crate) async fn check(pool: &EnvironmentPool, dataset: &Dataset, seeds: u32) -> Result<Report> {
    let code = code_sandbox(pool).await?;
    let checker = Checker { pool, code: code.as_ref() };
    let mut report = Report { records: dataset.records.len(), ..Default::default() };
    for record in &dataset.records {
        let mut seeded = Vec::new();
        for rollout in 0..seeds {
            match checker.seed(record, rollout, &mut report.failures).await {
                Some(outcome) => seeded.push((rollout, outcome)),
                None => break,
            }
        }
        let prompts: BTreeSet<&str> = seeded.iter().map(|(_, s)| s.prompt.as_str()).collect();
        if prompts.len() > 1 {
            report.shuffled_records += 1;
            report.failures.extend(follows_shuffle(&record.id, &seeded));
        }
    }
    Ok(report)
}

struct Checker<'a> {
    pool: &'a EnvironmentPool,
    code: Option<&'a CodeExecutor>,
}

impl Checker<'_> {
    /// Run the per-seed checks; `None` when prepare failed (nothing else
    /// can be checked for the record).
    async fn seed(&self, record: &Record, rollout: u32, failures: &mut Vec<Failure>) -> Option<Seeded> {
        let ctx = CallContext { record: &record.id, seed: sample_seed(0, &record.id, rollout) };
        let fail = |check, detail: String| Failure { record: record.id.clone(), seed: rollout, check, detail };
        let sample = Sample::new(record.json.clone(), ctx.seed);
        let first = match self.pool.prepare(ctx, &sample).await {
            Ok(step) => step,
            Err(e) => {
                failures.push(fail("prepare", e.message));
                return None;
            }
        };
        let prompt = prompt_text(&first);
        match self.pool.prepare(ctx, &sample).await {
            Ok(again) if prompt_text(&again) == prompt && again.state == first.state => {}
            Ok(_) => failures.push(fail("reproducible", "the same seed gave a different prompt or state".into())),
            Err(e) => failures.push(fail("reproducible", format!("a second prepare failed: {}", e.message))),
        }
        let reference = match self.pool.reference(ctx, &first.state).await {
            Ok(Some(reference)) => reference,
            Ok(None) => {
                let detail = "the environment gives no reference completion (implement `reference`)".into();
                failures.push(fail("reference", detail));
                return Some(Seeded { prompt, answered_option: None });
            }
            Err(e) => {
                failures.push(fail("reference", e.message));
                return Some(Seeded { prompt, answered_option: None });
            }
        };
        let mut answered_option = None;
        match self.score(ctx, &first.state, &reference).await {
            Ok(score) if score.reward >= 1.0 => {
                answered_option = score.parsed_answer.as_deref().and_then(single_letter).map(|letter| {
                    let options = lettered_options(&prompt);
                    (letter, options.into_iter().find(|(l, _)| *l == letter).map(|(_, text)| text))
                });
            }
            Ok(score) => {
                failures.push(fail("reference", format!("the reference scores {} ({reference:?})", score.reward)))
            }
            Err(e) => failures.push(fail("reference", e)),
        }
        for (check, reply) in [("empty", ""), ("garbage", GARBAGE_REPLY)] {
            match self.score(ctx, &first.state, reply).await {
                Ok(score) if score.reward > 0.0 => {
                    failures.push(fail(check, format!("a reply of {reply:?} scores {}", score.reward)))
                }
                Ok(_) => {}
                Err(e) => failures.push(fail(check, e)),
            }
        }
        Some(Seeded { prompt, answered_option })
    }

    /// The score `reply` gets through `advance`, running any programs the
    /// plugin asks for.
    async fn score(&self, ctx: CallContext<'_>, state: &str, reply: &str) -> Result<Score, String> {
        let mut step =
            self.pool.advance(ctx, state, &Event::ModelReply(ModelReply::text(reply))).await.map_err(|e| e.message)?;
        for _ in 0..MAX_STEPS {
            match step.action {
                Action::Finish(score) => return Ok(score),
                Action::AskModel(_) => {
                    return Err("asks the model again after a reply; only one turn is checked".into());
                }
                Action::RunCode(request) => {
                    let output = self.run_code(&request).await?;
                    step =
                        self.pool.advance(ctx, &step.state, &Event::CodeOutput(output)).await.map_err(|e| e.message)?;
                }
                other => {
                    return Err(format!("asks for `{}` after a reply, which plugin check cannot answer", other.name()));
                }
            }
        }
        Err(format!("asked to run more than {MAX_STEPS} programs for one reply"))
    }

    async fn run_code(&self, request: &crate::runtime::CodeRequest) -> Result<CodeResult, String> {
        let executor = self.code.ok_or("asks to run code but declares no `run-code:<language>` capability")?;
        let run = executor.run(request, &[]).await?;
        Ok(CodeResult::from(&run))
    }
}

/// The local code sandbox for the languages the plugin declares, if any.
async fn code_sandbox(pool: &EnvironmentPool) -> Result<Option<CodeExecutor>> {
    let languages = run_code_languages(&pool.plugin().metadata.capabilities);
    if languages.is_empty() {
        return Ok(None);
    }
    Ok(Some(CodeExecutor::start(&CodeExecutionConfig::default(), languages).await?))
}

/// The prompt's messages as one text, for comparing and for finding options.
fn prompt_text(step: &Step) -> String {
    match &step.action {
        Action::AskModel(prompt) => {
            let texts: Vec<&str> = prompt.messages.iter().map(|m| m.content.as_str()).collect();
            texts.join("\n")
        }
        other => format!("{other:?}"),
    }
}

/// `B`, `(B)` or `B.` as the letter `B`.
fn single_letter(answer: &str) -> Option<char> {
    let trimmed = answer.trim().trim_start_matches('(').trim_end_matches([')', '.', ':']);
    let mut chars = trimmed.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) if c.is_ascii_uppercase() => Some(c),
        _ => None,
    }
}

/// Lines that list an option: `A. text`, `A) text`, `(A) text`, `A: text`.
fn lettered_options(prompt: &str) -> Vec<(char, String)> {
    prompt
        .lines()
        .filter_map(|line| {
            let line = line.trim_start();
            let (letter, rest) = match line.strip_prefix('(') {
                Some(rest) => (rest.chars().next()?, rest.get(1..)?.strip_prefix(')')?),
                None => {
                    let letter = line.chars().next()?;
                    (letter, line.get(1..)?.strip_prefix(['.', ')', ':'])?)
                }
            };
            let text = rest.strip_prefix(' ')?;
            letter.is_ascii_uppercase().then(|| (letter, text.trim().to_string()))
        })
        .collect()
}

/// A failure when the reference's option text differs between seeds.
fn follows_shuffle(record: &str, seeded: &[(u32, Seeded)]) -> Option<Failure> {
    let answered: Vec<(u32, char, Option<&String>)> = seeded
        .iter()
        .filter_map(|(seed, s)| s.answered_option.as_ref().map(|(letter, text)| (*seed, *letter, text.as_ref())))
        .collect();
    if let Some((seed, letter, _)) = answered.iter().find(|(_, _, text)| text.is_none()) {
        let detail = format!("the reference answers ({letter}), but the prompt lists no option ({letter})");
        return Some(Failure { record: record.to_string(), seed: *seed, check: "follows-shuffle", detail });
    }
    let texts: BTreeSet<&String> = answered.iter().filter_map(|(_, _, text)| *text).collect();
    if texts.len() <= 1 {
        return None;
    }
    let shown: Vec<String> =
        answered.iter().map(|(seed, letter, text)| format!("seed {seed}: ({letter}) {:?}", text.unwrap())).collect();
    let detail = format!("the gold answer changed with the shuffle: {}", shown.join(", "));
    Some(Failure { record: record.to_string(), seed: answered[0].0, check: "follows-shuffle", detail })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_are_read_in_the_usual_layouts() {
        let prompt = "Which?\nA. Paris\n(B) London\nC) Rome\nD: Madrid\nAlso. not an option\nE.missing space";
        let letters: Vec<(char, String)> = lettered_options(prompt);
        assert_eq!(
            letters,
            [('A', "Paris"), ('B', "London"), ('C', "Rome"), ('D', "Madrid")].map(|(l, t)| (l, t.to_string()))
        );
    }

    #[test]
    fn single_letters_are_recognised() {
        assert_eq!(single_letter("B"), Some('B'));
        assert_eq!(single_letter("(C)"), Some('C'));
        assert_eq!(single_letter("D."), Some('D'));
        assert_eq!(single_letter("42"), None);
        assert_eq!(single_letter("AB"), None);
        assert_eq!(single_letter("b"), None);
    }
}
