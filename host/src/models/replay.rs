//! The built-in `replay` model: answers with completions generated
//! elsewhere (another inference stack, a training job's eval loop), read
//! from files, so environments can score them without calling any model.
//!
//! The files (JSONL, JSON, CSV or parquet, optionally gzipped) hold one
//! completion per row: an id field naming the dataset record and a
//! completion field. Several rows with one id are that record's rollouts,
//! in file order. A record without a completion for its rollout is a
//! per-sample error, not a failed run.

use crate::dataset;
use anyhow::{Result, bail};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The completions of one replay model.
#[derive(Debug)]
pub struct ReplayBook {
    /// The completions per example id, in file order (one per rollout).
    completions: HashMap<String, Vec<String>>,
    /// sha256 over the files' hashes and the field names: part of job identity.
    pub fingerprint: String,
    /// Completions read, over all files.
    pub rows: usize,
    /// Completions read from each file, in the order given.
    pub rows_per_file: Vec<usize>,
}

impl ReplayBook {
    /// Read `files` (in order), taking ids from `id_field` and completions
    /// from `completion_field`. A row without either is an error naming
    /// its file and line.
    pub fn load(files: &[PathBuf], id_field: &str, completion_field: &str) -> Result<Self> {
        let mut completions: HashMap<String, Vec<String>> = HashMap::new();
        let mut hasher = Sha256::new();
        hasher.update(format!("{id_field}\0{completion_field}\0"));
        let mut rows = 0;
        let mut rows_per_file = Vec::with_capacity(files.len());
        for file in files {
            let (sha256, file_rows) = dataset::read_rows(file)?;
            hasher.update(sha256.as_bytes());
            rows_per_file.push(file_rows.len());
            for (index, row) in file_rows.into_iter().enumerate() {
                let at = || place(file, index, row.line);
                let Some(id) = row.object.get(id_field).and_then(dataset::id_value) else {
                    bail!("{}: no string or number `{id_field}` (set the replay id field)", at());
                };
                let completion = match row.object.get(completion_field) {
                    Some(Value::String(text)) => text.clone(),
                    _ => bail!("{}: no string `{completion_field}` (set the replay completion field)", at()),
                };
                completions.entry(id).or_default().push(completion);
                rows += 1;
            }
        }
        Ok(ReplayBook { completions, fingerprint: hex::encode(hasher.finalize()), rows, rows_per_file })
    }

    /// The completion for `example_id`'s `rollout`.
    pub fn completion(&self, example_id: &str, rollout: u32) -> Result<&str, String> {
        let found = self.completions.get(example_id);
        match found.and_then(|all| all.get(rollout as usize)) {
            Some(text) => Ok(text),
            None => Err(match found {
                None => format!("no completion for id `{example_id}`"),
                Some(all) => format!("id `{example_id}` has {} completions; rollout {rollout} has none", all.len()),
            }),
        }
    }

    /// The most completions any id has: the rollouts they can fill.
    pub fn max_rollouts(&self) -> u32 {
        self.completions.values().map(Vec::len).max().unwrap_or(0) as u32
    }

    /// How many example ids have at least one completion.
    pub fn ids(&self) -> usize {
        self.completions.len()
    }
}

/// `file:line N` (text formats) or `file: row N`.
fn place(file: &Path, index: usize, line: Option<usize>) -> String {
    match line {
        Some(line) => format!("{}:{line}", file.display()),
        None => format!("{}: row {index}", file.display()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_with_one_id_are_rollouts_and_gaps_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("solutions.jsonl");
        std::fs::write(
            &file,
            "{\"id\": 1, \"out\": \"a\"}\n{\"id\": 1, \"out\": \"b\"}\n{\"id\": \"x\", \"out\": \"c\"}\n",
        )
        .unwrap();
        let book = ReplayBook::load(std::slice::from_ref(&file), "id", "out").unwrap();
        assert_eq!((book.rows, book.ids()), (3, 2));
        assert_eq!(book.completion("1", 1), Ok("b"));
        assert_eq!(book.completion("x", 0), Ok("c"));
        assert_eq!(book.completion("x", 1), Err("id `x` has 1 completions; rollout 1 has none".into()));
        assert_eq!(book.completion("y", 0), Err("no completion for id `y`".into()));
        let other_field = ReplayBook::load(std::slice::from_ref(&file), "id", "completion").unwrap_err().to_string();
        assert_eq!(
            other_field,
            format!("{}:1: no string `completion` (set the replay completion field)", file.display())
        );
    }
}
