//! Everything a run needs, checked before anything is written: datasets
//! loaded, plugins compiled and checked (API version, capabilities), each
//! job's environment configured with its arguments, API keys resolved and
//! every job's identity computed.

use super::identity::{self, IdentityInputs};
use crate::config::{DatasetSource, TOOLS, TOOLS_TEXT_FALLBACK, run_code_languages};
use crate::dataset::hub::Hub;
use crate::dataset::{self, Dataset};
use crate::execution::{CodeExecutor, WorkspaceRunner};
use crate::models::{Model, Models};
use crate::plan::{EnvSpec, JobPlan, Plan};
use crate::runtime::{EnvironmentPool, Runtime};
use anyhow::{Context, Result, bail};
use serde_json::Value;
use std::collections::HashMap;
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
    /// Makes the env's workspaces, when it grants `workspace`.
    pub(super) workspace: Option<Arc<WorkspaceRunner>>,
    /// Each record's group, when the env has `group_by`.
    pub(super) groups: Option<Arc<[Option<String>]>>,
}

impl PreparedJob {
    /// Records × rollouts.
    pub(crate) fn sample_count(&self) -> u64 {
        self.dataset.records.len() as u64 * u64::from(self.plan.env.rollouts)
    }

    /// The group of record `index`, when the env groups its results.
    pub(super) fn group(&self, index: usize) -> Option<String> {
        self.groups.as_ref().and_then(|groups| groups[index].clone())
    }

    /// The example ids in record order, for reading results back.
    pub(crate) fn record_ids(&self) -> Vec<&str> {
        self.dataset.records.iter().map(|r| r.id.as_str()).collect()
    }
}

/// Load datasets and plugins, configure environments, resolve models.
pub(crate) async fn preflight(plan: &Plan, runtime: &Runtime) -> Result<Vec<PreparedJob>> {
    let mut datasets = Datasets::default();
    let mut models = Models::default();
    let mut executors: HashMap<String, Arc<CodeExecutor>> = HashMap::new();
    let mut workspaces: HashMap<String, Arc<WorkspaceRunner>> = HashMap::new();
    let mut jobs = Vec::with_capacity(plan.jobs.len());
    for job in &plan.jobs {
        let context = || format!("job {}", job.job_id);
        let env = &job.env;
        let dataset = datasets.load(env).await.with_context(context)?;
        let plugin = runtime.load(&env.plugin).await.with_context(context)?;
        check_capabilities(&plugin.metadata.capabilities, &env.capabilities, &env.id, &plugin.label())?;
        let plugin_capabilities = plugin.metadata.capabilities.clone();
        let pool = runtime
            .environment(plugin, &env.env_args, env.limits)
            .await
            .with_context(|| format!("job {}: env `{}`", job.job_id, env.id))?;
        let code = code_executor(env, &mut executors).await.with_context(|| format!("env `{}`", env.id))?;
        let workspace =
            workspace_runner(env, &dataset, &mut workspaces).await.with_context(|| format!("env `{}`", env.id))?;
        let model = models.resolve(&job.model)?;
        check_tools(&plugin_capabilities, &model, &job.model.id, &env.id).with_context(context)?;
        let concurrency = model.concurrency();
        let identity = job_identity(job, &model, &pool, &dataset, plan.seed);
        let checksum = identity::checksum(&identity);
        let groups = env.group_by.as_deref().map(|field| record_groups(&dataset, field));
        jobs.push(PreparedJob {
            plan: job.clone(),
            dataset,
            pool: Arc::new(pool),
            model,
            identity,
            checksum,
            concurrency,
            code,
            workspace,
            groups,
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
        dataset_commit: dataset.hub.as_ref().map(|hub| hub.commit.as_str()),
        group_by: job.env.group_by.as_deref(),
        id_field: job.env.id_field.as_deref(),
        num_examples: dataset.records.len(),
        rollouts: job.env.rollouts,
        max_turns: job.env.max_turns,
        seed,
        token_budget: job.env.token_budget,
        environment_variables: &job.environment_variables,
    })
}

/// Each record's value of `field` as text (a string, a number or a bool);
/// `None` when a record lacks it.
fn record_groups(dataset: &Dataset, field: &str) -> Arc<[Option<String>]> {
    let group = |json: &str| -> Option<String> {
        let record: serde_json::Map<String, Value> = serde_json::from_str(json).ok()?;
        match record.get(field)? {
            Value::String(text) => Some(text.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    };
    dataset.records.iter().map(|record| group(&record.json)).collect()
}

/// The datasets of a run, each read once, and the Hub client (made only
/// if a dataset is on the Hub).
#[derive(Default)]
struct Datasets {
    loaded: HashMap<(DatasetSource, Option<String>, Option<usize>), Arc<Dataset>>,
    hub: Option<Hub>,
}

impl Datasets {
    async fn load(&mut self, env: &EnvSpec) -> Result<Arc<Dataset>> {
        let key = (env.dataset.clone(), env.id_field.clone(), env.num_examples);
        if let Some(dataset) = self.loaded.get(&key) {
            return Ok(dataset.clone());
        }
        let loaded =
            dataset::load_source(&env.dataset, env.id_field.as_deref(), env.num_examples, &mut self.hub).await?;
        let loaded = Arc::new(loaded);
        self.loaded.insert(key, loaded.clone());
        Ok(loaded)
    }
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
        };
        Models::default().resolve(&ModelSpec { id: "m".into(), source: ModelSource::Endpoint(endpoint) }).unwrap()
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
