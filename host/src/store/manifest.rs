//! `run_manifest.json`: every job of a run with its status, counts and
//! identity, and the [`RunDir`] that rewrites it atomically on each change.

use super::layout::{JobLayout, RunLayout, Shard};
use super::{now_rfc3339, write_json};
use anyhow::{Context, Result, anyhow};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Version of the manifest layout.
pub const MANIFEST_VERSION: u32 = 1;

/// Lifecycle of a job in the manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    /// Not started.
    Pending,
    /// Samples are running (or the process died while they were).
    Running,
    /// Every sample was scored.
    Completed,
    /// The job could not run, or some samples ended in an error.
    Failed,
    /// Stopped by Ctrl-C before every sample finished; a rerun resumes it.
    Interrupted,
}

impl JobStatus {
    /// The status as the manifest spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Pending => "pending",
            JobStatus::Running => "running",
            JobStatus::Completed => "completed",
            JobStatus::Failed => "failed",
            JobStatus::Interrupted => "interrupted",
        }
    }
}

/// One job in `run_manifest.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JobEntry {
    /// The job.
    pub job_id: String,
    /// The model (config id).
    pub model_id: String,
    /// The env (matrix base id).
    pub env_id: String,
    /// The env the variant belongs to (matrix base id).
    pub env_base_id: String,
    /// The job's sampling config (its name and job-matrix combination);
    /// manifests written before it existed read as `default`.
    #[serde(default = "default_config_id")]
    pub config_id: String,
    /// Where the job is in its lifecycle.
    pub status: JobStatus,
    /// Why a job failed, or what happened to its earlier results.
    pub reason: Option<String>,
    /// sha256 of `identity`.
    pub checksum: String,
    /// The inputs that change this job's results (see `runner::identity`):
    /// a rerun resumes the job only if they are the same.
    #[serde(default)]
    pub identity: Value,
    /// Samples the job has (records × rollouts).
    pub samples_total: u64,
    /// Samples recorded (scored or errored).
    pub samples_done: u64,
    /// Samples recorded with an error.
    pub samples_failed: u64,
    /// Mean reward so far (rollouts averaged per example first).
    pub mean_reward: Option<f64>,
    /// Replies the response cache served the job's samples.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub cache_hits: u64,
    /// When the job first started (RFC 3339).
    pub started_at: Option<String>,
    /// When the job last ended (RFC 3339).
    pub ended_at: Option<String>,
    /// Time spent running, summed over every invocation that ran the job.
    pub duration_secs: Option<f64>,
    /// Results file, relative to the run directory.
    pub results: String,
    /// In a shard's manifest part: the job's samples that shard owns
    /// (`samples_total` counts the whole job's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard_samples: Option<u64>,
}

/// The run `assay rescore` graded again, and the jobs it took.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RescoreSource {
    /// The earlier run.
    pub run_id: String,
    /// Its jobs re-scored so far, in the order they were first taken.
    pub jobs: Vec<String>,
}

impl RescoreSource {
    /// Add `job_id` of run `run_id`, unless it is listed already.
    pub fn add(source: &mut Option<RescoreSource>, run_id: &str, job_id: &str) {
        let source = source.get_or_insert_with(|| RescoreSource { run_id: run_id.into(), jobs: Vec::new() });
        if !source.jobs.iter().any(|job| job == job_id) {
            source.jobs.push(job_id.into());
        }
    }
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

fn default_config_id() -> String {
    crate::config::DEFAULT_CONFIG_ID.into()
}

/// Counts of jobs by status.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct StatusCounts {
    /// Jobs.
    pub total: usize,
    /// Jobs not started.
    pub pending: usize,
    /// Jobs running.
    pub running: usize,
    /// Jobs completed.
    pub completed: usize,
    /// Jobs failed.
    pub failed: usize,
    #[serde(default)]
    /// Jobs interrupted.
    pub interrupted: usize,
}

/// `run_manifest.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    /// The manifest layout version.
    pub version: u32,
    /// The run id.
    pub run_id: String,
    /// The run name.
    pub name: String,
    /// The config file, as given.
    pub config_path: String,
    /// The assay that wrote it.
    pub assay_version: String,
    /// When the run was created (RFC 3339).
    pub created_at: String,
    /// When it last changed (RFC 3339).
    pub updated_at: String,
    /// The run whose completed jobs seeded this one (`--restart`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restart_source: Option<String>,
    /// The run whose completions this one graded again (`assay rescore`),
    /// and which of its jobs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rescore_source: Option<RescoreSource>,
    /// Every job of the run, in plan order.
    pub jobs: Vec<JobEntry>,
    /// Jobs counted by status.
    pub summary: StatusCounts,
    /// In a manifest part: the shard that writes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<Shard>,
    /// In the merged view of a run split into shards: how many there are.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shards: Option<u32>,
}

impl Manifest {
    pub(super) fn recount(&mut self) {
        let mut counts = StatusCounts { total: self.jobs.len(), ..StatusCounts::default() };
        for job in &self.jobs {
            match job.status {
                JobStatus::Pending => counts.pending += 1,
                JobStatus::Running => counts.running += 1,
                JobStatus::Completed => counts.completed += 1,
                JobStatus::Failed => counts.failed += 1,
                JobStatus::Interrupted => counts.interrupted += 1,
            }
        }
        self.summary = counts;
    }

    /// The entry of `job_id`, if the run has that job.
    pub fn job(&self, job_id: &str) -> Option<&JobEntry> {
        self.jobs.iter().find(|j| j.job_id == job_id)
    }

    /// Read `<run_dir>/run_manifest.json`, or, for a run split into
    /// shards, merge its shards' parts (see [`super::parts`]).
    pub fn read(run_dir: &Path) -> Result<Manifest> {
        let layout = RunLayout::new(run_dir);
        if !layout.manifest().exists() {
            let parts = super::parts::read_parts(run_dir)?;
            if !parts.is_empty() {
                return super::parts::merge(parts);
            }
        }
        Manifest::read_file(&layout.manifest())
    }

    /// Read one manifest file (a run's, or a shard's part).
    pub fn read_file(path: &Path) -> Result<Manifest> {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        let manifest: Manifest = serde_json::from_str(&text).map_err(|e| anyhow!("{}: {e}", path.display()))?;
        if manifest.version != MANIFEST_VERSION {
            return Err(anyhow!(
                "{}: manifest version {} is not {MANIFEST_VERSION}, which this assay writes",
                path.display(),
                manifest.version
            ));
        }
        Ok(manifest)
    }
}

/// An open run directory with its manifest (a shard's part, for a shard),
/// shared by every job task.
pub struct RunDir {
    layout: RunLayout,
    manifest: std::sync::Mutex<Manifest>,
}

impl RunDir {
    /// Create `<output_dir>/<run_id>/` and write the initial manifest.
    pub fn create(output_dir: &Path, manifest: Manifest) -> Result<Self> {
        let root = output_dir.join(&manifest.run_id);
        std::fs::create_dir_all(&root).with_context(|| format!("cannot create {}", root.display()))?;
        Self::with_manifest(RunLayout::new(root), manifest)
    }

    /// Take over the run at `layout` with `manifest` (an existing run's,
    /// updated, or a shard's part), and write it.
    pub fn with_manifest(layout: RunLayout, mut manifest: Manifest) -> Result<Self> {
        manifest.recount();
        manifest.updated_at = now_rfc3339();
        write_json(&layout.manifest(), &manifest)?;
        Ok(RunDir { layout, manifest: std::sync::Mutex::new(manifest) })
    }

    /// The run directory.
    pub fn root(&self) -> &Path {
        self.layout.root()
    }

    /// The files this process writes (a shard's, for a shard).
    pub fn layout(&self) -> &RunLayout {
        &self.layout
    }

    /// A job's files; its directory is created on first use.
    pub fn job_dir(&self, job_id: &str) -> Result<JobLayout> {
        let files = self.layout.job(job_id);
        std::fs::create_dir_all(files.dir()).with_context(|| format!("cannot create {}", files.dir().display()))?;
        Ok(files)
    }

    /// Change a job's entry and rewrite the manifest atomically.
    pub fn update_job(&self, job_id: &str, change: impl FnOnce(&mut JobEntry)) -> Result<()> {
        let mut manifest = self.manifest.lock().expect("manifest lock");
        if let Some(entry) = manifest.jobs.iter_mut().find(|j| j.job_id == job_id) {
            change(entry);
        }
        manifest.updated_at = now_rfc3339();
        manifest.recount();
        write_json(&self.layout.manifest(), &*manifest)
    }

    /// A copy of the manifest as last written.
    pub fn manifest(&self) -> Manifest {
        self.manifest.lock().expect("manifest lock").clone()
    }
}

/// Move a job's files (its directory, or a shard's files in it) out of the
/// way, to `<run_dir>/superseded/<job_id>[.shard-i-of-n]-<UTC time>[-n]/`,
/// so a fresh start of the job loses nothing. Returns where they went
/// (`None` if there was nothing).
pub fn supersede_job_dir(layout: &RunLayout, job_id: &str) -> Result<Option<PathBuf>> {
    let files = layout.job(job_id);
    if !files.has_files() {
        return Ok(None);
    }
    let parent = layout.superseded_dir();
    let target = parent.join(super::new_run_id(&parent, &files.superseded_name(job_id)));
    let moved = |from: &Path, to: &Path| {
        std::fs::rename(from, to).with_context(|| format!("cannot move {} to {}", from.display(), to.display()))
    };
    std::fs::create_dir_all(&parent).with_context(|| format!("cannot create {}", parent.display()))?;
    match layout.shard() {
        None => moved(files.dir(), &target)?,
        Some(_) => {
            std::fs::create_dir(&target).with_context(|| format!("cannot create {}", target.display()))?;
            for file in files.own_files().iter().filter(|f| f.exists()) {
                moved(file, &target.join(file.file_name().expect("a job file has a name")))?;
            }
        }
    }
    Ok(Some(target))
}

/// Every run under `output_dir` (directories holding a readable manifest),
/// newest first by `updated_at`. Unreadable manifests are skipped with a
/// warning: one broken run must not hide the others.
pub fn list_runs(output_dir: &Path) -> Result<Vec<(PathBuf, Manifest)>> {
    let entries = match std::fs::read_dir(output_dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", output_dir.display())),
    };
    let mut runs = Vec::new();
    for entry in entries {
        let dir = entry.with_context(|| format!("cannot read {}", output_dir.display()))?.path();
        if !RunLayout::new(&dir).exists() {
            continue;
        }
        match Manifest::read(&dir) {
            Ok(manifest) => runs.push((dir, manifest)),
            Err(error) => tracing::warn!("skipping run {}: {error:#}", dir.display()),
        }
    }
    runs.sort_by(|(_, a), (_, b)| b.updated_at.cmp(&a.updated_at).then_with(|| b.run_id.cmp(&a.run_id)));
    Ok(runs)
}
