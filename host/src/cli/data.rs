//! `assay data pull` and `assay data ls`: Hugging Face Hub datasets in the
//! local cache, so compute nodes without internet run what a login node
//! pulled (with `HF_HUB_OFFLINE=1`).

use super::ExitStatus;
use super::output::{errln, outln};
use super::table::new_table;
use crate::config::{DatasetSource, HubDataset};
use crate::dataset::hub::Hub;
use crate::plan;
use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use std::collections::BTreeSet;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
pub(crate) struct DataArgs {
    #[command(subcommand)]
    command: DataCommand,
}

#[derive(Debug, Subcommand)]
enum DataCommand {
    /// Download every Hub dataset the jobs of these configs use (those
    /// they name, and the default datasets of plugins of envs naming none)
    /// into the Hugging Face cache (`$HF_HUB_CACHE`, else `$HF_HOME/hub`).
    Pull {
        /// Run configs (YAML or TOML).
        #[arg(required = true, value_name = "CONFIG")]
        configs: Vec<PathBuf>,
    },
    /// List the Hub datasets in the cache: revisions, commits, files and size.
    Ls,
}

pub(crate) async fn data(args: DataArgs, quiet: bool) -> Result<ExitStatus> {
    match args.command {
        DataCommand::Pull { configs } => pull(&configs, quiet).await,
        DataCommand::Ls => ls(),
    }
}

async fn pull(configs: &[PathBuf], quiet: bool) -> Result<ExitStatus> {
    let mut datasets = BTreeSet::new();
    let mut runtime = None;
    for config in configs {
        let plan = plan::plan(config)?;
        for job in &plan.jobs {
            let source = match &job.env.dataset {
                // The env's plugin says which (`math`: GSM8K's test split).
                DatasetSource::PluginDefault => {
                    let runtime = match &mut runtime {
                        Some(runtime) => runtime,
                        None => runtime.insert(super::plugin::runtime()?),
                    };
                    let plugin = runtime.load(&job.env.plugin).await.with_context(|| format!("job {}", job.job_id))?;
                    crate::dataset::plugin_default(&plugin, &job.env.id)?
                }
                named => named.clone(),
            };
            if let DatasetSource::Hub(hub) = source {
                datasets.insert(HubKey(hub));
            }
        }
    }
    if crate::locations::hf_hub_offline() {
        bail!("HF_HUB_OFFLINE is set: nothing can be pulled (unset it where the Hub is reachable)");
    }
    let hub = Hub::from_env(!quiet && std::io::stderr().is_terminal())?;
    let mut table = new_table(&["dataset", "revision", "commit", "files"]);
    let mut failed = 0;
    for HubKey(dataset) in &datasets {
        match hub.fetch(dataset).await {
            Ok(fetched) => table.add_row(vec![
                dataset.to_string(),
                fetched.revision,
                fetched.commit.chars().take(12).collect(),
                fetched.files.iter().map(|(path, _)| path.as_str()).collect::<Vec<_>>().join(", "),
            ]),
            Err(error) => {
                failed += 1;
                errln!("error: {error:#}");
                continue;
            }
        };
    }
    outln!("{table}")?;
    outln!("{} of {} datasets in {}", datasets.len() - failed, datasets.len(), hub.cache_dir().display())?;
    Ok(ExitStatus::failed_if(failed > 0))
}

/// A Hub dataset ordered by how it is written, to pull each once.
#[derive(PartialEq, Eq)]
struct HubKey(HubDataset);

impl Ord for HubKey {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.to_string().cmp(&other.0.to_string())
    }
}

impl PartialOrd for HubKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

fn ls() -> Result<ExitStatus> {
    let cache = crate::locations::hf_hub_cache();
    let mut table = new_table(&["dataset", "revisions", "snapshots", "size"]);
    let mut entries: Vec<PathBuf> =
        std::fs::read_dir(&cache).map(|dir| dir.flatten().map(|e| e.path()).collect()).unwrap_or_default();
    entries.sort();
    let mut count = 0;
    for repo in entries {
        let Some(name) = repo.file_name().and_then(|n| n.to_str()).and_then(|n| n.strip_prefix("datasets--")) else {
            continue;
        };
        count += 1;
        let revisions: Vec<String> = refs(&repo.join("refs"))
            .into_iter()
            .map(|(rev, commit)| format!("{rev} → {}", &commit[..commit.len().min(12)]))
            .collect();
        let snapshots = std::fs::read_dir(repo.join("snapshots")).map_or(0, |d| d.count());
        table.add_row(vec![
            name.replacen("--", "/", 1),
            revisions.join(", "),
            snapshots.to_string(),
            size(&repo.join("blobs")),
        ]);
    }
    if count == 0 {
        outln!("No Hub datasets in {}", cache.display())?;
        return Ok(ExitStatus::Success);
    }
    outln!("{table}")?;
    outln!("{count} datasets in {}", cache.display())?;
    Ok(ExitStatus::Success)
}

/// Every `refs/<revision>` file (revisions may hold `/`) with its commit.
fn refs(dir: &Path) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        for path in std::fs::read_dir(&current).into_iter().flatten().flatten().map(|e| e.path()) {
            if path.is_dir() {
                pending.push(path);
            } else if let (Ok(rev), Ok(commit)) = (path.strip_prefix(dir), std::fs::read_to_string(&path)) {
                found.push((rev.to_string_lossy().into_owned(), commit.trim().to_string()));
            }
        }
    }
    found.sort();
    found
}

/// The total size of the files in `dir`, for people.
fn size(dir: &Path) -> String {
    let bytes: u64 =
        std::fs::read_dir(dir).into_iter().flatten().flatten().filter_map(|e| e.metadata().ok()).map(|m| m.len()).sum();
    match bytes {
        b if b >= 1 << 30 => format!("{:.1} GiB", b as f64 / (1u64 << 30) as f64),
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / (1u64 << 20) as f64),
        b => format!("{:.1} KiB", b as f64 / 1024.0),
    }
}
