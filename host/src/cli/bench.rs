//! `assay bench`: plan, (dry-)run and resume a config's jobs.

use super::ExitStatus;
use super::execute::{execute_and_report, print_plan, run_options, run_status};
use super::output::errln;
use super::shard;
use super::values::{dollars, json_object, positive_seconds};
use crate::plan::{self, Overrides};
use crate::runner::{self, CostLimit, RunOptions, Selection};
use crate::store::Shard;
use anyhow::{Result, bail};
use serde_json::{Map, Value};
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Debug, clap::Args)]
pub(crate) struct BenchArgs {
    /// The run config (YAML, or TOML for a `.toml` file): models,
    /// environments and jobs.
    #[arg(short, long, value_name = "FILE")]
    config: PathBuf,
    /// Where runs are written (overrides the config's `output_dir`;
    /// default `runs/raw`). Each run gets a subdirectory named by its run id.
    #[arg(long, value_name = "DIR")]
    output_dir: Option<PathBuf>,
    /// Print the plan as a table (each job's status: next, partial, done or
    /// skipped, with sample counts), and the servers of models with
    /// `serve:` (their GPUs and exact command lines), and exit without
    /// running or writing anything.
    #[arg(long)]
    dry_run: bool,
    /// Rerun every selected job from scratch (earlier results are moved to
    /// the run's `superseded/` directory).
    #[arg(long)]
    force: bool,
    /// Rerun from scratch the jobs of these envs (variant ids, or a matrix
    /// base id for all its variants; comma-separated or repeated).
    #[arg(long, value_name = "ENV", value_delimiter = ',')]
    forced: Vec<String>,
    /// Start a new run seeded with the completed jobs of run RUN_ID whose
    /// inputs still match; the others run from scratch.
    #[arg(long, value_name = "RUN_ID")]
    restart: Option<String>,
    /// Start a new run even if one with the same name exists (by default the
    /// newest run with the config's name is resumed).
    #[arg(long)]
    no_auto_resume: bool,
    /// Write to this run: resume it if it exists, else create it.
    #[arg(long, value_name = "RUN_ID")]
    run_id: Option<String>,
    /// Run name (overrides the config's `name`); run ids start with it.
    #[arg(long)]
    name: Option<String>,
    /// Run only this job (repeatable); the run still lists every job.
    #[arg(long = "job-id", value_name = "ID")]
    job_ids: Vec<String>,
    /// JSON object merged over every job's env args, e.g. '{"shuffle_answers": true}'.
    /// Part of job identity.
    #[arg(long, value_name = "JSON", value_parser = json_object)]
    env_args: Option<Map<String, Value>>,
    /// At most N of a task's generated tests (CodeContests' `generated_tests`)
    /// in every env whose plugin takes `max_generated_tests` (the `code`
    /// plugin); other envs are left alone. Part of job identity.
    #[arg(long, value_name = "N")]
    max_generated_tests: Option<u32>,
    /// JSON object merged over every job's sampling args, e.g. '{"temperature": 0}'.
    /// Part of job identity.
    #[arg(long, value_name = "JSON", value_parser = json_object)]
    sampling_args: Option<Map<String, Value>>,
    /// Requests in flight per model (overrides every model's `max_concurrent`).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    max_concurrent: Option<u32>,
    /// Seconds per request attempt (overrides every model's `timeout`).
    #[arg(long, value_name = "SEC", value_parser = positive_seconds)]
    timeout: Option<f64>,
    /// Use at most N examples per job, for smoke runs. Part of job identity.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    max_examples: Option<u32>,
    /// Run shard I of N (I from 0 to N-1): every Nth sample of the plan, into
    /// the run --run-id names (required, the same for every shard), beside
    /// the other shards' files. A shard resumes like a run; one whose config
    /// or plugins differ from the other shards' is refused.
    #[arg(long, value_name = "I/N", value_parser = shard::parse_shard, conflicts_with = "shards")]
    shard: Option<Shard>,
    /// Run one of N shards, its index set by the cluster engine: Slurm's
    /// SLURM_ARRAY_TASK_ID (counted from SLURM_ARRAY_TASK_MIN; the array
    /// must have N tasks), or a Kubernetes Indexed Job's JOB_COMPLETION_INDEX.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    shards: Option<u32>,
    /// Keep every model's and judge's replies in the response cache, and
    /// answer requests asked before from it (as `cache: true` on each model).
    #[arg(long, conflicts_with = "no_cache")]
    cache: bool,
    /// Neither read nor write the response cache, whatever the models say.
    #[arg(long)]
    no_cache: bool,
    /// Keep each sample's workspace (envs granted `workspace`) in
    /// `<run>/<job>/workspaces/` instead of removing it when the sample ends.
    #[arg(long)]
    keep_workspaces: bool,
    /// Stop starting samples once this invocation's samples have cost USD
    /// dollars (tokens at the models' `price`). Samples in flight finish;
    /// the jobs left end `interrupted` and a rerun resumes them.
    #[arg(long, value_name = "USD", value_parser = dollars)]
    max_cost: Option<f64>,
    /// Stop a job, failed, once N of its samples in a row got no reply from
    /// the model or judge after their retries (an endpoint down, hung or
    /// refusing the key). Samples in flight finish; a rerun asks the rest.
    /// 0: never stop.
    #[arg(long, value_name = "N", default_value_t = runner::DEFAULT_MAX_FAILURES_IN_A_ROW)]
    max_failures_in_a_row: u32,
}

impl BenchArgs {
    fn overrides(&self) -> Overrides {
        Overrides {
            name: self.name.clone(),
            output_dir: self.output_dir.clone(),
            env_args: self.env_args.clone().unwrap_or_default(),
            args_if_declared: super::values::generated_tests_cap(self.max_generated_tests),
            sampling_args: self.sampling_args.clone().unwrap_or_default(),
            max_concurrent: self.max_concurrent.map(|n| n as usize),
            timeout_secs: self.timeout,
            max_examples: self.max_examples.map(|n| n as usize),
            cache: match (self.cache, self.no_cache) {
                (true, _) => Some(true),
                (_, true) => Some(false),
                _ => None,
            },
        }
    }

    fn selection(&self) -> Result<Selection> {
        Ok(Selection {
            run_id: self.run_id.clone(),
            restart: self.restart.clone(),
            no_auto_resume: self.no_auto_resume,
            force: self.force,
            forced_envs: self.forced.clone(),
            job_ids: self.job_ids.clone(),
            shard: shard::resolve(self.shard, self.shards, |var| std::env::var(var).ok())?,
        })
    }
}

pub(crate) async fn bench(args: BenchArgs, quiet: bool, verbose: u8) -> Result<ExitStatus> {
    let selection = args.selection()?;
    let mut plan = plan::plan(&args.config)?;
    plan.apply(&args.overrides());
    if args.max_cost.is_some() && !plan.jobs.iter().any(|job| job.model.price.is_some()) {
        bail!("--max-cost: no job's model has a `price` in {}, so nothing would count", args.config.display());
    }
    let options = RunOptions {
        selection,
        keep_workspaces: args.keep_workspaces,
        cost_limit: args.max_cost.map(|max| Arc::new(CostLimit::new(max))),
        max_failures_in_a_row: args.max_failures_in_a_row,
        ..run_options(quiet, verbose)
    };
    let prepared = runner::prepare(&plan, &options).await?;
    if args.dry_run {
        print_plan(&plan, &prepared)?;
        return Ok(ExitStatus::Success);
    }
    let report = execute_and_report(&plan, prepared, &options, quiet).await?;
    if let Some(limit) = options.cost_limit.as_ref().filter(|limit| limit.reached()) {
        errln!(
            "Stopped starting samples: {} spent reached --max-cost ${}; rerun to resume (with a higher --max-cost, or none)",
            crate::models::format_usd(limit.spent()),
            limit.max()
        );
    }
    Ok(run_status(&report, &options.cancel))
}
