//! Default values of optional config fields, in one place: the serde
//! attributes and the `Default` impls both call these.

use std::path::PathBuf;

/// The env dir read when neither `envs` nor `env_dirs` is set.
pub const ENV_DIR: &str = "envs";

/// `name`: `benchmark`.
pub fn name() -> String {
    "benchmark".into()
}
/// `output_dir`: `runs/raw`.
pub fn output_dir() -> PathBuf {
    crate::locations::RUNS_DIR.into()
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
/// A model's `rate_limit_wait`: 300 seconds of waiting on 429s per
/// request, five windows of a limit counted per clock minute (LiteLLM).
pub fn rate_limit_wait() -> f64 {
    300.0
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
/// `workspace.timeout_secs`: 120 seconds per command.
pub fn workspace_timeout() -> f64 {
    120.0
}
/// `workspace.memory_mb`: 4 GiB.
pub fn workspace_memory_mb() -> u64 {
    4096
}
/// `workspace.max_processes`: 256.
pub fn workspace_processes() -> u64 {
    256
}
/// `workspace.max_file_mb`: 256 MiB.
pub fn workspace_file_mb() -> u64 {
    256
}
/// `workspace.diff_exclude`: version control and Python caches.
pub fn diff_exclude() -> Vec<String> {
    [".git", "__pycache__", "*.pyc", ".pytest_cache"].map(String::from).to_vec()
}
/// `workspace.max_diff_bytes`: 1 MiB.
pub fn max_diff_bytes() -> usize {
    1 << 20
}
/// A served model's `ready_timeout`: 1800 seconds (big models load slowly).
pub fn ready_timeout() -> f64 {
    1800.0
}
/// A served model's `stop_grace`: 30 seconds between SIGTERM and SIGKILL.
pub fn stop_grace() -> f64 {
    30.0
}
/// A served model's `health_interval`: 10 seconds.
pub fn health_interval() -> f64 {
    10.0
}
/// A served model's `max_restarts`: 2.
pub fn max_restarts() -> u32 {
    2
}
/// Whether a job's `overrides` file is merged.
pub fn apply_overrides() -> bool {
    true
}
