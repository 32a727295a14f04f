//! Every name in a run directory, in one place: other modules ask for a
//! path here instead of spelling a file name.
//!
//! ```text
//! <output_dir>/<run_id>/
//!   run_manifest.json         job statuses, counts and identities, rewritten atomically
//!   <job_id>/results.jsonl    one line per (example, rollout), appended as samples finish
//!   <job_id>/summary.json     n, mean reward, stderr, counts, tokens, duration
//!   <job_id>/metadata.json    what produced the results (no secrets)
//!   superseded/<job_id>-<time>/   earlier results of a job whose inputs changed
//!   logs/assay-<time>.log     full tracing log of each invocation
//!   score_summary.json        `assay score`: every checkpoint's outcome
//! ```

use std::path::{Path, PathBuf};

/// The manifest's file name inside a run directory.
pub const MANIFEST_FILE: &str = "run_manifest.json";
const RESULTS_FILE: &str = "results.jsonl";
const SUMMARY_FILE: &str = "summary.json";
const METADATA_FILE: &str = "metadata.json";
const SUPERSEDED_DIR: &str = "superseded";
const LOGS_DIR: &str = "logs";
const SCORE_SUMMARY_FILE: &str = "score_summary.json";

/// The paths of one run directory.
#[derive(Debug, Clone)]
pub struct RunLayout {
    root: PathBuf,
}

impl RunLayout {
    /// The run directory at `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        RunLayout { root: root.into() }
    }

    /// The run directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `run_manifest.json`.
    pub fn manifest(&self) -> PathBuf {
        self.root.join(MANIFEST_FILE)
    }

    /// Whether the directory holds a run (it has a manifest).
    pub fn exists(&self) -> bool {
        self.manifest().is_file()
    }

    /// The files of job `job_id`.
    pub fn job(&self, job_id: &str) -> JobLayout {
        JobLayout { dir: self.root.join(job_id) }
    }

    /// Where earlier results of rerun jobs are moved.
    pub fn superseded_dir(&self) -> PathBuf {
        self.root.join(SUPERSEDED_DIR)
    }

    /// Where each invocation's full log goes.
    pub fn logs_dir(&self) -> PathBuf {
        self.root.join(LOGS_DIR)
    }

    /// A new file for this invocation's full log: `logs/assay-<UTC time>.log`.
    pub fn new_log_file(&self) -> PathBuf {
        let dir = self.logs_dir();
        let name = super::first_free(&super::stamped("assay"), |name| dir.join(format!("{name}.log")).exists());
        dir.join(format!("{name}.log"))
    }

    /// `assay score`'s batch summary.
    pub fn score_summary(&self) -> PathBuf {
        self.root.join(SCORE_SUMMARY_FILE)
    }
}

/// The files of one job of a run.
#[derive(Debug, Clone)]
pub struct JobLayout {
    dir: PathBuf,
}

impl JobLayout {
    /// The job's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `results.jsonl`.
    pub fn results(&self) -> PathBuf {
        self.dir.join(RESULTS_FILE)
    }

    /// `summary.json`.
    pub fn summary(&self) -> PathBuf {
        self.dir.join(SUMMARY_FILE)
    }

    /// `metadata.json`.
    pub fn metadata(&self) -> PathBuf {
        self.dir.join(METADATA_FILE)
    }
}

/// A job's results file relative to its run directory, as the manifest records it.
pub fn relative_results(job_id: &str) -> String {
    format!("{job_id}/{RESULTS_FILE}")
}
