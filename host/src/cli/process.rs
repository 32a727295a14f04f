//! `assay process`: raw runs to parquet files and an index.

use super::ExitStatus;
use super::output::{ask, errln, outln};
use super::table::new_table;
use super::winrate::WinrateArgs;
use crate::locations;
use crate::process::hub::Hub;
use crate::process::sync::{self, Pulled, Pushed};
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
    /// The token is the config's `hf.token`, else `HF_TOKEN`.
    #[arg(long, value_name = "REPO")]
    hf_repo: Option<String>,
    /// What to do with the repo's files before processing: `prompt` (ask
    /// on a terminal when the output directory has files; `pull`
    /// otherwise), `pull` (download only files missing here, never
    /// overwrite), `clean` (start fresh, ignoring the remote: pull nothing,
    /// rebuild the output from the runs, and make the repo this output).
    #[arg(long, value_enum, value_name = "POLICY")]
    hf_pull_policy: Option<PullPolicy>,
    /// The repo branch to sync with (default `main`).
    #[arg(long, value_name = "BRANCH")]
    hf_branch: Option<String>,
    /// Whether a repo the push creates is private (default true).
    #[arg(long, value_name = "BOOL")]
    hf_private: Option<bool>,
    /// A YAML or TOML file with any of these options (`runs_dir`,
    /// `output_dir`, `max_workers`, `status`, `process_incomplete`,
    /// `drop_text`, `clean`, and an `hf:` block with `repo`, `branch`,
    /// `private`, `pull_policy`, `token`); `${VAR}` in values reads the
    /// environment. Flags given on the command line win.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

/// What to do with the repo's files before processing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum PullPolicy {
    /// Ask on a terminal when the output directory has files; `pull` otherwise.
    #[default]
    Prompt,
    /// Download only what is missing here.
    Pull,
    /// Start fresh, ignoring the remote.
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
    #[serde(default)]
    hf: HfConfig,
}

/// The `hf:` block of a `--config` file (the `--hf-*` flags).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct HfConfig {
    repo: Option<String>,
    branch: Option<String>,
    private: Option<bool>,
    pull_policy: Option<PullPolicy>,
    /// Kept in memory only: the config parser refuses a secret anywhere else.
    token: Option<String>,
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
        max_workers: args.max_workers.map(|n| n as usize).or(file.max_workers).unwrap_or(process::DEFAULT_MAX_WORKERS),
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
    let hf = file.hf;
    let hub = match args.hf_repo.or(hf.repo) {
        Some(repo) if !options.dry_run => {
            let branch = args.hf_branch.or(hf.branch).unwrap_or_else(|| "main".into());
            Some(Hub::new(&repo, &branch, hf.token, args.hf_private.or(hf.private).unwrap_or(true))?)
        }
        _ => None,
    };
    // Starting fresh: the output is rebuilt from the runs alone and the
    // push makes the repo hold exactly it.
    let mut fresh = cleaning;
    if let Some(hub) = &hub
        && !cleaning
    {
        let policy = args.hf_pull_policy.or(hf.pull_policy).unwrap_or_default();
        fresh = starts_fresh(policy, &options.output_dir, args.yes)?;
        match fresh {
            true => start_fresh(&options.output_dir)?,
            false => pull(hub, &options.output_dir).await?,
        }
    }
    let (reports, _) = process::process(&options)?;
    if reports.is_empty() {
        outln!(
            "No jobs with status {} in {}; nothing written (--process-incomplete adds failed, running and interrupted jobs with the samples they have)",
            options.statuses.iter().map(|status| status.as_str()).collect::<Vec<_>>().join(" or "),
            options.runs_dir.display()
        )?;
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
    if let Some(hub) = &hub {
        push(hub, &options.output_dir, fresh).await?;
    }
    match args.winrate {
        Some(config) if !options.dry_run => {
            super::winrate::winrate(WinrateArgs::from_file(config, &options.output_dir), quiet)
        }
        _ => Ok(ExitStatus::Success),
    }
}

/// Whether `policy` starts fresh, asking on a terminal when it says so
/// and `dir` has files.
fn starts_fresh(policy: PullPolicy, dir: &Path, yes: bool) -> Result<bool> {
    let has_files = std::fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_some());
    match policy {
        PullPolicy::Prompt if has_files && std::io::stdin().is_terminal() && !yes => ask_start_fresh(dir),
        PullPolicy::Prompt | PullPolicy::Pull => Ok(false),
        PullPolicy::Clean => Ok(true),
    }
}

fn ask_start_fresh(dir: &Path) -> Result<bool> {
    let answer = ask(&format!(
        "{} has files. Pull only missing files from the Hub [p], or start fresh, ignoring the Hub's [c]?",
        dir.display()
    ))?;
    match answer.as_str() {
        "p" | "pull" => Ok(false),
        "c" | "clean" => Ok(true),
        _ => bail!("no answer: nothing was done (use --hf-pull-policy pull or clean)"),
    }
}

/// Delete the output's files so it is rebuilt from the runs alone (they are
/// derived from runs, or kept in the repo's history).
fn start_fresh(dir: &Path) -> Result<()> {
    errln!("Starting fresh: nothing pulled from the Hub; the push replaces the repo's files with this output");
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(|e| anyhow::anyhow!("cannot delete {}: {e}", dir.display()))?;
    }
    Ok(())
}

/// Pull the repo's files this output lacks.
async fn pull(hub: &Hub, dir: &Path) -> Result<()> {
    match sync::pull(hub, dir).await? {
        Pulled::NoRepo => errln!("The Hub repo does not exist yet: nothing to pull (it is created on the first push)"),
        Pulled::Files(count) => errln!("Pulled {count} files from the Hub"),
    }
    Ok(())
}

/// Push what changed, in one commit; with `replace`, the repo becomes this output.
async fn push(hub: &Hub, dir: &Path, replace: bool) -> Result<()> {
    match sync::push(hub, dir, replace).await? {
        Pushed { files: 0, deleted: 0 } => errln!("The Hub repo is up to date: nothing to push"),
        Pushed { files, deleted: 0 } => errln!("Pushed {files} files and the index to the Hub in one commit"),
        Pushed { files, deleted } => {
            errln!(
                "Pushed {files} files and the index to the Hub, deleting {deleted} files not in this output, in one commit"
            )
        }
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
