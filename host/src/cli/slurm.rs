//! `assay slurm`: a Slurm batch script that runs a config as a job array,
//! one shard (`bench --shards N`) per task, and its submission.
//!
//! The script is written into the run directory it names, so the run, its
//! script and every task's output stay together, and submitting the script
//! again continues the same run. Preemption and time limits requeue a task
//! (see [`SCRIPT`]); the requeued task resumes its shard exactly.

use super::ExitStatus;
use super::output::outln;
use crate::plan;
use crate::store::{self, Manifest, RunLayout};
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
pub(crate) struct SlurmArgs {
    /// The run config (YAML or TOML).
    #[arg(value_name = "CONFIG")]
    config: PathBuf,
    /// How many shards, one per array task.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    shards: u32,
    /// The run every shard writes to (default: a new id from the config's
    /// name and the time). Submitting the script again continues it.
    #[arg(long, value_name = "RUN_ID")]
    run_id: Option<String>,
    /// Where runs are written (overrides the config's `output_dir`; default
    /// `runs/raw`). Must be on a filesystem every node shares.
    #[arg(long, value_name = "DIR")]
    output_dir: Option<PathBuf>,
    /// Submit the script with `sbatch` and print the job id.
    #[arg(long)]
    submit: bool,
    /// sbatch options, after `--`; each option starts an `#SBATCH` line after
    /// assay's own, so they win (e.g. `-- --partition=gpu --time=04:00:00`).
    #[arg(last = true, value_name = "SBATCH_OPTION")]
    sbatch: Vec<String>,
}

/// The batch script. Each task runs one shard in the background and
/// forwards SIGTERM to it: Slurm sends SIGTERM to the batch shell before
/// the time limit (`--signal=B:TERM@120`), and to every process of the
/// task on preemption, `scontrol requeue` and `scancel --signal=TERM
/// --full`. assay then finishes its in-flight samples (20 s at most, under
/// Slurm's default KillWait of 30 s) and exits 143; the task then requeues
/// itself (`--requeue` makes that allowed), and the requeued task resumes
/// the shard. Any other exit ends the task (0: done; 1: some samples
/// failed, and submitting again retries them; 2: it cannot run).
const SCRIPT: &str = r#"#!/bin/bash
# Written by `assay slurm` (assay {version}): {shards} shards of run {run_id}.
# Submit with `sbatch {script}`; submitting again continues the run.
#SBATCH --job-name={job_name}
#SBATCH --array=0-{last}
#SBATCH --output={output}
#SBATCH --open-mode=append
#SBATCH --requeue
#SBATCH --signal=B:TERM@120
{options}
cd {cwd} || exit 2
{assay} bench --config {config} --output-dir {output_dir} --run-id {run_id_word} --shards {shards} &
assay=$!
trap 'kill -TERM "$assay" 2>/dev/null' TERM
while :; do
    wait "$assay"
    status=$?
    # `wait` also returns when the trap ran; assay may still be finishing.
    kill -0 "$assay" 2>/dev/null || break
done
if [ "$status" -eq 143 ]; then
    echo "assay slurm: shard ${SLURM_ARRAY_TASK_ID} stopped by SIGTERM; requeueing it" >&2
    scontrol requeue "${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}" || true
fi
exit "$status"
"#;

pub(crate) fn slurm(args: SlurmArgs) -> Result<ExitStatus> {
    let mut plan = plan::plan(&args.config)?;
    if let Some(dir) = &args.output_dir {
        plan.output_dir = dir.clone();
    }
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let output_dir = cwd.join(&plan.output_dir);
    let run_id = args.run_id.clone().unwrap_or_else(|| store::new_run_id(&output_dir, &plan.name));
    let layout = RunLayout::new(output_dir.join(&run_id));
    check_run(&layout, &run_id, args.shards)?;
    std::fs::create_dir_all(layout.logs_dir())
        .with_context(|| format!("cannot create {}", layout.logs_dir().display()))?;
    let config =
        std::fs::canonicalize(&args.config).with_context(|| format!("cannot resolve {}", args.config.display()))?;
    let assay = std::env::current_exe().context("cannot find the assay binary")?;
    let script = layout.slurm_script();
    let text = SCRIPT
        .replace("{version}", env!("CARGO_PKG_VERSION"))
        .replace("{shards}", &args.shards.to_string())
        .replace("{last}", &(args.shards - 1).to_string())
        .replace("{run_id_word}", &quote(&run_id))
        .replace("{run_id}", &run_id)
        .replace("{script}", &quote_path(&script))
        .replace("{job_name}", &format!("assay-{}", store::slug(&plan.name)))
        .replace("{output}", &layout.slurm_output_pattern().display().to_string())
        .replace("{options}", &sbatch_lines(&args.sbatch))
        .replace("{cwd}", &quote_path(&cwd))
        .replace("{assay}", &quote_path(&assay))
        .replace("{config}", &quote_path(&config))
        .replace("{output_dir}", &quote_path(&output_dir));
    store::write_atomic(&script, text.as_bytes())?;
    outln!("Wrote {} ({} shards of run {run_id})", script.display(), args.shards)?;
    if args.submit {
        let job = submit(&script)?;
        outln!("Submitted job array {job}: `squeue -j {job}` shows its tasks, `assay summarize {run_id}` the run")?;
    } else {
        outln!("Submit it with: sbatch {}", quote_path(&script))?;
    }
    Ok(ExitStatus::Success)
}

/// An existing run must be one these shards can join.
fn check_run(layout: &RunLayout, run_id: &str, shards: u32) -> Result<()> {
    if !layout.exists() {
        return Ok(());
    }
    match Manifest::read(layout.root())?.shards {
        None => bail!("--run-id {run_id}: that run is not split into shards; choose another id"),
        Some(count) if count != shards => {
            bail!("--run-id {run_id}: that run is split into {count} shards, not {shards}; use --shards {count}")
        }
        Some(_) => Ok(()),
    }
}

/// One `#SBATCH` line per option: a word starting with `-` begins a line,
/// the words after it (`-p gpu`) join it.
fn sbatch_lines(options: &[String]) -> String {
    let mut lines: Vec<String> = Vec::new();
    for word in options {
        match lines.last_mut() {
            Some(line) if !word.starts_with('-') => {
                line.push(' ');
                line.push_str(&quote(word));
            }
            _ => lines.push(format!("#SBATCH {}", quote(word))),
        }
    }
    lines.join("\n")
}

/// `sbatch --parsable SCRIPT`; the job id it prints.
fn submit(script: &Path) -> Result<String> {
    let output = std::process::Command::new("sbatch")
        .arg("--parsable")
        .arg(script)
        .output()
        .context("cannot run sbatch (is Slurm installed here? `sbatch SCRIPT` submits the script by hand)")?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        bail!("sbatch {} failed: {}", script.display(), stderr.trim().lines().last().unwrap_or("no message"));
    }
    // `--parsable` prints `<job id>[;<cluster>]`.
    let job = stdout.trim().split(';').next().unwrap_or_default().to_string();
    if job.is_empty() {
        bail!("sbatch {} printed no job id", script.display());
    }
    Ok(job)
}

/// `text` as one shell word (single-quoted unless it is plainly safe).
fn quote(text: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "-_./=:,%@+".contains(c);
    if !text.is_empty() && text.chars().all(safe) {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

fn quote_path(path: &Path) -> String {
    quote(&path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sbatch_options_become_lines_and_words_are_quoted() {
        let options: Vec<String> = ["--partition=gpu", "-t", "04:00:00", "--comment", "a b"].map(String::from).into();
        assert_eq!(sbatch_lines(&options), "#SBATCH --partition=gpu\n#SBATCH -t 04:00:00\n#SBATCH --comment 'a b'");
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert_eq!(quote("/runs/raw"), "/runs/raw");
    }
}
