//! `assay runs` and `assay summarize`: what is in an output directory, and
//! how each job of a run went.

use super::ExitStatus;
use super::output::outln;
use super::table::{jobs_table, new_table, print_reasons, print_run_cost, run_cost};
use crate::store::read_summaries;
use crate::store::{self, JobStatus, Manifest};
use anyhow::{Result, anyhow};
use serde_json::json;
use std::path::{Path, PathBuf};

/// Where `bench` writes runs unless told otherwise.
const DEFAULT_RUNS_DIR: &str = crate::locations::RUNS_DIR;

#[derive(Debug, clap::Args)]
pub(crate) struct RunsArgs {
    /// The directory holding runs (default `runs/raw`).
    #[arg(long, value_name = "DIR", default_value = DEFAULT_RUNS_DIR)]
    output_dir: PathBuf,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
pub(crate) struct SummarizeArgs {
    /// The run to summarize: its id, or its name with `--latest` or
    /// `--rollout` (default: the newest run).
    #[arg(value_name = "RUN")]
    run: Option<String>,
    /// The newest run (of those named RUN, when given).
    #[arg(long, conflicts_with = "rollout")]
    latest: bool,
    /// The run named RUN started at TIMESTAMP (`20261206-052437`, as its id
    /// ends).
    #[arg(long, value_name = "TIMESTAMP", requires = "run")]
    rollout: Option<String>,
    /// The directory holding runs (default `runs/raw`).
    #[arg(long, value_name = "DIR", default_value = DEFAULT_RUNS_DIR)]
    output_dir: PathBuf,
    /// Print JSON (the manifest's jobs with their summaries) instead of a table.
    #[arg(long)]
    json: bool,
}

/// Jobs completed and samples recorded, over the totals.
fn progress(manifest: &Manifest) -> (usize, u64, u64) {
    let completed = manifest.jobs.iter().filter(|j| j.status == JobStatus::Completed).count();
    let done = manifest.jobs.iter().map(|j| j.samples_done).sum();
    let total = manifest.jobs.iter().map(|j| j.samples_total).sum();
    (completed, done, total)
}

pub(crate) fn runs(args: RunsArgs) -> Result<ExitStatus> {
    let runs = store::list_runs(&args.output_dir)?;
    if args.json {
        let rows: Vec<_> = runs
            .iter()
            .map(|(dir, m)| {
                let (completed, done, total) = progress(m);
                json!({
                    "run_id": m.run_id, "name": m.name, "path": dir, "created_at": m.created_at,
                    "updated_at": m.updated_at, "jobs_completed": completed, "jobs_total": m.jobs.len(),
                    "samples_done": done, "samples_total": total, "shards": m.shards,
                })
            })
            .collect();
        outln!("{}", serde_json::to_string_pretty(&rows)?)?;
        return Ok(ExitStatus::Success);
    }
    if runs.is_empty() {
        outln!("No runs in {}", args.output_dir.display())?;
        return Ok(ExitStatus::Success);
    }
    let mut table = new_table(&["run", "name", "created", "updated", "jobs done", "samples done"]);
    for (_, manifest) in &runs {
        let (completed, done, total) = progress(manifest);
        table.add_row(vec![
            manifest.run_id.clone(),
            manifest.name.clone(),
            short_time(&manifest.created_at),
            short_time(&manifest.updated_at),
            format!("{completed}/{}", manifest.jobs.len()),
            format!("{done}/{total}"),
        ]);
    }
    outln!("{table}")?;
    Ok(ExitStatus::Success)
}

/// `2026-11-23T05:15:04.72Z` as `2026-11-23 05:15:04` (UTC).
fn short_time(rfc3339: &str) -> String {
    rfc3339.get(..19).unwrap_or(rfc3339).replace('T', " ")
}

pub(crate) fn summarize(args: SummarizeArgs) -> Result<ExitStatus> {
    let (dir, manifest) = find_run(&args.output_dir, &args)?;
    let summaries = read_summaries(&dir, &manifest);
    if args.json {
        let jobs: Vec<_> =
            manifest.jobs.iter().map(|job| json!({"job": job, "summary": summaries.get(&job.job_id)})).collect();
        let cost = run_cost(&summaries);
        let out = json!({
            "run_id": manifest.run_id, "name": manifest.name, "path": dir, "shards": manifest.shards,
            "cost_usd": cost, "jobs": jobs,
        });
        outln!("{}", serde_json::to_string_pretty(&out)?)?;
        return Ok(ExitStatus::Success);
    }
    let split = manifest.shards.map_or_else(String::new, |count| format!(", {count} shards"));
    outln!("Run {} ({}{split}), updated {}", manifest.run_id, dir.display(), manifest.updated_at)?;
    outln!("{}", jobs_table(&manifest, &summaries))?;
    print_run_cost(&summaries)?;
    print_reasons(&manifest)?;
    Ok(ExitStatus::Success)
}

/// The run `args` name in `output_dir` (newest first in `list_runs`).
fn find_run(output_dir: &Path, args: &SummarizeArgs) -> Result<(PathBuf, Manifest)> {
    let mut runs = store::list_runs(output_dir)?.into_iter();
    let Some(run) = args.run.as_deref() else {
        return runs.next().ok_or_else(|| anyhow!("no runs in {}", output_dir.display()));
    };
    let named = |m: &Manifest| m.name == run || store::slug(&m.name) == run;
    let found = match (&args.rollout, args.latest) {
        (Some(stamp), _) => {
            let id = format!("{}-{stamp}", store::slug(run));
            runs.find(|(_, m)| m.run_id == id && named(m))
        }
        (None, true) => runs.find(|(_, m)| named(m)),
        (None, false) => runs.find(|(_, m)| m.run_id == run),
    };
    found.ok_or_else(|| match (&args.rollout, args.latest) {
        (Some(stamp), _) => {
            anyhow!("no run named `{run}` started at {stamp} in {} (`assay runs` lists them)", output_dir.display())
        }
        (None, true) => anyhow!("no run named `{run}` in {} (`assay runs` lists them)", output_dir.display()),
        (None, false) => anyhow!(
            "no run `{run}` in {} (`assay runs` lists them; for a run name, add --latest or --rollout TIMESTAMP)",
            output_dir.display()
        ),
    })
}
