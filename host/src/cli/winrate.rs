//! `assay winrate`: which model beats which, per env and overall, with
//! bootstrap confidence intervals.

use super::ExitStatus;
use super::output::{errln, outln};
use super::table::new_table;
use crate::analysis::load;
use crate::analysis::winrate::{self, Method, Missing, Weight, WinrateOptions, Winrates};
use crate::locations;
use anyhow::Result;
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Default, clap::Args)]
pub(crate) struct WinrateArgs {
    /// Processed results, as `assay process` writes them (default `runs/processed`).
    #[arg(long, value_name = "DIR")]
    processed_dir: Option<PathBuf>,
    /// Where `winrates.json` and `winrates.csv` are written (default `runs/winrate`).
    #[arg(long, value_name = "DIR")]
    output_dir: Option<PathBuf>,
    /// `pairwise` (default): per-example comparisons between every two
    /// models; `helm`: HELM's mean win rate over env-level mean rewards.
    #[arg(long, value_enum)]
    method: Option<Method>,
    /// What an example a model has no score on counts as, pairwise
    /// (default `loss`).
    #[arg(long, value_enum)]
    missing: Option<Missing>,
    /// How envs are weighted in a model's overall pairwise win rate
    /// (default `ln`: by the log of their example count).
    #[arg(long, value_enum)]
    weight: Option<Weight>,
    /// Scores closer than this are a tie (default 1e-9).
    #[arg(long)]
    epsilon: Option<f64>,
    /// Bootstrap replicates for the 95% intervals (default 1000; 0: none).
    #[arg(long, value_name = "N")]
    resamples: Option<usize>,
    /// Seed of the bootstrap, so intervals are reproducible (default 0).
    #[arg(long)]
    seed: Option<u64>,
    /// Compare only these models (repeatable); a model under a named
    /// sampling config is `MODEL@CONFIG_ID`.
    #[arg(long = "include-model", value_name = "MODEL")]
    include_models: Vec<String>,
    /// Leave this model out (repeatable; `MODEL@CONFIG_ID` as above).
    #[arg(long = "exclude-model", value_name = "MODEL")]
    exclude_models: Vec<String>,
    /// Leave this env out (repeatable).
    #[arg(long = "exclude-env", value_name = "ENV")]
    exclude_envs: Vec<String>,
    /// Compare per group of envs that group their results (`group_by`):
    /// each `<env>/<group>` counts as an env.
    #[arg(long)]
    by_group: bool,
    /// A YAML file with any of these options (`processed_dir`,
    /// `output_dir`, `method`, `missing`, `weight`, `epsilon`, `resamples`,
    /// `seed`, `include_models`, `exclude_models`, `exclude_envs`,
    /// `by_group`); flags
    /// given on the command line win.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

/// The options a `--config` file may set.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct WinrateConfig {
    processed_dir: Option<PathBuf>,
    output_dir: Option<PathBuf>,
    method: Option<Method>,
    missing: Option<Missing>,
    weight: Option<Weight>,
    epsilon: Option<f64>,
    resamples: Option<usize>,
    seed: Option<u64>,
    #[serde(default)]
    include_models: Vec<String>,
    #[serde(default)]
    exclude_models: Vec<String>,
    #[serde(default)]
    exclude_envs: Vec<String>,
    #[serde(default)]
    by_group: bool,
}

impl WinrateArgs {
    /// Win rates from a config file alone (`process --winrate FILE`), over
    /// `processed_dir` (what was just processed; the file cannot move it).
    pub(crate) fn from_file(config: PathBuf, processed_dir: &Path) -> Self {
        WinrateArgs { config: Some(config), processed_dir: Some(processed_dir.to_path_buf()), ..Default::default() }
    }
}

pub(crate) fn winrate(args: WinrateArgs, quiet: bool) -> Result<ExitStatus> {
    let file: WinrateConfig = match &args.config {
        Some(path) => crate::config::parse_file(path)?,
        None => WinrateConfig::default(),
    };
    let or = |cli: Vec<String>, file: Vec<String>| if cli.is_empty() { file } else { cli };
    let processed_dir = args.processed_dir.or(file.processed_dir).unwrap_or_else(|| locations::PROCESSED_DIR.into());
    let output_dir = args.output_dir.or(file.output_dir).unwrap_or_else(|| locations::WINRATE_DIR.into());
    let options = WinrateOptions {
        method: args.method.or(file.method).unwrap_or(Method::Pairwise),
        missing: args.missing.or(file.missing).unwrap_or(Missing::Loss),
        weight: args.weight.or(file.weight).unwrap_or(Weight::Ln),
        epsilon: args.epsilon.or(file.epsilon).unwrap_or(1e-9),
        resamples: args.resamples.or(file.resamples).unwrap_or(1000),
        seed: args.seed.or(file.seed).unwrap_or(0),
        include_models: or(args.include_models, file.include_models),
        exclude_models: or(args.exclude_models, file.exclude_models),
        exclude_envs: or(args.exclude_envs, file.exclude_envs),
    };
    let scores = load::load_scores(&processed_dir, args.by_group || file.by_group)?;
    let result = winrate::winrates_of(&scores, &options)?;
    write(&output_dir, &result)?;
    for dropped in &result.dropped_envs {
        errln!("env {} left out: no results for {}", dropped.env_id, dropped.missing_models.join(", "));
    }
    if !quiet {
        print(&result)?;
    }
    outln!(
        "Win rates of {} models over {} envs written to {}",
        result.models.len(),
        result.envs.len(),
        output_dir.display()
    )?;
    Ok(ExitStatus::Success)
}

/// Models by mean win rate, best first.
fn ranked(result: &Winrates) -> Vec<(&String, &winrate::ModelResult)> {
    let mut models: Vec<_> = result.models.iter().collect();
    models.sort_by(|a, b| b.1.mean_win_rate.total_cmp(&a.1.mean_win_rate));
    models
}

fn print(result: &Winrates) -> std::io::Result<()> {
    let mut table = new_table(&["model", "mean win rate", "95% CI", "W / L / T", "envs"]);
    for (model, r) in ranked(result) {
        let ci = r.ci.map_or("-".into(), |(lo, hi)| format!("[{lo:.3}, {hi:.3}]"));
        let record = match result.options.method {
            Method::Pairwise => format!("{} / {} / {}", r.record.wins, r.record.losses, r.record.ties),
            Method::Helm => "-".into(),
        };
        table.add_row(vec![model.clone(), format!("{:.3}", r.mean_win_rate), ci, record, r.n_envs.to_string()]);
    }
    outln!("{table}")?;
    Ok(())
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
