//! The `recorded` model of `assay rescore`: it answers each turn of a
//! sample with the reply an earlier run recorded for that sample, so a
//! fixed scorer, a new judge or new env args grade the same completions
//! without asking the model under test again.
//!
//! A sample's replies are its model's messages in turn order; continuations
//! scored by log-likelihood come back with their recorded scores. A turn
//! (or continuation) the recorded sample did not have is a per-sample
//! error saying so, never a made-up reply.

use super::{ChatReply, ContinuationScore, ScoredContinuations, Usage};
use std::collections::HashMap;

/// What one sample of the earlier run recorded.
#[derive(Debug, Default)]
pub struct RecordedSample {
    /// The model's replies, in turn order.
    pub replies: Vec<ChatReply>,
    /// Continuations scored by log-likelihood, with their scores, in order.
    pub continuations: Vec<(String, ContinuationScore)>,
}

/// Every recorded sample of one job of an earlier run.
#[derive(Debug)]
pub struct RecordedRun {
    samples: HashMap<(String, u32), RecordedSample>,
    /// Names the job in errors: `run R job J`.
    label: String,
    /// sha256 of the job's results file: part of job identity, so a source
    /// resumed since (more samples) makes the re-scoring job start again.
    pub fingerprint: String,
}

impl RecordedRun {
    /// An empty record of the job `label` names.
    pub fn new(label: String, fingerprint: String) -> Self {
        RecordedRun { samples: HashMap::new(), label, fingerprint }
    }

    /// Add the sample of `example_id`'s `rollout` (a later one replaces it).
    pub fn insert(&mut self, example_id: String, rollout: u32, sample: RecordedSample) {
        self.samples.insert((example_id, rollout), sample);
    }

    fn sample(&self, example_id: &str, rollout: u32) -> Result<&RecordedSample, String> {
        self.samples
            .get(&(example_id.to_string(), rollout))
            .ok_or_else(|| format!("{} recorded no sample for rollout {rollout}", self.label))
    }

    /// The reply to turn `number` (1 for the first) of a sample.
    pub fn reply(&self, example_id: &str, rollout: u32, number: u32) -> Result<ChatReply, String> {
        let sample = self.sample(example_id, rollout)?;
        match (number as usize).checked_sub(1).and_then(|turn| sample.replies.get(turn)) {
            Some(reply) => Ok(reply.clone()),
            None => Err(format!(
                "{} recorded {} model replies for rollout {rollout}; the plugin asked for turn {number}",
                self.label,
                sample.replies.len()
            )),
        }
    }

    /// The recorded scores of `continuations`, which must be the ones the
    /// sample scored, in the same order.
    pub fn scores(
        &self,
        example_id: &str,
        rollout: u32,
        continuations: &[String],
    ) -> Result<ScoredContinuations, String> {
        let sample = self.sample(example_id, rollout)?;
        let recorded = sample.continuations.iter().map(|(text, _)| text);
        if sample.continuations.is_empty() || !recorded.eq(continuations) {
            return Err(format!(
                "{} scored other continuations for rollout {rollout} than the plugin asks for now",
                self.label
            ));
        }
        let scores = sample.continuations.iter().map(|(_, score)| *score).collect();
        Ok(ScoredContinuations { scores, usage: Usage::default(), latency_ms: 0, attempts: 1 })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(text: &str) -> ChatReply {
        ChatReply {
            content: text.into(),
            tool_calls: Vec::new(),
            reasoning: None,
            finish_reason: None,
            usage: Usage::default(),
            latency_ms: 0,
            attempts: 1,
        }
    }

    #[test]
    fn turns_come_back_in_order_and_a_turn_too_many_is_named() {
        let mut run = RecordedRun::new("run r job j".into(), "f".into());
        let replies = vec![reply("first"), reply("second")];
        let score = ContinuationScore { logprob: -1.5, tokens: 2, greedy: true };
        run.insert("q1".into(), 0, RecordedSample { replies, continuations: vec![(" Paris".into(), score)] });
        assert_eq!(run.reply("q1", 0, 1).unwrap().content, "first");
        assert_eq!(run.reply("q1", 0, 2).unwrap().content, "second");
        assert_eq!(
            run.reply("q1", 0, 3).unwrap_err(),
            "run r job j recorded 2 model replies for rollout 0; the plugin asked for turn 3"
        );
        assert_eq!(run.reply("q1", 1, 1).unwrap_err(), "run r job j recorded no sample for rollout 1");
        assert_eq!(run.scores("q1", 0, &[" Paris".into()]).unwrap().scores, vec![score]);
        assert!(run.scores("q1", 0, &[" Rome".into()]).unwrap_err().contains("other continuations"));
    }
}
