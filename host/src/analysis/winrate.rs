//! Win rates between models (`assay winrate`).
//!
//! **Pairwise** (default). Per env, each model's score on an example is its
//! mean reward over that example's scored samples (all variants pooled).
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
//! comparisons stay paired), from a fixed seed.

use super::load::Samples;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
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
    pub method: Method,
    pub missing: Missing,
    pub weight: Weight,
    pub epsilon: f64,
    pub resamples: usize,
    pub seed: u64,
    /// Only these models (empty: all).
    pub include_models: Vec<String>,
    pub exclude_models: Vec<String>,
    pub exclude_envs: Vec<String>,
}

/// Wins, losses and ties.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Record {
    pub wins: u64,
    pub losses: u64,
    pub ties: u64,
}

/// One model's result against one opponent, over all envs.
#[derive(Debug, Clone, Serialize)]
pub struct VsResult {
    pub win_rate: f64,
    pub ci: Option<(f64, f64)>,
    #[serde(flatten)]
    pub record: Record,
    pub per_env: BTreeMap<String, f64>,
}

/// One model's results.
#[derive(Debug, Clone, Serialize)]
pub struct ModelResult {
    pub mean_win_rate: f64,
    pub ci: Option<(f64, f64)>,
    pub n_envs: usize,
    #[serde(flatten)]
    pub record: Record,
    pub per_env: BTreeMap<String, f64>,
    pub avg_reward: BTreeMap<String, f64>,
    /// Pairwise only.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub vs: BTreeMap<String, VsResult>,
}

/// An env left out, and why.
#[derive(Debug, Clone, Serialize)]
pub struct DroppedEnv {
    pub env_id: String,
    pub missing_models: Vec<String>,
}

/// The whole result.
#[derive(Debug, Clone, Serialize)]
pub struct Winrates {
    pub options: WinrateOptions,
    pub models: BTreeMap<String, ModelResult>,
    pub envs: BTreeMap<String, EnvInfo>,
    pub dropped_envs: Vec<DroppedEnv>,
}

/// An env that was used.
#[derive(Debug, Clone, Serialize)]
pub struct EnvInfo {
    pub n_examples: usize,
    pub weight: f64,
}

/// One env's scores: `scores[m][i]` is model m's score on example i.
struct EnvScores {
    id: String,
    scores: Vec<Vec<Option<f64>>>,
}

/// Compute win rates over `samples` (models as selected by `options`).
pub fn winrates(samples: &Samples, options: &WinrateOptions) -> anyhow::Result<Winrates> {
    let (models, envs, dropped) = select(samples, options)?;
    let weights: Vec<f64> = envs.iter().map(|env| weight(options.weight, env.scores[0].len())).collect();
    let point = compute(&envs, &weights, options);
    let replicates = bootstrap(&envs, &weights, options);
    let ci = |values: Vec<f64>| percentile_interval(values);
    let mut results = BTreeMap::new();
    for (m, model) in models.iter().enumerate() {
        let vs = if options.method == Method::Pairwise {
            models
                .iter()
                .enumerate()
                .filter(|(o, _)| *o != m)
                .map(|(o, opponent)| {
                    let result = VsResult {
                        win_rate: point.vs[m][o],
                        ci: ci(replicates.iter().map(|r| r.vs[m][o]).collect()),
                        record: point.records[m][o],
                        per_env: envs.iter().zip(&point.pair_per_env[m][o]).map(|(e, v)| (e.id.clone(), *v)).collect(),
                    };
                    (opponent.clone(), result)
                })
                .collect()
        } else {
            BTreeMap::new()
        };
        let record = point.records[m].iter().fold(Record::default(), |a, r| Record {
            wins: a.wins + r.wins,
            losses: a.losses + r.losses,
            ties: a.ties + r.ties,
        });
        results.insert(
            model.clone(),
            ModelResult {
                mean_win_rate: point.mean[m],
                ci: ci(replicates.iter().map(|r| r.mean[m]).collect()),
                n_envs: point.per_env[m].iter().filter(|v| v.is_some()).count(),
                record,
                per_env: envs.iter().zip(&point.per_env[m]).filter_map(|(e, v)| Some((e.id.clone(), (*v)?))).collect(),
                avg_reward: envs.iter().filter_map(|e| Some((e.id.clone(), mean_score(&e.scores[m])?))).collect(),
                vs,
            },
        );
    }
    let env_info = envs
        .iter()
        .zip(&weights)
        .map(|(e, w)| (e.id.clone(), EnvInfo { n_examples: e.scores[0].len(), weight: *w }))
        .collect();
    Ok(Winrates { options: options.clone(), models: results, envs: env_info, dropped_envs: dropped })
}

/// Reward sum and count by example, over the scored samples of every variant.
type ExampleSums<'a> = BTreeMap<&'a str, (f64, u32)>;

/// The compared models, the envs that have all of them, and the others.
type Selected = (Vec<String>, Vec<EnvScores>, Vec<DroppedEnv>);

/// Pick models and envs (see the module docs on coverage).
fn select(samples: &Samples, options: &WinrateOptions) -> anyhow::Result<Selected> {
    let mut sums: BTreeMap<(&str, &str), ExampleSums> = BTreeMap::new();
    for ((model, env, _), examples) in samples {
        for (example, rollouts) in examples {
            for reward in rollouts.iter().filter_map(|s| s.reward) {
                let entry = sums.entry((env, model)).or_default().entry(example).or_default();
                entry.0 += reward;
                entry.1 += 1;
            }
        }
    }
    let present: std::collections::BTreeSet<&str> = sums.keys().map(|(_, m)| *m).collect();
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
    let env_ids: std::collections::BTreeSet<&str> = sums.keys().map(|(e, _)| *e).collect();
    let (mut envs, mut dropped) = (Vec::new(), Vec::new());
    for env in env_ids.into_iter().filter(|e| !options.exclude_envs.iter().any(|x| x == e)) {
        let missing: Vec<String> = models.iter().filter(|m| !sums.contains_key(&(env, m.as_str()))).cloned().collect();
        if !missing.is_empty() {
            dropped.push(DroppedEnv { env_id: env.to_string(), missing_models: missing });
            continue;
        }
        let examples: std::collections::BTreeSet<&str> =
            models.iter().flat_map(|m| sums[&(env, m.as_str())].keys().copied()).collect();
        let scores = models
            .iter()
            .map(|m| {
                let by_example = &sums[&(env, m.as_str())];
                examples.iter().map(|e| by_example.get(e).map(|(s, n)| s / f64::from(*n))).collect()
            })
            .collect();
        envs.push(EnvScores { id: env.to_string(), scores });
    }
    anyhow::ensure!(!envs.is_empty(), "no env has results for every compared model ({} dropped)", dropped.len());
    Ok((models, envs, dropped))
}

fn weight(policy: Weight, n: usize) -> f64 {
    match policy {
        Weight::Equal => 1.0,
        Weight::Ln => (n as f64).ln(),
        Weight::Sqrt => (n as f64).sqrt(),
    }
}

fn mean_score(scores: &[Option<f64>]) -> Option<f64> {
    let present: Vec<f64> = scores.iter().flatten().copied().collect();
    (!present.is_empty()).then(|| present.iter().sum::<f64>() / present.len() as f64)
}

/// Win rates for one draw of examples.
struct Point {
    /// `mean[m]`: aggregate win rate.
    mean: Vec<f64>,
    /// `per_env[m][e]`.
    per_env: Vec<Vec<Option<f64>>>,
    /// `vs[m][o]`: aggregate pairwise win rate (pairwise only).
    vs: Vec<Vec<f64>>,
    /// `pair_per_env[m][o][e]`.
    pair_per_env: Vec<Vec<Vec<f64>>>,
    records: Vec<Vec<Record>>,
}

/// Win rates with every example counted `counts[e][i]` times (all once for
/// the point estimate).
fn compute_weighted(envs: &[EnvScores], weights: &[f64], counts: &[Vec<u32>], options: &WinrateOptions) -> Point {
    let n_models = envs[0].scores.len();
    let mut per_env = vec![vec![None; envs.len()]; n_models];
    let mut pair_per_env = vec![vec![vec![f64::NAN; envs.len()]; n_models]; n_models];
    let mut records = vec![vec![Record::default(); n_models]; n_models];
    for (e, env) in envs.iter().enumerate() {
        match options.method {
            Method::Helm => {
                let means: Vec<Option<f64>> = env.scores.iter().map(|s| weighted_mean(s, &counts[e])).collect();
                for (m, rate) in helm_column(&means).into_iter().enumerate() {
                    per_env[m][e] = rate;
                }
            }
            Method::Pairwise => {
                for m in 0..n_models {
                    let mut rates = Vec::new();
                    for o in (0..n_models).filter(|o| *o != m) {
                        let (rate, record) = pair(&env.scores[m], &env.scores[o], &counts[e], options);
                        pair_per_env[m][o][e] = rate.unwrap_or(f64::NAN);
                        let total = &mut records[m][o];
                        (total.wins, total.losses, total.ties) =
                            (total.wins + record.wins, total.losses + record.losses, total.ties + record.ties);
                        rates.extend(rate);
                    }
                    per_env[m][e] = (!rates.is_empty()).then(|| rates.iter().sum::<f64>() / rates.len() as f64);
                }
            }
        }
    }
    let aggregate = |values: &[Option<f64>]| -> f64 {
        let (mut sum, mut total) = (0.0, 0.0);
        for (value, w) in values.iter().zip(weights) {
            if let Some(v) = value.filter(|v| !v.is_nan()) {
                let w = if options.method == Method::Helm { 1.0 } else { *w };
                sum += v * w;
                total += w;
            }
        }
        if total > 0.0 { sum / total } else { f64::NAN }
    };
    let mean = per_env.iter().map(|v| aggregate(v)).collect();
    let vs = (0..n_models)
        .map(|m| {
            (0..n_models)
                .map(|o| {
                    let values: Vec<Option<f64>> = pair_per_env[m][o].iter().map(|v| Some(*v)).collect();
                    aggregate(&values)
                })
                .collect()
        })
        .collect();
    Point { mean, per_env, vs, pair_per_env, records }
}

fn compute(envs: &[EnvScores], weights: &[f64], options: &WinrateOptions) -> Point {
    let ones: Vec<Vec<u32>> = envs.iter().map(|e| vec![1; e.scores[0].len()]).collect();
    compute_weighted(envs, weights, &ones, options)
}

/// `resamples` replicates, each drawing every env's examples with replacement.
fn bootstrap(envs: &[EnvScores], weights: &[f64], options: &WinrateOptions) -> Vec<Point> {
    let mut rng = StdRng::seed_from_u64(options.seed);
    (0..options.resamples)
        .map(|_| {
            let counts: Vec<Vec<u32>> = envs
                .iter()
                .map(|env| {
                    let n = env.scores[0].len();
                    let mut counts = vec![0u32; n];
                    for _ in 0..n {
                        counts[rng.random_range(0..n)] += 1;
                    }
                    counts
                })
                .collect();
            compute_weighted(envs, weights, &counts, options)
        })
        .collect()
}

/// The pairwise win rate of `a` over `b`, each example counted `counts[i]`
/// times, and the wins/losses/ties behind it.
fn pair(a: &[Option<f64>], b: &[Option<f64>], counts: &[u32], options: &WinrateOptions) -> (Option<f64>, Record) {
    let mut record = Record::default();
    for ((a, b), count) in a.iter().zip(b).zip(counts) {
        let count = u64::from(*count);
        let (a, b) = match (a, b, options.missing) {
            (None, None, _) => continue,
            (Some(a), Some(b), _) => (*a, *b),
            (_, _, Missing::Drop) => continue,
            (a, b, Missing::Zero) => (a.unwrap_or(0.0), b.unwrap_or(0.0)),
            (a, b, Missing::Loss) => (a.unwrap_or(f64::NEG_INFINITY), b.unwrap_or(f64::NEG_INFINITY)),
        };
        if a - b > options.epsilon {
            record.wins += count;
        } else if b - a > options.epsilon {
            record.losses += count;
        } else {
            record.ties += count;
        }
    }
    let total = record.wins + record.losses + record.ties;
    let rate = (total > 0).then(|| (record.wins as f64 + record.ties as f64 / 2.0) / total as f64);
    (rate, record)
}

/// HELM's win rate of each model in one column of scores.
pub fn helm_column(scores: &[Option<f64>]) -> Vec<Option<f64>> {
    let present: Vec<f64> = scores.iter().flatten().copied().collect();
    if present.len() < 2 {
        return vec![None; scores.len()];
    }
    let others = (present.len() - 1) as f64;
    scores
        .iter()
        .map(|score| {
            let s = (*score)?;
            let below = present.iter().filter(|x| **x < s).count() as f64;
            let tied = present.iter().filter(|x| **x == s).count() as f64 - 1.0;
            Some((below + tied / 2.0) / others)
        })
        .collect()
}

fn weighted_mean(scores: &[Option<f64>], counts: &[u32]) -> Option<f64> {
    let (mut sum, mut n) = (0.0, 0.0);
    for (score, count) in scores.iter().zip(counts) {
        if let Some(s) = score {
            sum += s * f64::from(*count);
            n += f64::from(*count);
        }
    }
    (n > 0.0).then(|| sum / n)
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

    fn options(missing: Missing) -> WinrateOptions {
        WinrateOptions {
            method: Method::Pairwise,
            missing,
            weight: Weight::Equal,
            epsilon: 1e-9,
            resamples: 0,
            seed: 0,
            include_models: vec![],
            exclude_models: vec![],
            exclude_envs: vec![],
        }
    }

    #[test]
    fn pairs_count_ties_as_half_and_follow_the_missing_policy() {
        let a = [Some(1.0), Some(0.5), Some(0.0), None];
        let b = [Some(0.0), Some(0.5), Some(1.0), Some(0.0)];
        let ones = [1; 4];
        // win, tie, loss, then b alone.
        let (rate, record) = pair(&a, &b, &ones, &options(Missing::Loss));
        assert_eq!(record, Record { wins: 1, losses: 2, ties: 1 });
        assert_eq!(rate, Some(1.5 / 4.0));
        assert_eq!(pair(&a, &b, &ones, &options(Missing::Zero)).1, Record { wins: 1, losses: 1, ties: 2 });
        assert_eq!(pair(&a, &b, &ones, &options(Missing::Drop)).0, Some(1.5 / 3.0));
        assert_eq!(pair(&a, &b, &[2, 0, 0, 0], &options(Missing::Drop)).1, Record { wins: 2, losses: 0, ties: 0 });
    }

    #[test]
    fn percentile_intervals_use_nearest_rank() {
        let values: Vec<f64> = (1..=1000).map(f64::from).collect();
        assert_eq!(percentile_interval(values), Some((25.0, 975.0)));
        assert_eq!(percentile_interval(vec![f64::NAN]), None);
    }
}
