//! The YAML schema users write: a run config (models, jobs, where env files
//! are) and env files (benchmark environments and their matrix sweeps).
//!
//! The schema follows medarc-eval's `bench` configs where it can, so its
//! users can carry their configs over: same key names, `-1` for "all
//! examples", `matrix` / `matrix_exclude` / `matrix_id_format`, envs as a
//! map or a list, env files holding one env or a list.
//!
//! Every struct rejects unknown keys, and every schema error is one line
//! naming file, line, column and field path:
//! `run.yaml:5:5: models.m.max_concurent: unknown field ...`. Errors found
//! after parsing (a reserved id, both `envs` and `env_dirs`) name file and
//! field path.
//!
//! Paths to inputs (datasets, plugins, env dirs, plugin dirs) are relative to
//! the file that names them; `output_dir` is relative to the current
//! directory, like every other output path a user types.

use anyhow::{Context, Result, anyhow, bail};
use serde::de::{
    self, DeserializeOwned, DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, SeqAccess, Visitor,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};

/// The id of the built-in offline model, which answers with each record's
/// reference completion. Jobs may use it without declaring it; declaring a
/// model with this id is an error.
pub const ORACLE: &str = "oracle";

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
    #[serde(alias = "tasks")]
    pub jobs: Vec<JobConfig>,
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
    /// Retries on 429, 5xx, connection errors, timeouts and malformed replies. Default 6.
    #[serde(default = "defaults::max_retries")]
    pub max_retries: u32,
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
    /// Sent verbatim with every request (`temperature`, `top_k`, ...).
    #[serde(default, deserialize_with = "de_unique_map")]
    pub sampling_args: Map<String, Value>,
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
    /// The dataset file, relative to the file declaring the env.
    pub dataset: PathBuf,
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
}

/// Limits of the wasm sandbox for every call into a plugin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct PluginLimits {
    /// Linear memory per instance, MiB. Default 256.
    pub memory_mb: u64,
    /// Wall-clock limit per call, milliseconds. Default 10000.
    pub call_timeout_ms: u64,
    /// CPU budget per call in wasmtime fuel (about 10^10 per CPU-second). Default 10^10.
    pub fuel: u64,
}

impl Default for PluginLimits {
    fn default() -> Self {
        PluginLimits { memory_mb: 256, call_timeout_ms: 10_000, fuel: 10_000_000_000 }
    }
}

/// The prefix of capabilities that grant running code: `run-code:python`.
pub const RUN_CODE_PREFIX: &str = "run-code:";

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
    /// The settings of an empty `code_execution` block: the field defaults
    /// declared above, in one place.
    fn default() -> Self {
        serde_json::from_value(serde_json::json!({})).expect("every code_execution field has a default")
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

/// One entry of `jobs`: a model on one or more envs.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobConfig {
    /// A model id, or `oracle`.
    pub model: String,
    /// An env id or a list of them; a matrix env's base id means all its variants.
    #[serde(deserialize_with = "de_one_or_many")]
    pub env: Vec<String>,
    /// Appended to the job id, to tell apart jobs on the same model and env.
    pub name: Option<String>,
    /// Merged over the env's (and matrix's) `env_args`.
    #[serde(default, deserialize_with = "de_unique_map")]
    pub env_args: Map<String, Value>,
    /// Merged over the model's `sampling_args`.
    #[serde(default, deserialize_with = "de_unique_map")]
    pub sampling_args: Map<String, Value>,
    /// Samples per record for this job's envs (overrides their `rollouts_per_example`).
    #[serde(default, deserialize_with = "de_optional_at_least_one")]
    pub rollouts: Option<u32>,
}

/// An env as parsed, with where it sits in its file.
#[derive(Debug, Clone)]
pub struct EnvEntry {
    /// Its field path in the file: `envs[2]`, `envs.qa`, `[1]`, or empty for
    /// an env file holding a single env.
    pub field: String,
    /// The env.
    pub env: EnvConfig,
}

/// An env with the file that declared it (its paths are relative to that file).
#[derive(Debug, Clone)]
pub struct DeclaredEnv {
    /// The file that declared it: an env file or the run config.
    pub file: PathBuf,
    /// Its field path in that file (see [`EnvEntry::field`]).
    pub field: String,
    /// The env.
    pub env: EnvConfig,
}

impl DeclaredEnv {
    /// Where the env is declared, for error messages: `envs/qa.yaml: [1]`.
    pub fn place(&self) -> String {
        match self.field.as_str() {
            "" => self.file.display().to_string(),
            field => format!("{}: {field}", self.file.display()),
        }
    }

    /// The directory its relative paths start from.
    pub fn dir(&self) -> &Path {
        parent_dir(&self.file)
    }
}

/// A run config with every env it can see.
#[derive(Debug, Clone)]
pub struct LoadedConfig {
    /// The run config file, as given.
    pub path: PathBuf,
    /// Its contents.
    pub run: RunConfig,
    /// Every env, inline or from env files, in declaration order.
    pub envs: Vec<DeclaredEnv>,
}

impl LoadedConfig {
    /// The directory paths in the run config are relative to.
    pub fn dir(&self) -> &Path {
        parent_dir(&self.path)
    }
}

/// The directory of `file` (`.` for a bare file name).
fn parent_dir(file: &Path) -> &Path {
    match file.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// Read a run config and the envs it declares or points to.
pub fn load(path: &Path) -> Result<LoadedConfig> {
    let run: RunConfig = parse_file(path)?;
    let shown = path.display();
    if run.models.contains_key(ORACLE) {
        bail!(
            "{shown}: models.{ORACLE}: the id `{ORACLE}` is reserved for the built-in offline model; jobs can use it without declaring it"
        );
    }
    let envs = match (&run.envs, &run.env_dirs) {
        (Some(_), Some(_)) => bail!("{shown}: env_dirs: set either `envs` or `env_dirs`, not both"),
        (Some(entries), None) => entries.iter().map(|entry| declared(path, entry.clone())).collect(),
        (None, Some(dirs)) => load_env_dirs(parent_dir(path), dirs, true)?,
        // The default dir may be missing: a config can declare no envs at all.
        (None, None) => load_env_dirs(parent_dir(path), &[defaults::ENV_DIR.into()], false)?,
    };
    Ok(LoadedConfig { path: path.to_path_buf(), run, envs })
}

fn declared(file: &Path, entry: EnvEntry) -> DeclaredEnv {
    DeclaredEnv { file: file.to_path_buf(), field: entry.field, env: entry.env }
}

/// Every env in the `*.yaml` / `*.yml` / `*.toml` files of `dirs`, files in name order.
fn load_env_dirs(base: &Path, dirs: &[PathBuf], must_exist: bool) -> Result<Vec<DeclaredEnv>> {
    let mut envs = Vec::new();
    for dir in dirs.iter().map(|dir| base.join(dir)) {
        if !must_exist && !dir.exists() {
            continue;
        }
        let mut files = Vec::new();
        for entry in std::fs::read_dir(&dir).with_context(|| format!("cannot read env dir {}", dir.display()))? {
            let file = entry.with_context(|| format!("cannot read env dir {}", dir.display()))?.path();
            if file.is_file() && file.extension().is_some_and(|ext| ext == "yaml" || ext == "yml" || ext == "toml") {
                files.push(file);
            }
        }
        files.sort();
        for file in files {
            let EnvFile(entries) = parse_file(&file)?;
            envs.extend(entries.into_iter().map(|entry| declared(&file, entry)));
        }
    }
    Ok(envs)
}

/// Parse a config file into `T` (TOML for a `.toml` file, else YAML), with
/// one-line errors naming file, line:column and field path.
pub(crate) fn parse_file<T: DeserializeOwned>(path: &Path) -> Result<T> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read config {}", path.display()))?;
    parse_str(&text, path)
}

/// Whether `path` names a TOML file (by extension).
fn is_toml(path: &Path) -> bool {
    path.extension().is_some_and(|ext| ext.eq_ignore_ascii_case("toml"))
}

/// Parse `text` read from `path` (whose extension picks the syntax) into `T`.
fn parse_str<T: DeserializeOwned>(text: &str, path: &Path) -> Result<T> {
    if is_toml(path) {
        let deserializer =
            toml::de::Deserializer::parse(text).map_err(|e| anyhow!("{}", describe_toml(path, text, "", e)))?;
        return serde_path_to_error::deserialize(deserializer).map_err(|error| {
            let field = error.path().to_string();
            anyhow!("{}", describe_toml(path, text, &field, error.into_inner()))
        });
    }
    serde_path_to_error::deserialize(serde_yaml_ng::Deserializer::from_str(text))
        .map_err(|error| anyhow!("{}", describe(path, error)))
}

/// `file:line:column: field.path: message` for a TOML error, on one line.
fn describe_toml(path: &Path, text: &str, field: &str, error: toml::de::Error) -> String {
    let location = error.span().map_or(String::new(), |span| {
        let before = &text[..span.start.min(text.len())];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        format!(":{line}:{column}")
    });
    let field = field.trim_end_matches(".?").trim_end_matches('?');
    let field = if field == "." || field.is_empty() { String::new() } else { format!(" {field}:") };
    let message = error.message().split_whitespace().collect::<Vec<_>>().join(" ");
    format!("{}{location}:{field} {message}", path.display())
}

/// `file:line:column: field.path: message`, on one line.
fn describe(path: &Path, error: serde_path_to_error::Error<serde_yaml_ng::Error>) -> String {
    // After a syntax error the path may end in segments serde could not name.
    let field = error.path().to_string().trim_end_matches(".?").trim_end_matches('?').to_string();
    let inner = error.into_inner();
    let mut message = inner.to_string().replace('\n', " ");
    let mut location = String::new();
    if let Some(at) = inner.location() {
        location = format!(":{}:{}", at.line(), at.column());
        message = message.replace(&format!(" at line {} column {}", at.line(), at.column()), "");
    }
    // serde_yaml_ng prefixes its own, coarser path (the parent map for an
    // unknown field); the one from serde_path_to_error replaces it.
    if let Some((head, rest)) = message.split_once(": ")
        && field.starts_with(head.trim_start_matches('.'))
    {
        message = rest.to_string();
    }
    let field = if field == "." || field.is_empty() { String::new() } else { format!(" {field}:") };
    format!("{}{location}:{field} {message}", path.display())
}

/// The contents of an env file: one env mapping or a list of them.
#[derive(Debug)]
struct EnvFile(Vec<EnvEntry>);

impl<'de> Deserialize<'de> for EnvFile {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FileVisitor;
        impl<'de> Visitor<'de> for FileVisitor {
            type Value = EnvFile;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an env (a mapping) or a list of envs")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<EnvFile, A::Error> {
                let env = EnvConfig::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(EnvFile(vec![EnvEntry { field: String::new(), env }]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<EnvFile, A::Error> {
                env_list(seq, "").map(EnvFile)
            }
        }
        deserializer.deserialize_any(FileVisitor)
    }
}

/// A list of envs, each remembering its field path `<prefix>[i]`.
fn env_list<'de, A: SeqAccess<'de>>(mut seq: A, prefix: &str) -> Result<Vec<EnvEntry>, A::Error> {
    let mut entries = Vec::new();
    while let Some(env) = seq.next_element()? {
        entries.push(EnvEntry { field: format!("{prefix}[{}]", entries.len()), env });
    }
    Ok(entries)
}

/// `envs:` in a run config: a map id → env (the key is the env's id), a
/// list of envs, or null (absent).
fn de_inline_envs<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Vec<EnvEntry>>, D::Error> {
    struct EnvsVisitor;
    impl<'de> Visitor<'de> for EnvsVisitor {
        type Value = Option<Vec<EnvEntry>>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a map of env id to env, or a list of envs")
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
            env_list(seq, "envs").map(Some)
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut entries: Vec<EnvEntry> = Vec::new();
            while let Some(id) = map.next_key::<String>()? {
                if entries.iter().any(|entry| entry.env.id == id) {
                    return Err(de::Error::custom(format_args!("duplicate env id `{id}`")));
                }
                let env = map.next_value_seed(WithId(id.clone()))?;
                entries.push(EnvEntry { field: format!("envs.{id}"), env });
            }
            Ok(Some(entries))
        }
    }
    deserializer.deserialize_any(EnvsVisitor)
}

/// Deserializes an [`EnvConfig`] from a mapping without `id`, supplying the
/// id (the key it was found under) as if it were the mapping's first entry.
/// Deserializing in place keeps the YAML locations in error messages.
struct WithId(String);

impl<'de> DeserializeSeed<'de> for WithId {
    type Value = EnvConfig;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<EnvConfig, D::Error> {
        EnvConfig::deserialize(InjectId { id: self.0, inner: deserializer })
    }
}

/// A deserializer that reads a mapping from `inner` with an `id` entry added.
struct InjectId<D> {
    id: String,
    inner: D,
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for InjectId<D> {
    type Error = D::Error;
    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.inner.deserialize_map(InjectIdVisitor { id: self.id, visitor })
    }
    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option unit
        unit_struct newtype_struct seq tuple tuple_struct map struct enum identifier ignored_any
    }
}

struct InjectIdVisitor<V> {
    id: String,
    visitor: V,
}

impl<'de, V: Visitor<'de>> Visitor<'de> for InjectIdVisitor<V> {
    type Value = V::Value;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        self.visitor.expecting(f)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        self.visitor.visit_map(IdFirst { id: Some(self.id), key_given: false, map })
    }
}

/// Yields `id: <id>` first, then the entries of `map`.
struct IdFirst<A> {
    id: Option<String>,
    key_given: bool,
    map: A,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for IdFirst<A> {
    type Error = A::Error;
    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, A::Error> {
        if self.id.is_some() && !self.key_given {
            self.key_given = true;
            return seed.deserialize("id".into_deserializer()).map(Some);
        }
        self.map.next_key_seed(seed)
    }
    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, A::Error> {
        match self.id.take() {
            Some(id) => seed.deserialize(id.into_deserializer()),
            None => self.map.next_value_seed(seed),
        }
    }
}

/// A string-keyed map that rejects duplicate keys (YAML parsers keep the
/// last one silently, which hides copy-paste mistakes).
fn de_unique_map<'de, D, V, M>(deserializer: D) -> Result<M, D::Error>
where
    D: Deserializer<'de>,
    V: Deserialize<'de>,
    M: FromIterator<(String, V)>,
{
    struct MapVisitor<V>(PhantomData<V>);
    impl<'de, V: Deserialize<'de>> Visitor<'de> for MapVisitor<V> {
        type Value = Vec<(String, V)>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a map")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut entries: Vec<(String, V)> = Vec::new();
            while let Some(key) = map.next_key::<String>()? {
                if entries.iter().any(|(seen, _)| *seen == key) {
                    return Err(de::Error::custom(format_args!("duplicate key `{key}`")));
                }
                entries.push((key, map.next_value()?));
            }
            Ok(entries)
        }
    }
    Ok(deserializer.deserialize_map(MapVisitor(PhantomData))?.into_iter().collect())
}

/// One string or a non-empty list of strings.
fn de_one_or_many<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    struct OneOrMany;
    impl<'de> Visitor<'de> for OneOrMany {
        type Value = Vec<String>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an env id or a list of env ids")
        }
        fn visit_str<E: de::Error>(self, id: &str) -> Result<Vec<String>, E> {
            Ok(vec![id.to_string()])
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<String>, A::Error> {
            let mut ids = Vec::new();
            while let Some(id) = seq.next_element()? {
                ids.push(id);
            }
            if ids.is_empty() {
                return Err(de::Error::custom("expected at least one env id"));
            }
            Ok(ids)
        }
    }
    deserializer.deserialize_any(OneOrMany)
}

/// A count that must be at least 1.
fn de_at_least_one<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<i128>,
{
    deserializer.deserialize_any(Checked {
        expecting: "a positive integer",
        check: |number| match number {
            Number::Int(n) if n >= 1 => T::try_from(n).map_err(|_| format!("{n} is too large")),
            Number::Int(_) => Err("must be at least 1".into()),
            Number::Float(x) => Err(format!("expected a positive integer, found {x}")),
        },
    })
}

/// An optional count that must be at least 1 when given.
fn de_optional_at_least_one<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<i128>,
{
    de_at_least_one(deserializer).map(Some)
}

/// An optional positive rate (per minute).
fn de_optional_rate<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<f64>, D::Error> {
    let check = |number| positive(number, "a positive number per minute");
    deserializer.deserialize_any(Checked { expecting: "a positive number per minute", check }).map(Some)
}

/// A positive, finite number of seconds.
fn de_seconds<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
    let check = |number| positive(number, "a positive number of seconds");
    deserializer.deserialize_any(Checked { expecting: "a positive number of seconds", check })
}

/// `number` if it is finite and above zero; else "expected `what`, found ...".
fn positive(number: Number, what: &str) -> Result<f64, String> {
    let value = match number {
        Number::Int(n) => n as f64,
        Number::Float(x) => x,
    };
    match value.is_finite() && value > 0.0 {
        true => Ok(value),
        false => Err(format!("expected {what}, found {value}")),
    }
}

fn de_num_examples<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<usize>, D::Error> {
    deserializer.deserialize_any(Checked {
        expecting: "-1 (all) or a positive count",
        check: |number| match number {
            Number::Int(n) => num_examples(i64::try_from(n).map_err(|_| format!("{n} is too large"))?),
            Number::Float(x) => Err(format!("num_examples must be -1 (all) or a positive count, not {x}")),
        },
    })
}

/// A YAML number, for [`Checked`].
enum Number {
    Int(i128),
    Float(f64),
}

/// A number checked inside the visitor: serde_yaml_ng then reports errors at
/// the value itself rather than at its enclosing mapping.
struct Checked<T> {
    expecting: &'static str,
    check: fn(Number) -> Result<T, String>,
}

impl<'de, T> Visitor<'de> for Checked<T> {
    type Value = T;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.expecting)
    }
    fn visit_i64<E: de::Error>(self, n: i64) -> Result<T, E> {
        (self.check)(Number::Int(n.into())).map_err(E::custom)
    }
    fn visit_u64<E: de::Error>(self, n: u64) -> Result<T, E> {
        (self.check)(Number::Int(n.into())).map_err(E::custom)
    }
    fn visit_f64<E: de::Error>(self, x: f64) -> Result<T, E> {
        (self.check)(Number::Float(x)).map_err(E::custom)
    }
}

/// `num_examples` as a limit: `-1` is all (`None`), a positive count is a limit.
pub fn num_examples(value: i64) -> Result<Option<usize>, String> {
    match value {
        -1 => Ok(None),
        n if n > 0 => usize::try_from(n).map(Some).map_err(|e| e.to_string()),
        n => Err(format!("num_examples must be -1 (all) or a positive count, not {n}")),
    }
}

/// Default values of optional fields.
pub mod defaults {
    use std::path::PathBuf;

    /// The env dir read when neither `envs` nor `env_dirs` is set.
    pub const ENV_DIR: &str = "envs";

    /// `name`: `benchmark`.
    pub fn name() -> String {
        "benchmark".into()
    }
    /// `output_dir`: `runs/raw`.
    pub fn output_dir() -> PathBuf {
        "runs/raw".into()
    }
    /// `parallel`: 4 jobs at once.
    pub fn parallel() -> usize {
        4
    }
    /// A model's `api_base_url`: OpenAI's.
    pub fn api_base_url() -> String {
        "https://api.openai.com/v1".into()
    }
    /// A model's `max_concurrent`: 32 requests.
    pub fn max_concurrent() -> usize {
        32
    }
    /// A model's `timeout`: 600 seconds.
    pub fn timeout() -> f64 {
        600.0
    }
    /// A model's `use_chat_template`: yes (the chat API).
    pub fn use_chat_template() -> bool {
        true
    }
    /// A model's `adaptive_concurrency`: on.
    pub fn adaptive_concurrency() -> bool {
        true
    }
    /// A model's `max_retries`: 6.
    pub fn max_retries() -> u32 {
        6
    }
    /// An env's `rollouts_per_example`: 1.
    pub fn rollouts_per_example() -> u32 {
        1
    }
    /// An env's `max_turns`: 16.
    pub fn max_turns() -> u32 {
        16
    }
    /// A replay model's `id_field`: `id`.
    pub fn replay_id_field() -> String {
        "id".into()
    }
    /// A replay model's `completion_field`: `completion`.
    pub fn replay_completion_field() -> String {
        "completion".into()
    }
    /// `code_execution.timeout_secs`: 10 seconds.
    pub fn code_timeout() -> f64 {
        10.0
    }
    /// `code_execution.memory_mb`: 1 GiB.
    pub fn code_memory_mb() -> u64 {
        1024
    }
    /// `code_execution.max_output_bytes`: 64 KiB each of stdout and stderr.
    pub fn code_output_bytes() -> usize {
        64 * 1024
    }
    /// `code_execution.max_processes`: 64.
    pub fn code_processes() -> u64 {
        64
    }
    /// `code_execution.max_file_mb`: 16 MiB.
    pub fn code_file_mb() -> u64 {
        16
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Write `files` (name, text) into a temp dir; returns it.
    fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        dir
    }

    /// The error of loading `run.yaml` with `files` beside it, minus the temp dir prefix.
    fn error(run: &str, files: &[(&str, &str)]) -> String {
        let dir = project(files);
        std::fs::write(dir.path().join("run.yaml"), run).unwrap();
        let message = format!("{:#}", load(&dir.path().join("run.yaml")).unwrap_err());
        assert_eq!(message.lines().count(), 1, "{message}");
        message.replace(&format!("{}/", dir.path().display()), "")
    }

    fn load_run(run: &str, files: &[(&str, &str)]) -> LoadedConfig {
        let dir = project(files);
        std::fs::write(dir.path().join("run.yaml"), run).unwrap();
        load(&dir.path().join("run.yaml")).unwrap()
    }

    #[test]
    fn unknown_keys_name_file_line_and_field() {
        let e = error("name: x\nmodels:\n  gpt4:\n    model: y\n    max_concurent: 3\njobs: []\n", &[]);
        assert!(
            e.starts_with(
                "run.yaml:5:5: models.gpt4.max_concurent: unknown field `max_concurent`, expected one of `model`"
            ),
            "{e}"
        );
    }

    #[test]
    fn type_errors_name_file_line_and_field() {
        let e = error("jobs:\n  - model: m\n    env: e\n    env_args: [1]\n", &[]);
        assert_eq!(e, "run.yaml:4:15: jobs[0].env_args: invalid type: sequence, expected a map");
        let e = error("models:\n  m: {model: x, timeout: soon}\njobs: []\n", &[]);
        assert!(
            e.starts_with(
                "run.yaml:2:26: models.m.timeout: invalid type: string \"soon\", expected a positive number of seconds"
            ),
            "{e}"
        );
        let e = error("jobs:\n  - model: m\n    env: []\n", &[]);
        assert!(e.starts_with("run.yaml:3:10: jobs[0].env: expected at least one env id"), "{e}");
    }

    #[test]
    fn syntax_errors_name_file_and_line() {
        let e = error("jobs:\n  - {model: m, env: [a}\n", &[]);
        assert!(e.starts_with("run.yaml:2:23: jobs[0].env: did not find expected ',' or ']'"), "{e}");
    }

    #[test]
    fn out_of_range_values_are_schema_errors() {
        let e = error("parallel: 0\njobs: []\n", &[]);
        assert_eq!(e, "run.yaml:1:11: parallel: must be at least 1");
        let e = error("models:\n  m:\n    model: x\n    timeout: -1\njobs: []\n", &[]);
        assert!(e.starts_with("run.yaml:4:14: models.m.timeout: expected a positive number of seconds"), "{e}");
        let e = error("models:\n  m: {model: x, requests_per_minute: 0}\njobs: []\n", &[]);
        assert!(
            e.starts_with("run.yaml:2:38: models.m.requests_per_minute: expected a positive number per minute"),
            "{e}"
        );
        let e = error("envs:\n  - {id: a, module: m, dataset: d.jsonl, num_examples: 0}\njobs: []\n", &[]);
        assert_eq!(e, "run.yaml:2:56: envs[0].num_examples: num_examples must be -1 (all) or a positive count, not 0");
    }

    #[test]
    fn defaults_fill_every_optional_field() {
        let loaded =
            load_run("models:\n  m: {model: served}\nenvs:\n  - {id: a, module: m, dataset: d.jsonl}\njobs: []\n", &[]);
        let run = &loaded.run;
        assert_eq!(
            (run.name.as_str(), run.output_dir.as_path(), run.seed, run.parallel),
            ("benchmark", Path::new("runs/raw"), 0, 4)
        );
        let model = &run.models["m"];
        assert_eq!(model.api_base_url, "https://api.openai.com/v1");
        assert_eq!(
            (model.api_key_var.as_deref(), model.max_concurrent, model.timeout, model.max_retries),
            (None, 32, 600.0, 6)
        );
        assert_eq!(
            (model.requests_per_minute, model.tokens_per_minute, model.adaptive_concurrency),
            (None, None, true)
        );
        let env = &loaded.envs[0].env;
        assert_eq!((env.num_examples, env.rollouts_per_example, env.max_turns), (None, 1, 16));
        assert_eq!(env.limits, PluginLimits { memory_mb: 256, call_timeout_ms: 10_000, fuel: 10_000_000_000 });
        assert!(env.capabilities.is_empty() && env.env_args.is_empty() && env.matrix.is_empty());
        assert_eq!(loaded.envs[0].place(), format!("{}: envs[0]", loaded.path.display()));
    }

    #[test]
    fn env_files_hold_one_env_or_a_list() {
        let files = [
            ("envs/a.yaml", "id: a\nmodule: m\ndataset: d.jsonl\nnum_examples: 5\n"),
            ("envs/b.yml", "- id: b\n  module: m\n  dataset: d.jsonl\n- id: c\n  module: m\n  dataset: d.jsonl\n"),
            ("envs/notes.txt", "not yaml"),
        ];
        let loaded = load_run("jobs: []\n", &files);
        let found: Vec<(&str, &str)> = loaded.envs.iter().map(|e| (e.env.id.as_str(), e.field.as_str())).collect();
        assert_eq!(found, [("a", ""), ("b", "[0]"), ("c", "[1]")]);
        assert_eq!(loaded.envs[0].env.num_examples, Some(5));
        assert!(loaded.envs[1].file.ends_with("envs/b.yml"));
        let e = error("jobs: []\n", &[("envs/z.yaml", "- id: z\n  module: m\n  datset: d.jsonl\n")]);
        assert!(e.starts_with("envs/z.yaml:3:3: [0].datset: unknown field `datset`"), "{e}");
        let e = error("jobs: []\n", &[("envs/z.yaml", "id: z\nmodule: m\n")]);
        assert!(e.starts_with("envs/z.yaml:1:1: missing field `dataset`"), "{e}");
    }

    #[test]
    fn env_dirs_are_relative_to_the_config_and_exclusive_with_envs() {
        let loaded =
            load_run("env_dirs: [more]\njobs: []\n", &[("more/x.yaml", "id: x\nmodule: m\ndataset: d.jsonl\n")]);
        assert_eq!(loaded.envs[0].env.id, "x");
        assert!(load_run("jobs: []\n", &[]).envs.is_empty(), "the default env dir may be missing");
        let e = error("env_dirs: [gone]\njobs: []\n", &[]);
        assert!(e.starts_with("cannot read env dir gone"), "{e}");
        let e = error("envs: []\nenv_dirs: [envs]\njobs: []\n", &[]);
        assert_eq!(e, "run.yaml: env_dirs: set either `envs` or `env_dirs`, not both");
    }

    #[test]
    fn inline_envs_may_be_a_map_keyed_by_id() {
        let loaded = load_run(
            "envs:\n  qa:\n    module: m\n    dataset: d.jsonl\n  mc: {module: n, dataset: e.csv}\njobs: []\n",
            &[],
        );
        let found: Vec<(&str, &str, &str)> =
            loaded.envs.iter().map(|e| (e.env.id.as_str(), e.env.module.as_str(), e.field.as_str())).collect();
        assert_eq!(found, [("qa", "m", "envs.qa"), ("mc", "n", "envs.mc")]);
        let e = error("envs:\n  qa:\n    module: m\n    dataset: d.jsonl\n    num_exampels: 3\njobs: []\n", &[]);
        assert!(e.starts_with("run.yaml:5:5: envs.qa.num_exampels: unknown field `num_exampels`"), "{e}");
        let e = error("envs:\n  qa:\n    id: qa\n    module: m\n    dataset: d.jsonl\njobs: []\n", &[]);
        assert_eq!(e, "run.yaml:3:5: envs.qa: duplicate field `id`");
    }

    #[test]
    fn duplicate_keys_and_the_oracle_id_are_rejected() {
        let e = error("models:\n  m: {model: a}\n  m: {model: b}\njobs: []\n", &[]);
        assert!(e.contains("models: duplicate key `m`"), "{e}");
        let e = error("models:\n  oracle: {model: x}\njobs: []\n", &[]);
        assert!(e.starts_with("run.yaml: models.oracle: the id `oracle` is reserved"), "{e}");
    }

    #[test]
    fn job_env_is_one_id_or_a_list() {
        let loaded = load_run("jobs:\n  - {model: m, env: a}\n  - {model: m, env: [a, b], name: again}\n", &[]);
        assert_eq!(loaded.run.jobs[0].env, ["a"]);
        assert_eq!(loaded.run.jobs[1].env, ["a", "b"]);
        assert_eq!(loaded.run.jobs[1].name.as_deref(), Some("again"));
    }

    /// Like [`error`], for a `run.toml`.
    fn toml_error(run: &str, files: &[(&str, &str)]) -> String {
        let dir = project(files);
        std::fs::write(dir.path().join("run.toml"), run).unwrap();
        let message = format!("{:#}", load(&dir.path().join("run.toml")).unwrap_err());
        assert_eq!(message.lines().count(), 1, "{message}");
        message.replace(&format!("{}/", dir.path().display()), "")
    }

    #[test]
    fn toml_is_the_same_schema_with_tasks_and_per_job_rollouts() {
        let dir = project(&[("envs/qa.toml", "id = \"qa\"\nmodule = \"m\"\ndataset = \"d.jsonl\"\n")]);
        let run = "name = \"t\"\nparallel = 2\n[models.m]\nmodel = \"x\"\nsampling_args = { temperature = 0.5 }\n\n[[tasks]]\nmodel = \"m\"\nenv = [\"qa\"]\nrollouts = 3\n";
        std::fs::write(dir.path().join("run.toml"), run).unwrap();
        let loaded = load(&dir.path().join("run.toml")).unwrap();
        assert_eq!((loaded.run.name.as_str(), loaded.run.parallel), ("t", 2));
        assert_eq!(loaded.run.models["m"].sampling_args["temperature"], 0.5);
        assert_eq!(loaded.run.jobs[0].rollouts, Some(3));
        assert_eq!(loaded.envs[0].env.id, "qa", "TOML env files are read from env dirs");
        let inline = "[envs.qa]\nmodule = \"m\"\ndataset = \"d.jsonl\"\nmatrix = { seed = [1, 2] }\n[[jobs]]\nmodel = \"m\"\nenv = \"qa\"\n";
        std::fs::write(dir.path().join("run.toml"), inline).unwrap();
        let loaded = load(&dir.path().join("run.toml")).unwrap();
        assert_eq!((loaded.envs[0].env.id.as_str(), loaded.envs[0].field.as_str()), ("qa", "envs.qa"));
        assert_eq!(loaded.envs[0].env.matrix["seed"].len(), 2);
    }

    #[test]
    fn toml_errors_name_file_line_and_field() {
        let e = toml_error("[[jobs]]\nmodel = \"m\"\nenv = \"e\"\nrolouts = 2\n", &[]);
        assert!(e.starts_with("run.toml:4:1: jobs[0].rolouts: unknown field `rolouts`"), "{e}");
        let e = toml_error("parallel = 0\njobs = []\n", &[]);
        assert_eq!(e, "run.toml:1:12: parallel: must be at least 1");
        let e = toml_error("name = \"x\njobs = []\n", &[]);
        assert!(e.starts_with("run.toml:1:10: invalid basic string"), "{e}");
    }

    #[test]
    fn unreadable_files_say_what_was_being_read() {
        let e = format!("{:#}", load(Path::new("/nonexistent/run.yaml")).unwrap_err());
        assert!(e.starts_with("cannot read config /nonexistent/run.yaml: No such file"), "{e}");
    }
}
