//! The YAML schema users write: a run config (models, jobs, where env files
//! are) and env files (benchmark environments and their variants).
//!
//! Every struct rejects unknown keys, and every error is one line naming
//! file, line, column and field path:
//! `run.yaml:5:5: models.m.max_concurent: unknown field ...`.
//!
//! Paths to inputs (datasets, plugins, env dirs, plugin dirs) are relative to
//! the file that names them; `output_dir` is relative to the current
//! directory, like every other output path a user types.

use anyhow::{Context, Result, anyhow};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The run config file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    /// Run name; run ids are `<name>-<UTC timestamp>`.
    #[serde(default = "defaults::name")]
    pub name: String,
    /// Where runs are written.
    #[serde(default = "defaults::output_dir")]
    pub output_dir: PathBuf,
    /// The run seed; every sample seed derives from it, the example id and the rollout.
    #[serde(default)]
    pub seed: u64,
    /// Jobs run at once.
    #[serde(default = "defaults::parallel")]
    pub parallel: usize,
    /// Directories where plugins named by `module` are looked up.
    #[serde(default)]
    pub plugin_dirs: Vec<PathBuf>,
    /// Models by id.
    #[serde(default)]
    pub models: BTreeMap<String, ModelConfig>,
    /// Environments declared inline; when absent, env files are read from `env_dirs`.
    pub envs: Option<Vec<EnvConfig>>,
    /// Directories of env files (`*.yaml`, `*.yml`), used when `envs` is absent.
    #[serde(default = "defaults::env_dirs")]
    pub env_dirs: Vec<PathBuf>,
    /// What to run.
    pub jobs: Vec<JobConfig>,
}

/// A model behind an OpenAI-compatible endpoint.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// The model name the server knows.
    pub model: String,
    /// The endpoint's base URL.
    #[serde(default = "defaults::api_base_url")]
    pub api_base_url: String,
    /// The environment variable holding the API key (never the key itself).
    pub api_key_var: Option<String>,
    /// Requests in flight at once, shared by every job using the model.
    #[serde(default = "defaults::max_concurrent")]
    pub max_concurrent: usize,
    /// Seconds per request attempt.
    #[serde(default = "defaults::timeout")]
    pub timeout: f64,
    /// Retries on 429, 5xx, connection errors, timeouts and malformed replies.
    #[serde(default = "defaults::max_retries")]
    pub max_retries: u32,
    /// Sent verbatim with every request.
    #[serde(default)]
    pub sampling_args: Map<String, Value>,
}

/// A benchmark environment: a plugin, a dataset and arguments.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvConfig {
    /// The env id jobs refer to.
    pub id: String,
    /// A plugin name (looked up in plugin dirs) or a path to a `.wasm` file.
    pub module: String,
    /// The dataset file.
    pub dataset: PathBuf,
    /// The record field holding the example id.
    pub id_field: Option<String>,
    /// Records to use; -1 means all.
    #[serde(default = "defaults::num_examples")]
    pub num_examples: i64,
    /// Samples per record.
    #[serde(default = "defaults::rollouts")]
    pub rollouts_per_example: u32,
    /// Model turns allowed per episode.
    #[serde(default = "defaults::max_turns")]
    pub max_turns: u32,
    /// Arguments passed to the plugin's `configure`.
    #[serde(default)]
    pub env_args: Map<String, Value>,
    /// One variant per combination of these values.
    #[serde(default)]
    pub matrix: BTreeMap<String, Vec<Value>>,
    /// Combinations to drop: an entry matching every one of its keys drops it.
    #[serde(default)]
    pub matrix_exclude: Vec<Map<String, Value>>,
    /// Variant id template with `{base}` and `{<key>}` placeholders.
    pub matrix_id_format: Option<String>,
    /// Sandbox limits per plugin call.
    #[serde(default)]
    pub limits: LimitsConfig,
    /// Host capabilities granted to the plugin.
    #[serde(default)]
    pub capabilities: Vec<String>,
}

/// Sandbox limits per plugin call.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// Linear memory per instance, MiB.
    pub memory_mb: u64,
    /// Wall-clock limit per call, milliseconds.
    pub call_timeout_ms: u64,
    /// CPU budget per call in wasmtime fuel (about 10^10 per CPU-second).
    pub fuel: u64,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig { memory_mb: 256, call_timeout_ms: 10_000, fuel: 10_000_000_000 }
    }
}

/// One entry of `jobs`: a model on one or more envs.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobConfig {
    /// A model id, or `oracle`.
    pub model: String,
    /// Env ids; a matrix base id means all its variants.
    pub env: OneOrMany,
    /// Appended to the job id.
    pub name: Option<String>,
    /// Merged over the env's `env_args`.
    #[serde(default)]
    pub env_args: Map<String, Value>,
    /// Merged over the model's `sampling_args`.
    #[serde(default)]
    pub sampling_args: Map<String, Value>,
}

/// A string or a list of strings.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    /// One id.
    One(String),
    /// Several ids.
    Many(Vec<String>),
}

impl OneOrMany {
    /// The ids as a slice.
    pub fn as_slice(&self) -> &[String] {
        match self {
            OneOrMany::One(one) => std::slice::from_ref(one),
            OneOrMany::Many(many) => many,
        }
    }
}

/// An env with the file it was declared in (paths in it are relative to it).
#[derive(Debug, Clone)]
pub struct DeclaredEnv {
    /// The env.
    pub env: EnvConfig,
    /// The file that declared it.
    pub file: PathBuf,
}

/// A run config with every env it can see.
#[derive(Debug, Clone)]
pub struct LoadedConfig {
    /// The run config file.
    pub path: PathBuf,
    /// Its contents.
    pub run: RunConfig,
    /// Every env, inline or from env files.
    pub envs: Vec<DeclaredEnv>,
}

impl LoadedConfig {
    /// The directory paths in the run config are relative to.
    pub fn dir(&self) -> &Path {
        parent_dir(&self.path)
    }
}

/// The directory of `file` (`.` for a bare file name).
pub fn parent_dir(file: &Path) -> &Path {
    match file.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// Read a run config and its env files.
pub fn load(path: &Path) -> Result<LoadedConfig> {
    let run: RunConfig = parse_file(path)?;
    let envs = match &run.envs {
        Some(envs) => envs.iter().map(|env| DeclaredEnv { env: env.clone(), file: path.to_path_buf() }).collect(),
        None => load_env_dirs(parent_dir(path), &run.env_dirs)?,
    };
    Ok(LoadedConfig { path: path.to_path_buf(), run, envs })
}

/// Every env in `*.yaml`/`*.yml` files of `dirs` (sorted by file name).
fn load_env_dirs(base: &Path, dirs: &[PathBuf]) -> Result<Vec<DeclaredEnv>> {
    let mut envs = Vec::new();
    for dir in dirs.iter().map(|d| base.join(d)) {
        if !dir.is_dir() {
            continue;
        }
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .with_context(|| format!("cannot list env dir {}", dir.display()))?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
            .collect();
        files.sort();
        for file in files {
            let text = read(&file)?;
            let is_list = serde_yaml_ng::from_str::<serde_yaml_ng::Value>(&text).is_ok_and(|v| v.is_sequence());
            let parsed: Vec<EnvConfig> =
                if is_list { parse_text(&text, &file)? } else { vec![parse_text(&text, &file)?] };
            envs.extend(parsed.into_iter().map(|env| DeclaredEnv { env, file: file.clone() }));
        }
    }
    Ok(envs)
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read config {}", path.display()))
}

/// Parse a YAML file into `T` with one-line, located errors.
pub fn parse_file<T: DeserializeOwned>(path: &Path) -> Result<T> {
    parse_text(&read(path)?, path)
}

fn parse_text<T: DeserializeOwned>(text: &str, path: &Path) -> Result<T> {
    let deserializer = serde_yaml_ng::Deserializer::from_str(text);
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let field = error.path().to_string();
        let inner = error.into_inner();
        let location = inner.location().map(|l| format!(":{}:{}", l.line(), l.column())).unwrap_or_default();
        let message = inner.to_string();
        let message = message.split(" at line ").next().unwrap_or(&message);
        let field = if field == "." { String::new() } else { format!(" {field}:") };
        anyhow!("{}{location}:{field} {message}", path.display())
    })
}

mod defaults {
    use std::path::PathBuf;

    pub fn name() -> String {
        "benchmark".into()
    }
    pub fn output_dir() -> PathBuf {
        "runs/raw".into()
    }
    pub fn parallel() -> usize {
        4
    }
    pub fn env_dirs() -> Vec<PathBuf> {
        vec!["envs".into()]
    }
    pub fn api_base_url() -> String {
        "https://api.openai.com/v1".into()
    }
    pub fn max_concurrent() -> usize {
        32
    }
    pub fn timeout() -> f64 {
        600.0
    }
    pub fn max_retries() -> u32 {
        6
    }
    pub fn num_examples() -> i64 {
        -1
    }
    pub fn rollouts() -> u32 {
        1
    }
    pub fn max_turns() -> u32 {
        16
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn unknown_keys_name_file_line_and_field() {
        let dir = tempfile::tempdir().unwrap();
        let path =
            write(dir.path(), "run.yaml", "name: x\nmodels:\n  m:\n    model: y\n    max_concurent: 3\njobs: []\n");
        let error = load(&path).unwrap_err().to_string();
        assert!(
            error
                .starts_with(&format!("{}:5:5: models.m.max_concurent: unknown field `max_concurent`", path.display())),
            "{error}"
        );
        assert_eq!(error.lines().count(), 1);
    }

    #[test]
    fn type_errors_name_the_field() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "run.yaml", "jobs:\n  - model: m\n    env: e\n    env_args: [1]\n");
        let error = load(&path).unwrap_err().to_string();
        assert!(error.contains(":4:15: jobs[0].env_args: invalid type: sequence, expected a map"), "{error}");
    }

    #[test]
    fn env_files_may_hold_one_env_or_a_list() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "envs/a.yaml", "id: a\nmodule: m\ndataset: d.jsonl\n");
        write(
            dir.path(),
            "envs/b.yml",
            "- id: b\n  module: m\n  dataset: d.jsonl\n- id: c\n  module: m\n  dataset: d.jsonl\n",
        );
        write(dir.path(), "envs/notes.txt", "ignored");
        let path = write(dir.path(), "run.yaml", "jobs: []\n");
        let loaded = load(&path).unwrap();
        let ids: Vec<&str> = loaded.envs.iter().map(|e| e.env.id.as_str()).collect();
        assert_eq!(ids, ["a", "b", "c"]);
        assert_eq!(loaded.envs[0].env.num_examples, -1, "all examples by default");
        let bad = write(dir.path(), "envs/z.yaml", "id: z\nmodule: m\n");
        let error = load(&path).unwrap_err().to_string();
        assert!(error.contains(&bad.display().to_string()) && error.contains("missing field `dataset`"), "{error}");
    }
}
