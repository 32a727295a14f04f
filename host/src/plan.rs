//! From a config to concrete jobs: matrix variants expanded, models and
//! plugins resolved, arguments merged, ids assigned.
//!
//! - Precedence: `env_args` = env < matrix value < job; `sampling_args` =
//!   model < job (shallow merges: a later top-level key replaces an earlier one).
//! - A job id is `slug(model)-slug(env variant)[-slug(config id)][-seed-N]`
//!   (see [`sweep`] for a job's `matrix` and config id); two jobs with one
//!   id are an error.
//! - A job's env may be a variant id or an env's own id; the latter means
//!   every variant of that env.
//! - Every env is expanded and checked (so a broken env file is reported even
//!   when no job uses it), but only envs that jobs use need their plugin and
//!   dataset to exist.
//! - Plugins named by `module` are found as `<dir>/<name>.wasm` in the
//!   config's `plugin_dirs`, then in each directory of `$ASSAY_PLUGIN_PATH`,
//!   then in the user's plugin dir ([`locations::user_plugin_dir`], where
//!   `assay plugin build --install` puts them).

use crate::config::{
    self, CodeBackendKind, CodeExecutionConfig, DatasetSource, DeclaredEnv, EnvConfig, FewshotConfig, FewshotSampler,
    HubDataset, JobConfig, JudgeConfig, LoadedConfig, ORACLE, RUN_CODE_PREFIX, TaskDirs, WORKSPACE,
    WorkspaceBackendKind, WorkspaceConfig,
};
use crate::locations;
use crate::models::server::{Engine, ServeSpec};
use crate::models::{Api, EndpointSpec, ModelSource, ModelSpec, RateLimits, ReplaySpec};
use crate::runtime::PluginLimits;
use crate::store::{RescoredJob, slug};
use anyhow::{Result, anyhow, bail};
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

pub mod sweep;

/// Matrix keys that override env fields rather than going into `env_args`.
const FIELD_KEYS: [&str; 3] = ["num_examples", "rollouts_per_example", "max_turns"];

/// Env fields that cannot be swept: declare separate envs instead.
const UNSWEPT_KEYS: [&str; 16] = [
    "id",
    "module",
    "dataset",
    "group_by",
    "fewshot",
    "judge",
    "id_field",
    "env_args",
    "limits",
    "capabilities",
    "code_execution",
    "workspace",
    "token_budget",
    "matrix",
    "matrix_exclude",
    "matrix_id_format",
];

/// Everything a run needs, resolved.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    /// Run name.
    pub name: String,
    /// The run config file, as given.
    pub config_path: PathBuf,
    /// Where runs are written (relative to the current directory).
    pub output_dir: PathBuf,
    /// The run seed.
    pub seed: u64,
    /// Jobs run at once.
    pub parallel: usize,
    /// The jobs, in config order (a job's envs in the order it lists them).
    pub jobs: Vec<JobPlan>,
    /// The GPUs served models take; `None`: every visible GPU.
    pub gpus: Option<Vec<u32>>,
}

/// One model on one env variant.
#[derive(Debug, Clone, Serialize)]
pub struct JobPlan {
    /// `slug(model)-slug(env variant)[-slug(config id)][-seed-N]`.
    pub job_id: String,
    /// The sampling config: the job's name and matrix combination, or
    /// `default` (see [`sweep`]). Jobs differing only in it are analysed apart.
    pub config_id: String,
    /// The seed every sample seed of the job derives from: the run's, or
    /// the job matrix's `seed`.
    pub seed: u64,
    /// The model.
    pub model: ModelSpec,
    /// The env variant.
    pub env: EnvSpec,
    /// The model's sampling args with the job's merged over them.
    pub sampling_args: Map<String, Value>,
    /// Whether a record's rollouts are asked in one request (`n`).
    pub rollouts_in_one_request: bool,
    /// The judge of the job's `ask-judge` actions, if it has one.
    pub judge: Option<JudgeSpec>,
    /// Set for every command in the job's workspaces. Their values may be
    /// secrets, so a plan shows their names only.
    #[serde(serialize_with = "names_only")]
    pub environment_variables: BTreeMap<String, String>,
    /// `assay rescore`: the earlier job whose recorded replies answer this
    /// job's turns (its model is not asked).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rescore: Option<RescoredJob>,
}

/// A job's judge: its model and the sampling args of judge requests (the
/// model's, then the judge config's).
#[derive(Debug, Clone, Serialize)]
pub struct JudgeSpec {
    /// The judge model.
    pub model: ModelSpec,
    /// Sent with every judge request.
    pub sampling_args: Map<String, Value>,
}

fn names_only<S: serde::Serializer>(variables: &BTreeMap<String, String>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(variables.keys())
}

/// A resolved env variant.
#[derive(Debug, Clone, Serialize)]
pub struct EnvSpec {
    /// The variant id (the env id when it has no matrix).
    pub id: String,
    /// The id the env was declared with (the matrix base).
    pub base_id: String,
    /// The plugin file (it exists).
    pub plugin: PathBuf,
    /// The dataset: a file (it exists), or a Hub dataset (fetched at preflight).
    pub dataset: DatasetSource,
    /// The record field grouping results, if any.
    pub group_by: Option<String>,
    /// Few-shot exemplars, with their pool resolved.
    pub fewshot: Option<FewshotSpec>,
    /// The record field holding example ids.
    pub id_field: Option<String>,
    /// Records to use from the start of the dataset (`None`: all).
    pub num_examples: Option<usize>,
    /// Samples per record.
    pub rollouts: u32,
    /// Arguments for the plugin: env, then matrix, then job.
    pub env_args: Map<String, Value>,
    /// Arguments merged over `env_args` only if the plugin declares them:
    /// command-line options meant for one kind of plugin
    /// (`--max-generated-tests`), so other plugins never see them.
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub args_if_declared: Map<String, Value>,
    /// Model turns per episode.
    pub max_turns: u32,
    /// Sandbox limits per call.
    pub limits: PluginLimits,
    /// Granted capabilities.
    pub capabilities: Vec<String>,
    /// How `run-code` actions run; set exactly when a `run-code:<language>`
    /// capability is granted (the defaults when the env does not say).
    pub code_execution: Option<CodeExecutionConfig>,
    /// How workspaces are made and run; set exactly when the `workspace`
    /// capability is granted (the defaults when the env does not say).
    pub workspace: Option<WorkspaceConfig>,
    /// Tokens a sample may spend before the model is no longer asked.
    pub token_budget: Option<u64>,
}

/// Few-shot exemplars of an env: where they come from and how they are chosen.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct FewshotSpec {
    /// The pool of exemplars (a file, or a Hub split).
    pub pool: DatasetSource,
    /// The pool's example id field (the env's).
    pub id_field: Option<String>,
    /// The settings as configured.
    pub config: FewshotConfig,
}

/// An expanded env variant, before its files are resolved.
#[derive(Debug)]
struct Variant<'a> {
    declared: &'a DeclaredEnv,
    id: String,
    env_args: Map<String, Value>,
    num_examples: Option<usize>,
    rollouts: u32,
    max_turns: u32,
}

/// Plan the jobs of the config at `config_path`, with plugin dirs from
/// `$ASSAY_PLUGIN_PATH` and the user's plugin dir after the config's own.
pub fn plan(config_path: &Path) -> Result<Plan> {
    plan_loaded(&config::load(config_path)?, &locations::extra_plugin_dirs())
}

/// Plan the jobs of a loaded config; `extra_plugin_dirs` are searched after
/// the config's `plugin_dirs`.
pub fn plan_loaded(loaded: &LoadedConfig, extra_plugin_dirs: &[PathBuf]) -> Result<Plan> {
    let variants = expand_all(&loaded.envs)?;
    let mut plugin_dirs: Vec<PathBuf> = loaded.run.plugin_dirs.iter().map(|dir| loaded.dir().join(dir)).collect();
    plugin_dirs.extend_from_slice(extra_plugin_dirs);
    let shown = loaded.path.display();
    let mut jobs: Vec<JobPlan> = Vec::new();
    let mut made_by: HashMap<String, usize> = HashMap::new();
    for (index, job) in loaded.run.jobs.iter().enumerate() {
        let fail = |e: String| anyhow!("{shown}: jobs[{index}]: {e}");
        let model = model_spec(loaded, &job.model).map_err(|e| fail(e.to_string()))?;
        let mut sampling_args = model_sampling_args(loaded, &job.model);
        sampling_args.extend(job.sampling_args.clone());
        let configs = sweep::expand(job, &sampling_args).map_err(fail)?;
        let overrides = job_overrides(loaded, job).map_err(fail)?;
        for variant in job_variants(&variants, &job.env).map_err(|e| fail(e.to_string()))? {
            for config in &configs {
                let job_id = format!("{}-{}{}", slug(&model.id), slug(&variant.id), sweep::job_id_suffix(config));
                if let Some(first) = made_by.insert(job_id.clone(), index) {
                    bail!(
                        "{shown}: jobs[{first}] and jobs[{index}] both make job `{job_id}`; give one of them a `name`"
                    );
                }
                let mut env = resolve_env(variant, &plugin_dirs)?;
                env.env_args.extend(job.env_args.clone());
                env.env_args.extend(overrides.clone());
                env.rollouts = job.rollouts.unwrap_or(env.rollouts);
                jobs.push(JobPlan {
                    job_id,
                    config_id: config.config_id.clone(),
                    seed: config.seed.unwrap_or(loaded.run.seed),
                    model: model.clone(),
                    env,
                    sampling_args: config.sampling_args.clone(),
                    rollouts_in_one_request: job.rollouts_in_one_request,
                    judge: judge_spec(loaded, job.judge.as_ref().or(variant.declared.env.judge.as_ref()))
                        .map_err(|e| fail(format!("judge: {e}")))?,
                    environment_variables: job.environment_variables.clone(),
                    rescore: None,
                });
            }
        }
    }
    Ok(Plan {
        name: loaded.run.name.clone(),
        config_path: loaded.path.clone(),
        output_dir: loaded.run.output_dir.clone(),
        seed: loaded.run.seed,
        parallel: loaded.run.parallel,
        jobs,
        gpus: loaded.run.gpus.clone(),
    })
}

/// The object in a job's `overrides` JSON file, when it applies.
fn job_overrides(loaded: &LoadedConfig, job: &JobConfig) -> Result<Map<String, Value>, String> {
    let Some(file) = job.overrides.as_ref().filter(|_| job.apply_overrides) else {
        return Ok(Map::new());
    };
    let path = loaded.dir().join(file);
    let text = std::fs::read_to_string(&path).map_err(|e| format!("overrides: cannot read {}: {e}", path.display()))?;
    match serde_json::from_str(&text) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => Err(format!("overrides: {} must hold a JSON object", path.display())),
        Err(e) => Err(format!("overrides: {}: {e}", path.display())),
    }
}

/// Command-line changes to a plan. Those that change results (args,
/// example counts) enter job identity through the plan; the others are
/// connection settings.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// Run name (`--name`).
    pub name: Option<String>,
    /// Output directory (`--output-dir`).
    pub output_dir: Option<PathBuf>,
    /// Merged over every job's env args (`--env-args`).
    pub env_args: Map<String, Value>,
    /// Merged over the env args of every job whose plugin declares them
    /// (`--max-generated-tests`).
    pub args_if_declared: Map<String, Value>,
    /// Merged over every job's sampling args (`--sampling-args`).
    pub sampling_args: Map<String, Value>,
    /// Every model's `max_concurrent` (`--max-concurrent`).
    pub max_concurrent: Option<usize>,
    /// Every model's `timeout` in seconds (`--timeout`).
    pub timeout_secs: Option<f64>,
    /// At most this many examples per job (`--max-examples`).
    pub max_examples: Option<usize>,
    /// Every model's and judge's `cache` (`--cache`, `--no-cache`).
    pub cache: Option<bool>,
}

impl Plan {
    /// Apply command-line overrides to every job.
    pub fn apply(&mut self, overrides: &Overrides) {
        if let Some(name) = &overrides.name {
            self.name = name.clone();
        }
        if let Some(dir) = &overrides.output_dir {
            self.output_dir = dir.clone();
        }
        for job in &mut self.jobs {
            job.env.env_args.extend(overrides.env_args.clone());
            job.env.args_if_declared.extend(overrides.args_if_declared.clone());
            job.sampling_args.extend(overrides.sampling_args.clone());
            if let Some(endpoint) = job.model.endpoint_mut() {
                endpoint.max_concurrent = overrides.max_concurrent.unwrap_or(endpoint.max_concurrent);
                endpoint.timeout_secs = overrides.timeout_secs.unwrap_or(endpoint.timeout_secs);
            }
            let judge = job.judge.as_mut().and_then(|judge| judge.model.endpoint_mut());
            for endpoint in job.model.endpoint_mut().into_iter().chain(judge) {
                endpoint.cache = overrides.cache.unwrap_or(endpoint.cache);
            }
            if let Some(max) = overrides.max_examples {
                job.env.num_examples = Some(job.env.num_examples.map_or(max, |n| n.min(max)));
            }
        }
    }
}

/// The model `id` of the config, resolved: its kind, endpoint settings or replay files.
fn model_spec(loaded: &LoadedConfig, id: &str) -> Result<ModelSpec> {
    if id == ORACLE {
        return Ok(ModelSpec::oracle());
    }
    let Some(model) = loaded.run.models.get(id) else {
        let known: Vec<&str> = loaded.run.models.keys().map(String::as_str).chain([ORACLE]).collect();
        bail!("unknown model `{id}` (known: {})", known.join(", "));
    };
    let source = match (&model.model, &model.replay) {
        (Some(name), None) => ModelSource::Endpoint(endpoint_spec(id, name, model)?),
        (None, Some(replay)) => ModelSource::Replay(replay_spec(loaded, id, replay)?),
        (Some(_), Some(_)) => bail!("models.{id}: set `model` (an endpoint) or `replay` (files), not both"),
        (None, None) => bail!("models.{id}: `model` is required (the name the server knows), or `replay`"),
    };
    let serve = match (&model.serve, &source) {
        (None, _) => None,
        (Some(serve), ModelSource::Endpoint(endpoint)) => Some(serve_spec(loaded, id, &endpoint.model, serve)?),
        (Some(_), _) => bail!("models.{id}.serve: only a model with `model` (an endpoint) can be served"),
    };
    Ok(ModelSpec { id: id.into(), source, serve, price: model.price })
}

/// How a model with `serve:` is served: its weights found (a path relative
/// to the config file, else a Hub id) and its arguments checked against
/// the engine, before anything starts.
fn serve_spec(loaded: &LoadedConfig, id: &str, name: &str, serve: &config::ServeConfig) -> Result<ServeSpec> {
    let path = serve.path.clone().unwrap_or_else(|| name.to_string());
    let local = loaded.dir().join(&path);
    let path = if local.exists() { local.display().to_string() } else { path };
    let default_gpus = match serve.engine {
        Engine::Command => 0,
        _ => serve.engine_args.gpus(),
    };
    let spec = ServeSpec {
        engine: serve.engine,
        path,
        served_name: name.into(),
        engine_args: serve.engine_args.clone(),
        extra_args: serve.extra_args.clone(),
        command: serve.command.clone(),
        version_command: serve.version_command.clone(),
        gpus: serve.gpus.unwrap_or(default_gpus),
        port: serve.port,
        ready_timeout_secs: serve.ready_timeout,
        stop_grace_secs: serve.stop_grace,
        health_interval_secs: serve.health_interval,
        max_restarts: serve.max_restarts,
        env: serve.env.clone(),
    };
    spec.check().map_err(|e| anyhow!("models.{id}.serve.{e}"))?;
    Ok(spec)
}

fn endpoint_spec(id: &str, name: &str, model: &config::ModelConfig) -> Result<EndpointSpec> {
    Ok(EndpointSpec {
        model: name.into(),
        api_base_url: model.api_base_url.clone(),
        api_key_var: model.api_key_var.clone(),
        max_concurrent: model.max_concurrent,
        timeout_secs: model.timeout,
        max_retries: model.max_retries,
        rate_limit_wait_secs: model.rate_limit_wait,
        rate: RateLimits {
            requests_per_minute: model.requests_per_minute,
            tokens_per_minute: model.tokens_per_minute,
            adaptive: model.adaptive_concurrency,
        },
        api: match (model.use_chat_template, &model.prompt_template) {
            (true, None) => Api::Chat,
            (true, Some(_)) => bail!("models.{id}.prompt_template: only used with `use_chat_template: false`"),
            (false, template) => Api::Completions(template.clone().unwrap_or_default()),
        },
        scoring_api: model.loglikelihood_api,
        cache: model.cache,
    })
}

/// A replay model's files, resolved against the config's directory.
fn replay_spec(loaded: &LoadedConfig, id: &str, replay: &config::ReplayConfig) -> Result<ReplaySpec> {
    if replay.files.is_empty() {
        bail!("models.{id}.replay.files: no files");
    }
    let files: Vec<PathBuf> = replay.files.iter().map(|file| loaded.dir().join(file)).collect();
    if let Some((i, missing)) = files.iter().enumerate().find(|(_, file)| !file.is_file()) {
        bail!("models.{id}.replay.files[{i}]: {} not found", missing.display());
    }
    Ok(ReplaySpec { files, id_field: replay.id_field.clone(), completion_field: replay.completion_field.clone() })
}

/// The judge, resolved: its model (declared under `models:`) and sampling args.
fn judge_spec(loaded: &LoadedConfig, judge: Option<&JudgeConfig>) -> Result<Option<JudgeSpec>> {
    let Some(judge) = judge else { return Ok(None) };
    let model = model_spec(loaded, &judge.model)?;
    if model.serve.is_some() {
        bail!(
            "model `{}` has `serve:`; a judge's server is not started by assay: serve it and set its api_base_url",
            judge.model
        );
    }
    let mut sampling_args = model_sampling_args(loaded, &judge.model);
    sampling_args.extend(judge.sampling_args.clone());
    Ok(Some(JudgeSpec { model, sampling_args }))
}

fn model_sampling_args(loaded: &LoadedConfig, id: &str) -> Map<String, Value> {
    loaded.run.models.get(id).map(|model| model.sampling_args.clone()).unwrap_or_default()
}

/// The variants a job's env ids name, in the job's order; a variant named
/// twice (say by its base id and its own id) runs once.
fn job_variants<'v, 'a>(variants: &'v [Variant<'a>], env_ids: &[String]) -> Result<Vec<&'v Variant<'a>>> {
    let mut chosen: Vec<&Variant> = Vec::new();
    for env_id in env_ids {
        let matched: Vec<&Variant> =
            variants.iter().filter(|v| v.id == *env_id || v.declared.env.id == *env_id).collect();
        if matched.is_empty() {
            bail!("unknown env `{env_id}` ({})", known_envs(variants));
        }
        for variant in matched {
            if !chosen.iter().any(|c| c.id == variant.id) {
                chosen.push(variant);
            }
        }
    }
    Ok(chosen)
}

/// "known: a, b, b-1, b-2", or why there are none.
fn known_envs(variants: &[Variant]) -> String {
    let mut names: Vec<&str> = Vec::new();
    for variant in variants {
        for name in [variant.declared.env.id.as_str(), variant.id.as_str()] {
            if !names.contains(&name) {
                names.push(name);
            }
        }
    }
    if names.is_empty() {
        return "no envs are declared: set `envs` in the config, or put env files in its env dirs".into();
    }
    format!("known: {}", names.join(", "))
}

/// Expand every env's matrix, checking that every name a job could use
/// (env ids and variant ids) means one env.
fn expand_all(envs: &[DeclaredEnv]) -> Result<Vec<Variant<'_>>> {
    // Env id → the env.
    let mut owners: HashMap<&str, &DeclaredEnv> = HashMap::new();
    for declared in envs {
        if let Some(first) = owners.insert(&declared.env.id, declared) {
            bail!("env id `{}` is declared twice: at {} and at {}", declared.env.id, first.place(), declared.place());
        }
    }
    let mut variants: Vec<Variant> = Vec::new();
    for declared in envs {
        for variant in expand(declared)? {
            check_variant_id(&variant, &variants, &owners)?;
            variants.push(variant);
        }
    }
    Ok(variants)
}

/// A new variant's id must differ from earlier variants' ids and from the
/// ids of other envs.
fn check_variant_id(variant: &Variant, earlier: &[Variant], owners: &HashMap<&str, &DeclaredEnv>) -> Result<()> {
    let (declared, id) = (variant.declared, &variant.id);
    if let Some(twin) = earlier.iter().find(|v| v.id == *id) {
        if std::ptr::eq(twin.declared, declared) {
            bail!(
                "{}: env `{}`: two matrix combinations make variant id `{id}`; put every swept key in matrix_id_format",
                declared.place(),
                declared.env.id
            );
        }
        bail!(
            "variant id `{id}` is made by env `{}` at {} and by env `{}` at {}",
            twin.declared.env.id,
            twin.declared.place(),
            declared.env.id,
            declared.place()
        );
    }
    if let Some(owner) = owners.get(id.as_str()).filter(|owner| !std::ptr::eq(**owner, declared)) {
        bail!(
            "{}: env `{}`: variant id `{id}` is also the id of the env at {}",
            declared.place(),
            declared.env.id,
            owner.place()
        );
    }
    Ok(())
}

/// One variant per combination of matrix values, minus exclusions; the env
/// itself when it has no matrix.
fn expand(declared: &DeclaredEnv) -> Result<Vec<Variant<'_>>> {
    let env = &declared.env;
    let fail = |message: String| anyhow!("{}: env `{}`: {message}", declared.place(), env.id);
    check_matrix(env).map_err(fail)?;
    let combinations = sweep::combinations(&env.matrix);
    let excluded = |combo: &[(&str, &Value)]| {
        env.matrix_exclude.iter().any(|entry| entry.iter().all(|(k, v)| combo.contains(&(k.as_str(), v))))
    };
    let variants: Vec<Variant> = combinations
        .iter()
        .filter(|combo| !excluded(combo))
        .map(|combo| apply_combination(declared, combo))
        .collect::<Result<_, String>>()
        .map_err(fail)?;
    if variants.is_empty() {
        return Err(fail("matrix_exclude drops every combination".into()));
    }
    Ok(variants)
}

/// Reject matrix keys that cannot be swept, empty value lists, exclusions
/// on unknown keys and id-format placeholders that are not matrix keys.
fn check_matrix(env: &EnvConfig) -> Result<(), String> {
    for (key, values) in &env.matrix {
        if UNSWEPT_KEYS.contains(&key.as_str()) {
            return Err(format!("matrix key `{key}` cannot be swept (declare one env per value instead)"));
        }
        if values.is_empty() {
            return Err(format!("matrix key `{key}` has no values"));
        }
    }
    for (i, entry) in env.matrix_exclude.iter().enumerate() {
        if let Some(key) = entry.keys().find(|key| !env.matrix.contains_key(*key)) {
            return Err(format!("matrix_exclude[{i}]: `{key}` is not a matrix key"));
        }
    }
    if let Some(format) = &env.matrix_id_format {
        for placeholder in sweep::placeholders(format) {
            if placeholder != "base" && !env.matrix.contains_key(placeholder) {
                return Err(format!("matrix_id_format: `{{{placeholder}}}` is neither `{{base}}` nor a matrix key"));
            }
        }
    }
    Ok(())
}

/// The variant for one combination of matrix values. `null` leaves an
/// `env_args` key out (the plugin's default applies) and keeps an env
/// field's own value.
fn apply_combination<'a>(declared: &'a DeclaredEnv, combo: &[(&str, &Value)]) -> Result<Variant<'a>, String> {
    let env = &declared.env;
    let mut variant = Variant {
        declared,
        id: variant_id(env, combo),
        env_args: env.env_args.clone(),
        num_examples: env.num_examples,
        rollouts: env.rollouts_per_example,
        max_turns: env.max_turns,
    };
    for &(key, value) in combo {
        match (key, value) {
            (key, Value::Null) if FIELD_KEYS.contains(&key) => {}
            ("num_examples", value) => {
                let n = value.as_i64().ok_or_else(|| format!("matrix num_examples: {value} is not an integer"))?;
                variant.num_examples = config::num_examples(n)?;
            }
            ("rollouts_per_example", value) => variant.rollouts = positive(key, value)?,
            ("max_turns", value) => variant.max_turns = positive(key, value)?,
            (key, Value::Null) => drop(variant.env_args.remove(key)),
            (key, value) => drop(variant.env_args.insert(key.to_string(), value.clone())),
        }
    }
    Ok(variant)
}

fn positive(key: &str, value: &Value) -> Result<u32, String> {
    value
        .as_u64()
        .and_then(|n| u32::try_from(n).ok())
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("matrix {key}: {value} is not a positive integer"))
}

/// `matrix_id_format` with `{base}` and `{key}` filled in, or by default
/// `<id>-<key>-<value>...` (keys sorted); the env id when it has no matrix.
fn variant_id(env: &EnvConfig, combo: &[(&str, &Value)]) -> String {
    if combo.is_empty() {
        return env.id.clone();
    }
    match &env.matrix_id_format {
        Some(format) => sweep::fill(&format.replace("{base}", &env.id), combo),
        None => {
            combo.iter().fold(env.id.clone(), |id, (key, value)| format!("{id}-{key}-{}", sweep::value_text(value)))
        }
    }
}

/// Resolve plugin and dataset (they must exist) and build the spec.
fn resolve_env(variant: &Variant, plugin_dirs: &[PathBuf]) -> Result<EnvSpec> {
    let declared = variant.declared;
    let env = &declared.env;
    let fail = |message: String| anyhow!("{}: env `{}`: {message}", declared.place(), env.id);
    let dataset = match &env.dataset {
        DatasetSource::File(path) => {
            let path = declared.dir().join(path);
            if !path.is_file() {
                return Err(fail(format!("dataset {} not found", path.display())));
            }
            DatasetSource::File(path)
        }
        DatasetSource::Hub(hub) => DatasetSource::Hub(hub.clone()),
        DatasetSource::PluginDefault => DatasetSource::PluginDefault,
        DatasetSource::Tasks(tasks) => {
            let dir = declared.dir().join(&tasks.tasks);
            if !dir.is_dir() {
                return Err(fail(format!("dataset: task directory {} not found", dir.display())));
            }
            DatasetSource::Tasks(TaskDirs { tasks: dir, apply_overrides: tasks.apply_overrides })
        }
    };
    let fewshot = fewshot_spec(env, &dataset, declared.dir()).map_err(fail)?;
    let plugin = find_plugin(&env.module, declared.dir(), plugin_dirs).map_err(fail)?;
    let mut env_args = variant.env_args.clone();
    load_prompts_file(&mut env_args, declared.dir()).map_err(|e| fail(format!("env_args.prompts: {e:#}")))?;
    Ok(EnvSpec {
        id: variant.id.clone(),
        base_id: env.id.clone(),
        plugin,
        dataset,
        group_by: env.group_by.clone(),
        fewshot,
        id_field: env.id_field.clone(),
        num_examples: variant.num_examples,
        rollouts: variant.rollouts,
        env_args,
        args_if_declared: Map::new(),
        max_turns: variant.max_turns,
        limits: env.limits,
        capabilities: env.capabilities.clone(),
        code_execution: code_execution(env).map_err(fail)?,
        workspace: workspace(env).map_err(fail)?,
        token_budget: env.token_budget,
    })
}

/// The few-shot pool: another split of the env's Hub dataset, another
/// dataset (a file relative to the env's file must exist), or the env's own.
fn fewshot_spec(env: &EnvConfig, dataset: &DatasetSource, dir: &Path) -> Result<Option<FewshotSpec>, String> {
    let Some(config) = &env.fewshot else { return Ok(None) };
    let pool = match (&config.split, &config.dataset, dataset) {
        (Some(_), Some(_), _) => return Err("fewshot: set `split` or `dataset`, not both".into()),
        (Some(split), None, DatasetSource::Hub(hub)) => {
            DatasetSource::Hub(HubDataset { split: split.clone(), ..hub.clone() })
        }
        (Some(_), None, DatasetSource::File(_) | DatasetSource::Tasks(_) | DatasetSource::PluginDefault) => {
            return Err("fewshot.split: a split needs a Hub dataset; name a file with fewshot.dataset".into());
        }
        (None, Some(DatasetSource::File(path)), _) => {
            let path = dir.join(path);
            if !path.is_file() {
                return Err(format!("fewshot.dataset {} not found", path.display()));
            }
            DatasetSource::File(path)
        }
        (None, Some(hub), _) => hub.clone(),
        (None, None, own) => own.clone(),
    };
    match (config.sampler, config.ids.len()) {
        (FewshotSampler::Ids, n) if n != config.n => {
            return Err(format!("fewshot.ids: sampler `ids` needs n ids ({n} given, n is {})", config.n));
        }
        (FewshotSampler::Random | FewshotSampler::FirstN, n) if n > 0 => {
            return Err("fewshot.ids: only used with `sampler: ids`".into());
        }
        _ => {}
    }
    Ok(Some(FewshotSpec { pool, id_field: env.id_field.clone(), config: config.clone() }))
}

/// An `env_args.prompts` string names a prompts file (YAML, JSON or TOML,
/// relative to the env's file) holding settings such as `system_prompt`
/// and `prompt_template` (the seed's upper-case `SYSTEM_PROMPT` and
/// `PROMPT_TEMPLATE` too). Its keys, lower-cased, become env args that the
/// env's own `env_args` do not set, so every plugin taking a
/// `system_prompt` or `prompt_template` takes a prompts file (plugins
/// cannot read files). Its content, not its path, is part of the job's
/// identity.
fn load_prompts_file(env_args: &mut Map<String, Value>, dir: &Path) -> Result<()> {
    let Some(Value::String(file)) = env_args.get("prompts") else {
        return Ok(());
    };
    let path = dir.join(file);
    if !path.is_file() {
        bail!("prompts file {} not found", path.display());
    }
    let prompts: Map<String, Value> = config::parse_literal_file(&path)?;
    env_args.remove("prompts");
    let mut seen = std::collections::BTreeSet::new();
    for (key, value) in prompts {
        let name = key.to_lowercase();
        if !seen.insert(name.clone()) {
            bail!("{}: `{name}` is given twice (in upper and lower case)", path.display());
        }
        env_args.entry(name).or_insert(value);
    }
    Ok(())
}

/// The code-execution settings of an env: the configured ones (or the
/// defaults) when it grants a `run-code:<language>` capability.
fn code_execution(env: &EnvConfig) -> Result<Option<CodeExecutionConfig>, String> {
    let runs_code = !config::run_code_languages(&env.capabilities).is_empty();
    let settings = match (&env.code_execution, runs_code) {
        (None, false) => return Ok(None),
        (Some(_), false) => {
            return Err(format!("code_execution is set but no `{RUN_CODE_PREFIX}<language>` capability is granted"));
        }
        (Some(settings), true) => settings.clone(),
        (None, true) => CodeExecutionConfig::default(),
    };
    match (settings.backend, &settings.url) {
        (CodeBackendKind::Piston, None) => Err("code_execution.url is required with backend `piston`".into()),
        (CodeBackendKind::Local, Some(_)) => Err("code_execution.url is only read with backend `piston`".into()),
        _ => Ok(Some(settings)),
    }
}

/// The workspace settings of an env: the configured ones (or the defaults)
/// when it grants the `workspace` capability.
fn workspace(env: &EnvConfig) -> Result<Option<WorkspaceConfig>, String> {
    let granted = env.capabilities.iter().any(|c| c == WORKSPACE);
    let settings = match (&env.workspace, granted) {
        (None, false) => return Ok(None),
        (Some(_), false) => return Err(format!("workspace is set but the `{WORKSPACE}` capability is not granted")),
        (Some(settings), true) => settings.clone(),
        (None, true) => WorkspaceConfig::default(),
    };
    match (settings.backend, &settings.image) {
        (WorkspaceBackendKind::Local, Some(_)) => {
            Err("workspace.image is only read with backend `docker` or `podman`".into())
        }
        _ => Ok(Some(settings)),
    }
}

/// A `module` ending in `.wasm` is a path relative to the env's file;
/// anything else is a plugin name, found as `<name>.wasm` (or, as cargo
/// names the output of a `my-env` crate, `my_env.wasm`) in `dirs`.
pub fn find_plugin(module: &str, env_dir: &Path, dirs: &[PathBuf]) -> Result<PathBuf, String> {
    if module.ends_with(".wasm") {
        let path = env_dir.join(module);
        return if path.is_file() { Ok(path) } else { Err(format!("plugin file {} not found", path.display())) };
    }
    let mut names = vec![format!("{module}.wasm")];
    if module.contains('-') {
        names.push(format!("{}.wasm", module.replace('-', "_")));
    }
    if let Some(found) = dirs.iter().flat_map(|dir| names.iter().map(move |name| dir.join(name))).find(|p| p.is_file())
    {
        return Ok(found);
    }
    let searched: Vec<String> = dirs.iter().map(|dir| dir.display().to_string()).collect();
    let searched =
        if searched.is_empty() { "no plugin dirs set".into() } else { format!("searched {}", searched.join(", ")) };
    Err(format!(
        "plugin `{module}` not found ({searched}); build plugins with scripts/build-plugins.sh, add their directory to plugin_dirs or {}, or install one with `assay plugin build --install`",
        locations::vars::PLUGIN_PATH
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A temp project with an (empty) `plugins/mcq.wasm` and `data/qa.jsonl`.
    struct Project(tempfile::TempDir);

    impl Project {
        fn new() -> Self {
            let project = Project(tempfile::tempdir().unwrap());
            project.write("plugins/mcq.wasm", "");
            project.write("data/qa.jsonl", "{}\n");
            project
        }
        fn write(&self, name: &str, text: &str) -> PathBuf {
            let path = self.0.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, text).unwrap();
            path
        }
        fn path(&self, name: &str) -> PathBuf {
            self.0.path().join(name)
        }
        /// Plan `run.yaml` (with `plugin_dirs: [plugins]` prepended).
        fn plan(&self, run: &str) -> Result<Plan> {
            let path = self.write("run.yaml", &format!("plugin_dirs: [plugins]\n{run}"));
            plan_loaded(&config::load(&path)?, &[])
        }
        /// The one-line error of planning `run`, minus the temp dir prefix.
        fn error(&self, run: &str) -> String {
            let message = format!("{:#}", self.plan(run).unwrap_err());
            assert_eq!(message.lines().count(), 1, "{message}");
            message.replace(&format!("{}/", self.0.path().display()), "")
        }
    }

    fn ids(plan: &Plan) -> Vec<&str> {
        plan.jobs.iter().map(|job| job.job_id.as_str()).collect()
    }

    const MODELS: &str = "models:
  gpt:
    model: gpt-4o-mini
    api_key_var: OPENAI_API_KEY
    max_concurrent: 8
    timeout: 30
    max_retries: 2
    sampling_args: {temperature: 0.5, top_k: 3}
";

    const SHUFFLED: &str = "id: qa-shuffled
module: mcq
dataset: ../data/qa.jsonl
id_field: qid
num_examples: 10
env_args: {shuffle: true, seed: 0, style: env}
matrix: {seed: [1, 2, 3], style: [matrix, null]}
matrix_exclude: [{seed: 3}, {seed: 2, style: null}]
matrix_id_format: \"{base}-s{seed}-{style}\"
max_turns: 2
limits: {memory_mb: 64}
capabilities: [run-code:python]
";

    #[test]
    fn a_full_config_plans_every_job() {
        let project = Project::new();
        project.write("envs/qa.yaml", "id: qa\nmodule: mcq\ndataset: ../data/qa.jsonl\n");
        project.write("envs/shuffled.yml", SHUFFLED);
        let run = format!(
            "name: nightly\nseed: 7\nparallel: 2\noutput_dir: out\n{MODELS}jobs:
  - {{model: gpt, env: [qa, qa-shuffled], sampling_args: {{temperature: 0}}, env_args: {{style: job}}}}
  - {{model: oracle, env: qa-shuffled-s1-none, name: \"check #1\"}}
"
        );
        let plan = project.plan(&run).unwrap();
        assert_eq!((plan.name.as_str(), plan.seed, plan.parallel), ("nightly", 7, 2));
        assert_eq!((plan.output_dir.as_path(), plan.config_path.clone()), (Path::new("out"), project.path("run.yaml")));
        assert_eq!(
            ids(&plan),
            [
                "gpt-qa",
                "gpt-qa-shuffled-s1-matrix",
                "gpt-qa-shuffled-s1-none",
                "gpt-qa-shuffled-s2-matrix",
                "oracle-qa-shuffled-s1-none-check--1"
            ]
        );
        let plain = &plan.jobs[0];
        assert_eq!(plain.model.id, "gpt");
        let ModelSource::Endpoint(endpoint) = &plain.model.source else { panic!("an endpoint model") };
        assert_eq!(
            (endpoint.model.as_str(), endpoint.api_base_url.as_str(), endpoint.api_key_var.as_deref()),
            ("gpt-4o-mini", "https://api.openai.com/v1", Some("OPENAI_API_KEY"))
        );
        assert_eq!((endpoint.max_concurrent, endpoint.timeout_secs, endpoint.max_retries), (8, 30.0, 2));
        assert_eq!(json!(plain.sampling_args), json!({"temperature": 0, "top_k": 3}));
        assert_eq!((plain.env.id.as_str(), plain.env.base_id.as_str()), ("qa", "qa"));
        assert_eq!(plain.env.plugin, project.path("plugins/mcq.wasm"));
        assert_eq!(plain.env.dataset, DatasetSource::File(project.path("envs/../data/qa.jsonl")));
        assert_eq!((plain.env.num_examples, plain.env.rollouts, plain.env.max_turns), (None, 1, 16));
        assert_eq!(json!(plain.env.env_args), json!({"style": "job"}));
        let swept = &plan.jobs[1].env;
        assert_eq!((swept.id.as_str(), swept.base_id.as_str()), ("qa-shuffled-s1-matrix", "qa-shuffled"));
        assert_eq!((swept.id_field.as_deref(), swept.num_examples, swept.max_turns), (Some("qid"), Some(10), 2));
        assert_eq!(json!(swept.env_args), json!({"shuffle": true, "seed": 1, "style": "job"}));
        assert_eq!(swept.limits, PluginLimits { memory_mb: 64, ..PluginLimits::default() });
        assert_eq!(swept.capabilities, ["run-code:python"]);
        let oracle = &plan.jobs[4];
        assert!(matches!(oracle.model.source, ModelSource::Oracle) && oracle.sampling_args.is_empty());
        assert_eq!(json!(oracle.env.env_args), json!({"shuffle": true, "seed": 1}), "null leaves the key out");
    }

    #[test]
    fn default_variant_ids_sort_keys_and_spell_values() {
        let project = Project::new();
        let envs =
            "envs:\n  - id: qa\n    module: mcq\n    dataset: data/qa.jsonl\n    matrix: {z: [true], a: [x y, 0.5]}\n";
        let plan = project.plan(&format!("{envs}jobs:\n  - {{model: oracle, env: qa}}\n")).unwrap();
        assert_eq!(ids(&plan), ["oracle-qa-a-x-y-z-true", "oracle-qa-a-0.5-z-true"]);
        assert_eq!(plan.jobs[0].env.id, "qa-a-x y-z-true", "variant ids are not slugged, job ids are");
    }

    #[test]
    fn a_job_matrix_makes_one_job_per_sampling_config_and_seed() {
        // Combinations come in sorted-key order: `seed` before `temperature`.
        let project = Project::new();
        let env = "envs:\n  - {id: qa, module: mcq, dataset: data/qa.jsonl}\n";
        let job = "  - {model: gpt, env: qa, name: sweep, sampling_args: {top_k: 1}, matrix: {temperature: [0, null], seed: [4, 5]}}\n  - {model: gpt, env: qa}\n";
        let plan = project.plan(&format!("seed: 9\n{MODELS}{env}jobs:\n{job}")).unwrap();
        let jobs: Vec<(&str, &str, u64, Value)> = plan
            .jobs
            .iter()
            .map(|j| (j.job_id.as_str(), j.config_id.as_str(), j.seed, json!(j.sampling_args)))
            .collect();
        assert_eq!(
            jobs,
            [
                ("gpt-qa-sweep-temperature-0-seed-4", "sweep-temperature-0", 4, json!({"temperature": 0, "top_k": 1})),
                ("gpt-qa-sweep-temperature-none-seed-4", "sweep-temperature-none", 4, json!({"top_k": 1})),
                ("gpt-qa-sweep-temperature-0-seed-5", "sweep-temperature-0", 5, json!({"temperature": 0, "top_k": 1})),
                ("gpt-qa-sweep-temperature-none-seed-5", "sweep-temperature-none", 5, json!({"top_k": 1})),
                ("gpt-qa", "default", 9, json!({"temperature": 0.5, "top_k": 3})),
            ],
            "null leaves a sampling arg out; the run seed is the default job seed"
        );
        let jobs = "  - {model: oracle, env: qa, matrix: {seed: [1, 2]}}\n";
        assert_eq!(
            ids(&project.plan(&format!("{env}jobs:\n{jobs}")).unwrap()),
            ["oracle-qa-seed-1", "oracle-qa-seed-2"]
        );
        assert_eq!(
            project.error(&format!("{env}jobs:\n  - {{model: oracle, env: qa, matrix: {{seed: []}}}}\n")),
            "run.yaml: jobs[0]: matrix key `seed` has no values"
        );
        assert_eq!(
            project.error(&format!(
                "{env}jobs:\n  - {{model: oracle, env: qa, matrix: {{seed: [1]}}, matrix_id_format: x}}\n"
            )),
            "run.yaml: jobs[0]: matrix_id_format: the matrix sweeps no sampling args"
        );
    }

    #[test]
    fn matrix_keys_may_override_env_fields() {
        let project = Project::new();
        let envs = "envs:\n  - id: qa\n    module: mcq\n    dataset: data/qa.jsonl\n    num_examples: 5\n    matrix: {num_examples: [-1, 2, null], rollouts_per_example: [4]}\n";
        let plan = project.plan(&format!("{envs}jobs:\n  - {{model: oracle, env: qa}}\n")).unwrap();
        let got: Vec<(Option<usize>, u32)> = plan.jobs.iter().map(|j| (j.env.num_examples, j.env.rollouts)).collect();
        assert_eq!(got, [(None, 4), (Some(2), 4), (Some(5), 4)]);
        assert!(plan.jobs.iter().all(|job| job.env.env_args.is_empty()));
    }

    #[test]
    fn matrix_mistakes_are_reported_even_in_unused_envs() {
        let project = Project::new();
        let env = |extra: &str| {
            project.error(&format!(
                "envs:\n  - {{id: qa, module: mcq, dataset: data/qa.jsonl}}\n  - {{id: x, module: absent, dataset: absent.jsonl, {extra}}}\njobs:\n  - {{model: oracle, env: qa}}\n"
            ))
        };
        assert_eq!(
            env("matrix: {module: [a]}"),
            "run.yaml: envs[1]: env `x`: matrix key `module` cannot be swept (declare one env per value instead)"
        );
        assert!(env("matrix: {k: []}").ends_with("matrix key `k` has no values"));
        assert!(
            env("matrix: {k: [1]}, matrix_exclude: [{kk: 1}]").ends_with("matrix_exclude[0]: `kk` is not a matrix key")
        );
        assert!(env("matrix: {k: [1]}, matrix_exclude: [{k: 1}]").ends_with("matrix_exclude drops every combination"));
        assert!(
            env("matrix: {k: [1]}, matrix_id_format: '{base}-{kk}'")
                .contains("`{kk}` is neither `{base}` nor a matrix key")
        );
        assert!(
            env("matrix: {k: [1, 2]}, matrix_id_format: '{base}'")
                .contains("two matrix combinations make variant id `x`")
        );
        assert!(env("matrix: {max_turns: [0]}").ends_with("matrix max_turns: 0 is not a positive integer"));
    }

    #[test]
    fn unknown_ids_list_the_known_ones() {
        let project = Project::new();
        let envs = "envs:\n  - {id: qa, module: mcq, dataset: data/qa.jsonl, matrix: {k: [1]}}\n";
        assert_eq!(
            project
                .error(&format!("{MODELS}{envs}jobs:\n  - {{model: oracle, env: qa}}\n  - {{model: gtp, env: qa}}\n")),
            "run.yaml: jobs[1]: unknown model `gtp` (known: gpt, oracle)"
        );
        assert_eq!(
            project.error(&format!("{envs}jobs:\n  - {{model: oracle, env: [qa, q]}}\n")),
            "run.yaml: jobs[0]: unknown env `q` (known: qa, qa-k-1)"
        );
        assert!(
            project.error("jobs:\n  - {model: oracle, env: q}\n").contains("unknown env `q` (no envs are declared")
        );
    }

    #[test]
    fn duplicate_job_ids_suggest_a_name() {
        let project = Project::new();
        let envs = "envs:\n  - {id: qa, module: mcq, dataset: data/qa.jsonl, matrix: {k: [1]}}\n";
        let jobs = "jobs:\n  - {model: oracle, env: qa}\n  - {model: oracle, env: qa-k-1}\n";
        assert_eq!(
            project.error(&format!("{envs}{jobs}")),
            "run.yaml: jobs[0] and jobs[1] both make job `oracle-qa-k-1`; give one of them a `name`"
        );
        let renamed = "jobs:\n  - {model: oracle, env: qa}\n  - {model: oracle, env: qa-k-1, name: again}\n";
        let named = project.plan(&format!("{envs}{renamed}")).unwrap();
        assert_eq!(ids(&named), ["oracle-qa-k-1", "oracle-qa-k-1-again"]);
        let once = project.plan(&format!("{envs}jobs:\n  - {{model: oracle, env: [qa, qa-k-1]}}\n")).unwrap();
        assert_eq!(ids(&once), ["oracle-qa-k-1"], "a variant named twice in one job runs once");
    }

    #[test]
    fn duplicate_env_ids_name_both_places() {
        let project = Project::new();
        project.write("envs/a.yaml", "id: qa\nmodule: mcq\ndataset: ../data/qa.jsonl\n");
        project.write("envs/b.yaml", "- {id: other, module: mcq, dataset: ../data/qa.jsonl}\n- {id: qa, module: mcq, dataset: ../data/qa.jsonl}\n");
        assert_eq!(
            project.error("jobs: []\n"),
            "env id `qa` is declared twice: at envs/a.yaml and at envs/b.yaml: [1]"
        );
        project.write(
            "envs/b.yaml",
            "id: other\nmodule: mcq\ndataset: ../data/qa.jsonl\nmatrix: {k: [1]}\nmatrix_id_format: qa\n",
        );
        assert_eq!(
            project.error("jobs: []\n"),
            "variant id `qa` is made by env `qa` at envs/a.yaml and by env `other` at envs/b.yaml"
        );
        project.write("envs/a.yaml", "id: qa\nmodule: mcq\ndataset: ../data/qa.jsonl\nmatrix: {k: [1]}\n");
        assert_eq!(
            project.error("jobs: []\n"),
            "envs/b.yaml: env `other`: variant id `qa` is also the id of the env at envs/a.yaml"
        );
    }

    #[test]
    fn missing_files_are_reported_for_used_envs_only() {
        let project = Project::new();
        let envs = "envs:\n  - {id: qa, module: mcq, dataset: data/qa.jsonl}\n  - {id: nodata, module: mcq, dataset: gone.jsonl}\n  - {id: noplugin, module: my-env, dataset: data/qa.jsonl}\n";
        assert_eq!(project.plan(&format!("{envs}jobs:\n  - {{model: oracle, env: qa}}\n")).unwrap().jobs.len(), 1);
        assert_eq!(
            project.error(&format!("{envs}jobs:\n  - {{model: oracle, env: nodata}}\n")),
            "run.yaml: envs[1]: env `nodata`: dataset gone.jsonl not found"
        );
        assert_eq!(
            project.error(&format!("{envs}jobs:\n  - {{model: oracle, env: noplugin}}\n")),
            "run.yaml: envs[2]: env `noplugin`: plugin `my-env` not found (searched plugins); build plugins with scripts/build-plugins.sh, add their directory to plugin_dirs or ASSAY_PLUGIN_PATH, or install one with `assay plugin build --install`"
        );
    }

    #[test]
    fn plugins_are_found_by_name_in_extra_dirs_or_by_path() {
        let project = Project::new();
        project.write("elsewhere/my_env.wasm", "");
        project.write("envs/local/direct.wasm", "");
        project.write("envs/a.yaml", "- {id: named, module: my-env, dataset: ../data/qa.jsonl}\n- {id: path, module: local/direct.wasm, dataset: ../data/qa.jsonl}\n");
        let path = project.write("run.yaml", "jobs:\n  - {model: oracle, env: [named, path]}\n");
        let plan = plan_loaded(&config::load(&path).unwrap(), &[project.path("elsewhere")]).unwrap();
        assert_eq!(plan.jobs[0].env.plugin, project.path("elsewhere/my_env.wasm"), "cargo's name for `my-env`");
        assert_eq!(plan.jobs[1].env.plugin, project.path("envs/local/direct.wasm"));
    }

    #[test]
    fn plans_serialize_without_secrets() {
        let project = Project::new();
        let plan = project.plan(&format!("{MODELS}envs:\n  - {{id: qa, module: mcq, dataset: data/qa.jsonl}}\njobs:\n  - {{model: gpt, env: qa}}\n")).unwrap();
        let snapshot = serde_json::to_value(&plan).unwrap();
        assert_eq!(snapshot["jobs"][0]["model"]["source"]["endpoint"]["api_key_var"], "OPENAI_API_KEY");
        assert_eq!(snapshot["jobs"][0]["env"]["limits"]["fuel"], 10_000_000_000u64);
    }

    #[test]
    fn a_prompts_file_in_env_args_is_read_into_them() {
        let project = Project::new();
        project.write("prompts/gsm8k.yaml", "SYSTEM_PROMPT: Think step by step.\nprompt_template: \"Q: {question}\"\n");
        let env =
            "envs:\n  - {id: qa, module: mcq, dataset: data/qa.jsonl, env_args: {prompts: prompts/gsm8k.yaml, k: 1}}\n";
        let plan = project.plan(&format!("{env}jobs:\n  - {{model: oracle, env: qa}}\n")).unwrap();
        assert_eq!(
            json!(plan.jobs[0].env.env_args),
            json!({"k": 1, "system_prompt": "Think step by step.", "prompt_template": "Q: {question}"})
        );
        let own = env.replace("k: 1}", "system_prompt: Mine.}");
        let plan = project.plan(&format!("{own}jobs:\n  - {{model: oracle, env: qa}}\n")).unwrap();
        assert_eq!(plan.jobs[0].env.env_args["system_prompt"], "Mine.", "the env's own args win");
        let missing = env.replace("prompts/gsm8k.yaml", "prompts/none.yaml");
        assert_eq!(
            project.error(&format!("{missing}jobs:\n  - {{model: oracle, env: qa}}\n")),
            "run.yaml: envs[0]: env `qa`: env_args.prompts: prompts file prompts/none.yaml not found"
        );
    }

    #[test]
    fn code_execution_needs_a_run_code_capability_and_defaults_to_local() {
        let project = Project::new();
        let env = |extra: &str| {
            format!(
                "envs:\n  - {{id: qa, module: mcq, dataset: data/qa.jsonl, {extra}}}\njobs:\n  - {{model: oracle, env: qa}}\n"
            )
        };
        let plan = project.plan(&env("capabilities: [run-code:python]")).unwrap();
        let settings = plan.jobs[0].env.code_execution.clone().expect("granted run-code gets the defaults");
        assert_eq!((settings.backend, settings.timeout_secs, settings.memory_mb), (CodeBackendKind::Local, 10.0, 1024));
        assert!(project.plan(&env("capabilities: [other]")).unwrap().jobs[0].env.code_execution.is_none());
        assert_eq!(
            project.error(&env("code_execution: {timeout_secs: 5}")),
            "run.yaml: envs[0]: env `qa`: code_execution is set but no `run-code:<language>` capability is granted"
        );
        assert_eq!(
            project.error(&env("capabilities: [run-code:python], code_execution: {backend: piston}")),
            "run.yaml: envs[0]: env `qa`: code_execution.url is required with backend `piston`"
        );
        assert!(
            project
                .error(&env("capabilities: [run-code:python], code_execution: {backend: docker}"))
                .contains("envs[0].code_execution.backend: unknown variant `docker`, expected `local` or `piston`")
        );
    }

    #[test]
    fn workspaces_need_the_capability_and_task_directories_must_exist() {
        let project = Project::new();
        project.write("tasks/t/task.json", "{}");
        let env = |extra: &str| {
            format!(
                "envs:\n  - {{id: a, module: mcq, dataset: {{tasks: tasks}}, {extra}}}\njobs:\n  - {{model: oracle, env: a}}\n"
            )
        };
        let plan = project.plan(&env("capabilities: [workspace]")).unwrap();
        let settings = plan.jobs[0].env.workspace.clone().expect("a granted workspace gets the defaults");
        assert_eq!((settings.backend, settings.timeout_secs), (WorkspaceBackendKind::Local, 120.0));
        assert_eq!(
            plan.jobs[0].env.dataset,
            DatasetSource::Tasks(TaskDirs { tasks: project.path("tasks"), apply_overrides: false })
        );
        assert_eq!(
            project.error(&env("workspace: {timeout_secs: 5}")),
            "run.yaml: envs[0]: env `a`: workspace is set but the `workspace` capability is not granted"
        );
        assert_eq!(
            project.error(&env("capabilities: [workspace], workspace: {image: x}")),
            "run.yaml: envs[0]: env `a`: workspace.image is only read with backend `docker` or `podman`"
        );
        let missing = env("capabilities: [workspace]").replace("{tasks: tasks}", "{tasks: nowhere}");
        assert!(project.error(&missing).ends_with("dataset: task directory nowhere not found"));
    }

    #[test]
    fn job_environment_variables_reach_the_plan_by_name_only_when_serialised() {
        let project = Project::new();
        let run = "envs:\n  - {id: qa, module: mcq, dataset: data/qa.jsonl}\njobs:\n  - model: oracle\n    env: qa\n    environment_variables: {TOKEN: s3cret}\n";
        let plan = project.plan(run).unwrap();
        assert_eq!(plan.jobs[0].environment_variables["TOKEN"], "s3cret");
        let text = serde_json::to_string(&plan).unwrap();
        assert!(text.contains(r#""environment_variables":["TOKEN"]"#) && !text.contains("s3cret"), "{text}");
    }

    #[test]
    fn a_jobs_overrides_file_is_merged_over_its_env_args_unless_turned_off() {
        let project = Project::new();
        project.write("over.json", r#"{"shuffle_answers": true, "shuffle_seed": 7}"#);
        let env = "envs:\n  - {id: qa, module: mcq, dataset: data/qa.jsonl, env_args: {shuffle_seed: 1, k: 2}}\n";
        let job = "jobs:\n  - {model: oracle, env: qa, env_args: {k: 3}, overrides: over.json";
        let plan = project.plan(&format!("{env}{job}}}\n")).unwrap();
        let args = &plan.jobs[0].env.env_args;
        assert_eq!((&args["shuffle_answers"], &args["shuffle_seed"], &args["k"]), (&json!(true), &json!(7), &json!(3)));
        let plan = project.plan(&format!("{env}{job}, apply_overrides: false}}\n")).unwrap();
        assert_eq!(plan.jobs[0].env.env_args["shuffle_seed"], 1);
        project.write("over.json", "[1]");
        let error = project.plan(&format!("{env}{job}}}\n")).unwrap_err().to_string();
        assert!(
            error.contains("jobs[0]: overrides: ") && error.contains("over.json must hold a JSON object"),
            "{error}"
        );
    }

    #[test]
    fn replay_models_read_files_instead_of_an_endpoint() {
        let project = Project::new();
        project.write("sols/a.jsonl", "{}\n");
        let envs = "envs:\n  - {id: qa, module: mcq, dataset: data/qa.jsonl}\n";
        let run = |model: &str| format!("models:\n  r: {model}\n{envs}jobs:\n  - {{model: r, env: qa}}\n");
        let plan = project.plan(&run("{replay: {files: [sols/a.jsonl], id_field: task_id}}")).unwrap();
        let model = &plan.jobs[0].model;
        let ModelSource::Replay(replay) = &model.source else { panic!("a replay model") };
        assert_eq!(replay.files, [project.path("sols/a.jsonl")]);
        assert_eq!((replay.id_field.as_str(), replay.completion_field.as_str()), ("task_id", "completion"));
        assert_eq!(
            project.error(&run("{replay: {files: [sols/b.jsonl]}}")),
            "run.yaml: jobs[0]: models.r.replay.files[0]: sols/b.jsonl not found"
        );
        assert_eq!(
            project.error(&run("{model: m, replay: {files: [sols/a.jsonl]}}")),
            "run.yaml: jobs[0]: models.r: set `model` (an endpoint) or `replay` (files), not both"
        );
        assert_eq!(
            project.error(&run("{max_concurrent: 2}")),
            "run.yaml: jobs[0]: models.r: `model` is required (the name the server knows), or `replay`"
        );
    }
}
