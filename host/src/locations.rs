//! Every environment variable assay reads and every default directory it
//! uses, in one place (the README's "Environment variables" table lists
//! the same). Other modules ask here instead of spelling a name again.

use std::path::PathBuf;
use std::time::Duration;

/// Names of the environment variables assay reads.
pub(crate) mod vars {
    /// Overrides the stderr log filter (`info`, `assay=debug`, ...).
    pub(crate) const LOG: &str = "ASSAY_LOG";
    /// The cache directory (compiled plugins under `wasm/`, model replies under `responses/`).
    pub(crate) const CACHE_DIR: &str = "ASSAY_CACHE_DIR";
    /// The response cache's directory, when not `responses/` in the cache directory.
    pub(crate) const RESPONSE_CACHE_DIR: &str = "ASSAY_RESPONSE_CACHE_DIR";
    /// The data directory (installed plugins under `plugins/`).
    pub(crate) const DATA_DIR: &str = "ASSAY_DATA_DIR";
    /// Where `assay plugin build` installs the tools it needs (componentize-py).
    pub(crate) const TOOLS_DIR: &str = "ASSAY_TOOLS_DIR";
    /// Extra plugin directories, colon-separated, searched after a config's `plugin_dirs`.
    pub(crate) const PLUGIN_PATH: &str = "ASSAY_PLUGIN_PATH";
    /// Seconds between progress lines when progress is shown as lines.
    pub(crate) const PROGRESS_SECS: &str = "ASSAY_PROGRESS_SECS";
    /// The Hugging Face Hub token (never written or printed).
    pub(crate) const HF_TOKEN: &str = "HF_TOKEN";
    /// Where the Hugging Face Hub is (`https://huggingface.co` by default).
    pub(crate) const HF_ENDPOINT: &str = "HF_ENDPOINT";
    /// Set by Slurm in a job array's task: its index (`bench --shards N`).
    pub(crate) const SLURM_ARRAY_TASK_ID: &str = "SLURM_ARRAY_TASK_ID";
    /// Set by Slurm in a job array's task: the lowest index of the array.
    pub(crate) const SLURM_ARRAY_TASK_MIN: &str = "SLURM_ARRAY_TASK_MIN";
    /// Set by Slurm in a job array's task: how many tasks the array has.
    pub(crate) const SLURM_ARRAY_TASK_COUNT: &str = "SLURM_ARRAY_TASK_COUNT";
    /// Set by Kubernetes in an Indexed Job's pod: its index (`bench --shards N`).
    pub(crate) const JOB_COMPLETION_INDEX: &str = "JOB_COMPLETION_INDEX";
    /// The Hugging Face home (`~/.cache/huggingface`); the Hub cache is `hub/` in it.
    pub(crate) const HF_HOME: &str = "HF_HOME";
    /// The Hugging Face Hub cache itself, shared with Python's `huggingface_hub`.
    pub(crate) const HF_HUB_CACHE: &str = "HF_HUB_CACHE";
    /// `1`: never reach the Hub; datasets come from the cache only.
    pub(crate) const HF_HUB_OFFLINE: &str = "HF_HUB_OFFLINE";
}

/// Where `assay bench` writes runs, and where later steps read them.
pub(crate) const RUNS_DIR: &str = "runs/raw";
/// Where `assay process` writes parquet files and their index.
pub(crate) const PROCESSED_DIR: &str = "runs/processed";
/// Where `assay analyze` writes its tables.
pub(crate) const ANALYSIS_DIR: &str = "runs/analysis";
/// Where `assay winrate` writes win rates.
pub(crate) const WINRATE_DIR: &str = "runs/winrate";

/// The Hugging Face Hub assay talks to when `HF_ENDPOINT` is unset.
const DEFAULT_HF_ENDPOINT: &str = "https://huggingface.co";

/// The value of `var`, if set and not blank.
fn non_empty(var: &str) -> Option<String> {
    std::env::var(var).ok().filter(|value| !value.trim().is_empty())
}

fn project_dirs() -> Option<directories::ProjectDirs> {
    directories::ProjectDirs::from("", "", "assay")
}

/// Compiled plugins, cached by content hash: `$ASSAY_CACHE_DIR/wasm`, else
/// the user's cache directory (`~/.cache/assay/wasm` on Linux).
pub(crate) fn wasm_cache_dir() -> Option<PathBuf> {
    Some(cache_dir()?.join("wasm"))
}

/// The response cache's database (models with `cache: true`):
/// `$ASSAY_RESPONSE_CACHE_DIR/responses.sqlite3`, else `responses/` in the
/// cache dir (`~/.cache/assay/responses/responses.sqlite3` on Linux).
pub(crate) fn response_cache_file() -> Option<PathBuf> {
    let dir = match std::env::var_os(vars::RESPONSE_CACHE_DIR) {
        Some(dir) => PathBuf::from(dir),
        None => cache_dir()?.join("responses"),
    };
    Some(dir.join("responses.sqlite3"))
}

/// `$ASSAY_CACHE_DIR`, else the user's cache directory.
fn cache_dir() -> Option<PathBuf> {
    match std::env::var_os(vars::CACHE_DIR) {
        Some(dir) => Some(PathBuf::from(dir)),
        None => Some(project_dirs()?.cache_dir().to_path_buf()),
    }
}

/// Installed plugins: `$ASSAY_DATA_DIR/plugins`, else the platform's data
/// dir (`~/.local/share/assay/plugins` on Linux).
pub(crate) fn user_plugin_dir() -> Option<PathBuf> {
    Some(data_dir()?.join("plugins"))
}

/// `$ASSAY_DATA_DIR`, else the platform's data dir.
fn data_dir() -> Option<PathBuf> {
    match std::env::var_os(vars::DATA_DIR) {
        Some(dir) => Some(PathBuf::from(dir)),
        None => Some(project_dirs()?.data_dir().to_path_buf()),
    }
}

/// Tools `assay plugin build` installs on first use (componentize-py for
/// Python environments): `$ASSAY_TOOLS_DIR`, else `tools/` in the data dir
/// (`~/.local/share/assay/tools` on Linux).
pub(crate) fn tools_dir() -> Option<PathBuf> {
    match std::env::var_os(vars::TOOLS_DIR) {
        Some(dir) => Some(PathBuf::from(dir)),
        None => Some(data_dir()?.join("tools")),
    }
}

/// The plugin dirs searched after a config's own: each directory of
/// `$ASSAY_PLUGIN_PATH`, then the user's plugin dir.
pub(crate) fn extra_plugin_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os(vars::PLUGIN_PATH)
        .map(|paths| std::env::split_paths(&paths).filter(|dir| !dir.as_os_str().is_empty()).collect())
        .unwrap_or_default();
    dirs.extend(user_plugin_dir());
    dirs
}

/// Time between progress lines: `$ASSAY_PROGRESS_SECS`, default 10 s.
pub(crate) fn progress_interval() -> Duration {
    let secs = non_empty(vars::PROGRESS_SECS).and_then(|v| v.parse::<f64>().ok()).filter(|s| *s > 0.0 && s.is_finite());
    Duration::from_secs_f64(secs.unwrap_or(10.0))
}

/// The Hub's base URL, without a trailing slash.
pub(crate) fn hf_endpoint() -> String {
    non_empty(vars::HF_ENDPOINT).unwrap_or_else(|| DEFAULT_HF_ENDPOINT.into()).trim_end_matches('/').to_string()
}

/// The Hugging Face Hub cache: `$HF_HUB_CACHE`, else `$HF_HOME/hub`, else
/// `~/.cache/huggingface/hub`, as Python's `huggingface_hub` finds it.
pub(crate) fn hf_hub_cache() -> PathBuf {
    if let Some(dir) = non_empty(vars::HF_HUB_CACHE) {
        return dir.into();
    }
    let home = non_empty(vars::HF_HOME).map(PathBuf::from).unwrap_or_else(|| {
        directories::BaseDirs::new()
            .map_or_else(|| PathBuf::from(".cache"), |d| d.home_dir().join(".cache"))
            .join("huggingface")
    });
    home.join("hub")
}

/// Whether `HF_HUB_OFFLINE` asks never to reach the Hub.
pub(crate) fn hf_hub_offline() -> bool {
    non_empty(vars::HF_HUB_OFFLINE)
        .is_some_and(|v| matches!(v.trim().to_lowercase().as_str(), "1" | "true" | "yes" | "on"))
}

/// The Hub token, if one is set.
pub(crate) fn hf_token() -> Option<String> {
    non_empty(vars::HF_TOKEN)
}
