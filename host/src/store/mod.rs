//! The run directory and every file in it; [`layout`] names them all.
//!
//! - [`layout`]: every path in a run directory.
//! - [`manifest`]: `run_manifest.json` and the [`RunDir`] that owns it.
//! - [`results`]: result lines: appending, and reading them back on resume
//!   (a torn last line from a crash is detected and cut off).
//! - `compact_line`: a result line read fast when it is exactly as assay
//!   writes it (what `process` reads).
//! - [`summary`]: per-job summaries and the statistics behind them.
//! - [`metadata`]: `metadata.json`, what produced a job's results.
//! - [`parts`]: a run split into shards, read as one run.

mod compact_line;
pub mod layout;
pub mod manifest;
pub mod metadata;
pub mod parts;
pub mod results;
pub mod summary;

pub use layout::{JobLayout, MANIFEST_FILE, RunLayout, Shard};
pub use manifest::{
    JobEntry, JobStatus, MANIFEST_VERSION, Manifest, RescoreSource, RunDir, StatusCounts, list_runs, supersede_job_dir,
};
pub use metadata::{DatasetInfo, JobMetadata, PluginInfo, RescoredJob};
pub use results::{
    AppendError, DroppedLines, ErrorKind, ExistingResults, JobShape, JudgeCall, LineError, ParseStatus, RawJson,
    ResultLine, ResultsWriter, SampleError, SampleResult, SampleSet, ScoredContinuation, Tokens, for_each_result,
    for_each_result_line, metric_names, read_existing, read_result_line,
};
pub use summary::{GroupMean, Summary, SummaryBuilder, mean_and_stderr, read_summaries};

use anyhow::{Context, Result};
use serde::Serialize;
use std::fs::File;
use std::io::Write;
use std::path::Path;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The current time as RFC 3339 (UTC).
pub fn now_rfc3339() -> String {
    OffsetDateTime::now_utc().format(&Rfc3339).expect("RFC 3339 formatting")
}

/// The slugged `name` plus the UTC time to the second: `quickstart-20261123-045924`.
pub(crate) fn stamped(name: &str) -> String {
    let now = OffsetDateTime::now_utc();
    let stamp = time::macros::format_description!("[year][month][day]-[hour][minute][second]");
    format!("{}-{}", slug(name), now.format(&stamp).expect("timestamp formatting"))
}

/// The first of `base`, `base-2`, `base-3`, ... that `taken` says is free.
pub(crate) fn first_free(base: &str, taken: impl Fn(&str) -> bool) -> String {
    let mut candidates = std::iter::once(base.to_string()).chain((2..).map(|n| format!("{base}-{n}")));
    candidates.find(|id| !taken(id)).expect("some name is free")
}

/// A new run id in `output_dir`: the slugged run name plus the UTC start
/// time, with `-2`, `-3`... when runs started within the same second.
pub fn new_run_id(output_dir: &Path, name: &str) -> String {
    first_free(&stamped(name), |id| output_dir.join(id).exists())
}

/// Create the directory of a new run, taking the next free id if `run_id`
/// was taken since it was chosen (another run started in the same second).
/// Returns the id and directory created.
pub fn create_run_dir(output_dir: &Path, run_id: &str) -> Result<(String, std::path::PathBuf)> {
    std::fs::create_dir_all(output_dir).with_context(|| format!("cannot create {}", output_dir.display()))?;
    let mut id = run_id.to_string();
    loop {
        let dir = output_dir.join(&id);
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok((id, dir)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                id = first_free(run_id, |candidate| output_dir.join(candidate).exists());
            }
            Err(e) => return Err(e).with_context(|| format!("cannot create {}", dir.display())),
        }
    }
}

/// Keep `[A-Za-z0-9_.-]`, turn anything else into `-`.
pub fn slug(text: &str) -> String {
    let mapped: String =
        text.chars().map(|c| if c.is_ascii_alphanumeric() || "_.-".contains(c) { c } else { '-' }).collect();
    let trimmed = mapped.trim_matches('-');
    if trimmed.is_empty() { "run".into() } else { trimmed.into() }
}

/// Replace `path` with what `write` puts into a temporary file beside it
/// (`<name>.tmp`), synced and then renamed over the target, so neither a
/// reader nor a crash ever sees half a file. `write` hands the file back
/// (writers such as parquet's take ownership of it) with its result. If it
/// fails, the temporary file is removed and the target is left as it was.
pub fn replace_atomically<T>(path: &Path, write: impl FnOnce(File) -> Result<(File, T)>) -> Result<T> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = path.with_file_name(format!("{name}.tmp"));
    let file = File::create(&tmp).with_context(|| format!("cannot write {}", tmp.display()))?;
    let written = write(file).and_then(|(file, value)| {
        file.sync_all().with_context(|| format!("cannot write {}", tmp.display()))?;
        Ok(value)
    });
    match written {
        Ok(value) => {
            std::fs::rename(&tmp, path).with_context(|| format!("cannot replace {}", path.display()))?;
            Ok(value)
        }
        Err(error) => {
            let _ = std::fs::remove_file(&tmp);
            Err(error)
        }
    }
}

/// Write `bytes` to `path` atomically (see [`replace_atomically`]).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    replace_atomically(path, |mut file| {
        file.write_all(bytes).with_context(|| format!("cannot write {}", path.display()))?;
        Ok((file, ()))
    })
}

/// Write pretty JSON atomically.
pub fn write_json(path: &Path, value: &impl Serialize) -> Result<()> {
    let mut bytes = serde_json::to_vec_pretty(value)?;
    bytes.push(b'\n');
    write_atomic(path, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_replacement_leaves_the_target_and_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("results.jsonl");
        std::fs::write(&target, "kept\n").unwrap();
        let failed = replace_atomically(&target, |mut file| -> Result<(File, ())> {
            file.write_all(b"half of a new ")?;
            anyhow::bail!("the writer failed midway")
        });
        assert_eq!(format!("{:#}", failed.unwrap_err()), "the writer failed midway");
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "kept\n");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "the temporary file is gone");
        write_atomic(&target, b"new\n").unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "new\n");
    }

    #[test]
    fn slug_keeps_safe_characters() {
        assert_eq!(slug("gpt-4o mini/v1"), "gpt-4o-mini-v1");
        assert_eq!(slug("///"), "run");
    }
}
