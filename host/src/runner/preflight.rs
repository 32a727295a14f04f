//! Everything a run needs, checked before anything is written: datasets
//! loaded, plugins compiled and checked (API version, capabilities), each
//! job's environment configured with its arguments, API keys resolved and
//! every job's identity computed.

use super::episode::{Judge, Prices, SampleSpec};
use super::fewshot::Fewshot;
use super::identity::{self, IdentityInputs};
use super::partition::JobPart;
use super::rescore::RecordedFailures;
use crate::config::{DatasetSource, JUDGE, LOGLIKELIHOOD, TOOLS, TOOLS_TEXT_FALLBACK, run_code_languages};
use crate::dataset::hub::Hub;
use crate::dataset::{self, Dataset};
use crate::execution::{CodeExecutor, WorkspaceRunner};
use crate::models::{Model, ModelSource, Models};
use crate::plan::{EnvSpec, FewshotSpec, JobPlan, Plan};
use crate::runtime::{EnvironmentPool, Runtime};
use crate::store::{self, ExistingResults, JobLayout, JobShape};
use anyhow::{Context, Result, bail};
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;
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
    /// Makes the env's workspaces, when it grants `workspace`.
    pub(super) workspace: Option<Arc<WorkspaceRunner>>,
    /// Set for every command in its workspaces.
    pub(super) environment_variables: Arc<[(String, String)]>,
    /// Each record's group, when the env has `group_by`.
    pub(super) groups: Option<Arc<[Option<String>]>>,
    /// Its few-shot exemplars, when the env has them.
    pub(super) fewshot: Option<Arc<Fewshot>>,
    /// Its judge, when the env grants `judge`.
    pub(super) judge: Option<Arc<Judge>>,
    /// `assay rescore`: the earlier job's samples whose model call failed.
    pub(super) recorded_failures: Option<Arc<RecordedFailures>>,
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

    /// What one sample needs to run; `files` are the job's, where kept
    /// workspaces and artifacts go.
    pub(super) fn sample_spec(
        &self,
        record_index: usize,
        rollout: u32,
        seed: u64,
        files: &JobLayout,
        keep_workspace: bool,
    ) -> SampleSpec {
        SampleSpec {
            dataset: self.dataset.clone(),
            record_index,
            rollout,
            seed,
            max_turns: self.plan.env.max_turns,
            sampling_args: self.plan.sampling_args.clone(),
            code: self.code.clone(),
            group: self.group(record_index),
            fewshot: self.fewshot.clone(),
            loglikelihood: self.plan.env.capabilities.iter().any(|c| c == LOGLIKELIHOOD),
            judge: self.judge.clone(),
            tools_granted: self.plan.env.capabilities.iter().any(|c| c == TOOLS),
            workspace: self.workspace.clone(),
            keep_workspace,
            environment_variables: self.environment_variables.clone(),
            token_budget: self.plan.env.token_budget,
            prices: Prices {
                model: self.plan.model.price,
                judge: self.plan.judge.as_ref().and_then(|judge| judge.model.price),
            },
            files: files.clone(),
            recorded_failure: self.recorded_failures.as_ref().and_then(|failures| {
                let id = &self.dataset.records[record_index].id;
                failures.get(&(id.clone(), rollout)).cloned()
            }),
        }
    }

    /// The group of record `index`, when the env groups its results.
    pub(super) fn group(&self, index: usize) -> Option<String> {
        self.groups.as_ref().and_then(|groups| groups[index].clone())
    }

    /// The server assay starts for its model, if the model has `serve:`.
    pub(crate) fn server(&self) -> Option<&Arc<crate::models::server::Server>> {
        self.model.server()
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
    let mut shared = Shared::default();
    let mut jobs = Vec::with_capacity(plan.jobs.len());
    for job in &plan.jobs {
        jobs.push(prepare_job(job, runtime, &mut shared).await?);
    }
    // An option no plugin takes would change nothing: say so.
    for name in plan.jobs.iter().flat_map(|job| job.env.args_if_declared.keys()) {
        if !jobs.iter().any(|job| job.plan.env.env_args.contains_key(name)) {
            bail!("--{}: no job's plugin takes `{name}`", name.replace('_', "-"));
        }
    }
    Ok(jobs)
}

/// `job` with those of its env's `args_if_declared` that its plugin
/// declares merged over its env args (so they enter its identity).
fn with_declared_args(job: &JobPlan, declared: &[crate::runtime::ArgDoc]) -> JobPlan {
    let mut job = job.clone();
    let wanted = std::mem::take(&mut job.env.args_if_declared);
    let taken = wanted.into_iter().filter(|(name, _)| declared.iter().any(|arg| &arg.name == name));
    job.env.env_args.extend(taken);
    job
}

/// What jobs share: datasets read once, one client per model, one code
/// executor and one workspace runner per setting.
#[derive(Default)]
struct Shared {
    datasets: Datasets,
    models: Models,
    executors: HashMap<String, Arc<CodeExecutor>>,
    workspaces: HashMap<String, Arc<WorkspaceRunner>>,
}

async fn prepare_job(job: &JobPlan, runtime: &Runtime, shared: &mut Shared) -> Result<PreparedJob> {
    let context = || format!("job {}", job.job_id);
    let plugin = runtime.load(&job.env.plugin).await.with_context(context)?;
    let job = &with_declared_args(job, &plugin.metadata.args);
    let env = &job.env;
    let source = match &env.dataset {
        DatasetSource::PluginDefault => crate::dataset::plugin_default(&plugin, &env.id)?,
        named => named.clone(),
    };
    let dataset =
        shared.datasets.load(&source, env.id_field.as_deref(), env.num_examples).await.with_context(context)?;
    check_capabilities(&plugin.metadata.capabilities, &env.capabilities, &env.id, &plugin.label())?;
    let plugin_capabilities = plugin.metadata.capabilities.clone();
    let pool = runtime
        .environment(plugin, &env.env_args, env.limits)
        .await
        .with_context(|| format!("job {}: env `{}`", job.job_id, env.id))?;
    let env_context = || format!("env `{}`", env.id);
    let code = code_executor(env, &mut shared.executors).await.with_context(env_context)?;
    if let Some(code) = &code
        && !code.sets_variables()
        && !job.environment_variables.is_empty()
    {
        bail!(
            "job {}: environment_variables cannot reach programs run on Piston (use code_execution.backend local)",
            job.job_id
        );
    }
    let workspace = workspace_runner(env, &dataset, &mut shared.workspaces).await.with_context(env_context)?;
    let (model, recorded_failures) = match &job.rescore {
        Some(source) => {
            let recorded = super::rescore::recorded(source).with_context(context)?;
            (recorded.model, Some(Arc::new(recorded.failures)))
        }
        None => (shared.models.resolve(&job.model)?, None),
    };
    check_tools(&plugin_capabilities, &model, &job.model.id, &env.id).with_context(context)?;
    let groups = env.group_by.as_deref().map(|field| dataset.records.iter().map(|r| r.field_text(field)).collect());
    let fewshot = match &env.fewshot {
        Some(spec) => Some(Arc::new(fewshot(spec, &dataset, &mut shared.datasets, &pool).await.with_context(context)?)),
        None => None,
    };
    let judge = judge(job, &mut shared.models).with_context(context)?;
    let identity = job_identity(job, &model, &pool, &dataset, fewshot.as_deref(), judge.as_deref());
    Ok(PreparedJob {
        plan: job.clone(),
        checksum: identity::checksum(&identity),
        identity,
        dataset,
        pool: Arc::new(pool),
        concurrency: model.concurrency(),
        model,
        code,
        workspace,
        environment_variables: job.environment_variables.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        groups,
        fewshot,
        judge,
        part: None,
        recorded_failures,
    })
}

/// The judge of a job whose env grants `judge`: an endpoint model declared
/// under `models:`, resolved once like any model (so a model used both as
/// judge and under test shares one client and its concurrency).
fn judge(job: &JobPlan, models: &mut Models) -> Result<Option<Arc<Judge>>> {
    let env = &job.env;
    if !env.capabilities.iter().any(|c| c == JUDGE) {
        return Ok(None);
    }
    let Some(spec) = &job.judge else {
        bail!("env `{}` grants `judge` but names no judge: add `judge: {{model: MODEL_ID}}` to the env or job", env.id);
    };
    if !matches!(spec.model.source, ModelSource::Endpoint(_)) {
        bail!(
            "judge `{}`: a judge must be a model served at an endpoint, not the oracle or replayed completions",
            spec.model.id
        );
    }
    let model = models.resolve(&spec.model)?;
    let name = model.identity_name(&spec.model);
    Ok(Some(Arc::new(Judge { model, name, sampling_args: spec.sampling_args.clone() })))
}

fn job_identity(
    job: &JobPlan,
    model: &Model,
    pool: &EnvironmentPool,
    dataset: &Dataset,
    fewshot: Option<&Fewshot>,
    judge: Option<&Judge>,
) -> Value {
    let name = model.identity_name(&job.model);
    identity::identity(&IdentityInputs {
        model: &name,
        api: job.model.api_identity(),
        sampling_args: &job.sampling_args,
        plugin_sha256: pool.plugin().identity_sha256(),
        api_version: &pool.plugin().api_version,
        env_args: &job.env.env_args,
        dataset_sha256: &dataset.sha256,
        dataset_commit: dataset.hub.as_ref().map(|hub| hub.commit.as_str()),
        group_by: job.env.group_by.as_deref(),
        fewshot: fewshot.map(Fewshot::identity),
        judge: judge.map(Judge::identity),
        id_field: job.env.id_field.as_deref(),
        num_examples: dataset.records.len(),
        rollouts: job.env.rollouts,
        max_turns: job.env.max_turns,
        seed: job.seed,
        token_budget: job.env.token_budget,
        environment_variables: &job.environment_variables,
    })
}

/// The few-shot exemplars of a job: its pool loaded and checked. A plugin
/// built for `assay:env@0.1` cannot receive exemplars.
async fn fewshot(
    spec: &FewshotSpec,
    dataset: &Dataset,
    datasets: &mut Datasets,
    pool: &EnvironmentPool,
) -> Result<Fewshot> {
    let api = &pool.plugin().api_version;
    if api.starts_with("0.1.") {
        bail!(
            "fewshot: plugin {} targets assay:env@{api}, which has no few-shot; rebuild it with assay-sdk 0.2",
            pool.plugin().label()
        );
    }
    let exemplars = datasets.load(&spec.pool, spec.id_field.as_deref(), None).await.context("fewshot")?;
    Fewshot::new(exemplars, spec.config.clone(), dataset)
}

/// The datasets of a run, each read once, and the Hub client (made only
/// if a dataset is on the Hub).
#[derive(Default)]
struct Datasets {
    loaded: HashMap<(DatasetSource, Option<String>, Option<usize>), Arc<Dataset>>,
    hub: Option<Hub>,
}

impl Datasets {
    async fn load(
        &mut self,
        source: &DatasetSource,
        id_field: Option<&str>,
        limit: Option<usize>,
    ) -> Result<Arc<Dataset>> {
        let key = (source.clone(), id_field.map(String::from), limit);
        if let Some(dataset) = self.loaded.get(&key) {
            return Ok(dataset.clone());
        }
        let loaded = dataset::load_source(source, id_field, limit, &mut self.hub).await?;
        let loaded = Arc::new(loaded);
        self.loaded.insert(key, loaded.clone());
        Ok(loaded)
    }
}

/// Check, once per model, that the models of jobs scoring log-likelihoods
/// can: before a run is opened (not in a dry run, which contacts no model).
pub(crate) async fn check_scoring(jobs: &[&PreparedJob]) -> Result<()> {
    let mut checked = std::collections::HashSet::new();
    for job in jobs {
        let scores = job.plan.env.capabilities.iter().any(|c| c == LOGLIKELIHOOD);
        if scores && checked.insert(&job.plan.model.id) {
            let (model, env) = (&job.plan.model.id, &job.plan.env.id);
            let context = || format!("model `{model}` (env `{env}` scores log-likelihoods)");
            job.model.check_scoring().await.with_context(context)?;
        }
    }
    Ok(())
}

/// Check, once per judge model, that the judges of `jobs` answer: before
/// a run is opened (not in a dry run, which contacts no model).
pub(crate) async fn check_judges(jobs: &[&PreparedJob]) -> Result<()> {
    let mut checked = std::collections::HashSet::new();
    for job in jobs {
        let (Some(judge), Some(spec)) = (&job.judge, &job.plan.judge) else { continue };
        if checked.insert(&spec.model.id) {
            let context = || format!("judge `{}` of job {}", spec.model.id, job.plan.job_id);
            judge.model.check_reachable().await.with_context(context)?;
        }
    }
    Ok(())
}

/// Refuse a plugin that needs a capability its env config does not grant
/// (a declaration such as `tools-text-fallback` needs no grant).
fn check_capabilities(needed: &[String], granted: &[String], env_id: &str, plugin: &str) -> Result<()> {
    let needed = needed.iter().filter(|c| c.as_str() != TOOLS_TEXT_FALLBACK);
    if let Some(missing) = needed.into_iter().find(|c| !granted.contains(c)) {
        bail!(
            "env `{env_id}`: plugin {plugin} needs capability `{missing}`; grant it with `capabilities: [{missing}]` in the env config"
        );
    }
    Ok(())
}

/// Refuse a model that cannot call tools (a base model, replayed
/// completions) for a plugin that offers them, unless the plugin declares a
/// text fallback.
fn check_tools(capabilities: &[String], model: &Model, model_id: &str, env_id: &str) -> Result<()> {
    let offers = capabilities.iter().any(|c| c == TOOLS);
    let falls_back = capabilities.iter().any(|c| c == TOOLS_TEXT_FALLBACK);
    if offers && !falls_back && !model.supports_tools() {
        bail!(
            "model `{model_id}` cannot call tools (a base model on the text-completions API, `use_chat_template: false`, or replayed completions), and env `{env_id}`'s plugin offers tools without declaring `{TOOLS_TEXT_FALLBACK}`; use a chat model"
        );
    }
    Ok(())
}

/// The workspace runner for an env that grants `workspace`: one per
/// distinct setting, checked once and shared (with its concurrency limit);
/// the images the job's tasks name are checked too.
async fn workspace_runner(
    env: &EnvSpec,
    dataset: &Dataset,
    runners: &mut HashMap<String, Arc<WorkspaceRunner>>,
) -> Result<Option<Arc<WorkspaceRunner>>> {
    let Some(settings) = &env.workspace else {
        return Ok(None);
    };
    let key = serde_json::to_string(settings).expect("settings serialise");
    let runner = match runners.get(&key) {
        Some(runner) => runner.clone(),
        None => {
            let runner = Arc::new(WorkspaceRunner::start(settings).await?);
            runners.insert(key, runner.clone());
            runner
        }
    };
    let images = (0..dataset.records.len()).map(|i| dataset.task(i).and_then(|task| task.image.as_deref()));
    runner.check_images(images).await?;
    Ok(Some(runner))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::{Api, EndpointSpec, ModelSource, ModelSpec, PromptTemplate};

    fn model(api: Api) -> Model {
        let endpoint = EndpointSpec {
            model: "m".into(),
            api_base_url: "http://127.0.0.1:9/v1".into(),
            api_key_var: None,
            max_concurrent: 1,
            timeout_secs: 1.0,
            max_retries: 0,
            rate_limit_wait_secs: 1.0,
            rate: Default::default(),
            api,
            scoring_api: Default::default(),
            cache: false,
        };
        Models::default()
            .resolve(&ModelSpec { id: "m".into(), source: ModelSource::Endpoint(endpoint), serve: None, price: None })
            .unwrap()
    }

    #[test]
    fn a_base_model_is_refused_tools_unless_the_plugin_falls_back_to_text() {
        let base = model(Api::Completions(PromptTemplate::default()));
        let tools = [TOOLS.to_string()];
        let error = check_tools(&tools, &base, "m", "agent").unwrap_err().to_string();
        assert!(error.starts_with("model `m` cannot call tools") && error.contains("tools-text-fallback"), "{error}");
        let fallback = [TOOLS.to_string(), TOOLS_TEXT_FALLBACK.to_string()];
        assert!(check_tools(&fallback, &base, "m", "agent").is_ok());
        assert!(check_tools(&tools, &model(Api::Chat), "m", "agent").is_ok());
        assert!(check_tools(&[], &base, "m", "agent").is_ok(), "no tools offered, nothing to refuse");
        assert!(check_tools(&tools, &Models::default().resolve(&ModelSpec::oracle()).unwrap(), "o", "a").is_ok());
    }
}
