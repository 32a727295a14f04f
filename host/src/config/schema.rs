//! The structs users write in run configs and env files. Every struct
//! rejects unknown keys; optional fields take their value from
//! [`super::defaults`].

use super::de::{
    de_at_least_one, de_inline_envs, de_num_examples, de_one_or_many, de_optional_at_least_one, de_optional_rate,
    de_port, de_seconds, de_unique_map,
};
use super::{EnvEntry, defaults};
use crate::runtime::PluginLimits;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The run config file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    /// Run name; run ids are `<name>-<UTC timestamp>`. Default `benchmark`.
    #[serde(default = "defaults::name")]
    pub name: String,
    /// Where runs are written, relative to the current directory. Default `runs/raw`.
    #[serde(default = "defaults::output_dir")]
    pub output_dir: PathBuf,
    /// The run seed; every sample seed derives from it. Default 0.
    #[serde(default)]
    pub seed: u64,
    /// Jobs run at once. Default 4.
    #[serde(default = "defaults::parallel", deserialize_with = "de_at_least_one")]
    pub parallel: usize,
    /// Directories (relative to the config file) where plugins named by an
    /// env's `module` are looked up, before those in `$ASSAY_PLUGIN_PATH`.
    #[serde(default)]
    pub plugin_dirs: Vec<PathBuf>,
    /// Models by id.
    #[serde(default, deserialize_with = "de_unique_map")]
    pub models: BTreeMap<String, ModelConfig>,
    /// Envs declared inline, as a map id → env or a list of envs. When
    /// absent, env files are read from `env_dirs`.
    #[serde(default, deserialize_with = "de_inline_envs")]
    pub envs: Option<Vec<EnvEntry>>,
    /// Directories (relative to the config file) whose `*.yaml` / `*.yml` /
    /// `*.toml` files are env files, read when `envs` is absent. Default `[envs]`.
    pub env_dirs: Option<Vec<PathBuf>>,
    /// What to run (`tasks` is accepted too, as TOML configs often say).
    /// Absent: none (a config only declaring envs, as `score` reads).
    #[serde(default, alias = "tasks")]
    pub jobs: Vec<JobConfig>,
    /// The GPUs servers assay starts (`serve:`) may take, e.g. `[0, 1, 2, 3]`.
    /// Default: every GPU visible (`CUDA_VISIBLE_DEVICES`, else `nvidia-smi`).
    pub gpus: Option<Vec<u32>>,
}

/// A model behind an OpenAI-compatible endpoint, or (with `replay`)
/// completions generated elsewhere.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// The model name the server knows (required unless `replay` is set).
    pub model: Option<String>,
    /// Answer with completions read from files instead of calling a model.
    pub replay: Option<ReplayConfig>,
    /// The endpoint's base URL. Default `https://api.openai.com/v1`.
    #[serde(default = "defaults::api_base_url")]
    pub api_base_url: String,
    /// The name of the environment variable holding the API key (never the
    /// key itself). Absent: requests carry no `Authorization` header.
    pub api_key_var: Option<String>,
    /// Requests in flight at once, shared by every job using the model. Default 32.
    #[serde(default = "defaults::max_concurrent", deserialize_with = "de_at_least_one")]
    pub max_concurrent: usize,
    /// Seconds per request attempt. Default 600.
    #[serde(default = "defaults::timeout", deserialize_with = "de_seconds")]
    pub timeout: f64,
    /// Retries on 5xx, connection errors, timeouts and malformed replies. Default 6.
    #[serde(default = "defaults::max_retries")]
    pub max_retries: u32,
    /// Seconds a request keeps retrying 429s, in all, waiting as long as
    /// the server asks each time; 429s spend no `max_retries`. Default 300.
    #[serde(default = "defaults::rate_limit_wait", deserialize_with = "de_seconds")]
    pub rate_limit_wait: f64,
    /// Requests per minute the endpoint allows; absent: no cap.
    #[serde(default, deserialize_with = "de_optional_rate")]
    pub requests_per_minute: Option<f64>,
    /// Tokens (prompt + completion) per minute the endpoint allows; absent: no cap.
    #[serde(default, deserialize_with = "de_optional_rate")]
    pub tokens_per_minute: Option<f64>,
    /// Cut concurrency when the server answers 429 and grow it back on
    /// clean replies, up to `max_concurrent`. Default true.
    #[serde(default = "defaults::adaptive_concurrency")]
    pub adaptive_concurrency: bool,
    /// Whether the server applies the model's chat template (the chat API,
    /// default true). `false` is for base models: requests go to the
    /// text-completions API with the messages rendered by `prompt_template`.
    #[serde(default = "defaults::use_chat_template")]
    pub use_chat_template: bool,
    /// How messages become one prompt when `use_chat_template` is false:
    /// `system`, `user`, `assistant` (each `{content}` by default),
    /// `separator` (a blank line) and `generation_prefix` (empty).
    pub prompt_template: Option<crate::models::PromptTemplate>,
    /// Where continuations are scored by log-likelihood: `completions`
    /// (default; `/completions` with `echo`, as vLLM, SGLang and llama.cpp
    /// serve it) or `tgi` (Text Generation Inference's `/generate` at the
    /// server's root, `api_base_url` without its `/v1`).
    #[serde(default)]
    pub loglikelihood_api: crate::models::ScoringApi,
    /// Sent verbatim with every request (`temperature`, `top_k`, ...).
    #[serde(default, deserialize_with = "de_unique_map")]
    pub sampling_args: Map<String, Value>,
    /// US dollars per million tokens: `{input_per_mtok: X, output_per_mtok: Y}`
    /// (reasoning tokens are output). Gives each sample, job and run a cost,
    /// and makes `--max-cost` count this model's spend.
    pub price: Option<crate::models::Price>,
    /// Keep every reply in the response cache and answer a request asked
    /// before from it, at no model cost. Default false.
    #[serde(default)]
    pub cache: bool,
    /// Have assay start the server itself (`api_base_url` is then its own).
    pub serve: Option<ServeConfig>,
}

/// `serve:` of a model: the server assay starts for it, when the first job
/// that needs it starts, and stops when its jobs are done.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServeConfig {
    /// `vllm`, `sglang`, `llamacpp` or `command`.
    pub engine: crate::models::server::Engine,
    /// The weights: a local path (relative to the config file) or a Hub
    /// id. Default: the model's `model`.
    pub path: Option<String>,
    /// Engine arguments (`tensor_parallel_size`, `max_model_len`, ...),
    /// each passed as the engine's own flag.
    #[serde(default)]
    pub engine_args: crate::models::server::EngineArgs,
    /// Passed verbatim after the others.
    #[serde(default)]
    pub extra_args: Vec<String>,
    /// `engine: command`: the program and its arguments; `{port}`,
    /// `{model}` and `{path}` are replaced.
    #[serde(default)]
    pub command: Vec<String>,
    /// A command printing the engine's version. Default: the engine's own
    /// (`vllm --version`...); none for `command`.
    pub version_command: Option<Vec<String>>,
    /// GPUs taken from the run's pool. Default: tensor × data parallel
    /// size (1), 0 for `command`.
    pub gpus: Option<usize>,
    /// `auto` (a free port, the default) or a port number.
    #[serde(default, deserialize_with = "de_port")]
    pub port: Option<u16>,
    /// Seconds to wait for `/v1/models` to answer. Default 1800.
    #[serde(default = "defaults::ready_timeout", deserialize_with = "de_seconds")]
    pub ready_timeout: f64,
    /// Seconds between SIGTERM and SIGKILL when stopping it. Default 30.
    #[serde(default = "defaults::stop_grace", deserialize_with = "de_seconds")]
    pub stop_grace: f64,
    /// Seconds between checks that a ready server still answers
    /// `/v1/models`; three missed in a row and it is killed and started
    /// again. Default 10.
    #[serde(default = "defaults::health_interval", deserialize_with = "de_seconds")]
    pub health_interval: f64,
    /// Restarts after the server dies mid-run before its jobs fail. Default 2.
    #[serde(default = "defaults::max_restarts")]
    pub max_restarts: u32,
    /// Set in the server's environment.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
}

/// The built-in replay model's source: completions generated elsewhere.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplayConfig {
    /// Files of completions (JSONL, JSON, CSV or parquet, optionally
    /// gzipped), relative to the config file. Rows sharing an id are that
    /// record's rollouts, in file order.
    pub files: Vec<PathBuf>,
    /// The field naming the dataset record. Default `id`.
    #[serde(default = "defaults::replay_id_field")]
    pub id_field: String,
    /// The field holding the completion. Default `completion`.
    #[serde(default = "defaults::replay_completion_field")]
    pub completion_field: String,
}

impl ModelConfig {
    /// A replay model reading `replay`, every other field at its default.
    pub fn replay(replay: ReplayConfig) -> Self {
        ModelConfig { replay: Some(replay), ..ModelConfig::unset() }
    }

    /// A model served by `engine` with its defaults (set `model` and
    /// `serve.path`), every other field at its default.
    pub fn served(engine: crate::models::server::Engine) -> Self {
        let serve = ServeConfig {
            engine,
            path: None,
            engine_args: Default::default(),
            extra_args: Vec::new(),
            command: Vec::new(),
            version_command: None,
            gpus: None,
            port: None,
            ready_timeout: defaults::ready_timeout(),
            stop_grace: defaults::stop_grace(),
            health_interval: defaults::health_interval(),
            max_restarts: defaults::max_restarts(),
            env: BTreeMap::new(),
        };
        ModelConfig { serve: Some(serve), ..ModelConfig::unset() }
    }

    /// Neither `model` nor `replay`, every other field at its default.
    fn unset() -> Self {
        ModelConfig {
            model: None,
            replay: None,
            api_base_url: defaults::api_base_url(),
            api_key_var: None,
            max_concurrent: defaults::max_concurrent(),
            timeout: defaults::timeout(),
            max_retries: defaults::max_retries(),
            rate_limit_wait: defaults::rate_limit_wait(),
            requests_per_minute: None,
            tokens_per_minute: None,
            adaptive_concurrency: defaults::adaptive_concurrency(),
            use_chat_template: defaults::use_chat_template(),
            prompt_template: None,
            loglikelihood_api: Default::default(),
            sampling_args: Map::new(),
            serve: None,
            price: None,
            cache: false,
        }
    }
}

/// A benchmark environment: a plugin, a dataset, arguments, and optionally a
/// matrix of variants.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvConfig {
    /// The env id jobs refer to (in the map form of `envs`, the map key).
    pub id: String,
    /// A plugin name, looked up as `<name>.wasm` in the plugin dirs, or a
    /// path ending in `.wasm`, relative to the file declaring the env.
    pub module: String,
    /// The dataset: a file (relative to the file declaring the env), or a
    /// Hugging Face Hub dataset `{hub: OWNER/NAME, config, split, revision}`.
    /// Absent: the plugin's default dataset (from its metadata).
    #[serde(default)]
    pub dataset: DatasetSource,
    /// A record field whose values group results (`subject`): statistics
    /// are also reported per group, with macro and micro averages.
    pub group_by: Option<String>,
    /// The record field holding the example id (default: `id` when every
    /// record has one, else the row index).
    pub id_field: Option<String>,
    /// Records to use, from the start of the dataset; `-1` (the default) means all.
    #[serde(default, deserialize_with = "de_num_examples")]
    pub num_examples: Option<usize>,
    /// Samples per record. Default 1.
    #[serde(default = "defaults::rollouts_per_example", deserialize_with = "de_at_least_one")]
    pub rollouts_per_example: u32,
    /// Arguments passed to the plugin's `configure`.
    #[serde(default, deserialize_with = "de_unique_map")]
    pub env_args: Map<String, Value>,
    /// One variant per combination of these values (keys sorted). The keys
    /// `num_examples`, `rollouts_per_example` and `max_turns` override those
    /// fields; any other key is set in `env_args` (`null`: left out).
    #[serde(default, deserialize_with = "de_unique_map")]
    pub matrix: BTreeMap<String, Vec<Value>>,
    /// Combinations to drop: one matching every key of an entry is dropped.
    #[serde(default)]
    pub matrix_exclude: Vec<Map<String, Value>>,
    /// Variant id template with `{base}` and `{<matrix key>}` placeholders,
    /// e.g. `"{base}-rollout{shuffle_seed}"`. Default `<id>-<k1>-<v1>-<k2>-<v2>...`.
    pub matrix_id_format: Option<String>,
    /// Model turns allowed per episode. Default 16.
    #[serde(default = "defaults::max_turns", deserialize_with = "de_at_least_one")]
    pub max_turns: u32,
    /// Sandbox limits per plugin call.
    #[serde(default)]
    pub limits: PluginLimits,
    /// Host capabilities granted to the plugin, e.g. `run-code:python`. Default none.
    #[serde(default)]
    pub capabilities: Vec<String>,
    /// Where and within what limits `run-code` actions run, for the
    /// languages granted by `run-code:<language>` capabilities. Default:
    /// the local backend with its default limits.
    pub code_execution: Option<CodeExecutionConfig>,
    /// Few-shot exemplars shown before each record.
    pub fewshot: Option<FewshotConfig>,
    /// The judge model the env's `ask-judge` actions go to (grant `judge`).
    pub judge: Option<JudgeConfig>,
    /// Where and within what limits the sample's workspace lives, when the
    /// `workspace` capability is granted. Default: the local backend with
    /// its default limits.
    pub workspace: Option<WorkspaceConfig>,
    /// Tokens (prompt + completion, summed over the sample's turns) after
    /// which the model is not asked again: the plugin's next request is
    /// answered by the host with an empty reply whose finish reason is
    /// `token_budget`, so it can wrap up. Default: no budget.
    #[serde(default, deserialize_with = "de_optional_at_least_one")]
    pub token_budget: Option<u64>,
}

/// A judge: `judge: {model: MODEL_ID, sampling_args: {temperature: 0}}`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct JudgeConfig {
    /// A model id declared under `models:`.
    pub model: String,
    /// Merged over that model's sampling args for judge requests.
    #[serde(default, deserialize_with = "de_unique_map")]
    pub sampling_args: Map<String, Value>,
}

/// Few-shot exemplars: `fewshot: {n: 5, split: dev, sampler: first_n}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FewshotConfig {
    /// Exemplars per record.
    #[serde(deserialize_with = "de_at_least_one")]
    pub n: usize,
    /// Another split of the env's Hub dataset to take them from (`dev`).
    pub split: Option<String>,
    /// Another dataset to take them from (a file or `{hub: ...}`). With
    /// neither `split` nor `dataset`, the env's own records (never the
    /// record itself).
    pub dataset: Option<DatasetSource>,
    /// How they are chosen. Default `random`.
    #[serde(default)]
    pub sampler: FewshotSampler,
    /// `sampler: ids`: the example ids, in order.
    #[serde(default)]
    pub ids: Vec<String>,
    /// Only exemplars whose value of this field equals the record's (MMLU's
    /// `subject`: exemplars of the same subject).
    pub match_field: Option<String>,
    /// Seed of the `random` sampler, mixed with each sample's seed. Default 0.
    #[serde(default)]
    pub seed: u64,
    /// Show the exemplars as alternating user/assistant turns rather than
    /// inside one prompt. Default false.
    #[serde(default)]
    pub as_multiturn: bool,
}

/// How few-shot exemplars are chosen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FewshotSampler {
    /// `n` at random, from the fewshot seed and the sample seed.
    #[default]
    Random,
    /// The first `n` of the pool.
    FirstN,
    /// The records named by `ids`.
    Ids,
}

/// Where an env's records come from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DatasetSource {
    /// A file (JSONL, JSON, CSV or parquet, optionally gzipped).
    File(PathBuf),
    /// A dataset on the Hugging Face Hub.
    Hub(HubDataset),
    /// A directory of prepared task directories, one record each.
    Tasks(TaskDirs),
    /// None named: the plugin's default dataset, known once the plugin is
    /// loaded (never written in a config).
    #[default]
    PluginDefault,
}

/// Prepared task directories as a dataset: `{tasks: DIR, apply_overrides: true}`.
/// Every subdirectory of `DIR` holding a task file is a task (see
/// `dataset::tasks` for the layout).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TaskDirs {
    /// The directory of task directories (relative to the file naming it).
    pub tasks: PathBuf,
    /// Merge each task's `overrides.json` over its task file. Default false.
    #[serde(default)]
    pub apply_overrides: bool,
}

/// A dataset on the Hugging Face Hub: `{hub: OWNER/NAME, config: NAME,
/// split: NAME, revision: REF}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HubDataset {
    /// The repo, `owner/name`.
    pub hub: String,
    /// The config (subset); default: the card's default config, or the only one.
    pub config: Option<String>,
    /// The split, e.g. `test`.
    pub split: String,
    /// A branch, tag or commit; default `main`.
    pub revision: Option<String>,
}

impl HubDataset {
    /// The revision asked for (`main` when none is).
    pub fn revision(&self) -> &str {
        self.revision.as_deref().unwrap_or("main")
    }
}

impl std::fmt::Display for HubDataset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.hub)?;
        if let Some(config) = &self.config {
            write!(f, " config {config}")?;
        }
        write!(f, " split {}", self.split)?;
        if let Some(revision) = &self.revision {
            write!(f, " at {revision}")?;
        }
        Ok(())
    }
}

/// The capability granting `ask-judge` actions (the env's or job's judge).
pub const JUDGE: &str = "judge";

/// The capability granting `score-continuations` actions (log-likelihood
/// scoring by the model under test).
pub const LOGLIKELIHOOD: &str = "loglikelihood";

/// The prefix of capabilities that grant running code: `run-code:python`.
pub const RUN_CODE_PREFIX: &str = "run-code:";

/// The capability to offer tools to the model with a prompt.
pub const TOOLS: &str = "tools";

/// The capability to act in a workspace made for each sample.
pub const WORKSPACE: &str = "workspace";

/// Not a grant but a plugin's declaration: it offers tools, and also works
/// with a model that cannot call them (a base model), describing the tools
/// in its prompt text and reading calls from the reply text. Without it, a
/// plugin needing `tools` is refused for such a model before the run.
pub const TOOLS_TEXT_FALLBACK: &str = "tools-text-fallback";

/// The languages `capabilities` grant (or, for a plugin's own list, ask
/// for): `python` for `run-code:python`.
pub fn run_code_languages(capabilities: &[String]) -> Vec<String> {
    capabilities.iter().filter_map(|c| c.strip_prefix(RUN_CODE_PREFIX)).map(String::from).collect()
}

/// How a plugin's `run-code` actions are executed.
///
/// ```yaml
/// code_execution:
///   backend: local          # or piston (then `url` is required)
///   max_concurrent: 4
///   timeout_secs: 10
/// ```
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CodeExecutionConfig {
    /// `local` (a sandboxed subprocess, default) or `piston` (a Piston server).
    #[serde(default)]
    pub backend: CodeBackendKind,
    /// Programs running at once, shared by every job with the same settings.
    /// Default: the number of CPUs.
    #[serde(default, deserialize_with = "de_optional_at_least_one")]
    pub max_concurrent: Option<usize>,
    /// Wall-clock cap per program in seconds; a plugin may ask for less. Default 10.
    #[serde(default = "defaults::code_timeout", deserialize_with = "de_seconds")]
    pub timeout_secs: f64,
    /// Memory per program (address space for `local`), MiB. Default 1024.
    #[serde(default = "defaults::code_memory_mb", deserialize_with = "de_at_least_one")]
    pub memory_mb: u64,
    /// Bytes of stdout and of stderr kept; the rest is dropped. Default 65536.
    #[serde(default = "defaults::code_output_bytes", deserialize_with = "de_at_least_one")]
    pub max_output_bytes: usize,
    /// `local`: processes the program may have at once. Default 64.
    #[serde(default = "defaults::code_processes", deserialize_with = "de_at_least_one")]
    pub max_processes: u64,
    /// `local`: largest file the program may write, MiB. Default 16.
    #[serde(default = "defaults::code_file_mb", deserialize_with = "de_at_least_one")]
    pub max_file_mb: u64,
    /// `local`: the command running each language, before the source file,
    /// e.g. `{python: [python3, -I]}`. `python` runs `python3` by default.
    #[serde(default)]
    pub commands: BTreeMap<String, Vec<String>>,
    /// `piston`: the server's base URL, e.g. `http://localhost:2000`.
    pub url: Option<String>,
    /// `piston`: the runtime version per language. Default: the newest the server offers.
    #[serde(default)]
    pub versions: BTreeMap<String, String>,
}

impl Default for CodeExecutionConfig {
    /// The settings of an empty `code_execution` block.
    fn default() -> Self {
        CodeExecutionConfig {
            backend: CodeBackendKind::default(),
            max_concurrent: None,
            timeout_secs: defaults::code_timeout(),
            memory_mb: defaults::code_memory_mb(),
            max_output_bytes: defaults::code_output_bytes(),
            max_processes: defaults::code_processes(),
            max_file_mb: defaults::code_file_mb(),
            commands: BTreeMap::new(),
            url: None,
            versions: BTreeMap::new(),
        }
    }
}

/// Which code-execution backend runs programs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CodeBackendKind {
    /// A subprocess on this machine with OS limits and no network.
    #[default]
    Local,
    /// The Piston execution engine's HTTP API (`POST /api/v2/execute`).
    Piston,
}

/// How a plugin's `workspace` actions are carried out.
///
/// ```yaml
/// workspace:
///   backend: local          # or docker, podman
///   timeout_secs: 120
/// ```
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WorkspaceConfig {
    /// `local` (bubblewrap, default), `docker` or `podman`.
    #[serde(default)]
    pub backend: WorkspaceBackendKind,
    /// Commands running at once, shared by every job with the same settings.
    /// Default: the number of CPUs.
    #[serde(default, deserialize_with = "de_optional_at_least_one")]
    pub max_concurrent: Option<usize>,
    /// Wall-clock cap per command in seconds; a plugin may ask for less. Default 120.
    #[serde(default = "defaults::workspace_timeout", deserialize_with = "de_seconds")]
    pub timeout_secs: f64,
    /// Memory per process (`local`: address space) or per container, MiB. Default 4096.
    #[serde(default = "defaults::workspace_memory_mb", deserialize_with = "de_at_least_one")]
    pub memory_mb: u64,
    /// Bytes kept of a command's stdout and of its stderr, and of a file
    /// read; the rest is dropped. Default 65536.
    #[serde(default = "defaults::code_output_bytes", deserialize_with = "de_at_least_one")]
    pub max_output_bytes: usize,
    /// Processes at once. Default 256.
    #[serde(default = "defaults::workspace_processes", deserialize_with = "de_at_least_one")]
    pub max_processes: u64,
    /// Largest file a command may write, MiB (`local`: also the size of its `/tmp`). Default 256.
    #[serde(default = "defaults::workspace_file_mb", deserialize_with = "de_at_least_one")]
    pub max_file_mb: u64,
    /// `docker`/`podman`: the image, for tasks that name none (a task's
    /// `image` field wins).
    pub image: Option<String>,
    /// Names left out of the diff (`diff -x` patterns). Default `.git`,
    /// `__pycache__`, `*.pyc`, `.pytest_cache`.
    #[serde(default = "defaults::diff_exclude")]
    pub diff_exclude: Vec<String>,
    /// Bytes kept of a diff; a longer one is cut with a note. Default 1 MiB.
    #[serde(default = "defaults::max_diff_bytes", deserialize_with = "de_at_least_one")]
    pub max_diff_bytes: usize,
}

impl Default for WorkspaceConfig {
    /// The settings of an empty `workspace` block.
    fn default() -> Self {
        WorkspaceConfig {
            backend: WorkspaceBackendKind::default(),
            max_concurrent: None,
            timeout_secs: defaults::workspace_timeout(),
            memory_mb: defaults::workspace_memory_mb(),
            max_output_bytes: defaults::code_output_bytes(),
            max_processes: defaults::workspace_processes(),
            max_file_mb: defaults::workspace_file_mb(),
            image: None,
            diff_exclude: defaults::diff_exclude(),
            max_diff_bytes: defaults::max_diff_bytes(),
        }
    }
}

/// Which backend holds workspaces and runs their commands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WorkspaceBackendKind {
    /// A directory on this machine; commands run under bubblewrap.
    #[default]
    Local,
    /// Each command in a fresh Docker container with the workspace mounted.
    Docker,
    /// The same with Podman.
    Podman,
}

/// The sampling config id (`config_id`) of a job with neither a `name`
/// nor a `matrix`.
pub const DEFAULT_CONFIG_ID: &str = "default";

/// One entry of `jobs`: a model on one or more envs.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobConfig {
    /// A model id, or `oracle`.
    pub model: String,
    /// An env id or a list of them; a matrix env's base id means all its variants.
    #[serde(deserialize_with = "de_one_or_many")]
    pub env: Vec<String>,
    /// Appended to the job id, to tell apart jobs on the same model and env;
    /// also the job's sampling config id (`config_id`) in processed results.
    pub name: Option<String>,
    /// Merged over the env's (and matrix's) `env_args`.
    #[serde(default, deserialize_with = "de_unique_map")]
    pub env_args: Map<String, Value>,
    /// Merged over the model's `sampling_args`.
    #[serde(default, deserialize_with = "de_unique_map")]
    pub sampling_args: Map<String, Value>,
    /// A JSON file (relative to the run config) holding an object merged
    /// over the env args, after `env_args` (the TOML runner's `overrides`).
    pub overrides: Option<PathBuf>,
    /// Whether `overrides` is merged. Default true; false keeps the file
    /// named but unused.
    #[serde(default = "defaults::apply_overrides")]
    pub apply_overrides: bool,
    /// Samples per record for this job's envs (overrides their `rollouts_per_example`).
    #[serde(default, deserialize_with = "de_optional_at_least_one")]
    pub rollouts: Option<u32>,
    /// A sampling-config sweep: one job per combination of these values
    /// (keys sorted). The key `seed` sets the job's seed (the run `seed`
    /// otherwise), from which its sample seeds derive; every other key is
    /// set in `sampling_args` (`null`: left out). Seeds of one sampling
    /// config share its `config_id`.
    #[serde(default, deserialize_with = "de_unique_map")]
    pub matrix: BTreeMap<String, Vec<Value>>,
    /// The sampling config id of each combination, with `{<matrix key>}`
    /// placeholders for the swept sampling args (not `seed`), e.g.
    /// `"t{temperature}-p{top_p}"`. Default `<k1>-<v1>-<k2>-<v2>...`.
    pub matrix_id_format: Option<String>,
    /// Ask a record's rollouts in one request (`n: k`), so the server reads
    /// the prompt once. Default false.
    #[serde(default)]
    pub rollouts_in_one_request: bool,
    /// The judge of this job's envs (over theirs).
    pub judge: Option<JudgeConfig>,
    /// Environment variables set for every program the job's plugin runs
    /// (`run-code`, local backend) and every command in its workspaces
    /// (`{PIP_INDEX_URL: ...}`). Values may be secrets (`${API_TOKEN}`):
    /// only their names and hashes are written.
    #[serde(default, deserialize_with = "de_unique_map")]
    pub environment_variables: BTreeMap<String, String>,
}

/// `num_examples` as a limit: `-1` is all (`None`), a positive count is a limit.
pub fn num_examples(value: i64) -> Result<Option<usize>, String> {
    match value {
        -1 => Ok(None),
        n if n > 0 => usize::try_from(n).map(Some).map_err(|e| e.to_string()),
        n => Err(format!("num_examples must be -1 (all) or a positive count, not {n}")),
    }
}

impl JobConfig {
    /// `model` on `env` (ids), every other field at its default.
    pub fn new(model: String, env: Vec<String>) -> Self {
        JobConfig {
            model,
            env,
            name: None,
            env_args: Map::new(),
            sampling_args: Map::new(),
            rollouts: None,
            matrix: BTreeMap::new(),
            matrix_id_format: None,
            rollouts_in_one_request: false,
            judge: None,
            environment_variables: BTreeMap::new(),
            overrides: None,
            apply_overrides: defaults::apply_overrides(),
        }
    }
}
