//! The `assay` command line.
//!
//! Every error reaches the user as one line (`error: ...`) naming the file,
//! field or job at fault. Exit codes: 0 success, 1 a job failed, 2 the
//! command could not run (bad config, missing file, bad flag).

use crate::plan::{self, Plan};
use crate::runner::{self, RunOptions, RunReport};
use crate::runtime::Runtime;
use crate::store::JobStatus;
use anyhow::Result;
use clap::{ArgAction, Parser, Subcommand};
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

/// Evaluate language models on benchmarks packaged as sandboxed
/// WebAssembly environments.
#[derive(Debug, Parser)]
#[command(name = "assay", version, propagate_version = true)]
pub struct Cli {
    /// More log output on stderr (-v: info, -vv: debug, -vvv: trace).
    #[arg(short, long, action = ArgAction::Count, global = true)]
    verbose: u8,
    /// Only errors on stderr; no progress bars.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run every job of a config: each model on each environment, over
    /// every record of its dataset, with repeated rollouts.
    Bench(BenchArgs),
}

#[derive(Debug, clap::Args)]
struct BenchArgs {
    /// The run config (YAML): models, environments and jobs.
    #[arg(short, long, value_name = "FILE")]
    config: PathBuf,
    /// Where runs are written (overrides the config's `output_dir`;
    /// default `runs/raw`). Each run gets a subdirectory named by its run id.
    #[arg(long, value_name = "DIR")]
    output_dir: Option<PathBuf>,
    /// Print the planned jobs as a table and exit without running or
    /// writing anything.
    #[arg(long)]
    dry_run: bool,
}

/// Parse arguments, run the command, print errors as one line.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(&cli);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => return fail(&error.into()),
    };
    let outcome = runtime.block_on(async {
        match cli.command {
            Command::Bench(args) => bench(args, cli.quiet).await,
        }
    });
    match outcome {
        Ok(code) => code,
        Err(error) => fail(&error),
    }
}

fn fail(error: &anyhow::Error) -> ExitCode {
    eprintln!("error: {error:#}");
    ExitCode::from(2)
}

fn init_logging(cli: &Cli) {
    let level = match (cli.quiet, cli.verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, 2) => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("ASSAY_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_target(false).init();
}

async fn bench(args: BenchArgs, quiet: bool) -> Result<ExitCode> {
    let mut plan = plan::plan(&args.config)?;
    if let Some(dir) = args.output_dir {
        plan.output_dir = dir;
    }
    if args.dry_run {
        print_plan(&plan)?;
        return Ok(ExitCode::SUCCESS);
    }
    let options =
        RunOptions { progress: !quiet && std::io::stderr().is_terminal(), cache_dir: Runtime::default_cache_dir() };
    let report = runner::run(&plan, &options).await?;
    print_report(&report);
    Ok(if report.any_failed() { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

/// The plan as a table: what would run, without running it.
fn print_plan(plan: &Plan) -> Result<()> {
    let mut table = new_table(&["job", "model", "env", "plugin", "dataset", "examples", "rollouts", "samples"]);
    let mut total = 0;
    for job in &plan.jobs {
        let dataset = crate::dataset::load(&job.env.dataset, job.env.id_field.as_deref(), job.env.num_examples)?;
        let samples = dataset.records.len() * job.env.rollouts as usize;
        total += samples;
        table.add_row(vec![
            job.job_id.clone(),
            job.model.id.clone(),
            job.env.id.clone(),
            job.env.plugin.display().to_string(),
            job.env.dataset.display().to_string(),
            dataset.records.len().to_string(),
            job.env.rollouts.to_string(),
            samples.to_string(),
        ]);
    }
    println!("{table}");
    println!(
        "{} jobs, {total} samples; output would go to {} (dry run: nothing written)",
        plan.jobs.len(),
        plan.output_dir.display()
    );
    Ok(())
}

/// Per-job results and where they went.
fn print_report(report: &RunReport) {
    let mut table = new_table(&[
        "job",
        "status",
        "samples",
        "reward (mean ± stderr)",
        "unparsed",
        "errors",
        "tokens out",
        "seconds",
    ]);
    for job in &report.manifest.jobs {
        let summary = report.summaries.get(&job.job_id);
        let reward = summary.and_then(|s| s.mean_reward.map(|m| format!("{m:.3} ± {:.3}", s.stderr.unwrap_or(0.0))));
        let unparsed = summary.map(|s| s.parse_status.iter().filter(|(k, _)| *k != "ok").map(|(_, v)| v).sum::<u64>());
        table.add_row(vec![
            job.job_id.clone(),
            status_name(job.status).to_string(),
            format!("{}/{}", job.samples_done, job.samples_total),
            reward.unwrap_or_else(|| "-".into()),
            unparsed.map_or("-".into(), |n| n.to_string()),
            job.samples_failed.to_string(),
            summary.map_or("-".into(), |s| s.tokens.completion.to_string()),
            job.duration_secs.map_or("-".into(), |d| format!("{d:.1}")),
        ]);
    }
    println!("{table}");
    for job in report.manifest.jobs.iter().filter(|j| j.reason.is_some()) {
        println!("{}: {}", job.job_id, job.reason.as_deref().unwrap_or_default());
    }
    println!("Results: {}", report.run_dir.display());
}

fn status_name(status: JobStatus) -> &'static str {
    match status {
        JobStatus::Pending => "pending",
        JobStatus::Running => "running",
        JobStatus::Completed => "completed",
        JobStatus::Failed => "failed",
    }
}

fn new_table(header: &[&str]) -> Table {
    let mut table = Table::new();
    table.load_style(UTF8_FULL_CONDENSED).set_header(header.to_vec());
    table
}
