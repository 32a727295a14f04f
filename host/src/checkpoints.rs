//! Finding training checkpoints' solution files for `assay score`.
//!
//! A solutions directory holds one folder per checkpoint, named with its
//! step at the end (`checkpoint_49/`, `step-98/`, `global_step_196/`), each
//! with files of completions (`.jsonl`, `.jsonl.gz`, `.json`, `.csv`,
//! `.parquet`), at any depth below it (`step-98/shard_0/part-1.jsonl`);
//! hidden files and folders are left out. Checkpoints are ordered by step as a number, so 49 comes
//! before 98 and 196.

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};

/// File name endings read as solution files.
const SOLUTION_SUFFIXES: [&str; 6] = [".jsonl", ".jsonl.gz", ".ndjson", ".json", ".csv", ".parquet"];

/// One checkpoint's folder and files.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Checkpoint {
    /// The folder's name, e.g. `global_step_196`.
    pub name: String,
    /// The step: the number the name ends with.
    pub step: u64,
    /// Its solution files at any depth, sorted by path (empty: nothing to score).
    pub files: Vec<PathBuf>,
}

impl Checkpoint {
    /// The model id its results are stored under, e.g. `checkpoint-196`.
    pub(crate) fn model_id(&self) -> String {
        format!("checkpoint-{}", self.step)
    }
}

/// The checkpoints in `dir`, by step. Folders whose name does not end in a
/// number are not checkpoints and are left out.
pub(crate) fn discover(dir: &Path) -> Result<Vec<Checkpoint>> {
    let entries = std::fs::read_dir(dir).with_context(|| format!("cannot read solutions dir {}", dir.display()))?;
    let mut checkpoints = Vec::new();
    for entry in entries {
        let path = entry.with_context(|| format!("cannot read solutions dir {}", dir.display()))?.path();
        let name = path.file_name().unwrap_or_default().to_string_lossy().into_owned();
        let Some(step) = trailing_number(&name) else { continue };
        if path.is_dir() {
            checkpoints.push(Checkpoint { name, step, files: solution_files(&path)? });
        }
    }
    if checkpoints.is_empty() {
        bail!(
            "{}: no checkpoint folders (folders named with their step at the end, e.g. checkpoint_49, step-98)",
            dir.display()
        );
    }
    checkpoints.sort_by(|a, b| (a.step, &a.name).cmp(&(b.step, &b.name)));
    if let Some(pair) = checkpoints.windows(2).find(|pair| pair[0].step == pair[1].step) {
        bail!("{}: {} and {} have the same step {}", dir.display(), pair[0].name, pair[1].name, pair[0].step);
    }
    Ok(checkpoints)
}

/// `global_step_196` → 196; `final` → none.
fn trailing_number(name: &str) -> Option<u64> {
    let digits = name.len() - name.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    name[name.len() - digits..].parse().ok()
}

/// The solution files under `dir`, recursively, sorted by path.
fn solution_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    collect_solution_files(dir, &mut files)?;
    files.sort();
    Ok(files)
}

fn collect_solution_files(dir: &Path, files: &mut Vec<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let path = entry.with_context(|| format!("cannot read {}", dir.display()))?.path();
        let name = path.file_name().unwrap_or_default().to_string_lossy().to_lowercase();
        if name.starts_with('.') {
            continue;
        }
        if path.is_dir() {
            collect_solution_files(&path, files)?;
        } else if path.is_file() && SOLUTION_SUFFIXES.iter().any(|suffix| name.ends_with(suffix)) {
            files.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoints_are_ordered_by_step_and_their_files_found_at_any_depth() {
        let dir = tempfile::tempdir().unwrap();
        for (folder, file) in [
            ("global_step_196", Some("a.jsonl")),
            ("checkpoint_49", Some("b.jsonl.gz")),
            ("step-98", Some("c.parquet")),
            ("final", Some("d.jsonl")),
            ("checkpoint_7", None),
            ("step-98/shard_1/part", Some("e.jsonl")),
            ("step-98/.cache", Some("f.jsonl")),
        ] {
            std::fs::create_dir_all(dir.path().join(folder)).unwrap();
            if let Some(file) = file {
                std::fs::write(dir.path().join(folder).join(file), "").unwrap();
                std::fs::write(dir.path().join(folder).join("notes.txt"), "").unwrap();
            }
        }
        std::fs::write(dir.path().join("step_5.jsonl"), "").unwrap(); // a file, not a folder
        let found = discover(dir.path()).unwrap();
        let names: Vec<(&str, u64, usize)> = found.iter().map(|c| (c.name.as_str(), c.step, c.files.len())).collect();
        assert_eq!(
            names,
            [("checkpoint_7", 7, 0), ("checkpoint_49", 49, 1), ("step-98", 98, 2), ("global_step_196", 196, 1)]
        );
        let nested = found[2].files[1].strip_prefix(dir.path()).unwrap();
        assert_eq!(nested, Path::new("step-98/shard_1/part/e.jsonl"), "found at any depth, hidden folders left out");
        assert_eq!(found[3].model_id(), "checkpoint-196");
    }

    #[test]
    fn duplicate_steps_and_empty_dirs_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        assert!(discover(dir.path()).unwrap_err().to_string().contains("no checkpoint folders"));
        std::fs::create_dir(dir.path().join("step-5")).unwrap();
        std::fs::create_dir(dir.path().join("checkpoint_5")).unwrap();
        assert!(discover(dir.path()).unwrap_err().to_string().contains("checkpoint_5 and step-5 have the same step 5"));
    }
}
