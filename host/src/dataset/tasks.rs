//! Prepared task directories as a dataset (`dataset: {tasks: DIR}`): every
//! subdirectory of `DIR` with a task file is one record, in name order.
//!
//! ```text
//! DIR/<task>/
//!   task.json | task.yaml | task.yml | task.toml   the metadata: an object, with at least `test_command`
//!   instructions.md | instructions.txt             the task text, unless the metadata has `instructions`
//!   repo/                                          the snapshot each sample's workspace is copied from (none: empty)
//!   overrides.json                                 merged over the metadata (top-level keys) with `apply_overrides: true`
//!   solution.patch                                 a reference diff, as `solution_patch` (for the oracle)
//! ```
//!
//! The record is the metadata with `id` (default: the directory's name),
//! `instructions`, `test_command` and, when present, `solution_patch`; a
//! plugin reads any other field it knows (`test_timeout_secs`,
//! `test_count`, `image`...). The dataset's hash covers every file of every
//! task (path and content), so a changed repository restarts its jobs.

use super::{Dataset, Row, assign_ids};
use crate::config::TaskDirs;
use anyhow::{Context, Result, anyhow, bail};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// Names of the metadata file, in the order they are looked for.
const TASK_FILES: [&str; 4] = ["task.json", "task.yaml", "task.yml", "task.toml"];
/// Names of the instructions file.
const INSTRUCTION_FILES: [&str; 2] = ["instructions.md", "instructions.txt"];
/// The repository snapshot.
const REPO_DIR: &str = "repo";
/// Metadata merged over the task file with `apply_overrides`.
const OVERRIDES_FILE: &str = "overrides.json";
/// A reference solution.
const SOLUTION_FILE: &str = "solution.patch";

/// What the host needs of a task beyond its record.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskDir {
    /// The task's directory.
    pub dir: PathBuf,
    /// The repository snapshot workspaces are made from, if the task has one.
    pub repo: Option<PathBuf>,
    /// The container image the task names (`image`), for the docker and podman backends.
    pub image: Option<String>,
}

/// Read every task of `source`, keeping the first `limit` records.
pub(super) fn load(source: &TaskDirs, id_field: Option<&str>, limit: Option<usize>) -> Result<Dataset> {
    let shown = source.tasks.display().to_string();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&source.tasks)
        .with_context(|| format!("cannot read task directory {shown}"))?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<std::io::Result<_>>()?;
    dirs.retain(|dir| dir.is_dir() && task_file(dir).is_some());
    dirs.sort();
    if dirs.is_empty() {
        bail!("{shown}: no task directories (each needs one of {})", TASK_FILES.join(", "));
    }
    let mut hasher = Sha256::new();
    hasher.update(format!("apply_overrides={}\n", source.apply_overrides));
    let (mut rows, mut tasks) = (Vec::new(), Vec::new());
    for dir in &dirs {
        let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let (record, task) =
            read_task(dir, &name, source.apply_overrides).with_context(|| format!("task {}", dir.display()))?;
        hash_tree(dir, &name, &mut hasher)?;
        rows.push(Row { object: record, line: None });
        tasks.push(task);
    }
    let records = assign_ids(rows, id_field, limit.unwrap_or(usize::MAX), &shown)?;
    tasks.truncate(records.len());
    Ok(Dataset { path: source.tasks.clone(), sha256: hex::encode(hasher.finalize()), records, hub: None, tasks })
}

fn task_file(dir: &Path) -> Option<PathBuf> {
    TASK_FILES.iter().map(|name| dir.join(name)).find(|path| path.is_file())
}

/// One task's record and files.
fn read_task(dir: &Path, name: &str, apply_overrides: bool) -> Result<(Map<String, Value>, TaskDir)> {
    let file = task_file(dir).expect("only directories with a task file are read");
    let mut record: Map<String, Value> = crate::config::parse_literal_file(&file)?;
    let overrides = dir.join(OVERRIDES_FILE);
    if apply_overrides && overrides.is_file() {
        let text = std::fs::read_to_string(&overrides)?;
        let object: Map<String, Value> =
            serde_json::from_str(&text).map_err(|e| anyhow!("{}: not a JSON object: {e}", overrides.display()))?;
        record.extend(object);
    }
    record.entry("id").or_insert_with(|| Value::String(name.to_string()));
    if !record.contains_key("instructions") {
        let Some(path) = INSTRUCTION_FILES.iter().map(|n| dir.join(n)).find(|p| p.is_file()) else {
            bail!("no instructions: add {} or an `instructions` field", INSTRUCTION_FILES.join(" or "));
        };
        record.insert("instructions".into(), std::fs::read_to_string(&path)?.into());
    }
    match record.get("test_command") {
        Some(Value::String(command)) if !command.trim().is_empty() => {}
        Some(_) => bail!("{}: `test_command` must be a non-empty string", file.display()),
        None => bail!(
            "{}: no `test_command` (the command whose exit status says whether the task is solved)",
            file.display()
        ),
    }
    let solution = dir.join(SOLUTION_FILE);
    if solution.is_file() {
        record.insert("solution_patch".into(), std::fs::read_to_string(&solution)?.into());
    }
    let repo = dir.join(REPO_DIR);
    let image = record.get("image").and_then(Value::as_str).map(String::from);
    Ok((record, TaskDir { dir: dir.to_path_buf(), repo: repo.is_dir().then_some(repo), image }))
}

/// Hash every file under `dir` (its path under `label`, then its bytes;
/// a link's target), in name order.
fn hash_tree(dir: &Path, label: &str, hasher: &mut Sha256) -> Result<()> {
    let mut entries: Vec<PathBuf> =
        std::fs::read_dir(dir)?.map(|entry| entry.map(|e| e.path())).collect::<std::io::Result<_>>()?;
    entries.sort();
    for path in entries {
        let name = format!("{label}/{}", path.file_name().unwrap_or_default().to_string_lossy());
        let metadata = std::fs::symlink_metadata(&path)?;
        if metadata.is_symlink() {
            hasher.update(format!("link {name} -> {}\n", std::fs::read_link(&path)?.display()));
        } else if metadata.is_dir() {
            hash_tree(&path, &name, hasher)?;
        } else {
            let bytes = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
            hasher.update(format!("file {name} {}\n", hex::encode(Sha256::digest(&bytes))));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, path: &str, text: &str) {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    fn source(dir: &Path, apply_overrides: bool) -> TaskDirs {
        TaskDirs { tasks: dir.to_path_buf(), apply_overrides }
    }

    fn record(dataset: &Dataset, i: usize) -> Map<String, Value> {
        serde_json::from_str(&dataset.records[i].json).unwrap()
    }

    #[test]
    fn every_task_directory_is_a_record_in_name_order() {
        let root = tempfile::tempdir().unwrap();
        write(root.path(), "b-task/task.yaml", "test_command: python3 -m unittest\ntest_count: 2\n");
        write(root.path(), "b-task/instructions.md", "Fix the bug.\n");
        write(root.path(), "b-task/repo/calc.py", "x = 1\n");
        write(
            root.path(),
            "a-task/task.json",
            r#"{"instructions": "Do it.", "test_command": "true", "image": "py:3"}"#,
        );
        write(root.path(), "a-task/solution.patch", "--- a/x\n+++ b/x\n");
        write(root.path(), "notes/README", "not a task");
        let dataset = load(&source(root.path(), false), None, None).unwrap();
        let ids: Vec<&str> = dataset.records.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["a-task", "b-task"]);
        assert_eq!(record(&dataset, 0)["solution_patch"], "--- a/x\n+++ b/x\n");
        assert_eq!(record(&dataset, 1)["instructions"], "Fix the bug.\n");
        assert_eq!(record(&dataset, 1)["test_count"], 2);
        assert_eq!(dataset.tasks[0].repo, None);
        assert_eq!(dataset.tasks[0].image.as_deref(), Some("py:3"));
        assert_eq!(dataset.tasks[1].repo.as_deref(), Some(root.path().join("b-task/repo").as_path()));
        let limited = load(&source(root.path(), false), None, Some(1)).unwrap();
        assert_eq!((limited.records.len(), limited.tasks.len()), (1, 1));
    }

    #[test]
    fn overrides_apply_only_when_asked_and_change_the_hash() {
        let root = tempfile::tempdir().unwrap();
        write(root.path(), "t/task.toml", "instructions = \"Go.\"\ntest_command = \"make test\"\n");
        write(root.path(), "t/overrides.json", r#"{"test_command": "make check", "test_timeout_secs": 5}"#);
        let plain = load(&source(root.path(), false), None, None).unwrap();
        let overridden = load(&source(root.path(), true), None, None).unwrap();
        assert_eq!(record(&plain, 0)["test_command"], "make test");
        assert_eq!(record(&overridden, 0)["test_command"], "make check");
        assert_eq!(record(&overridden, 0)["test_timeout_secs"], 5);
        assert_ne!(plain.sha256, overridden.sha256);
        write(root.path(), "t/repo/a.txt", "changed");
        assert_ne!(load(&source(root.path(), false), None, None).unwrap().sha256, plain.sha256, "a repo file counts");
    }

    #[test]
    fn a_task_without_instructions_or_test_command_is_named() {
        let root = tempfile::tempdir().unwrap();
        write(root.path(), "t/task.json", r#"{"test_command": "true"}"#);
        let error = format!("{:#}", load(&source(root.path(), false), None, None).unwrap_err());
        assert!(error.contains("/t: no instructions: add instructions.md or instructions.txt"), "{error}");
        write(root.path(), "t/task.json", r#"{"instructions": "x"}"#);
        let error = format!("{:#}", load(&source(root.path(), false), None, None).unwrap_err());
        assert!(error.contains("no `test_command`"), "{error}");
        let empty = tempfile::tempdir().unwrap();
        let error = format!("{:#}", load(&source(empty.path(), false), None, None).unwrap_err());
        assert!(error.contains("no task directories"), "{error}");
    }
}
