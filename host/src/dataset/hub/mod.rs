//! Datasets from the Hugging Face Hub, through the `hf-hub` crate and the
//! standard cache Python's `huggingface_hub` uses (`$HF_HUB_CACHE`, else
//! `$HF_HOME/hub`): files one tool downloaded, the other reuses.
//!
//! Online, a revision is first resolved to its commit (so a dataset updated
//! on the Hub is a new commit, hence a visible identity change), the card
//! and file list decide which files hold the split ([`resolve`]), and those
//! files are fetched at that commit. The revision's commit is recorded in
//! the cache (`refs/<revision>`), so with `HF_HUB_OFFLINE=1` the same files
//! are found without the network. `HF_TOKEN` reaches gated datasets; it is
//! only ever sent to the Hub.

pub(crate) mod resolve;

use crate::config::HubDataset;
use crate::locations;
use anyhow::{Result, anyhow, bail};
use hf_hub::api::tokio::{Api, ApiBuilder, ApiError};
use hf_hub::{Cache, Repo, RepoType};
use resolve::Resolved;
use std::path::{Path, PathBuf};

/// The branch the Hub writes a parquet copy of every dataset to.
pub(crate) const CONVERTED: &str = "refs/convert/parquet";

/// The Hub, as the environment configures it.
pub(crate) struct Hub {
    api: Api,
    cache: PathBuf,
    endpoint: String,
    offline: bool,
}

/// A dataset's files, in the local cache.
#[derive(Debug, Clone)]
pub(crate) struct Fetched {
    /// The revision the files are on: the one asked for, or [`CONVERTED`].
    pub(crate) revision: String,
    /// Its commit.
    pub(crate) commit: String,
    /// Each file's path in the repo and in the cache, in order.
    pub(crate) files: Vec<(String, PathBuf)>,
}

impl Hub {
    /// The Hub of `HF_ENDPOINT`, `HF_TOKEN`, the cache and `HF_HUB_OFFLINE`;
    /// `progress` shows download bars (on a terminal).
    pub(crate) fn from_env(progress: bool) -> Result<Hub> {
        let cache = locations::hf_hub_cache();
        let endpoint = locations::hf_endpoint();
        let mut builder =
            ApiBuilder::from_cache(Cache::new(cache.clone())).with_endpoint(endpoint.clone()).with_progress(progress);
        if let Some(token) = locations::hf_token() {
            builder = builder.with_token(Some(token));
        }
        let api = builder.build().map_err(|e| anyhow!("cannot set up the Hugging Face Hub client: {e}"))?;
        Ok(Hub { api, cache, endpoint, offline: locations::hf_hub_offline() })
    }

    /// The cache directory.
    pub(crate) fn cache_dir(&self) -> &Path {
        &self.cache
    }

    /// The files of `dataset`'s config and split, downloaded if need be.
    pub(crate) async fn fetch(&self, dataset: &HubDataset) -> Result<Fetched> {
        if self.offline {
            return self.cached(dataset);
        }
        let revision = dataset.revision();
        let (commit, files) = self.listing(dataset, revision).await?;
        let card = match files.iter().any(|f| f == "README.md") {
            true => Some(std::fs::read_to_string(self.download(&dataset.hub, &commit, "README.md").await?)?),
            false => None,
        };
        let resolved = resolve::resolve(&files, card.as_deref(), dataset.config.as_deref(), &dataset.split);
        let (revision, commit, paths) = match resolved {
            Resolved::Files(paths) => (revision.to_string(), commit, paths),
            missing => match self.listing(dataset, CONVERTED).await {
                Ok((commit, files)) => {
                    match resolve::resolve_converted(&files, dataset.config.as_deref(), &dataset.split) {
                        Resolved::Files(paths) => (CONVERTED.to_string(), commit, paths),
                        _ => bail!("{}", missing_message(dataset, &missing)),
                    }
                }
                Err(_) => bail!("{}", missing_message(dataset, &missing)),
            },
        };
        let mut local = Vec::with_capacity(paths.len());
        for path in paths {
            let file = self.download(&dataset.hub, &commit, &path).await?;
            local.push((path, file));
        }
        self.remember(&dataset.hub, &revision, &commit)?;
        Ok(Fetched { revision, commit, files: local })
    }

    /// The commit of `revision` and its files.
    async fn listing(&self, dataset: &HubDataset, revision: &str) -> Result<(String, Vec<String>)> {
        let repo = Repo::with_revision(dataset.hub.clone(), RepoType::Dataset, revision.to_string());
        let info = self.api.repo(repo).info().await.map_err(|e| self.failure(&dataset.hub, revision, e))?;
        Ok((info.sha, info.siblings.into_iter().map(|s| s.rfilename).collect()))
    }

    /// A file of `repo` at `commit`, from the cache or downloaded into it.
    async fn download(&self, repo: &str, commit: &str, path: &str) -> Result<PathBuf> {
        let at = Repo::with_revision(repo.to_string(), RepoType::Dataset, commit.to_string());
        self.api
            .repo(at)
            .get(path)
            .await
            .map_err(|e| self.failure(repo, commit, e).context(format!("downloading {path}")))
    }

    /// Record in the cache that `revision` is `commit`, for offline use.
    fn remember(&self, repo: &str, revision: &str, commit: &str) -> Result<()> {
        let cache = Cache::new(self.cache.clone());
        let at = Repo::with_revision(repo.to_string(), RepoType::Dataset, revision.to_string());
        cache
            .repo(at)
            .create_ref(commit)
            .map_err(|e| anyhow!("cannot write the Hugging Face cache {}: {e}", self.cache.display()))
    }

    /// Offline: the files a previous fetch left in the cache.
    fn cached(&self, dataset: &HubDataset) -> Result<Fetched> {
        let not_cached = || {
            anyhow!(
                "{dataset} is not in the Hugging Face cache {} and HF_HUB_OFFLINE is set: run `assay data pull CONFIG` where the Hub is reachable",
                self.cache.display()
            )
        };
        let mut missing = None;
        for revision in [dataset.revision(), CONVERTED] {
            let Some((commit, snapshot)) = self.snapshot(&dataset.hub, revision) else { continue };
            let files = files_under(&snapshot);
            let card = std::fs::read_to_string(snapshot.join("README.md")).ok();
            let resolved = match revision {
                CONVERTED => resolve::resolve_converted(&files, dataset.config.as_deref(), &dataset.split),
                _ => resolve::resolve(&files, card.as_deref(), dataset.config.as_deref(), &dataset.split),
            };
            match resolved {
                Resolved::Files(paths) => {
                    let files = paths.into_iter().map(|p| (snapshot.join(&p), p)).map(|(local, p)| (p, local));
                    return Ok(Fetched { revision: revision.to_string(), commit, files: files.collect() });
                }
                other => missing = missing.or(Some(other)),
            }
        }
        match missing {
            // What was cached does not hold it: the config or split may not exist, or was never pulled.
            Some(missing) => Err(not_cached().context(missing_message(dataset, &missing))),
            None => Err(not_cached()),
        }
    }

    /// The commit the cache records for `revision` (a commit names itself)
    /// and its snapshot directory, if there is one.
    fn snapshot(&self, repo: &str, revision: &str) -> Option<(String, PathBuf)> {
        let dir = self.cache.join(Repo::new(repo.to_string(), RepoType::Dataset).folder_name());
        let commit = std::fs::read_to_string(dir.join("refs").join(revision))
            .map(|c| c.trim().to_string())
            .unwrap_or_else(|_| revision.to_string());
        let snapshot = dir.join("snapshots").join(&commit);
        snapshot.is_dir().then_some((commit, snapshot))
    }

    /// One line a user can act on.
    fn failure(&self, repo: &str, revision: &str, error: ApiError) -> anyhow::Error {
        let status = match &error {
            ApiError::RequestError(e) => e.status().map(|s| s.as_u16()),
            _ => None,
        };
        let token = locations::vars::HF_TOKEN;
        match status {
            Some(401) if locations::hf_token().is_none() => anyhow!(
                "Hugging Face dataset {repo} needs a token (gated or private): accept its terms on the Hub and set {token}"
            ),
            Some(401 | 403) => {
                anyhow!(
                    "Hugging Face dataset {repo} is gated or private and {token} has no access: accept its terms on the Hub"
                )
            }
            Some(404) => anyhow!("Hugging Face dataset {repo} (revision {revision}) not found at {}", self.endpoint),
            Some(status) => anyhow!("Hugging Face Hub at {}: HTTP {status} for {repo}", self.endpoint),
            None => anyhow!(
                "cannot reach the Hugging Face Hub at {} for {repo}: {error} (with HF_HUB_OFFLINE=1 the cache is used)",
                self.endpoint
            ),
        }
    }
}

/// "no config x (configs: a, b)" or "config c has no split x (splits: ...)".
fn missing_message(dataset: &HubDataset, missing: &Resolved) -> String {
    match missing {
        Resolved::NoConfig(known) if dataset.config.is_none() => {
            format!("Hugging Face dataset {}: name a config (configs: {})", dataset.hub, known.join(", "))
        }
        Resolved::NoConfig(known) => format!(
            "Hugging Face dataset {}: no config `{}` (configs: {})",
            dataset.hub,
            dataset.config.as_deref().unwrap_or_default(),
            known.join(", ")
        ),
        Resolved::NoSplit(known) => format!(
            "Hugging Face dataset {}{}: no split `{}` (splits: {})",
            dataset.hub,
            dataset.config.as_ref().map(|c| format!(" config {c}")).unwrap_or_default(),
            dataset.split,
            known.join(", ")
        ),
        Resolved::Files(_) => unreachable!("only a miss has a message"),
    }
}

/// Every file under `dir`, as `/`-separated paths relative to it.
fn files_under(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        for entry in std::fs::read_dir(&current).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if let Ok(relative) = path.strip_prefix(dir) {
                found.push(relative.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    found.sort();
    found
}
