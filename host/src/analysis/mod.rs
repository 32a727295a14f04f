//! Statistics over processed results (`assay analyze`).
//!
//! For each (model, sampling config, env, variant), where the sampling
//! config is the job's `config_id` and the variant an env variant (and, for
//! an env with several variants, `all`: its variants pooled, each
//! variant's seeds counted as further seeds):
//! - the mean reward over examples (rollouts averaged per example first),
//!   its standard error and 95% t interval;
//! - the standard deviation across seeds (the spread of per-seed means),
//!   where a seed is the job seed when the config was run under several
//!   (a job `matrix` over `seed`), and otherwise a rollout;
//! - pass@k for k = 1, 2, 4, ... up to the fewest samples any example has
//!   (and that number itself), and maj@k for the same k.
//!
//! A sample counts as correct when its reward is at least the threshold
//! (default 1.0). Errored samples have no reward: they are counted, and
//! left out of every statistic. Definitions are in [`stats`].

pub mod load;
mod replicates;
pub mod scores;
pub mod stats;
pub mod winrate;

use anyhow::{Context, Result};
use load::{ConfigKey, Sample, Samples};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

/// The config name of an env's variants pooled.
pub const ALL_CONFIGS: &str = "all";

/// The statistics of one (model, sampling config, env, variant).
#[derive(Debug, Clone, Serialize)]
pub struct ConfigAnalysis {
    /// The model (config id).
    pub model_id: String,
    /// The env (matrix base id).
    pub env_id: String,
    /// The env variant, or `all` for its variants pooled.
    pub variant: String,
    /// The sampling config (the job's name and job-matrix combination).
    pub config_id: String,
    /// Examples with a score.
    pub n_examples: usize,
    /// Most samples any example has.
    pub samples_per_example: usize,
    /// Samples without a reward (errors).
    pub errors: usize,
    /// What every sample (errored ones too) cost, when the model was priced.
    pub cost_usd: Option<f64>,
    /// Mean reward over examples, rollouts averaged per example first.
    pub mean: Option<f64>,
    /// Standard error of the mean (sample standard deviation / √n).
    pub stderr: Option<f64>,
    /// Lower end of the 95% Student-t interval.
    pub ci_low: Option<f64>,
    /// Upper end of the 95% Student-t interval.
    pub ci_high: Option<f64>,
    /// Standard deviation of the per-seed means.
    pub std_across_seeds: Option<f64>,
    /// `pass@k` by k.
    pub pass_at: BTreeMap<usize, f64>,
    /// `maj@k` by k.
    pub maj_at: BTreeMap<usize, f64>,
    /// The mean of the group means, when the env groups its results (the
    /// macro average; `mean` is the micro average, over examples).
    pub macro_mean: Option<f64>,
}

impl ConfigAnalysis {
    /// The model as reports and win rates name it: `model`, or
    /// `model@config_id` under a named sampling config.
    pub fn model_label(&self) -> String {
        winrate::contestant(&self.model_id, &self.config_id)
    }
}

/// The statistics of one group of one (model, env, config): the env's
/// `group_by` field, e.g. an MMLU subject.
#[derive(Debug, Clone, Serialize)]
pub struct GroupAnalysis {
    /// The model (config id).
    pub model_id: String,
    /// The env (matrix base id).
    pub env_id: String,
    /// The env variant, or `all` for its variants pooled.
    pub variant: String,
    /// The sampling config.
    pub config_id: String,
    /// The group.
    pub group: String,
    /// Its examples with a score.
    pub n_examples: usize,
    /// Their mean reward (rollouts averaged per example first).
    pub mean: f64,
    /// Standard error of the mean.
    pub stderr: Option<f64>,
    /// Lower end of the 95% Student-t interval.
    pub ci_low: f64,
    /// Upper end of the 95% Student-t interval.
    pub ci_high: f64,
}

/// Everything `analyze` computes.
#[derive(Debug, Clone, Default)]
pub struct Analysis {
    /// Per (model, env, config).
    pub configs: Vec<ConfigAnalysis>,
    /// Per seed of each config.
    pub seeds: Vec<SeedAnalysis>,
    /// Per group of each config whose env groups its results.
    pub groups: Vec<GroupAnalysis>,
}

/// The mean of one seed of one config.
#[derive(Debug, Clone, Serialize)]
pub struct SeedAnalysis {
    /// The model (config id).
    pub model_id: String,
    /// The env (matrix base id).
    pub env_id: String,
    /// The env variant, or `all` for its variants pooled.
    pub variant: String,
    /// The sampling config.
    pub config_id: String,
    /// The job seed when the config ran under several, else the rollout;
    /// `<variant>/<seed>` in the pooled config.
    pub seed: String,
    /// Examples with a score.
    pub n_examples: usize,
    /// The mean reward of that seed over examples.
    pub mean: f64,
}

/// A config's samples by example, each sample with its seed label.
type Examples<'a> = BTreeMap<&'a str, Vec<(String, &'a Sample)>>;

/// What one row of the analysis describes.
#[derive(Clone, Copy)]
struct Names<'a> {
    model: &'a str,
    env: &'a str,
    variant: &'a str,
    config: &'a str,
}

/// Analyse every config of `samples`.
pub fn analyze(samples: &Samples, threshold: f64) -> Analysis {
    let mut analysis = Analysis::default();
    let mut by_env: BTreeMap<(&str, &str, &str), Vec<&ConfigKey>> = BTreeMap::new();
    for key in samples.keys() {
        by_env.entry((&key.model, &key.config, &key.env)).or_default().push(key);
    }
    for ((model, config, env), keys) in by_env {
        let mut pooled: Examples = BTreeMap::new();
        for key in &keys {
            let label = seed_label(&samples[*key]);
            let mut examples: Examples = BTreeMap::new();
            for (example, rollouts) in &samples[*key] {
                examples.entry(example).or_default().extend(rollouts.iter().map(|s| (label(s), s)));
                let pooled_labels = rollouts.iter().map(|s| (format!("{}/{}", key.variant, label(s)), s));
                pooled.entry(example).or_default().extend(pooled_labels);
            }
            analyze_config(Names { model, env, variant: &key.variant, config }, &examples, threshold, &mut analysis);
        }
        if keys.len() > 1 {
            analyze_config(Names { model, env, variant: ALL_CONFIGS, config }, &pooled, threshold, &mut analysis);
        }
    }
    analysis
}

/// How a config's samples are told apart as seeds: by job seed when the
/// config ran under several, else by rollout.
fn seed_label(examples: &BTreeMap<String, Vec<Sample>>) -> fn(&Sample) -> String {
    let seeds: std::collections::BTreeSet<Option<u64>> = examples.values().flatten().map(|s| s.job_seed).collect();
    if seeds.len() > 1 {
        |s: &Sample| s.job_seed.map_or_else(|| "unknown".into(), |seed| seed.to_string())
    } else {
        |s: &Sample| s.rollout.to_string()
    }
}

/// Per-group estimates of one config (empty when its examples have no
/// group), and their macro average.
fn analyze_groups(names: Names, examples: &Examples, groups: &mut Vec<GroupAnalysis>) -> Option<f64> {
    let mut by_group: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    for rollouts in examples.values() {
        let rewards: Vec<f64> = rollouts.iter().filter_map(|(_, s)| s.reward).collect();
        let group = rollouts.iter().find_map(|(_, s)| s.group.as_deref());
        if let (Some(group), false) = (group, rewards.is_empty()) {
            by_group.entry(group).or_default().push(rewards.iter().sum::<f64>() / rewards.len() as f64);
        }
    }
    let first = groups.len();
    for (group, means) in &by_group {
        let Some(estimate) = stats::estimate(means) else { continue };
        groups.push(GroupAnalysis {
            model_id: names.model.into(),
            env_id: names.env.into(),
            variant: names.variant.into(),
            config_id: names.config.into(),
            group: group.to_string(),
            n_examples: estimate.n,
            mean: estimate.mean,
            stderr: estimate.stderr,
            ci_low: estimate.ci_low,
            ci_high: estimate.ci_high,
        });
    }
    let group_means: Vec<f64> = groups[first..].iter().map(|g| g.mean).collect();
    (!group_means.is_empty()).then(|| group_means.iter().sum::<f64>() / group_means.len() as f64)
}

fn analyze_config(names: Names, examples: &Examples, threshold: f64, analysis: &mut Analysis) {
    let macro_mean = analyze_groups(names, examples, &mut analysis.groups);
    let scored = |rollouts: &[(String, &Sample)]| -> Vec<(String, f64, Option<String>)> {
        rollouts.iter().filter_map(|(seed, s)| Some((seed.clone(), s.reward?, s.parsed_answer.clone()))).collect()
    };
    let per_example: Vec<Vec<(String, f64, Option<String>)>> = examples.values().map(|r| scored(r)).collect();
    let means: Vec<f64> = per_example
        .iter()
        .filter(|s| !s.is_empty())
        .map(|s| s.iter().map(|(_, r, _)| r).sum::<f64>() / s.len() as f64)
        .collect();
    let estimate = stats::estimate(&means);
    let mut by_seed: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    for samples in &per_example {
        for (seed, reward, _) in samples {
            by_seed.entry(seed).or_default().push(*reward);
        }
    }
    let seed_means: Vec<f64> = by_seed.values().map(|v| v.iter().sum::<f64>() / v.len() as f64).collect();
    for (seed, rewards) in &by_seed {
        analysis.seeds.push(SeedAnalysis {
            model_id: names.model.into(),
            env_id: names.env.into(),
            variant: names.variant.into(),
            config_id: names.config.into(),
            seed: seed.to_string(),
            n_examples: rewards.len(),
            mean: rewards.iter().sum::<f64>() / rewards.len() as f64,
        });
    }
    let fewest = per_example.iter().map(Vec::len).filter(|n| *n > 0).min().unwrap_or(0);
    let mut pass_at = BTreeMap::new();
    let mut maj_at = BTreeMap::new();
    for k in ks(fewest) {
        let mut passes = Vec::new();
        let mut majorities = Vec::new();
        for samples in per_example.iter().filter(|s| !s.is_empty()) {
            let correct = samples.iter().filter(|(_, r, _)| *r >= threshold).count() as u64;
            passes.extend(stats::pass_at_k(samples.len() as u64, correct, k as u64));
            let votes: Vec<(Option<&str>, bool)> =
                samples.iter().map(|(_, r, a)| (a.as_deref(), *r >= threshold)).collect();
            majorities.extend(stats::majority_correct(&votes, k).map(|c| if c { 1.0 } else { 0.0 }));
        }
        pass_at.insert(k, passes.iter().sum::<f64>() / passes.len() as f64);
        maj_at.insert(k, majorities.iter().sum::<f64>() / majorities.len() as f64);
    }
    let total: usize = examples.values().map(Vec::len).sum();
    let cost_usd = examples.values().flatten().filter_map(|(_, s)| s.cost_usd).reduce(|a, b| a + b);
    analysis.configs.push(ConfigAnalysis {
        model_id: names.model.into(),
        env_id: names.env.into(),
        variant: names.variant.into(),
        config_id: names.config.into(),
        n_examples: means.len(),
        samples_per_example: examples.values().map(Vec::len).max().unwrap_or(0),
        errors: total - per_example.iter().map(Vec::len).sum::<usize>(),
        cost_usd,
        mean: estimate.map(|e| e.mean),
        stderr: estimate.and_then(|e| e.stderr),
        ci_low: estimate.map(|e| e.ci_low),
        ci_high: estimate.map(|e| e.ci_high),
        std_across_seeds: stats::mean_std(&seed_means).and_then(|(_, std)| std),
        pass_at,
        maj_at,
        macro_mean,
    });
}

/// 1, 2, 4, ... up to `n`, and `n` itself.
fn ks(n: usize) -> Vec<usize> {
    let mut ks: Vec<usize> = std::iter::successors(Some(1), |k| Some(k * 2)).take_while(|k| *k <= n).collect();
    if n > 0 && ks.last() != Some(&n) {
        ks.push(n);
    }
    ks
}

/// Write `config_analysis.csv`, `seed_analysis.csv`, `group_analysis.csv`
/// (when envs group their results) and `analysis_results.json` to `dir`.
pub fn write(dir: &Path, analysis: &Analysis, threshold: f64) -> Result<()> {
    let Analysis { configs, seeds, groups } = analysis;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let all_ks: std::collections::BTreeSet<usize> = configs.iter().flat_map(|c| c.pass_at.keys().copied()).collect();
    let mut csv = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> = [
        "model_id",
        "env_id",
        "variant",
        "config_id",
        "n_examples",
        "samples_per_example",
        "errors",
        "mean",
        "stderr",
        "ci_low",
        "ci_high",
        "std_across_seeds",
        "macro_mean",
        "cost_usd",
    ]
    .map(String::from)
    .to_vec();
    header.extend(all_ks.iter().map(|k| format!("pass@{k}")));
    header.extend(all_ks.iter().map(|k| format!("maj@{k}")));
    csv.write_record(&header)?;
    let number = |x: Option<f64>| x.map_or(String::new(), |x| x.to_string());
    for c in configs {
        let mut row = vec![
            c.model_id.clone(),
            c.env_id.clone(),
            c.variant.clone(),
            c.config_id.clone(),
            c.n_examples.to_string(),
            c.samples_per_example.to_string(),
            c.errors.to_string(),
            number(c.mean),
            number(c.stderr),
            number(c.ci_low),
            number(c.ci_high),
            number(c.std_across_seeds),
            number(c.macro_mean),
            number(c.cost_usd),
        ];
        row.extend(all_ks.iter().map(|k| number(c.pass_at.get(k).copied())));
        row.extend(all_ks.iter().map(|k| number(c.maj_at.get(k).copied())));
        csv.write_record(&row)?;
    }
    crate::store::write_atomic(&dir.join("config_analysis.csv"), &csv.into_inner()?)?;
    let mut csv = csv::Writer::from_writer(Vec::new());
    for seed in seeds {
        csv.serialize(seed)?;
    }
    crate::store::write_atomic(&dir.join("seed_analysis.csv"), &csv.into_inner()?)?;
    if !groups.is_empty() {
        let mut csv = csv::Writer::from_writer(Vec::new());
        for group in groups {
            csv.serialize(group)?;
        }
        crate::store::write_atomic(&dir.join("group_analysis.csv"), &csv.into_inner()?)?;
    }
    let json = serde_json::json!({"threshold": threshold, "configs": configs, "seeds": seeds, "groups": groups});
    crate::store::write_json(&dir.join("analysis_results.json"), &json)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ks_are_powers_of_two_and_the_sample_count() {
        assert_eq!(ks(0), Vec::<usize>::new());
        assert_eq!(ks(1), [1]);
        assert_eq!(ks(5), [1, 2, 4, 5]);
        assert_eq!(ks(8), [1, 2, 4, 8]);
    }
}
