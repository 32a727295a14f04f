//! Sharing processed results through a Hugging Face dataset repo: pull the
//! repo's parquet files and index into the output directory before
//! processing, push what changed after, in one commit.

use super::hub::Hub;
use super::{INDEX_FILE, merge_index, read_index};
use anyhow::Result;
use std::path::{Path, PathBuf};

/// What a pull did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pulled {
    /// The repo does not exist yet (it is created on the first push).
    NoRepo,
    /// This many files were downloaded (the index is merged, not counted).
    Files(usize),
}

/// Files the sync carries: parquet files and the index.
fn is_synced(path: &str) -> bool {
    path.ends_with(".parquet") || path == INDEX_FILE
}

/// Bring the repo's files that `dir` lacks into it, never overwriting one.
/// The remote index is merged into the local one, local entries winning.
pub async fn pull(hub: &Hub, dir: &Path) -> Result<Pulled> {
    let Some(remote) = hub.list().await? else {
        return Ok(Pulled::NoRepo);
    };
    let remote: Vec<_> = remote.into_iter().filter(|f| is_synced(&f.path)).collect();
    let index_path = dir.join(INDEX_FILE);
    let mut local_index = read_index(&index_path)?;
    let mut pulled = 0;
    for file in &remote {
        let target = dir.join(&file.path);
        if file.path == INDEX_FILE {
            let tmp = dir.join(".remote-index.json");
            hub.download(&file.path, &tmp).await?;
            merge_index(&mut local_index, read_index(&tmp)?);
            std::fs::remove_file(&tmp)?;
        } else if !target.exists() {
            hub.download(&file.path, &target).await?;
            pulled += 1;
        }
    }
    if remote.iter().any(|f| f.path == INDEX_FILE) {
        crate::store::write_json(&index_path, &local_index)?;
    }
    Ok(Pulled::Files(pulled))
}

/// What a push did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pushed {
    /// Files uploaded (the index is not counted).
    pub files: usize,
    /// Repo files deleted because the output started fresh.
    pub deleted: usize,
}

/// Push every local file the repo lacks or holds in another version, with
/// the index, in one commit; with `replace`, the repo's parquet files this
/// output does not have are deleted in that commit, so the repo becomes
/// this output (they stay in its history). Nothing changed: no commit.
pub async fn push(hub: &Hub, dir: &Path, replace: bool) -> Result<Pushed> {
    let remote = hub.list().await?.unwrap_or_default();
    let index = read_index(&dir.join(INDEX_FILE))?;
    let mut files: Vec<(PathBuf, String)> = Vec::new();
    for (file, entry) in &index.files {
        let local = dir.join(file);
        let same = remote.iter().any(|r| r.path == *file && r.size == entry.bytes);
        if local.is_file() && !same {
            files.push((local, file.clone()));
        }
    }
    let deleted: Vec<String> = match replace {
        true => remote
            .into_iter()
            .filter(|r| is_synced(&r.path) && r.path != INDEX_FILE && !index.files.contains_key(&r.path))
            .map(|r| r.path)
            .collect(),
        false => Vec::new(),
    };
    let pushed = Pushed { files: files.len(), deleted: deleted.len() };
    if pushed != Pushed::default() {
        files.push((dir.join(INDEX_FILE), INDEX_FILE.into()));
        let summary = format!("assay process: {} files, {} deleted", pushed.files, pushed.deleted);
        hub.push(&files, &deleted, &summary).await?;
    }
    Ok(pushed)
}
