//! Running a prepared plan, as `bench`, `score` and `rescore` do: how progress is
//! shown, the plan table of `--dry-run`, what resumes, Ctrl-C and SIGTERM,
//! and the job table at the end.

use super::ExitStatus;
use super::output::{errln, outln};
use super::table::{jobs_table, new_table, print_reasons, print_run_cost};
use crate::locations;
use crate::models::server::{GpuPool, devices_text, placement};
use crate::plan::Plan;
use crate::runner::{self, Action, Cancel, Prepared, ProgressMode, RunOptions, RunReport, Target};
use crate::store::{JobStatus, Manifest};
use anyhow::Result;
use std::io::IsTerminal;
use std::sync::OnceLock;
use std::time::Duration;

/// How long in-flight samples get to finish and be recorded after the first
/// Ctrl-C or SIGTERM. Below the 30 s that Kubernetes (terminationGracePeriodSeconds)
/// and Slurm (KillWait) leave between SIGTERM and SIGKILL, so the manifest
/// is written before the kill.
pub(super) const INTERRUPT_GRACE: Duration = Duration::from_secs(20);

/// Bars on a terminal; plain lines with `-v` or when stderr is not a
/// terminal (logs of batch jobs); nothing with `-q`.
pub(super) fn progress_mode(quiet: bool, verbose: u8) -> ProgressMode {
    if quiet {
        return ProgressMode::Hidden;
    }
    if verbose == 0 && std::io::stderr().is_terminal() {
        return ProgressMode::Bars;
    }
    ProgressMode::Lines { every: locations::progress_interval() }
}

/// Run what `prepared` scheduled: say what resumes, stop cleanly on Ctrl-C
/// or SIGTERM, then print every job's outcome.
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
            errln!("{line}");
        }
    })
    .await?;
    if let Some(shard) = report.manifest.shard {
        outln!("Shard {shard} of run {}:", report.manifest.run_id)?;
    }
    outln!("{}", jobs_table(&report.manifest, &report.summaries))?;
    print_run_cost(&report.summaries)?;
    print_reasons(&report.manifest)?;
    if report.manifest.shard.is_some() {
        print_whole_run(&report.run_dir)?;
    }
    outln!("Results: {}", report.run_dir.display())?;
    Ok(report)
}

/// After a shard: how far the whole run is, over every shard's part.
fn print_whole_run(run_dir: &std::path::Path) -> Result<()> {
    let run = Manifest::read(run_dir)?;
    let completed = run.jobs.iter().filter(|job| job.status == JobStatus::Completed).count();
    let done: u64 = run.jobs.iter().map(|job| job.samples_done).sum();
    let total: u64 = run.jobs.iter().map(|job| job.samples_total).sum();
    let shards = run.shards.unwrap_or(1);
    outln!(
        "Run {} ({shards} shards): {completed} of {} jobs completed, {done} of {total} samples recorded (`assay summarize {}` shows them together)",
        run.run_id,
        run.jobs.len(),
        run.run_id
    )?;
    Ok(())
}

/// Which signal stopped the run first: SIGTERM or Ctrl-C.
static STOPPED_BY: OnceLock<ExitStatus> = OnceLock::new();

/// The outcome of a run: interrupted (or terminated, after SIGTERM) when
/// it was cancelled (even if the jobs left are only `pending`), failed
/// when a job failed.
pub(super) fn run_status(report: &RunReport, cancel: &Cancel) -> ExitStatus {
    if cancel.is_cancelled() || report.any_interrupted() {
        *STOPPED_BY.get().unwrap_or(&ExitStatus::Interrupted)
    } else {
        ExitStatus::failed_if(report.any_failed())
    }
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
            let what = match prepared.schedule.shard {
                Some(shard) => format!("shard {shard} of run {run_id}"),
                None => format!("run {run_id} (--no-auto-resume starts a new one)"),
            };
            errln!(
                "Resuming {what}: {finished} of {} jobs done, {to_run} to run, {done} of their samples already recorded",
                prepared.jobs.len()
            );
            if to_run == 0 {
                errln!("Nothing to run: every selected job is done (--force reruns them)");
            }
        }
        Target::Restart { source_manifest, .. } => errln!(
            "New run {run_id} from run {}: {} completed jobs copied, {} to run",
            source_manifest.run_id,
            count(|a| *a == Action::Copy),
            count(Action::runs)
        ),
        Target::New { .. } => {
            if let Some(shard) = prepared.schedule.shard {
                let samples: u64 = prepared.jobs.iter().map(|job| job.sample_count()).sum();
                errln!("Starting shard {shard} of run {run_id}: {samples} samples");
            }
        }
    }
}

/// The first Ctrl-C or SIGTERM (Slurm preemption or time limit, a
/// Kubernetes eviction): stop starting samples, let in-flight ones finish,
/// then exit 130 (Ctrl-C) or 143 (SIGTERM), which a batch script can tell
/// from success and failure to requeue the shard. A second Ctrl-C exits at
/// once (every recorded sample is safe; a rerun resumes). A second SIGTERM
/// does not: engines deliver it to every process of a job, and batch
/// scripts forward it too, so one preemption can bring several; the
/// engine's SIGKILL ends a run that overstays its grace.
fn spawn_interrupt_handler(cancel: Cancel, quiet: bool) {
    tokio::spawn(async move {
        let Ok(mut terminate) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) else {
            return;
        };
        let mut signalled = async || {
            tokio::select! {
                signal = tokio::signal::ctrl_c() => signal.ok().map(|()| ExitStatus::Interrupted),
                signal = terminate.recv() => signal.map(|()| ExitStatus::Terminated),
            }
        };
        let Some(first) = signalled().await else { return };
        let status = *STOPPED_BY.get_or_init(|| first);
        if !quiet {
            let what = if status == ExitStatus::Terminated { "Terminated (SIGTERM)" } else { "Interrupted" };
            errln!(
                "{what}: finishing in-flight samples (at most {} s); press Ctrl-C to stop at once",
                INTERRUPT_GRACE.as_secs()
            );
        }
        cancel.cancel();
        loop {
            match signalled().await {
                Some(ExitStatus::Interrupted) => break,
                Some(_) => tracing::info!("SIGTERM again: still finishing in-flight samples"),
                None => return,
            }
        }
        // Exiting runs no destructors: the servers assay started go first.
        crate::models::server::kill_all();
        errln!("Stopped. Rerun the same command to resume.");
        std::process::exit(status.code().into());
    });
}

/// The plan as a table: what would run, without running it.
pub(super) fn print_plan(plan: &Plan, prepared: &Prepared) -> Result<()> {
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
    outln!("{table}")?;
    let run = match (&prepared.schedule.target, prepared.schedule.shard) {
        (Target::Existing { dir, .. }, None) => format!("resumes run {}", dir.display()),
        (Target::Existing { dir, .. }, Some(shard)) => format!("resumes shard {shard} of run {}", dir.display()),
        (Target::New { run_id }, Some(shard)) => {
            format!("would start shard {shard} of run {}", plan.output_dir.join(run_id).display())
        }
        (Target::New { run_id } | Target::Restart { run_id, .. }, _) => {
            format!("would create run {}", plan.output_dir.join(run_id).display())
        }
    };
    let samples = if prepared.schedule.shard.is_some() { "samples in this shard" } else { "samples" };
    outln!("{} jobs, {total} {samples}, {to_run} to run; {run} (dry run: nothing written)", prepared.jobs.len())?;
    print_placement(plan, prepared)
}

/// The servers assay would start for the jobs that run, in the order they
/// start, with the GPUs each takes (a later wave waits for servers of
/// earlier ones to free its devices) and the exact command line; and how
/// many may run at once.
fn print_placement(plan: &Plan, prepared: &Prepared) -> Result<()> {
    let running = prepared.jobs.iter().zip(&prepared.schedule.actions).filter(|(_, action)| action.runs());
    let servers = runner::servers_of(running.map(|(job, _)| job));
    if servers.is_empty() {
        return Ok(());
    }
    let pool = plan.gpus.clone().unwrap_or_else(GpuPool::visible);
    let needs: Vec<usize> = servers.iter().map(|server| server.spec().gpus).collect();
    let mut table = new_table(&["model", "engine", "gpus", "CUDA_VISIBLE_DEVICES", "wave", "command"]);
    for (server, placed) in servers.iter().zip(placement(&pool, &needs)) {
        let (wave, devices) = match placed {
            Ok((wave, devices)) => (wave.to_string(), devices_text(&devices)),
            Err(_) => ("-".into(), "does not fit".into()),
        };
        let spec = server.spec();
        let row = [server.model_id(), spec.engine.name(), &spec.gpus.to_string(), &devices, &wave, &server.command()];
        table.add_row(row.map(String::from).to_vec());
    }
    outln!("{table}")?;
    let pool = if pool.is_empty() { "none".into() } else { devices_text(&pool) };
    outln!("GPU pool: {pool}; at most {} servers at once (one per job slot)", plan.parallel.max(1))?;
    Ok(())
}

/// Options for running `plan` from the command line.
pub(super) fn run_options(quiet: bool, verbose: u8) -> RunOptions {
    RunOptions {
        progress: progress_mode(quiet, verbose),
        cache_dir: locations::wasm_cache_dir(),
        selection: Default::default(),
        cancel: Cancel::default(),
        grace: INTERRUPT_GRACE,
        job_timeout: None,
        keep_workspaces: false,
        cost_limit: None,
        max_failures_in_a_row: runner::DEFAULT_MAX_FAILURES_IN_A_ROW,
    }
}
