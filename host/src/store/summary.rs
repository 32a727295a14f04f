//! A job's `summary.json` and the statistics behind it.

use super::layout::{JobLayout, RunLayout};
use super::manifest::{JobEntry, Manifest};
use super::results::{ErrorKind, ParseStatus, SampleResult, Tokens};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// `summary.json` of a job.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Summary {
    /// Samples (examples × rollouts) recorded.
    pub n: u64,
    /// Samples with a score.
    pub n_scored: u64,
    /// Samples that ended in an error.
    pub n_errors: u64,
    /// Distinct examples with at least one score.
    pub n_examples: u64,
    /// Mean reward over examples, each example's rollouts averaged first.
    pub mean_reward: Option<f64>,
    /// Standard error of that mean (sample std of per-example means / √n).
    pub stderr: Option<f64>,
    /// Scored samples by parse status.
    pub parse_status: BTreeMap<ParseStatus, u64>,
    /// Errored samples by kind.
    pub errors: BTreeMap<ErrorKind, u64>,
    /// Mean of each metric over examples, each example's rollouts averaged first.
    pub metrics: BTreeMap<String, f64>,
    /// Tokens of every sample recorded.
    pub tokens: Tokens,
    /// Judge requests made, over every sample.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub judge_calls: u64,
    /// Tokens the judge used, over every sample.
    #[serde(default, skip_serializing_if = "Tokens::is_zero")]
    pub judge_tokens: Tokens,
    /// Replies served by the response cache instead of a request.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub cache_hits: u64,
    /// Per group of the env's `group_by` field: examples and mean reward.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub groups: BTreeMap<String, GroupMean>,
    /// The mean of the group means (the macro average; `mean_reward` is the
    /// micro average, over examples).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub macro_mean_reward: Option<f64>,
    /// What the samples cost in US dollars, when the model or judge is priced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_usd: Option<f64>,
    /// Time spent running the job, summed over invocations.
    pub duration_secs: f64,
}

impl Summary {
    /// The summary at `path`, if it exists and reads as one.
    pub fn read(path: &Path) -> Option<Summary> {
        serde_json::from_slice(&std::fs::read(path).ok()?).ok()
    }
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// One group's share of a [`Summary`].
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct GroupMean {
    /// Examples of the group with a score.
    pub n_examples: u64,
    /// Their mean reward (rollouts averaged per example first).
    pub mean_reward: f64,
}

/// Accumulates a [`Summary`] as results arrive; memory grows with the
/// number of examples, not samples.
///
/// Per-example sums are combined in example-id order, so the same results
/// give the same summary to the last bit whatever order they arrived in
/// (a resumed run matches an uninterrupted one).
#[derive(Debug, Clone, Default)]
pub struct SummaryBuilder {
    n: u64,
    errors: BTreeMap<ErrorKind, u64>,
    parse_status: BTreeMap<ParseStatus, u64>,
    per_example: BTreeMap<String, ExampleSums>,
    tokens: Tokens,
    judge_calls: u64,
    judge_tokens: Tokens,
    cost_usd: Option<f64>,
    cache_hits: u64,
}

/// The scored rollouts of one example.
#[derive(Debug, Clone, Default)]
struct ExampleSums {
    /// The example's group, if the env groups results.
    group: Option<String>,
    reward: (f64, u32),
    metrics: BTreeMap<String, (f64, u32)>,
}

impl SummaryBuilder {
    /// Count one result.
    pub fn add(&mut self, result: &SampleResult) {
        self.n += 1;
        self.tokens.add(result.tokens);
        self.judge_calls += result.judge_calls.len() as u64;
        self.cache_hits += u64::from(result.cache_hits);
        result.judge_calls.iter().for_each(|call| self.judge_tokens.add(call.tokens));
        if let Some(cost) = result.cost_usd {
            *self.cost_usd.get_or_insert(0.0) += cost;
        }
        if let Some(error) = &result.error {
            *self.errors.entry(error.kind).or_default() += 1;
            return;
        }
        if let Some(status) = result.parse_status {
            *self.parse_status.entry(status).or_default() += 1;
        }
        let example = self.per_example.entry(result.example_id.clone()).or_default();
        if example.group.is_none() {
            example.group.clone_from(&result.group);
        }
        if let Some(reward) = result.reward {
            example.reward.0 += reward;
            example.reward.1 += 1;
        }
        for (name, value) in &result.metrics {
            let entry = example.metrics.entry(name.clone()).or_default();
            entry.0 += value;
            entry.1 += 1;
        }
    }

    /// The summary so far.
    pub fn build(&self, duration_secs: f64) -> Summary {
        let mean = |(sum, n): (f64, u32)| (n > 0).then(|| sum / f64::from(n));
        let means: Vec<f64> = self.per_example.values().filter_map(|e| mean(e.reward)).collect();
        let (mean_reward, stderr) = mean_and_stderr(&means);
        let mut metric_means: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        for example in self.per_example.values() {
            for (name, sums) in &example.metrics {
                metric_means.entry(name.clone()).or_default().extend(mean(*sums));
            }
        }
        let groups = self.group_means();
        let group_means: Vec<f64> = groups.values().map(|g| g.mean_reward).collect();
        let n_errors = self.errors.values().sum();
        Summary {
            n: self.n,
            n_scored: self.n - n_errors,
            n_errors,
            n_examples: means.len() as u64,
            mean_reward,
            stderr,
            parse_status: self.parse_status.clone(),
            errors: self.errors.clone(),
            metrics: metric_means.into_iter().filter_map(|(k, v)| Some((k, mean_and_stderr(&v).0?))).collect(),
            tokens: self.tokens,
            judge_calls: self.judge_calls,
            judge_tokens: self.judge_tokens,
            cache_hits: self.cache_hits,
            macro_mean_reward: mean_and_stderr(&group_means).0.filter(|_| !groups.is_empty()),
            groups,
            cost_usd: self.cost_usd,
            duration_secs,
        }
    }

    /// Each group's examples and mean reward (in group order).
    fn group_means(&self) -> BTreeMap<String, GroupMean> {
        let mut sums: BTreeMap<&str, (f64, u64)> = BTreeMap::new();
        for example in self.per_example.values() {
            if let (Some(group), (sum, n)) = (&example.group, example.reward)
                && n > 0
            {
                let entry = sums.entry(group).or_default();
                entry.0 += sum / f64::from(n);
                entry.1 += 1;
            }
        }
        sums.into_iter()
            .map(|(g, (sum, n))| (g.to_string(), GroupMean { n_examples: n, mean_reward: sum / n as f64 }))
            .collect()
    }
}

/// Mean and standard error (sample standard deviation, n − 1, over √n).
pub fn mean_and_stderr(values: &[f64]) -> (Option<f64>, Option<f64>) {
    if values.is_empty() {
        return (None, None);
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    if values.len() < 2 {
        return (Some(mean), None);
    }
    let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (Some(mean), Some((variance / n).sqrt()))
}

/// The `summary.json` of every job of a run that has one (unreadable ones
/// are left out: the job table shows `-` for them). For a run split into
/// shards, each job's summary is computed from every shard's results, so
/// it is the summary one process running the whole job would have written.
/// For one shard's part of the manifest, they are that shard's summaries.
pub fn read_summaries(run_dir: &Path, manifest: &Manifest) -> HashMap<String, Summary> {
    let layout = RunLayout::for_shard(run_dir, manifest.shard);
    let read = |job: &JobEntry| match manifest.shards {
        None => Summary::read(&layout.job(&job.job_id).summary()),
        Some(count) => {
            let files: Vec<PathBuf> =
                layout.job_parts(&job.job_id, Some(count)).iter().map(JobLayout::results).collect();
            merged_summary(&files, job)
        }
    };
    manifest.jobs.iter().filter_map(|job| Some((job.job_id.clone(), read(job)?))).collect()
}

/// The summary of the results in `files` (a job's shards'), with the job's
/// time; `None` when none of them exists yet or one cannot be read.
fn merged_summary(files: &[PathBuf], job: &JobEntry) -> Option<Summary> {
    if !files.iter().any(|file| file.exists()) {
        return None;
    }
    let mut builder = SummaryBuilder::default();
    for file in files {
        let read = super::for_each_result(file, |result| {
            builder.add(&result);
            Ok(())
        });
        if let Err(error) = read {
            tracing::warn!("job {}: no summary: {error:#}", job.job_id);
            return None;
        }
    }
    Some(builder.build(job.duration_secs.unwrap_or(0.0)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn stderr_matches_hand_computation() {
        // values 0, 1, 1, 0: mean 0.5, sample var 1/3, stderr sqrt(1/12)
        let (mean, stderr) = mean_and_stderr(&[0.0, 1.0, 1.0, 0.0]);
        assert_eq!(mean, Some(0.5));
        assert!((stderr.unwrap() - (1.0f64 / 12.0).sqrt()).abs() < 1e-12);
        assert_eq!(mean_and_stderr(&[1.0]), (Some(1.0), None));
    }

    #[test]
    fn rollouts_are_averaged_per_example_first() {
        let mut builder = SummaryBuilder::default();
        for (id, reward) in [("a", 1.0), ("a", 0.0), ("b", 1.0)] {
            builder.add(&SampleResult {
                example_id: id.into(),
                example_index: 0,
                rollout: 0,
                seed: 0,
                group: None,
                prompt: vec![],
                prompt_text: None,
                sampling_seed: None,
                continuations: Vec::new(),
                judge_calls: Vec::new(),
                completion: None,
                reasoning: None,
                reward: Some(reward),
                parsed_answer: None,
                parse_status: Some(ParseStatus::Ok),
                metrics: BTreeMap::new(),
                info: Value::Null,
                transcript: vec![],
                code_runs: vec![],
                artifacts: Vec::new(),
                turns: 1,
                tokens: Tokens::default(),
                latency_ms: 0,
                cache_hits: 0,
                error: None,
                cost_usd: None,
                finished_at: String::new(),
            });
        }
        let summary = builder.build(1.0);
        assert_eq!(summary.mean_reward, Some(0.75));
        assert_eq!(summary.n_examples, 2);
        assert_eq!(summary.n, 3);
    }
}
