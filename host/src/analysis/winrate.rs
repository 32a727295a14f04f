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
    fn add(&mut self, other: Record) {
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

/// One env's scores: `scores[m][i]` is model m's score on example i.
struct EnvScores {
    id: String,
    scores: Vec<Vec<Option<f64>>>,
    /// Every pair of models (pairwise method only).
    pairs: Vec<PairMasks>,
}

/// How two models (`m` < `o`) compare on each example of an env, as
/// masks, so that a bootstrap replicate costs two dot products with the
/// replicate's draw counts. Sums are multiples of ½ below 2²³: exact in f32.
struct PairMasks {
    m: usize,
    o: usize,
    /// `m`'s points on each example: 1 for a win, ½ for a tie, else 0.
    points: Vec<f32>,
    /// 1 where the example counts for this pair.
    counted: Vec<f32>,
    /// Wins, losses and ties of `m` with every example counted once.
    record: Record,
}

/// The result of comparing two scores on one example, for `m`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Win,
    Loss,
    Tie,
}

/// Compare `a` with `b` under the missing policy; `None`: not counted.
fn outcome(a: Option<f64>, b: Option<f64>, options: &WinrateOptions) -> Option<Outcome> {
    let (a, b) = match (a, b, options.missing) {
        (None, None, _) => return None,
        (Some(a), Some(b), _) => (a, b),
        (_, _, Missing::Drop) => return None,
        (a, b, Missing::Zero) => (a.unwrap_or(0.0), b.unwrap_or(0.0)),
        (a, b, Missing::Loss) => (a.unwrap_or(f64::NEG_INFINITY), b.unwrap_or(f64::NEG_INFINITY)),
    };
    Some(if a - b > options.epsilon {
        Outcome::Win
    } else if b - a > options.epsilon {
        Outcome::Loss
    } else {
        Outcome::Tie
    })
}

/// The masks of every pair of models in `scores`.
fn pair_masks(scores: &[Vec<Option<f64>>], options: &WinrateOptions) -> Vec<PairMasks> {
    let mut pairs = Vec::new();
    for m in 0..scores.len() {
        for o in m + 1..scores.len() {
            let outcomes: Vec<Option<Outcome>> =
                scores[m].iter().zip(&scores[o]).map(|(a, b)| outcome(*a, *b, options)).collect();
            let count = |wanted: Outcome| outcomes.iter().filter(|x| **x == Some(wanted)).count() as u64;
            let points = |x: &Option<Outcome>| match x {
                Some(Outcome::Win) => 1.0,
                Some(Outcome::Tie) => 0.5,
                _ => 0.0,
            };
            pairs.push(PairMasks {
                m,
                o,
                points: outcomes.iter().map(points).collect(),
                counted: outcomes.iter().map(|x| if x.is_some() { 1.0 } else { 0.0 }).collect(),
                record: Record { wins: count(Outcome::Win), losses: count(Outcome::Loss), ties: count(Outcome::Tie) },
            });
        }
    }
    pairs
}

/// Σ aᵢbᵢ, in eight lanes so the compiler vectorizes it.
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0f32; 8];
    let (a_chunks, b_chunks) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = a_chunks.remainder().iter().zip(b_chunks.remainder()).map(|(x, y)| x * y).sum();
    for (x, y) in a_chunks.zip(b_chunks) {
        for i in 0..8 {
            lanes[i] += x[i] * y[i];
        }
    }
    lanes.iter().sum::<f32>() + tail
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
    let mut sums: BTreeMap<(&str, String), ExampleSums> = BTreeMap::new();
    for (key, examples) in samples {
        let contestant = contestant(&key.model, &key.config);
        for (example, rollouts) in examples {
            for reward in rollouts.iter().filter_map(|s| s.reward) {
                let entry = sums.entry((&key.env, contestant.clone())).or_default().entry(example).or_default();
                entry.0 += reward;
                entry.1 += 1;
            }
        }
    }
    let present: std::collections::BTreeSet<&str> = sums.keys().map(|(_, m)| m.as_str()).collect();
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
        let missing: Vec<String> =
            models.iter().filter(|m| !sums.contains_key(&(env, m.to_string()))).cloned().collect();
        if !missing.is_empty() {
            dropped.push(DroppedEnv { env_id: env.to_string(), missing_models: missing });
            continue;
        }
        let examples: std::collections::BTreeSet<&str> =
            models.iter().flat_map(|m| sums[&(env, m.to_string())].keys().copied()).collect();
        let scores: Vec<Vec<Option<f64>>> = models
            .iter()
            .map(|m| {
                let by_example = &sums[&(env, m.to_string())];
                examples.iter().map(|e| by_example.get(e).map(|(s, n)| s / f64::from(*n))).collect()
            })
            .collect();
        let pairs = if options.method == Method::Pairwise { pair_masks(&scores, options) } else { Vec::new() };
        envs.push(EnvScores { id: env.to_string(), scores, pairs });
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

/// Win rates with every example counted `counts[e][i]` times, or once
/// each when `counts` is `None` (the point estimate).
fn compute_weighted(
    envs: &[EnvScores],
    weights: &[f64],
    counts: Option<&[Vec<f32>]>,
    options: &WinrateOptions,
) -> Point {
    let n_models = envs[0].scores.len();
    let mut per_env = vec![vec![None; envs.len()]; n_models];
    let mut pair_per_env = vec![vec![vec![f64::NAN; envs.len()]; n_models]; n_models];
    let mut records = vec![vec![Record::default(); n_models]; n_models];
    for (e, env) in envs.iter().enumerate() {
        match options.method {
            Method::Helm => {
                let means: Vec<Option<f64>> =
                    env.scores.iter().map(|s| weighted_mean(s, counts.map(|c| c[e].as_slice()))).collect();
                for (m, rate) in helm_column(&means).into_iter().enumerate() {
                    per_env[m][e] = rate;
                }
            }
            Method::Pairwise => {
                let mut rates: Vec<Vec<f64>> = vec![Vec::new(); n_models];
                for pair in &env.pairs {
                    let (points, total) = match counts {
                        None => {
                            let r = pair.record;
                            (r.wins as f64 + r.ties as f64 / 2.0, (r.wins + r.losses + r.ties) as f64)
                        }
                        Some(counts) => {
                            (f64::from(dot(&counts[e], &pair.points)), f64::from(dot(&counts[e], &pair.counted)))
                        }
                    };
                    if total == 0.0 {
                        continue;
                    }
                    let (m, o) = (pair.m, pair.o);
                    pair_per_env[m][o][e] = points / total;
                    pair_per_env[o][m][e] = (total - points) / total;
                    rates[m].push(pair_per_env[m][o][e]);
                    rates[o].push(pair_per_env[o][m][e]);
                    if counts.is_none() {
                        let r = pair.record;
                        records[m][o].add(r);
                        records[o][m].add(Record { wins: r.losses, losses: r.wins, ties: r.ties });
                    }
                }
                for (m, rates) in rates.iter().enumerate() {
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
    compute_weighted(envs, weights, None, options)
}

/// `resamples` replicates, each drawing every env's examples with
/// replacement. Replicate r draws from a generator seeded with (seed, r),
/// so results do not depend on how many threads compute them.
fn bootstrap(envs: &[EnvScores], weights: &[f64], options: &WinrateOptions) -> Vec<Point> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(options.resamples.max(1));
    let replicate = |r: usize| {
        let mut rng = StdRng::seed_from_u64(options.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15).wrapping_add(r as u64));
        let counts: Vec<Vec<f32>> = envs
            .iter()
            .map(|env| {
                let n = env.scores[0].len();
                let mut counts = vec![0f32; n];
                for _ in 0..n {
                    counts[rng.random_range(0..n)] += 1.0;
                }
                counts
            })
            .collect();
        compute_weighted(envs, weights, Some(&counts), options)
    };
    std::thread::scope(|scope| {
        let chunks: Vec<_> = (0..threads)
            .map(|t| scope.spawn(move || (t..options.resamples).step_by(threads).map(replicate).collect::<Vec<_>>()))
            .collect();
        let mut per_thread: Vec<std::vec::IntoIter<Point>> =
            chunks.into_iter().map(|c| c.join().expect("bootstrap thread").into_iter()).collect();
        (0..options.resamples).map(|r| per_thread[r % threads].next().expect("one point per replicate")).collect()
    })
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

/// The mean of the present scores, each counted `counts[i]` times (once
/// without counts).
fn weighted_mean(scores: &[Option<f64>], counts: Option<&[f32]>) -> Option<f64> {
    let (mut sum, mut n) = (0.0, 0.0);
    for (i, score) in scores.iter().enumerate() {
        if let Some(s) = score {
            let count = counts.map_or(1.0, |c| f64::from(c[i]));
            sum += s * count;
            n += count;
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

    /// (rate, record) of `a` against `b` with each example drawn `counts[i]` times.
    fn rate(a: &[Option<f64>], b: &[Option<f64>], counts: &[f32], missing: Missing) -> (f64, Record) {
        let env = EnvScores { id: "e".into(), scores: vec![a.to_vec(), b.to_vec()], pairs: vec![] };
        let envs = [EnvScores { pairs: pair_masks(&env.scores, &options(missing)), ..env }];
        let point = compute_weighted(&envs, &[1.0], None, &options(missing));
        let drawn = compute_weighted(&envs, &[1.0], Some(&[counts.to_vec()]), &options(missing));
        if counts.iter().all(|c| *c == 1.0) {
            assert_eq!(
                drawn.pair_per_env[0][1][0], point.pair_per_env[0][1][0],
                "drawing each once is the point estimate"
            );
        }
        (drawn.pair_per_env[0][1][0], point.records[0][1])
    }

    #[test]
    fn pairs_count_ties_as_half_and_follow_the_missing_policy() {
        let a = [Some(1.0), Some(0.5), Some(0.0), None];
        let b = [Some(0.0), Some(0.5), Some(1.0), Some(0.0)];
        let ones = [1.0; 4];
        // win, tie, loss, then b alone.
        let (r, record) = rate(&a, &b, &ones, Missing::Loss);
        assert_eq!(record, Record { wins: 1, losses: 2, ties: 1 });
        assert_eq!(r, 1.5 / 4.0);
        assert_eq!(rate(&a, &b, &ones, Missing::Zero).1, Record { wins: 1, losses: 1, ties: 2 });
        assert_eq!(rate(&a, &b, &ones, Missing::Drop).0, 1.5 / 3.0);
        assert_eq!(rate(&a, &b, &[2.0, 0.0, 0.0, 0.0], Missing::Drop).0, 1.0, "only the win was drawn");
        assert_eq!(rate(&a, &b, &[0.0, 3.0, 1.0, 0.0], Missing::Drop).0, 1.5 / 4.0, "three ties and a loss");
        assert_eq!(rate(&b, &a, &ones, Missing::Loss).1, Record { wins: 2, losses: 1, ties: 1 }, "the mirror image");
    }

    #[test]
    fn dot_products_are_exact_on_counts() {
        let a: Vec<f32> = (0..1003).map(|i| (i % 7) as f32).collect();
        let b: Vec<f32> = (0..1003).map(|i| (i % 2) as f32).collect();
        let expected: u64 = (0..1003u64).map(|i| (i % 7) * (i % 2)).sum();
        assert_eq!(dot(&a, &b) as u64, expected);
    }

    #[test]
    fn percentile_intervals_use_nearest_rank() {
        let values: Vec<f64> = (1..=1000).map(f64::from).collect();
        assert_eq!(percentile_interval(values), Some((25.0, 975.0)));
        assert_eq!(percentile_interval(vec![f64::NAN]), None);
    }
}
