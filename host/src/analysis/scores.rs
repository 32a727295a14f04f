//! Each model's score on each example of each env: what win rates compare.
//!
//! A score is the mean reward of an example's scored samples (its rollouts
//! and the env's variants pooled; errored samples have no reward and do not
//! count). The table keeps, per env, the example ids once and, per model, a
//! reward sum and a sample count for each example: ten bytes per (model,
//! env, example), so a sweep of 100 models × 50 envs × 10,000 examples
//! takes 500 MB, where one object per sample took gigabytes.

use super::load::Samples;
use anyhow::{Result, bail};
use std::collections::{BTreeMap, HashMap};

/// Scores by env, model and example.
#[derive(Debug, Default)]
pub struct ScoreTable {
    envs: BTreeMap<String, EnvExamples>,
}

/// One env: its examples, and each model's sums over them.
#[derive(Debug, Default)]
struct EnvExamples {
    /// Example ids, by the index the sums use.
    ids: Vec<String>,
    index: HashMap<String, u32>,
    models: BTreeMap<String, Sums>,
}

/// A model's reward sum and scored-sample count per example (by index;
/// shorter than the env's examples when the last ones have none).
#[derive(Debug, Default)]
struct Sums {
    sum: Vec<f64>,
    count: Vec<u16>,
}

/// Adds one model's samples in one env to a [`ScoreTable`].
pub struct ScoreWriter<'a> {
    ids: &'a mut Vec<String>,
    index: &'a mut HashMap<String, u32>,
    sums: &'a mut Sums,
}

impl ScoreWriter<'_> {
    /// Count one scored sample of `example`.
    pub fn add(&mut self, example: &str, reward: f64) -> Result<()> {
        let at = match self.index.get(example) {
            Some(at) => *at as usize,
            None => {
                let at = self.ids.len();
                self.ids.push(example.to_string());
                self.index.insert(example.to_string(), at as u32);
                at
            }
        };
        if self.sums.sum.len() <= at {
            // To the env's examples so far, not doubling: at sweep scale
            // the slack would be most of the table.
            let len = (at + 1).max(self.ids.len());
            self.sums.sum.reserve_exact(len - self.sums.sum.len());
            self.sums.count.reserve_exact(len - self.sums.count.len());
            self.sums.sum.resize(len, 0.0);
            self.sums.count.resize(len, 0);
        }
        let Some(count) = self.sums.count[at].checked_add(1) else {
            bail!("example {example} has more than {} scored samples of one model", u16::MAX);
        };
        self.sums.count[at] = count;
        self.sums.sum[at] += reward;
        Ok(())
    }
}

/// One env as win rates compare it: the compared models' scores on the
/// examples at least one of them scored, in example-id order.
pub(crate) struct EnvView {
    /// The env (matrix base id).
    pub id: String,
    /// Examples.
    pub n: usize,
    /// `scores[m * n + i]`: model m's score on example i; NaN when it has none.
    pub scores: Vec<f64>,
}

impl EnvView {
    /// Model `m`'s scores.
    pub(crate) fn model(&self, m: usize) -> &[f64] {
        &self.scores[m * self.n..(m + 1) * self.n]
    }
}

impl ScoreTable {
    /// An empty table.
    pub fn new() -> Self {
        ScoreTable::default()
    }

    /// The scores of `samples` (every scored sample counted), each model
    /// under each of its sampling configs a contestant of its own.
    pub fn from_samples(samples: &Samples) -> Result<Self> {
        let mut table = ScoreTable::new();
        for (key, examples) in samples {
            let mut writer = table.scores_of(&key.env, &super::winrate::contestant(&key.model, &key.config));
            for (example, rollouts) in examples {
                for reward in rollouts.iter().filter_map(|sample| sample.reward) {
                    writer.add(example, reward)?;
                }
            }
        }
        Ok(table)
    }

    /// Where `model`'s samples in `env` are added.
    pub fn scores_of(&mut self, env: &str, model: &str) -> ScoreWriter<'_> {
        let EnvExamples { ids, index, models } = self.envs.entry(env.to_string()).or_default();
        let sums = models.entry(model.to_string()).or_default();
        ScoreWriter { ids, index, sums }
    }

    /// Every env, in id order.
    pub(crate) fn envs(&self) -> impl Iterator<Item = &str> {
        self.envs.keys().map(String::as_str)
    }

    /// The models with a score in `env`, in id order.
    pub(crate) fn models_in(&self, env: &str) -> Vec<&str> {
        let Some(examples) = self.envs.get(env) else { return Vec::new() };
        examples.models.iter().filter(|(_, sums)| sums.count.iter().any(|n| *n > 0)).map(|(m, _)| m.as_str()).collect()
    }

    /// `env` as `models` (each with a score there) compare in it.
    pub(crate) fn view(&self, env: &str, models: &[String]) -> EnvView {
        let examples = &self.envs[env];
        let sums: Vec<&Sums> = models.iter().map(|model| &examples.models[model]).collect();
        let scored = |at: usize| sums.iter().any(|s| s.count.get(at).is_some_and(|n| *n > 0));
        let mut order: Vec<usize> = (0..examples.ids.len()).filter(|at| scored(*at)).collect();
        order.sort_by(|a, b| examples.ids[*a].cmp(&examples.ids[*b]));
        let n = order.len();
        let mut scores = Vec::with_capacity(n * models.len());
        for model in &sums {
            scores.extend(order.iter().map(|at| match model.count.get(*at) {
                Some(count) if *count > 0 => model.sum[*at] / f64::from(*count),
                _ => f64::NAN,
            }));
        }
        EnvView { id: env.to_string(), n, scores }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_are_mean_rewards_in_example_order_missing_as_nan() {
        let mut table = ScoreTable::new();
        let mut a = table.scores_of("e", "a");
        for (example, reward) in [("q2", 1.0), ("q1", 0.0), ("q2", 0.0), ("q3", 1.0)] {
            a.add(example, reward).unwrap();
        }
        table.scores_of("e", "b").add("q1", 1.0).unwrap();
        table.scores_of("e", "c").add("q9", 1.0).unwrap();
        let view = table.view("e", &["a".into(), "b".into()]);
        assert_eq!((view.n, view.model(0)), (3, &[0.0, 0.5, 1.0][..]), "q9 only c scored: not an example here");
        assert_eq!(view.model(1)[0], 1.0);
        assert!(view.model(1)[1..].iter().all(|s| s.is_nan()));
        assert_eq!(table.models_in("e"), ["a", "b", "c"]);
    }
}
