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
    let analysis = analysis::analyze(&samples, args.threshold);
    analysis::write(&args.output_dir, &analysis, args.threshold)?;
    let configs = &analysis.configs;
    if !quiet {
        let mut table = new_table(&[
            "model",
            "config",
            "env",
            "variant",
            "examples",
            "mean ± stderr",
            "95% CI",
            "std (seeds)",
            "pass@k",
            "maj@k",
        ]);
        let number = |x: Option<f64>| x.map_or("-".to_string(), |x| format!("{x:.3}"));
        for c in configs {
            let at = |map: &std::collections::BTreeMap<usize, f64>| {
                map.iter().map(|(k, v)| format!("@{k} {v:.3}")).collect::<Vec<_>>().join(", ")
            };
            table.add_row(vec![
                c.model_id.clone(),
                c.config_id.clone(),
                c.env_id.clone(),
                c.variant.clone(),
                c.n_examples.to_string(),
                format!("{} ± {}", number(c.mean), number(c.stderr)),
                format!("[{}, {}]", number(c.ci_low), number(c.ci_high)),
                number(c.std_across_seeds),
                at(&c.pass_at),
                at(&c.maj_at),
            ]);
        }
        outln!("{table}")?;
        print_groups(&analysis)?;
    }
    outln!("Analysis of {} configs written to {}", configs.len(), args.output_dir.display())?;
    Ok(ExitStatus::Success)
}

/// Per-group means with their intervals, and each config's macro and
/// micro averages, for envs that group their results.
fn print_groups(analysis: &analysis::Analysis) -> Result<()> {
    if analysis.groups.is_empty() {
        return Ok(());
    }
    let mut table = new_table(&["model", "config", "env", "variant", "group", "examples", "mean ± stderr", "95% CI"]);
    for g in &analysis.groups {
        table.add_row(vec![
            g.model_id.clone(),
            g.config_id.clone(),
            g.env_id.clone(),
            g.variant.clone(),
            g.group.clone(),
            g.n_examples.to_string(),
            format!("{:.3} ± {}", g.mean, g.stderr.map_or("-".into(), |s| format!("{s:.3}"))),
            format!("[{:.3}, {:.3}]", g.ci_low, g.ci_high),
        ]);
    }
    for c in analysis.configs.iter().filter(|c| c.macro_mean.is_some()) {
        let average = |x: Option<f64>| x.map_or("-".into(), |x| format!("{x:.3}"));
        let macro_row = vec![
            c.model_id.clone(),
            c.config_id.clone(),
            c.env_id.clone(),
            c.variant.clone(),
            "(macro average)".into(),
            "".into(),
            average(c.macro_mean),
            "".into(),
        ];
        let micro_row = vec![
            c.model_id.clone(),
            c.config_id.clone(),
            c.env_id.clone(),
            c.variant.clone(),
            "(micro average)".into(),
            c.n_examples.to_string(),
            average(c.mean),
            "".into(),
        ];
        table.add_row(macro_row);
        table.add_row(micro_row);
    }
    outln!("{table}")?;
    Ok(())
}
