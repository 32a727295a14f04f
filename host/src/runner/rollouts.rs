//! `rollouts_in_one_request`: a record's rollouts asked in one request
//! with `n`, so the server reads the prompt once. Each rollout is still
//! its own sample, played on from its own reply and recorded (and resumed)
//! on its own.
//!
//! Only rollouts whose first request is the same question can share it
//! (a per-rollout shuffle makes each question different): those are asked
//! together, the others alone. A server that ignores `n` answers with
//! fewer replies: the rollouts left over ask alone, and a warning says so
//! once per run.

use super::episode::{self, Prefetched, SampleSpec, Start};
use crate::models::{Message, Model, Turn};
use crate::runtime::{Action, EnvironmentPool, Prompt};
use crate::store::SampleResult;
use std::sync::atomic::{AtomicBool, Ordering};

/// Whether the warning about a server ignoring `n` was given.
static WARNED: AtomicBool = AtomicBool::new(false);

/// Run the rollouts `specs` of one record (all of the same job), asking
/// their shared first question once.
pub(super) async fn run_together(specs: &[SampleSpec], pool: &EnvironmentPool, model: &Model) -> Vec<SampleResult> {
    let starts: Vec<Start> = specs.iter().map(Start::new).collect();
    let mut firsts = Vec::with_capacity(starts.len());
    for start in &starts {
        firsts.push(start.prepare(pool).await);
    }
    let mut prefetched = shared_replies(&starts, &firsts, model).await;
    let plays = starts
        .into_iter()
        .zip(firsts)
        .enumerate()
        .map(|(i, (start, first))| episode::finish(start, first, prefetched[i].take(), pool, model));
    futures_util::future::join_all(plays).await
}

/// The first question of each rollout that asks the same as the first
/// asking rollout, answered in one request.
async fn shared_replies(
    starts: &[Start<'_>],
    firsts: &[Result<crate::runtime::Step, crate::store::SampleError>],
    model: &Model,
) -> Vec<Option<Prefetched>> {
    let mut prefetched: Vec<Option<Prefetched>> = starts.iter().map(|_| None).collect();
    let asks: Vec<(usize, &Prompt)> = firsts
        .iter()
        .enumerate()
        .filter_map(|(i, first)| match first {
            Ok(step) => match &step.action {
                Action::AskModel(prompt) => Some((i, prompt)),
                _ => None,
            },
            Err(_) => None,
        })
        .collect();
    let Some(&(leader, question)) = asks.first() else { return prefetched };
    let together: Vec<usize> = asks.iter().filter(|(_, p)| same_question(p, question)).map(|(i, _)| *i).collect();
    // Prompts offering tools are asked one by one: agent episodes diverge
    // at once, and their tool lists are checked per sample.
    if together.len() < 2 || !question.tools.is_empty() {
        return prefetched;
    }
    let spec = starts[leader].spec;
    let messages: Vec<Message> = question.messages.iter().map(Message::from).collect();
    let seed = model.request_seed(&spec.sampling_args, starts[leader].ctx().seed);
    let turn = Turn {
        messages: &messages,
        max_tokens: question.max_tokens,
        stop: &question.stop,
        tools: &[],
        sampling_args: &spec.sampling_args,
        example_id: starts[leader].ctx().record,
        rollout: spec.rollout,
        number: 1,
        seed,
        sample_seed: starts[leader].ctx().seed,
    };
    // A failed request is not the samples' failure: each asks again alone.
    let Some(Ok(replies)) = model.reply_n(&turn, together.len()).await else { return prefetched };
    if replies.len() < together.len() && !WARNED.swap(true, Ordering::Relaxed) {
        tracing::warn!(
            "the server gave {} replies for n = {}: it ignores `n`; the rollouts left over are asked one by one",
            replies.len(),
            together.len()
        );
    }
    for (index, reply) in together.into_iter().zip(replies) {
        prefetched[index] = Some(Prefetched { reply, seed });
    }
    prefetched
}

/// Whether two prompts ask the same thing.
fn same_question(a: &Prompt, b: &Prompt) -> bool {
    let texts = |p: &Prompt| p.messages.iter().map(Message::from).collect::<Vec<_>>();
    a.max_tokens == b.max_tokens && a.stop == b.stop && texts(a) == texts(b)
}
