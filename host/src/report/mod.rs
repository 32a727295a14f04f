//! Reports people look at: one self-contained HTML file (tables, charts,
//! a sample browser; no network needed to open it) or a markdown summary
//! to paste into a pull request, from processed results.
//!
//! Everything is computed by [`crate::analysis`] (means, confidence
//! intervals, win rates), so a report never disagrees with `assay analyze`
//! or `assay winrate`. Charts are SVG drawn with `plotters` ([`charts`]);
//! they are inlined in the HTML and written as files by `assay report
//! --plots`.

pub(crate) mod charts;
mod html;
mod markdown;
pub(crate) mod samples;
mod transcript;

use crate::analysis::winrate::{self, Method, Missing, Weight, WinrateOptions, Winrates};
use crate::analysis::{self, ALL_CONFIGS, ConfigAnalysis, GroupAnalysis, load};
use anyhow::Result;
use samples::SampleView;
use std::collections::BTreeMap;
use std::path::Path;

pub(crate) use html::html;
pub(crate) use markdown::markdown;

/// What goes into a report.
#[derive(Debug, Clone)]
pub(crate) struct ReportOptions {
    pub title: String,
    /// Samples shown per (model, sampling config, env variant) in the browser.
    pub samples_per_config: usize,
    /// Bootstrap resamples for win-rate intervals.
    pub resamples: usize,
}

/// A report's content, computed once and rendered as HTML or markdown.
#[derive(Debug)]
pub(crate) struct ReportData {
    pub title: String,
    pub generated_at: String,
    /// Every (model, env, config) analysed.
    pub configs: Vec<ConfigAnalysis>,
    /// Per group, for envs that group their results (`group_by`).
    pub groups: Vec<GroupAnalysis>,
    /// Pairwise win rates, when there are two models or more with envs in common.
    pub winrates: Option<Winrates>,
    /// Mean reward by checkpoint step and env, when models are checkpoints.
    pub curve: Vec<CurvePoint>,
    pub samples: Vec<SampleView>,
}

/// One point of the metric-vs-step curve.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CurvePoint {
    pub env: String,
    pub step: u64,
    pub mean: f64,
    pub ci: Option<(f64, f64)>,
}

/// Analyse `processed_dir` for a report.
pub(crate) fn build(processed_dir: &Path, options: &ReportOptions) -> Result<ReportData> {
    let loaded = load::load(processed_dir)?;
    let analysis = analysis::analyze(&loaded, 1.0);
    let (mut configs, groups) = (analysis.configs, analysis.groups);
    configs.sort_by(|a, b| {
        let key = |c: &ConfigAnalysis| (natural(&c.model_id), c.config_id.clone(), c.env_id.clone(), c.variant.clone());
        key(a).cmp(&key(b))
    });
    let models: std::collections::BTreeSet<&str> = configs.iter().map(|c| c.model_id.as_str()).collect();
    let winrates = match models.len() >= 2 {
        true => winrate::winrates(&loaded, &winrate_options(options.resamples)).ok(),
        false => None,
    };
    let curve = checkpoint_curve(&configs);
    let mut samples = samples::read(processed_dir, options.samples_per_config)?;
    samples.sort_by(|a, b| {
        let key = |s: &SampleView| (natural(&s.model), s.variant.clone(), natural(&s.example), s.rollout);
        key(a).cmp(&key(b))
    });
    Ok(ReportData {
        title: options.title.clone(),
        generated_at: crate::store::now_rfc3339(),
        configs,
        groups,
        winrates,
        curve,
        samples,
    })
}

fn winrate_options(resamples: usize) -> WinrateOptions {
    WinrateOptions {
        method: Method::Pairwise,
        missing: Missing::Loss,
        weight: Weight::Ln,
        epsilon: 1e-9,
        resamples,
        seed: 0,
        include_models: Vec::new(),
        exclude_models: Vec::new(),
        exclude_envs: Vec::new(),
    }
}

/// One row per (model, sampling config, env): the pooled `all` variant
/// when the env has several variants, else its only one.
pub(crate) fn env_level(configs: &[ConfigAnalysis]) -> Vec<&ConfigAnalysis> {
    let mut chosen: BTreeMap<(&str, &str, &str), &ConfigAnalysis> = BTreeMap::new();
    for config in configs {
        let key = (config.model_id.as_str(), config.config_id.as_str(), config.env_id.as_str());
        if config.variant == ALL_CONFIGS || !chosen.contains_key(&key) {
            chosen.insert(key, config);
        }
    }
    chosen.into_values().collect()
}

/// The step of a checkpoint model id: the number it ends with, when at
/// least two models share the text before it (`checkpoint-49`,
/// `checkpoint-98`); the largest such group wins.
fn checkpoint_curve(configs: &[ConfigAnalysis]) -> Vec<CurvePoint> {
    let rows = env_level(configs);
    let mut groups: BTreeMap<&str, Vec<(&ConfigAnalysis, u64)>> = BTreeMap::new();
    for row in rows {
        let id = row.model_id.as_str();
        let prefix = id.trim_end_matches(|c: char| c.is_ascii_digit());
        if let (false, Ok(step)) = (prefix.len() == id.len(), id[prefix.len()..].parse::<u64>()) {
            groups.entry(prefix).or_default().push((row, step));
        }
    }
    let models = |rows: &Vec<(&ConfigAnalysis, u64)>| {
        rows.iter().map(|(r, _)| r.model_id.as_str()).collect::<std::collections::BTreeSet<_>>().len()
    };
    let Some(best) = groups.values().filter(|rows| models(rows) >= 2).max_by_key(|rows| models(rows)) else {
        return Vec::new();
    };
    let mut curve: Vec<CurvePoint> = best
        .iter()
        .filter_map(|(row, step)| {
            let ci = row.ci_low.zip(row.ci_high);
            Some(CurvePoint { env: row.env_id.clone(), step: *step, mean: row.mean?, ci })
        })
        .collect();
    curve.sort_by(|a, b| (&a.env, a.step).cmp(&(&b.env, b.step)));
    curve
}

/// A sort key that orders `checkpoint-98` before `checkpoint-196`: the
/// text before a trailing number, then the number.
fn natural(id: &str) -> (String, u64) {
    let prefix = id.trim_end_matches(|c: char| c.is_ascii_digit());
    (prefix.to_string(), id[prefix.len()..].parse().unwrap_or(0))
}

/// `0.734 ± 0.012`, or `-`.
fn mean_pm(config: &ConfigAnalysis) -> String {
    match (config.mean, config.stderr) {
        (Some(mean), Some(stderr)) => format!("{mean:.3} ± {stderr:.3}"),
        (Some(mean), None) => format!("{mean:.3}"),
        _ => "-".into(),
    }
}

/// `[0.71, 0.76]`, or `-`.
fn interval(ci: Option<(f64, f64)>) -> String {
    ci.map_or("-".into(), |(low, high)| format!("[{low:.3}, {high:.3}]"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(model: &str, env: &str, variant: &str, mean: f64) -> ConfigAnalysis {
        ConfigAnalysis {
            model_id: model.into(),
            env_id: env.into(),
            variant: variant.into(),
            config_id: "default".into(),
            n_examples: 10,
            samples_per_example: 1,
            errors: 0,
            cost_usd: None,
            mean: Some(mean),
            stderr: Some(0.1),
            ci_low: Some(mean - 0.2),
            ci_high: Some(mean + 0.2),
            macro_mean: None,
            std_across_seeds: None,
            pass_at: BTreeMap::new(),
            maj_at: BTreeMap::new(),
        }
    }

    #[test]
    fn checkpoints_form_a_curve_in_numeric_step_order() {
        let configs = vec![
            config("checkpoint-196", "gsm8k", "gsm8k", 0.6),
            config("checkpoint-49", "gsm8k", "gsm8k", 0.2),
            config("checkpoint-98", "gsm8k", "gsm8k", 0.4),
            config("gpt-4o", "gsm8k", "gsm8k", 0.9),
            config("qwen-2", "gsm8k", "gsm8k", 0.9),
        ];
        let steps: Vec<(u64, f64)> = checkpoint_curve(&configs).iter().map(|p| (p.step, p.mean)).collect();
        assert_eq!(steps, [(49, 0.2), (98, 0.4), (196, 0.6)]);
        assert!(checkpoint_curve(&configs[3..]).is_empty(), "one model per prefix is no curve");
    }

    #[test]
    fn env_level_prefers_the_pooled_config() {
        let configs =
            vec![config("m", "mmlu", "mmlu-a", 0.1), config("m", "mmlu", "all", 0.5), config("m", "qa", "qa", 0.3)];
        let chosen: Vec<&str> = env_level(&configs).iter().map(|c| c.variant.as_str()).collect();
        assert_eq!(chosen, ["all", "qa"]);
    }
}
