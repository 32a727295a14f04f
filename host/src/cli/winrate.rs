//! `assay winrate`: which model beats which, per env and overall, with
//! bootstrap confidence intervals.

use super::table::new_table;
use crate::analysis::load;
use crate::analysis::winrate::{self, Method, Missing, Weight, WinrateOptions, Winrates};
use anyhow::Result;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct WinrateArgs {
    /// Processed results, as `assay process` writes them.
    #[arg(long, value_name = "DIR", default_value = "runs/processed")]
    processed_dir: PathBuf,
    /// Where `winrates.json` and `winrates.csv` are written.
    #[arg(long, value_name = "DIR", default_value = "runs/winrate")]
    output_dir: PathBuf,
    /// `pairwise`: per-example comparisons between every two models;
    /// `helm`: HELM's mean win rate over env-level mean rewards.
    #[arg(long, value_enum, default_value_t = Method::Pairwise)]
    method: Method,
    /// What an example a model has no score on counts as (pairwise).
    #[arg(long, value_enum, default_value_t = Missing::Loss)]
    missing: Missing,
    /// How envs are weighted in a model's overall win rate (pairwise).
    #[arg(long, value_enum, default_value_t = Weight::Ln)]
    weight: Weight,
    /// Scores closer than this are a tie.
    #[arg(long, default_value_t = 1e-9)]
    epsilon: f64,
    /// Bootstrap replicates for the 95% intervals (0: no intervals).
    #[arg(long, value_name = "N", default_value_t = 1000)]
    resamples: usize,
    /// Seed of the bootstrap, so intervals are reproducible.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Compare only these models (repeatable).
    #[arg(long = "include-model", value_name = "MODEL")]
    include_models: Vec<String>,
    /// Leave this model out (repeatable).
    #[arg(long = "exclude-model", value_name = "MODEL")]
    exclude_models: Vec<String>,
    /// Leave this env out (repeatable).
    #[arg(long = "exclude-env", value_name = "ENV")]
    exclude_envs: Vec<String>,
}

pub fn winrate(args: WinrateArgs, quiet: bool) -> Result<ExitCode> {
    let samples = load::load(&args.processed_dir)?;
    let options = WinrateOptions {
        method: args.method,
        missing: args.missing,
        weight: args.weight,
        epsilon: args.epsilon,
        resamples: args.resamples,
        seed: args.seed,
        include_models: args.include_models,
        exclude_models: args.exclude_models,
        exclude_envs: args.exclude_envs,
    };
    let result = winrate::winrates(&samples, &options)?;
    write(&args.output_dir, &result)?;
    for dropped in &result.dropped_envs {
        eprintln!("env {} left out: no results for {}", dropped.env_id, dropped.missing_models.join(", "));
    }
    if !quiet {
        print(&result);
    }
    println!(
        "Win rates of {} models over {} envs written to {}",
        result.models.len(),
        result.envs.len(),
        args.output_dir.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Models by mean win rate, best first.
fn ranked(result: &Winrates) -> Vec<(&String, &winrate::ModelResult)> {
    let mut models: Vec<_> = result.models.iter().collect();
    models.sort_by(|a, b| b.1.mean_win_rate.total_cmp(&a.1.mean_win_rate));
    models
}

fn print(result: &Winrates) {
    let mut table = new_table(&["model", "mean win rate", "95% CI", "W / L / T", "envs"]);
    for (model, r) in ranked(result) {
        let ci = r.ci.map_or("-".into(), |(lo, hi)| format!("[{lo:.3}, {hi:.3}]"));
        let record = match result.options.method {
            Method::Pairwise => format!("{} / {} / {}", r.record.wins, r.record.losses, r.record.ties),
            Method::Helm => "-".into(),
        };
        table.add_row(vec![model.clone(), format!("{:.3}", r.mean_win_rate), ci, record, r.n_envs.to_string()]);
    }
    println!("{table}");
}

/// `winrates.json` (everything) and `winrates.csv` (one row per model).
fn write(dir: &Path, result: &Winrates) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
    crate::store::write_json(&dir.join("winrates.json"), result)?;
    let mut csv = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> =
        ["model", "mean_win_rate", "ci_low", "ci_high", "wins", "losses", "ties", "n_envs"].map(String::from).to_vec();
    header.extend(result.envs.keys().map(|env| format!("win_rate:{env}")));
    header.extend(result.envs.keys().map(|env| format!("reward:{env}")));
    csv.write_record(&header)?;
    for (model, r) in ranked(result) {
        let mut row = vec![model.clone(), r.mean_win_rate.to_string()];
        row.push(r.ci.map_or(String::new(), |c| c.0.to_string()));
        row.push(r.ci.map_or(String::new(), |c| c.1.to_string()));
        row.extend([r.record.wins, r.record.losses, r.record.ties].map(|n| n.to_string()));
        row.push(r.n_envs.to_string());
        row.extend(result.envs.keys().map(|env| r.per_env.get(env).map_or(String::new(), f64::to_string)));
        row.extend(result.envs.keys().map(|env| r.avg_reward.get(env).map_or(String::new(), f64::to_string)));
        csv.write_record(&row)?;
    }
    crate::store::write_atomic(&dir.join("winrates.csv"), &csv.into_inner()?)
}
