//! `assay rescore`: grade an earlier run's completions again (a fixed
//! scorer, a new judge, new env args) into a new run, without asking the
//! model under test. The new run has the layout `bench` writes, so
//! `process`, `analyze` and `report` read it like any run, and a rerun
//! resumes it (see `runner::rescore`).

use super::ExitStatus;
use super::execute::{execute_and_report, print_plan, run_options, run_status};
use super::values::json_object;
use crate::locations::RUNS_DIR;
use crate::plan::{self, Overrides};
use crate::runner::{self, RunOptions, Selection};
use crate::store::{Manifest, RunLayout};
use anyhow::{Result, bail};
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
pub(crate) struct RescoreArgs {
    /// The run whose completions are graded again.
    #[arg(value_name = "RUN_ID")]
    run_id: String,
    /// The directory holding the run; the new run is written there too.
    #[arg(long, value_name = "DIR", default_value = RUNS_DIR)]
    output_dir: PathBuf,
    /// The config whose envs and judges grade [default: the config the run
    /// was made from, as its manifest records it].
    #[arg(short, long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Re-score only this job of the run (repeatable) [default: every job
    /// with results].
    #[arg(long = "job-id", value_name = "ID")]
    job_ids: Vec<String>,
    /// JSON object merged over every job's env args, e.g. '{"scale": "1-10"}'.
    /// Part of job identity.
    #[arg(long, value_name = "JSON", value_parser = json_object)]
    env_args: Option<Map<String, Value>>,
    /// The new run's name [default: RUN_ID-rescore]; its id starts with it,
    /// and a rerun resumes the newest run with this name.
    #[arg(long)]
    name: Option<String>,
    /// Start a new run even if one with the name exists.
    #[arg(long)]
    no_auto_resume: bool,
    /// Print the plan as a table and exit without running or writing anything.
    #[arg(long)]
    dry_run: bool,
}

pub(crate) async fn rescore(args: RescoreArgs, quiet: bool, verbose: u8) -> Result<ExitStatus> {
    let source = args.output_dir.join(&args.run_id);
    if !RunLayout::new(&source).exists() {
        bail!("no run {} in {}", args.run_id, args.output_dir.display());
    }
    let config = match &args.config {
        Some(config) => config.clone(),
        None => recorded_config(&source)?,
    };
    let mut plan = plan::plan(&config)?;
    plan.apply(&Overrides {
        name: Some(args.name.clone().unwrap_or_else(|| format!("{}-rescore", args.run_id))),
        output_dir: Some(args.output_dir.clone()),
        env_args: args.env_args.clone().unwrap_or_default(),
        ..Overrides::default()
    });
    let plan = runner::rescore::plan(plan, &source, &args.job_ids)?;
    let selection = Selection { no_auto_resume: args.no_auto_resume, ..Selection::default() };
    let options = RunOptions { selection, ..run_options(quiet, verbose) };
    let prepared = runner::prepare(&plan, &options).await?;
    if args.dry_run {
        print_plan(&plan, &prepared)?;
        return Ok(ExitStatus::Success);
    }
    let report = execute_and_report(&plan, prepared, &options, quiet).await?;
    Ok(run_status(&report, &options.cancel))
}

/// The config the run at `source` was made from, if it is still there.
fn recorded_config(source: &Path) -> Result<PathBuf> {
    let manifest = Manifest::read(source)?;
    let config = PathBuf::from(&manifest.config_path);
    if !config.is_file() {
        bail!(
            "run {} was made from {}, which is not there: name the config with --config",
            manifest.run_id,
            config.display()
        );
    }
    Ok(config)
}
