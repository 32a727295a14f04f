//! `assay analyze`: means, spreads, intervals, pass@k and maj@k over
//! processed results.

use super::ExitStatus;
use super::output::outln;
use super::table::new_table;
use crate::analysis;
use anyhow::Result;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub(crate) struct AnalyzeArgs {
    /// Processed results, as `assay process` writes them.
    #[arg(long, value_name = "DIR", default_value = crate::locations::PROCESSED_DIR)]
    processed_dir: PathBuf,
    /// Where `config_analysis.csv`, `seed_analysis.csv` and
    /// `analysis_results.json` are written.
    #[arg(long, value_name = "DIR", default_value = crate::locations::ANALYSIS_DIR)]
    output_dir: PathBuf,
    /// Reward at or above which a sample counts as correct, for pass@k and maj@k.
    #[arg(long, value_name = "REWARD", default_value_t = 1.0)]
    threshold: f64,
}

pub(crate) fn analyze(args: AnalyzeArgs, quiet: bool) -> Result<ExitStatus> {
    let samples = analysis::load::load(&args.processed_dir)?;
    let (configs, seeds) = analysis::analyze(&samples, args.threshold);
    analysis::write(&args.output_dir, &configs, &seeds, args.threshold)?;
    if !quiet {
        let mut table = new_table(&[
            "model",
            "env",
            "config",
            "examples",
            "mean ± stderr",
            "95% CI",
            "std (seeds)",
            "pass@k",
            "maj@k",
        ]);
        let number = |x: Option<f64>| x.map_or("-".to_string(), |x| format!("{x:.3}"));
        for c in &configs {
            let at = |map: &std::collections::BTreeMap<usize, f64>| {
                map.iter().map(|(k, v)| format!("@{k} {v:.3}")).collect::<Vec<_>>().join(", ")
            };
            table.add_row(vec![
                c.model_id.clone(),
                c.env_id.clone(),
                c.config.clone(),
                c.n_examples.to_string(),
                format!("{} ± {}", number(c.mean), number(c.stderr)),
                format!("[{}, {}]", number(c.ci_low), number(c.ci_high)),
                number(c.std_across_seeds),
                at(&c.pass_at),
                at(&c.maj_at),
            ]);
        }
        outln!("{table}")?;
    }
    outln!("Analysis of {} configs written to {}", configs.len(), args.output_dir.display())?;
    Ok(ExitStatus::Success)
}
