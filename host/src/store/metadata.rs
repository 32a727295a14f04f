//! `metadata.json`: what produced a job's results, written when the job
//! starts. It holds the name of the API key variable, never its value.

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};

/// The contents of a job's `metadata.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct JobMetadata {
    /// The run.
    pub run_id: String,
    /// The job.
    pub job_id: String,
    /// The assay that wrote it.
    pub assay_version: String,
    /// When the job (last) started, RFC 3339.
    pub created_at: String,
    /// sha256 of `identity`.
    pub checksum: String,
    /// The inputs that change the job's results.
    pub identity: Value,
    /// The run seed.
    pub seed: u64,
    /// The model as planned (`plan`'s snapshot: kind, endpoint, limits).
    pub model: Value,
    /// The sampling args sent with every request.
    pub sampling_args: Map<String, Value>,
    /// The env variant as planned (`plan`'s snapshot: plugin path, args, limits).
    pub env: Value,
    /// The plugin that ran.
    pub plugin: PluginInfo,
    /// The dataset it ran on.
    pub dataset: DatasetInfo,
    /// The server assay started for the model (`serve:`): engine, engine
    /// version, command line, devices and log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<Value>,
    /// The job of an earlier run whose completions this job graded again
    /// (`assay rescore`); its model was not asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rescored_from: Option<RescoredJob>,
}

/// A job of an earlier run, graded again by `assay rescore`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RescoredJob {
    /// The earlier run.
    pub run_id: String,
    /// Its directory.
    pub run_dir: PathBuf,
    /// The job (a re-scoring job has the same id).
    pub job_id: String,
}

/// The plugin of a job.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PluginInfo {
    /// Its name, from its own description.
    pub name: String,
    /// Its version.
    pub version: String,
    /// The `assay:env` version it was built against.
    pub api_version: String,
    /// sha256 of the `.wasm` file.
    pub sha256: String,
    /// Where it was loaded from.
    pub path: PathBuf,
}

/// The dataset of a job.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DatasetInfo {
    /// The file read.
    pub path: PathBuf,
    /// sha256 of its bytes.
    pub sha256: String,
    /// Records used.
    pub records: usize,
    /// Where a Hub dataset came from: repo, config, split, revision, its
    /// commit and each file's sha256.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hub: Option<crate::dataset::HubOrigin>,
}

impl JobMetadata {
    /// Write it to `path`, atomically.
    pub fn write(&self, path: &Path) -> Result<()> {
        super::write_json(path, self)
    }

    /// Read it from `path`.
    pub fn read(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        serde_json::from_str(&text).with_context(|| format!("{}: not a job's metadata", path.display()))
    }
}
