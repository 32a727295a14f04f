//! Sharing processed results through a Hugging Face dataset repo: pull the
//! repo's parquet files and index into the output directory before
//! processing, push what changed after, in one commit.

use super::hub::Hub;
use super::{INDEX_FILE, merge_index, read_index};
use anyhow::{Result, anyhow};
use std::path::{Path, PathBuf};

/// How a pull treats an output directory that already has files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PullMode {
    /// Download only files missing here; never overwrite.
    MissingOnly,
    /// Replace the local files with the repo's.
    ReplaceLocal,
}

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

/// Bring the repo's files into `dir`. `mode` is asked only when `dir`
/// already has files (an empty one takes everything). The remote index is
/// merged into the local one, local entries winning.
pub async fn pull(hub: &Hub, dir: &Path, mode: impl FnOnce() -> Result<PullMode>) -> Result<Pulled> {
    let Some(remote) = hub.list().await? else {
        return Ok(Pulled::NoRepo);
    };
    let remote: Vec<_> = remote.into_iter().filter(|f| is_synced(&f.path)).collect();
    let empty = std::fs::read_dir(dir).map_or(true, |mut entries| entries.next().is_none());
    if !empty && mode()? == PullMode::ReplaceLocal {
        std::fs::remove_dir_all(dir).map_err(|e| anyhow!("cannot delete {}: {e}", dir.display()))?;
    }
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

/// Push every local file the repo lacks or holds in another version, with
/// the index, in one commit. Returns how many files were pushed (0: the
/// repo was up to date and nothing was committed).
pub async fn push(hub: &Hub, dir: &Path) -> Result<usize> {
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
    let count = files.len();
    if count > 0 {
        files.push((dir.join(INDEX_FILE), INDEX_FILE.into()));
        hub.push(&files, &format!("assay process: {count} files")).await?;
    }
    Ok(count)
}
