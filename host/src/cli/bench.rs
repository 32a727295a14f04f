//! `assay bench`: plan, (dry-)run and resume a config's jobs.

use super::table::{jobs_table, new_table, print_reasons};
use crate::plan::{self, Overrides, Plan};
use crate::runner::{self, Action, Cancel, Prepared, ProgressMode, RunOptions, RunReport, Selection, Target};
use crate::runtime::Runtime;
use anyhow::Result;
use serde_json::{Map, Value};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// The run config (YAML, or TOML for a `.toml` file): models,
    /// environments and jobs.
    #[arg(short, long, value_name = "FILE")]
    config: PathBuf,
    /// Where runs are written (overrides the config's `output_dir`;
    /// default `runs/raw`). Each run gets a subdirectory named by its run id.
    #[arg(long, value_name = "DIR")]
    output_dir: Option<PathBuf>,
    /// Print the plan as a table (each job's status: next, partial, done or
    /// skipped, with sample counts) and exit without running or writing
    /// anything.
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
}

impl BenchArgs {
    fn overrides(&self) -> Overrides {
        Overrides {
            name: self.name.clone(),
            output_dir: self.output_dir.clone(),
            env_args: self.env_args.clone().unwrap_or_default(),
            sampling_args: self.sampling_args.clone().unwrap_or_default(),
            max_concurrent: self.max_concurrent.map(|n| n as usize),
            timeout_secs: self.timeout,
            max_examples: self.max_examples.map(|n| n as usize),
        }
    }

    fn selection(&self) -> Selection {
        Selection {
            run_id: self.run_id.clone(),
            restart: self.restart.clone(),
            no_auto_resume: self.no_auto_resume,
            force: self.force,
            forced_envs: self.forced.clone(),
            job_ids: self.job_ids.clone(),
        }
    }
}

fn json_object(text: &str) -> Result<Map<String, Value>, String> {
    match serde_json::from_str(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err("expected a JSON object, like '{\"key\": 1}'".into()),
        Err(e) => Err(format!("not valid JSON: {e}")),
    }
}

pub(super) fn positive_seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(secs) if secs.is_finite() && secs > 0.0 => Ok(secs),
        _ => Err(format!("expected a positive number of seconds, not `{text}`")),
    }
}

/// Seconds in-flight samples get to finish after the first Ctrl-C.
pub(super) const INTERRUPT_GRACE: Duration = Duration::from_secs(30);

/// Exit code after an interrupt (128 + SIGINT, as shells report it).
const EXIT_INTERRUPTED: u8 = 130;
pub async fn bench(args: BenchArgs, quiet: bool, verbose: u8) -> Result<ExitCode> {
    let mut plan = plan::plan(&args.config)?;
    plan.apply(&args.overrides());
    let options = RunOptions {
        progress: progress_mode(quiet, verbose),
        cache_dir: Runtime::default_cache_dir(),
        selection: args.selection(),
        cancel: Cancel::default(),
        grace: INTERRUPT_GRACE,
        job_timeout: None,
    };
    let prepared = runner::prepare(&plan, &options).await?;
    if args.dry_run {
        print_plan(&plan, &prepared);
        return Ok(ExitCode::SUCCESS);
    }
    let report = execute_and_report(&plan, prepared, &options, quiet).await?;
    Ok(match () {
        _ if report.any_interrupted() => ExitCode::from(EXIT_INTERRUPTED),
        _ if report.any_failed() => ExitCode::from(1),
        _ => ExitCode::SUCCESS,
    })
}

/// Run what `prepared` scheduled, as `bench` and `score` do: say what
/// resumes, stop cleanly on Ctrl-C, then print every job's outcome.
pub(super) async fn execute_and_report(
    plan: &Plan,
    prepared: Prepared,
    options: &RunOptions,
    quiet: bool,
) -> Result<RunReport> {
    announce(&prepared, quiet);
    spawn_interrupt_handler(options.cancel.clone(), quiet);
    let report = runner::execute(plan, prepared, options, |line| {
        if !quiet {
            eprintln!("{line}");
        }
    })
    .await?;
    print_report(&report);
    Ok(report)
}

/// The environment variable setting seconds between progress lines
/// (default 10), when progress is shown as lines.
const PROGRESS_SECS_VAR: &str = "ASSAY_PROGRESS_SECS";

/// Bars on a terminal; plain lines with `-v` or when stderr is not a
/// terminal (logs of batch jobs); nothing with `-q`.
pub(super) fn progress_mode(quiet: bool, verbose: u8) -> ProgressMode {
    if quiet {
        return ProgressMode::Hidden;
    }
    if verbose == 0 && std::io::stderr().is_terminal() {
        return ProgressMode::Bars;
    }
    let secs = std::env::var(PROGRESS_SECS_VAR).ok().and_then(|v| v.parse::<f64>().ok()).filter(|s| *s > 0.0);
    ProgressMode::Lines { every: Duration::from_secs_f64(secs.unwrap_or(10.0)) }
}

/// Say which run is written and how much of it is already done.
fn announce(prepared: &Prepared, quiet: bool) {
    if quiet {
        return;
    }
    let run_id = prepared.schedule.target.run_id();
    let count = |wanted: fn(&Action) -> bool| prepared.schedule.actions.iter().filter(|a| wanted(a)).count();
    match &prepared.schedule.target {
        Target::Existing { .. } => {
            let done: u64 =
                prepared.schedule.actions.iter().map(|a| if let Action::Resume { done } = a { *done } else { 0 }).sum();
            let (finished, to_run) = (count(|a| *a == Action::Done), count(Action::runs));
            eprintln!(
                "Resuming run {run_id} (--no-auto-resume starts a new one): {finished} of {} jobs done, {to_run} to run, {done} of their samples already recorded",
                prepared.jobs.len()
            );
            if to_run == 0 {
                eprintln!("Nothing to run: every selected job is done (--force reruns them)");
            }
        }
        Target::Restart { source_manifest, .. } => eprintln!(
            "New run {run_id} from run {}: {} completed jobs copied, {} to run",
            source_manifest.run_id,
            count(|a| *a == Action::Copy),
            count(Action::runs)
        ),
        Target::New { .. } => {}
    }
}

/// First Ctrl-C: stop starting samples, let in-flight ones finish. Second:
/// exit at once (every recorded sample is safe; a rerun resumes).
fn spawn_interrupt_handler(cancel: Cancel, quiet: bool) {
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_err() {
            return;
        }
        if !quiet {
            eprintln!(
                "Interrupted: finishing in-flight samples (at most {} s); press Ctrl-C again to stop at once",
                INTERRUPT_GRACE.as_secs()
            );
        }
        cancel.cancel();
        let _ = tokio::signal::ctrl_c().await;
        eprintln!("Stopped. Rerun the same command to resume.");
        std::process::exit(EXIT_INTERRUPTED.into());
    });
}

/// The plan as a table: what would run, without running it.
pub(super) fn print_plan(plan: &Plan, prepared: &Prepared) {
    let mut table = new_table(&["job", "status", "model", "env", "examples", "rollouts", "samples", "done"]);
    let (mut total, mut to_run) = (0, 0);
    for (job, action) in prepared.jobs.iter().zip(&prepared.schedule.actions) {
        let samples = job.sample_count();
        let done = match action {
            Action::Resume { done } => *done,
            Action::Done | Action::Copy => samples,
            Action::Fresh | Action::Replace { .. } | Action::Skip => 0,
        };
        total += samples;
        if action.runs() {
            to_run += samples - done;
        }
        table.add_row(vec![
            job.plan.job_id.clone(),
            action.label(),
            job.plan.model.id.clone(),
            job.plan.env.id.clone(),
            job.dataset.records.len().to_string(),
            job.plan.env.rollouts.to_string(),
            samples.to_string(),
            done.to_string(),
        ]);
    }
    println!("{table}");
    let run = match &prepared.schedule.target {
        Target::Existing { dir, .. } => format!("resumes run {}", dir.display()),
        Target::New { run_id } | Target::Restart { run_id, .. } => {
            format!("would create run {}", plan.output_dir.join(run_id).display())
        }
    };
    println!("{} jobs, {total} samples, {to_run} to run; {run} (dry run: nothing written)", prepared.jobs.len());
}
/// Per-job results and where they went.
fn print_report(report: &RunReport) {
    println!("{}", jobs_table(&report.manifest, &report.summaries));
    print_reasons(&report.manifest);
    println!("Results: {}", report.run_dir.display());
}
