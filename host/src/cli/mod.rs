//! The `assay` command line: one module per command group.
//!
//! Every error reaches the user as one line (`error: ...`) naming the file,
//! field or job at fault, and every command's outcome is an [`ExitStatus`].
//! Work shared by several commands lives in its own module: [`execute`]
//! (running a prepared plan, Ctrl-C, the job table), [`output`] (all
//! printing), [`table`] and [`values`] (flag parsers).

mod analyze;
mod bench;
mod cache;
mod data;
mod execute;
mod export;
mod output;
mod plugin;
mod process;
mod report;
mod rescore;
mod runs;
mod score;
mod shard;
mod slurm;
mod table;
mod values;
mod winrate;

use clap::{ArgAction, Parser, Subcommand};
use output::errln;
use std::process::ExitCode;

/// How a command ended. Its exit code is what shells, scripts and cluster
/// schedulers see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// Everything asked for was done (exit 0).
    Success,
    /// It ran, but a job, checkpoint or check failed; a rerun retries (exit 1).
    Failed,
    /// It could not run: a bad config, a missing file, a bad flag (exit 2).
    CannotRun,
    /// Ctrl-C stopped it; a rerun resumes (exit 130, as shells report
    /// SIGINT).
    Interrupted,
    /// SIGTERM stopped it (Slurm preemption or time limit, a Kubernetes
    /// eviction); a rerun resumes (exit 143, as shells report SIGTERM). Not
    /// 0, so neither engine counts the shard as done.
    Terminated,
}

impl ExitStatus {
    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            ExitStatus::Success => 0,
            ExitStatus::Failed => 1,
            ExitStatus::CannotRun => 2,
            ExitStatus::Interrupted => 130,
            ExitStatus::Terminated => 143,
        }
    }

    /// `Failed` if `failed`, else `Success`.
    pub fn failed_if(failed: bool) -> Self {
        if failed { ExitStatus::Failed } else { ExitStatus::Success }
    }
}

/// Evaluate language models on benchmarks packaged as sandboxed
/// WebAssembly environments.
#[derive(Debug, Parser)]
#[command(name = "assay", version, propagate_version = true)]
pub(crate) struct Cli {
    /// More log output on stderr (-v: info, -vv: debug, -vvv: trace); with
    /// -v, progress is printed as plain lines instead of bars.
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
    /// every record of its dataset, with repeated rollouts. Reruns resume.
    Bench(Box<bench::BenchArgs>),
    /// Score completions generated elsewhere (one folder per training
    /// checkpoint) with an environment, in step order and in parallel; no
    /// model calls. Or serve each checkpoint (`--serve --checkpoints`),
    /// generate and score. Reruns skip finished checkpoints.
    Score(Box<score::ScoreArgs>),
    /// Grade a run's completions again with the current plugins, judges and
    /// env args, into a new run; the model under test is not asked. Reruns
    /// resume. `eval` is another name for it.
    #[command(alias = "eval")]
    Rescore(Box<rescore::RescoreArgs>),
    /// Turn raw runs into parquet files (one per env and model) and an
    /// index, rewriting only what changed.
    Process(Box<process::ProcessArgs>),
    /// Per model, env and config: mean ± stderr, 95% CI, spread across
    /// seeds, pass@k and maj@k, from processed results.
    Analyze(analyze::AnalyzeArgs),
    /// Win rates between models per env and overall (pairwise per example,
    /// or HELM's), with bootstrap confidence intervals.
    Winrate(winrate::WinrateArgs),
    /// A report people look at: one self-contained HTML page (tables, win
    /// rates, checkpoint curve, per-env bars, sample browser) or a markdown
    /// summary, from runs or processed results.
    Report(report::ReportArgs),
    /// Hugging Face Hub datasets: pull what configs need into the cache
    /// (for machines without internet), list what is cached.
    Data(data::DataArgs),
    /// Processed parquet to CSV or JSON lines (a file, or a whole directory).
    Export(export::ExportArgs),
    /// The response cache of models with `cache: true`: how many replies
    /// it holds per model, or clear it.
    Cache(cache::CacheArgs),
    /// List the runs in an output directory, newest first.
    Runs(runs::RunsArgs),
    /// Print a run's jobs: status, samples, mean reward ± stderr, parse
    /// failures, errors, tokens and time.
    Summarize(runs::SummarizeArgs),
    /// Write a Slurm batch script that runs a config as a job array of N
    /// shards (`bench --shards N`), each requeued when stopped by SIGTERM,
    /// into the run's directory (and submit it with --submit).
    Slurm(slurm::SlurmArgs),
    /// Write benchmark plugins: scaffold a crate, build it, check it on a
    /// dataset, show what a plugin says about itself.
    Plugin(plugin::PluginArgs),
}

/// Parse arguments, run the command, print errors as one line.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(&cli);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => return ExitCode::from(fail(&error.into()).code()),
    };
    let outcome = runtime.block_on(async {
        match cli.command {
            Command::Bench(args) => bench::bench(*args, cli.quiet, cli.verbose).await,
            Command::Score(args) => score::score(*args, cli.quiet, cli.verbose).await,
            Command::Rescore(args) => rescore::rescore(*args, cli.quiet, cli.verbose).await,
            Command::Process(args) => process::process(*args, cli.quiet).await,
            Command::Analyze(args) => analyze::analyze(args, cli.quiet),
            Command::Winrate(args) => winrate::winrate(args, cli.quiet),
            Command::Report(args) => report::report(args).await,
            Command::Export(args) => export::export(args),
            Command::Data(args) => data::data(args, cli.quiet).await,
            Command::Cache(args) => cache::cache(args),
            Command::Runs(args) => runs::runs(args),
            Command::Summarize(args) => runs::summarize(args),
            Command::Slurm(args) => slurm::slurm(args),
            Command::Plugin(args) => plugin::plugin(args).await,
        }
    });
    let status = outcome.unwrap_or_else(|error| fail(&error));
    ExitCode::from(status.code())
}

/// Report a command's error in one line. Writing into a closed pipe is not
/// a failure the user needs to hear about: whoever read the output is done.
fn fail(error: &anyhow::Error) -> ExitStatus {
    if output::is_broken_pipe(error) {
        return ExitStatus::Success;
    }
    errln!("error: {error:#}");
    ExitStatus::CannotRun
}

fn init_logging(cli: &Cli) {
    let level = match (cli.quiet, cli.verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, 2) => "debug",
        _ => "trace",
    };
    crate::logging::init(level);
}
