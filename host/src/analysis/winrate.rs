//! Win rates between models (`assay winrate`).
//!
//! **Contestants** are models, and a model's sampling configs are told
//! apart: a model run under a named sampling config (a job `name` or job
//! `matrix`) competes as `<model>@<config_id>`; under the default one, as
//! `<model>`.
//!
//! **Pairwise** (default). Per env, each contestant's score on an example is
//! its mean reward over that example's scored samples (all variants and
//! seeds pooled).
//! For two models, each example either of them has is a win, loss or tie
//! (difference within `epsilon`); a side with no score counts as −∞
//! (`loss`, default), as 0 (`zero`), or the example is skipped (`drop`).
//! The pair's win rate is (wins + ties/2) / examples. A model's win rate in
//! an env is the mean over its opponents; across envs, a weighted mean with
//! weights 1 (`equal`), ln(n) (`ln`, default; an env of one example weighs
//! nothing) or √n (`sqrt`), n being the env's examples.
//!
//! **HELM** (`--method helm`): HELM's mean win rate. Per env, models are
//! ranked by their mean reward; a model's win rate there is (models strictly
//! below + (others tied)/2) / (models with a score − 1); the result is the
//! plain mean over the envs where the model has a score.
//!
//! **Coverage**: only envs where every compared model has results are used
//! (the others are reported as dropped). **Confidence intervals**: 95%
//! percentile intervals from `resamples` bootstrap replicates that resample
//! each env's examples with replacement (the same draw for every model, so
//! comparisons stay paired), from a fixed seed. Replicates stream: each
//! one's per-env rates are folded into running sums over envs as they are
//! computed, and only the resulting aggregate of each reported quantity is
//! kept per replicate (see `analysis::replicates` for how a
//! replicate is computed, and why two-valued scores make it cheap).
//!
//! **Input**: a [`ScoreTable`] (each model's score per example, ten bytes
//! each), read from processed files with `load::load_scores`.

use super::load::Samples;
use super::replicates::{self, EnvRates, Kernel, Totals};
use super::scores::ScoreTable;
use serde::Serialize;
use std::collections::BTreeMap;

/// How models are compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// Per-example pairwise comparisons.
    Pairwise,
    /// HELM's mean win rate over env-level scores.
    Helm,
}

/// What a missing score counts as in a pairwise comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Missing {
    /// Below any score: the side without one loses.
    Loss,
    /// A score of 0.
    Zero,
    /// The example is left out of that pair.
    Drop,
}

/// How envs are weighted in the aggregate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Weight {
    /// Every env counts the same.
    Equal,
    /// ln(number of examples).
    Ln,
    /// √(number of examples).
    Sqrt,
}

/// Options of a win-rate computation.
#[derive(Debug, Clone, Serialize)]
pub struct WinrateOptions {
    /// Pairwise per example, or HELM's mean win rate.
    pub method: Method,
    /// How an example a model has no score on counts.
    pub missing: Missing,
    /// How envs are weighted in the overall win rate.
    pub weight: Weight,
    /// Scores closer than this tie.
    pub epsilon: f64,
    /// Bootstrap replicates for the intervals (0: none).
    pub resamples: usize,
    /// Seed of the bootstrap draws.
    pub seed: u64,
    /// Only these models (empty: all).
    pub include_models: Vec<String>,
    /// Models left out.
    pub exclude_models: Vec<String>,
    /// Envs left out.
    pub exclude_envs: Vec<String>,
}

/// Wins, losses and ties.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Record {
    /// Examples won.
    pub wins: u64,
    /// Examples lost.
    pub losses: u64,
    /// Examples tied.
    pub ties: u64,
}

impl Record {
    pub(crate) fn add(&mut self, other: Record) {
        self.wins += other.wins;
        self.losses += other.losses;
        self.ties += other.ties;
    }
}

/// One model's result against one opponent, over all envs.
#[derive(Debug, Clone, Serialize)]
pub struct VsResult {
    /// Wins plus half the ties, over examples, weighted over envs.
    pub win_rate: f64,
    /// 95% bootstrap interval.
    pub ci: Option<(f64, f64)>,
    #[serde(flatten)]
    /// Wins, losses and ties summed over envs.
    pub record: Record,
    /// The win rate in each env.
    pub per_env: BTreeMap<String, f64>,
}

/// One model's results.
#[derive(Debug, Clone, Serialize)]
pub struct ModelResult {
    /// The mean win rate over opponents and envs.
    pub mean_win_rate: f64,
    /// 95% bootstrap interval.
    pub ci: Option<(f64, f64)>,
    /// Envs the model was compared on.
    pub n_envs: usize,
    #[serde(flatten)]
    /// Wins, losses and ties summed over envs.
    pub record: Record,
    /// The win rate in each env.
    pub per_env: BTreeMap<String, f64>,
    /// Mean reward in each env.
    pub avg_reward: BTreeMap<String, f64>,
    /// Pairwise only.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub vs: BTreeMap<String, VsResult>,
}

/// An env left out, and why.
#[derive(Debug, Clone, Serialize)]
pub struct DroppedEnv {
    /// The env (matrix base id).
    pub env_id: String,
    /// The models without results there.
    pub missing_models: Vec<String>,
}

/// The whole result.
#[derive(Debug, Clone, Serialize)]
pub struct Winrates {
    /// The options used.
    pub options: WinrateOptions,
    /// Each model's results.
    pub models: BTreeMap<String, ModelResult>,
    /// The envs used.
    pub envs: BTreeMap<String, EnvInfo>,
    /// Envs left out, with why.
    pub dropped_envs: Vec<DroppedEnv>,
}

/// An env that was used.
#[derive(Debug, Clone, Serialize)]
pub struct EnvInfo {
    /// Examples with a score.
    pub n_examples: usize,
    /// Its weight in the overall win rate.
    pub weight: f64,
}

/// Compute win rates over `samples` (models as selected by `options`).
pub fn winrates(samples: &Samples, options: &WinrateOptions) -> anyhow::Result<Winrates> {
    winrates_of(&ScoreTable::from_samples(samples)?, options)
}

/// Compute win rates over the scores in `table`. Envs are taken one at a
/// time: its point estimate and every replicate's rates are folded into
/// running sums over envs (see `analysis::replicates`), so
/// memory holds the scores, one env's kernel and one aggregate per
/// replicate and reported quantity, never every replicate's matrices.
pub fn winrates_of(table: &ScoreTable, options: &WinrateOptions) -> anyhow::Result<Winrates> {
    let (models, envs, dropped) = select(table, options)?;
    let mut point = Totals::new(models.len(), 1);
    let mut replicates = Totals::new(models.len(), options.resamples);
    let mut points = Vec::with_capacity(envs.len());
    for (e, env) in envs.iter().enumerate() {
        let view = table.view(env, &models);
        let info = EnvInfo { n_examples: view.n, weight: weight(options.weight, view.n) };
        let weight = if options.method == Method::Helm { 1.0 } else { info.weight };
        let kernel = Kernel::new(&view, models.len(), options);
        let (rates, extras) = kernel.point(&view, options.method);
        replicates::fold_point(&mut point, &rates, weight);
        kernel.resample(&view, e, weight, options, &mut replicates);
        let avg_reward = (0..models.len()).map(|m| mean_score(view.model(m))).collect();
        points.push(EnvPoint { id: view.id, info, rates, records: extras.records, avg_reward });
    }
    let results = models
        .iter()
        .enumerate()
        .map(|(m, model)| (model.clone(), model_result(m, &models, &points, &point, &replicates, options)))
        .collect();
    let envs = points.into_iter().map(|env| (env.id, env.info)).collect();
    Ok(Winrates { options: options.clone(), models: results, envs, dropped_envs: dropped })
}

/// One env's point estimate.
struct EnvPoint {
    id: String,
    info: EnvInfo,
    rates: EnvRates,
    /// Per pair (m < o), wins, losses and ties of m (pairwise only).
    records: Vec<Record>,
    /// Each model's mean score.
    avg_reward: Vec<Option<f64>>,
}

/// Model `m`'s results from the envs' point estimates and the replicates.
fn model_result(
    m: usize,
    models: &[String],
    envs: &[EnvPoint],
    point: &Totals,
    replicates: &Totals,
    options: &WinrateOptions,
) -> ModelResult {
    let pair_at: Vec<(usize, usize)> = replicates::pairs(models.len()).collect();
    let mut record = Record::default();
    let mut vs = BTreeMap::new();
    for (o, opponent) in models.iter().enumerate().filter(|(o, _)| options.method == Method::Pairwise && *o != m) {
        let (first, flip) = if m < o { ((m, o), false) } else { ((o, m), true) };
        let p = pair_at.iter().position(|pair| *pair == first).expect("every pair is listed");
        let mirror = |rate: f64| if flip { 1.0 - rate } else { rate };
        let mut pair_record = Record::default();
        for env in envs {
            let r = env.records[p];
            pair_record.add(if flip { Record { wins: r.losses, losses: r.wins, ties: r.ties } } else { r });
        }
        record.add(pair_record);
        let aggregates = replicates.aggregates(models.len() + p).into_iter().map(mirror).collect();
        let per_env = envs.iter().map(|env| (env.id.clone(), env.rates.pairs[p].map_or(f64::NAN, mirror))).collect();
        let win_rate = mirror(replicates::ratio(point.row(0)[models.len() + p]));
        vs.insert(
            opponent.clone(),
            VsResult { win_rate, ci: percentile_interval(aggregates), record: pair_record, per_env },
        );
    }
    ModelResult {
        mean_win_rate: replicates::ratio(point.row(0)[m]),
        ci: percentile_interval(replicates.aggregates(m)),
        n_envs: envs.iter().filter(|env| env.rates.model[m].is_some()).count(),
        record,
        per_env: envs.iter().filter_map(|env| Some((env.id.clone(), env.rates.model[m]?))).collect(),
        avg_reward: envs.iter().filter_map(|env| Some((env.id.clone(), env.avg_reward[m]?))).collect(),
        vs,
    }
}

/// The compared models, the envs that have all of them, and the others.
type Selected = (Vec<String>, Vec<String>, Vec<DroppedEnv>);

/// Pick models and envs (see the module docs on coverage).
fn select(table: &ScoreTable, options: &WinrateOptions) -> anyhow::Result<Selected> {
    let by_env: Vec<(&str, Vec<&str>)> = table.envs().map(|env| (env, table.models_in(env))).collect();
    let present: std::collections::BTreeSet<&str> =
        by_env.iter().flat_map(|(_, models)| models.iter().copied()).collect();
    for model in &options.include_models {
        anyhow::ensure!(present.contains(model.as_str()), "--include-model {model}: no results for that model");
    }
    let models: Vec<String> = present
        .iter()
        .filter(|m| options.include_models.is_empty() || options.include_models.iter().any(|i| i == *m))
        .filter(|m| !options.exclude_models.iter().any(|e| e == *m))
        .map(|m| m.to_string())
        .collect();
    anyhow::ensure!(models.len() >= 2, "win rates need at least two models (found: {})", models.join(", "));
    let (mut envs, mut dropped) = (Vec::new(), Vec::new());
    for (env, here) in by_env.into_iter().filter(|(e, _)| !options.exclude_envs.iter().any(|x| x == e)) {
        let missing: Vec<String> = models.iter().filter(|m| !here.contains(&m.as_str())).cloned().collect();
        if missing.is_empty() {
            envs.push(env.to_string());
        } else {
            dropped.push(DroppedEnv { env_id: env.to_string(), missing_models: missing });
        }
    }
    anyhow::ensure!(!envs.is_empty(), "no env has results for every compared model ({} dropped)", dropped.len());
    Ok((models, envs, dropped))
}

/// The name a model competes under with one sampling config: `model`
/// under the default config, else `model@config`. Reports label a model's
/// results the same way.
pub fn contestant(model: &str, config: &str) -> String {
    match config {
        crate::config::DEFAULT_CONFIG_ID => model.to_string(),
        config => format!("{model}@{config}"),
    }
}

fn weight(policy: Weight, n: usize) -> f64 {
    match policy {
        Weight::Equal => 1.0,
        Weight::Ln => (n as f64).ln(),
        Weight::Sqrt => (n as f64).sqrt(),
    }
}

/// The mean of the scores present (not NaN).
fn mean_score(scores: &[f64]) -> Option<f64> {
    let present: Vec<f64> = scores.iter().copied().filter(|s| !s.is_nan()).collect();
    (!present.is_empty()).then(|| present.iter().sum::<f64>() / present.len() as f64)
}

/// HELM's win rate of each model in one column of scores.
pub fn helm_column(scores: &[Option<f64>]) -> Vec<Option<f64>> {
    let mut present: Vec<f64> = scores.iter().flatten().copied().collect();
    if present.len() < 2 {
        return vec![None; scores.len()];
    }
    present.sort_by(f64::total_cmp);
    let others = (present.len() - 1) as f64;
    scores
        .iter()
        .map(|score| {
            let s = (*score)?;
            let below = present.partition_point(|x| *x < s) as f64;
            let tied = present.partition_point(|x| *x <= s) as f64 - below - 1.0;
            Some((below + tied / 2.0) / others)
        })
        .collect()
}

/// The 2.5% and 97.5% percentiles (nearest rank), ignoring NaN; `None`
/// without replicates.
fn percentile_interval(mut values: Vec<f64>) -> Option<(f64, f64)> {
    values.retain(|v| !v.is_nan());
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let at = |q: f64| values[((q * values.len() as f64).ceil() as usize).clamp(1, values.len()) - 1];
    Some((at(0.025), at(0.975)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(values: &[f64]) -> Vec<f64> {
        helm_column(&values.iter().map(|v| Some(*v)).collect::<Vec<_>>()).into_iter().map(Option::unwrap).collect()
    }

    #[test]
    fn helm_columns_match_helms_own_fixtures() {
        assert_eq!(column(&[1.0, 2.0, 3.0, 4.0, 5.0]), [0.0, 0.25, 0.5, 0.75, 1.0]);
        assert_eq!(column(&[1.0, 1.0, 1.0, 4.0, 5.0]), [0.25, 0.25, 0.25, 0.75, 1.0]);
        let (a, b) = (column(&[1.0, 2.0, 3.0, 4.0, 5.0]), column(&[3.0, 1.0, 2.0, 5.0, 4.0]));
        let means: Vec<f64> = a.iter().zip(&b).map(|(x, y)| (x + y) / 2.0).collect();
        assert_eq!(means, [0.25, 0.125, 0.375, 0.875, 0.875]);
        assert_eq!(helm_column(&[Some(1.0), None]), [None, None], "fewer than two scores: no column");
        assert_eq!(
            helm_column(&[Some(1.0), None, Some(2.0)]),
            [Some(0.0), None, Some(1.0)],
            "denominator counts present rows"
        );
    }

    #[test]
    fn percentile_intervals_use_nearest_rank() {
        let values: Vec<f64> = (1..=1000).map(f64::from).collect();
        assert_eq!(percentile_interval(values), Some((25.0, 975.0)));
        assert_eq!(percentile_interval(vec![f64::NAN]), None);
    }
}
