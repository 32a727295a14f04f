//! `assay score`: score completions generated elsewhere, one folder per
//! training checkpoint, with an environment and no model calls; or, with
//! `--serve ENGINE --checkpoints DIR`, serve each checkpoint's weights in
//! turn, generate the env's completions and score them.
//!
//! Each checkpoint becomes a job whose model is the built-in replay model
//! reading that folder's files (model id `checkpoint-<step>`), in a run
//! named after the env and the solutions dir. So the results have the
//! layout `bench` writes, `process`, `analyze` and `winrate` read them
//! unchanged, and a rerun resumes: finished checkpoints are skipped. A
//! checkpoint whose files cannot be read, or that runs past `--timeout`,
//! fails alone; the batch summary (`score_summary.json` in the run dir)
//! lists every checkpoint's files (with their row counts), metric, counts,
//! failure and duration. Records a checkpoint has no solution for are
//! counted as `missing`, apart from errors; they fail it only with
//! `--require-all`.
//!
//! Served checkpoints are models `checkpoint-<step>` with `serve:` (the
//! engine's defaults, or a config model's `serve:` settings with the
//! checkpoint's folder as `path`). Their servers take the run's GPUs in
//! step order; each stops when its job is done. One that cannot be served
//! fails its job alone.

use super::ExitStatus;
use super::execute::{execute_and_report, print_plan, run_options, run_status};
use super::output::{ask, errln, outln};
use super::report::{Format, write_report};
use super::table::new_table;
use super::values::generated_tests_cap;
use crate::checkpoints::{self, Checkpoint};
use crate::config::{self, CodeBackendKind, JobConfig, LoadedConfig, ModelConfig, ReplayConfig};
use crate::models::replay::ReplayBook;
use crate::models::server::Engine;
use crate::plan::{self, Overrides, Plan};
use crate::report::ReportOptions;
use crate::runner::{self, RunOptions, RunReport};
use crate::store::{self, ErrorKind, JobStatus, RunLayout, Summary};
use anyhow::{Context, Result, bail};
use clap::Args;
use serde::Serialize;
use serde_json::json;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The config read when `--config` is not given (if it exists).
const DEFAULT_CONFIG: &str = "configs/standard.yaml";

#[derive(Debug, Args)]
pub(crate) struct ScoreArgs {
    /// A directory with one folder per checkpoint, named with its step at
    /// the end (`checkpoint_49`, `step-98`, `global_step_196`), each holding
    /// solution files (.jsonl, .jsonl.gz, .json, .csv or .parquet) at any
    /// depth.
    #[arg(long, value_name = "DIR", required_unless_present = "checkpoints", conflicts_with = "checkpoints")]
    solutions_dir: Option<PathBuf>,
    /// A directory with one model checkpoint per folder, named with its
    /// step at the end: each is served with `--serve`, asked the env's
    /// dataset, scored, and stopped, in step order.
    #[arg(long, value_name = "DIR", requires = "serve")]
    checkpoints: Option<PathBuf>,
    /// How checkpoints are served: an engine (`vllm`, `sglang`,
    /// `llamacpp`) with its defaults, or the id of a config model whose
    /// `serve:` settings (engine, arguments, GPUs) each checkpoint gets.
    #[arg(long, value_name = "ENGINE|MODEL", requires = "checkpoints")]
    serve: Option<String>,
    /// The env that scores them: an env id (or matrix base id) of the config.
    #[arg(long, value_name = "ENV_ID")]
    env: String,
    /// The config declaring the env (its models and jobs, if any, are not
    /// used, but for the model `--serve` names) [default: configs/standard.yaml].
    #[arg(short, long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Where the run is written (overrides the config's `output_dir`).
    #[arg(long, value_name = "DIR")]
    output_dir: Option<PathBuf>,
    /// Checkpoints scored at once.
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..))]
    max_workers: u16,
    /// Seconds one checkpoint may take; past it, it fails (its finished
    /// samples are kept) and the others go on.
    #[arg(long, value_name = "SEC", value_parser = super::values::positive_seconds)]
    timeout: Option<f64>,
    /// The solution field naming the dataset record (the env's example id;
    /// solutions only).
    #[arg(long, value_name = "FIELD", default_value = "id")]
    id_field: String,
    /// The solution field holding the completion (solutions only).
    #[arg(long, value_name = "FIELD", default_value = "completion")]
    completion_field: String,
    /// Fail a checkpoint whose files lack a solution for some record
    /// (without it, such records are counted as `missing`; solutions only).
    #[arg(long)]
    require_all: bool,
    /// Where the env's programs run: `local` or `piston` (overrides the
    /// config's `code_execution.backend`).
    #[arg(long, value_name = "BACKEND", value_parser = parse_backend)]
    code_backend: Option<CodeBackendKind>,
    /// The Piston server running the env's programs (implies
    /// `--code-backend piston`).
    #[arg(long, value_name = "URL")]
    piston_url: Option<String>,
    /// At most N of a task's generated tests (CodeContests'
    /// `generated_tests`), when the env's plugin takes `max_generated_tests`
    /// (the `code` plugin).
    #[arg(long, value_name = "N")]
    max_generated_tests: Option<u32>,
    /// List the checkpoints found, their files (served: each server's GPUs
    /// and command line) and what would run; write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Do not ask for confirmation (it is only asked on a terminal).
    #[arg(short, long)]
    yes: bool,
    /// Also write an HTML report of the run (the curve by step, win rates,
    /// samples) to this file.
    #[arg(long, value_name = "FILE")]
    report: Option<PathBuf>,
}

/// A checkpoint that can run: its files could be read, with the rollouts
/// they hold (a served checkpoint has no files, and 0 rollouts: the env
/// says how many).
struct Readable {
    checkpoint: Checkpoint,
    rollouts: u32,
    files: Vec<SolutionFile>,
}

/// A solution file and the completions it holds (`None`: not read).
#[derive(Debug, Serialize)]
struct SolutionFile {
    path: PathBuf,
    rows: Option<usize>,
}

/// How a checkpoint's scoring ended: its job's status, or `unreadable`
/// when its files could not be read (it was not run).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
enum CheckpointStatus {
    Pending,
    Running,
    Completed,
    Failed,
    Interrupted,
    Unreadable,
}

impl From<JobStatus> for CheckpointStatus {
    fn from(status: JobStatus) -> Self {
        match status {
            JobStatus::Pending => CheckpointStatus::Pending,
            JobStatus::Running => CheckpointStatus::Running,
            JobStatus::Completed => CheckpointStatus::Completed,
            JobStatus::Failed => CheckpointStatus::Failed,
            JobStatus::Interrupted => CheckpointStatus::Interrupted,
        }
    }
}

impl CheckpointStatus {
    fn as_str(self) -> &'static str {
        match self {
            CheckpointStatus::Unreadable => "unreadable",
            CheckpointStatus::Pending => JobStatus::Pending.as_str(),
            CheckpointStatus::Running => JobStatus::Running.as_str(),
            CheckpointStatus::Completed => JobStatus::Completed.as_str(),
            CheckpointStatus::Failed => JobStatus::Failed.as_str(),
            CheckpointStatus::Interrupted => JobStatus::Interrupted.as_str(),
        }
    }
}

/// One line of the batch summary.
#[derive(Debug, Serialize)]
struct CheckpointOutcome {
    checkpoint: String,
    step: u64,
    model_id: String,
    files: Vec<SolutionFile>,
    status: CheckpointStatus,
    mean_reward: Option<f64>,
    n: u64,
    n_errors: u64,
    /// Samples whose record has no solution (not counted in `n_errors`).
    n_missing: u64,
    duration_secs: Option<f64>,
    error: Option<String>,
}

/// A sweep's checkpoints (those that can run, those that cannot) and its plan.
type Sweep = (PathBuf, Vec<Readable>, Vec<CheckpointOutcome>, Plan);

pub(crate) async fn score(args: ScoreArgs, quiet: bool, verbose: u8) -> Result<ExitStatus> {
    let (dir, readable, unreadable, plan) = plan_sweep(&args)?;
    let options = RunOptions { job_timeout: args.timeout.map(Duration::from_secs_f64), ..run_options(quiet, verbose) };
    let prepared = runner::prepare(&plan, &options).await?;
    if args.dry_run {
        if args.serve.is_none() {
            print_files(&readable, &dir)?;
        }
        print_plan(&plan, &prepared)?;
        return Ok(ExitStatus::Success);
    }
    if !args.yes && std::io::stdin().is_terminal() && !confirm(prepared.jobs.len(), &args.env)? {
        return Ok(ExitStatus::Success);
    }
    let report = execute_and_report(&plan, prepared, &options, quiet).await?;
    let mut outcomes = job_outcomes(&report, readable, args.require_all);
    outcomes.extend(unreadable);
    outcomes.sort_by_key(|o| o.step);
    let summary = RunLayout::new(&report.run_dir).score_summary();
    let batch = json!({"solutions_dir": args.solutions_dir, "checkpoints_dir": args.checkpoints, "env": args.env, "checkpoints": outcomes});
    store::write_json(&summary, &batch)?;
    print_checkpoints(&outcomes)?;
    outln!("Batch summary: {}", summary.display())?;
    if let Some(file) = &args.report {
        let title = format!("{} on {}", args.env, dir.display());
        let options = ReportOptions { title, samples_per_config: 200, resamples: 200 };
        write_report(std::slice::from_ref(&report.run_dir), Format::Html, Some(file), &options)?;
    }
    // Jobs that failed only for missing records are judged by their outcome.
    let failed = outcomes.iter().any(|o| o.status != CheckpointStatus::Completed);
    Ok(match run_status(&report, &options.cancel) {
        ExitStatus::Success | ExitStatus::Failed => ExitStatus::failed_if(failed),
        other => other,
    })
}

/// Find the checkpoints and plan their jobs: served (`--serve`), or their
/// solution files read, those that cannot be read set apart and reported.
fn plan_sweep(args: &ScoreArgs) -> Result<Sweep> {
    let (dir, found) = match (&args.solutions_dir, &args.checkpoints) {
        (Some(dir), _) | (None, Some(dir)) => (dir.clone(), checkpoints::discover(dir)?),
        (None, None) => unreachable!("clap requires --solutions-dir or --checkpoints"),
    };
    if let Some(serve) = &args.serve {
        let served: Vec<Readable> =
            found.into_iter().map(|checkpoint| Readable { checkpoint, rollouts: 0, files: Vec::new() }).collect();
        let plan = serve_plan(args, &dir, serve, &served)?;
        return Ok((dir, served, Vec::new(), plan));
    }
    let (readable, unreadable) = read_checkpoints(found, args);
    for outcome in &unreadable {
        errln!("error: {}: {}", outcome.checkpoint, outcome.error.as_deref().unwrap_or_default());
    }
    if readable.is_empty() {
        bail!("no checkpoint in {} has readable solution files", dir.display());
    }
    let plan = score_plan(args, &dir, &readable)?;
    Ok((dir, readable, unreadable, plan))
}

/// Read every checkpoint's files once, to find the rollouts they hold and
/// set apart the ones that cannot be read.
fn read_checkpoints(found: Vec<Checkpoint>, args: &ScoreArgs) -> (Vec<Readable>, Vec<CheckpointOutcome>) {
    let (mut readable, mut unreadable) = (Vec::new(), Vec::new());
    for checkpoint in found {
        let book = match checkpoint.files.is_empty() {
            true => Err(anyhow::anyhow!("no solution files")),
            false => ReplayBook::load(&checkpoint.files, &args.id_field, &args.completion_field),
        };
        match book {
            Ok(book) => {
                let files = checkpoint.files.iter().zip(&book.rows_per_file);
                let files = files.map(|(path, rows)| SolutionFile { path: path.clone(), rows: Some(*rows) }).collect();
                readable.push(Readable { rollouts: book.max_rollouts().max(1), checkpoint, files })
            }
            Err(error) => unreadable.push(CheckpointOutcome {
                model_id: checkpoint.model_id(),
                checkpoint: checkpoint.name,
                step: checkpoint.step,
                files: checkpoint.files.iter().map(|path| SolutionFile { path: path.clone(), rows: None }).collect(),
                status: CheckpointStatus::Unreadable,
                mean_reward: None,
                n: 0,
                n_errors: 0,
                n_missing: 0,
                duration_secs: None,
                error: Some(format!("{error:#}")),
            }),
        }
    }
    (readable, unreadable)
}

/// The config's env, with one replay model and one job per checkpoint.
fn score_plan(args: &ScoreArgs, dir: &Path, readable: &[Readable]) -> Result<Plan> {
    let mut loaded = sweep_config(args, dir)?;
    loaded.run.models.clear();
    for Readable { checkpoint, rollouts, .. } in readable {
        let files: Vec<PathBuf> =
            checkpoint.files.iter().map(|f| f.canonicalize().unwrap_or_else(|_| f.clone())).collect();
        let replay =
            ReplayConfig { files, id_field: args.id_field.clone(), completion_field: args.completion_field.clone() };
        loaded.run.models.insert(checkpoint.model_id(), ModelConfig::replay(replay));
        let mut job = JobConfig::new(checkpoint.model_id(), vec![args.env.clone()]);
        job.rollouts = Some(*rollouts);
        loaded.run.jobs.push(job);
    }
    sweep_plan(args, &loaded)
}

/// The sweep's plan, with `--max-generated-tests` applied.
fn sweep_plan(args: &ScoreArgs, loaded: &LoadedConfig) -> Result<Plan> {
    let mut plan = plan::plan_loaded(loaded, &crate::locations::extra_plugin_dirs())
        .with_context(|| format!("--env {}", args.env))?;
    plan.apply(&Overrides { args_if_declared: generated_tests_cap(args.max_generated_tests), ..Overrides::default() });
    Ok(plan)
}

/// The config's env, with one served model (answering to the folder's
/// name) and one job per checkpoint, served as `serve` says.
fn serve_plan(args: &ScoreArgs, dir: &Path, serve: &str, checkpoints: &[Readable]) -> Result<Plan> {
    let mut loaded = sweep_config(args, dir)?;
    let template = served_template(&loaded, serve)?;
    loaded.run.models.clear();
    for Readable { checkpoint, .. } in checkpoints {
        let mut model = template.clone();
        let folder = dir.join(&checkpoint.name);
        let folder = folder.canonicalize().unwrap_or(folder);
        model.model = Some(checkpoint.name.clone());
        model.serve.as_mut().expect("a served template").path = Some(folder.display().to_string());
        loaded.run.models.insert(checkpoint.model_id(), model);
        loaded.run.jobs.push(JobConfig::new(checkpoint.model_id(), vec![args.env.clone()]));
    }
    sweep_plan(args, &loaded)
}

/// What `--serve` names: a config model with `serve:`, else an engine.
fn served_template(loaded: &LoadedConfig, serve: &str) -> Result<ModelConfig> {
    if let Some(model) = loaded.run.models.get(serve).filter(|model| model.serve.is_some()) {
        return Ok(model.clone());
    }
    match serde_json::from_value::<Engine>(json!(serve)) {
        Ok(Engine::Command) | Err(_) => bail!(
            "--serve: `{serve}` is neither an engine (vllm, sglang, llamacpp) nor a model of {} with `serve:`",
            loaded.path.display()
        ),
        Ok(engine) => Ok(ModelConfig::served(engine)),
    }
}

/// The config with its models and jobs cleared, named after the env and
/// the checkpoints' directory.
fn sweep_config(args: &ScoreArgs, dir: &Path) -> Result<LoadedConfig> {
    let path = match &args.config {
        Some(path) => path.clone(),
        None if Path::new(DEFAULT_CONFIG).is_file() => PathBuf::from(DEFAULT_CONFIG),
        None => bail!("no --config given and no {DEFAULT_CONFIG} here: name the config declaring env `{}`", args.env),
    };
    let mut loaded: LoadedConfig = config::load(&path)?;
    let absolute = dir.canonicalize().with_context(|| format!("resolving {}", dir.display()))?;
    let dir_name = absolute.file_name().unwrap_or_default().to_string_lossy();
    loaded.run.name = format!("score-{}-{}", store::slug(&args.env), store::slug(&dir_name));
    loaded.run.parallel = usize::from(args.max_workers);
    if let Some(output_dir) = &args.output_dir {
        loaded.run.output_dir = output_dir.clone();
    }
    loaded.run.jobs.clear();
    set_code_backend(&mut loaded, args)?;
    Ok(loaded)
}

/// Ask on the terminal; anything but `y`/`yes` declines.
fn confirm(jobs: usize, env: &str) -> Result<bool> {
    let answer = ask(&format!("Score {jobs} checkpoint jobs with env `{env}`? [y/N]"))?;
    Ok(matches!(answer.as_str(), "y" | "yes"))
}

/// `--code-backend` and `--piston-url` applied to every env that runs code.
fn set_code_backend(loaded: &mut LoadedConfig, args: &ScoreArgs) -> Result<()> {
    let backend = match (args.code_backend, &args.piston_url) {
        (None, None) => return Ok(()),
        (Some(CodeBackendKind::Local), Some(_)) => bail!("--piston-url needs --code-backend piston"),
        (Some(backend), _) => backend,
        (None, Some(_)) => CodeBackendKind::Piston,
    };
    if backend == CodeBackendKind::Piston && args.piston_url.is_none() {
        bail!("--code-backend piston needs --piston-url");
    }
    for declared in &mut loaded.envs {
        if !config::run_code_languages(&declared.env.capabilities).is_empty() {
            let settings = declared.env.code_execution.get_or_insert_with(Default::default);
            settings.backend = backend;
            settings.url = args.piston_url.clone();
        }
    }
    Ok(())
}

fn parse_backend(text: &str) -> Result<CodeBackendKind, String> {
    serde_json::from_value(serde_json::Value::String(text.into()))
        .map_err(|_| format!("`{text}` is not a code backend (local, piston)"))
}

/// The outcome of each checkpoint's job (the first variant's, for a matrix
/// env); with `require_all`, one with missing records failed.
fn job_outcomes(report: &RunReport, readable: Vec<Readable>, require_all: bool) -> Vec<CheckpointOutcome> {
    let run = RunLayout::new(&report.run_dir);
    readable
        .into_iter()
        .map(|Readable { checkpoint, files, .. }| {
            let model_id = checkpoint.model_id();
            let entry = report.manifest.jobs.iter().find(|job| job.model_id == model_id);
            let summary = entry.and_then(|job| Summary::read(&run.job(&job.job_id).summary()));
            let n_missing = summary.and_then(|s| s.errors.get(&ErrorKind::Replay).copied()).unwrap_or(0);
            // A job whose only failures are records without a solution
            // ran to the end: it completed, unless every record is required.
            let only_missing = entry.is_some_and(|job| {
                n_missing > 0 && job.samples_failed == n_missing && job.samples_done == job.samples_total
            });
            let mut outcome = CheckpointOutcome {
                checkpoint: checkpoint.name,
                step: checkpoint.step,
                files,
                status: entry.map_or(JobStatus::Pending, |job| job.status).into(),
                mean_reward: entry.and_then(|job| job.mean_reward),
                n: entry.map_or(0, |job| job.samples_done),
                n_errors: entry.map_or(0, |job| job.samples_failed).saturating_sub(n_missing),
                n_missing,
                duration_secs: entry.and_then(|job| job.duration_secs),
                error: entry.and_then(|job| job.reason.clone()),
                model_id,
            };
            if only_missing {
                (outcome.status, outcome.error) = match require_all {
                    true => (
                        CheckpointStatus::Failed,
                        Some(format!("{n_missing} samples have no solution (--require-all)")),
                    ),
                    false => (CheckpointStatus::Completed, None),
                };
            }
            outcome
        })
        .collect()
}

/// Each checkpoint's solution files, relative to `dir`, with their rows.
fn print_files(readable: &[Readable], dir: &Path) -> std::io::Result<()> {
    let mut table = new_table(&["checkpoint", "file", "rows"]);
    for Readable { checkpoint, files, .. } in readable {
        for (n, file) in files.iter().enumerate() {
            let name = if n == 0 { checkpoint.name.clone() } else { String::new() };
            let path = file.path.strip_prefix(dir).unwrap_or(&file.path).display().to_string();
            table.add_row(vec![name, path, file.rows.map_or("-".into(), |rows| rows.to_string())]);
        }
    }
    outln!("{table}")
}

fn print_checkpoints(outcomes: &[CheckpointOutcome]) -> std::io::Result<()> {
    let mut table = new_table(&["checkpoint", "step", "status", "reward", "samples", "errors", "missing", "seconds"]);
    for o in outcomes {
        table.add_row(vec![
            o.checkpoint.clone(),
            o.step.to_string(),
            o.status.as_str().to_string(),
            o.mean_reward.map_or("-".into(), |m| format!("{m:.3}")),
            o.n.to_string(),
            o.n_errors.to_string(),
            o.n_missing.to_string(),
            o.duration_secs.map_or("-".into(), |d| format!("{d:.1}")),
        ]);
    }
    outln!("{table}")?;
    Ok(())
}
