//! Every name in a run directory, in one place: other modules ask for a
//! path here instead of spelling a file name.
//!
//! ```text
//! <output_dir>/<run_id>/
//!   run_manifest.json         job statuses, counts and identities, rewritten atomically
//!   <job_id>/results.jsonl    one line per (example, rollout), appended as samples finish
//!   <job_id>/summary.json     n, mean reward, stderr, counts, tokens, duration
//!   <job_id>/metadata.json    what produced the results (no secrets)
//!   <job_id>/artifacts/<sample>/   a sample's files: diff.patch, transcript.json, those its env attached
//!   <job_id>/workspaces/<sample>/  a sample's workspace, with `--keep-workspaces`
//!   superseded/<job_id>-<time>/   earlier results of a job whose inputs changed
//!   logs/assay-<time>.log     full tracing log of each invocation
//!   score_summary.json        `assay score`: every checkpoint's outcome
//! ```

use sha2::Digest;
use std::path::{Path, PathBuf};

/// The manifest's file name inside a run directory.
pub const MANIFEST_FILE: &str = "run_manifest.json";
const RESULTS_FILE: &str = "results.jsonl";
const SUMMARY_FILE: &str = "summary.json";
const METADATA_FILE: &str = "metadata.json";
const SUPERSEDED_DIR: &str = "superseded";
const LOGS_DIR: &str = "logs";
const SCORE_SUMMARY_FILE: &str = "score_summary.json";
const ARTIFACTS_DIR: &str = "artifacts";
const WORKSPACES_DIR: &str = "workspaces";
/// A sample's workspace diff against its task, in its artifacts.
pub const DIFF_FILE: &str = "diff.patch";
/// A sample's whole conversation (tool calls and results included), in its artifacts.
pub const TRANSCRIPT_FILE: &str = "transcript.json";

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

    /// `artifacts/<sample>/`: the files of one sample (example and rollout).
    pub fn sample_artifacts(&self, example_id: &str, rollout: u32) -> PathBuf {
        self.dir.join(ARTIFACTS_DIR).join(sample_dir_name(example_id, rollout))
    }

    /// `workspaces/<sample>/`: where a sample's workspace is kept.
    pub fn kept_workspace(&self, example_id: &str, rollout: u32) -> PathBuf {
        self.dir.join(WORKSPACES_DIR).join(sample_dir_name(example_id, rollout))
    }

    /// `path` (inside the job's directory) relative to it, as result lines
    /// list artifacts.
    pub fn relative(&self, path: &Path) -> String {
        path.strip_prefix(&self.dir).unwrap_or(path).to_string_lossy().into_owned()
    }
}

/// A sample's directory name: `<example>-r<rollout>`, the example id
/// slugged, with a short hash of it when slugging changed it (so two ids
/// never share a directory).
fn sample_dir_name(example_id: &str, rollout: u32) -> String {
    let slug = super::slug(example_id);
    if slug == example_id {
        return format!("{slug}-r{rollout}");
    }
    let hash = hex::encode(&sha2::Sha256::digest(example_id.as_bytes())[..4]);
    format!("{slug}-{hash}-r{rollout}")
}

/// Whether a plugin may name an attached artifact `name`: a plain file
/// name (no directory, not hidden, not one the host writes).
pub fn artifact_name_ok(name: &str) -> bool {
    let plain = name.chars().all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
    plain
        && !name.is_empty()
        && !name.starts_with('.')
        && name.len() <= 100
        && ![DIFF_FILE, TRANSCRIPT_FILE].contains(&name)
}

/// A job's results file relative to its run directory, as the manifest records it.
pub fn relative_results(job_id: &str) -> String {
    format!("{job_id}/{RESULTS_FILE}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_directories_never_collide() {
        let job = RunLayout::new("/r").job("j");
        assert_eq!(job.sample_artifacts("t1", 0), PathBuf::from("/r/j/artifacts/t1-r0"));
        let (a, b) = (job.kept_workspace("a/b", 1), job.kept_workspace("a-b", 1));
        assert_ne!(a, b);
        assert!(a.to_string_lossy().starts_with("/r/j/workspaces/a-b-"), "{}", a.display());
        assert_eq!(job.relative(&job.sample_artifacts("t1", 0).join(DIFF_FILE)), "artifacts/t1-r0/diff.patch");
    }

    #[test]
    fn attached_artifacts_are_plain_names() {
        assert!(artifact_name_ok("test_output.txt"));
        for bad in ["", "../x", "a/b", ".hidden", "diff.patch", "transcript.json", "x y"] {
            assert!(!artifact_name_ok(bad), "{bad}");
        }
    }
}
