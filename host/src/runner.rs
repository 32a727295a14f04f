//! Runs a [`Plan`]: every rollout of every record of every job, through the
//! job's environment plugin and model, into the run store.
//!
//! Before anything is created on disk, a preflight loads every dataset and
//! plugin, checks API versions and capabilities, configures each job's
//! environment and resolves API keys, so a broken config fails in one line
//! with nothing half-written. Then jobs run concurrently (`parallel` at
//! once) and samples run concurrently within each job, bounded by the
//! model's `max_concurrent` (shared by every job that uses the model).
//! Each finished sample is appended to `results.jsonl` at once.

mod episode;

use crate::dataset::{self, Dataset};
use crate::models::{ApiKey, ChatClient, Endpoint};
use crate::plan::{JobPlan, Plan};
use crate::runtime::{EnvironmentPool, PluginLimits, Runtime};
use crate::store::{self, JobEntry, JobStatus, Manifest, ResultsWriter, RunDir, Summary, SummaryBuilder};
use anyhow::{Context, Result, bail};
use episode::{Model, SampleSpec};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;

/// Samples in flight per job when the model is the offline oracle.
const ORACLE_CONCURRENCY: usize = 64;

/// How a run is carried out.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Show progress bars (on a terminal).
    pub progress: bool,
    /// Where compiled plugins are cached (`None`: no disk cache).
    pub cache_dir: Option<PathBuf>,
}

/// What a finished run reports.
#[derive(Debug)]
pub struct RunReport {
    /// The run directory.
    pub run_dir: PathBuf,
    /// The manifest as last written.
    pub manifest: Manifest,
    /// Summaries of jobs that ran, by job id.
    pub summaries: HashMap<String, Summary>,
}

impl RunReport {
    /// Whether any job failed.
    pub fn any_failed(&self) -> bool {
        self.manifest.jobs.iter().any(|j| j.status == JobStatus::Failed)
    }
}

/// Everything a job needs, resolved by the preflight.
struct PreparedJob {
    plan: JobPlan,
    dataset: Arc<Dataset>,
    pool: Arc<EnvironmentPool>,
    model: Model,
    checksum: String,
    concurrency: usize,
}

/// Run every job of `plan`.
pub async fn run(plan: &Plan, options: &RunOptions) -> Result<RunReport> {
    let runtime = Runtime::new(options.cache_dir.as_deref())?;
    let jobs = preflight(plan, &runtime).await?;
    let run_dir = Arc::new(RunDir::create(&plan.output_dir, initial_manifest(plan, &jobs))?);
    let progress = Progress::new(options.progress, &jobs);
    let job_slots = Arc::new(Semaphore::new(plan.parallel.max(1)));
    let mut tasks = JoinSet::new();
    for job in jobs {
        let (run_dir, slots, bars) = (run_dir.clone(), job_slots.clone(), progress.job_bars(&job));
        let (run_id, seed) = (run_dir.manifest().run_id, plan.seed);
        tasks.spawn(async move {
            let _slot = slots.acquire_owned().await.expect("job semaphore is never closed");
            let job_id = job.plan.job_id.clone();
            let outcome = run_job(&run_dir, &run_id, seed, job, &bars).await;
            bars.job.finish();
            (job_id, outcome)
        });
    }
    let mut summaries = HashMap::new();
    while let Some(joined) = tasks.join_next().await {
        let (job_id, outcome) = joined.context("job task panicked")?;
        match outcome {
            Ok(summary) => drop(summaries.insert(job_id, summary)),
            Err(error) => fail_job(&run_dir, &job_id, &format!("{error:#}"))?,
        }
    }
    Ok(RunReport { run_dir: run_dir.root().to_path_buf(), manifest: run_dir.manifest(), summaries })
}

/// Load datasets and plugins, configure environments, resolve models.
async fn preflight(plan: &Plan, runtime: &Runtime) -> Result<Vec<PreparedJob>> {
    let mut datasets: HashMap<(PathBuf, Option<String>, Option<usize>), Arc<Dataset>> = HashMap::new();
    let mut clients: HashMap<String, ChatClient> = HashMap::new();
    let mut jobs = Vec::with_capacity(plan.jobs.len());
    for job in &plan.jobs {
        let context = || format!("job {}", job.job_id);
        let env = &job.env;
        let key = (env.dataset.clone(), env.id_field.clone(), env.num_examples);
        let dataset = match datasets.get(&key) {
            Some(dataset) => dataset.clone(),
            None => {
                let loaded = Arc::new(
                    dataset::load(&env.dataset, env.id_field.as_deref(), env.num_examples).with_context(context)?,
                );
                datasets.insert(key, loaded.clone());
                loaded
            }
        };
        let plugin = runtime.load(&env.plugin).await.with_context(context)?;
        check_capabilities(&plugin.metadata.capabilities, &env.capabilities, &env.id, &plugin.label())?;
        let limits = PluginLimits {
            memory_mb: env.limits.memory_mb,
            call_timeout_ms: env.limits.call_timeout_ms,
            fuel: env.limits.fuel,
        };
        let pool = runtime
            .environment(plugin, &env.env_args, limits)
            .await
            .with_context(|| format!("job {}: env `{}`", job.job_id, env.id))?;
        let model = resolve_model(job, &mut clients)?;
        let concurrency = if matches!(model, Model::Oracle) { ORACLE_CONCURRENCY } else { job.model.max_concurrent };
        let checksum = job_checksum(job, &pool, &dataset, plan.seed);
        jobs.push(PreparedJob { plan: job.clone(), dataset, pool: Arc::new(pool), model, checksum, concurrency });
    }
    Ok(jobs)
}

/// Refuse a plugin that needs a capability its env config does not grant.
fn check_capabilities(needed: &[String], granted: &[String], env_id: &str, plugin: &str) -> Result<()> {
    if let Some(missing) = needed.iter().find(|c| !granted.contains(c)) {
        bail!(
            "env `{env_id}`: plugin {plugin} needs capability `{missing}`; grant it with `capabilities: [{missing}]` in the env config"
        );
    }
    Ok(())
}

/// One client per model id, shared by every job using it (so its
/// concurrency limit is shared too).
fn resolve_model(job: &JobPlan, clients: &mut HashMap<String, ChatClient>) -> Result<Model> {
    let Some(endpoint) = &job.model.endpoint else {
        return Ok(Model::Oracle);
    };
    if let Some(client) = clients.get(&job.model.id) {
        return Ok(Model::Chat(client.clone()));
    }
    let api_key = match &endpoint.api_key_var {
        Some(var) => Some(ApiKey::from_env(var).with_context(|| format!("model `{}`", job.model.id))?),
        None => None,
    };
    let client = ChatClient::new(Endpoint {
        model: endpoint.model.clone(),
        base_url: endpoint.api_base_url.clone(),
        api_key,
        timeout: Duration::from_secs_f64(job.model.timeout_secs),
        max_retries: job.model.max_retries,
        max_concurrent: job.model.max_concurrent,
        backoff: Default::default(),
    })
    .with_context(|| format!("model `{}`", job.model.id))?;
    clients.insert(job.model.id.clone(), client.clone());
    Ok(Model::Chat(client))
}

/// sha256 over the inputs that change a job's results: what is asked of
/// which model, by which plugin build, on which data. Connection settings
/// (URL, key variable, timeout, concurrency) are deliberately left out.
pub fn job_checksum(job: &JobPlan, pool: &EnvironmentPool, dataset: &Dataset, seed: u64) -> String {
    let inputs = json!({
        "model": job.model.endpoint.as_ref().map(|e| e.model.as_str()).unwrap_or("oracle"),
        "sampling_args": job.sampling_args,
        "plugin_sha256": pool.plugin().sha256,
        "api_version": pool.plugin().api_version,
        "env_args": job.env.env_args,
        "dataset_sha256": dataset.sha256,
        "num_examples": job.env.num_examples,
        "rollouts": job.env.rollouts,
        "max_turns": job.env.max_turns,
        "seed": seed,
    });
    hex::encode(Sha256::digest(inputs.to_string().as_bytes()))
}

fn initial_manifest(plan: &Plan, jobs: &[PreparedJob]) -> Manifest {
    let now = store::now_rfc3339();
    let entries = jobs.iter().map(|job| JobEntry {
        job_id: job.plan.job_id.clone(),
        model_id: job.plan.model.id.clone(),
        env_id: job.plan.env.id.clone(),
        env_base_id: job.plan.env.base_id.clone(),
        status: JobStatus::Pending,
        reason: None,
        checksum: job.checksum.clone(),
        samples_total: sample_count(job),
        samples_done: 0,
        samples_failed: 0,
        mean_reward: None,
        started_at: None,
        ended_at: None,
        duration_secs: None,
        results: format!("{}/results.jsonl", job.plan.job_id),
    });
    Manifest {
        version: store::MANIFEST_VERSION,
        run_id: store::new_run_id(&plan.name),
        name: plan.name.clone(),
        config_path: plan.config_path.display().to_string(),
        assay_version: env!("CARGO_PKG_VERSION").into(),
        created_at: now.clone(),
        updated_at: now,
        jobs: entries.collect(),
        summary: Default::default(),
    }
}

fn fail_job(run_dir: &RunDir, job_id: &str, reason: &str) -> Result<()> {
    tracing::error!(job = job_id, "{reason}");
    run_dir.update_job(job_id, |entry| {
        entry.status = JobStatus::Failed;
        entry.reason = Some(reason.to_string());
        entry.ended_at = Some(store::now_rfc3339());
    })
}

/// Run one job's samples and write its files. Returns its summary.
async fn run_job(run_dir: &RunDir, run_id: &str, seed: u64, job: PreparedJob, bars: &JobBars) -> Result<Summary> {
    let started = Instant::now();
    let job_id = job.plan.job_id.clone();
    let dir = run_dir.job_dir(&job_id)?;
    store::write_json(&dir.join("metadata.json"), &job_metadata(&job, run_id, seed))?;
    run_dir.update_job(&job_id, |entry| {
        entry.status = JobStatus::Running;
        entry.started_at = Some(store::now_rfc3339());
    })?;
    let (sender, receiver) = mpsc::channel(1024);
    let writer = tokio::task::spawn_blocking({
        let path = dir.join("results.jsonl");
        let bars = bars.clone();
        move || write_results(&path, receiver, &bars)
    });
    spawn_samples(&job, seed, sender).await;
    let builder = writer.await.context("results writer panicked")??;
    let summary = builder.build(started.elapsed().as_secs_f64());
    store::write_json(&dir.join("summary.json"), &summary)?;
    finish_job(run_dir, &job_id, &summary)?;
    Ok(summary)
}

/// Start every (record, rollout) sample, at most `concurrency` at once.
async fn spawn_samples(job: &PreparedJob, seed: u64, results: mpsc::Sender<store::SampleResult>) {
    let slots = Arc::new(Semaphore::new(job.concurrency.max(1)));
    let mut tasks = JoinSet::new();
    for record_index in 0..job.dataset.records.len() {
        for rollout in 0..job.plan.env.rollouts {
            let slot = slots.clone().acquire_owned().await.expect("sample semaphore is never closed");
            let spec = SampleSpec {
                dataset: job.dataset.clone(),
                record_index,
                rollout,
                seed,
                max_turns: job.plan.env.max_turns,
                sampling_args: job.plan.sampling_args.clone(),
            };
            let (pool, model, results) = (job.pool.clone(), job.model.clone(), results.clone());
            tasks.spawn(async move {
                let result = episode::run(&spec, &pool, &model).await;
                drop(slot);
                // The writer only stops when every sender is gone.
                let _ = results.send(result).await;
            });
            while tasks.try_join_next().is_some() {}
        }
    }
    while tasks.join_next().await.is_some() {}
}

/// Append results as they arrive and keep the running summary.
fn write_results(
    path: &Path,
    mut receiver: mpsc::Receiver<store::SampleResult>,
    bars: &JobBars,
) -> Result<SummaryBuilder> {
    let mut writer = ResultsWriter::open(path)?;
    let mut builder = SummaryBuilder::default();
    while let Some(result) = receiver.blocking_recv() {
        writer.append(&result)?;
        builder.add(&result);
        bars.inc();
    }
    Ok(builder)
}

fn finish_job(run_dir: &RunDir, job_id: &str, summary: &Summary) -> Result<()> {
    run_dir.update_job(job_id, |entry| {
        entry.samples_done = summary.n;
        entry.samples_failed = summary.n_errors;
        entry.mean_reward = summary.mean_reward;
        entry.ended_at = Some(store::now_rfc3339());
        entry.duration_secs = Some(summary.duration_secs);
        if summary.n_errors == 0 {
            entry.status = JobStatus::Completed;
        } else {
            entry.status = JobStatus::Failed;
            entry.reason =
                Some(format!("{} of {} samples ended in an error (see results.jsonl)", summary.n_errors, summary.n));
        }
    })
}

/// `metadata.json`: what produced this job's results. Holds the name of the
/// API key variable, never its value.
fn job_metadata(job: &PreparedJob, run_id: &str, seed: u64) -> serde_json::Value {
    let plugin = job.pool.plugin();
    json!({
        "run_id": run_id,
        "job_id": job.plan.job_id,
        "assay_version": env!("CARGO_PKG_VERSION"),
        "created_at": store::now_rfc3339(),
        "checksum": job.checksum,
        "seed": seed,
        "model": job.plan.model,
        "sampling_args": job.plan.sampling_args,
        "env": job.plan.env,
        "plugin": {
            "name": plugin.metadata.name,
            "version": plugin.metadata.version,
            "api_version": plugin.api_version,
            "sha256": plugin.sha256,
            "path": plugin.path,
        },
        "dataset": {
            "path": job.dataset.path,
            "sha256": job.dataset.sha256,
            "records": job.dataset.records.len(),
        },
    })
}

/// Progress bars: an overall bar plus one per job; hidden when disabled
/// (and by indicatif when stderr is not a terminal).
struct Progress {
    bars: MultiProgress,
    overall: ProgressBar,
}

/// The bars one job advances.
#[derive(Clone)]
struct JobBars {
    job: ProgressBar,
    overall: ProgressBar,
}

impl JobBars {
    fn inc(&self) {
        self.job.inc(1);
        self.overall.inc(1);
    }
}

impl Progress {
    fn new(enabled: bool, jobs: &[PreparedJob]) -> Self {
        let target = if enabled { ProgressDrawTarget::stderr() } else { ProgressDrawTarget::hidden() };
        let bars = MultiProgress::with_draw_target(target);
        let total = jobs.iter().map(sample_count).sum();
        let overall = bars.add(ProgressBar::new(total));
        overall.set_style(bar_style("{prefix:30} {bar:30.cyan} {pos}/{len} {per_sec} eta {eta}"));
        overall.set_prefix(format!("all {} jobs", jobs.len()));
        Progress { bars, overall }
    }

    fn job_bars(&self, job: &PreparedJob) -> JobBars {
        let bar = self.bars.add(ProgressBar::new(sample_count(job)));
        bar.set_style(bar_style("{prefix:30} {bar:30} {pos}/{len} {per_sec} eta {eta}"));
        bar.set_prefix(job.plan.job_id.clone());
        JobBars { job: bar, overall: self.overall.clone() }
    }
}

fn bar_style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar())
}

fn sample_count(job: &PreparedJob) -> u64 {
    job.dataset.records.len() as u64 * u64::from(job.plan.env.rollouts)
}
