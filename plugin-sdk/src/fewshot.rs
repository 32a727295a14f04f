//! Few-shot prompts: the host chooses exemplar records (reproducibly from
//! the sample seed, never the record itself) and the environment shows
//! them before the question. [`render`] is the default of
//! [`crate::Environment::prepare_fewshot`]: each exemplar's question is the
//! last user message `prepare` gives for it, and its answer is its
//! reference completion.

use crate::{Environment, Error, Message, Prompt, Result, Rng, Role};

/// The record's prompt with the exemplars answered before its last user
/// message: as alternating user/assistant turns (`as_multiturn`), or as
/// "question\nanswer" blocks at the start of that message, separated by a
/// blank line. Exemplars are prepared with seeds drawn from `rng` after the
/// record's own prepare, so the record's shuffles do not depend on them.
pub fn render<E: Environment>(
    env: &E,
    record: E::Record,
    exemplars: Vec<E::Record>,
    as_multiturn: bool,
    rng: &mut Rng,
) -> Result<(Prompt, E::State)> {
    let (mut prompt, state) = env.prepare(record, rng)?;
    if exemplars.is_empty() {
        return Ok((prompt, state));
    }
    let mut shots = Vec::with_capacity(exemplars.len());
    for (index, exemplar) in exemplars.into_iter().enumerate() {
        let (shot, shot_state) = env.prepare(exemplar, &mut Rng::new(rng.next_u64()))?;
        let question = last_user(&shot.messages).map(|m| m.content.clone());
        let answer = env.reference(&shot_state);
        match (question, answer) {
            (Some(question), Some(answer)) => shots.push((question, answer)),
            _ => {
                return Err(Error::internal(format!(
                    "few-shot exemplar {index} has no question or no reference answer"
                )));
            }
        }
    }
    let at = prompt
        .messages
        .iter()
        .rposition(|m| m.role == Role::User)
        .ok_or_else(|| Error::internal("the prompt has no user message to put few-shot exemplars before"))?;
    if as_multiturn {
        let turns =
            shots.into_iter().flat_map(|(q, a)| [Message::new(Role::User, q), Message::new(Role::Assistant, a)]);
        prompt.messages.splice(at..at, turns);
    } else {
        let mut text: String = shots.into_iter().map(|(q, a)| format!("{q}\n{a}\n\n")).collect();
        text.push_str(&prompt.messages[at].content);
        prompt.messages[at].content = text;
    }
    Ok((prompt, state))
}

fn last_user(messages: &[Message]) -> Option<&Message> {
    messages.iter().rev().find(|m| m.role == Role::User)
}
