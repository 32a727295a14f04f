//! Everything a run needs, checked before anything is written: datasets
//! loaded, plugins compiled and checked (API version, capabilities), each
//! job's environment configured with its arguments, API keys resolved and
//! every job's identity computed.

use super::identity::{self, IdentityInputs};
use super::partition::JobPart;
use crate::config::run_code_languages;
use crate::dataset::{self, Dataset};
use crate::execution::CodeExecutor;
use crate::models::{Model, Models};
use crate::plan::{EnvSpec, JobPlan, Plan};
use crate::runtime::{EnvironmentPool, Runtime};
use crate::store::{self, ExistingResults, JobShape};
use anyhow::{Context, Result, bail};
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A job with everything resolved.
pub(crate) struct PreparedJob {
    /// The job as planned.
    pub plan: JobPlan,
    /// Its records (shared with other jobs on the same file).
    pub dataset: Arc<Dataset>,
    /// Its configured environment.
    pub pool: Arc<EnvironmentPool>,
    pub(super) model: Model,
    /// The inputs that change its results (see [`identity`]).
    pub identity: Value,
    /// sha256 of `identity`.
    pub checksum: String,
    /// Samples in flight at once.
    pub(super) concurrency: usize,
    /// Runs the env's programs, when it grants `run-code:<language>`.
    pub(super) code: Option<Arc<CodeExecutor>>,
    /// The samples this process runs, when the run is split into shards.
    pub(crate) part: Option<JobPart>,
}

impl PreparedJob {
    /// The samples this process runs: records × rollouts, or a shard's share.
    pub(crate) fn sample_count(&self) -> u64 {
        let total = self.total_samples();
        self.part.map_or(total, |part| part.share(total))
    }

    /// Records × rollouts.
    pub(crate) fn total_samples(&self) -> u64 {
        self.dataset.records.len() as u64 * u64::from(self.plan.env.rollouts)
    }

    /// Whether this process runs the sample (not: another shard does).
    pub(crate) fn owns(&self, record: usize, rollout: u32) -> bool {
        self.part.is_none_or(|part| part.owns(record, rollout))
    }

    /// The example ids in record order, for reading results back.
    pub(crate) fn record_ids(&self) -> Vec<&str> {
        self.dataset.records.iter().map(|r| r.id.as_str()).collect()
    }

    /// What this process's results file of the job at `path` holds, as a
    /// resume sees it (see [`store::read_existing`]; with `repair`, lines
    /// not kept are cut from the file).
    pub(crate) fn read_existing(&self, path: &Path, repair: bool) -> Result<ExistingResults> {
        let ids = self.record_ids();
        let owns = |record, rollout| self.owns(record, rollout);
        let owned: Option<&dyn Fn(usize, u32) -> bool> = self.part.map(|_| &owns as _);
        store::read_existing(path, &JobShape { record_ids: &ids, rollouts: self.plan.env.rollouts, owned }, repair)
    }
}

/// Load datasets and plugins, configure environments, resolve models.
pub(crate) async fn preflight(plan: &Plan, runtime: &Runtime) -> Result<Vec<PreparedJob>> {
    let mut datasets: HashMap<(PathBuf, Option<String>, Option<usize>), Arc<Dataset>> = HashMap::new();
    let mut models = Models::default();
    let mut executors: HashMap<String, Arc<CodeExecutor>> = HashMap::new();
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
        let pool = runtime
            .environment(plugin, &env.env_args, env.limits)
            .await
            .with_context(|| format!("job {}: env `{}`", job.job_id, env.id))?;
        let code = code_executor(env, &mut executors).await.with_context(|| format!("env `{}`", env.id))?;
        let model = models.resolve(&job.model)?;
        let concurrency = model.concurrency();
        let identity = job_identity(job, &model, &pool, &dataset, plan.seed);
        let checksum = identity::checksum(&identity);
        jobs.push(PreparedJob {
            plan: job.clone(),
            dataset,
            pool: Arc::new(pool),
            model,
            identity,
            checksum,
            concurrency,
            code,
            part: None,
        });
    }
    Ok(jobs)
}

fn job_identity(job: &JobPlan, model: &Model, pool: &EnvironmentPool, dataset: &Dataset, seed: u64) -> Value {
    let name = model.identity_name(&job.model);
    identity::identity(&IdentityInputs {
        model: &name,
        api: job.model.api_identity(),
        sampling_args: &job.sampling_args,
        plugin_sha256: &pool.plugin().sha256,
        api_version: &pool.plugin().api_version,
        env_args: &job.env.env_args,
        dataset_sha256: &dataset.sha256,
        id_field: job.env.id_field.as_deref(),
        num_examples: dataset.records.len(),
        rollouts: job.env.rollouts,
        max_turns: job.env.max_turns,
        seed,
    })
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

/// The executor for an env that grants `run-code:<language>`: one per
/// distinct setting and language list, checked once and shared by every
/// job using it (so its concurrency limit is shared too).
async fn code_executor(
    env: &EnvSpec,
    executors: &mut HashMap<String, Arc<CodeExecutor>>,
) -> Result<Option<Arc<CodeExecutor>>> {
    let Some(settings) = &env.code_execution else {
        return Ok(None);
    };
    let languages = run_code_languages(&env.capabilities);
    let key = serde_json::to_string(&(settings, &languages)).expect("settings serialise");
    if let Some(executor) = executors.get(&key) {
        return Ok(Some(executor.clone()));
    }
    let executor = Arc::new(CodeExecutor::start(settings, languages).await?);
    executors.insert(key, executor.clone());
    Ok(Some(executor))
}
