//! `assay process`: raw runs to parquet files and an index.

use super::ExitStatus;
use super::output::{ask, errln, outln};
use super::table::new_table;
use super::winrate::WinrateArgs;
use crate::locations;
use crate::process::hub::Hub;
use crate::process::sync::{self, PullMode, Pulled};
use crate::process::{self, FileAction, ProcessOptions};
use crate::store::JobStatus;
use anyhow::{Result, bail};
use serde::Deserialize;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
pub(crate) struct ProcessArgs {
    /// Where runs are read (default `runs/raw`).
    #[arg(long, value_name = "DIR")]
    runs_dir: Option<PathBuf>,
    /// Where parquet files and `env_index.json` are written (default `runs/processed`).
    #[arg(long, value_name = "DIR")]
    output_dir: Option<PathBuf>,
    /// Files written at once (default 4).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    max_workers: Option<u32>,
    /// Use jobs with this status (repeatable; default `completed`).
    #[arg(long = "status", value_name = "S", value_parser = parse_status)]
    statuses: Vec<JobStatus>,
    /// Use jobs that did not finish too (running, failed, interrupted), with
    /// the samples they have.
    #[arg(long)]
    process_incomplete: bool,
    /// Leave prompt, completion and reasoning text out of the files.
    #[arg(long)]
    drop_text: bool,
    /// Delete the output directory's files and index first (asks on a
    /// terminal; needs --yes otherwise).
    #[arg(long)]
    clean: bool,
    /// Answer yes to --clean's question.
    #[arg(long)]
    yes: bool,
    /// Show what would be written; write nothing.
    #[arg(long)]
    dry_run: bool,
    /// After processing, compute win rates with the options in this YAML
    /// file (as `assay winrate --config`), over the processed output.
    #[arg(long, value_name = "FILE")]
    winrate: Option<PathBuf>,
    /// Sync the output with this Hugging Face dataset repo (OWNER/NAME):
    /// pull before processing, push what changed after, in one commit.
    /// The token is read from `HF_TOKEN`.
    #[arg(long, value_name = "REPO")]
    hf_repo: Option<String>,
    /// What to do when the output directory already has files: `prompt`
    /// (ask on a terminal; `pull` otherwise), `pull` (download only files
    /// missing here, never overwrite), `clean` (replace the local files
    /// with the repo's).
    #[arg(long, value_enum, default_value_t = PullPolicy::Prompt)]
    hf_pull_policy: PullPolicy,
    /// The repo branch to sync with.
    #[arg(long, value_name = "BRANCH", default_value = "main")]
    hf_branch: String,
    /// A YAML file with any of these options (`runs_dir`, `output_dir`,
    /// `max_workers`, `status`, `process_incomplete`, `drop_text`,
    /// `clean`); flags given on the command line win.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

/// How a pull treats a non-empty output directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum PullPolicy {
    /// Ask on a terminal; `pull` otherwise.
    Prompt,
    /// Download only what is missing here.
    Pull,
    /// Replace the local files with the repo's.
    Clean,
}

/// The options a `--config` file may set.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProcessConfig {
    runs_dir: Option<PathBuf>,
    output_dir: Option<PathBuf>,
    max_workers: Option<usize>,
    #[serde(default)]
    status: Vec<JobStatus>,
    #[serde(default)]
    process_incomplete: bool,
    #[serde(default)]
    drop_text: bool,
    #[serde(default)]
    clean: bool,
}

fn parse_status(text: &str) -> Result<JobStatus, String> {
    serde_json::from_value(serde_json::Value::String(text.to_lowercase()))
        .map_err(|_| format!("`{text}` is not a job status (pending, running, completed, failed, interrupted)"))
}

pub(crate) async fn process(args: ProcessArgs, quiet: bool) -> Result<ExitStatus> {
    let file: ProcessConfig = match &args.config {
        Some(path) => crate::config::parse_file(path)?,
        None => ProcessConfig::default(),
    };
    let mut statuses = if args.statuses.is_empty() { file.status } else { args.statuses };
    if args.process_incomplete || file.process_incomplete {
        statuses.extend([JobStatus::Completed, JobStatus::Running, JobStatus::Failed, JobStatus::Interrupted]);
    }
    if statuses.is_empty() {
        statuses.push(JobStatus::Completed);
    }
    let options = ProcessOptions {
        runs_dir: args.runs_dir.or(file.runs_dir).unwrap_or_else(|| locations::RUNS_DIR.into()),
        output_dir: args.output_dir.or(file.output_dir).unwrap_or_else(|| locations::PROCESSED_DIR.into()),
        max_workers: args.max_workers.map(|n| n as usize).or(file.max_workers).unwrap_or(4),
        statuses,
        drop_text: args.drop_text || file.drop_text,
        dry_run: args.dry_run,
    };
    if !options.runs_dir.is_dir() {
        bail!("runs directory {} not found (run `assay bench` first, or pass --runs-dir)", options.runs_dir.display());
    }
    let cleaning = (args.clean || file.clean) && !args.dry_run;
    if cleaning {
        clean(&options.output_dir, args.yes)?;
    }
    let hub = args.hf_repo.as_deref().map(|repo| Hub::new(repo, &args.hf_branch)).transpose()?;
    if let Some(hub) = &hub
        && !cleaning
        && !args.dry_run
    {
        pull(hub, &options.output_dir, args.hf_pull_policy, args.yes).await?;
    }
    let (reports, _) = process::process(&options)?;
    if reports.is_empty() {
        outln!("No jobs with status {:?} in {}", options.statuses, options.runs_dir.display())?;
        return Ok(ExitStatus::Success);
    }
    let mut table = new_table(&["file", "rows", "from run", "action"]);
    for report in &reports {
        let action = match report.action {
            FileAction::Written => "written",
            FileAction::Unchanged => "unchanged",
            FileAction::WouldWrite => "would write",
        };
        table.add_row(vec![report.file.clone(), report.rows.to_string(), report.run_id.clone(), action.into()]);
    }
    if !quiet {
        outln!("{table}")?;
    }
    let written = reports.iter().filter(|r| r.action != FileAction::Unchanged).count();
    let verb = if options.dry_run { "would be written (dry run)" } else { "written" };
    outln!("{written} of {} files {verb}; output in {}", reports.len(), options.output_dir.display())?;
    if let Some(hub) = &hub
        && !options.dry_run
    {
        push(hub, &options.output_dir).await?;
    }
    match args.winrate {
        Some(config) if !options.dry_run => {
            super::winrate::winrate(WinrateArgs::from_file(config, &options.output_dir), quiet)
        }
        _ => Ok(ExitStatus::Success),
    }
}

/// Pull the repo's files into `dir`, asking how on a terminal when `policy` says so.
async fn pull(hub: &Hub, dir: &Path, policy: PullPolicy, yes: bool) -> Result<()> {
    let mode = || match policy {
        PullPolicy::Prompt if std::io::stdin().is_terminal() && !yes => ask_pull_mode(dir),
        PullPolicy::Prompt | PullPolicy::Pull => Ok(PullMode::MissingOnly),
        PullPolicy::Clean => Ok(PullMode::ReplaceLocal),
    };
    match sync::pull(hub, dir, mode).await? {
        Pulled::NoRepo => errln!("The Hub repo does not exist yet: nothing to pull (it is created on the first push)"),
        Pulled::Files(count) => errln!("Pulled {count} files from the Hub"),
    }
    Ok(())
}

fn ask_pull_mode(dir: &Path) -> Result<PullMode> {
    let answer = ask(&format!(
        "{} has files. Pull only missing files from the Hub [p], or replace them with the Hub's [c]?",
        dir.display()
    ))?;
    match answer.as_str() {
        "p" | "pull" => Ok(PullMode::MissingOnly),
        "c" | "clean" => Ok(PullMode::ReplaceLocal),
        _ => bail!("no answer: nothing was pulled (use --hf-pull-policy pull or clean)"),
    }
}

/// Push what changed, in one commit.
async fn push(hub: &Hub, dir: &Path) -> Result<()> {
    match sync::push(hub, dir).await? {
        0 => errln!("The Hub repo is up to date: nothing to push"),
        count => errln!("Pushed {count} files and the index to the Hub in one commit"),
    }
    Ok(())
}

/// Remove the parquet files and index under `dir`, after asking.
fn clean(dir: &Path, yes: bool) -> Result<()> {
    if !dir.exists() {
        return Ok(());
    }
    if !yes {
        if !std::io::stdin().is_terminal() {
            bail!("--clean deletes {}: add --yes to confirm", dir.display());
        }
        if ask(&format!("Delete everything in {}? [y/N]", dir.display()))? != "y" {
            bail!("not cleaned: nothing was done");
        }
    }
    std::fs::remove_dir_all(dir).map_err(|e| anyhow::anyhow!("cannot delete {}: {e}", dir.display()))
}
