//! Few-shot exemplars for each sample, chosen by the host (so the choice is
//! reproducible and part of job identity) and rendered by the plugin.
//!
//! The pool is the env's own records, another split of its Hub dataset or
//! another dataset. A sample never gets its own record (compared by
//! content, so it holds across splits too); with `match_field`, only
//! records with the same value of that field (MMLU: the same subject).
//! `random` draws from the sample seed mixed with the fewshot seed, so the
//! exemplars change from record to record yet reproduce on every run.

use crate::config::{FewshotConfig, FewshotSampler};
use crate::dataset::{Dataset, Record};
use anyhow::{Result, bail};
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// The exemplar pool of one job and how to draw from it.
pub(crate) struct Fewshot {
    pool: Arc<Dataset>,
    config: FewshotConfig,
    /// With `match_field`: the pool's records by that field's value.
    by_value: HashMap<String, Vec<usize>>,
    /// Every pool record's text, to leave a sample's own record out.
    texts: HashSet<String>,
    /// Pool indices in order, the candidates without `match_field`.
    all: Vec<usize>,
}

impl Fewshot {
    /// Check that every record of `dataset` can get `n` exemplars from
    /// `pool` (and that `ids` exist), and index the pool.
    pub(crate) fn new(pool: Arc<Dataset>, config: FewshotConfig, dataset: &Dataset) -> Result<Self> {
        if let Some(missing) = config.ids.iter().find(|id| !pool.records.iter().any(|r| &r.id == *id)) {
            bail!("fewshot.ids: no record `{missing}` in the few-shot pool");
        }
        let mut by_value: HashMap<String, Vec<usize>> = HashMap::new();
        if let Some(field) = &config.match_field {
            for (index, record) in pool.records.iter().enumerate() {
                if let Some(value) = record.field_text(field) {
                    by_value.entry(value).or_default().push(index);
                }
            }
        }
        let texts = pool.records.iter().map(|r| r.json.clone()).collect();
        let all = (0..pool.records.len()).collect();
        let fewshot = Fewshot { pool, config, by_value, texts, all };
        if fewshot.config.sampler != FewshotSampler::Ids {
            for record in &dataset.records {
                let available = fewshot.base(record).len() - usize::from(fewshot.texts.contains(&record.json));
                if available < fewshot.config.n {
                    bail!(
                        "fewshot: record {} has only {available} possible exemplars, fewer than n = {}",
                        record.id,
                        fewshot.config.n
                    );
                }
            }
        }
        Ok(fewshot)
    }

    /// What identifies the exemplars in job identity: the settings and
    /// the pool's content (its hash, and commit for a Hub dataset).
    pub(crate) fn identity(&self) -> serde_json::Value {
        serde_json::json!({
            "config": self.config,
            "pool_sha256": self.pool.sha256,
            "pool_commit": self.pool.hub.as_ref().map(|hub| &hub.commit),
        })
    }

    /// Whether exemplars are rendered as turns.
    pub(crate) fn as_multiturn(&self) -> bool {
        self.config.as_multiturn
    }

    /// The exemplars (JSON records) for `record`'s sample with `seed`.
    pub(crate) fn exemplars(&self, record: &Record, seed: u64) -> Vec<String> {
        let records = &self.pool.records;
        let n = self.config.n;
        let not_itself = |i: &usize| records[*i].json != record.json;
        let base = self.base(record);
        let chosen: Vec<usize> = match self.config.sampler {
            FewshotSampler::Ids => {
                self.config.ids.iter().filter_map(|id| records.iter().position(|r| &r.id == id)).collect()
            }
            FewshotSampler::FirstN => base.iter().copied().filter(not_itself).take(n).collect(),
            FewshotSampler::Random => {
                // One more than needed, in case the record itself is drawn.
                let mut rng = StdRng::seed_from_u64(self.config.seed ^ seed.rotate_left(17));
                let picks = rand::seq::index::sample(&mut rng, base.len(), (n + 1).min(base.len()));
                picks.into_iter().map(|i| base[i]).filter(not_itself).take(n).collect()
            }
        };
        chosen.into_iter().map(|i| records[i].json.clone()).collect()
    }

    /// The pool records `record` may draw from, in pool order (its own
    /// record may be among them).
    fn base(&self, record: &Record) -> &[usize] {
        match &self.config.match_field {
            Some(field) => record.field_text(field).and_then(|v| self.by_value.get(&v)).map_or(&[], Vec::as_slice),
            None => &self.all,
        }
    }
}
