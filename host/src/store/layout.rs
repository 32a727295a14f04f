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
//!
//! A run split into shards (`--shard 2/4`) has no `run_manifest.json`:
//! each shard writes only its own files, named with `shard-<i>-of-<n>`
//! before the extension, so shards on a shared filesystem never write the
//! same file and need no locks:
//!
//! ```text
//!   run_manifest.shard-2-of-4.json          shard 2's part of the manifest
//!   <job_id>/results.shard-2-of-4.jsonl     the job's samples that shard 2 owns
//!   <job_id>/summary.shard-2-of-4.json      their summary
//!   <job_id>/metadata.shard-2-of-4.json     what produced them
//!   superseded/<job_id>.shard-2-of-4-<time>/  shard 2's earlier results of a rerun job
//!   logs/assay-<time>.shard-2-of-4.log
//!   slurm.sbatch                            `assay slurm`: the job array's script
//!   logs/slurm-<job>_<task>.out             its tasks' output
//! ```

use serde::{Deserialize, Serialize};
use sha2::Digest;
use std::path::{Path, PathBuf};

/// The manifest's file name inside a run directory.
pub const MANIFEST_FILE: &str = "run_manifest.json";
const MANIFEST_STEM: &str = "run_manifest";
const RESULTS_FILE: &str = "results.jsonl";
const SUMMARY_FILE: &str = "summary.json";
const METADATA_FILE: &str = "metadata.json";
const SUPERSEDED_DIR: &str = "superseded";
const LOGS_DIR: &str = "logs";
const SCORE_SUMMARY_FILE: &str = "score_summary.json";
const SLURM_SCRIPT_FILE: &str = "slurm.sbatch";
const ARTIFACTS_DIR: &str = "artifacts";
const WORKSPACES_DIR: &str = "workspaces";
/// A sample's workspace diff against its task, in its artifacts.
pub const DIFF_FILE: &str = "diff.patch";
/// A sample's whole conversation (tool calls and results included), in its artifacts.
pub const TRANSCRIPT_FILE: &str = "transcript.json";

/// One of the processes a run is split across (`--shard 2/4`): its index,
/// from 0, and how many there are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Shard {
    /// Which shard, `0..count`.
    pub index: u32,
    /// How many shards the run is split into.
    pub count: u32,
}

impl Shard {
    /// Shard `index` of `count`; an error says what is wrong with them.
    pub fn new(index: u32, count: u32) -> Result<Shard, String> {
        if count == 0 {
            return Err("the shard count must be at least 1".into());
        }
        if index >= count {
            return Err(format!("shard {index} of {count} does not exist: shards are numbered 0 to {}", count - 1));
        }
        Ok(Shard { index, count })
    }

    /// `shard-2-of-4`, the part of its file names.
    fn tag(self) -> String {
        format!("shard-{}-of-{}", self.index, self.count)
    }

    /// `name` with the shard's tag before the extension:
    /// `results.jsonl` → `results.shard-2-of-4.jsonl`.
    fn file_name(self, name: &str) -> String {
        match name.split_once('.') {
            Some((stem, extension)) => format!("{stem}.{}.{extension}", self.tag()),
            None => format!("{name}.{}", self.tag()),
        }
    }

    /// The shard whose manifest part has this file name, if it is one.
    fn of_manifest_part(file_name: &str) -> Option<Shard> {
        let tag = file_name.strip_prefix(MANIFEST_STEM)?.strip_prefix(".shard-")?.strip_suffix(".json")?;
        let (index, count) = tag.split_once("-of-")?;
        Shard::new(index.parse().ok()?, count.parse().ok()?).ok()
    }
}

impl std::fmt::Display for Shard {
    /// `2/4`, as `--shard` takes it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// The paths of one run directory, as one process sees it: the whole run,
/// or one shard's files.
#[derive(Debug, Clone)]
pub struct RunLayout {
    root: PathBuf,
    shard: Option<Shard>,
}

impl RunLayout {
    /// The run directory at `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        RunLayout { root: root.into(), shard: None }
    }

    /// The files that `shard` writes in the run directory at `root` (with
    /// `None`, the run's own, as [`RunLayout::new`]).
    pub fn for_shard(root: impl Into<PathBuf>, shard: Option<Shard>) -> Self {
        RunLayout { root: root.into(), shard }
    }

    /// The run directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The shard whose files these are, if any.
    pub fn shard(&self) -> Option<Shard> {
        self.shard
    }

    /// `name`, or the shard's version of it.
    fn own(&self, name: &str) -> String {
        self.shard.map_or_else(|| name.to_string(), |shard| shard.file_name(name))
    }

    /// `run_manifest.json`, or this shard's part of it.
    pub fn manifest(&self) -> PathBuf {
        self.root.join(self.own(MANIFEST_FILE))
    }

    /// Whether the directory holds a run: a manifest, or a shard's part of one.
    pub fn exists(&self) -> bool {
        self.root.join(MANIFEST_FILE).is_file() || !self.manifest_parts().is_empty()
    }

    /// The manifest parts in the directory (written by shards), by shard.
    pub fn manifest_parts(&self) -> Vec<(Shard, PathBuf)> {
        let Ok(entries) = std::fs::read_dir(&self.root) else { return Vec::new() };
        let mut parts: Vec<(Shard, PathBuf)> = entries
            .filter_map(|entry| {
                let path = entry.ok()?.path();
                Some((Shard::of_manifest_part(path.file_name()?.to_str()?)?, path))
            })
            .collect();
        parts.sort();
        parts
    }

    /// The files of job `job_id` (this shard's, for a shard).
    pub fn job(&self, job_id: &str) -> JobLayout {
        JobLayout { dir: self.root.join(job_id), shard: self.shard }
    }

    /// The files of job `job_id` in a run split into `shards`: each shard's
    /// (`None`: the run is not split, the job's one set), whether they
    /// exist yet or not.
    pub fn job_parts(&self, job_id: &str, shards: Option<u32>) -> Vec<JobLayout> {
        match shards {
            None => vec![RunLayout::new(&self.root).job(job_id)],
            Some(count) => (0..count)
                .map(|index| RunLayout::for_shard(&self.root, Some(Shard { index, count })).job(job_id))
                .collect(),
        }
    }

    /// Where earlier results of rerun jobs are moved.
    pub fn superseded_dir(&self) -> PathBuf {
        self.root.join(SUPERSEDED_DIR)
    }

    /// Where each invocation's full log goes.
    pub fn logs_dir(&self) -> PathBuf {
        self.root.join(LOGS_DIR)
    }

    /// A new file for this invocation's full log: `logs/assay-<UTC time>.log`
    /// (with the shard's tag, for a shard, so shards never share one).
    pub fn new_log_file(&self) -> PathBuf {
        let dir = self.logs_dir();
        let file = |name: &str| self.own(&format!("{name}.log"));
        let name = super::first_free(&super::stamped("assay"), |name| dir.join(file(name)).exists());
        dir.join(file(&name))
    }

    /// `assay score`'s batch summary.
    pub fn score_summary(&self) -> PathBuf {
        self.root.join(SCORE_SUMMARY_FILE)
    }

    /// `assay slurm`'s batch script.
    pub fn slurm_script(&self) -> PathBuf {
        self.root.join(SLURM_SCRIPT_FILE)
    }

    /// Where Slurm writes each array task's output (`%A` the array's job
    /// id, `%a` the task's index, as `sbatch --output` spells them).
    pub fn slurm_output_pattern(&self) -> PathBuf {
        self.logs_dir().join("slurm-%A_%a.out")
    }
}

/// The files of one job of a run (a shard's, for a shard).
#[derive(Debug, Clone)]
pub struct JobLayout {
    dir: PathBuf,
    shard: Option<Shard>,
}

impl JobLayout {
    /// The job's directory (shared by the shards of a split run).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn own(&self, name: &str) -> PathBuf {
        self.dir.join(self.shard.map_or_else(|| name.to_string(), |shard| shard.file_name(name)))
    }

    /// `results.jsonl`.
    pub fn results(&self) -> PathBuf {
        self.own(RESULTS_FILE)
    }

    /// `summary.json`.
    pub fn summary(&self) -> PathBuf {
        self.own(SUMMARY_FILE)
    }

    /// `metadata.json`.
    pub fn metadata(&self) -> PathBuf {
        self.own(METADATA_FILE)
    }

    /// The files this process owns for the job: the whole directory, or a
    /// shard's three files in it.
    pub fn own_files(&self) -> Vec<PathBuf> {
        match self.shard {
            None => vec![self.dir.clone()],
            Some(_) => vec![self.results(), self.summary(), self.metadata()],
        }
    }

    /// Whether any of [`JobLayout::own_files`] exists.
    pub fn has_files(&self) -> bool {
        self.own_files().iter().any(|path| path.exists())
    }

    /// The name under `superseded/` for these files moved aside:
    /// `<job_id>` or `<job_id>.shard-2-of-4`, before the time is added.
    pub fn superseded_name(&self, job_id: &str) -> String {
        self.shard.map_or_else(|| job_id.to_string(), |shard| format!("{job_id}.{}", shard.tag()))
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

/// A job's results file relative to its run directory, as the manifest
/// records it (a shard's, for a shard).
pub fn relative_results(job_id: &str, shard: Option<Shard>) -> String {
    format!("{job_id}/{}", shard.map_or_else(|| RESULTS_FILE.to_string(), |shard| shard.file_name(RESULTS_FILE)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_files_carry_the_shard_before_the_extension() {
        let shard = Shard::new(2, 4).unwrap();
        let layout = RunLayout::for_shard("/r", Some(shard));
        assert_eq!(layout.manifest(), Path::new("/r/run_manifest.shard-2-of-4.json"));
        assert_eq!(layout.job("j").results(), Path::new("/r/j/results.shard-2-of-4.jsonl"));
        assert_eq!(layout.job("j").summary(), Path::new("/r/j/summary.shard-2-of-4.json"));
        assert_eq!(layout.job("j").superseded_name("j"), "j.shard-2-of-4");
        assert_eq!(relative_results("j", Some(shard)), "j/results.shard-2-of-4.jsonl");
        assert_eq!(Shard::of_manifest_part("run_manifest.shard-2-of-4.json"), Some(shard));
        assert_eq!(Shard::of_manifest_part("run_manifest.shard-4-of-4.json"), None);
        assert_eq!(Shard::of_manifest_part("run_manifest.json"), None);
        assert_eq!(shard.to_string(), "2/4");
        let results: Vec<PathBuf> =
            RunLayout::new("/r").job_parts("j", Some(2)).iter().map(JobLayout::results).collect();
        assert_eq!(
            results,
            [Path::new("/r/j/results.shard-0-of-2.jsonl"), Path::new("/r/j/results.shard-1-of-2.jsonl")]
        );
    }

    #[test]
    fn shards_outside_the_count_are_refused_saying_why() {
        assert_eq!(Shard::new(4, 4).unwrap_err(), "shard 4 of 4 does not exist: shards are numbered 0 to 3");
        assert_eq!(Shard::new(0, 0).unwrap_err(), "the shard count must be at least 1");
    }

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
