//! `assay report`: an HTML page or a markdown summary of one run, several
//! runs, a directory of runs, or processed results.

use super::ExitStatus;
use super::output::outln;
use crate::locations;
use crate::process::{self, INDEX_FILE, ProcessOptions};
use crate::report::{self, ReportOptions, charts};
use crate::store::{JobStatus, RunLayout};
use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
pub(crate) struct ReportArgs {
    /// What to report on: run directories, a directory of runs
    /// (`runs/raw`), or processed results (`runs/processed`). Default:
    /// `runs/processed` if it exists, else `runs/raw`.
    inputs: Vec<PathBuf>,
    /// `html` (one self-contained file) or `md` (tables to paste into a PR).
    #[arg(long, value_enum, default_value = "html")]
    format: Format,
    /// Where the report is written [default: report.html or report.md].
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// The report's title.
    #[arg(long, default_value = "assay report")]
    title: String,
    /// Samples per (model, sampling config, env variant) in the HTML sample browser.
    #[arg(long, value_name = "N", default_value_t = 200)]
    samples: usize,
    /// Bootstrap resamples for win-rate intervals.
    #[arg(long, value_name = "N", default_value_t = 200)]
    resamples: usize,
    /// Also write the charts into this directory as SVG (for papers) and
    /// PNG (for slides): envs, curve (checkpoints) and winrates (2+ models).
    #[arg(long, value_name = "DIR")]
    plots: Option<PathBuf>,
}

/// A report's file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(super) enum Format {
    /// One self-contained HTML page.
    Html,
    /// Markdown tables.
    Md,
}

pub(crate) async fn report(args: ReportArgs) -> Result<ExitStatus> {
    let inputs = match args.inputs.is_empty() {
        false => args.inputs.clone(),
        true if Path::new(locations::PROCESSED_DIR).join(INDEX_FILE).is_file() => {
            vec![PathBuf::from(locations::PROCESSED_DIR)]
        }
        true => vec![PathBuf::from(locations::RUNS_DIR)],
    };
    let options =
        ReportOptions { title: args.title.clone(), samples_per_config: args.samples, resamples: args.resamples };
    let data = write_report(&inputs, args.format, args.output.as_deref(), &options)?;
    if let Some(dir) = &args.plots {
        write_plots(dir, &data)?;
    }
    Ok(ExitStatus::Success)
}

/// Build the report of `inputs` and write it to `output` (default
/// `report.html` or `report.md`), saying where.
pub(super) fn write_report(
    inputs: &[PathBuf],
    format: Format,
    output: Option<&Path>,
    options: &ReportOptions,
) -> Result<report::ReportData> {
    let scratch = tempfile::Builder::new().prefix("assay-report-").tempdir()?;
    let processed = processed_dir(inputs, scratch.path())?;
    let data = report::build(&processed, options)?;
    let (text, default_name) = match format {
        Format::Html => (report::html(&data)?, "report.html"),
        Format::Md => (report::markdown(&data), "report.md"),
    };
    let output = output.map_or_else(|| PathBuf::from(default_name), Path::to_path_buf);
    if let Some(parent) = output.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
    }
    crate::store::write_atomic(&output, text.as_bytes())?;
    outln!("Report: {} ({} results, {} samples shown)", output.display(), data.configs.len(), data.samples.len())?;
    Ok(data)
}

/// Processed results for `inputs`: a processed dir as is; runs are
/// processed (every job status) into `scratch` first.
fn processed_dir(inputs: &[PathBuf], scratch: &Path) -> Result<PathBuf> {
    if let [single] = inputs
        && single.join(INDEX_FILE).is_file()
    {
        return Ok(single.clone());
    }
    let runs = scratch.join("runs");
    std::fs::create_dir_all(&runs)?;
    for (i, input) in inputs.iter().enumerate() {
        let input = input.canonicalize().with_context(|| format!("{} not found", input.display()))?;
        let run_dirs: Vec<PathBuf> = match RunLayout::new(&input).exists() {
            true => vec![input.clone()],
            false if input.join(INDEX_FILE).is_file() => {
                bail!("{}: processed results can only be reported alone", input.display())
            }
            false => std::fs::read_dir(&input)
                .with_context(|| format!("cannot read {}", input.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| RunLayout::new(p).exists())
                .collect(),
        };
        if run_dirs.is_empty() {
            bail!("{}: neither a run, a directory of runs, nor processed results", input.display());
        }
        for run in run_dirs {
            let name = format!("{i}-{}", run.file_name().unwrap_or_default().to_string_lossy());
            std::os::unix::fs::symlink(&run, runs.join(name))?;
        }
    }
    let output_dir = scratch.join("processed");
    let statuses = vec![JobStatus::Completed, JobStatus::Running, JobStatus::Failed, JobStatus::Interrupted];
    let options = ProcessOptions {
        runs_dir: runs,
        output_dir: output_dir.clone(),
        max_workers: 4,
        statuses,
        drop_text: false,
        dry_run: false,
    };
    process::process(&options)?;
    Ok(output_dir)
}

fn write_plots(dir: &Path, data: &report::ReportData) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut plots = vec![("envs", charts::env_bars(&data.configs)?)];
    if !data.curve.is_empty() {
        plots.push(("curve", charts::curve(&data.curve)?));
    }
    if let Some(winrates) = &data.winrates {
        plots.push(("winrates", charts::winrate_heatmap(winrates)?));
    }
    for (name, svg) in plots {
        let png = charts::png(&svg, 2.0)?;
        for (path, bytes) in
            [(dir.join(format!("{name}.svg")), svg.as_bytes()), (dir.join(format!("{name}.png")), &png)]
        {
            crate::store::write_atomic(&path, bytes)?;
            outln!("Plot: {}", path.display())?;
        }
    }
    Ok(())
}
