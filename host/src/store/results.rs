//! Result lines (`results.jsonl`): one per (example, rollout), appended as
//! samples finish.
//!
//! Lines are appended in batches (as many as have finished, see
//! [`ResultsWriter::append`]); a killed process leaves at most a torn last
//! line, and a sample counts as done only once its line is written.

use crate::execution::CodeRun;
use crate::models::Message;
use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// Token counts of one sample (all turns).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq)]
pub struct Tokens {
    /// Prompt tokens, over every turn.
    pub prompt: u64,
    /// Completion tokens (reasoning included, as servers count them).
    pub completion: u64,
    /// Reasoning tokens, when the server reports them.
    pub reasoning: u64,
}

impl Tokens {
    /// Whether every count is zero.
    pub fn is_zero(&self) -> bool {
        *self == Tokens::default()
    }

    /// Add another sample's counts.
    pub fn add(&mut self, other: Tokens) {
        self.prompt += other.prompt;
        self.completion += other.completion;
        self.reasoning += other.reasoning;
    }
}

/// Whether an answer could be read from a completion, kept apart from
/// whether it was right.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ParseStatus {
    /// An answer was found.
    Ok,
    /// The completion holds no answer.
    NoAnswer,
    /// Something answer-like was found but could not be read.
    Malformed,
    /// The completion commits to several answers ("(A) or (C)").
    Hedged,
    /// The judge's reply held no grade the environment could read.
    Ungraded,
}

impl ParseStatus {
    /// The status as results spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            ParseStatus::Ok => "ok",
            ParseStatus::NoAnswer => "no-answer",
            ParseStatus::Malformed => "malformed",
            ParseStatus::Hedged => "hedged",
            ParseStatus::Ungraded => "ungraded",
        }
    }
}

/// What kind of failure left a sample without a score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorKind {
    /// The model endpoint failed (results written before the kinds below
    /// told model failures apart; read, no longer written).
    Model,
    /// The endpoint still answered 429 when `rate_limit_wait` ran out.
    RateLimited,
    /// The endpoint kept answering 5xx until `max_retries` ran out.
    ServerError,
    /// The endpoint refused the request (a 4xx other than 429: a wrong
    /// key, model name or argument); not retried.
    ClientError,
    /// The endpoint did not reply within `timeout`, on every attempt.
    ModelTimeout,
    /// The endpoint could not be reached, or the connection broke.
    Connection,
    /// The endpoint replied with something other than a completion.
    MalformedReply,
    /// The plugin returned an error (bad record, internal).
    Plugin,
    /// A plugin call passed its wall-clock limit.
    Timeout,
    /// A plugin call ran out of fuel.
    Cpu,
    /// A plugin exceeded its memory limit.
    Memory,
    /// The plugin panicked.
    Panic,
    /// Any other trap, or the plugin could not be instantiated.
    Trap,
    /// A plugin call returned too much text.
    TooLarge,
    /// The episode broke a rule (too many turns, an action it may not take).
    Episode,
    /// A program the plugin asked for could not be run.
    CodeExecution,
    /// A workspace could not be made, or a command in it could not be started.
    Workspace,
    /// The replay model has no completion for the sample, or a re-scored
    /// run no reply for the turn asked.
    Replay,
    /// The environment gave the oracle no reference.
    Oracle,
    /// The judge model failed after its retries.
    Judge,
}

impl ErrorKind {
    /// Whether the model gave no reply (the endpoint failed, or an offline
    /// model had none): re-scoring the sample cannot do better.
    pub fn is_model_failure(self) -> bool {
        use ErrorKind::*;
        matches!(
            self,
            Model
                | RateLimited
                | ServerError
                | ClientError
                | ModelTimeout
                | Connection
                | MalformedReply
                | Replay
                | Oracle
        )
    }

    /// Whether the sample got no reply from its model's or judge's
    /// endpoint (unlike a replay without a completion, or the oracle).
    pub fn is_endpoint_failure(self) -> bool {
        self == ErrorKind::Judge || (self.is_model_failure() && !matches!(self, ErrorKind::Replay | ErrorKind::Oracle))
    }

    /// The kind as results spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Model => "model",
            ErrorKind::RateLimited => "rate-limited",
            ErrorKind::ServerError => "server-error",
            ErrorKind::ClientError => "client-error",
            ErrorKind::ModelTimeout => "model-timeout",
            ErrorKind::Connection => "connection",
            ErrorKind::MalformedReply => "malformed-reply",
            ErrorKind::Plugin => "plugin",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Cpu => "cpu",
            ErrorKind::Memory => "memory",
            ErrorKind::Panic => "panic",
            ErrorKind::Trap => "trap",
            ErrorKind::TooLarge => "too-large",
            ErrorKind::Episode => "episode",
            ErrorKind::CodeExecution => "code-execution",
            ErrorKind::Workspace => "workspace",
            ErrorKind::Replay => "replay",
            ErrorKind::Oracle => "oracle",
            ErrorKind::Judge => "judge",
        }
    }
}

/// Why a sample has no score.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SampleError {
    /// The category.
    pub kind: ErrorKind,
    /// One line naming what failed.
    pub message: String,
    /// Requests made to the model by the failed request, retries included
    /// (model failures only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempts: Option<u32>,
}

/// A continuation scored by log-likelihood.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ScoredContinuation {
    /// The continuation.
    pub text: String,
    /// Summed log-probability of its tokens.
    pub logprob: f64,
    /// How many tokens it took.
    pub tokens: u32,
    /// Whether greedy decoding from the context gives exactly it.
    pub greedy: bool,
}

/// One question the environment asked its judge, and the answer.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct JudgeCall {
    /// The conversation sent to the judge.
    pub messages: Vec<Message>,
    /// The judge's reply.
    pub reply: String,
    /// Tokens the judge request used.
    pub tokens: Tokens,
    /// Its wall time, in milliseconds.
    pub latency_ms: u64,
}

/// One line of `results.jsonl`: one rollout of one example.
///
/// A field added here also goes in [`ResultLine`] and in `compact_line`'s
/// reader, in this order; until it does, `process` reads lines holding it
/// with serde_json: right, but slower.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SampleResult {
    /// The record's example id.
    pub example_id: String,
    /// The record's position in the dataset.
    pub example_index: usize,
    /// The rollout (0-based).
    pub rollout: u32,
    /// The sample seed (from the run seed, the example id and the rollout).
    pub seed: u64,
    /// The record's value of the env's `group_by` field (`subject`...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// The messages of the first model request.
    pub prompt: Vec<Message>,
    /// For a base model (`use_chat_template: false`), the text the first
    /// request sent: `prompt` rendered by the prompt template.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_text: Option<String>,
    /// The `seed` sent with each model request, when the config set none
    /// (the sample seed cut to 31 bits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sampling_seed: Option<u64>,
    /// Continuations the environment had scored by log-likelihood, with
    /// their scores (the context is `prompt_text`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub continuations: Vec<ScoredContinuation>,
    /// Questions the environment asked its judge (accounted apart from
    /// the model under test: `tokens` and `latency_ms` leave them out).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub judge_calls: Vec<JudgeCall>,
    /// The last model reply.
    pub completion: Option<String>,
    /// Reasoning text of the last reply, when the server returned it.
    pub reasoning: Option<String>,
    /// The reward; absent when the sample errored.
    pub reward: Option<f64>,
    /// The answer the environment read, if any.
    pub parsed_answer: Option<String>,
    /// Absent when the sample errored.
    pub parse_status: Option<ParseStatus>,
    /// Further named numbers the environment reported.
    pub metrics: BTreeMap<String, f64>,
    /// The environment's details (gold answer, extraction method...).
    pub info: Value,
    /// Every exchange after the first, for multi-turn environments.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transcript: Vec<Message>,
    /// Programs run for this sample (code-execution environments).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub code_runs: Vec<CodeRun>,
    /// Files kept for this sample (its diff, transcript, test output, kept
    /// workspace), relative to the job's directory.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub artifacts: Vec<String>,
    /// Model requests made.
    pub turns: u32,
    /// Tokens over every turn.
    pub tokens: Tokens,
    /// Model time summed over turns, in milliseconds: of each successful
    /// request its successful attempt, of a failed one all of it (every
    /// attempt and wait).
    pub latency_ms: u64,
    /// Replies (the model's and the judge's) served by the response cache
    /// instead of a request.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub cache_hits: u32,
    /// Why the sample has no score, if it has none.
    pub error: Option<SampleError>,
    /// What the sample cost in US dollars (its tokens at the model's price,
    /// its judge calls' at the judge's); absent when neither is priced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_usd: Option<f64>,
    /// When the sample finished (RFC 3339).
    pub finished_at: String,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// A result line read without copying it: its strings borrow from the line
/// (unless they hold escapes), and the JSON of its prompt, info and code
/// runs is kept as written. For readers that pass most of a line on as it
/// is (`process`); see [`SampleResult`] for what each field means.
#[derive(Debug, Deserialize, PartialEq)]
pub struct ResultLine<'a> {
    /// The record's example id.
    #[serde(borrow)]
    pub example_id: Cow<'a, str>,
    /// The record's position in the dataset.
    pub example_index: usize,
    /// The rollout.
    pub rollout: u32,
    /// The sample seed.
    pub seed: u64,
    /// The record's group (the env's `group_by` field).
    #[serde(default, borrow)]
    pub group: Option<Cow<'a, str>>,
    /// The messages of the first model request, as JSON.
    #[serde(borrow)]
    pub prompt: RawJson<'a>,
    /// For a base model, the text the first request sent.
    #[serde(default, borrow)]
    pub prompt_text: Option<Cow<'a, str>>,
    /// The `seed` sent with each model request, when the config set none.
    #[serde(default)]
    pub sampling_seed: Option<u64>,
    /// Continuations scored by log-likelihood, as JSON (absent when none).
    #[serde(default, borrow)]
    pub continuations: Option<RawJson<'a>>,
    /// The last model reply.
    #[serde(borrow)]
    pub completion: Option<Cow<'a, str>>,
    /// Its reasoning text.
    #[serde(borrow)]
    pub reasoning: Option<Cow<'a, str>>,
    /// The reward.
    pub reward: Option<f64>,
    /// The answer the environment read.
    #[serde(borrow)]
    pub parsed_answer: Option<Cow<'a, str>>,
    /// Whether an answer could be read.
    pub parse_status: Option<ParseStatus>,
    /// Further named numbers.
    #[serde(borrow)]
    pub metrics: BTreeMap<Cow<'a, str>, f64>,
    /// The environment's details, as JSON (`null` when none).
    #[serde(borrow)]
    pub info: RawJson<'a>,
    /// Every exchange after the first, as JSON (absent for one turn).
    #[serde(default, borrow)]
    pub transcript: Option<RawJson<'a>>,
    /// Programs run for the sample, as JSON (absent when none).
    #[serde(default, borrow)]
    pub code_runs: Option<RawJson<'a>>,
    /// Questions the environment asked its judge, as JSON (absent when none).
    #[serde(default, borrow)]
    pub judge_calls: Option<RawJson<'a>>,
    /// Model requests made.
    pub turns: u32,
    /// Tokens over every turn.
    pub tokens: Tokens,
    /// Model time in milliseconds.
    pub latency_ms: u64,
    /// Why the sample has no score.
    #[serde(borrow)]
    pub error: Option<LineError<'a>>,
    /// What the sample cost in US dollars, when priced.
    #[serde(default)]
    pub cost_usd: Option<f64>,
    /// Model replies the response cache answered.
    #[serde(default)]
    pub cache_hits: u32,
    /// When the sample finished (RFC 3339).
    #[serde(borrow)]
    pub finished_at: Cow<'a, str>,
}

/// A JSON value in a [`ResultLine`], as the line wrote it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawJson<'a>(&'a str);

impl<'a> RawJson<'a> {
    /// The value's JSON text.
    pub fn get(self) -> &'a str {
        self.0
    }

    /// `json`, which the caller has checked is one JSON value.
    pub(super) fn checked(json: &'a str) -> Self {
        RawJson(json)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for RawJson<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        <&'de RawValue>::deserialize(deserializer).map(|raw| RawJson(raw.get()))
    }
}

/// A [`SampleError`] in a [`ResultLine`].
#[derive(Debug, Deserialize, PartialEq)]
pub struct LineError<'a> {
    /// The category.
    pub kind: ErrorKind,
    /// One line naming what failed.
    #[serde(borrow)]
    pub message: Cow<'a, str>,
    /// Requests the failed model call made (model failures only).
    #[serde(default)]
    pub attempts: Option<u32>,
}

/// Appends result lines to a job's `results.jsonl`.
pub struct ResultsWriter {
    file: File,
    /// Reused for every batch.
    lines: Vec<u8>,
    /// Where each line of the batch ends in `lines`.
    ends: Vec<usize>,
    /// For error messages.
    path: PathBuf,
}

/// A batch that did not reach the file whole.
#[derive(Debug)]
pub struct AppendError {
    /// The leading results of the batch whose lines were written whole
    /// (they are on disk and count as recorded).
    pub written: usize,
    /// What went wrong, naming the file.
    pub error: anyhow::Error,
}

impl ResultsWriter {
    /// Open (creating or appending to) `path`.
    pub fn open(path: &Path) -> Result<Self> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .with_context(|| format!("cannot open {}", path.display()))?;
        Ok(ResultsWriter { file, lines: Vec::with_capacity(1 << 16), ends: Vec::new(), path: path.to_path_buf() })
    }

    /// Append one line per result, in as few writes as the system allows
    /// (a group commit: one system call for many samples). On failure, says
    /// how many of the leading results were written whole; at most the line
    /// after them is torn, which resume repairs.
    pub fn append(&mut self, results: &[SampleResult]) -> Result<(), AppendError> {
        self.lines.clear();
        self.ends.clear();
        for result in results {
            serde_json::to_writer(&mut self.lines, result).map_err(|e| AppendError { written: 0, error: e.into() })?;
            self.lines.push(b'\n');
            self.ends.push(self.lines.len());
        }
        let mut done = 0;
        while done < self.lines.len() {
            match self.file.write(&self.lines[done..]) {
                Ok(0) => return Err(self.failed(done, std::io::ErrorKind::WriteZero.into())),
                Ok(n) => done += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.failed(done, e)),
            }
        }
        Ok(())
    }

    fn failed(&self, bytes_written: usize, error: std::io::Error) -> AppendError {
        AppendError {
            written: self.ends.iter().take_while(|end| **end <= bytes_written).count(),
            error: anyhow::Error::new(error).context(format!("cannot append to {}", self.path.display())),
        }
    }
}

/// Which (record, rollout) samples a job already holds: one bit each, so
/// resuming a million-sample job costs 125 KB, not a hash set.
#[derive(Debug, Clone)]
pub struct SampleSet {
    bits: Vec<u64>,
    rollouts: u32,
    len: u64,
}

impl SampleSet {
    /// An empty set for `records` × `rollouts` samples.
    pub fn new(records: usize, rollouts: u32) -> Self {
        let slots = records * rollouts as usize;
        SampleSet { bits: vec![0; slots.div_ceil(64)], rollouts, len: 0 }
    }

    /// The slot of a sample, if it is inside the job.
    fn slot(&self, record: usize, rollout: u32) -> Option<usize> {
        let slot = record.checked_mul(self.rollouts as usize)?.checked_add(rollout as usize)?;
        (rollout < self.rollouts && slot < self.bits.len() * 64).then_some(slot)
    }

    /// Whether the sample is in the set.
    pub fn contains(&self, record: usize, rollout: u32) -> bool {
        self.slot(record, rollout).is_some_and(|slot| self.bits[slot / 64] & (1 << (slot % 64)) != 0)
    }

    /// Add a sample; false if it was already there.
    fn insert(&mut self, slot: usize) -> bool {
        let (word, bit) = (slot / 64, 1u64 << (slot % 64));
        let fresh = self.bits[word] & bit == 0;
        self.bits[word] |= bit;
        self.len += u64::from(fresh);
        fresh
    }

    /// Samples in the set.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// Lines of an existing results file that a resume does not keep.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DroppedLines {
    /// The last line was cut short by a crash.
    pub torn: bool,
    /// Samples that ended in an error: dropped so the resume retries them.
    pub errored: u64,
    /// Lines that are not a result of this job (unreadable, or naming an
    /// example or rollout the job does not have).
    pub foreign: u64,
    /// Second copies of a sample already kept.
    pub duplicate: u64,
}

impl DroppedLines {
    fn any_inside(&self) -> bool {
        self.errored + self.foreign + self.duplicate > 0
    }
}

/// What a job's `results.jsonl` already holds, as a resume sees it.
#[derive(Debug, Clone)]
pub struct ExistingResults {
    /// Samples kept (scored, not errored).
    pub done: SampleSet,
    /// The summary of the kept lines.
    pub summary: super::SummaryBuilder,
    /// What was (or, read-only, would be) dropped.
    pub dropped: DroppedLines,
}

/// The job a results file belongs to: its record ids in order, and rollouts.
pub struct JobShape<'a> {
    /// `record_ids[i]` is the example id of record `i`.
    pub record_ids: &'a [&'a str],
    /// Rollouts per record.
    pub rollouts: u32,
    /// Whether a (record, rollout) belongs in the file, for a shard's file
    /// (`None`: every sample of the job does).
    pub owned: Option<&'a dyn Fn(usize, u32) -> bool>,
}

/// Read a job's results back. With `repair`, the file is made to hold only
/// what is kept: a torn last line is cut off, and if lines inside were
/// dropped the file is rewritten (to a temp file, then renamed). Without
/// it nothing is written (for `--dry-run`). A missing file holds nothing.
/// The file is streamed, so memory does not grow with its length.
pub fn read_existing(path: &Path, shape: &JobShape, repair: bool) -> Result<ExistingResults> {
    let mut existing = ExistingResults::empty(shape);
    let complete = match scan(path, |line| {
        existing.classify(line, shape);
    }) {
        Ok(complete) => complete,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(existing),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    existing.dropped.torn = complete < std::fs::metadata(path).map(|m| m.len()).unwrap_or(complete);
    if !repair {
        return Ok(existing);
    }
    if existing.dropped.any_inside() {
        // The same decisions again, this time copying what is kept.
        super::replace_atomically(path, |file| {
            let mut out = std::io::BufWriter::new(file);
            let mut again = ExistingResults::empty(shape);
            let mut written = Ok(());
            scan(path, |line| {
                if again.classify(line, shape) && written.is_ok() {
                    written = out.write_all(line);
                }
            })
            .and(written)
            .and_then(|_| out.into_inner().map_err(|e| e.into_error()))
            .map(|file| (file, ()))
            .with_context(|| format!("cannot rewrite {}", path.display()))
        })?;
    } else if existing.dropped.torn {
        let file =
            OpenOptions::new().write(true).open(path).with_context(|| format!("cannot open {}", path.display()))?;
        file.set_len(complete)
            .and_then(|_| file.sync_all())
            .with_context(|| format!("cannot cut the torn last line of {}", path.display()))?;
    }
    Ok(existing)
}

/// Call `on_result` with every complete line of a results file, in order
/// (a torn last line is skipped; a missing file holds nothing). A line that
/// is not a result is an error naming file and line.
pub fn for_each_result(path: &Path, mut on_result: impl FnMut(SampleResult) -> Result<()>) -> Result<()> {
    for_each_line(path, |line, number| {
        on_result(serde_json::from_slice(line).with_context(|| not_a_result(path, number))?)
    })
}

/// [`for_each_result`] without copying: `on_line` sees each line as a
/// [`ResultLine`] borrowing from it.
pub fn for_each_result_line(path: &Path, mut on_line: impl FnMut(ResultLine<'_>) -> Result<()>) -> Result<()> {
    for_each_line(path, |line, number| {
        // Checked as UTF-8 once, whole: parsing a `str` skips the check
        // `from_slice` makes string by string, a sixth of the parse.
        let line = std::str::from_utf8(line).with_context(|| not_a_result(path, number))?;
        on_line(read_result_line(line).with_context(|| not_a_result(path, number))?)
    })
}

/// One result line (with its newline or without), read as
/// [`for_each_result_line`] reads it: without serde_json when it is in the
/// form assay writes, by serde_json otherwise.
pub fn read_result_line(line: &str) -> serde_json::Result<ResultLine<'_>> {
    super::compact_line::read(line).map_or_else(|| serde_json::from_str(line), Ok)
}

/// The metric names a results file holds, read without parsing whole
/// lines: only each line's `metrics` object.
pub fn metric_names(path: &Path) -> Result<std::collections::BTreeSet<String>> {
    // Keys are written unescaped and in order, and a quote inside a string
    // is escaped, so this finds the `metrics` field and nothing else.
    const KEY: &str = ",\"metrics\":";
    let mut names = std::collections::BTreeSet::new();
    for_each_line(path, |line, number| {
        let line = std::str::from_utf8(line).with_context(|| not_a_result(path, number))?;
        let at = line.find(KEY).with_context(|| not_a_result(path, number))? + KEY.len();
        let mut object = serde_json::Deserializer::from_str(&line[at..]);
        let metrics = BTreeMap::<Cow<str>, serde::de::IgnoredAny>::deserialize(&mut object)
            .with_context(|| not_a_result(path, number))?;
        names.extend(metrics.into_keys().map(Cow::into_owned));
        Ok(())
    })?;
    Ok(names)
}

fn not_a_result(path: &Path, number: usize) -> String {
    format!("{}:{number}: not a result line", path.display())
}

/// Call `read` with every complete line of a file and its number (from 1),
/// until it fails.
fn for_each_line(path: &Path, mut read: impl FnMut(&[u8], usize) -> Result<()>) -> Result<()> {
    let mut number = 0;
    let mut outcome = Ok(());
    let scanned = scan(path, |line| {
        number += 1;
        if outcome.is_ok() {
            outcome = read(line, number);
        }
    });
    match scanned {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
        Ok(_) => outcome,
    }
}

/// Call `on_line` with every complete (newline-terminated) line; returns
/// the length of the file up to the end of the last complete line.
///
/// Lines are handed out where they lie in a large read buffer, not copied
/// out one by one; the buffer grows only for a line longer than it.
fn scan(path: &Path, mut on_line: impl FnMut(&[u8])) -> std::io::Result<u64> {
    let mut file = File::open(path)?;
    let mut buffer = vec![0u8; 1 << 20];
    let (mut filled, mut complete) = (0, 0u64);
    loop {
        if filled == buffer.len() {
            buffer.resize(buffer.len() * 2, 0);
        }
        let read = match file.read(&mut buffer[filled..]) {
            Ok(0) => return Ok(complete), // what is left is a torn last line
            Ok(read) => read,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        filled += read;
        let mut start = 0;
        while let Some(end) = memchr::memchr(b'\n', &buffer[start..filled]) {
            on_line(&buffer[start..=start + end]);
            start += end + 1;
        }
        complete += start as u64;
        buffer.copy_within(start..filled, 0);
        filled -= start;
    }
}

impl ExistingResults {
    fn empty(shape: &JobShape) -> Self {
        ExistingResults {
            done: SampleSet::new(shape.record_ids.len(), shape.rollouts),
            summary: Default::default(),
            dropped: DroppedLines::default(),
        }
    }

    /// Count one line; true if it is kept.
    fn classify(&mut self, line: &[u8], shape: &JobShape) -> bool {
        let Ok(result) = serde_json::from_slice::<SampleResult>(line) else {
            self.dropped.foreign += 1;
            return false;
        };
        let slot = self.done.slot(result.example_index, result.rollout);
        let belongs = shape.record_ids.get(result.example_index).is_some_and(|id| *id == result.example_id)
            && shape.owned.is_none_or(|owned| owned(result.example_index, result.rollout));
        match slot {
            Some(slot) if belongs => {
                if result.error.is_some() {
                    self.dropped.errored += 1;
                    false
                } else if self.done.insert(slot) {
                    self.summary.add(&result);
                    true
                } else {
                    self.dropped.duplicate += 1;
                    false
                }
            }
            _ => {
                self.dropped.foreign += 1;
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINE: &str = r#"{"example_id":"q0","example_index":0,"rollout":0,"seed":1,"prompt":[],"completion":"x","reasoning":null,"reward":1.0,"parsed_answer":"A","parse_status":"ok","metrics":{},"info":null,"turns":1,"tokens":{"prompt":1,"completion":1,"reasoning":0},"latency_ms":5,"error":null,"finished_at":"2026-11-23T05:00:00Z"}"#;

    /// `process` reads lines in assay's form and in any other, names the
    /// file and line of one that is not a result, and skips a torn last line.
    #[test]
    fn result_lines_in_any_form_read_and_a_bad_one_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("results.jsonl");
        let spaced = LINE.replace(",\"rollout\"", ", \"rollout\"");
        std::fs::write(&path, format!("{LINE}\n{spaced}\n{{\"example_id\":\"q1\"}}\n{LINE}\n{{\"torn")).unwrap();
        let mut read = Vec::new();
        let error = for_each_result_line(&path, |line| {
            read.push(line.example_id.into_owned());
            Ok(())
        })
        .unwrap_err();
        assert_eq!(read, ["q0", "q0"]);
        assert_eq!(error.to_string(), format!("{}:3: not a result line", path.display()));

        std::fs::write(&path, format!("{LINE}\n{spaced}\n{{\"torn")).unwrap();
        let mut rows = 0;
        for_each_result_line(&path, |_| {
            rows += 1;
            Ok(())
        })
        .unwrap();
        assert_eq!(rows, 2, "the torn last line is skipped");
    }
}
