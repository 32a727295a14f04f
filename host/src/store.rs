//! The run directory and every file in it.
//!
//! ```text
//! <output_dir>/<run_id>/
//!   run_manifest.json         job statuses and counts, rewritten atomically
//!   <job_id>/results.jsonl    one line per (example, rollout), appended as samples finish
//!   <job_id>/summary.json     n, mean reward, stderr, counts, tokens, duration
//!   <job_id>/metadata.json    resolved job snapshot (no secrets), plugin and dataset hashes
//! ```
//!
//! Results lines are written with one `write` each and flushed at once, so a
//! killed process leaves at most a torn last line and never loses a line
//! that was reported done.

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Version of the manifest layout.
pub const MANIFEST_VERSION: u32 = 1;

/// The current time as RFC 3339 (UTC).
pub fn now_rfc3339() -> String {
    OffsetDateTime::now_utc().format(&Rfc3339).expect("RFC 3339 formatting")
}

/// A run id: the slugged run name plus the UTC start time.
pub fn new_run_id(name: &str) -> String {
    let now = OffsetDateTime::now_utc();
    let stamp = time::macros::format_description!("[year][month][day]-[hour][minute][second]");
    format!("{}-{}", slug(name), now.format(&stamp).expect("timestamp formatting"))
}

/// Keep `[A-Za-z0-9_.-]`, turn anything else into `-`.
pub fn slug(text: &str) -> String {
    let mapped: String =
        text.chars().map(|c| if c.is_ascii_alphanumeric() || "_.-".contains(c) { c } else { '-' }).collect();
    let trimmed = mapped.trim_matches('-');
    if trimmed.is_empty() { "run".into() } else { trimmed.into() }
}

/// Write `bytes` to `path` atomically: a temp file in the same directory,
/// synced, then renamed over the target.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    let mut file = File::create(&tmp).with_context(|| format!("cannot write {}", tmp.display()))?;
    file.write_all(bytes).and_then(|_| file.sync_all()).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot replace {}", path.display()))
}

/// Write pretty JSON atomically.
pub fn write_json(path: &Path, value: &impl Serialize) -> Result<()> {
    let mut bytes = serde_json::to_vec_pretty(value)?;
    bytes.push(b'\n');
    write_atomic(path, &bytes)
}

/// Lifecycle of a job in the manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    /// Not started.
    Pending,
    /// Samples are running.
    Running,
    /// Every sample was scored.
    Completed,
    /// The job could not run, or some samples ended in an error.
    Failed,
}

/// One job in `run_manifest.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JobEntry {
    pub job_id: String,
    pub model_id: String,
    pub env_id: String,
    pub env_base_id: String,
    pub status: JobStatus,
    /// Why a job failed.
    pub reason: Option<String>,
    /// sha256 over the inputs that change results (see `runner::job_checksum`).
    pub checksum: String,
    pub samples_total: u64,
    pub samples_done: u64,
    pub samples_failed: u64,
    pub mean_reward: Option<f64>,
    pub started_at: Option<String>,
    pub ended_at: Option<String>,
    pub duration_secs: Option<f64>,
    /// Results file, relative to the run directory.
    pub results: String,
}

/// Counts of jobs by status.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct StatusCounts {
    pub total: usize,
    pub pending: usize,
    pub running: usize,
    pub completed: usize,
    pub failed: usize,
}

/// `run_manifest.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub version: u32,
    pub run_id: String,
    pub name: String,
    pub config_path: String,
    pub assay_version: String,
    pub created_at: String,
    pub updated_at: String,
    pub jobs: Vec<JobEntry>,
    pub summary: StatusCounts,
}

impl Manifest {
    fn recount(&mut self) {
        let mut counts = StatusCounts { total: self.jobs.len(), ..StatusCounts::default() };
        for job in &self.jobs {
            match job.status {
                JobStatus::Pending => counts.pending += 1,
                JobStatus::Running => counts.running += 1,
                JobStatus::Completed => counts.completed += 1,
                JobStatus::Failed => counts.failed += 1,
            }
        }
        self.summary = counts;
    }
}

/// A created run directory with its manifest, shared by every job task.
pub struct RunDir {
    root: PathBuf,
    manifest: std::sync::Mutex<Manifest>,
}

impl RunDir {
    /// Create `<output_dir>/<run_id>/` and write the initial manifest.
    pub fn create(output_dir: &Path, mut manifest: Manifest) -> Result<Self> {
        let root = output_dir.join(&manifest.run_id);
        std::fs::create_dir_all(&root).with_context(|| format!("cannot create {}", root.display()))?;
        manifest.recount();
        write_json(&root.join("run_manifest.json"), &manifest)?;
        Ok(RunDir { root, manifest: std::sync::Mutex::new(manifest) })
    }

    /// The run directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// A job's directory (created on first use).
    pub fn job_dir(&self, job_id: &str) -> Result<PathBuf> {
        let dir = self.root.join(job_id);
        std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
        Ok(dir)
    }

    /// Change a job's entry and rewrite the manifest atomically.
    pub fn update_job(&self, job_id: &str, change: impl FnOnce(&mut JobEntry)) -> Result<()> {
        let mut manifest = self.manifest.lock().expect("manifest lock");
        if let Some(entry) = manifest.jobs.iter_mut().find(|j| j.job_id == job_id) {
            change(entry);
        }
        manifest.updated_at = now_rfc3339();
        manifest.recount();
        write_json(&self.root.join("run_manifest.json"), &*manifest)
    }

    /// A copy of the manifest as last written.
    pub fn manifest(&self) -> Manifest {
        self.manifest.lock().expect("manifest lock").clone()
    }
}

/// Chat message as stored in results.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StoredMessage {
    pub role: String,
    pub content: String,
}

/// Token counts of one sample (all turns).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq)]
pub struct Tokens {
    pub prompt: u64,
    pub completion: u64,
    pub reasoning: u64,
}

impl Tokens {
    fn add(&mut self, other: Tokens) {
        self.prompt += other.prompt;
        self.completion += other.completion;
        self.reasoning += other.reasoning;
    }
}

/// Why a sample has no score.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SampleError {
    /// Category: `model`, `plugin`, `timeout`, `cpu`, `memory`, `panic`, `trap`, `episode`.
    pub kind: String,
    /// One line naming what failed.
    pub message: String,
}

/// One line of `results.jsonl`: one rollout of one example.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SampleResult {
    pub example_id: String,
    pub example_index: usize,
    pub rollout: u32,
    pub seed: u64,
    /// The messages of the first model request.
    pub prompt: Vec<StoredMessage>,
    /// The last model reply.
    pub completion: Option<String>,
    /// Reasoning text of the last reply, when the server returned it.
    pub reasoning: Option<String>,
    pub reward: Option<f64>,
    pub parsed_answer: Option<String>,
    /// `ok`, `no-answer` or `malformed`; absent when the sample errored.
    pub parse_status: Option<String>,
    pub metrics: BTreeMap<String, f64>,
    /// The environment's details (gold answer, extraction method...).
    pub info: Value,
    /// Every exchange after the first, for multi-turn environments.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transcript: Vec<StoredMessage>,
    pub turns: u32,
    pub tokens: Tokens,
    /// Model time summed over turns, in milliseconds.
    pub latency_ms: u64,
    pub error: Option<SampleError>,
    pub finished_at: String,
}

/// Appends result lines to a job's `results.jsonl`.
pub struct ResultsWriter {
    file: File,
    line: Vec<u8>,
}

impl ResultsWriter {
    /// Open (creating or appending to) `path`.
    pub fn open(path: &Path) -> Result<Self> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .with_context(|| format!("cannot open {}", path.display()))?;
        Ok(ResultsWriter { file, line: Vec::with_capacity(4096) })
    }

    /// Append one line with a single write, so lines never interleave.
    pub fn append(&mut self, result: &SampleResult) -> Result<()> {
        self.line.clear();
        serde_json::to_writer(&mut self.line, result)?;
        self.line.push(b'\n');
        self.file.write_all(&self.line).context("cannot append to results.jsonl")
    }
}

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
    pub parse_status: BTreeMap<String, u64>,
    /// Errored samples by kind.
    pub errors: BTreeMap<String, u64>,
    /// Mean of each metric over scored samples.
    pub metrics: BTreeMap<String, f64>,
    pub tokens: Tokens,
    pub duration_secs: f64,
}

/// Accumulates a [`Summary`] as results arrive; memory grows with the
/// number of examples, not samples.
#[derive(Default)]
pub struct SummaryBuilder {
    n: u64,
    errors: BTreeMap<String, u64>,
    parse_status: BTreeMap<String, u64>,
    per_example: HashMap<String, (f64, u32)>,
    metric_sums: BTreeMap<String, (f64, u64)>,
    tokens: Tokens,
}

impl SummaryBuilder {
    /// Count one result.
    pub fn add(&mut self, result: &SampleResult) {
        self.n += 1;
        self.tokens.add(result.tokens);
        if let Some(error) = &result.error {
            *self.errors.entry(error.kind.clone()).or_default() += 1;
            return;
        }
        if let Some(status) = &result.parse_status {
            *self.parse_status.entry(status.clone()).or_default() += 1;
        }
        if let Some(reward) = result.reward {
            let entry = self.per_example.entry(result.example_id.clone()).or_default();
            entry.0 += reward;
            entry.1 += 1;
        }
        for (name, value) in &result.metrics {
            let entry = self.metric_sums.entry(name.clone()).or_default();
            entry.0 += value;
            entry.1 += 1;
        }
    }

    /// Samples counted so far, and how many errored.
    pub fn counts(&self) -> (u64, u64) {
        (self.n, self.errors.values().sum())
    }

    /// The summary so far.
    pub fn build(&self, duration_secs: f64) -> Summary {
        let means: Vec<f64> = self.per_example.values().map(|(sum, n)| sum / f64::from(*n)).collect();
        let (mean_reward, stderr) = mean_and_stderr(&means);
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
            metrics: self.metric_sums.iter().map(|(k, (sum, n))| (k.clone(), sum / *n as f64)).collect(),
            tokens: self.tokens,
            duration_secs,
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slug_keeps_safe_characters() {
        assert_eq!(slug("gpt-4o mini/v1"), "gpt-4o-mini-v1");
        assert_eq!(slug("///"), "run");
    }

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
                prompt: vec![],
                completion: None,
                reasoning: None,
                reward: Some(reward),
                parsed_answer: None,
                parse_status: Some("ok".into()),
                metrics: BTreeMap::new(),
                info: Value::Null,
                transcript: vec![],
                turns: 1,
                tokens: Tokens::default(),
                latency_ms: 0,
                error: None,
                finished_at: String::new(),
            });
        }
        let summary = builder.build(1.0);
        assert_eq!(summary.mean_reward, Some(0.75));
        assert_eq!(summary.n_examples, 2);
        assert_eq!(summary.n, 3);
    }
}
