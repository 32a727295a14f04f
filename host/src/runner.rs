//! Runs a [`Plan`]: every rollout of every record of every job, through the
//! job's environment plugin and model, into the run store.
//!
//! Two steps, so `--dry-run` shares the first:
//! 1. [`prepare`]: the preflight (datasets, plugins, arguments, keys, job
//!    identities; see [`preflight`]) and the schedule (which run, and per
//!    job: resume, done, fresh, replace, copy or skip; see [`schedule`]).
//!    Nothing is written, so a broken config fails in one line.
//! 2. [`execute`]: opens the run and runs the jobs concurrently (`parallel`
//!    at once), samples concurrently within each job, bounded by the
//!    model's `max_concurrent` (shared by every job that uses the model).
//!    Finished samples are appended to `results.jsonl` in group commits
//!    (what finished within a few milliseconds, in one write); a sample
//!    counts as done once its line is written, and a resumed job skips
//!    every sample already recorded.
//!
//! A [`Cancel`] (Ctrl-C) stops new samples; in-flight ones get a grace
//! period to finish and be recorded, and unfinished jobs are marked
//! `interrupted`. A rerun resumes them exactly. A [`CostLimit`]
//! (`--max-cost`) stops new samples the same way once the spend reaches it,
//! letting in-flight ones finish. A [`FailureStreak`]
//! (`--max-failures-in-a-row`) stops a job's new samples once that many in
//! a row got no reply from its model or judge, and fails the job.
//!
//! A run can be split across processes (`--shard I/N`, see [`partition`]):
//! each runs only its share of every job's samples, into its own files of
//! the shared run directory.

mod cost_limit;
mod episode;
mod failure_streak;
mod fewshot;
pub(crate) mod identity;
mod partition;
mod preflight;
mod progress;
pub(crate) mod rescore;
mod rollouts;
pub(crate) mod schedule;
mod serving;

pub(crate) use cost_limit::CostLimit;
pub(crate) use episode::sample_seed;
pub(crate) use failure_streak::DEFAULT_MAX_FAILURES_IN_A_ROW;
use failure_streak::FailureStreak;
pub(crate) use preflight::PreparedJob;
pub(crate) use schedule::{Action, Schedule, Selection, Target};
pub(crate) use serving::servers_of;

use crate::models::server::{Server, ServerInfo};
use crate::plan::Plan;
use crate::runtime::Runtime;
use crate::store::{
    self, DatasetInfo, JobMetadata, JobStatus, Manifest, PluginInfo, ResultsWriter, RunDir, SampleSet, Summary,
    SummaryBuilder,
};
use anyhow::{Context, Result};
use episode::SampleSpec;
pub(crate) use progress::ProgressMode;
use progress::{JobBars, Progress};
use serving::Serving;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::{Notify, Semaphore, mpsc};
use tokio::task::JoinSet;

/// How a run is carried out.
#[derive(Clone, Default)]
pub(crate) struct RunOptions {
    /// How progress is shown.
    pub progress: ProgressMode,
    /// Where compiled plugins are cached (`None`: no disk cache).
    pub cache_dir: Option<PathBuf>,
    /// Which run, and which jobs to rerun.
    pub selection: Selection,
    /// Stops the run when cancelled (Ctrl-C).
    pub cancel: Cancel,
    /// How long in-flight samples may take to finish after a cancel.
    pub grace: Duration,
    /// A job running longer fails (its finished samples are kept, so a
    /// rerun continues it); `None`: no limit.
    pub job_timeout: Option<Duration>,
    /// Keep each sample's workspace in the job's directory instead of
    /// removing it (`--keep-workspaces`).
    pub keep_workspaces: bool,
    /// No new sample starts once this much has been spent (`--max-cost`).
    pub cost_limit: Option<Arc<CostLimit>>,
    /// A job stops (failed) once this many samples in a row got no reply
    /// from its model or judge; 0: never (`--max-failures-in-a-row`).
    pub max_failures_in_a_row: u32,
}

/// A cancellation flag that tasks can wait on.
#[derive(Clone, Default)]
pub(crate) struct Cancel(Arc<(AtomicBool, Notify)>);

impl Cancel {
    /// Cancel: no new samples start.
    pub(crate) fn cancel(&self) {
        self.0.0.store(true, Ordering::SeqCst);
        self.0.1.notify_waiters();
    }

    /// Whether [`Cancel::cancel`] was called.
    pub(crate) fn is_cancelled(&self) -> bool {
        self.0.0.load(Ordering::SeqCst)
    }

    /// Wait until cancelled.
    pub(crate) async fn cancelled(&self) {
        let notified = self.0.1.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        if !self.is_cancelled() {
            notified.await;
        }
    }
}

/// A run's jobs, checked, with what will happen to each.
pub(crate) struct Prepared {
    /// The jobs, in plan order.
    pub jobs: Vec<PreparedJob>,
    /// The run and one action per job.
    pub schedule: Schedule,
}

/// What a finished run reports.
#[derive(Debug)]
pub(crate) struct RunReport {
    /// The run directory.
    pub run_dir: PathBuf,
    /// The manifest as last written.
    pub manifest: Manifest,
    /// Summaries of the run's jobs that have one, by job id.
    pub summaries: HashMap<String, Summary>,
}

impl RunReport {
    /// Whether any job failed.
    pub(crate) fn any_failed(&self) -> bool {
        self.manifest.jobs.iter().any(|j| j.status == JobStatus::Failed)
    }

    /// Whether any job was interrupted.
    pub(crate) fn any_interrupted(&self) -> bool {
        self.manifest.jobs.iter().any(|j| j.status == JobStatus::Interrupted)
    }
}

/// Check everything and decide what would run, writing nothing.
pub(crate) async fn prepare(plan: &Plan, options: &RunOptions) -> Result<Prepared> {
    let runtime = Runtime::new(options.cache_dir.as_deref())?;
    let mut jobs = preflight::preflight(plan, &runtime).await?;
    partition::assign(&mut jobs, options.selection.shard);
    let schedule = schedule::schedule(plan, &jobs, &options.selection)?;
    Ok(Prepared { jobs, schedule })
}

/// Run what `prepared` scheduled. `notice` receives one-line messages a
/// user should see (results moved aside, and why).
pub(crate) async fn execute(
    plan: &Plan,
    prepared: Prepared,
    options: &RunOptions,
    notice: impl Fn(String),
) -> Result<RunReport> {
    let to_run: Vec<&PreparedJob> =
        prepared.jobs.iter().zip(&prepared.schedule.actions).filter(|(_, a)| a.runs()).map(|(j, _)| j).collect();
    preflight::check_scoring(&to_run).await?;
    preflight::check_judges(&to_run).await?;
    let run_dir = Arc::new(schedule::open_run(plan, &prepared.jobs, &prepared.schedule, notice)?);
    if let Some(shard) = prepared.schedule.shard {
        check_peers_again(&run_dir, &prepared, shard)?;
    }
    crate::logging::log_to_run_dir(run_dir.layout())?;
    tracing::info!(run = %run_dir.root().display(), config = %plan.config_path.display(), "run opened");
    let running = prepared.jobs.into_iter().zip(prepared.schedule.actions).filter(|(_, action)| action.runs());
    let running: Vec<PreparedJob> = running.map(|(job, _)| job).collect();
    let serving = Serving::new(plan, run_dir.root(), &running);
    let progress = Progress::new(options.progress, running.iter());
    let jobs: Vec<(PreparedJob, JobBars)> = running
        .into_iter()
        .map(|job| {
            let bars = progress.job(&job);
            (job, bars)
        })
        .collect();
    let job_slots = Arc::new(Semaphore::new(plan.parallel.max(1)));
    let tasks = spawn_jobs(jobs, &run_dir, &serving, job_slots, options).await;
    join_jobs(tasks, &serving).await?;
    let manifest = run_dir.manifest();
    let summaries = store::read_summaries(run_dir.root(), &manifest);
    Ok(RunReport { run_dir: run_dir.root().to_path_buf(), manifest, summaries })
}

/// Spawn a task per job. Slots are taken here, in plan order, so jobs
/// start in the order the config lists them (tasks would take them in
/// whatever order the scheduler first polls them). A served model's job
/// takes its slot in its task once its server answers (see `run_served`).
async fn spawn_jobs(
    jobs: Vec<(PreparedJob, JobBars)>,
    run_dir: &Arc<RunDir>,
    serving: &Serving,
    job_slots: Arc<Semaphore>,
    options: &RunOptions,
) -> JoinSet<Result<()>> {
    let mut tasks = JoinSet::new();
    for (job, bars) in jobs {
        let (run_dir, options, seed) = (run_dir.clone(), options.clone(), job.plan.seed);
        if let Some(server) = job.server().cloned() {
            let (serving, slots) = (serving.clone(), job_slots.clone());
            tasks.spawn(async move {
                let served = Served { server, serving: &serving, slots };
                run_served(&run_dir, seed, job, served, &bars, &options).await
            });
            continue;
        }
        let slot = tokio::select! {
            biased; // once cancelled, no job starts
            _ = options.cancel.cancelled() => {
                // Not started: stays as it was.
                finish_bars(&bars, &run_dir, &job.plan.job_id, JobStatus::Pending);
                continue;
            }
            slot = job_slots.clone().acquire_owned() => slot.expect("job semaphore is never closed"),
        };
        tasks.spawn(async move {
            let _slot = slot;
            run_in_time(&run_dir, seed, job, None, &bars, &options).await
        });
    }
    tasks
}

/// Wait for the job tasks; the first error stops the others. Whatever
/// happened, no server outlives the run.
async fn join_jobs(mut tasks: JoinSet<Result<()>>, serving: &Serving) -> Result<()> {
    let mut joined_all = Ok(());
    while let Some(joined) = tasks.join_next().await {
        if let Err(error) = joined.context("job task panicked").and_then(|done| done) {
            joined_all = Err(error);
            break;
        }
    }
    tasks.abort_all();
    serving.stop_all().await;
    joined_all
}

/// Shards that start at the same instant may each have checked the others'
/// parts before any was written; now that this shard's part is written,
/// at least one of two shards with different configs sees the other.
/// A shard refused here takes back the part it just created.
fn check_peers_again(run_dir: &RunDir, prepared: &Prepared, shard: store::Shard) -> Result<()> {
    let peers: Vec<Manifest> =
        store::parts::read_parts(run_dir.root())?.into_iter().filter(|part| part.shard != Some(shard)).collect();
    let checked = schedule::check_peers(&prepared.jobs, &peers, shard);
    if checked.is_err() && matches!(prepared.schedule.target, Target::New { .. }) {
        let _ = std::fs::remove_file(run_dir.layout().manifest());
    }
    checked
}

/// Run a job within the job time limit; a job that could not run, or ran
/// out of time, is marked failed.
async fn run_in_time(
    run_dir: &RunDir,
    seed: u64,
    job: PreparedJob,
    served: Option<ServerInfo>,
    bars: &JobBars,
    options: &RunOptions,
) -> Result<()> {
    let job_id = job.plan.job_id.clone();
    let run = run_job(run_dir, seed, job, served, bars, options);
    let outcome = match options.job_timeout {
        None => run.await,
        Some(limit) => tokio::time::timeout(limit, run).await.unwrap_or_else(|_| {
            Err(anyhow::anyhow!("timed out after {} s (finished samples are kept)", limit.as_secs_f64()))
        }),
    };
    if let Err(error) = outcome {
        fail_job(run_dir, &job_id, &format!("{error:#}"))?;
    }
    finish_bars(bars, run_dir, &job_id, JobStatus::Failed);
    Ok(())
}

/// A served job's server, the run's servers and its job slots.
struct Served<'a> {
    server: Arc<Server>,
    serving: &'a Serving,
    slots: Arc<Semaphore>,
}

/// Run a job of a served model: start its server (or wait for it), then
/// take a job slot, so a job waiting for GPUs never holds a slot a job of
/// a running server needs. A server that never answers fails the job.
/// The job is counted done on its server either way: the last one stops it.
async fn run_served(
    run_dir: &RunDir,
    seed: u64,
    job: PreparedJob,
    served: Served<'_>,
    bars: &JobBars,
    options: &RunOptions,
) -> Result<()> {
    let job_id = job.plan.job_id.clone();
    let ready = async {
        let info = served.serving.start(&served.server).await?;
        Ok::<_, String>((info, served.slots.acquire_owned().await.expect("job semaphore is never closed")))
    };
    let outcome = tokio::select! {
        biased; // once cancelled, no job starts
        _ = options.cancel.cancelled() => {
            // Not started: stays as it was.
            finish_bars(bars, run_dir, &job_id, JobStatus::Pending);
            Ok(())
        }
        ready = ready => match ready {
            Ok((info, _slot)) => run_in_time(run_dir, seed, job, Some(info), bars, options).await,
            Err(why) => fail_job(run_dir, &job_id, &why).map(|()| bars.finish(JobStatus::Failed)),
        },
    };
    served.server.job_done().await;
    outcome
}

/// End a job's bars with the status its manifest entry has (`unknown`
/// when it has none).
fn finish_bars(bars: &JobBars, run_dir: &RunDir, job_id: &str, unknown: JobStatus) {
    bars.finish(run_dir.manifest().job(job_id).map_or(unknown, |entry| entry.status));
}

fn fail_job(run_dir: &RunDir, job_id: &str, reason: &str) -> Result<()> {
    tracing::error!(job = job_id, "{reason}");
    run_dir.update_job(job_id, |entry| {
        entry.status = JobStatus::Failed;
        entry.reason = Some(reason.to_string());
        entry.ended_at = Some(store::now_rfc3339());
    })
}

/// Run one job's missing samples and write its files.
async fn run_job(
    run_dir: &RunDir,
    seed: u64,
    job: PreparedJob,
    served: Option<ServerInfo>,
    bars: &JobBars,
    options: &RunOptions,
) -> Result<()> {
    let started = Instant::now();
    let job_id = job.plan.job_id.clone();
    let files = run_dir.job_dir(&job_id)?;
    let results_path = files.results();
    let existing = job.read_existing(&results_path, true)?;
    job_metadata(&job, run_dir.manifest().run_id.as_str(), seed, served).write(&files.metadata())?;
    let mut previous_secs = 0.0;
    run_dir.update_job(&job_id, |entry| {
        previous_secs = entry.duration_secs.unwrap_or(0.0);
        entry.status = JobStatus::Running;
        entry.reason = None;
        entry.started_at.get_or_insert_with(store::now_rfc3339);
    })?;
    bars.start_at(existing.done.len(), &existing.summary.build(0.0));
    tracing::info!(job = %job_id, done = existing.done.len(), total = job.sample_count(), dropped = ?existing.dropped, "job started");
    let (sender, receiver) = mpsc::channel(1024);
    let writer = tokio::task::spawn_blocking({
        let (bars, summary) = (bars.clone(), existing.summary);
        move || write_results(&results_path, receiver, summary, &bars)
    });
    // A server that failed for good fails the job; its in-flight samples
    // are dropped unrecorded, so a rerun asks them again.
    let server_failed = async {
        match job.model.server() {
            Some(server) => server.failed().await,
            None => std::future::pending().await,
        }
    };
    let streak = Arc::new(FailureStreak::new(options.max_failures_in_a_row));
    let failure = tokio::select! {
        () = spawn_samples(&job, seed, &existing.done, &files, sender, &streak, options) => streak.stopped(),
        why = server_failed => Some(why),
    };
    let (builder, written) = writer.await.context("results writer panicked")?;
    let summary = builder.build(previous_secs + started.elapsed().as_secs_f64());
    if let Some(error) = written.err().or(failure.map(anyhow::Error::msg)) {
        // Keep the counts of what is on disk; the job is then marked failed.
        run_dir.update_job(&job_id, |entry| record_counts(entry, &summary))?;
        return Err(error);
    }
    store::write_json(&files.summary(), &summary)?;
    finish_job(run_dir, &job_id, &summary, job.sample_count(), over_budget(options))
}

fn record_counts(entry: &mut store::JobEntry, summary: &Summary) {
    entry.samples_done = summary.n;
    entry.samples_failed = summary.n_errors;
    entry.mean_reward = summary.mean_reward;
    entry.cache_hits = summary.cache_hits;
    entry.duration_secs = Some(summary.duration_secs);
}

/// Start every sample not in `done`, at most `concurrency` at once, until
/// all have run, the run is cancelled, `--max-cost` is reached or `streak`
/// stops the job; after a cancel, in-flight samples
/// get `options.grace` to finish before they are dropped (unrecorded, so a
/// resume runs them).
async fn spawn_samples(
    job: &PreparedJob,
    seed: u64,
    done: &SampleSet,
    files: &store::JobLayout,
    results: mpsc::Sender<store::SampleResult>,
    streak: &Arc<FailureStreak>,
    options: &RunOptions,
) {
    let slots = Arc::new(Semaphore::new(job.concurrency.max(1)));
    let mut tasks = JoinSet::new();
    let together = job.plan.rollouts_in_one_request;
    'records: for record_index in 0..job.dataset.records.len() {
        let to_run = |rollout: &u32| job.owns(record_index, *rollout) && !done.contains(record_index, *rollout);
        let missing: Vec<u32> = (0..job.plan.env.rollouts).filter(to_run).collect();
        // One task per sample, or one per record when its rollouts share a request.
        let batches: Vec<Vec<u32>> = match together && missing.len() > 1 {
            true => vec![missing],
            false => missing.into_iter().map(|rollout| vec![rollout]).collect(),
        };
        for rollouts in batches {
            if !may_start(options, streak) {
                break 'records;
            }
            let slot = tokio::select! {
                slot = slots.clone().acquire_owned() => slot.expect("sample semaphore is never closed"),
                _ = options.cancel.cancelled() => break 'records,
                // The writer stopped (e.g. a full disk): more model calls would be lost.
                _ = results.closed() => break 'records,
            };
            if !may_start(options, streak) {
                break 'records;
            }
            let specs: Vec<SampleSpec> = rollouts
                .iter()
                .map(|&rollout| job.sample_spec(record_index, rollout, seed, files, options.keep_workspaces))
                .collect();
            let (pool, model, results) = (job.pool.clone(), job.model.clone(), results.clone());
            let (cost_limit, streak) = (options.cost_limit.clone(), streak.clone());
            tasks.spawn(async move {
                let finished = match specs.as_slice() {
                    [one] => vec![episode::run(one, &pool, &model).await],
                    several => rollouts::run_together(several, &pool, &model).await,
                };
                if let Some(limit) = cost_limit {
                    finished.iter().for_each(|result| limit.spend(result.cost_usd.unwrap_or(0.0)));
                }
                finished.iter().for_each(|result| streak.record(result));
                drop(slot);
                for result in finished {
                    // The writer only stops when every sender is gone.
                    let _ = results.send(result).await;
                }
            });
            while tasks.try_join_next().is_some() {}
        }
    }
    let drain = async { while tasks.join_next().await.is_some() {} };
    tokio::select! {
        _ = drain => {}
        _ = async { options.cancel.cancelled().await; tokio::time::sleep(options.grace).await } => tasks.abort_all(),
    }
}

/// Whether a new sample of the job may start: not past `--max-cost`, nor
/// once its failures in a row stopped it.
fn may_start(options: &RunOptions, streak: &FailureStreak) -> bool {
    !over_budget(options) && streak.allows_start()
}

/// Whether `--max-cost` has been reached: no new sample may start.
fn over_budget(options: &RunOptions) -> bool {
    options.cost_limit.as_ref().is_some_and(|limit| limit.reached())
}

/// Most results written in one system call.
const RESULTS_BATCH: usize = 256;

/// How long the writer waits for more results after a partial batch.
const RESULTS_GATHER: Duration = Duration::from_millis(2);

/// Append results as they arrive, continuing the summary of what was
/// already recorded. On a write error it stops (closing the channel, so no
/// new samples start) and returns the summary of what was written.
fn write_results(
    path: &Path,
    mut receiver: mpsc::Receiver<store::SampleResult>,
    mut builder: SummaryBuilder,
    bars: &JobBars,
) -> (SummaryBuilder, Result<()>) {
    let mut writer = match ResultsWriter::open(path) {
        Ok(writer) => writer,
        Err(error) => return (builder, Err(error)),
    };
    // Group commit: everything already waiting goes out in one write, so
    // a busy run makes one system call per batch, not per sample. A result
    // counts as recorded only once its batch is written.
    let mut batch = Vec::with_capacity(RESULTS_BATCH);
    while receiver.blocking_recv_many(&mut batch, RESULTS_BATCH) > 0 {
        for result in &batch {
            if let Some(error) = &result.error {
                tracing::debug!(example = %result.example_id, rollout = result.rollout, kind = error.kind.as_str(), "{}", error.message);
            }
        }
        let written = writer.append(&batch);
        if let Err(failure) = written {
            // What reached the file whole is recorded; the rest is not.
            batch.iter().take(failure.written).for_each(|result| builder.add(result));
            return (builder, Err(failure.error));
        }
        let full = batch.len() == RESULTS_BATCH;
        for result in batch.drain(..) {
            builder.add(&result);
            bars.record(&result);
        }
        if !full {
            // Let results gather instead of being woken for each one: a
            // wake-up per sample cost more CPU than writing it.
            std::thread::sleep(RESULTS_GATHER);
        }
    }
    (builder, Ok(()))
}

/// Record how a job ended; `over_budget`: `--max-cost` stopped it.
fn finish_job(run_dir: &RunDir, job_id: &str, summary: &Summary, total: u64, over_budget: bool) -> Result<()> {
    tracing::info!(job = job_id, n = summary.n, errors = summary.n_errors, mean_reward = ?summary.mean_reward, "job ended");
    run_dir.update_job(job_id, |entry| {
        record_counts(entry, summary);
        entry.ended_at = Some(store::now_rfc3339());
        (entry.status, entry.reason) = if summary.n < total {
            let missing = total - summary.n;
            let why = if over_budget { "stopped by --max-cost" } else { "interrupted" };
            (JobStatus::Interrupted, Some(format!("{why} with {missing} samples left; rerun to resume")))
        } else if summary.n_errors > 0 {
            let why = format!("{} of {} samples ended in an error (see results.jsonl)", summary.n_errors, summary.n);
            (JobStatus::Failed, Some(why))
        } else {
            (JobStatus::Completed, None)
        };
    })
}

/// `metadata.json`: what produced this job's results. Holds the name of the
/// API key variable, never its value.
fn job_metadata(job: &PreparedJob, run_id: &str, seed: u64, served: Option<ServerInfo>) -> JobMetadata {
    let plugin = job.pool.plugin();
    JobMetadata {
        run_id: run_id.into(),
        job_id: job.plan.job_id.clone(),
        assay_version: env!("CARGO_PKG_VERSION").into(),
        created_at: store::now_rfc3339(),
        checksum: job.checksum.clone(),
        identity: job.identity.clone(),
        seed,
        model: serde_json::to_value(&job.plan.model).expect("a model spec serialises"),
        sampling_args: job.plan.sampling_args.clone(),
        env: serde_json::to_value(&job.plan.env).expect("an env spec serialises"),
        plugin: PluginInfo {
            name: plugin.metadata.name.clone(),
            version: plugin.metadata.version.clone(),
            api_version: plugin.api_version.clone(),
            sha256: plugin.sha256.clone(),
            path: plugin.path.clone(),
        },
        dataset: DatasetInfo {
            path: job.dataset.path.clone(),
            sha256: job.dataset.sha256.clone(),
            records: job.dataset.records.len(),
            hub: job.dataset.hub.clone(),
        },
        server: served.map(|info| serde_json::to_value(info).expect("server info serialises")),
        rescored_from: job.plan.rescore.clone(),
    }
}
