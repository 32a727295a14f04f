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
//!
//! - `schema`: the structs users write, with their doc comments.
//! - `defaults`: the value of every optional field, in one place.
//! - `parse`: reading a file as YAML or TOML, and one-line error messages.
//! - `de`: the hand-written deserializers (env lists and maps, checked numbers).
//! - `interpolate`: `${VAR}` references to environment variables in values.

mod de;
pub mod defaults;
mod interpolate;
mod parse;
mod schema;
#[cfg(test)]
mod tests;

pub(crate) use parse::{parse_file, parse_literal_file};
pub use schema::{
    CodeBackendKind, CodeExecutionConfig, DEFAULT_CONFIG_ID, DatasetSource, EnvConfig, FewshotConfig, FewshotSampler,
    HubDataset, JUDGE, JobConfig, JudgeConfig, LOGLIKELIHOOD, ModelConfig, RUN_CODE_PREFIX, ReplayConfig, RunConfig,
    ServeConfig, TOOLS, TOOLS_TEXT_FALLBACK, TaskDirs, WORKSPACE, WorkspaceBackendKind, WorkspaceConfig, num_examples,
    run_code_languages,
};

use anyhow::{Context, Result, bail};
use de::EnvFile;
use std::path::{Path, PathBuf};

/// The id of the built-in offline model, which answers with each record's
/// reference completion. Jobs may use it without declaring it; declaring a
/// model with this id is an error.
pub const ORACLE: &str = "oracle";

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
