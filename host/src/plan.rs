//! From a config to concrete jobs: matrix variants expanded, models and
//! plugins resolved, arguments merged, ids assigned.
//!
//! Precedence: `env_args` = env < matrix value < job; `sampling_args` =
//! model < job. A job id is `<model>-<env variant>[-<name>]`, slugged.
//! Only envs that jobs use need their plugin and dataset to exist.

use crate::config::{self, DeclaredEnv, EnvConfig, LoadedConfig, ModelConfig, parent_dir};
use crate::runtime::PluginLimits;
use crate::store::slug;
use anyhow::{Result, bail};
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The id of the built-in offline model.
pub const ORACLE: &str = "oracle";

/// Matrix keys that cannot be swept.
const RESERVED_KEYS: [&str; 7] =
    ["id", "module", "dataset", "env_args", "matrix", "matrix_exclude", "matrix_id_format"];

/// Everything a run needs, resolved.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    /// Run name.
    pub name: String,
    /// The run config file.
    pub config_path: PathBuf,
    /// Where runs are written.
    pub output_dir: PathBuf,
    /// The run seed.
    pub seed: u64,
    /// Jobs at once.
    pub parallel: usize,
    /// The jobs, in config order.
    pub jobs: Vec<JobPlan>,
}

/// One model on one env variant.
#[derive(Debug, Clone, Serialize)]
pub struct JobPlan {
    /// `<model>-<env variant>[-<name>]`.
    pub job_id: String,
    /// The model.
    pub model: ModelSpec,
    /// The env variant.
    pub env: EnvSpec,
    /// The model's sampling args with the job's merged over them.
    pub sampling_args: Map<String, Value>,
}

/// A resolved model. Holds the name of the key variable, never a key.
#[derive(Debug, Clone, Serialize)]
pub struct ModelSpec {
    /// The config id.
    pub id: String,
    /// The endpoint; `None` for the oracle.
    pub endpoint: Option<EndpointSpec>,
    /// Requests in flight at once.
    pub max_concurrent: usize,
    /// Seconds per request attempt.
    pub timeout_secs: f64,
    /// Retries per request.
    pub max_retries: u32,
}

/// Where an endpoint model lives.
#[derive(Debug, Clone, Serialize)]
pub struct EndpointSpec {
    /// The model name the server knows.
    pub model: String,
    /// The base URL.
    pub api_base_url: String,
    /// The variable holding the key.
    pub api_key_var: Option<String>,
}

/// A resolved env variant.
#[derive(Debug, Clone, Serialize)]
pub struct EnvSpec {
    /// The variant id.
    pub id: String,
    /// The id it was declared with (the matrix base).
    pub base_id: String,
    /// The plugin file.
    pub plugin: PathBuf,
    /// The dataset file.
    pub dataset: PathBuf,
    /// The record field holding example ids.
    pub id_field: Option<String>,
    /// Records to use (`None`: all).
    pub num_examples: Option<usize>,
    /// Samples per record.
    pub rollouts: u32,
    /// Arguments for the plugin.
    pub env_args: Map<String, Value>,
    /// Model turns per episode.
    pub max_turns: u32,
    /// Sandbox limits per call.
    pub limits: PluginLimits,
    /// Granted capabilities.
    pub capabilities: Vec<String>,
}

/// An expanded env variant before its files are resolved.
struct Variant<'a> {
    declared: &'a DeclaredEnv,
    id: String,
    env_args: Map<String, Value>,
    num_examples: i64,
    rollouts: u32,
}

/// Plan the jobs of the config at `config_path`.
pub fn plan(config_path: &Path) -> Result<Plan> {
    let loaded = config::load(config_path)?;
    let variants = expand_all(&loaded.envs)?;
    let mut jobs: Vec<JobPlan> = Vec::new();
    let mut job_index: HashMap<String, usize> = HashMap::new();
    for (index, job) in loaded.run.jobs.iter().enumerate() {
        let model = resolve_model(&loaded, &job.model, index)?;
        for env_id in job.env.as_slice() {
            let matched: Vec<&Variant> =
                variants.iter().filter(|v| v.id == *env_id || v.declared.env.id == *env_id).collect();
            if matched.is_empty() {
                let known: Vec<&str> = variants.iter().map(|v| v.id.as_str()).collect();
                bail!("{}: jobs[{index}]: unknown env `{env_id}` (known: {})", config_path.display(), known.join(", "));
            }
            for variant in matched {
                let mut job_id = format!("{}-{}", slug(&model.id), slug(&variant.id));
                if let Some(name) = &job.name {
                    job_id = format!("{job_id}-{}", slug(name));
                }
                if let Some(first) = job_index.insert(job_id.clone(), index) {
                    bail!(
                        "{}: jobs[{first}] and jobs[{index}] both make job `{job_id}`; give one a `name`",
                        config_path.display()
                    );
                }
                let mut env = resolve_env(&loaded, variant)?;
                env.env_args.extend(job.env_args.clone());
                let mut sampling_args = model_sampling_args(&loaded, &job.model);
                sampling_args.extend(job.sampling_args.clone());
                jobs.push(JobPlan { job_id, model: model.clone(), env, sampling_args });
            }
        }
    }
    Ok(Plan {
        name: loaded.run.name.clone(),
        config_path: config_path.to_path_buf(),
        output_dir: loaded.run.output_dir.clone(),
        seed: loaded.run.seed,
        parallel: loaded.run.parallel,
        jobs,
    })
}

fn resolve_model(loaded: &LoadedConfig, id: &str, index: usize) -> Result<ModelSpec> {
    if loaded.run.models.contains_key(ORACLE) {
        bail!(
            "{}: models.{ORACLE}: the id `{ORACLE}` is reserved for the built-in offline model",
            loaded.path.display()
        );
    }
    if id == ORACLE {
        return Ok(ModelSpec { id: id.into(), endpoint: None, max_concurrent: 64, timeout_secs: 0.0, max_retries: 0 });
    }
    let Some(model) = loaded.run.models.get(id) else {
        let known: Vec<&str> = loaded.run.models.keys().map(String::as_str).chain([ORACLE]).collect();
        bail!("{}: jobs[{index}]: unknown model `{id}` (known: {})", loaded.path.display(), known.join(", "));
    };
    Ok(model_spec(id, model))
}

fn model_spec(id: &str, model: &ModelConfig) -> ModelSpec {
    ModelSpec {
        id: id.into(),
        endpoint: Some(EndpointSpec {
            model: model.model.clone(),
            api_base_url: model.api_base_url.clone(),
            api_key_var: model.api_key_var.clone(),
        }),
        max_concurrent: model.max_concurrent,
        timeout_secs: model.timeout,
        max_retries: model.max_retries,
    }
}

fn model_sampling_args(loaded: &LoadedConfig, id: &str) -> Map<String, Value> {
    loaded.run.models.get(id).map(|m| m.sampling_args.clone()).unwrap_or_default()
}

/// Expand every env's matrix and check variant ids are unique.
fn expand_all(envs: &[DeclaredEnv]) -> Result<Vec<Variant<'_>>> {
    let mut variants: Vec<Variant> = Vec::new();
    let mut seen: HashMap<String, &Path> = HashMap::new();
    for declared in envs {
        for variant in expand(declared)? {
            if let Some(first) = seen.insert(variant.id.clone(), &declared.file) {
                bail!(
                    "env id `{}` is declared twice: in {} and in {}",
                    variant.id,
                    first.display(),
                    declared.file.display()
                );
            }
            variants.push(variant);
        }
    }
    Ok(variants)
}

/// One variant per combination of matrix values, minus exclusions.
fn expand(declared: &DeclaredEnv) -> Result<Vec<Variant<'_>>> {
    let env = &declared.env;
    let at = || format!("{}: env `{}`", declared.file.display(), env.id);
    if let Some(key) = env.matrix.keys().find(|k| RESERVED_KEYS.contains(&k.as_str())) {
        bail!("{}: matrix key `{key}` cannot be swept", at());
    }
    let mut combinations: Vec<Vec<(&String, &Value)>> = vec![Vec::new()];
    for (key, values) in &env.matrix {
        combinations = combinations
            .into_iter()
            .flat_map(|combo| values.iter().map(move |v| combo.iter().copied().chain([(key, v)]).collect()))
            .collect();
    }
    let mut variants = Vec::new();
    for combo in combinations {
        if env.matrix_exclude.iter().any(|ex| ex.iter().all(|(k, v)| combo.iter().any(|(ck, cv)| *ck == k && *cv == v)))
        {
            continue;
        }
        variants.push(apply_combination(declared, &combo).map_err(|e| e.context(at()))?);
    }
    Ok(variants)
}

fn apply_combination<'a>(declared: &'a DeclaredEnv, combo: &[(&String, &Value)]) -> Result<Variant<'a>> {
    let env = &declared.env;
    let mut variant = Variant {
        declared,
        id: variant_id(env, combo),
        env_args: env.env_args.clone(),
        num_examples: env.num_examples,
        rollouts: env.rollouts_per_example,
    };
    for (key, value) in combo {
        match (key.as_str(), value) {
            ("num_examples", v) => {
                variant.num_examples =
                    v.as_i64().ok_or_else(|| anyhow::anyhow!("matrix num_examples must be integers"))?
            }
            ("rollouts_per_example", v) => {
                variant.rollouts = v
                    .as_u64()
                    .and_then(|n| u32::try_from(n).ok())
                    .ok_or_else(|| anyhow::anyhow!("matrix rollouts_per_example must be positive integers"))?
            }
            (_, Value::Null) => drop(variant.env_args.remove(key.as_str())),
            (_, v) => drop(variant.env_args.insert(key.to_string(), (*v).clone())),
        }
    }
    Ok(variant)
}

/// `matrix_id_format` with `{base}` and `{key}` filled in, or
/// `<id>-<key>-<value>...` (keys sorted); the plain id without a matrix.
fn variant_id(env: &EnvConfig, combo: &[(&String, &Value)]) -> String {
    if combo.is_empty() {
        return env.id.clone();
    }
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        Value::Null => "none".into(),
        other => other.to_string(),
    };
    match &env.matrix_id_format {
        Some(format) => {
            combo.iter().fold(format.replace("{base}", &env.id), |id, (k, v)| id.replace(&format!("{{{k}}}"), &text(v)))
        }
        None => combo.iter().fold(env.id.clone(), |id, (k, v)| format!("{id}-{k}-{}", text(v))),
    }
}

/// Resolve plugin and dataset paths (they must exist) and build the spec.
fn resolve_env(loaded: &LoadedConfig, variant: &Variant) -> Result<EnvSpec> {
    let env = &variant.declared.env;
    let env_dir = parent_dir(&variant.declared.file);
    let dataset = env_dir.join(&env.dataset);
    if !dataset.is_file() {
        bail!("{}: env `{}`: dataset {} not found", variant.declared.file.display(), env.id, dataset.display());
    }
    let plugin = find_plugin(loaded, &env.module, env_dir).map_err(|e| e.context(format!("env `{}`", env.id)))?;
    Ok(EnvSpec {
        id: variant.id.clone(),
        base_id: env.id.clone(),
        plugin,
        dataset,
        id_field: env.id_field.clone(),
        num_examples: usize::try_from(variant.num_examples).ok(),
        rollouts: variant.rollouts.max(1),
        env_args: variant.env_args.clone(),
        max_turns: env.max_turns,
        limits: PluginLimits {
            memory_mb: env.limits.memory_mb,
            call_timeout_ms: env.limits.call_timeout_ms,
            fuel: env.limits.fuel,
        },
        capabilities: env.capabilities.clone(),
    })
}

/// A path to a `.wasm` (relative to the env file), or a name looked up as
/// `<name>.wasm` in `plugin_dirs` and then `$ASSAY_PLUGIN_PATH`.
fn find_plugin(loaded: &LoadedConfig, module: &str, env_dir: &Path) -> Result<PathBuf> {
    if module.ends_with(".wasm") || module.contains('/') {
        let path = env_dir.join(module);
        if !path.is_file() {
            bail!("plugin file {} not found", path.display());
        }
        return Ok(path);
    }
    let mut dirs: Vec<PathBuf> = loaded.run.plugin_dirs.iter().map(|d| loaded.dir().join(d)).collect();
    if let Some(paths) = std::env::var_os("ASSAY_PLUGIN_PATH") {
        dirs.extend(std::env::split_paths(&paths));
    }
    // Cargo writes `my-env` as `my_env.wasm`.
    let names = [format!("{module}.wasm"), format!("{}.wasm", module.replace('-', "_"))];
    if let Some(found) = dirs.iter().flat_map(|d| names.iter().map(move |n| d.join(n))).find(|p| p.is_file()) {
        return Ok(found);
    }
    let searched: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
    bail!(
        "plugin `{module}` not found in [{}]; build plugins with scripts/build-plugins.sh, or set plugin_dirs or ASSAY_PLUGIN_PATH",
        searched.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Project(tempfile::TempDir);

    impl Project {
        fn new() -> Self {
            let project = Project(tempfile::tempdir().unwrap());
            project.write("plugins/mcq.wasm", "");
            project.write("data.jsonl", "{}\n");
            project
        }
        fn write(&self, name: &str, text: &str) -> PathBuf {
            let path = self.0.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, text).unwrap();
            path
        }
        fn plan(&self, run: &str) -> Result<Plan> {
            plan(&self.write("run.yaml", &format!("plugin_dirs: [plugins]\n{run}")))
        }
    }

    const ENVS: &str = "envs:
  - id: qa
    module: mcq
    dataset: data.jsonl
    env_args: {a: env, b: env}
    matrix: {seed: [1, 2], b: [matrix, null]}
    matrix_exclude: [{seed: 2, b: null}]
";

    #[test]
    fn matrix_variants_ids_and_precedence() {
        let project = Project::new();
        let run = format!(
            "{ENVS}models:\n  m:\n    model: served\n    sampling_args: {{temperature: 0.5, top_k: 3}}\njobs:\n  - model: m\n    env: qa\n    env_args: {{a: job}}\n    sampling_args: {{temperature: 0}}\n"
        );
        let plan = project.plan(&run).unwrap();
        let ids: Vec<&str> = plan.jobs.iter().map(|j| j.job_id.as_str()).collect();
        assert_eq!(ids, ["m-qa-b-matrix-seed-1", "m-qa-b-matrix-seed-2", "m-qa-b-none-seed-1"]);
        let first = &plan.jobs[0];
        assert_eq!(first.env.env_args["a"], "job");
        assert_eq!(first.env.env_args["b"], "matrix");
        assert_eq!(first.env.env_args["seed"], 1);
        assert!(!plan.jobs[2].env.env_args.contains_key("b"), "null leaves the key unset");
        assert_eq!(first.sampling_args["temperature"], 0);
        assert_eq!(first.sampling_args["top_k"], 3);
        assert_eq!(first.env.base_id, "qa");
        assert_eq!(first.env.num_examples, None);
    }

    #[test]
    fn custom_id_format_and_oracle() {
        let project = Project::new();
        let envs = "envs:\n  - id: qa\n    module: mcq\n    dataset: data.jsonl\n    matrix: {shuffle_seed: [7]}\n    matrix_id_format: \"{base}-r{shuffle_seed}\"\n";
        let plan =
            project.plan(&format!("{envs}jobs:\n  - model: oracle\n    env: [qa-r7]\n    name: try 1\n")).unwrap();
        assert_eq!(plan.jobs[0].job_id, "oracle-qa-r7-try-1");
        assert!(plan.jobs[0].model.endpoint.is_none());
    }

    #[test]
    fn clear_errors_for_unknown_ids_duplicates_and_missing_files() {
        let project = Project::new();
        let error = |run: &str| project.plan(run).unwrap_err().to_string();
        let e = error(&format!("{ENVS}jobs:\n  - model: nope\n    env: qa\n"));
        assert!(e.contains("jobs[0]: unknown model `nope` (known: oracle)"), "{e}");
        let e = error(&format!("{ENVS}jobs:\n  - model: oracle\n    env: nope\n"));
        assert!(e.contains("unknown env `nope`"), "{e}");
        let e = error(&format!("{ENVS}jobs:\n  - model: oracle\n    env: qa\n  - model: oracle\n    env: qa\n"));
        assert!(e.contains("give one a `name`"), "{e}");
        let e = error(
            "envs:\n  - id: x\n    module: missing\n    dataset: data.jsonl\njobs:\n  - model: oracle\n    env: x\n",
        );
        assert!(e.contains("plugin `missing` not found") && e.contains("env `x`"), "{e}");
        let e =
            error("envs:\n  - id: x\n    module: mcq\n    dataset: gone.jsonl\njobs:\n  - model: oracle\n    env: x\n");
        assert!(e.contains("dataset") && e.contains("gone.jsonl not found"), "{e}");
        let e = error("models:\n  oracle:\n    model: x\njobs: []\n");
        assert!(e.contains("reserved"), "{e}");
        let e = error("envs:\n  - {id: x, module: mcq, dataset: data.jsonl, matrix: {module: [a]}}\njobs: []\n");
        assert!(e.contains("matrix key `module` cannot be swept"), "{e}");
    }

    #[test]
    fn unused_envs_need_no_files() {
        let project = Project::new();
        let envs = "envs:\n  - id: used\n    module: mcq\n    dataset: data.jsonl\n  - id: unused\n    module: absent\n    dataset: absent.jsonl\n";
        let plan = project.plan(&format!("{envs}jobs:\n  - model: oracle\n    env: used\n")).unwrap();
        assert_eq!(plan.jobs.len(), 1);
    }
}
