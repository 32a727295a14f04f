//! `assay rescore`: an earlier run's completions graded again with the
//! current plugin, judge and env args, into a new run, without asking the
//! model under test.
//!
//! [`plan`] turns the plan of a config into one job per re-scored job: the
//! same job id, the earlier run's seed, records and rollouts (so every
//! plugin sees the same samples), and the earlier job to answer from. At
//! preflight, [`recorded`] reads that job's results into a recorded model
//! ([`RecordedRun`]), which answers each turn with the reply it recorded.
//! The runner is the one `bench` uses, so storage, resume and summaries
//! are the same. Samples whose model call failed are kept as recorded:
//! grading again cannot give them a reply.

use super::episode::SampleSpec;
use crate::models::recorded::{RecordedRun, RecordedSample};
use crate::models::{ChatReply, ContinuationScore, Model, Role, Usage};
use crate::plan::Plan;
use crate::store::{self, JobMetadata, Manifest, RescoredJob, RunLayout, SampleResult};
use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::Path;

/// Samples of the earlier job whose model call failed, by example id and rollout.
pub(super) type RecordedFailures = HashMap<(String, u32), SampleResult>;

/// `plan` narrowed to the jobs of the run at `source_dir` (those named in
/// `job_ids`, or every job with results), each answered from its earlier
/// results.
pub(crate) fn plan(mut plan: Plan, source_dir: &Path, job_ids: &[String]) -> Result<Plan> {
    let manifest = Manifest::read(source_dir)?;
    let layout = RunLayout::new(source_dir);
    let chosen: Vec<String> = match job_ids {
        [] => manifest
            .jobs
            .iter()
            .filter(|job| layout.job(&job.job_id).results().is_file())
            .map(|j| j.job_id.clone())
            .collect(),
        ids => {
            for id in ids {
                if manifest.job(id).is_none() {
                    let known: Vec<&str> = manifest.jobs.iter().map(|job| job.job_id.as_str()).collect();
                    bail!("--job-id {id}: run {} has no such job (jobs: {})", manifest.run_id, known.join(", "));
                }
            }
            ids.to_vec()
        }
    };
    if chosen.is_empty() {
        bail!("run {} has no job with results to re-score", manifest.run_id);
    }
    let config = plan.config_path.display().to_string();
    if let Some(missing) = chosen.iter().find(|id| !plan.jobs.iter().any(|job| job.job_id == **id)) {
        bail!("job {missing} of run {} is not in {config}: name the config that has it with --config", manifest.run_id);
    }
    plan.jobs.retain(|job| chosen.contains(&job.job_id));
    for job in &mut plan.jobs {
        let metadata = JobMetadata::read(&layout.job(&job.job_id).metadata())
            .with_context(|| format!("job {} of run {} never started", job.job_id, manifest.run_id))?;
        job.seed = metadata.seed;
        job.env.num_examples = Some(metadata.dataset.records);
        if let Some(rollouts) = metadata.env["rollouts"].as_u64() {
            job.env.rollouts = rollouts as u32;
        }
        // Nothing is requested, so there is nothing to share.
        job.rollouts_in_one_request = false;
        job.rescore = Some(RescoredJob {
            run_id: manifest.run_id.clone(),
            run_dir: source_dir.to_path_buf(),
            job_id: job.job_id.clone(),
        });
    }
    Ok(plan)
}

/// The earlier job's samples: the model answering from them, and the
/// samples whose model call failed.
pub(super) struct Recorded {
    pub(super) model: Model,
    pub(super) failures: RecordedFailures,
}

/// Read the results of the job `source` names (the last line of a sample
/// wins, as a resumed job appends its reruns).
pub(super) fn recorded(source: &RescoredJob) -> Result<Recorded> {
    let path = RunLayout::new(&source.run_dir).job(&source.job_id).results();
    let bytes = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut last: HashMap<(String, u32), SampleResult> = HashMap::new();
    store::for_each_result(&path, |result| {
        last.insert((result.example_id.clone(), result.rollout), result);
        Ok(())
    })?;
    let label = format!("run {} job {}", source.run_id, source.job_id);
    let mut run = RecordedRun::new(label, hex::encode(Sha256::digest(&bytes)));
    let mut failures = RecordedFailures::new();
    for (key, result) in last {
        if result.error.as_ref().is_some_and(|error| error.kind.is_model_failure()) {
            failures.insert(key, result);
        } else {
            run.insert(key.0, key.1, recorded_sample(&result));
        }
    }
    Ok(Recorded { model: Model::recorded(run), failures })
}

/// A sample's replies (its first reply, then the model's messages of its
/// transcript) and scored continuations. The sample's tokens and model
/// time go with its first reply, so the new run counts what the
/// completions cost; its reasoning with its last.
fn recorded_sample(result: &SampleResult) -> RecordedSample {
    let mut replies: Vec<ChatReply> = match result.transcript.is_empty() {
        true => result.completion.iter().map(|text| reply(text.clone(), Vec::new())).collect(),
        // The transcript is the last request and its reply; the first
        // request (few-shot turns included) is the prompt.
        false => (result.transcript.iter().skip(result.prompt.len()))
            .filter(|message| message.role == Role::Assistant)
            .map(|message| reply(message.content.clone(), message.tool_calls.clone()))
            .collect(),
    };
    if let Some(first) = replies.first_mut() {
        let tokens = result.tokens;
        first.usage = Usage {
            prompt_tokens: Some(tokens.prompt),
            completion_tokens: Some(tokens.completion),
            reasoning_tokens: Some(tokens.reasoning),
        };
        first.latency_ms = result.latency_ms;
    }
    if let Some(last) = replies.last_mut() {
        last.reasoning.clone_from(&result.reasoning);
    }
    let continuations = result
        .continuations
        .iter()
        .map(|c| (c.text.clone(), ContinuationScore { logprob: c.logprob, tokens: c.tokens, greedy: c.greedy }));
    RecordedSample { replies, continuations: continuations.collect() }
}

/// A recorded reply; how generation ended was not recorded.
fn reply(content: String, tool_calls: Vec<crate::models::ToolCall>) -> ChatReply {
    ChatReply {
        content,
        tool_calls,
        reasoning: None,
        finish_reason: None,
        usage: Usage::default(),
        latency_ms: 0,
        attempts: 1,
    }
}

/// A sample whose model call failed in the earlier run, as this run records
/// it: the same line, placed at the record's index and group now.
pub(super) fn kept_failure(recorded: &SampleResult, spec: &SampleSpec) -> SampleResult {
    SampleResult {
        example_index: spec.record_index,
        group: spec.group.clone(),
        finished_at: store::now_rfc3339(),
        ..recorded.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_multi_turn_sample_replays_its_model_messages_in_order() {
        let message = |role: &str, content: &str| json!({"role": role, "content": content});
        let result: SampleResult = serde_json::from_value(json!({
            "example_id": "q", "example_index": 0, "rollout": 0, "seed": 1,
            // A few-shot exemplar's answer is in the prompt, not a reply.
            "prompt": [message("user", "ex?"), message("assistant", "ex!"), message("user", "q?")],
            "transcript": [
                message("user", "ex?"), message("assistant", "ex!"), message("user", "q?"),
                message("assistant", "one"), message("user", "more?"), message("assistant", "two"),
            ],
            "completion": "two", "reasoning": "thought", "reward": 1.0, "parsed_answer": null,
            "parse_status": "ok", "metrics": {}, "info": null, "turns": 2,
            "tokens": {"prompt": 10, "completion": 4, "reasoning": 0}, "latency_ms": 7, "error": null,
            "finished_at": "2026-12-06T00:00:00Z"
        }))
        .unwrap();
        let sample = recorded_sample(&result);
        let texts: Vec<&str> = sample.replies.iter().map(|r| r.content.as_str()).collect();
        assert_eq!(texts, ["one", "two"]);
        assert_eq!((sample.replies[0].usage.prompt_tokens, sample.replies[0].latency_ms), (Some(10), 7));
        assert_eq!((sample.replies[1].usage.prompt_tokens, sample.replies[1].latency_ms), (None, 0));
        assert_eq!(sample.replies[1].reasoning.as_deref(), Some("thought"));
    }
}
